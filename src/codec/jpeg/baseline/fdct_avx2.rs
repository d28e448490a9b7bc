//! The MCU transform of `fdct` written with AVX2 intrinsics: one block row per register, the
//! same float operations in the same order as the portable loops (so the same bits), the 8x8
//! transpose as unpack/shuffle/permute, and the non-zero mask from packed compares.

// The constants are libjpeg's jfdctflt.c literals, kept as written (the same f32 values);
// the lane loops index several arrays in step.
#![allow(clippy::excessive_precision, clippy::approx_constant, clippy::needless_range_loop)]

use std::arch::x86_64::*;

use super::fdct::{Coefficients, Divisors, McuRow};

type Rows = [__m256; 8];

/// The AAN pass of `fdct::columns`, on registers.
#[inline]
#[target_feature(enable = "avx2")]
fn columns(d: &mut Rows) {
    let (add, sub, mul) = (_mm256_add_ps, _mm256_sub_ps, _mm256_mul_ps);
    let c = _mm256_set1_ps;
    let tmp0 = add(d[0], d[7]);
    let tmp7 = sub(d[0], d[7]);
    let tmp1 = add(d[1], d[6]);
    let tmp6 = sub(d[1], d[6]);
    let tmp2 = add(d[2], d[5]);
    let tmp5 = sub(d[2], d[5]);
    let tmp3 = add(d[3], d[4]);
    let tmp4 = sub(d[3], d[4]);
    let tmp10 = add(tmp0, tmp3);
    let tmp13 = sub(tmp0, tmp3);
    let tmp11 = add(tmp1, tmp2);
    let tmp12 = sub(tmp1, tmp2);
    d[0] = add(tmp10, tmp11);
    d[4] = sub(tmp10, tmp11);
    let z1 = mul(add(tmp12, tmp13), c(0.707106781));
    d[2] = add(tmp13, z1);
    d[6] = sub(tmp13, z1);
    let tmp10 = add(tmp4, tmp5);
    let tmp11 = add(tmp5, tmp6);
    let tmp12 = add(tmp6, tmp7);
    let z5 = mul(sub(tmp10, tmp12), c(0.382683433));
    let z2 = add(mul(c(0.541196100), tmp10), z5);
    let z4 = add(mul(c(1.306562965), tmp12), z5);
    let z3 = mul(tmp11, c(0.707106781));
    let z11 = add(tmp7, z3);
    let z13 = sub(tmp7, z3);
    d[5] = add(z13, z2);
    d[3] = sub(z13, z2);
    d[1] = add(z11, z4);
    d[7] = sub(z11, z4);
}

#[inline]
#[target_feature(enable = "avx2")]
fn transpose(r: &mut Rows) {
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    r[0] = _mm256_permute2f128_ps::<0x20>(u0, u4);
    r[1] = _mm256_permute2f128_ps::<0x20>(u1, u5);
    r[2] = _mm256_permute2f128_ps::<0x20>(u2, u6);
    r[3] = _mm256_permute2f128_ps::<0x20>(u3, u7);
    r[4] = _mm256_permute2f128_ps::<0x31>(u0, u4);
    r[5] = _mm256_permute2f128_ps::<0x31>(u1, u5);
    r[6] = _mm256_permute2f128_ps::<0x31>(u2, u6);
    r[7] = _mm256_permute2f128_ps::<0x31>(u3, u7);
}

/// Eight i32 lanes to level-shifted floats.
#[inline]
#[target_feature(enable = "avx2")]
fn level_shift(v: __m256i) -> __m256 {
    _mm256_sub_ps(_mm256_cvtepi32_ps(v), _mm256_set1_ps(128.0))
}

/// `fdct::load`.
#[inline]
#[target_feature(enable = "avx2")]
fn load(plane: &[u8], stride: usize, x: usize, row: usize) -> Rows {
    let mut b = [_mm256_setzero_ps(); 8];
    for (r, out) in b.iter_mut().enumerate() {
        let src: &[u8; 8] = plane[(8 * row + r) * stride + x..][..8].try_into().unwrap();
        // SAFETY: `src` is 8 readable bytes, what `_mm_loadl_epi64` reads (unaligned is fine).
        let bytes = unsafe { _mm_loadl_epi64(src.as_ptr().cast()) };
        *out = level_shift(_mm256_cvtepu8_epi32(bytes));
    }
    b
}

