//! The command-line front end of the stripflow library, shared by the `stripflow` binary (with a
//! counting allocator) and `stripflow-dhat` (the same commands under the dhat heap profiler, used by
//! the report to write dhat-heap.json files).
//!
//! Subcommands: `info` (header facts, no pixel decode), `convert` (crop, resize, format change,
//! streamed), `demo` (the whole job on a built-in 16384x16384 sample, with time and peak heap per
//! step). Errors print one line and exit non-zero.

pub mod convert;
pub mod demo;
pub mod peak_alloc;
pub mod progress;
pub mod report;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use stripflow::codec::probe;
use stripflow::io::Input;

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
    /// Crop, resize (with sharp's fit modes), orient and change format, streaming strips of rows.
    ///
    /// Example: stripflow convert big.png crop.jpg --crop 1000x1000 --gravity bottom-right --quality 90
    /// Example: stripflow convert photo.jpg card.jpg --resize 1200x630 --fit cover --position top-right
    Convert(convert::ConvertArgs),
    /// Make a thumbnail that fits a box, as vipsthumbnail does (shrink-on-load, auto-orient).
    ///
    /// Example: stripflow thumbnail photo.jpg thumb.jpg --size 256
    Thumbnail(convert::ThumbnailArgs),
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
        Command::Convert(args) => convert::convert(&args),
        Command::Thumbnail(args) => convert::thumbnail(&args),
        Command::Demo { size, keep } => demo::run(size, keep.as_deref()),
        Command::Report(args) => report::run(&args),
    }
}

/// Opens IN (a path, or - for standard input spooled to a temporary file).
pub(crate) fn open_input(path: &str) -> Result<Input> {
    if path == "-" {
        Input::spool(std::io::stdin().lock()).context("reading standard input")
    } else {
        Input::open(path).with_context(|| format!("cannot open {path}"))
    }
}

/// A library error with `path` in front, unless the error already names its file.
pub(crate) fn with_path(e: stripflow::Error, path: &str) -> anyhow::Error {
    match e {
        stripflow::Error::File { .. } => anyhow::Error::new(e),
        other => anyhow::Error::new(other).context(path.to_string()),
    }
}

fn info(path: &str, json: bool) -> Result<()> {
    let input = open_input(path)?;
    let meta = probe::read_metadata(&input).map_err(|e| with_path(e, path))?;
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

