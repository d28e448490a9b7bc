//! Tile pyramids in one streaming pass: Deep Zoom, IIIF, XYZ and Zoomify, as libvips' `dzsave`
//! makes them, from any planned chain.
//!
//! The [`Tiler`] is a sink at the end of a [`Pipeline`]: every transform the planner knows
//! (crop, resize, orientation, colour) runs first, then each row of the result is cut into the
//! full-resolution tiles it belongs to and reduced 2x (a box mean, as libvips) into the level
//! below, and so on down. No level holds a band of rows: each tile is encoded while its rows
//! arrive, by one encoder per tile column (fed on the cutter's thread where the encoder takes
//! pushed rows, as baseline JPEG does; else a worker thread per column), so memory is a few rows
//! and one tile encoder per column per level, `O(width x levels)`, independent of the image's
//! height. The plan
//! ([`TilePlan`]) prices it from the same layout the cutter allocates, and refuses a job over
//! the budget before any pixel is decoded.
//!
//! ```
//! use stripflow::plan::{Chain, Pipeline};
//! use stripflow::synth::Synthetic;
//! use stripflow::tiles::{Layout, Tiler};
//! use stripflow::PixelFormat;
//!
//! let folder = tempfile::tempdir()?;
//! let image = Synthetic::new(1000, 700, PixelFormat::RGB8, 7);
//! let pipeline = Pipeline::from_source(Box::new(image)).crop(0, 0, 900, 700);
//! let stats = Tiler::new(Layout::DeepZoom).write(pipeline, folder.path().join("photo"))?;
//! assert_eq!(stats.tiles_written, 4 * 3 + 2 * 2 + 9);
//! assert!(folder.path().join("photo.dzi").exists());
//! assert!(folder.path().join("photo_files/10/3_2.jpeg").exists());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Files: `levels` (how many levels, their sizes and tile grids), `reduce` (the 2x reducer),
//! `cutter` (rows into tiles, level by level), `column` (a tile column's encoder, fed pushed
//! rows), `worker` (a column's worker thread, for encoders that pull), `tile_buffer` (a tile
//! held until stored), `layouts` (names and
//! description files), `viewer` (the HTML page), `store` (directory or ZIP, all or nothing),
//! `zip` (the streaming ZIP writer), `plan` (what it costs).

mod column;
mod cutter;
pub mod layouts;
pub mod levels;
mod plan;
mod reduce;
mod store;
mod tile_buffer;
mod viewer;
mod worker;
pub mod zip;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use levels::{Depth, Geometry, Layout, Level};
pub use plan::TilePlan;
pub use column::ProgressFn;

use crate::codec::{registry, EncodeOptions, Format};
use crate::error::{Error, Result};
use crate::pipeline::{MemorySource, RowSource};
use crate::pixel::{ImageInfo, PixelFormat};
use crate::plan::{Chain, Pipeline};
use cutter::{BlankTest, Cutter};
use layouts::Naming;
use store::{DirStore, TileStore, ZipStore};
use column::Shared;

/// A pyramid's options, as dzsave's, and the sink that writes it.
#[derive(Clone)]
pub struct Tiler {
    layout: Layout,
    tile_size: Option<u32>,
    overlap: Option<u32>,
    depth: Option<Depth>,
    centre: bool,
    suffix: Option<String>,
    encode: EncodeOptions,
    background: [u8; 3],
    skip_blanks: Option<Option<u8>>,
    id: String,
    viewer: bool,
    progress: Option<Arc<ProgressFn>>,
}

impl std::fmt::Debug for Tiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tiler")
            .field("layout", &self.layout)
            .field("tile_size", &self.tile_size)
            .field("overlap", &self.overlap)
            .field("depth", &self.depth)
            .field("suffix", &self.suffix)
            .finish_non_exhaustive()
    }
}

/// What a pyramid run wrote.
#[derive(Debug, Clone)]
pub struct TileStats {
    /// Tiles written.
    pub tiles_written: u64,
    /// Tiles skipped as blank.
    pub tiles_skipped: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// The plan that ran.
    pub plan: TilePlan,
}

