//! Dequantisation and inverse DCT: libjpeg's accurate integer 8x8 IDCT ("islow", jidctint.c),
//! and reduced IDCTs that produce 4x4, 2x2 or 1x1 samples from a block for shrink-on-load.
//!
//! The 8x8 transform is the Loeffler-Ligtenberg-Moschytz factorisation with 13-bit constants
//! and two extra bits of precision kept between the passes, exactly as libjpeg computes it, so
//! the samples match djpeg's. Both passes run on eight lanes at once (columns in the first pass,
//! rows in the second, with a transpose between), which the compiler turns into SIMD.
//!
//! A reduced N-point IDCT gives, per dimension, the averages of 8/N adjacent outputs of the full
//! 8-point IDCT (all frequencies contribute), which is what libjpeg's jidctred.c computes with
//! a simplified LL&M network; here it is a small fixed-point matrix product, close to libjpeg's
//! results though not bit-identical. For N = 1 it is the DC term divided by 8.
//!
//! Arithmetic is wrapping `i32`: a hostile file can make the intermediate sums overflow (as they
//! do in libjpeg); the result is garbage pixels, never a panic, in debug builds too.

use std::num::Wrapping as W;

use crate::simd::avx2_dispatch;

const CONST_BITS: u32 = 13;
const PASS1_BITS: u32 = 2;

const FIX_0_298631336: i32 = 2446;
const FIX_0_390180644: i32 = 3196;
const FIX_0_541196100: i32 = 4433;
const FIX_0_765366865: i32 = 6270;
const FIX_0_899976223: i32 = 7373;
const FIX_1_175875602: i32 = 9633;
const FIX_1_501321110: i32 = 12299;
const FIX_1_847759065: i32 = 15137;
const FIX_1_961570560: i32 = 16069;
const FIX_2_053119869: i32 = 16819;
const FIX_2_562915447: i32 = 20995;
const FIX_3_072711026: i32 = 25172;

type Lanes = [i32; 8];

/// One 8-point IDCT on eight lanes: `v[k]` holds coefficient k of each lane; returns the eight
/// outputs of each lane, descaled by `shift` with `bias` added before the shift.
#[inline(always)]
fn idct8_lanes(v: &[Lanes; 8], shift: u32, bias: i32) -> [Lanes; 8] {
    // Wrapping arithmetic: what the hardware does anyway, and no overflow panic in debug builds
    // on hostile coefficients.
    let c = W;
    let mut out = [[0i32; 8]; 8];
    let round = c((1 << (shift - 1)) + (bias << shift));
    let shift = shift as usize;
    for l in 0..8 {
        // Even part.
        let z2 = c(v[2][l]);
        let z3 = c(v[6][l]);
        let z1 = (z2 + z3) * c(FIX_0_541196100);
        let tmp2 = z1 - z3 * c(FIX_1_847759065);
        let tmp3 = z1 + z2 * c(FIX_0_765366865);
        let tmp0 = (c(v[0][l]) + c(v[4][l])) << CONST_BITS as usize;
        let tmp1 = (c(v[0][l]) - c(v[4][l])) << CONST_BITS as usize;
        let tmp10 = tmp0 + tmp3;
        let tmp13 = tmp0 - tmp3;
        let tmp11 = tmp1 + tmp2;
        let tmp12 = tmp1 - tmp2;
        // Odd part.
        let t0 = c(v[7][l]);
        let t1 = c(v[5][l]);
        let t2 = c(v[3][l]);
        let t3 = c(v[1][l]);
        let z1 = t0 + t3;
        let z2 = t1 + t2;
        let z3 = t0 + t2;
        let z4 = t1 + t3;
        let z5 = (z3 + z4) * c(FIX_1_175875602);
        let t0 = t0 * c(FIX_0_298631336);
        let t1 = t1 * c(FIX_2_053119869);
        let t2 = t2 * c(FIX_3_072711026);
        let t3 = t3 * c(FIX_1_501321110);
        let z1 = z1 * c(-FIX_0_899976223);
        let z2 = z2 * c(-FIX_2_562915447);
        let z3 = z3 * c(-FIX_1_961570560) + z5;
        let z4 = z4 * c(-FIX_0_390180644) + z5;
        let t0 = t0 + z1 + z3;
        let t1 = t1 + z2 + z4;
        let t2 = t2 + z2 + z3;
        let t3 = t3 + z1 + z4;
        out[0][l] = ((tmp10 + t3 + round) >> shift).0;
        out[7][l] = ((tmp10 - t3 + round) >> shift).0;
        out[1][l] = ((tmp11 + t2 + round) >> shift).0;
        out[6][l] = ((tmp11 - t2 + round) >> shift).0;
        out[2][l] = ((tmp12 + t1 + round) >> shift).0;
        out[5][l] = ((tmp12 - t1 + round) >> shift).0;
        out[3][l] = ((tmp13 + t0 + round) >> shift).0;
        out[4][l] = ((tmp13 - t0 + round) >> shift).0;
    }
    out
}

