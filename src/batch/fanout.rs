//! [`FanOut`]: several outputs of one input, decoded once for each group of outputs whose plans
//! ask the decoder for the same rows.
//!
//! The outputs of one upload (three sizes, two formats) all need its pixels. When two outputs'
//! plans make the same [`DecodeRequest`](crate::codec::spec::DecodeRequest) of the same page (the
//! same shrink-on-load, the same crop-on-load window, the same rows), one decoder feeds both
//! through a [`tee`]: each output's stages and encoder run on a thread of their own, and the
//! decoder is read by whichever of them needs the next rows. Outputs whose requests differ are
//! decoded separately: a 256 px and a 1024 px thumbnail of an 8K JPEG decode at 1/8 and 1/4
//! scale, and decoding again at 1/8 costs less than resizing from the larger shared decode.
//! PNG, WebP, GIF, BMP and TIFF inputs have no shrink-on-load, so all their whole-image outputs
//! share one decode.
//!
//! Memory: a group holds one decoder, the tee's ring, and every member's stages, encoder and
//! file writer at once ([`OutputGroup::heap_bytes`]). An output that would take a group over
//! the budget of any of its members starts a group of its own. Groups run one after another, so
//! a fan-out needs the heap of its largest group ([`FanOut::heap_bytes`]). Planning an output
//! builds its decoder to learn its heap and keeps it for the run; with two outputs or more it is
//! dropped after planning and built again when its group starts (a JPEG's marker walk, an Adam7
//! PNG's checking inflate pass: once per group, not per output), so no decoder is held while
//! another output is planned or another group runs.
//!
//! ```no_run
//! use stripflow::batch::FanOut;
//! use stripflow::io::Input;
//! use stripflow::prelude::*;
//!
//! // One decode of the PNG for a 512 px WebP and a 512 px JPEG.
//! let mut outputs = FanOut::new(Input::open("upload.png")?);
//! for path in ["card.webp", "card.jpg"] {
//!     outputs.add(Recipe::new().resize(512, 512).fit(Fit::Inside), path)?;
//! }
//! assert_eq!(outputs.groups().len(), 1);
//! outputs.run(None, &|done| println!("{}: {:?}", done.path.display(), done.result.as_ref().map(|s| s.elapsed)));
//! # Ok::<(), stripflow::Error>(())
//! ```

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::Instant;

use super::pool::HeapMeter;
use crate::error::{Error, Result};
use crate::io::Input;
use crate::pipeline::{tee, tee_bytes, BoxedSource};
use crate::plan::{build_stages, encode_to_path, Pipeline, Plan, Recipe, RunStats};

/// Outputs of one input, planned and grouped by shared decode; see the module documentation.
pub struct FanOut {
    input: Input,
    members: Vec<Member>,
    groups: Vec<OutputGroup>,
}

/// A planned output.
struct Member {
    pipeline: Pipeline,
    path: PathBuf,
    plan: Plan,
}

/// Outputs decoded together, and the heap they need at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputGroup {
    /// Indices of the outputs (as [`FanOut::add`] returned them), in the order added.
    pub outputs: Vec<usize>,
    /// Planned peak heap of the group running: one decoder, the tee's ring (for two or more
    /// outputs) and each output's stages, encoder and overhead.
    pub heap_bytes: usize,
    /// Planned scratch-file bytes of the group's outputs together.
    pub scratch_bytes: u64,
}

/// One output's end, as [`FanOut::run`] reports it.
#[derive(Debug)]
pub struct OutputDone {
    /// The output's index, as [`FanOut::add`] returned it.
    pub index: usize,
    /// Where it was written (nothing is left there on failure).
    pub path: PathBuf,
    /// Its run, or why it failed.
    pub result: Result<RunStats>,
    /// Its planned heap: its plan's ([`Plan::heap_bytes`], the decoder included) and, for an
    /// output of a shared decode, the tee's ring.
    pub planned_heap: usize,
    /// Its measured peak heap: its own thread's and the shared decoder's, when a meter was given.
    pub measured_heap: Option<usize>,
}