impl Tiler {
    /// A pyramid of `layout` with dzsave's defaults: Deep Zoom 254-pixel tiles with overlap 1
    /// down to 1x1, `.jpeg` tiles at quality 75; Zoomify and XYZ 256-pixel tiles, IIIF 512, no
    /// overlap, down to one tile, `.jpg`; XYZ skips tiles within 5 of the white background.
    pub fn new(layout: Layout) -> Tiler {
        Tiler {
            layout,
            tile_size: None,
            overlap: None,
            depth: None,
            centre: false,
            suffix: None,
            encode: EncodeOptions::default(),
            background: [255; 3],
            skip_blanks: None,
            id: "https://example.com/iiif".into(),
            viewer: true,
            progress: None,
        }
    }

    /// Tile size in pixels, without overlap (1..=8192).
    pub fn tile_size(mut self, pixels: u32) -> Tiler {
        self.tile_size = Some(pixels);
        self
    }

    /// Overlap in pixels (less than the tile size).
    pub fn overlap(mut self, pixels: u32) -> Tiler {
        self.overlap = Some(pixels);
        self
    }

    /// How deep the pyramid goes.
    pub fn depth(mut self, depth: Depth) -> Tiler {
        self.depth = Some(depth);
        self
    }

    /// Centre the image on the XYZ canvas instead of placing it top-left.
    pub fn centre(mut self, centre: bool) -> Tiler {
        self.centre = centre;
        self
    }

    /// Tile file suffix, which names the tile format as dzsave's `--suffix`: `.jpeg`, `.jpg`,
    /// `.png`, `.webp`.
    pub fn suffix(mut self, suffix: &str) -> Tiler {
        self.suffix = Some(if suffix.starts_with('.') { suffix.to_string() } else { format!(".{suffix}") });
        self
    }

    /// The tile encoder's options (quality, subsampling, compression, ...); JPEG and WebP
    /// quality default to 75 as dzsave's.
    pub fn encode_options(mut self, options: EncodeOptions) -> Tiler {
        self.encode = options;
        self
    }

    /// Background of XYZ padding, of flattened alpha and of the blank test (default white).
    pub fn background(mut self, rgb: [u8; 3]) -> Tiler {
        self.background = rgb;
        self
    }

    /// Skip tiles whose every sample is within `threshold` of the background (`None`: keep
    /// every tile; the default, except XYZ's 5), as dzsave's `--skip-blanks`.
    pub fn skip_blanks(mut self, threshold: Option<u8>) -> Tiler {
        self.skip_blanks = Some(threshold);
        self
    }

    /// The IIIF base URI written in `info.json`'s `id` (followed by `/NAME`).
    pub fn iiif_id(mut self, id: &str) -> Tiler {
        self.id = id.to_string();
        self
    }

    /// Whether to write the viewer page `NAME.html` (default yes; not inside a ZIP).
    pub fn viewer(mut self, viewer: bool) -> Tiler {
        self.viewer = viewer;
        self
    }

    /// A callback told (tiles done, tiles in the pyramid) after each tile (from worker threads
    /// when the tile encoder pulls its rows).
    pub fn progress(mut self, progress: Arc<ProgressFn>) -> Tiler {
        self.progress = Some(progress);
        self
    }

    /// The tile format and suffix.
    fn tile_format(&self) -> Result<(Format, String)> {
        let default = if self.layout == Layout::DeepZoom { ".jpeg" } else { ".jpg" };
        let suffix = self.suffix.clone().unwrap_or_else(|| default.to_string());
        let codec = registry::by_extension(Path::new(&format!("tile{suffix}")))?
            .ok_or_else(|| Error::parameter(format!("tile suffix '{suffix}' names no format")))?;
        Ok((codec.format, suffix))
    }

    /// The tile encoder: the format's registry encoder, quality 75 unless set.
    fn encoder(&self, format: Format) -> Result<Arc<dyn crate::codec::spec::EncoderSpec>> {
        let mut options = self.encode;
        options.background = self.background;
        if options.quality.is_none() && matches!(format, Format::Jpeg) {
            options.quality = Some(75);
        }
        if options.quality.is_none() && format.name() == "webp" && options.lossless != Some(true) && options.near_lossless.is_none() {
            options.quality = Some(75);
        }
        registry::encoder(format, &options)
    }

