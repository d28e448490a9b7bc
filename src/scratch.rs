//! Whole-frame storage for the transforms that cannot stream (a vertical flip, a quarter turn):
//! a [`ScratchImage`] held either in a small heap buffer or in an unnamed temporary file read and
//! written through one bounded heap buffer, never on the heap whole when it is large.
//!
//! On the heap the frame is row-major (no padding; it is small and in RAM, so reading columns
//! costs nothing but cache misses). In a scratch file, pixels are stored in square tiles of
//! [`TILE`] x [`TILE`] pixels, each tile contiguous, tiles in row-major order. Rows arrive top to
//! bottom and are gathered into a *band* of `TILE` rows, which is exactly a contiguous run of
//! tiles in the file and is written with one `pwrite`. A column read for a quarter turn needs the
//! band of `TILE` columns that holds it: one `pread` per tile down the frame, after which the
//! next `TILE` output rows are served from memory. A row read (a half turn, a vertical flip)
//! loads a band of rows with one `pread`.
//!
//! No memory map: pages of a mapped file count in the process's resident set (an 8192x8192 turn
//! peaked at 204 MB RSS with a map), and a mapped write into a full file system kills the
//! process with SIGBUS. Here the file's space is reserved up front (`posix_fallocate`), so a full
//! `TMPDIR` is an error that names it, and the page cache, not the process, holds the frame.
//!
//! The file is created unnamed in `TMPDIR` (`tempfile::tempfile_in`: `O_TMPFILE` on Linux), so
//! it disappears with the process, whatever ends it.
//!
//! The heap a frame takes is computed by one private function, [`ScratchImage::layout`], used
//! both to predict it ([`ScratchImage::heap_bytes_for`]) and to allocate it.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

use crate::error::{Error, Result};
use crate::pixel::ImageInfo;

/// Side of a square storage tile in a scratch file, in pixels. The band buffer holds `TILE` rows
/// or columns of the frame, so a smaller tile means less heap and more (smaller) reads: at 32, an
/// RGB8 tile is one 3 KiB `pread`, and a 20000-pixel-wide band is 1.8 MiB.
pub const TILE: u32 = 32;

/// Where a [`ScratchImage`] keeps its pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// A heap buffer (counted in the stage's buffer bytes); for small frames.
    Heap,
    /// An unnamed temporary file in `TMPDIR` (not heap), read and written through a heap buffer
    /// of one band of tiles.
    File,
}

impl Storage {
    /// Lower-case name, for plans.
    pub fn name(self) -> &'static str {
        match self {
            Storage::Heap => "heap",
            Storage::File => "scratch file",
        }
    }
}

/// Sizes of a frame in a storage, computed in one place for prediction and allocation.
#[derive(Debug, Clone, Copy)]
struct Layout {
    bpp: usize,
    /// Tile size in pixels: `(width, 1)` on the heap (row-major), `(TILE, TILE)` in a file.
    tile_w: usize,
    tile_h: usize,
    tiles_x: usize,
    tiles_y: usize,
    /// Bytes of the whole frame in its storage (whole tiles in a file).
    frame_bytes: u64,
    /// Heap bytes held: the frame on the heap, or the band buffer of a file.
    heap_bytes: u64,
}

impl Layout {
    fn tile_bytes(&self) -> usize {
        self.tile_w * self.tile_h * self.bpp
    }
}

/// The pixels: on the heap, or in a file with the band currently in `band`.
enum Pixels {
    Heap(Vec<u8>),
    File {
        file: File,
        /// One band of tiles: `TILE` rows (`tiles_x` tiles) or `TILE` columns (`tiles_y` tiles).
        band: Vec<u8>,
        /// What `band` holds.
        loaded: Band,
    },
}

/// The contents of a file frame's band buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Band {
    /// Nothing valid (or rows being gathered before their band is full).
    None,
    /// Tile row `ty`: pixel rows `ty * TILE ..`, all tiles across.
    Rows(usize),
    /// Tile column `tx`: pixel columns `tx * TILE ..`, all tiles down.
    Columns(usize),
}

