//! RGB(A) rows to the planes of a rav1e frame: full-range BT.601 YCbCr (ravif's formulas), luma
//! at full resolution and chroma at full, half-width (4:2:2) or half-size (4:2:0) resolution,
//! written straight into the frame rav1e encodes (no copy of the frame of our own); alpha is
//! collected beside it.
//!
//! Subsampled chroma is the mean of the unrounded chroma of the 2 or 4 pixels it covers (a box
//! filter centred between them); at an odd width or height the last column or row averages the
//! pixels it has.

use rav1e::prelude::{ChromaSampling, Frame, Pixel};

use crate::error::Result;
use crate::pipeline::RowSource;

/// A sample type of the AV1 data.
pub trait Sample: Pixel + Default {
    /// Bits of the AV1 data (8 or 10).
    const BITS: u32;
    /// Bytes per sample of the working rows (1: 8-bit RGB, 2: 16-bit RGB).
    const INPUT_BYTES: usize;
    /// The opaque alpha value.
    const OPAQUE: Self;
    /// From a rounded value in range.
    fn from_f32(v: f32) -> Self;
    /// Scales an input sample (8 or 16 bits) to [`Self::BITS`], rounded.
    fn scale(v: u16) -> Self;
    /// An input sample at `at` of a row.
    fn read(row: &[u8], at: usize) -> u16;
}

impl Sample for u8 {
    const BITS: u32 = 8;
    const INPUT_BYTES: usize = 1;
    const OPAQUE: u8 = 255;
    fn from_f32(v: f32) -> u8 {
        v as u8
    }
    fn scale(v: u16) -> u8 {
        v as u8
    }
    fn read(row: &[u8], at: usize) -> u16 {
        row[at] as u16
    }
}

impl Sample for u16 {
    const BITS: u32 = 10;
    const INPUT_BYTES: usize = 2;
    const OPAQUE: u16 = 1023;
    fn from_f32(v: f32) -> u16 {
        v as u16
    }
    fn scale(v: u16) -> u16 {
        ((v as u32 * 1023 + 32767) / 65535) as u16
    }
    fn read(row: &[u8], at: usize) -> u16 {
        u16::from_ne_bytes([row[2 * at], row[2 * at + 1]])
    }
}

/// BT.601 luma weights, as ravif uses them.
const KR: f32 = 0.2990;
const KG: f32 = 0.5870;
const KB: f32 = 0.1140;

/// Horizontal and vertical chroma decimation (log2) of a chroma sampling.
pub fn decimation(chroma: ChromaSampling) -> (usize, usize) {
    match chroma {
        ChromaSampling::Cs420 => (1, 1),
        ChromaSampling::Cs422 => (1, 0),
        _ => (0, 0),
    }
}

