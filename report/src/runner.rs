//! Running one measured job: a child process, its wall time and its peak RSS.
//!
//! Every run goes through a launcher, `stripflow-report exec -- PROGRAM ARGS...`, a fresh small
//! process that spawns the program, reaps it with `wait4` and prints one `STRIPFLOW_EXEC` line.
//! Why a launcher: on Linux a child's `ru_maxrss` starts from the high-water mark of the memory
//! image it had before `exec` (with vfork/posix_spawn, the parent's), so measuring straight from
//! the report process would put the report's own footprint under every figure. The launcher's
//! footprint (a couple of MiB) is measured by running `true` through it and printed in the report
//! as the floor under every RSS figure.
//!
//! Wall time is taken in the launcher from just before the spawn to the return of `wait4`.
//!
//! `ru_maxrss` counts every resident page, including pages of a memory-mapped input file (clean
//! page cache the kernel can drop at any time). stripflow maps its input, so its RSS grows with
//! the size of the input *file* even though its heap does not. To separate the two, the launcher
//! also samples the child's `RssAnon` (private, anonymous memory: heap, stacks, pixel buffers)
//! from `/proc/PID/status` every [`SAMPLE_MS`] ms and reports the highest value seen. Sampling can
//! miss a peak shorter than the interval; for the big jobs that matter it cannot.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::peers::Tool;
use super::Results;

/// One timed run of one tool on one job.
#[derive(Debug, Clone, Default)]
pub struct Measurement {
    /// Exited with status 0 and produced the expected output.
    pub ok: bool,
    /// Wall time in seconds.
    pub wall: f64,
    /// Peak resident set size in KiB (`ru_maxrss`).
    pub rss_kib: u64,
    /// Highest sampled private (anonymous) resident memory in KiB.
    pub anon_kib: u64,
    /// Why the run failed (last line of the tool's standard error, or the launcher's verdict).
    pub error: Option<String>,
    /// The dhat peak heap, when the program was `stripflow-dhat`.
    pub dhat_peak: Option<u64>,
    /// The output's size as read back, when it was checked and right.
    pub output: Option<(u32, u32)>,
}

/// All runs of one tool on one job.
#[derive(Debug, Clone)]
pub struct Cell {
    /// The tool.
    pub tool: Tool,
    /// The tool is not installed (why).
    pub missing: Option<String>,
    /// The tool cannot do this job (e.g. djpeg writing PNG).
    pub not_applicable: bool,
    /// Timed runs, in order.
    pub runs: Vec<Measurement>,
    /// Median wall time of the runs, seconds (when every run succeeded).
    pub wall: Option<f64>,
    /// Median peak RSS, KiB (when every run succeeded).
    pub rss_kib: Option<u64>,
    /// Median sampled peak private RSS, KiB (when every run succeeded).
    pub anon_kib: Option<u64>,
}

impl Cell {
    /// An empty cell.
    pub fn new(tool: Tool) -> Self {
        Cell { tool, missing: None, not_applicable: false, runs: Vec::new(), wall: None, rss_kib: None, anon_kib: None }
    }

    /// Computes the medians when every run succeeded.
    pub fn summarise(&mut self) {
        if self.runs.is_empty() || self.runs.iter().any(|m| !m.ok) {
            return;
        }
        let mut walls: Vec<f64> = self.runs.iter().map(|m| m.wall).collect();
        walls.sort_by(|a, b| a.total_cmp(b));
        self.wall = Some(median_f64(&walls));
        self.rss_kib = Some(median_u64(self.runs.iter().map(|m| m.rss_kib).collect()));
        // A run only a few sampling intervals long may be sampled before its exec or not at all:
        // no figure rather than a wrong one.
        if self.wall.unwrap_or(0.0) >= 4.0 * SAMPLE_MS as f64 / 1000.0 && self.runs.iter().all(|m| m.anon_kib > 0) {
            self.anon_kib = Some(median_u64(self.runs.iter().map(|m| m.anon_kib).collect()));
        }
    }

    /// Whether the tool ran and succeeded.
    pub fn ok(&self) -> bool {
        self.wall.is_some()
    }

    /// A short status: "ok", "missing", "n/a", or the failure.
    pub fn status(&self) -> String {
        if let Some(why) = &self.missing {
            return format!("missing ({why})");
        }
        if self.not_applicable {
            return "n/a".to_string();
        }
        match self.runs.iter().find(|m| !m.ok) {
            Some(m) => format!("FAILED: {}", m.error.clone().unwrap_or_default()),
            None if self.runs.is_empty() => "not run".to_string(),
            None => "ok".to_string(),
        }
    }
}

/// Midpoint without overflow (for medians of an even count).
trait Midpoint {
    fn midpoint_with(self, other: Self) -> Self;
}