/// How a line's pixels are found in memory once its band is loaded.
#[derive(Debug, Clone, Copy)]
enum Addressing {
    /// The whole frame, row-major.
    Heap,
    /// A band of rows; the line is row `iy` of its tiles.
    Rows { iy: usize },
    /// A band of columns; the line is column `ix` of its tiles.
    Columns { ix: usize },
}

/// A whole frame in tiled layout, written row by row (top to bottom) and read line by line.
pub struct ScratchImage {
    info: ImageInfo,
    layout: Layout,
    pixels: Pixels,
    /// Rows written so far (a file frame takes them in order).
    rows_written: u32,
}

impl std::fmt::Debug for ScratchImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScratchImage").field("info", &self.info).field("storage", &self.storage()).finish()
    }
}

impl ScratchImage {
    /// The layout of a frame of `info` in `storage`: the one computation behind both the
    /// predicted bytes and what [`new`](Self::new) allocates.
    fn layout(info: ImageInfo, storage: Storage) -> Layout {
        let bpp = info.format.bytes_per_pixel();
        let (tile_w, tile_h) = match storage {
            Storage::Heap => (info.width.max(1), 1),
            Storage::File => (TILE, TILE),
        };
        let tiles_x = info.width.div_ceil(tile_w) as usize;
        let tiles_y = info.height.div_ceil(tile_h) as usize;
        let tile_bytes = tile_w as u64 * tile_h as u64 * bpp as u64;
        let frame_bytes = tiles_x as u64 * tiles_y as u64 * tile_bytes;
        let heap_bytes = match storage {
            Storage::Heap => frame_bytes,
            Storage::File => tiles_x.max(tiles_y) as u64 * tile_bytes,
        };
        Layout { bpp, tile_w: tile_w as usize, tile_h: tile_h as usize, tiles_x, tiles_y, frame_bytes, heap_bytes }
    }

    /// Bytes the frame of `info` occupies in `storage` (whole tiles in a file, so a little more
    /// than the pixels).
    pub fn bytes_for(info: ImageInfo, storage: Storage) -> u64 {
        Self::layout(info, storage).frame_bytes
    }

    /// Heap bytes a frame of `info` in `storage` holds: the whole frame on the heap, or one band
    /// of tiles (`TILE` rows or columns, the longer) for a file.
    pub fn heap_bytes_for(info: ImageInfo, storage: Storage) -> u64 {
        Self::layout(info, storage).heap_bytes
    }

    /// A frame for `info` in `storage`. The file kind creates its unnamed file in `TMPDIR` now
    /// and reserves the whole frame's space, so a full disk is an error here, not later.
    pub fn new(info: ImageInfo, storage: Storage) -> Result<ScratchImage> {
        Self::new_in(info, storage, &std::env::temp_dir())
    }

    /// [`new`](Self::new) with the scratch file in `dir` (named `TMPDIR` in messages).
    fn new_in(info: ImageInfo, storage: Storage, dir: &Path) -> Result<ScratchImage> {
        if info.width == 0 || info.height == 0 {
            return Err(Error::parameter("scratch image of zero size"));
        }
        let layout = Self::layout(info, storage);
        let too_big = || Error::limits(format!("a {}x{} frame does not fit in the address space", info.width, info.height));
        let heap = usize::try_from(layout.heap_bytes).map_err(|_| too_big())?;
        let pixels = match storage {
            Storage::Heap => Pixels::Heap(vec![0; heap]),
            Storage::File => {
                let file = tempfile::tempfile_in(dir).map_err(|e| {
                    Error::Io(std::io::Error::new(
                        e.kind(),
                        format!("cannot create the scratch file in TMPDIR ({}): {e}", dir.display()),
                    ))
                })?;
                reserve(&file, layout.frame_bytes, dir)?;
                Pixels::File { file, band: vec![0; heap], loaded: Band::None }
            }
        };
        Ok(ScratchImage { info, layout, pixels, rows_written: 0 })
    }

    /// Size and format of the frame.
    pub fn info(&self) -> ImageInfo {
        self.info
    }

    /// Where the pixels live.
    pub fn storage(&self) -> Storage {
        match self.pixels {
            Pixels::Heap(_) => Storage::Heap,
            Pixels::File { .. } => Storage::File,
        }
    }

