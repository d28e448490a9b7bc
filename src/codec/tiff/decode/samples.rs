//! Stored samples to output pixels: the horizontal predictor undone on a decompressed row, and a
//! row of stored samples (one slice per plane, any of the layouts the decoder reads) converted to
//! the decoder's pixel format.
//!
//! Conversions: gray below 8 bits scaled to 8 bits (MinIsWhite inverted); palette indices through
//! the ColorMap (16-bit entries, the high byte kept, as libtiff does); CMYK ink amounts to RGB
//! (`R = (255 - C)(255 - K) / 255`, 16-bit inks taken at their high byte) or kept as inks for a
//! colour stage with the file's profile; associated (premultiplied) alpha undone; 16-bit samples
//! from the file's byte order to native. The common layouts (8-bit gray, RGB and RGBA in one
//! plane, unassociated alpha, and their 16-bit forms) are copied without the per-sample path.

use super::image::{Color, TiffImage};
use crate::pixel::{BitDepth, PixelFormat};

/// Undoes the horizontal predictor (2) on one decompressed row of a chunk: `row` holds pixels of
/// `samples` samples of `bits` (8 or 16) bits, in the file's byte order.
pub(crate) fn undo_predictor(row: &mut [u8], samples: usize, bits: u8, big_endian: bool) {
    if bits == 8 {
        match samples {
            3 => undo_predictor_8::<3>(row),
            4 => undo_predictor_8::<4>(row),
            1 => undo_predictor_8::<1>(row),
            _ => {
                for i in samples..row.len() {
                    row[i] = row[i].wrapping_add(row[i - samples]);
                }
            }
        }
        return;
    }
    let n = row.len() / 2;
    let get = |r: &[u8], i: usize| {
        let b = [r[2 * i], r[2 * i + 1]];
        if big_endian { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) }
    };
    for i in samples..n {
        let v = get(row, i).wrapping_add(get(row, i - samples));
        let b = if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
        row[2 * i..2 * i + 2].copy_from_slice(&b);
    }
}

/// [`undo_predictor`] for 8-bit samples, `N` a pixel: the running pixel kept in registers.
fn undo_predictor_8<const N: usize>(row: &mut [u8]) {
    let mut pixels = row.chunks_exact_mut(N);
    let Some(first) = pixels.next() else { return };
    let mut last: [u8; N] = (&*first).try_into().expect("N bytes");
    for px in pixels.by_ref() {
        for c in 0..N {
            last[c] = last[c].wrapping_add(px[c]);
            px[c] = last[c];
        }
    }
    for (c, b) in pixels.into_remainder().iter_mut().enumerate() {
        *b = b.wrapping_add(last[c]);
    }
}

/// Converts stored rows to output rows for one image and output format.
#[derive(Debug, Clone)]
pub(crate) struct Converter {
    color: Color,
    bits: u8,
    samples: usize,
    planar: bool,
    big_endian: bool,
    alpha: Option<(usize, bool)>,
    out: PixelFormat,
    /// The layout is copied (or byte-swapped) as is.
    direct: bool,
}

impl Converter {
    /// The converter for `image` emitting `out` (its [`TiffImage::output_format`]).
    pub(crate) fn new(image: &TiffImage, out: PixelFormat) -> Converter {
        let alpha = image.alpha.map(|a| (a.index, a.associated));
        let plain_color = matches!(image.color, Color::Gray { white_is_zero: false } | Color::Rgb);
        let direct = plain_color
            && !image.planar
            && image.bits >= 8
            && image.samples == out.channels()
            && alpha.is_none_or(|(_, associated)| !associated);
        Converter {
            color: image.color.clone(),
            bits: image.bits,
            samples: image.samples,
            planar: image.planar,
            big_endian: image.dir.header.big_endian,
            alpha,
            out,
            direct,
        }
    }

