//! WebP output from the `stripflow` binary (built with the `webp-lossy` feature): lossy with
//! `--quality`, `--lossless`, standard output with `--format webp`, options that do not apply, and
//! the peak RSS of whole processes against the plan's WebP account (libwebp allocates with C
//! `malloc`, which dhat does not see: its model is checked here).

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use stripflow::codec::jpeg::JpegEncoder;
use stripflow::codec::png::PngEncoder;
use stripflow::synth::{Noise, Synthetic};
use stripflow::{ImageInfo, PixelFormat, RowSource};

fn stripflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stripflow")).args(args).output().expect("run stripflow")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}


/// Writes `source` as a PNG file, streaming: this process stays small, since a child's peak RSS
/// (wait4) starts from the parent's when it is spawned.
fn png_file(path: PathBuf, mut source: impl RowSource) -> PathBuf {
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    PngEncoder::default().encode(&mut source, &mut out).unwrap();
    out.flush().unwrap();
    path
}

fn decode(webp: &[u8]) -> image::DynamicImage {
    image::load_from_memory_with_format(webp, image::ImageFormat::WebP).expect("the image crate decodes the output")
}

#[test]
fn convert_jpeg_to_lossy_webp_with_quality() {
    let dir = tempfile::tempdir().unwrap();
    let jpg = dir.path().join("in.jpg");
    let mut bytes = Vec::new();
    JpegEncoder::default().encode(&mut Synthetic::new(640, 480, PixelFormat::RGB8, 2), &mut bytes).unwrap();
    std::fs::write(&jpg, bytes).unwrap();
    let mut sizes = Vec::new();
    for quality in ["40", "75", "95"] {
        let out = dir.path().join(format!("q{quality}.webp"));
        let r = stripflow(&["convert", s(&jpg), s(&out), "--quality", quality]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let webp = std::fs::read(&out).unwrap();
        assert_eq!(&webp[12..16], b"VP8 ", "lossy WebP");
        let image = decode(&webp);
        assert_eq!((image.width(), image.height()), (640, 480));
        sizes.push(webp.len());
    }
    assert!(sizes[0] < sizes[1] && sizes[1] < sizes[2], "quality orders the sizes: {sizes:?}");
    // A card: resize with cover.
    let out = dir.path().join("card.webp");
    let r = stripflow(&["convert", s(&jpg), s(&out), "--resize", "300x157", "--quality", "80"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let image = decode(&std::fs::read(&out).unwrap());
    assert_eq!((image.width(), image.height()), (300, 157));
}

#[test]
fn convert_to_lossless_webp_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let png = png_file(dir.path().join("in.png"), Synthetic::new(200, 150, PixelFormat::RGBA8, 3));
    let out = dir.path().join("out.webp");
    let r = stripflow(&["convert", s(&png), s(&out), "--lossless"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let webp = std::fs::read(&out).unwrap();
    let image = decode(&webp);
    let original = image::open(&png).unwrap();
    assert!(image.color().has_alpha());
    assert!(image.to_rgba8() == original.to_rgba8(), "lossless WebP changed pixels");
    for args in [&["--lossless", "--effort", "6"][..], &["--near-lossless", "60"][..]] {
        let r = stripflow(&[&["convert", s(&png), s(&out)][..], args].concat());
        assert!(r.status.success(), "{args:?}: {}", String::from_utf8_lossy(&r.stderr));
        // libwebp's lossless keeps alpha inside the VP8L stream (no extended header).
        assert_eq!(&std::fs::read(&out).unwrap()[12..16], b"VP8L", "{args:?}");
    }
}

#[test]
fn webp_to_stdout_with_format() {
    let dir = tempfile::tempdir().unwrap();
    let png = png_file(dir.path().join("in.png"), Synthetic::new(120, 90, PixelFormat::RGB8, 5));
    let out = stripflow(&["convert", s(&png), "-", "--format", "webp", "--quality", "70"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let image = decode(&out.stdout);
    assert_eq!((image.width(), image.height()), (120, 90));
    // From standard input too.
    let mut child = Command::new(env!("CARGO_BIN_EXE_stripflow"))
        .args(["convert", "-", "-", "--format", "webp", "--lossless"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&std::fs::read(&png).unwrap()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(decode(&out.stdout).to_rgb8() == image::open(&png).unwrap().to_rgb8());
}

#[test]
fn options_that_do_not_apply_are_one_clear_error_and_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let png = png_file(dir.path().join("in.png"), Synthetic::new(32, 32, PixelFormat::RGB8, 5));
    let out = dir.path().join("out.webp");
    for (args, says) in [
        (&["--compression", "6"][..], "--compression does not apply to WebP output"),
        (&["--quality", "101"][..], "quality"),
        (&["--lossless", "--quality", "80"][..], "--quality applies to lossy WebP"),
        (&["--effort", "9"][..], "WebP effort 9 is not in 0..=6"),
    ] {
        let r = stripflow(&[&["convert", s(&png), s(&out)][..], args].concat());
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert!(!r.status.success(), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one error line: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!out.exists());
    }
    // The 16383 limit of the format.
    let r = stripflow(&["convert", s(&png), s(&out), "--resize", "16384x8"]);
    assert!(String::from_utf8_lossy(&r.stderr).contains("WebP cannot store a 16384x8 image"), "{}", String::from_utf8_lossy(&r.stderr));
}

/// Runs `stripflow args` and returns its peak RSS in bytes (wait4's ru_maxrss).
fn peak_rss(args: &[&str]) -> u64 {
    let child = Command::new(env!("CARGO_BIN_EXE_stripflow")).args(args).stdout(Stdio::null()).spawn().expect("spawn");
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    assert!(std::process::ExitStatus::from_raw(status).success(), "stripflow {args:?} failed");
    usage.ru_maxrss as u64 * 1024
}

/// The planned heap of a job, from `--plan --json`.
fn planned_heap(args: &[&str]) -> u64 {
    let out = stripflow(&[args, &["--plan", "--json"][..]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json = String::from_utf8(out.stdout).unwrap();
    let at = json.rfind("\"heap_bytes\":").expect("heap_bytes in the plan") + "\"heap_bytes\":".len();
    json[at..].split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
}

/// libwebp's memory, measured as the process's peak RSS over that of the same job written as PNG
/// (a streaming output: the program, the decoder and the allocator's own), stays within the plan's
/// account of the WebP encoder, on noise (the worst case for libwebp's token buffer and output) and
/// photo-like frames, in the fast and the low-memory lossy modes, with alpha, and lossless.
#[test]
fn libwebp_peak_rss_stays_within_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let noise = |w: u32, h: u32, format: PixelFormat, name: &str| {
        png_file(dir.path().join(name), Noise::new(ImageInfo { width: w, height: h, format }, 1))
    };
    let cases = [
        (noise(2048, 2048, PixelFormat::RGB8, "n2048.png"), &["--quality", "80"][..]),
        (noise(3000, 2000, PixelFormat::RGB8, "n3000.png"), &["--quality", "80"][..]),
        (noise(1024, 1024, PixelFormat::RGBA8, "n1024a.png"), &["--quality", "80"][..]),
        (noise(1024, 1024, PixelFormat::RGB8, "n1024.png"), &["--quality", "80", "--smart-subsample"][..]),
        (noise(1024, 1024, PixelFormat::RGB8, "n1024.png"), &["--lossless"][..]),
        (png_file(dir.path().join("s2048.png"), Synthetic::new(2048, 2048, PixelFormat::RGB8, 1)), &["--quality", "80"][..]),
    ];
    let png_out = dir.path().join("out.png");
    let webp_out = dir.path().join("out.webp");
    for (input, options) in cases {
        let base_args = ["convert", s(&input), s(&png_out)];
        let args = [&["convert", s(&input), s(&webp_out)][..], options].concat();
        let base = peak_rss(&base_args);
        let planned = planned_heap(&args);
        let rss = peak_rss(&args);
        let name = format!("{} {}", input.file_name().unwrap().to_string_lossy(), options.join(" "));
        println!(
            "{name}: peak RSS {:.1} MiB, as PNG {:.1} MiB, WebP plan {:.1} MiB",
            rss as f64 / 1048576.0,
            base as f64 / 1048576.0,
            planned as f64 / 1048576.0
        );
        assert!(rss <= base + planned, "{name}: RSS {rss} over {base} + plan {planned}");
    }
}

/// Above 4 Mpx, libwebp's fast mode runs within the heap the budget leaves (a guard stops it and
/// the low-memory mode encodes instead when its tokens would not fit): the process's peak RSS
/// stays within the plan with room for the worst case, and with a budget that leaves a noise
/// frame about 1.2 bytes a pixel, a fifteenth of what its tokens need.
#[test]
fn libwebp_fast_mode_on_large_frames_stays_within_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (3000u32, 2000u32);
    let pixels = (w * h) as u64;
    let noise = png_file(dir.path().join("n.png"), Noise::new(ImageInfo { width: w, height: h, format: PixelFormat::RGB8 }, 2));
    let photo = png_file(dir.path().join("s.png"), Synthetic::new(w, h, PixelFormat::RGB8, 2));
    let png_out = dir.path().join("out.png");
    let webp_out = dir.path().join("out.webp");
    for input in [&noise, &photo] {
        let base = peak_rss(&["convert", s(input), s(&png_out)]);
        let roomy = planned_heap(&["convert", s(input), s(&webp_out)]);
        // The worst case is 15 bytes a pixel beyond the low-memory price: all taken here.
        let tight = roomy - pixels * 15 + pixels * 6 / 5;
        for budget in [None, Some(tight)] {
            let budget_arg = budget.map(|b| b.to_string());
            let mut args = vec!["convert", s(input), s(&webp_out)];
            if let Some(b) = budget_arg.as_deref() {
                args.extend(["--max-memory", b]);
            }
            let planned = planned_heap(&args);
            let rss = peak_rss(&args);
            let name = format!("{} budget {budget:?}", input.file_name().unwrap().to_string_lossy());
            println!("{name}: peak RSS {:.1} MiB, as PNG {:.1} MiB, plan {:.1} MiB", rss as f64 / 1048576.0, base as f64 / 1048576.0, planned as f64 / 1048576.0);
            assert!(rss <= base + planned, "{name}: RSS {rss} over {base} + plan {planned}");
            // Not decoded here: this process's own peak would become the children's floor.
            let head = std::fs::read(&webp_out).unwrap();
            assert!(head.len() > 1000 && &head[..4] == b"RIFF" && &head[8..16] == b"WEBPVP8 ", "{name}");
        }
    }
}
