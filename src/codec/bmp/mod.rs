//! BMP input: our own decoder for the Windows and OS/2 bitmap formats.
//!
//! * [`header`]: the file and DIB headers (OS/2 core, BITMAPINFOHEADER, V2 to V5), the palette
//!   and the channel masks, parsed and checked without reading pixels.
//! * [`decode`]: the row source. Uncompressed files stream: each output row is one positioned
//!   read ([`crate::io::Input::read_at`]) of its file row into one row buffer, so a bottom-up file
//!   is served top-down without holding the frame. RLE4/RLE8 files are decoded whole into a
//!   frame of palette indices (priced in `heap_bytes`).
//! * [`codec`]: the registry entry.

pub mod codec;
pub mod decode;
pub mod header;
mod rle;

pub use decode::BmpDecoder;
pub use header::{read_header, BmpHeader};
