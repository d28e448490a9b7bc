//! End-to-end tests of the `stripflow` binary: one clear error line and no output file on bad
//! input, `info` on PNG and JPEG, conversions by extension and through standard input/output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::io::Write;

use stripflow::codec::jpeg::JpegEncoder;
use stripflow::codec::png::PngEncoder;
use stripflow::synth::Synthetic;
use stripflow::PixelFormat;

fn stripflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stripflow")).args(args).output().expect("run stripflow")
}

fn png_file(dir: &Path, name: &str, w: u32, h: u32, format: PixelFormat) -> PathBuf {
    let path = dir.join(name);
    let mut bytes = Vec::new();
    PngEncoder::default().encode(&mut Synthetic::new(w, h, format, 4), &mut bytes).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Files in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn info_reports_header_facts() {
    let dir = tempfile::tempdir().unwrap();
    let png = png_file(dir.path(), "a.png", 123, 45, PixelFormat::RGBA16);
    let out = stripflow(&["info", s(&png), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json = String::from_utf8(out.stdout).unwrap();
    assert!(json.contains("\"width\":123") && json.contains("\"height\":45"), "{json}");
    assert!(json.contains("\"bit_depth\":16") && json.contains("\"format\":\"png\""), "{json}");

    let jpg = dir.path().join("b.jpg");
    let mut bytes = Vec::new();
    JpegEncoder::default().encode(&mut Synthetic::new(64, 48, PixelFormat::RGB8, 1), &mut bytes).unwrap();
    std::fs::write(&jpg, bytes).unwrap();
    let out = stripflow(&["info", s(&jpg)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("64x48") && text.contains("jpeg"), "{text}");
}

#[test]
fn info_on_a_non_image_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "hello, not an image").unwrap();
    let out = stripflow(&["info", s(&path)]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("unknown image format") && err.contains("notes.txt"), "{err}");
    assert_eq!(err.lines().count(), 1, "one clear line: {err}");
}

#[test]
fn bad_input_leaves_no_output_and_keeps_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let png = png_file(dir.path(), "src.png", 300, 200, PixelFormat::RGB8);
    let bytes = std::fs::read(&png).unwrap();
    let truncated = dir.path().join("truncated.png");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let mut corrupt = bytes.clone();
    let middle = corrupt.len() / 2;
    for b in &mut corrupt[middle..middle + 64] {
        *b ^= 0x5a;
    }
    let corrupt_path = dir.path().join("corrupt.png");
    std::fs::write(&corrupt_path, &corrupt).unwrap();

    let existing = dir.path().join("existing.jpg");
    std::fs::write(&existing, b"keep me").unwrap();
    for bad in [&truncated, &corrupt_path] {
        for out_name in ["new.png", "new.jpg", "existing.jpg"] {
            let before = listing(dir.path());
            let out = stripflow(&["convert", s(bad), s(&dir.path().join(out_name))]);
            assert!(!out.status.success(), "{} -> {out_name} should fail", bad.display());
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.starts_with("stripflow: error:"), "{err}");
            assert_eq!(listing(dir.path()), before, "no file left behind");
        }
    }
    assert_eq!(std::fs::read(&existing).unwrap(), b"keep me");
}

