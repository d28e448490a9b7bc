//! dhat heap tests of shared decodes ([`stripflow::batch::FanOut`], issue 15): several outputs of
//! one input written from one decoder through a tee, each output's chain and encoder on a thread
//! of its own.
//!
//! The measured peak of the whole fan-out (every thread's allocations: dhat counts them all) must
//! stay within the fan-out's planned heap, and must not grow with the image's height: the tee
//! holds a ring of rows, not the image.
//!
//! * `png_4096x{1024,8192}`: an RGB PNG as a 256 px JPEG, a 256 px WebP and a 1024 px PNG, all
//!   from one decode (a PNG has no shrink-on-load, so the three requests are the same).
//! * `jpeg_4096`: a 4096x4096 baseline JPEG as a 256 px JPEG and PNG (one decode at 1/8) and a
//!   1200 px JPEG (its own decode, at full scale): two groups, one after the other.
//!
//! Each scenario runs in its own process (see `support/heap.rs`).

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod support;

use std::path::{Path, PathBuf};

use stripflow::batch::FanOut;
use stripflow::io::Input;
use stripflow::plan::{Chain, Recipe};
use stripflow::prelude::Fit;
use stripflow::PixelFormat;
use support::fixtures::{self, JpegSpec};
use support::heap::HeapTests;

/// The flat-in-height tolerance: the encoders' output buffers and thread timing vary a little.
const FLAT_TOLERANCE: u64 = 64 * 1024;

/// The outputs of a scenario: (longest side, file name).
type Outputs = &'static [(u32, &'static str)];

const PNG_OUTPUTS: Outputs = &[(256, "t.jpg"), (256, "t.webp"), (1024, "m.png")];
const JPEG_OUTPUTS: Outputs = &[(256, "t.jpg"), (256, "t.png"), (1200, "l.jpg")];

/// The fan-out of `outputs` of the image at `input` into the folder `out`.
fn fan_out(input: &Path, outputs: Outputs, out: &Path) -> FanOut {
    let mut fan = FanOut::new(Input::open(input).unwrap());
    for &(side, name) in outputs {
        fan.add(Recipe::new().resize(side, side).fit(Fit::Inside).threads(1), out.join(name)).unwrap();
    }
    fan
}

/// Runs the fan-out (profiled), checking that every output was written.
fn run((input, outputs): (PathBuf, Outputs)) {
    let out = tempfile::TempDir::new().unwrap();
    let fan = fan_out(&input, outputs, out.path());
    let failed = std::sync::atomic::AtomicUsize::new(0);
    fan.run(None, &|done| {
        if done.result.is_err() {
            failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    assert_eq!(failed.into_inner(), 0);
    drop(out);
}

/// The fan-out's planned heap and its group count, computed in the parent (planning decodes
/// nothing).
fn planned(input: &Path, outputs: Outputs) -> (u64, usize) {
    let out = tempfile::TempDir::new().unwrap();
    let fan = fan_out(input, outputs, out.path());
    (fan.heap_bytes() as u64, fan.groups().len())
}

fn main() {
    let mut t = HeapTests::new();
    let mut png_peaks = Vec::new();
    for height in [1024, 8192] {
        let name = format!("png_4096x{height}");
        let input = fixtures::png(4096, height, PixelFormat::RGB8, 3);
        let (limit, groups) = planned(&input, PNG_OUTPUTS);
        assert_eq!(groups, 1, "the PNG's three outputs share one decode");
        let peak = t.measure(&name, || (input.clone(), PNG_OUTPUTS), run);
        t.check_at_most(&format!("4096x{height} PNG, three outputs of one decode <= planned heap"), peak, limit);
        png_peaks.push(peak);
    }
    t.check_flat("shared PNG decode peak flat in height (1024 -> 8192 rows)", png_peaks[0], png_peaks[1], FLAT_TOLERANCE);

    let input = fixtures::jpeg(4096, 4096, JpegSpec::default(), 3);
    let (limit, groups) = planned(&input, JPEG_OUTPUTS);
    assert_eq!(groups, 2, "the 1200 px output decodes at another scale");
    let peak = t.measure("jpeg_4096", || (input.clone(), JPEG_OUTPUTS), run);
    t.check_at_most("4096x4096 JPEG, two groups of outputs <= planned heap", peak, limit);
    t.finish();
}
