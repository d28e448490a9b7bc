//! `stripflow batch`: a folder tree mirrored with several sizes and formats, a failed image that
//! does not stop the batch, the JSON-lines log, reruns that skip complete outputs, a manifest with
//! per-job recipes, admission by planned memory (peak RSS under the budget, measured with wait4),
//! and a job larger than the whole budget refused alone.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use stripflow::codec::jpeg::JpegEncoder;
use stripflow::codec::png::PngEncoder;
use stripflow::synth::Synthetic;
use stripflow::PixelFormat;

fn stripflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stripflow")).args(args).output().expect("run stripflow")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn jpeg(path: &Path, w: u32, h: u32, seed: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut bytes = Vec::new();
    JpegEncoder::default().encode(&mut Synthetic::new(w, h, PixelFormat::RGB8, seed), &mut bytes).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn png(path: &Path, w: u32, h: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut bytes = Vec::new();
    PngEncoder::default().encode(&mut Synthetic::new(w, h, PixelFormat::RGBA8, 2), &mut bytes).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// The JSON objects of a log, one per line.
fn log_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn records<'a>(log: &'a [serde_json::Value], status: &str) -> Vec<&'a serde_json::Value> {
    log.iter().filter(|r| r["status"] == status).collect()
}

fn image_size(path: &Path) -> (u32, u32) {
    let img = image::ImageReader::open(path).unwrap().with_guessed_format().unwrap().decode().unwrap();
    (img.width(), img.height())
}

#[test]
fn tree_with_sizes_and_formats_a_broken_file_and_a_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let (input, out, log) = (dir.path().join("in"), dir.path().join("out"), dir.path().join("log.jsonl"));
    jpeg(&input.join("a.jpg"), 800, 600, 1);
    png(&input.join("deep/er/b.png"), 300, 500);
    jpeg(&input.join("deep/c.jpeg"), 640, 480, 3);
    std::fs::write(input.join("deep/broken.jpg"), &std::fs::read(input.join("a.jpg")).unwrap()[..2000]).unwrap();
    std::fs::write(input.join("notes.txt"), "not an image").unwrap();
    let args = ["batch", s(&input), "--out-dir", s(&out), "--size", "256", "--size", "100x50", "-o", "{dir}/{stem}-{width}.jpg", "-o", "{dir}/{stem}-{size}.webp", "--log", s(&log), "--workers", "2"];

    let first = stripflow(&args);
    assert_eq!(first.status.code(), Some(1), "a failed image makes the exit non-zero: {first:?}");
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(stderr.contains("broken.jpg") && stderr.contains("1 failed") || stderr.contains("4 failed"), "{stderr}");
    for (path, size) in [
        ("a-256.jpg", (256, 192)),
        ("a-100x50.webp", (67, 50)),
        ("deep/er/b-256.jpg", (154, 256)),
        ("deep/er/b-100x50.webp", (30, 50)),
        ("deep/c-100.jpg", (67, 50)),
        ("deep/c-256x256.webp", (256, 192)),
    ] {
        assert_eq!(image_size(&out.join(path)), size, "{path}");
    }
    assert!(!out.join("deep/broken-256.jpg").exists(), "a failed output leaves nothing");
    let logged = log_lines(&log);
    assert_eq!(records(&logged, "ok").len(), 12);
    let failed = records(&logged, "failed");
    assert_eq!(failed.len(), 4);
    assert!(failed.iter().all(|r| r["error_kind"] == "Format" && r["input"].as_str().unwrap().ends_with("broken.jpg")));
    for r in records(&logged, "ok") {
        assert!(r["planned_heap"].as_u64().unwrap() > 0 && r["reserved"].as_u64() >= r["planned_heap"].as_u64());
        assert!(r["measured_heap"].as_u64().unwrap() > 0, "{r}");
        // Outputs of a shared decode too: their thread's peak plus the shared decoder's.
        assert!(r["measured_heap"].as_u64() <= r["planned_heap"].as_u64(), "{r}");
        assert!(r["seconds"].as_f64().unwrap() > 0.0);
    }
    let summary = logged.last().unwrap();
    assert_eq!((summary["ok"].as_u64(), summary["failed"].as_u64(), summary["inputs"].as_u64()), (Some(12), Some(4), Some(4)));

    // A rerun skips what is complete and tries the failed one again; a newer input is redone.
    std::fs::remove_file(out.join("a-256.jpg")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    jpeg(&input.join("deep/c.jpeg"), 640, 480, 4);
    std::fs::remove_file(&log).unwrap();
    let second = stripflow(&args);
    assert_eq!(second.status.code(), Some(1));
    let logged = log_lines(&log);
    let ok: Vec<&str> = records(&logged, "ok").iter().map(|r| r["output"].as_str().unwrap()).collect();
    assert_eq!(ok.len(), 5, "{ok:?}");
    assert!(ok.iter().any(|o| o.ends_with("a-256.jpg")) && ok.iter().filter(|o| o.contains("/deep/c-")).count() == 4);
    assert_eq!(records(&logged, "skipped").len(), 7);
    assert_eq!(records(&logged, "failed").len(), 4);

    // Fixed input: everything passes, exit 0.
    std::fs::remove_file(input.join("deep/broken.jpg")).unwrap();
    let third = stripflow(&args);
    assert!(third.status.success(), "{third:?}");
}