/// An 8x8 transpose of 32-bit lanes, portable or with AVX2 shuffles.
trait Transpose {
    fn transpose(m: &[Lanes; 8]) -> [Lanes; 8];
}

/// Element by element; the compiler moves the values through memory.
struct Portable;

impl Transpose for Portable {
    #[inline(always)]
    fn transpose(m: &[Lanes; 8]) -> [Lanes; 8] {
        let mut t = [[0i32; 8]; 8];
        for (i, row) in m.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                t[j][i] = v;
            }
        }
        t
    }
}

/// Three rounds of unpacks and lane permutes, in registers. Only instantiated inside functions
/// compiled with AVX2 enabled (see `idct_8x8_row`).
#[cfg(target_arch = "x86_64")]
struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Transpose for Avx2 {
    #[inline(always)]
    fn transpose(m: &[Lanes; 8]) -> [Lanes; 8] {
        use std::arch::x86_64::*;
        let r: [__m256i; 8] = bytemuck::cast(*m);
        // SAFETY: these are register-only AVX2 instructions; `Avx2` is used only from
        // `idct_row_avx2`, which is compiled with AVX2 and called only when the CPU has it.
        unsafe {
            let t0 = _mm256_unpacklo_epi32(r[0], r[1]);
            let t1 = _mm256_unpackhi_epi32(r[0], r[1]);
            let t2 = _mm256_unpacklo_epi32(r[2], r[3]);
            let t3 = _mm256_unpackhi_epi32(r[2], r[3]);
            let t4 = _mm256_unpacklo_epi32(r[4], r[5]);
            let t5 = _mm256_unpackhi_epi32(r[4], r[5]);
            let t6 = _mm256_unpacklo_epi32(r[6], r[7]);
            let t7 = _mm256_unpackhi_epi32(r[6], r[7]);
            let u0 = _mm256_unpacklo_epi64(t0, t2);
            let u1 = _mm256_unpackhi_epi64(t0, t2);
            let u2 = _mm256_unpacklo_epi64(t1, t3);
            let u3 = _mm256_unpackhi_epi64(t1, t3);
            let u4 = _mm256_unpacklo_epi64(t4, t6);
            let u5 = _mm256_unpackhi_epi64(t4, t6);
            let u6 = _mm256_unpacklo_epi64(t5, t7);
            let u7 = _mm256_unpackhi_epi64(t5, t7);
            let out = [
                _mm256_permute2x128_si256(u0, u4, 0x20),
                _mm256_permute2x128_si256(u1, u5, 0x20),
                _mm256_permute2x128_si256(u2, u6, 0x20),
                _mm256_permute2x128_si256(u3, u7, 0x20),
                _mm256_permute2x128_si256(u0, u4, 0x31),
                _mm256_permute2x128_si256(u1, u5, 0x31),
                _mm256_permute2x128_si256(u2, u6, 0x31),
                _mm256_permute2x128_si256(u3, u7, 0x31),
            ];
            bytemuck::cast(out)
        }
    }
}

#[inline(always)]
fn clamp_u8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// Transforms blocks `b0..b1` of a row of blocks (`coefs[b * 64..]`, natural order) into
/// `out`, block `b` at column `b * 8`, rows `stride` apart.
pub(crate) fn idct_8x8_row(coefs: &[i16], quant: &[u16; 64], out: &mut [u8], stride: usize, b0: usize, b1: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        fn idct_row_avx2(coefs: &[i16], quant: &[u16; 64], out: &mut [u8], stride: usize, b0: usize, b1: usize) {
            idct_row::<Avx2>(coefs, quant, out, stride, b0, b1)
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked on the line above.
            return unsafe { idct_row_avx2(coefs, quant, out, stride, b0, b1) };
        }
    }
    idct_row::<Portable>(coefs, quant, out, stride, b0, b1)
}

