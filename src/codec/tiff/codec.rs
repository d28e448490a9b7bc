//! TIFF's registry entry: the signatures (classic and BigTIFF, both byte orders), the streaming
//! decoder ([`super::decode`]) and the encoder from options.

use std::sync::Arc;

use super::encode::{TiffEncoder, DEFAULT_DEFLATE_LEVEL};
use crate::codec::registry::Codec;
use crate::codec::spec::EncoderSpec;
use crate::codec::{EncodeOption, EncodeOptions, Format, TiffCompression};
use crate::error::{Error, Result};
use crate::pixel::BitDepth;

/// TIFF in the registry.
pub const CODEC: Codec = Codec {
    format: Format::Tiff,
    name: "tiff",
    label: "TIFF",
    aliases: &["tif"],
    extensions: &["tif", "tiff"],
    sniff: |b| b.starts_with(b"II*\0") || b.starts_with(b"MM\0*") || b.starts_with(b"II+\0") || b.starts_with(b"MM\0+"),
    decoder: Some(&super::decode::TiffDecoding),
    encoder: Some(encoder),
};

/// The TIFF encoder for `options`: the compression method, the deflate level (`compression`,
/// 0..=9, deflate only) and the bit depth (8 or 16).
fn encoder(options: &EncodeOptions) -> Result<Arc<dyn EncoderSpec>> {
    options.only("TIFF", &[EncodeOption::TiffCompression, EncodeOption::Compression, EncodeOption::BitDepth])?;
    // A deflate level alone asks for deflate; otherwise the default method (LZW).
    let compression = match (options.tiff_compression, options.compression) {
        (Some(method), _) => method,
        (None, Some(_)) => TiffCompression::Deflate,
        (None, None) => TiffCompression::default(),
    };
    let deflate_level = match options.compression {
        None => DEFAULT_DEFLATE_LEVEL,
        Some(level) if compression == TiffCompression::Deflate => {
            EncodeOptions::in_range("TIFF", EncodeOption::Compression, level, 0..=9)?
        }
        Some(_) => {
            return Err(Error::parameter(
                "--compression (the deflate level) applies to TIFF only with --tiff-compression deflate",
            ))
        }
    };
    let bit_depth = match options.bit_depth {
        None => None,
        Some(8) => Some(BitDepth::Eight),
        Some(16) => Some(BitDepth::Sixteen),
        Some(other) => return Err(Error::parameter(format!("TIFF bit-depth {other} is not 8 or 16"))),
    };
    Ok(Arc::new(TiffEncoder { compression, deflate_level, bit_depth, force_bigtiff: false }))
}
