//! Where bytes come from and go to, without holding a file on the heap.
//!
//! [`Input`] is a read-only source of the encoded image. A file is read with positioned reads
//! (`pread`) into buffers that each reader owns and bounds: the png crate's [`InputReader`] one
//! of 32 KiB, the JPEG marker walk and every scan cursor, the Adam7 checking pass and its seven
//! cursors one (crate-private) `Window` each, of a few KiB to 64 KiB. A file that another
//! process truncates while it is read is then an error ("input ended early"), never a `SIGBUS`
//! as with a memory map, and its pages are never counted in the process's resident set.
//! Standard input is copied to an unnamed temporary file first (nothing is left behind).
//!
//! Bytes already in memory are read in place, and so is a file mapped on request
//! ([`Input::open_mapped`], which carries the SIGBUS risk). Mapped pages that were read count
//! in the process's resident set until the kernel reclaims them, so readers hand back what they
//! have moved past, by position ([`Input::release`]: `madvise(MADV_DONTNEED)` on the read-only
//! map; the pages stay in the page cache and a later read faults them in again).
//!
//! [`AtomicOutput`] writes to an unnamed temporary file in the target's folder (a named one where
//! the system has no `O_TMPFILE`) and moves it into place only when [`AtomicOutput::commit`] is
//! called: a failed or killed run leaves no partial file and never clobbers an existing output.

mod input;
mod output;
mod window;

pub(crate) use input::is_input_ended;
pub use input::{Input, InputReader};
pub use output::{remove_pending_outputs, AtomicOutput};
pub(crate) use window::Window;