/// `fdct::load_downsampled`: pair sums by a multiply-add with ones, then libjpeg's bias.
#[inline]
#[target_feature(enable = "avx2")]
fn load_downsampled(plane: &[u8], stride: usize, x: usize, h: usize, v: usize) -> Rows {
    if h == 1 {
        return load(plane, stride, x, 0);
    }
    let ones = _mm256_set1_epi16(1);
    let mut b = [_mm256_setzero_ps(); 8];
    let load16 = |at: usize| -> __m256i {
        let src: &[u8; 16] = plane[at..][..16].try_into().unwrap();
        // SAFETY: `src` is 16 readable bytes, what `_mm_loadu_si128` reads.
        _mm256_cvtepu8_epi16(unsafe { _mm_loadu_si128(src.as_ptr().cast()) })
    };
    for (r, out) in b.iter_mut().enumerate() {
        let sums = if v == 2 {
            let pairs = _mm256_madd_epi16(_mm256_add_epi16(load16(2 * r * stride + x), load16((2 * r + 1) * stride + x)), ones);
            _mm256_srli_epi32::<2>(_mm256_add_epi32(pairs, _mm256_setr_epi32(1, 2, 1, 2, 1, 2, 1, 2)))
        } else {
            let pairs = _mm256_madd_epi16(load16(r * stride + x), ones);
            _mm256_srli_epi32::<1>(_mm256_add_epi32(pairs, _mm256_setr_epi32(0, 1, 0, 1, 0, 1, 0, 1)))
        };
        *out = level_shift(sums);
    }
    b
}

/// `fdct::transform`, plus the non-zero mask.
#[inline]
#[target_feature(enable = "avx2")]
fn transform(block: &mut Rows, divisors: &Divisors, out: &mut Coefficients) {
    columns(block);
    transpose(block);
    columns(block);
    let mut packed = [_mm256_setzero_si256(); 4];
    for (k, pair) in packed.iter_mut().enumerate() {
        let quantise = |u: usize| {
            let d: &[f32; 8] = divisors.0[8 * u..][..8].try_into().unwrap();
            // SAFETY: `d` is 8 readable floats, what `_mm256_loadu_ps` reads.
            let d = unsafe { _mm256_loadu_ps(d.as_ptr()) };
            let scaled = _mm256_add_ps(_mm256_mul_ps(block[u], d), _mm256_set1_ps(16384.5));
            let q = _mm256_sub_epi32(_mm256_cvttps_epi32(scaled), _mm256_set1_epi32(16384));
            _mm256_min_epi32(_mm256_max_epi32(q, _mm256_set1_epi32(-1023)), _mm256_set1_epi32(1023))
        };
        // packs interleaves 128-bit halves; the permute puts rows 2k and 2k+1 back in order.
        *pair = _mm256_permute4x64_epi64::<0xD8>(_mm256_packs_epi32(quantise(2 * k), quantise(2 * k + 1)));
    }
    for (k, pair) in packed.iter().enumerate() {
        let dst: &mut [i16; 16] = (&mut out.values[16 * k..][..16]).try_into().unwrap();
        // SAFETY: `dst` is 16 writable i16, what `_mm256_storeu_si256` writes.
        unsafe { _mm256_storeu_si256(dst.as_mut_ptr().cast(), *pair) };
    }
    let zero = _mm256_setzero_si256();
    let zeros = |a: __m256i, b: __m256i| -> u64 {
        let bytes = _mm256_packs_epi16(_mm256_cmpeq_epi16(a, zero), _mm256_cmpeq_epi16(b, zero));
        _mm256_movemask_epi8(_mm256_permute4x64_epi64::<0xD8>(bytes)) as u32 as u64
    };
    out.nonzero = !(zeros(packed[0], packed[1]) | zeros(packed[2], packed[3]) << 32);
}

/// `fdct::transform_mcu` with intrinsics.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn transform_mcu(row: &McuRow<'_>, mx: usize, divisors: &[Divisors; 2], blocks: &mut [Coefficients]) {
    let (h, v) = (row.h, row.v);
    let x0 = mx * 8 * h;
    let mut n = 0;
    for by in 0..v {
        for bx in 0..h {
            let mut block = load(row.planes[0], row.stride, x0 + 8 * bx, by);
            transform(&mut block, &divisors[0], &mut blocks[n]);
            n += 1;
        }
    }
    for plane in &row.planes[1..] {
        let mut block = load_downsampled(plane, row.stride, x0, h, v);
        transform(&mut block, &divisors[1], &mut blocks[n]);
        n += 1;
    }
}
