//! Colour management through the planner: embedded profiles converted to sRGB by default, against
//! libvips (`vipsthumbnail --export-profile srgb`, `vips icc_transform`; skipped with a note when
//! vips is not installed) and against vips-free oracles (a round trip through a P3 profile, PNG
//! `gAMA` by its formula); `keep_icc_profile`; the damaged-profile policy.
//!
//! Images are generated at test time (stripflow's synthetic photo, converted to P3 by vips or by
//! moxcms) under the target folder.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use moxcms::{ColorProfile, Layout, TransformOptions};
use stripflow::codec::FailOn;
use stripflow::pipeline::drain;
use stripflow::prelude::*;
use stripflow::synth::Synthetic;

fn dir() -> PathBuf {
    let d = support::fixtures::cache_dir().join("colour");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn vips_missing(tool: &str) -> bool {
    let missing = Command::new(tool).arg("--version").output().map_or(true, |o| !o.status.success());
    if missing {
        eprintln!("note: {tool} not found, skipping the libvips comparison");
    }
    missing
}

fn run(program: &str, args: &[&str]) {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The synthetic photo as 8-bit RGB rows.
fn synthetic_rgb(width: u32, height: u32) -> Vec<u8> {
    let mut s = Synthetic::new(width, height, PixelFormat::RGB8, 7);
    read_all(&mut s)
}

fn read_all(source: &mut dyn RowSource) -> Vec<u8> {
    let mut out = Vec::new();
    drain(source, 16, |s, _| {
        out.extend_from_slice(s);
        Ok(())
    })
    .unwrap();
    out
}

/// Writes an 8-bit RGB (or gray) PNG, with optional `gAMA`, `sRGB` and `iCCP`.
fn write_png(
    path: &Path,
    width: u32,
    height: u32,
    gray: bool,
    pixels: &[u8],
    gama: Option<f32>,
    srgb: bool,
    icc: Option<Vec<u8>>,
) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut info = png::Info::with_size(width, height);
    info.color_type = if gray { png::ColorType::Grayscale } else { png::ColorType::Rgb };
    info.bit_depth = png::BitDepth::Eight;
    info.source_gamma = gama.map(png::ScaledFloat::new);
    info.srgb = srgb.then_some(png::SrgbRenderingIntent::Perceptual);
    info.icc_profile = icc.map(Into::into);
    let encoder = png::Encoder::with_info(file, info).unwrap();
    let mut w = encoder.write_header().unwrap();
    w.write_image_data(pixels).unwrap();
}

/// Writes an RGB JPEG (quality 95, 4:4:4) carrying `icc`.
fn write_jpeg(path: &Path, width: u32, height: u32, pixels: &[u8], icc: Option<&[u8]>) {
    let mut e = jpeg_encoder::Encoder::new_file(path, 95).unwrap();
    e.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_4_4);
    if let Some(icc) = icc {
        e.add_icc_profile(icc).unwrap();
    }
    e.encode(pixels, width as u16, height as u16, jpeg_encoder::ColorType::Rgb).unwrap();
}

/// Mean absolute difference per channel (8-bit samples, interleaved `channels`).
fn mad(a: &[u8], b: &[u8], channels: usize) -> Vec<f64> {
    assert_eq!(a.len(), b.len());
    (0..channels)
        .map(|c| {
            let d: u64 = a.iter().zip(b).skip(c).step_by(channels).map(|(&x, &y)| x.abs_diff(y) as u64).sum();
            d as f64 / (a.len() / channels) as f64
        })
        .collect()
}

fn decode_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let img = image::open(path).unwrap().to_rgb8();
    (img.width(), img.height(), img.into_raw())
}

/// A 256-box thumbnail of `input` through stripflow, as rows (and its plan).
fn thumbnail(input: &Path, keep: bool) -> (Plan, Vec<u8>) {
    let mut p = Pipeline::open(input).unwrap().resize(256, 256).fit(Fit::Inside);
    if keep {
        p = p.keep_icc_profile();
    }
    let (plan, mut rows) = p.into_rows().unwrap();
    let pixels = read_all(&mut *rows);
    (plan, pixels)
}

