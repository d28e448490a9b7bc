//! Lenient decoding ([`FailOn`]): damaged JPEG scan data and PNG image data against libjpeg-turbo's
//! `djpeg` (skipped with a note when missing) and against what the intact file decodes to.
//!
//! * JPEG: single bits flipped in the scan data of a few files (400 cases). Whatever djpeg
//!   decodes, with or without warnings, the lenient levels decode to the same size; the strict
//!   level (the default) fails whenever damage had to be passed over; no case panics or hangs.
//! * PNG: a bad IDAT CRC, a corrupt zlib stream and a truncated IDAT: lenient decoding gives the
//!   rows the data holds and zero rows after; strict decoding fails.

mod support;

use std::process::{Command, Stdio};

use jpeg_encoder::SamplingFactor;
use stripflow::codec::jpeg::{DecodeOptions, JpegDecoder};
use stripflow::codec::png::{PngDecodeOptions, PngDecoder};
use stripflow::codec::FailOn;
use stripflow::io::Input;
use stripflow::pipeline::drain;
use stripflow::pixel::PixelFormat;
use stripflow::{Error, RowSource};
use support::fixtures::{self, JpegSpec};
use support::hostile::crc32;

/// Decoded pixels: width, height, samples.
#[derive(Debug, Clone, PartialEq)]
struct Image {
    width: usize,
    height: usize,
    data: Vec<u8>,
}

fn drain_all(decoder: &mut dyn RowSource) -> Result<Image, Error> {
    let info = decoder.info();
    let mut data = Vec::new();
    drain(decoder, 16, |s, _| {
        data.extend_from_slice(s);
        Ok(())
    })?;
    Ok(Image { width: info.width as usize, height: info.height as usize, data })
}

/// Decodes a JPEG at a fail-on level; with the number of damaged places passed over.
fn decode_jpeg(bytes: &[u8], fail_on: FailOn) -> Result<(Image, u32), Error> {
    let options = DecodeOptions { fail_on, ..Default::default() };
    let mut decoder = JpegDecoder::new(Input::from_bytes(bytes.to_vec()), options)?;
    let image = drain_all(&mut decoder)?;
    Ok((image, decoder.faults().0))
}

fn decode_png(bytes: &[u8], fail_on: FailOn) -> Result<Image, Error> {
    let mut decoder = PngDecoder::with_options(Input::from_bytes(bytes.to_vec()), PngDecodeOptions { fail_on, ..Default::default() })?;
    drain_all(&mut decoder)
}

fn psnr(a: &Image, b: &Image) -> f64 {
    let mse: f64 = a.data.iter().zip(&b.data).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum::<f64>()
        / a.data.len().max(1) as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

fn have_djpeg() -> bool {
    Command::new("djpeg").arg("-version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// What djpeg makes of a file.
enum Djpeg {
    /// Decoded without a warning (exit 0).
    Clean(Image),
    /// Decoded with "Corrupt JPEG data" warnings (exit 2).
    Warned(Image),
    /// Refused (exit 1).
    Failed,
}

fn djpeg(bytes: &[u8]) -> Djpeg {
    let output = support::run_piped("djpeg", &["-ppm"], bytes);
    let image = || parse_ppm(&output.stdout);
    match output.status.code() {
        Some(0) => Djpeg::Clean(image()),
        Some(2) if !output.stdout.is_empty() => Djpeg::Warned(image()),
        _ => Djpeg::Failed,
    }
}

fn parse_ppm(bytes: &[u8]) -> Image {
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(std::str::from_utf8(&bytes[start..i]).unwrap().to_string());
    }
    let (width, height): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let channels = if fields[0] == "P5" { 1 } else { 3 };
    Image { width, height, data: bytes[i + 1..i + 1 + width * height * channels].to_vec() }
}

/// Byte ranges of every scan's entropy-coded data (after each SOS header, up to the next marker
/// that is not a restart marker).
fn scan_data(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut pos = 2;
    while pos + 4 <= bytes.len() {
        assert_eq!(bytes[pos], 0xFF, "marker expected at {pos}");
        let marker = bytes[pos + 1];
        if marker == 0xD9 {
            break;
        }
        let len = u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]) as usize;
        pos += 2 + len;
        if marker == 0xDA {
            let start = pos;
            while bytes[pos] != 0xFF || matches!(bytes[pos + 1], 0x00 | 0xD0..=0xD7) {
                pos += 1;
            }
            ranges.push(start..pos);
        }
    }
    ranges
}