#[inline(always)]
fn idct_row<T: Transpose>(coefs: &[i16], quant: &[u16; 64], out: &mut [u8], stride: usize, b0: usize, b1: usize) {
    for b in b0..b1 {
        let block: &[i16; 64] = coefs[b * 64..b * 64 + 64].try_into().unwrap();
        idct_8x8::<T>(block, quant, &mut out[b * 8..], stride);
    }
}

/// Dequantises `coefs` (natural order) with `quant` and writes the 8x8 samples to `out`, row
/// `y` at `out[y * stride..][..8]`.
#[inline(always)]
fn idct_8x8<T: Transpose>(coefs: &[i16; 64], quant: &[u16; 64], out: &mut [u8], stride: usize) {
    let mut ac = 0i16;
    for &c in &coefs[1..] {
        ac |= c;
    }
    if ac == 0 {
        // DC only: libjpeg's shortcuts give the same value for every sample.
        let dc = (coefs[0] as i32).wrapping_mul(quant[0] as i32);
        let v = clamp_u8(((dc << PASS1_BITS).wrapping_add(1 << (PASS1_BITS + 2)) >> (PASS1_BITS + 3)) + 128);
        for y in 0..8 {
            out[y * stride..y * stride + 8].fill(v);
        }
        return;
    }
    // Pass 1: columns; lane = column, v[k] = coefficient row k.
    let mut rows = [[0i32; 8]; 8];
    for k in 0..8 {
        for l in 0..8 {
            rows[k][l] = (coefs[k * 8 + l] as i32).wrapping_mul(quant[k * 8 + l] as i32);
        }
    }
    let ws = idct8_lanes(&rows, CONST_BITS - PASS1_BITS, 0);
    // ws[y][x] = column pass output at row y, column x. Pass 2 on rows: lane = row.
    let t = T::transpose(&ws);
    let res = idct8_lanes(&t, CONST_BITS + PASS1_BITS + 3, 128);
    // res[x][y] = sample at row y, column x.
    let res = T::transpose(&res);
    for (y, row) in res.iter().enumerate() {
        let dst = &mut out[y * stride..y * stride + 8];
        for (d, &v) in dst.iter_mut().zip(row) {
            *d = clamp_u8(v);
        }
    }
}

/// Fixed-point (13-bit) matrix of the reduced N-point IDCT: each output is the average of the
/// 8/N adjacent outputs of the full 8-point IDCT it replaces, as in libjpeg's jidctred.c:
/// `m[x][u] = C(u)/2 * mean over j < 8/N of cos((2 (x 8/N + j) + 1) u pi / 16)`.
fn reduced_matrix<const N: usize>() -> [[i32; 8]; N] {
    let group = 8 / N;
    let mut m = [[0i32; 8]; N];
    for (x, row) in m.iter_mut().enumerate() {
        for (u, v) in row.iter_mut().enumerate() {
            let c = if u == 0 { std::f64::consts::FRAC_1_SQRT_2 } else { 1.0 };
            let mean = (0..group)
                .map(|j| (((2 * (x * group + j) + 1) * u) as f64 * std::f64::consts::PI / 16.0).cos())
                .sum::<f64>()
                / group as f64;
            *v = (0.5 * c * mean * (1 << CONST_BITS) as f64).round() as i32;
        }
    }
    m
}

/// Precomputed reduced-IDCT matrices.
pub(crate) struct Reduced {
    m4: [[i32; 8]; 4],
    m2: [[i32; 8]; 2],
}

impl Reduced {
    pub(crate) fn new() -> Reduced {
        let m2 = reduced_matrix::<2>();
        // The symmetry `reduced2` computes through.
        for v in 0..8 {
            let sign = if v % 2 == 0 { 1 } else { -1 };
            assert!(m2[1][v] == sign * m2[0][v] && (v % 2 == 1 || v == 0 || m2[0][v] == 0), "2x2 matrix symmetry");
        }
        let m4 = reduced_matrix::<4>();
        // The symmetry `reduced4` computes through.
        for x in 0..4 {
            for u in 0..8 {
                let sign = if u % 2 == 0 { 1 } else { -1 };
                assert!(m4[3 - x][u] == sign * m4[x][u] && (u != 4 || m4[x][u] == 0), "4x4 matrix symmetry");
            }
        }
        Reduced { m4, m2 }
    }

