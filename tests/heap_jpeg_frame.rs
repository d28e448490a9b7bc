//! dhat heap tests of the whole-frame JPEG encodes (progressive scans, fitted Huffman tables):
//! the peak heap of encoding a generated image must lie within the encoder's own prediction
//! (`EncoderSpec::heap_bytes`, which the planner prices), for colour and gray, every chroma
//! subsampling, sizes that are and are not multiples of the MCU; and the baseline encode at the
//! same size must stay small (an MCU row). The prediction adds the synthetic source's own
//! buffers (its per-column tables).
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
    encoder: JpegEncoder,
}

fn encode(case: &Case) {
    let mut source = Synthetic::new(case.width, case.height, case.format, 2);
    let mut out = CountingSink(0);
    case.encoder.encode(&mut source, &mut out).unwrap();
    assert!(out.0 > 1000);
}

fn main() {
    let mut t = HeapTests::new();
    let progressive = |subsampling| JpegEncoder { progressive: true, subsampling, ..JpegEncoder::default() };
    let optimized = |subsampling| JpegEncoder { optimize_coding: true, subsampling, ..JpegEncoder::default() };
    let cases = [
        Case { name: "progressive_420_2048", width: 2048, height: 2048, format: PixelFormat::RGB8, encoder: progressive(Subsampling::S420) },
        Case { name: "progressive_422_1201x631", width: 1201, height: 631, format: PixelFormat::RGB8, encoder: progressive(Subsampling::S422) },
        Case { name: "progressive_444_1000x777", width: 1000, height: 777, format: PixelFormat::RGB8, encoder: progressive(Subsampling::S444) },
        Case { name: "optimized_420_1999x1001", width: 1999, height: 1001, format: PixelFormat::RGB8, encoder: optimized(Subsampling::S420) },
        Case { name: "progressive_gray_1500", width: 1500, height: 1500, format: PixelFormat::GRAY8, encoder: progressive(Subsampling::S420) },
        Case { name: "progressive_rgba16_640x480", width: 640, height: 480, format: PixelFormat::RGBA16, encoder: progressive(Subsampling::S420) },
    ];
    for case in &cases {
        let source = Synthetic::new(case.width, case.height, case.format, 2);
        let predicted = (case.encoder.heap_bytes(source.info()) + source.buffer_bytes()) as u64;
        if let Some(peak) = t.measure(case.name, || case, encode) {
            let ratio = predicted as f64 / peak as f64;
            t.check(
                &format!("{}: measured within the prediction", case.name),
                peak <= predicted && ratio <= 1.05,
                &format!("peak {peak}, predicted {predicted}, predicted/measured {ratio:.3}"),
            );
        }
    }
    // Baseline at the same size holds an MCU row, not the frame.
    let baseline = Case { name: "baseline_420_2048", width: 2048, height: 2048, format: PixelFormat::RGB8, encoder: JpegEncoder::default() };
    let source = Synthetic::new(2048, 2048, PixelFormat::RGB8, 2);
    let predicted = (baseline.encoder.heap_bytes(source.info()) + source.buffer_bytes()) as u64;
    if let Some(peak) = t.measure(baseline.name, || &baseline, encode) {
        t.check("baseline: measured within the prediction", peak <= predicted && predicted < 256 * 1024, &format!("peak {peak}, predicted {predicted}"));
    }
    t.finish();
}
