//! One resize job, PNG in and PNG out, for `bench/compare_resize.sh`.
//!
//! ```text
//! cargo run --release --example resize_job -- IN.png OUT.png WxH [KERNEL]
//! cargo run --release --example resize_job -- --generate OUT.png WxH   # synthetic RGB8 input
//! cargo run --release --example resize_job -- IN.png --null WxH         # resize, discard rows
//! ```
//!
//! stripflow's streaming PNG decoder, the resize stage, and the streaming PNG encoder (fast
//! compression). Prints the wall time.

use std::io::BufWriter;
use std::time::Instant;

use stripflow::codec::png::{PngDecoder, PngEncoder};
use stripflow::io::{AtomicOutput, Input};
use stripflow::ops::resize::{Kernel, Resize, ResizeOptions};
use stripflow::pixel::PixelFormat;
use stripflow::{Error, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: resize_job IN.png OUT.png WxH [KERNEL] | resize_job --generate OUT.png WxH");
        std::process::exit(2);
    }
    let (w, h) = args[2]
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
        .ok_or_else(|| Error::parameter("size must be WxH"))?;
    if args[0] == "--generate" {
        let mut source = stripflow::synth::Synthetic::new(w, h, PixelFormat::RGB8, 1);
        let mut writer = BufWriter::with_capacity(1 << 16, AtomicOutput::create(&args[1])?);
        PngEncoder::default().encode(&mut source, &mut writer)?;
        writer.into_inner().map_err(|e| Error::Io(e.into_error()))?.commit()?;
        return Ok(());
    }
    let kernel: Kernel = args.get(3).map_or(Ok(Kernel::default()), |k| k.parse())?;
    let start = Instant::now();
    let source = PngDecoder::new(Input::open(&args[0])?)?;
    let mut stage = Resize::new(source, w, h, ResizeOptions { kernel, ..Default::default() })?;
    if args[1] == "--null" {
        stripflow::pipeline::drain(&mut stage, 16, |_, _| Ok(()))?;
    } else {
        let mut writer = BufWriter::with_capacity(1 << 16, AtomicOutput::create(&args[1])?);
        PngEncoder::default().encode(&mut stage, &mut writer)?;
        writer.into_inner().map_err(|e| Error::Io(e.into_error()))?.commit()?;
    }
    eprintln!("{} -> {}x{} {kernel}: {:.3} s", args[0], w, h, start.elapsed().as_secs_f64());
    Ok(())
}
