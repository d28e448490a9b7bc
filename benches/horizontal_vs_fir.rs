//! The horizontal pass against fast_image_resize (issue 13): the same strips of RGB8 rows
//! resampled to a narrower width with Lanczos-3, by stripflow's resize stage (height kept, so
//! only its horizontal pass and its u8 <-> f32 conversions run; a large factor is box-shrunk
//! first, as libvips does) and by fast_image_resize's convolution (fixed-point, AVX2/SSE4.1).
//!
//! Strips of 16 rows, as the pipeline hands them on, 8192 wide to 1920 (the report's 8K ->
//! 1920 job), 8192 to 2048 and 4096 to 3000 (a small factor: no box shrink). Throughput is in
//! input pixels.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions as FirOptions, Resizer};
use stripflow::ops::resize::{Kernel, Resize, ResizeOptions};
use stripflow::pipeline::MemorySource;
use stripflow::pixel::{ImageInfo, PixelFormat};
use stripflow::synth::Synthetic;
use stripflow::RowSource;

const STRIP: u32 = 16;

fn strip(width: u32) -> Vec<u8> {
    let mut s = Synthetic::new(width, STRIP, PixelFormat::RGB8, 1);
    let mut rows = vec![0; s.info().row_bytes() * STRIP as usize];
    s.read_rows(&mut rows).unwrap();
    rows
}

fn ours(rows: &[u8], width: u32, out_width: u32, out: &mut [u8]) {
    let info = ImageInfo { width, height: STRIP, format: PixelFormat::RGB8 };
    let source = MemorySource::new(info, rows.to_vec()).unwrap();
    let options = ResizeOptions { kernel: Kernel::Lanczos3, ..Default::default() };
    let mut stage = Resize::new(source, out_width, STRIP, options).unwrap();
    stage.read_rows(out).unwrap();
}

fn fir(resizer: &mut Resizer, rows: &[u8], width: u32, out_width: u32, out: &mut Image<'_>) {
    let src = Image::from_vec_u8(width, STRIP, rows.to_vec(), PixelType::U8x3).unwrap();
    let options = FirOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    resizer.resize(&src, out, &options).unwrap();
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("horizontal pass, 16-row RGB8 strips");
    for (width, out_width) in [(8192u32, 1920u32), (8192, 2048), (4096, 3000)] {
        let rows = strip(width);
        group.throughput(Throughput::Elements(width as u64 * STRIP as u64));
        let id = format!("{width}->{out_width}");
        group.bench_function(BenchmarkId::new("stripflow", &id), |b| {
            let mut out = vec![0u8; out_width as usize * 3 * STRIP as usize];
            b.iter(|| ours(&rows, width, out_width, &mut out))
        });
        group.bench_function(BenchmarkId::new("fast_image_resize", &id), |b| {
            let mut resizer = Resizer::new();
            let mut out = Image::new(out_width, STRIP, PixelType::U8x3);
            b.iter(|| fir(&mut resizer, &rows, width, out_width, &mut out))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
