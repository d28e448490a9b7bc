//! Hostile metadata, written at test time (code, not committed binaries) and cached under the
//! target folder: an iCCP bomb PNG, a JPEG whose ICC profile is 255 full APP2 chunks, a JPEG
//! with 3,200 APPn segments, PNG and JPEG files with an ordinary 1 MiB ICC profile, PNG files
//! with large `eXIf` chunks.

use std::path::PathBuf;

use miniz_oxide::deflate::core::{compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus};
use stripflow::pixel::PixelFormat;

use super::fixtures::{self, JpegSpec};

/// Bytes the iCCP bomb inflates to.
pub const BOMB_BYTES: usize = 200_000_000;

/// Writes `name` in the fixture cache with `make` unless it exists.
fn cached(name: &str, make: impl FnOnce() -> Vec<u8>) -> PathBuf {
    let path = fixtures::cache_dir().join(name);
    if !path.exists() {
        let temp = path.with_extension(format!("partial{}", std::process::id()));
        std::fs::write(&temp, make()).expect("write hostile fixture");
        std::fs::rename(&temp, &path).expect("rename hostile fixture");
    }
    path
}

/// CRC-32 of ISO 3309, bit by bit (independent of the decoder's).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { 0xEDB8_8320 ^ (crc >> 1) } else { crc >> 1 };
        }
    }
    !crc
}

/// A PNG chunk: length, type, data, CRC.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    chunk.extend(crc32(&chunk[4..]).to_be_bytes());
    chunk
}

/// zlib of `len` bytes produced by `fill`, compressed in 1 MiB pieces (never all in memory).
fn zlib_streaming(len: usize, fill: impl Fn(usize, &mut [u8])) -> Vec<u8> {
    let mut compressor = CompressorOxide::new(create_comp_flags_from_zip_params(9, 15, 0));
    let mut piece = vec![0u8; 1 << 20];
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut done = 0;
    loop {
        let n = piece.len().min(len - done);
        fill(done, &mut piece[..n]);
        let flush = if done + n == len { TDEFLFlush::Finish } else { TDEFLFlush::None };
        let mut input = &piece[..n];
        loop {
            let (status, used, written) = compress(&mut compressor, input, &mut buf, flush);
            out.extend_from_slice(&buf[..written]);
            input = &input[used..];
            match status {
                TDEFLStatus::Done => return out,
                TDEFLStatus::Okay if input.is_empty() && flush == TDEFLFlush::None => break,
                TDEFLStatus::Okay => {}
                other => panic!("deflate: {other:?}"),
            }
        }
        done += n;
    }
}

/// A small PNG with an `iCCP` chunk (inserted after IHDR) holding `profile` compressed.
fn png_with_iccp(name: &str, zlib: Vec<u8>) -> PathBuf {
    cached(name, || {
        let base = std::fs::read(fixtures::png(64, 64, PixelFormat::RGB8, 11)).unwrap();
        let after_ihdr = 8 + 25;
        let mut data = b"hostile\0\0".to_vec();
        data.extend_from_slice(&zlib);
        let mut file = base[..after_ihdr].to_vec();
        file.extend(png_chunk(b"iCCP", &data));
        file.extend_from_slice(&base[after_ihdr..]);
        file
    })
}

/// A 64x64 PNG whose iCCP chunk (about 194 KB) inflates to 200 MB of zeros.
pub fn iccp_bomb_png() -> PathBuf {
    png_with_iccp("hostile-iccp-bomb.png", zlib_streaming(BOMB_BYTES, |_, b| b.fill(0)))
}

/// Byte `i` of the ordinary profile (1 MiB of a pattern).
pub fn ordinary_profile_byte(i: usize) -> u8 {
    ((i as u32).wrapping_mul(2_654_435_761) >> 24) as u8
}