impl Midpoint for u64 {
    fn midpoint_with(self, other: u64) -> u64 {
        self / 2 + other / 2 + (self % 2 + other % 2) / 2
    }
}

fn median_u64(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[(v.len() - 1) / 2].midpoint_with(v[v.len() / 2])
}

fn median_f64(sorted: &[f64]) -> f64 {
    (sorted[(sorted.len() - 1) / 2] + sorted[sorted.len() / 2]) / 2.0
}

/// Interval of the private-memory sampler, milliseconds.
pub const SAMPLE_MS: u64 = 5;

/// `RssAnon` of a live process in KiB, if readable.
fn rss_anon_kib(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("RssAnon:"))?.split_whitespace().next()?.parse().ok()
}

/// The hidden `exec` subcommand: runs `command`, kills it after `timeout` seconds, prints
/// `STRIPFLOW_EXEC <exit> <wall seconds> <maxrss KiB> <sampled peak RssAnon KiB>` on standard output. `<exit>` is the exit
/// code, `sig<N>` for a signal, or `timeout`. The child's standard output is discarded; its
/// standard error passes through.
pub fn exec_main(command: &[String], timeout: u64) -> Result<()> {
    let (program, args) = command.split_first().context("exec: no program")?;
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::inherit());
    // A pre_exec hook makes std fork (not vfork/posix_spawn): the child then starts with a copy of
    // only this process's anonymous pages, so its ru_maxrss floor is that small copy rather than
    // the launcher's whole high-water mark.
    // SAFETY: the hook does nothing, so it is async-signal-safe.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| Ok(()));
    }
    let started = Instant::now();
    let child = cmd.spawn().with_context(|| format!("cannot run {program}"))?;
    let pid = child.id() as libc::pid_t;
    let (cancel, cancelled) = mpsc::channel::<()>();
    // The watchdog samples private memory until the child is reaped, and kills it at the deadline.
    let watchdog = std::thread::spawn(move || {
        let deadline = started + Duration::from_secs(timeout);
        let mut anon = 0u64;
        loop {
            // The pid stays ours until wait4 reaps it, and wait4's caller cancels us right after.
            if let Some(kib) = rss_anon_kib(pid) {
                anon = anon.max(kib);
            }
            let now = Instant::now();
            if now >= deadline {
                // SAFETY: kill(2) on the pid of our own unreaped child.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                return (true, anon);
            }
            match cancelled.recv_timeout(Duration::from_millis(SAMPLE_MS).min(deadline - now)) {
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                _ => return (false, anon),
            }
        }
    });
    let mut status: libc::c_int = 0;
    // SAFETY: zeroed rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = loop {
        // SAFETY: valid pointers to locals; pid is our child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break r;
    };
    let wall = started.elapsed().as_secs_f64();
    let _ = cancel.send(());
    let (timed_out, anon_kib) = watchdog.join().unwrap_or((false, 0));
    if reaped != pid {
        bail!("wait4 failed: {}", std::io::Error::last_os_error());
    }
    drop(child);
    let exit = if timed_out {
        "timeout".to_string()
    } else if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status).to_string()
    } else if libc::WIFSIGNALED(status) {
        format!("sig{}", libc::WTERMSIG(status))
    } else {
        "unknown".to_string()
    };
    // ru_maxrss is in KiB on Linux.
    println!("STRIPFLOW_EXEC {exit} {wall:.6} {} {anon_kib}", usage.ru_maxrss);
    std::io::stdout().flush()?;
    Ok(())
}

/// Runs `argv` through the launcher (`exe exec`, `exe` being `stripflow-report`) with extra environment `env`.
pub fn measured(exe: &Path, argv: &[OsString], env: &[(OsString, OsString)], timeout: u64) -> Result<Measurement> {
    let output = Command::new(exe)
        .args(["exec", "--timeout", &timeout.to_string(), "--"])
        .args(argv)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run the launcher {}", exe.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stdout.lines().find_map(|l| l.strip_prefix("STRIPFLOW_EXEC "));
    let mut m = Measurement {
        dhat_peak: stderr.lines().find_map(|l| l.strip_prefix("STRIPFLOW_DHAT_PEAK ")).and_then(|v| v.trim().parse().ok()),
        ..Default::default()
    };
    let Some(line) = line else {
        m.error = Some(format!("launcher failed: {}", last_line(&stderr)));
        return Ok(m);
    };
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() != 4 {
        bail!("bad launcher line '{line}'");
    }
    m.wall = fields[1].parse()?;
    m.rss_kib = fields[2].parse()?;
    m.anon_kib = fields[3].parse()?;
    match fields[0] {
        "0" => m.ok = true,
        "timeout" => m.error = Some(format!("timed out after {timeout} s")),
        "sig9" => m.error = Some("killed (SIGKILL: out of memory?)".to_string()),
        code => {
            let why = last_line(&stderr);
            m.error = Some(if why.is_empty() { format!("exit {code}") } else { format!("exit {code}: {why}") });
        }
    }
    Ok(m)
}

