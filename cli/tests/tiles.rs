//! `stripflow tiles`: the Deep Zoom tree matches `vips dzsave`'s (names, counts, tile sizes) and
//! its tiles agree with vips' within a stated PSNR; a `.zip` output is a readable archive; blank
//! tiles are skipped; a truncated input fails with a typed message and leaves nothing behind;
//! each layout writes its description file, and the IIIF, XYZ and Zoomify trees are dzsave's
//! (up to the two naming choices stated in [`other_layouts_match_vips_dzsave_trees`]). Tests
//! needing vips or python3 skip with a note.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use stripflow::codec::png::PngEncoder;
use stripflow::synth::Synthetic;
use stripflow::PixelFormat;

/// The least PSNR (dB) between a stripflow tile and vips' for the same tile, as
/// (full resolution, reduced levels), with PNG tiles (the pixels themselves: measured identical
/// at both levels here; 50-55 dB on levels 8-9 of a gradient image checked by hand, where the box
/// means round differently by one level) and with JPEG q75 tiles (the two JPEG encoders differ:
/// measured 36.5-38.4 dB at full resolution, 32.0-34.2 dB on level 9).
const MIN_PSNR_DB_PNG: (f64, f64) = (f64::INFINITY, 45.0);
/// See [`MIN_PSNR_DB_PNG`].
const MIN_PSNR_DB_JPEG: (f64, f64) = (35.0, 30.0);

fn stripflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stripflow")).args(args).output().expect("run stripflow")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn have(tool: &str, arg: &str) -> bool {
    Command::new(tool).arg(arg).output().is_ok_and(|o| o.status.success())
}

