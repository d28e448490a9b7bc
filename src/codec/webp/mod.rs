//! WebP output and input. Output: lossless in pure Rust (the image-webp crate) and, behind the `webp-lossy` cargo
//! feature, lossy and tuned lossless through libwebp (the libwebp-sys crate, built from libwebp's
//! C source).
//!
//! WebP cannot be written in strips: the encoder collects the whole frame from the row source
//! first ([`crate::codec::EncoderKind::WholeFrame`]), and its `heap_bytes` prices the frame plus
//! the library's working memory, so the planner refuses a frame that does not fit the budget
//! before anything is decoded. Which library encodes what:
//!
//! * lossy (the default): libwebp; without the feature, a typed [`crate::Error::Unsupported`].
//! * lossless: libwebp when the feature is on (it honours `effort` and `near_lossless`, and
//!   compresses better); image-webp without it, where `effort` and `near_lossless` are errors
//!   rather than silently ignored.
//!
//! Reading: [`decode`] (image-webp, whole frame, priced) over our own RIFF walk
//! ([`decode_header`]); with the `webp-lossy` feature, still lossy frames without alpha go
//! through libwebp, which shrinks on load (`decode_libwebp`).

pub mod codec;
pub mod decode;
pub mod decode_header;
#[cfg(feature = "webp-lossy")]
pub mod decode_libwebp;
pub mod encode;
#[cfg(feature = "webp-lossy")]
mod fast_mode;
#[cfg(feature = "webp-lossy")]
mod libwebp;
mod rust_lossless;

pub use encode::{WebpEncoder, WebpLibrary};
