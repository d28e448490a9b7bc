//! `stripflow demo`: the main job on a built-in sample, with time and peak heap for each step.
//!
//! The sample is a procedurally generated, photo-like image (`stripflow::synth::Synthetic`),
//! produced row by row, so even the 16384x16384 source (768 MiB of pixels) never exists in memory.
//! Every step goes through the real encoders and decoders via files, and the outputs are read
//! back and checked.
//!
//! The files are unnamed temporary files in `TMPDIR` (`O_TMPFILE`, reached by their
//! `/proc/self/fd/N` path), so an interrupted demo, even one killed by SIGKILL, leaves nothing
//! behind. Where the system has no unnamed files they go to a temporary folder that the signal
//! handler deletes on SIGTERM/SIGINT ([`crate::signals`]). With `--keep DIR` they are named files
//! in DIR, kept on request.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use stripflow::codec::jpeg::JpegEncoder;
use stripflow::codec::png::PngEncoder;
use stripflow::codec::probe;
use stripflow::codec::Format;
use stripflow::io::{AtomicOutput, Input};
use stripflow::ops::crop::{Crop, Gravity};
use stripflow::ops::fit::Fit;
use stripflow::plan::{Chain, Pipeline};
use stripflow::pipeline::drain;
use stripflow::synth::Synthetic;
use stripflow::{PixelFormat, RowSource};

use std::io::{BufWriter, Write};

use crate::peak_alloc::PeakAlloc;
use crate::print_line;

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

/// One file of the demo: `path` opens it for reading or writing, whatever its kind.
struct DemoFile {
    /// What the report calls it.
    name: &'static str,
    /// A name in a folder, or `/proc/self/fd/N` for an unnamed file.
    path: PathBuf,
    /// The unnamed file's descriptor, which keeps it alive (and `path` valid).
    _unnamed: Option<File>,
}

impl DemoFile {
    fn size(&self) -> String {
        let bytes = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0);
        format!("{} ({:.1} MiB)", self.name, bytes as f64 / 1048576.0)
    }
}

/// Where the demo's files live.
enum Files {
    /// Unnamed files in `TMPDIR`: nothing to clean up, ever.
    Unnamed(PathBuf),
    /// A temporary folder, deleted on drop and by the signal handler.
    TempFolder(tempfile::TempDir),
    /// A folder the user asked to keep the files in.
    Kept(PathBuf),
}

impl Files {
    /// Unnamed files where `TMPDIR` allows them, else a registered temporary folder; or `keep`.
    fn new(keep: Option<&Path>) -> Result<Files> {
        if let Some(dir) = keep {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            return Ok(Files::Kept(dir.to_path_buf()));
        }
        let tmp = std::env::temp_dir();
        if open_unnamed(&tmp).is_ok() {
            return Ok(Files::Unnamed(tmp));
        }
        let folder = tempfile::tempdir().with_context(|| format!("cannot create a folder in TMPDIR ({})", tmp.display()))?;
        crate::signals::register(folder.path());
        Ok(Files::TempFolder(folder))
    }

    fn describe(&self) -> String {
        match self {
            Files::Unnamed(tmp) => format!("unnamed temporary files in {}", tmp.display()),
            Files::TempFolder(dir) => dir.path().display().to_string(),
            Files::Kept(dir) => dir.display().to_string(),
        }
    }

    fn file(&self, name: &'static str) -> Result<DemoFile> {
        match self {
            Files::Unnamed(tmp) => {
                let file = open_unnamed(tmp).with_context(|| format!("cannot create a temporary file in {}", tmp.display()))?;
                let path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
                Ok(DemoFile { name, path, _unnamed: Some(file) })
            }
            Files::TempFolder(dir) => Ok(DemoFile { name, path: dir.path().join(name), _unnamed: None }),
            Files::Kept(dir) => Ok(DemoFile { name, path: dir.join(name), _unnamed: None }),
        }
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        if let Files::TempFolder(dir) = self {
            crate::signals::unregister(dir.path());
        }
    }
}

/// An unnamed read-write file in `dir` (`O_TMPFILE`).
fn open_unnamed(dir: &Path) -> std::io::Result<File> {
    OpenOptions::new().read(true).write(true).mode(0o600).custom_flags(libc::O_TMPFILE).open(dir)
}