/// A photo-like RGB PNG of `w` x `h` at `path`.
fn png(path: &Path, w: u32, h: u32) {
    let mut bytes = Vec::new();
    PngEncoder::default().encode(&mut Synthetic::new(w, h, PixelFormat::RGB8, 5), &mut bytes).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Every file under `root`, by path relative to it.
fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

fn decode(path: &Path) -> image::RgbImage {
    image::ImageReader::open(path).unwrap().with_guessed_format().unwrap().decode().unwrap().to_rgb8()
}

fn psnr(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: f64 = a.as_raw().iter().zip(b.as_raw()).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum();
    let mse = sum / a.as_raw().len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

/// vips dzsave and stripflow tiles on one generated image: the same tree under `NAME_files`
/// (vips adds `vips-properties.xml`, which stripflow does not write), the same tile sizes, and
/// full-resolution and reduced tiles within [`MIN_PSNR_DB`].
fn matches_dzsave(w: u32, h: u32) {
    if !have("vips", "--version") {
        eprintln!("note: vips not installed; skipping the dzsave comparison of {w}x{h}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    png(&input, w, h);
    for (suffix, bounds) in [(".jpeg", MIN_PSNR_DB_JPEG), (".png", MIN_PSNR_DB_PNG)] {
        compare_with_dzsave(&input, w, h, suffix, bounds);
    }
}

/// Runs both with tiles of `suffix` and compares trees and five tiles' PSNR against `bounds`.
fn compare_with_dzsave(input: &Path, w: u32, h: u32, suffix: &str, bounds: (f64, f64)) {
    let dir = tempfile::tempdir().unwrap();
    let (vips_out, ours) = (dir.path().join("vips"), dir.path().join("ours"));
    std::fs::create_dir(&vips_out).unwrap();
    std::fs::create_dir(&ours).unwrap();
    let status = Command::new("vips").args(["dzsave", s(input), s(&vips_out.join("p")), "--suffix", suffix]).status().unwrap();
    assert!(status.success());
    let run = stripflow(&["tiles", s(input), s(&ours.join("p")), "--layout", "deepzoom", "--suffix", suffix]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));

    let vips_files: Vec<PathBuf> = files(&vips_out.join("p_files")).into_iter().filter(|p| p != Path::new("vips-properties.xml")).collect();
    let our_files = files(&ours.join("p_files"));
    assert_eq!(our_files, vips_files, "{w}x{h}: tile trees differ");
    let per_level = |list: &[PathBuf]| {
        let mut counts = BTreeMap::new();
        for p in list {
            *counts.entry(p.parent().unwrap().to_path_buf()).or_insert(0) += 1;
        }
        counts
    };
    assert_eq!(per_level(&our_files), per_level(&vips_files));
    assert!(ours.join("p.dzi").exists() && ours.join("p.html").exists());

    let top = vips_files.iter().map(|p| p.components().next().unwrap().as_os_str().to_str().unwrap().parse::<u32>().unwrap()).max().unwrap();
    // The corners and a middle tile of the full-resolution level, and the corners one level down.
    let last = |level: u32| {
        let names: Vec<&PathBuf> = vips_files.iter().filter(|p| p.starts_with(level.to_string())).collect();
        names.last().unwrap().file_name().unwrap().to_str().unwrap().to_string()
    };
    let mut checked = Vec::new();
    for (level, name) in [(top, format!("0_0{suffix}")), (top, format!("1_1{suffix}")), (top, last(top)), (top - 1, format!("0_0{suffix}")), (top - 1, last(top - 1))] {
        let rel = PathBuf::from(level.to_string()).join(&name);
        let theirs = decode(&vips_out.join("p_files").join(&rel));
        let mine = decode(&ours.join("p_files").join(&rel));
        assert_eq!(mine.dimensions(), theirs.dimensions(), "{w}x{h} tile {}", rel.display());
        let db = psnr(&mine, &theirs);
        let least = if level == top { bounds.0 } else { bounds.1 };
        eprintln!("{w}x{h} tile {}: {}x{}, PSNR {db:.1} dB against vips (at least {least})", rel.display(), mine.width(), mine.height());
        assert!(db >= least, "{w}x{h} tile {}: PSNR {db:.1} dB < {least}", rel.display());
        checked.push(rel);
    }
    assert_eq!(checked.len(), 5);
}

#[test]
fn deepzoom_matches_vips_dzsave_1000x700() {
    matches_dzsave(1000, 700);
}

#[test]
fn deepzoom_matches_vips_dzsave_odd_1023x517() {
    matches_dzsave(1023, 517);
}

#[test]
fn zip_output_is_a_readable_archive() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    png(&input, 600, 400);
    let zip = dir.path().join("p.zip");
    let run = stripflow(&["tiles", s(&input), s(&zip)]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let bytes = std::fs::read(&zip).unwrap();
    // The end-of-central-directory record: signature, then the entry count at offset 10.
    let eocd = bytes.windows(4).rposition(|w| w == [0x50, 0x4b, 0x05, 0x06]).expect("end of central directory");
    let entries = u16::from_le_bytes([bytes[eocd + 10], bytes[eocd + 11]]);
    // 600x400 Deep Zoom: levels 0..=10, 3x2 + 2x1 + 1 x 9 tiles, plus p.dzi.
    assert_eq!(entries, 6 + 2 + 9 + 1);
    if !have("python3", "--version") {
        eprintln!("note: python3 not installed; the zip was checked by its end-of-central-directory record only");
        return;
    }
    let listing = Command::new("python3")
        .args(["-c", "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint('\\n'.join(z.namelist()))", s(&zip)])
        .output()
        .unwrap();
    assert!(listing.status.success(), "{}", String::from_utf8_lossy(&listing.stderr));
    let names = String::from_utf8(listing.stdout).unwrap();
    let names: Vec<&str> = names.lines().collect();
    assert_eq!(names.len(), entries as usize);
    assert!(names.contains(&"p.dzi"), "{names:?}");
    assert!(names.contains(&"p_files/10/2_1.jpeg"), "{names:?}");
    assert!(names.contains(&"p_files/0/0_0.jpeg"), "{names:?}");
}

#[test]
fn skip_blanks_writes_fewer_tiles_on_a_mostly_blank_image() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("blank.png");
    let mut img = image::RgbImage::from_pixel(1024, 1024, image::Rgb([255, 255, 255]));
    for y in 100..200 {
        for x in 100..200 {
            img.put_pixel(x, y, image::Rgb([(x % 256) as u8, 40, (y % 256) as u8]));
        }
    }
    img.save(&input).unwrap();
    let count = |out: &str, extra: &[&str]| {
        let out = dir.path().join(out);
        let mut args = vec!["tiles", s(&input), s(&out), "--layout", "zoomify", "--skip-blanks"];
        args.extend_from_slice(extra);
        let run = stripflow(&args);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        files(&out).iter().filter(|p| p.extension().is_some_and(|e| e == "jpg")).count()
    };
    let all = count("all", &["-1"]);
    let kept = count("kept", &["5"]);
    // 1024x1024 in 256-pixel tiles: 16 + 4 + 1 tiles; with blanks skipped, only those touching the square.
    assert_eq!(all, 21);
    assert!(kept < all, "kept {kept} of {all}");
    assert_eq!(kept, 3, "one tile per level touches the square");
}

/// A truncated PNG: the job fails with a typed message and leaves neither the pyramid's folder
/// and description file nor the zip.
#[test]
fn truncated_input_fails_typed_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.png");
    png(&full, 1200, 900);
    let bytes = std::fs::read(&full).unwrap();
    let input = dir.path().join("cut.png");
    std::fs::write(&input, &bytes[..bytes.len() * 2 / 3]).unwrap();
    for out in ["p", "p.zip"] {
        let out_dir = dir.path().join(format!("out-{out}"));
        std::fs::create_dir(&out_dir).unwrap();
        let run = stripflow(&["tiles", s(&input), s(&out_dir.join(out))]);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{out}: {stderr}");
        assert!(stderr.contains("stripflow: error:") && stderr.contains("invalid PNG data"), "{out}: {stderr}");
        assert_eq!(files(&out_dir), Vec::<PathBuf>::new(), "{out}: left behind");
        assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 0, "{out}: left an empty folder");
    }
}

