//! JPEG decode throughput: full decode of an 8K baseline and an 8K progressive JPEG, and 1/8
//! shrink-on-load of both, in pixels per second of the JPEG (not of the scaled output); files are
//! read by position (the default), and, for the full decode, also memory-mapped.
//!
//! The fixtures are generated once (tests/support/fixtures.rs, cached under target/) and their
//! paths printed, so bench/compare_djpeg.sh can time djpeg on the very same files.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stripflow::codec::jpeg::{DecodeOptions, JpegDecoder};
use stripflow::io::Input;
use stripflow::pipeline::drain;
use stripflow::RowSource;

#[path = "../tests/support/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

const SIDE: u32 = 8192;

fn decode(input: &Input, denominator: u8) -> u64 {
    let options = DecodeOptions { scale_denominator: denominator, ..Default::default() };
    let mut decoder = JpegDecoder::new(input.clone(), options).unwrap();
    let mut sum = 0u64;
    let strip = 16;
    let _ = decoder.info();
    drain(&mut decoder, strip, |s, _| {
        sum = sum.wrapping_add(s[0] as u64);
        Ok(())
    })
    .unwrap();
    sum
}

fn bench(c: &mut Criterion) {
    let baseline = fixtures::jpeg(SIDE, SIDE, fixtures::JpegSpec::default(), 1);
    let progressive =
        fixtures::jpeg(SIDE, SIDE, fixtures::JpegSpec { progressive: true, ..Default::default() }, 1);
    println!("JPEG_BENCH_FILE baseline {}", baseline.display());
    println!("JPEG_BENCH_FILE progressive {}", progressive.display());
    let mut group = c.benchmark_group("jpeg_decode");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SIDE as u64 * SIDE as u64));
    for (name, path) in [("baseline_8k", &baseline), ("progressive_8k", &progressive)] {
        let input = Input::open(path).unwrap();
        group.bench_function(format!("{name}_full"), |b| b.iter(|| decode(&input, 1)));
        group.bench_function(format!("{name}_scale_1_8"), |b| b.iter(|| decode(&input, 8)));
        // The opt-in memory map, read in place: what positioned reads are compared with.
        let mapped = Input::open_mapped(path).unwrap();
        group.bench_function(format!("{name}_full_mapped"), |b| b.iter(|| decode(&mapped, 1)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
