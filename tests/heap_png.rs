//! dhat heap tests of the PNG decoder: a 16384x16384 interlaced (Adam7) RGB8 PNG decoded by the
//! seven cursors and re-encoded as PNG, in a few MiB where every other library holds the whole
//! 768 MiB frame; the same image non-interlaced (png crate rows); and peaks flat in height.
//!
//! Each scenario runs in its own process (see `support/heap.rs`); fixtures are generated (and
//! cached under the target folder) before the profiler starts.

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod support;

use std::path::PathBuf;

use stripflow::codec::png::{PngDecodeOptions, PngDecoder, PngEncoder};
use stripflow::io::Input;
use stripflow::pipeline::drain;
use stripflow::{PixelFormat, RowSource};
use support::heap::HeapTests;
use support::{fixtures, interlaced};

const MIB: u64 = 1 << 20;

/// Decodes every row of `png` in strips of 16 rows, checking it is the kind of file expected.
fn decode_only(png: PathBuf, interlaced: bool) {
    decode_with(png, interlaced, PngDecodeOptions::default())
}

/// [`decode_only`] with decoder `options`.
fn decode_with(png: PathBuf, interlaced: bool, options: PngDecodeOptions) {
    let mut decoder = PngDecoder::with_options(Input::open(&png).unwrap(), options).unwrap();
    assert_eq!(decoder.header().interlaced, interlaced);
    let mut sum = 0u64;
    drain(&mut decoder, 16, |strip, _| {
        sum = sum.wrapping_add(strip.iter().step_by(4099).map(|&b| b as u64).sum::<u64>());
        Ok(())
    })
    .unwrap();
    assert!(sum > 0);
}

/// Decodes `png` and encodes it again as PNG (to a sink). TMPDIR points nowhere meanwhile, so a
/// decoder that tried to spool to a temporary file would fail.
fn to_png(png: PathBuf) {
    std::env::set_var("TMPDIR", "/nonexistent/stripflow-no-temp-files");
    let mut decoder = PngDecoder::new(Input::open(&png).unwrap()).unwrap();
    assert!(decoder.header().interlaced);
    let mut out = CountingSink(0);
    PngEncoder::default().encode(&mut decoder, &mut out).unwrap();
    assert!(out.0 > 1 << 20, "encoded {} bytes", out.0);
}

use support::CountingSink;

fn main() {
    let mut t = HeapTests::new();

    let adam7 = || interlaced::interlaced_png(16384, 16384, PixelFormat::RGB8, 1);
    let to_png_16k = t.measure("adam7_16k_to_png", adam7, to_png);
    t.check_at_most("16384x16384 interlaced PNG -> PNG", to_png_16k, 8 * MIB);

    let adam7_16k = t.measure("adam7_16k_decode", adam7, |p| decode_only(p, true));
    t.check_at_most("16384x16384 interlaced PNG decode", adam7_16k, 4 * MIB);

    let adam7_short = t.measure(
        "adam7_16kx1k_decode",
        || interlaced::interlaced_png(16384, 1024, PixelFormat::RGB8, 1),
        |p| decode_only(p, true),
    );
    t.check_flat("interlaced decode peak flat in height (1024 -> 16384 rows)", adam7_short, adam7_16k, 64 * 1024);

    // With two threads the last pass is inflated on a worker a few rows ahead (adam7_ahead.rs).
    let adam7_16k_ahead = t.measure("adam7_16k_decode_two_threads", adam7, |p| {
        decode_with(p, true, PngDecodeOptions { threads: 2, ..Default::default() })
    });
    t.check_at_most("16384x16384 interlaced PNG decode, last pass on a worker", adam7_16k_ahead, 4 * MIB);

    let plain_16k = t.measure(
        "plain_16k_decode",
        || fixtures::png(16384, 16384, PixelFormat::RGB8, 1),
        |p| decode_only(p, false),
    );
    t.check_at_most("16384x16384 non-interlaced PNG decode", plain_16k, 4 * MIB);

    // The decoder's own account of its buffers (RowSource::buffer_bytes) against dhat, reading
    // row by row into one row buffer.
    for (name, interlaced, threads, make) in [
        ("account_adam7", true, 1, (|| interlaced::interlaced_png(16384, 1024, PixelFormat::RGB8, 1)) as fn() -> PathBuf),
        ("account_adam7_two_threads", true, 2, || interlaced::interlaced_png(16384, 1024, PixelFormat::RGB8, 1)),
        ("account_plain", false, 1, || fixtures::png(16384, 1024, PixelFormat::RGB8, 1)),
        ("account_plain_narrow", false, 1, || fixtures::png(1000, 1024, PixelFormat::RGB8, 1)),
        ("account_plain_mid", false, 1, || fixtures::png(4000, 1024, PixelFormat::RGB8, 1)),
    ] {
        let options = PngDecodeOptions { threads, ..Default::default() };
        let peak = t.measure(name, make, |p| {
            let mut decoder = PngDecoder::with_options(Input::open(&p).unwrap(), options).unwrap();
            let mut row = vec![0u8; decoder.info().row_bytes()];
            for _ in 0..decoder.info().height {
                decoder.read_row(&mut row).unwrap();
            }
        });
        if let Some(peak) = peak {
            let decoder = PngDecoder::with_options(Input::open(make()).unwrap(), options).unwrap();
            assert_eq!(decoder.header().interlaced, interlaced);
            let claimed = (decoder.buffer_bytes() + decoder.info().row_bytes()) as u64;
            t.check(
                &format!("{name}: buffer_bytes() within 25% of the measured peak"),
                claimed * 4 >= peak * 3 && claimed * 4 <= peak * 5,
                &format!("claimed {} (buffers and one row), measured {}", support::heap::human(claimed), support::heap::human(peak)),
            );
        }
    }

    t.finish();
}
