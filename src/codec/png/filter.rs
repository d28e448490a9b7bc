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
    let n = row.len();
    let lead = bpp.min(n);
    match filter {
        0 => {}
        1 => {
            for i in bpp..n {
                row[i] = row[i].wrapping_add(row[i - bpp]);
            }
        }
        2 => {
            for (r, &p) in row.iter_mut().zip(prev) {
                *r = r.wrapping_add(p);
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
        4 => {
            for i in 0..lead {
                // With a and c zero, the Paeth predictor is b.
                row[i] = row[i].wrapping_add(prev[i]);
            }
            for i in bpp..n {
                let pred = paeth(row[i - bpp], prev[i], prev[i - bpp]);
                row[i] = row[i].wrapping_add(pred);
            }
        }
        other => return Err(Error::format("PNG", format!("unknown filter type {other}"))),
    }
    Ok(())
}

/// The Paeth predictor of PNG (specification section 9.4): whichever of left `a`, above `b`,
/// upper-left `c` is closest to `a + b - c`, ties broken in that order.
#[inline(always)]
fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let (ia, ib, ic) = (a as i16, b as i16, c as i16);
    let pa = (ib - ic).abs();
    let pb = (ia - ic).abs();
    let pc = (ia + ib - 2 * ic).abs();
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
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
            for len in [1, 2, 5, 17, 64] {
                let prev: Vec<u8> = (0..len).map(|_| next()).collect();
                let row: Vec<u8> = (0..len).map(|_| next()).collect();
                for f in 0..5 {
                    let mut filtered = filter_row(f, &row, &prev, bpp);
                    unfilter(f, &mut filtered, &prev, bpp).unwrap();
                    assert_eq!(filtered, row, "filter {f} bpp {bpp} len {len}");
                }
            }
        }
        let mut row = [1u8, 2];
        assert!(unfilter(5, &mut row, &[0, 0], 1).is_err());
    }
}
