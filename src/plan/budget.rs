//! The memory budget and the heap accounts of the parts of a pipeline that are not stages: the
//! encoders' internals and the fixed overhead of running a job.
//!
//! Stage buffers are predicted by the stages themselves (`Resize::predicted_buffer_bytes`,
//! `Reorient::predicted_buffer_bytes`, a decoder's `buffer_bytes` read before any pixel is
//! decoded). What the encoders' libraries hold internally was measured with dhat
//! (`tests/heap_plan.rs` checks every prediction against the measured peak).

use crate::codec::jpeg::encode::JpegEncoder;
use crate::codec::png::encode::PngEncoder;
use crate::codec::Format;
use crate::pixel::{ImageInfo, PixelFormat};

/// Default heap budget: 256 MiB.
pub const DEFAULT_MAX_MEMORY: usize = 256 << 20;

/// Default input pixel limit, as sharp's `limitInputPixels` (0x3FFF x 0x3FFF).
pub const DEFAULT_LIMIT_INPUT_PIXELS: u64 = 268_402_689;

/// Frames of at most this many bytes are held on the heap by a whole-frame transform; larger
/// ones go to a memory-mapped scratch file (unless scratch files are disabled).
pub const HEAP_FRAME_LIMIT: usize = 4 << 20;

/// Fixed heap of a job beyond its buffers: the plan itself, stage boxes, the output writer's
/// buffer and small bookkeeping.
pub const JOB_OVERHEAD: usize = 16 * 1024;

/// The limits a plan must respect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Maximum predicted heap in bytes.
    pub max_memory: usize,
    /// Maximum number of input pixels (stored width x height).
    pub limit_input_pixels: u64,
    /// Refuse scratch files: whole-frame transforms must fit on the heap.
    pub no_scratch: bool,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { max_memory: DEFAULT_MAX_MEMORY, limit_input_pixels: DEFAULT_LIMIT_INPUT_PIXELS, no_scratch: false }
    }
}

/// Heap held by the encoder of `format` writing rows of `info`, including its library's
/// internal state (measured: the png crate's deflate state and buffers, jpeg-encoder's tables
/// and output buffer).
pub fn encoder_bytes(format: Format, info: ImageInfo, png: &PngEncoder, jpeg: &JpegEncoder) -> usize {
    match format {
        Format::Png => {
            let sixteen = info.format.depth == crate::pixel::BitDepth::Sixteen;
            png.buffer_bytes(info.row_bytes(), sixteen) + PNG_ENCODER_INTERNAL + 2 * info.row_bytes()
        }
        Format::Jpeg => {
            // The encoder converts to 8-bit RGB or gray first: one input row, plus its own rows.
            let converted = if info.format.color.is_rgb() { PixelFormat::RGB8 } else { PixelFormat::GRAY8 };
            jpeg.buffer_bytes(info.width, converted) + info.row_bytes() + JPEG_ENCODER_INTERNAL
        }
    }
}

/// The png crate's deflate state and output buffers (measured with dhat, png 0.18).
pub const PNG_ENCODER_INTERNAL: usize = 300 * 1024;

/// jpeg-encoder's Huffman and quantisation tables and output buffer (measured with dhat).
pub const JPEG_ENCODER_INTERNAL: usize = 24 * 1024;

/// Bytes for people: `1.50 MiB`, `12.0 KiB`.
pub fn human(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.2} GiB", bytes as f64 / (1u64 << 30) as f64)
    } else if bytes >= 1 << 20 {
        format!("{:.2} MiB", bytes as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}
