//! dhat heap tests of tile pyramids (`stripflow::tiles`): Deep Zoom pyramids of JPEG tiles cut
//! from synthetic sources fed straight into the pipeline (no input file), written to a folder in
//! a temporary directory. Each peak is checked against the plan's own prediction, and the peak
//! must not grow with the image's height (issue 14: memory independent of the height). JPEG
//! tiles are encoded from pushed rows on the cutter's thread; PNG tiles (an encoder that pulls)
//! by a worker thread per tile column; a ZIP holds each tile in memory until it is stored: one
//! scenario each for the last two.
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

/// Tiles and where they go.
#[derive(Clone, Copy)]
enum Output {
    /// JPEG tiles in a folder (the default).
    JpegFolder,
    /// PNG tiles in a folder: a worker thread per tile column.
    PngFolder,
    /// JPEG tiles in a ZIP archive.
    JpegZip,
}

impl Output {
    fn tiler(self) -> Tiler {
        let tiler = Tiler::new(Layout::DeepZoom).viewer(false);
        match self {
            Output::PngFolder => tiler.suffix(".png"),
            Output::JpegFolder | Output::JpegZip => tiler,
        }
    }

    fn target(self, folder: &std::path::Path) -> std::path::PathBuf {
        folder.join(if matches!(self, Output::JpegZip) { "pyramid.zip" } else { "pyramid" })
    }
}

/// Cuts a `width` x `height` synthetic RGB image into a Deep Zoom pyramid of JPEG tiles inside a
/// temporary directory.
fn deep_zoom(size: (u32, u32)) {
    pyramid((size, Output::JpegFolder))
}

/// Cuts a synthetic RGB image into a Deep Zoom pyramid written as `output` inside a temporary
/// directory.
fn pyramid((size, output): ((u32, u32), Output)) {
    let folder = tempfile::TempDir::new().unwrap();
    let pipeline = Pipeline::from_source(Box::new(Synthetic::new(size.0, size.1, PixelFormat::RGB8, 3)));
    let target = output.target(folder.path());
    let job = output.tiler().plan(pipeline, &target).unwrap();
    let tiles = job.plan().tiles();
    let stats = job.run().unwrap();
    assert_eq!(stats.tiles_written, tiles);
    assert!(folder.path().join("pyramid.dzi").exists() || target.exists());
    drop(folder);
}

/// The plan's prediction for `size`, computed in the parent (planning decodes nothing).
fn predicted(size: (u32, u32)) -> u64 {
    predicted_for(size, Output::JpegFolder)
}

/// The plan's prediction for `size` written as `output`.
fn predicted_for(size: (u32, u32), output: Output) -> u64 {
    let folder = tempfile::TempDir::new().unwrap();
    let pipeline = Pipeline::from_source(Box::new(Synthetic::new(size.0, size.1, PixelFormat::RGB8, 3)));
    let job = output.tiler().plan(pipeline, output.target(folder.path())).unwrap();
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
    for (name, output, what) in [("tiles_png_8k", Output::PngFolder, "PNG tiles"), ("tiles_zip_8k", Output::JpegZip, "JPEG tiles in a ZIP")] {
        let size = (8192, 4096);
        let peak = t.measure(name, || (size, output), pyramid);
        t.check_at_most(&format!("8192x4096 Deep Zoom pyramid of {what} <= plan's predicted heap"), peak, predicted_for(size, output));
    }
    t.finish();
}
