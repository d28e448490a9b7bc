//! The horizontal pass: one row of working values resampled to the output width.
//!
//! Per output pixel, a dot product of its window of input pixels with its weights, all channels
//! of a pixel at once (the channel count is a const generic, so the inner loop is unrolled into
//! registers). This runs once per kernel-input row: after the box shrink, so at most a few times
//! per output row when downscaling, and once per input row when upscaling.

use super::coefficients::Coefficients;

/// Resamples `src` (pixels of `channels` samples) into `dst` with `coefficients`.
pub(crate) fn resample(src: &[f32], dst: &mut [f32], channels: usize, coefficients: &Coefficients) {
    match channels {
        1 => resample_n::<1>(src, dst, coefficients),
        2 => resample_n::<2>(src, dst, coefficients),
        3 => resample_n::<3>(src, dst, coefficients),
        _ => resample_n::<4>(src, dst, coefficients),
    }
}

fn resample_n<const C: usize>(src: &[f32], dst: &mut [f32], coefficients: &Coefficients) {
    for (i, out) in dst.chunks_exact_mut(C).enumerate() {
        let (start, weights) = coefficients.window(i);
        let pixels = &src[start * C..(start + weights.len()) * C];
        let mut acc = [0.0f32; C];
        for (&w, px) in weights.iter().zip(pixels.chunks_exact(C)) {
            for c in 0..C {
                acc[c] += w * px[c];
            }
        }
        out.copy_from_slice(&acc);
    }
}
