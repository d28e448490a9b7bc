//! From raw PNG samples to stripflow pixels: palette lookup, sub-byte unpacking, `tRNS` to alpha,
//! big-endian to native-endian 16-bit.
//!
//! The rules are those of the png crate with `Transformations::EXPAND` (its decoder is the test
//! oracle): palette to RGB8, or RGBA8 when a `tRNS` chunk exists (indices past `tRNS` are opaque,
//! indices past the palette are opaque black, a `tRNS` longer than the palette is ignored); gray of
//! 1, 2 or 4 bits to 8 bits, scaled by `255 / (2^bits - 1)`; a `tRNS` colour key on gray or RGB
//! adds an alpha channel (0 where the pixel equals the key, opaque elsewhere; below 16 bits the key
//! is the low byte of each 16-bit key sample). The expander writes pixel `k` of a raw row to
//! output pixel `x0 + k * dx`, so an Adam7 pass row is scattered into the image row directly.

use crate::error::{Error, Result};
use crate::pixel::{BitDepth, ColorType, PixelFormat};

/// The colour types of PNG (IHDR byte 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PngColor {
    /// 0: gray.
    Gray,
    /// 2: RGB.
    Rgb,
    /// 3: palette indices.
    Palette,
    /// 4: gray and alpha.
    GrayAlpha,
    /// 6: RGBA.
    Rgba,
}

impl PngColor {
    /// Samples per pixel in the file.
    pub fn samples(self) -> usize {
        match self {
            PngColor::Gray | PngColor::Palette => 1,
            PngColor::GrayAlpha => 2,
            PngColor::Rgb => 3,
            PngColor::Rgba => 4,
        }
    }

    /// The name `stripflow info` prints.
    pub fn name(self) -> &'static str {
        match self {
            PngColor::Gray => "gray",
            PngColor::Rgb => "rgb",
            PngColor::Palette => "palette",
            PngColor::GrayAlpha => "gray-alpha",
            PngColor::Rgba => "rgba",
        }
    }

    /// From the png crate's colour type.
    pub fn from_png(c: png::ColorType) -> PngColor {
        match c {
            png::ColorType::Grayscale => PngColor::Gray,
            png::ColorType::Rgb => PngColor::Rgb,
            png::ColorType::Indexed => PngColor::Palette,
            png::ColorType::GrayscaleAlpha => PngColor::GrayAlpha,
            png::ColorType::Rgba => PngColor::Rgba,
        }
    }
}

/// The pixel format the decoder emits for a file of `color` at `bits`, with or without `tRNS`.
pub(crate) fn output_format(color: PngColor, bits: u8, trns: bool) -> PixelFormat {
    let depth = if bits == 16 { BitDepth::Sixteen } else { BitDepth::Eight };
    let ct = match color {
        PngColor::Gray if trns => ColorType::GrayAlpha,
        PngColor::Gray => ColorType::Gray,
        PngColor::Rgb | PngColor::Palette if trns => ColorType::Rgba,
        PngColor::Rgb | PngColor::Palette => ColorType::Rgb,
        PngColor::GrayAlpha => ColorType::GrayAlpha,
        PngColor::Rgba => ColorType::Rgba,
    };
    PixelFormat::new(ct, depth)
}

/// Bits per pixel in the file.
pub(crate) fn bits_per_pixel(color: PngColor, bits: u8) -> usize {
    color.samples() * bits as usize
}

/// Bytes in a raw (unfiltered, filter byte excluded) row of `width` pixels.
pub(crate) fn raw_row_bytes(color: PngColor, bits: u8, width: u64) -> u64 {
    (width * bits_per_pixel(color, bits) as u64).div_ceil(8)
}

