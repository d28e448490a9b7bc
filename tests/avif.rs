//! AVIF output (feature `avif`): round trips through an independent decoder (Pillow, `avifdec`
//! or vips, whichever this machine has; skipped with a note when none is), the file's own boxes
//! read without any tool, the planner's verdicts on big jobs, and the thread count.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use stripflow::codec::avif::{AvifBitDepth, AvifEncoder};
use stripflow::codec::Format;
use stripflow::plan::{Chain, Pipeline};
use stripflow::synth::Synthetic;
use stripflow::{Error, PixelFormat, RowSource};
use support::fixtures::{self, JpegSpec};

/// The lowest PSNR (dB, 8-bit RGB) accepted for the synthetic photo at quality 80, effort 6.
/// Measured 35.0 to 36.7 dB with Pillow 13, avifdec 0.11 and vips 8.14 alike (the encoder
/// smooths the image's fine noise); the bound leaves room for decoder differences.
const MIN_PSNR: f64 = 32.0;

fn encode(encoder: &AvifEncoder, source: &mut dyn RowSource) -> Vec<u8> {
    let mut out = Vec::new();
    encoder.encode(source, &mut out).unwrap();
    out
}

/// Every row of `source` as 8-bit RGBA.
fn rgba8(source: Synthetic) -> Vec<u8> {
    let info = source.info();
    let mut rgba = stripflow::ops::convert::Convert::new(source, PixelFormat::RGBA8, [0; 3]);
    let mut buf = vec![0u8; PixelFormat::RGBA8.row_bytes(info.width) * info.height as usize];
    rgba.read_rows(&mut buf).unwrap();
    buf
}

/// The first box of `kind` anywhere in `file` (a flat scan, enough for the few boxes read here):
/// its payload.
fn find_box<'a>(file: &'a [u8], kind: &[u8; 4]) -> Vec<&'a [u8]> {
    let mut found = Vec::new();
    for i in 4..file.len().saturating_sub(4) {
        if &file[i..i + 4] == kind {
            let size = u32::from_be_bytes(file[i - 4..i].try_into().unwrap()) as usize;
            if size >= 8 && i - 4 + size <= file.len() {
                found.push(&file[i + 4..i - 4 + size]);
            }
        }
    }
    found
}

/// Width and height from the `ispe` boxes, and whether an alpha auxiliary image is declared.
fn boxes(file: &[u8]) -> (Vec<(u32, u32)>, bool) {
    let sizes = find_box(file, b"ispe")
        .iter()
        .map(|b| (u32::from_be_bytes(b[4..8].try_into().unwrap()), u32::from_be_bytes(b[8..12].try_into().unwrap())))
        .collect();
    let alpha = find_box(file, b"auxC").iter().any(|b| b.windows(5).any(|w| w == b"alpha"));
    (sizes, alpha)
}

#[test]
fn the_file_declares_its_size_and_alpha_without_any_tool() {
    let (w, h) = (97, 61);
    let file = encode(&AvifEncoder::default(), &mut Synthetic::new(w, h, PixelFormat::RGB8, 1));
    assert_eq!(&file[4..12], b"ftypavif");
    assert_eq!(boxes(&file), (vec![(w, h)], false));
    // Alpha that varies is kept as an auxiliary image of the same size...
    let file = encode(&AvifEncoder::default(), &mut Synthetic::new(w, h, PixelFormat::RGBA8, 1));
    // (avif-serialize writes one `ispe` property that both images share.)
    assert_eq!(boxes(&file), (vec![(w, h)], true));
    // ...and alpha opaque everywhere is dropped.
    let opaque = stripflow::ops::convert::Convert::new(Synthetic::new(w, h, PixelFormat::RGB8, 1), PixelFormat::RGBA8, [0; 3]);
    let file = encode(&AvifEncoder::default(), &mut Box::new(opaque) as &mut dyn RowSource);
    assert_eq!(boxes(&file), (vec![(w, h)], false));
    // Registry: the extension and the signature name the format.
    assert_eq!(Format::from_extension(Path::new("x.AVIF")), Some(Format::Avif));
    assert_eq!(Format::sniff(&file), Some(Format::Avif));
}

/// An independent decoder found on this machine: AVIF file in, PNG file out.
struct Decoder {
    name: &'static str,
    decode: fn(&Path, &Path) -> bool,
}

fn run(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).output().is_ok_and(|o| o.status.success())
}

const PILLOW: &str = "import sys; from PIL import Image; im = Image.open(sys.argv[1]); im.save(sys.argv[2])";

const DECODERS: [Decoder; 3] = [
    Decoder { name: "Pillow", decode: |a, p| run("python3", &["-c", PILLOW, a.to_str().unwrap(), p.to_str().unwrap()]) },
    Decoder { name: "avifdec", decode: |a, p| run("avifdec", &[a.to_str().unwrap(), p.to_str().unwrap()]) },
    Decoder { name: "vips", decode: |a, p| run("vips", &["copy", a.to_str().unwrap(), p.to_str().unwrap()]) },
];

