//! The memory budget and the heap accounts of the parts of a pipeline that are not stages: the
//! encoders' internals and the fixed overhead of running a job.
//!
//! Stage buffers are predicted by the stages themselves (`Resize::predicted_buffer_bytes`,
//! `Reorient::predicted_buffer_bytes`, a decoder's `buffer_bytes` read before any pixel is
//! decoded). What the encoders' libraries hold internally was measured with dhat
//! (`tests/heap_plan.rs` checks every prediction against the measured peak), and so was the
//! png crate's decoder on non-interlaced files, whose buffers grow with the image data for small
//! images (the decoder's own account is a bound for large ones).

use crate::codec::jpeg::encode::{JpegEncoder, Subsampling};
use crate::codec::png::encode::{PngCompression, PngEncoder};
use crate::codec::Format;
use crate::pixel::{ImageInfo, PixelFormat};

/// Default heap budget: 256 MiB.
pub const DEFAULT_MAX_MEMORY: usize = 256 << 20;

/// Default input pixel limit, as sharp's `limitInputPixels` (0x3FFF x 0x3FFF).
pub const DEFAULT_LIMIT_INPUT_PIXELS: u64 = 268_402_689;

/// Frames of at most this many bytes are held on the heap by a whole-frame transform; larger
/// ones (or ones over a quarter of the budget) go to a memory-mapped scratch file, unless
/// scratch files are disabled.
pub const HEAP_FRAME_LIMIT: usize = 4 << 20;

/// Fixed heap of a job beyond its buffers: the plan itself, stage boxes, the output writer's
/// buffer and small bookkeeping.
pub const JOB_OVERHEAD: usize = 6 * 1024;

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
        Budget {
            max_memory: DEFAULT_MAX_MEMORY,
            limit_input_pixels: DEFAULT_LIMIT_INPUT_PIXELS,
            no_scratch: false,
        }
    }
}

/// Heap held by the encoder of `format` writing rows of `info`, including its library's
/// internal state, as measured with dhat (png 0.18, jpeg-encoder 0.7).
pub fn encoder_bytes(format: Format, info: ImageInfo, png: &PngEncoder, jpeg: &JpegEncoder) -> usize {
    let row = info.row_bytes();
    match format {
        Format::Png => {
            let strip_rows = png.strip_height.clamp(1, info.height.max(1)) as usize;
            let sixteen = info.format.depth == crate::pixel::BitDepth::Sixteen;
            // Our strip (and its big-endian copy), the png crate's previous and current rows,
            // its output row, and the deflate state: ~4 KiB for fdeflate (levels 0 and 1), about
            // 300 KiB for the zlib-style levels.
            let strip = row * strip_rows * if sixteen { 2 } else { 1 };
            let deflate = match png.compression {
                PngCompression::None | PngCompression::Fast => 5 * 1024,
                PngCompression::Level(_) => PNG_ZLIB_STATE,
            };
            strip + 3 * (row + 1) + deflate
        }
        Format::Jpeg => {
            // jpeg-encoder's MCU row of component planes (16 rows of each of three planes for
            // 4:2:0 colour, 8 rows otherwise), our converted 8-bit row, the conversion stage's
            // input row when the format differs, and ~1 KiB of tables.
            let rgb = info.format.color.is_rgb();
            let converted = if rgb { PixelFormat::RGB8 } else { PixelFormat::GRAY8 };
            let w = info.width as usize;
            let planes = if rgb && jpeg.subsampling == Subsampling::S420 {
                w.div_ceil(16) * 16 * 16 * 3
            } else {
                w.div_ceil(8) * 8 * 8 * if rgb { 3 } else { 1 }
            };
            let convert = if info.format != converted { row } else { 0 };
            planes + converted.row_bytes(info.width) + convert + 1024
        }
    }
}

/// The zlib-style deflate state of the png crate's compression levels 2..=9.
pub const PNG_ZLIB_STATE: usize = 320 * 1024;

/// Heap the resize stage needs while it is built beyond what it keeps: the window ends of both
/// coefficient tables (4 bytes per output pixel of each axis) and a scratch span.
pub fn resize_build_bytes(width: u32, height: u32) -> usize {
    4 * (width as usize + height as usize) + 1024
}

/// Heap an interlaced PNG decoder needs beyond its buffer account while it is built (the png
/// crate's header reader and the checkpointing inflate pass), measured with dhat.
pub const ADAM7_TRANSIENT: usize = 48 * 1024;

/// Heap of the JPEG decoder: its buffer account plus what parsing the markers keeps (tables,
/// lookahead Huffman tables, scan list), measured as about 5 KiB plus 4 KiB per component.
pub fn jpeg_decoder_bytes(buffer_bytes: usize, components: usize) -> usize {
    buffer_bytes + 6 * 1024 + 4 * 1024 * components
}

/// Raw bytes the png crate may inflate beyond the last row a crop asks for (at least 8 rows),
/// counted in the decoder's prediction.
pub const PNG_READ_AHEAD_BYTES: u64 = 32 * 1024;

/// Heap of the PNG decoder on a non-interlaced file, measured with dhat for png 0.18 (widths
/// 1..20000, heights 1..3000): about 29 KiB of inflater state, plus the inflated-data buffer.
/// That buffer holds at most about twice the raw data inflated, never less than ~64 KiB once the
/// image has that much data, and at most a plateau of about 336 KiB or 8 to 16 raw rows.
///
/// `rows` is the number of rows read (a crop stops the decoder early), `height` the image's.
pub fn png_sequential_decoder_bytes(width: u32, rows: u32, height: u32, bits_per_pixel: u32) -> usize {
    let raw_row = (width as u64 * bits_per_pixel as u64).div_ceil(8) + 1;
    let raw_total = raw_row * height as u64;
    let ahead = PNG_READ_AHEAD_BYTES.div_ceil(raw_row).max(8);
    let raw_read = raw_row * (rows as u64 + ahead).min(height as u64);
    // Large images: a plateau of ~336 KiB, or ~8 rows when rows are wide (up to ~16 rows when
    // the whole image is only a few rows).
    let cap = (336 * 1024).max(17 * raw_row / 2).max((2 * raw_total + 4096).min(33 * raw_row / 2));
    let buffer = (2 * raw_total + 4096).min((2 * raw_read + 4096).max(64 * 1024)).min(cap);
    (29 * 1024 + buffer) as usize
}

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