/// The meaningful line of a tool's standard error, shortened for a table cell: the first line
/// (ImageMagick and stripflow put the cause first), or the last of a Python traceback.
fn last_line(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("STRIPFLOW_") && !l.starts_with("dhat:"))
        .collect();
    let line = match lines.first() {
        Some(first) if first.starts_with("Traceback") => lines.last().copied().unwrap_or(""),
        Some(first) => first,
        None => "",
    };
    let mut line: String = line.chars().filter(|c| *c != '|').collect();
    if line.chars().count() > 150 {
        line = line.chars().take(147).collect::<String>() + "...";
    }
    line
}

/// Reads back an output's size from its header; a PPM (djpeg) is checked for a header only.
pub fn check_output(path: &Path, expected: (u32, u32), ext: &str) -> std::result::Result<(u32, u32), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("no output: {e}"))?;
    if bytes.is_empty() {
        return Err("empty output".into());
    }
    let size = if ext == "ppm" {
        parse_ppm_size(&bytes).ok_or("output is not a PPM")?
    } else {
        header_size(&bytes).ok_or("output is not a PNG, JPEG, WebP or AVIF with a readable header")?
    };
    if ext != "ppm" && (size.0.abs_diff(expected.0) > 1 || size.1.abs_diff(expected.1) > 1) {
        return Err(format!("output is {}x{}, expected {}x{}", size.0, size.1, expected.0, expected.1));
    }
    Ok(size)
}

/// Width and height from a PNG IHDR, a JPEG SOF marker, a WebP frame header or an AVIF `ispe`
/// property (headers only, so checking outputs does not depend on any decoder).
fn header_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let be16 = |i: usize| -> Option<u32> { Some(u16::from_be_bytes([*bytes.get(i)?, *bytes.get(i + 1)?]) as u32) };
    let be32 = |i: usize| -> Option<u32> { Some(u32::from_be_bytes(bytes.get(i..i + 4)?.try_into().ok()?)) };
    let le = |i: usize, n: usize| -> Option<u32> {
        Some(bytes.get(i..i + n)?.iter().rev().fold(0u32, |v, &b| v << 8 | b as u32))
    };
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.get(12..16)? == b"IHDR" {
        return Some((be32(16)?, be32(20)?));
    }
    if bytes.starts_with(b"RIFF") && bytes.get(8..12)? == b"WEBP" {
        return match bytes.get(12..16)? {
            b"VP8 " if bytes.get(23..26)? == [0x9d, 0x01, 0x2a] => Some((le(26, 2)? & 0x3fff, le(28, 2)? & 0x3fff)),
            b"VP8L" if *bytes.get(20)? == 0x2f => {
                let bits = le(21, 4)?;
                Some(((bits & 0x3fff) + 1, (bits >> 14 & 0x3fff) + 1))
            }
            b"VP8X" => Some((le(24, 3)? + 1, le(27, 3)? + 1)),
            _ => None,
        };
    }
    if bytes.get(4..8)? == b"ftyp" {
        let head = &bytes[..bytes.len().min(1 << 16)];
        let at = head.windows(4).position(|w| w == b"ispe")?;
        return Some((be32(at + 8)?, be32(at + 12)?));
    }
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut i = 2;
    loop {
        while *bytes.get(i)? != 0xFF {
            i += 1;
        }
        while *bytes.get(i)? == 0xFF {
            i += 1;
        }
        let marker = *bytes.get(i)?;
        i += 1;
        match marker {
            0xD0..=0xD9 | 0x01 => continue,
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => return Some((be16(i + 5)?, be16(i + 3)?)),
            _ => i += be16(i)? as usize,
        }
    }
}

/// Width and height from a binary PPM header (no comments, as djpeg writes it).
fn parse_ppm_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let head = std::str::from_utf8(&bytes[..bytes.len().min(64)]).ok().or_else(|| {
        let end = bytes.iter().take(64).position(|&b| b > 127).unwrap_or(64.min(bytes.len()));
        std::str::from_utf8(&bytes[..end]).ok()
    })?;
    let mut fields = head.split_ascii_whitespace();
    if !matches!(fields.next()?, "P6" | "P5") {
        return None;
    }
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
}

/// Peak RSS of the launcher running `true`: the floor under every figure.
pub fn floor(exe: &Path) -> Result<u64> {
    let mut best = u64::MAX;
    for _ in 0..3 {
        let m = measured(exe, &["true".into()], &[], 10)?;
        if !m.ok {
            bail!("the launcher cannot run `true`: {:?}", m.error);
        }
        best = best.min(m.rss_kib);
    }
    Ok(best)
}