    /// Heap bytes held (the frame, or the band buffer of a file).
    pub fn heap_bytes(&self) -> usize {
        match &self.pixels {
            Pixels::Heap(v) => v.capacity(),
            Pixels::File { band, .. } => band.capacity(),
        }
    }

    /// Stores row `y` (`info().row_bytes()` bytes). A file frame takes rows top to bottom.
    pub fn write_row(&mut self, y: u32, row: &[u8]) -> Result<()> {
        if y >= self.info.height || row.len() != self.info.row_bytes() {
            return Err(Error::parameter("scratch row out of range or of the wrong length"));
        }
        let l = self.layout;
        match &mut self.pixels {
            Pixels::Heap(v) => {
                let at = y as usize * row.len();
                v[at..at + row.len()].copy_from_slice(row);
            }
            Pixels::File { file, band, loaded } => {
                if y != self.rows_written {
                    return Err(Error::parameter("scratch file rows must be written top to bottom"));
                }
                *loaded = Band::None;
                // Into the band, tile by tile: row `iy` of tile `tx` of this band.
                let iy = y as usize % l.tile_h;
                let run = l.tile_w * l.bpp;
                for (tx, chunk) in row.chunks(run).enumerate() {
                    let at = tx * l.tile_bytes() + iy * run;
                    band[at..at + chunk.len()].copy_from_slice(chunk);
                }
                if iy == l.tile_h - 1 || y == self.info.height - 1 {
                    let ty = y as usize / l.tile_h;
                    let bytes = l.tiles_x * l.tile_bytes();
                    file.write_all_at(&band[..bytes], (ty * bytes) as u64)?;
                }
            }
        }
        self.rows_written = self.rows_written.max(y + 1);
        Ok(())
    }

    /// Fills `out` with `out.len() / bpp` pixels starting at `(x, y)` and stepping by
    /// `(dx, dy)` per pixel: along a row (`dy == 0`, `dx` 1 or -1) or a column (`dx == 0`,
    /// `dy` 1 or -1). Coordinates must stay inside the frame.
    pub fn read_line(&mut self, x: u32, y: u32, dx: i32, dy: i32, out: &mut [u8]) -> Result<()> {
        if (dx == 0) == (dy == 0) || dx.abs() > 1 || dy.abs() > 1 {
            return Err(Error::parameter("scratch lines run along a row or a column"));
        }
        let l = self.layout;
        let bpp = l.bpp;
        let n = out.len() / bpp;
        let last = (x as i64 + dx as i64 * (n as i64 - 1), y as i64 + dy as i64 * (n as i64 - 1));
        if n == 0 || last.0 < 0 || last.1 < 0 || last.0 >= self.info.width as i64 || last.1 >= self.info.height as i64 {
            return Err(Error::parameter("scratch line leaves the frame"));
        }
        // Load the band the line lies in (a file frame), then address pixels in memory.
        let tile = l.tile_bytes();
        let addressing = match &mut self.pixels {
            Pixels::Heap(_) => Addressing::Heap,
            Pixels::File { file, band, loaded } if dy == 0 => {
                let ty = y as usize / l.tile_h;
                if *loaded != Band::Rows(ty) {
                    let bytes = l.tiles_x * tile;
                    file.read_exact_at(&mut band[..bytes], (ty * bytes) as u64)?;
                    *loaded = Band::Rows(ty);
                }
                Addressing::Rows { iy: y as usize % l.tile_h }
            }
            Pixels::File { file, band, loaded } => {
                let tx = x as usize / l.tile_w;
                if *loaded != Band::Columns(tx) {
                    for ty in 0..l.tiles_y {
                        let at = ((ty * l.tiles_x + tx) * tile) as u64;
                        file.read_exact_at(&mut band[ty * tile..(ty + 1) * tile], at)?;
                    }
                    *loaded = Band::Columns(tx);
                }
                Addressing::Columns { ix: x as usize % l.tile_w }
            }
        };
        let data: &[u8] = match &self.pixels {
            Pixels::Heap(v) => v,
            Pixels::File { band, .. } => band,
        };
        let offset = |x: usize, y: usize| match addressing {
            Addressing::Heap => (y * l.tile_w + x) * bpp,
            Addressing::Rows { iy } => x / l.tile_w * tile + (iy * l.tile_w + x % l.tile_w) * bpp,
            Addressing::Columns { ix } => y / l.tile_h * tile + (y % l.tile_h * l.tile_w + ix) * bpp,
        };
        let (mut cx, mut cy) = (x as i64, y as i64);
        for px in out.chunks_exact_mut(bpp) {
            let at = offset(cx as usize, cy as usize);
            px.copy_from_slice(&data[at..at + bpp]);
            cx += dx as i64;
            cy += dy as i64;
        }
        Ok(())
    }
}

