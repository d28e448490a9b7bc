//! Resize throughput: extreme downscale, extreme upscale, and 8K to 1920 wide per kernel.
//!
//! The source replays 64 pre-generated rows of the synthetic image in a cycle, so the time is
//! the resize stage's alone (no generation, no decoding); rows are pulled in strips of 16 into a
//! reused buffer, as an encoder would. Throughput is in pixels of the larger side (input pixels
//! for downscales, output pixels for upscales); the benchmark id names both sizes.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use stripflow::ops::resize::{Kernel, Resize, ResizeOptions};
use stripflow::pipeline::drain;
use stripflow::pixel::PixelFormat;

#[path = "support/replay.rs"]
mod replay;
use replay::Replay;

fn run(source: Replay, width: u32, height: u32, kernel: Kernel) -> u64 {
    let options = ResizeOptions { kernel, ..Default::default() };
    let mut stage = Resize::new(source, width, height, options).unwrap();
    let mut checksum = 0u64;
    drain(&mut stage, 16, |strip, _| {
        checksum = checksum.wrapping_add(strip[0] as u64);
        Ok(())
    })
    .unwrap();
    checksum
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("extreme downscale");
    group.sample_size(10);
    for (ow, oh) in [(256, 256), (1, 1)] {
        let (w, h) = (16384, 16384);
        group.throughput(Throughput::Elements(w as u64 * h as u64));
        group.bench_function(BenchmarkId::new("lanczos3 rgb8", format!("{w}x{h}->{ow}x{oh}")), |b| {
            let source = Replay::new(w, h, PixelFormat::RGB8);
            b.iter_batched(
                || source.clone(),
                |s| run(s, ow, oh, Kernel::Lanczos3),
                criterion::BatchSize::PerIteration,
            )
        });
    }
    group.finish();

    let mut group = c.benchmark_group("extreme upscale");
    group.sample_size(10);
    let (w, h, ow, oh) = (64, 64, 16384, 16384);
    group.throughput(Throughput::Elements(ow as u64 * oh as u64));
    group.bench_function(BenchmarkId::new("lanczos3 rgb8", format!("{w}x{h}->{ow}x{oh}")), |b| {
        b.iter(|| run(Replay::new(w, h, PixelFormat::RGB8), ow, oh, Kernel::Lanczos3))
    });
    group.finish();

    let mut group = c.benchmark_group("8K");
    group.sample_size(10);
    let (w, h, ow, oh) = (8192, 8192, 1920, 1920);
    group.throughput(Throughput::Elements(w as u64 * h as u64));
    let source = Replay::new(w, h, PixelFormat::RGB8);
    for kernel in Kernel::ALL {
        group.bench_function(BenchmarkId::new(kernel.name(), format!("{w}x{h}->{ow}x{oh} rgb8")), |b| {
            b.iter_batched(
                || source.clone(),
                |s| run(s, ow, oh, kernel),
                criterion::BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
