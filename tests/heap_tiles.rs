//! dhat heap tests of tile pyramids (`stripflow::tiles`): Deep Zoom pyramids of JPEG tiles cut
//! from synthetic sources fed straight into the pipeline (no input file), written to a folder in
//! a temporary directory. Each peak is checked against the plan's own prediction, and the peak
//! must not grow with the image's height (issue 14: memory independent of the height).
//!
//! Each scenario runs in its own process (see `support/heap.rs`). The 16384x65535 scenario
//! (about 100 s) runs only with `STRIPFLOW_HEAP_TILES_GIGAPIXEL=1`.

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod support;

use stripflow::plan::Pipeline;
use stripflow::synth::Synthetic;
use stripflow::tiles::{Layout, Tiler};
use stripflow::PixelFormat;
use support::heap::HeapTests;

/// The flat-in-height tolerance: tile batches in flight vary a little with the encoders' timing.
const FLAT_TOLERANCE: u64 = 256 * 1024;

/// Cuts a `width` x `height` synthetic RGB image into a Deep Zoom pyramid of JPEG tiles inside a
/// temporary directory; prints the predicted heap as `PREDICTED n` for the parent.
fn deep_zoom(size: (u32, u32)) {
    let (width, height) = size;
    let folder = tempfile::TempDir::new().unwrap();
    let pipeline = Pipeline::from_source(Box::new(Synthetic::new(width, height, PixelFormat::RGB8, 3)));
    let tiler = Tiler::new(Layout::DeepZoom).viewer(false);
    let job = tiler.plan(pipeline, folder.path().join("pyramid")).unwrap();
    let predicted = job.plan().heap_bytes;
    let tiles = job.plan().tiles();
    let stats = job.run().unwrap();
    assert_eq!(stats.tiles_written, tiles);
    assert!(folder.path().join("pyramid.dzi").exists());
    drop(folder);
    println!("PREDICTED {predicted}");
}

/// The plan's prediction for `size`, computed in the parent (planning decodes nothing).
fn predicted(size: (u32, u32)) -> u64 {
    let folder = tempfile::TempDir::new().unwrap();
    let pipeline = Pipeline::from_source(Box::new(Synthetic::new(size.0, size.1, PixelFormat::RGB8, 3)));
    let job = Tiler::new(Layout::DeepZoom).viewer(false).plan(pipeline, folder.path().join("pyramid")).unwrap();
    job.plan().heap_bytes as u64
}

fn main() {
    let mut t = HeapTests::new();
    let sizes = [("tiles_16k_1k", (16384, 1024)), ("tiles_16k_4k", (16384, 4096)), ("tiles_4k_64k", (4096, 65535)), ("tiles_16k_16k", (16384, 16384))];
    let mut peaks = Vec::new();
    for (name, size) in sizes {
        let peak = t.measure(name, || size, deep_zoom);
        let limit = predicted(size);
        t.check_at_most(&format!("{}x{} Deep Zoom JPEG pyramid <= plan's predicted heap", size.0, size.1), peak, limit);
        peaks.push(peak);
    }
    t.check_flat("16384-wide pyramid peak flat in height (1024 -> 4096 rows)", peaks[0], peaks[1], FLAT_TOLERANCE);
    t.check_flat("16384-wide pyramid peak flat in height (1024 -> 16384 rows)", peaks[0], peaks[3], FLAT_TOLERANCE);
    // 16384x65535 (a gigapixel) takes about 100 s here, too long for every run: opt in.
    if std::env::var_os("STRIPFLOW_HEAP_TILES_GIGAPIXEL").is_some() {
        let size = (16384, 65535);
        let peak = t.measure("tiles_16k_64k", || size, deep_zoom);
        t.check_at_most("16384x65535 Deep Zoom JPEG pyramid <= plan's predicted heap", peak, predicted(size));
        t.check_flat("16384-wide pyramid peak flat in height (1024 -> 65535 rows)", peaks[0], peak, FLAT_TOLERANCE);
    }
    let short = t.measure("tiles_4k_1k", || (4096, 1024), deep_zoom);
    t.check_at_most("4096x1024 Deep Zoom JPEG pyramid <= plan's predicted heap", short, predicted((4096, 1024)));
    t.check_flat("4096-wide pyramid peak flat in height (1024 -> 65535 rows)", short, peaks[2], FLAT_TOLERANCE);
    t.finish();
}
