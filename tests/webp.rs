//! WebP output through the public API: round trips decoded by the image crate's WebP decoder and,
//! where installed, libwebp's `dwebp` (exact for lossless, a PSNR bound for lossy q80), the
//! library each build uses, and the planner's answer for whole-frame WebP jobs: a full-size
//! 16000x16000 frame refused before any row is decoded, cards and thumbnails accepted.

mod support;

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use stripflow::codec::webp::{WebpEncoder, WebpLibrary};
use stripflow::ops::convert::Convert;
use stripflow::prelude::*;
use stripflow::synth::Synthetic;
use support::fixtures::{self, JpegSpec};

/// Lossy WebP at quality 80 of the photo-like sample is at least this close to its input.
const LOSSY_Q80_MIN_PSNR_DB: f64 = 30.0;

/// The 8-bit RGB(A) pixels WebP is given for a synthetic `format` image.
fn expected_pixels(width: u32, height: u32, format: PixelFormat, seed: u32) -> (Vec<u8>, bool) {
    let alpha = format.color.has_alpha();
    let target = if alpha { PixelFormat::RGBA8 } else { PixelFormat::RGB8 };
    let mut converted = Convert::new(Synthetic::new(width, height, format, seed), target, [0, 0, 0]);
    let mut pixels = vec![0u8; target.row_bytes(width) * height as usize];
    converted.read_rows(&mut pixels).unwrap();
    (pixels, alpha)
}

/// A decoded WebP: size, whether it has alpha, and its pixels as RGB or RGBA bytes.
struct Decoded {
    width: u32,
    height: u32,
    alpha: bool,
    pixels: Vec<u8>,
}

/// Decodes with the image crate's WebP decoder (image-webp).
fn decode_with_image_crate(webp: &[u8]) -> Decoded {
    let image = image::load_from_memory_with_format(webp, image::ImageFormat::WebP).expect("image crate decodes");
    let alpha = image.color().has_alpha();
    let pixels = if alpha { image.to_rgba8().into_raw() } else { image.to_rgb8().into_raw() };
    Decoded { width: image.width(), height: image.height(), alpha, pixels }
}

