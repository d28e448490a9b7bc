//! Metadata: stripped by default, kept on request (`keep_metadata`, `keep_icc_profile`) in JPEG,
//! PNG, WebP and TIFF outputs, checked with an independent reader (Pillow 13; the tests that
//! need it print a note and skip when it is missing), and summarised by `probe::read_info`.
//!
//! Inputs are made here: an EXIF block built byte by byte (both byte orders) with a camera,
//! orientation 6, a date taken and a GPS position, an XMP packet, and an ICC profile (moxcms'
//! Display P3, or vips' built-in `p3` profile), in JPEGs and PNGs written by stripflow's own
//! encoders (`encode_keeping`) or by vips.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use stripflow::codec::jpeg::JpegEncoder;
use stripflow::codec::metadata::KeepMetadata;
use stripflow::codec::png::PngEncoder;
use stripflow::codec::{probe, Embedded, EncoderSpec, Format, Output};
use stripflow::io::Input;
use stripflow::pixel::{ImageInfo, PixelFormat};
use stripflow::plan::{Chain, Pipeline};
use stripflow::synth::Synthetic;
use stripflow::Error;

/// The latitude written into the GPS block (48 deg 51' 30"), which no output or report may
/// carry unless asked.
const LATITUDE: [(u32, u32); 3] = [(48, 1), (51, 1), (30, 1)];

/// An EXIF payload: IFD0 with Make, Model, Orientation `orientation`, XResolution and
/// YResolution 300/1 per inch, an EXIF sub-IFD (DateTimeOriginal) and a GPS sub-IFD
/// (GPSLatitudeRef, GPSLatitude); little-endian or big-endian.
fn exif(little: bool, orientation: u16) -> Vec<u8> {
    let p16 = |v: u16| if little { v.to_le_bytes() } else { v.to_be_bytes() };
    let p32 = |v: u32| if little { v.to_le_bytes() } else { v.to_be_bytes() };
    // Layout: header 8, IFD0 at 8 with 8 entries (2 + 96 + 4 = 102) -> 110; data after.
    let make = b"Stripflow\0";
    let model = b"Test \"Camera\"\0";
    let date = b"2024:01:02 03:04:05\0";
    let ifd0 = 8u32;
    let data = ifd0 + 2 + 8 * 12 + 4;
    let make_at = data;
    let model_at = make_at + make.len() as u32;
    let res_at = (model_at + model.len() as u32).next_multiple_of(2);
    let exif_at = res_at + 8;
    let date_at = exif_at + 2 + 12 + 4;
    let gps_at = (date_at + date.len() as u32).next_multiple_of(2);
    let lat_at = gps_at + 2 + 2 * 12 + 4;
    let mut t = Vec::new();
    t.extend(if little { b"II" } else { b"MM" });
    t.extend(p16(42));
    t.extend(p32(ifd0));
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend(p16(tag));
        t.extend(p16(kind));
        t.extend(p32(count));
        t.extend(value);
    };
    let short = |v: u16| {
        let b = p16(v);
        [b[0], b[1], 0, 0]
    };
    t.extend(p16(8));
    entry(&mut t, 0x010F, 2, make.len() as u32, p32(make_at));
    entry(&mut t, 0x0110, 2, model.len() as u32, p32(model_at));
    entry(&mut t, 0x0112, 3, 1, short(orientation));
    entry(&mut t, 0x011A, 5, 1, p32(res_at));
    entry(&mut t, 0x011B, 5, 1, p32(res_at));
    entry(&mut t, 0x0128, 3, 1, short(2));
    entry(&mut t, 0x8769, 4, 1, p32(exif_at));
    entry(&mut t, 0x8825, 4, 1, p32(gps_at));
    t.extend(p32(0));
    t.extend(make);
    t.extend(model);
    t.resize(res_at as usize, 0);
    t.extend(p32(300));
    t.extend(p32(1));
    assert_eq!(t.len(), exif_at as usize);
    t.extend(p16(1));
    entry(&mut t, 0x9003, 2, date.len() as u32, p32(date_at));
    t.extend(p32(0));
    t.extend(date);
    t.resize(gps_at as usize, 0);
    t.extend(p16(2));
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, p32(lat_at));
    t.extend(p32(0));
    for (n, d) in LATITUDE {
        t.extend(p32(n));
        t.extend(p32(d));
    }
    t
}

