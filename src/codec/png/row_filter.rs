//! Choosing and applying a scanline filter for the encoder.
//!
//! The choice is the png crate's "adaptive" heuristic (minimum sum of absolute differences, as
//! libpng does): try Up, Sub, Average and Paeth in that order, keep the cheapest (a later filter
//! wins a tie), stop early at a cost of zero. The None filter is never tried. Keeping exactly
//! that rule makes our fast encoder's files byte-identical to the png crate's at the same
//! settings, which is what its tests check.
//!
//! Design note: every filter of the encoder reads only raw bytes (the row and the one above, both
//! unfiltered), so unlike the decoder's unfilter there is no dependency from one byte to the
//! next, and sixteen bytes go at once. One pass computes the four costs side by side and writes
//! Paeth's bytes (the dearest to recompute); a second pass writes the winner only when it is
//! not Paeth. On x86-64 the pass is SSE2 (every x86-64 CPU has it): the cost of a byte `v` is
//! `min(v, -v)` as unsigned bytes, summed eight at a time by `psadbw`; Paeth is computed in
//! 16-bit lanes with compare masks. The png crate filters the row four times over and sums each.

use super::filter::paeth;

/// The filter types of the PNG specification, by their byte in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum RowFilter {
    /// `x - a` (the byte one pixel to the left).
    Sub = 1,
    /// `x - b` (the byte above).
    Up = 2,
    /// `x - floor((a + b) / 2)`.
    Average = 3,
    /// `x - paeth(a, b, c)` (`c` above left).
    Paeth = 4,
}

/// Chooses a filter for `current` given the raw row above it (`previous`, zeros above the first
/// row) and writes the filtered bytes to `output`. All three are the same length; `bpp` is the
/// bytes per pixel (at least 1).
pub(crate) fn filter_adaptive(bpp: usize, previous: &[u8], current: &[u8], output: &mut [u8]) -> RowFilter {
    assert!(previous.len() == current.len() && output.len() == current.len() && bpp >= 1);
    let [up, sub, average, paeth] = costs_writing_paeth(bpp, previous, current, output);
    let mut best = (u64::MAX, RowFilter::Up);
    for (cost, filter) in [(up, RowFilter::Up), (sub, RowFilter::Sub), (average, RowFilter::Average), (paeth, RowFilter::Paeth)] {
        if cost <= best.0 {
            best = (cost, filter);
            if cost == 0 {
                break;
            }
        }
    }
    if best.1 != RowFilter::Paeth {
        apply(best.1, bpp, previous, current, output);
    }
    best.1
}

/// The heuristic's cost of a filtered byte: its distance from zero as a signed byte.
#[inline(always)]
fn cost(filtered: u8) -> u64 {
    (filtered as i8).unsigned_abs() as u64
}

/// The four filtered bytes of `x` given its neighbours: Up, Sub, Average, Paeth.
#[inline(always)]
fn filtered(x: u8, a: u8, b: u8, c: u8) -> [u8; 4] {
    let average = ((a as u16 + b as u16) >> 1) as u8;
    [x.wrapping_sub(b), x.wrapping_sub(a), x.wrapping_sub(average), x.wrapping_sub(paeth(a, b, c))]
}

/// The bytes `i` of the row with their neighbours: `(x, a, b, c)`, zeros left of the row.
#[inline(always)]
fn neighbours(bpp: usize, previous: &[u8], current: &[u8], i: usize) -> (u8, u8, u8, u8) {
    let (a, c) = if i >= bpp { (current[i - bpp], previous[i - bpp]) } else { (0, 0) };
    (current[i], a, previous[i], c)
}

/// The heuristic's cost of each filter over the row (Up, Sub, Average, Paeth), writing Paeth's
/// filtered bytes to `output`.
fn costs_writing_paeth(bpp: usize, previous: &[u8], current: &[u8], output: &mut [u8]) -> [u64; 4] {
    let mut totals = [0u64; 4];
    #[cfg(target_arch = "x86_64")]
    let i = {
        // The vector pass starts after the first pixel (it loads `bpp` bytes to the left).
        let head = bpp.min(current.len());
        for j in 0..head {
            add_scalar(&mut totals, bpp, previous, current, output, j);
        }
        if current.len() >= head + 16 {
            // SAFETY: SSE2 is part of x86-64; the slices' lengths are asserted by the caller and
            // the kernel reads and writes only below `current.len()`.
            let (done, sums) = unsafe { sse2::costs_writing_paeth(bpp, previous, current, output, head) };
            for (t, s) in totals.iter_mut().zip(sums) {
                *t += s;
            }
            done
        } else {
            head
        }
    };
    #[cfg(not(target_arch = "x86_64"))]
    let i = 0;
    for j in i..current.len() {
        add_scalar(&mut totals, bpp, previous, current, output, j);
    }
    totals
}

