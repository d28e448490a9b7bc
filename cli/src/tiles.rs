//! `stripflow tiles IN OUT --layout deepzoom|iiif|xyz|zoomify`: a tile pyramid in one streaming
//! pass, with dzsave's options (`--tile-size`, `--overlap`, `--suffix`, `--depth`, `--centre`,
//! `--skip-blanks`, `--background`), the transforms of `convert` before it, and the tile
//! format's encoder flags. Flags map onto [`stripflow::tiles::Tiler`] and a [`Recipe`]; the
//! library plans, prices, cuts and writes.

use std::io::IsTerminal;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use stripflow::codec::FailOn;
use stripflow::ops::crop::{Gravity, Rect};
use stripflow::ops::pad::parse_rgba;
use stripflow::plan::{human, Chain, Recipe};
use stripflow::tiles::{Depth, Layout, Tiler};

use crate::convert::parse_bytes;
use crate::{open_input, parse_size, with_path};

/// `stripflow tiles IN OUT [...]`.
#[derive(Args, Debug)]
pub struct TilesArgs {
    /// Input file, or - for standard input.
    input: String,
    /// Output: a base path (Deep Zoom writes OUT.dzi and OUT_files/, the other layouts OUT/, and
    /// the viewer page OUT.html), or OUT.zip for one ZIP archive written as a stream.
    output: String,
    /// Layout: deepzoom (default), iiif (IIIF Image API 3, level 0), xyz (z/x/y), zoomify.
    #[arg(long, default_value = "deepzoom")]
    layout: String,
    /// Tile size in pixels, without overlap (default: 254 deepzoom, 512 iiif, 256 xyz and zoomify).
    #[arg(long)]
    tile_size: Option<u32>,
    /// Overlap in pixels (default: 1 deepzoom, 0 otherwise).
    #[arg(long)]
    overlap: Option<u32>,
    /// Tile file suffix, which sets the tile format: .jpeg (deepzoom default), .jpg (others),
    /// .png, .webp.
    #[arg(long)]
    suffix: Option<String>,
    /// Pyramid depth: onepixel (deepzoom default), onetile (others), one (full resolution only).
    #[arg(long)]
    depth: Option<String>,
    /// xyz: centre the image on its canvas instead of placing it top-left.
    #[arg(long)]
    centre: bool,
    /// Skip tiles whose every sample is within N of the background (xyz default 5; -1 keeps all).
    #[arg(long, allow_negative_numbers = true)]
    skip_blanks: Option<i32>,
    /// Background RRGGBB (default ffffff): xyz padding, flattened alpha, the blank test.
    #[arg(long)]
    background: Option<String>,
    /// iiif: the base URI of info.json's id (default https://example.com/iiif).
    #[arg(long)]
    id: Option<String>,
    /// Do not write the viewer page OUT.html.
    #[arg(long)]
    no_viewer: bool,
    /// Crop first, in upright input pixels: X,Y,W,H, or WxH placed by --gravity.
    #[arg(long)]
    crop: Option<String>,
    /// Where a WxH crop sits (nine gravities).
    #[arg(long, default_value = "centre")]
    gravity: String,
    /// Resize (after the crop) to fit inside WxH.
    #[arg(long, conflicts_with_all = ["width", "height"])]
    resize: Option<String>,
    /// Resize to this width (keeping the aspect ratio unless --height is given).
    #[arg(long)]
    width: Option<u32>,
    /// Resize to this height.
    #[arg(long)]
    height: Option<u32>,
    /// Orientation: auto (default, EXIF), none, or a multiple of 90 degrees clockwise after EXIF.
    #[arg(long, default_value = "auto", allow_negative_numbers = true)]
    rotate: String,
    /// Mirror top to bottom.
    #[arg(long)]
    flip: bool,
    /// Mirror left to right.
    #[arg(long)]
    flop: bool,
    /// Keep the input's ICC profile's colours instead of converting to sRGB.
    #[arg(long)]
    keep_icc: bool,
    /// Decode JPEG at full size even when a DCT-scaled decode would do.
    #[arg(long)]
    no_shrink_on_load: bool,
    /// Refuse the job if its planned heap exceeds this (bytes, or K, M, G).
    #[arg(long, default_value = "256M")]
    max_memory: String,
    /// Refuse inputs with more pixels than this (0: no limit).
    #[arg(long, default_value_t = stripflow::plan::DEFAULT_LIMIT_INPUT_PIXELS)]
    limit_input_pixels: u64,
    /// When damaged pixel data fails the job: error (default), truncated, none.
    #[arg(long, default_value = "error")]
    fail_on: String,
    /// Which page of a multi-page input to read, 0 for the first.
    #[arg(long, default_value_t = 0)]
    page: u32,
    /// Print the plan (levels, tiles, predicted heap) and exit without decoding.
    #[arg(long)]
    plan: bool,
    /// Print time, tiles and peak heap on standard error when done.
    #[arg(long)]
    stats: bool,
    /// The tile encoder's flags (--quality, --subsampling, --compression, ...).
    #[command(flatten)]
    encode: crate::encode_args::EncodeArgs,
}

