//! What the fuzz targets share: the budget every unit runs under and a sink that drains a
//! planned pipeline.
//!
//! Each target is one file in `fuzz_targets/`; this crate keeps them short. The limits are
//! small so that a unit is fast: a unit that is slow or large within them is a finding.

use stripflow::io::Input;
use stripflow::pipeline::drain;
use stripflow::plan::{Chain, Pipeline};
use stripflow::Result;

/// Heap budget of every fuzzed job.
pub const MAX_MEMORY: usize = 64 << 20;

/// Output pixel limit of the targets that encode or keep whole outputs (`chain`,
/// `strip_height`), so a unit stays fast; the decode targets keep the planner's default.
pub const MAX_OUTPUT_PIXELS: u64 = 1 << 20;

/// `bytes` as an input (a copy: the library keeps its input).
pub fn input(bytes: &[u8]) -> Input {
    Input::from_bytes(bytes.to_vec())
}

/// `input` as a pipeline under the fuzzing budget.
pub fn pipeline(input: &Input) -> Pipeline {
    Pipeline::from_input(input.clone()).max_memory(MAX_MEMORY)
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
