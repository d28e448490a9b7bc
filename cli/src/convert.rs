//! `stripflow convert` and `stripflow thumbnail`: command-line flags mapped onto a library
//! [`Recipe`], nothing more. The library plans (shrink-on-load, crop-on-load, where each stage
//! goes), prices, refuses a job over its budget, builds, encodes and writes atomically; its
//! defaults are the CLI's defaults.

use std::io::{IsTerminal, Write};

use anyhow::{Context, Result};
use clap::Args;
use stripflow::ops::crop::{Gravity, Rect};
use stripflow::ops::extend::Margins;
use stripflow::ops::fit::Fit;
use stripflow::ops::pad::parse_rgba;
use stripflow::ops::resize::Kernel;
use stripflow::plan::{human, Chain, Pipeline, Plan, Recipe, DEFAULT_LIMIT_INPUT_PIXELS, DEFAULT_LIMIT_OUTPUT_PIXELS};
use stripflow::codec::FailOn;

use crate::progress::ProgressSpec;
use crate::{open_input, parse_size, with_path};

/// Flags shared by `convert` and `thumbnail`: orientation, resampling, encoding, budget.
#[derive(Args, Debug)]
pub struct JobArgs {
    /// Orientation: auto (apply the EXIF orientation, the default), none (ignore it), or a
    /// multiple of 90 degrees to turn clockwise after EXIF (negative: anticlockwise, -90 = 270).
    #[arg(long, default_value = "auto", allow_negative_numbers = true)]
    rotate: String,
    /// Mirror top to bottom (after orientation).
    #[arg(long)]
    flip: bool,
    /// Mirror left to right (after orientation).
    #[arg(long)]
    flop: bool,
    /// Resampling kernel: nearest, linear, cubic, mitchell, lanczos2, lanczos3 (default).
    #[arg(long)]
    kernel: Option<String>,
    /// Resize in linear light (sRGB decoded first), for gamma-correct downscales.
    #[arg(long)]
    linear: bool,
    /// Decode JPEG at full size even when a DCT-scaled decode (1/2, 1/4, 1/8) would do.
    #[arg(long)]
    no_shrink_on_load: bool,
    /// Background RRGGBB or RRGGBBAA (default 000000, opaque black, as sharp): the padding of
    /// --fit contain and --extend, and what transparency is flattened onto for JPEG output or
    /// with --flatten.
    #[arg(long)]
    background: Option<String>,
    /// Remove alpha by flattening onto --background.
    #[arg(long)]
    flatten: bool,
    /// Refuse the job if its planned heap exceeds this: bytes, or with K, M, G (binary) suffix.
    #[arg(long, default_value = "256M")]
    pub(crate) max_memory: String,
    /// Refuse inputs with more pixels than this (0: no limit). A bound on time: memory does not
    /// grow with the pixel count.
    #[arg(long, default_value_t = DEFAULT_LIMIT_INPUT_PIXELS)]
    limit_input_pixels: u64,
    /// Refuse outputs with more pixels than this (0: no limit), checked before decoding.
    #[arg(long, default_value_t = DEFAULT_LIMIT_OUTPUT_PIXELS)]
    limit_output_pixels: u64,
    /// When damaged pixel data fails the job (sharp's failOn): error (the default: any damage),
    /// truncated (only a file cut short; other damage is decoded as far as it goes, as djpeg does
    /// with warnings), none (decode whatever can be decoded). Damaged headers always fail.
    /// Example: --fail-on truncated
    #[arg(long, default_value = "error")]
    fail_on: String,
    /// Keep the input's ICC profile instead of converting the pixels to sRGB (the default).
    /// Example: --keep-icc
    #[arg(long)]
    keep_icc: bool,
    /// Keep the input's EXIF, XMP and ICC profile in the output (JPEG, PNG, WebP, TIFF); by
    /// default all metadata is stripped. Auto-oriented pixels get EXIF orientation 1; without
    /// --keep-icc the pixels are still converted to sRGB and an sRGB profile is written.
    /// Example: --keep-metadata
    #[arg(long)]
    keep_metadata: bool,
    /// Which page of a multi-page input to read (a TIFF directory, a GIF or WebP animation frame), 0 for the first.
    /// Example: --page 2
    #[arg(long, default_value_t = 0)]
    page: u32,
    /// Never use a scratch file (whole-frame turns must then fit the heap budget).
    #[arg(long)]
    no_scratch: bool,
    /// Threads one job may use (default: the available cores; 1 runs on one thread). With 2 or
    /// more, the decoder and early stages may run on a second thread, handing strips to the
    /// encoder through a few buffers counted in the plan; the output bytes are the same.
    /// Example: --threads 1
    #[arg(long)]
    threads: Option<usize>,
    /// Print the plan (stages, shrink- and crop-on-load, predicted heap) and exit without decoding.
    #[arg(long)]
    pub(crate) plan: bool,
    /// With --plan: print it as JSON.
    #[arg(long, requires = "plan")]
    json: bool,
    /// Print time, rows and peak heap on standard error when done.
    #[arg(long)]
    pub(crate) stats: bool,
    /// Output format and encoder options.
    #[command(flatten)]
    pub output: crate::encode_args::EncodeArgs,
}

