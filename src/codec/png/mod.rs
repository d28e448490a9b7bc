//! PNG: a streaming decoder (every colour type and depth, Adam7 by seven cursors) and a streaming
//! encoder.

pub mod decode;
pub mod encode;

pub use decode::{read_header, PngDecoder, PngHeader};
pub use encode::{PngCompression, PngEncoder};
