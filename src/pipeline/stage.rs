//! [`StageSpec`]: a stage described before it is built, the one place where an operation states
//! its output geometry, its heap and how it is built.
//!
//! The planner (`crate::plan`) never re-derives a stage's facts: it asks each spec in the chain
//! for its output and its bytes, adds them up against the budget, and later asks the same specs to
//! build. Each operation computes its prediction from the same private layout its constructor
//! allocates from (see `ops::resize`, whose `Plan` feeds both), so what is predicted is what gets
//! built. A program can put its own stage into the planned chain by implementing this trait (see
//! [`crate::plan::Chain::stage`]): its declared heap then counts against the budget like any other.

use std::fmt;

use super::RowSource;
use crate::error::Result;
use crate::pixel::ImageInfo;

/// A boxed row source: what a built stage is, whatever its type. Row sources are `Send`, so a
/// built chain can move to another thread.
pub type BoxedSource = Box<dyn RowSource>;

/// A stage of a pipeline, described before it is built.
///
/// `input` is always the [`ImageInfo`] of the rows the stage will pull, as produced by the stage
/// before it; `heap_bytes` must equal the bytes the built stage reports in
/// [`RowSource::buffer_bytes`] plus what building it needs transiently (the planner's heap
/// property test checks predicted against measured peaks for random chains).
pub trait StageSpec: fmt::Debug + Send + Sync {
    /// A short name for plans and errors, e.g. `"crop"`.
    fn name(&self) -> String;

    /// The rows this stage produces from rows of `input`, or why it cannot run on them.
    fn output(&self, input: ImageInfo) -> Result<ImageInfo>;

    /// Heap bytes the built stage holds (and needs while being built) for rows of `input`.
    fn heap_bytes(&self, input: ImageInfo) -> usize;

    /// Scratch-file bytes the built stage writes for rows of `input` (default none).
    fn scratch_bytes(&self, _input: ImageInfo) -> u64 {
        0
    }

    /// What the stage does, for people ("lanczos3 cover", "at 10,20"); empty by default.
    fn detail(&self, _input: ImageInfo) -> String {
        String::new()
    }

    /// Builds the stage over `upstream`, allocating every buffer now.
    fn build(&self, upstream: BoxedSource) -> Result<BoxedSource>;
}
