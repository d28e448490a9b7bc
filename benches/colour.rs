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
use stripflow::pipeline::{drain, RowCounter, StageSpec};
use stripflow::pixel::{ImageInfo, PixelFormat};
use stripflow::synth::Synthetic;
use stripflow::{Result, RowSource};

const WIDTH: u32 = 4096;
const HEIGHT: u32 = 256;

/// Replays a few pre-generated rows as a tall image.
struct Replay {
    info: ImageInfo,
    rows: Vec<u8>,
    next: RowCounter,
}

impl Replay {
    fn new(format: PixelFormat) -> Self {
        let mut s = Synthetic::new(WIDTH, 64, format, 1);
        let mut rows = vec![0; s.info().row_bytes() * 64];
        s.read_rows(&mut rows).unwrap();
        Replay { info: ImageInfo { width: WIDTH, height: HEIGHT, format }, rows, next: RowCounter::new(HEIGHT) }
    }
}

impl RowSource for Replay {
    fn info(&self) -> ImageInfo {
        self.info
    }
    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        let y = self.next.advance()? as usize % 64;
        row.copy_from_slice(&self.rows[y * row.len()..][..row.len()]);
        Ok(())
    }
    fn buffer_bytes(&self) -> usize {
        self.rows.len()
    }
    fn name(&self) -> &'static str {
        "replay"
    }
}

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
                let mut stage = spec.build(Box::new(Replay::new(format))).unwrap();
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
