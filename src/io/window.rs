//! [`Window`]: a bounded view of the part of an [`Input`] one forward-moving reader is at.
//!
//! Decoders read through windows instead of slicing the whole input: the JPEG marker walk and
//! each scan cursor, the Adam7 checking pass and each of its cursors. A window over a file owns
//! a buffer of a capacity fixed when it is made, refilled by a positioned read when the reader
//! needs bytes it does not hold (the bytes not yet consumed move to its front first). Over input
//! that can be read in place (in memory or mapped) it holds no buffer and hands out sub-slices
//! of the input, releasing mapped pages it has moved past by position, in steps, whatever the
//! bytes are.

use super::input::{Input, InputReader};
use crate::error::Result;

/// Longest slice a window over in-place input hands out at once, so that its reader comes back
/// (and releases mapped pages behind it) at least this often.
const IN_PLACE_STEP: usize = 1 << 20;

/// A bounded, forward-moving view of an [`Input`]; see the module notes.
#[derive(Debug, Default)]
pub(crate) struct Window {
    /// The buffer (empty for input read in place); its length is the capacity.
    buffer: Box<[u8]>,
    /// Input offset of `buffer[0]`.
    start: usize,
    /// Valid bytes at the front of `buffer`.
    filled: usize,
    /// For mapped input: offset up to which pages have been released.
    released_to: usize,
    /// Reads of the input made so far (for tests of how often a reader refills).
    reads: usize,
}

impl Window {
    /// A window of `capacity` bytes over `input` (no buffer when `input` is read in place) for
    /// a reader that starts at offset `from` (pages before it are not this reader's to release).
    pub(crate) fn new(input: &Input, capacity: usize, from: usize) -> Window {
        let buffer = if input.as_slice().is_some() { Box::default() } else { vec![0u8; capacity].into_boxed_slice() };
        Window { buffer, start: from, filled: 0, released_to: from, reads: 0 }
    }

    /// How many times the window has read from the input.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn reads(&self) -> usize {
        self.reads
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.buffer.len()
    }

    /// The bytes of `input` from `pos` on, ending at or before `end` (clamped to the input's
    /// length): at least `min(want, end - pos)` of them, more when the window has them.
    /// `want` must not exceed the capacity given to [`Window::new`] (it is clamped to it). Ask
    /// for what the next step needs, not for the capacity: the window refills, reading as much
    /// as its buffer holds, only when it holds fewer than `want` bytes from `pos`.
    ///
    /// Errors are the input's (a file that shrank: see [`Input::read_at`]).
    ///
    /// Inlined: entropy decoders ask once per block or MCU (a progressive JPEG's single-component
    /// scans, block by block: a call that was 6 % of a 16384^2 progressive thumbnail).
    #[inline(always)]
    pub(crate) fn get<'a>(&'a mut self, input: &'a Input, pos: usize, want: usize, end: usize) -> Result<&'a [u8]> {
        let end = end.min(input.len());
        if pos >= end {
            return Ok(&[]);
        }
        if let Some(bytes) = input.as_slice() {
            if pos.saturating_sub(InputReader::KEEP_BEHIND) >= self.released_to + InputReader::RELEASE_STEP || pos < self.released_to {
                self.release_behind(input, pos);
            }
            return Ok(&bytes[pos..end.min(pos + want.max(IN_PLACE_STEP))]);
        }
        let need = want.min(end - pos).min(self.buffer.len()).max(1);
        if pos >= self.start && self.start + self.filled >= pos + need {
            let stop = self.filled.min(end - self.start);
            return Ok(&self.buffer[pos - self.start..stop]);
        }
        self.refill(input, pos, need, end)
    }

    /// [`Window::get`] for input read by position when the buffer does not hold `need` bytes
    /// from `pos`: keeps what it holds from there and reads the rest.
    fn refill<'a>(&'a mut self, input: &'a Input, pos: usize, need: usize, end: usize) -> Result<&'a [u8]> {
        let holds_pos = pos >= self.start && pos <= self.start + self.filled;
        if !holds_pos || self.start + self.filled < pos + need {
            if holds_pos {
                let keep = pos - self.start..self.filled;
                self.filled = keep.len();
                self.buffer.copy_within(keep, 0);
            } else {
                self.filled = 0;
            }
            self.start = pos;
            let target = self.buffer.len().min(end - pos);
            if self.filled < target {
                let read = input.read_at(pos + self.filled, &mut self.buffer[self.filled..target])?;
                self.filled += read;
                self.reads += 1;
            }
        }
        let stop = self.filled.min(end - self.start);
        Ok(&self.buffer[pos - self.start..stop])
    }

    /// For mapped input: releases the pages more than [`InputReader::KEEP_BEHIND`] bytes behind
    /// `pos`, in steps of [`InputReader::RELEASE_STEP`].
    #[cold]
    fn release_behind(&mut self, input: &Input, pos: usize) {
        let keep_from = pos.saturating_sub(InputReader::KEEP_BEHIND);
        if keep_from >= self.released_to + InputReader::RELEASE_STEP {
            input.release(self.released_to..keep_from);
            self.released_to = keep_from;
        } else if pos < self.released_to {
            // A reader that went back (a new walk from the start) releases from there again.
            self.released_to = pos;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_over_files_and_memory_hand_out_the_same_bytes() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 253) as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        std::fs::write(&path, &data).unwrap();
        for input in [Input::open(&path).unwrap(), Input::from_bytes(data.clone())] {
            let mut window = Window::new(&input, 1000, 0);
            let mut pos = 0;
            // Steps of varying size, forward, with a few steps back inside the window.
            let mut step = 1;
            while pos < data.len() {
                let got = window.get(&input, pos, 700, 90_000).unwrap();
                let expect = (90_000usize.saturating_sub(pos)).min(700);
                assert!(got.len() >= expect, "at {pos}: {} < {expect}", got.len());
                assert!(got == &data[pos..pos + got.len()]);
                assert!(got.is_empty() || pos + got.len() <= 90_000);
                pos += step % 690;
                step = (step * 3 + 1) % 1_000_003;
            }
            assert!(window.heap_bytes() <= 1000);
            // A forward walk asking for a little at a time reads each window once.
            let mut window = Window::new(&input, 1000, 0);
            for pos in 0..data.len() {
                assert_eq!(window.get(&input, pos, 1, usize::MAX).unwrap()[0], data[pos]);
            }
            assert!(window.reads() <= data.len() / 1000 + 1, "{} reads", window.reads());
        }
    }
}
