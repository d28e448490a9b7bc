//! Adam7 interlaced PNG in O(width) memory: seven inflate cursors, one per pass.
//!
//! The seven passes' filtered rows are one zlib stream, pass after pass, so image row 0 needs
//! bytes from the start of passes 1, 2, 4 and 6 at once. Other decoders inflate the whole frame
//! first. Here the stream is inflated up front only up to the start of the last pass (half the
//! data: pass 7 is every odd row), taking checkpoints where each pass begins (the offsets follow
//! from width, height and bits per pixel); cursors resume from those checkpoints, and the scan's
//! own inflater reads the last pass on, checking CRCs and, after the last row, the Adler-32 (so
//! damage in the first half fails in [`Adam7Rows::new`], damage in the last pass when its rows
//! are read). Each byte of passes 1-6 is inflated twice and each of pass 7 once: 1.5 passes over
//! the stream, where inflating everything up front took 2. Image row `y` takes one row from each pass that has a row on `y` (by
//! `y mod 8`), unfilters it against that pass's previous row and scatters its pixels to
//! `x = start + k * step`. Memory: seven 32 KiB windows and inflater states, two rows per pass,
//! and, for a file read by position, seven 16 KiB input windows. See `inflate.rs` for the
//! checkpoint mechanics.

use super::adam7_ahead::LastPassAhead;
use super::chunks::Chunk;
use super::expand::{bits_per_pixel, raw_row_bytes, Expander, PngColor};
use super::filter::unfilter;
use super::inflate::{scan, Cursor};
use crate::error::{Error, Result};
use crate::io::Input;

/// One Adam7 pass: where its first pixel lies and the steps between its pixels, as (x, y).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Column of the pass's first pixel in each of its rows.
    pub x0: u32,
    /// Row of the pass's first row.
    pub y0: u32,
    /// Columns between the pass's pixels.
    pub dx: u32,
    /// Rows between the pass's rows.
    pub dy: u32,
}

/// The seven passes of Adam7, in file order (PNG specification, section 8.2).
pub const PASSES: [Pass; 7] = [
    Pass { x0: 0, y0: 0, dx: 8, dy: 8 },
    Pass { x0: 4, y0: 0, dx: 8, dy: 8 },
    Pass { x0: 0, y0: 4, dx: 4, dy: 8 },
    Pass { x0: 2, y0: 0, dx: 4, dy: 4 },
    Pass { x0: 0, y0: 2, dx: 2, dy: 4 },
    Pass { x0: 1, y0: 0, dx: 2, dy: 2 },
    Pass { x0: 0, y0: 1, dx: 1, dy: 2 },
];

impl Pass {
    /// Pixels per row of this pass in an image `width` wide (0 if the pass is empty).
    pub fn width(&self, width: u32) -> u32 {
        if width > self.x0 {
            (width - self.x0).div_ceil(self.dx)
        } else {
            0
        }
    }

    /// Rows of this pass in an image `height` tall (0 if the pass is empty).
    pub fn height(&self, height: u32) -> u32 {
        if height > self.y0 {
            (height - self.y0).div_ceil(self.dy)
        } else {
            0
        }
    }

    /// Whether image row `y` holds a row of this pass.
    pub fn has_row(&self, y: u32) -> bool {
        y >= self.y0 && (y - self.y0) % self.dy == 0
    }
}

/// One pass being decoded.
struct PassState {
    pass: Pass,
    /// Pixels per row.
    width: usize,
    /// The cursor over this pass's bytes (`None` for an empty pass).
    cursor: Option<Cursor>,
    /// Filter byte and raw bytes of the row being read.
    current: Vec<u8>,
    /// Filter byte slot and unfiltered bytes of the previous row (zeros before the first).
    previous: Vec<u8>,
}

/// The last pass read on a worker thread (`adam7_ahead.rs`): its cursor until the first row is
/// asked for, then the running worker.
enum Ahead {
    Off,
    Pending { cursor: Cursor, rows: u32, row_bytes: usize },
    Running(LastPassAhead),
}

/// A last pass with at least this many bytes is read on a worker thread when the decoder may use
/// two threads or more (below it the hand-over costs more than it saves).
const AHEAD_MIN_BYTES: u64 = 1 << 20;

/// Rows of an interlaced PNG, produced top to bottom in O(width) memory.
pub(crate) struct Adam7Rows {
    passes: Vec<PassState>,
    expander: Expander,
    /// Bytes per complete pixel for filtering (at least 1).
    filter_bpp: usize,
    /// Image height (the stream is finished after the last row).
    height: u32,
    /// Index in `passes` of the last non-empty pass (whose cursor verifies the stream).
    last: usize,
    /// Whether and how the last pass is read ahead.
    ahead: Ahead,
    /// Heap of the read-ahead: the worker's cursor, buffers and previous row (0 without one).
    ahead_heap: usize,
}