/// Pulls every row of `rows` (RGB or RGBA: 8-bit for `u8`, 16-bit for `u16`) into `frame`,
/// chroma decimated as `chroma` says. Returns the alpha plane if the rows have alpha and some
/// pixel is not opaque.
pub fn fill<P: Sample>(rows: &mut dyn RowSource, strip_height: u32, chroma: ChromaSampling, frame: &mut Frame<P>) -> Result<Option<Vec<P>>> {
    let info = rows.info();
    let width = info.width as usize;
    let height = info.height as usize;
    let channels = info.format.channels();
    let has_alpha = info.format.color.has_alpha();
    let (xdec, ydec) = decimation(chroma);
    let chroma_width = (width + xdec) >> xdec;
    let max_value = ((1u32 << P::BITS) - 1) as f32;
    let scale = max_value / if P::INPUT_BYTES == 1 { 255.0 } else { 65535.0 };
    let shift = (max_value * 0.5).round();
    // Unrounded chroma sums of the current chroma row (Cb, Cr interleaved), and the pixels each
    // sum holds.
    let mut sums = vec![0f32; 2 * chroma_width];
    let mut counts = vec![0u8; chroma_width];
    let mut alpha: Vec<P> = Vec::new();
    if has_alpha {
        alpha.try_reserve_exact(width * height).map_err(|_| super::encode::frame_too_big(info))?;
    }
    let mut opaque = true;
    let [luma, cb_plane, cr_plane] = &mut frame.planes;
    let (luma_stride, chroma_stride) = (luma.cfg.stride, cb_plane.cfg.stride);
    let (luma, cb_plane, cr_plane) = (luma.data_origin_mut(), cb_plane.data_origin_mut(), cr_plane.data_origin_mut());
    let mut y = 0usize;
    let row_bytes = width * channels * P::INPUT_BYTES;
    crate::pipeline::drain(rows, strip_height, |strip, _| {
        for row in strip.chunks_exact(row_bytes) {
            let luma_row = &mut luma[y * luma_stride..y * luma_stride + width];
            for (x, out) in luma_row.iter_mut().enumerate() {
                let at = x * channels;
                let (r, g, b) = (P::read(row, at) as f32, P::read(row, at + 1) as f32, P::read(row, at + 2) as f32);
                let luma = (scale * KB).mul_add(b, (scale * KR).mul_add(r, scale * KG * g));
                *out = P::from_f32(luma.round());
                let c = x >> xdec;
                sums[2 * c] += b.mul_add(scale, -luma).mul_add(0.5 / (1. - KB), shift);
                sums[2 * c + 1] += r.mul_add(scale, -luma).mul_add(0.5 / (1. - KR), shift);
                counts[c] += 1;
                if has_alpha {
                    let a = P::scale(P::read(row, at + 3));
                    opaque &= a == P::OPAQUE;
                    alpha.push(a);
                }
            }
            if (y + 1) & ((1 << ydec) - 1) == 0 || y + 1 == height {
                let at = (y >> ydec) * chroma_stride;
                let (cb_row, cr_row) = (&mut cb_plane[at..at + chroma_width], &mut cr_plane[at..at + chroma_width]);
                for (c, (cb, cr)) in cb_row.iter_mut().zip(cr_row.iter_mut()).enumerate() {
                    let n = counts[c] as f32;
                    *cb = P::from_f32((sums[2 * c] / n).round().clamp(0., max_value));
                    *cr = P::from_f32((sums[2 * c + 1] / n).round().clamp(0., max_value));
                }
                sums.fill(0.);
                counts.fill(0);
            }
            y += 1;
        }
        Ok(())
    })?;
    Ok(if has_alpha && !opaque { Some(alpha) } else { None })
}

/// Copies `alpha` (`width` samples a row) into the luma plane of a monochrome frame.
pub fn fill_alpha<P: Sample>(alpha: &[P], width: usize, frame: &mut Frame<P>) {
    let plane = &mut frame.planes[0];
    let stride = plane.cfg.stride;
    let data = plane.data_origin_mut();
    for (y, row) in alpha.chunks_exact(width).enumerate() {
        data[y * stride..y * stride + width].copy_from_slice(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pixel::{ImageInfo, PixelFormat};

    /// A 3x3 8-bit RGB image whose 2x2 chroma blocks are known: the odd last column and row
    /// average the pixels they cover.
    #[test]
    fn subsampled_chroma_is_the_mean_of_the_pixels_it_covers_at_odd_sizes() {
        let gray = [128u8, 128, 128];
        let blue = [0u8, 0, 255];
        let rows: Vec<u8> = [blue, gray, blue, gray, gray, gray, blue, blue, gray].concat();
        let info = ImageInfo { width: 3, height: 3, format: PixelFormat::RGB8 };
        let mut frame = Frame::<u8>::new_with_padding(3, 3, ChromaSampling::Cs420, 8);
        let mut source = crate::pipeline::MemorySource::new(info, rows).unwrap();
        assert!(fill(&mut source, 2, ChromaSampling::Cs420, &mut frame).unwrap().is_none());
        let cb_of = |p: [u8; 3]| {
            let l = KR * p[0] as f32 + KG * p[1] as f32 + KB * p[2] as f32;
            (p[2] as f32 - l) * 0.5 / (1. - KB) + 128.
        };
        let (b, g) = (cb_of(blue), cb_of(gray));
        let stride = frame.planes[1].cfg.stride;
        let cb = frame.planes[1].data_origin_mut();
        // Top left: blue, gray, gray, gray. Top right: blue, gray. Bottom left: blue, blue.
        // Bottom right: gray alone.
        assert_eq!(cb[0], ((b + 3. * g) / 4.).round() as u8);
        assert_eq!(cb[1], ((b + g) / 2.).round() as u8);
        assert_eq!(cb[stride], b.round() as u8);
        assert_eq!(cb[stride + 1], g.round() as u8);
        // Luma stays at full resolution.
        assert_eq!(frame.planes[0].data_origin_mut()[2], (0.114f32 * 255.).round() as u8);
    }
}
