//! JPEG: a streaming decoder (baseline and progressive) and a streaming baseline encoder.

#[doc(hidden)]
pub mod baseline;
pub mod codec;
pub mod decode;
pub mod encode;

pub use decode::{read_icc_profile, read_metadata, scaled_size, DecodeOptions, JpegColorSpace, JpegDecoder, JpegMetadata, Region};
pub use encode::{JpegEncoder, Subsampling};