#[test]
fn p3_jpeg_thumbnail_matches_vipsthumbnail() {
    if vips_missing("vipsthumbnail") {
        return;
    }
    let d = dir();
    let src = d.join("photo-srgb.png");
    write_png(&src, 1200, 900, false, &synthetic_rgb(1200, 900), None, false, None);
    let p3 = d.join("photo-p3.jpg");
    run(
        "vips",
        &["icc_transform", src.to_str().unwrap(), &format!("{}[Q=95]", p3.display()), "p3", "--input-profile", "srgb"],
    );
    let reference = d.join("photo-p3-vipsthumbnail.png");
    run(
        "vipsthumbnail",
        &[p3.to_str().unwrap(), "-s", "256", "--export-profile", "srgb", "-o", reference.to_str().unwrap()],
    );
    let (w, h, expected) = decode_png(&reference);

    let (plan, converted) = thumbnail(&p3, false);
    assert_eq!((plan.output.width, plan.output.height), (w, h));
    assert!(plan.stages.iter().any(|s| s.name == "colour"), "{plan}");
    let (kept_plan, kept) = thumbnail(&p3, true);
    assert!(!kept_plan.stages.iter().any(|s| s.name == "colour"));
    assert_eq!(kept_plan.icc_profile.as_deref().map(Vec::len), plan.icc_profile.as_deref().map(Vec::len));

    let ok = mad(&converted, &expected, 3);
    let off = mad(&kept, &expected, 3);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!("P3 JPEG 1200x900 -> 256: mean abs difference to vipsthumbnail, converted {ok:.3?} (mean {:.3}), profile ignored {off:.3?} (mean {:.3})", mean(&ok), mean(&off));
    assert!(ok.iter().all(|&m| m < 1.0), "converted thumbnail is off vipsthumbnail's: {ok:?}");
    assert!(mean(&off) > 4.0 * mean(&ok), "ignoring the profile should be visibly off: {off:?} vs {ok:?}");
}

#[test]
fn p3_png_16_bit_matches_vips_icc_transform() {
    if vips_missing("vips") {
        return;
    }
    let d = dir();
    let src = d.join("small-srgb.png");
    write_png(&src, 300, 200, false, &synthetic_rgb(300, 200), None, false, None);
    let p3 = d.join("small-p3-16.png");
    run(
        "vips",
        &[
            "icc_transform",
            src.to_str().unwrap(),
            p3.to_str().unwrap(),
            "p3",
            "--input-profile",
            "srgb",
            "--depth",
            "16",
        ],
    );
    let reference = d.join("small-p3-16-to-srgb.png");
    run(
        "vips",
        &["icc_transform", p3.to_str().unwrap(), reference.to_str().unwrap(), "srgb", "--embedded", "--depth", "16"],
    );
    let expected = image::open(&reference).unwrap().to_rgb16().into_raw();

    let (plan, mut rows) = Pipeline::open(&p3).unwrap().into_rows().unwrap();
    assert_eq!(plan.output.format, PixelFormat::RGB16);
    assert!(plan.stages.iter().any(|s| s.name == "colour"), "{plan}");
    let got: Vec<u16> = read_all(&mut *rows).chunks_exact(2).map(|b| u16::from_ne_bytes([b[0], b[1]])).collect();
    let diff: Vec<u64> = got.iter().zip(&expected).map(|(&a, &b)| a.abs_diff(b) as u64).collect();
    let mean = diff.iter().sum::<u64>() as f64 / diff.len() as f64;
    let max = diff.iter().max().unwrap();
    println!("16-bit P3 PNG -> sRGB against vips icc_transform (lcms2): mean {mean:.1}/65535, max {max}/65535");
    // lcms2 and moxcms interpolate differently; within a quarter of an 8-bit level on average.
    assert!(mean < 64.0, "mean 16-bit difference {mean}");
}

/// moxcms's own sRGB -> P3 transform, for test images without vips.
fn srgb_to_p3(pixels: &[u8]) -> Vec<u8> {
    let t = ColorProfile::new_srgb()
        .create_transform_8bit(Layout::Rgb, &ColorProfile::new_display_p3(), Layout::Rgb, TransformOptions::default())
        .unwrap();
    let mut out = vec![0; pixels.len()];
    t.transform(pixels, &mut out).unwrap();
    out
}

