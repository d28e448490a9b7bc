//! BMP's registry entry: read (see [`super`]), not written.

use std::sync::Arc;

use super::decode::{build_transient_bytes, decoder_heap_bytes, BmpDecoder};
use super::header::{read_header, AlphaSource, BmpHeader, Compression};
use crate::codec::probe::Metadata;
use crate::codec::registry::Codec;
use crate::codec::spec::{DecodeRequest, DecoderSpec, Header};
use crate::codec::Format;
use crate::error::{Error, Result};
use crate::io::Input;
use crate::pipeline::BoxedSource;
use crate::pixel::ImageInfo;

/// BMP in the registry.
pub const CODEC: Codec = Codec {
    format: Format::Bmp,
    name: "bmp",
    label: "BMP",
    aliases: &["dib"],
    extensions: &["bmp", "dib"],
    sniff: |b| b.starts_with(b"BM") && b.len() >= 26,
    decoder: Some(&BmpDecoding),
    encoder: None,
};

/// The BMP decoder as a [`DecoderSpec`].
#[derive(Debug)]
pub struct BmpDecoding;

fn bmp_header(header: &Header) -> Result<Arc<BmpHeader>> {
    header
        .parsed::<Arc<BmpHeader>>()
        .cloned()
        .ok_or_else(|| Error::parameter("a BMP decoder was given another format's header"))
}

impl DecoderSpec for BmpDecoding {
    fn read_header(&self, input: &Input) -> Result<Header> {
        let h = read_header(input)?;
        let info = ImageInfo { width: h.width, height: h.height, format: h.output };
        let color = match (h.bits, h.compression, h.alpha) {
            (1..=8, _, _) => "palette",
            (_, _, AlphaSource::Mask) => "rgba",
            (32, _, AlphaSource::IfNotAllZero) => "rgbx",
            _ => "rgb",
        };
        let metadata = Metadata {
            format: Format::Bmp,
            width: h.width,
            height: h.height,
            color: color.to_string(),
            bit_depth: h.bits as u8,
            interlaced: false,
            progressive: false,
            orientation: None,
            decoded_format: h.output.to_string(),
            pages: 1,
            layout: format!(
                "{}, {}",
                match h.compression {
                    super::header::Compression::Rgb => "uncompressed",
                    super::header::Compression::Bitfields => "uncompressed with bit fields",
                    super::header::Compression::Rle8 => "RLE8",
                    super::header::Compression::Rle4 => "RLE4",
                },
                if h.top_down { "top-down" } else { "bottom-up" }
            ),
        };
        Ok(Header::new(Format::Bmp, info, None, metadata, Arc::new(Arc::new(h))))
    }

    fn heap_lower_bound(&self, header: &Header, _request: &DecodeRequest) -> usize {
        bmp_header(header).map_or(0, |h| decoder_heap_bytes(&h))
    }

    /// The decoder's row buffer (uncompressed) or index frame (RLE), plus the input reader an
    /// RLE frame is decoded through.
    fn heap_bytes(&self, input: &Input, header: &Header, _request: &DecodeRequest) -> Result<usize> {
        let h = bmp_header(header)?;
        let rle = matches!(h.compression, Compression::Rle4 | Compression::Rle8);
        Ok(decoder_heap_bytes(&h) + if rle { build_transient_bytes(input, &h) } else { 0 })
    }

    fn build(&self, input: Input, header: &Header, _request: &DecodeRequest) -> Result<BoxedSource> {
        Ok(Box::new(BmpDecoder::new(input, bmp_header(header)?)?))
    }
}