#[test]
fn templates_that_would_collide_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    jpeg(&input.join("a.jpg"), 64, 48, 1);
    png(&input.join("a.png"), 64, 48);
    let out = dir.path().join("out");
    let run = stripflow(&["batch", s(&input), "--out-dir", s(&out), "--size", "32", "-o", "{stem}.jpg"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("two outputs"), "{run:?}");
    let run = stripflow(&["batch", s(&input), "--out-dir", s(&out), "--size", "32", "--size", "16", "-o", "{name}.jpg"]);
    assert!(String::from_utf8_lossy(&run.stderr).contains("several sizes"), "{run:?}");
    assert!(!out.exists(), "nothing was written");
}

#[test]
fn manifest_lines_with_their_own_recipes() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.jpg");
    jpeg(&a, 800, 600, 1);
    let out = dir.path().join("out");
    let manifest = dir.path().join("jobs.jsonl");
    let lines = [
        format!("{{\"input\": \"{}\"}}", s(&a)),
        "# a comment, then a blank line".to_string(),
        String::new(),
        format!("{{\"input\": \"{}\", \"output\": \"{}\", \"args\": [\"--crop\", \"100x100\", \"--format\", \"png\"]}}", s(&a), s(&out.join("crop.png"))),
        format!("{{\"input\": \"{}\", \"output\": \"{}\", \"args\": \"--width 400 --quality 60\"}}", s(&a), s(&out.join("w400.jpg"))),
        format!("{{\"input\": \"{}\", \"output\": \"{}\"}}", s(&dir.path().join("missing.jpg")), s(&out.join("m.jpg"))),
    ];
    std::fs::write(&manifest, lines.join("\n")).unwrap();
    let log = dir.path().join("log.jsonl");
    let run = stripflow(&["batch", "--manifest", s(&manifest), "--out-dir", s(&out), "--size", "128", "--log", s(&log)]);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert_eq!(image_size(&out.join("a.jpg")), (128, 96));
    assert_eq!(image_size(&out.join("crop.png")), (100, 100));
    assert_eq!(&std::fs::read(out.join("crop.png")).unwrap()[1..4], b"PNG");
    assert_eq!(image_size(&out.join("w400.jpg")), (400, 300));
    let logged = log_lines(&log);
    let failed = records(&logged, "failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["error_kind"], "Io");

    std::fs::write(&manifest, format!("{{\"input\": \"{}\", \"output\": \"x.jpg\", \"args\": [\"--no-such-flag\"]}}", s(&a))).unwrap();
    let run = stripflow(&["batch", "--manifest", s(&manifest), "--out-dir", s(&out)]);
    assert!(String::from_utf8_lossy(&run.stderr).contains("line 1"), "{run:?}");
}