/// A xorshift generator: the cases are the same on every run.
struct Rng(u32);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
}

#[test]
fn flipped_bits_in_jpeg_scans_decode_leniently_as_djpeg_does() {
    let sources = [
        fixtures::jpeg(160, 120, JpegSpec::default(), 21),
        fixtures::jpeg(160, 120, JpegSpec { progressive: true, ..JpegSpec::default() }, 22),
        fixtures::jpeg(160, 120, JpegSpec { restart_interval: 4, ..JpegSpec::default() }, 23),
        fixtures::jpeg(161, 97, JpegSpec { sampling: SamplingFactor::F_2_1, quality: 95, ..JpegSpec::default() }, 24),
    ];
    let with_djpeg = have_djpeg();
    if !with_djpeg {
        println!("note: djpeg not found; checked without it (Debian: apt-get install libjpeg-turbo-progs)");
    }
    let mut rng = Rng(0x2545_F491);
    let (mut cases, mut strict_failed, mut djpeg_warned, mut djpeg_failed, mut psnrs) = (0, 0, 0, 0, Vec::new());
    let mut djpeg_undefined = 0;
    for path in &sources {
        let bytes = std::fs::read(path).unwrap();
        let intact = decode_jpeg(&bytes, FailOn::Error).unwrap().0;
        let scans = scan_data(&bytes);
        let total: usize = scans.iter().map(|r| r.len()).sum();
        for _ in 0..100 {
            // A uniformly chosen byte of scan data, one bit of it flipped.
            let mut at = rng.next() as usize % total;
            let range = scans.iter().find(|r| at < r.len() || { at -= r.len(); false }).unwrap();
            let at = range.start + at;
            let mut damaged = bytes.clone();
            damaged[at] ^= 1 << (rng.next() % 8);
            cases += 1;
            let label = format!("{} byte {at}", path.display());

            let strict = decode_jpeg(&damaged, FailOn::Error);
            let truncated_level = decode_jpeg(&damaged, FailOn::Truncated);
            let none_level = decode_jpeg(&damaged, FailOn::None);
            // Strict fails exactly when damage had to be passed over.
            match (&strict, &none_level) {
                (Ok((image, 0)), Ok((lenient, 0))) => assert!(image == lenient, "{label}: strict and lenient differ"),
                (Err(e), Ok((_, faults))) => {
                    assert!(matches!(e, Error::Format { .. }), "{label}: {e}");
                    assert!(*faults > 0, "{label}: strict fails ({e}) but lenient saw no damage");
                    strict_failed += 1;
                }
                (Err(_), Err(_)) => {}
                (a, b) => panic!(
                    "{label}: strict {:?} / {:?} faults, lenient {:?} / {:?} faults",
                    a.as_ref().err(),
                    a.as_ref().ok().map(|r| r.1),
                    b.as_ref().err(),
                    b.as_ref().ok().map(|r| r.1)
                ),
            }
            // A flip inside a complete file is corruption, not truncation: `truncated` passes it.
            match (&truncated_level, &none_level) {
                (Ok(a), Ok(b)) => assert!(a.0 == b.0, "{label}: truncated and none levels differ"),
                (Err(_), Err(_)) => {}
                (a, b) => panic!("{label}: truncated level {:?}, none level {:?}", a.as_ref().err(), b.as_ref().err()),
            }
            if !with_djpeg {
                continue;
            }
            let ours = none_level.as_ref().ok().map(|r| &r.0);
            match djpeg(&damaged) {
                Djpeg::Clean(reference) => {
                    let ours = ours.unwrap_or_else(|| panic!("{label}: djpeg decodes cleanly, we fail"));
                    assert_eq!((ours.width, ours.height), (reference.width, reference.height), "{label}");
                    // Valid data after the flip: decoded exactly as djpeg does (as the intact file is).
                    assert!(intact == djpeg_image(&bytes), "{}: intact file differs from djpeg", path.display());
                    if ours.data != reference.data {
                        // Where the flip inflates coefficients past 16 bits, libjpeg-turbo's SIMD
                        // IDCT (16-bit lanes) and its C IDCT disagree with each other: "as djpeg
                        // does" is then undefined, and only closeness is asked.
                        let scalar = support::run_piped("env", &["JSIMD_FORCENONE=1", "djpeg", "-ppm"], &damaged);
                        let scalar = parse_ppm(&scalar.stdout);
                        assert!(scalar.data != reference.data, "{label}: differs from djpeg (whose SIMD and C paths agree)");
                        djpeg_undefined += 1;
                        psnrs.push(psnr(ours, &reference));
                    }
                }
                Djpeg::Warned(reference) => {
                    djpeg_warned += 1;
                    let ours = ours.unwrap_or_else(|| panic!("{label}: djpeg decodes with warnings, we fail"));
                    assert_eq!((ours.width, ours.height), (reference.width, reference.height), "{label}");
                    psnrs.push(psnr(ours, &reference));
                }
                Djpeg::Failed => djpeg_failed += 1,
            }
        }
    }
    psnrs.sort_by(f64::total_cmp);
    let median = psnrs.get(psnrs.len() / 2).copied().unwrap_or(f64::NAN);
    println!(
        "{cases} flipped bits: strict fails {strict_failed}; djpeg warns on {djpeg_warned} (we decode all, \
         PSNR vs djpeg median {median:.1} dB, min {:.1} dB), djpeg fails on {djpeg_failed}, \
         djpeg's SIMD and C paths disagree on {djpeg_undefined}",
        psnrs.first().copied().unwrap_or(f64::NAN)
    );
    assert_eq!(cases, 400);
}

