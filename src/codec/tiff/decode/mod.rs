//! The streaming TIFF decoder: classic TIFF and BigTIFF in either byte order, strips or tiles,
//! uncompressed, LZW, deflate or PackBits (with the horizontal predictor), 1- to 16-bit gray,
//! RGB, RGBA, palette and CMYK, chunky or planar, any page of a multi-page file, read one strip
//! row or one row of tiles at a time by positioned reads.
//!
//! * [`directory`]: the file header, IFD parsing with hard limits, the page chain walk.
//! * [`image`]: a directory checked and interpreted as an image.
//! * [`stream`] and [`lzw`]: one strip or tile decompressed incrementally.
//! * [`samples`]: the predictor undone and stored samples converted to output pixels.
//! * [`rows`]: the [`TiffDecoder`] row source and its buffer layout; [`band`]: wide tiled files
//!   read a band of rows at a time, tile columns shared out among threads.
//! * [`spec`]: the decoder in the registry ([`TiffDecoding`]) and the embedded metadata.
//!
//! Not read (typed [`crate::Error::Unsupported`] errors that name them): JPEG-in-TIFF
//! (compression 6 and 7), CCITT fax and other compressions, YCbCr and L*a*b* images,
//! floating-point and signed samples, the floating-point predictor. No shrink-on-load: a
//! pyramid's reduced levels are pages of their own (`--page`).

pub(crate) mod band;
pub(crate) mod directory;
pub(crate) mod image;
pub(crate) mod lzw;
pub(crate) mod rows;
pub(crate) mod samples;
pub(crate) mod spec;
pub(crate) mod stream;

pub use rows::TiffDecoder;
pub use spec::TiffDecoding;
