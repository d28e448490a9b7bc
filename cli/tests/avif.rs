//! `stripflow convert ... out.avif`: the AVIF options reach the encoder, and the options that
//! do not apply, or values out of range, fail before anything is written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use stripflow::codec::jpeg::JpegEncoder;
use stripflow::synth::Synthetic;
use stripflow::PixelFormat;

fn stripflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stripflow")).args(args).output().expect("run stripflow")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn jpeg_file(dir: &Path, w: u32, h: u32) -> PathBuf {
    let path = dir.join("in.jpg");
    let mut bytes = Vec::new();
    JpegEncoder::default().encode(&mut Synthetic::new(w, h, PixelFormat::RGB8, 3), &mut bytes).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The AV1 sequence header's bit depth: the `av1C` box's high_bitdepth flag (byte 2, bit 6).
fn av1c_ten_bit(file: &[u8]) -> bool {
    let at = file.windows(4).position(|w| w == b"av1C").expect("an av1C box") + 4;
    file[at + 2] & 0x40 != 0
}

fn ok(out: &Output) {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn convert_to_avif_with_quality_effort_and_bit_depth() {
    let dir = tempfile::tempdir().unwrap();
    let jpg = jpeg_file(dir.path(), 120, 80);
    let out_q50 = dir.path().join("q50.avif");
    ok(&stripflow(&["convert", s(&jpg), s(&out_q50), "--quality", "50", "--effort", "6"]));
    let q50 = std::fs::read(&out_q50).unwrap();
    assert_eq!(&q50[4..12], b"ftypavif");
    assert!(!av1c_ten_bit(&q50));

    let out_q90 = dir.path().join("q90.avif");
    ok(&stripflow(&["convert", s(&jpg), s(&out_q90), "--quality", "90", "--effort", "6"]));
    let q90 = std::fs::read(&out_q90).unwrap();
    assert!(q90.len() > q50.len(), "quality 90 ({} bytes) is larger than 50 ({} bytes)", q90.len(), q50.len());

    let out_10 = dir.path().join("ten.avif");
    ok(&stripflow(&["convert", s(&jpg), s(&out_10), "--bit-depth", "10", "--effort", "9"]));
    assert!(av1c_ten_bit(&std::fs::read(&out_10).unwrap()));

    // `--format avif` to standard output.
    let out = stripflow(&["convert", s(&jpg), "-", "--format", "avif", "--effort", "9"]);
    ok(&out);
    assert_eq!(&out.stdout[4..12], b"ftypavif");

    // The plan names the encoder's options and its heap.
    let out = stripflow(&["convert", s(&jpg), s(&dir.path().join("plan.avif")), "--effort", "7", "--plan"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("avif encode") && text.contains("effort 7 (rav1e speed 3)"), "{text}");
}

#[test]
fn avif_option_errors_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let jpg = jpeg_file(dir.path(), 40, 30);
    let out_path = dir.path().join("out.avif");
    for (args, says) in [
        (&["--compression", "6"][..], "--compression does not apply to AVIF output (AVIF takes --quality, --alpha-quality, --effort, --bit-depth)"),
        (&["--lossless"][..], "--lossless does not apply to AVIF output"),
        (&["--quality", "0"][..], "AVIF quality 0 is not in 1..=100"),
        (&["--effort", "10"][..], "AVIF effort 10 is not in 0..=9"),
        (&["--bit-depth", "12"][..], "AVIF bit-depth 12 is not 8 or 10"),
        (&["--alpha-quality", "101"][..], "AVIF alpha-quality 101 is not in 1..=100"),
    ] {
        let mut all = vec!["convert", s(&jpg), s(&out_path)];
        all.extend_from_slice(args);
        let out = stripflow(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says), "{args:?}: {err}");
        assert!(!out_path.exists());
    }
    // AVIF input is a typed error naming AVIF.
    let avif = dir.path().join("real.avif");
    ok(&stripflow(&["convert", s(&jpg), s(&avif), "--effort", "9"]));
    let out = stripflow(&["convert", s(&avif), s(&dir.path().join("back.png"))]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.to_ascii_lowercase().contains("avif"), "{err}");
}
