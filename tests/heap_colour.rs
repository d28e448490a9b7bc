//! dhat heap tests of colour management: the colour stage's account
//! (`ColourSpec::heap_bytes`: moxcms's tables at their build peak, the parsed profile, the
//! profile bytes and the row buffers) against the measured peak for matrix-shaper, gray and LUT
//! profiles at 8 and 16 bits; and whole jobs converting 16384-wide P3 PNGs and JPEGs, whose peak
//! must stay within the plan and flat in height.
//!
//! Each scenario runs in its own process (see `support/heap.rs`); profiles and fixtures are made
//! before the profiler starts.

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use moxcms::{ColorProfile, ToneReprCurve};
use stripflow::ops::colour::{ColourSpec, InputProfile};
use stripflow::pipeline::{drain, StageSpec};
use stripflow::pixel::{ImageInfo, PixelFormat};
use stripflow::prelude::*;
use stripflow::synth::Synthetic;
use support::heap::HeapTests;
use support::{fixtures, CountingSink};

const MIB: u64 = 1 << 20;

/// The profiles measured: built with moxcms (always), and ghostscript's when installed (LUT
/// and gray profiles among them).
fn profiles() -> Vec<(String, Vec<u8>, PixelFormat)> {
    let mut mixed = ColorProfile::new_display_p3();
    mixed.green_trc = Some(ToneReprCurve::Parametric(vec![2.2]));
    mixed.cicp = None;
    let mut linear_gray = ColorProfile::new_gray_with_gamma(1.0);
    linear_gray.description = None;
    let mut v = vec![
        ("p3".to_string(), ColorProfile::new_display_p3().encode().unwrap(), PixelFormat::RGB8),
        ("adobe".to_string(), ColorProfile::new_adobe_rgb().encode().unwrap(), PixelFormat::RGBA8),
        ("mixed-trc".to_string(), mixed.encode().unwrap(), PixelFormat::RGB8),
        ("gray-linear".to_string(), linear_gray.encode().unwrap(), PixelFormat::GRAY8),
    ];
    for (name, format) in [
        ("a98", PixelFormat::RGB8),
        ("default_rgb", PixelFormat::RGB8),
        ("rommrgb", PixelFormat::RGB8),
        ("esrgb", PixelFormat::RGB8),
        ("scrgb", PixelFormat::RGB8),
        ("ps_rgb", PixelFormat::RGB8),
        ("default_gray", PixelFormat::GRAY8),
        ("ps_gray", PixelFormat::GRAY8),
        ("default_cmyk", PixelFormat::RGBA8),
        ("ps_cmyk", PixelFormat::RGBA8),
    ] {
        if let Ok(bytes) = std::fs::read(format!("/usr/share/color/icc/ghostscript/{name}.icc")) {
            v.push((format!("gs-{name}"), bytes, format));
        }
    }
    // libvips' built-in CMYK profile (962 KB of LUTs), from a JPEG it writes (when installed).
    let dir = fixtures::cache_dir();
    let (src, cmyk) = (dir.join("vips-cmyk-src.png"), dir.join("vips-cmyk-profile.jpg"));
    let vips = |args: &[&str]| Command::new("vips").args(args).status().is_ok_and(|s| s.success());
    if cmyk.exists()
        || vips(&["black", src.to_str().unwrap(), "8", "8", "--bands", "3"])
            && vips(&[
                "icc_transform",
                src.to_str().unwrap(),
                cmyk.to_str().unwrap(),
                "cmyk",
                "--input-profile",
                "srgb",
            ])
    {
        let input = stripflow::io::Input::open(&cmyk).unwrap();
        if let Ok(Some(bytes)) = stripflow::codec::icc::read_icc_profile(&input) {
            v.push(("vips-cmyk".to_string(), bytes, PixelFormat::RGBA8));
        }
    }
    let mut all = Vec::new();
    for (name, bytes, format) in v {
        if format == PixelFormat::RGBA8 && name != "adobe" {
            all.push((format!("{name}-8"), bytes, format)); // CMYK: 8-bit only
            continue;
        }
        let wide = PixelFormat::new(format.color, stripflow::pixel::BitDepth::Sixteen);
        all.push((format!("{name}-8"), bytes.clone(), format));
        all.push((format!("{name}-16"), bytes, wide));
    }
    all
}

/// Parses the profile, builds the stage over a synthetic source and converts every row.
/// (The synthetic source is made in the setup, so its own tables are not measured.)
fn stage_job((bytes, format, synth): (Vec<u8>, PixelFormat, Synthetic)) {
    let bytes = bytes.clone(); // the profile bytes the stage keeps, allocated under the profiler
    let spec = ColourSpec::new(InputProfile::from_icc(bytes).unwrap(), format).unwrap();
    let mut stage = spec.build(Box::new(synth)).unwrap();
    drain(&mut *stage, 1, |_, _| Ok(())).unwrap();
}

