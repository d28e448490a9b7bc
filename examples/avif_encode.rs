//! Encodes a synthetic photo-like image to AVIF and prints the wall time: the measurement behind
//! the `asm` decision and the thread default in `src/codec/avif/mod.rs`.
//!
//! ```text
//! cargo run --release --features avif --example avif_encode -- SIZE EFFORT [THREADS] [OUT.avif]
//! ```

use std::time::Instant;

use stripflow::codec::avif::AvifEncoder;
use stripflow::pixel::PixelFormat;
use stripflow::synth::Synthetic;
use stripflow::{Error, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: usize| -> Result<usize> {
        args.get(i).map_or(Ok(default), |a| a.parse().map_err(|_| Error::parameter(format!("'{a}' is not a number"))))
    };
    let size = arg(0, 2048)? as u32;
    let effort = arg(1, 4)? as u8;
    let threads = arg(2, 0)?;
    let encoder = AvifEncoder { effort, threads, ..Default::default() };
    let mut source = Synthetic::new(size, size, PixelFormat::RGB8, 1);
    let mut out = Vec::new();
    let start = Instant::now();
    encoder.encode(&mut source, &mut out)?;
    let seconds = start.elapsed().as_secs_f64();
    println!("{size}x{size} effort {effort} threads {}: {seconds:.2} s, {} bytes", encoder.thread_count(), out.len());
    if let Some(path) = args.get(3) {
        std::fs::write(path, &out)?;
    }
    Ok(())
}
