//! Round trips of the baseline encoder through independent decoders (jpeg-decoder; djpeg where
//! installed), the portable and AVX2 kernels against each other, and file size against cjpeg.

use std::io::Write;
use std::process::{Command, Stdio};

use super::encode;
use crate::simd::FORCE_PORTABLE;
use crate::codec::jpeg::Subsampling;
use crate::codec::Embedded;
use crate::pipeline::RowSource;
use crate::pixel::PixelFormat;
use crate::synth::Synthetic;

const SUBSAMPLINGS: [Subsampling; 3] = [Subsampling::S444, Subsampling::S422, Subsampling::S420];

fn source(width: u32, height: u32, gray: bool) -> Synthetic {
    Synthetic::new(width, height, if gray { PixelFormat::GRAY8 } else { PixelFormat::RGB8 }, 2)
}

fn pixels(width: u32, height: u32, gray: bool) -> Vec<u8> {
    let mut s = source(width, height, gray);
    let mut all = vec![0; s.info().row_bytes() * height as usize];
    s.read_rows(&mut all).unwrap();
    all
}

fn encoded(width: u32, height: u32, gray: bool, quality: u8, subsampling: Subsampling) -> Vec<u8> {
    let mut out = Vec::new();
    encode(&mut source(width, height, gray), &mut out, quality, subsampling, &Embedded::default()).unwrap();
    out
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mse = a.iter().zip(b).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum::<f64>() / a.len() as f64;
    10.0 * (255.0 * 255.0 / mse.max(1e-9)).log10()
}

fn decode(bytes: &[u8]) -> (Vec<u8>, u16, u16) {
    let mut d = jpeg_decoder::Decoder::new(bytes);
    let pixels = d.decode().unwrap();
    let info = d.info().unwrap();
    (pixels, info.width, info.height)
}

/// PSNR of jpeg-encoder's file (progressive, the same Annex K tables at the same quality),
/// decoded by jpeg-decoder: the bar our baseline file must reach.
fn reference_psnr(width: u32, height: u32, gray: bool, quality: u8, subsampling: Subsampling) -> f64 {
    let mut out = Vec::new();
    let encoder = crate::codec::jpeg::JpegEncoder { quality, subsampling, progressive: true, ..Default::default() };
    encoder.encode(&mut source(width, height, gray), &mut out).unwrap();
    psnr(&decode(&out).0, &pixels(width, height, gray))
}

#[test]
fn round_trips_through_jpeg_decoder_at_every_sampling_and_odd_sizes() {
    for (width, height) in [(1, 1), (17, 9), (4097, 19), (203, 117)] {
        for quality in [85, 95] {
            for gray in [false, true] {
                for subsampling in SUBSAMPLINGS {
                    if gray && subsampling != Subsampling::S420 {
                        continue;
                    }
                    let bytes = encoded(width, height, gray, quality, subsampling);
                    let (decoded, w, h) = decode(&bytes);
                    assert_eq!((w as u32, h as u32), (width, height));
                    let p = psnr(&decoded, &pixels(width, height, gray));
                    let bar = reference_psnr(width, height, gray, quality, subsampling) - 0.1;
                    let what = format!("{width}x{height} q{quality} gray {gray} {}", subsampling.name());
                    assert!(p >= bar, "{what}: PSNR {p:.2} dB, jpeg-encoder's {:.2}", bar + 0.1);
                }
            }
        }
    }
}

#[test]
fn avx2_and_portable_kernels_write_the_same_bytes() {
    for (width, height) in [(1, 1), (17, 9), (4097, 19), (333, 47)] {
        for gray in [false, true] {
            for subsampling in SUBSAMPLINGS {
                let fast = encoded(width, height, gray, 85, subsampling);
                FORCE_PORTABLE.with(|f| f.set(true));
                let portable = encoded(width, height, gray, 85, subsampling);
                FORCE_PORTABLE.with(|f| f.set(false));
                assert!(fast == portable, "{width}x{height} gray {gray} {}: the files differ", subsampling.name());
            }
        }
    }
}

