//! `stripflow batch`: many images under one memory budget, as flags over the library's
//! [`stripflow::batch`] runner. Inputs come from a directory tree (mirrored into `--out-dir`) or a
//! JSON-lines manifest; outputs are named by `--output` templates, one per template and `--size`;
//! the recipe flags are `thumbnail`'s (or, per manifest line, `convert`'s).

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser};
use stripflow::batch::{jobs_for_files, run_batch, tree_jobs, BatchJob, BatchOptions, HeapMeter, OutputTemplate, Status, Variant};
use stripflow::plan::Chain;

use crate::convert::{convert_recipe, job_recipe, parse_box, parse_bytes, thumbnail_recipe, JobArgs};
use crate::peak_alloc::PeakAlloc;

/// Examples shown after `batch --help`.
pub const EXAMPLES: &str = "\
Examples:
  stripflow batch photos/ --out-dir thumbs/ --size 256 --output '{dir}/{stem}.jpg'
  stripflow batch photos/ --out-dir web/ --size 256 --size 1024 --size 2048 \\
      --output '{dir}/{stem}-{width}.jpg' --output '{dir}/{stem}-{width}.webp' --max-memory 512M
  stripflow batch --manifest jobs.jsonl --out-dir out/ --size 256 --log batch.jsonl

