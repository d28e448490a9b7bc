//! `--keep-icc` and the default conversion of an embedded profile, through the binary.

use std::path::Path;
use std::process::{Command, Output};

use image::ImageEncoder;

fn stripflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stripflow")).args(args).output().expect("run stripflow")
}

/// A 64x48 JPEG of saturated colours carrying the Display P3 profile.
fn p3_jpeg(path: &Path) {
    let pixels: Vec<u8> = (0..64 * 48).flat_map(|i| [(i % 64 * 4) as u8, 40, (255 - i / 64 * 5) as u8]).collect();
    let mut file = std::fs::File::create(path).unwrap();
    let mut e = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut file, 95);
    e.set_icc_profile(moxcms::ColorProfile::new_display_p3().encode().unwrap()).unwrap();
    e.write_image(&pixels, 64, 48, image::ExtendedColorType::Rgb8).unwrap();
}

#[test]
fn profile_converted_by_default_and_kept_with_keep_icc() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("p3.jpg");
    p3_jpeg(&input);
    let (input, converted, kept) =
        (input.to_str().unwrap(), dir.path().join("converted.png"), dir.path().join("kept.png"));
    let plan = stripflow(&["convert", input, converted.to_str().unwrap(), "--plan"]);
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(plan.status.success() && text.contains("colour ") && text.contains("-> sRGB"), "{text}");
    let plan = stripflow(&["convert", input, kept.to_str().unwrap(), "--plan", "--keep-icc"]);
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(text.contains("ICC profile kept") && !text.contains("-> sRGB"), "{text}");

    assert!(stripflow(&["convert", input, converted.to_str().unwrap()]).status.success());
    assert!(stripflow(&["convert", input, kept.to_str().unwrap(), "--keep-icc"]).status.success());
    let a = image::open(&converted).unwrap().to_rgb8();
    let b = image::open(&kept).unwrap().to_rgb8();
    // P3 numbers read as sRGB are less saturated: the converted reds are higher.
    let red = |img: &image::RgbImage| img.pixels().map(|p| p[0] as u64).sum::<u64>();
    assert!(red(&a) > red(&b) + 64 * 48, "{} vs {}", red(&a), red(&b));
}
