//! Integer box shrink: the cheap first step of a large reduction (the libvips scheme).
//!
//! A reduction by `s` along an axis first averages boxes of `k = floor(s / 2)` pixels (when that
//! is at least 2), leaving a factor of at least 2 for the kernel, which then sees `ceil(n / k)`
//! box pixels (the last box may be partial and is averaged over the pixels it has). The kernel's
//! geometry still follows the original image (box `b` is centred on input `(b + 0.5) * k`), so the
//! result stays centred. A 1/1000 reduction thus costs one addition per input sample plus a
//! kernel pass over 1/(k*k) of the data.
//!
//! Rows are summed first (a contiguous, vectorised addition over the full input width), and the
//! columns of the summed row are added once per `k` rows.

use super::kernel::Kernel;
use crate::simd::avx2_dispatch;

/// The box factor for `n_in` pixels onto `n_out` with `kernel`: `floor(n_in / (2 n_out))`, at
/// least 1. Nearest neighbour never averages.
pub(crate) fn box_factor(n_in: u32, n_out: u32, kernel: Kernel) -> u32 {
    if kernel == Kernel::Nearest {
        return 1;
    }
    (n_in as u64 / (2 * n_out as u64)).max(1) as u32
}

/// Adds (or, when `first`, copies) a row of working values into the accumulator.
pub(crate) fn accumulate(acc: &mut [f32], values: &[f32], first: bool) {
    if first {
        acc.copy_from_slice(values);
    } else {
        for (a, &v) in acc.iter_mut().zip(values) {
            *a += v;
        }
    }
}

avx2_dispatch! {
    /// Adds (or copies) a row of 8-bit samples into the accumulator, skipping a conversion pass.
    pub(crate) fn accumulate_u8(acc: &mut [f32], row: &[u8], first: bool) {
        if first {
            for (a, &v) in acc.iter_mut().zip(row) {
                *a = v as f32;
            }
        } else {
            for (a, &v) in acc.iter_mut().zip(row) {
                *a += v as f32;
            }
        }
    }
}

/// Adds (or copies) a row of native-endian 16-bit samples into the accumulator.
pub(crate) fn accumulate_u16(acc: &mut [f32], row: &[u8], first: bool) {
    if first {
        for (a, v) in acc.iter_mut().zip(row.chunks_exact(2)) {
            *a = u16::from_ne_bytes([v[0], v[1]]) as f32;
        }
    } else {
        for (a, v) in acc.iter_mut().zip(row.chunks_exact(2)) {
            *a += u16::from_ne_bytes([v[0], v[1]]) as f32;
        }
    }
}

/// Multiplies a row by `factor` (the mean of `rows` summed rows: `1 / rows`).
pub(crate) fn scale(values: &mut [f32], factor: f32) {
    values.iter_mut().for_each(|v| *v *= factor);
}

/// Sums boxes of `k` columns of `src` (pixels of `channels` samples) into `dst`, each divided by
/// `rows` times the number of columns in it, so `dst` holds box means.
pub(crate) fn sum_columns(src: &[f32], dst: &mut [f32], channels: usize, k: usize, rows: u32) {
    match channels {
        1 => sum_columns_c::<1>(src, dst, k, rows),
        2 => sum_columns_c::<2>(src, dst, k, rows),
        3 => sum_columns_c::<3>(src, dst, k, rows),
        _ => sum_columns_c::<4>(src, dst, k, rows),
    }
}

/// Small box widths get loops unrolled at compile time (they are the common 8K-to-HD case,
/// where a generic loop of two iterations per box cost as much as the kernel pass).
fn sum_columns_c<const C: usize>(src: &[f32], dst: &mut [f32], k: usize, rows: u32) {
    match k {
        2 => sum_columns_ck::<C, 2>(src, dst, rows),
        3 => sum_columns_ck::<C, 3>(src, dst, rows),
        4 => sum_columns_ck::<C, 4>(src, dst, rows),
        _ => sum_columns_any::<C>(src, dst, k, rows),
    }
}

fn sum_columns_ck<const C: usize, const K: usize>(src: &[f32], dst: &mut [f32], rows: u32) {
    let f = 1.0 / (K as f32 * rows as f32);
    let full = src.len() / (K * C);
    let (dst_full, dst_rest) = dst.split_at_mut(full * C);
    for (out, pixels) in dst_full.chunks_exact_mut(C).zip(src.chunks_exact(K * C)) {
        let mut sum = [0.0f32; C];
        for t in 0..K {
            for c in 0..C {
                sum[c] += pixels[t * C + c];
            }
        }
        for c in 0..C {
            out[c] = sum[c] * f;
        }
    }
    if !dst_rest.is_empty() {
        sum_columns_any::<C>(&src[full * K * C..], dst_rest, K, rows);
    }
}

fn sum_columns_any<const C: usize>(src: &[f32], dst: &mut [f32], k: usize, rows: u32) {
    let full = 1.0 / (k as f32 * rows as f32);
    for (out, pixels) in dst.chunks_exact_mut(C).zip(src.chunks(k * C)) {
        let mut sum = [0.0f32; C];
        for px in pixels.chunks_exact(C) {
            for c in 0..C {
                sum[c] += px[c];
            }
        }
        let f = if pixels.len() == k * C { full } else { 1.0 / ((pixels.len() / C) as f32 * rows as f32) };
        for c in 0..C {
            out[c] = sum[c] * f;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors() {
        assert_eq!(box_factor(1000, 1, Kernel::Lanczos3), 500);
        assert_eq!(box_factor(100, 27, Kernel::Linear), 1);
        assert_eq!(box_factor(73, 10, Kernel::Cubic), 3);
        assert_eq!(box_factor(1000, 1, Kernel::Nearest), 1);
        assert_eq!(box_factor(10, 1000, Kernel::Lanczos3), 1);
    }

    #[test]
    fn unrolled_widths_match_the_generic_loop() {
        let src: Vec<f32> = (0..3 * 23).map(|i| (i * 37 % 101) as f32).collect();
        for k in 1..=5 {
            let n = 23usize.div_ceil(k) * 3;
            let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
            sum_columns(&src, &mut a, 3, k, 3);
            sum_columns_any::<3>(&src, &mut b, k, 3);
            assert_eq!(a, b, "k = {k}");
        }
    }

    #[test]
    fn row_sums_are_the_same_with_and_without_avx2() {
        let rows: Vec<Vec<u8>> = (0..16).map(|r| (0..1001).map(|i| ((i * 31 + r * 7) % 256) as u8).collect()).collect();
        let sum = |portable: bool| {
            crate::simd::FORCE_PORTABLE.with(|force| force.set(portable));
            let mut acc = vec![0.0f32; 1001];
            for (r, row) in rows.iter().enumerate() {
                accumulate_u8(&mut acc, row, r == 0);
            }
            crate::simd::FORCE_PORTABLE.with(|force| force.set(false));
            acc
        };
        let (fast, portable) = (sum(false), sum(true));
        let expected: Vec<f32> = (0..1001).map(|i| rows.iter().map(|row| row[i] as u32).sum::<u32>() as f32).collect();
        assert_eq!(fast, expected);
        assert_eq!(portable, expected);
    }

    #[test]
    fn column_means_with_a_partial_box() {
        let src = [1.0, 10.0, 3.0, 30.0, 5.0, 50.0, 7.0, 70.0, 9.0, 90.0];
        let mut dst = [0.0; 4];
        sum_columns(&src, &mut dst, 2, 3, 2);
        assert_eq!(dst, [1.5, 15.0, 4.0, 40.0]);
    }
}
