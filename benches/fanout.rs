//! Several outputs of one input: one shared decode ([`FanOut`], a tee feeding a thread per
//! output) against each output decoding on its own, one after another (what `stripflow batch`
//! did before the tee).
//!
//! Inputs are generated before timing (a synthetic 4096x4096 RGB image as a PNG and as a baseline
//! JPEG q85) and written to a temporary folder, as are the outputs; each iteration makes every
//! output once. Throughput is in input pixels.
//!
//! * PNG -> a 256 px JPEG, a 256 px WebP and a 1024 px PNG: one decode instead of three.
//! * JPEG -> a 256 px JPEG, WebP and PNG: one 1/8-scale decode instead of three.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stripflow::batch::FanOut;
use stripflow::codec::Format;
use stripflow::io::Input;
use stripflow::plan::{Chain, Pipeline, Recipe};
use stripflow::prelude::Fit;
use stripflow::synth::Synthetic;
use stripflow::PixelFormat;

const SIDE: u32 = 4096;

/// The outputs: (longest side, file name).
type Outputs = &'static [(u32, &'static str)];

fn input(dir: &Path, format: Format, name: &str) -> PathBuf {
    let path = dir.join(name);
    Pipeline::from_source(Box::new(Synthetic::new(SIDE, SIDE, PixelFormat::RGB8, 3))).format(format).write_to_path(&path).unwrap();
    path
}

fn recipe(side: u32) -> Recipe {
    Recipe::new().resize(side, side).fit(Fit::Inside).threads(1)
}

fn shared(input: &Path, outputs: Outputs, out: &Path) {
    let mut fan = FanOut::new(Input::open(input).unwrap());
    for &(side, name) in outputs {
        fan.add(recipe(side), out.join(name)).unwrap();
    }
    assert_eq!(fan.groups().len(), 1);
    fan.run(None, &|done| {
        done.result.unwrap();
    });
}

fn separate(input: &Path, outputs: Outputs, out: &Path) {
    for &(side, name) in outputs {
        recipe(side).open(input).unwrap().write_to_path(out.join(name)).unwrap();
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let png = input(dir.path(), Format::Png, "in.png");
    let jpeg = input(dir.path(), Format::Jpeg, "in.jpg");
    let jobs: [(&str, &Path, Outputs); 2] = [
        ("4096² PNG -> 256 JPEG + 256 WebP + 1024 PNG", &png, &[(256, "a.jpg"), (256, "a.webp"), (1024, "b.png")]),
        ("4096² JPEG -> 256 JPEG + WebP + PNG", &jpeg, &[(256, "a.jpg"), (256, "a.webp"), (256, "a.png")]),
    ];
    for (name, input, outputs) in jobs {
        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        group.throughput(Throughput::Elements(SIDE as u64 * SIDE as u64));
        group.bench_function("one shared decode", |b| b.iter(|| shared(input, outputs, dir.path())));
        group.bench_function("a decode per output", |b| b.iter(|| separate(input, outputs, dir.path())));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
