//! Colour conversion to RGB, with libjpeg's fixed-point constants (jdcolor.c, 16 fraction bits),
//! so that results match djpeg: YCbCr, YCCK, and (inverted, Adobe) CMYK.
//!
//! The loops work on plain slices, one pixel per iteration with no table lookups, so the
//! compiler can vectorise them.

use crate::simd::avx2_dispatch;

const SCALE: u32 = 16;
const HALF: i32 = 1 << (SCALE - 1);
/// FIX(1.40200), FIX(1.77200), FIX(0.71414), FIX(0.34414) with 16 fraction bits.
#[cfg(test)]
const CR_R: i32 = 91881;
#[cfg(test)]
const CB_B: i32 = 116130;
#[cfg(test)]
const CR_G: i32 = 46802;
#[cfg(test)]
const CB_G: i32 = 22554;

#[inline(always)]
fn ycc(y: u8, cb: u8, cr: u8) -> (u8, u8, u8) {
    // The products with libjpeg's constants, rewritten so that every multiplication is 16 x 16
    // bits (which SIMD does in one instruction) and the result is bit-identical:
    //   91881 cr           = 65536 cr + 26345 cr
    //   116130 cb          = 131072 cb - 14942 cb
    //   -22554 cb - 46802 cr = -65536 cr - 22554 cb + 18734 cr
    // and (65536 a + x) >> 16 == a + (x >> 16) exactly for an arithmetic shift.
    let y = y as i32;
    let cb = (cb as i16 - 128) as i32;
    let cr = (cr as i16 - 128) as i32;
    let r = y + cr + ((26345 * cr + HALF) >> SCALE);
    let g = y - cr + ((-22554 * cb + 18734 * cr + HALF) >> SCALE);
    let b = y + 2 * cb + ((-14942 * cb + HALF) >> SCALE);
    (r.clamp(0, 255) as u8, g.clamp(0, 255) as u8, b.clamp(0, 255) as u8)
}

/// The same conversion with libjpeg's constants as written (the reference for the test).
#[cfg(test)]
fn ycc_reference(y: u8, cb: u8, cr: u8) -> (u8, u8, u8) {
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
    ///
    /// Sixteen pixels at a time: the arithmetic runs on whole lanes into three small planar
    /// arrays, then a separate loop interleaves them, which keeps both loops vectorisable.
    pub(crate) fn ycc_to_rgb(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
        const N: usize = 16;
        let n = out.len() / 3;
        let (y, cb, cr) = (&y[..n], &cb[..n], &cr[..n]);
        let mut chunks = out.chunks_exact_mut(3 * N);
        for (((px, y), cb), cr) in (&mut chunks).zip(y.chunks_exact(N)).zip(cb.chunks_exact(N)).zip(cr.chunks_exact(N)) {
            let (mut r, mut g, mut b) = ([0u8; N], [0u8; N], [0u8; N]);
            for i in 0..N {
                (r[i], g[i], b[i]) = ycc(y[i], cb[i], cr[i]);
            }
            for i in 0..N {
                px[3 * i] = r[i];
                px[3 * i + 1] = g[i];
                px[3 * i + 2] = b[i];
            }
        }
        let done = n / N * N;
        for (i, px) in chunks.into_remainder().chunks_exact_mut(3).enumerate() {
            let (r, g, b) = ycc(y[done + i], cb[done + i], cr[done + i]);
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

/// Four planes interleaved as CMYK ink amounts (0 = no ink): stored values as they are, or
/// inverted when the file has an Adobe marker (Adobe stores 255 for no ink; libvips and Pillow
/// invert exactly when the marker is present).
pub(crate) fn cmyk_inks(c: &[u8], m: &[u8], y: &[u8], k: &[u8], inverted: bool, out: &mut [u8]) {
    let flip = if inverted { 255 } else { 0 };
    for (i, px) in out.chunks_exact_mut(4).enumerate() {
        px[0] = c[i] ^ flip;
        px[1] = m[i] ^ flip;
        px[2] = y[i] ^ flip;
        px[3] = k[i] ^ flip;
    }
}

/// YCCK (always Adobe, transform 2) to CMYK ink amounts: YCbCr to RGB gives the inks C, M, Y
/// directly (libjpeg's 255 - R is the stored, inverted, value), and K is stored inverted.
pub(crate) fn ycck_to_cmyk(y: &[u8], cb: &[u8], cr: &[u8], k: &[u8], out: &mut [u8]) {
    for (i, px) in out.chunks_exact_mut(4).enumerate() {
        let (r, g, b) = ycc(y[i], cb[i], cr[i]);
        px[0] = r;
        px[1] = g;
        px[2] = b;
        px[3] = 255 - k[i];
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
    fn sixteen_bit_form_equals_libjpeg_constants() {
        for y in 0..=255u8 {
            for cb in 0..=255u8 {
                for cr in (0..=255u8).step_by(3) {
                    assert_eq!(ycc(y, cb, cr), ycc_reference(y, cb, cr), "{y} {cb} {cr}");
                }
            }
        }
    }

    #[test]
    fn grey_stays_grey_and_primaries_are_close() {
        let mut out = [0u8; 6];
        ycc_to_rgb(&[128, 76], &[128, 85], &[128, 255], &mut out);
        assert_eq!(&out[..3], &[128, 128, 128]);
        assert!(out[3] >= 250 && out[4] <= 2 && out[5] <= 2, "{:?}", out);
    }

    #[test]
    fn cmyk_inks_agree_with_the_djpeg_rgb_path() {
        // The ink rows undo exactly the inversion the RGB approximation assumes: converting the
        // inks with R = (255 - C) (255 - K) / 255 gives the RGB path's result.
        let vals: Vec<u8> = (0..=255u8).step_by(17).collect();
        for &a in &vals {
            for &b in &vals {
                let (c, m, y, k) = ([a, b], [b, a], [a / 2, 255 - b], [b, 255 - a]);
                let (mut rgb, mut inks) = ([0u8; 6], [0u8; 8]);
                cmyk_to_rgb(&c, &m, &y, &k, &mut rgb);
                cmyk_inks(&c, &m, &y, &k, true, &mut inks);
                for i in 0..2 {
                    for ch in 0..3 {
                        assert_eq!(rgb[3 * i + ch], mul255(255 - inks[4 * i + ch], 255 - inks[4 * i + 3]));
                    }
                }
                ycck_to_rgb(&c, &m, &y, &k, &mut rgb);
                ycck_to_cmyk(&c, &m, &y, &k, &mut inks);
                for i in 0..2 {
                    for ch in 0..3 {
                        assert_eq!(rgb[3 * i + ch], mul255(255 - inks[4 * i + ch], 255 - inks[4 * i + 3]));
                    }
                }
                // Without an Adobe marker the stored values are the inks.
                cmyk_inks(&c, &m, &y, &k, false, &mut inks);
                assert_eq!(&inks[..4], &[c[0], m[0], y[0], k[0]]);
            }
        }
    }
}
