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

/// Rows of an interlaced PNG, produced top to bottom in O(width) memory.
pub(crate) struct Adam7Rows {
    passes: Vec<PassState>,
    expander: Expander,
    /// Bytes per complete pixel for filtering (at least 1).
    filter_bpp: usize,
    /// Image height (the stream is finished after the last row).
    height: u32,
}

impl Adam7Rows {
    /// Scans the `IDAT` stream that starts with chunk `first` of `input` up to the last pass and
    /// prepares the cursors. Fails on a corrupt or truncated stream before the last pass.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        input: &Input,
        first: Chunk,
        width: u32,
        height: u32,
        color: PngColor,
        bits: u8,
        expander: Expander,
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
        let mut cursors = scan(input, first, &starts)?.into_iter();
        let passes = geometry
            .into_iter()
            .map(|(pass, w, nonempty, row)| {
                let cursor = if nonempty { Some(cursors.next().expect("one cursor per non-empty pass")) } else { None };
                let row = if nonempty { row as usize } else { 0 };
                PassState { pass, width: w as usize, cursor, current: vec![0; row], previous: vec![0; row] }
            })
            .collect();
        Ok(Adam7Rows {
            passes,
            expander,
            filter_bpp: bits_per_pixel(color, bits).div_ceil(8),
            height,
        })
    }

    /// Heap bytes held by the cursors and row buffers.
    pub fn heap_bytes(&self) -> usize {
        self.passes
            .iter()
            .map(|p| p.current.len() + p.previous.len() + p.cursor.as_ref().map_or(0, Cursor::heap_bytes))
            .sum::<usize>()
            + 256 * 4
    }

    /// Decodes image row `y` (rows must be asked for in order) into `out`. After the last row,
    /// finishes the stream (Adler-32, the rest of the `IDAT` chunks) and returns the offset of
    /// the chunk after the last `IDAT`, for the end-of-file check.
    pub fn read_row(&mut self, input: &Input, y: u32, out: &mut [u8]) -> Result<Option<usize>> {
        for p in &mut self.passes {
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
        let last = self.passes.iter_mut().rev().find_map(|p| p.cursor.as_mut()).expect("a non-empty pass");
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
