//! `stripflow-report`: the whole-job, cross-tool benchmark and memory-profiling report, a crate of
//! its own so that the shipped `stripflow` binary carries none of its dependencies (plotters, dhat,
//! the image crate).
//!
//! It measures the `stripflow` binary found beside its own executable (both land in
//! `target/release/` with `cargo build --release --workspace`), and `stripflow-dhat` (this crate's
//! second binary: the CLI's commands under the dhat heap profiler) for peak heap.
//!
//! The report generates its inputs once into a cache folder ([`inputs`]), builds a job matrix
//! ([`jobs`]), runs every job with stripflow and with every peer found on PATH ([`peers`]) in
//! alternating order, measuring each run in a child process ([`runner`]: wall time and peak RSS
//! from `wait4`), runs stripflow once more under dhat for its peak heap and `dhat-heap.json`, and
//! writes `report.md` ([`markdown`]), SVG charts ([`charts`]) and the raw figures (`results.csv`).
//!
//! Two hidden subcommands serve the harness itself: `exec` is the small launcher every
//! measured run goes through (so a child's RSS high-water mark starts from a tiny process, not
//! from the report process), and `baseline` is the in-process whole-frame baseline with the
//! image crate.
//!
//! Criterion benches (`cargo bench`) remain the place for micro-benchmarks of single kernels.

pub mod batch;
pub mod charts;
pub mod inputs;
pub mod jobs;
pub mod markdown;
pub mod peers;
pub mod runner;
pub mod tiles;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use jobs::{Job, Preset};
use peers::Tool;
use runner::{Cell, Measurement};

/// Benchmark stripflow against the tools users would pick (vips, ImageMagick, djpeg, Pillow,
/// the image crate) and write report.md with tables and SVG charts.
///
/// Example: stripflow-report --quick --out report-out
#[derive(Parser, Debug)]
#[command(name = "stripflow-report", version, about, long_about = None, args_conflicts_with_subcommands = true)]
pub struct ReportArgs {
    /// A small version (small images, one run) that finishes in a minute or two; what CI runs.
    #[arg(long, conflicts_with = "medium")]
    pub quick: bool,
    /// Half-size images (4096 and 8192 pixels square, heights up to 16384): a full matrix in a
    /// fraction of the time.
    #[arg(long)]
    pub medium: bool,
    /// Folder the report (report.md, SVG charts, results.csv, dhat profiles) is written to.
    #[arg(long, default_value = "report")]
    pub out: PathBuf,
    /// Timed runs per job and tool (the median is reported); default 1 with --quick, else 3.
    #[arg(long)]
    pub runs: Option<usize>,
    /// Folder the generated inputs are cached in (kept between runs).
    #[arg(long, default_value = "target/report-cache")]
    pub cache: PathBuf,
    /// Only these tools, comma-separated (stripflow, vips, imagemagick, djpeg, pillow, image).
    #[arg(long, value_delimiter = ',')]
    pub tools: Option<Vec<String>>,
    /// Only the jobs whose id contains one of these comma-separated strings (e.g. `16384x16384`).
    #[arg(long, value_delimiter = ',')]
    pub only: Option<Vec<String>>,
    /// Seconds after which a run is killed and reported as timed out (default 120 with --quick, else 240).
    #[arg(long)]
    pub timeout: Option<u64>,
    /// A tool whose first run of a job took longer than this many seconds is not run again for
    /// that job (one long run is already a stable figure); the tables show each cell's run count.
    #[arg(long, default_value_t = 30.0)]
    pub repeat_limit: f64,
    /// Run only the batch group (an upload mix of 500 images thumbnailed by `stripflow batch`
    /// against a vipsthumbnail fleet) and write batch.md; see [`batch`].
    #[arg(long)]
    pub batch: bool,
    /// Run only the pyramid group (Deep Zoom pyramids of a 16384^2 baseline and progressive
    /// JPEG and an 8192^2 PNG, `stripflow tiles` against `vips dzsave`, trees compared) and
    /// write tiles.md; see [`tiles`]. Sizes follow `--quick` / `--medium`.
    #[arg(long)]
    pub tiles: bool,
    /// Run stripflow with `--threads N` (by default it uses every core): with 1 the report
    /// measures its single-threaded mode.
    #[arg(long)]
    pub stripflow_threads: Option<usize>,
    /// Hidden helpers used by the harness itself.
    #[command(subcommand)]
    pub internal: Option<Internal>,
}

