//! Criterion benchmarks of the PNG decoder on a 4096x4096 RGB8 photo-like image, in megapixels
//! per second: non-interlaced (png crate rows), interlaced (seven inflate cursors), and, for
//! scale, the png crate's own whole-frame decode of both files (which needs the 48 MiB frame);
//! stripflow reads files by position (the default) and, as a second line each, memory-mapped.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stripflow::codec::png::PngDecoder;
use stripflow::io::Input;
use stripflow::pipeline::drain;
use stripflow::PixelFormat;
use support::{fixtures, interlaced};

const SIDE: u32 = 4096;

fn png_crate_whole_frame(bytes: &[u8]) -> usize {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut buf).unwrap().buffer_size()
}

fn decode(c: &mut Criterion) {
    let plain = fixtures::png(SIDE, SIDE, PixelFormat::RGB8, 1);
    let adam7 = interlaced::interlaced_png(SIDE, SIDE, PixelFormat::RGB8, 1);
    let mut group = c.benchmark_group("png decode 4096x4096 rgb8");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SIDE as u64 * SIDE as u64));
    for (name, path) in [("non-interlaced", &plain), ("interlaced", &adam7)] {
        let input = Input::open(path).unwrap();
        group.bench_function(format!("stripflow {name}"), |b| {
            b.iter(|| {
                let mut decoder = PngDecoder::new(input.clone()).unwrap();
                drain(&mut decoder, 16, |_, _| Ok(())).unwrap();
            })
        });
        let mapped = Input::open_mapped(path).unwrap();
        group.bench_function(format!("stripflow {name} mapped"), |b| {
            b.iter(|| {
                let mut decoder = PngDecoder::new(mapped.clone()).unwrap();
                drain(&mut decoder, 16, |_, _| Ok(())).unwrap();
            })
        });
        let bytes = std::fs::read(path).unwrap();
        group.bench_function(format!("png crate whole frame {name}"), |b| {
            b.iter(|| png_crate_whole_frame(&bytes))
        });
    }
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
