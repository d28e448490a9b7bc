//! The baseline encoder's kernels, for the criterion benchmarks (`benches/jpeg_encode.rs`):
//! not a stable interface.

use super::fdct::{transform_mcu, Coefficients, Divisors, McuRow};
use super::huffman::BitWriter;
use super::tables::{quant_table, EncodeTable};

/// Interleaved RGB to Y, Cb and Cr planes (libjpeg's arithmetic).
pub fn rgb_to_ycbcr(rgb: &[u8], y: &mut [u8], cb: &mut [u8], cr: &mut [u8]) {
    super::color::rgb_to_ycbcr(rgb, y, cb, cr)
}

/// Blocks of a gray MCU row, transformed and quantised, ready to be Huffman-coded.
pub struct Blocks(Vec<Coefficients>);

/// fDCT and quantisation (luminance table at `quality`) of every block of the 8-row `plane`
/// (`stride` samples per row, a multiple of 8); appends them to `out`, cleared first.
pub fn fdct_quantise(plane: &[u8], stride: usize, quality: u8, out: &mut Blocks) {
    let divisors = [Divisors::new(&quant_table(0, quality)), Divisors::new(&quant_table(1, quality))];
    let planes = [plane];
    let row = McuRow { planes: &planes, stride, h: 1, v: 1 };
    out.0.clear();
    for mx in 0..stride / 8 {
        let mut block = [Coefficients::default()];
        transform_mcu(&row, mx, &divisors, &mut block);
        out.0.push(block[0]);
    }
}

impl Blocks {
    /// No blocks yet.
    pub fn new() -> Blocks {
        Blocks(Vec::new())
    }
}

impl Default for Blocks {
    fn default() -> Self {
        Blocks::new()
    }
}

/// Huffman-codes `blocks` with the luminance tables; returns the coded length in bytes.
pub fn huffman(blocks: &Blocks) -> usize {
    let (dc, _, _) = EncodeTable::annex_k(false, 0);
    let (ac, _, _) = EncodeTable::annex_k(true, 0);
    let mut bits = BitWriter::new(Vec::with_capacity(BitWriter::CAPACITY));
    let mut previous = 0;
    let mut total = 0;
    for block in &blocks.0 {
        bits.block(block, &mut previous, &dc, &ac);
        if bits.out.len() >= BitWriter::DRAIN_AT {
            total += bits.out.len();
            bits.out.clear();
        }
    }
    bits.finish();
    total + bits.out.len()
}
