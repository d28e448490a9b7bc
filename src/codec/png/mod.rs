//! PNG: a streaming decoder (every colour type and depth, Adam7 by seven cursors) and a streaming
//! encoder.

pub mod adam7;
mod adam7_ahead;
pub(crate) mod chunks;
pub mod codec;
pub mod decode;
pub mod encode;
mod expand;
mod fast_encode;
mod filter;
pub(crate) mod inflate;
mod row_filter;

pub use decode::{metadata_heap_bytes, read_header, PngDecodeOptions, PngDecoder, PngHeader};
pub use encode::{PngCompression, PngEncoder};
