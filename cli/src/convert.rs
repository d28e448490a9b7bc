//! `stripflow convert` and `stripflow thumbnail`: command-line flags mapped onto the library's
//! planner ([`stripflow::plan::Pipeline`]), which picks shrink-on-load, crop-on-load and where
//! each stage goes, and refuses a job over its memory budget before decoding anything.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use clap::Args;
use stripflow::codec::jpeg::{JpegEncoder, Subsampling};
use stripflow::codec::png::{PngCompression, PngEncoder};
use stripflow::codec::Format;
use stripflow::io::{AtomicOutput, Input};
use stripflow::ops::convert::parse_background;
use stripflow::ops::crop::{Gravity, Rect};
use stripflow::ops::fit::Fit;
use stripflow::ops::resize::{Kernel, ResizeOptions};
use stripflow::plan::{human, Pipeline, Plan, DEFAULT_LIMIT_INPUT_PIXELS};
use stripflow::RowSource;

use crate::progress::Progress;
use crate::{open_input, parse_size};

/// Flags shared by `convert` and `thumbnail`: orientation, resampling, encoding, budget.
#[derive(Args, Debug)]
pub struct JobArgs {
    /// Output format when it cannot be taken from OUT's extension: png or jpeg.
    #[arg(long)]
    format: Option<String>,
    /// Orientation: auto (apply the EXIF orientation, the default), none (ignore it), or 90, 180,
    /// 270 (turn clockwise after applying EXIF; negative turns anticlockwise: -90 is 270).
    #[arg(long, default_value = "auto", allow_negative_numbers = true)]
    rotate: String,
    /// Mirror top to bottom (after orientation).
    #[arg(long)]
    flip: bool,
    /// Mirror left to right (after orientation).
    #[arg(long)]
    flop: bool,
    /// Resampling kernel: nearest, linear, cubic, mitchell, lanczos2, lanczos3.
    #[arg(long, default_value = "lanczos3")]
    kernel: String,
    /// Resize in linear light (sRGB decoded first), for gamma-correct downscales.
    #[arg(long)]
    linear: bool,
    /// Decode JPEG at full size even when a DCT-scaled decode (1/2, 1/4, 1/8) would do.
    #[arg(long)]
    no_shrink_on_load: bool,
    /// JPEG quality, 1..=100.
    #[arg(long, default_value_t = 85)]
    quality: u8,
    /// JPEG chroma subsampling: 420 or 444.
    #[arg(long, default_value = "420")]
    subsampling: String,
    /// PNG compression level: 0 (none), 1 (fast, default) .. 9 (smallest, slow).
    #[arg(long, default_value_t = 1)]
    compression: u8,
    /// Background RRGGBB: what transparency is flattened onto for JPEG, and the padding colour of
    /// --fit contain.
    #[arg(long, default_value = "ffffff")]
    background: String,
    /// Refuse the job if its planned heap exceeds this: bytes, or with K, M, G (binary) suffix.
    #[arg(long, default_value = "256M")]
    max_memory: String,
    /// Refuse inputs with more pixels than this (0: no limit). The default is sharp's.
    #[arg(long, default_value_t = DEFAULT_LIMIT_INPUT_PIXELS)]
    limit_input_pixels: u64,
    /// Never use a memory-mapped scratch file (whole-frame turns must then fit the heap budget).
    #[arg(long)]
    no_scratch: bool,
    /// Print the plan (stages, shrink- and crop-on-load, predicted heap) and exit without decoding.
    #[arg(long)]
    plan: bool,
    /// With --plan: print it as JSON.
    #[arg(long, requires = "plan")]
    json: bool,
    /// Print time, rows and peak heap on standard error when done.
    #[arg(long)]
    stats: bool,
}

/// `stripflow convert IN OUT [...]`.
#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// Input file (.png, .jpg), or - for standard input.
    input: String,
    /// Output file; its extension (.png, .jpg, .jpeg) sets the format. - writes to standard output
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
    /// How WxH is met: fill (exactly WxH, aspect ignored; the default for --resize), cover
    /// (crop the excess by --position), contain (pad with --background), inside, outside.
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
    #[command(flatten)]
    job: JobArgs,
}

