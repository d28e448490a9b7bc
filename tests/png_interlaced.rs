//! Interlaced (Adam7) PNGs through the seven-cursor decoder: generated files of odd sizes, every
//! colour type and bit depth, `IDAT` chunk sizes from 1 byte up and deflate levels 0..9, against
//! the png crate's de-interlaced whole-frame decode. Then truncated and corrupted files (plain and
//! interlaced): an error every time, never a panic or a hang.

mod support;

use std::path::Path;

use stripflow::codec::png::PngDecoder;
use stripflow::io::Input;
use stripflow::pipeline::drain;
use stripflow::{BitDepth, Error, PixelFormat, RowSource};
use support::interlaced::{interlaced_png, interlaced_png_with, RawFormat};

/// The png crate's whole-frame decode (EXPAND), 16-bit made native-endian.
fn oracle(bytes: &[u8]) -> Vec<u8> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("oracle header");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).expect("oracle frame");
    buf.truncate(frame.buffer_size());
    if frame.bit_depth == png::BitDepth::Sixteen {
        for s in buf.chunks_exact_mut(2) {
            let v = u16::from_be_bytes([s[0], s[1]]);
            s.copy_from_slice(&v.to_ne_bytes());
        }
    }
    buf
}

fn decode(input: Input, strip: u32) -> stripflow::Result<Vec<u8>> {
    let mut decoder = PngDecoder::new(input)?;
    let mut out = Vec::new();
    drain(&mut decoder, strip, |s, _| {
        out.extend_from_slice(s);
        Ok(())
    })?;
    Ok(out)
}

fn check_file(path: &Path, strips: &[u32]) {
    let name = path.file_name().unwrap().to_string_lossy();
    let bytes = std::fs::read(path).unwrap();
    let expected = oracle(&bytes);
    let decoder = PngDecoder::new(Input::open(path).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(decoder.header().interlaced, "{name}");
    for &strip in strips {
        let got = decode(Input::open(path).unwrap(), strip).unwrap_or_else(|e| panic!("{name} strip {strip}: {e}"));
        assert!(got == expected, "{name}: pixels differ from the png crate at strip height {strip}");
    }
}

#[test]
fn odd_sizes_every_colour_type_and_depth() {
    let sizes = [(1, 1), (1, 13), (13, 1), (2, 2), (7, 9), (9, 7), (8, 8), (33, 17), (257, 129)];
    let mut n = 0;
    for (i, format) in RawFormat::all().into_iter().enumerate() {
        for (j, &(w, h)) in sizes.iter().enumerate() {
            check_file(&interlaced_png(w, h, format, (i * 7 + j) as u32), &[1, 7, u32::MAX]);
            n += 1;
        }
    }
    assert_eq!(n, 26 * 9);
}

#[test]
fn idat_chunk_sizes_and_deflate_levels() {
    // Tiny IDAT chunks put chunk boundaries inside every deflate structure; level 0 makes stored
    // blocks; level 9 makes long back-references that reach across pass boundaries.
    for (format, (w, h)) in [
        (RawFormat::new(2, 8), (61, 45)),
        (RawFormat::new(0, 1), (131, 67)),
        (RawFormat::new(6, 16), (40, 33)),
        (RawFormat::new(3, 4).with_trns(), (77, 50)),
    ] {
        for idat in [1, 5, 64, 1000] {
            for level in [0, 1, 6, 9] {
                check_file(&interlaced_png_with(w, h, format, 3, idat, level), &[1, u32::MAX]);
            }
        }
    }
}

#[test]
fn passes_far_beyond_the_32k_window() {
    // Several hundred KiB per pass: each cursor resumes mid-stream from a full window.
    check_file(&interlaced_png(1001, 703, PixelFormat::RGB8, 5), &[1, 16]);
    check_file(&interlaced_png(640, 480, PixelFormat::RGBA16, 6), &[1, 16]);
    check_file(&interlaced_png_with(2000, 300, RawFormat::new(0, 2), 7, 8192, 9), &[3]);
}

#[test]
fn sixteen_bit_samples_are_native_endian() {
    let path = interlaced_png(9, 9, PixelFormat::GRAY16, 1);
    let mut decoder = PngDecoder::new(Input::open(&path).unwrap()).unwrap();
    assert_eq!(decoder.info().format.depth, BitDepth::Sixteen);
    let mut row = vec![0u8; decoder.info().row_bytes()];
    decoder.read_row(&mut row).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let expected = oracle(&bytes);
    let first: &[u16] = bytemuck::cast_slice(&row);
    let want: Vec<u16> = expected[..18].chunks_exact(2).map(|c| u16::from_ne_bytes([c[0], c[1]])).collect();
    assert_eq!(first, &want[..]);
}

/// Decodes `bytes` completely; panics are caught and reported as failures by the caller.
fn try_decode(bytes: Vec<u8>) -> stripflow::Result<Vec<u8>> {
    decode(Input::from_bytes(bytes), 7)
}

fn assert_typed(name: &str, result: stripflow::Result<Vec<u8>>) {
    match result {
        Err(Error::Format { format: "PNG", .. } | Error::Unsupported { format: "PNG", .. }) => {}
        Err(other) => panic!("{name}: wrong error kind {other:?}"),
        Ok(_) => panic!("{name}: decoded without error"),
    }
}

/// The file offsets of the data of every IDAT chunk.
fn idat_ranges(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut pos = 8;
    let mut out = Vec::new();
    while pos + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        if &bytes[pos + 4..pos + 8] == b"IDAT" {
            out.push(pos + 8..pos + 8 + len);
        }
        pos += 12 + len;
    }
    out
}

