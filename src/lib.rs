//! stripflow: a streaming image transform engine.
//!
//! Images are decoded, transformed and encoded in strips of rows, so the heap a job needs is a
//! small multiple of one row's width and does not grow with the image's height or the scale
//! factor. See `docs/architecture.md` for who pulls, who allocates and where memory goes.
//!
//! ```
//! use stripflow::{codec::png::PngEncoder, ops::crop::Crop, synth::Synthetic, PixelFormat};
//!
//! // A 4000x3000 procedurally generated photo-like image, cropped to its centre 640x480 and
//! // encoded as PNG into memory, without ever holding a whole frame.
//! let source = Synthetic::new(4000, 3000, PixelFormat::RGB8, 1);
//! let mut cropped = Crop::gravity(source, 640, 480, stripflow::ops::crop::Gravity::Centre)?;
//! let mut png = Vec::new();
//! PngEncoder::default().encode(&mut cropped, &mut png)?;
//! assert_eq!(&png[1..4], b"PNG");
//! # Ok::<(), stripflow::Error>(())
//! ```

pub mod batch;
pub mod codec;
pub mod error;
pub mod io;
pub mod ops;
pub mod pipeline;
pub mod pixel;
pub mod plan;
pub mod prelude;
pub mod scratch;
pub(crate) mod simd;
pub mod synth;
pub mod tiles;

pub use error::{Error, ErrorKind, Result};
pub use pipeline::{RowSource, StageSpec};
pub use pixel::{BitDepth, ColorType, ImageInfo, PixelFormat};

/// The README's examples, compiled and run as doctests so they cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
