//! Criterion benchmarks of the WebP encoders on a 1200x630 card and a 2048x2048 photo-like RGB8
//! frame, in megapixels per second: libwebp lossy at quality 80 (effort 4, and effort 0 and 6),
//! with smart subsampling, lossless (libwebp effort 4 when the `webp-lossy` feature is on), and
//! image-webp's pure-Rust lossless. Rows come from memory, so the numbers are the encoder's (and
//! the frame collection's) alone. Run with `cargo bench --bench webp_encode --features webp-lossy`
//! for the libwebp lines.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stripflow::codec::webp::{WebpEncoder, WebpLibrary};
use stripflow::pipeline::MemorySource;
use stripflow::synth::Synthetic;
use stripflow::{ImageInfo, PixelFormat, RowSource};

fn frame(width: u32, height: u32) -> (ImageInfo, Vec<u8>) {
    let info = ImageInfo { width, height, format: PixelFormat::RGB8 };
    let mut pixels = vec![0u8; info.row_bytes() * height as usize];
    Synthetic::new(width, height, PixelFormat::RGB8, 7).read_rows(&mut pixels).unwrap();
    (info, pixels)
}

fn encode(c: &mut Criterion) {
    let mut encoders: Vec<(&str, WebpEncoder)> =
        vec![("image-webp lossless", WebpEncoder { lossless: true, library: WebpLibrary::ImageWebp, ..Default::default() })];
    if cfg!(feature = "webp-lossy") {
        encoders.extend([
            ("libwebp lossy q80", WebpEncoder::default()),
            ("libwebp lossy q80 effort 0", WebpEncoder { effort: 0, ..Default::default() }),
            ("libwebp lossy q80 effort 6", WebpEncoder { effort: 6, ..Default::default() }),
            ("libwebp lossy q80 smart subsampling", WebpEncoder { smart_subsample: true, ..Default::default() }),
            ("libwebp lossless effort 4", WebpEncoder { lossless: true, ..Default::default() }),
        ]);
    }
    for (width, height) in [(1200, 630), (2048, 2048)] {
        let (info, pixels) = frame(width, height);
        let mut group = c.benchmark_group(format!("webp encode {width}x{height} rgb8"));
        group.sample_size(10);
        group.throughput(Throughput::Elements(width as u64 * height as u64));
        for (name, encoder) in &encoders {
            group.bench_function(*name, |b| {
                b.iter(|| {
                    let mut source = MemorySource::new(info, pixels.clone()).unwrap();
                    let mut out = Vec::new();
                    encoder.encode(&mut source, &mut out).unwrap();
                    out.len()
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, encode);
criterion_main!(benches);
