//! The streaming JPEG decoder against two oracles: libjpeg-turbo's `djpeg` (skipped with a note
//! when missing) and the jpeg-decoder crate. Public fixtures (jpegsuite, EXIF photos) and
//! generated files (jpeg-encoder via tests/support, cjpeg for what jpeg-encoder cannot write).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use stripflow::codec::FailOn;
use stripflow::codec::jpeg::{read_icc_profile, read_metadata, scaled_size, DecodeOptions, JpegColorSpace, JpegDecoder, Region};
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
    let rgb = read_metadata(&Input::open(path).unwrap()).unwrap().color_space == JpegColorSpace::Rgb;
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
                assert_eq!(read_metadata(&Input::open(&path).unwrap()).unwrap().bits_per_sample, 12);
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
        let meta = read_metadata(&Input::open(&path).unwrap()).unwrap();
        assert_eq!(meta.orientation, if n == 0 { None } else { Some(n) }, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Generated files.

use jpeg_encoder::SamplingFactor;
use stripflow::pixel::PixelFormat;
use stripflow::synth::Synthetic;

/// Writes the synthetic image as a binary PGM/PPM (input for cjpeg).
fn write_pnm(path: &Path, width: u32, height: u32, gray: bool, seed: u32) {
    let format = if gray { PixelFormat::GRAY8 } else { PixelFormat::RGB8 };
    let mut source = Synthetic::new(width, height, format, seed);
    let mut bytes = format!("{}\n{width} {height}\n255\n", if gray { "P5" } else { "P6" }).into_bytes();
    let mut row = vec![0u8; source.info().row_bytes()];
    for _ in 0..height {
        source.read_row(&mut row).unwrap();
        bytes.extend_from_slice(&row);
    }
    std::fs::write(path, bytes).unwrap();
}

/// A JPEG written by cjpeg with `args`, cached under target/; None if cjpeg is missing.
fn cjpeg(width: u32, height: u32, gray: bool, args: &[&str]) -> Option<PathBuf> {
    if !have_tool("cjpeg") {
        println!("SKIPPED: cjpeg not found");
        return None;
    }
    let name = format!("cjpeg-{width}x{height}-g{}-{}.jpg", gray as u8, args.join("").replace(['/', ' '], "_"));
    let path = fixtures::cache_dir().join(name);
    if !path.exists() {
        let pnm = path.with_extension(format!("{}.pnm", std::process::id()));
        write_pnm(&pnm, width, height, gray, 7);
        let temp = path.with_extension(format!("{}.tmp", std::process::id()));
        let status = Command::new("cjpeg").args(args).arg("-outfile").arg(&temp).arg(&pnm).status().unwrap();
        assert!(status.success(), "cjpeg {args:?}");
        std::fs::remove_file(&pnm).unwrap();
        std::fs::rename(&temp, &path).unwrap();
    }
    Some(path)
}

fn spec(sampling: SamplingFactor, quality: u8) -> JpegSpec {
    JpegSpec { sampling, quality, ..Default::default() }
}

fn jpeg_encoder_files() -> Vec<PathBuf> {
    let cases: Vec<(u32, u32, JpegSpec)> = vec![
        (16383, 17, JpegSpec::default()),
        (1, 4097, spec(SamplingFactor::F_1_1, 90)),
        (1, 1, JpegSpec::default()),
        (333, 251, spec(SamplingFactor::F_2_1, 5)),
        (333, 251, spec(SamplingFactor::F_1_2, 100)),
        (257, 129, spec(SamplingFactor::F_4_1, 50)),
        (190, 203, spec(SamplingFactor::F_4_2, 75)),
        (97, 301, spec(SamplingFactor::F_1_4, 60)),
        (123, 95, spec(SamplingFactor::F_2_4, 30)),
        (129, 67, JpegSpec { restart_interval: 3, ..spec(SamplingFactor::F_1_1, 20) }),
        (517, 301, JpegSpec { restart_interval: 1, ..JpegSpec::default() }),
        (301, 77, JpegSpec { progressive: true, ..spec(SamplingFactor::F_2_2, 75) }),
        (250, 250, JpegSpec { progressive: true, ..spec(SamplingFactor::F_2_1, 95) }),
        (250, 133, JpegSpec { progressive: true, restart_interval: 7, ..spec(SamplingFactor::F_1_1, 40) }),
        (211, 99, JpegSpec { grayscale: true, ..spec(SamplingFactor::F_1_1, 85) }),
        (211, 99, JpegSpec { grayscale: true, progressive: true, ..spec(SamplingFactor::F_1_1, 10) }),
    ];
    cases.into_iter().map(|(w, h, s)| fixtures::jpeg(w, h, s, 3)).collect()
}

fn cjpeg_files() -> Vec<PathBuf> {
    let cases: Vec<(u32, u32, bool, Vec<&str>)> = vec![
        // cjpeg's default progressive script: spectral selection and successive approximation.
        (16383, 17, false, vec!["-progressive"]),
        (1, 4097, false, vec!["-progressive", "-sample", "1x1"]),
        (301, 203, false, vec!["-progressive", "-sample", "2x2", "-quality", "5"]),
        (301, 203, false, vec!["-progressive", "-sample", "2x1", "-quality", "100"]),
        (301, 203, false, vec!["-progressive", "-sample", "1x2", "-restart", "1"]),
        (301, 203, false, vec!["-progressive", "-sample", "1x1", "-restart", "5B"]),
        (257, 131, false, vec!["-progressive", "-sample", "4x1", "-quality", "50"]),
        (257, 131, false, vec!["-progressive", "-sample", "4x2,1x1,1x1"]),
        (257, 131, false, vec!["-sample", "2x2,1x2,2x1", "-optimize"]),
        (257, 131, false, vec!["-sample", "1x1", "-restart", "2"]),
        (257, 131, true, vec!["-progressive", "-grayscale"]),
        (257, 131, true, vec!["-grayscale", "-quality", "5"]),
        (255, 255, false, vec!["-rgb", "-progressive"]),
        (255, 255, false, vec!["-rgb", "-quality", "97"]),
    ];
    cases.into_iter().filter_map(|(w, h, g, args)| cjpeg(w, h, g, &args)).collect()
}

#[test]
fn generated_files_match_djpeg() {
    for path in jpeg_encoder_files().iter().chain(cjpeg_files().iter()) {
        let ours = decode(path);
        let meta = read_metadata(&Input::open(path).unwrap()).unwrap();
        assert_eq!((ours.width, ours.height), (meta.width as usize, meta.height as usize));
        if let Some(reference) = djpeg(path, 1) {
            check_close(&path.display().to_string(), &ours, &reference);
        }
    }
}

#[test]
fn output_does_not_depend_on_strip_height() {
    let files = [
        fixtures::jpeg(333, 251, JpegSpec { progressive: true, ..JpegSpec::default() }, 4),
        fixtures::jpeg(333, 251, spec(SamplingFactor::F_1_2, 80), 4),
    ];
    for path in &files {
        for denominator in [1, 2, 8] {
            let options = DecodeOptions { scale_denominator: denominator, ..Default::default() };
            let whole = decode_with(path, options, u32::MAX).unwrap();
            for strip in [1, 7, 16] {
                assert_eq!(decode_with(path, options, strip).unwrap(), whole, "strip {strip} 1/{denominator}");
            }
        }
    }
}

#[test]
fn scaled_decode_is_close_to_djpeg_scale() {
    let mut files = jpeg_encoder_files();
    files.extend(cjpeg_files());
    files.push(fixture_dir("exif-orientation").join("Landscape_3.jpg"));
    files.push(fixture_dir("jpegsuite").join("progressive_huffman/32x32x8_ycbcr_2x2_2x1_1x2.jpg"));
    files.push(fixture_dir("jpegsuite").join("baseline/32x32x8_cmyk.jpg"));
    for path in &files {
        let meta = read_metadata(&Input::open(path).unwrap()).unwrap();
        for denominator in [2u8, 4, 8] {
            let ours = scaled(path, denominator);
            let (w, h) = scaled_size(meta.width, meta.height, denominator);
            assert_eq!((ours.width, ours.height), (w as usize, h as usize));
            if let Some(reference) = djpeg(path, denominator) {
                let p = psnr(&ours, &reference);
                if std::env::var_os("JPEG_TEST_VERBOSE").is_some() {
                    println!("{} 1/{denominator}: PSNR {p:.1} dB", path.display());
                }
                if std::env::var_os("JPEG_TEST_NOFAIL").is_none() {
                    assert!(p >= 35.0, "{} at 1/{denominator}: PSNR {p:.1} dB", path.display());
                }
            }
        }
    }
}

/// Crops an image in memory.
fn crop(image: &Image, r: Region) -> Image {
    let ch = image.channels;
    let mut data = Vec::new();
    for y in r.y as usize..(r.y + r.height) as usize {
        let row = &image.data[(y * image.width + r.x as usize) * ch..][..r.width as usize * ch];
        data.extend_from_slice(row);
    }
    Image { width: r.width as usize, height: r.height as usize, channels: ch, data }
}

#[test]
fn crop_on_load_equals_crop_of_full_decode() {
    let files = [
        fixtures::jpeg(517, 301, JpegSpec::default(), 5),
        fixtures::jpeg(517, 301, JpegSpec { progressive: true, ..spec(SamplingFactor::F_2_1, 80) }, 5),
        fixtures::jpeg(517, 301, spec(SamplingFactor::F_1_2, 80), 5),
        fixtures::jpeg(517, 301, JpegSpec { grayscale: true, ..JpegSpec::default() }, 5),
    ];
    for path in &files {
        for denominator in [1u8, 2, 8] {
            let full = scaled(path, denominator);
            let (w, h) = (full.width as u32, full.height as u32);
            let regions = [
                Region { x: 0, y: 0, width: w, height: h },
                Region { x: 0, y: 0, width: 1, height: 1 },
                Region { x: w / 3, y: h / 3, width: w / 3 + 1, height: h / 4 + 1 },
                Region { x: w - 5, y: h - 3, width: 5, height: 3 },
                Region { x: 17 % w, y: 33 % h, width: 1, height: h - 33 % h },
            ];
            for region in regions {
                let options = DecodeOptions { scale_denominator: denominator, region: Some(region), ..Default::default() };
                let got = decode_with(path, options, 5).unwrap();
                assert_eq!(got, crop(&full, region), "{} 1/{denominator} {region:?}", path.display());
            }
        }
        let bad = DecodeOptions { region: Some(Region { x: 500, y: 0, width: 100, height: 1 }), ..Default::default() };
        assert!(matches!(JpegDecoder::new(Input::open(path).unwrap(), bad), Err(Error::Parameter(_))));
    }
}

// ---------------------------------------------------------------------------------------------
// Truncated, corrupt and hostile input.

fn decode_bytes(bytes: Vec<u8>, options: DecodeOptions) -> Result<Image, Error> {
    let mut decoder = JpegDecoder::new(Input::from_bytes(bytes), options)?;
    let info = decoder.info();
    let mut data = Vec::new();
    drain(&mut decoder, 16, |s, _| {
        data.extend_from_slice(s);
        Ok(())
    })?;
    Ok(Image { width: info.width as usize, height: info.height as usize, channels: info.format.color.channels(), data })
}

#[test]
fn truncated_files_fail_by_default_and_render_when_allowed() {
    let lenient = DecodeOptions { fail_on: FailOn::None, ..Default::default() };
    for progressive in [false, true] {
        let path = fixtures::jpeg(320, 240, JpegSpec { progressive, ..JpegSpec::default() }, 6);
        let bytes = std::fs::read(&path).unwrap();
        let full = decode(&path);
        for cut in [bytes.len() / 3, bytes.len() * 2 / 3, bytes.len() - 2] {
            let part = bytes[..cut].to_vec();
            let err = decode_bytes(part.clone(), DecodeOptions::default()).unwrap_err();
            assert!(matches!(err, Error::Format { .. }), "{err}");
            let image = decode_bytes(part, lenient).unwrap();
            assert_eq!((image.width, image.height), (320, 240));
            if !progressive {
                // Baseline: rows fully before the cut are exact (the first MCU row at least).
                let n = 16 * 320 * 3;
                assert_eq!(&image.data[..n], &full.data[..n], "cut at {cut}");
            }
        }
        // Cut after every scan but the last: close to the full image.
        let image = decode_bytes(bytes[..bytes.len() - 2].to_vec(), lenient).unwrap();
        assert!(psnr(&image, &full) > 30.0);
    }
}

/// A minimal baseline header: SOI, DQT, SOF0 (w x h, one component), DHT (one code each), SOS.
fn tiny_header(width: u16, height: u16) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8];
    b.extend([0xFF, 0xDB, 0, 67, 0]);
    b.extend([1u8; 64]);
    b.extend([0xFF, 0xC0, 0, 11, 8]);
    b.extend(height.to_be_bytes());
    b.extend(width.to_be_bytes());
    b.extend([1, 1, 0x11, 0]);
    // DC table 0 and AC table 0: a single 1-bit code for symbol 0.
    b.extend([0xFF, 0xC4, 0, 20, 0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    b.extend([0xFF, 0xC4, 0, 20, 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    b.extend([0xFF, 0xDA, 0, 8, 1, 1, 0x00, 0, 63, 0]);
    b
}

#[test]
fn hostile_input_gives_typed_errors_fast() {
    // 65535 x 65535 with 10 bytes of data: no EOI, so it fails before allocating anything big.
    let mut huge = tiny_header(65535, 65535);
    huge.extend([0u8; 10]);
    let start = std::time::Instant::now();
    assert!(matches!(decode_bytes(huge.clone(), DecodeOptions::default()), Err(Error::Format { .. })));
    // With EOI, the scan runs dry in the first MCU row.
    huge.extend([0xFF, 0xD9]);
    assert!(matches!(decode_bytes(huge, DecodeOptions::default()), Err(Error::Format { .. })));
    assert!(start.elapsed().as_secs() < 5);

    // A tiny valid file decodes (all-zero bits: DC 0, EOB): mid-grey.
    let mut ok = tiny_header(8, 8);
    ok.extend([0x00, 0xFF, 0xD9]);
    assert_eq!(decode_bytes(ok, DecodeOptions::default()).unwrap().data, vec![128u8; 64]);

    // Bad Huffman code: the only codes are "0"; all ones cannot be decoded.
    let mut bad = tiny_header(64, 64);
    bad.extend([0xFF, 0x00, 0xFF, 0x00, 0xFF, 0xD9]);
    assert!(matches!(decode_bytes(bad, DecodeOptions::default()), Err(Error::Format { .. })));

    // Missing markers.
    assert!(decode_bytes(vec![], DecodeOptions::default()).is_err());
    assert!(decode_bytes(vec![0xFF, 0xD8, 0xFF, 0xD9], DecodeOptions::default()).is_err());
    let mut no_sos = tiny_header(8, 8);
    no_sos.truncate(no_sos.len() - 10);
    no_sos.extend([0xFF, 0xD9]);
    assert!(matches!(decode_bytes(no_sos, DecodeOptions::default()), Err(Error::Format { .. })));

    // Thousands of scans: refused with a limits error after the cap, not decoded.
    let mut many = tiny_header(8, 8);
    many.push(0x00);
    for _ in 0..5000 {
        many.extend([0xFF, 0xDA, 0, 8, 1, 1, 0x00, 0, 63, 0, 0x00]);
    }
    many.extend([0xFF, 0xD9]);
    assert!(matches!(decode_bytes(many, DecodeOptions::default()), Err(Error::Limits(_))));

    // Arithmetic coding, lossless, 12-bit: unsupported, named.
    for (marker, feature) in [(0xC9u8, "arithmetic"), (0xC3, "lossless")] {
        let mut f = tiny_header(8, 8);
        f[2 + 69 + 1] = marker;
        match decode_bytes(f, DecodeOptions::default()) {
            Err(Error::Unsupported { feature: got, .. }) => assert!(got.contains(feature), "{got}"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn corrupted_files_never_panic() {
    let sources = [
        fixtures::jpeg(97, 61, JpegSpec { progressive: true, restart_interval: 2, ..JpegSpec::default() }, 8),
        fixtures::jpeg(97, 61, spec(SamplingFactor::F_2_1, 60), 8),
        fixture_dir("jpegsuite").join("progressive_huffman/32x32x8_grayscale_successive.jpg"),
    ];
    let mut seed = 0x1234_5678u32;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    for path in &sources {
        let bytes = std::fs::read(path).unwrap();
        for i in 0..300 {
            let mut b = bytes.clone();
            for _ in 0..1 + i % 4 {
                let at = next() as usize % b.len();
                b[at] = next() as u8;
            }
            if i % 5 == 0 {
                let len = next() as usize % b.len();
                b.truncate(len);
            }
            for fail_on in [FailOn::Error, FailOn::Truncated, FailOn::None] {
                // Ok or Err are both fine; a panic or hang is not.
                let _ = decode_bytes(b.clone(), DecodeOptions { fail_on, ..Default::default() });
                let _ = read_metadata(&Input::from_bytes(b.clone()));
            }
        }
    }
}

#[test]
fn motion_jpeg_without_huffman_tables_uses_the_standard_ones() {
    // cjpeg without -optimize writes the T.81 K.3 tables: dropping its DHT segments changes nothing.
    let Some(path) = cjpeg(120, 80, false, &["-sample", "2x2", "-quality", "70"]) else { return };
    let bytes = std::fs::read(&path).unwrap();
    let mut stripped = bytes[..2].to_vec();
    let mut pos = 2;
    loop {
        let marker = bytes[pos + 1];
        if marker == 0xDA {
            stripped.extend_from_slice(&bytes[pos..]);
            break;
        }
        let len = u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]) as usize;
        if marker != 0xC4 {
            stripped.extend_from_slice(&bytes[pos..pos + 2 + len]);
        }
        pos += 2 + len;
    }
    assert!(stripped.len() < bytes.len());
    assert_eq!(decode_bytes(stripped, DecodeOptions::default()).unwrap(), decode(&path));
}

// ---------------------------------------------------------------------------------------------
// Metadata.

#[test]
fn metadata_reports_headers_and_reassembles_icc_chunks() {
    let path = fixtures::jpeg(40, 30, JpegSpec { restart_interval: 4, ..JpegSpec::default() }, 9);
    let bytes = std::fs::read(&path).unwrap();
    let meta = read_metadata(&Input::from_bytes(bytes.clone())).unwrap();
    assert_eq!((meta.width, meta.height, meta.components), (40, 30, 3));
    assert_eq!(meta.sampling, vec![(2, 2), (1, 1), (1, 1)]);
    assert!(!meta.progressive);
    assert_eq!(meta.restart_interval, 4);
    assert_eq!(meta.bits_per_sample, 8);
    assert_eq!(meta.color_space, JpegColorSpace::YCbCr);

    // Insert a 3-chunk ICC profile, chunks out of order, after SOI.
    let profile: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
    let chunks: Vec<&[u8]> = profile.chunks(1000).collect();
    let mut with_icc = bytes[..2].to_vec();
    for seq in [2usize, 1, 3] {
        let body = chunks[seq - 1];
        with_icc.extend([0xFF, 0xE2]);
        with_icc.extend(((2 + 14 + body.len()) as u16).to_be_bytes());
        with_icc.extend(b"ICC_PROFILE\0");
        with_icc.extend([seq as u8, 3]);
        with_icc.extend(body);
    }
    with_icc.extend_from_slice(&bytes[2..]);
    let meta = read_metadata(&Input::from_bytes(with_icc.clone())).unwrap();
    assert_eq!(meta.icc_profile_len, Some(3000));
    assert_eq!(read_icc_profile(&Input::from_bytes(with_icc.clone())).unwrap().as_deref(), Some(&profile[..]));
    assert_eq!(stripflow::codec::icc::read_icc_profile(&Input::from_bytes(with_icc.clone())).unwrap().as_deref(), Some(&profile[..]));
    assert_eq!(stripflow::codec::icc::icc_profile_len(&Input::from_bytes(with_icc.clone())).unwrap(), Some(3000));
    // A chunk missing, or one repeated: no profile.
    let second_chunk_at = 2 + 4 + 14 + 1000;
    let mut missing = with_icc[..2].to_vec();
    missing.extend_from_slice(&with_icc[second_chunk_at..]);
    assert_eq!(read_metadata(&Input::from_bytes(missing.clone())).unwrap().icc_profile_len, None);
    assert_eq!(read_icc_profile(&Input::from_bytes(missing.clone())).unwrap(), None);
    let mut repeated = with_icc[..second_chunk_at].to_vec();
    repeated.extend_from_slice(&with_icc[2..]);
    assert_eq!(read_metadata(&Input::from_bytes(repeated.clone())).unwrap().icc_profile_len, None);
    // The pixels do not change.
    assert_eq!(decode_bytes(with_icc, DecodeOptions::default()).unwrap(), decode(&path));

    let cmyk = read_metadata(&Input::open(fixture_dir("jpegsuite").join("baseline/32x32x8_cmyk.jpg")).unwrap()).unwrap();
    assert_eq!((cmyk.color_space, cmyk.adobe_transform, cmyk.components), (JpegColorSpace::Cmyk, Some(0), 4));
    let prog = read_metadata(&Input::open(fixture_dir("jpegsuite").join("progressive_huffman/32x32x8_grayscale.jpg")).unwrap()).unwrap();
    assert!(prog.progressive);
    assert_eq!(prog.color_space, JpegColorSpace::Gray);
    let dnl = read_metadata(&Input::open(fixture_dir("jpegsuite").join("baseline/32x32x8_dnl.jpg")).unwrap()).unwrap();
    assert_eq!(dnl.height, 32);
    let photo = read_metadata(&Input::open(fixture_dir("exif-orientation").join("Portrait_6.jpg")).unwrap()).unwrap();
    assert!(photo.jfif);
    assert_eq!(photo.orientation, Some(6));
}

#[test]
fn crop_on_load_stops_after_the_last_needed_mcu_row() {
    // Cut the last scan's data in half and close the file with EOI: a full decode runs dry (an
    // error), a region in the top rows never reaches the missing data.
    for progressive in [false, true] {
        let path = fixtures::jpeg(320, 480, JpegSpec { progressive, ..JpegSpec::default() }, 10);
        let bytes = std::fs::read(&path).unwrap();
        let last_sos = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]).unwrap();
        let cut = last_sos + (bytes.len() - last_sos) / 2;
        let mut damaged = bytes[..cut].to_vec();
        damaged.extend([0xFF, 0xD9]);
        let err = decode_bytes(damaged.clone(), DecodeOptions::default()).unwrap_err();
        assert!(matches!(err, Error::Format { .. }), "{err}");
        let region = Region { x: 40, y: 8, width: 200, height: 40 };
        let options = DecodeOptions { region: Some(region), ..Default::default() };
        let top = decode_bytes(damaged, options).unwrap();
        assert_eq!(top, crop(&decode(&path), region), "progressive {progressive}");
    }
}