    /// Writes the `size` x `size` (4, 2 or 1) reduced IDCT of a block.
    pub(crate) fn idct(&self, size: usize, coefs: &[i16; 64], quant: &[u16; 64], out: &mut [u8], stride: usize) {
        match size {
            4 => reduced::<4>(&self.m4, coefs, quant, out, stride),
            2 => reduced::<2>(&self.m2, coefs, quant, out, stride),
            _ => {
                let dc = (coefs[0] as i32).wrapping_mul(quant[0] as i32);
                out[0] = clamp_u8((dc.wrapping_add(4) >> 3) + 128);
            }
        }
    }
}

/// Frequencies whose basis functions average to zero over every group of 8/N samples (the
/// columns of the matrix that are all zero) contribute nothing: 4 for N = 4; 2, 4, 6 for N = 2.
/// Their rows of coefficients are skipped; along a row, all eight lanes are computed at once
/// (the inactive ones meet zero matrix entries).
#[cfg(test)]
const ACTIVE4: [usize; 7] = [0, 1, 2, 3, 5, 6, 7];
#[cfg(test)]
const ACTIVE2: [usize; 5] = [0, 1, 3, 5, 7];

fn reduced<const N: usize>(m: &[[i32; 8]; N], coefs: &[i16; 64], quant: &[u16; 64], out: &mut [u8], stride: usize) {
    if N == 4 {
        let m: &[[i32; 8]; 4] = m.as_slice().try_into().expect("N is 4");
        reduced4(m, coefs, quant, out, stride)
    } else {
        let m: &[[i32; 8]; 2] = m.as_slice().try_into().expect("N is 2");
        reduced2(m, coefs, quant, out, stride)
    }
}

avx2_dispatch! {
    /// The 4x4 reduced IDCT (1/2 scale), through the matrix's symmetry.
    ///
    /// Design note: as for `reduced2`, `m[3 - x][u] = (-1)^u m[x][u]` and `m[x][4] = 0`
    /// (checked by `Reduced::new`), so rows 0 and 1 of each pass give rows 3 and 2 as an even
    /// part (u = 0, 2, 6) minus an odd part (u = 1, 3, 5, 7): the same integers as
    /// `reduced_over::<4, 7>`, half the multiplies. It was a fifth of an 8192^2 JPEG -> 2048
    /// resize's profile (1/2 shrink-on-load).
    fn reduced4(m: &[[i32; 8]; 4], coefs: &[i16; 64], quant: &[u16; 64], out: &mut [u8], stride: usize) {
        let shift1 = CONST_BITS - PASS1_BITS;
        let mut tmp = [[0i32; 8]; 4];
        for u in 0..8 {
            let f = |v: usize| (coefs[v * 8 + u] as i32).wrapping_mul(quant[v * 8 + u] as i32);
            // Frequency 4 meets a zero column of the matrix: not read.
            let f = [f(0), f(1), f(2), f(3), 0, f(5), f(6), f(7)];
            for y in 0..2 {
                let (even, odd) = (even_part4(&m[y], &f), odd_part(&m[y], &f));
                tmp[y][u] = even.wrapping_add(odd).wrapping_add(1 << (shift1 - 1)) >> shift1;
                tmp[3 - y][u] = even.wrapping_sub(odd).wrapping_add(1 << (shift1 - 1)) >> shift1;
            }
        }
        let shift2 = CONST_BITS + PASS1_BITS;
        let sample = |s: i32| clamp_u8((s.wrapping_add(1 << (shift2 - 1)) >> shift2) + 128);
        for (y, t) in tmp.iter().enumerate() {
            let line = &mut out[y * stride..y * stride + 4];
            for x in 0..2 {
                let (even, odd) = (even_part4(&m[x], t), odd_part(&m[x], t));
                line[x] = sample(even.wrapping_add(odd));
                line[3 - x] = sample(even.wrapping_sub(odd));
            }
        }
    }
}