/// The decoders that decode a known-good AVIF here.
fn decoders(dir: &Path) -> Vec<&'static Decoder> {
    let probe = dir.join("probe.avif");
    std::fs::write(&probe, encode(&AvifEncoder::default(), &mut Synthetic::new(16, 16, PixelFormat::RGB8, 1))).unwrap();
    let found: Vec<_> = DECODERS.iter().filter(|d| (d.decode)(&probe, &dir.join(format!("probe-{}.png", d.name)))).collect();
    if found.is_empty() {
        println!("note: no AVIF decoder here (Pillow >= 11.3 with AVIF, avifdec, vips with heif); round trips skipped");
    }
    found
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let se: f64 = a.iter().zip(b).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum();
    let mse = se / a.len() as f64;
    if mse == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (255.0f64 * 255.0 / mse).log10()
}

fn decode_png(path: &Path) -> image::DynamicImage {
    image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn round_trips_through_independent_decoders() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (203, 117);
    let cases: [(PixelFormat, AvifBitDepth); 5] = [
        (PixelFormat::RGB8, AvifBitDepth::Eight),
        (PixelFormat::RGBA8, AvifBitDepth::Eight),
        (PixelFormat::GRAY8, AvifBitDepth::Eight),
        (PixelFormat::RGB16, AvifBitDepth::Ten),
        (PixelFormat::RGBA8, AvifBitDepth::Ten),
    ];
    for decoder in decoders(dir.path()) {
        for (format, bit_depth) in cases {
            let encoder = AvifEncoder { quality: 80, alpha_quality: 90, effort: 6, bit_depth, ..Default::default() };
            let avif = dir.path().join(format!("{format}-{bit_depth:?}.avif").replace(' ', ""));
            std::fs::write(&avif, encode(&encoder, &mut Synthetic::new(w, h, format, 2))).unwrap();
            let png = avif.with_extension(format!("{}.png", decoder.name));
            assert!((decoder.decode)(&avif, &png), "{} cannot decode {}", decoder.name, avif.display());
            let decoded = decode_png(&png);
            assert_eq!((decoded.width(), decoded.height()), (w, h), "{} {format}", decoder.name);
            assert_eq!(decoded.color().has_alpha(), format.color.has_alpha(), "{} {format}: alpha", decoder.name);
            // Expected 8-bit RGBA: the source through the same conversion the encoder applies.
            let expected = rgba8(Synthetic::new(w, h, format, 2));
            let got = decoded.to_rgba8().into_raw();
            let rgb = |v: &[u8]| v.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect::<Vec<u8>>();
            let alpha = |v: &[u8]| v.chunks_exact(4).map(|p| p[3]).collect::<Vec<u8>>();
            let color_psnr = psnr(&rgb(&got), &rgb(&expected));
            println!("{} {format} {bit_depth:?}: PSNR {color_psnr:.1} dB", decoder.name);
            assert!(color_psnr >= MIN_PSNR, "{} {format} {bit_depth:?}: PSNR {color_psnr:.1} dB < {MIN_PSNR}", decoder.name);
            if format.color.has_alpha() {
                let alpha_psnr = psnr(&alpha(&got), &alpha(&expected));
                assert!(alpha_psnr >= MIN_PSNR, "{} {format}: alpha PSNR {alpha_psnr:.1} dB", decoder.name);
            }
        }
    }
}

/// A 16-bit gradient to 10-bit AVIF keeps more than 8 bits: decoded at 16 bits (avifdec `-d 16`
/// or vips), it has about four times the distinct levels an 8-bit path could give.
#[test]
fn sixteen_bit_input_keeps_ten_bits() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (1024u32, 16u32);
    // A horizontal gray ramp over a quarter of the range: 8-bit output would have 64 levels.
    let mut rows = Vec::with_capacity(w as usize * h as usize * 6);
    for _ in 0..h {
        for x in 0..w {
            let v = (16384 + x * 16) as u16;
            for _ in 0..3 {
                rows.extend_from_slice(&v.to_ne_bytes());
            }
        }
    }
    let info = stripflow::ImageInfo { width: w, height: h, format: PixelFormat::RGB16 };
    let mut source = stripflow::pipeline::MemorySource::new(info, rows).unwrap();
    let encoder = AvifEncoder { quality: 100, bit_depth: AvifBitDepth::Ten, effort: 6, ..Default::default() };
    let avif = dir.path().join("ramp.avif");
    std::fs::write(&avif, encode(&encoder, &mut source)).unwrap();
    let png = dir.path().join("ramp.png");
    let decoded = if run("avifdec", &["-d", "16", avif.to_str().unwrap(), png.to_str().unwrap()]) {
        "avifdec"
    } else if run("vips", &["copy", avif.to_str().unwrap(), png.to_str().unwrap()]) {
        "vips"
    } else {
        println!("note: neither avifdec nor vips decodes AVIF at 16 bits here; skipped");
        return;
    };
    let image = decode_png(&png).to_rgb16();
    let mut levels: Vec<u16> = image.as_raw().chunks_exact(3).take(w as usize).map(|p| p[1]).collect();
    levels.dedup();
    println!("{decoded}: {} distinct levels on the first row", levels.len());
    assert!(levels.len() > 160, "{decoded}: only {} levels (8 bits would give 64, 10 bits 256)", levels.len());
}

