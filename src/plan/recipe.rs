//! [`Recipe`]: what to do to an image, separate from the image; and [`Chain`], the fluent
//! sharp-style setters that a recipe and a [`super::Pipeline`] (a recipe bound to an input) share.
//!
//! A recipe is `Clone + Debug + Send + Sync`: build it once, then run it on many inputs, from
//! many threads. Setters never fail; the first invalid call (a rotation by 45 degrees) is kept
//! and reported by planning, so a chain stays fluent.

use std::fmt;
use std::sync::Arc;

use super::budget::Budget;
use crate::codec::jpeg::Subsampling;
use crate::codec::spec::EncoderSpec;
use crate::codec::{EncodeOptions, FailOn, Format, TiffCompression};
use crate::error::Error;
use crate::ops::crop::{Gravity, Rect};
use crate::ops::extend::Margins;
use crate::ops::fit::{Fit, FitOptions};
use crate::ops::orient::Orientation;
use crate::ops::pad::Rgba;
use crate::ops::resize::{Kernel, ResizeOptions};
use crate::pipeline::StageSpec;

/// The crop before the resize: a rectangle, or a size placed by a gravity on the upright image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CropRequest {
    /// A rectangle in upright input pixels.
    Rect(Rect),
    /// Width and height placed by the gravity once the upright size is known.
    Placed(u32, u32, Gravity),
}

/// A sharp-style job without its input. See [`Chain`] for the setters and
/// [`super::Pipeline`] to run it.
#[derive(Clone, Debug)]
pub struct Recipe {
    pub(crate) auto_orient: bool,
    pub(crate) user_orientation: Orientation,
    pub(crate) crop: Option<CropRequest>,
    pub(crate) width: Option<u32>,
    pub(crate) height: Option<u32>,
    pub(crate) fit: FitOptions,
    pub(crate) resize_options: ResizeOptions,
    pub(crate) extract: Option<Rect>,
    pub(crate) extend: Option<Margins>,
    pub(crate) background: Rgba,
    pub(crate) flatten: bool,
    pub(crate) format: Option<Format>,
    pub(crate) encode: EncodeOptions,
    pub(crate) encoder: Option<Arc<dyn EncoderSpec>>,
    pub(crate) stages: Vec<Arc<dyn StageSpec>>,
    pub(crate) budget: Budget,
    pub(crate) shrink_on_load: bool,
    pub(crate) fail_on: FailOn,
    pub(crate) keep_icc_profile: bool,
    pub(crate) keep_metadata: bool,
    pub(crate) page: u32,
    /// Threads a job may use (`None`: the available parallelism).
    pub(crate) threads: Option<usize>,
    /// The first invalid call's message (reported by planning, so the chain stays fluent).
    pub(crate) deferred: Option<String>,
}

impl Default for Recipe {
    fn default() -> Self {
        Recipe {
            auto_orient: false,
            user_orientation: Orientation::Identity,
            crop: None,
            width: None,
            height: None,
            fit: FitOptions::default(),
            resize_options: ResizeOptions::default(),
            extract: None,
            extend: None,
            background: [0, 0, 0, 255],
            flatten: false,
            format: None,
            encode: EncodeOptions::default(),
            encoder: None,
            stages: Vec::new(),
            budget: Budget::default(),
            shrink_on_load: true,
            fail_on: FailOn::default(),
            keep_icc_profile: false,
            keep_metadata: false,
            page: 0,
            threads: None,
            deferred: None,
        }
    }
}

impl Recipe {
    /// An empty recipe: the image re-encoded as it is.
    pub fn new() -> Recipe {
        Recipe::default()
    }

    /// The budget this recipe plans against.
    pub fn budget_limits(&self) -> Budget {
        self.budget
    }