/// `stripflow convert IN OUT [...]`.
#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// Input file (.png, .jpg), or - for standard input.
    input: String,
    /// Output file; its extension (.png, .jpg, .jpeg, .tif, .tiff, .webp, .avif) sets the format. - writes to standard output
    /// (then --format is required).
    output: String,
    /// Crop first, in upright input pixels: X,Y,W,H (a rectangle) or WxH (placed by --gravity).
    /// Example: --crop 10,20,640,480 or --crop 1000x1000 --gravity bottom-right
    #[arg(long)]
    crop: Option<String>,
    /// Where a WxH crop sits: centre, top, bottom, left, right, top-left, top-right,
    /// bottom-left, bottom-right.
    #[arg(long, default_value = "centre")]
    gravity: String,
    /// Resize (after the crop) to WxH; how the aspect ratio is kept is set by --fit.
    /// Example: --resize 1200x630 --fit cover --position top-right
    #[arg(long, conflicts_with_all = ["width", "height"])]
    resize: Option<String>,
    /// Resize to this width (keeps the aspect ratio unless --height is also given).
    #[arg(long)]
    width: Option<u32>,
    /// Resize to this height (keeps the aspect ratio unless --width is also given).
    #[arg(long)]
    height: Option<u32>,
    /// How WxH is met: cover (the default: crop the excess by --position), contain (pad with
    /// --background), fill (exactly WxH, aspect ignored), inside, outside.
    #[arg(long)]
    fit: Option<String>,
    /// Where the cover crop or the contain padding is placed (nine gravities).
    #[arg(long, default_value = "centre")]
    position: String,
    /// Never enlarge: an input smaller than the target keeps its size.
    #[arg(long)]
    without_enlargement: bool,
    /// Never reduce: an input larger than the target keeps its size.
    #[arg(long)]
    without_reduction: bool,
    /// After the resize, keep X,Y,W,H of the resized image (sharp's extract after resize).
    /// Example: --resize 800x600 --extract 100,50,400,300
    #[arg(long)]
    extract: Option<String>,
    /// Add margins of --background: N (every side), V,H or T,R,B,L (sharp's extend).
    /// Example: --extend 10 --background ff0000
    #[arg(long)]
    extend: Option<String>,
    #[command(flatten)]
    job: JobArgs,
}

/// `stripflow thumbnail IN OUT --size W[xH]`, as vipsthumbnail.
#[derive(Args, Debug)]
pub struct ThumbnailArgs {
    /// Input file, or - for standard input.
    input: String,
    /// Output file (.png, .jpg, .tif, .webp, .avif), or - with --format.
    output: String,
    /// Bounding box: W (a square box WxW, as vipsthumbnail) or WxH.
    #[arg(long, short = 's')]
    size: String,
    /// How the box is met: inside (the default: fit within it), cover (fill it, crop the excess),
    /// contain (fit within it and pad), fill, outside.
    #[arg(long, default_value = "inside")]
    fit: String,
    /// Where the cover crop or the contain padding is placed.
    #[arg(long, default_value = "centre")]
    position: String,
    /// Allow the thumbnail to be larger than the input.
    #[arg(long)]
    enlarge: bool,
    #[command(flatten)]
    job: JobArgs,
}

