//! The CLI on BMP, GIF and WebP inputs: `info --json` names the format and the pages, and
//! `convert` to JPEG and PNG with `--width` (and `--page` for an animation).

use std::path::Path;
use std::process::{Command, Output};

fn stripflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stripflow")).args(args).output().expect("run stripflow")
}

fn info_json(path: &Path) -> String {
    let out = stripflow(&["info", "--json", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A 24-bit bottom-up BMP of a gradient (no external tool needed).
fn write_bmp(path: &Path, width: u32, height: u32) {
    let stride = (width as usize * 3).div_ceil(4) * 4;
    let mut out = Vec::new();
    out.extend_from_slice(b"BM");
    out.extend_from_slice(&((54 + stride * height as usize) as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&54u32.to_le_bytes());
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&(width as i32).to_le_bytes());
    out.extend_from_slice(&(height as i32).to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&24u16.to_le_bytes());
    out.extend_from_slice(&[0; 24]);
    for y in 0..height {
        let mut row: Vec<u8> = (0..width).flat_map(|x| [(x * 255 / width) as u8, (y * 255 / height) as u8, 128]).collect();
        row.resize(stride, 0);
        out.extend_from_slice(&row);
    }
    std::fs::write(path, out).unwrap();
}

fn converts_to_jpeg_and_png(input: &Path, extra: &[&str]) {
    for ext in ["jpg", "png"] {
        let output = input.with_extension(format!("out.{ext}"));
        let mut args = vec!["convert", input.to_str().unwrap(), output.to_str().unwrap(), "--width", "16"];
        args.extend_from_slice(extra);
        let out = stripflow(&args);
        assert!(out.status.success(), "{input:?} -> {ext}: {}", String::from_utf8_lossy(&out.stderr));
        let json = info_json(&output);
        assert!(json.contains("\"width\":16"), "{json}");
    }
}

#[test]
fn bmp_info_and_convert() {
    let dir = tempfile::tempdir().unwrap();
    let bmp = dir.path().join("g.bmp");
    write_bmp(&bmp, 64, 40);
    let json = info_json(&bmp);
    assert!(json.contains("\"format\":\"bmp\"") && json.contains("\"pages\":1") && json.contains("\"height\":40"), "{json}");
    converts_to_jpeg_and_png(&bmp, &[]);
    // Over the input pixel limit: refused by the planner before decoding.
    let out = stripflow(&["convert", bmp.to_str().unwrap(), dir.path().join("x.png").to_str().unwrap(), "--limit-input-pixels", "100"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("input pixel limit"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn gif_and_webp_info_pages_and_convert() {
    let pillow = Command::new("python3").args(["-c", "import PIL"]).status().is_ok_and(|s| s.success());
    if !pillow {
        eprintln!("note: Pillow is not installed; skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        "from PIL import Image\nfr=[Image.new('RGB',(48,32),(i*60,100,200-i*50)) for i in range(3)]\nfr[0].save('{0}/a.gif',save_all=True,append_images=fr[1:])\nfr[0].save('{0}/a.webp',save_all=True,append_images=fr[1:],lossless=True)\nfr[1].save('{0}/s.webp',quality=80)",
        dir.path().display()
    );
    assert!(Command::new("python3").args(["-c", &script]).status().unwrap().success());
    for (name, format, pages) in [("a.gif", "gif", 3), ("a.webp", "webp", 3), ("s.webp", "webp", 1)] {
        let path = dir.path().join(name);
        let json = info_json(&path);
        assert!(json.contains(&format!("\"format\":\"{format}\"")) && json.contains(&format!("\"pages\":{pages}")), "{json}");
        converts_to_jpeg_and_png(&path, &[]);
        if pages > 1 {
            converts_to_jpeg_and_png(&path, &["--page", "2"]);
        }
    }
}

fn mean_difference(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    let sum: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(&x, &y)| x.abs_diff(y) as u64).sum();
    sum as f64 / a.as_raw().len() as f64
}

/// A lossless WebP whose numbers are Display P3 (its ICCP chunk says so) is converted to sRGB by
/// default and left alone with `--keep-icc`, as a TIFF or PNG is.
#[test]
fn a_display_p3_webp_is_converted_through_its_iccp_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let vips = |args: &[&str]| Command::new("vips").args(args).status().is_ok_and(|st| st.success());
    let made = vips(&["zone", &p("z.v"), "200", "150", "--uchar"])
        && vips(&["bandjoin", &format!("{0} {0} {0}", p("z.v")), &p("z3.v")])
        && vips(&["linear", &p("z3.v"), &p("src.png"), "0.5 1 0.8", "100 0 30", "--uchar"])
        && vips(&["icc_transform", &p("src.png"), &format!("{}[lossless]", p("p3.webp")), "p3"]);
    if !made {
        eprintln!("note: vips not installed or failed; skipped");
        return;
    }
    assert!(info_json(Path::new(&p("p3.webp"))).contains("\"format\":\"webp\""));
    let run = stripflow(&["convert", &p("p3.webp"), &p("out.png")]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(stripflow(&["convert", &p("p3.webp"), &p("kept.png"), "--keep-icc"]).status.success());
    let src = image::open(p("src.png")).unwrap().to_rgb8();
    let through_profile = mean_difference(&src, &image::open(p("out.png")).unwrap().to_rgb8());
    let ignoring_it = mean_difference(&src, &image::open(p("kept.png")).unwrap().to_rgb8());
    assert!(through_profile < 1.0 && ignoring_it > 3.0, "sRGB -> P3 -> sRGB differs by {through_profile}, the P3 numbers as sRGB by {ignoring_it}");
}