/// The stage's account and whether it converts (an sRGB-equivalent profile adds no stage).
fn predicted(bytes: &[u8], format: PixelFormat) -> Option<(u64, String)> {
    let profile = InputProfile::from_icc(bytes.to_vec()).ok()?;
    let spec = ColourSpec::new(profile, format).ok()?;
    let info = ImageInfo { width: 2000, height: 64, format };
    // The drain's strip buffer of one row is the caller's, counted here too.
    Some((spec.heap_bytes(info) as u64 + info.row_bytes() as u64, spec.detail(info)))
}

/// Copies `from` to `to` with `icc` embedded (JPEG: an APP2 after SOI; PNG: an iCCP after IHDR).
fn with_profile(from: &Path, to: &Path, icc: &[u8]) {
    if to.exists() {
        return;
    }
    let data = std::fs::read(from).unwrap();
    let mut out = Vec::with_capacity(data.len() + icc.len() + 64);
    if data.starts_with(&[0xFF, 0xD8]) {
        out.extend_from_slice(&data[..2]);
        out.extend_from_slice(&[0xFF, 0xE2]);
        out.extend_from_slice(&((2 + 14 + icc.len()) as u16).to_be_bytes());
        out.extend_from_slice(b"ICC_PROFILE\0\x01\x01");
        out.extend_from_slice(icc);
        out.extend_from_slice(&data[2..]);
    } else {
        let ihdr_end = 8 + 8 + 13 + 4;
        out.extend_from_slice(&data[..ihdr_end]);
        let mut body = b"iCCPicc\0\0".to_vec();
        body.extend_from_slice(&miniz_oxide::deflate::compress_to_vec_zlib(icc, 6));
        out.extend_from_slice(&((body.len() - 4) as u32).to_be_bytes());
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
        out.extend_from_slice(&data[ihdr_end..]);
    }
    std::fs::write(to, out).unwrap();
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { 0xEDB8_8320 ^ (crc >> 1) } else { crc >> 1 };
        }
    }
    !crc
}

/// A 16384-wide P3 fixture `height` rows tall.
fn p3_fixture(jpeg: bool, height: u32) -> PathBuf {
    let plain = if jpeg {
        let spec = fixtures::JpegSpec {
            quality: 85,
            sampling: jpeg_encoder::SamplingFactor::R_4_2_0,
            progressive: false,
            restart_interval: 0,
            grayscale: false,
        };
        fixtures::jpeg(16384, height, spec, 1)
    } else {
        fixtures::png(16384, height, PixelFormat::RGB8, 1)
    };
    let to = plain.with_file_name(format!("p3-{}", plain.file_name().unwrap().to_string_lossy()));
    with_profile(&plain, &to, &ColorProfile::new_display_p3().encode().unwrap());
    to
}

/// Converts `path` at full size to the same format, to a counting sink; checks the plan has a
/// colour stage and returns nothing (the peak is the measurement).
fn full_size(path: PathBuf) {
    let p = Pipeline::open(&path).unwrap();
    let plan = p.plan().unwrap();
    assert!(plan.stages.iter().any(|s| s.name == "colour"), "{plan}");
    drop(plan); // a plan holds its transform: the run plans again
    p.write_to(&mut CountingSink(0)).unwrap();
}

fn planned(path: &Path) -> u64 {
    Pipeline::open(path).unwrap().plan().unwrap().heap_bytes as u64
}

fn main() {
    let mut t = HeapTests::new();

    for (name, bytes, format) in profiles() {
        let Some((predicted, detail)) = predicted(&bytes, format) else {
            println!("profile {name}: sRGB-equivalent or not convertible, no stage");
            continue;
        };
        let measured = t.measure(
            &format!("stage_{name}"),
            || (bytes.clone(), format, Synthetic::new(2000, 64, format, 3)),
            stage_job,
        );
        if let Some(m) = measured {
            let ratio = predicted as f64 / m as f64;
            t.check(
                &format!("stage account {name} ({detail})"),
                predicted >= m && ratio <= 1.15,
                &format!("predicted {predicted} / measured {m} = {ratio:.3}"),
            );
        }
    }

    for jpeg in [false, true] {
        let kind = if jpeg { "jpeg" } else { "png" };
        let short = t.measure(&format!("p3_{kind}_16384x512"), || p3_fixture(jpeg, 512), full_size);
        let tall = t.measure(&format!("p3_{kind}_16384x4096"), || p3_fixture(jpeg, 4096), full_size);
        if let Some(peak) = tall {
            let plan = planned(&p3_fixture(jpeg, 4096));
            t.check(
                &format!("16384x4096 P3 {kind} -> {kind}: within its plan"),
                peak <= plan,
                &format!("measured {peak} <= planned {plan}"),
            );
        }
        t.check_at_most(&format!("16384x4096 P3 {kind} -> {kind}"), tall, 16 * MIB);
        t.check_flat(&format!("P3 {kind} conversion flat in height (512 -> 4096 rows)"), short, tall, 64 * 1024);
    }
    t.finish();
}