/// Examples shown after `--help`.
pub const EXAMPLES: &str = "\
Examples:
  stripflow tiles scan.jpg out                      (out.dzi, out_files/, out.html: as vips dzsave)
  stripflow tiles scan.tif out.zip --layout iiif     (one zip, written as a stream)
  stripflow tiles map.png tiles --layout xyz --suffix .png --centre
  stripflow tiles slide.jpg z --layout zoomify --quality 85
  stripflow tiles photo.jpg out --crop 0,0,8000,6000 --width 4000 --tile-size 510 --overlap 1";

/// The tiler the flags describe.
fn tiler(args: &TilesArgs) -> Result<Tiler> {
    anyhow::ensure!(args.encode.format.is_none(), "tiles take their format from --suffix (.jpeg, .jpg, .png, .webp), not --format");
    let mut t = Tiler::new(args.layout.parse::<Layout>()?);
    if let Some(size) = args.tile_size {
        t = t.tile_size(size);
    }
    if let Some(overlap) = args.overlap {
        t = t.overlap(overlap);
    }
    if let Some(suffix) = &args.suffix {
        t = t.suffix(suffix);
    }
    if let Some(depth) = &args.depth {
        t = t.depth(depth.parse::<Depth>()?);
    }
    if let Some(n) = args.skip_blanks {
        anyhow::ensure!((-1..=255).contains(&n), "--skip-blanks takes -1..=255");
        t = t.skip_blanks(u8::try_from(n).ok());
    }
    if let Some(bg) = &args.background {
        let [r, g, b, _] = parse_rgba(bg)?;
        t = t.background([r, g, b]);
    }
    if let Some(id) = &args.id {
        t = t.iiif_id(id);
    }
    Ok(t.centre(args.centre).viewer(!args.no_viewer).encode_options(args.encode.options()?))
}

/// The transforms before tiling.
fn recipe(args: &TilesArgs) -> Result<Recipe> {
    let mut r = Recipe::new();
    match args.rotate.as_str() {
        "auto" => r = r.auto_orient(),
        "none" => {}
        degrees => {
            let degrees: i32 = degrees.parse().with_context(|| format!("--rotate '{degrees}': auto, none or a multiple of 90"))?;
            r = r.auto_orient().rotate(degrees);
        }
    }
    if args.flip {
        r = r.flip();
    }
    if args.flop {
        r = r.flop();
    }
    if let Some(crop) = &args.crop {
        r = if crop.contains(',') {
            let rect = crop.parse::<Rect>()?;
            r.crop(rect.x, rect.y, rect.width, rect.height)
        } else {
            let (w, h) = parse_size(crop)?;
            r.crop_gravity(w, h, args.gravity.parse::<Gravity>()?)
        };
    }
    if let Some(size) = &args.resize {
        let (w, h) = parse_size(size)?;
        r = r.resize(w, h).fit(stripflow::ops::fit::Fit::Inside);
    } else if args.width.is_some() || args.height.is_some() {
        r = r.resize_to(args.width, args.height);
    }
    if args.keep_icc {
        r = r.keep_icc_profile();
    }
    if args.page != 0 {
        r = r.page(args.page);
    }
    Ok(r.max_memory(parse_bytes(&args.max_memory)?)
        .limit_input_pixels(args.limit_input_pixels)
        .shrink_on_load(!args.no_shrink_on_load)
        .fail_on(args.fail_on.parse::<FailOn>()?))
}

/// Runs `tiles`.
pub fn tiles(args: &TilesArgs) -> Result<()> {
    let tiler = tiler(args)?;
    let pipeline = recipe(args)?.input(open_input(&args.input)?);
    let planned = tiler.plan(pipeline, &args.output).map_err(|e| with_path(e, &args.input))?;
    if args.plan {
        return crate::print_line(planned.plan());
    }
    let total = planned.plan().tiles();
    let bar = (std::io::stderr().is_terminal() && total >= 64).then(|| crate::progress::tile_bar(total));
    let job = match &bar {
        Some(bar) => {
            let bar = bar.clone();
            planned.progress(Arc::new(move |done, _| bar.set_position(done)))
        }
        None => planned,
    };
    let baseline = crate::peak_alloc::PeakAlloc::current();
    crate::peak_alloc::PeakAlloc::reset_peak();
    let stats = job.run().map_err(|e| with_path(e, &format!("{} -> {}", args.input, args.output)))?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if args.stats {
        eprintln!(
            "{} tiles written, {} blank skipped, {} levels: {:.3} s, measured peak heap {} (planned {})",
            stats.tiles_written,
            stats.tiles_skipped,
            stats.plan.geometry.levels.len(),
            stats.elapsed.as_secs_f64(),
            human(crate::peak_alloc::PeakAlloc::peak().saturating_sub(baseline) as u64),
            human(stats.plan.heap_bytes as u64)
        );
    }
    Ok(())
}
