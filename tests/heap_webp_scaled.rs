//! dhat heap test of the libwebp WebP decoder (`webp-lossy` feature) at 1/1 and 1/8: the Rust
//! heap (the scaled frame; the compressed data when read from a file) within the plan, and the
//! plan's Rust part not loose. libwebp's own mallocs go through the C allocator, which dhat does
//! not see: that part of the plan (`decode_libwebp::working_bytes`) is fitted to valgrind massif
//! peaks, `docs/webp-decode-memory.md`.
//!
//! Each scenario runs in its own process (see `support/heap.rs`).

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod support;

use stripflow::codec::webp::decode_libwebp::working_bytes;
use stripflow::codec::{registry, DecodeRequest, FailOn};
use stripflow::io::Input;
use stripflow::pipeline::MemorySource;
use stripflow::{ImageInfo, PixelFormat};
use support::heap::HeapTests;

const W: u32 = 1024;
const H: u32 = 768;

fn request(shrink: u8) -> DecodeRequest {
    DecodeRequest { shrink, region: None, rows_needed: u32::MAX, fail_on: FailOn::default(), cmyk: false, threads: 1 }
}

/// A lossy 1024x768 WebP of the synthetic pattern (stripflow's libwebp encoder).
fn lossy() -> Vec<u8> {
    let mut source = stripflow::synth::Synthetic::new(W, H, PixelFormat::RGB8, 5);
    let mut frame = vec![0u8; W as usize * H as usize * 3];
    for row in frame.chunks_exact_mut(W as usize * 3) {
        stripflow::pipeline::RowSource::read_row(&mut source, row).unwrap();
    }
    let mut source = MemorySource::new(ImageInfo { width: W, height: H, format: PixelFormat::RGB8 }, frame).unwrap();
    let mut bytes = Vec::new();
    stripflow::codec::webp::WebpEncoder::default().encode(&mut source, &mut bytes).unwrap();
    bytes
}

/// The plan of decoding `input` at 1/`shrink`, and the scaled width.
fn plan(input: &Input, shrink: u8) -> (usize, u32) {
    let header = registry::read_header(input).unwrap();
    let decoder = registry::codec(header.format).decoder.unwrap();
    (decoder.heap_bytes(input, &header, &request(shrink)).unwrap(), decoder.scaled_size(&header, shrink).0)
}

/// Decodes `input` at 1/`shrink` row by row without holding the image.
fn run(input: Input, shrink: u8) {
    let header = registry::read_header(&input).unwrap();
    let decoder = registry::codec(header.format).decoder.unwrap();
    let mut source = decoder.build(input, &header, &request(shrink)).unwrap();
    let mut row = vec![0u8; source.info().row_bytes()];
    for _ in 0..source.info().height {
        source.read_row(&mut row).unwrap();
    }
}

fn main() {
    let mut t = HeapTests::new();
    let dir = tempfile::tempdir().unwrap();
    let bytes = lossy();
    let path = dir.path().join("lossy.webp");
    std::fs::write(&path, &bytes).unwrap();
    for shrink in [1u8, 8] {
        for from_file in [false, true] {
            let open = || if from_file { Input::open(&path).unwrap() } else { Input::from_bytes(bytes.clone()) };
            let (model, scaled_width) = plan(&open(), shrink);
            let rust_part = model - working_bytes(W, scaled_width);
            let name = format!("webp_libwebp_1_{shrink}{}", if from_file { "_file" } else { "" });
            let peak = t.measure(&name, open, |input| run(input, shrink));
            // Beside the decoder: one row and the parsed header.
            let beside = (scaled_width as usize * 3 + 2048) as u64;
            t.check_at_most(&format!("{name} within its plan"), peak, model as u64 + beside);
            if let Some(peak) = peak {
                let ratio = peak as f64 / rust_part as f64;
                println!("{name}: dhat peak {peak}, plan {model} of which Rust {rust_part} (ratio {ratio:.2})");
                t.check(&format!("{name} Rust part is tight"), ratio >= 0.9, &format!("ratio {ratio:.2}"));
            }
        }
    }
    t.finish();
}
