//! Colour conversion to RGB, with libjpeg's fixed-point constants (jdcolor.c, 16 fraction bits),
//! so that results match djpeg: YCbCr, YCCK, and (inverted, Adobe) CMYK.
//!
//! The loops work on plain slices, one pixel per iteration with no table lookups, so the
//! compiler can vectorise them.

use super::simd::avx2_dispatch;

const SCALE: u32 = 16;
const HALF: i32 = 1 << (SCALE - 1);
/// FIX(1.40200), FIX(1.77200), FIX(0.71414), FIX(0.34414) with 16 fraction bits.
const CR_R: i32 = 91881;
const CB_B: i32 = 116130;
const CR_G: i32 = 46802;
const CB_G: i32 = 22554;

#[inline(always)]
fn ycc(y: u8, cb: u8, cr: u8) -> (u8, u8, u8) {
    let y = y as i32;
    let cb = cb as i32 - 128;
    let cr = cr as i32 - 128;
    let r = y + ((CR_R * cr + HALF) >> SCALE);
    let g = y + ((-CB_G * cb - CR_G * cr + HALF) >> SCALE);
    let b = y + ((CB_B * cb + HALF) >> SCALE);
    (r.clamp(0, 255) as u8, g.clamp(0, 255) as u8, b.clamp(0, 255) as u8)
}

avx2_dispatch! {
    /// YCbCr planes to interleaved RGB.
    pub(crate) fn ycc_to_rgb(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
        let n = out.len() / 3;
        for (((px, &y), &cb), &cr) in out.chunks_exact_mut(3).zip(&y[..n]).zip(&cb[..n]).zip(&cr[..n]) {
            let (r, g, b) = ycc(y, cb, cr);
            px[0] = r;
            px[1] = g;
            px[2] = b;
        }
    }
}

/// Three planes interleaved as they are (RGB coded directly).
pub(crate) fn interleave(r: &[u8], g: &[u8], b: &[u8], out: &mut [u8]) {
    let n = out.len() / 3;
    for (((px, &r), &g), &b) in out.chunks_exact_mut(3).zip(&r[..n]).zip(&g[..n]).zip(&b[..n]) {
        px[0] = r;
        px[1] = g;
        px[2] = b;
    }
}

/// `round(a * k / 255)`, as djpeg's CMYK-to-RGB output does it.
#[inline(always)]
fn mul255(a: u8, k: u8) -> u8 {
    ((a as u32 * k as u32 * 2 + 255) / 510) as u8
}

/// Inverted CMYK (as stored by Adobe) to RGB: R = C * K / 255 and so on.
pub(crate) fn cmyk_to_rgb(c: &[u8], m: &[u8], y: &[u8], k: &[u8], out: &mut [u8]) {
    let n = out.len() / 3;
    for (i, px) in out.chunks_exact_mut(3).enumerate().take(n) {
        let kk = k[i];
        px[0] = mul255(c[i], kk);
        px[1] = mul255(m[i], kk);
        px[2] = mul255(y[i], kk);
    }
}

/// YCCK to RGB: YCbCr to RGB gives inverted C, M, Y (255 - R ...), then CMYK to RGB.
pub(crate) fn ycck_to_rgb(y: &[u8], cb: &[u8], cr: &[u8], k: &[u8], out: &mut [u8]) {
    let n = out.len() / 3;
    for (i, px) in out.chunks_exact_mut(3).enumerate().take(n) {
        let (r, g, b) = ycc(y[i], cb[i], cr[i]);
        let kk = k[i];
        px[0] = mul255(255 - r, kk);
        px[1] = mul255(255 - g, kk);
        px[2] = mul255(255 - b, kk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_stays_grey_and_primaries_are_close() {
        let mut out = [0u8; 6];
        ycc_to_rgb(&[128, 76], &[128, 85], &[128, 255], &mut out);
        assert_eq!(&out[..3], &[128, 128, 128]);
        assert!(out[3] >= 250 && out[4] <= 2 && out[5] <= 2, "{:?}", out);
    }
}
