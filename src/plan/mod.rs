//! The planner: sharp-style chains (crop, resize with fit and position, orientation, flatten,
//! output format) turned into the cheapest streaming pipeline, with its memory predicted and
//! checked against a budget before any pixel is decoded.
//!
//! ```no_run
//! use stripflow::prelude::*;
//!
//! let stats = Pipeline::open("photo.jpg")?
//!     .auto_orient()
//!     .resize(1200, 630)
//!     .fit(Fit::Cover)
//!     .position(Gravity::TopRight)
//!     .format(Format::Jpeg)
//!     .quality(82)
//!     .write_to_path("card.jpg")?;
//! println!("{} rows in {:?}", stats.rows, stats.elapsed);
//! # Ok::<(), stripflow::Error>(())
//! ```
//!
//! The chain is read the way sharp reads it, in a fixed order whatever the call order:
//! orientation first (EXIF auto-orientation, then the user's rotations and mirrors composed in
//! call order), then the crop (in upright coordinates), then the fitted resize, the contain
//! padding, flattening and the encoder. Physically, the planner then:
//!
//! * maps the crop and the cover crop back to *stored* coordinates and pushes them into the
//!   decoder (JPEG crop-on-load) or a crop stage right after it (PNG);
//! * picks the JPEG shrink-on-load factor (1/2, 1/4, 1/8), leaving at least 2x for the resize
//!   kernel, unless shrink-on-load is turned off;
//! * resizes in stored orientation and places the orientation stage where its frame is
//!   smallest (after a downscale, before an upscale); a horizontal mirror streams, anything else
//!   holds the frame on the heap when small, else in a scratch file (read and written through a bounded band buffer);
//! * adds each stage's buffers, the decoder's and the encoder's into a predicted peak, and
//!   refuses the job with [`crate::Error::Limits`] when it exceeds the budget.
//!
//! Files: [`recipe`] (the job without its input, and the fluent [`Chain`] setters), `geometry`
//! (upright requests mapped to what is decoded), `chain` (the list of stage specifications and
//! their costs), `pipeline` ([`Pipeline`]: a recipe bound to an input, run), `display` (the plan
//! for people and as JSON), `budget`. Every byte in a plan comes from a specification
//! ([`crate::pipeline::StageSpec`], [`crate::codec::DecoderSpec`], [`crate::codec::EncoderSpec`])
//! that also builds what it predicts.

mod budget;
mod chain;
mod cut;
pub(crate) mod display;
mod geometry;
mod pipeline;
pub mod recipe;

pub use budget::{
    human, Budget, DEFAULT_LIMIT_INPUT_PIXELS, DEFAULT_LIMIT_OUTPUT_PIXELS, DEFAULT_MAX_MEMORY, HEAP_FRAME_SHARE,
    JOB_OVERHEAD,
};
pub use pipeline::{Pipeline, RunStats};
pub(crate) use pipeline::{build_stages, encode_to_path};
pub use recipe::{Chain, CropRequest, Recipe};

use std::sync::Arc;

use crate::codec::spec::{DecodeRequest, EncoderSpec};
use crate::codec::Format;
use crate::ops::crop::Rect;
use crate::ops::orient::Orientation;
use crate::pipeline::StageSpec;
use crate::pixel::ImageInfo;

/// One stage of a planned pipeline, as the plan reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct StagePlan {
    /// Stage name ("jpeg decode", "resize", ...).
    pub name: String,
    /// What the stage produces.
    pub output: ImageInfo,
    /// Heap bytes its buffers will hold.
    pub heap_bytes: usize,
    /// Scratch-file bytes it will write.
    pub scratch_bytes: u64,
    /// What it does, for people ("1/8 shrink-on-load", "frame on the heap", ...).
    pub detail: String,
}

/// The planned pipeline: what will run, and what it will cost.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The input format (`None` for a row source).
    pub input_format: Option<Format>,
    /// The input as stored: size and pixel format as decoded at full scale.
    pub input: ImageInfo,
    /// The EXIF orientation tag of the input, if any.
    pub exif_orientation: Option<u8>,
    /// The orientation applied (EXIF if auto-orienting, then the user's turns and mirrors).
    pub orientation: Orientation,
    /// Upright size of the input (after orientation).
    pub oriented: (u32, u32),
    /// Shrink-on-load denominator (1 = none).
    pub shrink_on_load: u8,
    /// The part of the stored input read, in stored full-scale coordinates.
    pub source_rect: Rect,
    /// The crop-on-load window pushed into the decoder, in its scaled coordinates, if any.
    pub decode_region: Option<Rect>,
    /// The stages, decoder first, encoder (and file writer) last.
    pub stages: Vec<StagePlan>,
    /// The input's embedded ICC profile (bounded by [`crate::codec::icc::MAX_ICC_PROFILE_BYTES`]
    /// and counted in the colour stage when converted), for encoders that write it.
    pub icc_profile: Option<Arc<Vec<u8>>>,
    /// Why the input's colour profile is not applied, when it is not (kept by
    /// `keep_icc_profile`, ignored as damaged under a lenient `fail_on`, a CMYK profile).
    pub colour: Option<String>,
    /// Output size and pixel format (as handed to the encoder).
    pub output: ImageInfo,
    /// Output file format.
    pub output_format: Format,
    /// Predicted peak heap of the job, bytes.
    pub heap_bytes: usize,
    /// Predicted scratch-file bytes.
    pub scratch_bytes: u64,
    /// The budget the plan was checked against.
    pub budget: Budget,
    /// How to build it: the same specifications that priced it.
    pub(crate) build: Build,
}

impl Plan {
    /// The encoder the plan priced and will run (its kind, options and limits).
    pub fn encoder(&self) -> &dyn EncoderSpec {
        &*self.build.encoder
    }
}

/// The specifications a plan was priced with, kept to build exactly that.
#[derive(Debug, Clone)]
pub(crate) struct Build {
    /// What the decoder is asked for (`None` for a row source).
    pub decode: Option<DecodeRequest>,
    /// The stages after the decoder, in order.
    pub stages: Vec<Arc<dyn StageSpec>>,
    /// The encoder.
    pub encoder: Arc<dyn EncoderSpec>,
}