/// A 64x64 PNG with an `eXIf` chunk of `len` bytes (a big-endian TIFF header, then zeros).
pub fn png_with_exif(len: usize) -> PathBuf {
    cached(&format!("exif-{len}.png"), || {
        let base = std::fs::read(fixtures::png(64, 64, PixelFormat::RGB8, 11)).unwrap();
        let after_ihdr = 8 + 25;
        let mut data = b"MM\0\x2a\0\0\0\x08".to_vec();
        data.resize(len, 0);
        let mut file = base[..after_ihdr].to_vec();
        file.extend(png_chunk(b"eXIf", &data));
        file.extend_from_slice(&base[after_ihdr..]);
        file
    })
}

/// The bytes of the ordinary profile.
pub fn ordinary_profile() -> Vec<u8> {
    (0..1usize << 20).map(ordinary_profile_byte).collect()
}

/// A 64x64 PNG with an ordinary 1 MiB ICC profile.
pub fn png_with_ordinary_icc() -> PathBuf {
    png_with_iccp("icc-1mib.png", miniz_oxide::deflate::compress_to_vec_zlib(&ordinary_profile(), 6))
}

/// A 64x64 JPEG with `segments` inserted after SOI.
fn jpeg_with_segments(name: &str, segments: impl Iterator<Item = (u8, Vec<u8>)>) -> PathBuf {
    cached(name, || {
        let base = std::fs::read(fixtures::jpeg(64, 64, JpegSpec::default(), 12)).unwrap();
        let mut file = base[..2].to_vec();
        for (marker, body) in segments {
            assert!(body.len() <= 65533);
            file.extend([0xFF, marker]);
            file.extend(((body.len() + 2) as u16).to_be_bytes());
            file.extend(body);
        }
        file.extend_from_slice(&base[2..]);
        file
    })
}

/// An ICC APP2 body: signature, sequence number, count, data.
fn icc_chunk(seq: u8, count: u8, data: &[u8]) -> Vec<u8> {
    let mut body = b"ICC_PROFILE\0".to_vec();
    body.extend([seq, count]);
    body.extend_from_slice(data);
    body
}

/// A 64x64 JPEG whose ICC profile is 255 APP2 chunks of 65519 bytes: 16.7 MB.
pub fn icc_255_chunks_jpeg() -> PathBuf {
    let data: Vec<u8> = (0..65519u32).map(|i| i as u8).collect();
    jpeg_with_segments("hostile-icc-255-chunks.jpg", (1..=255u8).map(move |seq| (0xE2, icc_chunk(seq, 255, &data))))
}

/// A 64x64 JPEG with 3,200 APPn segments of 4 KiB: half of them ICC chunks that repeat their
/// sequence numbers, the others every APPn, EXIF headers without a valid TIFF structure.
pub fn app_3200_segments_jpeg() -> PathBuf {
    let segments = (0..3200u32).map(|i| {
        let marker = if i % 2 == 0 { 0xE2 } else { 0xE0 + (i / 2 % 16) as u8 };
        let filler = vec![(i % 251) as u8; 4096];
        let body = match marker {
            0xE1 => [b"Exif\0\0MM\0\x2a".as_slice(), &filler].concat(),
            0xE2 => icc_chunk((i % 255) as u8 + 1, 255, &filler),
            _ => filler,
        };
        (marker, body)
    });
    jpeg_with_segments("hostile-app-3200.jpg", segments)
}

/// A 64x64 JPEG with the ordinary 1 MiB ICC profile in 17 chunks.
pub fn jpeg_with_ordinary_icc() -> PathBuf {
    let profile = ordinary_profile();
    let chunks: Vec<Vec<u8>> = profile.chunks(65519).map(|c| c.to_vec()).collect();
    let count = chunks.len() as u8;
    jpeg_with_segments(
        "icc-1mib.jpg",
        chunks.into_iter().enumerate().map(move |(i, c)| (0xE2, icc_chunk(i as u8 + 1, count, &c))),
    )
}
