//! The JPEG encoder: streaming baseline files with our own encoder (`super::baseline`), or
//! whole-frame progressive and optimised-Huffman files with the jpeg-encoder crate.
//!
//! Alpha is flattened onto a background colour and 16-bit samples reduced to 8 by [`Convert`]
//! before either encoder sees the rows.
//!
//! In the whole-frame modes jpeg-encoder pulls rows through its `ImageBuffer::fill_buffers(y)`
//! callback, in order; the adapter below pulls each row from the pipeline when asked, converts
//! it to YCbCr (or passes gray through) and remembers only the last row, which the encoder asks
//! for again to pad the bottom MCU row. Progressive scans and fitted Huffman tables need every
//! block before the first scan is written, so jpeg-encoder collects the whole frame: all sample rows (one byte per sample
//! of each component at full resolution, padded to whole MCUs) and all quantised blocks (a
//! 128-byte `[i16; 64]` per block of each component, reserved at the luma count), both alive at
//! once. [`frame_bytes`] is that layout; the plan prices it and dhat checks it
//! (`tests/heap_jpeg_frame.rs`).

use std::cell::RefCell;
use std::io::Write;

use crate::codec::metadata::jpeg::{EXIF_SIGNATURE, XMP_SIGNATURE};
use super::baseline::{Layout, RowWriter, ICC_CHUNK};
use crate::codec::spec::{EncoderKind, EncoderSpec, Output, RowEncoder};
use crate::codec::Embedded;
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
    /// Chroma halved horizontally.
    S422,
    /// Chroma halved both ways (the usual choice for photos).
    #[default]
    S420,
}

impl Subsampling {
    /// The name as people write it ("4:2:0").
    pub fn name(self) -> &'static str {
        match self {
            Subsampling::S444 => "4:4:4",
            Subsampling::S422 => "4:2:2",
            Subsampling::S420 => "4:2:0",
        }
    }

    /// Luma samples per chroma sample, horizontally and vertically.
    fn factors(self) -> (usize, usize) {
        match self {
            Subsampling::S444 => (1, 1),
            Subsampling::S422 => (2, 1),
            Subsampling::S420 => (2, 2),
        }
    }
}

