//! The runner: jobs are planned one after another on the calling thread (header only), admitted
//! through a [`MemoryGate`] in arrival order, and run on a fixed pool of worker threads; each
//! output's [`OutputRecord`] goes to the caller's callback as it ends.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::admission::{MemoryGate, Permit};
use super::fanout::FanOut;
use super::log::{OutputRecord, Status, Summary};
use super::manifest::BatchJob;
use super::memory::{peak_resident_bytes, release_free_heap, resident_bytes, scratch_is_memory};
use crate::error::Error;
use crate::io::Input;

/// Measures the peak heap of the calling thread (a counting global allocator that keeps
/// per-thread counters can; the library cannot see the allocator).
pub trait HeapMeter: Send + Sync {
    /// Starts a measurement on the calling thread.
    fn start(&self);
    /// Peak heap bytes allocated by the calling thread since [`start`](Self::start), if known.
    fn peak(&self) -> Option<usize>;
}

/// Resident memory the batch assumes for each job beyond its planned heap: the worker's stack
/// and the allocator's bookkeeping around the job's buffers. Measured on the mixed upload set
/// (see the README's batch section).
pub const JOB_RSS_OVERHEAD: usize = 1 << 20;

/// Resident memory the batch keeps aside for the program itself (code and data of the codecs,
/// touched on first use) when its resident size at the start is smaller.
pub const PROGRAM_RSS: usize = 8 << 20;

/// How a batch runs.
#[derive(Clone)]
pub struct BatchOptions {
    /// Budget for the whole batch, bytes: the program, every running job's planned heap (and
    /// scratch, when `TMPDIR` is in memory) and overhead together.
    pub max_memory: usize,
    /// Most jobs at once (at least 1).
    pub workers: usize,
    /// Make outputs again even when they are complete.
    pub overwrite: bool,
    /// Resident bytes counted per job beyond its plan ([`JOB_RSS_OVERHEAD`] by default).
    pub job_overhead: usize,
    /// Measures each output's peak heap, when given.
    pub heap_meter: Option<Arc<dyn HeapMeter>>,
}

impl std::fmt::Debug for BatchOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchOptions")
            .field("max_memory", &self.max_memory)
            .field("workers", &self.workers)
            .field("overwrite", &self.overwrite)
            .field("job_overhead", &self.job_overhead)
            .field("heap_meter", &self.heap_meter.is_some())
            .finish()
    }
}

impl Default for BatchOptions {
    /// 512 MiB, one worker per available core, complete outputs skipped.
    fn default() -> Self {
        BatchOptions {
            max_memory: 512 << 20,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            overwrite: false,
            job_overhead: JOB_RSS_OVERHEAD,
            heap_meter: None,
        }
    }
}

/// Whether `output` is complete: present, and modified no earlier than `input` (outputs are
/// written under a temporary name and moved into place, so a present file is whole).
pub fn is_complete(input: &Path, output: &Path) -> bool {
    let (Ok(out), Ok(inp)) = (std::fs::metadata(output), std::fs::metadata(input)) else { return false };
    match (out.modified(), inp.modified()) {
        (Ok(o), Ok(i)) => out.is_file() && o >= i,
        _ => false,
    }
}

/// An admitted job.
struct Work {
    input: PathBuf,
    outputs: FanOut,
    started: Instant,
    permit: Permit,
}

/// Runs `jobs` under `options`, calling `on_record` (from any thread) once per output as it
/// ends. One failed output never stops the batch; the summary counts what happened.
pub fn run_batch(jobs: impl IntoIterator<Item = BatchJob>, options: &BatchOptions, on_record: &(dyn Fn(&OutputRecord) + Sync)) -> Summary {
    let started = Instant::now();
    let program = resident_bytes().unwrap_or(0).max(PROGRAM_RSS);
    let job_budget = options.max_memory.saturating_sub(program);
    let gate = MemoryGate::new(job_budget, options.workers);
    let scratch_in_memory = scratch_is_memory();
    let counts = Mutex::new(Summary { budget: options.max_memory, job_budget, ..Summary::default() });
    let record = |r: OutputRecord| {
        {
            let mut c = counts.lock().unwrap_or_else(|p| p.into_inner());
            match r.status {
                Status::Ok => c.ok += 1,
                Status::Skipped => c.skipped += 1,
                Status::Failed => c.failed += 1,
            }
        }
        on_record(&r);
    };
    let (send, receive) = mpsc::channel::<Work>();
    let receive = Mutex::new(receive);
    std::thread::scope(|scope| {
        for _ in 0..options.workers.max(1) {
            let (receive, record, meter) = (&receive, &record, options.heap_meter.clone());
            scope.spawn(move || loop {
                let work = match receive.lock().unwrap_or_else(|p| p.into_inner()).recv() {
                    Ok(work) => work,
                    Err(_) => return,
                };
                run_job(work, meter.as_deref(), record);
            });
        }
        for job in jobs {
            counts.lock().unwrap_or_else(|p| p.into_inner()).inputs += 1;
            if let Some(work) = admit(job, options, &gate, scratch_in_memory, &record) {
                if send.send(work).is_err() {
                    break;
                }
            }
        }
        drop(send);
    });
    let mut summary = counts.into_inner().unwrap_or_else(|p| p.into_inner());
    summary.elapsed = started.elapsed();
    summary.peak_reserved = gate.peak_reserved();
    summary.peak_rss = peak_resident_bytes();
    summary
}

