//! Criterion benchmarks of the AVIF encoder (feature `avif`) on a 512x512 RGB8 photo-like image,
//! in megapixels per second: efforts 0, 4 (the default) and 6 at 8 bits, and effort 4 at 10 bits,
//! on the default thread count; plus effort 4 on one thread. The rows are generated on the fly
//! (their cost is a small fraction of the encode).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stripflow::codec::avif::{AvifBitDepth, AvifEncoder};
use stripflow::synth::Synthetic;
use stripflow::PixelFormat;

const SIDE: u32 = 512;

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("avif encode 512x512 rgb8");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SIDE as u64 * SIDE as u64));
    let cases = [
        ("effort 0", AvifEncoder { effort: 0, ..Default::default() }),
        ("effort 4", AvifEncoder::default()),
        ("effort 6", AvifEncoder { effort: 6, ..Default::default() }),
        ("effort 4 10-bit", AvifEncoder { bit_depth: AvifBitDepth::Ten, ..Default::default() }),
        ("effort 4 one thread", AvifEncoder { threads: 1, ..Default::default() }),
    ];
    for (name, encoder) in cases {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut out = Vec::new();
                encoder.encode(&mut Synthetic::new(SIDE, SIDE, PixelFormat::RGB8, 1), &mut out).unwrap();
                out.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);
