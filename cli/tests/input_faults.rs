//! Faults at the input edge of the `stripflow` process: an input file truncated by another
//! process while `stripflow convert` runs is an error (exit 1) that leaves no output file, never a
//! SIGBUS death (exit 135) with a `.partial` file; a standard input that cannot be spooled
//! because TMPDIR is missing says so, naming TMPDIR.

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use stripflow::codec::jpeg::JpegEncoder;
use stripflow::codec::png::PngEncoder;
use stripflow::synth::Synthetic;
use stripflow::PixelFormat;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Whether process `pid` has `path` open, or mapped (a mapping outlives its descriptor).
fn has_open(pid: u32, path: &Path) -> bool {
    let mapped = std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .is_ok_and(|maps| maps.lines().any(|l| l.ends_with(path.to_str().unwrap())));
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return mapped };
    mapped || fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok()).any(|target| target == path)
}

/// An 8192x8192 baseline JPEG (about 20 MB): converting it at full size to PNG takes seconds.
fn large_jpeg(dir: &Path) -> PathBuf {
    let path = dir.join("large.jpg");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    JpegEncoder::default().encode(&mut Synthetic::new(8192, 8192, PixelFormat::RGB8, 7), &mut file).unwrap();
    file.flush().unwrap();
    path
}

#[test]
fn input_truncated_during_convert_is_exit_1_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = large_jpeg(dir.path()).canonicalize().unwrap();
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let output = out_dir.join("full.png");
    let mut child = Command::new(env!("CARGO_BIN_EXE_stripflow"))
        .args(["convert", s(&input), s(&output), "--limit-input-pixels", "0"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stripflow");
    // Truncate as soon as the process has the file open: planning walks the markers, then the
    // rows are decoded and encoded for seconds; the cut lands somewhere in that.
    let started = Instant::now();
    while !has_open(child.id(), &input) {
        assert!(started.elapsed() < Duration::from_secs(20), "stripflow never opened its input");
        if child.try_wait().unwrap().is_some() {
            panic!("stripflow exited before its input could be truncated");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let len = std::fs::metadata(&input).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&input).unwrap().set_len(len / 4).unwrap();
    let result = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.signal(), None, "killed by a signal; stderr: {stderr}");
    assert_eq!(result.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("input ended early"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "files left in the output folder: {left:?}");
}

#[test]
fn stdin_without_a_tmpdir_names_tmpdir() {
    let dir = tempfile::tempdir().unwrap();
    let mut png = Vec::new();
    PngEncoder::default().encode(&mut Synthetic::new(64, 64, PixelFormat::RGB8, 1), &mut png).unwrap();
    let output = dir.path().join("out.jpg");
    let mut child = Command::new(env!("CARGO_BIN_EXE_stripflow"))
        .args(["convert", "-", s(&output)])
        .env("TMPDIR", "/nonexistent/stripflow-tmpdir")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stripflow");
    // stripflow may fail before reading everything: a closed pipe here is fine.
    let _ = child.stdin.take().unwrap().write_all(&png);
    let result = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("TMPDIR") && stderr.contains("/nonexistent/stripflow-tmpdir"), "{stderr}");
    assert!(!output.exists());
}
