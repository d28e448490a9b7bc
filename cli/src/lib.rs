//! The command-line front end of the stripflow library, shared by the `stripflow` binary (with a
//! counting allocator) and `stripflow-dhat` (the same commands under the dhat heap profiler, used by
//! the report to write dhat-heap.json files).
//!
//! Subcommands: `info` (header facts, no pixel decode), `convert` (crop, resize, format change,
//! streamed), `demo` (the whole job on a built-in 16384x16384 sample, with time and peak heap per
//! step). Errors print one line and exit non-zero.

pub mod demo;
pub mod peak_alloc;
pub mod report;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use stripflow::codec::jpeg::{JpegEncoder, Subsampling};
use stripflow::codec::png::{PngCompression, PngEncoder};
use stripflow::codec::{probe, Format};
use stripflow::io::{AtomicOutput, Input};
use stripflow::ops::convert::parse_background;
use stripflow::ops::crop::{Crop, Gravity, Rect};
use stripflow::ops::resize::{Kernel, Resize, ResizeOptions};
use stripflow::RowSource;

/// Streaming image transforms with a fixed memory ceiling.
#[derive(Parser)]
#[command(name = "stripflow", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print format, size, colour type, bit depth, interlacing and EXIF orientation (header only).
    ///
    /// Example: stripflow info photo.jpg --json
    Info {
        /// Input file, or - for standard input.
        input: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Crop, resize and change format, streaming strips of rows.
    ///
    /// Example: stripflow convert big.png crop.jpg --crop 1000x1000 --gravity bottom-right --quality 90
    Convert(ConvertArgs),
    /// Run the main job on a built-in 16384x16384 sample: generate, encode, crop, convert, resize,
    /// read back, and print time and peak heap of each step. Needs no input files.
    ///
    /// Example: stripflow demo --size 8192
    Demo {
        /// Side of the square sample in pixels.
        #[arg(long, default_value_t = 16384)]
        size: u32,
        /// Keep the files in this folder instead of a temporary one.
        #[arg(long)]
        keep: Option<PathBuf>,
    },
    /// Benchmark stripflow against the tools users would pick (vips, ImageMagick, djpeg, Pillow,
    /// the image crate) and write report.md with tables and SVG charts.
    ///
    /// Example: stripflow report --quick --out report-out
    Report(report::ReportArgs),
}

#[derive(Args)]
struct ConvertArgs {
    /// Input file (.png, .jpg), or - for standard input.
    input: String,
    /// Output file; its extension (.png, .jpg, .jpeg) sets the format. - writes to standard output
    /// (then --format is required).
    output: String,
    /// Output format when it cannot be taken from OUT's extension: png or jpeg.
    #[arg(long)]
    format: Option<String>,
    /// Crop before anything else, in input pixels: X,Y,W,H (a rectangle) or WxH (placed by
    /// --gravity). Example: --crop 10,20,640,480 or --crop 1000x1000 --gravity bottom-right
    #[arg(long)]
    crop: Option<String>,
    /// Where a WxH crop sits: centre, top, bottom, left, right, top-left, top-right,
    /// bottom-left, bottom-right.
    #[arg(long, default_value = "centre")]
    gravity: String,
    /// Resize (after the crop) to exactly WxH. Example: --resize 1920x1080
    #[arg(long, conflicts_with_all = ["width", "height"])]
    resize: Option<String>,
    /// Resize to this width, keeping the aspect ratio.
    #[arg(long, conflicts_with = "height")]
    width: Option<u32>,
    /// Resize to this height, keeping the aspect ratio.
    #[arg(long)]
    height: Option<u32>,
    /// Resampling kernel: nearest, linear, cubic, mitchell, lanczos2, lanczos3.
    #[arg(long, default_value = "lanczos3")]
    kernel: String,
    /// Resize in linear light (sRGB decoded first), for gamma-correct downscales.
    #[arg(long)]
    linear: bool,
    /// JPEG quality, 1..=100.
    #[arg(long, default_value_t = 85)]
    quality: u8,
    /// JPEG chroma subsampling: 420 or 444.
    #[arg(long, default_value = "420")]
    subsampling: String,
    /// PNG compression level: 0 (none), 1 (fast, default) .. 9 (smallest).
    #[arg(long, default_value_t = 1)]
    compression: u8,
    /// Colour that transparency is flattened onto when the output has no alpha (JPEG), RRGGBB.
    #[arg(long, default_value = "ffffff")]
    background: String,
    /// Print time and peak heap on standard error when done.
    #[arg(long)]
    stats: bool,
}