/// Decodes with libwebp's `dwebp` to PAM (RGBA), or `None` with a note when it is missing.
fn decode_with_dwebp(webp: &[u8]) -> Option<Decoded> {
    if Command::new("dwebp").arg("-version").output().is_err() {
        println!("note: dwebp is not installed (Debian package `webp`); skipping its check");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.webp");
    let output = dir.path().join("out.pam");
    std::fs::write(&input, webp).unwrap();
    let status = Command::new("dwebp").arg("-quiet").arg(&input).arg("-pam").arg("-o").arg(&output).status().unwrap();
    assert!(status.success(), "dwebp failed");
    let pam = std::fs::read(&output).unwrap();
    let end = pam.windows(7).position(|w| w == b"ENDHDR\n").expect("PAM header") + 7;
    let header = std::str::from_utf8(&pam[..end]).unwrap();
    let field = |name: &str| -> u32 {
        header.lines().find_map(|l| l.strip_prefix(name)).unwrap().trim().parse().unwrap()
    };
    let (width, height) = (field("WIDTH "), field("HEIGHT "));
    assert_eq!(field("DEPTH "), 4);
    Some(Decoded { width, height, alpha: true, pixels: pam[end..].to_vec() })
}

/// `decoded` as RGBA when `with_alpha`, else RGB (dropping an opaque alpha channel dwebp adds).
fn channels(decoded: &Decoded, with_alpha: bool) -> Vec<u8> {
    match (decoded.alpha, with_alpha) {
        (true, false) => decoded.pixels.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
        (false, true) => decoded.pixels.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect(),
        _ => decoded.pixels.clone(),
    }
}

/// PSNR in dB of the colour channels of pixels whose expected alpha is not zero.
fn psnr(expected: &[u8], got: &[u8], alpha: bool) -> f64 {
    let n = if alpha { 4 } else { 3 };
    let (mut sum, mut count) = (0f64, 0f64);
    for (e, g) in expected.chunks_exact(n).zip(got.chunks_exact(n)) {
        if alpha && e[3] == 0 {
            continue;
        }
        for c in 0..3 {
            let d = e[c] as f64 - g[c] as f64;
            sum += d * d;
            count += 1.0;
        }
    }
    10.0 * (255.0f64 * 255.0 / (sum / count).max(1e-9)).log10()
}

fn encode(recipe: Recipe, width: u32, height: u32, format: PixelFormat, seed: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let stats = recipe.format(Format::Webp).rows(Box::new(Synthetic::new(width, height, format, seed))).write_to(&mut out).unwrap();
    assert_eq!((stats.output.width, stats.output.height), (width, height));
    assert!(out.starts_with(b"RIFF") && &out[8..12] == b"WEBP");
    out
}

/// The WebP chunk kind after the RIFF header ("VP8 ", "VP8L" or "VP8X").
fn chunk(webp: &[u8]) -> &[u8] {
    &webp[12..16]
}

#[test]
fn lossless_round_trips_exactly() {
    let mut encoders = vec![("registry", None)];
    // Both libraries, when this build has libwebp.
    encoders.push(("image-webp", Some(WebpEncoder { lossless: true, library: WebpLibrary::ImageWebp, ..Default::default() })));
    if cfg!(feature = "webp-lossy") {
        encoders.push(("libwebp effort 6", Some(WebpEncoder { lossless: true, effort: 6, library: WebpLibrary::Libwebp, ..Default::default() })));
    }
    for (name, encoder) in encoders {
        for format in [PixelFormat::RGB8, PixelFormat::RGBA8, PixelFormat::GRAY8, PixelFormat::RGBA16, PixelFormat::GRAYA8] {
            let (w, h) = (97, 61);
            let recipe = match encoder {
                None => Recipe::new().lossless(true),
                Some(e) => Recipe::new().encoder(e),
            };
            let webp = encode(recipe, w, h, format, 4);
            let (expected, alpha) = expected_pixels(w, h, format, 4);
            let decoded = decode_with_image_crate(&webp);
            assert_eq!((decoded.width, decoded.height), (w, h), "{name} {format}");
            assert_eq!(decoded.alpha, alpha, "{name} {format}: alpha");
            assert!(channels(&decoded, alpha) == expected, "{name} {format}: image crate decodes other pixels");
            if let Some(decoded) = decode_with_dwebp(&webp) {
                assert_eq!((decoded.width, decoded.height), (w, h));
                assert!(channels(&decoded, alpha) == expected, "{name} {format}: dwebp decodes other pixels");
            }
        }
    }
}

#[cfg(feature = "webp-lossy")]
#[test]
fn lossy_q80_round_trips_within_the_psnr_bound() {
    for format in [PixelFormat::RGB8, PixelFormat::RGBA8, PixelFormat::GRAY16] {
        let (w, h) = (320, 200);
        let webp = encode(Recipe::new().quality(80), w, h, format, 9);
        assert_eq!(chunk(&webp), if format.color.has_alpha() { b"VP8X" } else { b"VP8 " });
        let (expected, alpha) = expected_pixels(w, h, format, 9);
        let decoded = decode_with_image_crate(&webp);
        assert_eq!((decoded.width, decoded.height, decoded.alpha), (w, h, alpha), "{format}");
        let got = channels(&decoded, alpha);
        let db = psnr(&expected, &got, alpha);
        println!("{format} lossy q80: PSNR {db:.2} dB (image crate)");
        assert!(db >= LOSSY_Q80_MIN_PSNR_DB, "{format}: PSNR {db:.2} dB");
        if alpha {
            // Alpha quality 100 (the default) keeps the alpha plane lossless.
            let a = |p: &[u8]| p.chunks_exact(4).map(|p| p[3]).collect::<Vec<u8>>();
            assert!(a(&got) == a(&expected), "{format}: alpha changed");
        }
        if let Some(decoded) = decode_with_dwebp(&webp) {
            let db_dwebp = psnr(&expected, &channels(&decoded, alpha), alpha);
            println!("{format} lossy q80: PSNR {db_dwebp:.2} dB (dwebp)");
            assert!(db_dwebp >= LOSSY_Q80_MIN_PSNR_DB, "{format}: PSNR {db_dwebp:.2} dB (dwebp)");
        }
    }
    // Higher quality is closer; smart subsampling and a lower alpha quality still decode.
    let (expected, _) = expected_pixels(320, 200, PixelFormat::RGB8, 9);
    let q95 = decode_with_image_crate(&encode(Recipe::new().quality(95).smart_subsample(true).effort(6), 320, 200, PixelFormat::RGB8, 9));
    let q30 = decode_with_image_crate(&encode(Recipe::new().quality(30).effort(0), 320, 200, PixelFormat::RGB8, 9));
    assert!(psnr(&expected, &q95.pixels, false) > psnr(&expected, &q30.pixels, false) + 3.0);
    let a50 = encode(Recipe::new().alpha_quality(50), 320, 200, PixelFormat::RGBA8, 9);
    assert!(decode_with_image_crate(&a50).alpha);
    // Near-lossless is lossless compression (VP8L) that may change pixels a little.
    let near = encode(Recipe::new().near_lossless(60), 320, 200, PixelFormat::RGB8, 9);
    assert_eq!(chunk(&near), b"VP8L");
    assert!(psnr(&expected, &decode_with_image_crate(&near).pixels, false) > 40.0);
}

#[cfg(not(feature = "webp-lossy"))]
#[test]
fn without_libwebp_lossy_is_a_typed_error_naming_the_feature() {
    for recipe in [Recipe::new(), Recipe::new().quality(80), Recipe::new().lossless(true).effort(6), Recipe::new().near_lossless(50)] {
        let e = recipe.format(Format::Webp).rows(Box::new(Synthetic::new(8, 8, PixelFormat::RGB8, 1))).plan().unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
        assert!(e.to_string().contains("webp-lossy") && e.to_string().contains("--lossless"), "{e}");
    }
}

#[test]
fn options_that_do_not_apply_to_webp_are_refused() {
    let e = Recipe::new().compression(6).format(Format::Webp).rows(Box::new(Synthetic::new(8, 8, PixelFormat::RGB8, 1))).plan().unwrap_err();
    assert!(e.to_string().contains("--compression does not apply to WebP output"), "{e}");
    let e = Recipe::new().lossless(true).quality(90).format(Format::Webp).rows(Box::new(Synthetic::new(8, 8, PixelFormat::RGB8, 1))).plan().unwrap_err();
    assert!(e.to_string().contains("--quality applies to lossy WebP"), "{e}");
}

/// A source that counts the rows read from it (none may be, for a refused plan).
struct Counting {
    inner: Synthetic,
    rows: Arc<AtomicU64>,
}

impl RowSource for Counting {
    fn info(&self) -> ImageInfo {
        self.inner.info()
    }
    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        self.rows.fetch_add(1, Ordering::Relaxed);
        self.inner.read_row(row)
    }
    fn buffer_bytes(&self) -> usize {
        0
    }
    fn name(&self) -> &'static str {
        "counting"
    }
}