fn djpeg_image(bytes: &[u8]) -> Image {
    match djpeg(bytes) {
        Djpeg::Clean(image) => image,
        _ => panic!("djpeg fails on an intact fixture"),
    }
}

#[test]
fn lenient_jpeg_stops_reading_a_corrupt_scan_early() {
    // A file whose scan data ends after 40 bytes, followed by EOI: strict fails; lenient levels
    // pass over it once (one fault: the cursor stops, it does not fault again block by block)
    // and render the rest mid-grey.
    let path = fixtures::jpeg(64, 64, JpegSpec::default(), 3);
    let bytes = std::fs::read(path).unwrap();
    let scan = scan_data(&bytes)[0].clone();
    let mut damaged = bytes[..scan.start + 40].to_vec();
    damaged.extend([0xFF, 0xD9]);
    assert!(matches!(decode_jpeg(&damaged, FailOn::Error), Err(Error::Format { .. })));
    assert!(matches!(decode_jpeg(&damaged, FailOn::Truncated), Ok((_, 1))), "a complete file: corruption");
    let (image, faults) = decode_jpeg(&damaged, FailOn::None).unwrap();
    assert_eq!(faults, 1);
    let last_row = &image.data[image.data.len() - 64 * 3..];
    assert!(last_row.iter().all(|&v| v == 128), "rows after the damage are mid-grey");
    // Cut off without EOI: truncation, which only `none` renders.
    let cut = &bytes[..scan.start + 40];
    assert!(decode_jpeg(cut, FailOn::Truncated).is_err());
    assert!(decode_jpeg(cut, FailOn::None).is_ok());
}

#[test]
fn lenient_jpeg_resumes_at_the_next_restart_marker() {
    let path = fixtures::jpeg(160, 120, JpegSpec { restart_interval: 4, ..JpegSpec::default() }, 23);
    let bytes = std::fs::read(path).unwrap();
    let intact = decode_jpeg(&bytes, FailOn::Error).unwrap().0;
    let scan = scan_data(&bytes)[0].clone();
    // Restart markers of the scan; damage the interval after the third one with sixteen bytes of
    // ones (FF 00 stuffed), which no Huffman table decodes.
    let restarts: Vec<usize> =
        (scan.start..scan.end - 1).filter(|&i| bytes[i] == 0xFF && (0xD0..=0xD7).contains(&bytes[i + 1])).collect();
    assert!(restarts.len() > 8);
    let mut damaged = bytes.clone();
    let at = restarts[2] + 2;
    assert!(restarts[3] - at > 20);
    for pair in damaged[at..at + 16].chunks_exact_mut(2) {
        pair.copy_from_slice(&[0xFF, 0x00]);
    }
    assert!(matches!(decode_jpeg(&damaged, FailOn::Error), Err(Error::Format { .. })));
    let (image, faults) = decode_jpeg(&damaged, FailOn::Truncated).unwrap();
    assert_eq!(faults, 1);
    // The damaged interval holds MCUs 12..16 (10 MCUs a row): MCU row 1, image rows 16..32,
    // and one row each side through fancy upsampling of chroma. Every other row is as in the
    // intact file: decoding resumed at the next restart marker.
    let row = 160 * 3;
    let differing: Vec<usize> =
        (0..120).filter(|&y| image.data[y * row..][..row] != intact.data[y * row..][..row]).collect();
    assert_eq!(differing, (15..=32).collect::<Vec<_>>());
}