impl std::str::FromStr for Subsampling {
    type Err = Error;
    /// Parses `444`, `422`, `420`, with or without colons.
    fn from_str(s: &str) -> Result<Self> {
        match s.replace(':', "").as_str() {
            "444" => Ok(Subsampling::S444),
            "422" => Ok(Subsampling::S422),
            "420" => Ok(Subsampling::S420),
            _ => Err(Error::parameter(format!("subsampling '{s}' is not 4:4:4, 4:2:2 or 4:2:0"))),
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
    /// Progressive scans (the whole frame is collected first).
    pub progressive: bool,
    /// Huffman tables fitted to the image (the whole frame is collected first).
    pub optimize_coding: bool,
}

impl Default for JpegEncoder {
    fn default() -> Self {
        JpegEncoder {
            quality: 85,
            subsampling: Subsampling::S420,
            background: [255, 255, 255],
            progressive: false,
            optimize_coding: false,
        }
    }
}

/// Heap jpeg-encoder 0.7 holds for a whole frame of `width` x `height` (progressive or
/// optimised Huffman): every sample row and every quantised block, per component (see the
/// module notes; the same arithmetic as its `encode_blocks`).
pub fn frame_bytes(width: u32, height: u32, rgb: bool, subsampling: Subsampling) -> usize {
    let (h, v) = if rgb { subsampling.factors() } else { (1, 1) };
    let cols = (width as usize).div_ceil(8 * h) * h;
    let rows = (height as usize).div_ceil(8 * v) * v;
    let samples = cols * rows * 64;
    let components = if rgb { 3 } else { 1 };
    let block = std::mem::size_of::<[i16; 64]>();
    components * (samples + samples / 64 * block)
}

/// Bytes an `APPn` segment's body may hold.
const MAX_APP_BODY: usize = 65533;

/// Checks that `blocks` fit JPEG segments: EXIF and XMP one `APP1` each (extended XMP is not
/// written), the ICC profile at most 254 `APP2` chunks of 65519 bytes.
fn check_blocks(blocks: &Embedded) -> Result<()> {
    let too_big = |what: &str, len: usize, max: usize| {
        Error::unsupported("JPEG", format!("keeping metadata: the {len}-byte {what} does not fit (at most {max} bytes)"))
    };
    if let Some(exif) = blocks.exif.as_ref().filter(|b| b.len() + EXIF_SIGNATURE.len() > MAX_APP_BODY) {
        return Err(too_big("EXIF block", exif.len(), MAX_APP_BODY - EXIF_SIGNATURE.len()));
    }
    if let Some(xmp) = blocks.xmp.as_ref().filter(|b| b.len() + XMP_SIGNATURE.len() > MAX_APP_BODY) {
        return Err(too_big("XMP packet (extended XMP is not written)", xmp.len(), MAX_APP_BODY - XMP_SIGNATURE.len()));
    }
    if let Some(icc) = blocks.icc.as_ref().filter(|b| b.len() > 254 * ICC_CHUNK) {
        return Err(too_big("ICC profile", icc.len(), 254 * ICC_CHUNK));
    }
    Ok(())
}

impl JpegEncoder {
    /// Pulls every row of `source` and writes a baseline JPEG to `writer`.
    pub fn encode(&self, source: &mut dyn RowSource, writer: &mut dyn Write) -> Result<()> {
        self.encode_keeping(source, writer, &Embedded::default())
    }

    /// As [`encode`](Self::encode), with the metadata `blocks` in `APP1` (EXIF, XMP) and `APP2`
    /// (ICC, in 65519-byte chunks) segments after the JFIF header.
    pub fn encode_keeping(&self, source: &mut dyn RowSource, writer: &mut dyn Write, blocks: &Embedded) -> Result<()> {
        check_blocks(blocks)?;
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
        let mut converted = Convert::new(source, target, self.background);
        if !self.whole_frame() {
            return super::baseline::encode(&mut converted, writer, self.quality, self.subsampling, blocks);
        }
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
            Subsampling::S422 => jpeg_encoder::SamplingFactor::F_2_1,
            Subsampling::S420 => jpeg_encoder::SamplingFactor::F_2_2,
        });
        encoder.set_progressive(self.progressive);
        encoder.set_optimized_huffman_tables(self.optimize_coding);
        let segment_error = |e: jpeg_encoder::EncodingError| Error::parameter(format!("JPEG metadata segment: {e}"));
        if let Some(exif) = &blocks.exif {
            encoder.add_exif_metadata(exif).map_err(segment_error)?;
        }
        if let Some(xmp) = &blocks.xmp {
            encoder.add_app_segment(1, [XMP_SIGNATURE, xmp].concat()).map_err(segment_error)?;
        }
        if let Some(icc) = &blocks.icc {
            encoder.add_icc_profile(icc).map_err(segment_error)?;
        }
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

impl JpegEncoder {
    /// Whether jpeg-encoder collects the whole frame (progressive or fitted Huffman tables).
    pub fn whole_frame(&self) -> bool {
        self.progressive || self.optimize_coding
    }
}

impl EncoderSpec for JpegEncoder {
    fn format(&self) -> Format {
        Format::Jpeg
    }

    fn kind(&self) -> EncoderKind {
        if self.whole_frame() {
            EncoderKind::WholeFrame
        } else {
            EncoderKind::Streaming
        }
    }

    fn max_size(&self) -> (u32, u32) {
        (u16::MAX as u32, u16::MAX as u32)
    }

    fn stores_alpha(&self) -> bool {
        false
    }

    /// Baseline: the baseline encoder's own layout (an MCU row of full-resolution component
    /// planes, the pulled row and the coded-byte buffer) plus the conversion stage's input row
    /// when the format differs. Progressive or optimised: jpeg-encoder's whole frame
    /// ([`frame_bytes`]), our converted 8-bit row, the conversion row and ~1 KiB of tables
    /// (jpeg-encoder 0.7, measured with dhat).
    fn heap_bytes(&self, info: ImageInfo) -> usize {
        let rgb = info.format.color.is_rgb();
        let converted = if rgb { PixelFormat::RGB8 } else { PixelFormat::GRAY8 };
        let convert = if info.format != converted { info.row_bytes() } else { 0 };
        if !self.whole_frame() {
            return Layout::new(info.width, info.height, !rgb, self.subsampling).heap_bytes() + convert;
        }
        let planes = frame_bytes(info.width, info.height, rgb, self.subsampling);
        planes + converted.row_bytes(info.width) + convert + 1024
    }

    fn detail(&self) -> String {
        let mut detail = format!("quality {}, {}", self.quality, self.subsampling.name());
        if self.progressive {
            detail += ", progressive";
        }
        if self.optimize_coding {
            detail += ", optimised Huffman";
        }
        if self.whole_frame() {
            detail += ": the whole frame's samples and blocks";
        }
        detail
    }

    fn encode(&self, source: &mut dyn RowSource, writer: &mut dyn Write) -> Result<()> {
        JpegEncoder::encode(self, source, writer)
    }

    /// Baseline files of RGB8 or gray rows, which the baseline encoder takes as they are.
    fn encodes_pushed_rows(&self, format: PixelFormat) -> bool {
        !self.whole_frame() && matches!(format, PixelFormat::RGB8 | PixelFormat::GRAY8)
    }

    fn row_encoder(&self, info: ImageInfo, out: &mut dyn Write) -> Result<Box<dyn RowEncoder>> {
        if !self.encodes_pushed_rows(info.format) {
            return Err(Error::unsupported("JPEG", format!("{} rows pushed one at a time{}", info.format, if self.whole_frame() { " into a whole-frame file" } else { "" })));
        }
        Ok(Box::new(RowWriter::new(info, self.quality, self.subsampling, &Embedded::default(), out)?))
    }

    /// Baseline: none (the segments are written straight from the blocks). Whole-frame modes:
    /// jpeg-encoder's copies of the blocks as segment bodies (signatures and chunk headers
    /// added). jpeg-encoder 0.7 reserves 65519 bytes per ICC chunk and then appends 14 header
    /// bytes and the chunk's data, so a chunk over 65505 bytes doubles its vector: 131038
    /// bytes, and 65519 more while it moves.
    fn metadata_heap_bytes(&self, blocks: &Embedded) -> Result<usize> {
        check_blocks(blocks)?;
        if !self.whole_frame() {
            return Ok(0);
        }
        let icc = blocks.icc.as_ref().map_or(0, |p| {
            let chunk_capacity = |data: usize| if data + 14 > ICC_CHUNK { 2 * ICC_CHUNK } else { ICC_CHUNK };
            p.chunks(ICC_CHUNK).map(|c| chunk_capacity(c.len())).sum::<usize>() + ICC_CHUNK
        });
        let exif = blocks.exif.as_ref().map_or(0, |b| b.len() + EXIF_SIGNATURE.len());
        let xmp = blocks.xmp.as_ref().map_or(0, |b| b.len() + XMP_SIGNATURE.len());
        // The segment list's vector grows by doubling: room for 256 (kind, body) entries.
        Ok(icc + exif + xmp + 256 * 32)
    }

    fn encode_with_metadata(&self, source: &mut dyn RowSource, output: Output<'_>, blocks: &Embedded) -> Result<()> {
        match output {
            Output::Stream(w) => self.encode_keeping(source, w, blocks),
            Output::Seekable(w) => self.encode_keeping(source, w, blocks),
        }
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

    /// Mean absolute difference between a decode of `bytes` and the synthetic source.
    fn mean_error(bytes: &[u8], w: u32, h: u32) -> f64 {
        let (pixels, info) = decode(bytes);
        assert_eq!((info.width as u32, info.height as u32), (w, h));
        let mut expected = vec![0; (w * h * 3) as usize];
        Synthetic::new(w, h, PixelFormat::RGB8, 2).read_rows(&mut expected).unwrap();
        pixels.iter().zip(&expected).map(|(a, b)| (*a as f64 - *b as f64).abs()).sum::<f64>() / pixels.len() as f64
    }

    /// Whether the JPEG `bytes` has a start-of-frame marker `sof` (0xC0 baseline, 0xC2
    /// progressive).
    fn has_marker(bytes: &[u8], marker: u8) -> bool {
        bytes.windows(2).any(|m| m == [0xFF, marker])
    }

    #[test]
    fn progressive_optimised_and_422_decode_like_baseline() {
        let (w, h) = (203, 117);
        let encode = |enc: JpegEncoder| {
            let mut out = Vec::new();
            enc.encode(&mut Synthetic::new(w, h, PixelFormat::RGB8, 2), &mut out).unwrap();
            out
        };
        let baseline = encode(JpegEncoder { quality: 90, ..Default::default() });
        let progressive = encode(JpegEncoder { quality: 90, progressive: true, ..Default::default() });
        let optimised = encode(JpegEncoder { quality: 90, optimize_coding: true, ..Default::default() });
        let s422 = encode(JpegEncoder { quality: 90, subsampling: Subsampling::S422, ..Default::default() });
        assert!(has_marker(&baseline, 0xC0) && !has_marker(&baseline, 0xC2));
        assert!(has_marker(&progressive, 0xC2), "progressive files carry SOF2");
        assert!(optimised.len() < baseline.len(), "fitted tables are smaller: {} vs {}", optimised.len(), baseline.len());
        // 4:2:2: luma sampling 2x1 in the frame header (component 1: id, then h<<4|v).
        let sof = baseline.windows(2).position(|m| m == [0xFF, 0xC0]).unwrap();
        assert_eq!(baseline[sof + 11], 0x22);
        let sof = s422.windows(2).position(|m| m == [0xFF, 0xC0]).unwrap();
        assert_eq!(s422[sof + 11], 0x21);
        // Baseline and 4:2:2 come from our encoder, progressive and optimised from jpeg-encoder,
        // with the same quantisation: the two jpeg-encoder modes give the same pixels within
        // rounding, and ours are no worse (its chroma downsampling is libjpeg's, jpeg-encoder's
        // loses more).
        let base_error = mean_error(&baseline, w, h);
        let progressive_error = mean_error(&progressive, w, h);
        let optimised_error = mean_error(&optimised, w, h);
        assert!((optimised_error - progressive_error).abs() <= progressive_error * 0.02, "{optimised_error} vs {progressive_error}");
        assert!(base_error <= progressive_error * 1.02, "baseline: mean error {base_error} vs jpeg-encoder's {progressive_error}");
        let e = mean_error(&s422, w, h);
        assert!(e <= base_error * 1.02, "4:2:2: mean error {e} vs 4:2:0 {base_error}");
    }

    #[test]
    fn whole_frame_modes_say_so_and_price_the_frame() {
        let info = ImageInfo { width: 4000, height: 3000, format: PixelFormat::RGB8 };
        let baseline = JpegEncoder::default();
        let progressive = JpegEncoder { progressive: true, ..Default::default() };
        assert_eq!(baseline.kind(), EncoderKind::Streaming);
        assert_eq!(progressive.kind(), EncoderKind::WholeFrame);
        assert_eq!(JpegEncoder { optimize_coding: true, ..Default::default() }.kind(), EncoderKind::WholeFrame);
        assert!(baseline.heap_bytes(info) < 1 << 20);
        // 3 components x (1 byte per sample + 2 bytes per coefficient), 4000x3008 padded.
        assert!(progressive.heap_bytes(info) >= 4000 * 3008 * 9);
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
