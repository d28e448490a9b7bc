//! The streaming baseline JPEG encoder, built on the jpeg-encoder crate.
//!
//! jpeg-encoder pulls rows through its `ImageBuffer::fill_buffers(y)` callback, in order, one MCU
//! row (8 or 16 rows) at a time, and in its interleaved baseline mode holds only that MCU row. The
//! adapter below pulls each row from the pipeline when asked, converts it to YCbCr (or passes gray
//! through) and remembers only the last row, which the encoder asks for again to pad the bottom MCU
//! row. Alpha is flattened onto a background colour and 16-bit samples reduced to 8 by
//! [`Convert`] before the adapter sees them.

use std::cell::RefCell;
use std::io::Write;

use crate::codec::spec::EncoderSpec;
use crate::codec::Format;
use crate::error::{Error, Result};
use crate::ops::convert::{Background, Convert};
use crate::pipeline::RowSource;
use crate::pixel::{ColorType, ImageInfo, PixelFormat};

/// Chroma subsampling of the encoded file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Subsampling {
    /// Full-resolution chroma.
    S444,
    /// Chroma halved both ways (the usual choice for photos).
    #[default]
    S420,
}

impl std::str::FromStr for Subsampling {
    type Err = Error;
    /// Parses `444`, `4:4:4`, `420` or `4:2:0`.
    fn from_str(s: &str) -> Result<Self> {
        match s.replace(':', "").as_str() {
            "444" => Ok(Subsampling::S444),
            "420" => Ok(Subsampling::S420),
            _ => Err(Error::parameter(format!("subsampling '{s}' is not 4:4:4 or 4:2:0"))),
        }
    }
}

/// Options of the JPEG encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegEncoder {
    /// Quality 1..=100.
    pub quality: u8,
    /// Chroma subsampling (ignored for gray images).
    pub subsampling: Subsampling,
    /// Colour that transparent pixels are flattened onto.
    pub background: Background,
}

impl Default for JpegEncoder {
    fn default() -> Self {
        JpegEncoder { quality: 85, subsampling: Subsampling::S420, background: [255, 255, 255] }
    }
}

impl JpegEncoder {
    /// Pulls every row of `source` and writes a baseline JPEG to `writer`.
    pub fn encode(&self, source: &mut dyn RowSource, writer: &mut dyn Write) -> Result<()> {
        let info = source.info();
        if info.width > u16::MAX as u32 || info.height > u16::MAX as u32 {
            return Err(Error::parameter(format!(
                "JPEG cannot store a {}x{} image (at most 65535 on each side)",
                info.width, info.height
            )));
        }
        if !(1..=100).contains(&self.quality) {
            return Err(Error::parameter(format!("JPEG quality {} is not in 1..=100", self.quality)));
        }
        let target = if info.format.color.is_rgb() { PixelFormat::RGB8 } else { PixelFormat::GRAY8 };
        let converted = Convert::new(source, target, self.background);
        let rows = PulledRows {
            state: RefCell::new(PullState {
                row: vec![0; target.row_bytes(info.width)],
                source: converted,
                next: 0,
                error: None,
            }),
            width: info.width as u16,
            height: info.height as u16,
            gray: target.color == ColorType::Gray,
        };
        let mut encoder = jpeg_encoder::Encoder::new(writer, self.quality);
        encoder.set_sampling_factor(match self.subsampling {
            Subsampling::S444 => jpeg_encoder::SamplingFactor::F_1_1,
            Subsampling::S420 => jpeg_encoder::SamplingFactor::F_2_2,
        });
        let result = encoder.encode_image(&rows);
        if let Some(error) = rows.state.into_inner().error {
            return Err(error);
        }
        result.map_err(|e| match e {
            jpeg_encoder::EncodingError::IoError(e) => Error::Io(e),
            other => Error::parameter(format!("JPEG encoder: {other}")),
        })
    }
}

impl EncoderSpec for JpegEncoder {
    fn format(&self) -> Format {
        Format::Jpeg
    }

    fn max_size(&self) -> (u32, u32) {
        (u16::MAX as u32, u16::MAX as u32)
    }

    fn stores_alpha(&self) -> bool {
        false
    }

    /// jpeg-encoder's MCU row of component planes (16 rows of each of three planes for 4:2:0
    /// colour, 8 rows otherwise), our converted 8-bit row, the conversion stage's input row when
    /// the format differs, and ~1 KiB of tables (jpeg-encoder 0.7, measured with dhat).
    fn heap_bytes(&self, info: ImageInfo) -> usize {
        let rgb = info.format.color.is_rgb();
        let converted = if rgb { PixelFormat::RGB8 } else { PixelFormat::GRAY8 };
        let w = info.width as usize;
        let planes = if rgb && self.subsampling == Subsampling::S420 {
            w.div_ceil(16) * 16 * 16 * 3
        } else {
            w.div_ceil(8) * 8 * 8 * if rgb { 3 } else { 1 }
        };
        let convert = if info.format != converted { info.row_bytes() } else { 0 };
        planes + converted.row_bytes(info.width) + convert + 1024
    }

