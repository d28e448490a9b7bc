//! dhat heap tests of the streaming core: PNG in, crop, PNG and JPEG out.
//!
//! Each scenario runs in its own process (see `support/heap.rs`); fixtures are generated before
//! the profiler starts. Bounds are from the "Streaming core" issue.

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod support;

use std::path::PathBuf;

use stripflow::codec::jpeg::JpegEncoder;
use stripflow::codec::png::{PngDecoder, PngEncoder};
use stripflow::io::{AtomicOutput, Input};
use stripflow::ops::crop::{Crop, Gravity};
use stripflow::PixelFormat;
use support::{fixtures, heap::HeapTests};

const MIB: u64 = 1 << 20;

fn out_path(name: &str) -> PathBuf {
    fixtures::cache_dir().join(format!("out-{name}-{}", std::process::id()))
}

/// Decodes `png`, crops 1000x1000 at the bottom right and writes a PNG.
fn crop_to_png(png: PathBuf) {
    let decoder = PngDecoder::new(Input::open(&png).unwrap()).unwrap();
    let mut crop = Crop::gravity(decoder, 1000, 1000, Gravity::BottomRight).unwrap();
    let path = out_path("crop.png");
    let mut out = AtomicOutput::create(&path).unwrap();
    PngEncoder::default().encode(&mut crop, &mut out).unwrap();
    out.commit().unwrap();
    std::fs::remove_file(path).unwrap();
}

fn main() {
    let mut t = HeapTests::new();

    let crop_16k = t.measure("crop_16k", || fixtures::png(16384, 16384, PixelFormat::RGB8, 1), crop_to_png);
    t.check_at_most("16384x16384 PNG -> crop 1000x1000 bottom-right -> PNG", crop_16k, 4 * MIB);

    let crop_tall = t.measure("crop_16k_tall", || fixtures::png(16384, 65536, PixelFormat::RGB8, 1), crop_to_png);
    t.check_at_most("16384x65536 PNG -> crop 1000x1000 bottom-right -> PNG", crop_tall, 4 * MIB);
    t.check_flat("crop peak flat in height (16384 -> 65536 rows)", crop_16k, crop_tall, 64 * 1024);

    let to_jpeg = t.measure(
        "png_to_jpeg_16k",
        || fixtures::png(16384, 16384, PixelFormat::RGB8, 1),
        |png| {
            let mut decoder = PngDecoder::new(Input::open(&png).unwrap()).unwrap();
            let path = out_path("full.jpg");
            let mut out = AtomicOutput::create(&path).unwrap();
            JpegEncoder { quality: 85, ..Default::default() }.encode(&mut decoder, &mut out).unwrap();
            out.commit().unwrap();
            std::fs::remove_file(path).unwrap();
        },
    );
    t.check_at_most("16384x16384 PNG -> JPEG q85 full size", to_jpeg, 8 * MIB);

    t.finish();
}