    /// Sample `c` of pixel `x` of the stored rows (`planes`: one slice per plane, or one).
    #[inline]
    fn sample(&self, planes: &[&[u8]], x: usize, c: usize) -> u32 {
        let (row, i) = if self.planar { (planes[c], x) } else { (planes[0], x * self.samples + c) };
        match self.bits {
            8 => row[i] as u32,
            16 => {
                let b = [row[2 * i], row[2 * i + 1]];
                (if self.big_endian { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) }) as u32
            }
            bits => {
                let bit = i * bits as usize;
                let shift = 8 - bits as usize - bit % 8;
                ((row[bit / 8] >> shift) & ((1u8 << bits) - 1)) as u32
            }
        }
    }

    /// Writes `out` (one output row of `width` pixels) from the stored rows in `planes`, starting
    /// at pixel `x0` of them.
    pub(crate) fn convert(&self, planes: &[&[u8]], x0: usize, width: usize, out: &mut [u8]) {
        if self.direct {
            let bytes = self.out.bytes_per_pixel();
            let src = &planes[0][x0 * bytes..(x0 + width) * bytes];
            if self.bits == 8 || self.big_endian == cfg!(target_endian = "big") {
                out.copy_from_slice(src);
            } else {
                for (o, s) in out.chunks_exact_mut(2).zip(src.chunks_exact(2)) {
                    o[0] = s[1];
                    o[1] = s[0];
                }
            }
            return;
        }
        let max = (1u32 << self.bits) - 1;
        let sixteen = self.out.depth == BitDepth::Sixteen;
        let channels = self.out.channels();
        let mut px = [0u32; 4];
        for x in 0..width {
            let sx = x0 + x;
            let n = match &self.color {
                Color::Gray { white_is_zero } => {
                    let v = self.sample(planes, sx, 0);
                    px[0] = if *white_is_zero { max - v } else { v };
                    1
                }
                Color::Rgb => {
                    for (c, p) in px.iter_mut().enumerate().take(3) {
                        *p = self.sample(planes, sx, c);
                    }
                    3
                }
                Color::Palette(map) => {
                    let entry = map.get(self.sample(planes, sx, 0) as usize).copied().unwrap_or([0; 3]);
                    for c in 0..3 {
                        px[c] = (entry[c] >> 8) as u32;
                    }
                    3
                }
                Color::Cmyk => {
                    let shift = if self.bits == 16 { 8 } else { 0 };
                    let inks = [0, 1, 2, 3].map(|c| self.sample(planes, sx, c) >> shift);
                    if channels == 4 {
                        px = inks;
                    } else {
                        for c in 0..3 {
                            px[c] = mul255(255 - inks[c], 255 - inks[3]);
                        }
                    }
                    channels
                }
            };
            let scale_low = self.bits < 8 && matches!(self.color, Color::Gray { .. });
            if scale_low {
                px[0] = px[0] * 255 / max;
            }
            if let Some((index, associated)) = self.alpha {
                let a = self.sample(planes, sx, index);
                if associated {
                    for p in px.iter_mut().take(n) {
                        *p = (*p * max + a / 2).checked_div(a).map_or(0, |v| v.min(max));
                    }
                }
                px[n] = a;
            }
            if sixteen {
                for (c, o) in out[x * 2 * channels..(x + 1) * 2 * channels].chunks_exact_mut(2).enumerate() {
                    o.copy_from_slice(&(px[c] as u16).to_ne_bytes());
                }
            } else {
                for (c, o) in out[x * channels..(x + 1) * channels].iter_mut().enumerate() {
                    *o = px[c] as u8;
                }
            }
        }
    }
}

/// `a * b / 255`, rounded.
fn mul255(a: u32, b: u32) -> u32 {
    (a * b * 2 + 255) / 510
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_predictor_is_undone_per_sample_in_either_byte_order() {
        let mut row = [10u8, 20, 1, 2, 255, 1];
        undo_predictor(&mut row, 2, 8, false);
        assert_eq!(row, [10, 20, 11, 22, 10, 23]);
        let mut be = [0x01u8, 0x00, 0x00, 0x01, 0xFF, 0xFF];
        undo_predictor(&mut be, 1, 16, true);
        assert_eq!(be, [0x01, 0x00, 0x01, 0x01, 0x01, 0x00]);
    }

    #[test]
    fn the_8_bit_fast_paths_match_the_per_sample_loop() {
        let row: Vec<u8> = (0..300u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
        for samples in [1usize, 3, 4] {
            let mut fast = row[..row.len() / samples * samples].to_vec();
            let mut slow = fast.clone();
            undo_predictor(&mut fast, samples, 8, false);
            for i in samples..slow.len() {
                slow[i] = slow[i].wrapping_add(slow[i - samples]);
            }
            assert_eq!(fast, slow, "{samples} samples");
        }
    }

    #[test]
    fn mul255_rounds() {
        assert_eq!(mul255(255, 255), 255);
        assert_eq!(mul255(0, 255), 0);
        assert_eq!(mul255(128, 255), 128);
    }
}
