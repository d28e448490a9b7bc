//! JPEG: a streaming decoder (baseline and progressive) and a streaming baseline encoder.

pub mod decode;
pub mod encode;

pub use encode::{JpegEncoder, Subsampling};
