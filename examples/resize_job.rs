//! One resize job, PNG in and PNG out, for `bench/compare_resize.sh`.
//!
//! ```text
//! cargo run --release --example resize_job -- IN.png OUT.png WxH [KERNEL]
//! cargo run --release --example resize_job -- --generate OUT.png WxH   # synthetic RGB8 input
//! ```
//!
//! Decoding uses the png crate's row-by-row reader behind a small `RowSource` adapter (stripflow's
//! own PNG decoder can replace it once it lands; both stream rows), then the resize stage, then
//! stripflow's streaming PNG encoder (fast compression). Prints the wall time.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::time::Instant;

use stripflow::codec::png::PngEncoder;
use stripflow::io::AtomicOutput;
use stripflow::ops::resize::{Kernel, Resize, ResizeOptions};
use stripflow::pixel::{BitDepth, ColorType, ImageInfo, PixelFormat};
use stripflow::{Error, Result, RowSource};

/// The png crate's reader as a row source (8- and 16-bit Gray/GrayAlpha/RGB/RGBA, expanded).
struct PngRows {
    reader: png::Reader<BufReader<File>>,
    info: ImageInfo,
}

impl PngRows {
    fn open(path: &str) -> Result<Self> {
        let mut decoder = png::Decoder::new(BufReader::new(File::open(path)?));
        decoder.set_transformations(png::Transformations::EXPAND);
        let reader = decoder.read_info().map_err(|e| Error::format("PNG", e))?;
        let (color, depth) = reader.output_color_type();
        let color = match color {
            png::ColorType::Grayscale => ColorType::Gray,
            png::ColorType::GrayscaleAlpha => ColorType::GrayAlpha,
            png::ColorType::Rgb => ColorType::Rgb,
            png::ColorType::Rgba => ColorType::Rgba,
            png::ColorType::Indexed => return Err(Error::unsupported("PNG", "indexed after expansion")),
        };
        let depth = if depth == png::BitDepth::Sixteen { BitDepth::Sixteen } else { BitDepth::Eight };
        let header = reader.info();
        let info = ImageInfo { width: header.width, height: header.height, format: PixelFormat::new(color, depth) };
        Ok(PngRows { reader, info })
    }
}

impl RowSource for PngRows {
    fn info(&self) -> ImageInfo {
        self.info
    }
    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        let next = self.reader.next_row().map_err(|e| Error::format("PNG", e))?;
        let data = next.ok_or_else(|| Error::parameter("read past the last row"))?.data();
        if self.info.format.depth == BitDepth::Sixteen {
            for (o, s) in row.chunks_exact_mut(2).zip(data.chunks_exact(2)) {
                o.copy_from_slice(&u16::from_be_bytes([s[0], s[1]]).to_ne_bytes());
            }
        } else {
            row.copy_from_slice(data);
        }
        Ok(())
    }
    fn buffer_bytes(&self) -> usize {
        0
    }
    fn name(&self) -> &'static str {
        "png crate"
    }
}

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
    let source = PngRows::open(&args[0])?;
    let mut stage = Resize::new(source, w, h, ResizeOptions { kernel, ..Default::default() })?;
    let mut writer = BufWriter::with_capacity(1 << 16, AtomicOutput::create(&args[1])?);
    PngEncoder::default().encode(&mut stage, &mut writer)?;
    writer.into_inner().map_err(|e| Error::Io(e.into_error()))?.commit()?;
    eprintln!("{} -> {}x{} {kernel}: {:.3} s", args[0], w, h, start.elapsed().as_secs_f64());
    Ok(())
}
