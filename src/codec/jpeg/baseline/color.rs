//! RGB -> YCbCr for the encoder, with libjpeg's fixed-point constants (jccolor.c).
//!
//! Precision: 16 fraction bits, as libjpeg. Each coefficient is `round(c * 65536)`; the three
//! products of an 8-bit sample sum to at most 65536 * 255 + 2^16 < 2^31, so 32-bit lanes hold
//! them exactly, and Y rounds by adding one half, Cb and Cr by adding one half less one (which
//! keeps their maximum at 255 without a clamp, as libjpeg does). The result equals libjpeg's
//! `rgb_ycc_convert` sample for sample.
//!
//! `color_avx2` does eight pixels per step in AVX2 intrinsics (8 x 32-bit multiplies per
//! instruction) where the CPU has it; the plain per-pixel loop here is the portable version and
//! does the last few pixels. Both are the same integer arithmetic.

use crate::simd::use_avx2;

const HALF: i32 = 1 << 15;
/// 128 in the 16-bit fixed point, the offset of Cb and Cr.
const CHROMA_OFFSET: i32 = 128 << 16;

/// One pixel: libjpeg's `rgb_ycc_convert` arithmetic.
#[inline(always)]
fn ycc(r: i32, g: i32, b: i32) -> (u8, u8, u8) {
    let y = (19595 * r + 38470 * g + 7471 * b + HALF) >> 16;
    let cb = (-11059 * r - 21709 * g + 32768 * b + CHROMA_OFFSET + HALF - 1) >> 16;
    let cr = (32768 * r - 27439 * g - 5329 * b + CHROMA_OFFSET + HALF - 1) >> 16;
    (y as u8, cb as u8, cr as u8)
}

/// Interleaved RGB `rgb` to the planes `y`, `cb`, `cr` (as many samples as `rgb` has pixels).
pub(crate) fn rgb_to_ycbcr(rgb: &[u8], y: &mut [u8], cb: &mut [u8], cr: &mut [u8]) {
    let n = rgb.len() / 3;
    let (y, cb, cr) = (&mut y[..n], &mut cb[..n], &mut cr[..n]);
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if use_avx2() {
        // SAFETY: the CPU supports AVX2 (checked by `use_avx2`).
        done = unsafe { super::color_avx2::rgb_to_ycbcr(rgb, y, cb, cr) };
    }
    for (i, px) in rgb[3 * done..].chunks_exact(3).enumerate() {
        (y[done + i], cb[done + i], cr[done + i]) = ycc(px[0] as i32, px[1] as i32, px[2] as i32);
    }
}

/// Repeats the sample at `filled - 1` to the end of `row` (libjpeg's `expand_right_edge`).
pub(crate) fn extend_right(row: &mut [u8], filled: usize) {
    let last = row[filled - 1];
    row[filled..].fill(last);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libjpeg's jccolor.c as written: FIX(x) = round(x * 65536).
    fn reference(r: i32, g: i32, b: i32) -> (u8, u8, u8) {
        let fix = |x: f64| (x * 65536.0 + 0.5) as i32;
        let y = (fix(0.29900) * r + fix(0.58700) * g + fix(0.11400) * b + HALF) >> 16;
        let cb = (-fix(0.16874) * r - fix(0.33126) * g + fix(0.5) * b + CHROMA_OFFSET + HALF - 1) >> 16;
        let cr = (fix(0.5) * r - fix(0.41869) * g - fix(0.08131) * b + CHROMA_OFFSET + HALF - 1) >> 16;
        (y as u8, cb as u8, cr as u8)
    }

    #[test]
    fn matches_libjpeg_on_a_sweep_of_colours() {
        let mut rgb = Vec::new();
        for r in (0..=255).step_by(5) {
            for g in (0..=255).step_by(3) {
                for b in [0u8, 1, 77, 128, 200, 254, 255] {
                    rgb.extend_from_slice(&[r as u8, g as u8, b]);
                }
            }
        }
        let n = rgb.len() / 3;
        let (mut y, mut cb, mut cr) = (vec![0; n], vec![0; n], vec![0; n]);
        rgb_to_ycbcr(&rgb, &mut y, &mut cb, &mut cr);
        for (i, px) in rgb.chunks_exact(3).enumerate() {
            assert_eq!((y[i], cb[i], cr[i]), reference(px[0] as i32, px[1] as i32, px[2] as i32), "{px:?}");
        }
    }
}
