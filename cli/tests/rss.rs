//! Peak resident memory (RSS) of whole `stripflow` processes: the input is read by position into
//! bounded buffers (a mapped page that was read would count in RSS and make it track the file
//! size). These tests decode files several times larger than the bound.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

use stripflow::codec::png::PngEncoder;
use stripflow::io::AtomicOutput;
use stripflow::synth::Synthetic;
use stripflow::PixelFormat;

/// Runs `stripflow args` and returns its peak RSS in KiB (wait4's ru_maxrss).
fn peak_rss_kib(args: &[&str]) -> u64 {
    let child = Command::new(env!("CARGO_BIN_EXE_stripflow")).args(args).spawn().expect("spawn");
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    assert!(std::process::ExitStatus::from_raw(status).success(), "stripflow {args:?} failed");
    usage.ru_maxrss as u64
}

#[test]
fn rss_does_not_track_the_input_file_size() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("tall.png");
    let mut out = AtomicOutput::create(&png).unwrap();
    PngEncoder::default().encode(&mut Synthetic::new(8192, 8192, PixelFormat::RGB8, 1), &mut out).unwrap();
    out.commit().unwrap();
    let file_mib = std::fs::metadata(&png).unwrap().len() >> 20;
    assert!(file_mib >= 90, "fixture is {file_mib} MiB");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let thumb = s(&dir.path().join("t.jpg"));
    let rss = peak_rss_kib(&["convert", &s(&png), &thumb, "--width", "256"]) >> 10;
    println!("8192x8192 PNG ({file_mib} MiB) -> 256 wide JPEG: peak RSS {rss} MiB");
    assert!(rss < 40, "peak RSS {rss} MiB for a {file_mib} MiB input");
}

/// A quarter turn of an 8192x8192 PNG under `--max-memory 16M`: the 192 MiB frame goes to a
/// scratch file read and written through a band buffer, so RSS stays near the heap (a memory
/// map of the scratch file put the whole frame in RSS: 204 MB).
#[test]
fn rss_of_a_scratch_file_turn_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("big8k.png");
    let mut out = AtomicOutput::create(&png).unwrap();
    PngEncoder::default().encode(&mut Synthetic::new(8192, 8192, PixelFormat::RGB8, 1), &mut out).unwrap();
    out.commit().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let turned = s(&dir.path().join("turned.png"));
    let rss = peak_rss_kib(&["convert", &s(&png), &turned, "--rotate", "90", "--max-memory", "16M"]) >> 10;
    println!("8192x8192 PNG --rotate 90 --max-memory 16M: peak RSS {rss} MiB");
    assert!(rss < 40, "peak RSS {rss} MiB for a turn under a 16 MiB budget");
}
