//! `threads(n)`: a job cut in two by a handoff writes the same bytes as on one thread, fails with
//! the same typed error, and never hangs when either side stops early.

use std::time::{Duration, Instant};

use stripflow::codec::jpeg::JpegEncoder;
use stripflow::codec::png::PngEncoder;
use stripflow::codec::{FailOn, Format, TiffCompression};
use stripflow::ops::fit::Fit;
use stripflow::pipeline::{chain_buffer_bytes, chain_names, drain, BoxedSource, Handoff, HandoffLayout, RowCounter};
use stripflow::plan::{Chain, Pipeline, Recipe};
use stripflow::synth::Synthetic;
use stripflow::{Error, ImageInfo, PixelFormat, RowSource};

fn jpeg_of(width: u32, height: u32, format: PixelFormat) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::default().encode(&mut Synthetic::new(width, height, format, 3), &mut out).unwrap();
    out
}

fn png_of(width: u32, height: u32, format: PixelFormat) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::default().encode(&mut Synthetic::new(width, height, format, 5), &mut out).unwrap();
    out
}

fn has_handoff(recipe: &Recipe, input: &[u8]) -> bool {
    recipe.input(input.to_vec()).plan().unwrap().stages.iter().any(|s| s.name == "handoff")
}

/// Runs `recipe` on `input` with 1, 2 and 3 threads; the outputs must be byte-identical, and a
/// handoff must be planned with 2 or more (else the test would prove nothing).
fn same_bytes_for_any_thread_count(what: &str, recipe: Recipe, input: &[u8]) {
    let mut outputs = Vec::new();
    for threads in [1, 2, 3] {
        let recipe = recipe.clone().threads(threads);
        assert_eq!(has_handoff(&recipe, input), threads > 1, "{what}, {threads} threads: {}", recipe.input(input.to_vec()).plan().unwrap());
        let mut out = Vec::new();
        recipe.input(input.to_vec()).write_to(&mut out).unwrap();
        outputs.push(out);
    }
    assert!(outputs[0] == outputs[1], "{what}: 1 vs 2 threads");
    assert!(outputs[0] == outputs[2], "{what}: 1 vs 3 threads");
}

#[test]
fn output_bytes_do_not_depend_on_the_thread_count() {
    let jpeg = jpeg_of(1536, 1024, PixelFormat::RGB8);
    let png = png_of(1280, 960, PixelFormat::RGBA8);
    let gray = png_of(2048, 1024, PixelFormat::GRAY16);
    same_bytes_for_any_thread_count("JPEG re-encode", Recipe::new(), &jpeg);
    same_bytes_for_any_thread_count("JPEG -> 700 wide, no shrink-on-load", Recipe::new().resize_to(Some(700), None).shrink_on_load(false), &jpeg);
    same_bytes_for_any_thread_count("JPEG -> cover 1200x630 PNG", Recipe::new().resize(1200, 630).fit(Fit::Cover).format(Format::Png), &jpeg);
    same_bytes_for_any_thread_count("JPEG -> rotated 90, 512 wide JPEG", Recipe::new().rotate(90).resize_to(Some(512), None), &jpeg);
    same_bytes_for_any_thread_count("RGBA PNG -> JPEG (flattened)", Recipe::new().format(Format::Jpeg), &png);
    same_bytes_for_any_thread_count("RGBA PNG -> contain 900x900 PNG", Recipe::new().resize(900, 900).fit(Fit::Contain), &png);
    same_bytes_for_any_thread_count("16-bit gray PNG -> TIFF", Recipe::new().format(Format::Tiff).tiff_compression(TiffCompression::None), &gray);
    same_bytes_for_any_thread_count("RGBA PNG -> 2x upscale PNG", Recipe::new().resize_to(Some(2560), None), &png);
}

#[test]
fn one_thread_makes_no_handoff_and_the_plan_counts_the_strips() {
    let jpeg = jpeg_of(1536, 1024, PixelFormat::RGB8);
    let one = Recipe::new().threads(1).input(jpeg.clone()).plan().unwrap();
    let two = Recipe::new().threads(2).input(jpeg.clone()).plan().unwrap();
    assert!(one.stages.iter().all(|s| s.name != "handoff"));
    let handoff = two.stages.iter().find(|s| s.name == "handoff").expect("a handoff with 2 threads");
    let layout = HandoffLayout::new(ImageInfo { width: 1536, height: 1024, format: PixelFormat::RGB8 });
    assert_eq!(handoff.heap_bytes, layout.heap_bytes());
    assert_eq!(two.heap_bytes, one.heap_bytes + layout.heap_bytes());
    // Built, the chain reports the same bytes, decoder included (it runs on the worker).
    let (plan, rows) = Recipe::new().threads(2).input(jpeg).into_rows().unwrap();
    assert_eq!(chain_names(&*rows), ["jpeg-decode", "handoff"]);
    assert!(chain_buffer_bytes(&*rows) <= plan.heap_bytes);
    assert!(chain_buffer_bytes(&*rows) >= layout.heap_bytes());
}

#[test]
fn a_small_job_makes_no_handoff() {
    let jpeg = jpeg_of(64, 64, PixelFormat::RGB8);
    assert!(!has_handoff(&Recipe::new().threads(4), &jpeg));
}

