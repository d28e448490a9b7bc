//! Whole-frame storage for the transforms that cannot stream (a vertical flip, a quarter turn):
//! a [`ScratchImage`] held either in a small heap buffer or in a memory-mapped anonymous
//! temporary file, never on the heap when it is large.
//!
//! On the heap the frame is row-major (no padding; it is small and in RAM, so reading columns
//! costs nothing but cache misses). In a scratch file, pixels are stored in square tiles of
//! [`TILE`] x [`TILE`] pixels, each tile contiguous. A row
//! written top to bottom touches `width / TILE` tiles; a column read for a quarter turn touches
//! `height / TILE` tiles. Either way the pages touched at a time are a band of tiles, so the
//! operating system can page a frame much larger than RAM in and out of the scratch file without
//! thrashing, as it would with a row-major layout read by columns.
//!
//! The mapped file is created with `tempfile::tempfile()` in `TMPDIR` (unlinked at once, so it
//! disappears with the process); it is sparse until written.

use std::fs::File;

use memmap2::MmapMut;

use crate::error::{Error, Result};
use crate::pixel::ImageInfo;

/// Side of a square storage tile, in pixels.
pub const TILE: u32 = 64;

/// Where a [`ScratchImage`] keeps its pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// A heap buffer (counted in the stage's buffer bytes); for small frames.
    Heap,
    /// A memory-mapped anonymous temporary file in `TMPDIR` (not heap).
    Mapped,
}

impl Storage {
    /// Lower-case name, for plans.
    pub fn name(self) -> &'static str {
        match self {
            Storage::Heap => "heap",
            Storage::Mapped => "scratch file",
        }
    }
}

enum Pixels {
    Heap(Vec<u8>),
    Mapped { map: MmapMut, _file: File },
}

/// A whole frame in tiled layout, written row by row and read pixel by pixel.
pub struct ScratchImage {
    info: ImageInfo,
    bpp: usize,
    /// Tile size in pixels: `(width, 1)` on the heap (row-major), `(TILE, TILE)` when mapped.
    tile_w: usize,
    tile_h: usize,
    tiles_x: usize,
    pixels: Pixels,
}

impl std::fmt::Debug for ScratchImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScratchImage")
            .field("info", &self.info)
            .field("storage", &self.storage())
            .finish()
    }
}

impl ScratchImage {
    /// Tile width and height for a frame of `info` in `storage`.
    fn tile(info: ImageInfo, storage: Storage) -> (u32, u32) {
        match storage {
            Storage::Heap => (info.width.max(1), 1),
            Storage::Mapped => (TILE, TILE),
        }
    }

    /// Bytes the frame of `info` occupies in `storage` (whole tiles when mapped, so a little
    /// more than the pixels).
    pub fn bytes_for(info: ImageInfo, storage: Storage) -> u64 {
        let (tw, th) = Self::tile(info, storage);
        let tiles_x = info.width.div_ceil(tw) as u64;
        let tiles_y = info.height.div_ceil(th) as u64;
        tiles_x * tiles_y * (tw as u64 * th as u64) * info.format.bytes_per_pixel() as u64
    }

    /// A frame for `info` in `storage`. The mapped kind creates its temporary file now.
    pub fn new(info: ImageInfo, storage: Storage) -> Result<ScratchImage> {
        if info.width == 0 || info.height == 0 {
            return Err(Error::parameter("scratch image of zero size"));
        }
        let bytes = Self::bytes_for(info, storage);
        let (tile_w, tile_h) = Self::tile(info, storage);
        let len = usize::try_from(bytes).map_err(|_| {
            Error::limits(format!(
                "a {}x{} frame does not fit in the address space",
                info.width, info.height
            ))
        })?;
        let pixels = match storage {
            Storage::Heap => Pixels::Heap(vec![0; len]),
            Storage::Mapped => {
                let file = tempfile::tempfile()?;
                file.set_len(bytes)?;
                // SAFETY: the file is private to this process (created unlinked) and is never
                // truncated while mapped, so the map stays valid for the life of `self`.
                let map = unsafe { MmapMut::map_mut(&file)? };
                Pixels::Mapped { map, _file: file }
            }
        };
        Ok(ScratchImage {
            info,
            bpp: info.format.bytes_per_pixel(),
            tile_w: tile_w as usize,
            tile_h: tile_h as usize,
            tiles_x: info.width.div_ceil(tile_w) as usize,
            pixels,
        })
    }

    /// Size and format of the frame.
    pub fn info(&self) -> ImageInfo {
        self.info
    }

    /// Where the pixels live.
    pub fn storage(&self) -> Storage {
        match self.pixels {
            Pixels::Heap(_) => Storage::Heap,
            Pixels::Mapped { .. } => Storage::Mapped,
        }
    }

