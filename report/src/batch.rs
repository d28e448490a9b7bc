//! The batch group: a generated upload mix thumbnailed by `stripflow batch` under one memory
//! budget against `vipsthumbnail` driven by `xargs -P N` (N processes, the same count as
//! stripflow's workers), images per second and peak memory, written to `batch.md`.
//!
//! The set (cached in `<cache>/batch-mix`): [`MIX_COUNT`] images, mostly small as a real upload
//! mix is, from 640x480 to 16384x16384: baseline and progressive JPEG, and PNG (up to 2048 px, a
//! PNG photo is rare and large on disk). Memory of the vips fleet is the sum of its processes'
//! resident sets, sampled every [`SAMPLE_MS`] ms (a lower bound: a short peak between samples is
//! missed); stripflow's is one process, sampled the same way and read exactly (`VmHWM`, in its
//! log's summary line).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use stripflow::codec::Format;
use stripflow::plan::{Chain, Pipeline};
use stripflow::synth::Synthetic;
use stripflow::PixelFormat;

/// Images in the set.
pub const MIX_COUNT: usize = 500;

/// Sampling period of the memory of a running fleet, ms.
pub const SAMPLE_MS: u64 = 10;

/// The batch budget of the benchmark.
pub const BUDGET: &str = "512M";

/// One image of the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MixImage {
    /// Width and height.
    pub size: (u32, u32),
    /// JPEG baseline, JPEG progressive, or PNG.
    pub kind: MixKind,
}

/// The encodings of the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MixKind {
    /// Baseline JPEG, quality 85.
    Baseline,
    /// Progressive JPEG, quality 85.
    Progressive,
    /// PNG RGB.
    Png,
}

/// The mix, deterministic (a fixed xorshift sequence): about 84% small (longest side 640 to
/// 2048), 11% medium (up to 4096), 4% large (up to 8192), and 4 at 16384x16384; JPEGs split
/// between baseline and progressive, PNGs among the small ones (the counts are in `batch.md`).
pub fn mix() -> Vec<MixImage> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u32| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as u32
    };
    (0..MIX_COUNT)
        .map(|i| {
            let roll = next(1000);
            let (w, kind_roll) = if i % 125 == 7 {
                (16384, next(2) * 2)
            } else if roll < 840 {
                (640 + next(1409), next(3))
            } else if roll < 960 {
                (2049 + next(2048), next(2))
            } else {
                (4097 + next(4096), next(2))
            };
            let portrait = next(4) == 0;
            let h = if w == 16384 { 16384 } else { (w * 3 / 4).max(480) };
            let kind = match kind_roll {
                0 => MixKind::Baseline,
                1 => MixKind::Progressive,
                _ if w <= 2048 => MixKind::Png,
                _ => MixKind::Baseline,
            };
            let kind = if w == 16384 && kind_roll == 2 { MixKind::Progressive } else { kind };
            MixImage { size: if portrait && w != 16384 { (h, w) } else { (w, h) }, kind }
        })
        .collect()
}

/// Generates the mix into `dir` (kept between runs; each file written atomically) and returns
/// the files and their total size in bytes.
pub fn ensure_mix(dir: &Path) -> Result<(Vec<PathBuf>, u64)> {
    std::fs::create_dir_all(dir)?;
    let mut files = Vec::new();
    let mut bytes = 0;
    for (i, image) in mix().into_iter().enumerate() {
        let ext = if image.kind == MixKind::Png { "png" } else { "jpg" };
        let path = dir.join(format!("{i:03}-{}x{}-{:?}.{ext}", image.size.0, image.size.1, image.kind).to_lowercase());
        if !path.exists() {
            let (w, h) = image.size;
            let source = Box::new(Synthetic::new(w, h, PixelFormat::RGB8, i as u32));
            let mut job = Pipeline::from_source(source).max_memory(4 << 30);
            job = match image.kind {
                MixKind::Png => job.format(Format::Png),
                MixKind::Baseline => job.format(Format::Jpeg).quality(85),
                MixKind::Progressive => job.format(Format::Jpeg).quality(85).progressive(true),
            };
            job.write_to_path(&path).with_context(|| format!("generating {}", path.display()))?;
        }
        bytes += std::fs::metadata(&path)?.len();
        files.push(path);
    }
    Ok((files, bytes))
}