#[test]
fn p3_round_trip_without_vips() {
    let (w, h) = (640, 480);
    let srgb = synthetic_rgb(w, h);
    let p3_bytes = ColorProfile::new_display_p3().encode().unwrap();
    let d = dir();
    for (name, is_png) in [("roundtrip-p3.png", true), ("roundtrip-p3.jpg", false)] {
        let path = d.join(name);
        let p3 = srgb_to_p3(&srgb);
        if is_png {
            write_png(&path, w, h, false, &p3, None, false, Some(p3_bytes.clone()));
        } else {
            write_jpeg(&path, w, h, &p3, Some(&p3_bytes));
        }
        let (plan, mut rows) = Pipeline::open(&path).unwrap().into_rows().unwrap();
        assert_eq!(plan.icc_profile.as_deref(), Some(&p3_bytes));
        let back = read_all(&mut *rows);
        let (plan_kept, mut rows) = Pipeline::open(&path).unwrap().keep_icc_profile().into_rows().unwrap();
        assert!(plan_kept.colour.as_deref().unwrap().contains("kept"), "{plan_kept}");
        let kept = read_all(&mut *rows);
        let ok = mad(&back, &srgb, 3);
        let off = mad(&kept, &srgb, 3);
        // JPEG's own loss, measured on the sRGB original encoded the same way without a profile.
        let loss = if is_png {
            vec![0.0; 3]
        } else {
            let plain = d.join("roundtrip-srgb.jpg");
            write_jpeg(&plain, w, h, &srgb, None);
            let (_, mut rows) = Pipeline::open(&plain).unwrap().into_rows().unwrap();
            mad(&read_all(&mut *rows), &srgb, 3)
        };
        println!("{name}: sRGB -> P3 -> stripflow vs the sRGB original: {ok:.3?} (the format's own loss {loss:.3?}); P3 numbers kept: {off:.3?}");
        assert!(ok.iter().zip(&loss).all(|(&m, &l)| m < l + 0.6), "{ok:?} vs loss {loss:?}");
        // Ignoring the profile is more than 3 levels further off on average.
        assert!(off.iter().sum::<f64>() > ok.iter().sum::<f64>() + 9.0, "{off:?} vs {ok:?}");
    }
}

/// sRGB's encoding of linear light `l` in 0..=1, as 8-bit.
fn srgb_encode(l: f64) -> f64 {
    255.0 * if l <= 0.0031308 { 12.92 * l } else { 1.055 * l.powf(1.0 / 2.4) - 0.055 }
}

#[test]
fn png_gama_is_honoured_and_srgb_chunk_wins() {
    let d = dir();
    let ramp: Vec<u8> = (0..=255u8).flat_map(|v| [v, 255 - v, v / 2]).collect();
    for (gamma, gray) in [(1.0 / 1.8, false), (1.0, false), (1.0 / 1.8, true)] {
        let path = d.join(format!("gama-{gamma:.3}-{gray}.png"));
        let pixels: Vec<u8> = if gray { (0..=255).collect() } else { ramp.clone() };
        write_png(&path, 256, 1, gray, &pixels, Some(gamma as f32), false, None);
        let (plan, mut rows) = Pipeline::open(&path).unwrap().into_rows().unwrap();
        assert!(plan.stages.iter().any(|s| s.name == "colour"), "{plan}");
        let got = read_all(&mut *rows);
        // The independent formula: sample^(1/gamma) is linear light, then sRGB-encoded.
        let worst = got
            .iter()
            .zip(&pixels)
            .map(|(&g, &v)| (g as f64 - srgb_encode((v as f64 / 255.0).powf(1.0 / gamma))).abs())
            .fold(0.0, f64::max);
        println!("gAMA {gamma:.4} gray={gray}: worst difference to the formula {worst:.2} levels");
        assert!(worst <= 1.5, "gAMA {gamma} gray {gray}: {worst}");
    }
    // An sRGB chunk means sRGB whatever gAMA says; gAMA 1/2.2 alone is not sRGB (up to 3
    // levels apart in the shadows) and is converted.
    let path = d.join("gama-and-srgb.png");
    write_png(&path, 256, 1, false, &ramp, Some(1.0 / 1.8), true, None);
    let plan = Pipeline::open(&path).unwrap().plan().unwrap();
    assert!(!plan.stages.iter().any(|s| s.name == "colour"), "{plan}");
}

