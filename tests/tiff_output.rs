//! TIFF output decoded by independent decoders: the `tiff` crate (always) and libvips (`vips`,
//! when installed; skipped with a printed note otherwise). Every pixel format x compression x
//! bit-depth option, on images of several strips whose last strip is partial; BigTIFF forced on
//! a small image; the refusal of compressed TIFF to a writer that cannot seek; a TIFF written
//! into a seekable writer that does not start at 0; the pipeline's file and seekable outputs.

use std::io::Cursor;
use std::path::Path;
use std::process::Command;

use stripflow::codec::tiff::TiffEncoder;
use stripflow::codec::{EncodeOptions, Format, TiffCompression};
use stripflow::prelude::*;
use stripflow::synth::Synthetic;
use stripflow::BitDepth;
use tiff::decoder::{Decoder, DecodingResult};
use tiff::tags::Tag;

const COMPRESSIONS: [TiffCompression; 3] = [TiffCompression::None, TiffCompression::Lzw, TiffCompression::Deflate];

/// The synthetic image's samples, as numbers.
fn samples(w: u32, h: u32, format: PixelFormat, seed: u32) -> Vec<u16> {
    let mut bytes = vec![0u8; format.row_bytes(w) * h as usize];
    Synthetic::new(w, h, format, seed).read_rows(&mut bytes).unwrap();
    match format.depth {
        BitDepth::Eight => bytes.iter().map(|&b| b as u16).collect(),
        BitDepth::Sixteen => bytes.chunks_exact(2).map(|s| u16::from_ne_bytes([s[0], s[1]])).collect(),
    }
}

/// The samples expected in the file: 8 -> 16 by x257, 16 -> 8 rounded.
fn expected(w: u32, h: u32, format: PixelFormat, seed: u32, depth: BitDepth) -> Vec<u16> {
    let s = samples(w, h, format, seed);
    match (format.depth, depth) {
        (a, b) if a == b => s,
        (BitDepth::Eight, _) => s.iter().map(|&v| v * 257).collect(),
        _ => s.iter().map(|&v| (v as f64 / 257.0).round() as u16).collect(),
    }
}

fn encode(encoder: &TiffEncoder, w: u32, h: u32, format: PixelFormat, seed: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    encoder.encode_seekable(&mut Synthetic::new(w, h, format, seed), &mut out).unwrap();
    out.into_inner()
}

/// Decodes with the tiff crate: samples, colour type and the strip layout.
fn decode(bytes: &[u8]) -> (Vec<u16>, tiff::ColorType, u32, u32) {
    let mut d = Decoder::new(Cursor::new(bytes)).unwrap();
    let colour = d.colortype().unwrap();
    let rows_per_strip = d.get_tag_u32(Tag::RowsPerStrip).unwrap();
    let strips = d.strip_count().unwrap();
    let samples = match d.read_image().unwrap() {
        DecodingResult::U8(v) => v.into_iter().map(|b| b as u16).collect(),
        DecodingResult::U16(v) => v,
        _ => panic!("unexpected sample type"),
    };
    (samples, colour, rows_per_strip, strips)
}

fn tiff_colour(format: PixelFormat, bits: u8) -> tiff::ColorType {
    match format.color {
        ColorType::Gray => tiff::ColorType::Gray(bits),
        // The tiff crate reports gray with an extra sample as two bands (ExtraSamples is checked
        // on its own in `tags_say_what_was_written`).
        ColorType::GrayAlpha => tiff::ColorType::Multiband { bit_depth: bits, num_samples: 2 },
        ColorType::Rgb => tiff::ColorType::RGB(bits),
        ColorType::Rgba => tiff::ColorType::RGBA(bits),
    }
}

use stripflow::ColorType;