/// Offsets of the chunks of a PNG: (type, start of the length field, data range).
fn png_chunks(bytes: &[u8]) -> Vec<([u8; 4], usize, std::ops::Range<usize>)> {
    let mut chunks = Vec::new();
    let mut pos = 8;
    while pos + 12 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        let kind: [u8; 4] = bytes[pos + 4..pos + 8].try_into().unwrap();
        chunks.push((kind, pos, pos + 8..pos + 8 + len));
        pos += 12 + len;
    }
    chunks
}

/// Rows of `image` that equal the intact decode, counted from the top.
fn matching_rows(image: &Image, intact: &Image) -> usize {
    let row = intact.data.len() / intact.height;
    image.data.chunks(row).zip(intact.data.chunks(row)).take_while(|(a, b)| a == b).count()
}

#[test]
fn damaged_png_gives_its_rows_then_zeros_when_lenient() {
    let path = fixtures::png(300, 200, PixelFormat::RGB8, 5);
    let bytes = std::fs::read(path).unwrap();
    let intact = decode_png(&bytes, FailOn::Error).unwrap();
    let chunks = png_chunks(&bytes);
    // The IDAT chunk in the middle of the image data (the encoder writes many small ones).
    let idats: Vec<_> = chunks.iter().filter(|c| &c.0 == b"IDAT").collect();
    assert!(idats.len() > 4);
    let (_, idat_at, idat) = idats[idats.len() / 2].clone();

    // A wrong CRC on intact data: strict fails, lenient levels decode it all.
    let mut bad_crc = bytes.clone();
    bad_crc[idat.end] ^= 0x55;
    assert!(matches!(decode_png(&bad_crc, FailOn::Error), Err(Error::Format { .. })));
    assert_eq!(decode_png(&bad_crc, FailOn::Truncated).unwrap(), intact);
    assert_eq!(decode_png(&bad_crc, FailOn::None).unwrap(), intact);

    // Image data cut in the middle (the file ends there): the rows before, then zero rows.
    let cut = &bytes[..idat.start + idat.len() / 2];
    assert!(matches!(decode_png(cut, FailOn::Error), Err(Error::Format { .. })));
    assert!(matches!(decode_png(cut, FailOn::Truncated), Err(Error::Format { .. })));
    let image = decode_png(cut, FailOn::None).unwrap();
    assert_eq!((image.width, image.height), (300, 200));
    let good = matching_rows(&image, &intact);
    assert!((50..200).contains(&good), "{good} rows decoded");
    let row = 300 * 3;
    assert!(image.data[(good + 1) * row..].iter().all(|&b| b == 0), "rows after the damage are zero");

    // Garbage in the middle of the zlib stream (with a correct CRC: corruption, not truncation).
    let mut corrupt = bytes.clone();
    let middle = idat.start + idat.len() / 2;
    for b in &mut corrupt[middle..middle + 64] {
        *b = 0xFF;
    }
    let crc = crc32(&corrupt[idat_at + 4..idat.end]);
    corrupt[idat.end..idat.end + 4].copy_from_slice(&crc.to_be_bytes());
    assert!(matches!(decode_png(&corrupt, FailOn::Error), Err(Error::Format { .. })));
    for level in [FailOn::Truncated, FailOn::None] {
        let image = decode_png(&corrupt, level).unwrap();
        let good = matching_rows(&image, &intact);
        assert!((50..200).contains(&good), "{level}: {good} rows decoded");
        assert!(image.data[(good + 1) * row..].iter().all(|&b| b == 0), "{level}: zero rows after the damage");
    }
}