#[test]
fn damaged_profile_fails_typed_by_default_and_is_ignored_when_lenient() {
    let d = dir();
    let path = d.join("damaged-icc.jpg");
    let pixels = synthetic_rgb(64, 48);
    let mut bad = ColorProfile::new_display_p3().encode().unwrap();
    bad[36..40].copy_from_slice(b"XXXX"); // the 'acsp' signature
    write_jpeg(&path, 64, 48, &pixels, Some(&bad));
    let err = Pipeline::open(&path).unwrap().plan().unwrap_err();
    assert!(matches!(err, Error::Format { .. }), "{err}");
    assert!(err.to_string().contains("ICC"), "{err}");
    let plan = Pipeline::open(&path).unwrap().fail_on(FailOn::None).plan().unwrap();
    assert!(plan.colour.as_deref().unwrap().contains("ignored"), "{plan}");
    assert!(!plan.stages.iter().any(|s| s.name == "colour"));
    // Keeping the profile never parses it.
    let plan = Pipeline::open(&path).unwrap().keep_icc_profile().plan().unwrap();
    assert_eq!(plan.icc_profile.as_deref(), Some(&bad));
    // An sRGB profile adds no stage.
    let path = d.join("srgb-icc.jpg");
    write_jpeg(&path, 64, 48, &pixels, Some(&ColorProfile::new_srgb().encode().unwrap()));
    let plan = Pipeline::open(&path).unwrap().plan().unwrap();
    assert!(!plan.stages.iter().any(|s| s.name == "colour") && plan.colour.is_none(), "{plan}");
}

#[test]
fn colour_stage_sits_after_the_resize_and_before_padding() {
    let d = dir();
    let path = d.join("order-p3.jpg");
    write_jpeg(&path, 400, 300, &synthetic_rgb(400, 300), Some(&ColorProfile::new_display_p3().encode().unwrap()));
    let plan =
        Pipeline::open(&path).unwrap().resize(100, 100).fit(Fit::Contain).background([255, 0, 0, 255]).plan().unwrap();
    let names: Vec<&str> = plan.stages.iter().map(|s| s.name.as_str()).collect();
    let at = |n: &str| names.iter().position(|s| s.starts_with(n)).unwrap_or_else(|| panic!("{n} in {names:?}"));
    assert!(at("resize") < at("colour") && at("colour") < at("pad"), "{names:?}");
    // The red background stays exactly sRGB red.
    let (_, mut rows) = Pipeline::open(&path)
        .unwrap()
        .resize(100, 100)
        .fit(Fit::Contain)
        .background([255, 0, 0, 255])
        .into_rows()
        .unwrap();
    let px = read_all(&mut *rows);
    assert_eq!(&px[..3], &[255, 0, 0]);
}

#[test]
fn cmyk_jpeg_with_profile_matches_vips() {
    if vips_missing("vips") {
        return;
    }
    let d = dir();
    let src = d.join("cmyk-src.png");
    write_png(&src, 600, 400, false, &synthetic_rgb(600, 400), None, false, None);
    // libvips' built-in CMYK profile (a LUT profile of 962 KB), written with libjpeg's Adobe
    // marker and inverted samples, as Photoshop does.
    let cmyk = d.join("photo-cmyk.jpg");
    run(
        "vips",
        &[
            "icc_transform",
            src.to_str().unwrap(),
            &format!("{}[Q=95]", cmyk.display()),
            "cmyk",
            "--input-profile",
            "srgb",
        ],
    );
    let reference = d.join("photo-cmyk-to-srgb.png");
    run("vips", &["icc_transform", cmyk.to_str().unwrap(), reference.to_str().unwrap(), "srgb", "--embedded"]);
    let (_, _, expected) = decode_png(&reference);

    let (plan, mut rows) = Pipeline::open(&cmyk).unwrap().into_rows().unwrap();
    let names: Vec<&str> = plan.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names[1], "colour", "{plan}");
    assert_eq!(plan.output.format, PixelFormat::RGB8);
    let got = read_all(&mut *rows);
    let ok = mad(&got, &expected, 3);
    // Today's behaviour without the profile: the decoder's naive CMYK -> RGB.
    let (plan_kept, mut rows) = Pipeline::open(&cmyk).unwrap().keep_icc_profile().into_rows().unwrap();
    assert!(!plan_kept.stages.iter().any(|s| s.name == "colour"));
    let naive = mad(&read_all(&mut *rows), &expected, 3);
    println!("CMYK JPEG with vips' CMYK profile -> sRGB against vips icc_transform: {ok:.3?}; naive CMYK->RGB (--keep-icc): {naive:.3?}");
    assert!(ok.iter().all(|&m| m < 2.0), "{ok:?}");
    assert!(naive.iter().sum::<f64>() > 2.0 * ok.iter().sum::<f64>(), "{naive:?} vs {ok:?}");

    // A thumbnail: the colour stage runs before the resize.
    let (plan, _) = thumbnail(&cmyk, false);
    let names: Vec<&str> = plan.stages.iter().map(|s| s.name.as_str()).collect();
    assert!(names.iter().position(|n| *n == "colour") < names.iter().position(|n| *n == "resize"), "{names:?}");
}