fn failed(input: &Path, output: &Path, error: &Error, started: Instant, planned: Option<usize>, reserved: Option<usize>) -> OutputRecord {
    OutputRecord {
        input: input.to_path_buf(),
        output: output.to_path_buf(),
        status: Status::Failed,
        error: Some((error.kind(), error.to_string())),
        elapsed: started.elapsed(),
        planned_heap: planned,
        reserved,
        measured_heap: None,
    }
}

/// Skips complete outputs, plans the rest and waits for room; `None` when nothing is left to run.
fn admit(job: BatchJob, options: &BatchOptions, gate: &Arc<MemoryGate>, scratch_in_memory: bool, record: &dyn Fn(OutputRecord)) -> Option<Work> {
    let started = Instant::now();
    let mut pending = Vec::new();
    for out in job.outputs {
        if !options.overwrite && is_complete(&job.input, &out.path) {
            record(OutputRecord { status: Status::Skipped, error: None, ..failed(&job.input, &out.path, &Error::parameter(""), started, None, None) });
        } else {
            pending.push(out);
        }
    }
    if pending.is_empty() {
        return None;
    }
    let input = match Input::open(&job.input) {
        Ok(input) => input,
        Err(e) => {
            let e = match e {
                Error::Io(io) => Error::file(&job.input, io),
                other => other,
            };
            for out in &pending {
                record(failed(&job.input, &out.path, &e, started, None, None));
            }
            return None;
        }
    };
    let mut outputs = FanOut::new(input);
    for out in pending {
        if let Some(dir) = out.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // A folder that cannot be made fails the output when its file is created.
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(e) = outputs.add(one_thread_unless_set(out.recipe), &out.path) {
            record(failed(&job.input, &out.path, &e, started, None, None));
        }
    }
    let groups = outputs.groups();
    let scratch = |g: &super::OutputGroup| if scratch_in_memory { g.scratch_bytes as usize } else { 0 };
    let cost = groups.iter().map(|g| g.heap_bytes + scratch(g)).max()? + options.job_overhead;
    match gate.admit(cost) {
        Ok(permit) => Some(Work { input: job.input, outputs, started, permit }),
        Err(e) => {
            for i in 0..outputs.len() {
                let path = outputs.path(i);
                record(failed(&job.input, path, &e, started, Some(outputs.plan(i).heap_bytes), Some(cost)));
            }
            None
        }
    }
}

/// Runs an admitted job's outputs on this worker (a shared decode's outputs on threads of
/// their own).
fn run_job(work: Work, meter: Option<&dyn HeapMeter>, record: &(dyn Fn(OutputRecord) + Sync)) {
    let Work { input, outputs, started, permit } = work;
    let reserved = permit.bytes();
    outputs.run(meter, &|done| {
        let mut r = match done.result {
            Ok(_) => OutputRecord {
                input: input.clone(),
                output: done.path,
                status: Status::Ok,
                error: None,
                elapsed: started.elapsed(),
                planned_heap: Some(done.planned_heap),
                reserved: Some(reserved),
                measured_heap: None,
            },
            Err(e) => failed(&input, &done.path, &e, started, Some(done.planned_heap), Some(reserved)),
        };
        r.measured_heap = done.measured_heap;
        record(r);
    });
    // Give the job's freed heap back before its reservation is released, so the next admitted
    // job's bytes are not counted twice in the resident set.
    release_free_heap();
    drop(permit);
}

/// A batch's parallelism is its workers: a job whose recipe leaves its thread count unset runs
/// on its worker alone (no handoff thread, so the workers do not oversubscribe the cores, and
/// the per-thread heap a worker measures is the job's whole heap); a recipe that sets
/// [`crate::plan::Chain::threads`] keeps its count.
fn one_thread_unless_set(mut recipe: crate::plan::Recipe) -> crate::plan::Recipe {
    if recipe.threads.is_none() {
        recipe.threads = Some(1);
    }
    recipe
}

#[cfg(test)]
mod tests {
    use super::one_thread_unless_set;
    use crate::plan::{Chain, Recipe};

    #[test]
    fn batch_jobs_run_on_one_thread_unless_their_recipe_says_otherwise() {
        assert_eq!(one_thread_unless_set(Recipe::new()).thread_count(), 1);
        assert_eq!(one_thread_unless_set(Recipe::new().threads(3)).thread_count(), 3);
    }
}
