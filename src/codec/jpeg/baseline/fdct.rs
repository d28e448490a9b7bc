//! Forward DCT and quantisation of one MCU: block loads (with libjpeg's chroma downsampling),
//! the AAN fDCT in 32-bit floats with the quantisation folded into its output scaling, and
//! rounding to coefficients.
//!
//! Precision: the AAN factorisation (Arai, Agui, Nakajima; libjpeg's jfdctflt.c) in `f32`. The
//! inputs are integers in -128..=127 and every intermediate stays below 2^14 in magnitude, so an
//! `f32` (24-bit mantissa) keeps at least 10 fraction bits where the integer "islow" DCT keeps
//! 13 in its first pass and 2 in its second; the coefficients come out within rounding of the
//! exact DCT, and the files are the size of libjpeg's (checked against cjpeg in the tests). The
//! quantiser divides by `q * aan[u] * aan[v] * 8`, a reciprocal computed once per table, and
//! rounds half up as libjpeg's float path does (`(int)(x + 16384.5) - 16384`).
//!
//! Vectorisation: a block is eight rows of eight `f32` lanes. The first pass transforms columns
//! (every operation combines whole rows, lane by lane), the block is transposed, and the same
//! pass transforms the rows. The coefficients are therefore stored transposed (index
//! `u * 8 + v` for horizontal frequency u, vertical v); the divisor table is stored the same
//! way and the Huffman coder reads in the matching zig-zag order. `fdct_avx2` is the same
//! arithmetic in AVX2 intrinsics (one block row per register), chosen at run time; the plain
//! loops here are the portable version. IEEE arithmetic without fusing, in the same order,
//! gives the same bits on both.

// The constants are libjpeg's jfdctflt.c literals, kept as written (the same f32 values);
// the lane loops index several arrays in step.
#![allow(clippy::excessive_precision, clippy::approx_constant, clippy::needless_range_loop)]

use crate::simd::use_avx2;

/// Samples of one 8x8 block, level-shifted to -128..=127.
type Block = [[f32; 8]; 8];

/// AAN scale factors: 1 and `cos(k pi / 16) * sqrt(2)` for k = 1..7.
const AAN: [f64; 8] = [1.0, 1.387039845, 1.306562965, 1.175875602, 1.0, 0.785694958, 0.541196100, 0.275899379];

/// Reciprocal quantisation steps folded with the AAN output scaling, in transposed order.
#[derive(Clone)]
pub(crate) struct Divisors(pub(super) [f32; 64]);

/// One quantised block.
#[derive(Clone, Copy)]
pub(crate) struct Coefficients {
    /// Coefficients in transposed order (index `u * 8 + v`).
    pub values: [i16; 64],
    /// Bit i set where `values[i]` is not zero.
    pub nonzero: u64,
}

impl Default for Coefficients {
    fn default() -> Self {
        Coefficients { values: [0; 64], nonzero: 0 }
    }
}

impl Divisors {
    /// From a quantisation table in natural order.
    pub(crate) fn new(quant: &[u16; 64]) -> Divisors {
        let mut d = [0f32; 64];
        for v in 0..8 {
            for u in 0..8 {
                d[u * 8 + v] = (1.0 / (quant[v * 8 + u] as f64 * AAN[v] * AAN[u] * 8.0)) as f32;
            }
        }
        Divisors(d)
    }
}

/// The eight-point AAN DCT down each column of `d` (lane i is column i).
#[inline(always)]
fn columns(d: &mut Block) {
    for i in 0..8 {
        let tmp0 = d[0][i] + d[7][i];
        let tmp7 = d[0][i] - d[7][i];
        let tmp1 = d[1][i] + d[6][i];
        let tmp6 = d[1][i] - d[6][i];
        let tmp2 = d[2][i] + d[5][i];
        let tmp5 = d[2][i] - d[5][i];
        let tmp3 = d[3][i] + d[4][i];
        let tmp4 = d[3][i] - d[4][i];
        // Even part.
        let tmp10 = tmp0 + tmp3;
        let tmp13 = tmp0 - tmp3;
        let tmp11 = tmp1 + tmp2;
        let tmp12 = tmp1 - tmp2;
        d[0][i] = tmp10 + tmp11;
        d[4][i] = tmp10 - tmp11;
        let z1 = (tmp12 + tmp13) * 0.707106781;
        d[2][i] = tmp13 + z1;
        d[6][i] = tmp13 - z1;
        // Odd part.
        let tmp10 = tmp4 + tmp5;
        let tmp11 = tmp5 + tmp6;
        let tmp12 = tmp6 + tmp7;
        let z5 = (tmp10 - tmp12) * 0.382683433;
        let z2 = 0.541196100 * tmp10 + z5;
        let z4 = 1.306562965 * tmp12 + z5;
        let z3 = tmp11 * 0.707106781;
        let z11 = tmp7 + z3;
        let z13 = tmp7 - z3;
        d[5][i] = z13 + z2;
        d[3][i] = z13 - z2;
        d[1][i] = z11 + z4;
        d[7][i] = z11 - z4;
    }
}

#[inline(always)]
fn transpose(d: &Block) -> Block {
    let mut t = [[0f32; 8]; 8];
    for r in 0..8 {
        for c in 0..8 {
            t[c][r] = d[r][c];
        }
    }
    t
}