    /// Plans the pyramid of `pipeline`'s output written to `out` (a `.zip` file, or a base path
    /// for the directory layout): the chain's plan without its encoder, then the pyramid's
    /// levels and buffers. Nothing is decoded; over budget is [`Error::Limits`].
    pub fn plan(&self, pipeline: Pipeline, out: impl AsRef<Path>) -> Result<TileJob> {
        let (format, suffix) = self.tile_format()?;
        let encoder = self.encoder(format)?;
        let recipe = pipeline.recipe().clone();
        let mut pipeline = pipeline.with_recipe(plan::rows_recipe(recipe.clone()));
        let mut chain = pipeline.plan()?;
        if chain.output.format.depth != crate::BitDepth::Eight {
            let eight = PixelFormat::new(chain.output.format.color, crate::BitDepth::Eight);
            pipeline = pipeline.with_recipe(plan::rows_recipe(recipe).stage(crate::ops::convert::ConvertSpec(crate::ops::convert::ConvertTo::Format(eight))));
            chain = pipeline.plan()?;
        }
        let (width, height) = (chain.output.width, chain.output.height);
        let layout = self.layout;
        let overlap = self.overlap.unwrap_or(layout.default_overlap());
        if layout == Layout::Iiif && overlap != 0 {
            return Err(Error::parameter("IIIF tiles do not overlap: use --overlap 0"));
        }
        let geometry = Geometry::new(layout, width, height, self.tile_size.unwrap_or(layout.default_tile_size()), overlap, self.depth.unwrap_or(layout.default_depth()), self.centre)?;
        let destination = Destination::of(out.as_ref())?;
        let naming = Naming::new(&geometry, &destination.name, &suffix);
        let plan = TilePlan::new(chain, geometry, format, suffix, &*encoder, destination.zip.clone())?;
        Ok(TileJob { tiler: self.clone(), pipeline, plan, encoder, naming, destination })
    }

    /// Plans and writes the pyramid of `pipeline` to `out`. `out` ending in `.zip` is one ZIP
    /// archive holding what the directory would; otherwise it is a base path: Deep Zoom writes
    /// `OUT.dzi` and `OUT_files/`, the other layouts `OUT/`; the viewer page is `OUT.html`. An
    /// existing output is refused; a failed run leaves nothing behind.
    pub fn write(&self, pipeline: Pipeline, out: impl AsRef<Path>) -> Result<TileStats> {
        self.plan(pipeline, out)?.run()
    }
}

/// Where the pyramid goes.
#[derive(Debug, Clone)]
struct Destination {
    /// The folder the output entries are made in.
    parent: PathBuf,
    /// The pyramid's name.
    name: String,
    /// The ZIP file, when writing one.
    zip: Option<PathBuf>,
}

impl Destination {
    fn of(out: &Path) -> Result<Destination> {
        let file_name = out.file_name().and_then(|n| n.to_str()).ok_or_else(|| Error::parameter(format!("'{}' has no file name", out.display())))?;
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let lower = file_name.to_ascii_lowercase();
        let (name, zip) = if let Some(stem) = lower.strip_suffix(".zip").map(|s| &file_name[..s.len()]) {
            (stem.to_string(), Some(out.to_path_buf()))
        } else if let Some(stem) = lower.strip_suffix(".dz").map(|s| &file_name[..s.len()]) {
            (stem.to_string(), None)
        } else {
            (file_name.to_string(), None)
        };
        if name.is_empty() || name.contains(['/', '\\']) {
            return Err(Error::parameter(format!("'{}' does not name a pyramid", out.display())));
        }
        Ok(Destination { parent, name, zip })
    }
}

/// A planned pyramid: the chain bound to its input, and what it will cost.
pub struct TileJob {
    tiler: Tiler,
    pipeline: Pipeline,
    plan: TilePlan,
    encoder: Arc<dyn crate::codec::spec::EncoderSpec>,
    naming: Naming,
    destination: Destination,
}

impl TileJob {
    /// The plan.
    pub fn plan(&self) -> &TilePlan {
        &self.plan
    }

    /// Sets the progress callback (see [`Tiler::progress`]) once the plan tells the tile count.
    pub fn progress(mut self, progress: Arc<ProgressFn>) -> TileJob {
        self.tiler.progress = Some(progress);
        self
    }

