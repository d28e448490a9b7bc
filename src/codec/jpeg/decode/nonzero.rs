//! Which coefficients of a block are non-zero, as a 64-bit mask in zigzag order: the progressive
//! refinement scans' end-of-band runs visit only those (see `entropy::ScanCursor::ac_refine`).

use super::tables::ZIGZAG;

/// `ZIGZAG` inverted: the zigzag index of each natural-order position.
const NATURAL_TO_ZIGZAG: [u8; 64] = {
    let mut inverse = [0u8; 64];
    let mut k = 0;
    while k < 64 {
        inverse[ZIGZAG[k] as usize] = k as u8;
        k += 1;
    }
    inverse
};

/// Bit `k` set when the coefficient at zigzag index `k` of `block` (natural order) is non-zero.
///
/// Design note: a progressive refinement scan spends most of its time in end-of-band runs,
/// where each block's non-zero coefficients take one correction bit each, in zigzag order.
/// Walking the band position by position costs ~6 instructions for each of up to 63 places;
/// the mask costs a 64-lane compare (SSE2) plus a few instructions per non-zero coefficient,
/// which are few in the high bands where the runs are long.
#[inline(always)]
pub(crate) fn nonzero_zigzag(block: &[i16; 64]) -> u64 {
    let mut natural = nonzero_natural(block);
    let mut zigzag = 0u64;
    while natural != 0 {
        zigzag |= 1u64 << NATURAL_TO_ZIGZAG[natural.trailing_zeros() as usize];
        natural &= natural - 1;
    }
    zigzag
}

/// Bit `n` set when `block[n]` is non-zero.
#[inline(always)]
fn nonzero_natural(block: &[i16; 64]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of the x86_64 baseline; the eight unaligned 16-byte loads stay
        // inside the 128-byte block.
        unsafe {
            let zero = _mm_setzero_si128();
            let at = block.as_ptr() as *const __m128i;
            let mut mask = 0u64;
            for quarter in 0..4 {
                let lo = _mm_cmpeq_epi16(_mm_loadu_si128(at.add(2 * quarter)), zero);
                let hi = _mm_cmpeq_epi16(_mm_loadu_si128(at.add(2 * quarter + 1)), zero);
                let zeros = _mm_movemask_epi8(_mm_packs_epi16(lo, hi)) as u32 as u64;
                mask |= (!zeros & 0xFFFF) << (16 * quarter);
            }
            mask
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        block.iter().enumerate().fold(0u64, |mask, (n, &c)| mask | (((c != 0) as u64) << n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonzero_zigzag_marks_exactly_the_nonzero_coefficients() {
        let mut state = 12345u32;
        for density in [0u32, 1, 4, 16, 64, 256] {
            for _ in 0..200 {
                let mut block = [0i16; 64];
                for c in block.iter_mut() {
                    state = state.wrapping_mul(1664525).wrapping_add(1013904223);
                    if (state >> 8) % 256 < density {
                        *c = ((state >> 16) as i16) | 1; // non-zero, either sign, any size
                    }
                }
                let expected = (0..64).fold(0u64, |m, k| m | (((block[ZIGZAG[k] as usize] != 0) as u64) << k));
                assert_eq!(nonzero_zigzag(&block), expected);
            }
        }
    }
}