#[test]
fn a_decode_error_on_the_worker_is_the_same_typed_error() {
    let mut jpeg = jpeg_of(1536, 1024, PixelFormat::RGB8);
    let n = jpeg.len();
    jpeg[n / 2..n / 2 + 64].fill(0xa5);
    let mut png = png_of(1280, 960, PixelFormat::RGBA8);
    let n = png.len();
    png[n / 2..n / 2 + 64].fill(0x5a);
    let mut errors = 0;
    for (what, input, fail_on) in [("damaged JPEG", &jpeg, FailOn::Error), ("damaged JPEG", &jpeg, FailOn::None), ("damaged PNG", &png, FailOn::Error)] {
        let run = |threads: usize| {
            let recipe = Recipe::new().threads(threads).fail_on(fail_on).format(Format::Jpeg);
            assert_eq!(has_handoff(&recipe, input), threads > 1, "{what}");
            let mut out = Vec::new();
            recipe.input(input.clone()).write_to(&mut out).map(|_| out)
        };
        match (run(1), run(2)) {
            (Err(a), Err(b)) => {
                errors += 1;
                assert_eq!(a.kind(), b.kind(), "{what}: {a} vs {b}");
                assert_eq!(a.to_string(), b.to_string(), "{what}");
            }
            (Ok(a), Ok(b)) => assert!(a == b, "{what}: a lenient decode differs"),
            (a, b) => panic!("{what}: one thread gave {:?}, two gave {:?}", a.map(|o| o.len()), b.map(|o| o.len())),
        }
    }
    assert_eq!(errors, 2, "both damaged files fail under FailOn::Error");
}

/// Rows of a gradient; fails (or panics) at row `bad`.
struct Faulty {
    info: ImageInfo,
    rows: RowCounter,
    bad: u32,
    panic: bool,
}

impl Faulty {
    fn boxed(width: u32, height: u32, bad: u32, panic: bool) -> BoxedSource {
        let info = ImageInfo { width, height, format: PixelFormat::GRAY8 };
        Box::new(Faulty { info, rows: RowCounter::new(height), bad, panic })
    }
}

impl RowSource for Faulty {
    fn info(&self) -> ImageInfo {
        self.info
    }
    fn read_row(&mut self, row: &mut [u8]) -> stripflow::Result<()> {
        let y = self.rows.advance()?;
        if y == self.bad {
            if self.panic {
                panic!("row {y} is a bug");
            }
            return Err(Error::format("test", format!("row {y} is damaged")));
        }
        row.fill(y as u8);
        Ok(())
    }
    fn buffer_bytes(&self) -> usize {
        0
    }
    fn name(&self) -> &'static str {
        "faulty"
    }
}

#[test]
fn rows_before_a_failed_row_arrive_then_the_error() {
    let mut handoff = Handoff::new(Faulty::boxed(100_000, 50, 7, false)).unwrap();
    assert!(handoff.layout().rows_per_strip < 7, "the failure is in a later strip than the first");
    let mut row = vec![0; 100_000];
    for y in 0..7u8 {
        handoff.read_row(&mut row).unwrap();
        assert!(row.iter().all(|&v| v == y));
    }
    let error = handoff.read_row(&mut row).unwrap_err();
    assert_eq!(error.to_string(), Error::format("test", "row 7 is damaged").to_string());
}

#[test]
fn a_panic_on_the_worker_is_raised_on_the_consumer_and_nothing_hangs() {
    let started = Instant::now();
    let result = std::panic::catch_unwind(|| {
        let mut handoff = Handoff::new(Faulty::boxed(1000, 200, 150, true)).unwrap();
        let mut row = vec![0; 1000];
        for _ in 0..200 {
            handoff.read_row(&mut row).unwrap();
        }
    });
    let payload = result.expect_err("the worker's panic reaches the consumer");
    let message = payload.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("row 150 is a bug"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_consumer_that_stops_early_ends_the_worker() {
    // Far more rows than the strips hold: the worker blocks on a full queue until the drop.
    for read in [0, 1, 5, 300] {
        let mut handoff = Handoff::new(Box::new(Synthetic::new(4000, 100_000, PixelFormat::RGB8, 1))).unwrap();
        let mut row = vec![0; 12_000];
        for _ in 0..read {
            handoff.read_row(&mut row).unwrap();
        }
        drop(handoff); // joins the worker; a deadlock would hang the test here
    }
    // And a planned job's rows dropped half-read.
    let jpeg = jpeg_of(1536, 1024, PixelFormat::RGB8);
    let (_, mut rows) = Recipe::new().threads(2).input(jpeg).into_rows().unwrap();
    let mut seen = 0;
    let stopped = drain(&mut *rows, 16, |_, n| {
        seen += n;
        if seen >= 64 { Err(Error::parameter("enough")) } else { Ok(()) }
    });
    assert!(stopped.is_err());
    drop(rows);
}

#[test]
fn the_handoff_serves_exactly_the_upstream_rows() {
    for (w, h) in [(1, 1), (3, 1000), (70_000, 3), (5000, 17)] {
        let mut direct = vec![0; w as usize * h as usize * 3];
        Synthetic::new(w, h, PixelFormat::RGB8, 9).read_rows(&mut direct).unwrap();
        let mut handoff = Handoff::new(Box::new(Synthetic::new(w, h, PixelFormat::RGB8, 9))).unwrap();
        let mut through = Vec::new();
        drain(&mut handoff, 7, |s, _| {
            through.extend_from_slice(s);
            Ok(())
        })
        .unwrap();
        assert!(direct == through, "{w}x{h}");
        let mut row = vec![0; w as usize * 3];
        assert!(matches!(handoff.read_row(&mut row), Err(Error::Parameter(_))), "a row past the end");
    }
}

#[test]
fn the_pipeline_runs_on_the_recipes_thread_count_by_default() {
    let recipe = Recipe::new();
    assert_eq!(recipe.thread_count(), std::thread::available_parallelism().map_or(1, |n| n.get()));
    assert_eq!(Recipe::new().threads(0).thread_count(), recipe.thread_count());
    assert_eq!(Pipeline::from_bytes(jpeg_of(8, 8, PixelFormat::RGB8)).threads(1).recipe().thread_count(), 1);
}
