//! The streaming JPEG decoder against two oracles: libjpeg-turbo's `djpeg` (skipped with a note
//! when missing) and the jpeg-decoder crate. Public fixtures (jpegsuite, EXIF photos) and
//! generated files (jpeg-encoder via tests/support, cjpeg for what jpeg-encoder cannot write).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use stripflow::codec::jpeg::{read_metadata, scaled_size, DecodeOptions, JpegColorSpace, JpegDecoder, Region};
use stripflow::io::Input;
use stripflow::pipeline::drain;
use stripflow::{Error, RowSource};
use support::fixtures::{self, JpegSpec};

/// Decoded pixels: width, height, channels, samples.
#[derive(Debug, Clone, PartialEq)]
struct Image {
    width: usize,
    height: usize,
    channels: usize,
    data: Vec<u8>,
}

fn decode_with(path: &Path, options: DecodeOptions, strip: u32) -> Result<Image, Error> {
    let mut decoder = JpegDecoder::new(Input::open(path)?, options)?;
    let info = decoder.info();
    let mut data = Vec::with_capacity(info.row_bytes() * info.height as usize);
    drain(&mut decoder, strip, |s, _| {
        data.extend_from_slice(s);
        Ok(())
    })?;
    Ok(Image {
        width: info.width as usize,
        height: info.height as usize,
        channels: info.format.color.channels(),
        data,
    })
}

fn decode(path: &Path) -> Image {
    decode_with(path, DecodeOptions::default(), 16).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn scaled(path: &Path, denominator: u8) -> Image {
    let options = DecodeOptions { scale_denominator: denominator, ..Default::default() };
    decode_with(path, options, 16).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn have_tool(name: &str) -> bool {
    Command::new(name).arg("-version").output().is_ok()
}

/// Parses a binary PGM or PPM.
fn parse_pnm(bytes: &[u8]) -> Image {
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes[i] == b'#' {
            while bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..i]).to_string());
    }
    let channels = if fields[0] == "P5" { 1 } else { 3 };
    let (width, height): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let data = bytes[i + 1..i + 1 + width * height * channels].to_vec();
    Image { width, height, channels, data }
}

/// djpeg's output, or None (with a printed note) if djpeg is not installed.
fn djpeg(path: &Path, denominator: u8) -> Option<Image> {
    if !have_tool("djpeg") {
        println!("SKIPPED: djpeg not found");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.pnm");
    let status = Command::new("djpeg")
        .args(["-scale", &format!("1/{denominator}"), "-outfile"])
        .arg(&out)
        .arg(path)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    if !status.success() {
        // libjpeg-turbo does not implement DNL, for one.
        println!("note: djpeg cannot decode {}; compared with jpeg-decoder only", path.display());
        return None;
    }
    Some(parse_pnm(&std::fs::read(&out).unwrap()))
}

/// jpeg-decoder's output, converted to gray or RGB as stripflow emits it.
fn jpeg_decoder(path: &Path) -> Option<Image> {
    let mut d = jpeg_decoder::Decoder::new(std::fs::File::open(path).unwrap());
    let pixels = match d.decode() {
        Ok(p) => p,
        Err(e) => {
            println!("note: jpeg-decoder cannot decode {}: {e}", path.display());
            return None;
        }
    };
    let info = d.info().unwrap();
    let (width, height) = (info.width as usize, info.height as usize);
    Some(match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => Image { width, height, channels: 1, data: pixels },
        jpeg_decoder::PixelFormat::RGB24 => Image { width, height, channels: 3, data: pixels },
        jpeg_decoder::PixelFormat::CMYK32 => {
            // jpeg-decoder un-inverts Adobe CMYK; djpeg's RGB is C * K / 255 on the stored values.
            let mut data = Vec::with_capacity(width * height * 3);
            for px in pixels.chunks_exact(4) {
                let k = 255 - px[3] as u32;
                for &c in &px[..3] {
                    let c = 255 - c as u32;
                    data.push(((c * k * 2 + 255) / 510) as u8);
                }
            }
            Image { width, height, channels: 3, data }
        }
        other => panic!("unexpected jpeg-decoder format {other:?}"),
    })
}