    /// Builds the chain, cuts every row into the pyramid, writes the description and viewer
    /// files and commits the output.
    pub fn run(self) -> Result<TileStats> {
        let started = Instant::now();
        let TileJob { tiler, pipeline, plan, encoder, naming, destination } = self;
        let geometry = Arc::new(plan.geometry.clone());
        let with_viewer = tiler.viewer && destination.zip.is_none();
        let store: Box<dyn TileStore> = match &destination.zip {
            Some(path) => Box::new(ZipStore::new(path)?),
            None => Box::new(DirStore::new(&destination.parent, naming.roots(geometry.layout, with_viewer))?),
        };
        let (_, mut source) = pipeline.into_rows()?;
        let info = source.info();
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            error: Mutex::new(None),
            failed: AtomicBool::new(false),
            written: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            total: geometry.tiles(),
            progress: tiler.progress.clone(),
        });
        let pixel = background_pixel(info.format, tiler.background);
        let skip = tiler.skip_blanks.unwrap_or(if geometry.layout == Layout::Xyz { Some(5) } else { None });
        let blank = skip.map(|threshold| BlankTest { ink: pixel.clone(), threshold });
        let naming = Arc::new(naming);
        let mut cutter = Cutter::new(geometry.clone(), naming.clone(), info.format, encoder, blank, shared.clone())?;
        feed_canvas(&mut *source, &geometry, &pixel, &mut cutter)?;
        drop(source);
        cutter.finish()?;

        let shared = Arc::try_unwrap(shared).map_err(|_| Error::parameter("tile workers still running"))?;
        let mut store = shared.store.into_inner().unwrap_or_else(|p| p.into_inner());
        let (path, text) = naming.description(&geometry, &tiler.id);
        store.put_bytes(&path, text.as_bytes())?;
        if geometry.layout == Layout::Xyz {
            store.put_bytes(&format!("{}/blank.png", naming.name), &blank_png(geometry.tile_size, &pixel, info.format)?)?;
        }
        if with_viewer {
            let (path, html) = viewer::page(&geometry, &naming);
            store.put_bytes(&path, html.as_bytes())?;
        }
        store.commit()?;
        Ok(TileStats {
            tiles_written: shared.written.into_inner(),
            tiles_skipped: shared.skipped.into_inner(),
            elapsed: started.elapsed(),
            plan,
        })
    }
}

/// Reads every row of `source` into the full-resolution level, placed on the canvas (XYZ
/// pads it with `pixel`).
fn feed_canvas(source: &mut dyn RowSource, geometry: &Geometry, pixel: &[u8], cutter: &mut Cutter) -> Result<()> {
    let info = source.info();
    let bpp = pixel.len();
    let (cw, ch) = geometry.canvas;
    let (ox, oy) = geometry.offset;
    if (cw, ch) == (info.width, info.height) {
        let mut row = vec![0u8; info.row_bytes()];
        for _ in 0..info.height {
            source.read_row(&mut row)?;
            cutter.push(&row)?;
        }
        return Ok(());
    }
    let mut canvas: Vec<u8> = pixel.iter().copied().cycle().take(cw as usize * bpp).collect();
    let blank = canvas.clone();
    let at = ox as usize * bpp..(ox + info.width) as usize * bpp;
    for y in 0..ch {
        if y >= oy && y < oy + info.height {
            source.read_row(&mut canvas[at.clone()])?;
            cutter.push(&canvas)?;
        } else {
            cutter.push(&blank)?;
        }
    }
    Ok(())
}

/// The background as one pixel of `format` (8-bit; alpha opaque).
fn background_pixel(format: PixelFormat, rgb: [u8; 3]) -> Vec<u8> {
    use crate::ColorType;
    let gray = ((rgb[0] as u32 * 299 + rgb[1] as u32 * 587 + rgb[2] as u32 * 114 + 500) / 1000) as u8;
    match format.color {
        ColorType::Gray => vec![gray],
        ColorType::GrayAlpha => vec![gray, 255],
        ColorType::Rgb => rgb.to_vec(),
        ColorType::Rgba => vec![rgb[0], rgb[1], rgb[2], 255],
    }
}

/// XYZ's `blank.png`: one tile of the background, as dzsave writes.
fn blank_png(tile_size: u32, pixel: &[u8], format: PixelFormat) -> Result<Vec<u8>> {
    let info = ImageInfo { width: tile_size, height: tile_size, format };
    let data: Vec<u8> = pixel.iter().copied().cycle().take(info.row_bytes() * tile_size as usize).collect();
    let mut source = MemorySource::new(info, data)?;
    let mut png = Vec::new();
    registry::encoder(Format::Png, &EncodeOptions::default())?.encode(&mut source, &mut png)?;
    Ok(png)
}