fn limits_message<T: std::fmt::Debug>(r: stripflow::Result<T>) -> String {
    match r {
        Err(Error::Limits(m)) => m,
        other => panic!("expected a limits error, got {other:?}"),
    }
}

/// A valid tiny baseline JPEG whose frame header claims `width` x `height`: planning reads the
/// header only, so a plan refused "before decoding" never notices the pixels are missing.
fn jpeg_claiming(width: u16, height: u16) -> PathBuf {
    let path = fixtures::jpeg(16, 16, JpegSpec::default(), 1);
    let mut bytes = std::fs::read(path).unwrap();
    let sof = bytes.windows(2).position(|m| m == [0xFF, 0xC0]).expect("a baseline SOF0");
    bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    let out = fixtures::cache_dir().join(format!("claims-{width}x{height}.jpg"));
    std::fs::write(&out, bytes).unwrap();
    out
}

#[test]
fn a_full_size_16000_square_avif_is_refused_before_decoding() {
    let path = jpeg_claiming(16000, 16000);
    let m = limits_message(Pipeline::open(&path).unwrap().format(Format::Avif).plan());
    println!("{m}");
    assert!(m.starts_with("AVIF output 16000x16000 needs about"), "{m}");
    assert!(m.contains("over the budget of 256.00 MiB") && m.contains("stream at any size"), "{m}");
    // The same job to JPEG streams within the budget.
    Pipeline::open(&path).unwrap().format(Format::Jpeg).plan().unwrap();
}

#[test]
fn a_2048_wide_avif_from_an_8192_square_jpeg_fits_the_default_budget() {
    let path = fixtures::jpeg(8192, 8192, JpegSpec::default(), 1);
    let plan = Pipeline::open(&path).unwrap().resize_to(Some(2048), None).format(Format::Avif).plan().unwrap();
    println!("{plan}");
    assert_eq!((plan.output.width, plan.output.height), (2048, 2048));
    assert_eq!(plan.shrink_on_load, 2, "JPEG shrink-on-load leaves 2x for the resize");
    let encode = plan.stages.iter().find(|s| s.name == "avif encode").unwrap();
    assert!(plan.heap_bytes <= 256 << 20 && encode.heap_bytes > 2048 * 2048 * 3, "{plan}");
}

/// Threads alive in this process (Linux: one entry per thread in /proc/self/task).
fn threads_now() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

#[test]
fn an_encode_starts_no_more_threads_than_asked() {
    if threads_now() == 0 {
        println!("note: no /proc/self/task here; skipped");
        return;
    }
    // Other tests of this binary run in parallel threads: this one runs in a child process of
    // its own (the test binary re-run with a filter and this variable).
    if std::env::var_os("STRIPFLOW_AVIF_THREADS_CHILD").is_none() {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "an_encode_starts_no_more_threads_than_asked", "--nocapture", "--test-threads=1"])
            .env("STRIPFLOW_AVIF_THREADS_CHILD", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        println!("{text}");
        assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
        return;
    }
    for threads in [1, 2, 3] {
        let watching = Arc::new(AtomicBool::new(true));
        let peak = Arc::new(AtomicUsize::new(0));
        let watcher = {
            let (watching, peak) = (watching.clone(), peak.clone());
            std::thread::spawn(move || {
                while watching.load(Ordering::Relaxed) {
                    peak.fetch_max(threads_now(), Ordering::Relaxed);
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        let before = threads_now(); // this thread and the watcher
        let encoder = AvifEncoder { threads, effort: 9, ..Default::default() };
        // With alpha: rav1e encodes colour and alpha at once, the case where ravif's own thread
        // setting would start a pool per context.
        encode(&encoder, &mut Synthetic::new(256, 256, PixelFormat::RGBA8, 1));
        watching.store(false, Ordering::Relaxed);
        watcher.join().unwrap();
        let extra = peak.load(Ordering::Relaxed) - before;
        println!("threads {threads}: {extra} extra threads at the peak");
        assert!(extra <= threads, "asked for {threads} threads, saw {extra} more");
        assert!(extra >= 1, "the encoder runs in a pool of its own");
    }
}