#[test]
fn each_layout_writes_its_description_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    png(&input, 700, 500);
    let cases = [("deepzoom", "p.dzi", "TileSize=\"254\""), ("iiif", "p/info.json", "\"http://iiif.io/api/image/3/context.json\""), ("xyz", "p/blank.png", ""), ("zoomify", "p/ImageProperties.xml", "WIDTH=\"700\"")];
    for (layout, description, needle) in cases {
        let out = dir.path().join(layout);
        std::fs::create_dir(&out).unwrap();
        let run = stripflow(&["tiles", s(&input), s(&out.join("p")), "--layout", layout]);
        assert!(run.status.success(), "{layout}: {}", String::from_utf8_lossy(&run.stderr));
        let path = out.join(description);
        assert!(path.exists(), "{layout}: no {description} in {:?}", files(&out));
        if needle.is_empty() {
            assert_eq!(decode(&path).dimensions(), (256, 256), "{layout}: {description} is one background tile");
        } else {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.contains(needle), "{layout}: {text}");
        }
        assert!(out.join("p.html").exists(), "{layout}: no viewer page");
    }
}

/// IIIF, XYZ and Zoomify trees against `vips dzsave --layout iiif3|google|zoomify` on an odd-sized
/// image: the same files, each tile the same size. Two names differ by design and are mapped
/// before comparing: XYZ tiles are `Z/X/Y` (Leaflet's and OpenLayers' `{z}/{x}/{y}`) where
/// dzsave's Google layout writes `Z/Y/X`, and an IIIF tile covering the whole image has the
/// canonical region `full`, which viewers request, where dzsave 8.14 writes `0,0,W,H`.
/// dzsave's `vips-properties.xml` and our `tiles.json` (XYZ) have no counterpart.
#[test]
fn other_layouts_match_vips_dzsave_trees() {
    if !have("vips", "--version") {
        eprintln!("note: vips not installed; skipping the layout comparisons");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    let (w, h) = (1000, 700);
    png(&input, w, h);
    let full = format!("0,0,{w},{h}");
    for (ours_layout, vips_layout) in [("iiif", "iiif3"), ("xyz", "google"), ("zoomify", "zoomify")] {
        let (vips_out, ours) = (dir.path().join(format!("vips-{vips_layout}")), dir.path().join(format!("ours-{ours_layout}")));
        let status = Command::new("vips").args(["dzsave", s(&input), s(&vips_out), "--layout", vips_layout]).status().unwrap();
        assert!(status.success());
        let run = stripflow(&["tiles", s(&input), s(&ours), "--layout", ours_layout, "--no-viewer"]);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let theirs: Vec<PathBuf> = files(&vips_out).into_iter().filter(|p| p != Path::new("vips-properties.xml")).collect();
        let mut mapped: Vec<(PathBuf, PathBuf)> = files(&ours)
            .into_iter()
            .filter(|p| p != Path::new("tiles.json"))
            .map(|p| {
                let parts: Vec<String> = p.iter().map(|c| c.to_str().unwrap().to_string()).collect();
                let name = match (ours_layout, parts.as_slice()) {
                    ("xyz", [z, x, y]) if z.parse::<u32>().is_ok() => PathBuf::from(z).join(y.trim_end_matches(".jpg")).join(format!("{x}.jpg")),
                    ("iiif", [region, rest @ ..]) if region == "full" => std::iter::once(full.clone()).chain(rest.iter().cloned()).collect(),
                    _ => p.clone(),
                };
                (name, p)
            })
            .collect();
        mapped.sort();
        let names: Vec<PathBuf> = mapped.iter().map(|(name, _)| name.clone()).collect();
        assert_eq!(names, theirs, "{ours_layout}: trees differ from dzsave --layout {vips_layout}");
        let mut tiles = 0;
        for (name, path) in &mapped {
            if path.extension().is_some_and(|e| e == "jpg" || e == "png") {
                let (a, b) = (image::image_dimensions(ours.join(path)).unwrap(), image::image_dimensions(vips_out.join(name)).unwrap());
                assert_eq!(a, b, "{ours_layout}: {} is {a:?}, vips' {} is {b:?}", path.display(), name.display());
                tiles += 1;
            }
        }
        eprintln!("{ours_layout}: {tiles} images, the same names and sizes as dzsave --layout {vips_layout}");
        assert!(tiles >= 5);
    }
}
