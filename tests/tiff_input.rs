//! TIFF input decoded by stripflow against independent decoders, on files generated at test
//! time: our own writer (round trips, no tool needed), the `tiff` crate's encoder and decoder
//! (strips of every compression, CMYK, ICC and XMP tags; always), libvips (tiles, predictor,
//! BigTIFF, pyramids as pages) and ImageMagick / Pillow (big-endian, planar, palette, 1-bit
//! MinIsWhite, 16-bit, associated alpha), each skipped with a printed note when missing.
//! Crop-on-load is checked to leave chunks outside the region unread, and damaged files (cut at
//! every length, bit flips, a looping IFD chain) to give typed errors, never a panic.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use stripflow::codec::registry;
use stripflow::codec::tiff::TiffEncoder;
use stripflow::codec::{DecodeRequest, FailOn, Format, TiffCompression};
use stripflow::ops::crop::Rect;
use stripflow::prelude::*;
use stripflow::synth::Synthetic;
use stripflow::{BitDepth, Error};
use tiff::decoder::{Decoder, DecodingResult};
use tiff::encoder::{colortype, Compression, DeflateLevel, TiffEncoder as RefEncoder};
use tiff::tags::Tag;

/// Decodes page `page` of `bytes` with stripflow: the row format and every sample as a number.
fn ours(bytes: &[u8], page: u32, region: Option<Rect>, cmyk: bool) -> Result<(PixelFormat, u32, u32, Vec<u16>), Error> {
    ours_on(bytes, page, region, cmyk, 1)
}

/// As [`ours`], with a decoder that may use `threads` threads.
fn ours_on(bytes: &[u8], page: u32, region: Option<Rect>, cmyk: bool, threads: usize) -> Result<(PixelFormat, u32, u32, Vec<u16>), Error> {
    let input = Input::from_bytes(bytes.to_vec());
    let header = registry::read_page_header(&input, page)?;
    let decoder = registry::codec(Format::Tiff).decoder.unwrap();
    let rows = region.map_or(header.info.height, |r| r.height);
    let request = DecodeRequest { shrink: 1, region, rows_needed: rows, fail_on: FailOn::Error, cmyk, threads };
    let mut source = decoder.build(input, &header, &request)?;
    let info = source.info();
    let mut data = vec![0u8; info.row_bytes() * info.height as usize];
    source.read_rows(&mut data)?;
    let samples = match info.format.depth {
        BitDepth::Eight => data.iter().map(|&b| b as u16).collect(),
        BitDepth::Sixteen => data.chunks_exact(2).map(|s| u16::from_ne_bytes([s[0], s[1]])).collect(),
    };
    Ok((info.format, info.width, info.height, samples))
}

/// Decodes directory `page` of `bytes` with the tiff crate: raw samples.
fn reference(bytes: &[u8], page: usize) -> (tiff::ColorType, Vec<u16>) {
    let mut d = Decoder::new(Cursor::new(bytes)).unwrap();
    d.seek_to_image(page).unwrap();
    let colour = d.colortype().unwrap();
    let samples = match d.read_image().unwrap() {
        DecodingResult::U8(v) => v.into_iter().map(|b| b as u16).collect(),
        DecodingResult::U16(v) => v,
        _ => panic!("unexpected sample type"),
    };
    (colour, samples)
}

fn synthetic(w: u32, h: u32, format: PixelFormat, seed: u32) -> Vec<u8> {
    let mut bytes = vec![0u8; format.row_bytes(w) * h as usize];
    Synthetic::new(w, h, format, seed).read_rows(&mut bytes).unwrap();
    bytes
}

fn numbers(bytes: &[u8], depth: BitDepth) -> Vec<u16> {
    match depth {
        BitDepth::Eight => bytes.iter().map(|&b| b as u16).collect(),
        BitDepth::Sixteen => bytes.chunks_exact(2).map(|s| u16::from_ne_bytes([s[0], s[1]])).collect(),
    }
}