/// Parses a byte count: `1048576`, `512K`, `256M`, `1G` (binary multiples; `MiB`, `MB` accepted).
pub fn parse_bytes(s: &str) -> Result<usize> {
    let t = s.trim().to_ascii_uppercase();
    let t = t.trim_end_matches("IB").trim_end_matches('B');
    let (digits, shift) = match t.chars().last() {
        Some('K') => (&t[..t.len() - 1], 10),
        Some('M') => (&t[..t.len() - 1], 20),
        Some('G') => (&t[..t.len() - 1], 30),
        _ => (t, 0),
    };
    let n: usize = digits.trim().parse().with_context(|| format!("'{s}' is not a byte count like 256M"))?;
    n.checked_mul(1usize << shift).with_context(|| format!("'{s}' is too large"))
}

/// The recipe of the orientation, resampling, encoder and budget flags of `job`.
pub(crate) fn job_recipe(job: &JobArgs) -> Result<Recipe> {
    let mut r = Recipe::new();
    match job.rotate.as_str() {
        "auto" => r = r.auto_orient(),
        "none" => {}
        degrees => {
            let degrees: i32 = degrees
                .parse()
                .with_context(|| format!("--rotate '{degrees}': auto, none or a multiple of 90 (e.g. 90, -90, 270)"))?;
            r = r.auto_orient().rotate(degrees);
        }
    }
    if job.flip {
        r = r.flip();
    }
    if job.flop {
        r = r.flop();
    }
    if let Some(kernel) = &job.kernel {
        r = r.kernel(kernel.parse::<Kernel>()?);
    }
    if job.linear {
        r = r.linear_light(true);
    }
    r = job.output.apply(r)?;
    if let Some(bg) = &job.background {
        r = r.background(parse_rgba(bg)?);
    }
    if job.flatten {
        let [red, green, blue, _] = parse_rgba(job.background.as_deref().unwrap_or("000000"))?;
        r = r.flatten([red, green, blue]);
    }
    r = r
        .max_memory(parse_bytes(&job.max_memory)?)
        .limit_input_pixels(job.limit_input_pixels)
        .limit_output_pixels(job.limit_output_pixels)
        .shrink_on_load(!job.no_shrink_on_load)
        .fail_on(job.fail_on.parse::<FailOn>()?);
    if let Some(threads) = job.threads {
        r = r.threads(threads);
    }
    if job.no_scratch {
        r = r.no_scratch();
    }
    if job.keep_icc {
        r = r.keep_icc_profile();
    }
    if job.keep_metadata {
        r = r.keep_metadata();
    }
    if job.page != 0 {
        r = r.page(job.page);
    }
    Ok(r)
}

/// Runs `convert`.
pub fn convert(args: &ConvertArgs) -> Result<()> {
    run(convert_recipe(args)?, &args.input, &args.output, &args.job)
}

/// The recipe of `convert`'s flags (also a batch manifest's per-job recipe).
pub(crate) fn convert_recipe(args: &ConvertArgs) -> Result<Recipe> {
    let mut r = job_recipe(&args.job)?;
    if let Some(crop) = &args.crop {
        r = if crop.contains(',') {
            let rect = crop.parse::<Rect>()?;
            r.crop(rect.x, rect.y, rect.width, rect.height)
        } else {
            let (w, h) = parse_size(crop)?;
            r.crop_gravity(w, h, args.gravity.parse::<Gravity>()?)
        };
    }
    let resized = args.resize.is_some() || args.width.is_some() || args.height.is_some();
    if let Some(size) = &args.resize {
        let (w, h) = parse_size(size)?;
        r = r.resize(w, h);
    } else if resized {
        r = r.resize_to(args.width, args.height);
    }
    if resized {
        if let Some(fit) = &args.fit {
            r = r.fit(fit.parse::<Fit>()?);
        }
        r = r
            .position(args.position.parse::<Gravity>()?)
            .without_enlargement(args.without_enlargement)
            .without_reduction(args.without_reduction);
    } else if args.fit.is_some() {
        anyhow::bail!("--fit needs --resize, --width or --height");
    }
    if let Some(extract) = &args.extract {
        let rect = extract.parse::<Rect>()?;
        r = r.extract(rect.x, rect.y, rect.width, rect.height);
    }
    if let Some(extend) = &args.extend {
        r = r.extend(extend.parse::<Margins>()?);
    }
    Ok(r)
}

/// Runs `thumbnail`.
pub fn thumbnail(args: &ThumbnailArgs) -> Result<()> {
    let r = thumbnail_recipe(job_recipe(&args.job)?, parse_box(&args.size)?, &args.fit, &args.position, args.enlarge)?;
    run(r, &args.input, &args.output, &args.job)
}