/// Hidden subcommands the report runs in child processes.
#[derive(Subcommand, Debug)]
pub enum Internal {
    /// Runs PROGRAM ARGS... as a child, prints `STRIPFLOW_EXEC` with its exit, wall time and peak RSS.
    #[command(hide = true)]
    Exec {
        /// Kill the child after this many seconds.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
        /// The program and its arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
    /// The whole-frame baseline with the image crate: OP [ARGS] IN OUT (see `jobs::Op::to_args`).
    #[command(hide = true)]
    Baseline {
        /// The operation and its numbers, then the input and output paths.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        args: Vec<String>,
    },
}

/// Everything one report run measured.
pub struct Results {
    /// The preset the matrix came from.
    pub preset: Preset,
    /// Timed runs per cell (at most).
    pub runs: usize,
    /// Runs longer than this many seconds were not repeated.
    pub repeat_limit: f64,
    /// Runs were killed after this many seconds.
    pub timeout: u64,
    /// The jobs, in report order.
    pub jobs: Vec<Job>,
    /// Every tool considered, found or not.
    pub tools: Vec<peers::ToolInfo>,
    /// One cell per (job, tool), `cells[job][tool]`.
    pub cells: Vec<Vec<Cell>>,
    /// stripflow's dhat peak heap per job (bytes), or why it is missing.
    pub dhat: Vec<std::result::Result<u64, String>>,
    /// Peak RSS of the launcher running `true`: the floor under every RSS figure.
    pub rss_floor_kib: u64,
    /// Wall time of the whole report.
    pub elapsed: Duration,
}

/// Runs the report (or one of its hidden helpers).
pub fn run(args: &ReportArgs) -> Result<()> {
    match &args.internal {
        Some(Internal::Exec { timeout, command }) => return runner::exec_main(command, *timeout),
        Some(Internal::Baseline { args }) => return peers::baseline_main(args),
        None => {}
    }
    let started = Instant::now();
    if let Some(threads) = args.stripflow_threads {
        peers::set_stripflow_threads(threads);
    }
    let preset = if args.quick {
        Preset::Quick
    } else if args.medium {
        Preset::Medium
    } else {
        Preset::Full
    };
    let runs = args.runs.unwrap_or(if args.quick { 1 } else { 3 }).max(1);
    let timeout = args.timeout.unwrap_or(if args.quick { 120 } else { 240 });
    let exe = std::env::current_exe().context("cannot locate the stripflow-report executable")?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    std::fs::create_dir_all(&args.cache).with_context(|| format!("cannot create {}", args.cache.display()))?;
    let out = args.out.canonicalize()?;
    let cache = args.cache.canonicalize()?;
    if args.batch {
        return batch::run(&exe, &cache, &out, args.runs.unwrap_or(1));
    }
    if args.tiles {
        return tiles::run(&exe, &cache, &out, preset, runs, timeout);
    }

    let mut tools = peers::detect(&exe, &cache)?;
    if let Some(only) = &args.tools {
        for name in only {
            if !tools.iter().any(|t| t.tool.key() == name.as_str()) {
                bail!("unknown tool '{name}' (stripflow, vips, imagemagick, djpeg, pillow, image)");
            }
        }
        tools.retain(|t| only.iter().any(|n| n == t.tool.key()));
    }
    for t in &tools {
        match &t.missing {
            None => eprintln!("report: {:<12} {}", t.tool.name(), t.version),
            Some(why) => eprintln!("report: {:<12} MISSING: {why}", t.tool.name()),
        }
    }

    let mut jobs = jobs::matrix(preset);
    if let Some(only) = &args.only {
        jobs.retain(|j| only.iter().any(|o| j.id.contains(o.as_str())));
        if jobs.is_empty() {
            bail!("--only {} matches no job", only.join(","));
        }
    }
    eprintln!("report: {} jobs, {} timed runs each, preset {}", jobs.len(), runs, preset.name());
    let specs = jobs::distinct_inputs(&jobs);
    let inputs = inputs::ensure_all(&specs, &cache)?;

    let work = cache.join(format!("work-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let dhat_dir = out.join("dhat");
    std::fs::create_dir_all(&dhat_dir)?;
    let rss_floor_kib = runner::floor(&exe)?;

    let limits = Limits { runs, timeout, repeat_limit: args.repeat_limit };
    let results = measure(&exe, &jobs, &tools, &inputs, &work, &dhat_dir, limits, preset, rss_floor_kib, started);
    let _ = std::fs::remove_dir_all(&work);
    let results = results?;

    runner::write_csv(&results, &out.join("results.csv"))?;
    charts::write_all(&results, &out)?;
    markdown::write(&results, &out.join("report.md"))?;
    eprintln!("report: wrote {} in {:.0} s", out.join("report.md").display(), results.elapsed.as_secs_f64());
    Ok(())
}

/// How many runs, and how long each may take.
#[derive(Debug, Clone, Copy)]
struct Limits {
    runs: usize,
    timeout: u64,
    repeat_limit: f64,
}

/// Runs the matrix: per job, `runs` rounds over the tools (rotating who goes first), then the
/// dhat run of stripflow.
#[allow(clippy::too_many_arguments)]
fn measure(
    exe: &Path,
    jobs: &[Job],
    tools: &[peers::ToolInfo],
    inputs: &std::collections::HashMap<String, PathBuf>,
    work: &Path,
    dhat_dir: &Path,
    limits: Limits,
    preset: Preset,
    rss_floor_kib: u64,
    started: Instant,
) -> Result<Results> {
    let Limits { runs, timeout, repeat_limit } = limits;
    let planned: usize = jobs
        .iter()
        .map(|job| {
            let runnable = tools.iter().filter(|t| t.missing.is_none() && t.argv(job, Path::new("i"), Path::new("o"), exe).is_some()).count();
            runnable * runs + 1
        })
        .sum();
    let bar = indicatif::ProgressBar::new(planned as u64);
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let mut cells = Vec::new();
    let mut dhat = Vec::new();
    for job in jobs {
        let input = &inputs[&job.input.file_name()];
        let mut row: Vec<Cell> = tools.iter().map(|t| Cell::new(t.tool)).collect();
        for (i, t) in tools.iter().enumerate() {
            if let Some(why) = &t.missing {
                row[i].missing = Some(why.clone());
            } else if t.argv(job, input, Path::new("o"), exe).is_none() {
                row[i].not_applicable = true;
            }
        }
        for round in 0..runs {
            for k in 0..tools.len() {
                let i = (k + round) % tools.len();
                if row[i].missing.is_some() || row[i].not_applicable {
                    continue;
                }
                // A tool that failed once (refused, crashed, timed out) is not retried, and one long
                // run is a stable figure: repeating it would cost more than it tells.
                if row[i].runs.iter().any(|m| !m.ok) || row[i].runs.first().is_some_and(|m| m.wall > repeat_limit) {
                    bar.inc(1);
                    continue;
                }
                let tool = tools[i].tool;
                bar.set_message(format!("{} · {}", job.id, tool.name()));
                let output = work.join(format!("{}-{}.{}", job.id, tool.key(), tool.output_ext(job)));
                let argv = tools[i].argv(job, input, &output, exe).expect("applicable");
                let mut m = runner::measured(exe, &argv, &[], timeout)?;
                if m.ok {
                    match runner::check_output(&output, job.expected_size(), tool.output_ext(job)) {
                        Ok(size) => m.output = Some(size),
                        Err(e) => {
                            m.ok = false;
                            m.error = Some(e);
                        }
                    }
                }
                let _ = std::fs::remove_file(&output);
                row[i].runs.push(m);
                bar.inc(1);
            }
        }
        bar.set_message(format!("{} · stripflow under dhat", job.id));
        let profile = dhat_dir.join(format!("{}.dhat-heap.json", job.id));
        let output = work.join(format!("{}-dhat.{}", job.id, job.out_ext));
        let mut argv = vec![exe.with_file_name("stripflow-dhat").into_os_string()];
        argv.extend(Tool::Stripflow.command(job, input, &output, exe).expect("stripflow runs every job").into_iter().skip(1));
        let env = [("STRIPFLOW_DHAT_OUT".into(), profile.clone().into_os_string())];
        let m: Measurement = runner::measured(exe, &argv, &env, timeout)?;
        let _ = std::fs::remove_file(&output);
        dhat.push(match (m.ok, m.dhat_peak) {
            (true, Some(peak)) => Ok(peak),
            (true, None) => Err("stripflow-dhat printed no STRIPFLOW_DHAT_PEAK".to_string()),
            _ => Err(m.error.clone().unwrap_or_else(|| "failed".to_string())),
        });
        bar.inc(1);
        for cell in &mut row {
            cell.summarise();
        }
        if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            // No bar is drawn off a terminal (CI, logs): one line per finished job instead.
            eprintln!("report: [{}/{}] {} done at {:.0} s", cells.len() + 1, jobs.len(), job.id, started.elapsed().as_secs_f64());
        }
        cells.push(row);
    }
    bar.finish_and_clear();
    Ok(Results {
        preset,
        runs,
        repeat_limit,
        timeout,
        jobs: jobs.to_vec(),
        tools: tools.to_vec(),
        cells,
        dhat,
        rss_floor_kib,
        elapsed: started.elapsed(),
    })
}
