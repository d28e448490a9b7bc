//! dhat heap tests of the streaming TIFF decoder: a 16384-wide tiled TIFF (libvips, LZW with the
//! predictor; skipped with a note without `vips`) and tall striped TIFFs from our writer (LZW,
//! deflate, uncompressed), each decoded row by row: the decoder's
//! account (`DecoderSpec::heap_bytes`, from the same layout it allocates from) against the
//! measured peak, the peak under a few MiB, flat in height, the wide tiled file streamed per
//! tile column, and a crop of it costing only its tile columns.
//!
//! Each scenario runs in its own process (see `support/heap.rs`); the files are generated and
//! their headers read before the profiler starts.

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod support;

use std::io::Cursor;
use std::path::PathBuf;
use std::process::Command;

use stripflow::codec::registry;
use stripflow::codec::tiff::TiffEncoder;
use stripflow::codec::{DecodeRequest, FailOn, Format, Header, TiffCompression};
use stripflow::ops::crop::Rect;
use stripflow::prelude::*;
use stripflow::synth::Synthetic;
use support::heap::{human, HeapTests};

const MIB: u64 = 1 << 20;

fn scratch(name: &str) -> PathBuf {
    support::fixtures::cache_dir().join(format!("heap-tiff-decode-{name}"))
}

/// A striped TIFF from our writer (rows per strip `rows`, or the writer's choice).
fn striped(name: &str, w: u32, h: u32, compression: TiffCompression) -> PathBuf {
    let path = scratch(name);
    if !path.exists() {
        let encoder = TiffEncoder { compression, ..Default::default() };
        let mut out = Cursor::new(Vec::new());
        encoder.encode_seekable(&mut Synthetic::new(w, h, PixelFormat::RGB8, 5), &mut out).unwrap();
        std::fs::write(&path, out.into_inner()).unwrap();
    }
    path
}

/// A 16384x1024 tiled TIFF by libvips (256x256 tiles, LZW + predictor), if vips runs.
fn tiled() -> Option<PathBuf> {
    let path = scratch("tiled-16k.tif");
    if path.exists() {
        return Some(path);
    }
    let zone = scratch("zone.v");
    let ok = Command::new("vips").args(["zone", zone.to_str()?, "16384", "1024", "--uchar"]).status().is_ok_and(|s| s.success())
        && Command::new("vips")
            .args(["bandjoin", &format!("{0} {0} {0}", zone.to_str()?), scratch("zone3.v").to_str()?])
            .status()
            .is_ok_and(|s| s.success())
        && Command::new("vips")
            .args(["tiffsave", scratch("zone3.v").to_str()?, path.to_str()?, "--tile", "--tile-width", "256", "--tile-height", "256"])
            .args(["--compression", "lzw", "--predictor", "horizontal"])
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("note: vips not installed or failed; the tiled scenarios are skipped");
        return None;
    }
    Some(path)
}

fn request(header: &Header, region: Option<Rect>, threads: usize) -> DecodeRequest {
    let rows = region.map_or(header.info.height, |r| r.height);
    DecodeRequest { shrink: 1, region, rows_needed: rows, fail_on: FailOn::Error, cmyk: false, threads }
}

/// Opens `path` and reads its header (before profiling), with the decoder's account.
fn prepare(path: &PathBuf, region: Option<Rect>) -> (Input, Header, DecodeRequest, usize) {
    prepare_threads(path, region, 1)
}

/// As [`prepare`], for a decoder that may use `threads` threads.
fn prepare_threads(path: &PathBuf, region: Option<Rect>, threads: usize) -> (Input, Header, DecodeRequest, usize) {
    let input = Input::open(path).unwrap();
    let header = registry::read_header(&input).unwrap();
    let request = request(&header, region, threads);
    let planned = registry::codec(Format::Tiff).decoder.unwrap().heap_bytes(&input, &header, &request).unwrap();
    (input, header, request, planned)
}