/// `--size` of `thumbnail` (and `batch`): W (a square box) or WxH.
pub(crate) fn parse_box(size: &str) -> Result<(u32, u32)> {
    if size.contains(['x', 'X']) {
        return parse_size(size);
    }
    let side: u32 = size.trim().parse().with_context(|| format!("--size '{size}' is not W or WxH"))?;
    anyhow::ensure!(side > 0, "--size must be at least 1");
    Ok((side, side))
}

/// `base` fitted into the box `(w, h)` as `thumbnail` does.
pub(crate) fn thumbnail_recipe(base: Recipe, (w, h): (u32, u32), fit: &str, position: &str, enlarge: bool) -> Result<Recipe> {
    Ok(base.resize(w, h).fit(fit.parse::<Fit>()?).position(position.parse::<Gravity>()?).without_enlargement(!enlarge))
}

/// Plans, then prints the plan or runs the job into OUT (atomically) or standard output.
fn run(recipe: Recipe, input: &str, output: &str, job: &JobArgs) -> Result<()> {
    let to_stdout = output == "-";
    anyhow::ensure!(!to_stdout || job.output.format.is_some(), "writing to standard output needs --format (png, jpeg, webp, avif or tiff)");
    let mut pipeline = recipe.input(open_input(input)?);
    let plan = |p: &Pipeline| if to_stdout { p.plan() } else { p.plan_for_path(output) };
    let planned = plan(&pipeline).map_err(|e| with_path(e, input))?;
    if job.plan {
        return if job.json { crate::print_line(planned.to_json()) } else { crate::print_line(&planned) };
    }
    let progress = (std::io::stderr().is_terminal() && planned.input.pixels() >= 16_000_000)
        .then(|| ProgressSpec::new(planned.output.height as u64));
    if let Some(bar) = &progress {
        pipeline = pipeline.stage(bar.clone());
    }
    let started = std::time::Instant::now();
    let baseline = crate::peak_alloc::PeakAlloc::current();
    crate::peak_alloc::PeakAlloc::reset_peak();
    let stats = if let (true, Some(file)) = (to_stdout, seekable_stdout()) {
        // `> out.tif`: a file, so formats that patch offsets (compressed TIFF) work there too.
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, file);
        let stats = pipeline.write_to_seekable(&mut out).map_err(|e| with_path(e, input))?;
        out.flush()?;
        stats
    } else if to_stdout {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let stats = pipeline.write_to(&mut out).map_err(|e| with_path(e, input))?;
        out.flush()?;
        stats
    } else {
        pipeline.write_to_path(output).map_err(|e| with_path(e, &format!("{input} -> {output}")))?
    };
    if let Some(bar) = &progress {
        bar.finish();
    }
    if job.stats {
        print_stats(&stats.plan, started.elapsed().as_secs_f64(), crate::peak_alloc::PeakAlloc::peak().saturating_sub(baseline));
    }
    Ok(())
}

/// Standard output as a file the encoder may seek in, when it is a regular file not opened for
/// appending (`> out.tif`, not `>> out.tif` nor a pipe).
fn seekable_stdout() -> Option<std::fs::File> {
    use std::os::fd::{AsFd, AsRawFd};
    let fd = std::io::stdout().as_fd().try_clone_to_owned().ok()?;
    // SAFETY: F_GETFL only reads the flags of `fd`, an open descriptor we own.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    let file = std::fs::File::from(fd);
    let regular = file.metadata().is_ok_and(|m| m.file_type().is_file());
    (regular && flags >= 0 && flags & libc::O_APPEND == 0).then_some(file)
}

fn print_stats(plan: &Plan, seconds: f64, peak: usize) {
    eprintln!(
        "{}x{} -> {}x{} {}: {seconds:.3} s, measured peak heap {} (planned {})",
        plan.input.width,
        plan.input.height,
        plan.output.width,
        plan.output.height,
        plan.output_format.name(),
        human(peak as u64),
        human(plan.heap_bytes as u64)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts() {
        assert_eq!(parse_bytes("1048576").unwrap(), 1 << 20);
        assert_eq!(parse_bytes("512K").unwrap(), 512 << 10);
        assert_eq!(parse_bytes("256M").unwrap(), 256 << 20);
        assert_eq!(parse_bytes("256MiB").unwrap(), 256 << 20);
        assert_eq!(parse_bytes("1g").unwrap(), 1 << 30);
        assert!(parse_bytes("lots").is_err());
    }
}