    fn detail(&self) -> String {
        let sampling = match self.subsampling {
            Subsampling::S444 => "4:4:4",
            Subsampling::S420 => "4:2:0",
        };
        format!("quality {}, {sampling}", self.quality)
    }

    fn encode(&self, source: &mut dyn RowSource, writer: &mut dyn Write) -> Result<()> {
        JpegEncoder::encode(self, source, writer)
    }
}

struct PullState<S> {
    source: S,
    /// The last row pulled (row `next - 1`).
    row: Vec<u8>,
    next: u32,
    /// The first error the pipeline returned; later rows are left empty.
    error: Option<Error>,
}

/// Adapts a row source to jpeg-encoder's pull callback.
struct PulledRows<S> {
    state: RefCell<PullState<S>>,
    width: u16,
    height: u16,
    gray: bool,
}

impl<S: RowSource> jpeg_encoder::ImageBuffer for &PulledRows<S> {
    fn get_jpeg_color_type(&self) -> jpeg_encoder::JpegColorType {
        if self.gray {
            jpeg_encoder::JpegColorType::Luma
        } else {
            jpeg_encoder::JpegColorType::Ycbcr
        }
    }

    fn width(&self) -> u16 {
        self.width
    }

    fn height(&self) -> u16 {
        self.height
    }

    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        // Rows come in order; the last one is asked for again to pad the bottom MCU row.
        while state.error.is_none() && state.next <= y as u32 {
            match state.source.read_row(&mut state.row) {
                Ok(()) => state.next += 1,
                Err(e) => state.error = Some(e),
            }
        }
        if self.gray {
            buffers[0].extend_from_slice(&state.row);
            return;
        }
        for px in state.row.chunks_exact(3) {
            let [y, cb, cr] = rgb_to_ycbcr(px[0], px[1], px[2]);
            buffers[0].push(y);
            buffers[1].push(cb);
            buffers[2].push(cr);
        }
    }
}

/// JFIF RGB -> YCbCr in 16-bit fixed point, rounded.
#[inline]
fn rgb_to_ycbcr(r: u8, g: u8, b: u8) -> [u8; 3] {
    let (r, g, b) = (r as i32, g as i32, b as i32);
    let y = (19595 * r + 38470 * g + 7471 * b + 32768) >> 16;
    let cb = ((-11059 * r - 21709 * g + 32768 * b + 32768) >> 16) + 128;
    let cr = ((32768 * r - 27439 * g - 5329 * b + 32768) >> 16) + 128;
    [y.clamp(0, 255) as u8, cb.clamp(0, 255) as u8, cr.clamp(0, 255) as u8]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::Synthetic;

    fn decode(bytes: &[u8]) -> (Vec<u8>, jpeg_decoder::ImageInfo) {
        let mut d = jpeg_decoder::Decoder::new(bytes);
        let pixels = d.decode().unwrap();
        (pixels, d.info().unwrap())
    }

    #[test]
    fn encodes_rgb_close_to_the_source() {
        let (w, h) = (61, 37);
        let mut out = Vec::new();
        let enc = JpegEncoder { quality: 95, subsampling: Subsampling::S444, ..Default::default() };
        enc.encode(&mut Synthetic::new(w, h, PixelFormat::RGB8, 2), &mut out).unwrap();
        let (pixels, info) = decode(&out);
        assert_eq!((info.width as u32, info.height as u32), (w, h));
        let mut expected = vec![0; (w * h * 3) as usize];
        Synthetic::new(w, h, PixelFormat::RGB8, 2).read_rows(&mut expected).unwrap();
        let mean = pixels.iter().zip(&expected).map(|(a, b)| (*a as f64 - *b as f64).abs()).sum::<f64>()
            / pixels.len() as f64;
        assert!(mean < 4.0, "mean abs error {mean}");
    }

    #[test]
    fn flattens_alpha_and_reduces_16_bit() {
        for format in [PixelFormat::RGBA8, PixelFormat::RGBA16, PixelFormat::GRAYA16, PixelFormat::GRAY8] {
            let mut out = Vec::new();
            JpegEncoder::default().encode(&mut Synthetic::new(40, 33, format, 1), &mut out).unwrap();
            let (pixels, info) = decode(&out);
            assert_eq!((info.width, info.height), (40, 33));
            let channels = if format.color.is_rgb() { 3 } else { 1 };
            assert_eq!(pixels.len(), 40 * 33 * channels);
            // The synthetic alpha is a disc: corners are transparent, so they come out white.
            if format.color.has_alpha() {
                assert!(pixels[..channels].iter().all(|&v| v >= 250), "{format}: {:?}", &pixels[..channels]);
            }
        }
    }

    #[test]
    fn refuses_oversized_images_and_bad_quality() {
        let mut s = Synthetic::new(70000, 1, PixelFormat::GRAY8, 0);
        assert!(matches!(JpegEncoder::default().encode(&mut s, &mut Vec::new()), Err(Error::Parameter(_))));
        let mut s = Synthetic::new(8, 8, PixelFormat::GRAY8, 0);
        let enc = JpegEncoder { quality: 0, ..Default::default() };
        assert!(enc.encode(&mut s, &mut Vec::new()).is_err());
    }
}