/// The WebP recipe this build can run: lossy with libwebp, else lossless.
fn webp_recipe() -> Recipe {
    let r = Recipe::new().format(Format::Webp);
    if cfg!(feature = "webp-lossy") {
        r.quality(80)
    } else {
        r.lossless(true)
    }
}

#[test]
fn a_full_size_16000_webp_is_refused_before_decoding() {
    let jpeg = fixtures::jpeg(16000, 16000, JpegSpec::default(), 1);
    let e = webp_recipe().open(&jpeg).unwrap().plan().unwrap_err();
    let m = e.to_string();
    println!("{m}");
    assert!(matches!(e, Error::Limits(_)), "{m}");
    assert!(m.contains("WebP output 16000x16000 needs about"), "{m}");
    let needs: f64 = m.split("needs about ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(m.contains(&format!("{needs:.2} GiB")) || (m.contains(&format!("{needs:.2} MiB")) && needs > 512.0), "{m}");
    assert!(m.contains("over the budget of 256.00 MiB"), "{m}");
    let streaming = m.split("; ").find(|part| part.contains("stream at any size")).expect("the streaming formats");
    assert!(streaming.contains("PNG") && streaming.contains("JPEG") && !streaming.contains("WebP"), "{m}");
    // The same frame from a row source: refused with no row read.
    let rows = Arc::new(AtomicU64::new(0));
    let source = Counting { inner: Synthetic::new(16000, 16000, PixelFormat::RGB8, 1), rows: rows.clone() };
    let e = webp_recipe().rows(Box::new(source)).write_to(&mut std::io::sink()).unwrap_err();
    assert!(matches!(e, Error::Limits(_)), "{e}");
    assert_eq!(rows.load(Ordering::Relaxed), 0);
}

#[test]
fn cards_and_thumbnails_fit_the_default_budget_easily() {
    let jpeg = fixtures::jpeg(4096, 4096, JpegSpec::default(), 2);
    for (w, h) in [(1200, 630), (256, 256)] {
        let pipeline = webp_recipe().resize(w, h).fit(Fit::Cover).open(&jpeg).unwrap();
        let plan = pipeline.plan().unwrap();
        println!("{w}x{h} WebP card: plan {} of heap", plan.heap_bytes);
        assert!(plan.heap_bytes < 64 << 20, "{w}x{h}: {} bytes", plan.heap_bytes);
        let mut out = Vec::new();
        pipeline.write_to(&mut out).unwrap();
        let decoded = decode_with_image_crate(&out);
        assert_eq!((decoded.width, decoded.height), (w, h));
    }
}
