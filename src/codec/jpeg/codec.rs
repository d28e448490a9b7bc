//! JPEG's registry entry: the decoder's header, shrink- and crop-on-load, heap and build, and the
//! encoder from options.
//!
//! The decoder's heap is its buffer account (one MCU row of coefficients, three of samples, the
//! scan cursors) plus what parsing the markers keeps (tables, lookahead Huffman tables, the scan
//! list): about 6 KiB plus 4 KiB per component, measured with dhat.

use std::sync::Arc;

use super::decode::{read_metadata, scaled_size, DecodeOptions, JpegDecoder, JpegMetadata, Region};
use super::encode::{JpegEncoder, Subsampling};
use crate::codec::probe::Metadata;
use crate::codec::registry::Codec;
use crate::codec::metadata::Density;
use crate::codec::spec::{DecodeRequest, DecoderSpec, Embedded, EncoderSpec, Header};
use crate::codec::{EncodeOption, EncodeOptions, Format};
use crate::error::{Error, Result};
use crate::io::Input;
use crate::pipeline::BoxedSource;
use crate::pixel::{ImageInfo, PixelFormat};

/// JPEG in the registry.
pub const CODEC: Codec = Codec {
    format: Format::Jpeg,
    name: "jpeg",
    label: "JPEG",
    aliases: &["jpg"],
    extensions: &["jpg", "jpeg", "jpe", "jfif"],
    sniff: |b| b.starts_with(&[0xFF, 0xD8, 0xFF]),
    decoder: Some(&JpegDecoding),
    encoder: Some(encoder),
};

/// The JPEG decoder as a [`DecoderSpec`].
#[derive(Debug)]
pub struct JpegDecoding;

/// Heap the marker parse keeps beside the decoder's buffers (tables, scan list), per the module
/// notes.
fn parse_bytes(components: usize) -> usize {
    6 * 1024 + 4 * 1024 * components
}

fn metadata(header: &Header) -> Result<&JpegMetadata> {
    header.parsed::<JpegMetadata>().ok_or_else(|| Error::parameter("a JPEG decoder was given another format's header"))
}

fn options(request: &DecodeRequest) -> DecodeOptions {
    DecodeOptions {
        scale_denominator: request.shrink,
        region: request.region.map(|r| Region { x: r.x, y: r.y, width: r.width, height: r.height }),
        fail_on: request.fail_on,
        cmyk: request.cmyk,
    }
}

impl DecoderSpec for JpegDecoding {
    fn read_header(&self, input: &Input) -> Result<Header> {
        let m = read_metadata(input)?;
        let format = if m.components == 1 { PixelFormat::GRAY8 } else { PixelFormat::RGB8 };
        Ok(Header::new(
            Format::Jpeg,
            ImageInfo { width: m.width, height: m.height, format },
            m.orientation,
            Metadata {
                format: Format::Jpeg,
                width: m.width,
                height: m.height,
                color: format!("{:?}", m.color_space).to_ascii_lowercase(),
                bit_depth: m.bits_per_sample,
                interlaced: false,
                progressive: m.progressive,
                orientation: m.orientation,
                decoded_format: format.to_string(),
                pages: 1,
                layout: String::new(),
            },
            Arc::new(m),
        ))
    }

    fn shrink_factors(&self) -> &'static [u8] {
        &[8, 4, 2, 1]
    }

    fn crops_on_load(&self) -> bool {
        true
    }

    fn scaled_size(&self, header: &Header, shrink: u8) -> (u32, u32) {
        scaled_size(header.info.width, header.info.height, shrink)
    }

    /// One MCU row of DCT coefficients (16-bit, 64 per block, every component): the decoder
    /// allocates at least this at any scale.
    fn heap_lower_bound(&self, header: &Header, _request: &DecodeRequest) -> usize {
        let Ok(m) = metadata(header) else { return 0 };
        let hmax = m.sampling.iter().map(|s| s.0 as usize).max().unwrap_or(1).max(1);
        let mcus_x = (m.width as usize).div_ceil(8 * hmax);
        m.sampling.iter().map(|&(h, v)| h as usize * v as usize * mcus_x * 64 * 2).sum()
    }

    /// The decoder is built here (its marker walk is what tells its buffers) and kept for the
    /// run, so the file's markers are walked once per job.
    fn heap_bytes(&self, input: &Input, header: &Header, request: &DecodeRequest) -> Result<usize> {
        let buffers = header.prepare(request, || Ok(Box::new(JpegDecoder::new(input.clone(), options(request))?)))?;
        Ok(buffers + parse_bytes(metadata(header)?.components as usize))
    }

    fn build(&self, input: Input, header: &Header, request: &DecodeRequest) -> Result<BoxedSource> {
        match header.take_prepared(request) {
            Some(decoder) => Ok(decoder),
            None => Ok(Box::new(JpegDecoder::new(input, options(request))?)),
        }
    }

    /// `APP1` EXIF and XMP, `APP2` ICC chunks ([`crate::codec::metadata::jpeg`]).
    fn read_embedded(&self, input: &Input, header: &Header) -> Result<Embedded> {
        crate::codec::metadata::jpeg::read_embedded(input, metadata(header)?.icc_profile_len)
    }

    /// The JFIF `APP0` density.
    fn read_density(&self, input: &Input, _header: &Header) -> Result<Option<Density>> {
        crate::codec::metadata::jpeg::density(input)
    }
}

/// The JPEG encoder for `options`: quality, subsampling, progressive and optimised coding apply.
fn encoder(options: &EncodeOptions) -> Result<Arc<dyn EncoderSpec>> {
    let applicable =
        [EncodeOption::Quality, EncodeOption::Subsampling, EncodeOption::Progressive, EncodeOption::OptimizeCoding];
    options.only("JPEG", &applicable)?;
    let defaults = JpegEncoder::default();
    let quality = options.quality.unwrap_or(defaults.quality);
    if !(1..=100).contains(&quality) {
        return Err(Error::parameter(format!("JPEG quality {quality} is not in 1..=100")));
    }
    Ok(Arc::new(JpegEncoder {
        quality,
        subsampling: options.subsampling.unwrap_or(Subsampling::default()),
        background: options.background,
        progressive: options.progressive.unwrap_or(false),
        optimize_coding: options.optimize_coding.unwrap_or(false),
    }))
}
