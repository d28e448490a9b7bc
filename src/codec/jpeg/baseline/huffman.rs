//! Huffman coding of quantised blocks into entropy-coded bytes.
//!
//! The bit writer gathers codes in a 64-bit accumulator and moves eight bytes at a time to an
//! output buffer; a word without an `0xFF` byte (found with one bit trick) is copied whole, one
//! with `0xFF` bytes gets its stuffing zero after each. A code and its value bits are put in one
//! call (at most 16 + 11 bits). A block is coded from a 64-bit mask of its non-zero coefficients
//! in zig-zag order (the transform's mask in storage order, permuted by table lookups), so the
//! work is proportional to the coefficients that are not zero: each run is a `trailing_zeros`.
//!
//! The output buffer has a fixed capacity: the caller drains it after each MCU once it holds
//! its drain threshold (at most [`BitWriter::DRAIN_AT`] bytes), and an MCU (at most six blocks of 64 codes of 27 bits, all
//! stuffed) always fits in the margin above that, so the buffer never grows.

use super::fdct::Coefficients;
use super::tables::EncodeTable;
use crate::codec::jpeg::decode::tables::ZIGZAG;

/// `TRANSPOSED_ZIGZAG[k]`: where the k-th zig-zag coefficient sits in a transposed block
/// (index `u * 8 + v`, as the fDCT stores it).
const TRANSPOSED_ZIGZAG: [u8; 64] = {
    let mut t = [0u8; 64];
    let mut k = 0;
    while k < 64 {
        let n = ZIGZAG[k];
        t[k] = (n % 8) * 8 + n / 8;
        k += 1;
    }
    t
};

/// `ZIGZAG_BITS[j][n]`: the zig-zag positions, as a mask, of the coefficients `4j..4j + 4` of
/// a transposed block that the nibble `n` marks. Sixteen lookups turn a block's non-zero mask
/// into zig-zag order without reordering its 64 coefficients.
const ZIGZAG_BITS: [[u64; 16]; 16] = {
    let mut position = [0u8; 64];
    let mut k = 0;
    while k < 64 {
        position[TRANSPOSED_ZIGZAG[k] as usize] = k as u8;
        k += 1;
    }
    let mut t = [[0u64; 16]; 16];
    let mut j = 0;
    while j < 16 {
        let mut n = 0;
        while n < 16 {
            let mut b = 0;
            while b < 4 {
                if n >> b & 1 == 1 {
                    t[j][n] |= 1 << position[4 * j + b];
                }
                b += 1;
            }
            n += 1;
        }
        j += 1;
    }
    t
};

/// Bit writer with byte stuffing into a bounded buffer.
pub(crate) struct BitWriter {
    /// Pending bits, the newest at the bottom; only the low `bits` are meaningful.
    acc: u64,
    /// How many bits of `acc` are pending (0..=63 between calls).
    bits: u32,
    /// Stuffed bytes not yet handed to the writer.
    pub(crate) out: Vec<u8>,
}

impl BitWriter {
    /// Bytes in the buffer after which the caller drains it.
    pub(crate) const DRAIN_AT: usize = 64 * 1024;
    /// Room above [`Self::DRAIN_AT`]: the worst MCU (6 x 64 codes of 27 bits = 1296 bytes),
    /// doubled for stuffing, plus the final flush.
    pub(crate) const MARGIN: usize = 4096;
    /// The buffer's capacity.
    pub(crate) const CAPACITY: usize = Self::DRAIN_AT + Self::MARGIN;

    /// A writer over `out`, which must have [`Self::MARGIN`] bytes of capacity above the caller's
    /// drain threshold.
    pub(crate) fn new(out: Vec<u8>) -> BitWriter {
        debug_assert!(out.capacity() >= Self::MARGIN);
        BitWriter { acc: 0, bits: 0, out }
    }

    /// Appends the low `size` (1..=32) bits of `code`.
    #[inline(always)]
    fn put(&mut self, code: u32, size: u32) {
        let code = code as u64;
        if self.bits + size < 64 {
            self.acc = (self.acc << size) | code;
            self.bits += size;
        } else {
            // Fill the accumulator to 64 bits, emit it, keep the rest of `code`.
            let rest = self.bits + size - 64;
            let word = if self.bits == 0 { code } else { (self.acc << (64 - self.bits)) | (code >> rest) };
            self.emit(word);
            self.acc = code;
            self.bits = rest;
        }
    }