avx2_dispatch! {
    /// The 2x2 reduced IDCT (1/4 scale), through the matrix's symmetry.
    ///
    /// Design note: `m[1][v] = (-1)^v m[0][v]`, and `m[0][v] = 0` for v = 2, 4, 6 (checked by
    /// `Reduced::new`), so each pass is an even part (the DC term) plus or minus an odd part
    /// (v = 1, 3, 5, 7): the integer products and wrapping sums of `reduced_over::<2, 5>`, the
    /// same bits, with a quarter of its multiplies and no per-output dot product. It was 13 % of
    /// a 16384^2 4:2:0 JPEG's 1/8 decode, where every chroma block goes through it.
    fn reduced2(m: &[[i32; 8]; 2], coefs: &[i16; 64], quant: &[u16; 64], out: &mut [u8], stride: usize) {
        let w = &m[0];
        let shift1 = CONST_BITS - PASS1_BITS;
        let mut top = [0i32; 8];
        let mut bottom = [0i32; 8];
        for u in 0..8 {
            let f = |v: usize| (coefs[v * 8 + u] as i32).wrapping_mul(quant[v * 8 + u] as i32);
            // Even frequencies but 0 meet zero columns of the matrix: not read.
            let f = [f(0), f(1), 0, f(3), 0, f(5), 0, f(7)];
            let (even, odd) = (w[0].wrapping_mul(f[0]), odd_part(w, &f));
            top[u] = even.wrapping_add(odd).wrapping_add(1 << (shift1 - 1)) >> shift1;
            bottom[u] = even.wrapping_sub(odd).wrapping_add(1 << (shift1 - 1)) >> shift1;
        }
        let shift2 = CONST_BITS + PASS1_BITS;
        for (y, t) in [top, bottom].iter().enumerate() {
            let (even, odd) = (w[0].wrapping_mul(t[0]), odd_part(w, t));
            let sample = |s: i32| clamp_u8((s.wrapping_add(1 << (shift2 - 1)) >> shift2) + 128);
            out[y * stride] = sample(even.wrapping_add(odd));
            out[y * stride + 1] = sample(even.wrapping_sub(odd));
        }
    }
}

/// The odd part of a symmetric reduced IDCT's dot product: `w[1] t[1] + w[3] t[3] + w[5] t[5] +
/// w[7] t[7]`, wrapping.
#[inline(always)]
fn odd_part(w: &[i32; 8], t: &[i32; 8]) -> i32 {
    w[1].wrapping_mul(t[1])
        .wrapping_add(w[3].wrapping_mul(t[3]))
        .wrapping_add(w[5].wrapping_mul(t[5]))
        .wrapping_add(w[7].wrapping_mul(t[7]))
}

/// The even part of the 4x4 reduced IDCT's dot product (`w[4]` is zero): `w[0] t[0] + w[2] t[2]
/// + w[6] t[6]`, wrapping.
#[inline(always)]
fn even_part4(w: &[i32; 8], t: &[i32; 8]) -> i32 {
    w[0].wrapping_mul(t[0]).wrapping_add(w[2].wrapping_mul(t[2])).wrapping_add(w[6].wrapping_mul(t[6]))
}

