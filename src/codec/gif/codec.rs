//! GIF's registry entry: read (see [`super`]), not written. Pages are frames: `--page N`
//! composites frames 0 to N.

use std::sync::Arc;

use super::blocks::{walk, GifLayout};
use super::decode::{output_format, peak_bytes, GifDecoder};
use crate::codec::probe::Metadata;
use crate::codec::registry::Codec;
use crate::codec::spec::{DecodeRequest, DecoderSpec, Header};
use crate::codec::Format;
use crate::error::{Error, Result};
use crate::io::Input;
use crate::pipeline::BoxedSource;
use crate::pixel::ImageInfo;

/// GIF in the registry.
pub const CODEC: Codec = Codec {
    format: Format::Gif,
    name: "gif",
    label: "GIF",
    aliases: &[],
    extensions: &["gif"],
    sniff: |b| b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a"),
    decoder: Some(&GifDecoding),
    encoder: None,
};

/// The GIF decoder as a [`DecoderSpec`].
#[derive(Debug)]
pub struct GifDecoding;

fn layout(header: &Header) -> Result<Arc<GifLayout>> {
    header.parsed::<Arc<GifLayout>>().cloned().ok_or_else(|| Error::parameter("a GIF decoder was given another format's header"))
}

impl DecoderSpec for GifDecoding {
    fn read_header(&self, input: &Input) -> Result<Header> {
        self.read_page_header(input, 0)
    }

    fn read_page_header(&self, input: &Input, page: u32) -> Result<Header> {
        let layout = walk(input, page)?;
        let format = output_format(&layout);
        let info = ImageInfo { width: layout.width as u32, height: layout.height as u32, format };
        let metadata = Metadata {
            format: Format::Gif,
            width: info.width,
            height: info.height,
            color: "palette".to_string(),
            bit_depth: 8,
            interlaced: layout.page.interlaced,
            progressive: false,
            orientation: None,
            decoded_format: format.to_string(),
            pages: layout.frames,
            layout: String::new(),
        };
        Ok(Header::new(Format::Gif, info, None, metadata, Arc::new(Arc::new(layout))))
    }

    fn heap_lower_bound(&self, header: &Header, _request: &DecodeRequest) -> usize {
        layout(header).map_or(0, |l| peak_bytes(&Input::from_static(b""), &l))
    }

    /// The canvas (a page past the first, an interlaced first frame) or one line, and the `gif`
    /// crate's state (see [`super::decode`]).
    fn heap_bytes(&self, input: &Input, header: &Header, _request: &DecodeRequest) -> Result<usize> {
        Ok(peak_bytes(input, &*layout(header)?))
    }

    fn build(&self, input: Input, header: &Header, _request: &DecodeRequest) -> Result<BoxedSource> {
        Ok(Box::new(GifDecoder::new(input, layout(header)?)?))
    }
}
