//! `stripflow` on TIFF input: `info` reports compression, strips or tiles and pages without
//! decoding pixels; `--page` selects a directory (a pyramid level), a page past the last is a
//! clear error; a crop and a thumbnail of a tiled file match the same operations on its PNG copy.
//! The files come from libvips (skipped with a note when `vips` is missing).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn stripflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stripflow")).args(args).output().expect("run stripflow")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A 600x400 tiled LZW pyramid TIFF and its PNG source, made by vips; `None` without vips.
fn pyramid(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let png = dir.join("src.png");
    let tif = dir.join("pyramid.tif");
    let made = Command::new("vips").args(["zone", s(&dir.join("z.v")), "600", "400", "--uchar"]).status().is_ok_and(|st| st.success())
        && Command::new("vips").args(["copy", s(&dir.join("z.v")), s(&png)]).status().is_ok_and(|st| st.success())
        && Command::new("vips")
            .args(["tiffsave", s(&png), s(&tif), "--tile", "--tile-width", "64", "--tile-height", "64", "--pyramid", "--compression", "lzw"])
            .status()
            .is_ok_and(|st| st.success());
    if !made {
        eprintln!("note: vips not installed or failed; skipped");
        return None;
    }
    Some((png, tif))
}

#[test]
fn info_reports_storage_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_, tif)) = pyramid(dir.path()) else { return };
    let out = stripflow(&["info", s(&tif)]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("format:       tiff") && text.contains("lzw + predictor, tiles 64x64") && text.contains("pages:        5"), "{text}");
    let json = String::from_utf8_lossy(&stripflow(&["info", s(&tif), "--json"]).stdout).to_string();
    assert!(json.contains("\"pages\":5") && json.contains("\"layout\":\"lzw + predictor, tiles 64x64\""), "{json}");
}

#[test]
fn page_selects_a_pyramid_level_and_a_missing_page_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_, tif)) = pyramid(dir.path()) else { return };
    let level = dir.path().join("level.png");
    let out = stripflow(&["convert", s(&tif), s(&level), "--page", "2"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(image::image_dimensions(&level).unwrap(), (150, 100));
    let out = stripflow(&["convert", s(&tif), s(&level), "--page", "5"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("page 5 does not exist"), "{err}");
}

#[test]
fn crop_and_thumbnail_match_the_png_copy() {
    let dir = tempfile::tempdir().unwrap();
    let Some((png, tif)) = pyramid(dir.path()) else { return };
    for args in [&["--crop", "100,90,130,70"][..], &["--width", "97"]] {
        let (a, b) = (dir.path().join("from-tif.png"), dir.path().join("from-png.png"));
        let mut ta = vec!["convert", s(&tif), s(&a)];
        ta.extend_from_slice(args);
        let mut tb = vec!["convert", s(&png), s(&b)];
        tb.extend_from_slice(args);
        assert!(stripflow(&ta).status.success() && stripflow(&tb).status.success(), "{args:?}");
        let (x, y) = (image::open(&a).unwrap().to_luma8(), image::open(&b).unwrap().to_luma8());
        assert_eq!(x.dimensions(), y.dimensions(), "{args:?}");
        assert!(x.as_raw() == y.as_raw(), "{args:?}");
    }
}

/// Mean absolute difference of two equally sized RGB images.
fn mean_difference(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    let sum: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(&x, &y)| x.abs_diff(y) as u64).sum();
    sum as f64 / a.as_raw().len() as f64
}

#[test]
fn a_display_p3_tiff_is_converted_through_its_embedded_profile() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("src.png");
    let p3 = dir.path().join("p3.tif");
    let made = Command::new("vips").args(["zone", s(&dir.path().join("z.v")), "200", "150", "--uchar"]).status().is_ok_and(|st| st.success())
        && Command::new("vips")
            .args(["bandjoin", &format!("{0} {0} {0}", s(&dir.path().join("z.v"))), s(&dir.path().join("z3.v"))])
            .status()
            .is_ok_and(|st| st.success())
        && Command::new("vips").args(["linear", s(&dir.path().join("z3.v")), s(&png), "0.5 1 0.8", "100 0 30", "--uchar"]).status().is_ok_and(|st| st.success())
        && Command::new("vips").args(["icc_transform", s(&png), s(&p3), "p3"]).status().is_ok_and(|st| st.success());
    if !made {
        eprintln!("note: vips not installed or failed; skipped");
        return;
    }
    let out = dir.path().join("out.png");
    let run = stripflow(&["convert", s(&p3), s(&out)]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let (src, converted) = (image::open(&png).unwrap().to_rgb8(), image::open(&out).unwrap().to_rgb8());
    let kept = dir.path().join("kept.png");
    assert!(stripflow(&["convert", s(&p3), s(&kept), "--keep-icc"]).status.success());
    let raw = image::open(&kept).unwrap().to_rgb8();
    let (through_profile, ignoring_it) = (mean_difference(&src, &converted), mean_difference(&src, &raw));
    assert!(through_profile < 1.0 && ignoring_it > 3.0, "sRGB -> P3 -> sRGB differs by {through_profile}, the P3 numbers as sRGB by {ignoring_it}");
}
