//! Every PngSuite file through the streaming decoder, against the png crate's own whole-image
//! decode (with `Transformations::EXPAND`, de-interlaced for Adam7 files): same format, same
//! pixels, whatever the strip height. Files named `x*` are corrupt and must fail with a typed
//! error, never a panic. Every valid file also survives decode -> PNG encode -> decode unchanged.

use std::path::{Path, PathBuf};

use stripflow::codec::png::{read_header, PngDecoder, PngEncoder};
use stripflow::io::Input;
use stripflow::pipeline::drain;
use stripflow::{BitDepth, ColorType, Error, PixelFormat, RowSource};

fn suite() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pngsuite");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/pngsuite")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    files.sort();
    assert!(files.len() > 150, "PngSuite incomplete: {} files", files.len());
    files
}

fn is_corrupt(path: &Path) -> bool {
    path.file_name().unwrap().to_string_lossy().starts_with('x')
}

/// The png crate's whole-frame decode, in stripflow's format (16-bit made native-endian).
fn oracle(bytes: &[u8]) -> (PixelFormat, u32, u32, Vec<u8>) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("oracle header");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).expect("oracle frame");
    buf.truncate(frame.buffer_size());
    let color = match frame.color_type {
        png::ColorType::Grayscale => ColorType::Gray,
        png::ColorType::GrayscaleAlpha => ColorType::GrayAlpha,
        png::ColorType::Rgb => ColorType::Rgb,
        png::ColorType::Rgba => ColorType::Rgba,
        png::ColorType::Indexed => panic!("EXPAND leaves no palette"),
    };
    let depth = match frame.bit_depth {
        png::BitDepth::Sixteen => BitDepth::Sixteen,
        png::BitDepth::Eight => BitDepth::Eight,
        other => panic!("EXPAND leaves {other:?}"),
    };
    if depth == BitDepth::Sixteen {
        for s in buf.chunks_exact_mut(2) {
            let v = u16::from_be_bytes([s[0], s[1]]);
            s.copy_from_slice(&v.to_ne_bytes());
        }
    }
    (PixelFormat::new(color, depth), frame.width, frame.height, buf)
}

/// Every pixel of `source`, pulled in strips of `strip` rows.
fn decode_all(source: &mut dyn RowSource, strip: u32) -> stripflow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(source.info().row_bytes() * source.info().height as usize);
    drain(source, strip, |s, _| {
        out.extend_from_slice(s);
        Ok(())
    })?;
    Ok(out)
}

#[test]
fn valid_files_match_the_png_crate_at_every_strip_height() {
    let mut checked = 0;
    let mut interlaced = 0;
    for path in suite().into_iter().filter(|p| !is_corrupt(p)) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let (format, width, height, expected) = oracle(&bytes);
        let header = read_header(&Input::from_bytes(bytes.clone())).unwrap_or_else(|e| panic!("{name}: header: {e}"));
        assert_eq!((header.width, header.height, header.output), (width, height, format), "{name}");
        // PngSuite names carry the interlace flag in their fourth letter ("basi0g01", "basn0g01").
        assert_eq!(header.interlaced, name.as_bytes()[3] == b'i', "{name}: interlace flag");
        for strip in [1, 7, u32::MAX] {
            let mut decoder = PngDecoder::new(Input::open(&path).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(decoder.header(), &header, "{name}");
            assert_eq!(decoder.info().format, format, "{name}");
            let got = decode_all(&mut decoder, strip).unwrap_or_else(|e| panic!("{name} strip {strip}: {e}"));
            assert!(got == expected, "{name}: pixels differ from the png crate at strip height {strip}");
            // Asking for a row past the end is a parameter error, not a panic.
            let mut row = vec![0; decoder.info().row_bytes()];
            assert!(matches!(decoder.read_row(&mut row), Err(Error::Parameter(_))), "{name}");
        }
        checked += 1;
        interlaced += header.interlaced as usize;
    }
    println!("{checked} PngSuite files match the png crate ({interlaced} interlaced)");
    assert!(checked >= 150 && interlaced >= 30, "{checked} files, {interlaced} interlaced");
}

#[test]
fn corrupt_files_fail_with_a_typed_error() {
    let mut failed = 0;
    for path in suite().into_iter().filter(|p| is_corrupt(p)) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let result = PngDecoder::new(Input::open(&path).unwrap())
            .and_then(|mut d| decode_all(&mut d, 7).map(|_| ()));
        match result {
            Err(Error::Format { format: "PNG", .. } | Error::Unsupported { format: "PNG", .. }) => failed += 1,
            Err(e) => panic!("{name}: unexpected error kind {e:?}"),
            Ok(()) => panic!("{name}: corrupt file decoded without error"),
        }
    }
    assert_eq!(failed, 14);
}

#[test]
fn decode_encode_decode_is_lossless_for_every_file() {
    let mut formats = std::collections::HashSet::new();
    for path in suite().into_iter().filter(|p| !is_corrupt(p)) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let mut decoder = PngDecoder::new(Input::open(&path).unwrap()).unwrap();
        let format = decoder.info().format;
        let pixels = decode_all(&mut PngDecoder::new(Input::open(&path).unwrap()).unwrap(), 64).unwrap();
        let mut encoded = Vec::new();
        PngEncoder::default().encode(&mut decoder, &mut encoded).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut again = PngDecoder::new(Input::from_bytes(encoded)).unwrap();
        assert_eq!(again.info().format, format, "{name}");
        assert!(decode_all(&mut again, 5).unwrap() == pixels, "{name}: round trip changed pixels");
        formats.insert(format);
    }
    // Every output format of the decoder was exercised.
    assert_eq!(formats.len(), 8, "{formats:?}");
}

#[test]
fn exif_chunk_orientation_is_reported() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pngsuite");
    let exif = read_header(&Input::open(dir.join("exif2c08.png")).unwrap()).unwrap();
    let plain = read_header(&Input::open(dir.join("basn2c08.png")).unwrap()).unwrap();
    println!("exif2c08 orientation {:?}", exif.orientation);
    assert!(exif.orientation.is_some());
    assert_eq!(plain.orientation, None);
}