fn write_ours(w: u32, h: u32, format: PixelFormat, compression: TiffCompression, bigtiff: bool) -> Vec<u8> {
    let encoder = TiffEncoder { compression, force_bigtiff: bigtiff, ..Default::default() };
    let mut out = Cursor::new(Vec::new());
    encoder.encode_seekable(&mut Synthetic::new(w, h, format, 7), &mut out).unwrap();
    out.into_inner()
}

#[test]
fn our_writer_round_trips_every_format_compression_and_bigtiff() {
    for format in PixelFormat::ALL {
        for compression in [TiffCompression::None, TiffCompression::Lzw, TiffCompression::Deflate] {
            for bigtiff in [false, true] {
                let (w, h) = (37, 300);
                let file = write_ours(w, h, format, compression, bigtiff);
                let (f, ow, oh, got) = ours(&file, 0, None, false).unwrap();
                assert_eq!((f, ow, oh), (format, w, h), "{format} {compression:?}");
                assert!(got == numbers(&synthetic(w, h, format, 7), format.depth), "{format} {compression:?} bigtiff {bigtiff}");
            }
        }
    }
}

/// A file from the tiff crate's encoder: `rows` rows a strip.
fn write_reference<C: colortype::ColorType>(w: u32, h: u32, data: &[C::Inner], method: Compression, rows: u32) -> Vec<u8>
where
    [C::Inner]: tiff::encoder::TiffValue,
{
    let mut out = Cursor::new(Vec::new());
    let mut enc = RefEncoder::new(&mut out).unwrap().with_compression(method);
    let mut image = enc.new_image::<C>(w, h).unwrap();
    image.rows_per_strip(rows).unwrap();
    image.write_data(data).unwrap();
    out.into_inner()
}

#[test]
fn strips_of_every_compression_match_the_tiff_crate() {
    let (w, h) = (53, 41);
    let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 7 % 251) as u8).collect();
    let gray16: Vec<u16> = (0..w * h).map(|i| (i * 1031 % 65521) as u16).collect();
    let rgba: Vec<u8> = (0..w * h * 4).map(|i| (i * 13 % 256) as u8).collect();
    let files = [
        write_reference::<colortype::RGB8>(w, h, &rgb, Compression::Packbits, 5),
        write_reference::<colortype::RGB8>(w, h, &rgb, Compression::Lzw, 41),
        write_reference::<colortype::RGB8>(w, h, &rgb, Compression::Deflate(DeflateLevel::default()), 3),
        write_reference::<colortype::RGB8>(w, h, &rgb, Compression::Uncompressed, 7),
        write_reference::<colortype::Gray16>(w, h, &gray16, Compression::Lzw, 4),
        write_reference::<colortype::RGBA8>(w, h, &rgba, Compression::Packbits, 9),
    ];
    for (i, file) in files.iter().enumerate() {
        let (_, samples) = reference(file, 0);
        let (_, ow, oh, got) = ours(file, 0, None, false).unwrap();
        assert_eq!((ow, oh), (w, h));
        assert!(got == samples, "file {i}");
    }
}

#[test]
fn cmyk_becomes_rgb_or_stays_inks_for_a_profile() {
    let (w, h) = (20, 9);
    let inks: Vec<u8> = (0..w * h * 4).map(|i| (i * 37 % 256) as u8).collect();
    let file = write_reference::<colortype::CMYK8>(w, h, &inks, Compression::Lzw, 4);
    let (f, _, _, got) = ours(&file, 0, None, true).unwrap();
    assert_eq!(f, PixelFormat::RGBA8);
    assert!(got.iter().zip(&inks).all(|(&a, &b)| a == b as u16));
    let (f, _, _, rgb) = ours(&file, 0, None, false).unwrap();
    assert_eq!(f, PixelFormat::RGB8);
    for (px, ink) in rgb.chunks_exact(3).zip(inks.chunks_exact(4)) {
        for c in 0..3 {
            let want = ((255.0 - ink[c] as f64) * (255.0 - ink[3] as f64) / 255.0).round();
            assert!((px[c] as f64 - want).abs() <= 0.5, "{px:?} {ink:?}");
        }
    }
    let info = stripflow::codec::probe::read_metadata(&Input::from_bytes(file)).unwrap();
    assert_eq!(info.color, "cmyk");
}

