//! sRGB transfer function and its tables, for linear-light resizing.
//!
//! Working values are in the sample range (0..=255 or 0..=65535) whether gamma-encoded or
//! linear. Decoding uses a table of every input code (256 or 65536 `f32`s). Encoding to 8 bits
//! uses a table indexed by the linear value quantised to 16 bits (65536 bytes), fine enough that
//! the result is the correctly rounded code within a small fraction of a level; encoding to 16 bits
//! evaluates the function per sample (exact, slower: linear light is an opt-in).

/// sRGB code value in 0..=1 to linear light in 0..=1.
pub(crate) fn srgb_to_linear(v: f64) -> f64 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

/// Linear light in 0..=1 to sRGB code value in 0..=1.
pub(crate) fn linear_to_srgb(v: f64) -> f64 {
    if v <= 0.0031308 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

/// Size of the 8-bit encoding table: linear values quantised to 16 bits.
const ENCODE_STEPS: usize = 65536;

/// The tables of one resize stage.
#[derive(Debug, Clone)]
pub(crate) struct GammaTables {
    /// Linear value (in the sample range) of every input code.
    pub decode: Vec<f32>,
    /// 8-bit code of every 16-bit-quantised linear value (empty for 16-bit output).
    pub encode8: Vec<u8>,
}

impl GammaTables {
    /// Tables for samples of `bits` bits (8 or 16).
    pub fn new(bits: u32) -> Self {
        let codes = 1usize << bits;
        let max = (codes - 1) as f64;
        let decode = (0..codes).map(|c| (srgb_to_linear(c as f64 / max) * max) as f32).collect();
        let encode8 = if bits == 8 {
            (0..ENCODE_STEPS)
                .map(|i| (linear_to_srgb(i as f64 / (ENCODE_STEPS - 1) as f64) * 255.0).round() as u8)
                .collect()
        } else {
            Vec::new()
        };
        GammaTables { decode, encode8 }
    }

    /// Heap bytes the tables for `bits`-bit samples take.
    pub fn bytes_for(bits: u32) -> usize {
        (1usize << bits) * 4 + if bits == 8 { ENCODE_STEPS } else { 0 }
    }

    /// Heap bytes held.
    pub fn bytes(&self) -> usize {
        self.decode.capacity() * 4 + self.encode8.capacity()
    }

    /// Encodes a linear working value (in the sample range) to an 8-bit code.
    #[inline]
    pub fn encode_u8(&self, v: f32) -> u8 {
        let i = (v * ((ENCODE_STEPS - 1) as f32 / 255.0) + 0.5) as usize;
        self.encode8[i.min(ENCODE_STEPS - 1)]
    }

    /// Encodes a linear working value (in the sample range) to a 16-bit code.
    #[inline]
    pub fn encode_u16(&self, v: f32) -> u16 {
        let x = (v / 65535.0).clamp(0.0, 1.0) as f64;
        (linear_to_srgb(x) * 65535.0 + 0.5) as u16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let t = GammaTables::new(8);
        for c in 0..=255u8 {
            assert_eq!(t.encode_u8(t.decode[c as usize]), c);
        }
        let t = GammaTables::new(16);
        for c in (0..=65535u16).step_by(97) {
            assert_eq!(t.encode_u16(t.decode[c as usize]), c);
        }
        assert_eq!(GammaTables::new(8).bytes(), GammaTables::bytes_for(8));
        assert_eq!(GammaTables::new(16).bytes(), GammaTables::bytes_for(16));
    }
}
