//! `report.md`: header (date, machine, tool versions, method), a summary table with ratios to the
//! best peer, the charts, one table per job, and every failure spelled out.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use super::charts::CHARTS;
use super::jobs::Preset;
use super::peers::Tool;
use super::runner::Cell;
use super::Results;

/// Seconds with three significant digits.
fn secs(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} s")
    } else if v >= 10.0 {
        format!("{v:.1} s")
    } else if v >= 1.0 {
        format!("{v:.2} s")
    } else {
        format!("{:.0} ms", v * 1000.0)
    }
}

/// KiB as MiB.
fn mib_kib(kib: u64) -> String {
    let m = kib as f64 / 1024.0;
    if m >= 100.0 {
        format!("{m:.0} MiB")
    } else {
        format!("{m:.1} MiB")
    }
}

/// Bytes as MiB (two decimals under 10).
fn mib_bytes(bytes: u64) -> String {
    let m = bytes as f64 / 1048576.0;
    if m >= 10.0 {
        format!("{m:.1} MiB")
    } else {
        format!("{m:.2} MiB")
    }
}

/// A ratio like "0.12x".
fn ratio(a: f64, b: f64) -> String {
    let r = a / b;
    if r >= 10.0 {
        format!("{r:.0}x")
    } else if r >= 1.0 {
        format!("{r:.1}x")
    } else {
        format!("{r:.2}x")
    }
}

/// The current UTC date and time, `YYYY-MM-DD HH:MM UTC`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = ((secs / 86400) as i64, secs % 86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

/// CPU model, logical CPUs, memory and kernel, from /proc.
fn machine() -> Vec<(String, String)> {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_string()))
        .unwrap_or_else(|| "unknown".into());
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem_kib: u64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    vec![
        ("CPU".into(), model),
        ("logical CPUs (nproc)".into(), cpus.to_string()),
        ("memory".into(), format!("{:.1} GiB", mem_kib as f64 / 1048576.0)),
        ("kernel".into(), format!("Linux {}", read("/proc/sys/kernel/osrelease").trim())),
    ]
}