/// How raw samples become output pixels.
#[derive(Clone)]
enum Kind {
    /// Same layout, 8-bit: copy pixels.
    Copy8,
    /// Same layout, 16-bit: copy samples, swapping big-endian to native.
    Copy16,
    /// Gray below 8 bits: unpack and scale; optional colour key (alpha added when present).
    GrayLow { bits: u8, key: Option<u8> },
    /// Gray or RGB at 8 bits with a colour key: add alpha.
    Key8 { key: [u8; 3] },
    /// Gray or RGB at 16 bits with a colour key (big-endian bytes): add alpha.
    Key16 { key: [u8; 6] },
    /// Palette of 1..8 bits: look up RGBA and write RGB or RGBA.
    Palette { bits: u8, table: Box<[[u8; 4]; 256]>, alpha: bool },
}

/// Converts raw rows of one PNG into rows of its output format.
#[derive(Clone)]
pub(crate) struct Expander {
    kind: Kind,
    /// Samples per pixel in the file.
    samples: usize,
    /// Bytes per output pixel.
    out_bpp: usize,
}

impl Expander {
    /// An expander for a file of `color` at `bits` bits, with its `PLTE` and `tRNS` data
    /// (as the png crate stores them: `tRNS` for gray/RGB below 16 bits already reduced to bytes).
    pub fn new(color: PngColor, bits: u8, palette: Option<&[u8]>, trns: Option<&[u8]>) -> Result<Self> {
        let samples = color.samples();
        let out_bpp = output_format(color, bits, trns.is_some()).bytes_per_pixel();
        let kind = match color {
            PngColor::Palette => {
                let palette = palette.ok_or_else(|| Error::format("PNG", "palette image without PLTE"))?;
                let trns = trns.unwrap_or(&[]);
                let trns = if trns.len() <= palette.len() / 3 { trns } else { &[] };
                let mut table = Box::new([[0u8, 0, 0, 0xFF]; 256]);
                for (entry, rgb) in table.iter_mut().zip(palette.chunks_exact(3)) {
                    entry[..3].copy_from_slice(rgb);
                }
                for (entry, &a) in table.iter_mut().zip(trns) {
                    entry[3] = a;
                }
                Kind::Palette { bits, table, alpha: out_bpp == 4 }
            }
            PngColor::Gray if bits < 8 => Kind::GrayLow { bits, key: trns.and_then(|t| t.first().copied()) },
            PngColor::Gray | PngColor::Rgb if trns.is_some() => {
                let t = trns.unwrap_or(&[]);
                let need = samples * (bits as usize / 8);
                if t.len() < need {
                    return Err(Error::format("PNG", "tRNS chunk too short"));
                }
                if bits == 16 {
                    let mut key = [0u8; 6];
                    key[..need].copy_from_slice(&t[..need]);
                    Kind::Key16 { key }
                } else {
                    let mut key = [0u8; 3];
                    key[..need].copy_from_slice(&t[..need]);
                    Kind::Key8 { key }
                }
            }
            _ if bits == 16 => Kind::Copy16,
            _ => Kind::Copy8,
        };
        Ok(Expander { kind, samples, out_bpp })
    }

    /// Bytes per output pixel.
    #[cfg(test)]
    pub fn out_bpp(&self) -> usize {
        self.out_bpp
    }

