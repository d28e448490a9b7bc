//! `color::rgb_to_ycbcr` in AVX2 intrinsics: eight pixels per step, deinterleaved by two byte
//! shuffles per channel, widened to 32-bit lanes and multiplied by libjpeg's constants (the
//! same integers as the portable loop, so the same samples).

use std::arch::x86_64::*;

/// Byte shuffles gathering R, G and B of pixels 0..8 from the first 16 and the last 8 of their
/// 24 bytes (-1 gives zero).
const PICK: [([i8; 16], [i8; 16]); 3] = [
    ([0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1], [-1, -1, -1, -1, -1, -1, 2, 5, -1, -1, -1, -1, -1, -1, -1, -1]),
    ([1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1], [-1, -1, -1, -1, -1, 0, 3, 6, -1, -1, -1, -1, -1, -1, -1, -1]),
    ([2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1], [-1, -1, -1, -1, -1, 1, 4, 7, -1, -1, -1, -1, -1, -1, -1, -1]),
];

/// `c_r * r + c_g * g + c_b * b + bias >> 16`, packed to eight bytes and stored in `out`.
#[inline]
#[target_feature(enable = "avx2")]
fn weigh(rgb: [__m256i; 3], c: [i32; 3], bias: i32, out: &mut [u8]) {
    let mut sum = _mm256_set1_epi32(bias);
    for (channel, weight) in rgb.iter().zip(c) {
        sum = _mm256_add_epi32(sum, _mm256_mullo_epi32(*channel, _mm256_set1_epi32(weight)));
    }
    let v = _mm256_srai_epi32::<16>(sum);
    let words = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
    let bytes = _mm_packus_epi16(words, words);
    let out: &mut [u8; 8] = (&mut out[..8]).try_into().unwrap();
    // SAFETY: `out` is 8 writable bytes, what `_mm_storel_epi64` writes.
    unsafe { _mm_storel_epi64(out.as_mut_ptr().cast(), bytes) };
}

/// Converts the whole groups of eight pixels of `rgb`; returns how many pixels it did.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn rgb_to_ycbcr(rgb: &[u8], y: &mut [u8], cb: &mut [u8], cr: &mut [u8]) -> usize {
    // SAFETY (of the loads below): each `[i8; 16]` is 16 readable bytes.
    let masks = PICK.map(|(lo, hi)| unsafe { (_mm_loadu_si128(lo.as_ptr().cast()), _mm_loadu_si128(hi.as_ptr().cast())) });
    let groups = rgb.len() / 24;
    for g in 0..groups {
        let px: &[u8; 24] = rgb[24 * g..][..24].try_into().unwrap();
        // SAFETY: `px` is 24 readable bytes; the loads read its first 16 and its last 8.
        let (lo, hi) = unsafe { (_mm_loadu_si128(px.as_ptr().cast()), _mm_loadl_epi64(px[16..].as_ptr().cast())) };
        let channels = masks.map(|(ml, mh)| _mm256_cvtepu8_epi32(_mm_or_si128(_mm_shuffle_epi8(lo, ml), _mm_shuffle_epi8(hi, mh))));
        let at = 8 * g;
        weigh(channels, [19595, 38470, 7471], 1 << 15, &mut y[at..]);
        weigh(channels, [-11059, -21709, 32768], (128 << 16) + (1 << 15) - 1, &mut cb[at..]);
        weigh(channels, [32768, -27439, -5329], (128 << 16) + (1 << 15) - 1, &mut cr[at..]);
    }
    8 * groups
}