/// What one fleet run measured.
#[derive(Debug, Clone, Default)]
pub struct FleetRun {
    /// Wall time, seconds.
    pub seconds: f64,
    /// Peak of the sum of the resident sets of the process tree, sampled, bytes.
    pub sampled_peak: u64,
    /// Exit code.
    pub exit: i32,
    /// Outputs found afterwards.
    pub outputs: usize,
}

/// Resident bytes of `pid` and of every process below it.
fn tree_rss(root: u32) -> u64 {
    let mut parent_of = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { continue };
        let field = |name: &str| status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
        if let (Some(ppid), rss) = (field("PPid:"), field("VmRSS:").unwrap_or(0)) {
            parent_of.push((pid, ppid as u32, rss * 1024));
        }
    }
    let mut inside = vec![root];
    let mut total = 0;
    let mut grew = true;
    while grew {
        grew = false;
        for &(pid, ppid, _) in &parent_of {
            if inside.contains(&ppid) && !inside.contains(&pid) {
                inside.push(pid);
                grew = true;
            }
        }
    }
    for &(pid, _, rss) in &parent_of {
        if inside.contains(&pid) {
            total += rss;
        }
    }
    total
}

/// Runs `command` (through `sh -c`), sampling its process tree's memory, and counts the files
/// in `out` afterwards.
fn run_fleet(command: &str, out: &Path, env: &[(&str, &str)]) -> Result<FleetRun> {
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out)?;
    let started = Instant::now();
    let mut child = Command::new("sh").arg("-c").arg(command).envs(env.iter().copied()).stdout(Stdio::null()).spawn()?;
    let mut peak = 0;
    let status = loop {
        peak = peak.max(tree_rss(child.id()));
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(SAMPLE_MS));
    };
    let seconds = started.elapsed().as_secs_f64();
    let outputs = walk_count(out);
    Ok(FleetRun { seconds, sampled_peak: peak, exit: status.code().unwrap_or(-1), outputs })
}

fn walk_count(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries.flatten().map(|e| if e.path().is_dir() { walk_count(&e.path()) } else { 1 }).sum()
    })
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.to_string_lossy().replace('\'', "'\\''"))
}

