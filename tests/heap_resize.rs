//! Peak heap of whole resize jobs through the real PNG decoder and encoder, measured by dhat
//! (one child process per scenario, fixtures generated before the profiler starts).
//!
//! Bounds from the resize issue: 16384^2 -> 256^2 and -> 1x1 within 4 MiB, 64^2 -> 16384^2
//! within 8 MiB, and the same downscale of a 16384x65536 image within 64 KiB of the square one.
//! Each scenario also checks that the chain's own accounting (`chain_buffer_bytes`) is below the
//! measured peak, so the numbers the planner budgets with are not fiction.

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod support;

use std::path::PathBuf;

use stripflow::codec::png::{PngDecoder, PngEncoder};
use stripflow::io::Input;
use stripflow::ops::resize::{Resize, ResizeOptions};
use stripflow::pipeline::chain_buffer_bytes;
use stripflow::pixel::PixelFormat;
use stripflow::synth::Synthetic;
use stripflow::RowSource;
use support::fixtures;

/// Decodes `png`, resizes it to `(ow, oh)` with lanczos3 and encodes a PNG (to `io::sink`).
fn job(png: PathBuf, ow: u32, oh: u32) {
    let decoder = PngDecoder::new(Input::open(&png).expect("open")).expect("decoder");
    let mut stage = Resize::new(decoder, ow, oh, ResizeOptions::default()).expect("resize");
    let buffers = chain_buffer_bytes(&stage);
    PngEncoder::default().encode(&mut stage, &mut std::io::sink()).expect("encode");
    let peak = dhat::HeapStats::get().max_bytes;
    // The PNG decoder's account is the planner's model of the png crate's buffers (an upper bound
    // of its doubling growth), so it may pass the measured peak by a little, never by 10%.
    assert!(buffers <= peak + peak / 10, "chain accounts {buffers} bytes, over 1.1x the peak {peak}");
    eprintln!("chain buffers {buffers} bytes of a {peak}-byte peak");
}

/// Builds resize stages of every shape (box shrink, scatter, gather, alpha, linear light, 16-bit)
/// over a synthetic source, and checks that pulling their rows allocates nothing.
fn no_allocation_per_row() {
    let cases = [
        (PixelFormat::RGB8, 3000, 2000, 7, 5, false),
        (PixelFormat::RGBA8, 300, 200, 77, 51, true),
        (PixelFormat::GRAYA16, 30, 20, 301, 203, true),
        (PixelFormat::RGB16, 1000, 30, 3, 900, false),
    ];
    for (format, w, h, ow, oh, linear_light) in cases {
        let options = ResizeOptions { linear_light, ..Default::default() };
        let mut stage = Resize::new(Synthetic::new(w, h, format, 2), ow, oh, options).expect("resize");
        let mut row = vec![0u8; stage.info().row_bytes()];
        let before = dhat::HeapStats::get().total_blocks;
        for _ in 0..oh {
            stage.read_row(&mut row).expect("row");
        }
        let after = dhat::HeapStats::get().total_blocks;
        assert_eq!(before, after, "{format} {w}x{h} -> {ow}x{oh}: {} allocations while running", after - before);
    }
}

fn main() {
    let mut t = support::heap::HeapTests::new();
    const MIB: u64 = 1 << 20;
    let square = || fixtures::png(16384, 16384, PixelFormat::RGB8, 1);

    let down = t.measure("down_16k_to_256", square, |p| job(p, 256, 256));
    t.check_at_most("16384x16384 -> 256x256", down, 4 * MIB);

    let dot = t.measure("down_16k_to_1", square, |p| job(p, 1, 1));
    t.check_at_most("16384x16384 -> 1x1", dot, 4 * MIB);

    let up = t.measure("up_64_to_16k", || fixtures::png(64, 64, PixelFormat::RGB8, 1), |p| job(p, 16384, 16384));
    t.check_at_most("64x64 -> 16384x16384", up, 8 * MIB);

    let tall = t.measure("down_16kx64k_to_256", || fixtures::png(16384, 65536, PixelFormat::RGB8, 1), |p| {
        job(p, 256, 256)
    });
    t.check_at_most("16384x65536 -> 256x256", tall, 4 * MIB);
    t.check_flat("16384x65536 -> 256x256 vs 16384x16384", down, tall, 64 << 10);

    let rows = t.measure("no_allocation_per_row", || (), |_| no_allocation_per_row());
    if t.selected("no_allocation_per_row") {
        t.check("no allocation per row", rows.is_some(), "resize stages of every shape allocate only when built");
    }

    t.finish();
}