fn vips() -> bool {
    Command::new("vips").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Decodes `bytes` with libvips into raw native-endian samples.
fn vips_decode(bytes: &[u8], dir: &Path, name: &str) -> Vec<u16> {
    let tif = dir.join(format!("{name}.tif"));
    let raw = dir.join(format!("{name}.raw"));
    std::fs::write(&tif, bytes).unwrap();
    let out = Command::new("vips").arg("rawsave").arg(&tif).arg(&raw).output().unwrap();
    assert!(out.status.success(), "vips rawsave {name}: {}", String::from_utf8_lossy(&out.stderr));
    let format = Command::new("vipsheader").args(["-f", "format"]).arg(&tif).output().unwrap();
    let format = String::from_utf8_lossy(&format.stdout).trim().to_string();
    let data = std::fs::read(&raw).unwrap();
    if format.contains("UCHAR") {
        data.iter().map(|&b| b as u16).collect()
    } else if format.contains("USHORT") {
        data.chunks_exact(2).map(|s| u16::from_ne_bytes([s[0], s[1]])).collect()
    } else {
        panic!("vips read {name} as {format}")
    }
}

#[test]
fn every_format_compression_and_depth_round_trips_through_the_tiff_crate_and_vips() {
    let vips = vips();
    if !vips {
        println!("note: vips is not installed; only the tiff crate decodes");
    }
    let dir = tempfile::tempdir().unwrap();
    // 3000 px wide and 47 rows: from 2 rows a strip (RGBA16) to 21 (gray8), the last strip partial.
    let (w, h) = (3000, 47);
    let mut checked = 0;
    for format in PixelFormat::ALL {
        for compression in COMPRESSIONS {
            for depth in [None, Some(BitDepth::Eight), Some(BitDepth::Sixteen)] {
                let encoder = TiffEncoder { compression, bit_depth: depth, ..Default::default() };
                let stored_depth = depth.unwrap_or(format.depth);
                let bytes = encode(&encoder, w, h, format, 3);
                let want = expected(w, h, format, 3, stored_depth);
                let (got, colour, rows_per_strip, strips) = decode(&bytes);
                let case = format!("{format} {compression:?} {depth:?}");
                assert_eq!(colour, tiff_colour(format, 8 * stored_depth.bytes() as u8), "{case}");
                assert_eq!(rows_per_strip, encoder.rows_per_strip(ImageInfo { width: w, height: h, format }), "{case}");
                assert!(strips >= 2 && h % rows_per_strip != 0, "{case}: {strips} strips of {rows_per_strip} rows");
                assert!(got == want, "{case}: the tiff crate decodes other samples");
                if vips {
                    assert!(vips_decode(&bytes, dir.path(), "case") == want, "{case}: vips decodes other samples");
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 72);
}

#[test]
fn tags_say_what_was_written() {
    let bytes = encode(&TiffEncoder { compression: TiffCompression::Lzw, ..Default::default() }, 40, 30, PixelFormat::RGBA8, 1);
    assert_eq!(&bytes[..4], b"II*\0");
    let mut d = Decoder::new(Cursor::new(&bytes)).unwrap();
    assert_eq!(d.get_tag_u32(Tag::Compression).unwrap(), 5);
    assert_eq!(d.get_tag_u32(Tag::Predictor).unwrap(), 2);
    assert_eq!(d.get_tag_u16_vec(Tag::ExtraSamples).unwrap(), vec![2], "unassociated alpha");
    assert_eq!(d.get_tag_u16_vec(Tag::BitsPerSample).unwrap(), vec![8; 4]);
    assert_eq!(d.get_tag_u32(Tag::PhotometricInterpretation).unwrap(), 2);
    let bytes = encode(&TiffEncoder { compression: TiffCompression::None, ..Default::default() }, 40, 30, PixelFormat::GRAY16, 1);
    let mut d = Decoder::new(Cursor::new(&bytes)).unwrap();
    assert_eq!(d.get_tag_u32(Tag::Compression).unwrap(), 1);
    assert!(d.find_tag(Tag::Predictor).unwrap().is_none());
    assert!(d.find_tag(Tag::ExtraSamples).unwrap().is_none());
    assert_eq!(d.get_tag_u32(Tag::PhotometricInterpretation).unwrap(), 1);
    let bytes = encode(&TiffEncoder::default(), 40, 30, PixelFormat::GRAYA16, 1);
    let mut d = Decoder::new(Cursor::new(&bytes)).unwrap();
    assert_eq!(d.get_tag_u16_vec(Tag::ExtraSamples).unwrap(), vec![2]);
    assert_eq!(d.get_tag_u16_vec(Tag::BitsPerSample).unwrap(), vec![16, 16]);
    let bytes = encode(&TiffEncoder::default(), 40, 30, PixelFormat::GRAY8, 1);
    assert_eq!(Decoder::new(Cursor::new(&bytes)).unwrap().get_tag_u32(Tag::Compression).unwrap(), 5, "LZW by default");
}

#[test]
fn forced_bigtiff_is_read_by_the_tiff_crate_and_vips() {
    let dir = tempfile::tempdir().unwrap();
    for compression in COMPRESSIONS {
        for format in [PixelFormat::RGB8, PixelFormat::GRAYA16] {
            let encoder = TiffEncoder { compression, force_bigtiff: true, ..Default::default() };
            let bytes = encode(&encoder, 3000, 45, format, 2);
            assert_eq!(&bytes[..8], b"II+\0\x08\0\0\0", "BigTIFF header");
            let want = samples(3000, 45, format, 2);
            assert!(decode(&bytes).0 == want, "{format} {compression:?}");
            if vips() {
                assert!(vips_decode(&bytes, dir.path(), "big") == want, "vips: {format} {compression:?}");
            } else {
                println!("note: vips is not installed; BigTIFF checked with the tiff crate only");
            }
        }
    }
}

#[test]
fn compressed_tiff_to_a_writer_that_cannot_seek_is_refused_before_writing() {
    for compression in [TiffCompression::Lzw, TiffCompression::Deflate] {
        let mut out = Vec::new();
        let e = TiffEncoder { compression, ..Default::default() }
            .encode(&mut Synthetic::new(10, 10, PixelFormat::RGB8, 1), &mut out)
            .unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
        assert!(e.to_string().contains("--tiff-compression none"), "{e}");
        assert!(out.is_empty());
    }
    // Uncompressed streams to any writer, in one pass, byte for byte as into a seekable one.
    let encoder = TiffEncoder { compression: TiffCompression::None, ..Default::default() };
    let mut streamed = Vec::new();
    encoder.encode(&mut Synthetic::new(3000, 45, PixelFormat::RGB16, 1), &mut streamed).unwrap();
    assert_eq!(streamed, encode(&encoder, 3000, 45, PixelFormat::RGB16, 1));
    assert!(decode(&streamed).0 == samples(3000, 45, PixelFormat::RGB16, 1));
}

#[test]
fn offsets_are_relative_to_where_the_writer_started() {
    for compression in COMPRESSIONS {
        let mut out = Cursor::new(vec![0xAAu8; 100]);
        out.set_position(100);
        TiffEncoder { compression, ..Default::default() }
            .encode_seekable(&mut Synthetic::new(500, 300, PixelFormat::RGB8, 4), &mut out)
            .unwrap();
        assert_eq!(out.position() as usize, out.get_ref().len(), "left at the end");
        let bytes = out.into_inner();
        assert!(bytes[..100].iter().all(|&b| b == 0xAA));
        assert!(decode(&bytes[100..]).0 == samples(500, 300, PixelFormat::RGB8, 4), "{compression:?}");
    }
}

#[test]
fn pipelines_write_tiff_files_and_seekable_outputs() {
    let dir = tempfile::tempdir().unwrap();
    for (name, options) in [
        ("out.tif", EncodeOptions::default()),
        ("out.TIFF", EncodeOptions { tiff_compression: Some(TiffCompression::Lzw), bit_depth: Some(16), ..Default::default() }),
    ] {
        let path = dir.path().join(name);
        let pipeline = Pipeline::from_source(Box::new(Synthetic::new(321, 123, PixelFormat::RGB8, 6))).encode_options(options);
        pipeline.write_to_path(&path).unwrap();
        let (got, colour, ..) = decode(&std::fs::read(&path).unwrap());
        let depth = if options.bit_depth == Some(16) { BitDepth::Sixteen } else { BitDepth::Eight };
        assert_eq!(colour, tiff_colour(PixelFormat::RGB8, 8 * depth.bytes() as u8));
        assert!(got == expected(321, 123, PixelFormat::RGB8, 6, depth), "{name}");
    }
    let mut out = Cursor::new(Vec::new());
    let stats = Pipeline::from_source(Box::new(Synthetic::new(64, 64, PixelFormat::GRAYA8, 1))).format(Format::Tiff).write_to_seekable(&mut out).unwrap();
    assert!(stats.plan.heap_bytes > 0);
    assert!(decode(out.get_ref()).0 == samples(64, 64, PixelFormat::GRAYA8, 1));
    // To a plain writer, the default (LZW) is refused, and nothing is written.
    let mut plain = Vec::new();
    let e = Pipeline::from_source(Box::new(Synthetic::new(64, 64, PixelFormat::RGB8, 1))).format(Format::Tiff).write_to(&mut plain).unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    assert!(plain.is_empty());
}

#[test]
fn options_that_do_not_apply_or_are_out_of_range_are_errors() {
    use stripflow::codec::registry::encoder;
    let e = |o: EncodeOptions| encoder(Format::Tiff, &o).unwrap_err().to_string();
    assert!(e(EncodeOptions { quality: Some(80), ..Default::default() }).contains("--quality does not apply to TIFF"));
    assert!(e(EncodeOptions { bit_depth: Some(10), ..Default::default() }).contains("bit-depth 10"));
    assert!(e(EncodeOptions { compression: Some(10), ..Default::default() }).contains("compression 10"));
    let lzw_level = EncodeOptions { compression: Some(4), tiff_compression: Some(TiffCompression::Lzw), ..Default::default() };
    assert!(e(lzw_level).contains("--tiff-compression deflate"));
    let ok = EncodeOptions { compression: Some(9), tiff_compression: Some(TiffCompression::Deflate), bit_depth: Some(8), ..Default::default() };
    assert!(encoder(Format::Tiff, &ok).unwrap().detail().contains("deflate level 9"));
}

#[test]
fn deflate_levels_change_the_size_not_the_pixels() {
    let sizes: Vec<usize> = [0u8, 1, 9]
        .iter()
        .map(|&level| {
            let enc = TiffEncoder { compression: TiffCompression::Deflate, deflate_level: level, ..Default::default() };
            let bytes = encode(&enc, 700, 200, PixelFormat::RGB8, 5);
            assert!(decode(&bytes).0 == samples(700, 200, PixelFormat::RGB8, 5), "level {level}");
            bytes.len()
        })
        .collect();
    assert!(sizes[0] > sizes[1] && sizes[0] > sizes[2], "{sizes:?}");
    assert!(sizes[0] > 700 * 200 * 3, "level 0 stores");
}
