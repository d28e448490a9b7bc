//! Whole jobs at `threads(1)` and `threads(2)`: what the handoff (decoder and early stages on a
//! worker thread) buys in wall time.
//!
//! Inputs are generated in memory before timing (a synthetic 4096x4096 RGB image encoded as a
//! baseline JPEG q85 and as a PNG) and shared as `Arc<[u8]>`, so each iteration times decode,
//! stages and encode into a reused `Vec`, with no file I/O. Throughput is in input pixels.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use stripflow::codec::jpeg::JpegEncoder;
use stripflow::codec::png::PngEncoder;
use stripflow::codec::Format;
use stripflow::plan::{Chain, Pipeline};
use stripflow::synth::Synthetic;
use stripflow::PixelFormat;

const SIDE: u32 = 4096;

fn jpeg_input() -> Arc<[u8]> {
    let mut out = Vec::new();
    JpegEncoder { quality: 85, ..Default::default() }
        .encode(&mut Synthetic::new(SIDE, SIDE, PixelFormat::RGB8, 3), &mut out)
        .unwrap();
    out.into()
}

fn png_input() -> Arc<[u8]> {
    let mut out = Vec::new();
    PngEncoder::default().encode(&mut Synthetic::new(SIDE, SIDE, PixelFormat::RGB8, 5), &mut out).unwrap();
    out.into()
}

/// A job on `input` at `threads` threads.
type Job = fn(Arc<[u8]>, usize) -> Pipeline;

fn jpeg_reencode(input: Arc<[u8]>, threads: usize) -> Pipeline {
    Pipeline::from_bytes(input).threads(threads).format(Format::Jpeg).quality(85)
}

fn jpeg_to_1024(input: Arc<[u8]>, threads: usize) -> Pipeline {
    Pipeline::from_bytes(input).threads(threads).resize_to(Some(1024), None).format(Format::Jpeg)
}

fn png_to_256(input: Arc<[u8]>, threads: usize) -> Pipeline {
    Pipeline::from_bytes(input).threads(threads).resize_to(Some(256), None).format(Format::Png)
}

fn bench(c: &mut Criterion) {
    let jpeg = jpeg_input();
    let png = png_input();
    let jobs: [(&str, &Arc<[u8]>, Job); 3] = [
        ("4096² JPEG re-encode q85", &jpeg, jpeg_reencode),
        ("4096² JPEG -> 1024 wide JPEG", &jpeg, jpeg_to_1024),
        ("4096² PNG -> 256 wide PNG", &png, png_to_256),
    ];
    for (name, input, job) in jobs {
        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        group.throughput(Throughput::Elements(SIDE as u64 * SIDE as u64));
        let mut out = Vec::new();
        for threads in [1, 2] {
            group.bench_function(BenchmarkId::new("threads", threads), |b| {
                b.iter(|| {
                    out.clear();
                    job(Arc::clone(input), threads).write_to(&mut out).unwrap();
                    out.len()
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
