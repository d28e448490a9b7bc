//! The budget: a plan over the heap budget or the pixel limit is refused with
//! [`Error::Limits`] naming what it needs and why, before any pixel is decoded, and fast.

mod support;

use stripflow::plan::Chain;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use stripflow::plan::Pipeline;
use stripflow::synth::Synthetic;
use stripflow::{Error, ImageInfo, PixelFormat, Result, RowSource};
use support::fixtures::{self, JpegSpec};

/// A synthetic source that counts the rows read from it.
struct Counting {
    inner: Synthetic,
    reads: Arc<AtomicU64>,
}

impl RowSource for Counting {
    fn info(&self) -> ImageInfo {
        self.inner.info()
    }
    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.read_row(row)
    }
    fn buffer_bytes(&self) -> usize {
        self.inner.buffer_bytes()
    }
    fn name(&self) -> &'static str {
        "counting"
    }
}

fn counting(w: u32, h: u32) -> (Box<dyn RowSource>, Arc<AtomicU64>) {
    let reads = Arc::new(AtomicU64::new(0));
    (
        Box::new(Counting {
            inner: Synthetic::new(w, h, PixelFormat::RGB8, 1),
            reads: reads.clone(),
        }),
        reads,
    )
}

fn limits_message(r: Result<impl std::fmt::Debug>) -> String {
    match r {
        Err(Error::Limits(m)) => m,
        other => panic!("expected a limits error, got {other:?}"),
    }
}

#[test]
fn over_budget_is_refused_before_any_row_is_read() {
    // A quarter turn of a 20000x12000 frame with scratch files disabled: 720 MB on the heap.
    let (source, reads) = counting(20000, 12000);
    let p = Pipeline::from_source(source).rotate(90).no_scratch();
    let m = limits_message(p.write_to(&mut std::io::sink()));
    assert!(
        m.contains("orient rotate 90") && m.contains("Scratch files are disabled") && m.contains("256.00 MiB"),
        "{m}"
    );
    assert_eq!(reads.load(Ordering::Relaxed), 0, "no row may be read");

    // The same with scratch files allowed goes to a mapped file and fits.
    let (source, _) = counting(20000, 12000);
    let plan = Pipeline::from_source(source).rotate(90).plan().unwrap();
    assert!(
        plan.scratch_bytes >= 20000 * 12000 * 3 && plan.heap_bytes < 4 << 20,
        "{plan}"
    );

    // A tiny budget names the stage that needs the most.
    let (source, reads) = counting(8000, 100);
    let m = limits_message(
        Pipeline::from_source(source)
            .resize(16000, 200)
            .max_memory(64 * 1024)
            .write_to(&mut std::io::sink()),
    );
    assert!(
        m.contains("the job needs") && m.contains("64.0 KiB") && m.contains("largest part is resize"),
        "{m}"
    );
    assert_eq!(reads.load(Ordering::Relaxed), 0);
}

#[test]
fn pixel_limit() {
    let (source, reads) = counting(1000, 1000);
    let m = limits_message(Pipeline::from_source(source).limit_input_pixels(999_999).plan());
    assert!(m.contains("1000x1000 = 1000000 pixels") && m.contains("999999"), "{m}");
    assert_eq!(reads.load(Ordering::Relaxed), 0);
    let (source, _) = counting(1000, 1000);
    assert!(Pipeline::from_source(source)
        .limit_input_pixels(1_000_000)
        .plan()
        .is_ok());
    // The default, 2^30, passes 16384x65536 and refuses one row more.
    let (source, _) = counting(16384, 65536);
    assert!(Pipeline::from_source(source).plan().is_ok());
    let (source, _) = counting(16384, 65537);
    limits_message(Pipeline::from_source(source).plan());
    // The output limit is checked at plan time: 32x32 -> 100000x100000 is refused.
    let (source, reads) = counting(32, 32);
    let m = limits_message(Pipeline::from_source(source).resize(100_000, 100_000).plan());
    assert!(m.contains("output pixel limit"), "{m}");
    assert_eq!(reads.load(Ordering::Relaxed), 0);
}

#[test]
fn a_16k_jpeg_over_budget_fails_fast() {
    let path = fixtures::jpeg(16384, 16384, JpegSpec::default(), 1);
    let started = Instant::now();
    let result = Pipeline::open(&path)
        .unwrap()
        .limit_input_pixels(16384 * 16384)
        .rotate(90)
        .no_scratch()
        .max_memory(256 << 20)
        .plan();
    let elapsed = started.elapsed();
    let m = limits_message(result);
    println!("refused in {:.1} ms: {m}", elapsed.as_secs_f64() * 1000.0);
    assert!(
        m.contains("768.00 MiB") || m.contains("GiB") || m.contains("MiB"),
        "{m}"
    );
    // Not a speed claim: decoding this image takes seconds, planning reads headers only (about
    // 1 ms alone); the bound is loose so a loaded machine cannot make it flaky.
    assert!(elapsed.as_millis() < 1000, "planning took {elapsed:?}");
    // Over budget because of the decoder's own buffers (a 16384-wide MCU row at full scale):
    // the markers are walked (no pixel decoded) to get its account.
    let started = Instant::now();
    let result = Pipeline::open(&path)
        .unwrap()
        .limit_input_pixels(16384 * 16384)
        .max_memory(1 << 20)
        .plan();
    let elapsed = started.elapsed();
    let m = limits_message(result);
    println!("refused in {:.1} ms: {m}", elapsed.as_secs_f64() * 1000.0);
    assert!(
        m.contains("jpeg decode 768.0 KiB") && m.contains("budget is 1.00 MiB"),
        "{m}"
    );
    // Not a speed claim: decoding this image takes seconds, planning reads headers only (about
    // 1 ms alone); the bound is loose so a loaded machine cannot make it flaky.
    assert!(elapsed.as_millis() < 1000, "planning took {elapsed:?}");
    // A pixel limit refuses it before that.
    limits_message(Pipeline::open(&path).unwrap().limit_input_pixels(16384 * 16383).plan());
}