/// The reduced IDCT as a plain matrix product, `out[y][x] = sum_v sum_u m[y][v] m[x][u]
/// F[v][u]`, in two passes: the reference `reduced4` and `reduced2` are tested against (they
/// compute the same integers through the matrices' symmetry).
///
/// Design note: pass 1 works on whole rows of eight coefficients (`tmp[y][..] += m[y][v] *
/// F[v][..]`) and pass 2 on dot products of eight lanes, so both are plain loops over eight
/// lanes that vectorise (compiled for AVX2 too, see `simd.rs`); the integers are the same as in
/// the first version, which walked the active frequencies one by one and was a third of a
/// 8192 -> 2048 JPEG resize's profile. A row of coefficients that is all zero (most high rows,
/// in photos) is skipped.
#[cfg(test)]
#[inline(always)]
fn reduced_over<const N: usize, const A: usize>(
    m: &[[i32; 8]; N],
    active: &[usize; A],
    coefs: &[i16; 64],
    quant: &[u16; 64],
    out: &mut [u8],
    stride: usize,
) {
    // Pass 1 along columns: tmp[y][u] = sum_v m[y][v] F[v][u].
    let shift1 = CONST_BITS - PASS1_BITS;
    let mut tmp = [[0i32; 8]; N];
    for &v in active {
        let row: &[i16; 8] = coefs[v * 8..v * 8 + 8].try_into().expect("8 coefficients");
        if row.iter().fold(0i16, |acc, &c| acc | c) == 0 {
            continue;
        }
        let q: &[u16; 8] = quant[v * 8..v * 8 + 8].try_into().expect("8 quantisers");
        let mut f = [0i32; 8];
        for u in 0..8 {
            f[u] = (row[u] as i32).wrapping_mul(q[u] as i32);
        }
        for y in 0..N {
            let w = m[y][v];
            for u in 0..8 {
                tmp[y][u] = tmp[y][u].wrapping_add(w.wrapping_mul(f[u]));
            }
        }
    }
    for row in tmp.iter_mut() {
        for t in row.iter_mut() {
            *t = t.wrapping_add(1 << (shift1 - 1)) >> shift1;
        }
    }
    let shift2 = CONST_BITS + PASS1_BITS;
    for y in 0..N {
        let line = &mut out[y * stride..y * stride + N];
        for (x, o) in line.iter_mut().enumerate() {
            let mut s = 0i32;
            for u in 0..8 {
                s = s.wrapping_add(m[x][u].wrapping_mul(tmp[y][u]));
            }
            *o = clamp_u8((s.wrapping_add(1 << (shift2 - 1)) >> shift2) + 128);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Double-precision reference IDCT.
    fn reference(coefs: &[i16; 64], quant: &[u16; 64]) -> [f64; 64] {
        let mut out = [0.0; 64];
        for y in 0..8 {
            for x in 0..8 {
                let mut s = 0.0;
                for v in 0..8 {
                    for u in 0..8 {
                        let cu = if u == 0 { std::f64::consts::FRAC_1_SQRT_2 } else { 1.0 };
                        let cv = if v == 0 { std::f64::consts::FRAC_1_SQRT_2 } else { 1.0 };
                        let f = coefs[v * 8 + u] as f64 * quant[v * 8 + u] as f64;
                        s += cu * cv * f
                            * (((2 * x + 1) as f64 * u as f64 * std::f64::consts::PI) / 16.0).cos()
                            * (((2 * y + 1) as f64 * v as f64 * std::f64::consts::PI) / 16.0).cos();
                    }
                }
                out[y * 8 + x] = (s / 4.0 + 128.0).clamp(0.0, 255.0);
            }
        }
        out
    }

    #[test]
    fn islow_is_within_one_of_exact() {
        let mut seed = 12345u32;
        for _ in 0..200 {
            let mut coefs = [0i16; 64];
            for (i, c) in coefs.iter_mut().enumerate() {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let range = if i == 0 { 120 } else { 20 >> (i / 16) };
                *c = ((seed >> 16) % (2 * range + 1)) as i16 - range as i16;
            }
            let quant = [4u16; 64];
            let mut out = [0u8; 64];
            idct_8x8::<Portable>(&coefs, &quant, &mut out, 8);
            let mut dispatched = [0u8; 64];
            idct_8x8_row(&coefs, &quant, &mut dispatched, 8, 0, 1);
            assert_eq!(out, dispatched, "portable and AVX2 versions differ");
            let exact = reference(&coefs, &quant);
            for i in 0..64 {
                assert!((out[i] as f64 - exact[i]).abs() <= 1.0, "{} vs {}", out[i], exact[i]);
            }
        }
    }

    #[test]
    fn the_symmetric_kernels_give_the_matrix_product_bits() {
        let r = Reduced::new();
        let mut seed = 777u32;
        for round in 0..2000 {
            let mut coefs = [0i16; 64];
            for (i, c) in coefs.iter_mut().enumerate() {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                // Hostile magnitudes too: the wrapping sums must agree when they overflow.
                let range: i32 = if round % 7 == 0 { 32767 } else if i == 0 { 400 } else { 60 >> (i / 16) };
                *c = ((seed >> 8) as i32 % (2 * range + 1) - range) as i16;
            }
            let mut quant = [0u16; 64];
            for q in quant.iter_mut() {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                *q = 1 + (seed >> 20) as u16 % if round % 7 == 0 { 65535 } else { 40 };
            }
            let (mut fast, mut reference) = ([0u8; 6], [0u8; 6]);
            reduced2(&r.m2, &coefs, &quant, &mut fast, 3);
            reduced_over::<2, 5>(&r.m2, &ACTIVE2, &coefs, &quant, &mut reference, 3);
            assert_eq!(fast, reference, "2x2, round {round}");
            let (mut fast, mut reference) = ([0u8; 20], [0u8; 20]);
            reduced4(&r.m4, &coefs, &quant, &mut fast, 5);
            reduced_over::<4, 7>(&r.m4, &ACTIVE4, &coefs, &quant, &mut reference, 5);
            assert_eq!(fast, reference, "4x4, round {round}");
        }
    }

    #[test]
    fn reduced_dc_is_block_mean() {
        let mut coefs = [0i16; 64];
        coefs[0] = 40; // 40 * 2 / 8 = 10 above mid-grey
        let quant = [2u16; 64];
        let r = Reduced::new();
        for size in [4, 2, 1] {
            let mut out = [0u8; 16];
            r.idct(size, &coefs, &quant, &mut out, 4);
            assert!(out[..size].iter().all(|&v| v == 138), "size {size}: {:?}", out);
        }
    }
}