/// Runs `tool args` with `input` on stdin; None (with a note) if the tool is missing.
fn pipe(tool: &str, args: &[&str], input: &[u8]) -> Option<Vec<u8>> {
    let Ok(mut child) = Command::new(tool).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn() else {
        eprintln!("note: {tool} is not installed; skipped");
        return None;
    };
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{tool} failed");
    Some(out.stdout)
}

/// The pixels of a binary PPM or PGM.
fn netpbm_pixels(bytes: &[u8]) -> &[u8] {
    let mut fields = 0;
    let mut i = 0;
    while fields < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields += 1;
    }
    &bytes[i + 1..]
}

/// The synthetic image as a binary PPM.
fn ppm(width: u32, height: u32) -> Vec<u8> {
    let mut ppm = format!("P6\n{width} {height}\n255\n").into_bytes();
    ppm.extend_from_slice(&pixels(width, height, false));
    ppm
}

#[test]
fn djpeg_decodes_it_as_well_as_cjpeg_files() {
    let (width, height) = (203, 117);
    let source = pixels(width, height, false);
    for (quality, subsampling, sample) in [(85, Subsampling::S444, "1x1"), (85, Subsampling::S422, "2x1"), (95, Subsampling::S420, "2x2")] {
        let q = quality.to_string();
        let Some(theirs) = pipe("cjpeg", &["-quality", &q, "-sample", sample], &ppm(width, height)) else { return };
        let ours = encoded(width, height, false, quality, subsampling);
        let Some(ours_decoded) = pipe("djpeg", &[], &ours) else { return };
        let theirs_decoded = pipe("djpeg", &[], &theirs).unwrap();
        let (p, bar) = (psnr(netpbm_pixels(&ours_decoded), &source), psnr(netpbm_pixels(&theirs_decoded), &source));
        eprintln!("q{quality} {}: PSNR through djpeg: ours {p:.2} dB, cjpeg's {bar:.2} dB", subsampling.name());
        assert!(p >= bar - 0.1, "{}: PSNR {p:.2} dB vs cjpeg's {bar:.2}", subsampling.name());
    }
}

#[test]
fn file_size_is_within_a_few_percent_of_cjpeg() {
    let (width, height) = (1024, 768);
    let ppm = ppm(width, height);
    for (quality, subsampling, sample) in [(85, Subsampling::S420, "2x2"), (95, Subsampling::S444, "1x1")] {
        let q = quality.to_string();
        let Some(theirs) = pipe("cjpeg", &["-quality", &q, "-sample", sample], &ppm) else { return };
        let ours = encoded(width, height, false, quality, subsampling);
        let ratio = ours.len() as f64 / theirs.len() as f64;
        eprintln!("q{quality} {}: ours {} bytes, cjpeg {} bytes, ratio {ratio:.4}", subsampling.name(), ours.len(), theirs.len());
        assert!((0.97..=1.03).contains(&ratio), "ours {} vs cjpeg {}", ours.len(), theirs.len());
    }
}


#[test]
fn pushed_rows_give_the_pulled_file_and_a_wrong_row_count_is_an_error() {
    use super::RowWriter;
    use crate::pixel::ImageInfo;
    let (width, height) = (203, 37);
    for gray in [false, true] {
        let info = ImageInfo { width, height, format: if gray { PixelFormat::GRAY8 } else { PixelFormat::RGB8 } };
        let rows = pixels(width, height, gray);
        let mut pushed = Vec::new();
        let mut jpeg = RowWriter::new(info, 80, Subsampling::S420, &Embedded::default(), &mut pushed).unwrap();
        for row in rows.chunks_exact(info.row_bytes()) {
            jpeg.push_row(row, &mut pushed).unwrap();
        }
        jpeg.finish(&mut pushed).unwrap();
        assert_eq!(pushed, encoded(width, height, gray, 80, Subsampling::S420));

        let mut short = Vec::new();
        let mut jpeg = RowWriter::new(info, 80, Subsampling::S420, &Embedded::default(), &mut short).unwrap();
        jpeg.push_row(&rows[..info.row_bytes()], &mut short).unwrap();
        assert!(jpeg.push_row(&rows[..info.row_bytes() - 1], &mut short).is_err());
        assert!(jpeg.finish(&mut short).is_err());
    }
}
