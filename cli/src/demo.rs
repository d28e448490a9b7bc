//! `stripflow demo`: the main job on a built-in sample, with time and peak heap for each step.
//!
//! The sample is a procedurally generated, photo-like image (`stripflow::synth::Synthetic`),
//! produced row by row, so even the 16384x16384 source (768 MiB of pixels) never exists in memory.
//! Every step goes through the real encoders and decoders via files in a temporary folder, and
//! the outputs are read back and checked.

use std::path::Path;
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use stripflow::codec::jpeg::JpegEncoder;
use stripflow::codec::png::PngEncoder;
use stripflow::codec::probe;
use stripflow::io::{AtomicOutput, Input};
use stripflow::ops::crop::{Crop, Gravity};
use stripflow::ops::fit::Fit;
use stripflow::plan::{Chain, Pipeline};
use stripflow::pipeline::drain;
use stripflow::synth::Synthetic;
use stripflow::{PixelFormat, RowSource};

use crate::peak_alloc::PeakAlloc;

/// One measured step.
struct Step {
    name: String,
    seconds: f64,
    peak_heap: usize,
    output: String,
}

/// Runs `job`, measuring wall time and the heap high-water mark above what was live before.
fn measure(name: &str, job: impl FnOnce() -> Result<String>) -> Result<Step> {
    eprint!("  {name} ...");
    let baseline = PeakAlloc::current();
    PeakAlloc::reset_peak();
    let started = Instant::now();
    let output = job().with_context(|| name.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    let peak_heap = PeakAlloc::peak().saturating_sub(baseline);
    eprintln!(" {seconds:.2} s");
    Ok(Step { name: name.to_string(), seconds, peak_heap, output })
}

fn file_size(path: &Path) -> String {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    format!("{} ({:.1} MiB)", path.file_name().unwrap().to_string_lossy(), bytes as f64 / 1048576.0)
}

/// Encodes `source` into `path` atomically with `encode`.
fn write_file(
    path: &Path,
    source: &mut dyn RowSource,
    encode: impl FnOnce(&mut dyn RowSource, &mut AtomicOutput) -> stripflow::Result<()>,
) -> Result<()> {
    let mut out = AtomicOutput::create(path)?;
    encode(source, &mut out)?;
    out.commit()?;
    Ok(())
}

/// Runs the demo on a `size` x `size` sample; files go to `keep` or a temporary folder.
pub fn run(size: u32, keep: Option<&Path>) -> Result<()> {
    ensure!((256..=65535).contains(&size), "--size must be in 256..=65535");
    let temp;
    let dir = match keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.to_path_buf()
        }
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let megapixels = size as f64 * size as f64 / 1e6;
    println!(
        "stripflow demo: a {size}x{size} RGB sample ({megapixels:.0} MP, {:.0} MiB decoded), in {}",
        megapixels * 3e6 / 1048576.0,
        dir.display()
    );
    let source_png = dir.join("sample.png");
    let crop_png = dir.join("crop-bottom-right.png");
    let full_jpg = dir.join("full.jpg");
    let thumb_png = dir.join("thumbnail.png");
    let card_jpg = dir.join("card-1200x630.jpg");
    let mut steps = Vec::new();

    steps.push(measure("generate sample -> PNG", || {
        let mut sample = Synthetic::new(size, size, PixelFormat::RGB8, 1);
        write_file(&source_png, &mut sample, |s, out| PngEncoder::default().encode(s, out))?;
        Ok(file_size(&source_png))
    })?);

    steps.push(measure("PNG -> crop 1000x1000 bottom-right -> PNG", || {
        let decoder = probe::open(Input::open(&source_png)?)?;
        let mut crop = Crop::gravity(decoder, 1000, 1000, Gravity::BottomRight)?;
        write_file(&crop_png, &mut crop, |s, out| PngEncoder::default().encode(s, out))?;
        Ok(file_size(&crop_png))
    })?);

    steps.push(measure("PNG -> JPEG q85, full size", || {
        let mut decoder = probe::open(Input::open(&source_png)?)?;
        write_file(&full_jpg, &mut decoder, |s, out| JpegEncoder::default().encode(s, out))?;
        Ok(file_size(&full_jpg))
    })?);

    steps.push(measure("JPEG -> 256 wide thumbnail (planner: shrink-on-load + lanczos3) -> PNG", || {
        let stats = Pipeline::open(&full_jpg)?
            .resize_to(Some(256), None)
            .write_to_path(&thumb_png)?;
        Ok(format!("{}, 1/{} shrink-on-load", file_size(&thumb_png), stats.plan.shrink_on_load))
    })?);

    steps.push(measure("JPEG -> cover 1200x630 top-right (planner: crop-on-load) -> JPEG", || {
        Pipeline::open(&full_jpg)?
            .resize(1200, 630)
            .fit(Fit::Cover)
            .position(Gravity::TopRight)
            .write_to_path(&card_jpg)?;
        Ok(file_size(&card_jpg))
    })?);

    steps.push(measure("read back and verify the crop", || {
        let mut decoded = probe::open(Input::open(&crop_png)?)?;
        let mut expected = Crop::gravity(Synthetic::new(size, size, PixelFormat::RGB8, 1), 1000, 1000, Gravity::BottomRight)?;
        let mut expected_row = vec![0u8; expected.info().row_bytes()];
        let mut rows = 0u32;
        drain(&mut *decoded, 1, |row, _| {
            expected.read_row(&mut expected_row)?;
            rows += 1;
            if row != &expected_row[..] {
                return Err(stripflow::Error::format("PNG", format!("crop row {} differs from the sample", rows - 1)));
            }
            Ok(())
        })?;
        let thumb = probe::read_metadata(&Input::open(&thumb_png)?)?;
        let jpg = probe::read_metadata(&Input::open(&full_jpg)?)?;
        ensure!((jpg.width, jpg.height) == (size, size), "JPEG is {}x{}", jpg.width, jpg.height);
        ensure!(thumb.width == 256, "thumbnail is {} wide", thumb.width);
        Ok(format!("crop identical ({rows} rows), JPEG {size}x{size}, thumbnail {}x{}", thumb.width, thumb.height))
    })?);

    println!();
    println!("| step | time | peak heap | result |");
    println!("|---|---:|---:|---|");
    for s in &steps {
        println!("| {} | {:.2} s | {:.2} MiB | {} |", s.name, s.seconds, s.peak_heap as f64 / 1048576.0, s.output);
    }
    println!();
    println!(
        "The decoded sample would take {:.0} MiB; the largest step peaked at {:.2} MiB of heap.",
        megapixels * 3e6 / 1048576.0,
        steps.iter().map(|s| s.peak_heap).max().unwrap_or(0) as f64 / 1048576.0
    );
    Ok(())
}