    /// The threads a job of this recipe may use: as set by [`Chain::threads`], else
    /// [`std::thread::available_parallelism`] (which follows CPU affinity and cgroup quotas).
    pub fn thread_count(&self) -> usize {
        self.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

/// The fluent setters of a job, shared by [`Recipe`] and [`super::Pipeline`].
///
/// Operations apply in a fixed order whatever the call order, as in sharp: orientation (EXIF
/// when [`auto_orient`](Chain::auto_orient), then rotations and mirrors in call order), crop
/// (upright coordinates), resize with fit and position, contain padding, extract, extend, your
/// own stages, flatten, encode.
pub trait Chain: Sized {
    /// The recipe being built.
    fn recipe_mut(&mut self) -> &mut Recipe;

    /// Keeps the first invalid call's message for planning to report.
    #[doc(hidden)]
    fn defer(mut self, error: Error) -> Self {
        let message = match error {
            Error::Parameter(m) => m,
            other => other.to_string(),
        };
        self.recipe_mut().deferred.get_or_insert(message);
        self
    }

    /// Crops to `width` x `height` at `(x, y)`, in upright coordinates, before the resize
    /// (sharp's `extract` before `resize`).
    fn crop(mut self, x: u32, y: u32, width: u32, height: u32) -> Self {
        self.recipe_mut().crop = Some(CropRequest::Rect(Rect::new(x, y, width, height)));
        self
    }

    /// Crops to `width` x `height` placed by `gravity` on the upright image, before the resize.
    fn crop_gravity(mut self, width: u32, height: u32, gravity: Gravity) -> Self {
        self.recipe_mut().crop = Some(CropRequest::Placed(width, height, gravity));
        self
    }

    /// Resizes to `width` x `height`, fitted by [`fit`](Self::fit) (cover by default).
    fn resize(self, width: u32, height: u32) -> Self {
        self.resize_to(Some(width), Some(height))
    }

    /// Resizes to `width` and/or `height`; a missing one follows the aspect ratio.
    fn resize_to(mut self, width: Option<u32>, height: Option<u32>) -> Self {
        let r = self.recipe_mut();
        r.width = width;
        r.height = height;
        self
    }

    /// How the resize fits both dimensions (default cover).
    fn fit(mut self, fit: Fit) -> Self {
        self.recipe_mut().fit.fit = fit;
        self
    }

    /// Which part cover keeps, or where contain places the image (default centre).
    fn position(mut self, position: Gravity) -> Self {
        self.recipe_mut().fit.position = position;
        self
    }

    /// Never enlarge (sharp's `withoutEnlargement`).
    fn without_enlargement(mut self, yes: bool) -> Self {
        self.recipe_mut().fit.without_enlargement = yes;
        self
    }

    /// Never reduce (sharp's `withoutReduction`).
    fn without_reduction(mut self, yes: bool) -> Self {
        self.recipe_mut().fit.without_reduction = yes;
        self
    }

    /// The resampling kernel (default lanczos3).
    fn kernel(mut self, kernel: Kernel) -> Self {
        self.recipe_mut().resize_options.kernel = kernel;
        self
    }

    /// Resizes in linear light (sRGB decoded before, encoded after); default off.
    fn linear_light(mut self, yes: bool) -> Self {
        self.recipe_mut().resize_options.linear_light = yes;
        self
    }

    /// All resize options (kernel, linear light, alpha premultiplication).
    fn resize_options(mut self, options: ResizeOptions) -> Self {
        self.recipe_mut().resize_options = options;
        self
    }

    /// Crops the resized image to `width` x `height` at `(x, y)` (sharp's `extract` after
    /// `resize`), in output coordinates.
    fn extract(mut self, x: u32, y: u32, width: u32, height: u32) -> Self {
        self.recipe_mut().extract = Some(Rect::new(x, y, width, height));
        self
    }

    /// Adds margins of the [`background`](Self::background) colour around the (resized,
    /// extracted) image (sharp's `extend`).
    fn extend(mut self, margins: Margins) -> Self {
        self.recipe_mut().extend = Some(margins);
        self
    }

    /// The one background colour, 8-bit RGBA: contain padding, extend margins, and what alpha is
    /// flattened onto (by [`flatten`](Self::flatten) or by an output format without alpha).
    /// Default opaque black, as sharp.
    fn background(mut self, colour: Rgba) -> Self {
        let r = self.recipe_mut();
        r.background = colour;
        r.encode.background = [colour[0], colour[1], colour[2]];
        self
    }

    /// Applies the EXIF orientation, so the output is upright (sharp's `rotate()` without an
    /// angle). Further rotations and mirrors act on the upright image. An error for inputs with
    /// no EXIF (a row source).
    fn auto_orient(mut self) -> Self {
        self.recipe_mut().auto_orient = true;
        self
    }

    /// Turns clockwise by a multiple of 90 degrees (negative: anticlockwise).
    fn rotate(mut self, degrees: i32) -> Self {
        match Orientation::rotation(degrees) {
            Ok(o) => {
                let r = self.recipe_mut();
                r.user_orientation = r.user_orientation.then(o);
                self
            }
            Err(e) => self.defer(e),
        }
    }

    /// Mirrors top to bottom.
    fn flip(self) -> Self {
        self.orient(Orientation::FlipVertical)
    }

    /// Mirrors left to right.
    fn flop(self) -> Self {
        self.orient(Orientation::FlipHorizontal)
    }

    /// Any orientation, composed after those already chained.
    fn orient(mut self, orientation: Orientation) -> Self {
        let r = self.recipe_mut();
        r.user_orientation = r.user_orientation.then(orientation);
        self
    }

    /// Removes alpha by flattening onto `background` (which becomes the
    /// [`background`](Self::background) colour, opaque).
    fn flatten(self, background: [u8; 3]) -> Self {
        let mut s = self.background([background[0], background[1], background[2], 255]);
        s.recipe_mut().flatten = true;
        s
    }

    /// The output format (default: the output path's extension, else the input's).
    fn format(mut self, format: Format) -> Self {
        self.recipe_mut().format = Some(format);
        self
    }

    /// Quality 1..=100 (JPEG, lossy WebP, AVIF; an error for formats without it).
    fn quality(mut self, quality: u8) -> Self {
        self.recipe_mut().encode.quality = Some(quality);
        self
    }

    /// Chroma subsampling (JPEG; an error for formats without it).
    fn subsampling(mut self, subsampling: Subsampling) -> Self {
        self.recipe_mut().encode.subsampling = Some(subsampling);
        self
    }

    /// Compression level 0..=9 (PNG; an error for formats without it).
    fn compression(mut self, level: u8) -> Self {
        self.recipe_mut().encode.compression = Some(level);
        self
    }

    /// Quality of the alpha channel 0..=100 (WebP, AVIF; an error for other formats).
    fn alpha_quality(mut self, quality: u8) -> Self {
        self.recipe_mut().encode.alpha_quality = Some(quality);
        self
    }

    /// Lossless compression (WebP; an error for other formats).
    fn lossless(mut self, yes: bool) -> Self {
        self.recipe_mut().encode.lossless = Some(yes);
        self
    }

    /// Near-lossless preprocessing 0..=100, 100 being off (WebP; implies lossless).
    fn near_lossless(mut self, level: u8) -> Self {
        self.recipe_mut().encode.near_lossless = Some(level);
        self
    }

    /// CPU effort: WebP 0..=6, AVIF 0..=9; higher is slower and smaller.
    fn effort(mut self, effort: u8) -> Self {
        self.recipe_mut().encode.effort = Some(effort);
        self
    }

    /// Sharper RGB to YUV conversion for lossy WebP.
    fn smart_subsample(mut self, yes: bool) -> Self {
        self.recipe_mut().encode.smart_subsample = Some(yes);
        self
    }

    /// Progressive scans (JPEG). The encoder then needs the whole frame's coefficients, which
    /// the plan prices.
    fn progressive(mut self, yes: bool) -> Self {
        self.recipe_mut().encode.progressive = Some(yes);
        self
    }

    /// Huffman tables fitted to the image (JPEG): smaller files, the whole frame's coefficients
    /// held (priced by the plan).
    fn optimize_coding(mut self, yes: bool) -> Self {
        self.recipe_mut().encode.optimize_coding = Some(yes);
        self
    }

    /// TIFF compression method.
    fn tiff_compression(mut self, compression: TiffCompression) -> Self {
        self.recipe_mut().encode.tiff_compression = Some(compression);
        self
    }

    /// Bits per sample of the file: TIFF 8 or 16, AVIF 8 or 10.
    fn bit_depth(mut self, bits: u8) -> Self {
        self.recipe_mut().encode.bit_depth = Some(bits);
        self
    }

    /// Every encoder option at once (the background colour is kept).
    fn encode_options(mut self, options: EncodeOptions) -> Self {
        let r = self.recipe_mut();
        r.encode = EncodeOptions { background: r.encode.background, ..options };
        self
    }

    /// A configured encoder (e.g. [`crate::codec::png::PngEncoder`]); sets the format too.
    fn encoder(mut self, encoder: impl EncoderSpec + 'static) -> Self {
        let r = self.recipe_mut();
        r.format = Some(encoder.format());
        r.encoder = Some(Arc::new(encoder));
        self
    }

    /// Adds your own stage to the planned chain, after extend and before flattening and
    /// encoding; its declared heap counts against the budget.
    fn stage(mut self, stage: impl StageSpec + 'static) -> Self {
        self.recipe_mut().stages.push(Arc::new(stage));
        self
    }

    /// The heap budget in bytes (default 256 MiB).
    fn max_memory(mut self, bytes: usize) -> Self {
        self.recipe_mut().budget.max_memory = bytes;
        self
    }

    /// The maximum input pixel count (default 2^30: a bound on time, not memory; 0 or
    /// `u64::MAX` for none).
    fn limit_input_pixels(mut self, pixels: u64) -> Self {
        self.recipe_mut().budget.limit_input_pixels = if pixels == 0 { u64::MAX } else { pixels };
        self
    }

    /// The maximum output pixel count (default 2^30; 0 or `u64::MAX` for none).
    fn limit_output_pixels(mut self, pixels: u64) -> Self {
        self.recipe_mut().budget.limit_output_pixels = if pixels == 0 { u64::MAX } else { pixels };
        self
    }

    /// Refuses scratch files: a whole-frame transform must fit in the heap budget.
    fn no_scratch(mut self) -> Self {
        self.recipe_mut().budget.no_scratch = true;
        self
    }

    /// The whole budget at once.
    fn budget(mut self, budget: Budget) -> Self {
        self.recipe_mut().budget = budget;
        self
    }

    /// Whether a decoder may decode at 1/2, 1/4 or 1/8 scale when the resize allows it (default
    /// on; off for the highest quality).
    fn shrink_on_load(mut self, yes: bool) -> Self {
        self.recipe_mut().shrink_on_load = yes;
        self
    }

    /// Which damaged pixel data fails the job (sharp's `failOn`): [`FailOn::Error`] (the
    /// default) fails on any damage, [`FailOn::Truncated`] only on a file cut short,
    /// [`FailOn::None`] decodes whatever can be decoded. Damaged headers always fail.
    fn fail_on(mut self, level: FailOn) -> Self {
        self.recipe_mut().fail_on = level;
        self
    }

    /// Keeps the input's embedded ICC profile instead of converting the pixels to sRGB (the
    /// default, as sharp), so the output can carry it ([`super::Plan::icc_profile`]). A damaged
    /// profile is then never parsed.
    fn keep_icc_profile(mut self) -> Self {
        self.recipe_mut().keep_icc_profile = true;
        self
    }

    /// Keeps the input's EXIF, XMP and ICC profile in the output (JPEG, PNG, WebP, TIFF), as
    /// sharp's `withMetadata()`; by default all are stripped (a photo's GPS position must not
    /// leak into a published thumbnail). When the pixels are auto-oriented, the kept EXIF's
    /// orientation is rewritten to 1. The pixels are still converted to sRGB unless
    /// [`keep_icc_profile`](Chain::keep_icc_profile) is set too, and then the output carries an
    /// sRGB profile, not the input's (as sharp). A format that cannot store a block is an
    /// [`Error::Unsupported`](crate::Error::Unsupported) at planning.
    fn keep_metadata(mut self) -> Self {
        self.recipe_mut().keep_metadata = true;
        self
    }

    /// How many threads one job may use (default: [`std::thread::available_parallelism`]; 0
    /// also means that). With 2 or more, the planner may cut the chain in two with a
    /// [`HandoffSpec`](crate::pipeline::HandoffSpec): the decoder and early stages run on a worker
    /// thread and pass strips to the later stages and the encoder through a few recycled
    /// buffers, counted in the plan. 1 runs everything on the caller's thread, with no worker.
    /// The output bytes are the same for any count.
    fn threads(mut self, threads: usize) -> Self {
        self.recipe_mut().threads = (threads > 0).then_some(threads);
        self
    }

    /// Which page of a multi-page input to read (a TIFF directory, a GIF frame; 0, the default,
    /// is the first, as sharp's and libvips' `page`). A page past the last, or any page but 0 of
    /// a single-image format, is an [`Error::Parameter`](crate::Error::Parameter) at planning.
    fn page(mut self, page: u32) -> Self {
        self.recipe_mut().page = page;
        self
    }
}

impl Chain for Recipe {
    fn recipe_mut(&mut self) -> &mut Recipe {
        self
    }
}

impl fmt::Display for CropRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CropRequest::Rect(r) => write!(f, "{}x{} at {},{}", r.width, r.height, r.x, r.y),
            CropRequest::Placed(w, h, g) => write!(f, "{w}x{h} {}", g.name()),
        }
    }
}