/// `stripflow thumbnail IN OUT --size W[xH]`, as vipsthumbnail.
#[derive(Args, Debug)]
pub struct ThumbnailArgs {
    /// Input file, or - for standard input.
    input: String,
    /// Output file (.png, .jpg), or - with --format.
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

/// The output format from --format or OUT's extension.
fn output_format(format: &Option<String>, output: &str) -> Result<Format> {
    if let Some(name) = format {
        return Format::from_name(name).with_context(|| format!("unknown format '{name}' (png or jpeg)"));
    }
    if output == "-" {
        bail!("writing to standard output needs --format png or --format jpeg");
    }
    Format::from_extension(Path::new(output))
        .with_context(|| format!("cannot tell the output format from '{output}': use .png, .jpg or --format"))
}

/// A pipeline with the orientation, resampling, encoder and budget options of `job` applied.
fn configured(input: Input, job: &JobArgs, format: Format) -> Result<Pipeline> {
    let mut p = Pipeline::from_input(input).format(format);
    match job.rotate.as_str() {
        "auto" => p = p.auto_orient(),
        "none" | "0" => {}
        degrees => {
            let degrees: i32 = degrees.parse().with_context(|| format!("--rotate '{degrees}': auto, none, 90, 180 or 270"))?;
            p = p.auto_orient().rotate(degrees);
        }
    }
    if job.flip {
        p = p.flip();
    }
    if job.flop {
        p = p.flop();
    }
    let background = parse_background(&job.background)?;
    let options = ResizeOptions { kernel: job.kernel.parse::<Kernel>()?, linear_light: job.linear, ..Default::default() };
    p = p
        .resize_options(options)
        .background([background[0], background[1], background[2], 255])
        .jpeg_encoder(JpegEncoder { quality: job.quality, subsampling: job.subsampling.parse::<Subsampling>()?, background })
        .png_encoder(PngEncoder { compression: PngCompression::from_level(job.compression)?, ..Default::default() })
        .max_memory(parse_bytes(&job.max_memory)?)
        .limit_input_pixels(if job.limit_input_pixels == 0 { u64::MAX } else { job.limit_input_pixels })
        .shrink_on_load(!job.no_shrink_on_load);
    if job.no_scratch {
        p = p.no_scratch();
    }
    Ok(p)
}

/// Runs `convert`.
pub fn convert(args: &ConvertArgs) -> Result<()> {
    let format = output_format(&args.job.format, &args.output)?;
    let input = open_input(&args.input)?;
    let mut p = configured(input.clone(), &args.job, format)?;
    if let Some(crop) = &args.crop {
        let rect = if crop.contains(',') {
            crop.parse::<Rect>()?
        } else {
            // A size placed by gravity needs the upright size: plan the job without the crop
            // first (header only, nothing decoded).
            let (w, h) = parse_size(crop)?;
            let upright = configured(input, &args.job, format)?.plan().context(args.input.clone())?.oriented;
            if w > upright.0 || h > upright.1 {
                bail!("crop {w}x{h} is larger than the {}x{} image", upright.0, upright.1);
            }
            let (x, y) = args.gravity.parse::<Gravity>()?.place(upright, (w, h));
            Rect::new(x, y, w, h)
        };
        p = p.crop(rect.x, rect.y, rect.width, rect.height);
    }
    let resized = args.resize.is_some() || args.width.is_some() || args.height.is_some();
    if let Some(size) = &args.resize {
        let (w, h) = parse_size(size)?;
        p = p.resize(w, h);
    } else if resized {
        p = p.resize_to(args.width, args.height);
    }
    if resized {
        let default_fit = if args.resize.is_some() || (args.width.is_some() && args.height.is_some()) { "fill" } else { "cover" };
        p = p
            .fit(args.fit.as_deref().unwrap_or(default_fit).parse::<Fit>()?)
            .position(args.position.parse::<Gravity>()?)
            .without_enlargement(args.without_enlargement)
            .without_reduction(args.without_reduction);
    } else if args.fit.is_some() {
        bail!("--fit needs --resize, --width or --height");
    }
    run(p, &args.input, &args.output, format, &args.job)
}

/// Runs `thumbnail`.
pub fn thumbnail(args: &ThumbnailArgs) -> Result<()> {
    let format = output_format(&args.job.format, &args.output)?;
    let (w, h) = if args.size.contains(['x', 'X']) {
        parse_size(&args.size)?
    } else {
        let side: u32 = args.size.trim().parse().with_context(|| format!("--size '{}' is not W or WxH", args.size))?;
        if side == 0 {
            bail!("--size must be at least 1");
        }
        (side, side)
    };
    let p = configured(open_input(&args.input)?, &args.job, format)?
        .resize(w, h)
        .fit(args.fit.parse::<Fit>()?)
        .position(args.position.parse::<Gravity>()?)
        .without_enlargement(!args.enlarge);
    run(p, &args.input, &args.output, format, &args.job)
}

/// Plans, then prints the plan or builds and encodes it into OUT (atomically) or standard output.
fn run(pipeline: Pipeline, input: &str, output: &str, format: Format, job: &JobArgs) -> Result<()> {
    if job.plan {
        let plan = pipeline.plan().with_context(|| input.to_string())?;
        return if job.json { crate::print_line(plan.to_json()) } else { crate::print_line(&plan) };
    }
    let started = std::time::Instant::now();
    let baseline = crate::peak_alloc::PeakAlloc::current();
    crate::peak_alloc::PeakAlloc::reset_peak();
    let (plan, source) = pipeline.into_rows().with_context(|| input.to_string())?;
    let show_progress = std::io::stderr().is_terminal() && plan.input.pixels() >= 16_000_000;
    let mut source = Progress::new(source, show_progress);
    let encode = |source: &mut dyn RowSource, out: &mut dyn Write| -> stripflow::Result<()> {
        match format {
            Format::Png => PngEncoder { compression: PngCompression::from_level(job.compression)?, ..Default::default() }
                .encode(source, out),
            Format::Jpeg => {
                let background = parse_background(&job.background)?;
                JpegEncoder { quality: job.quality, subsampling: job.subsampling.parse::<Subsampling>()?, background }
                    .encode(source, out)
            }
        }
    };
    if output == "-" {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        encode(&mut source, &mut out)?;
        out.flush()?;
    } else {
        let mut out = AtomicOutput::create(output).with_context(|| format!("cannot create {output}"))?;
        encode(&mut source, &mut out).with_context(|| format!("{input} -> {output}"))?;
        out.commit().with_context(|| format!("cannot write {output}"))?;
    }
    source.finish();
    if job.stats {
        print_stats(&plan, started.elapsed().as_secs_f64(), crate::peak_alloc::PeakAlloc::peak().saturating_sub(baseline));
    }
    Ok(())
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