impl FanOut {
    /// Outputs of `input` to come.
    pub fn new(input: Input) -> FanOut {
        FanOut { input, members: Vec::new(), groups: Vec::new() }
    }

    /// Plans `recipe` over the input for writing the file at `path` (format from its extension
    /// unless the recipe sets one) and adds it to the group it can share a decode with, or to a
    /// new one. Returns its index; on a planning error nothing is added.
    pub fn add(&mut self, recipe: Recipe, path: impl Into<PathBuf>) -> Result<usize> {
        let path = path.into();
        let pipeline = recipe.input(self.input.clone());
        let plan = pipeline.plan_for_path(&path)?;
        let index = self.members.len();
        self.members.push(Member { pipeline, path, plan });
        let joined = (0..self.groups.len()).find(|&g| self.shares_decode(g, index) && self.fits(g, index));
        // Planning built this output's decoder (to learn its heap) and keeps it for the run.
        // With two outputs or more none is kept: one held while another group runs, or while
        // the next output is planned, would be heap outside the plan. Each group builds its
        // decoder again when it starts.
        if index > 0 {
            for member in &self.members {
                member.pipeline.release_prepared_decoder();
            }
        }
        match joined {
            Some(g) => {
                let mut outputs = self.groups[g].outputs.clone();
                outputs.push(index);
                self.groups[g] = self.priced(outputs);
            }
            None => {
                let group = self.priced(vec![index]);
                self.groups.push(group);
            }
        }
        Ok(index)
    }

    /// The plan of output `index`.
    pub fn plan(&self, index: usize) -> &Plan {
        &self.members[index].plan
    }

    /// Where output `index` is written.
    pub fn path(&self, index: usize) -> &std::path::Path {
        &self.members[index].path
    }

    /// Outputs added.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether no output was added.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The groups, in the order they run.
    pub fn groups(&self) -> &[OutputGroup] {
        &self.groups
    }

    /// Planned peak heap of the whole fan-out: its largest group's (0 when empty).
    pub fn heap_bytes(&self) -> usize {
        self.groups.iter().map(|g| g.heap_bytes).max().unwrap_or(0)
    }

    /// Whether output `index` makes the same decoder request of the same page as group `g`.
    fn shares_decode(&self, g: usize, index: usize) -> bool {
        let first = &self.members[self.groups[g].outputs[0]];
        let new = &self.members[index];
        first.plan.build.decode.is_some()
            && first.plan.build.decode == new.plan.build.decode
            && first.plan.input_format == new.plan.input_format
            && first.pipeline.recipe().page == new.pipeline.recipe().page
    }

    /// Whether group `g` with output `index` added stays within every member's budget.
    fn fits(&self, g: usize, index: usize) -> bool {
        let mut outputs = self.groups[g].outputs.clone();
        outputs.push(index);
        let heap = self.priced(outputs.clone()).heap_bytes;
        outputs.iter().all(|&i| heap <= self.members[i].plan.budget.max_memory)
    }

    /// `outputs` as a group, with its heap: one decoder (the plan's first stage) and the ring,
    /// plus everything else of each member's plan.
    fn priced(&self, outputs: Vec<usize>) -> OutputGroup {
        let plans = outputs.iter().map(|&i| &self.members[i].plan);
        let scratch_bytes = plans.clone().map(|p| p.scratch_bytes).sum();
        let heap_bytes = match outputs.as_slice() {
            [one] => self.members[*one].plan.heap_bytes,
            _ => {
                let decoder = &self.members[outputs[0]].plan.stages[0];
                decoder.heap_bytes + tee_bytes(decoder.output) + plans.map(|p| p.heap_bytes - decoder.heap_bytes).sum::<usize>()
            }
        };
        OutputGroup { outputs, heap_bytes, scratch_bytes }
    }

