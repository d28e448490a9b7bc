//! TIFF: a streaming encoder (8 and 16 bits, gray, gray+alpha, RGB, RGBA; uncompressed, LZW or
//! deflate with the horizontal predictor; classic TIFF or BigTIFF) and a streaming decoder
//! ([`decode`]: strips and tiles, one strip row or tile row at a time).

pub mod codec;
pub mod decode;
pub mod encode;
mod ifd;
mod kept_metadata;
mod lzw;

pub use decode::{TiffDecoder, TiffDecoding};
pub use encode::TiffEncoder;
