//! dhat heap tests of our streaming baseline JPEG encoder: the peak heap of encoding a
//! generated image must lie within the encoder's own prediction (`EncoderSpec::heap_bytes`,
//! computed from the same layout the encoder allocates from) and close to it, for colour and
//! gray, every chroma subsampling, sizes that are and are not multiples of the MCU, a very wide
//! image and a source that needs format conversion; and it must not grow with the height.
//!
//! Each scenario runs in its own process (see `support/heap.rs`).

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod support;

use stripflow::codec::jpeg::{JpegEncoder, Subsampling};
use stripflow::codec::EncoderSpec;
use stripflow::synth::Synthetic;
use stripflow::{PixelFormat, RowSource};
use support::heap::HeapTests;
use support::CountingSink;

struct Case {
    name: &'static str,
    width: u32,
    height: u32,
    format: PixelFormat,
    subsampling: Subsampling,
}

fn encode(case: &Case) {
    let mut source = Synthetic::new(case.width, case.height, case.format, 2);
    let mut out = CountingSink(0);
    JpegEncoder { subsampling: case.subsampling, ..JpegEncoder::default() }.encode(&mut source, &mut out).unwrap();
    assert!(out.0 > 100);
}

fn main() {
    let mut t = HeapTests::new();
    let rgb = PixelFormat::RGB8;
    let cases = [
        Case { name: "baseline_420_8192x256", width: 8192, height: 256, format: rgb, subsampling: Subsampling::S420 },
        Case { name: "baseline_420_8192x2048", width: 8192, height: 2048, format: rgb, subsampling: Subsampling::S420 },
        Case { name: "baseline_422_4097x33", width: 4097, height: 33, format: rgb, subsampling: Subsampling::S422 },
        Case { name: "baseline_444_1000x777", width: 1000, height: 777, format: rgb, subsampling: Subsampling::S444 },
        Case { name: "baseline_gray_3001x99", width: 3001, height: 99, format: PixelFormat::GRAY8, subsampling: Subsampling::S420 },
        Case { name: "baseline_rgba16_640x480", width: 640, height: 480, format: PixelFormat::RGBA16, subsampling: Subsampling::S420 },
    ];
    let mut peaks = Vec::new();
    for case in &cases {
        let source = Synthetic::new(case.width, case.height, case.format, 2);
        let encoder = JpegEncoder { subsampling: case.subsampling, ..JpegEncoder::default() };
        let predicted = (encoder.heap_bytes(source.info()) + source.buffer_bytes()) as u64;
        if let Some(peak) = t.measure(case.name, || case, encode) {
            let ratio = predicted as f64 / peak as f64;
            t.check(
                &format!("{}: measured within the prediction", case.name),
                peak <= predicted && ratio <= 1.05,
                &format!("peak {peak}, predicted {predicted}, predicted/measured {ratio:.3}"),
            );
            peaks.push((case.name, peak));
        }
    }
    let peak = |name: &str| peaks.iter().find(|(n, _)| *n == name).map(|(_, p)| *p);
    if let (Some(short), Some(tall)) = (peak("baseline_420_8192x256"), peak("baseline_420_8192x2048")) {
        t.check("baseline: peak flat in height", short == tall, &format!("256 rows {short}, 2048 rows {tall}"));
    }
    t.finish();
}