fn crc(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 };
        }
    }
    !c
}

/// Rewrites the CRC of the chunk whose data is `range`.
fn fix_crc(bytes: &mut [u8], range: std::ops::Range<usize>) {
    let c = crc(&bytes[range.start - 4..range.end]);
    bytes[range.end..range.end + 4].copy_from_slice(&c.to_be_bytes());
}

/// Small files of both kinds, to break.
fn victims() -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for (format, seed) in [(RawFormat::new(2, 8), 1), (RawFormat::new(0, 2), 2), (RawFormat::new(3, 8).with_trns(), 3)] {
        let path = interlaced_png_with(37, 23, format, seed, 300, 6);
        v.push((format!("adam7 {format}"), std::fs::read(path).unwrap()));
    }
    let plain = support::fixtures::png(41, 29, PixelFormat::RGBA8, 4);
    v.push(("plain rgba8".to_string(), std::fs::read(plain).unwrap()));
    v
}

#[test]
fn truncation_at_every_offset_is_an_error() {
    for (name, bytes) in victims() {
        for cut in 0..bytes.len() {
            let result = std::panic::catch_unwind(|| try_decode(bytes[..cut].to_vec()));
            let result = result.unwrap_or_else(|_| panic!("{name}: panic when cut at {cut}"));
            assert_typed(&format!("{name} cut at {cut}/{}", bytes.len()), result);
        }
    }
}

#[test]
fn flipped_idat_bytes_are_errors() {
    for (name, bytes) in victims() {
        let original = try_decode(bytes.clone()).unwrap();
        let ranges = idat_ranges(&bytes);
        assert!(!ranges.is_empty());
        let (mut caught, mut harmless, mut silent, mut total) = (0, 0, 0, 0);
        for range in ranges {
            for at in range.clone() {
                for mask in [0x01u8, 0x80, 0xFF] {
                    // As found: the chunk CRC catches it.
                    let mut broken = bytes.clone();
                    broken[at] ^= mask;
                    let r = std::panic::catch_unwind(|| try_decode(broken.clone()))
                        .unwrap_or_else(|_| panic!("{name}: panic with byte {at} ^ {mask:#x}"));
                    assert_typed(&format!("{name} byte {at} ^ {mask:#x}"), r);
                    // With the CRC recomputed, inflate, the Adler-32 or the filter bytes must catch
                    // it, unless the flipped bits are unused (the padding after the final deflate
                    // block): then the pixels must be exactly the original ones.
                    fix_crc(&mut broken, range.clone());
                    let r = std::panic::catch_unwind(|| try_decode(broken))
                        .unwrap_or_else(|_| panic!("{name}: panic with byte {at} ^ {mask:#x}, CRC fixed"));
                    total += 1;
                    match r {
                        Ok(pixels) if pixels == original => harmless += 1,
                        Ok(_) => {
                            // Non-interlaced files go through the png crate, which (like libpng)
                            // does not insist on reaching the Adler-32 trailer once it has all
                            // rows: a forged CRC can hide a corruption there. The seven-cursor
                            // decoder inflates to the trailer and checks it.
                            assert!(!name.starts_with("adam7"), "{name}: byte {at} ^ {mask:#x} decoded to other pixels");
                            silent += 1;
                        }
                        Err(_) => {
                            assert_typed(&format!("{name} byte {at} ^ {mask:#x} CRC fixed"), r);
                            caught += 1;
                        }
                    }
                }
            }
        }
        println!(
            "{name}: {caught}/{total} corruptions behind a valid CRC caught, {harmless} in unused bits, {silent} silent"
        );
        if name.starts_with("adam7") {
            // Only the padding bits of the last deflate byte may be flipped unnoticed.
            assert!(harmless <= 3, "{name}: {harmless} harmless flips is more than the padding bits allow");
        }
    }
}

#[test]
fn hostile_headers_fail_cleanly() {
    // A valid interlaced file whose IHDR claims a different size (CRC fixed): the stream is too
    // short or too long for it.
    let bytes = std::fs::read(interlaced_png(33, 17, PixelFormat::RGB8, 9)).unwrap();
    for (w, h) in [(34u32, 17u32), (33, 18), (1 << 20, 1 << 20), (1 << 28, 2), (0x7FFF_FFFF, 1), (1, 1)] {
        let mut b = bytes.clone();
        b[16..20].copy_from_slice(&w.to_be_bytes());
        b[20..24].copy_from_slice(&h.to_be_bytes());
        fix_crc(&mut b, 16..29);
        let r = std::panic::catch_unwind(|| try_decode(b)).unwrap_or_else(|_| panic!("panic at {w}x{h}"));
        println!("{w}x{h}: {r:?}");
        if (w, h) == (1, 1) {
            // Extra image data after the last pass is ignored, as the png crate does.
            assert!(r.is_ok(), "{w}x{h}: {r:?}");
        } else {
            assert!(r.is_err(), "{w}x{h} decoded");
        }
    }
}