    /// Appends the eight bytes of `word`, stuffing a zero after each `0xFF`.
    #[inline(always)]
    fn emit(&mut self, word: u64) {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        // A byte of `word` is 0xFF iff that byte of `!word` is zero.
        let inverted = !word;
        if inverted.wrapping_sub(ONES) & word & HIGHS == 0 {
            self.out.extend_from_slice(&word.to_be_bytes());
        } else {
            for byte in word.to_be_bytes() {
                self.out.push(byte);
                if byte == 0xFF {
                    self.out.push(0);
                }
            }
        }
    }

    /// Pads the last byte with one bits (T.81 F.1.2.3) and emits what is pending.
    pub(crate) fn finish(&mut self) {
        let pad = (8 - self.bits % 8) % 8;
        if pad > 0 {
            self.put((1 << pad) - 1, pad);
        }
        let bytes = self.bits / 8;
        for i in (0..bytes).rev() {
            let byte = (self.acc >> (8 * i)) as u8;
            self.out.push(byte);
            if byte == 0xFF {
                self.out.push(0);
            }
        }
        self.bits = 0;
    }

    /// Codes `block` (quantised, transposed order): the DC difference from `previous_dc`, then
    /// the AC run-lengths, with `dc` and `ac` tables.
    #[inline(always)]
    pub(crate) fn block(&mut self, block: &Coefficients, previous_dc: &mut i16, dc: &EncodeTable, ac: &EncodeTable) {
        let mut nonzero = 0u64;
        for (j, table) in ZIGZAG_BITS.iter().enumerate() {
            nonzero |= table[(block.nonzero >> (4 * j) & 15) as usize];
        }
        let values = &block.values;
        let diff = values[0] as i32 - *previous_dc as i32;
        *previous_dc = values[0];
        let (size, value) = magnitude(diff);
        self.put((dc.code[size as usize] << size) | value, dc.size[size as usize] + size);

        let mut ac_mask = nonzero & !1;
        let mut last = 0u32;
        while ac_mask != 0 {
            let k = ac_mask.trailing_zeros();
            let mut run = k - last - 1;
            while run >= 16 {
                self.put(ac.code[0xF0], ac.size[0xF0]);
                run -= 16;
            }
            let (size, value) = magnitude(values[TRANSPOSED_ZIGZAG[k as usize] as usize] as i32);
            let symbol = ((run << 4) | size) as usize;
            self.put((ac.code[symbol] << size) | value, ac.size[symbol] + size);
            last = k;
            ac_mask &= ac_mask - 1;
        }
        if last != 63 {
            self.put(ac.code[0], ac.size[0]);
        }
    }
}

/// T.81 F.1.2.1: the size category of `v` and its value bits (negative values as `v - 1`).
#[inline(always)]
fn magnitude(v: i32) -> (u32, u32) {
    let sign = v >> 31;
    let abs = ((v ^ sign) - sign) as u32;
    let size = 32 - abs.leading_zeros();
    let value = ((v + sign) as u32) & ((1u32 << size) - 1);
    (size, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magnitude_follows_the_standard() {
        assert_eq!(magnitude(0), (0, 0));
        assert_eq!(magnitude(1), (1, 1));
        assert_eq!(magnitude(-1), (1, 0));
        assert_eq!(magnitude(-3), (2, 0));
        assert_eq!(magnitude(5), (3, 5));
        assert_eq!(magnitude(-1023), (10, 0));
        assert_eq!(magnitude(2047), (11, 2047));
    }

    #[test]
    fn stuffs_ff_bytes_and_pads_with_ones() {
        let mut w = BitWriter::new(Vec::with_capacity(BitWriter::CAPACITY));
        // 0xFF, then 0x12 twice over a word boundary, then 3 bits 101.
        for _ in 0..8 {
            w.put(0xFF, 8);
        }
        w.put(0x1212, 16);
        w.put(0b101, 3);
        w.finish();
        let mut expected = Vec::new();
        for _ in 0..8 {
            expected.extend_from_slice(&[0xFF, 0]);
        }
        expected.extend_from_slice(&[0x12, 0x12, 0b1011_1111]);
        assert_eq!(w.out, expected);
    }
}
