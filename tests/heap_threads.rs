//! dhat heap tests of `threads(n)`: what a handoff adds to a job's peak heap.
//!
//! Each job runs twice, with `threads(1)` and `threads(2)`, each in a child process of its own
//! (see `support/heap.rs`; dhat counts every thread's allocations). With two threads the planner
//! must cut the chain (else the test proves nothing), the measured peak must stay within the
//! plan, and the threaded peak must exceed the single-threaded one by at most the handoff's
//! planned bytes plus [`TOLERANCE`]. The measured overhead beyond the handoff's strips must be at
//! most [`HANDOFF_CONTROL_BYTES`], the allowance the planner counts for the handoff's control
//! state (queue, thread handle, the worker thread's own allocations).
//!
//! * `jpeg_8192x1024`: an 8192x1024 baseline JPEG re-encoded as JPEG q85.
//! * `png_4096_resize_jpeg`: a 4096x2048 RGB PNG resized to 1024 wide, written as JPEG.

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod support;

use std::path::{Path, PathBuf};

use stripflow::codec::Format;
use stripflow::pipeline::{HandoffLayout, HANDOFF_CONTROL_BYTES};
use stripflow::plan::{Chain, Pipeline, Plan};
use stripflow::{ImageInfo, PixelFormat};
use support::fixtures::{self, JpegSpec};
use support::heap::{human, HeapTests};

/// Slack for allocator and scheduling noise between two runs of the same job (the two sides of a
/// handoff may hold their buffers at slightly different moments than one thread does); the
/// measured excess over single-threaded + handoff was negative (the control allowance covers it).
const TOLERANCE: u64 = 4 * 1024;

/// A job on `path` with `threads` threads.
type Job = fn(&Path, usize) -> Pipeline;

fn jpeg_reencode(path: &Path, threads: usize) -> Pipeline {
    Pipeline::open(path).unwrap().threads(threads).format(Format::Jpeg).quality(85)
}

fn png_resize_jpeg(path: &Path, threads: usize) -> Pipeline {
    Pipeline::open(path).unwrap().threads(threads).resize_to(Some(1024), None).format(Format::Jpeg)
}

/// The handoff's planned heap bytes and the rows it carries, if the planner cut the chain.
fn handoff_of(plan: &Plan) -> Option<(u64, ImageInfo)> {
    plan.stages.iter().find(|s| s.name == "handoff").map(|s| (s.heap_bytes as u64, s.output))
}

/// Measures `job` on `fixture()` at 1 and 2 threads and checks the threaded peak.
fn check_job(t: &mut HeapTests, name: &str, what: &str, fixture: fn() -> PathBuf, job: Job) {
    let single = t.measure(&format!("{name}_t1"), fixture, |path| {
        job(&path, 1).write_to(&mut std::io::sink()).unwrap();
    });
    let threaded = t.measure(&format!("{name}_t2"), fixture, |path| {
        job(&path, 2).write_to(&mut std::io::sink()).unwrap();
    });
    let (Some(single), Some(threaded)) = (single, threaded) else { return };
    let path = fixture();
    let plan1 = job(&path, 1).plan().unwrap();
    let plan2 = job(&path, 2).plan().unwrap();
    t.check(&format!("{what}: no handoff on one thread"), handoff_of(&plan1).is_none(), &plan1.to_string());
    let Some((handoff, rows)) = handoff_of(&plan2) else {
        t.check(&format!("{what}: a handoff is planned on two threads"), false, &plan2.to_string());
        return;
    };
    let planned = plan2.heap_bytes as u64;
    t.check(
        &format!("{what}, 2 threads: measured peak within the plan"),
        threaded <= planned,
        &format!("peak {} <= planned {}", human(threaded), human(planned)),
    );
    t.check(
        &format!("{what}: threaded peak <= single-threaded + handoff + tolerance"),
        threaded <= single + handoff + TOLERANCE,
        &format!(
            "{} <= {} + {} + {}",
            human(threaded),
            human(single),
            human(handoff),
            human(TOLERANCE)
        ),
    );
    let layout = HandoffLayout::new(rows);
    let strips = (layout.strips * layout.strip_bytes()) as u64;
    let control = threaded as i64 - single as i64 - strips as i64;
    t.check(
        &format!("{what}: the handoff's overhead beyond its strips is within HANDOFF_CONTROL_BYTES"),
        control <= HANDOFF_CONTROL_BYTES as i64,
        &format!("{control} B <= {HANDOFF_CONTROL_BYTES} B"),
    );
    println!(
        "{what}: 1 thread {single} B, 2 threads {threaded} B, handoff strips {strips} B \
         ({:?}), overhead beyond the strips {control} B (allowance {HANDOFF_CONTROL_BYTES} B)",
        layout,
    );
}

fn jpeg_8192x1024() -> PathBuf {
    fixtures::jpeg(8192, 1024, JpegSpec::default(), 11)
}

fn png_4096x2048() -> PathBuf {
    fixtures::png(4096, 2048, PixelFormat::RGB8, 12)
}

fn main() {
    let mut t = HeapTests::new();
    check_job(&mut t, "jpeg_8192x1024", "8192x1024 JPEG -> JPEG q85", jpeg_8192x1024, jpeg_reencode);
    check_job(&mut t, "png_4096_resize_jpeg", "4096x2048 PNG -> 1024 wide -> JPEG", png_4096x2048, png_resize_jpeg);
    t.finish();
}