/// Runs a command; `false` (with a note) when the tool is missing or fails.
fn run(cmd: &str, args: &[&str]) -> bool {
    match Command::new(cmd).args(args).output() {
        Ok(o) if o.status.success() => true,
        Ok(o) => {
            eprintln!("note: {cmd} {args:?} failed: {}", String::from_utf8_lossy(&o.stderr));
            false
        }
        Err(_) => {
            eprintln!("note: {cmd} not installed; skipped");
            false
        }
    }
}

fn scratch(name: &str) -> PathBuf {
    // Under target/ (not /tmp, which nothing cleans): each test writes its own names, and a rerun
    // overwrites them.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tiff-input");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A 300x200 RGBA PNG source for the external tools.
fn source_png() -> PathBuf {
    let path = scratch("source.png");
    if !path.exists() {
        let mut png = Vec::new();
        let mut rows = Synthetic::new(300, 200, PixelFormat::RGBA8, 3);
        stripflow::codec::png::encode::PngEncoder::default().encode(&mut rows, &mut png).unwrap();
        // Written under a per-process name and renamed, as tests run on several threads.
        let partial = path.with_extension(format!("partial{}", std::process::id()));
        std::fs::write(&partial, png).unwrap();
        std::fs::rename(&partial, &path).unwrap();
    }
    path
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn vips_tiles_predictor_bigtiff_and_pyramid_pages_match_the_tiff_crate() {
    let src = source_png();
    let variants: [&[&str]; 7] = [
        &["--tile", "--tile-width", "64", "--tile-height", "32", "--compression", "lzw"],
        &["--tile", "--tile-width", "48", "--tile-height", "16", "--compression", "deflate", "--predictor", "horizontal"],
        &["--tile", "--compression", "packbits"],
        &["--tile", "--tile-width", "32", "--tile-height", "32", "--compression", "none", "--bigtiff"],
        &["--compression", "lzw", "--predictor", "horizontal"],
        &["--compression", "deflate", "--bigtiff"],
        &["--tile", "--tile-width", "64", "--tile-height", "64", "--pyramid", "--compression", "lzw"],
    ];
    for (i, args) in variants.iter().enumerate() {
        let out = scratch(&format!("vips{i}.tif"));
        let mut all = vec!["tiffsave", path(&src), path(&out)];
        all.extend_from_slice(args);
        if !run("vips", &all) {
            return;
        }
        let file = std::fs::read(&out).unwrap();
        let pages = stripflow::codec::probe::read_metadata(&Input::from_bytes(file.clone())).unwrap().pages;
        assert_eq!(pages > 1, args.contains(&"--pyramid"), "{args:?}");
        for page in 0..pages {
            let (_, samples) = reference(&file, page as usize);
            let (_, _, _, got) = ours(&file, page, None, false).unwrap();
            assert!(got == samples, "{args:?} page {page}");
        }
        let e = ours(&file, pages, None, false).unwrap_err();
        assert!(matches!(e, Error::Parameter(_)), "{e}");
    }
}

/// Converts `file` with Pillow to 8-bit RGB or RGBA samples (the reference for layouts the tiff
/// crate leaves raw).
fn pillow_rgb(file: &Path, mode: &str) -> Option<Vec<u16>> {
    let out = file.with_extension("raw");
    let script = format!(
        "from PIL import Image; open('{}','wb').write(Image.open('{}').convert('{mode}').tobytes())",
        path(&out),
        path(file)
    );
    if !run("python3", &["-c", &script]) {
        return None;
    }
    Some(std::fs::read(out).unwrap().into_iter().map(u16::from).collect())
}

#[test]
fn imagemagick_and_pillow_layouts_match_pillow() {
    let src = source_png();
    // (ImageMagick arguments, Pillow mode to compare in, stripflow's row format)
    let cases: [(&[&str], &str, PixelFormat); 7] = [
        (&["-endian", "MSB", "-compress", "lzw"], "RGBA", PixelFormat::RGBA8),
        (&["-interlace", "plane", "-compress", "zip"], "RGBA", PixelFormat::RGBA8),
        (&["-alpha", "off", "-type", "Palette", "-compress", "lzw"], "RGB", PixelFormat::RGB8),
        (&["-alpha", "off", "-monochrome", "-define", "tiff:photometric=min-is-white"], "L", PixelFormat::GRAY8),
        (&["-alpha", "off", "-colorspace", "gray", "-define", "tiff:photometric=min-is-white", "-compress", "rle"], "L", PixelFormat::GRAY8),
        (&["-alpha", "off", "-depth", "4", "-colorspace", "gray"], "L", PixelFormat::GRAY8),
        (&["-endian", "MSB", "-interlace", "plane", "-alpha", "off", "-depth", "16"], "RGB", PixelFormat::RGB16),
    ];
    for (i, (args, mode, format)) in cases.iter().enumerate() {
        let out = scratch(&format!("im{i}.tif"));
        let mut all = vec![path(&src)];
        all.extend_from_slice(args);
        all.push(path(&out));
        if !run("convert", &all) {
            return;
        }
        let Some(want) = pillow_rgb(&out, mode) else { return };
        let (f, _, _, got) = ours(&std::fs::read(&out).unwrap(), 0, None, false).unwrap();
        assert_eq!(f, *format, "{args:?}");
        let got: Vec<u16> = if f.depth == BitDepth::Sixteen { got.iter().map(|v| v >> 8).collect() } else { got };
        assert!(got == want, "{args:?}: {} of {} samples differ", got.iter().zip(&want).filter(|(a, b)| a != b).count(), want.len());
    }
}

#[test]
fn associated_alpha_is_unpremultiplied() {
    let src = source_png();
    let out = scratch("assoc.tif");
    if !run("convert", &[path(&src), "-define", "tiff:alpha=associated", path(&out)]) {
        return;
    }
    let file = std::fs::read(&out).unwrap();
    let (_, premultiplied) = reference(&file, 0);
    let (f, _, _, got) = ours(&file, 0, None, false).unwrap();
    assert_eq!(f, PixelFormat::RGBA8);
    let straight = numbers(&std::fs::read(&src).map(|_| synthetic(300, 200, PixelFormat::RGBA8, 3)).unwrap(), BitDepth::Eight);
    for ((p, g), s) in premultiplied.chunks_exact(4).zip(got.chunks_exact(4)).zip(straight.chunks_exact(4)) {
        assert_eq!(g[3], p[3]);
        for c in 0..3 {
            // Premultiplying lost precision: the straight value is recovered within 255 / alpha.
            let tolerance = 255u16.checked_div(s[3]).map_or(0, |t| t + 1);
            assert!(g[c].abs_diff(s[c]) <= tolerance || s[3] == 0, "{g:?} {s:?} {p:?}");
        }
    }
}

/// A tiled file from our writer's samples via vips, with the tiles outside `keep` zeroed in
/// their compressed bytes (so decoding them fails).
fn tiled_with_damaged_tiles(region: Rect) -> Option<(Vec<u8>, Vec<u8>)> {
    let src = source_png();
    let out = scratch("crop.tif");
    if !run("vips", &["tiffsave", path(&src), path(&out), "--tile", "--tile-width", "32", "--tile-height", "32", "--compression", "deflate"]) {
        return None;
    }
    let file = std::fs::read(&out).unwrap();
    let mut d = Decoder::new(Cursor::new(&file)).unwrap();
    let offsets = d.get_tag_u64_vec(Tag::TileOffsets).unwrap();
    let counts = d.get_tag_u64_vec(Tag::TileByteCounts).unwrap();
    let across = 300usize.div_ceil(32);
    let mut damaged = file.clone();
    for (i, (&o, &n)) in offsets.iter().zip(&counts).enumerate() {
        let (tx, ty) = ((i % across) as u32, (i / across) as u32);
        let inside = tx * 32 < region.x + region.width && (tx + 1) * 32 > region.x && ty * 32 < region.y + region.height && (ty + 1) * 32 > region.y;
        if !inside {
            damaged[o as usize..(o + n) as usize].fill(0xFF);
        }
    }
    Some((file, damaged))
}

#[test]
fn crop_on_load_reads_no_tile_outside_the_region() {
    let region = Rect { x: 70, y: 45, width: 61, height: 50 };
    let Some((file, damaged)) = tiled_with_damaged_tiles(region) else { return };
    let (f, w, _, full) = ours(&file, 0, None, false).unwrap();
    let (_, cw, ch, cropped) = ours(&damaged, 0, Some(region), false).unwrap();
    assert_eq!((cw, ch), (61, 50));
    let c = f.channels();
    for y in 0..50usize {
        let start = ((region.y as usize + y) * w as usize + region.x as usize) * c;
        assert_eq!(&cropped[y * 61 * c..(y + 1) * 61 * c], &full[start..start + 61 * c], "row {y}");
    }
    assert!(matches!(ours(&damaged, 0, None, false), Err(Error::Format { .. })));
}

#[test]
fn crop_on_load_of_strips_matches_the_full_decode() {
    for compression in [TiffCompression::None, TiffCompression::Lzw, TiffCompression::Deflate] {
        let file = write_ours(301, 700, PixelFormat::RGB16, compression, false);
        let (_, w, _, full) = ours(&file, 0, None, false).unwrap();
        let region = Rect { x: 13, y: 333, width: 100, height: 201 };
        let (_, _, _, cropped) = ours(&file, 0, Some(region), false).unwrap();
        for y in 0..201usize {
            let start = ((333 + y) * w as usize + 13) * 3;
            assert_eq!(&cropped[y * 300..(y + 1) * 300], &full[start..start + 300]);
        }
    }
}

#[test]
fn embedded_icc_profile_and_xmp_are_read() {
    let (w, h) = (8, 8);
    let rgb = vec![100u8; (w * h * 3) as usize];
    let profile: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let xmp = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>".to_vec();
    let mut out = Cursor::new(Vec::new());
    let mut enc = RefEncoder::new(&mut out).unwrap();
    let mut image = enc.new_image::<colortype::RGB8>(w, h).unwrap();
    image.encoder().write_tag(Tag::Unknown(34675), &profile[..]).unwrap();
    image.encoder().write_tag(Tag::Unknown(700), &xmp[..]).unwrap();
    image.write_data(&rgb).unwrap();
    let file = out.into_inner();
    let input = Input::from_bytes(file);
    let header = registry::read_header(&input).unwrap();
    let decoder = registry::codec(Format::Tiff).decoder.unwrap();
    let embedded = decoder.read_embedded(&input, &header).unwrap();
    assert_eq!(embedded.icc.as_deref(), Some(&profile[..]));
    assert_eq!(embedded.xmp.as_deref(), Some(&xmp[..]));
    assert_eq!(embedded.exif, None);
    assert_eq!(stripflow::codec::icc::icc_profile_len(&input).unwrap(), Some(3000));
    assert_eq!(stripflow::codec::icc::read_icc_profile(&input).unwrap(), Some(profile));
}

/// A deterministic xorshift generator for the damage test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Decoding a damaged file: any result but a panic; errors must be typed as the file's fault.
fn decode_damaged(file: &[u8]) {
    let result = std::panic::catch_unwind(|| {
        let input = Input::from_bytes(file.to_vec());
        let pages = match stripflow::codec::probe::read_metadata(&input) {
            Ok(m) => m.pages,
            Err(e) => return Err(e),
        };
        for page in 0..pages.min(3) {
            ours(file, page, None, false)?;
        }
        Ok(())
    });
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => assert!(
            matches!(e, Error::Format { .. } | Error::Unsupported { .. } | Error::Limits(_)),
            "not a file error: {e}"
        ),
        Err(_) => panic!("decoder panicked on a damaged file"),
    }
}

#[test]
fn truncated_and_corrupt_files_give_typed_errors() {
    let mut files = vec![
        write_ours(19, 23, PixelFormat::RGBA8, TiffCompression::Lzw, false),
        write_ours(19, 23, PixelFormat::GRAY16, TiffCompression::Deflate, true),
        write_reference::<colortype::RGB8>(13, 11, &[9u8; 13 * 11 * 3], Compression::Packbits, 2),
    ];
    let tiled = scratch("damage.tif");
    if run("vips", &["tiffsave", path(&source_png()), path(&tiled), "--tile", "--tile-width", "16", "--tile-height", "16", "--compression", "lzw", "--pyramid"]) {
        files.push(std::fs::read(&tiled).unwrap());
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for file in &files {
        // Cut at every length for small files, at 400 random lengths for larger ones.
        let cuts: Vec<usize> =
            if file.len() < 4000 { (0..file.len()).collect() } else { (0..400).map(|_| rng.next() as usize % file.len()).collect() };
        for cut in cuts {
            decode_damaged(&file[..cut]);
        }
        for _ in 0..400 {
            let mut bad = file.clone();
            for _ in 0..1 + rng.next() % 4 {
                let at = rng.next() as usize % bad.len();
                bad[at] ^= 1 << (rng.next() % 8);
            }
            decode_damaged(&bad);
        }
    }
}

#[test]
fn a_looping_ifd_chain_is_a_format_error() {
    let mut file = write_ours(4, 4, PixelFormat::GRAY8, TiffCompression::None, false);
    let ifd = u32::from_le_bytes(file[4..8].try_into().unwrap()) as usize;
    let entries = u16::from_le_bytes([file[ifd], file[ifd + 1]]) as usize;
    let next = ifd + 2 + 12 * entries;
    file[next..next + 4].copy_from_slice(&(ifd as u32).to_le_bytes());
    let e = stripflow::codec::probe::read_metadata(&Input::from_bytes(file)).unwrap_err();
    assert!(matches!(e, Error::Format { .. }) && e.to_string().contains("loops"), "{e}");
}

#[test]
fn unsupported_features_are_named() {
    let src = source_png();
    let out = scratch("jpeg.tif");
    if !run("vips", &["tiffsave", path(&src), path(&out), "--compression", "jpeg"]) {
        return;
    }
    let e = ours(&std::fs::read(&out).unwrap(), 0, None, false).unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }) && e.to_string().contains("JPEG-in-TIFF"), "{e}");
}