/// Parses the command line and runs the command; on error prints one line and exits with 1.
pub fn main_with_args() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        let mut chain = format!("{e}");
        for cause in e.chain().skip(1) {
            chain.push_str(&format!(": {cause}"));
        }
        eprintln!("stripflow: error: {chain}");
        std::process::exit(1);
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Info { input, json } => info(&input, json),
        Command::Convert(args) => convert(&args),
        Command::Demo { size, keep } => demo::run(size, keep.as_deref()),
        Command::Report(args) => report::run(&args),
    }
}

/// Opens IN (a path, or - for standard input spooled to a temporary file).
fn open_input(path: &str) -> Result<Input> {
    if path == "-" {
        Input::spool(std::io::stdin().lock()).context("reading standard input")
    } else {
        Input::open(path).with_context(|| format!("cannot open {path}"))
    }
}

fn info(path: &str, json: bool) -> Result<()> {
    let input = open_input(path)?;
    let meta = probe::read_metadata(input.bytes()).with_context(|| format!("{path}"))?;
    if json {
        println!("{}", meta.to_json());
    } else {
        println!("{meta}");
    }
    Ok(())
}

/// Parses `WxH`.
pub(crate) fn parse_size(s: &str) -> Result<(u32, u32)> {
    let (w, h) = s.split_once(['x', 'X']).with_context(|| format!("'{s}' is not WxH"))?;
    let w: u32 = w.trim().parse().with_context(|| format!("bad width in '{s}'"))?;
    let h: u32 = h.trim().parse().with_context(|| format!("bad height in '{s}'"))?;
    if w == 0 || h == 0 {
        bail!("size '{s}' must be at least 1x1");
    }
    Ok((w, h))
}

/// The output format from --format or OUT's extension.
fn output_format(args: &ConvertArgs) -> Result<Format> {
    if let Some(name) = &args.format {
        return Format::from_name(name).with_context(|| format!("unknown format '{name}' (png or jpeg)"));
    }
    if args.output == "-" {
        bail!("writing to standard output needs --format png or --format jpeg");
    }
    Format::from_extension(Path::new(&args.output))
        .with_context(|| format!("cannot tell the output format from '{}': use .png, .jpg or --format", args.output))
}

fn convert(args: &ConvertArgs) -> Result<()> {
    let started = Instant::now();
    let format = output_format(args)?;
    let input = open_input(&args.input)?;
    let mut source: Box<dyn RowSource> = probe::open(input).with_context(|| args.input.clone())?;

    if let Some(crop) = &args.crop {
        source = if crop.contains(',') {
            let rect: Rect = crop.parse()?;
            Box::new(Crop::new(source, rect)?)
        } else {
            let (w, h) = parse_size(crop)?;
            let gravity: Gravity = args.gravity.parse()?;
            Box::new(Crop::gravity(source, w, h, gravity)?)
        };
    }

    let options = ResizeOptions { kernel: args.kernel.parse::<Kernel>()?, linear_light: args.linear, ..Default::default() };
    if let Some(size) = &args.resize {
        let (w, h) = parse_size(size)?;
        source = Box::new(Resize::new(source, w, h, options)?);
    } else if let Some(w) = args.width {
        source = Box::new(Resize::to_width(source, w, options)?);
    } else if let Some(h) = args.height {
        source = Box::new(Resize::to_height(source, h, options)?);
    }

    let background = parse_background(&args.background)?;
    let write = |source: &mut dyn RowSource, out: &mut dyn Write| -> stripflow::Result<()> {
        match format {
            Format::Png => PngEncoder { compression: PngCompression::from_level(args.compression)?, ..Default::default() }
                .encode(source, out),
            Format::Jpeg => JpegEncoder { quality: args.quality, subsampling: args.subsampling.parse::<Subsampling>()?, background }
                .encode(source, out),
        }
    };
    let info = source.info();
    if args.output == "-" {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        write(&mut *source, &mut out)?;
        out.flush()?;
    } else {
        let mut out = AtomicOutput::create(&args.output).with_context(|| format!("cannot create {}", args.output))?;
        write(&mut *source, &mut out).with_context(|| format!("{} -> {}", args.input, args.output))?;
        out.commit().with_context(|| format!("cannot write {}", args.output))?;
    }
    if args.stats {
        eprintln!(
            "{}x{} {} in {:.3} s, peak heap {:.2} MiB, pipeline buffers {:.2} MiB",
            info.width,
            info.height,
            format.name(),
            started.elapsed().as_secs_f64(),
            peak_alloc::PeakAlloc::peak() as f64 / 1048576.0,
            stripflow::pipeline::chain_buffer_bytes(&*source) as f64 / 1048576.0
        );
    }
    Ok(())
}