const XMP: &[u8] = br#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator><rdf:Seq><rdf:li>stripflow test</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"#;

/// A Display P3 profile (moxcms).
fn p3_profile() -> Vec<u8> {
    moxcms::ColorProfile::new_display_p3().encode().unwrap()
}

fn blocks(little: bool, orientation: u16, icc: Option<Vec<u8>>) -> Embedded {
    Embedded { icc, exif: Some(exif(little, orientation)), xmp: Some(XMP.to_vec()) }
}

/// A 48x32 JPEG (or PNG) of synthetic pixels carrying `blocks`, written by stripflow's encoder.
fn image_with(format: Format, blocks: &Embedded) -> Vec<u8> {
    let mut source = Synthetic::new(48, 32, PixelFormat::RGB8, 3);
    let mut out = Vec::new();
    match format {
        Format::Jpeg => JpegEncoder { quality: 95, ..Default::default() }.encode_keeping(&mut source, &mut out, blocks),
        _ => PngEncoder::default().encode_keeping(&mut source, &mut out, blocks),
    }
    .unwrap();
    out
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Whether `python3` with Pillow runs here.
fn have_pillow() -> bool {
    let ok = Command::new("python3").args(["-c", "import PIL"]).output().is_ok_and(|o| o.status.success());
    if !ok {
        println!("note: python3 with Pillow is not installed; the independent-reader checks are skipped");
    }
    ok
}

/// What Pillow reads of `path`, one `key=value` line each: size, orientation, make, model,
/// date taken, whether GPS is present and its latitude, the ICC profile (hex), whether XMP is
/// present, and the pixels as RGB (hex).
fn pillow(path: &Path) -> std::collections::HashMap<String, String> {
    let script = r#"
import sys
from PIL import Image
im = Image.open(sys.argv[1])
e = im.getexif()
sub = e.get_ifd(0x8769)
gps = e.get_ifd(0x8825)
xmp = im.info.get('xmp') or im.info.get('XML:com.adobe.xmp') or getattr(im, 'tag_v2', {}).get(700)
print('size=%dx%d' % im.size)
print('orientation=%s' % e.get(0x0112))
print('make=%s' % e.get(0x010F))
print('model=%s' % e.get(0x0110))
print('date=%s' % sub.get(0x9003))
print('gps=%s' % (len(gps) > 0))
print('latitude=%s' % (gps.get(2),))
print('icc=%s' % (im.info.get('icc_profile') or b'').hex())
print('xmp=%s' % bool(xmp))
print('pixels=%s' % im.convert('RGB').tobytes().hex())
"#;
    let out = Command::new("python3").arg("-c").arg(script).arg(path).output().unwrap();
    assert!(out.status.success(), "Pillow failed on {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The default strips everything: no EXIF (no GPS), no XMP, no ICC profile, in every format.
/// Needs no external tool: the output's bytes are searched for the blocks' contents.
#[test]
fn default_output_carries_no_metadata() {
    let dir = tmp();
    let input = write(dir.path(), "gps.jpg", &image_with(Format::Jpeg, &blocks(true, 6, Some(p3_profile()))));
    for ext in ["jpg", "png", "webp", "tif"] {
        let out = dir.path().join(format!("out.{ext}"));
        Pipeline::open(&input).unwrap().auto_orient().write_to_path(&out).unwrap();
        let bytes = std::fs::read(&out).unwrap();
        for needle in [&b"Exif\0\0"[..], b"Stripflow", b"2024:01:02", b"stripflow test", b"ICC_PROFILE", b"iCCP", b"ICCP", b"mntr"] {
            assert!(!contains(&bytes, needle), "{ext} output carries {:?}", String::from_utf8_lossy(needle));
        }
        if matches!(ext, "jpg" | "png") {
            let info = probe::read_info(&Input::open(&out).unwrap()).unwrap();
            assert_eq!((info.exif.is_none(), info.xmp, info.icc_bytes), (true, false, None), "{ext}");
        }
    }
}

/// The same with Pillow as the reader: no EXIF, no GPS, no profile, no XMP.
#[test]
fn default_output_has_no_gps_for_pillow() {
    if !have_pillow() {
        return;
    }
    let dir = tmp();
    let input = write(dir.path(), "gps.jpg", &image_with(Format::Jpeg, &blocks(false, 1, Some(p3_profile()))));
    let before = pillow(&input);
    assert_eq!(before["gps"], "True", "the input has GPS for Pillow");
    for ext in ["jpg", "png", "webp", "tif"] {
        let out = dir.path().join(format!("out.{ext}"));
        Pipeline::open(&input).unwrap().write_to_path(&out).unwrap();
        let p = pillow(&out);
        assert_eq!((p["gps"].as_str(), p["make"].as_str(), p["icc"].as_str(), p["xmp"].as_str()), ("False", "None", "", "False"), "{ext}");
    }
}

/// keep_metadata into each output format, read back by Pillow: the camera, the date, GPS and
/// XMP kept; the EXIF orientation 6 of an auto-oriented input rewritten to 1 (both byte orders);
/// the pixels converted from P3 to sRGB, so the profile written is sRGB, not the input's.
#[test]
fn keep_metadata_round_trips_in_every_format() {
    if !have_pillow() {
        return;
    }
    let dir = tmp();
    for little in [true, false] {
        let p3 = p3_profile();
        let input = write(dir.path(), "in.jpg", &image_with(Format::Jpeg, &blocks(little, 6, Some(p3.clone()))));
        for ext in ["jpg", "png", "webp", "tif"] {
            let out = dir.path().join(format!("out.{ext}"));
            let stats = Pipeline::open(&input).unwrap().auto_orient().keep_metadata().write_to_path(&out).unwrap();
            assert!(stats.plan.stages.iter().any(|s| s.name == "metadata"), "the plan counts the blocks");
            let p = pillow(&out);
            let case = format!("{ext}, little-endian input {little}");
            assert_eq!(p["size"], "32x48", "{case}: turned upright");
            assert_eq!(p["date"], "2024:01:02 03:04:05", "{case}");
            assert_eq!(p["xmp"], "True", "{case}");
            let icc = p["icc"].clone();
            assert!(!icc.is_empty() && icc != hex(&p3), "{case}: an sRGB profile, not the input's");
            let description = stripflow::codec::metadata::icc_description(&unhex(&icc)).unwrap_or_default();
            assert!(description.contains("sRGB"), "{case}: {description}");
            if ext == "tif" {
                // A TIFF keeps the EXIF sub-IFD; IFD0 describes the new pixels (no camera, no GPS).
                assert_eq!((p["make"].as_str(), p["gps"].as_str()), ("None", "False"), "{case}");
                continue;
            }
            assert_eq!(p["orientation"], "1", "{case}: orientation reset");
            assert_eq!(p["make"], "Stripflow", "{case}");
            assert_eq!(p["model"], "Test \"Camera\"", "{case}");
            assert_eq!(p["gps"], "True", "{case}: kept on request");
            assert_eq!(p["latitude"], "(48.0, 51.0, 30.0)", "{case}");
        }
    }
}

/// Without auto-orientation the stored rows keep their EXIF orientation, and so does the kept
/// EXIF (and every other EXIF byte is copied as it was).
#[test]
fn kept_exif_is_unchanged_when_the_pixels_are_not_turned() {
    let dir = tmp();
    let exif_in = exif(false, 6);
    let input = write(dir.path(), "in.png", &image_with(Format::Png, &Embedded { exif: Some(exif_in.clone()), ..Default::default() }));
    let out = dir.path().join("out.jpg");
    Pipeline::open(&input).unwrap().keep_metadata().write_to_path(&out).unwrap();
    let read = stripflow::codec::metadata::jpeg::read_embedded(&Input::open(&out).unwrap(), None).unwrap();
    assert_eq!(read.exif.as_deref(), Some(&exif_in[..]));
    // Auto-oriented: exactly the two orientation bytes differ.
    Pipeline::open(&input).unwrap().auto_orient().keep_metadata().write_to_path(&out).unwrap();
    let read = stripflow::codec::metadata::jpeg::read_embedded(&Input::open(&out).unwrap(), None).unwrap();
    let kept = read.exif.unwrap();
    let differ: Vec<usize> = (0..kept.len()).filter(|&i| kept[i] != exif_in[i]).collect();
    assert_eq!(differ.len(), 1, "only the orientation's low byte (6 -> 1) changes: {differ:?}");
    assert_eq!(stripflow::codec::exif::orientation(&kept), Some(1));
}

/// `keep_icc_profile` alone: the output carries exactly the input profile's bytes and no EXIF or
/// XMP, and the pixels are not converted (a lossless PNG round trip gives the input's pixels;
/// converting would change them). The input is written by vips with its built-in P3 profile.
#[test]
fn keep_icc_writes_the_input_profile_and_unconverted_pixels() {
    if !have_pillow() {
        return;
    }
    let dir = tmp();
    let plain = write(dir.path(), "plain.png", &image_with(Format::Png, &Embedded::default()));
    let input = dir.path().join("p3.png");
    let vips = Command::new("vips").arg("icc_transform").arg(&plain).arg(&input).arg("p3").output();
    let input = match vips {
        Ok(o) if o.status.success() => input,
        _ => {
            println!("note: vips is not installed; the P3 input is written with moxcms' profile");
            let blocks = Embedded { icc: Some(p3_profile()), ..blocks(true, 1, None) };
            write(dir.path(), "p3.png", &image_with(Format::Png, &blocks))
        }
    };
    let source = pillow(&input);
    assert!(!source["icc"].is_empty());
    for ext in ["png", "tif", "webp", "jpg"] {
        let out = dir.path().join(format!("out.{ext}"));
        let mut job = Pipeline::open(&input).unwrap().keep_icc_profile();
        if ext == "webp" {
            job = job.lossless(true);
        }
        job.write_to_path(&out).unwrap();
        let p = pillow(&out);
        assert_eq!(p["icc"], source["icc"], "{ext}: the input profile's bytes");
        assert_eq!((p["make"].as_str(), p["xmp"].as_str()), ("None", "False"), "{ext}: the profile only");
        if ext != "jpg" {
            assert_eq!(p["pixels"], source["pixels"], "{ext}: pixels unconverted");
        }
    }
    // Converted (the default), the pixels change: the comparison above can fail.
    let out = dir.path().join("converted.png");
    Pipeline::open(&input).unwrap().write_to_path(&out).unwrap();
    assert_ne!(pillow(&out)["pixels"], source["pixels"]);
}

/// A format that cannot store the blocks is a typed error at planning, never a silent drop.
#[test]
fn an_encoder_without_metadata_support_refuses_kept_blocks() {
    #[derive(Debug)]
    struct Plain(PngEncoder);
    impl EncoderSpec for Plain {
        fn format(&self) -> Format {
            Format::Png
        }
        fn heap_bytes(&self, input: ImageInfo) -> usize {
            self.0.heap_bytes(input)
        }
        fn detail(&self) -> String {
            "plain".into()
        }
        fn encode(&self, source: &mut dyn stripflow::pipeline::RowSource, writer: &mut dyn std::io::Write) -> stripflow::Result<()> {
            self.0.encode(source, writer)
        }
    }
    let input = image_with(Format::Jpeg, &blocks(true, 1, None));
    let result = Pipeline::from_bytes(input.clone()).keep_metadata().encoder(Plain(PngEncoder::default())).plan();
    match result {
        Err(Error::Unsupported { feature, .. }) => assert!(feature.contains("EXIF") && feature.contains("XMP"), "{feature}"),
        other => panic!("{other:?}"),
    }
    // Without the request, the same encoder runs.
    Pipeline::from_bytes(input).encoder(Plain(PngEncoder::default())).write_to(&mut Vec::new()).unwrap();
    // KeepMetadata passes an empty set through the default methods.
    let kept = KeepMetadata::new(Arc::new(Plain(PngEncoder::default())), Arc::new(Embedded::default())).unwrap();
    let mut source = Synthetic::new(4, 4, PixelFormat::RGB8, 1);
    kept.encode_with_metadata(&mut source, Output::Stream(&mut Vec::new()), &Embedded::default()).unwrap();
}

/// Keeping metadata is counted: the plan grows by at least the blocks' bytes.
#[test]
fn the_plan_counts_the_kept_blocks() {
    let big_xmp = [XMP, &vec![b' '; 60_000][..]].concat();
    let b = Embedded { xmp: Some(big_xmp), ..blocks(true, 1, Some(p3_profile())) };
    let input = image_with(Format::Png, &b);
    for format in [Format::Png, Format::Jpeg, Format::Webp, Format::Tiff] {
        let plain = Pipeline::from_bytes(input.clone()).format(format).plan().unwrap();
        let kept = Pipeline::from_bytes(input.clone()).format(format).keep_metadata().plan().unwrap();
        assert!(kept.heap_bytes >= plain.heap_bytes + b.heap_bytes() - b.icc.as_ref().unwrap().len(), "{format}");
        let too_small = Pipeline::from_bytes(input.clone()).format(format).keep_metadata().max_memory(kept.heap_bytes - 1).plan();
        assert!(matches!(too_small, Err(Error::Limits(_))), "{format}: {too_small:?}");
    }
}

/// `read_info`: camera, date, GPS presence (never the position), the profile's description,
/// XMP and density, from JPEG and PNG; the JSON form holds no coordinate.
#[test]
fn info_summarises_metadata_without_the_position() {
    let b = blocks(false, 6, Some(p3_profile()));
    for format in [Format::Jpeg, Format::Png] {
        let info = probe::read_info(&Input::from_bytes(image_with(format, &b))).unwrap();
        let exif = info.exif.clone().unwrap();
        assert_eq!(exif.make.as_deref(), Some("Stripflow"));
        assert_eq!(exif.model.as_deref(), Some("Test \"Camera\""));
        assert_eq!(exif.date_time_original.as_deref(), Some("2024:01:02 03:04:05"));
        assert!(exif.gps);
        assert!(info.xmp);
        assert_eq!(info.icc_description.as_deref(), Some("Display P3"));
        assert_eq!(info.metadata.pages, 1);
        let json = info.to_json();
        assert!(json.contains(r#""model":"Test \"Camera\"""#), "{json}");
        assert!(json.contains(r#""gps":true"#) && !json.contains("51") && !json.contains("latitude"), "{json}");
        let text = info.to_string();
        assert!(text.contains("gps:          present (position not shown)"), "{text}");
        // JPEG: the JFIF APP0 says 1:1 (jpeg-encoder's default), which the format's own density
        // wins over EXIF's; PNG has no pHYs here, so EXIF's 300 per inch.
        let density = info.density.unwrap();
        match format {
            Format::Jpeg => assert_eq!((density.x, density.unit), (1.0, "aspect")),
            _ => assert_eq!((density.x, density.y, density.unit), (300.0, 300.0, "inch")),
        }
    }
}

/// Hostile EXIF (offset loops, counts past the end, offsets past the end, truncation at every
/// byte) gives no panic, reading it for info or keeping it in every format.
#[test]
fn hostile_exif_is_harmless() {
    let good = exif(true, 6);
    let mut cases: Vec<Vec<u8>> = (0..good.len()).map(|n| good[..n].to_vec()).collect();
    // The EXIF and GPS pointers pointing back at IFD0 (a loop), and at the end.
    for (field, value) in [(8 + 2 + 6 * 12 + 8, 8u32), (8 + 2 + 7 * 12 + 8, 8), (8 + 2 + 6 * 12 + 8, u32::MAX)] {
        let mut t = good.clone();
        t[field..field + 4].copy_from_slice(&value.to_le_bytes());
        cases.push(t);
    }
    // Entry counts of 65535, value counts past the end.
    let mut t = good.clone();
    t[8..10].copy_from_slice(&u16::MAX.to_le_bytes());
    cases.push(t);
    let mut t = good.clone();
    t[8 + 2 + 4..8 + 2 + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    cases.push(t);
    let dir = tmp();
    for (i, case) in cases.iter().enumerate() {
        let input = image_with(Format::Jpeg, &Embedded { exif: Some(case.clone()), ..Default::default() });
        let _ = probe::read_info(&Input::from_bytes(input.clone())).unwrap();
        let special = i >= good.len();
        if !special && i % 17 != 0 {
            continue;
        }
        for ext in ["jpg", "png", "webp", "tif"] {
            let out = dir.path().join(format!("out.{ext}"));
            Pipeline::from_bytes(input.clone()).auto_orient().keep_metadata().write_to_path(&out).unwrap();
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
}