/// Runs `stripflow args` and returns its exit code and peak RSS in bytes, read from outside:
/// the child's `VmHWM` sampled every 2 ms until it exits (wait4's ru_maxrss would include this
/// test process's own peak, which Linux carries across exec into the child's figure).
fn exit_and_peak_rss(args: &[&str]) -> (i32, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stripflow")).args(args).stdout(Stdio::null()).spawn().expect("spawn");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_file) {
            if let Some(kib) = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()) {
                peak = peak.max(kib * 1024);
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code().expect("exited"), peak);
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// A mixed set under a tight budget: 40 small thumbnails and 4 full-size progressive JPEG
/// re-encodes of 3000x2000 photos in a row (52 MiB of planned heap each: the encoder holds the
/// frame's coefficients) with 3 workers and a 72 MiB budget. Two big jobs at once would pass it
/// (their reservations are checked in the log; three at once reach about 110 MiB of RSS), so the
/// batch must run them one at a time, with small jobs beside; the process's peak RSS must stay
/// under the budget.
#[test]
fn peak_rss_stays_under_the_budget_on_a_mixed_set() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut lines = Vec::new();
    for i in 0..44u32 {
        let big = (5..9).contains(&i);
        let input = dir.path().join(format!("in/{i}.jpg"));
        if big {
            jpeg(&input, 3000, 2000, i);
            lines.push(format!("{{\"input\": \"{}\", \"output\": \"{}\", \"args\": [\"--progressive\"]}}", s(&input), s(&out.join(format!("{i}.jpg")))));
        } else {
            jpeg(&input, 640 + 32 * i, 480 + 16 * i, i);
            lines.push(format!("{{\"input\": \"{}\"}}", s(&input)));
        }
    }
    let manifest = dir.path().join("jobs.jsonl");
    std::fs::write(&manifest, lines.join("\n")).unwrap();
    let log = dir.path().join("log.jsonl");
    let budget: u64 = 72 << 20;
    let (code, rss) = exit_and_peak_rss(&["batch", "--manifest", s(&manifest), "--out-dir", s(&out), "--size", "256", "--workers", "3", "--max-memory", "72M", "--log", s(&log)]);
    let logged = log_lines(&log);
    assert_eq!(code, 0, "{:?}", records(&logged, "failed"));
    assert_eq!(records(&logged, "ok").len(), 44);
    let job_budget = logged.last().unwrap()["job_budget"].as_u64().unwrap();
    let mut reserved: Vec<u64> = records(&logged, "ok").iter().map(|r| r["reserved"].as_u64().unwrap()).collect();
    reserved.sort_unstable();
    reserved.reverse();
    assert!(reserved[0] + reserved[1] > job_budget, "the budget is tight: two big jobs cannot run together ({reserved:?}, {job_budget})");
    let peak_reserved = logged.last().unwrap()["peak_reserved"].as_u64().unwrap();
    assert!(peak_reserved <= job_budget && peak_reserved >= reserved[0]);
    let own = logged.last().unwrap()["peak_rss"].as_u64().unwrap();
    println!("mixed set, 3 workers, 72 MiB budget: peak RSS {:.1} MiB sampled ({:.1} MiB VmHWM at the end), peak reserved {:.1} MiB", rss as f64 / 1048576.0, own as f64 / 1048576.0, peak_reserved as f64 / 1048576.0);
    assert!(rss > 0 && rss <= budget, "sampled peak RSS {rss} over the budget {budget}");
    assert!(own <= budget, "peak RSS {own} over the budget {budget}");
}

#[test]
fn a_job_larger_than_the_whole_budget_is_refused_alone() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    jpeg(&input.join("big.jpg"), 3000, 2000, 1);
    jpeg(&input.join("small.jpg"), 320, 240, 2);
    let out = dir.path().join("out");
    let log = dir.path().join("log.jsonl");
    // 26 MiB: the full-size WebP encode of the 3000x2000 photo plans about 19 MiB, within each
    // job's limit (the batch's 26 MiB), but it and its overhead do not fit in what the batch
    // leaves for jobs after the program's own 8 MiB: the gate refuses it; the small one runs.
    let run = stripflow(&["batch", s(&input), "--out-dir", s(&out), "--output", "{stem}.webp", "--max-memory", "26M", "--log", s(&log)]);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert_eq!(image_size(&out.join("small.webp")), (320, 240));
    assert!(!out.join("big.webp").exists());
    let logged = log_lines(&log);
    let failed = records(&logged, "failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["error_kind"], "Limits");
    assert!(failed[0]["error"].as_str().unwrap().contains("whole batch budget"), "{}", failed[0]);
}
