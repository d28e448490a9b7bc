//! The tables a baseline file is written with: T.81 Annex K quantisation tables scaled to a
//! quality as libjpeg scales them (`jpeg_quality_scaling`, forced to 8-bit entries), and
//! encoding tables (code and length per symbol) built from the Annex K.3 Huffman tables, which
//! the decoder already holds for Motion-JPEG files.

use crate::codec::jpeg::decode::tables::default_table;

/// T.81 Table K.1: luminance quantisation, natural (row-major) order.
const LUMA_QUANT: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17,
    22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64,
    78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/// T.81 Table K.2: chrominance quantisation, natural order.
const CHROMA_QUANT: [u16; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// The quantisation table `id` (0 luminance, 1 chrominance) at `quality` 1..=100, natural order,
/// entries 1..=255: libjpeg's percentage scaling (5000 / q below 50, 200 - 2q from 50) and
/// rounding, so a file at quality q carries the same tables as `cjpeg -quality q`.
pub(crate) fn quant_table(id: usize, quality: u8) -> [u16; 64] {
    let quality = quality.clamp(1, 100) as u32;
    let scale = if quality < 50 { 5000 / quality } else { 200 - 2 * quality };
    let base = if id == 0 { &LUMA_QUANT } else { &CHROMA_QUANT };
    base.map(|b| ((b as u32 * scale + 50) / 100).clamp(1, 255) as u16)
}

/// A Huffman table for encoding: code and code length per symbol (length 0: no code).
pub(crate) struct EncodeTable {
    /// Code of each symbol, right-aligned.
    pub code: [u32; 256],
    /// Length of each symbol's code in bits.
    pub size: [u32; 256],
}

impl EncodeTable {
    /// The Annex K.3 table of class `ac` for table `id` (0 luminance, 1 chrominance), with its
    /// code counts and symbols for the DHT segment.
    pub(crate) fn annex_k(ac: bool, id: usize) -> (EncodeTable, &'static [u8; 16], &'static [u8]) {
        let (counts, symbols) = default_table(ac, id);
        (EncodeTable::build(counts, symbols), counts, symbols)
    }

    /// Canonical codes (T.81 Annex C): symbols in order, codes counting up within a length and
    /// doubling from one length to the next.
    fn build(counts: &[u8; 16], symbols: &[u8]) -> EncodeTable {
        let mut table = EncodeTable { code: [0; 256], size: [0; 256] };
        let mut code = 0u32;
        let mut next = symbols.iter();
        for (length, &count) in (1..=16u32).zip(counts) {
            for _ in 0..count {
                let symbol = *next.next().expect("counts match the symbols") as usize;
                table.code[symbol] = code;
                table.size[symbol] = length;
                code += 1;
            }
            code <<= 1;
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_scaling_matches_libjpeg() {
        // cjpeg -quality 85: luminance DC 5, chrominance DC 5; quality 50 is the table itself.
        assert_eq!(quant_table(0, 50), LUMA_QUANT);
        assert_eq!(quant_table(0, 85)[0], 5);
        assert_eq!(quant_table(1, 85)[63], 30);
        assert_eq!(quant_table(0, 100), [1; 64]);
        assert_eq!(quant_table(1, 1), [255; 64]);
    }

    #[test]
    fn codes_are_prefix_free_and_complete() {
        for (ac, id) in [(false, 0), (false, 1), (true, 0), (true, 1)] {
            let (table, counts, symbols) = EncodeTable::annex_k(ac, id);
            assert_eq!(counts.iter().map(|&c| c as usize).sum::<usize>(), symbols.len());
            let codes: Vec<(u32, u32)> = symbols.iter().map(|&s| (table.code[s as usize], table.size[s as usize])).collect();
            for (i, &(a, la)) in codes.iter().enumerate() {
                assert!(la > 0 && la <= 16);
                for &(b, lb) in &codes[i + 1..] {
                    let l = la.min(lb);
                    assert_ne!(a >> (la - l), b >> (lb - l), "a code is a prefix of another");
                }
            }
        }
    }
}