/// Writes `file` with `encode`: atomically for a named file, in place for an unnamed one.
fn write_file(file: &DemoFile, encode: impl FnOnce(&mut dyn Write) -> stripflow::Result<()>) -> Result<()> {
    if file._unnamed.is_some() {
        let mut out = BufWriter::with_capacity(64 * 1024, OpenOptions::new().write(true).truncate(true).open(&file.path)?);
        encode(&mut out)?;
        out.flush()?;
    } else {
        let mut out = AtomicOutput::create(&file.path)?;
        encode(&mut out)?;
        out.commit()?;
    }
    Ok(())
}

/// Runs the demo on a `size` x `size` sample; files are unnamed temporary files, or go to `keep`.
pub fn run(size: u32, keep: Option<&Path>) -> Result<()> {
    ensure!((1000..=65535).contains(&size), "--size must be in 1000..=65535 (the demo crops 1000x1000)");
    let files = Files::new(keep)?;
    let megapixels = size as f64 * size as f64 / 1e6;
    print_line(format!(
        "stripflow demo: a {size}x{size} RGB sample ({megapixels:.0} MP, {:.0} MiB decoded), in {}",
        megapixels * 3e6 / 1048576.0,
        files.describe()
    ))?;
    let source_png = files.file("sample.png")?;
    let crop_png = files.file("crop-bottom-right.png")?;
    let full_jpg = files.file("full.jpg")?;
    let thumb_png = files.file("thumbnail.png")?;
    let card_jpg = files.file("card-1200x630.jpg")?;
    let mut steps = Vec::new();

    steps.push(measure("generate sample -> PNG", || {
        let mut sample = Synthetic::new(size, size, PixelFormat::RGB8, 1);
        write_file(&source_png, |out| PngEncoder::default().encode(&mut sample, out))?;
        Ok(source_png.size())
    })?);

    steps.push(measure("PNG -> crop 1000x1000 bottom-right -> PNG", || {
        let decoder = probe::open(Input::open(&source_png.path)?)?;
        let mut crop = Crop::gravity(decoder, 1000, 1000, Gravity::BottomRight)?;
        write_file(&crop_png, |out| PngEncoder::default().encode(&mut crop, out))?;
        Ok(crop_png.size())
    })?);

    steps.push(measure("PNG -> JPEG q85, full size", || {
        let mut decoder = probe::open(Input::open(&source_png.path)?)?;
        write_file(&full_jpg, |out| JpegEncoder::default().encode(&mut *decoder, out))?;
        Ok(full_jpg.size())
    })?);

    steps.push(measure("JPEG -> 256 wide thumbnail (planner: shrink-on-load + lanczos3) -> PNG", || {
        let pipeline = Pipeline::open(&full_jpg.path)?.resize_to(Some(256), None).format(Format::Png);
        let mut shrink = 1;
        write_file(&thumb_png, |out| {
            shrink = pipeline.write_to(out)?.plan.shrink_on_load;
            Ok(())
        })?;
        Ok(format!("{}, 1/{shrink} shrink-on-load", thumb_png.size()))
    })?);

    steps.push(measure("JPEG -> cover 1200x630 top-right (planner: crop-on-load) -> JPEG", || {
        let pipeline = Pipeline::open(&full_jpg.path)?
            
            .resize(1200, 630)
            .fit(Fit::Cover)
            .position(Gravity::TopRight)
            .format(Format::Jpeg);
        write_file(&card_jpg, |out| pipeline.write_to(out).map(drop))?;
        Ok(card_jpg.size())
    })?);

    steps.push(measure("read back and verify the crop", || {
        let mut decoded = probe::open(Input::open(&crop_png.path)?)?;
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
        let thumb = probe::read_metadata(&Input::open(&thumb_png.path)?)?;
        let jpg = probe::read_metadata(&Input::open(&full_jpg.path)?)?;
        ensure!((jpg.width, jpg.height) == (size, size), "JPEG is {}x{}", jpg.width, jpg.height);
        ensure!(thumb.width == 256, "thumbnail is {} wide", thumb.width);
        Ok(format!("crop identical ({rows} rows), JPEG {size}x{size}, thumbnail {}x{}", thumb.width, thumb.height))
    })?);

    let mut table = String::from("\n| step | time | peak heap | result |\n|---|---:|---:|---|\n");
    for s in &steps {
        table += &format!("| {} | {:.2} s | {:.2} MiB | {} |\n", s.name, s.seconds, s.peak_heap as f64 / 1048576.0, s.output);
    }
    table += &format!(
        "\nThe decoded sample would take {:.0} MiB; the largest step peaked at {:.2} MiB of heap.",
        megapixels * 3e6 / 1048576.0,
        steps.iter().map(|s| s.peak_heap).max().unwrap_or(0) as f64 / 1048576.0
    );
    print_line(table)
}
