//! TIFF: a streaming encoder (8 and 16 bits, gray, gray+alpha, RGB, RGBA; uncompressed, LZW or
//! deflate with the horizontal predictor; classic TIFF or BigTIFF). Reading TIFF comes later
//! (a `decode` module beside these).

pub mod codec;
pub mod encode;
mod ifd;
mod kept_metadata;
mod lzw;

pub use encode::TiffEncoder;
