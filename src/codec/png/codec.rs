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
use super::decode::{metadata_heap_bytes, read_header, PngDecodeOptions, PngDecoder, PngHeader};
use super::encode::{PngCompression, PngEncoder};
use crate::codec::probe::Metadata;
use crate::codec::registry::Codec;
use crate::codec::metadata::Density;
use crate::codec::spec::{DecodeRequest, DecoderSpec, Embedded, EncoderSpec, Header};
use crate::codec::{EncodeOption, EncodeOptions, Format};
use crate::error::{Error, Result};
use crate::io::{Input, InputReader};
use crate::pipeline::BoxedSource;
use crate::pixel::ImageInfo;

/// PNG in the registry.
pub const CODEC: Codec = Codec {
    format: Format::Png,
    name: "png",
    label: "PNG",
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

/// The png crate's decoder state beside its unfiltering buffer (inflater, info, row scratch),
/// measured with dhat.
const SEQUENTIAL_STATE: u64 = 29 * 1024;

/// Heap of the png crate's decoder (png 0.18) on a non-interlaced file `width` wide and `height`
/// tall of `bits_per_pixel`, when `rows` rows are read: its state and its unfiltering buffer.
///
/// How png 0.18's `UnfilteringBuffer` grows: it starts with a capacity of
/// `min(min(height, 128) raw rows rounded up to 256, 128 KiB)`, keeps its length 8 KiB ahead of
/// what is inflated into it (the vector doubling its capacity when that overflows), and shifts its
/// contents back only once the rows behind the 32 KiB inflate look-back span its shift limit,
/// `max(4 raw rows rounded up to 64, 128 KiB)`. So once enough data flows its capacity is the
/// first doubling of the initial one that holds the shift limit, the look-back and a little
/// more (36 KiB and two rows, fitted to dhat measurements); with less data, up to twice the data
/// inflated. `tests/heap_plan.rs` checks it against dhat over random chains.
pub fn sequential_decoder_bytes(width: u32, rows: u32, height: u32, bits_per_pixel: u32) -> usize {
    let raw_row = (width as u64 * bits_per_pixel as u64).div_ceil(8) + 1;
    let total = raw_row * height as u64;
    let ahead = READ_AHEAD_BYTES.div_ceil(raw_row).max(8);
    let inflated = raw_row * (rows as u64 + ahead).min(height as u64);
    let initial = (raw_row * height.min(128) as u64).next_multiple_of(256).min(128 * 1024).max(1);
    let shift_limit = (4 * raw_row).next_multiple_of(64).max(128 * 1024);
    let plateau_needs = shift_limit + 36 * 1024 + 2 * raw_row;
    let data = inflated.min(total);
    if data + 8 * 1024 < plateau_needs {
        // Little data: the buffer never reaches its plateau; measured at up to about twice the
        // data inflated (the last doubling), and never under 64 KiB once there is that much.
        let buffer = (2 * total + 4096).min((2 * data + 4096).max(64 * 1024));
        return (SEQUENTIAL_STATE + buffer) as usize;
    }
    let mut capacity = initial;
    while capacity < plateau_needs {
        capacity *= 2;
    }
    (SEQUENTIAL_STATE + capacity) as usize
}

impl DecoderSpec for PngDecoding {
    fn read_header(&self, input: &Input) -> Result<Header> {
        let h = read_header(input)?;
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
                pages: 1,
                layout: String::new(),
            },
            Arc::new(h),
        ))
    }

    /// The decoder's buffers, plus what the png crate holds of metadata it cannot skip (an
    /// `eXIf` chunk, bounded by [`metadata_heap_bytes`]).
    fn heap_bytes(&self, input: &Input, header: &Header, request: &DecodeRequest) -> Result<usize> {
        Ok(self.buffer_bytes(input, header, request)? + metadata_heap_bytes(input)?)
    }

    fn build(&self, input: Input, header: &Header, request: &DecodeRequest) -> Result<BoxedSource> {
        match header.take_prepared(request) {
            Some(decoder) => Ok(decoder),
            None => Ok(Box::new(PngDecoder::with_options(input, options(request))?)),
        }
    }

    /// `eXIf`, `iTXt` XMP and `iCCP` ([`crate::codec::metadata::png`]).
    fn read_embedded(&self, input: &Input, _header: &Header) -> Result<Embedded> {
        crate::codec::metadata::png::read_embedded(input)
    }

    /// The `pHYs` density.
    fn read_density(&self, input: &Input, _header: &Header) -> Result<Option<Density>> {
        crate::codec::metadata::png::density(input)
    }
}

fn options(request: &DecodeRequest) -> PngDecodeOptions {
    PngDecodeOptions { fail_on: request.fail_on, threads: request.threads }
}

impl PngDecoding {
    /// The decoder's own buffers for `request`.
    fn buffer_bytes(&self, input: &Input, header: &Header, request: &DecodeRequest) -> Result<usize> {
        let h = png_header(header)?;
        if h.interlaced {
            // Building it runs the checking inflate pass that places the seven cursors: done
            // once, here, and the decoder kept for the run.
            let buffers = header.prepare(request, || Ok(Box::new(PngDecoder::with_options(input.clone(), options(request))?)))?;
            return Ok(buffers + ADAM7_TRANSIENT);
        }
        let rows = request.rows_needed.min(h.height);
        // The png crate's buffers, and the reader's over a file read by position.
        Ok(sequential_decoder_bytes(h.width, rows, h.height, bits_per_pixel(h)) + InputReader::buffer_bytes_for(input))
    }
}

/// Bits per pixel of the file's raw rows (before expansion).
pub(crate) fn bits_per_pixel(h: &PngHeader) -> u32 {
    let channels = match h.color_type {
        "gray" | "palette" => 1,
        "gray-alpha" => 2,
        "rgb" => 3,
        _ => 4,
    };
    channels * h.bit_depth as u32
}

fn png_header(header: &Header) -> Result<&PngHeader> {
    header.parsed::<PngHeader>().ok_or_else(|| Error::parameter("a PNG decoder was given another format's header"))
}

/// The PNG encoder for `options`: only the compression level applies.
fn encoder(options: &EncodeOptions) -> Result<Arc<dyn EncoderSpec>> {
    options.only("PNG", &[EncodeOption::Compression])?;
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