Manifest lines (JSON, one object a line; relative paths from the current folder):
  {\"input\": \"a.jpg\"}                                        the shared recipe and --output templates
  {\"input\": \"b.png\", \"output\": \"out/b.webp\"}                 the shared recipe (one --size at most)
  {\"input\": \"c.jpg\", \"output\": \"out/c.jpg\", \"args\": [\"--width\", \"800\", \"--quality\", \"70\"]}
                                                             that job's own recipe: `convert` flags";

/// `stripflow batch [INPUT_DIR] --out-dir DIR [...]`.
#[derive(Args, Debug)]
pub struct BatchArgs {
    /// Folder of inputs, walked recursively (files with an image extension stripflow reads); its
    /// tree is mirrored under --out-dir through `{dir}`.
    #[arg(required_unless_present = "manifest", conflicts_with = "manifest")]
    input_dir: Option<PathBuf>,
    /// JSON-lines manifest instead of a folder (see the examples below).
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// Folder the outputs are written under (created as needed).
    #[arg(long)]
    out_dir: PathBuf,
    /// Output name template, relative to --out-dir; repeat for several formats. Placeholders:
    /// {dir} {stem} {name} {ext} {width} {height} {size}. The extension sets the format ({ext}:
    /// the input's, or --format's). Default {dir}/{stem}.{ext}, or {dir}/{stem}-{width}.{ext} with
    /// several sizes.
    #[arg(long = "output", short = 'o')]
    outputs: Vec<String>,
    /// Bounding box W or WxH of a thumbnail; repeat for several sizes. Without it, the images are
    /// converted at full size.
    #[arg(long, short = 's')]
    size: Vec<String>,
    /// How the box is met: inside (the default), cover, contain, fill, outside.
    #[arg(long, default_value = "inside")]
    fit: String,
    /// Where the cover crop or the contain padding is placed.
    #[arg(long, default_value = "centre")]
    position: String,
    /// Allow a thumbnail larger than its input.
    #[arg(long)]
    enlarge: bool,
    /// Most jobs at once (default: the available parallelism). --max-memory decides how many of
    /// them fit; this caps the count.
    #[arg(long)]
    workers: Option<usize>,
    /// Make outputs again even when they are complete (present and not older than the input).
    #[arg(long)]
    overwrite: bool,
    /// Append the JSON-lines log (one line per output, and a summary line) to this file instead
    /// of standard output.
    #[arg(long)]
    log: Option<PathBuf>,
    /// Recipe flags as for `thumbnail`; --max-memory is the budget of the whole batch (the
    /// program, and every running job's planned heap and overhead), and each job's limit.
    #[command(flatten)]
    job: JobArgs,
}

/// The per-thread counters of the CLI's allocator as the batch's heap meter.
struct ThreadMeter;

impl HeapMeter for ThreadMeter {
    fn start(&self) {
        PeakAlloc::thread_start();
    }
    fn peak(&self) -> Option<usize> {
        PeakAlloc::thread_peak()
    }
}

/// Runs `batch`.
pub fn batch(args: &BatchArgs) -> Result<()> {
    anyhow::ensure!(!args.job.plan, "--plan is for one job; a batch prints each job's planned heap in its log");
    let budget = parse_bytes(&args.job.max_memory)?;
    let base = job_recipe(&args.job)?;
    let mut variants = Vec::new();
    for size in &args.size {
        let size = parse_box(size)?;
        variants.push(Variant { recipe: thumbnail_recipe(base.clone(), size, &args.fit, &args.position, args.enlarge)?, size: Some(size) });
    }
    if variants.is_empty() {
        variants.push(Variant { recipe: base, size: None });
    }
    let default = if variants.len() > 1 { "{dir}/{stem}-{width}.{ext}" } else { "{dir}/{stem}.{ext}" };
    let templates = if args.outputs.is_empty() { vec![default.to_string()] } else { args.outputs.clone() };
    let templates = templates.into_iter().map(OutputTemplate::new).collect::<stripflow::Result<Vec<_>>>()?;

    let jobs = match (&args.input_dir, &args.manifest) {
        (Some(dir), _) => {
            anyhow::ensure!(dir.is_dir(), "{} is not a folder", dir.display());
            tree_jobs(dir, &args.out_dir, &templates, &variants)?
        }
        (None, Some(manifest)) => manifest_jobs(manifest, &args.out_dir, &templates, &variants, budget)?,
        (None, None) => bail!("give an input folder or --manifest"),
    };
    let outputs: usize = jobs.iter().map(|j| j.outputs.len()).sum();

    let mut log: Box<dyn Write + Send> = match &args.log {
        Some(path) => Box::new(std::fs::OpenOptions::new().create(true).append(true).open(path).with_context(|| format!("cannot open the log {}", path.display()))?),
        None => Box::new(std::io::stdout()),
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(outputs as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} outputs, {msg} ({eta} left)")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar
    });
    let failures = Mutex::new(0usize);
    let log_error = Mutex::new(None);
    let shared_log = Mutex::new(&mut log);
    let options = BatchOptions {
        max_memory: budget,
        workers: args.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1),
        overwrite: args.overwrite,
        heap_meter: Some(Arc::new(ThreadMeter)),
        ..BatchOptions::default()
    };
    let summary = run_batch(jobs, &options, &|record| {
        let line = record.to_json();
        if let Err(e) = writeln!(shared_log.lock().unwrap_or_else(|p| p.into_inner()), "{line}") {
            log_error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
        }
        if record.status == Status::Failed {
            let mut failed = failures.lock().unwrap_or_else(|p| p.into_inner());
            *failed += 1;
            let message = record.error.as_ref().map_or("", |(_, m)| m.as_str());
            let text = format!("stripflow: {} -> {}: {message}", record.input.display(), record.output.display());
            match &bar {
                Some(bar) => bar.println(text),
                None => eprintln!("{text}"),
            }
        }
        if let Some(bar) = &bar {
            bar.set_message(format!("{} failed", failures.lock().unwrap_or_else(|p| p.into_inner())));
            bar.inc(1);
        }
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    writeln!(log, "{}", summary.to_json())?;
    log.flush()?;
    if let Some(e) = log_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e).context("writing the log");
    }
    eprintln!("stripflow batch: {summary}");
    if !summary.all_ok() {
        bail!("{} of {} outputs failed (see the log)", summary.failed, summary.ok + summary.skipped + summary.failed);
    }
    Ok(())
}

/// The jobs of a JSON-lines manifest (blank lines and lines starting with `#` ignored).
fn manifest_jobs(manifest: &Path, out_dir: &Path, templates: &[OutputTemplate], variants: &[Variant], budget: usize) -> Result<Vec<BatchJob>> {
    let file = File::open(manifest).with_context(|| format!("cannot open the manifest {}", manifest.display()))?;
    let mut jobs = Vec::new();
    let mut seen = HashSet::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", manifest.display()))?;
        let at = || format!("{} line {}", manifest.display(), n + 1);
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(&line).with_context(at)?;
        let text = |key: &str| -> Result<Option<String>> {
            match value.get(key) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => bail!("{}: \"{key}\" must be a string", at()),
            }
        };
        let input = PathBuf::from(text("input")?.with_context(|| format!("{}: no \"input\"", at()))?);
        let job = match (text("output")?, value.get("args")) {
            (None, None) => {
                // `{dir}` is empty: a manifest's inputs land directly under --out-dir.
                let root = input.parent().unwrap_or(Path::new(""));
                jobs_for_files(std::slice::from_ref(&input), root, out_dir, templates, variants)?.remove(0)
            },
            (None, Some(_)) => bail!("{}: \"args\" needs an \"output\"", at()),
            (Some(output), None) => {
                anyhow::ensure!(variants.len() == 1, "{}: a line with one \"output\" needs at most one --size", at());
                BatchJob::new(input, output, variants[0].recipe.clone())
            }
            (Some(output), Some(args)) => {
                let args: Vec<String> = match args {
                    serde_json::Value::Array(items) => items.iter().map(|a| a.as_str().map(str::to_string)).collect::<Option<_>>(),
                    serde_json::Value::String(s) => Some(s.split_whitespace().map(str::to_string).collect()),
                    _ => None,
                }
                .with_context(|| format!("{}: \"args\" must be an array of strings or a string", at()))?;
                let input_arg = input.to_string_lossy().into_owned();
                let argv = ["stripflow", "convert", input_arg.as_str(), output.as_str()].into_iter().map(str::to_string).chain(args.iter().cloned());
                let cli = crate::Cli::try_parse_from(argv).with_context(at)?;
                let crate::Command::Convert(convert) = cli.command else { unreachable!("parsed as convert") };
                let mut recipe = convert_recipe(&convert).with_context(at)?;
                if !args.iter().any(|a| a.starts_with("--max-memory")) {
                    recipe = recipe.max_memory(budget);
                }
                BatchJob::new(input, output, recipe)
            }
        };
        for out in &job.outputs {
            anyhow::ensure!(seen.insert(out.path.clone()), "{}: {} is already the output of an earlier line", at(), out.path.display());
        }
        jobs.push(job);
    }
    Ok(jobs)
}