/// fDCT and quantisation of `block` into `out` (transposed order), clamped to the +-1023 an
/// 8-bit baseline file can code.
#[inline(always)]
fn transform(block: &mut Block, divisors: &Divisors, out: &mut Coefficients) {
    columns(block);
    let mut t = transpose(block);
    columns(&mut t);
    let flat = t.as_flattened();
    let mut nonzero = 0u64;
    for i in 0..64 {
        let scaled = flat[i] * divisors.0[i] + 16384.5;
        out.values[i] = ((scaled as i32 - 16384).clamp(-1023, 1023)) as i16;
        nonzero |= ((out.values[i] != 0) as u64) << i;
    }
    out.nonzero = nonzero;
}

/// One MCU row of component planes, `stride` samples apart, and how the MCU is sampled.
pub(crate) struct McuRow<'a> {
    /// Component planes (one for gray, Y Cb Cr otherwise) at full resolution, `mcu_height` rows.
    pub planes: &'a [&'a [u8]],
    /// Samples per plane row.
    pub stride: usize,
    /// Luma blocks per MCU, horizontally and vertically (1 or 2 each).
    pub h: usize,
    /// See `h`.
    pub v: usize,
}

/// Loads the 8x8 block at column `x` of full-resolution `plane`, rows `8 * row`.., level-shifted.
#[inline(always)]
fn load(plane: &[u8], stride: usize, x: usize, row: usize) -> Block {
    let mut b = [[0f32; 8]; 8];
    for (r, out) in b.iter_mut().enumerate() {
        let src = &plane[(8 * row + r) * stride + x..][..8];
        for c in 0..8 {
            out[c] = src[c] as f32 - 128.0;
        }
    }
    b
}

/// Loads a chroma block downsampled `h` x `v` from the full-resolution samples at column `x`:
/// libjpeg's `h2v1_downsample` and `h2v2_downsample`, with their alternating rounding bias.
#[inline(always)]
fn load_downsampled(plane: &[u8], stride: usize, x: usize, h: usize, v: usize) -> Block {
    let mut b = [[0f32; 8]; 8];
    match (h, v) {
        (2, 2) => {
            for (r, out) in b.iter_mut().enumerate() {
                let top = &plane[2 * r * stride + x..][..16];
                let bottom = &plane[(2 * r + 1) * stride + x..][..16];
                for c in 0..8 {
                    let sum = top[2 * c] as u32 + top[2 * c + 1] as u32 + bottom[2 * c] as u32 + bottom[2 * c + 1] as u32;
                    out[c] = ((sum + 1 + (c as u32 & 1)) >> 2) as f32 - 128.0;
                }
            }
        }
        (2, 1) => {
            for (r, out) in b.iter_mut().enumerate() {
                let src = &plane[r * stride + x..][..16];
                for c in 0..8 {
                    let sum = src[2 * c] as u32 + src[2 * c + 1] as u32;
                    out[c] = ((sum + (c as u32 & 1)) >> 1) as f32 - 128.0;
                }
            }
        }
        _ => return load(plane, stride, x, 0),
    }
    b
}

/// Transforms MCU `mx` of `row` into `blocks`: the luma blocks in raster order, then Cb and
/// Cr (one block each) for colour. `divisors` are luminance's and chrominance's.
pub(crate) fn transform_mcu(row: &McuRow<'_>, mx: usize, divisors: &[Divisors; 2], blocks: &mut [Coefficients]) {
    #[cfg(target_arch = "x86_64")]
    if use_avx2() {
        // SAFETY: the CPU supports AVX2 (checked by `use_avx2`).
        return unsafe { super::fdct_avx2::transform_mcu(row, mx, divisors, blocks) };
    }
    transform_mcu_portable(row, mx, divisors, blocks)
}

/// [`transform_mcu`] in plain loops (SSE2 on x86-64).
fn transform_mcu_portable(row: &McuRow<'_>, mx: usize, divisors: &[Divisors; 2], blocks: &mut [Coefficients]) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The DCT-II as defined in T.81 A.3.3, in f64, quantised by `q` with rounding.
    fn reference(samples: &[[f32; 8]; 8], q: &[u16; 64]) -> [i16; 64] {
        let c = |k: usize| if k == 0 { std::f64::consts::FRAC_1_SQRT_2 } else { 1.0 };
        let mut out = [0i16; 64];
        for v in 0..8 {
            for u in 0..8 {
                let mut s = 0.0;
                for y in 0..8 {
                    for x in 0..8 {
                        s += samples[y][x] as f64
                            * (((2 * x + 1) * u) as f64 * std::f64::consts::PI / 16.0).cos()
                            * (((2 * y + 1) * v) as f64 * std::f64::consts::PI / 16.0).cos();
                    }
                }
                let coefficient = 0.25 * c(u) * c(v) * s / q[v * 8 + u] as f64;
                // Stored transposed, like the fast path.
                out[u * 8 + v] = coefficient.round() as i16;
            }
        }
        out
    }

    #[test]
    fn matches_the_exact_dct_within_rounding() {
        let mut seed = 12345u32;
        for quality in [50u8, 85, 100] {
            let q = super::super::tables::quant_table(0, quality);
            let divisors = Divisors::new(&q);
            for _ in 0..50 {
                let mut block = [[0f32; 8]; 8];
                for v in block.as_flattened_mut() {
                    seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
                    *v = ((seed >> 16) % 256) as f32 - 128.0;
                }
                let expected = reference(&block, &q);
                let mut out = Coefficients::default();
                transform(&mut block, &divisors, &mut out);
                for i in 0..64 {
                    let c = out.values[i];
                    assert!((c - expected[i]).abs() <= 1, "q{quality} coefficient {i}: {c} vs {}", expected[i]);
                    assert_eq!(out.nonzero >> i & 1 == 1, c != 0);
                }
            }
        }
    }
}