/// Writes every run as CSV: job, tool, run, ok, wall_s, rss_kib, error; then the dhat peaks.
pub fn write_csv(results: &Results, path: &Path) -> Result<()> {
    let mut out = String::from("job,tool,run,ok,wall_s,peak_rss_kib,peak_private_rss_kib_sampled,dhat_peak_heap_bytes,error\n");
    for (j, job) in results.jobs.iter().enumerate() {
        for cell in &results.cells[j] {
            for (r, m) in cell.runs.iter().enumerate() {
                let err = m.error.clone().unwrap_or_default().replace(['"', ','], " ");
                out.push_str(&format!("{},{},{},{},{:.4},{},{},,{}\n", job.id, cell.tool.key(), r + 1, m.ok, m.wall, m.rss_kib, m.anon_kib, err));
            }
        }
        match &results.dhat[j] {
            Ok(peak) => out.push_str(&format!("{},stripflow-dhat,1,true,,,,{},\n", job.id, peak)),
            Err(e) => out.push_str(&format!("{},stripflow-dhat,1,false,,,,,{}\n", job.id, e.replace(['"', ','], " "))),
        }
    }
    std::fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_headers_are_parsed() {
        let mut png = Vec::new();
        let mut source = stripflow::synth::Synthetic::new(5, 3, stripflow::PixelFormat::RGB8, 1);
        stripflow::codec::png::PngEncoder::default().encode(&mut source, &mut png).unwrap();
        assert_eq!(header_size(&png), Some((5, 3)));
        let mut jpeg = Vec::new();
        let mut source = stripflow::synth::Synthetic::new(17, 9, stripflow::PixelFormat::RGB8, 1);
        stripflow::codec::jpeg::JpegEncoder::default().encode(&mut source, &mut jpeg).unwrap();
        assert_eq!(header_size(&jpeg), Some((17, 9)));
        assert_eq!(header_size(b"GIF89a"), None);
        assert_eq!(header_size(&jpeg[..20]), None);
        // The first bytes of cwebp's lossy and lossless encodes of a 333x251 image.
        let lossy = [
            82, 73, 70, 70, 180, 29, 0, 0, 87, 69, 66, 80, 86, 80, 56, 32, 168, 29, 0, 0, 144, 201, 0, 157, 1, 42, 77, 1,
            251, 0,
        ];
        assert_eq!(header_size(&lossy), Some((333, 251)));
        let lossless = [
            82, 73, 70, 70, 96, 35, 1, 0, 87, 69, 66, 80, 86, 80, 56, 76, 83, 35, 1, 0, 47, 76, 129, 62, 0, 9, 51, 109,
        ];
        assert_eq!(header_size(&lossless), Some((333, 251)));
        let mut extended = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\x10\0\0\0".to_vec();
        extended.extend_from_slice(&[0x4c, 0x01, 0x00, 0xfa, 0x00, 0x00]);
        assert_eq!(header_size(&extended), Some((333, 251)));
        // An AVIF's ftyp box, then (further on) its ispe property.
        let mut avif = vec![0, 0, 0, 28, 102, 116, 121, 112, 97, 118, 105, 102];
        avif.extend_from_slice(&[0; 40]);
        avif.extend_from_slice(&[0, 0, 0, 20, 105, 115, 112, 101, 0, 0, 0, 0, 0, 0, 1, 77, 0, 0, 0, 251]);
        assert_eq!(header_size(&avif), Some((333, 251)));
    }

    #[test]
    fn error_line_is_the_cause() {
        assert_eq!(last_line("convert: width exceeds limit\nconvert: no images defined\n"), "convert: width exceeds limit");
        assert_eq!(last_line("Traceback (most recent call last):\n  File x\nMemoryError: big\n"), "MemoryError: big");
        assert_eq!(last_line("\nSTRIPFLOW_DHAT_PEAK 5\n"), "");
    }

    #[test]
    fn ppm_header_is_parsed() {
        assert_eq!(parse_ppm_size(b"P6\n256 128\n255\n\x00\xff\x80"), Some((256, 128)));
        assert_eq!(parse_ppm_size(b"P3\n1 1\n"), None);
    }

    #[test]
    fn medians() {
        let mut c = Cell::new(Tool::Stripflow);
        for (wall, rss) in [(3.0, 30), (1.0, 10), (2.0, 21), (9.0, 22)] {
            c.runs.push(Measurement { ok: true, wall, rss_kib: rss, ..Default::default() });
        }
        c.summarise();
        assert_eq!(c.wall, Some(2.5));
        assert_eq!(c.rss_kib, Some(21));
        c.runs.push(Measurement { ok: false, ..Default::default() });
        let mut failed = c.clone();
        failed.wall = None;
        failed.summarise();
        assert!(!failed.ok());
    }
}
