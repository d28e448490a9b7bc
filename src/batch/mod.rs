//! Batches: many images on one machine under one memory budget.
//!
//! A batch is a list of [`BatchJob`]s (an input and its outputs, each with a [`Recipe`](crate::plan::Recipe)),
//! written by hand, read from a manifest by the caller, or made by [`tree_jobs`] from a
//! directory tree mirrored into an output tree with [`OutputTemplate`]s. [`run_batch`] then:
//!
//! * skips outputs that are already complete (present and not older than their input: outputs
//!   are written under a temporary name and moved into place, so a present file is whole), unless
//!   [`BatchOptions::overwrite`];
//! * plans each job before it starts (header only), and reserves the largest planned heap of its
//!   outputs, plus its planned scratch when `TMPDIR` is a tmpfs, plus [`JOB_RSS_OVERHEAD`]; the
//!   input is read by positioned reads, never mapped, so it adds nothing to the resident set;
//! * admits jobs through a [`MemoryGate`] in arrival order: as many run at once as their
//!   reservations fit in [`BatchOptions::max_memory`] less the program's own resident size, at most
//!   [`BatchOptions::workers`]; a big job waits for room and nothing overtakes it; a job larger
//!   than the whole budget is refused alone with [`Error::Limits`](crate::Error::Limits);
//! * runs each job's outputs on a worker over one opened input as a [`FanOut`]: outputs whose
//!   plans ask the decoder for the same rows share one decode (each on a thread of its own,
//!   reading a [`tee`](crate::pipeline::tee)), the others decode on their own, group after group;
//!   the job reserves its largest group's heap;
//! * reports every output ([`OutputRecord`], a JSON line with [`OutputRecord::to_json`]) as it
//!   ends, failed ones included, and returns a [`Summary`].
//!
//! ```no_run
//! use stripflow::batch::{run_batch, tree_jobs, BatchOptions, OutputTemplate, Variant};
//! use stripflow::prelude::*;
//! use std::path::Path;
//!
//! // Every image under uploads/ as a 256 px and a 1024 px WebP under thumbs/, same folders.
//! let variants: Vec<Variant> = [256, 1024]
//!     .into_iter()
//!     .map(|side| Variant { recipe: Recipe::new().auto_orient().resize(side, side).fit(Fit::Inside), size: Some((side, side)) })
//!     .collect();
//! let templates = [OutputTemplate::new("{dir}/{stem}-{width}.webp")?];
//! let jobs = tree_jobs(Path::new("uploads"), Path::new("thumbs"), &templates, &variants)?;
//! let options = BatchOptions { max_memory: 512 << 20, workers: 4, ..BatchOptions::default() };
//! let summary = run_batch(jobs, &options, &|record| println!("{}", record.to_json()));
//! eprintln!("{summary}");
//! assert!(summary.all_ok());
//! # Ok::<(), stripflow::Error>(())
//! ```

mod admission;
mod fanout;
mod log;
mod manifest;
mod memory;
mod pool;

pub use admission::{MemoryGate, Permit};
pub use fanout::{FanOut, OutputDone, OutputGroup};
pub use log::{OutputRecord, Status, Summary};
pub use manifest::{image_files, jobs_for_files, tree_jobs, BatchJob, BatchOutput, OutputTemplate, TemplateVars, Variant};
pub use memory::{peak_resident_bytes, release_free_heap, resident_bytes, scratch_is_memory};
pub use pool::{is_complete, run_batch, BatchOptions, HeapMeter, JOB_RSS_OVERHEAD, PROGRAM_RSS};
