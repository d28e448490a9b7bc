//! PNG's registry entry: the decoder's header, heap and build, and the encoder from options.
//!
//! The png crate's decoder buffers were measured with dhat (png 0.18): for a non-interlaced
//! file about 29 KiB of inflater state plus the inflated-data buffer, which holds at most about
//! twice the raw data inflated, never less than ~64 KiB once the image has that much data, and at
//! most a plateau of about 336 KiB or 8 to 16 raw rows ([`sequential_decoder_bytes`];
//! `tests/heap_plan.rs` checks it against measured peaks). The interlaced decoder is our own
//! (`super::adam7`): its account is exact.

use std::sync::Arc;

use super::chunks::SIGNATURE;
use super::decode::{read_header, PngDecoder, PngHeader};
use super::encode::{PngCompression, PngEncoder};
use crate::codec::probe::Metadata;
use crate::codec::registry::Codec;
use crate::codec::spec::{DecodeRequest, DecoderSpec, EncoderSpec, Header};
use crate::codec::{EncodeOptions, Format};
use crate::error::{Error, Result};
use crate::io::Input;
use crate::pipeline::BoxedSource;
use crate::pixel::ImageInfo;

/// PNG in the registry.
pub const CODEC: Codec = Codec {
    format: Format::Png,
    name: "png",
    aliases: &[],
    extensions: &["png"],
    sniff: |b| b.starts_with(&SIGNATURE),
    decoder: Some(&PngDecoding),
    encoder: Some(encoder),
};

/// The PNG decoder as a [`DecoderSpec`].
#[derive(Debug)]
pub struct PngDecoding;

/// Heap an interlaced PNG decoder needs beyond its buffer account while it is built (the png
/// crate's header reader and the checkpointing inflate pass), measured with dhat.
const ADAM7_TRANSIENT: usize = 48 * 1024;

/// Raw bytes the png crate may inflate beyond the last row a crop asks for (at least 8 rows).
const READ_AHEAD_BYTES: u64 = 32 * 1024;

/// Heap of the png crate's decoder on a non-interlaced file `width` wide and `height` tall of
/// `bits_per_pixel`, when `rows` rows are read (see the module notes).
pub fn sequential_decoder_bytes(width: u32, rows: u32, height: u32, bits_per_pixel: u32) -> usize {
    let raw_row = (width as u64 * bits_per_pixel as u64).div_ceil(8) + 1;
    let raw_total = raw_row * height as u64;
    let ahead = READ_AHEAD_BYTES.div_ceil(raw_row).max(8);
    let raw_read = raw_row * (rows as u64 + ahead).min(height as u64);
    // Large images: a plateau of ~336 KiB, or ~8 rows when rows are wide (up to ~16 rows when
    // the whole image is only a few rows).
    let cap = (336 * 1024).max(17 * raw_row / 2).max((2 * raw_total + 4096).min(33 * raw_row / 2));
    let buffer = (2 * raw_total + 4096).min((2 * raw_read + 4096).max(64 * 1024)).min(cap);
    (29 * 1024 + buffer) as usize
}

impl DecoderSpec for PngDecoding {
    fn read_header(&self, input: &Input) -> Result<Header> {
        let h = read_header(input.bytes())?;
        let info = ImageInfo { width: h.width, height: h.height, format: h.output };
        Ok(Header::new(
            Format::Png,
            info,
            h.orientation,
            Metadata {
                format: Format::Png,
                width: h.width,
                height: h.height,
                color: h.color_type.to_string(),
                bit_depth: h.bit_depth,
                interlaced: h.interlaced,
                progressive: false,
                orientation: h.orientation,
                decoded_format: h.output.to_string(),
            },
            Arc::new(h),
        ))
    }

    fn heap_bytes(&self, input: &Input, header: &Header, request: &DecodeRequest) -> Result<usize> {
        let h = png_header(header)?;
        if h.interlaced {
            // Building it runs the checking inflate pass that places the seven cursors: done
            // once, here, and the decoder kept for the run.
            let buffers = header.prepare(request, || Ok(Box::new(PngDecoder::new(input.clone())?)))?;
            return Ok(buffers + ADAM7_TRANSIENT);
        }
        let channels = match h.color_type {
            "gray" | "palette" => 1,
            "gray-alpha" => 2,
            "rgb" => 3,
            _ => 4,
        };
        Ok(sequential_decoder_bytes(h.width, request.rows_needed.min(h.height), h.height, channels * h.bit_depth as u32))
    }

    fn build(&self, input: Input, header: &Header, request: &DecodeRequest) -> Result<BoxedSource> {
        match header.take_prepared(request) {
            Some(decoder) => Ok(decoder),
            None => Ok(Box::new(PngDecoder::new(input)?)),
        }
    }
}

fn png_header(header: &Header) -> Result<&PngHeader> {
    header.parsed::<PngHeader>().ok_or_else(|| Error::parameter("a PNG decoder was given another format's header"))
}

/// The PNG encoder for `options`: compression applies; quality and subsampling do not.
fn encoder(options: &EncodeOptions) -> Result<Arc<dyn EncoderSpec>> {
    if options.quality.is_some() {
        return Err(EncodeOptions::not_for("PNG", "quality"));
    }
    if options.subsampling.is_some() {
        return Err(EncodeOptions::not_for("PNG", "chroma subsampling"));
    }
    let compression = options.compression.map_or(Ok(PngCompression::default()), PngCompression::from_level)?;
    Ok(Arc::new(PngEncoder { compression, ..Default::default() }))
}

/// A png crate error message for people: its `ChunkType { type: IHDR, critical: true, .. }`
/// debug dumps become the chunk name (`IHDR`).
pub(crate) fn plain_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find("ChunkType {") {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let end = after.find('}').map_or(after.len(), |e| e + 1);
        let name = after
            .split("type: ")
            .nth(1)
            .and_then(|t| t.split([',', ' ', '}']).next())
            .filter(|n| !n.is_empty())
            .unwrap_or("chunk");
        out.push_str(name);
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::plain_message;

    #[test]
    fn chunk_type_dumps_become_chunk_names() {
        let m = "ChunkType { type: IHDR, critical: true, private: false, reserved: false, safecopy: false } chunk appeared before ChunkType { type: IDAT, critical: true }";
        assert_eq!(plain_message(m), "IHDR chunk appeared before IDAT");
        assert_eq!(plain_message("plain text"), "plain text");
    }
}
