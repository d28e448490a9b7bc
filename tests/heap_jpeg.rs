//! dhat heap tests of the streaming JPEG decoder: 16384x16384 baseline 4:2:0 and progressive
//! JPEGs decoded to PNG at full size and to 256-pixel-wide thumbnails via 1/8 shrink-on-load,
//! with no temporary file; and the peak flat in image height.
//!
//! Each scenario runs in its own process (see `support/heap.rs`); fixtures are generated (and
//! cached under the target folder) before the profiler starts.

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod support;

use std::path::PathBuf;

use stripflow::codec::jpeg::{DecodeOptions, JpegDecoder};
use stripflow::codec::png::{PngCompression, PngEncoder};
use stripflow::io::Input;
use stripflow::ops::resize::{Resize, ResizeOptions};
use stripflow::pipeline::drain;
use stripflow::RowSource;
use support::fixtures::{self, JpegSpec};
use support::heap::HeapTests;

const MIB: u64 = 1 << 20;
const SIDE: u32 = 16384;
/// Height of the tall image of the flat-in-height check.
const TALL: u32 = 65000;

use support::CountingSink;

/// Points TMPDIR at a folder that cannot be written (it does not exist, inside a read-only
/// folder), so a decoder that tried to spool to a temporary file would fail.
fn forbid_temp_files() {
    let parent = support::fixtures::cache_dir().join("read-only-tmp");
    std::fs::create_dir_all(&parent).unwrap();
    let mut perms = std::fs::metadata(&parent).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&parent, perms).unwrap();
    std::env::set_var("TMPDIR", parent.join("missing"));
}

fn decoder(path: &PathBuf, denominator: u8) -> JpegDecoder {
    let options = DecodeOptions { scale_denominator: denominator, ..Default::default() };
    JpegDecoder::new(Input::open(path).unwrap(), options).unwrap()
}

/// Full-size decode re-encoded as PNG (fast compression) to a counting sink.
fn to_png(path: PathBuf) {
    forbid_temp_files();
    let mut source = decoder(&path, 1);
    assert_eq!(source.info().width, SIDE);
    let mut out = CountingSink(0);
    PngEncoder { compression: PngCompression::Fast, ..Default::default() }.encode(&mut source, &mut out).unwrap();
    assert!(out.0 > 1 << 20);
}

/// 1/8 shrink-on-load (2048 wide), then resize to 256 wide, then PNG.
fn to_thumbnail(path: PathBuf) {
    forbid_temp_files();
    let source = decoder(&path, 8);
    assert_eq!(source.info().width, SIDE / 8);
    let mut thumb = Resize::to_width(source, 256, ResizeOptions::default()).unwrap();
    assert_eq!(thumb.info().width, 256);
    let mut out = CountingSink(0);
    PngEncoder::default().encode(&mut thumb, &mut out).unwrap();
    assert!(out.0 > 1000);
}

/// Full-size decode, rows discarded.
fn decode_only(path: PathBuf) {
    let mut source = decoder(&path, 1);
    let mut sum = 0u64;
    drain(&mut source, 16, |strip, _| {
        sum = sum.wrapping_add(strip[strip.len() / 2] as u64);
        Ok(())
    })
    .unwrap();
    assert!(sum > 0);
}

/// A progressive JPEG with successive approximation (cjpeg's default progressive script), encoded
/// by cjpeg from the synthetic image piped to it row by row; None if cjpeg is missing.
fn cjpeg_progressive(width: u32, height: u32) -> Option<PathBuf> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let path = fixtures::cache_dir().join(format!("cjpeg-progressive-{width}x{height}.jpg"));
    if path.exists() {
        return Some(path);
    }
    let temp = path.with_extension(format!("{}.tmp", std::process::id()));
    let Ok(mut child) =
        Command::new("cjpeg").args(["-progressive", "-outfile"]).arg(&temp).stdin(Stdio::piped()).spawn()
    else {
        return None;
    };
    {
        let mut stdin = std::io::BufWriter::new(child.stdin.take().unwrap());
        write!(stdin, "P6\n{width} {height}\n255\n").unwrap();
        let mut source = stripflow::synth::Synthetic::new(width, height, stripflow::PixelFormat::RGB8, 2);
        let mut row = vec![0u8; source.info().row_bytes()];
        for _ in 0..height {
            source.read_row(&mut row).unwrap();
            stdin.write_all(&row).unwrap();
        }
    }
    assert!(child.wait().unwrap().success(), "cjpeg failed");
    std::fs::rename(&temp, &path).unwrap();
    Some(path)
}

fn main() {
    let mut t = HeapTests::new();
    let baseline = || fixtures::jpeg(SIDE, SIDE, JpegSpec::default(), 1);
    let progressive = || fixtures::jpeg(SIDE, SIDE, JpegSpec { progressive: true, ..JpegSpec::default() }, 1);
    let tall = || fixtures::jpeg(SIDE, TALL, JpegSpec::default(), 1);

    let peak = t.measure("baseline_16k_png", baseline, to_png);
    t.check_at_most("baseline 16384x16384 4:2:0 -> PNG", peak, 8 * MIB);
    let peak = t.measure("baseline_16k_thumbnail", baseline, to_thumbnail);
    t.check_at_most("baseline 16384x16384 -> 1/8 -> 256 wide PNG", peak, 4 * MIB);
    let peak = t.measure("progressive_16k_png", progressive, to_png);
    t.check_at_most("progressive 16384x16384 -> PNG, no temp file", peak, 16 * MIB);
    let peak = t.measure("progressive_16k_thumbnail", progressive, to_thumbnail);
    t.check_at_most("progressive 16384x16384 -> 1/8 -> 256 wide PNG, no temp file", peak, 8 * MIB);
    // Successive approximation (refinement scans), if cjpeg is installed.
    if std::process::Command::new("cjpeg").arg("-version").output().is_ok() {
        let sa = || cjpeg_progressive(SIDE, SIDE).unwrap();
        let peak = t.measure("progressive_sa_16k_png", sa, to_png);
        t.check_at_most("cjpeg progressive (successive approximation) 16384x16384 -> PNG", peak, 16 * MIB);
        let peak = t.measure("progressive_sa_16k_thumbnail", sa, to_thumbnail);
        t.check_at_most("cjpeg progressive 16384x16384 -> 1/8 -> 256 wide PNG", peak, 8 * MIB);
    } else {
        println!("SKIPPED: cjpeg not found (successive-approximation scenarios)");
    }
    let square = t.measure("baseline_16k_decode", baseline, decode_only);
    let taller = t.measure("baseline_16k_x_65000_decode", tall, decode_only);
    t.check_flat("baseline decode flat in height (16384x65000 vs 16384x16384)", square, taller, 64 * 1024);
    // The decoder's own account of its buffers (what a pipeline plans with) matches the heap:
    // peak = buffer_bytes + the drain's strip + small change (scan list, Huffman tables).
    if let Some(peak) = square {
        let source = decoder(&baseline(), 1);
        let expected = (source.buffer_bytes() + 16 * source.info().row_bytes()) as u64;
        t.check(
            "decoder buffer_bytes accounts for the heap",
            peak >= expected && peak <= expected + 64 * 1024,
            &format!("peak {peak} vs buffer_bytes + strip {expected}"),
        );
    }
    t.finish();
}
