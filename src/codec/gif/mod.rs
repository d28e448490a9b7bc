//! GIF input: the first frame streamed, or any frame composited as a browser shows it.
//!
//! * [`blocks`]: our own bounded walk over the block structure (no LZW decoding): the logical
//!   screen, the frame count (`Metadata::pages`), and the facts of the frames a job needs.
//! * [`decode`]: the row source, over the `gif` crate's line-by-line LZW decoder.
//! * [`codec`]: the registry entry and the heap model.

pub mod blocks;
pub mod codec;
pub mod decode;

pub use blocks::{walk, GifFrame, GifLayout};
pub use decode::GifDecoder;
