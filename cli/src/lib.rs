//! The command-line front end of the stripflow library, shared by the `stripflow` binary (with a
//! counting allocator) and `stripflow-dhat` (in the `stripflow-report` crate: the same commands under
//! the dhat heap profiler, used by the report to write dhat-heap.json files).
//!
//! Subcommands: `info` (header facts, no pixel decode), `convert` (crop, resize, format change,
//! streamed), `thumbnail`, `batch` (many images under one memory budget), `demo` (the whole job on a built-in 16384x16384 sample, with time and peak heap per
//! step). Errors print one line and exit non-zero.
//!
//! Exits: 0 on success; 1 on an error (one line on standard error); 141 (128 + SIGPIPE, what a
//! shell reports for a writer whose reader went away), silently, when standard output is a closed
//! pipe (`stripflow info x.jpg | :`); 128 + the signal on SIGTERM, SIGINT or SIGHUP, after deleting
//! the temporary files (see [`signals`]).

pub mod batch;
pub mod convert;
pub mod demo;
pub mod encode_args;
pub mod peak_alloc;
pub mod progress;
pub mod signals;

use std::fmt::Display;
use std::io::Write;
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
pub(crate) enum Command {
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
    #[command(after_help = encode_args::EXAMPLES)]
    Convert(convert::ConvertArgs),
    /// Make a thumbnail that fits a box, as vipsthumbnail does (shrink-on-load, auto-orient).
    ///
    /// Example: stripflow thumbnail photo.jpg thumb.jpg --size 256
    #[command(after_help = encode_args::EXAMPLES)]
    Thumbnail(convert::ThumbnailArgs),
    /// Many images under one memory budget: a folder tree or a JSON-lines manifest, several
    /// sizes and formats per input, a JSON-lines log, complete outputs skipped on a rerun.
    ///
    /// Example: stripflow batch photos/ --out-dir thumbs/ --size 256 --max-memory 512M
    #[command(after_help = batch::EXAMPLES)]
    Batch(batch::BatchArgs),
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
}

/// Exit status when standard output is a closed pipe: 128 + SIGPIPE, as a shell reports for a
/// writer killed by SIGPIPE, but reached quietly, without a message, a panic or a signal death.
pub const EXIT_CLOSED_PIPE: i32 = 141;

/// Parses the command line and runs the command; on error prints one line and exits with 1
/// (quietly with [`EXIT_CLOSED_PIPE`] when the error is a closed standard output).
pub fn main_with_args() {
    signals::install();
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        if is_broken_pipe(&e) {
            std::process::exit(EXIT_CLOSED_PIPE);
        }
        let mut chain = format!("{e}");
        for cause in e.chain().skip(1) {
            // A wrapper often displays its source already (`I/O error: {0}`): say it once.
            let cause = cause.to_string();
            if !chain.contains(&cause) {
                chain.push_str(&format!(": {cause}"));
            }
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
        Command::Batch(args) => batch::batch(&args),
        Command::Demo { size, keep } => demo::run(size, keep.as_deref()),
    }
}

/// Whether `e` comes from writing to a closed pipe.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || matches!(cause.downcast_ref::<stripflow::Error>(), Some(stripflow::Error::Io(io)) if io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Prints `text` and a newline on standard output, returning the error (a closed pipe) instead
/// of panicking as `println!` does.
pub(crate) fn print_line(text: impl Display) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}")?;
    stdout.flush()?;
    Ok(())
}

/// Opens IN (a path, or - for standard input spooled to a temporary file).
pub(crate) fn open_input(path: &str) -> Result<Input> {
    if path == "-" {
        return Input::spool(std::io::stdin().lock()).context("reading standard input");
    }
    // Checked first: mapping a directory fails with the unhelpful "No such device".
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => bail!("cannot open {path}: it is a directory"),
        Err(e) => return Err(e).with_context(|| format!("cannot open {path}")),
        Ok(_) => {}
    }
    Input::open(path).with_context(|| format!("cannot open {path}"))
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
    let meta = probe::read_info(&input).map_err(|e| with_path(e, path))?;
    if json {
        print_line(meta.to_json())
    } else {
        print_line(&meta)
    }
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

