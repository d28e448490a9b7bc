//! [`tee`]: one source's rows read by several chains, each on its own thread, decoded once.
//!
//! Several outputs of one input (three sizes, two formats) each pull the same decoded rows. The
//! tee holds a ring of the last [`TEE_ROWS`] rows read from the source; every branch has a cursor
//! into it. A branch that needs a row the ring does not hold yet reads it from the source itself
//! (under the tee's lock), provided the ring has room: a row leaves the ring only when every
//! branch still running has copied it. A branch that is [`TEE_ROWS`] rows ahead of the slowest
//! waits until the slowest moves. The slowest branch never waits (the row it needs is either in
//! the ring or next to read, and the ring has room for it), so the branches cannot deadlock,
//! and the heap is the ring plus the source's own buffers, whatever the image height and
//! whatever pace the branches keep.
//!
//! A branch that ends (all rows read, an error in its own chain, a panic) leaves the tee when it
//! is dropped: the others stop waiting for it. A failure of the source is reported to every
//! branch that asks for a row after it.
//!
//! Each branch must run on a thread of its own: a branch waits for the others to move, so two
//! branches read alternately on one thread would wait for each other forever once one is a ring
//! ahead.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::{chain_buffer_bytes, BoxedSource, RowSource};
use crate::error::{Error, Result};
use crate::pixel::ImageInfo;

/// Rows the tee's ring holds: how far the fastest branch may run ahead of the slowest.
pub const TEE_ROWS: u32 = 16;

/// Rows read from the source at once, when the ring has room for them (fewer calls under the
/// lock; a decoder produces a strip faster than rows one by one).
const READ_AHEAD_ROWS: u32 = 8;

/// Heap bytes of a tee over rows of `info`: its ring (the source's own buffers are the
/// source's).
pub fn tee_bytes(info: ImageInfo) -> usize {
    ring_rows(info) as usize * info.row_bytes()
}

fn ring_rows(info: ImageInfo) -> u32 {
    TEE_ROWS.min(info.height).max(1)
}

/// Splits `source` into `branches` row sources that each produce all of its rows.
///
/// The first branch reports the ring and the source's buffers in its
/// [`RowSource::buffer_bytes`], the others nothing, so the chains' buffers add up to the heap
/// held. Run each branch on a thread of its own (see the module documentation).
pub fn tee(source: BoxedSource, branches: usize) -> Vec<TeeBranch> {
    let info = source.info();
    let capacity = ring_rows(info);
    let shared_bytes = chain_buffer_bytes(&*source) + tee_bytes(info);
    let ring = vec![0u8; tee_bytes(info)];
    let shared = Arc::new(Shared {
        state: Mutex::new(State { source, ring, capacity, read: 0, cursors: vec![0; branches], failure: None }),
        moved: Condvar::new(),
    });
    (0..branches)
        .map(|index| TeeBranch { shared: shared.clone(), index, info, shared_bytes: if index == 0 { shared_bytes } else { 0 } })
        .collect()
}

/// The state every branch shares.
struct Shared {
    state: Mutex<State>,
    /// Signalled when a row was read from the source, a branch moved or a branch left.
    moved: Condvar,
}

struct State {
    source: BoxedSource,
    /// `capacity` rows; row `y` lives in slot `y % capacity`.
    ring: Vec<u8>,
    capacity: u32,
    /// Rows read from the source so far.
    read: u32,
    /// Next row of each branch; [`ENDED`] once the branch has left.
    cursors: Vec<u32>,
    /// The source's failure, told to every branch that asks for a row after it.
    failure: Option<Error>,
}

/// The cursor of a branch that has left the tee.
const ENDED: u32 = u32::MAX;

impl State {
    /// The row the slowest branch still running needs next (`read` when none is running).
    fn oldest_needed(&self) -> u32 {
        self.cursors.iter().copied().filter(|&c| c != ENDED).min().unwrap_or(self.read).min(self.read)
    }

    /// Reads rows from the source into the ring's free slots (at most up to the ring's end and
    /// [`READ_AHEAD_ROWS`]); returns how many were read.
    fn read_ahead(&mut self, height: u32, row_bytes: usize) -> Result<u32> {
        let free = self.capacity - (self.read - self.oldest_needed());
        let slot = self.read % self.capacity;
        let n = free.min(self.capacity - slot).min(READ_AHEAD_ROWS).min(height - self.read);
        let bytes = &mut self.ring[slot as usize * row_bytes..][..n as usize * row_bytes];
        self.source.read_rows(bytes)?;
        self.read += n;
        Ok(n)
    }
}

/// One branch of a [`tee`]: all the source's rows, top to bottom.
pub struct TeeBranch {
    shared: Arc<Shared>,
    index: usize,
    info: ImageInfo,
    shared_bytes: usize,
}

impl TeeBranch {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A branch that panicked while holding the lock left the state consistent (a failed
        // read is recorded before anything else changes), so the others may go on.
        self.shared.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl RowSource for TeeBranch {
    fn info(&self) -> ImageInfo {
        self.info
    }

    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        let row_bytes = self.info.row_bytes();
        if row.len() != row_bytes {
            return Err(Error::parameter("row buffer has the wrong length"));
        }
        let mut state = self.lock();
        loop {
            let y = state.cursors[self.index];
            if y >= self.info.height {
                return Err(Error::parameter(format!("row {y} requested from an image {} rows tall", self.info.height)));
            }
            if y < state.read {
                let slot = (y % state.capacity) as usize;
                row.copy_from_slice(&state.ring[slot * row_bytes..][..row_bytes]);
                let was_oldest = state.oldest_needed() == y;
                state.cursors[self.index] = y + 1;
                if was_oldest {
                    self.shared.moved.notify_all();
                }
                return Ok(());
            }
            if let Some(failure) = &state.failure {
                return Err(failure.duplicate());
            }
            if state.read - state.oldest_needed() < state.capacity {
                match state.read_ahead(self.info.height, row_bytes) {
                    Ok(_) => self.shared.moved.notify_all(),
                    Err(e) => {
                        let told = e.duplicate();
                        state.failure = Some(e);
                        self.shared.moved.notify_all();
                        return Err(told);
                    }
                }
            } else {
                state = self.shared.moved.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        }
    }

    fn buffer_bytes(&self) -> usize {
        self.shared_bytes
    }

    fn name(&self) -> &'static str {
        "tee"
    }
}

impl Drop for TeeBranch {
    fn drop(&mut self) {
        let mut state = self.lock();
        state.cursors[self.index] = ENDED;
        drop(state);
        self.shared.moved.notify_all();
    }
}

#[cfg(test)]
mod tests;