impl Adam7Rows {
    /// Scans the `IDAT` stream that starts with chunk `first` of `input` up to the last pass and
    /// prepares the cursors; with `threads` of 2 or more and a large last pass, that pass will be
    /// read on a worker thread. Fails on a corrupt or truncated stream before the last pass.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        input: &Input,
        first: Chunk,
        width: u32,
        height: u32,
        color: PngColor,
        bits: u8,
        expander: Expander,
        threads: usize,
    ) -> Result<Adam7Rows> {
        let mut starts = Vec::with_capacity(7);
        let mut offset = 0u64;
        let mut geometry = Vec::with_capacity(7);
        for pass in PASSES {
            let (w, h) = (pass.width(width), pass.height(height));
            let row = 1 + raw_row_bytes(color, bits, w as u64);
            let nonempty = w > 0 && h > 0;
            if nonempty {
                starts.push(offset);
                offset += row * h as u64;
            }
            geometry.push((pass, w, nonempty, row));
        }
        let row_limit = isize::MAX as u64 / 4;
        if geometry.iter().any(|g| g.3 > row_limit) {
            return Err(Error::limits("PNG row too large for this machine"));
        }
        let last = geometry.iter().rposition(|g| g.2).expect("a PNG image has a pixel, so a non-empty pass");
        let (last_pass, _, _, last_row) = geometry[last];
        let last_rows = last_pass.height(height);
        let read_ahead = threads >= 2 && last_row * last_rows as u64 >= AHEAD_MIN_BYTES;
        let mut cursors = scan(input, first, &starts)?.into_iter();
        let mut ahead = Ahead::Off;
        let mut ahead_heap = 0;
        let passes = geometry
            .into_iter()
            .enumerate()
            .map(|(i, (pass, w, nonempty, row))| {
                let mut cursor = if nonempty { Some(cursors.next().expect("one cursor per non-empty pass")) } else { None };
                let mut row = if nonempty { row as usize } else { 0 };
                if i == last && read_ahead {
                    let cursor = cursor.take().expect("the last pass is non-empty");
                    ahead_heap = cursor.heap_bytes() + LastPassAhead::heap_bytes_for(row);
                    ahead = Ahead::Pending { cursor, rows: last_rows, row_bytes: row };
                    row = 0;
                }
                PassState { pass, width: w as usize, cursor, current: vec![0; row], previous: vec![0; row] }
            })
            .collect();
        Ok(Adam7Rows {
            passes,
            expander,
            filter_bpp: bits_per_pixel(color, bits).div_ceil(8),
            height,
            last,
            ahead,
            ahead_heap,
        })
    }

    /// Heap bytes held by the cursors and row buffers (and the read-ahead worker's).
    pub fn heap_bytes(&self) -> usize {
        self.passes
            .iter()
            .map(|p| p.current.len() + p.previous.len() + p.cursor.as_ref().map_or(0, Cursor::heap_bytes))
            .sum::<usize>()
            + 256 * 4
            + self.ahead_heap
    }

    /// Decodes image row `y` (rows must be asked for in order) into `out`. After the last row,
    /// finishes the stream (Adler-32, the rest of the `IDAT` chunks) and returns the offset of
    /// the chunk after the last `IDAT`, for the end-of-file check.
    pub fn read_row(&mut self, input: &Input, y: u32, out: &mut [u8]) -> Result<Option<usize>> {
        if matches!(self.ahead, Ahead::Pending { .. }) {
            let Ahead::Pending { cursor, rows, row_bytes } = std::mem::replace(&mut self.ahead, Ahead::Off) else {
                unreachable!("matched above")
            };
            self.ahead = Ahead::Running(LastPassAhead::start(cursor, input.clone(), rows, row_bytes, self.filter_bpp)?);
        }
        for (i, p) in self.passes.iter_mut().enumerate() {
            if i == self.last && p.pass.has_row(y) {
                if let Ahead::Running(ahead) = &mut self.ahead {
                    let (expander, pass, width) = (&mut self.expander, p.pass, p.width);
                    ahead.next_row(|row| expander.expand(&row[1..], out, pass.x0 as usize, pass.dx as usize, width))?;
                    continue;
                }
            }
            let Some(cursor) = p.cursor.as_mut() else { continue };
            if !p.pass.has_row(y) {
                continue;
            }
            cursor.read_exact(input, &mut p.current)?;
            let filter = p.current[0];
            unfilter(filter, &mut p.current[1..], &p.previous[1..], self.filter_bpp)?;
            std::mem::swap(&mut p.current, &mut p.previous);
            self.expander.expand(&p.previous[1..], out, p.pass.x0 as usize, p.pass.dx as usize, p.width);
        }
        if y + 1 < self.height {
            return Ok(None);
        }
        // The verifying cursor is the last non-empty pass's (see `inflate::scan`).
        if let Ahead::Running(ahead) = &mut self.ahead {
            return ahead.finish().map(Some);
        }
        let last = self.passes[self.last].cursor.as_mut().expect("the last pass's cursor");
        last.finish(input).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_cover_every_pixel_once() {
        for (w, h) in [(1, 1), (1, 9), (9, 1), (7, 9), (8, 8), (33, 17)] {
            let mut seen = vec![0u8; (w * h) as usize];
            for p in PASSES {
                for j in 0..p.height(h) {
                    for i in 0..p.width(w) {
                        let (x, y) = (p.x0 + i * p.dx, p.y0 + j * p.dy);
                        assert!(p.has_row(y));
                        seen[(y * w + x) as usize] += 1;
                    }
                }
            }
            assert!(seen.iter().all(|&s| s == 1), "{w}x{h}");
        }
    }
}
