//! dhat heap tests of the pure-Rust WebP encoder (image-webp, lossless): its measured peak against
//! the model its `heap_bytes` returns (the frame plus image-webp's working memory), on photo-like
//! and noise frames, RGB and RGBA, and a 16-bit gray source converted on the way.
//!
//! libwebp (the `webp-lossy` feature) allocates with C `malloc`, which dhat does not see; its model
//! is checked against massif measurements (`docs/webp-memory.md`) and the process's peak RSS
//! (`cli/tests/webp.rs`).
//!
//! Each scenario runs in its own process (see `support/heap.rs`).

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod support;

use stripflow::codec::webp::{WebpEncoder, WebpLibrary};
use stripflow::codec::EncoderSpec;
use stripflow::synth::{Noise, Synthetic};
use stripflow::{ImageInfo, PixelFormat, RowSource};
use support::heap::HeapTests;
use support::CountingSink;


fn encoder() -> WebpEncoder {
    WebpEncoder { lossless: true, library: WebpLibrary::ImageWebp, ..Default::default() }
}

/// Encodes `source` with image-webp to a counting sink.
fn encode(mut source: Box<dyn RowSource>) {
    let mut out = CountingSink(0);
    encoder().encode(&mut *source, &mut out).unwrap();
    assert!(out.0 > 1000, "encoded {} bytes", out.0);
}

fn main() {
    let mut t = HeapTests::new();
    let cases: [(&str, u32, u32, PixelFormat, bool); 6] = [
        ("rgb_synth", 1024, 768, PixelFormat::RGB8, false),
        ("rgba_synth", 1024, 768, PixelFormat::RGBA8, false),
        ("rgb_noise", 1024, 768, PixelFormat::RGB8, true),
        ("rgba_noise", 1024, 768, PixelFormat::RGBA8, true),
        ("rgba_noise_tall", 512, 1536, PixelFormat::RGBA8, true),
        ("gray16_synth", 1024, 768, PixelFormat::GRAY16, false),
    ];
    for (name, width, height, format, noise) in cases {
        let info = ImageInfo { width, height, format };
        let model = encoder().heap_bytes(info) as u64;
        let peak = t.measure(
            &format!("image_webp_{name}"),
            || -> Box<dyn RowSource> {
                if noise {
                    Box::new(Noise::new(info, 1))
                } else {
                    Box::new(Synthetic::new(width, height, format, 7))
                }
            },
            encode,
        );
        // The model is an upper bound, and not a loose one: the frame itself is a third of it.
        t.check_at_most(&format!("image-webp {name} {width}x{height} {format} within its model"), peak, model);
        if let Some(peak) = peak {
            t.check(
                &format!("image-webp {name} model is tight"),
                peak * 2 >= model,
                &format!("peak {peak} vs model {model}"),
            );
        }
    }
    t.finish();
}
