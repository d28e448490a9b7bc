//! dhat heap test of the AVIF encoder: its measured peak against the model
//! `AvifEncoder::heap_bytes` (the collected frame plus rav1e's working memory), over sizes,
//! shapes, efforts, threads, bit depths and alpha. The peak must not exceed the prediction, and
//! the prediction must stay within 1.4x of the peak (`MAX_RATIO`).
//!
//! Each scenario runs in its own process (see `support/heap.rs`). The inputs are synthetic
//! photo-like rows generated on the fly (no fixture file); the source's own buffers are a few
//! rows and are not part of the encoder's account, so the check allows the source's
//! `buffer_bytes` on top.
//!
//! `STRIPFLOW_AVIF_FIT=1` prints each scenario's peak and prediction as a table (the data of the
//! design note in `src/codec/avif/mod.rs`).

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod support;

use stripflow::codec::avif::{AvifBitDepth, AvifEncoder};
use stripflow::codec::EncoderSpec;
use stripflow::pixel::{ImageInfo, PixelFormat};
use stripflow::synth::Synthetic;
use stripflow::RowSource;
use support::heap::{human, HeapTests};
use support::CountingSink;

/// How far above the measured peak the prediction may be.
const MAX_RATIO: f64 = 1.4;

/// One encode: size, pixel format of the rows, effort, threads, bit depth.
struct Case {
    width: u32,
    height: u32,
    format: PixelFormat,
    effort: u8,
    threads: usize,
    ten_bits: bool,
}

impl Case {
    fn name(&self) -> String {
        format!(
            "{}x{}_{}_e{}_t{}_{}bit",
            self.width,
            self.height,
            self.format.to_string().replace(' ', ""),
            self.effort,
            self.threads,
            if self.ten_bits { 10 } else { 8 }
        )
    }

    fn encoder(&self) -> AvifEncoder {
        AvifEncoder {
            effort: self.effort,
            threads: self.threads,
            bit_depth: if self.ten_bits { AvifBitDepth::Ten } else { AvifBitDepth::Eight },
            ..Default::default()
        }
    }

    fn source(&self) -> Synthetic {
        Synthetic::new(self.width, self.height, self.format, 3)
    }
}

fn main() {
    let mut t = HeapTests::new();
    let fit = std::env::var_os("STRIPFLOW_AVIF_FIT").is_some();
    let c = |width, height, format, effort, threads, ten_bits| Case { width, height, format, effort, threads, ten_bits };
    let (rgb8, rgba8, rgb16, rgba16, gray8) =
        (PixelFormat::RGB8, PixelFormat::RGBA8, PixelFormat::RGB16, PixelFormat::RGBA16, PixelFormat::GRAY8);
    let mut cases = vec![
        c(64, 64, rgb8, 4, 2, false),
        c(128, 128, rgb8, 4, 2, false),
        c(256, 256, rgb8, 4, 2, false),
        c(512, 512, rgb8, 4, 2, false),
        c(1024, 1024, rgb8, 6, 2, false),
        c(1024, 128, rgb8, 4, 2, false),
        c(128, 1024, rgb8, 4, 2, false),
        c(512, 512, rgb8, 4, 1, false),
        c(512, 512, rgb8, 0, 2, false),
        c(256, 256, rgb8, 9, 2, false),
        c(512, 512, rgb8, 9, 1, false),
        c(512, 512, rgb8, 4, 2, true),
        c(512, 512, rgb16, 4, 2, true),
        c(512, 512, rgba8, 4, 2, false),
        c(512, 512, rgba8, 4, 1, false),
        c(512, 512, rgba16, 4, 2, true),
        c(256, 256, rgba8, 9, 2, false),
        c(300, 200, gray8, 4, 2, false),
    ];
    if fit {
        // Bigger frames for the fit (effort 0 is the fastest, and effort barely moves the peak).
        cases.extend([
            c(2048, 2048, rgb8, 0, 2, false),
            c(2048, 1024, rgb8, 0, 2, false),
            c(1536, 1536, rgb8, 0, 1, false),
            c(1536, 1536, rgb8, 0, 2, false),
            c(1536, 1536, rgb8, 0, 4, false),
            c(1536, 1536, rgb8, 0, 2, true),
            c(1536, 1536, rgba8, 0, 2, false),
            c(1536, 1536, rgba8, 0, 2, true),
            c(4096, 256, rgb8, 0, 2, false),
        ]);
    }
    let mut rows = Vec::new();
    for case in &cases {
        let name = case.name();
        let peak = t.measure(&name, || (case.encoder(), case.source()), |(encoder, mut source)| {
            let mut out = CountingSink(0);
            encoder.encode(&mut source, &mut out).unwrap();
            assert!(out.0 > 100, "encoded {} bytes", out.0);
        });
        let Some(peak) = peak else { continue };
        let info = ImageInfo { width: case.width, height: case.height, format: case.format };
        let source_bytes = case.source().buffer_bytes() as u64;
        let predicted = case.encoder().heap_bytes(info) as u64;
        let ratio = predicted as f64 / peak as f64;
        rows.push(format!("{name:<40} peak {peak:>11} predicted {predicted:>11} ratio {ratio:.2}"));
        t.check(
            &format!("{name}: peak <= heap_bytes, heap_bytes <= {MAX_RATIO} x peak"),
            fit || (peak <= predicted + source_bytes && ratio <= MAX_RATIO),
            &format!("peak {}, predicted {} ({ratio:.2}x)", human(peak), human(predicted)),
        );
    }
    if fit {
        println!("{}", rows.join("\n"));
    }
    t.finish();
}