/// `m` times `v`.
fn mul3(m: &[[f64; 3]; 3], v: [f64; 3]) -> [f64; 3] {
    std::array::from_fn(|i| m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2])
}

/// The RGB -> XYZ matrix of primaries and white point given as xy chromaticities (the standard
/// derivation: columns scaled so that RGB (1,1,1) is the white with Y = 1).
fn rgb_to_xyz(p: [(f64, f64); 3], white: (f64, f64)) -> [[f64; 3]; 3] {
    let xyz = |(x, y): (f64, f64)| [x / y, 1.0, (1.0 - x - y) / y];
    let cols = p.map(xyz);
    let m = [
        [cols[0][0], cols[1][0], cols[2][0]],
        [cols[0][1], cols[1][1], cols[2][1]],
        [cols[0][2], cols[1][2], cols[2][2]],
    ];
    let s = mul3(&invert(&m), xyz(white));
    std::array::from_fn(|i| std::array::from_fn(|j| m[i][j] * s[j]))
}

fn invert(m: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    let c = |i: usize, j: usize| {
        let (a, b) = ((i + 1) % 3, (i + 2) % 3);
        let (x, y) = ((j + 1) % 3, (j + 2) % 3);
        m[a][x] * m[b][y] - m[a][y] * m[b][x]
    };
    std::array::from_fn(|i| std::array::from_fn(|j| c(j, i) / det))
}

#[test]
fn png_chrm_and_gama_match_an_independent_computation() {
    // P3 primaries with a D65 white and gAMA 1/2.2: both white points are D65, so no
    // adaptation is involved and the conversion is decode, two matrices, encode.
    let p3 = [(0.680, 0.320), (0.265, 0.690), (0.150, 0.060)];
    let srgb = [(0.640, 0.330), (0.300, 0.600), (0.150, 0.060)];
    let d65 = (0.3127, 0.3290);
    let to_srgb = {
        let a = rgb_to_xyz(p3, d65);
        let b = invert(&rgb_to_xyz(srgb, d65));
        std::array::from_fn::<_, 3, _>(|i| {
            std::array::from_fn::<_, 3, _>(|j| (0..3).map(|k| b[i][k] * a[k][j]).sum::<f64>())
        })
    };
    let pixels: Vec<u8> =
        (0..512u32).flat_map(|i| [(i * 7 % 256) as u8, (i * 13 % 256) as u8, (i * 29 % 256) as u8]).collect();
    let path = dir().join("chrm-p3-gama22.png");
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut info = png::Info::with_size(512, 1);
    info.color_type = png::ColorType::Rgb;
    info.bit_depth = png::BitDepth::Eight;
    info.source_gamma = Some(png::ScaledFloat::new(1.0 / 2.2));
    let f = |p: (f64, f64)| (p.0 as f32, p.1 as f32);
    info.source_chromaticities = Some(png::SourceChromaticities::new(f(d65), f(p3[0]), f(p3[1]), f(p3[2])));
    let mut w = png::Encoder::with_info(file, info).unwrap().write_header().unwrap();
    w.write_image_data(&pixels).unwrap();
    drop(w);

    let (plan, mut rows) = Pipeline::open(&path).unwrap().into_rows().unwrap();
    assert!(plan.stages.iter().any(|s| s.detail.contains("cHRM")), "{plan}");
    let got = read_all(&mut *rows);
    let gamma = 1.0 / png::ScaledFloat::new(1.0 / 2.2).into_value() as f64;
    let mut worst = 0f64;
    for (px, out) in pixels.chunks(3).zip(got.chunks(3)) {
        let linear = mul3(&to_srgb, std::array::from_fn(|c| (px[c] as f64 / 255.0).powf(gamma)));
        for c in 0..3 {
            worst = worst.max((out[c] as f64 - srgb_encode(linear[c].clamp(0.0, 1.0))).abs());
        }
    }
    println!("PNG cHRM (P3, D65) + gAMA 1/2.2: worst difference to the independent computation {worst:.2} levels");
    assert!(worst <= 1.5, "{worst}");
}