/// Reserves `bytes` in `file`, so that writing the frame cannot run out of space later; a full
/// disk is reported naming `TMPDIR` (`dir`).
fn reserve(file: &File, bytes: u64, dir: &Path) -> Result<()> {
    let length = libc::off_t::try_from(bytes).map_err(|_| Error::limits(format!("a scratch frame of {bytes} bytes")))?;
    let mut code = if reservation_forced_to_fail() { libc::ENOSPC } else { 0 };
    if code == 0 {
        // SAFETY: posix_fallocate on a descriptor we own; no memory is passed.
        code = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, length) };
    }
    match code {
        0 => Ok(()),
        libc::ENOSPC | libc::EFBIG | libc::EDQUOT => Err(Error::Io(std::io::Error::new(
            std::io::Error::from_raw_os_error(libc::ENOSPC).kind(),
            format!(
                "no space in TMPDIR ({}) for the {:.1} MiB scratch frame (set TMPDIR to a folder with room)",
                dir.display(),
                bytes as f64 / 1048576.0
            ),
        ))),
        // A file system without fallocate: glibc emulates it; anything else is reported as is.
        other => Err(Error::Io(std::io::Error::new(
            std::io::Error::from_raw_os_error(other).kind(),
            format!("cannot reserve the scratch frame in TMPDIR ({}): {}", dir.display(), std::io::Error::from_raw_os_error(other)),
        ))),
    }
}

