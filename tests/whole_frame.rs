//! Whole-frame encoders in the plan: a progressive or optimised JPEG holds the frame's samples
//! and coefficients, so the planner prices them, refuses a full-size job over the budget before
//! any pixel is decoded (naming the formats that stream), and accepts the card and thumbnail
//! sizes that upload pipelines make.

use stripflow::codec::{EncoderKind, Format};
use stripflow::plan::{Chain, Pipeline};
use stripflow::synth::Synthetic;
use stripflow::{Error, PixelFormat};

fn rows(side: u32) -> Pipeline {
    Pipeline::from_source(Box::new(Synthetic::new(side, side, PixelFormat::RGB8, 1)))
}

#[test]
fn full_size_progressive_jpeg_is_refused_before_decoding_with_the_streaming_formats_named() {
    let e = rows(16000).format(Format::Jpeg).progressive(true).plan().unwrap_err();
    let message = e.to_string();
    assert!(matches!(e, Error::Limits(_)), "{e:?}");
    assert!(message.contains("JPEG output 16000x16000 needs about 2.15 GiB (quality 85, 4:2:0, progressive"), "{message}");
    assert!(message.contains("over the budget of 256.00 MiB"), "{message}");
    let streaming = stripflow::codec::registry::streaming_writable();
    assert!(streaming.contains("PNG") && streaming.contains("JPEG"), "{streaming}");
    assert!(message.contains(&format!("{streaming} stream at any size (JPEG with its default options)")), "{message}");
    // Baseline streams: the same job is planned in well under a MiB of encoder heap.
    let plan = rows(16000).format(Format::Jpeg).plan().unwrap();
    assert_eq!(plan.encoder().kind(), EncoderKind::Streaming);
    assert!(plan.heap_bytes < 4 << 20, "{}", plan.heap_bytes);
}

#[test]
fn cards_and_thumbnails_fit_and_the_budget_decides_exactly() {
    for (w, h) in [(1200, 630), (256, 256), (2048, 2048)] {
        let plan = rows(8192).format(Format::Jpeg).progressive(true).optimize_coding(true).resize(w, h).plan().unwrap();
        assert_eq!(plan.encoder().kind(), EncoderKind::WholeFrame);
        let encode = plan.stages.iter().find(|s| s.name == "jpeg encode").unwrap();
        assert!(encode.detail.contains("progressive"), "{}", encode.detail);
        assert!(encode.heap_bytes >= w as usize * h as usize * 9, "{w}x{h}: {}", encode.heap_bytes);
    }
    // The planned total is the line: one byte less is refused, the total itself accepted.
    let plan = rows(4096).format(Format::Jpeg).progressive(true).plan().unwrap();
    assert!(rows(4096).format(Format::Jpeg).progressive(true).max_memory(plan.heap_bytes).plan().is_ok());
    let e = rows(4096).format(Format::Jpeg).progressive(true).max_memory(plan.heap_bytes - 1).plan().unwrap_err();
    assert!(e.to_string().contains("JPEG output 4096x4096"), "{e}");
}

#[test]
fn jpeg_options_that_do_not_apply_are_errors() {
    let e = rows(64).format(Format::Png).progressive(true).plan().unwrap_err();
    assert!(e.to_string().contains("--progressive does not apply to PNG output"), "{e}");
    let e = rows(64).format(Format::Jpeg).lossless(true).plan().unwrap_err();
    assert!(e.to_string().contains("--lossless does not apply to JPEG output (JPEG takes --quality, --subsampling, --progressive, --optimize-coding)"), "{e}");
}
