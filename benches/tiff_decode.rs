//! Criterion benchmarks of the streaming TIFF decoder on a 2048x2048 RGB8 photo-like image (4 MP),
//! in megapixels per second: LZW with the horizontal predictor in strips (our writer's layout,
//! one stream), in 256x256 tiles on a narrow image (a buffered row of tiles), and in 256x256
//! tiles 16384 wide (one LZW stream per tile column, the layout of large tiled files). The tiled
//! files come from libvips (`vips tiffsave`); without it those benches are skipped with a note.

use std::io::{BufWriter, Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stripflow::codec::png::PngEncoder;
use stripflow::codec::registry;
use stripflow::codec::tiff::TiffEncoder;
use stripflow::codec::{DecodeRequest, FailOn, Format, TiffCompression};
use stripflow::io::Input;
use stripflow::pipeline::drain;
use stripflow::synth::Synthetic;
use stripflow::PixelFormat;

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("stripflow-fixtures");
    std::fs::create_dir_all(&dir).expect("create fixture cache");
    dir.join(format!("bench-tiff-decode-{name}"))
}

/// LZW + predictor strips from our writer.
fn striped(w: u32, h: u32) -> PathBuf {
    let path = scratch(&format!("strips-{w}x{h}.tif"));
    if !path.exists() {
        let encoder = TiffEncoder { compression: TiffCompression::Lzw, ..Default::default() };
        let mut out = Cursor::new(Vec::new());
        encoder.encode_seekable(&mut Synthetic::new(w, h, PixelFormat::RGB8, 3), &mut out).unwrap();
        std::fs::write(&path, out.into_inner()).unwrap();
    }
    path
}

/// 256x256 LZW + predictor tiles by libvips, if it runs.
fn tiled(w: u32, h: u32) -> Option<PathBuf> {
    let path = scratch(&format!("tiles-{w}x{h}.tif"));
    if path.exists() {
        return Some(path);
    }
    let png = scratch(&format!("tiles-{w}x{h}.png"));
    let mut out = BufWriter::new(std::fs::File::create(&png).unwrap());
    PngEncoder::default().encode(&mut Synthetic::new(w, h, PixelFormat::RGB8, 3), &mut out).unwrap();
    out.flush().unwrap();
    drop(out);
    let ok = Command::new("vips")
        .arg("tiffsave")
        .args([&png, &path])
        .args(["--tile", "--tile-width", "256", "--tile-height", "256", "--compression", "lzw", "--predictor", "horizontal"])
        .status()
        .is_ok_and(|s| s.success());
    let _ = std::fs::remove_file(&png);
    ok.then_some(path)
}

/// Decodes every row of `path`.
fn decode_file(path: &Path) {
    let input = Input::open(path).unwrap();
    let header = registry::read_header(&input).unwrap();
    let request =
        DecodeRequest { shrink: 1, region: None, rows_needed: header.info.height, fail_on: FailOn::Error, cmyk: false, threads: 1 };
    let mut decoder = registry::codec(Format::Tiff).decoder.unwrap().build(input, &header, &request).unwrap();
    drain(&mut *decoder, 16, |_, _| Ok(())).unwrap();
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("tiff decode rgb8 lzw+predictor");
    group.sample_size(10);
    let files = [("strips 2048x2048", Some(striped(2048, 2048)), 2048u64 * 2048), ("tiles 2048x2048", tiled(2048, 2048), 2048 * 2048), ("tiles 16384x256 streamed", tiled(16384, 256), 16384 * 256)];
    for (name, path, pixels) in files {
        let Some(path) = path else {
            eprintln!("note: skipping '{name}': vips tiffsave is not available");
            continue;
        };
        group.throughput(Throughput::Elements(pixels));
        group.bench_function(name, |b| b.iter(|| decode_file(&path)));
    }
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