    /// Writes the `count` pixels of raw row `raw` to output pixels `x0, x0 + dx, ...` of `out`.
    ///
    /// `raw` must hold at least `count` pixels and `out` at least `x0 + (count - 1) * dx + 1`.
    pub fn expand(&self, raw: &[u8], out: &mut [u8], x0: usize, dx: usize, count: usize) {
        let obpp = self.out_bpp;
        let stride = dx * obpp;
        let mut o = x0 * obpp;
        match &self.kind {
            Kind::Copy8 => {
                if dx == 1 {
                    out[o..o + count * obpp].copy_from_slice(&raw[..count * obpp]);
                } else {
                    for px in raw.chunks_exact(obpp).take(count) {
                        out[o..o + obpp].copy_from_slice(px);
                        o += stride;
                    }
                }
            }
            Kind::Copy16 => {
                for px in raw.chunks_exact(obpp).take(count) {
                    for (d, s) in out[o..o + obpp].chunks_exact_mut(2).zip(px.chunks_exact(2)) {
                        d.copy_from_slice(&u16::from_be_bytes([s[0], s[1]]).to_ne_bytes());
                    }
                    o += stride;
                }
            }
            Kind::GrayLow { bits, key } => {
                let bits = *bits as usize;
                let scale = (255 / ((1u16 << bits) - 1)) as u8;
                let mask = ((1u16 << bits) - 1) as u8;
                for k in 0..count {
                    let bit = k * bits;
                    let v = (raw[bit / 8] >> (8 - bits - bit % 8)) & mask;
                    out[o] = v * scale;
                    if let Some(key) = key {
                        out[o + 1] = if v == *key { 0 } else { 0xFF };
                    }
                    o += stride;
                }
            }
            Kind::Key8 { key } => {
                let s = self.samples;
                for px in raw.chunks_exact(s).take(count) {
                    out[o..o + s].copy_from_slice(px);
                    out[o + s] = if px == &key[..s] { 0 } else { 0xFF };
                    o += stride;
                }
            }
            Kind::Key16 { key } => {
                let s = self.samples * 2;
                for px in raw.chunks_exact(s).take(count) {
                    for (d, b) in out[o..o + s].chunks_exact_mut(2).zip(px.chunks_exact(2)) {
                        d.copy_from_slice(&u16::from_be_bytes([b[0], b[1]]).to_ne_bytes());
                    }
                    let a: u16 = if px == &key[..s] { 0 } else { 0xFFFF };
                    out[o + s..o + s + 2].copy_from_slice(&a.to_ne_bytes());
                    o += stride;
                }
            }
            Kind::Palette { bits, table, alpha } => {
                let bits = *bits as usize;
                let mask = ((1u16 << bits) - 1) as u8;
                let n = if *alpha { 4 } else { 3 };
                for k in 0..count {
                    let bit = k * bits;
                    let i = (raw[bit / 8] >> (8 - bits - bit % 8)) & mask;
                    out[o..o + n].copy_from_slice(&table[i as usize][..n]);
                    o += stride;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gray_two_bit_scales_and_keys() {
        let e = Expander::new(PngColor::Gray, 2, None, Some(&[2])).unwrap();
        let mut out = [0u8; 8];
        // Samples 0, 1, 2, 3.
        e.expand(&[0b00_01_10_11], &mut out, 0, 1, 4);
        assert_eq!(out, [0, 255, 85, 255, 170, 0, 255, 255]);
    }

    #[test]
    fn palette_scatter_with_stride() {
        let pal = [10, 11, 12, 20, 21, 22];
        let e = Expander::new(PngColor::Palette, 1, Some(&pal), Some(&[7])).unwrap();
        assert_eq!(e.out_bpp(), 4);
        let mut out = [9u8; 4 * 5];
        e.expand(&[0b0110_0000], &mut out, 1, 2, 2);
        assert_eq!(&out[4..8], &[10, 11, 12, 7]);
        assert_eq!(&out[12..16], &[20, 21, 22, 255]);
        assert_eq!(&out[0..4], &[9, 9, 9, 9]);
        // An index past the palette is opaque black.
        let e = Expander::new(PngColor::Palette, 8, Some(&pal), None).unwrap();
        let mut out = [9u8; 3];
        e.expand(&[200], &mut out, 0, 1, 1);
        assert_eq!(out, [0, 0, 0]);
    }

    #[test]
    fn sixteen_bit_becomes_native_endian() {
        let e = Expander::new(PngColor::Rgb, 16, None, Some(&[0, 1, 0, 2, 0, 3])).unwrap();
        let mut out = [0u8; 16];
        e.expand(&[0, 1, 0, 2, 0, 3, 1, 0, 0, 0, 0, 0], &mut out, 0, 1, 2);
        let s: Vec<u16> = out.chunks_exact(2).map(|c| u16::from_ne_bytes([c[0], c[1]])).collect();
        assert_eq!(s, [1, 2, 3, 0, 256, 0, 0, 0xFFFF]);
    }
}
