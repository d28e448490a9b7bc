//! The planner: sharp-style chains (crop, resize with fit and position, orientation, flatten,
//! output format) turned into the cheapest streaming pipeline, with its memory predicted and
//! checked against a budget before any pixel is decoded.
//!
//! ```no_run
//! use stripflow::plan::Pipeline;
//! use stripflow::ops::{crop::Gravity, fit::Fit};
//! use stripflow::codec::Format;
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
//!   holds the frame on the heap when small, else in a memory-mapped scratch file;
//! * adds each stage's buffers, the decoder's and the encoder's into a predicted peak, and
//!   refuses the job with [`crate::Error::Limits`] when it exceeds the budget.

mod budget;
mod builder;

pub use budget::{human, Budget, DEFAULT_LIMIT_INPUT_PIXELS, DEFAULT_MAX_MEMORY, HEAP_FRAME_LIMIT};
pub use builder::{Pipeline, RunStats};

use std::fmt;

use crate::codec::Format;
use crate::ops::crop::Rect;
use crate::ops::orient::Orientation;
use crate::pixel::ImageInfo;
use crate::scratch::Storage;

/// One stage of a planned pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct StagePlan {
    /// Stage name ("jpeg decode", "resize", ...).
    pub name: String,
    /// What the stage produces.
    pub output: ImageInfo,
    /// Heap bytes its buffers will hold.
    pub heap_bytes: usize,
    /// Scratch-file bytes it will map.
    pub scratch_bytes: u64,
    /// What it does, for people ("1/8 shrink-on-load", "frame on the heap", ...).
    pub detail: String,
}

/// The planned pipeline: what will run, and what it will cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The input format (`None` for an in-memory row source).
    pub input_format: Option<Format>,
    /// The input as stored: size and pixel format as decoded at full scale.
    pub input: ImageInfo,
    /// The EXIF orientation tag of the input, if any.
    pub exif_orientation: Option<u8>,
    /// The orientation applied (EXIF if auto-orienting, then the user's turns and mirrors).
    pub orientation: Orientation,
    /// Upright size of the input (after orientation).
    pub oriented: (u32, u32),
    /// JPEG shrink-on-load denominator (1 = none).
    pub shrink_on_load: u8,
    /// The part of the stored input read, in stored full-scale coordinates.
    pub source_rect: Rect,
    /// The crop-on-load window pushed into the decoder, in its scaled coordinates, if any.
    pub decode_region: Option<Rect>,
    /// The stages, decoder first, encoder last.
    pub stages: Vec<StagePlan>,
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
    pub(crate) recipe: Recipe,
}

/// How to build the stages (private to the planner).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Recipe {
    /// Crop stage after the decoder (stored, decoded coordinates).
    pub crop: Option<Rect>,
    /// Orientation before the resize, with its storage.
    pub orient_before: Option<(Orientation, Storage)>,
    /// Resize to this size (stored orientation).
    pub resize: Option<(u32, u32)>,
    /// Orientation after the resize.
    pub orient_after: Option<(Orientation, Storage)>,
    /// Add an (opaque) alpha channel before padding with a transparent background.
    pub add_alpha: bool,
    /// Pad: canvas size and offset.
    pub pad: Option<((u32, u32), (u32, u32))>,
    /// Flatten onto this background (drops alpha).
    pub flatten: Option<[u8; 3]>,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fmt_name = self.input_format.map_or("rows", Format::name);
        writeln!(
            f,
            "input   {fmt_name} {}x{} {} (EXIF orientation {}), upright {}x{}",
            self.input.width,
            self.input.height,
            self.input.format,
            self.exif_orientation.map_or("none".to_string(), |o| o.to_string()),
            self.oriented.0,
            self.oriented.1
        )?;
        writeln!(
            f,
            "read    {}x{} at {},{} (stored pixels){}{}",
            self.source_rect.width,
            self.source_rect.height,
            self.source_rect.x,
            self.source_rect.y,
            if self.shrink_on_load > 1 {
                format!(", shrink-on-load 1/{}", self.shrink_on_load)
            } else {
                String::new()
            },
            self.decode_region.map_or(String::new(), |r| format!(
                ", crop-on-load {}x{} at {},{}",
                r.width, r.height, r.x, r.y
            ))
        )?;
        writeln!(f, "stages")?;
        for s in &self.stages {
            write!(
                f,
                "  {:<24} -> {:>6}x{:<6} {:<7} heap {:>10}",
                s.name,
                s.output.width,
                s.output.height,
                s.output.format.to_string(),
                human(s.heap_bytes as u64)
            )?;
            if s.scratch_bytes > 0 {
                write!(f, "  scratch {}", human(s.scratch_bytes))?;
            }
            if !s.detail.is_empty() {
                write!(f, "  ({})", s.detail)?;
            }
            writeln!(f)?;
        }
        writeln!(
            f,
            "output  {} {}x{} {}",
            self.output_format.name(),
            self.output.width,
            self.output.height,
            self.output.format
        )?;
        write!(
            f,
            "memory  peak heap {} of {} budget, scratch {}",
            human(self.heap_bytes as u64),
            human(self.budget.max_memory as u64),
            if self.scratch_bytes > 0 {
                human(self.scratch_bytes)
            } else {
                "none".to_string()
            }
        )
    }
}

/// A JSON string literal.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_info(i: &ImageInfo) -> String {
    format!(
        "{{\"width\":{},\"height\":{},\"format\":{}}}",
        i.width,
        i.height,
        json_str(&i.format.to_string())
    )
}

fn json_rect(r: &Rect) -> String {
    format!(
        "{{\"x\":{},\"y\":{},\"width\":{},\"height\":{}}}",
        r.x, r.y, r.width, r.height
    )
}

impl Plan {
    /// The plan as a JSON object (one line).
    pub fn to_json(&self) -> String {
        let stages: Vec<String> = self
            .stages
            .iter()
            .map(|s| {
                format!(
                    "{{\"name\":{},\"output\":{},\"heap_bytes\":{},\"scratch_bytes\":{},\"detail\":{}}}",
                    json_str(&s.name),
                    json_info(&s.output),
                    s.heap_bytes,
                    s.scratch_bytes,
                    json_str(&s.detail)
                )
            })
            .collect();
        format!(
            concat!(
                "{{\"input_format\":{},\"input\":{},\"exif_orientation\":{},\"orientation\":{},",
                "\"oriented\":{{\"width\":{},\"height\":{}}},\"shrink_on_load\":{},\"source_rect\":{},",
                "\"decode_region\":{},\"stages\":[{}],\"output\":{},\"output_format\":{},",
                "\"heap_bytes\":{},\"scratch_bytes\":{},\"max_memory\":{},\"limit_input_pixels\":{},\"no_scratch\":{}}}"
            ),
            self.input_format.map_or("null".to_string(), |f| json_str(f.name())),
            json_info(&self.input),
            self.exif_orientation.map_or("null".to_string(), |o| o.to_string()),
            json_str(self.orientation.name()),
            self.oriented.0,
            self.oriented.1,
            self.shrink_on_load,
            json_rect(&self.source_rect),
            self.decode_region.as_ref().map_or("null".to_string(), json_rect),
            stages.join(","),
            json_info(&self.output),
            json_str(self.output_format.name()),
            self.heap_bytes,
            self.scratch_bytes,
            self.budget.max_memory,
            self.budget.limit_input_pixels,
            self.budget.no_scratch
        )
    }
}