/// Runs the group: generates (or reuses) the mix, runs each fleet `runs` times alternating,
/// writes `batch.md` into `out_dir`.
pub fn run(exe: &Path, cache: &Path, out_dir: &Path, runs: usize) -> Result<()> {
    let started = Instant::now();
    let mix_dir = cache.join("batch-mix");
    eprintln!("report: batch: generating the upload mix in {} (cached)", mix_dir.display());
    let (files, set_bytes) = ensure_mix(&mix_dir)?;
    eprintln!("report: batch: {} images, {:.0} MiB on disk, in {:.0} s", files.len(), set_bytes as f64 / 1048576.0, started.elapsed().as_secs_f64());
    let stripflow = crate::peers::stripflow_exe(exe);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let work = cache.join(format!("batch-work-{}", std::process::id()));
    let (sf_out, vips_out) = (work.join("stripflow"), work.join("vips"));
    let log = work.join("stripflow-log.jsonl");
    let sf_command = format!(
        "{} batch {} --out-dir {} --size 256 --output '{{stem}}.jpg' --workers {workers} --max-memory {BUDGET} --overwrite --log {}",
        quote(&stripflow),
        quote(&mix_dir),
        quote(&sf_out),
        quote(&log)
    );
    let vips_command = format!("ls {}/* | xargs -P {workers} -n 1 vipsthumbnail --size 256 -o {}/%s.jpg", quote(&mix_dir), quote(&vips_out));
    let vips_found = crate::peers::on_path("vipsthumbnail").is_some();
    let mut sf_runs = Vec::new();
    let mut vips_runs = Vec::new();
    let mut sf_vmhwm = Vec::new();
    for round in 0..runs.max(1) {
        let order: [bool; 2] = if round % 2 == 0 { [true, false] } else { [false, true] };
        for stripflow_turn in order {
            if stripflow_turn {
                let _ = std::fs::remove_file(&log);
                let r = run_fleet(&sf_command, &sf_out, &[])?;
                let summary = std::fs::read_to_string(&log).unwrap_or_default();
                let hwm = summary.lines().last().and_then(|l| l.split("\"peak_rss\":").nth(1)).and_then(|v| v.trim_end_matches('}').parse::<u64>().ok());
                eprintln!("report: batch: stripflow {:.1} s, sampled peak {:.0} MiB, VmHWM {:?}", r.seconds, r.sampled_peak as f64 / 1048576.0, hwm.map(|b| b >> 20));
                sf_vmhwm.push(hwm.unwrap_or(0));
                sf_runs.push(r);
            } else if vips_found {
                let r = run_fleet(&vips_command, &vips_out, &[])?;
                eprintln!("report: batch: vipsthumbnail fleet {:.1} s, sampled peak {:.0} MiB", r.seconds, r.sampled_peak as f64 / 1048576.0);
                vips_runs.push(r);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    if sf_runs.iter().any(|r| r.exit != 0 || r.outputs != files.len()) {
        bail!("stripflow batch failed: {:?}", sf_runs);
    }
    let text = markdown(&files, set_bytes, workers, &sf_runs, &sf_vmhwm, &vips_runs, &sf_command, &vips_command);
    std::fs::create_dir_all(out_dir)?;
    std::fs::write(out_dir.join("batch.md"), text)?;
    eprintln!("report: wrote {} in {:.0} s", out_dir.join("batch.md").display(), started.elapsed().as_secs_f64());
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

#[allow(clippy::too_many_arguments)]
fn markdown(files: &[PathBuf], set_bytes: u64, workers: usize, sf: &[FleetRun], sf_hwm: &[u64], vips: &[FleetRun], sf_command: &str, vips_command: &str) -> String {
    let n = files.len() as f64;
    let mib = |b: u64| b as f64 / 1048576.0;
    let mut counts = std::collections::BTreeMap::new();
    for image in mix() {
        let class = match image.size.0.max(image.size.1) {
            0..=2048 => "small (longest side up to 2048)",
            2049..=4096 => "medium (2049 to 4096)",
            4097..=8192 => "large (4097 to 8192)",
            _ => "16384x16384",
        };
        *counts.entry((class, format!("{:?}", image.kind))).or_insert(0) += 1;
    }
    let mut s = String::new();
    s.push_str("# Batch: an upload mix thumbnailed under one memory budget\n\n");
    s.push_str(&format!(
        "{} generated images ({:.0} MiB on disk), each thumbnailed to fit 256x256 as JPEG. stripflow: one `stripflow batch` process, {workers} workers, `--max-memory {BUDGET}`. vips: `vipsthumbnail` driven by `xargs -P {workers}` ({workers} processes at a time, libvips' default threads each). {} timed runs each, alternating; medians.\n\n",
        files.len(),
        mib(set_bytes),
        sf.len()
    ));
    s.push_str("| tool | images/s | wall (s) | peak memory (MiB) | runs |\n|---|---:|---:|---:|---:|\n");
    let sf_wall = median(sf.iter().map(|r| r.seconds).collect());
    let sf_sampled = median(sf.iter().map(|r| mib(r.sampled_peak)).collect());
    let sf_exact = median(sf_hwm.iter().map(|&b| mib(b)).collect());
    s.push_str(&format!("| stripflow batch | {:.1} | {sf_wall:.1} | {sf_exact:.1} (VmHWM; sampled {sf_sampled:.1}) | {} |\n", n / sf_wall, sf.len()));
    if vips.is_empty() {
        s.push_str("| vipsthumbnail fleet | not found on PATH | | | |\n");
    } else {
        let v_wall = median(vips.iter().map(|r| r.seconds).collect());
        let v_peak = median(vips.iter().map(|r| mib(r.sampled_peak)).collect());
        let outputs = vips.iter().map(|r| r.outputs).min().unwrap_or(0);
        s.push_str(&format!("| vipsthumbnail fleet | {:.1} | {v_wall:.1} | {v_peak:.1} (sum of the fleet's RSS, sampled every {SAMPLE_MS} ms) | {} |\n", n / v_wall, vips.len()));
        s.push_str(&format!(
            "\nstripflow: {:.2}x the vips fleet's images per second at {:.2}x its peak memory. vips wrote {outputs} of {} thumbnails.\n",
            v_wall / sf_wall,
            sf_exact / v_peak,
            files.len()
        ));
    }
    s.push_str("\nThe set:\n\n| class | encoding | images |\n|---|---|---:|\n");
    for ((class, kind), count) in counts {
        s.push_str(&format!("| {class} | {kind} | {count} |\n"));
    }
    s.push_str(&format!("\nCommands (the set in `<cache>/batch-mix`):\n\n```\n{sf_command}\n{vips_command}\n```\n"));
    s.push_str("\nThe fleet's memory is a sampled lower bound (a process that lives less than a sample period may be missed); stripflow's exact figure is its process's `VmHWM` (one process, so nothing is missed).\n");
    s
}
