//! Criterion benchmarks of the streaming core: PNG encode, JPEG encode, and crop (decode of a PNG
//! cropped to its bottom-right 1000x1000), each in input megapixels per second.
//!
//! The synthetic source costs time too; `synthetic source alone` measures it so the encoder
//! figures can be read net of it.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use stripflow::codec::jpeg::JpegEncoder;
use stripflow::codec::png::{PngCompression, PngDecoder, PngEncoder};
use stripflow::io::Input;
use stripflow::ops::crop::{Crop, Gravity};
use stripflow::pipeline::drain;
use stripflow::synth::Synthetic;
use stripflow::PixelFormat;

const SIDE: u32 = 4096;

fn encoders(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode 4096x4096 rgb8");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SIDE as u64 * SIDE as u64));
    group.bench_function("synthetic source alone", |b| {
        b.iter(|| {
            let mut s = Synthetic::new(SIDE, SIDE, PixelFormat::RGB8, 1);
            drain(&mut s, 16, |_, _| Ok(())).unwrap();
        })
    });
    for (name, compression) in [("png fast", PngCompression::Fast), ("png level 6", PngCompression::Level(6))] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut s = Synthetic::new(SIDE, SIDE, PixelFormat::RGB8, 1);
                let encoder = PngEncoder { compression, ..Default::default() };
                encoder.encode(&mut s, &mut std::io::sink()).unwrap();
            })
        });
    }
    for quality in [75u8, 90] {
        group.bench_with_input(BenchmarkId::new("jpeg 4:2:0 quality", quality), &quality, |b, &quality| {
            b.iter(|| {
                let mut s = Synthetic::new(SIDE, SIDE, PixelFormat::RGB8, 1);
                JpegEncoder { quality, ..Default::default() }.encode(&mut s, &mut std::io::sink()).unwrap();
            })
        });
    }
    group.finish();
}

fn crop(c: &mut Criterion) {
    let mut png = Vec::new();
    PngEncoder::default().encode(&mut Synthetic::new(SIDE, SIDE, PixelFormat::RGB8, 1), &mut png).unwrap();
    let input = Input::from_bytes(png);
    let mut group = c.benchmark_group("crop 4096x4096 png");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SIDE as u64 * SIDE as u64));
    for (name, gravity) in [("1000x1000 top-left", Gravity::TopLeft), ("1000x1000 bottom-right", Gravity::BottomRight)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let decoder = PngDecoder::new(input.clone()).unwrap();
                let mut crop = Crop::gravity(decoder, 1000, 1000, gravity).unwrap();
                drain(&mut crop, 16, |_, _| Ok(())).unwrap();
            })
        });
    }
    group.finish();
}

criterion_group!(benches, encoders, crop);
criterion_main!(benches);
