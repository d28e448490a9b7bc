//! Criterion benchmarks of the JPEG encoder's modes on a 2048x2048 RGB image (input megapixels
//! per second): baseline at each chroma subsampling (streaming), and the whole-frame modes
//! (progressive, optimised Huffman tables). jpeg-encoder's AVX2 path is on where the CPU has it.
//!
//! Then the baseline encoder's kernels on one 4096-wide MCU row (colour conversion, fDCT with
//! quantisation, Huffman coding) and the whole baseline encode of a 4096x4096 stream of rows
//! replayed from a 64-row strip held in memory (so the source costs next to nothing).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stripflow::codec::jpeg::{JpegEncoder, Subsampling};
use stripflow::codec::png::PngEncoder;
use stripflow::codec::png::PngDecoder;
use stripflow::codec::jpeg::baseline::kernels;
use stripflow::io::Input;
use stripflow::synth::Synthetic;
use stripflow::{ImageInfo, PixelFormat, RowSource};

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

/// A 4096-wide RGB strip of the synthetic scene, replayed as a `height`-row image.
struct Replay {
    strip: Vec<u8>,
    height: u32,
    next: u32,
}

const WIDE: u32 = 4096;
const STRIP_ROWS: u32 = 64;

impl Replay {
    fn new(strip: &[u8], height: u32) -> Replay {
        Replay { strip: strip.to_vec(), height, next: 0 }
    }
}

impl RowSource for Replay {
    fn info(&self) -> ImageInfo {
        ImageInfo { width: WIDE, height: self.height, format: PixelFormat::RGB8 }
    }

    fn read_row(&mut self, row: &mut [u8]) -> stripflow::Result<()> {
        let bytes = WIDE as usize * 3;
        let at = (self.next % STRIP_ROWS) as usize * bytes;
        row.copy_from_slice(&self.strip[at..at + bytes]);
        self.next += 1;
        Ok(())
    }

    fn buffer_bytes(&self) -> usize {
        self.strip.len()
    }

    fn name(&self) -> &'static str {
        "replayed strip"
    }
}

fn kernels(c: &mut Criterion) {
    let mut strip = vec![0u8; (WIDE * STRIP_ROWS * 3) as usize];
    Synthetic::new(WIDE, STRIP_ROWS, PixelFormat::RGB8, 2).read_rows(&mut strip).unwrap();
    let w = WIDE as usize;
    let mut group = c.benchmark_group("jpeg baseline kernels, one 4096x8 row");
    group.throughput(Throughput::Elements(WIDE as u64 * 8));
    let (mut y, mut cb, mut cr) = (vec![0u8; w * 8], vec![0u8; w * 8], vec![0u8; w * 8]);
    group.bench_function("rgb -> ycbcr", |b| {
        b.iter(|| {
            for r in 0..8 {
                let rgb = &strip[r * w * 3..(r + 1) * w * 3];
                kernels::rgb_to_ycbcr(rgb, &mut y[r * w..][..w], &mut cb[r * w..][..w], &mut cr[r * w..][..w]);
            }
        })
    });
    let mut blocks = kernels::Blocks::new();
    group.bench_function("fdct + quantise (q85)", |b| b.iter(|| kernels::fdct_quantise(&y, w, 85, &mut blocks)));
    kernels::fdct_quantise(&y, w, 85, &mut blocks);
    group.bench_function("huffman (q85)", |b| b.iter(|| kernels::huffman(&blocks)));
    group.finish();

    let mut group = c.benchmark_group("jpeg baseline encode 4096x4096 rgb8 stream");
    group.sample_size(10);
    group.throughput(Throughput::Elements(WIDE as u64 * WIDE as u64));
    for (name, subsampling) in [("4:2:0 q85", Subsampling::S420), ("4:4:4 q85", Subsampling::S444)] {
        let encoder = JpegEncoder { subsampling, ..Default::default() };
        group.bench_function(name, |b| b.iter(|| encoder.encode(&mut Replay::new(&strip, WIDE), &mut std::io::sink()).unwrap()));
    }
    group.finish();
}

criterion_group!(benches, bench, kernels);
criterion_main!(benches);