/// Builds the decoder and reads every row into one row buffer.
fn decode((input, header, request, _): (Input, Header, DecodeRequest, usize)) {
    let mut decoder = registry::codec(Format::Tiff).decoder.unwrap().build(input, &header, &request).unwrap();
    let mut row = vec![0u8; decoder.info().row_bytes()];
    for _ in 0..decoder.info().height {
        decoder.read_row(&mut row).unwrap();
    }
}

/// Checks the account against the measured peak: the peak is the account plus one output row
/// (the caller's), within 10% and 16 KiB.
fn check_account(t: &mut HeapTests, name: &str, peak: Option<u64>, planned: usize, row: usize) {
    if let Some(peak) = peak {
        let claimed = (planned + row) as u64;
        t.check(
            &format!("{name}: heap_bytes + one row within 10% + 16 KiB of the measured peak"),
            peak <= claimed + 16 * 1024 && claimed <= peak + peak / 10 + 16 * 1024,
            &format!("claimed {} (account and one row), measured {}", human(claimed), human(peak)),
        );
    }
}

fn main() {
    let mut t = HeapTests::new();

    // Tall striped files: the account, and the peak flat in height (4x taller).
    for (name, compression) in [("lzw", TiffCompression::Lzw), ("deflate", TiffCompression::Deflate), ("none", TiffCompression::None)] {
        let short = striped(&format!("{name}-4k.tif"), 2048, 4096, compression);
        let tall = striped(&format!("{name}-16k.tif"), 2048, 16384, compression);
        let (_, _, _, planned) = prepare(&short, None);
        let peak_short = t.measure(&format!("striped_{name}_2048x4096"), || prepare(&short, None), decode);
        let peak_tall = t.measure(&format!("striped_{name}_2048x16384"), || prepare(&tall, None), decode);
        check_account(&mut t, &format!("striped {name} 2048x4096"), peak_short, planned, 2048 * 3);
        t.check_flat(&format!("striped {name}: 2048x16384 peak flat against 2048x4096"), peak_short, peak_tall, 4096);
        t.check_at_most(&format!("striped {name} 2048x16384: peak <= 1 MiB"), peak_tall, MIB);
    }

    // 16384-wide tiles: one stream per tile column giving a band of 16 rows at a time (a row
    // of 256-row tiles would be 12 MiB of RGB samples), on one thread and on two (the second
    // thread's spawns are in the account), and a crop holding only its own tile columns.
    if let Some(path) = tiled() {
        let (_, _, _, planned) = prepare(&path, None);
        let peak = t.measure("tiled_16384x1024", || prepare(&path, None), decode);
        check_account(&mut t, "tiled 16384x1024", peak, planned, 16384 * 3);
        t.check_at_most(
            "tiled 16384x1024: peak <= 6 MiB (64 tile-column streams with 64 KiB LZW tables, a 16-row band; not a 12 MiB row of tiles)",
            peak,
            6 * MIB,
        );
        let (_, _, _, planned) = prepare_threads(&path, None, 2);
        let peak = t.measure("tiled_16384x1024_threads2", || prepare_threads(&path, None, 2), decode);
        check_account(&mut t, "tiled 16384x1024 on 2 threads", peak, planned, 16384 * 3);
        let region = Some(Rect { x: 5000, y: 300, width: 600, height: 500 });
        let (_, _, _, planned) = prepare(&path, region);
        let peak = t.measure("tiled_16384x1024_crop", || prepare(&path, region), decode);
        check_account(&mut t, "tiled crop 600x500", peak, planned, 600 * 3);
        // The crop's 3 tile columns are a small row of tiles, so they are buffered whole (the
        // decoder buffers a row of tiles up to 8 MiB: faster than 3 interleaved streams).
        // Beyond the tiles: one LZW stream (a 64 KiB table, its piece buffer) and small change.
        t.check_at_most("tiled crop 600x500: peak <= its 3 buffered 256x256 RGB tiles + 160 KiB", peak, 3 * 256 * 256 * 3 + 160 * 1024);
    }

    t.finish();
}