#[test]
fn convert_crop_by_gravity_and_rectangle() {
    let dir = tempfile::tempdir().unwrap();
    let png = png_file(dir.path(), "src.png", 300, 200, PixelFormat::RGB8);
    let out_path = dir.path().join("crop.png");
    let out = stripflow(&["convert", s(&png), s(&out_path), "--crop", "100x50", "--gravity", "bottom-right"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let img = image::open(&out_path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (100, 50));
    let full = image::open(&png).unwrap().to_rgb8();
    assert_eq!(img.get_pixel(0, 0), full.get_pixel(200, 150));

    let out = stripflow(&["convert", s(&png), s(&out_path), "--crop", "10,20,30,40"]);
    assert!(out.status.success());
    let img = image::open(&out_path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (30, 40));
    assert_eq!(img.get_pixel(0, 0), full.get_pixel(10, 20));

    let out = stripflow(&["convert", s(&png), s(&out_path), "--crop", "290,0,20,10"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside"));
}

#[test]
fn stdin_to_stdout_jpeg() {
    let dir = tempfile::tempdir().unwrap();
    let png = png_file(dir.path(), "src.png", 80, 60, PixelFormat::RGBA8);
    let mut child = Command::new(env!("CARGO_BIN_EXE_stripflow"))
        .args(["convert", "-", "-", "--format", "jpeg", "--quality", "90"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&std::fs::read(&png).unwrap()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let img = image::load_from_memory(&out.stdout).unwrap();
    assert_eq!((img.width(), img.height()), (80, 60));

    let out = stripflow(&["convert", s(&png), "-"]);
    assert!(!out.status.success(), "stdout without --format must be refused");
}

#[test]
fn thumbnail_fit_plan_and_budget() {
    let dir = tempfile::tempdir().unwrap();
    let jpg = dir.path().join("wide.jpg");
    let mut bytes = Vec::new();
    JpegEncoder::default().encode(&mut Synthetic::new(2000, 1000, PixelFormat::RGB8, 3), &mut bytes).unwrap();
    std::fs::write(&jpg, bytes).unwrap();

    // vipsthumbnail semantics: fit inside a 256 box, aspect kept.
    let thumb = dir.path().join("t.png");
    let out = stripflow(&["thumbnail", s(&jpg), s(&thumb), "--size", "256"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(image::open(&thumb).unwrap().to_rgb8().dimensions(), (256, 128));

    // sharp semantics: cover fills the box exactly.
    let card = dir.path().join("card.jpg");
    let out = stripflow(&["convert", s(&jpg), s(&card), "--resize", "300x300", "--fit", "cover", "--position", "top-right"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(image::open(&card).unwrap().to_rgb8().dimensions(), (300, 300));
    let out = stripflow(&["convert", s(&jpg), s(&card), "--resize", "300x300", "--fit", "contain"]);
    assert!(out.status.success());
    assert_eq!(image::open(&card).unwrap().to_rgb8().dimensions(), (300, 300));

    // --plan prints the plan (JSON too) and writes nothing.
    let planned = dir.path().join("never.png");
    let out = stripflow(&["thumbnail", s(&jpg), s(&planned), "--size", "100", "--plan", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json = String::from_utf8(out.stdout).unwrap();
    // 2000 wide to 100: 1/8 leaves 250, still at least 2x for the kernel.
    assert!(json.contains("\"shrink_on_load\":8"), "{json}");
    assert!(!planned.exists());

    // Over budget: refused before decoding, nothing written.
    let out = stripflow(&["convert", s(&jpg), s(&planned), "--max-memory", "64K"]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("budget"), "{err}");
    assert!(!planned.exists());
}

#[test]
fn extract_and_extend_flags_reach_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let png = png_file(dir.path(), "in.png", 80, 60, PixelFormat::RGB8);
    let out_path = dir.path().join("out.png");
    let out = stripflow(&[
        "convert", s(&png), s(&out_path), "--resize", "40x30", "--extract", "5,5,20,10", "--extend", "1,2,3,4",
        "--background", "ff000000",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let img = image::open(&out_path).unwrap();
    assert_eq!((img.width(), img.height()), (26, 14));
    let rgba = img.to_rgba8();
    assert_eq!(rgba.get_pixel(0, 0).0, [255, 0, 0, 0], "transparent red margin");
    assert_eq!(rgba.get_pixel(10, 5).0[3], 255, "opaque image");
    // --rotate takes negative turns.
    let out = stripflow(&["convert", s(&png), s(&out_path), "--rotate", "-90"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let img = image::open(&out_path).unwrap();
    assert_eq!((img.width(), img.height()), (60, 80));
}

#[test]
fn options_that_do_not_apply_fail_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let png = png_file(dir.path(), "in.png", 30, 20, PixelFormat::RGB8);
    for (out_name, flag, value, says) in [
        ("out.png", "--quality", "80", "--quality does not apply to PNG output"),
        ("out.jpg", "--compression", "9", "--compression does not apply to JPEG output"),
    ] {
        let out = stripflow(&["convert", s(&png), s(&dir.path().join(out_name)), flag, value]);
        assert!(!out.status.success());
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(says), "{err}");
    }
    let out = stripflow(&["convert", s(&png), s(&dir.path().join("out.gif"))]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success() && err.contains("GIF"), "{err}");
    assert_eq!(listing(dir.path()), vec!["in.png".to_string()]);
}

#[test]
fn fail_on_lets_a_truncated_jpeg_through_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let jpg = dir.path().join("cut.jpg");
    let mut bytes = Vec::new();
    JpegEncoder::default().encode(&mut Synthetic::new(256, 256, PixelFormat::RGB8, 2), &mut bytes).unwrap();
    bytes.truncate(bytes.len() * 2 / 3);
    std::fs::write(&jpg, &bytes).unwrap();
    let out_path = dir.path().join("out.png");
    let strict = stripflow(&["convert", s(&jpg), s(&out_path)]);
    assert!(!strict.status.success() && !out_path.exists(), "strict is the default");
    for level in ["truncated", "error"] {
        let out = stripflow(&["convert", s(&jpg), s(&out_path), "--fail-on", level]);
        assert!(!out.status.success(), "--fail-on {level} fails on a truncated file");
    }
    let lenient = stripflow(&["convert", s(&jpg), s(&out_path), "--fail-on", "none"]);
    assert!(lenient.status.success(), "{}", String::from_utf8_lossy(&lenient.stderr));
    let img = image::open(&out_path).unwrap();
    assert_eq!((img.width(), img.height()), (256, 256));
    let bad = stripflow(&["convert", s(&jpg), s(&out_path), "--fail-on", "sometimes"]);
    assert!(!bad.status.success());
}