#[test]
fn a_wide_tiled_file_streamed_per_tile_column_matches_the_tiff_crate() {
    // 16384 wide in 256x256 tiles: a row of tiles would take 12 MiB, so each tile column is
    // streamed a band of rows at a time instead (see `heap_tiff_decode` for its heap), the
    // columns shared out among the decoder's threads: the same samples on any thread count.
    let (zone, rgb, out) = (scratch("wide-zone.v"), scratch("wide-rgb.v"), scratch("wide.tif"));
    let made = run("vips", &["zone", path(&zone), "16384", "300", "--uchar"])
        && run("vips", &["bandjoin", &format!("{0} {0} {0}", path(&zone)), path(&rgb)])
        && run("vips", &["tiffsave", path(&rgb), path(&out), "--tile", "--tile-width", "256", "--tile-height", "256", "--compression", "lzw", "--predictor", "horizontal"]);
    if !made {
        return;
    }
    let file = std::fs::read(&out).unwrap();
    let (_, samples) = reference(&file, 0);
    let (_, _, _, got) = ours(&file, 0, None, false).unwrap();
    assert!(got == samples);
    for threads in [2, 3] {
        assert!(ours_on(&file, 0, None, false, threads).unwrap().3 == samples, "{threads} threads");
    }
    // A buffered crop (3 tile columns), and a streamed one (47 columns, 9 MiB a row of tiles)
    // starting inside a tile, on one thread and on two.
    for (width, threads) in [(700u32, 1), (12000, 1), (12000, 2)] {
        let region = Rect { x: 1000, y: 203, width, height: 90 };
        let (_, _, _, cropped) = ours_on(&file, 0, Some(region), false, threads).unwrap();
        let row = width as usize * 3;
        for y in 0..90usize {
            let start = ((203 + y) * 16384 + 1000) * 3;
            assert_eq!(&cropped[y * row..(y + 1) * row], &got[start..start + row], "{width} wide on {threads}, row {y}");
        }
    }
}