/// (max abs diff, mean abs diff) of two images of the same shape.
fn diff(a: &Image, b: &Image) -> (u8, f64) {
    assert_eq!((a.width, a.height, a.channels), (b.width, b.height, b.channels), "shape");
    let mut max = 0u8;
    let mut sum = 0u64;
    for (&x, &y) in a.data.iter().zip(&b.data) {
        let d = x.abs_diff(y);
        max = max.max(d);
        sum += d as u64;
    }
    (max, sum as f64 / a.data.len().max(1) as f64)
}

fn psnr(a: &Image, b: &Image) -> f64 {
    assert_eq!((a.width, a.height, a.channels), (b.width, b.height, b.channels), "shape");
    let mse: f64 = a.data.iter().zip(&b.data).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum::<f64>()
        / a.data.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

fn check_close(label: &str, ours: &Image, oracle: &Image) {
    let (max, mean) = diff(ours, oracle);
    if std::env::var_os("JPEG_TEST_VERBOSE").is_some() {
        println!("{label}: max {max} mean {mean:.3}");
    }
    if std::env::var_os("JPEG_TEST_NOFAIL").is_some() {
        return;
    }
    assert!(max <= 2 && mean <= 0.3, "{label}: max diff {max}, mean {mean:.3}");
}

fn fixture_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

fn jpegs_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    files.sort();
    files
}

fn check_file_against_oracles(path: &Path, check_jpeg_decoder: bool) -> usize {
    let label = path.display().to_string();
    let ours = decode(path);
    let mut oracles = 0;
    let from_djpeg = djpeg(path, 1);
    if let Some(reference) = &from_djpeg {
        check_close(&format!("{label} vs djpeg"), &ours, reference);
        oracles += 1;
    }
    let rgb = read_metadata(&std::fs::read(path).unwrap()).unwrap().color_space == JpegColorSpace::Rgb;
    if check_jpeg_decoder && rgb {
        println!("note: {label}: jpeg-decoder decodes Adobe-RGB files as YCbCr; not compared");
    } else if check_jpeg_decoder {
        if let Some(reference) = jpeg_decoder(path) {
            // jpeg-decoder's IDCT is not libjpeg's: allow what djpeg itself differs from it by.
            let slack = from_djpeg.as_ref().map_or(0, |d| diff(d, &reference).0);
            let (max, mean) = diff(&ours, &reference);
            if std::env::var_os("JPEG_TEST_VERBOSE").is_some() {
                println!("{label} vs jpeg-decoder: max {max} mean {mean:.3} (djpeg vs jpeg-decoder: max {slack})");
            }
            assert!(max <= slack.max(2) && mean <= 0.3, "{label} vs jpeg-decoder: max {max}, mean {mean:.3}");
            oracles += 1;
        }
    }
    // Strip height must not matter.
    for strip in [1, 7] {
        let other = decode_with(path, DecodeOptions::default(), strip).unwrap();
        assert_eq!(other, ours, "{label}: strip height {strip} changes the output");
    }
    oracles
}

#[test]
fn jpegsuite_matches_djpeg_and_jpeg_decoder() {
    let mut decoded = 0;
    for folder in ["baseline", "extended_huffman", "progressive_huffman"] {
        for path in jpegs_in(&fixture_dir("jpegsuite").join(folder)) {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if name.contains("x12_") {
                let err = JpegDecoder::new(Input::open(&path).unwrap(), DecodeOptions::default()).unwrap_err();
                assert!(matches!(err, Error::Unsupported { .. }), "{name}: {err}");
                assert_eq!(read_metadata(&std::fs::read(&path).unwrap()).unwrap().bits_per_sample, 12);
                continue;
            }
            if check_file_against_oracles(&path, true) == 0 {
                // Neither oracle implements DNL: the same picture without DNL must decode the same.
                assert!(name.ends_with("_dnl.jpg"), "{name}: no oracle could decode it");
                let plain = path.with_file_name(name.replace("_dnl", "_grayscale"));
                let (a, b) = (decode(&path), decode(&plain));
                check_close(&format!("{name} vs {}", plain.display()), &a, &b);
            }
            decoded += 1;
        }
    }
    assert!(decoded > 100, "only {decoded} files decoded");
}

#[test]
fn exif_photos_match_and_report_orientation() {
    let files = jpegs_in(&fixture_dir("exif-orientation"));
    assert_eq!(files.len(), 18);
    for path in files {
        assert!(check_file_against_oracles(&path, true) > 0);
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let n: u8 = name.rsplit('_').next().unwrap().parse().unwrap();
        let meta = read_metadata(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(meta.orientation, if n == 0 { None } else { Some(n) }, "{name}");
    }
}
