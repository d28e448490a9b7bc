//! The vertical pass, in scatter form (downscale) or gather form (upscale).
//!
//! Both forms consume horizontally resampled kernel-input rows in order and produce output rows
//! in order; the arithmetic for an output row is the same whatever the caller's strip height.
//!
//! * Scatter: each arriving row `r` is added, times its weight, into the accumulator of every
//!   output row whose window holds `r` (the first contribution overwrites, so accumulators are
//!   never cleared separately). Output row `j` is complete once row `start_j + size_j - 1` has
//!   arrived. The accumulators are a ring indexed by `j mod slots`, where `slots` is the largest
//!   number of windows sharing one input row: about the kernel's width in output rows (7 for
//!   lanczos3), whatever the reduction factor.
//! * Gather: the last `slots` rows (the widest window, e.g. 6 for a lanczos3 upscale) are kept
//!   in a ring indexed by `r mod slots`, and output row `j` is their weighted sum.
//!
//! The form with fewer rows is chosen when the stage is built (a tie goes to gather).
//!
//! Why the ring never overwrites a row still needed: windows never move backwards
//! (`coefficients.rs`). In scatter form, an input row is read only while the next output row `j`
//! to emit is incomplete, so every open accumulator belongs to a row `>= j` whose window holds
//! the row being read, and there are at most `slots` of those. In gather form, row `j` is computed
//! right after its last input row was read, and its window is at most `slots` rows tall.

use super::coefficients::{Axis, Coefficients};
use crate::error::Result;

/// Values per block: rows are combined a block at a time so that the block being summed stays
/// in L1 cache across the taps (the order of operations per value is unchanged, so blocking does
/// not change results).
const BLOCK: usize = 2048;

/// `dst = w * src`.
#[inline]
fn set_scaled(dst: &mut [f32], src: &[f32], w: f32) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = w * s;
    }
}

/// `dst += w * src`.
#[inline]
fn add_scaled(dst: &mut [f32], src: &[f32], w: f32) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d += w * s;
    }
}

/// Which form the vertical pass takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// Accumulators for open output rows.
    Scatter,
    /// A ring of input rows.
    Gather,
}

/// The form and number of row buffers for an axis.
pub(crate) fn plan(axis: &Axis) -> (Form, usize) {
    let gather = axis.max_span();
    let scatter = axis.max_open();
    if scatter < gather {
        (Form::Scatter, scatter)
    } else {
        (Form::Gather, gather)
    }
}

/// Heap bytes of the pass for rows of `row_len` values.
pub(crate) fn bytes_for(axis: &Axis, row_len: usize) -> usize {
    let (_, slots) = plan(axis);
    axis.table_bytes() + (slots + 1) * row_len * 4
}

/// The state of the vertical pass.
#[derive(Debug)]
pub(crate) struct Vertical {
    coefficients: Coefficients,
    form: Form,
    slots: usize,
    row_len: usize,
    /// `slots` rows: accumulators (scatter) or input rows (gather).
    rows: Vec<f32>,
    /// The incoming row (scatter) or the output row (gather).
    temp: Vec<f32>,
    /// Kernel-input rows consumed so far.
    consumed: u32,
}

impl Vertical {
    /// The pass for `axis` over rows of `row_len` values.
    pub fn new(axis: &Axis, row_len: usize) -> Self {
        let (form, slots) = plan(axis);
        Vertical {
            coefficients: axis.build(),
            form,
            slots,
            row_len,
            rows: vec![0.0; slots * row_len],
            temp: vec![0.0; row_len],
            consumed: 0,
        }
    }

    /// The coefficient table (for `input_rows`).
    pub fn coefficients(&self) -> &Coefficients {
        &self.coefficients
    }

    /// The form chosen.
    pub fn form(&self) -> Form {
        self.form
    }

    /// Heap bytes held.
    pub fn bytes(&self) -> usize {
        self.coefficients.bytes() + (self.rows.capacity() + self.temp.capacity()) * 4
    }

    /// Output row `j` (rows must be asked for in order), pulling kernel-input rows with `next`
    /// (given `None` for a row that no output row uses, which need only be read).
    ///
    /// The returned values may be modified by the caller (they are not read again).
    pub fn row(
        &mut self,
        j: usize,
        mut next: impl FnMut(Option<&mut [f32]>) -> Result<()>,
    ) -> Result<&mut [f32]> {
        let end = self.coefficients.end(j);
        let len = self.row_len;
        match self.form {
            Form::Scatter => {
                while self.consumed < end {
                    let r = self.consumed as usize;
                    if (self.coefficients.starts[j] as usize) > r {
                        // No window holds this row (nearest neighbour, trimmed windows): it is
                        // read but not converted or resampled.
                        next(None)?;
                        self.consumed += 1;
                        continue;
                    }
                    next(Some(&mut self.temp))?;
                    // The open rows this input row feeds: j, j + 1, ... while their window has
                    // started (every one of them ends after r, see the module notes).
                    let mut open = j;
                    while open < self.coefficients.starts.len() && self.coefficients.starts[open] as usize <= r {
                        open += 1;
                    }
                    for block in (0..len).step_by(BLOCK) {
                        let block_len = BLOCK.min(len - block);
                        let src = &self.temp[block..][..block_len];
                        for row in j..open {
                            let (start, weights) = self.coefficients.window(row);
                            let w = weights[r - start];
                            let acc = &mut self.rows[(row % self.slots) * len + block..][..block_len];
                            if r == start {
                                set_scaled(acc, src, w);
                            } else {
                                add_scaled(acc, src, w);
                            }
                        }
                    }
                    self.consumed += 1;
                }
                Ok(&mut self.rows[(j % self.slots) * len..][..len])
            }
            Form::Gather => {
                while self.consumed < end {
                    let slot = self.consumed as usize % self.slots;
                    // Rows before the window are used by no later output row either.
                    let used = self.consumed >= self.coefficients.starts[j];
                    next(used.then(|| &mut self.rows[slot * len..][..len]))?;
                    self.consumed += 1;
                }
                let (start, weights) = self.coefficients.window(j);
                for block in (0..len).step_by(BLOCK) {
                    let block_len = BLOCK.min(len - block);
                    let out = &mut self.temp[block..][..block_len];
                    for (t, &w) in weights.iter().enumerate() {
                        let src = &self.rows[((start + t) % self.slots) * len + block..][..block_len];
                        if t == 0 {
                            set_scaled(out, src, w);
                        } else {
                            add_scaled(out, src, w);
                        }
                    }
                }
                Ok(&mut self.temp)
            }
        }
    }
}
