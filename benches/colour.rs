//! Colour stage throughput: rows of the synthetic image converted to sRGB through a Display P3
//! profile (matrix-shaper, 8 and 16 bit, RGB and RGBA) and through ghostscript's CMYK profile
//! (LUT, 8-bit, when installed), rows/s and pixels/s.
//!
//! The source replays 64 pre-generated rows, so the time is the colour stage's alone; rows are
//! pulled in strips of 16 into a reused buffer, as an encoder would. The transform is built
//! once, outside the timing, as the planner does.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use moxcms::ColorProfile;
use stripflow::ops::colour::{ColourSpec, InputProfile};
use stripflow::pipeline::{drain, StageSpec};
use stripflow::pixel::PixelFormat;

const WIDTH: u32 = 4096;
const HEIGHT: u32 = 256;

#[path = "support/replay.rs"]
mod replay;
use replay::Replay;

fn bench(c: &mut Criterion) {
    let p3 = ColorProfile::new_display_p3().encode().unwrap();
    let mut cases = vec![
        ("p3 rgb8", p3.clone(), PixelFormat::RGB8),
        ("p3 rgba8", p3.clone(), PixelFormat::RGBA8),
        ("p3 rgb16", p3.clone(), PixelFormat::RGB16),
        ("p3 rgba16", p3, PixelFormat::RGBA16),
    ];
    if let Ok(cmyk) = std::fs::read("/usr/share/color/icc/ghostscript/default_cmyk.icc") {
        cases.push(("cmyk lut8", cmyk, PixelFormat::RGBA8));
    }
    let mut group = c.benchmark_group("colour to sRGB");
    group.sample_size(20);
    group.throughput(Throughput::Elements(HEIGHT as u64));
    for (name, bytes, format) in cases {
        let spec = ColourSpec::new(InputProfile::from_icc(bytes).unwrap(), format).unwrap();
        group.bench_function(BenchmarkId::new(name, format!("{WIDTH}x{HEIGHT} rows")), |b| {
            b.iter(|| {
                let mut stage = spec.build(Box::new(Replay::new(WIDTH, HEIGHT, format))).unwrap();
                let mut checksum = 0u64;
                drain(&mut *stage, 16, |strip, _| {
                    checksum = checksum.wrapping_add(strip[0] as u64);
                    Ok(())
                })
                .unwrap();
                checksum
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