/// Adds byte `i`'s costs to `totals` and writes its Paeth byte.
#[inline(always)]
fn add_scalar(totals: &mut [u64; 4], bpp: usize, previous: &[u8], current: &[u8], output: &mut [u8], i: usize) {
    let (x, a, b, c) = neighbours(bpp, previous, current, i);
    let f = filtered(x, a, b, c);
    for (t, v) in totals.iter_mut().zip(f) {
        *t += cost(v);
    }
    output[i] = f[3];
}

/// Writes `current` filtered by `filter` to `output`.
fn apply(filter: RowFilter, bpp: usize, previous: &[u8], current: &[u8], output: &mut [u8]) {
    let lane = match filter {
        RowFilter::Up => 0,
        RowFilter::Sub => 1,
        RowFilter::Average => 2,
        RowFilter::Paeth => 3,
    };
    let head = bpp.min(current.len());
    for i in 0..head {
        let (x, a, b, c) = neighbours(bpp, previous, current, i);
        output[i] = filtered(x, a, b, c)[lane];
    }
    let len = current.len();
    let tail = output[head..]
        .iter_mut()
        .zip(&current[head..])
        .zip(&current[..len - head])
        .zip(&previous[head..])
        .zip(&previous[..len - head]);
    // One loop per filter, so each is a plain vector loop.
    match filter {
        RowFilter::Up => tail.for_each(|((((o, &x), _), &b), _)| *o = x.wrapping_sub(b)),
        RowFilter::Sub => tail.for_each(|((((o, &x), &a), _), _)| *o = x.wrapping_sub(a)),
        RowFilter::Average => {
            tail.for_each(|((((o, &x), &a), &b), _)| *o = x.wrapping_sub(((a as u16 + b as u16) >> 1) as u8))
        }
        RowFilter::Paeth => tail.for_each(|((((o, &x), &a), &b), &c)| *o = x.wrapping_sub(paeth(a, b, c))),
    }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::*;

    /// `|v|` of signed 16-bit lanes.
    #[inline(always)]
    unsafe fn abs16(v: __m128i) -> __m128i {
        _mm_max_epi16(v, _mm_sub_epi16(_mm_setzero_si128(), v))
    }

    /// The Paeth predictor of eight 16-bit lanes (`a`, `b`, `c` in 0..=255).
    #[inline(always)]
    unsafe fn paeth16(a: __m128i, b: __m128i, c: __m128i) -> __m128i {
        let b_c = _mm_sub_epi16(b, c);
        let a_c = _mm_sub_epi16(a, c);
        let pa = abs16(b_c);
        let pb = abs16(a_c);
        let pc = abs16(_mm_add_epi16(b_c, a_c));
        let not_a = _mm_or_si128(_mm_cmpgt_epi16(pa, pb), _mm_cmpgt_epi16(pa, pc));
        let use_c = _mm_cmpgt_epi16(pb, pc);
        let b_or_c = _mm_or_si128(_mm_and_si128(use_c, c), _mm_andnot_si128(use_c, b));
        _mm_or_si128(_mm_and_si128(not_a, b_or_c), _mm_andnot_si128(not_a, a))
    }

    /// The cost of sixteen filtered bytes, as two 64-bit sums.
    #[inline(always)]
    unsafe fn cost16(v: __m128i) -> __m128i {
        let zero = _mm_setzero_si128();
        _mm_sad_epu8(_mm_min_epu8(v, _mm_sub_epi8(zero, v)), zero)
    }

    /// Costs of bytes `start..` in blocks of sixteen while whole blocks remain, writing Paeth's
    /// bytes to `output`. Returns the first byte not done and the four sums.
    ///
    /// Safety: `start >= bpp`, `previous`, `current` and `output` of equal length.
    pub(super) unsafe fn costs_writing_paeth(
        bpp: usize,
        previous: &[u8],
        current: &[u8],
        output: &mut [u8],
        start: usize,
    ) -> (usize, [u64; 4]) {
        debug_assert!(start >= bpp && previous.len() == current.len() && output.len() == current.len());
        let zero = _mm_setzero_si128();
        let one = _mm_set1_epi8(1);
        let mut sums = [_mm_setzero_si128(); 4];
        let mut i = start;
        let (cur, prev, out) = (current.as_ptr(), previous.as_ptr(), output.as_mut_ptr());
        while i + 16 <= current.len() {
            let x = _mm_loadu_si128(cur.add(i) as *const __m128i);
            let a = _mm_loadu_si128(cur.add(i - bpp) as *const __m128i);
            let b = _mm_loadu_si128(prev.add(i) as *const __m128i);
            let c = _mm_loadu_si128(prev.add(i - bpp) as *const __m128i);
            let up = _mm_sub_epi8(x, b);
            let sub = _mm_sub_epi8(x, a);
            // floor((a + b) / 2): pavgb rounds up; take back the carried half.
            let mean = _mm_sub_epi8(_mm_avg_epu8(a, b), _mm_and_si128(_mm_xor_si128(a, b), one));
            let average = _mm_sub_epi8(x, mean);
            let low = paeth16(_mm_unpacklo_epi8(a, zero), _mm_unpacklo_epi8(b, zero), _mm_unpacklo_epi8(c, zero));
            let high = paeth16(_mm_unpackhi_epi8(a, zero), _mm_unpackhi_epi8(b, zero), _mm_unpackhi_epi8(c, zero));
            let paeth = _mm_sub_epi8(x, _mm_packus_epi16(low, high));
            _mm_storeu_si128(out.add(i) as *mut __m128i, paeth);
            sums[0] = _mm_add_epi64(sums[0], cost16(up));
            sums[1] = _mm_add_epi64(sums[1], cost16(sub));
            sums[2] = _mm_add_epi64(sums[2], cost16(average));
            sums[3] = _mm_add_epi64(sums[3], cost16(paeth));
            i += 16;
        }
        let mut totals = [0u64; 4];
        for (t, s) in totals.iter_mut().zip(sums) {
            let mut lanes = [0u64; 2];
            _mm_storeu_si128(lanes.as_mut_ptr() as *mut __m128i, s);
            *t = lanes[0] + lanes[1];
        }
        (i, totals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The filters written out from the specification, byte by byte.
    fn reference(filter: RowFilter, bpp: usize, previous: &[u8], current: &[u8]) -> Vec<u8> {
        (0..current.len())
            .map(|i| {
                let a = if i >= bpp { current[i - bpp] } else { 0 } as i32;
                let b = previous[i] as i32;
                let c = if i >= bpp { previous[i - bpp] } else { 0 } as i32;
                let predicted = match filter {
                    RowFilter::Sub => a,
                    RowFilter::Up => b,
                    RowFilter::Average => (a + b) / 2,
                    RowFilter::Paeth => {
                        let p = a + b - c;
                        let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                        if pa <= pb && pa <= pc {
                            a
                        } else if pb <= pc {
                            b
                        } else {
                            c
                        }
                    }
                };
                (current[i] as i32 - predicted) as u8
            })
            .collect()
    }

    fn rows(seed: u32, len: usize, smooth: bool) -> (Vec<u8>, Vec<u8>) {
        let mut state = seed.wrapping_mul(2654435761).wrapping_add(1);
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        let mut previous: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let mut current: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if smooth {
            for i in 0..len {
                previous[i] = (i as u32 * 3 + (next() % 4)) as u8;
                current[i] = (i as u32 * 3 + 2 + (next() % 4)) as u8;
            }
        }
        (previous, current)
    }

    #[test]
    fn every_filter_matches_the_specification() {
        for bpp in [1, 2, 3, 4, 6, 8] {
            for len in [0, 1, bpp, bpp + 1, 97 * bpp, 1000] {
                let (previous, current) = rows(len as u32 * 7 + bpp as u32, len, false);
                for filter in [RowFilter::Up, RowFilter::Sub, RowFilter::Average, RowFilter::Paeth] {
                    let mut output = vec![0xAA; len];
                    apply(filter, bpp, &previous, &current, &mut output);
                    assert_eq!(output, reference(filter, bpp, &previous, &current), "{filter:?} bpp {bpp} len {len}");
                }
            }
        }
    }

    #[test]
    fn the_choice_is_the_cheapest_in_the_png_crates_order() {
        for seed in 0..40 {
            let bpp = [1, 3, 4, 6, 8][seed as usize % 5];
            let (previous, current) = rows(seed, 64 * bpp + seed as usize, seed % 2 == 0);
            let cost_of = |f| reference(f, bpp, &previous, &current).iter().map(|&v| cost(v)).sum::<u64>();
            let mut expected = (u64::MAX, RowFilter::Up);
            for f in [RowFilter::Up, RowFilter::Sub, RowFilter::Average, RowFilter::Paeth] {
                let c = cost_of(f);
                if c <= expected.0 {
                    expected = (c, f);
                    if c == 0 {
                        break;
                    }
                }
            }
            let mut output = vec![0; current.len()];
            let chosen = filter_adaptive(bpp, &previous, &current, &mut output);
            assert_eq!(chosen, expected.1, "seed {seed}");
            assert_eq!(output, reference(chosen, bpp, &previous, &current));
        }
        // A row equal to the one above costs nothing under Up, which wins at once.
        let row = vec![9u8; 30];
        let mut output = vec![1; 30];
        assert_eq!(filter_adaptive(3, &row, &row, &mut output), RowFilter::Up);
        assert!(output.iter().all(|&v| v == 0));
    }
}