/// The best whole-job peer of a row (smallest value of `key`), excluding stripflow and djpeg.
fn best_peer(row: &[Cell], key: impl Fn(&Cell) -> Option<f64>) -> Option<(&Cell, f64)> {
    row.iter()
        .filter(|c| c.tool != Tool::Stripflow && c.tool.whole_job())
        .filter_map(|c| key(c).map(|v| (c, v)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// Writes the report.
pub fn write(results: &Results, path: &Path) -> Result<()> {
    let mut md = String::new();
    let w = &mut md;
    let command: Vec<String> = std::env::args().skip(1).collect();
    let (base, big, heights) = results.preset.sizes();
    writeln!(w, "# stripflow report: whole jobs against libvips, ImageMagick, djpeg, Pillow and the image crate\n")?;
    writeln!(
        w,
        "Generated {} by `stripflow {}`: preset **{}** (squares of {base} and {big} pixels, height series {big} wide x {} tall), \
         {} timed run(s) per job and tool (median shown), {:.0} minutes in all.\n",
        utc_now(),
        command.join(" "),
        results.preset.name(),
        heights.iter().map(|h| h.to_string()).collect::<Vec<_>>().join(", "),
        results.runs,
        results.elapsed.as_secs_f64() / 60.0
    )?;
    match results.preset {
        Preset::Full => {}
        Preset::Medium => writeln!(
            w,
            "> This is the **medium** preset: every side is half of the full matrix's (4096/8192 instead of 8192/16384), \
             for lack of time on the machine. `stripflow-report` (no flag) runs the full matrix.\n"
        )?,
        Preset::Quick => writeln!(
            w,
            "> This is the **quick** preset (small images, what CI runs to keep the report code working): \
             its figures are dominated by process start-up and say little about big images.\n"
        )?,
    }
    writeln!(w, "| machine | |\n|---|---|")?;
    for (k, v) in machine() {
        writeln!(w, "| {k} | {v} |")?;
    }
    writeln!(w, "\n| tool | version |\n|---|---|")?;
    for t in &results.tools {
        match &t.missing {
            None => writeln!(w, "| {} | {} |", t.tool.name(), t.version)?,
            Some(why) => writeln!(w, "| {} | **missing**: {why} |", t.tool.name())?,
        }
    }

    writeln!(w, "\n## How it was measured\n")?;
    writeln!(
        w,
        "- Every run is a child process started by a small launcher (`stripflow-report exec`) that reaps it with `wait4`: \
         **wall time** from spawn to exit, **peak RSS** is `ru_maxrss` (resident memory high-water mark, including the \
         executable, shared libraries and allocator overhead). The launcher's own footprint, measured by running `true` \
         through it, is **{}**: no RSS figure can be below it.",
        mib_kib(results.rss_floor_kib)
    )?;
    writeln!(
        w,
        "- **peak private RSS** is the highest `RssAnon` (anonymous memory: heap, pixel buffers, stacks) read from \
         `/proc/PID/status` every {} ms while the run lasts. It matters for stripflow, which memory-maps its input: \
         `ru_maxrss` counts the mapped file's resident pages (clean page cache the kernel can drop under pressure). \
         stripflow releases the pages behind its sequential readers (`MADV_DONTNEED`), so only a window of the file \
         stays resident; where a reader revisits the file (the seven passes of an Adam7 PNG) more of it does. Peers \
         read their input through small buffers, so for them the two figures differ by code and libraries only.",
        super::runner::SAMPLE_MS
    )?;
    writeln!(
        w,
        "- **stripflow peak heap** is measured once more per job under `stripflow-dhat` (the same commands under the dhat \
         heap profiler): the high-water mark of bytes the library and CLI allocate. The per-job profiles are in `dhat/` \
         (open them in dhat's viewer, <https://nnethercote.github.io/dh_view/dh_view.html>)."
    )?;
    writeln!(
        w,
        "- Runs alternate: for each job, {} round(s) over all tools, the first tool rotating each round; the median is shown. \
         A tool that fails or is refused once is not retried, and its failure is reported below, not hidden. A run longer \
         than {:.0} s is not repeated (the job tables give each cell's run count). Runs are killed after {} s.",
        results.runs, results.repeat_limit, results.timeout
    )?;
    writeln!(
        w,
        "- Inputs are the library's deterministic photo-like synthetic image (seed 7), encoded once into a cache: baseline \
         JPEG and PNG by stripflow's encoders (quality 85 4:2:0; fast deflate), progressive JPEG by `cjpeg -progressive` \
         (or jpeg-encoder), the Adam7 PNG by the report's own interlaced writer."
    )?;
    writeln!(
        w,
        "- Outputs: JPEG quality 85 4:2:0, PNG with fast (level 1) deflate, Lanczos-3 where the tool lets one choose. Every \
         output is read back and its size checked (±1 pixel)."
    )?;
    writeln!(
        w,
        "- Commands: stripflow `stripflow convert IN OUT --width 256` (and `--crop WxH --gravity bottom-right`, \
         `--resize 1200x630 --fit cover`; JPEG shrink-on-load is on by default; `--limit-input-pixels 0` lifts its sharp-like \
         default input limit of 16383x16383 pixels); libvips `vips thumbnail` / `vips crop` / `vips copy`; \
         ImageMagick `convert IN -thumbnail 256x OUT` (`-gravity SouthEast -crop`, `-thumbnail WxH^ -extent WxH`) under the \
         distribution's default `policy.xml` (see `convert -list policy`: on Debian width and height 16KP, area 128MP, \
         memory 256MiB, disk 1GiB), so its refusals are results (its PNG reader says only \"no images defined\" where its \
         JPEG reader names the limit); djpeg decodes only (PPM out, `-scale M/8` DCT scaling, `-crop`), a floor for the JPEG \
         decode part, not the same job; Pillow `bench/pillow_job.py` (`Image.thumbnail`, `ImageOps.fit`, \
         decompression-bomb limit lifted); the image crate decodes the whole frame (`stripflow-report baseline`, \
         allocation limit lifted). {}",
        match crate::peers::stripflow_threads() {
            Some(n) => format!("stripflow runs with `--threads {n}` (this run's `--stripflow-threads`); libvips uses every core."),
            None => "stripflow and libvips use every core (stripflow's default `--threads` is the available parallelism).".to_string(),
        }
    )?;
    writeln!(
        w,
        "- The machine is shared with other work: times are indicative (same order between reruns), memory figures are \
         stable (within a few percent)."
    )?;

    writeln!(w, "\n## Summary\n")?;
    writeln!(
        w,
        "Ratios are stripflow / best whole-job peer (below 1 means stripflow is smaller or faster); djpeg is left out of \
         \"best peer\" because it only decodes.\n"
    )?;
    writeln!(
        w,
        "| job | stripflow heap (dhat) | stripflow private RSS | lowest peer private RSS | private ratio | stripflow RSS | lowest peer RSS | RSS ratio | stripflow time | fastest peer | time ratio |"
    )?;
    writeln!(w, "|---|---:|---:|---|---:|---:|---|---:|---:|---|---:|")?;
    for (j, job) in results.jobs.iter().enumerate() {
        let row = &results.cells[j];
        let sf = row.iter().find(|c| c.tool == Tool::Stripflow);
        let heap = match &results.dhat[j] {
            Ok(b) => mib_bytes(*b),
            Err(_) => "failed".into(),
        };
        let failed = sf.is_some_and(|c| !c.runs.is_empty() && !c.ok());
        let (sf_rss, sf_anon, sf_wall) = match sf {
            Some(c) if c.ok() => (c.rss_kib, c.anon_kib, c.wall),
            _ => (None, None, None),
        };
        let best_rss = best_peer(row, |c| c.rss_kib.map(|k| k as f64));
        let best_anon = best_peer(row, |c| c.anon_kib.map(|k| k as f64));
        let mine = |v: Option<u64>| match v {
            Some(k) => mib_kib(k),
            None if failed => "FAILED".to_string(),
            None => "-".to_string(),
        };
        let best_wall = best_peer(row, |c| c.wall);
        let cell = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            job.id,
            heap,
            mine(sf_anon),
            cell(best_anon.map(|(c, v)| format!("{} {}", c.tool.name(), mib_kib(v as u64)))),
            cell(sf_anon.zip(best_anon).map(|(s, (_, b))| ratio(s as f64, b))),
            mine(sf_rss),
            cell(best_rss.map(|(c, v)| format!("{} {}", c.tool.name(), mib_kib(v as u64)))),
            cell(sf_rss.zip(best_rss).map(|(s, (_, b))| ratio(s as f64, b))),
            cell(sf_wall.map(secs)),
            cell(best_wall.map(|(c, v)| format!("{} {}", c.tool.name(), secs(v)))),
            cell(sf_wall.zip(best_wall).map(|(s, (_, b))| ratio(s, b))),
        )?;
    }

    writeln!(w, "\n## Charts\n")?;
    for (file, title) in CHARTS {
        writeln!(w, "### {title}\n\n![{title}]({file})\n")?;
    }

    writeln!(w, "## Every job\n")?;
    for (j, job) in results.jobs.iter().enumerate() {
        let row = &results.cells[j];
        let (ow, oh) = job.expected_size();
        writeln!(w, "### {}\n\n`{}`: input {:.1} MP, output {ow}x{oh}.\n", job.title, job.id, job.input.megapixels())?;
        writeln!(
            w,
            "| tool | status | runs | median wall | peak RSS | peak private RSS | peak heap (dhat) | time / fastest peer | RSS / lowest peer | private / lowest peer |"
        )?;
        writeln!(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")?;
        let best_rss = best_peer(row, |c| c.rss_kib.map(|k| k as f64)).map(|(_, v)| v);
        let best_wall = best_peer(row, |c| c.wall).map(|(_, v)| v);
        let best_anon = best_peer(row, |c| c.anon_kib.map(|k| k as f64)).map(|(_, v)| v);
        for c in row {
            let heap = if c.tool == Tool::Stripflow {
                match &results.dhat[j] {
                    Ok(b) => mib_bytes(*b),
                    Err(e) => format!("failed: {e}"),
                }
            } else {
                String::new()
            };
            let name = if c.tool.whole_job() { c.tool.name().to_string() } else { format!("{} (decode only)", c.tool.name()) };
            writeln!(
                w,
                "| {name} | {} | {} | {} | {} | {} | {heap} | {} | {} | {} |",
                c.status(),
                c.runs.len(),
                c.wall.map(secs).unwrap_or_default(),
                c.rss_kib.map(mib_kib).unwrap_or_default(),
                c.anon_kib.map(mib_kib).unwrap_or_default(),
                c.wall.zip(best_wall).map(|(a, b)| ratio(a, b)).unwrap_or_default(),
                c.rss_kib.zip(best_rss).map(|(a, b)| ratio(a as f64, b)).unwrap_or_default(),
                c.anon_kib.zip(best_anon).map(|(a, b)| ratio(a as f64, b)).unwrap_or_default(),
            )?;
        }
        writeln!(w)?;
    }

    writeln!(w, "## Failures, refusals and missing tools\n")?;
    let mut any = false;
    for t in &results.tools {
        if let Some(why) = &t.missing {
            any = true;
            writeln!(w, "- {} is missing: {why}", t.tool.name())?;
        }
    }
    for (j, job) in results.jobs.iter().enumerate() {
        for c in &results.cells[j] {
            if let Some(m) = c.runs.iter().find(|m| !m.ok) {
                any = true;
                writeln!(w, "- {} on `{}`: {}", c.tool.name(), job.id, m.error.clone().unwrap_or_default())?;
            }
        }
        if let Err(e) = &results.dhat[j] {
            any = true;
            writeln!(w, "- stripflow under dhat on `{}`: {e}", job.id)?;
        }
    }
    if !any {
        writeln!(w, "None.")?;
    }
    writeln!(w, "\nRaw figures of every run: [results.csv](results.csv).")?;
    std::fs::write(path, md).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_format() {
        let now = utc_now();
        assert_eq!(now.len(), "2026-11-25 21:30 UTC".len(), "{now}");
        assert!(now.starts_with("20"));
    }

    #[test]
    fn formatting() {
        assert_eq!(secs(0.0123), "12 ms");
        assert_eq!(secs(1.5), "1.50 s");
        assert_eq!(mib_kib(2048), "2.0 MiB");
        assert_eq!(ratio(1.0, 4.0), "0.25x");
    }
}
