//! The limits a plan is checked against ([`Budget`]), and the fixed heap of running a job.
//!
//! Every other byte of a plan comes from the stage, decoder and encoder specifications themselves
//! (`StageSpec::heap_bytes`, `DecoderSpec::heap_bytes`, `EncoderSpec::heap_bytes`).

/// Default heap budget: 256 MiB.
pub const DEFAULT_MAX_MEMORY: usize = 256 << 20;

/// Default input pixel limit: 2^30 (16384 x 65536). stripflow's memory does not grow with the
/// pixel count, so this bounds time, not memory (sharp's 268,402,689 exists because it holds
/// frames, and would refuse a 16384x16384 photo).
pub const DEFAULT_LIMIT_INPUT_PIXELS: u64 = 1 << 30;

/// Default output pixel limit: 2^30, checked at plan time (a 32x32 -> 100000x100000 upscale
/// would otherwise run for minutes).
pub const DEFAULT_LIMIT_OUTPUT_PIXELS: u64 = 1 << 30;

/// A whole-frame transform holds its frame on the heap when the frame takes at most this share
/// of the budget (1/2), and in a scratch file otherwise, unless scratch files are disabled.
pub const HEAP_FRAME_SHARE: usize = 2;

/// Fixed heap of a job beyond its stages, decoder and encoder: the plan itself, stage boxes and
/// small bookkeeping, measured with dhat.
pub const JOB_OVERHEAD: usize = 6 * 1024;

/// The limits a plan must respect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Maximum predicted heap in bytes.
    pub max_memory: usize,
    /// Maximum number of input pixels (stored width x height).
    pub limit_input_pixels: u64,
    /// Maximum number of output pixels.
    pub limit_output_pixels: u64,
    /// Refuse scratch files: whole-frame transforms must fit on the heap.
    pub no_scratch: bool,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_memory: DEFAULT_MAX_MEMORY,
            limit_input_pixels: DEFAULT_LIMIT_INPUT_PIXELS,
            limit_output_pixels: DEFAULT_LIMIT_OUTPUT_PIXELS,
            no_scratch: false,
        }
    }
}

impl Budget {
    /// Whether a whole frame of `bytes` is held on the heap rather than in a scratch file.
    pub fn frame_on_heap(&self, bytes: u64) -> bool {
        self.no_scratch || bytes <= (self.max_memory / HEAP_FRAME_SHARE) as u64
    }
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