    /// Heap bytes held (zero for the mapped kind).
    pub fn heap_bytes(&self) -> usize {
        match &self.pixels {
            Pixels::Heap(v) => v.capacity(),
            Pixels::Mapped { .. } => 0,
        }
    }

    fn data(&self) -> &[u8] {
        match &self.pixels {
            Pixels::Heap(v) => v,
            Pixels::Mapped { map, .. } => map,
        }
    }

    fn data_mut(&mut self) -> &mut [u8] {
        match &mut self.pixels {
            Pixels::Heap(v) => v,
            Pixels::Mapped { map, .. } => map,
        }
    }

    /// Byte offset of pixel `(x, y)`.
    #[inline]
    fn offset(&self, x: u32, y: u32) -> usize {
        let (tw, th) = (self.tile_w, self.tile_h);
        let (tx, ty) = (x as usize / tw, y as usize / th);
        let (ix, iy) = (x as usize % tw, y as usize % th);
        ((ty * self.tiles_x + tx) * tw * th + iy * tw + ix) * self.bpp
    }

    /// Stores row `y` (`info().row_bytes()` bytes).
    pub fn write_row(&mut self, y: u32, row: &[u8]) -> Result<()> {
        if y >= self.info.height || row.len() != self.info.row_bytes() {
            return Err(Error::parameter("scratch row out of range or of the wrong length"));
        }
        let run = self.tile_w * self.bpp;
        let mut x = 0u32;
        for chunk in row.chunks(run) {
            let at = self.offset(x, y);
            self.data_mut()[at..at + chunk.len()].copy_from_slice(chunk);
            x += self.tile_w as u32;
        }
        Ok(())
    }

    /// The pixels `x..x + n` of row `y` (`n` must not cross a tile boundary).
    #[inline]
    fn run(&self, x: u32, y: u32, n: usize) -> &[u8] {
        let at = self.offset(x, y);
        &self.data()[at..at + n * self.bpp]
    }

    /// Fills `out` with `out.len() / bpp` pixels starting at `(x, y)` and stepping by
    /// `(dx, dy)` (each -1, 0 or 1) per pixel. Coordinates must stay inside the frame.
    pub fn read_line(&self, x: u32, y: u32, dx: i32, dy: i32, out: &mut [u8]) {
        let bpp = self.bpp;
        let n = out.len() / bpp;
        if dy == 0 && dx == 1 {
            // Contiguous runs inside each tile.
            let mut done = 0usize;
            let mut cx = x;
            while done < n {
                let in_tile = self.tile_w - cx as usize % self.tile_w;
                let take = in_tile.min(n - done);
                out[done * bpp..(done + take) * bpp].copy_from_slice(self.run(cx, y, take));
                done += take;
                cx += take as u32;
            }
            return;
        }
        let data = self.data();
        let (mut cx, mut cy) = (x as i64, y as i64);
        for px in out.chunks_exact_mut(bpp) {
            let at = self.offset(cx as u32, cy as u32);
            px.copy_from_slice(&data[at..at + bpp]);
            cx += dx as i64;
            cy += dy as i64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pixel::PixelFormat;

    #[test]
    fn rows_and_columns_round_trip_in_both_storages() {
        for storage in [Storage::Heap, Storage::Mapped] {
            let info = ImageInfo {
                width: 150,
                height: 77,
                format: PixelFormat::RGB16,
            };
            let mut s = ScratchImage::new(info, storage).unwrap();
            let value = |x: u32, y: u32, b: usize| ((x * 7 + y * 13 + b as u32 * 3) % 251) as u8;
            for y in 0..77 {
                let row: Vec<u8> = (0..150 * 6).map(|i| value(i as u32 / 6, y, i % 6)).collect();
                s.write_row(y, &row).unwrap();
            }
            let mut row = vec![0; 150 * 6];
            s.read_line(0, 40, 1, 0, &mut row);
            assert!(row
                .iter()
                .enumerate()
                .all(|(i, &v)| v == value(i as u32 / 6, 40, i % 6)));
            let mut column = vec![0; 77 * 6];
            s.read_line(149, 76, 0, -1, &mut column);
            assert!(column
                .iter()
                .enumerate()
                .all(|(i, &v)| v == value(149, 76 - i as u32 / 6, i % 6)));
            assert_eq!(s.storage(), storage);
            assert_eq!(s.heap_bytes() > 0, storage == Storage::Heap);
            assert!(s.write_row(77, &row).is_err());
        }
        let info = ImageInfo {
            width: 65,
            height: 1,
            format: PixelFormat::GRAY8,
        };
        assert_eq!(ScratchImage::bytes_for(info, Storage::Mapped), 2 * 64 * 64);
        assert_eq!(ScratchImage::bytes_for(info, Storage::Heap), 65);
    }
}
