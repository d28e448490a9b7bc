//! What the fuzz targets share: the budget every unit runs under and a sink that drains a
//! planned pipeline.
//!
//! Each target is one file in `fuzz_targets/`; this crate keeps them short. The limits are
//! small so that a unit is fast: a unit that is slow or large within them is a finding.

use stripflow::pipeline::drain;
use stripflow::plan::Pipeline;
use stripflow::Result;

/// Heap budget of every fuzzed job.
pub const MAX_MEMORY: usize = 64 << 20;

/// Largest output (pixels) the `chain` target encodes; larger planned outputs are skipped, so a
/// unit stays fast (the input side is bounded only by the planner's own limits).
pub const MAX_OUTPUT_PIXELS: u64 = 1 << 20;

/// `bytes` as a pipeline under the fuzzing budget.
pub fn pipeline(bytes: &[u8]) -> Pipeline {
    Pipeline::from_bytes(bytes.to_vec()).max_memory(MAX_MEMORY)
}

/// Plans and builds `pipeline`, then reads every output row in strips of `strip_height` rows,
/// returning the output pixels (or nothing when `keep` is false).
pub fn drain_rows(pipeline: Pipeline, strip_height: u32, keep: bool) -> Result<Vec<u8>> {
    let (_plan, mut rows) = pipeline.into_rows()?;
    let mut pixels = Vec::new();
    drain(&mut *rows, strip_height, |strip, _| {
        if keep {
            pixels.extend_from_slice(strip);
        }
        Ok(())
    })?;
    Ok(pixels)
}