    /// Runs every group, one after another; `on_output` hears of each output once, in the order
    /// added within a group. A failed output never stops the others (a failure of a shared
    /// decoder reaches every output reading from it). `meter`, when given, measures each
    /// output's peak heap on the threads that ran it.
    pub fn run(self, meter: Option<&dyn HeapMeter>, on_output: &(dyn Fn(OutputDone) + Sync)) {
        let FanOut { members, groups, .. } = self;
        let mut members: Vec<Option<Member>> = members.into_iter().map(Some).collect();
        for group in groups {
            let group: Vec<(usize, Member)> = group.outputs.iter().map(|&i| (i, members[i].take().expect("each output in one group"))).collect();
            if group.len() == 1 {
                let (index, member) = group.into_iter().next().expect("one output");
                run_alone(index, member, meter, on_output);
            } else {
                run_shared(group, meter, on_output);
            }
        }
    }
}

/// Runs one output on the calling thread.
fn run_alone(index: usize, member: Member, meter: Option<&dyn HeapMeter>, on_output: &(dyn Fn(OutputDone) + Sync)) {
    let started = Instant::now();
    if let Some(m) = meter {
        m.start();
    }
    let Member { pipeline, path, plan } = member;
    let planned_heap = plan.heap_bytes;
    let result = guarded(|| {
        let source = pipeline.build_source(&plan)?;
        let chain = build_stages(&plan, source)?;
        encode_to_path(plan, chain, &path, started)
    });
    let measured_heap = meter.and_then(|m| m.peak());
    on_output(OutputDone { index, path, result, planned_heap, measured_heap });
}

/// Runs a group over one decoder: each output on a thread of its own, reading a tee branch.
fn run_shared(group: Vec<(usize, Member)>, meter: Option<&dyn HeapMeter>, on_output: &(dyn Fn(OutputDone) + Sync)) {
    let started = Instant::now();
    if let Some(m) = meter {
        m.start();
    }
    // The first output's pipeline builds the shared decoder; the others keep their plans only.
    let mut pipelines = Vec::with_capacity(group.len());
    let rest: Vec<(usize, PathBuf, Plan)> = group
        .into_iter()
        .map(|(i, m)| {
            pipelines.push(m.pipeline);
            (i, m.path, m.plan)
        })
        .collect();
    let first = pipelines.swap_remove(0);
    drop(pipelines);
    let source: Result<BoxedSource> = guarded(|| first.build_source(&rest[0].2));
    let source = match source {
        Ok(source) => source,
        Err(e) => {
            for (index, path, plan) in rest {
                let planned_heap = plan.heap_bytes;
                on_output(OutputDone { index, path, result: Err(e.duplicate()), planned_heap, measured_heap: None });
            }
            return;
        }
    };
    let branches = tee(source, rest.len());
    let shared_heap = meter.and_then(|m| m.peak());
    let ends: Vec<OutputDone> = std::thread::scope(|scope| {
        let running: Vec<_> = rest
            .into_iter()
            .zip(branches)
            .map(|((index, path, plan), branch)| {
                scope.spawn(move || {
                    if let Some(m) = meter {
                        m.start();
                    }
                    let planned_heap = plan.heap_bytes + tee_bytes(plan.stages[0].output);
                    let result = guarded(|| {
                        let chain = build_stages(&plan, Box::new(branch))?;
                        encode_to_path(plan, chain, &path, started)
                    });
                    let own = meter.and_then(|m| m.peak());
                    let measured_heap = own.zip(shared_heap).map(|(own, shared)| own + shared);
                    OutputDone { index, path, result, planned_heap, measured_heap }
                })
            })
            .collect();
        running.into_iter().map(|t| t.join().expect("a branch's panic is caught inside it")).collect()
    });
    for done in ends {
        on_output(done);
    }
}

/// Runs `work`, turning a panic into an error so that the other outputs go on.
fn guarded<T>(work: impl FnOnce() -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(AssertUnwindSafe(work)) {
        Ok(result) => result,
        Err(panic) => {
            let what = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default();
            Err(Error::format("image", format!("internal error while processing (please report): {what}")))
        }
    }
}

#[cfg(test)]
mod tests;
