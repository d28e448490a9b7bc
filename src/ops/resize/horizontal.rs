//! The horizontal pass: one row of working values resampled to the output width.
//!
//! Per output pixel, a dot product of its window of input pixels with its weights, all channels
//! of a pixel at once (the channel count is a const generic, so the inner loop is unrolled into
//! registers). This runs once per kernel-input row: after the box shrink, so at most a few times
//! per output row when downscaling, and once per input row when upscaling.
//!
//! Design note (x86-64, 3 and 4 channels): each output pixel's sum is one chain of dependent
//! adds per channel, so the scalar loop waits on the add latency at every tap. The SSE version
//! keeps a pixel's channels in the lanes of one register (a 3-channel pixel is loaded as four
//! floats, the fourth ignored) and runs four output pixels side by side, four independent
//! chains. Each lane still computes `acc + w * x` tap after tap in the same order, multiply then
//! add (Rust never fuses them), so the floats are exactly the scalar loop's: the unit test
//! compares bits. In an 8192^2 JPEG -> 2048 wide job the pass took a fifth fewer perf samples
//! than the scalar loop (331 -> 263). fast_image_resize's fixed-point convolution is still 1.3 to
//! 2.1x faster on the same strips (`benches/horizontal_vs_fir.rs`, whole resize stage against
//! its whole resize); it rounds to 8 bits between its passes, where this stage keeps f32 for
//! linear light, 16-bit samples and premultiplied alpha, so it was not taken as is.

use super::coefficients::Coefficients;

/// Resamples `src` (pixels of `channels` samples) into `dst` with `coefficients`.
pub(crate) fn resample(src: &[f32], dst: &mut [f32], channels: usize, coefficients: &Coefficients) {
    match channels {
        1 => resample_n::<1>(src, dst, coefficients),
        2 => resample_n::<2>(src, dst, coefficients),
        #[cfg(target_arch = "x86_64")]
        3 => resample_sse::<3>(src, dst, coefficients),
        #[cfg(target_arch = "x86_64")]
        _ => resample_sse::<4>(src, dst, coefficients),
        #[cfg(not(target_arch = "x86_64"))]
        3 => resample_n::<3>(src, dst, coefficients),
        #[cfg(not(target_arch = "x86_64"))]
        _ => resample_n::<4>(src, dst, coefficients),
    }
}

fn resample_n<const C: usize>(src: &[f32], dst: &mut [f32], coefficients: &Coefficients) {
    for (i, out) in dst.chunks_exact_mut(C).enumerate() {
        resample_pixel::<C>(src, out, coefficients, i);
    }
}

/// Output pixel `i` (`C` samples in `out`), scalar.
#[inline(always)]
fn resample_pixel<const C: usize>(src: &[f32], out: &mut [f32], coefficients: &Coefficients, i: usize) {
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

/// Four output pixels at a time in SSE registers (see the module's design note); pixels whose
/// four windows differ in length, or whose last load would pass the end of `src`, go through
/// the scalar loop. (Compiled again with AVX2 enabled it was no faster: the loads bound it.)
#[cfg(target_arch = "x86_64")]
fn resample_sse<const C: usize>(src: &[f32], dst: &mut [f32], coefficients: &Coefficients) {
    use std::arch::x86_64::{__m128, _mm_add_ps, _mm_loadu_ps, _mm_mul_ps, _mm_set1_ps, _mm_setzero_ps, _mm_storeu_ps};
    let n = dst.len() / C;
    let mut i = 0;
    while i + 4 <= n {
        let windows = [coefficients.window(i), coefficients.window(i + 1), coefficients.window(i + 2), coefficients.window(i + 3)];
        let taps = windows[0].1.len();
        let fits = windows.iter().all(|(start, w)| w.len() == taps && (start + taps) * C + (4 - C) <= src.len());
        if taps == 0 || !fits {
            for j in 0..4 {
                resample_pixel::<C>(src, &mut dst[(i + j) * C..(i + j + 1) * C], coefficients, i + j);
            }
            i += 4;
            continue;
        }
        let pixels = windows.map(|(start, _)| src[start * C..].as_ptr());
        let weights = windows.map(|(_, w)| w.as_ptr());
        // SAFETY: SSE is part of x86-64.
        let mut acc: [__m128; 4] = [unsafe { _mm_setzero_ps() }; 4];
        for k in 0..taps {
            for j in 0..4 {
                // SAFETY: k < taps, the length of every window's weights; the four floats read
                // from pixel `start + k` end at most at `(start + taps) * C + (4 - C)`, checked
                // against `src.len()` above.
                unsafe {
                    let px = _mm_loadu_ps(pixels[j].add(k * C));
                    acc[j] = _mm_add_ps(acc[j], _mm_mul_ps(_mm_set1_ps(*weights[j].add(k)), px));
                }
            }
        }
        for (j, a) in acc.iter().enumerate() {
            let mut lanes = [0.0f32; 4];
            // SAFETY: `lanes` has room for the four floats stored.
            unsafe { _mm_storeu_ps(lanes.as_mut_ptr(), *a) };
            dst[(i + j) * C..(i + j + 1) * C].copy_from_slice(&lanes[..C]);
        }
        i += 4;
    }
    for j in i..n {
        resample_pixel::<C>(src, &mut dst[j * C..(j + 1) * C], coefficients, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::resize::coefficients::Axis;
    use crate::ops::resize::Kernel;

    #[test]
    fn the_sse_pass_gives_the_scalar_bits() {
        let mut seed = 99u32;
        for (n_in, n_out) in [(1000u32, 333u32), (4096, 3000), (37, 113), (5, 4), (8, 8), (640, 17)] {
            for kernel in [Kernel::Lanczos3, Kernel::Cubic, Kernel::Linear] {
                let axis = Axis { n_in, n_out, scale: n_in as f64 / n_out as f64, kernel };
                let coefficients = axis.build();
                for channels in [3usize, 4] {
                    let src: Vec<f32> = (0..n_in as usize * channels)
                        .map(|_| {
                            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                            (seed >> 8) as f32 / (1u32 << 24) as f32 * 255.0
                        })
                        .collect();
                    let mut scalar = vec![0.0f32; n_out as usize * channels];
                    let mut fast = scalar.clone();
                    if channels == 3 {
                        resample_n::<3>(&src, &mut scalar, &coefficients);
                    } else {
                        resample_n::<4>(&src, &mut scalar, &coefficients);
                    }
                    resample(&src, &mut fast, channels, &coefficients);
                    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&fast), bits(&scalar), "{n_in}->{n_out} {kernel:?} {channels} channels");
                }
            }
        }
    }
}
