//! Criterion benchmarks of the JPEG encoder's modes on a 2048x2048 RGB image (input megapixels
//! per second): baseline at each chroma subsampling (streaming), and the whole-frame modes
//! (progressive, optimised Huffman tables). jpeg-encoder's AVX2 path is on where the CPU has it.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stripflow::codec::jpeg::{JpegEncoder, Subsampling};
use stripflow::codec::png::PngEncoder;
use stripflow::codec::png::PngDecoder;
use stripflow::io::Input;

const SIDE: u32 = 2048;

fn bench(c: &mut Criterion) {
    // A photo-like input held encoded in memory (a PNG of the synthetic scene), so the source
    // costs the same for every mode.
    let mut png = Vec::new();
    PngEncoder::default()
        .encode(&mut stripflow::synth::Synthetic::new(SIDE, SIDE, stripflow::PixelFormat::RGB8, 2), &mut png)
        .unwrap();
    let input = Input::from(png);
    let mut group = c.benchmark_group("jpeg encode 2048x2048 rgb8");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SIDE as u64 * SIDE as u64));
    group.bench_function("png decode alone", |b| {
        b.iter(|| {
            let mut s = PngDecoder::new(input.clone()).unwrap();
            stripflow::pipeline::drain(&mut s, 16, |_, _| Ok(())).unwrap();
        })
    });
    let modes = [
        ("baseline 4:2:0", JpegEncoder::default()),
        ("baseline 4:2:2", JpegEncoder { subsampling: Subsampling::S422, ..Default::default() }),
        ("baseline 4:4:4", JpegEncoder { subsampling: Subsampling::S444, ..Default::default() }),
        ("optimised 4:2:0", JpegEncoder { optimize_coding: true, ..Default::default() }),
        ("progressive 4:2:0", JpegEncoder { progressive: true, ..Default::default() }),
        ("progressive optimised 4:2:0", JpegEncoder { progressive: true, optimize_coding: true, ..Default::default() }),
    ];
    for (name, encoder) in modes {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut s = PngDecoder::new(input.clone()).unwrap();
                encoder.encode(&mut s, &mut std::io::sink()).unwrap();
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
