//! Where bytes come from and go to, without holding a file on the heap.
//!
//! [`Input`] is a read-only view of the encoded image: a memory map of a file, or of a temporary
//! spool file when the input cannot be mapped (standard input, a socket). Decoders take slices of
//! it; several decoding cursors can read different parts of it at once, at no cost.
//!
//! A mapped page that has been read counts in the process's resident set (RSS) until the kernel
//! reclaims it, so a decoder that reads a 400 MB file front to back would show 400 MB of RSS
//! though its heap is 1 MB. Decoders therefore hand back what they have consumed with
//! [`Input::release`] (`madvise(MADV_DONTNEED)` on a read-only file mapping: the pages leave the
//! process but stay in the page cache, and a later read simply faults them in again, so a
//! release is never wrong, only possibly slow). [`InputReader`], the `Read + BufRead + Seek` view,
//! does it by itself as it moves forward.
//!
//! [`AtomicOutput`] writes to an unnamed temporary file in the target's folder (a named one where
//! the system has no `O_TMPFILE`) and moves it into place only when [`AtomicOutput::commit`] is
//! called: a failed or killed run leaves no partial file and never clobbers an existing output.

mod input;
mod output;

pub use input::{Input, InputReader};
pub use output::{remove_pending_outputs, AtomicOutput};
