//! Reversing the five PNG scanline filters (None, Sub, Up, Average, Paeth).
//!
//! Filters work on bytes: `bpp` is the number of bytes per complete pixel, rounded up to 1 for
//! depths below 8 bits. The row above the first row of an image (or of an Adam7 pass) is zeros.

use crate::error::{Error, Result};

/// Reverses filter `filter` on `row` in place, given the already unfiltered row `prev` above it.
///
/// `prev` must be as long as `row`. An unknown filter type is a format error.
pub(crate) fn unfilter(filter: u8, row: &mut [u8], prev: &[u8], bpp: usize) -> Result<()> {
    debug_assert_eq!(row.len(), prev.len());
    if filter > 4 {
        return Err(Error::format("PNG", format!("unknown filter type {filter}")));
    }
    if filter == 0 {
        return Ok(());
    }
    if filter == 2 {
        for (r, &p) in row.iter_mut().zip(prev) {
            *r = r.wrapping_add(p);
        }
        return Ok(());
    }
    // Rows of whole pixels (every row of 8- and 16-bit images, and of sub-byte ones at bpp 1)
    // take the fixed-width kernels; anything else the byte loop.
    if row.len() % bpp == 0 {
        match bpp {
            1 => return Ok(unfilter_pixels::<1>(filter, row, prev)),
            2 => return Ok(unfilter_pixels::<2>(filter, row, prev)),
            3 => return Ok(unfilter_pixels::<3>(filter, row, prev)),
            4 => return Ok(unfilter_pixels::<4>(filter, row, prev)),
            6 => return Ok(unfilter_pixels::<6>(filter, row, prev)),
            8 => return Ok(unfilter_pixels::<8>(filter, row, prev)),
            _ => {}
        }
    }
    unfilter_bytes(filter, row, prev, bpp);
    Ok(())
}

/// Sub, Average or Paeth (`filter` 1, 3 or 4) over rows of whole `B`-byte pixels.
///
/// Design note: the three filters depend on the byte `B` places to the left, so the byte loop
/// stores a byte and loads it back `B` bytes later: one dependency chain through memory per
/// byte, which is what a profile of an interlaced PNG thumbnail showed (Paeth at a quarter of
/// the time). Here the left pixel `a` and the upper-left pixel `c` stay in registers as
/// `[u8; B]` arrays, and the `B` lanes of a pixel are independent, so their chains overlap.
/// The arithmetic is the specification's; the round-trip test covers every `B` and filter.
#[inline(always)]
fn unfilter_pixels<const B: usize>(filter: u8, row: &mut [u8], prev: &[u8]) {
    let mut a = [0u8; B];
    let mut c = [0u8; B];
    let pixels = row.chunks_exact_mut(B).zip(prev.chunks_exact(B));
    match filter {
        1 => {
            for (r, _) in pixels {
                for k in 0..B {
                    r[k] = r[k].wrapping_add(a[k]);
                    a[k] = r[k];
                }
            }
        }
        3 => {
            for (r, p) in pixels {
                for k in 0..B {
                    r[k] = r[k].wrapping_add(((a[k] as u16 + p[k] as u16) >> 1) as u8);
                    a[k] = r[k];
                }
            }
        }
        _ => {
            for (r, p) in pixels {
                for k in 0..B {
                    let b = p[k];
                    r[k] = r[k].wrapping_add(paeth(a[k], b, c[k]));
                    a[k] = r[k];
                    c[k] = b;
                }
            }
        }
    }
}

/// Sub, Average or Paeth (`filter` 1, 3 or 4) byte by byte, for any `bpp`.
fn unfilter_bytes(filter: u8, row: &mut [u8], prev: &[u8], bpp: usize) {
    let n = row.len();
    let lead = bpp.min(n);
    match filter {
        1 => {
            for i in bpp..n {
                row[i] = row[i].wrapping_add(row[i - bpp]);
            }
        }
        3 => {
            for i in 0..lead {
                row[i] = row[i].wrapping_add(prev[i] >> 1);
            }
            for i in bpp..n {
                let avg = ((row[i - bpp] as u16 + prev[i] as u16) >> 1) as u8;
                row[i] = row[i].wrapping_add(avg);
            }
        }
        _ => {
            for i in 0..lead {
                // With a and c zero, the Paeth predictor is b.
                row[i] = row[i].wrapping_add(prev[i]);
            }
            for i in bpp..n {
                let pred = paeth(row[i - bpp], prev[i], prev[i - bpp]);
                row[i] = row[i].wrapping_add(pred);
            }
        }
    }
}

/// The Paeth predictor of PNG (specification section 9.4): whichever of left `a`, above `b`,
/// upper-left `c` is closest to `a + b - c`, ties broken in that order. Written as selects
/// (no branches), which the compiler turns into conditional moves.
#[inline(always)]
pub(super) fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let (ia, ib, ic) = (a as i16, b as i16, c as i16);
    let pa = (ib - ic).abs();
    let pb = (ia - ic).abs();
    let pc = (ia + ib - 2 * ic).abs();
    let (best, best_p) = if pb < pa { (b, pb) } else { (a, pa) };
    if pc < best_p {
        c
    } else {
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Filters `row` with `filter` the way an encoder does, for the round trip below.
    fn filter_row(filter: u8, row: &[u8], prev: &[u8], bpp: usize) -> Vec<u8> {
        let left = |i: usize| if i >= bpp { row[i - bpp] } else { 0 };
        let upleft = |i: usize| if i >= bpp { prev[i - bpp] } else { 0 };
        (0..row.len())
            .map(|i| {
                let pred = match filter {
                    0 => 0,
                    1 => left(i),
                    2 => prev[i],
                    3 => ((left(i) as u16 + prev[i] as u16) / 2) as u8,
                    _ => paeth(left(i), prev[i], upleft(i)),
                };
                row[i].wrapping_sub(pred)
            })
            .collect()
    }

    #[test]
    fn every_filter_round_trips_for_every_bpp() {
        let mut seed = 12345u32;
        let mut next = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as u8
        };
        for bpp in [1, 2, 3, 4, 6, 8] {
            // Whole pixels (the fixed-width kernels) and ragged lengths (the byte loop).
            for len in [1, 2, 5, 17, 64, bpp, bpp * 13, bpp * 64] {
                let prev: Vec<u8> = (0..len).map(|_| next()).collect();
                let row: Vec<u8> = (0..len).map(|_| next()).collect();
                for f in 0..5 {
                    let mut filtered = filter_row(f, &row, &prev, bpp);
                    let mut by_bytes = filtered.clone();
                    unfilter(f, &mut filtered, &prev, bpp).unwrap();
                    assert_eq!(filtered, row, "filter {f} bpp {bpp} len {len}");
                    if f != 0 && f != 2 {
                        unfilter_bytes(f, &mut by_bytes, &prev, bpp);
                        assert_eq!(by_bytes, row, "byte loop, filter {f} bpp {bpp} len {len}");
                    }
                }
            }
        }
        let mut row = [1u8, 2];
        assert!(unfilter(5, &mut row, &[0, 0], 1).is_err());
    }
}
