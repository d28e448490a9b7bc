//! The pull model: a chain of [`RowSource`]s that a sink drains strip by strip.
//!
//! A source (a decoder, a generator) or a stage (crop, resize, convert) produces rows of its
//! output, top to bottom, when asked. A stage owns the stage before it and pulls from it only the
//! rows it needs. Every stage allocates its buffers when it is built, never per row or strip, and
//! reports them in [`RowSource::buffer_bytes`], so the heap a pipeline needs is known before it
//! runs and does not change while it runs.
//!
//! Strip height is a hint: a sink may ask for one row at a time or for a hundred, and the pixels
//! must come out byte-identical either way (the tests check 1, 7 and the whole image). The only
//! required method is therefore [`RowSource::read_row`]; [`RowSource::read_rows`] is a convenience
//! that stages may override when a strip can be produced faster than row by row.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::pixel::ImageInfo;

mod handoff;
mod memory;
mod stage;
mod tee;

pub use handoff::{Detached, Handoff, HandoffLayout, HandoffSpec, HANDOFF_CONTROL_BYTES, HANDOFF_STRIPS, HANDOFF_STRIP_BYTES};
pub use memory::MemorySource;
pub use stage::{BoxedSource, StageSpec};
pub use tee::{tee, tee_bytes, TeeBranch, TEE_ROWS};

/// A producer of image rows, top to bottom.
pub trait RowSource: Send {
    /// Size and pixel format of the rows this source produces. Fixed once built.
    fn info(&self) -> ImageInfo;

    /// Writes the next row into `row`, whose length must be `info().row_bytes()`.
    ///
    /// Asking for more rows than `info().height` is a [`Error::Parameter`] error.
    fn read_row(&mut self, row: &mut [u8]) -> Result<()>;

    /// Writes the next `strip.len() / row_bytes` rows into `strip`.
    fn read_rows(&mut self, strip: &mut [u8]) -> Result<()> {
        let row_bytes = self.info().row_bytes();
        if row_bytes == 0 || strip.len() % row_bytes != 0 {
            return Err(Error::parameter("strip length is not a whole number of rows"));
        }
        for row in strip.chunks_exact_mut(row_bytes) {
            self.read_row(row)?;
        }
        Ok(())
    }

    /// The rows of the upstream source that output rows `output` depend on.
    ///
    /// For a source without upstream this is `output` itself.
    fn input_rows(&self, output: Range<u32>) -> Range<u32> {
        output
    }

    /// Heap bytes held by this stage's own buffers (not those of its upstream).
    fn buffer_bytes(&self) -> usize;

    /// A short name of the stage, for plans and diagnostics, e.g. `"crop"`.
    fn name(&self) -> &'static str;

    /// The stage this one pulls from, if any.
    fn upstream(&self) -> Option<&dyn RowSource> {
        None
    }
}

impl<S: RowSource + ?Sized> RowSource for Box<S> {
    fn info(&self) -> ImageInfo {
        (**self).info()
    }
    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        (**self).read_row(row)
    }
    fn read_rows(&mut self, strip: &mut [u8]) -> Result<()> {
        (**self).read_rows(strip)
    }
    fn input_rows(&self, output: Range<u32>) -> Range<u32> {
        (**self).input_rows(output)
    }
    fn buffer_bytes(&self) -> usize {
        (**self).buffer_bytes()
    }
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn upstream(&self) -> Option<&dyn RowSource> {
        (**self).upstream()
    }
}

/// Heap bytes held by the buffers of `source` and every stage upstream of it.
pub fn chain_buffer_bytes(source: &dyn RowSource) -> usize {
    let mut total = 0;
    let mut stage = Some(source);
    while let Some(s) = stage {
        total += s.buffer_bytes();
        stage = s.upstream();
    }
    total
}

/// Names of the stages of a chain, first (the decoder) to last.
pub fn chain_names(source: &dyn RowSource) -> Vec<&'static str> {
    let mut names = Vec::new();
    let mut stage = Some(source);
    while let Some(s) = stage {
        names.push(s.name());
        stage = s.upstream();
    }
    names.reverse();
    names
}

/// Counts rows handed out and rejects a request past the last row.
///
/// Sources embed one of these so that "asked for too many rows" is checked in one place.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowCounter {
    next: u32,
    height: u32,
}

impl RowCounter {
    /// A counter for an image `height` rows tall.
    pub fn new(height: u32) -> Self {
        RowCounter { next: 0, height }
    }

    /// Index of the row about to be produced, advancing the counter; an error past the end.
    pub fn advance(&mut self) -> Result<u32> {
        if self.next >= self.height {
            return Err(Error::parameter(format!(
                "row {} requested from an image {} rows tall",
                self.next, self.height
            )));
        }
        self.next += 1;
        Ok(self.next - 1)
    }

    /// Index of the next row to be produced.
    pub fn next(&self) -> u32 {
        self.next
    }

    /// Whether every row has been produced.
    pub fn is_done(&self) -> bool {
        self.next >= self.height
    }
}

/// Reads every row of `source` in strips of `strip_height` rows and hands each strip to `sink`.
///
/// The strip buffer is allocated once. `sink` receives the strip and the number of rows in it.
pub fn drain<F>(source: &mut dyn RowSource, strip_height: u32, mut sink: F) -> Result<()>
where
    F: FnMut(&[u8], u32) -> Result<()>,
{
    let info = source.info();
    let strip_height = strip_height.clamp(1, info.height.max(1));
    let row_bytes = info.row_bytes();
    let mut strip = vec![0u8; row_bytes * strip_height as usize];
    let mut done = 0u32;
    while done < info.height {
        let rows = strip_height.min(info.height - done);
        let part = &mut strip[..row_bytes * rows as usize];
        source.read_rows(part)?;
        sink(part, rows)?;
        done += rows;
    }
    Ok(())
}

impl<S: RowSource + ?Sized> RowSource for &mut S {
    fn info(&self) -> ImageInfo {
        (**self).info()
    }
    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        (**self).read_row(row)
    }
    fn read_rows(&mut self, strip: &mut [u8]) -> Result<()> {
        (**self).read_rows(strip)
    }
    fn input_rows(&self, output: Range<u32>) -> Range<u32> {
        (**self).input_rows(output)
    }
    fn buffer_bytes(&self) -> usize {
        (**self).buffer_bytes()
    }
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn upstream(&self) -> Option<&dyn RowSource> {
        (**self).upstream()
    }
}

