//! Writes a photo-like JPEG of any size from stripflow's procedural sample (`stripflow::synth`),
//! streamed strip by strip: the uploads of the end-to-end test (never committed).
//!
//! `cargo run --release -p stripflow-lambda --example sample_jpeg -- WIDTH HEIGHT OUT.jpg [QUALITY]`

use stripflow::prelude::*;
use stripflow::synth::Synthetic;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || Error::parameter("usage: sample_jpeg WIDTH HEIGHT OUT.jpg [QUALITY]");
    let [width, height, out, rest @ ..] = args.as_slice() else { return Err(usage()) };
    let width: u32 = width.parse().map_err(|_| usage())?;
    let height: u32 = height.parse().map_err(|_| usage())?;
    let quality: u8 = rest.first().map_or(Ok(85), |q| q.parse()).map_err(|_| usage())?;
    let sample = Synthetic::try_new(width, height, PixelFormat::RGB8, 7)?;
    let stats = Pipeline::from_source(Box::new(sample)).format(Format::Jpeg).quality(quality).write_to_path(out)?;
    println!("{out}: {}x{} in {:?}", stats.output.width, stats.output.height, stats.elapsed);
    Ok(())
}
