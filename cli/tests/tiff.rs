//! `stripflow convert` to TIFF: extensions `.tif` and `.tiff`, `--tiff-compression`,
//! `--bit-depth` and `--compression` (the deflate level), options that do not apply, TIFF output
//! read back as input (see `tiff_input.rs`), and standard output: a pipe takes only uncompressed TIFF (compressed is a
//! clear error and nothing is written), a redirected file takes any.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use stripflow::codec::png::PngEncoder;
use stripflow::synth::Synthetic;
use stripflow::{PixelFormat, RowSource};
use tiff::decoder::{Decoder, DecodingResult};
use tiff::tags::Tag;

fn stripflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stripflow")).args(args).output().expect("run stripflow")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const W: u32 = 300;
const H: u32 = 200;

fn png_file(dir: &Path, format: PixelFormat) -> PathBuf {
    let path = dir.join("in.png");
    let mut bytes = Vec::new();
    PngEncoder::default().encode(&mut Synthetic::new(W, H, format, 4), &mut bytes).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The input's samples as numbers.
fn samples(format: PixelFormat) -> Vec<u16> {
    let mut bytes = vec![0u8; format.row_bytes(W) * H as usize];
    Synthetic::new(W, H, format, 4).read_rows(&mut bytes).unwrap();
    if format.depth.bytes() == 1 {
        bytes.iter().map(|&b| b as u16).collect()
    } else {
        bytes.chunks_exact(2).map(|s| u16::from_ne_bytes([s[0], s[1]])).collect()
    }
}

/// Samples, compression tag and bits per sample of a TIFF, decoded by the tiff crate.
fn decode(bytes: &[u8]) -> (Vec<u16>, u32, u16) {
    let mut d = Decoder::new(Cursor::new(bytes)).unwrap();
    let compression = d.get_tag_u32(Tag::Compression).unwrap();
    let bits = d.get_tag_u16_vec(Tag::BitsPerSample).unwrap()[0];
    let samples = match d.read_image().unwrap() {
        DecodingResult::U8(v) => v.into_iter().map(|b| b as u16).collect(),
        DecodingResult::U16(v) => v,
        _ => panic!("unexpected samples"),
    };
    (samples, compression, bits)
}

#[test]
fn convert_png_to_lzw_16_bit_tif() {
    let dir = tempfile::tempdir().unwrap();
    let png = png_file(dir.path(), PixelFormat::RGBA8);
    let tif = dir.path().join("out.tif");
    let out = stripflow(&["convert", s(&png), s(&tif), "--tiff-compression", "lzw", "--bit-depth", "16"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (got, compression, bits) = decode(&std::fs::read(&tif).unwrap());
    assert_eq!((compression, bits), (5, 16));
    let want: Vec<u16> = samples(PixelFormat::RGBA8).iter().map(|&v| v * 257).collect();
    assert!(got == want, "8-bit samples scaled by 257");
}

#[test]
fn tiff_extension_defaults_to_lzw_and_a_level_selects_deflate() {
    let dir = tempfile::tempdir().unwrap();
    let png = png_file(dir.path(), PixelFormat::RGB16);
    let tiff_path = dir.path().join("out.TIFF");
    let out = stripflow(&["convert", s(&png), s(&tiff_path)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let default = std::fs::read(&tiff_path).unwrap();
    let (got, compression, bits) = decode(&default);
    assert_eq!((compression, bits), (5, 16));
    assert!(got == samples(PixelFormat::RGB16));

    let out = stripflow(&["convert", s(&png), s(&tiff_path), "--compression", "0", "--bit-depth", "8"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (got, compression, bits) = decode(&std::fs::read(&tiff_path).unwrap());
    assert_eq!((compression, bits), (8, 8));
    let want: Vec<u16> = samples(PixelFormat::RGB16).iter().map(|&v| (v as f64 / 257.0).round() as u16).collect();
    assert!(got == want, "16-bit samples rounded to 8");
}

#[test]
fn options_that_do_not_apply_are_refused_and_no_file_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let png = png_file(dir.path(), PixelFormat::RGB8);
    let tif = dir.path().join("out.tif");
    for (args, message) in [
        (&["--quality", "80"][..], "--quality does not apply to TIFF output"),
        (&["--tiff-compression", "lzw", "--compression", "9"], "--tiff-compression deflate"),
        (&["--bit-depth", "12"], "bit-depth 12"),
        (&["--tiff-compression", "jpeg"], "not none, lzw or deflate"),
    ] {
        let mut all = vec!["convert", s(&png), s(&tif)];
        all.extend_from_slice(args);
        let out = stripflow(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(message), "{args:?}: {stderr}");
        assert!(!tif.exists());
    }
}

#[test]
fn tiff_output_reads_back_as_input() {
    let dir = tempfile::tempdir().unwrap();
    let png = png_file(dir.path(), PixelFormat::RGB8);
    let tif = dir.path().join("in.tif");
    assert!(stripflow(&["convert", s(&png), s(&tif)]).status.success());
    let back = dir.path().join("back.png");
    let out = stripflow(&["convert", s(&tif), s(&back)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pixels = image::open(&back).unwrap().to_rgb8().into_raw();
    assert!(pixels.iter().map(|&b| b as u16).eq(samples(PixelFormat::RGB8)));
}

#[test]
fn standard_output_pipe_takes_uncompressed_tiff_only() {
    let dir = tempfile::tempdir().unwrap();
    let png = png_file(dir.path(), PixelFormat::GRAY8);
    let out = stripflow(&["convert", s(&png), "-", "--format", "tiff", "--tiff-compression", "none"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (got, compression, _) = decode(&out.stdout);
    assert_eq!(compression, 1);
    assert!(got == samples(PixelFormat::GRAY8));

    for args in [&["--format", "tiff"][..], &["--format", "tif", "--tiff-compression", "lzw"]] {
        let mut all = vec!["convert", s(&png), "-"];
        all.extend_from_slice(args);
        let out = stripflow(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains("needs an output it can seek in") && stderr.contains("--tiff-compression none"), "{stderr}");
        assert!(out.stdout.is_empty(), "nothing written to the pipe");
    }
}

#[test]
fn standard_output_redirected_to_a_file_takes_compressed_tiff() {
    let dir = tempfile::tempdir().unwrap();
    let png = png_file(dir.path(), PixelFormat::RGB8);
    let target = dir.path().join("redirected.tif");
    let status = Command::new(env!("CARGO_BIN_EXE_stripflow"))
        .args(["convert", s(&png), "-", "--format", "tiff", "--tiff-compression", "lzw"])
        .stdout(Stdio::from(std::fs::File::create(&target).unwrap()))
        .status()
        .unwrap();
    assert!(status.success());
    let (got, compression, _) = decode(&std::fs::read(&target).unwrap());
    assert_eq!(compression, 5);
    assert!(got == samples(PixelFormat::RGB8));

    // Opened for appending, the file cannot be patched in place: refused like a pipe.
    let appended = dir.path().join("appended.tif");
    let file = std::fs::OpenOptions::new().create(true).append(true).open(&appended).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stripflow"))
        .args(["convert", s(&png), "-", "--format", "tiff"])
        .stdout(Stdio::from(file))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(std::fs::metadata(&appended).unwrap().len(), 0);
}