#[cfg(test)]
thread_local! {
    /// Test hook: makes [`reserve`] fail as on a full disk (for systems where a small tmpfs
    /// cannot be mounted).
    static FAIL_RESERVATION: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the test hook asks the reservation to fail (never outside unit tests).
fn reservation_forced_to_fail() -> bool {
    #[cfg(test)]
    return FAIL_RESERVATION.with(|f| f.get());
    #[cfg(not(test))]
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pixel::PixelFormat;

    fn value(x: u32, y: u32, b: usize) -> u8 {
        ((x * 7 + y * 13 + b as u32 * 3) % 251) as u8
    }

    fn filled(info: ImageInfo, storage: Storage) -> ScratchImage {
        let bpp = info.format.bytes_per_pixel();
        let mut s = ScratchImage::new(info, storage).unwrap();
        for y in 0..info.height {
            let row: Vec<u8> = (0..info.row_bytes()).map(|i| value(i as u32 / bpp as u32, y, i % bpp)).collect();
            s.write_row(y, &row).unwrap();
        }
        s
    }

    #[test]
    fn rows_and_columns_round_trip_in_both_storages() {
        // 150x77: partial tiles at the right and bottom edges of a file frame (TILE 32 or 64).
        let info = ImageInfo { width: 150, height: 77, format: PixelFormat::RGB16 };
        for storage in [Storage::Heap, Storage::File] {
            let mut s = filled(info, storage);
            for y in [0, 31, 32, 40, 63, 64, 76] {
                let mut row = vec![0; 150 * 6];
                s.read_line(0, y, 1, 0, &mut row).unwrap();
                assert!(row.iter().enumerate().all(|(i, &v)| v == value(i as u32 / 6, y, i % 6)), "row {y}");
                s.read_line(149, y, -1, 0, &mut row).unwrap();
                assert!(row.iter().enumerate().all(|(i, &v)| v == value(149 - i as u32 / 6, y, i % 6)), "row {y} backwards");
            }
            for x in [149, 0, 64, 63, 31, 32, 100] {
                let mut column = vec![0; 77 * 6];
                s.read_line(x, 76, 0, -1, &mut column).unwrap();
                assert!(column.iter().enumerate().all(|(i, &v)| v == value(x, 76 - i as u32 / 6, i % 6)), "column {x}");
                s.read_line(x, 0, 0, 1, &mut column).unwrap();
                assert!(column.iter().enumerate().all(|(i, &v)| v == value(x, i as u32 / 6, i % 6)), "column {x} down");
            }
            assert_eq!(s.storage(), storage);
            assert_eq!(s.heap_bytes() as u64, ScratchImage::heap_bytes_for(info, storage));
            let mut row = vec![0; 150 * 6];
            assert!(s.write_row(77, &row).is_err());
            assert!(s.read_line(1, 0, -1, 0, &mut row).is_err(), "leaves the frame");
            assert!(s.read_line(0, 0, 1, 1, &mut row[..12]).is_err(), "diagonal");
        }
        let info = ImageInfo { width: 65, height: 1, format: PixelFormat::GRAY8 };
        let t = TILE as u64;
        assert_eq!(ScratchImage::bytes_for(info, Storage::File), 65u64.div_ceil(t) * t * t);
        assert_eq!(ScratchImage::bytes_for(info, Storage::Heap), 65);
        // The file's band buffer: TILE rows or TILE columns of tiles, the longer.
        assert_eq!(ScratchImage::heap_bytes_for(info, Storage::File), 65u64.div_ceil(t) * t * t);
        let tall = ImageInfo { width: 100, height: 1000, format: PixelFormat::RGB8 };
        assert_eq!(ScratchImage::heap_bytes_for(tall, Storage::File), 1000u64.div_ceil(t) * t * t * 3);
    }

    #[test]
    fn file_rows_must_come_in_order() {
        let info = ImageInfo { width: 10, height: 10, format: PixelFormat::GRAY8 };
        let mut s = ScratchImage::new(info, Storage::File).unwrap();
        assert!(s.write_row(1, &[0; 10]).is_err());
        s.write_row(0, &[0; 10]).unwrap();
    }

    /// A 1 MiB tmpfs cannot hold a 6.5 MiB frame: the reservation fails with a message naming
    /// TMPDIR, where a sparse mapped file died by SIGBUS on its first write past the space.
    /// Without permission to mount, the reservation is made to fail through the test hook.
    #[test]
    fn a_full_tmpdir_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = std::ffi::CString::new(dir.path().to_str().unwrap()).unwrap();
        // SAFETY: mount(2) with NUL-terminated strings that outlive the call.
        let mounted = unsafe {
            libc::mount(c"tmpfs".as_ptr(), target.as_ptr(), c"tmpfs".as_ptr(), 0, c"size=1M".as_ptr().cast())
        } == 0;
        if !mounted {
            FAIL_RESERVATION.with(|f| f.set(true));
        }
        eprintln!("a full TMPDIR made by {}", if mounted { "a 1 MiB tmpfs" } else { "the test hook" });
        // 1800x1200 RGB8 with EXIF orientation 6: 6.2 MiB of pixels, a little more in whole tiles.
        let info = ImageInfo { width: 1800, height: 1200, format: PixelFormat::RGB8 };
        let err = ScratchImage::new_in(info, Storage::File, dir.path()).unwrap_err().to_string();
        FAIL_RESERVATION.with(|f| f.set(false));
        if mounted {
            // SAFETY: as above.
            unsafe { libc::umount(target.as_ptr()) };
        }
        assert!(err.contains("no space in TMPDIR") && err.contains(dir.path().to_str().unwrap()), "{err}");
        let mib = format!("{:.1} MiB scratch frame", ScratchImage::bytes_for(info, Storage::File) as f64 / 1048576.0);
        assert!(err.contains(&mib), "{err}");

        let missing = dir.path().join("missing");
        let err = ScratchImage::new_in(info, Storage::File, &missing).unwrap_err().to_string();
        assert!(err.contains("TMPDIR") && err.contains("missing"), "{err}");
    }
}
