//! Peak heap of whole resize jobs, measured by dhat (one child process per scenario).
//!
//! Source: the synthetic photo generator (O(width) memory), standing in for the PNG decoder
//! until it lands on main; sink: the real streaming PNG encoder writing to `io::sink()`.
//! The peaks cover the whole chain: source, resize stage and encoder.

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod support;

use stripflow::codec::png::encode::PngEncoder;
use stripflow::ops::resize::{Resize, ResizeOptions};
use stripflow::pipeline::chain_buffer_bytes;
use stripflow::pixel::PixelFormat;
use stripflow::synth::Synthetic;

/// Synthetic `(w, h)` RGB8 resized to `(ow, oh)` with lanczos3 and encoded as PNG.
fn job(w: u32, h: u32, ow: u32, oh: u32) {
    let source = Synthetic::new(w, h, PixelFormat::RGB8, 1);
    let mut stage = Resize::new(source, ow, oh, ResizeOptions::default()).expect("resize");
    eprintln!("buffers of the chain: {} bytes", chain_buffer_bytes(&stage));
    PngEncoder::default().encode(&mut stage, &mut std::io::sink()).expect("encode");
}

fn main() {
    let mut t = support::heap::HeapTests::new();
    const MIB: u64 = 1 << 20;

    let down = t.measure("down_16k_to_256", || (), |_| job(16384, 16384, 256, 256));
    t.check_at_most("16384x16384 -> 256x256", down, 4 * MIB);

    let dot = t.measure("down_16k_to_1", || (), |_| job(16384, 16384, 1, 1));
    t.check_at_most("16384x16384 -> 1x1", dot, 4 * MIB);

    let up = t.measure("up_64_to_16k", || (), |_| job(64, 64, 16384, 16384));
    t.check_at_most("64x64 -> 16384x16384", up, 8 * MIB);

    let tall = t.measure("down_16kx64k_to_256", || (), |_| job(16384, 65536, 256, 256));
    t.check_at_most("16384x65536 -> 256x256", tall, 4 * MIB);
    t.check_flat("16384x65536 -> 256x256 vs 16384x16384", down, tall, 64 << 10);

    t.finish();
}
