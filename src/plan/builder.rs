//! The fluent API: [`Pipeline`] collects a sharp-style chain, [`Pipeline::plan`] turns it into a
//! [`Plan`], and [`Pipeline::write_to`] builds and runs it.

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use super::budget::{
    encoder_bytes, human, jpeg_decoder_bytes, png_sequential_decoder_bytes, ADAM7_TRANSIENT, resize_build_bytes, Budget,
    HEAP_FRAME_LIMIT, JOB_OVERHEAD,
};
use super::{Plan, Recipe, StagePlan};
use crate::codec::jpeg::decode::{read_metadata, scaled_size, DecodeOptions, JpegDecoder, Region};
use crate::codec::jpeg::encode::JpegEncoder;
use crate::codec::png::decode::{read_header, PngDecoder};
use crate::codec::png::encode::{PngCompression, PngEncoder};
use crate::codec::Format;
use crate::error::{Error, Result};
use crate::io::{AtomicOutput, Input};
use crate::ops::convert::Convert;
use crate::ops::crop::{Crop, Gravity, Rect};
use crate::ops::fit::{geometry, Fit, FitOptions};
use crate::ops::orient::{Flop, Orientation, Reorient};
use crate::ops::pad::{Pad, Rgba};
use crate::ops::resize::{Kernel, Resize, ResizeOptions};
use crate::pipeline::{chain_buffer_bytes, RowSource};
use crate::pixel::ImageInfo;
use crate::scratch::{ScratchImage, Storage};

/// Where the pixels come from.
enum Origin {
    /// Encoded bytes (a mapped file, a spooled stream or owned bytes).
    Encoded(Input),
    /// An already-built row source (a generator, a custom decoder).
    Rows(Box<dyn RowSource>),
}

/// A sharp-style image job: open, chain operations, then [`plan`](Pipeline::plan) or
/// [`write_to`](Pipeline::write_to).
///
/// Operations are applied in a fixed order whatever the call order: orientation (EXIF, then
/// rotations and mirrors in call order), crop (upright coordinates), resize with fit and
/// position, contain padding, flatten, encode.
pub struct Pipeline {
    origin: Origin,
    auto_orient: bool,
    user_orientation: Orientation,
    crop: Option<Rect>,
    width: Option<u32>,
    height: Option<u32>,
    fit: FitOptions,
    resize_options: ResizeOptions,
    background: Rgba,
    flatten: Option<[u8; 3]>,
    format: Option<Format>,
    png: PngEncoder,
    jpeg: JpegEncoder,
    budget: Budget,
    shrink_on_load: bool,
    /// The first invalid call's message (reported by `plan`, so that the chain stays fluent).
    deferred: Option<String>,
}

/// What a run did and measured.
#[derive(Debug, Clone)]
pub struct RunStats {
    /// Wall time from planning to the last byte written.
    pub elapsed: Duration,
    /// Output rows produced.
    pub rows: u32,
    /// Output size and pixel format.
    pub output: ImageInfo,
    /// Heap held by the built pipeline's buffers (decoder and stages), as they report it.
    pub pipeline_buffer_bytes: usize,
    /// The plan that ran.
    pub plan: Plan,
}

impl Pipeline {
    fn with_origin(origin: Origin) -> Pipeline {
        Pipeline {
            origin,
            auto_orient: false,
            user_orientation: Orientation::Identity,
            crop: None,
            width: None,
            height: None,
            fit: FitOptions::default(),
            resize_options: ResizeOptions::default(),
            background: [0, 0, 0, 255],
            flatten: None,
            format: None,
            png: PngEncoder::default(),
            jpeg: JpegEncoder::default(),
            budget: Budget::default(),
            shrink_on_load: true,
            deferred: None,
        }
    }

    /// Opens (maps) the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Pipeline> {
        Ok(Self::from_input(Input::open(path)?))
    }

    /// Reads an encoded image from `reader` (spooled to a temporary file, not the heap).
    pub fn from_reader(reader: impl Read) -> Result<Pipeline> {
        Ok(Self::from_input(Input::spool(reader)?))
    }

    /// An encoded image already in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Pipeline {
        Self::from_input(Input::from_bytes(bytes))
    }

    /// An encoded image as an [`Input`].
    pub fn from_input(input: Input) -> Pipeline {
        Self::with_origin(Origin::Encoded(input))
    }

    /// Rows from any [`RowSource`] (no EXIF orientation, no shrink-on-load; PNG output by
    /// default).
    pub fn from_source(source: Box<dyn RowSource>) -> Pipeline {
        Self::with_origin(Origin::Rows(source))
    }

    fn defer(mut self, error: Error) -> Self {
        let message = match error {
            Error::Parameter(m) => m,
            other => other.to_string(),
        };
        self.deferred.get_or_insert(message);
        self
    }

    /// Crops to `width` x `height` at `(x, y)`, in upright coordinates, before the resize
    /// (sharp's `extract` before `resize`).
    pub fn crop(mut self, x: u32, y: u32, width: u32, height: u32) -> Self {
        self.crop = Some(Rect::new(x, y, width, height));
        self
    }

    /// Resizes to `width` x `height`, fitted by [`fit`](Self::fit) (cover by default).
    pub fn resize(mut self, width: u32, height: u32) -> Self {
        self.width = Some(width);
        self.height = Some(height);
        self
    }

    /// Resizes to `width` and/or `height`; a missing one follows the aspect ratio.
    pub fn resize_to(mut self, width: Option<u32>, height: Option<u32>) -> Self {
        self.width = width;
        self.height = height;
        self
    }

    /// How the resize fits both dimensions (default cover).
    pub fn fit(mut self, fit: Fit) -> Self {
        self.fit.fit = fit;
        self
    }

    /// Which part cover keeps, or where contain places the image (default centre).
    pub fn position(mut self, position: Gravity) -> Self {
        self.fit.position = position;
        self
    }

    /// Never enlarge (sharp's `withoutEnlargement`).
    pub fn without_enlargement(mut self, yes: bool) -> Self {
        self.fit.without_enlargement = yes;
        self
    }

    /// Never reduce (sharp's `withoutReduction`).
    pub fn without_reduction(mut self, yes: bool) -> Self {
        self.fit.without_reduction = yes;
        self
    }

    /// The resampling kernel (default lanczos3).
    pub fn kernel(mut self, kernel: Kernel) -> Self {
        self.resize_options.kernel = kernel;
        self
    }

    /// All resize options (kernel, linear light, alpha premultiplication).
    pub fn resize_options(mut self, options: ResizeOptions) -> Self {
        self.resize_options = options;
        self
    }

    /// The colour contain pads with (default opaque black, as sharp).
    pub fn background(mut self, colour: Rgba) -> Self {
        self.background = colour;
        self
    }

    /// Applies the EXIF orientation, so the output is upright (sharp's `rotate()` without an
    /// angle). Further rotations and mirrors act on the upright image.
    pub fn auto_orient(mut self) -> Self {
        self.auto_orient = true;
        self
    }

    /// Turns clockwise by a multiple of 90 degrees (negative: anticlockwise).
    pub fn rotate(mut self, degrees: i32) -> Self {
        match Orientation::rotation(degrees) {
            Ok(o) => {
                self.user_orientation = self.user_orientation.then(o);
                self
            }
            Err(e) => self.defer(e),
        }
    }

    /// Mirrors top to bottom.
    pub fn flip(mut self) -> Self {
        self.user_orientation = self.user_orientation.then(Orientation::FlipVertical);
        self
    }

    /// Mirrors left to right.
    pub fn flop(mut self) -> Self {
        self.user_orientation = self.user_orientation.then(Orientation::FlipHorizontal);
        self
    }

    /// Any orientation, composed after those already chained.
    pub fn orient(mut self, orientation: Orientation) -> Self {
        self.user_orientation = self.user_orientation.then(orientation);
        self
    }

    /// Removes alpha by flattening onto `background` (also the JPEG encoder's background).
    pub fn flatten(mut self, background: [u8; 3]) -> Self {
        self.flatten = Some(background);
        self.jpeg.background = background;
        self
    }

    /// The output format (default: from the output path's extension, else the input's).
    pub fn format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// JPEG quality 1..=100.
    pub fn quality(mut self, quality: u8) -> Self {
        self.jpeg.quality = quality;
        self
    }

    /// PNG compression effort.
    pub fn png_compression(mut self, compression: PngCompression) -> Self {
        self.png.compression = compression;
        self
    }

    /// Every JPEG encoder option.
    pub fn jpeg_encoder(mut self, encoder: JpegEncoder) -> Self {
        self.jpeg = encoder;
        self
    }

    /// Every PNG encoder option.
    pub fn png_encoder(mut self, encoder: PngEncoder) -> Self {
        self.png = encoder;
        self
    }

    /// The heap budget in bytes (default 256 MiB).
    pub fn max_memory(mut self, bytes: usize) -> Self {
        self.budget.max_memory = bytes;
        self
    }

    /// The maximum input pixel count (default 268,402,689, as sharp).
    pub fn limit_input_pixels(mut self, pixels: u64) -> Self {
        self.budget.limit_input_pixels = pixels;
        self
    }

    /// Refuses scratch files: a whole-frame transform must fit in the heap budget.
    pub fn no_scratch(mut self) -> Self {
        self.budget.no_scratch = true;
        self
    }

    /// The whole budget at once.
    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    /// Whether a JPEG may be decoded at 1/2, 1/4 or 1/8 scale when the resize allows it
    /// (default on; off for the highest quality).
    pub fn shrink_on_load(mut self, yes: bool) -> Self {
        self.shrink_on_load = yes;
        self
    }

    /// Plans the job: reads the input's header only, chooses the stages, predicts their memory
    /// and checks it against the budget. No pixel is decoded.
    pub fn plan(&self) -> Result<Plan> {
        self.plan_for(self.format)
    }

    fn plan_for(&self, format: Option<Format>) -> Result<Plan> {
        if let Some(message) = &self.deferred {
            return Err(Error::parameter(message));
        }
        // The input's header.
        let (input_format, input, exif) = match &self.origin {
            Origin::Encoded(input) => {
                let bytes = input.bytes();
                match Format::sniff(bytes) {
                    Some(Format::Png) => {
                        let h = read_header(bytes)?;
                        (
                            Some(Format::Png),
                            ImageInfo {
                                width: h.width,
                                height: h.height,
                                format: h.output,
                            },
                            h.orientation,
                        )
                    }
                    Some(Format::Jpeg) => {
                        let m = read_metadata(bytes)?;
                        let format = if m.components == 1 {
                            crate::pixel::PixelFormat::GRAY8
                        } else {
                            crate::pixel::PixelFormat::RGB8
                        };
                        (
                            Some(Format::Jpeg),
                            ImageInfo {
                                width: m.width,
                                height: m.height,
                                format,
                            },
                            m.orientation,
                        )
                    }
                    None => return Err(Error::unsupported("input", "unknown format (not PNG or JPEG)")),
                }
            }
            Origin::Rows(source) => (None, source.info(), None),
        };
        let budget = self.budget;
        if input.pixels() > budget.limit_input_pixels {
            return Err(Error::limits(format!(
                "the input is {}x{} = {} pixels, over the input pixel limit of {} (raise limit_input_pixels / --limit-input-pixels)",
                input.width,
                input.height,
                input.pixels(),
                budget.limit_input_pixels
            )));
        }
        let (w, h) = (input.width, input.height);

        // Orientation, crop and fit, in upright coordinates.
        let exif_orientation = if self.auto_orient {
            exif.and_then(Orientation::from_exif)
        } else {
            None
        };
        let orientation = exif_orientation.unwrap_or_default().then(self.user_orientation);
        let oriented = orientation.output_size(w, h);
        let crop = self.crop.unwrap_or(Rect::new(0, 0, oriented.0, oriented.1));
        crop.check_inside(oriented.0, oriented.1)?;
        let g = geometry((crop.width, crop.height), self.width, self.height, &self.fit)?;
        let upright = (
            crop.x + g.source.x,
            crop.y + g.source.y,
            g.source.width,
            g.source.height,
        );
        let (sx, sy, sw, sh) = orientation.source_rect(upright, w, h);
        let source_rect = Rect::new(sx, sy, sw, sh);
        let swap = orientation.swaps_dimensions();
        let scaled = if swap { (g.scaled.1, g.scaled.0) } else { g.scaled };

        // Shrink-on-load and crop-on-load.
        let mut shrink = 1u8;
        let is_jpeg = input_format == Some(Format::Jpeg);
        if is_jpeg && self.shrink_on_load {
            let factor = (sw as f64 / scaled.0 as f64).min(sh as f64 / scaled.1 as f64);
            shrink = [8u8, 4, 2].into_iter().find(|&d| factor >= 2.0 * d as f64).unwrap_or(1);
        }
        let d = shrink as u32;
        let (dw, dh) = if is_jpeg { scaled_size(w, h, shrink) } else { (w, h) };
        let scale_span = |start: u32, len: u32, full: u32| -> (u32, u32) {
            let a = ((start as f64 / d as f64).round() as u32).min(full - 1);
            let b = (((start + len) as f64 / d as f64).round() as u32).clamp(a + 1, full);
            (a, b - a)
        };
        let (rx, rw) = scale_span(sx, sw, dw);
        let (ry, rh) = scale_span(sy, sh, dh);
        let region = Rect::new(rx, ry, rw, rh);
        let whole = region == Rect::new(0, 0, dw, dh);
        let decode_region = (is_jpeg && !whole).then_some(region);
        let crop_stage = (!is_jpeg && !whole).then_some(region);

        let mut stages = Vec::new();
        let after_decode = ImageInfo {
            width: if is_jpeg { rw } else { dw },
            height: if is_jpeg { rh } else { dh },
            format: input.format,
        };
        let mut detail = Vec::new();
        if shrink > 1 {
            detail.push(format!("shrink-on-load 1/{shrink}"));
        }
        if let Some(r) = decode_region {
            detail.push(format!("crop-on-load {}x{} at {},{}", r.width, r.height, r.x, r.y));
        }
        stages.push(StagePlan {
            name: match input_format {
                Some(Format::Jpeg) => "jpeg decode".into(),
                Some(Format::Png) => "png decode".into(),
                None => "row source".into(),
            },
            output: after_decode,
            heap_bytes: 0, // filled in below, once the rest is known to fit
            scratch_bytes: 0,
            detail: detail.join(", "),
        });
        let mut current = after_decode;
        if let Some(r) = crop_stage {
            let out = ImageInfo {
                width: r.width,
                height: r.height,
                format: current.format,
            };
            stages.push(StagePlan {
                name: "crop".into(),
                output: out,
                heap_bytes: current.row_bytes(),
                scratch_bytes: 0,
                detail: format!("{}x{} at {},{}", r.width, r.height, r.x, r.y),
            });
            current = out;
        }

        // Orientation before or after the resize, whichever frame is smaller.
        let needs_resize = (current.width, current.height) != scaled;
        let before = !orientation.streams() && needs_resize && current.pixels() < scaled.0 as u64 * scaled.1 as u64;
        let storage_for = |frame: ImageInfo| -> Storage {
            if orientation.streams()
                || (ScratchImage::bytes_for(frame, Storage::Heap) as usize) <= HEAP_FRAME_LIMIT.min(budget.max_memory / 4)
                || budget.no_scratch
            {
                Storage::Heap
            } else {
                Storage::File
            }
        };
        let orient_stage = |current: &mut ImageInfo, stages: &mut Vec<StagePlan>| -> (Orientation, Storage) {
            let storage = storage_for(*current);
            let (ow, oh) = orientation.output_size(current.width, current.height);
            let out = ImageInfo {
                width: ow,
                height: oh,
                format: current.format,
            };
            let (heap, scratch, detail) = if orientation.streams() {
                (0, 0, "streams".to_string())
            } else {
                (
                    Reorient::<Box<dyn RowSource>>::predicted_buffer_bytes(*current, storage),
                    Reorient::<Box<dyn RowSource>>::predicted_scratch_bytes(*current, storage),
                    format!("whole {}x{} frame in {}", current.width, current.height, storage.name()),
                )
            };
            stages.push(StagePlan {
                name: format!("orient {}", orientation.name()),
                output: out,
                heap_bytes: heap,
                scratch_bytes: scratch,
                detail,
            });
            *current = out;
            (orientation, storage)
        };
        let has_orientation = orientation != Orientation::Identity;
        let orient_before = (has_orientation && before).then(|| orient_stage(&mut current, &mut stages));
        let mut resize = None;
        if needs_resize {
            let (tw, th) = if orient_before.is_some() { g.scaled } else { scaled };
            let bytes = Resize::<Box<dyn RowSource>>::predicted_buffer_bytes(current, tw, th, &self.resize_options);
            if bytes == usize::MAX {
                return Err(Error::parameter(format!(
                    "resize {}x{} to {tw}x{th} is impossible or needs absurd buffers",
                    current.width, current.height
                )));
            }
            let out = ImageInfo {
                width: tw,
                height: th,
                format: current.format,
            };
            stages.push(StagePlan {
                name: "resize".into(),
                output: out,
                heap_bytes: bytes + resize_build_bytes(tw, th),
                scratch_bytes: 0,
                detail: format!("{} {}", self.resize_options.kernel.name(), self.fit.fit.name()),
            });
            current = out;
            resize = Some((tw, th));
        }
        let orient_after =
            (has_orientation && orient_before.is_none()).then(|| orient_stage(&mut current, &mut stages));
        let output_format = format.or(input_format).unwrap_or(Format::Png);
        let mut pad = None;
        let mut add_alpha = false;
        if g.pads() {
            // A transparent background needs an alpha channel, as sharp adds one (PNG output
            // only; a JPEG would flatten it again).
            if self.background[3] < 255
                && !current.format.color.has_alpha()
                && output_format == Format::Png
                && self.flatten.is_none()
            {
                let out = ImageInfo {
                    format: crate::pixel::PixelFormat::new(current.format.color.with_alpha(), current.format.depth),
                    ..current
                };
                stages.push(StagePlan {
                    name: "add alpha".into(),
                    output: out,
                    heap_bytes: current.row_bytes(),
                    scratch_bytes: 0,
                    detail: "for the transparent background".into(),
                });
                current = out;
                add_alpha = true;
            }
            let out = ImageInfo {
                width: g.canvas.0,
                height: g.canvas.1,
                format: current.format,
            };
            stages.push(StagePlan {
                name: "pad".into(),
                output: out,
                heap_bytes: current.format.bytes_per_pixel(),
                scratch_bytes: 0,
                detail: format!("at {},{} on {}x{}", g.offset.0, g.offset.1, g.canvas.0, g.canvas.1),
            });
            current = out;
            pad = Some((g.canvas, g.offset));
        }
        let mut flatten = None;
        if let Some(bg) = self.flatten {
            if current.format.color.has_alpha() {
                let format = crate::pixel::PixelFormat::new(current.format.color.without_alpha(), current.format.depth);
                let out = ImageInfo { format, ..current };
                stages.push(StagePlan {
                    name: "flatten".into(),
                    output: out,
                    heap_bytes: current.row_bytes(),
                    scratch_bytes: 0,
                    detail: format!("onto #{:02x}{:02x}{:02x}", bg[0], bg[1], bg[2]),
                });
                current = out;
                flatten = Some(bg);
            }
        }
        if output_format == Format::Jpeg && (current.width > 65535 || current.height > 65535) {
            return Err(Error::parameter(format!(
                "JPEG cannot store a {}x{} image (at most 65535 on each side)",
                current.width, current.height
            )));
        }
        stages.push(StagePlan {
            name: format!("{} encode", output_format.name()),
            output: current,
            heap_bytes: encoder_bytes(output_format, current, &self.png, &self.jpeg),
            scratch_bytes: 0,
            detail: match output_format {
                Format::Jpeg => format!("quality {}", self.jpeg.quality),
                Format::Png => format!("{:?}", self.png.compression).to_lowercase(),
            },
        });

        let heap_bytes = stages.iter().map(|s| s.heap_bytes).sum::<usize>() + JOB_OVERHEAD;
        let scratch_bytes = stages.iter().map(|s| s.scratch_bytes).sum();
        let mut plan = Plan {
            input_format,
            input,
            exif_orientation: exif,
            orientation,
            oriented,
            shrink_on_load: shrink,
            source_rect,
            decode_region,
            stages,
            output: current,
            output_format,
            heap_bytes,
            scratch_bytes,
            budget,
            recipe: Recipe {
                crop: crop_stage,
                orient_before,
                resize,
                orient_after,
                add_alpha,
                pad,
                flatten,
            },
        };
        // Refuse early when the rest is over budget already: the decoder's account needs a walk
        // of the file's markers, the slow part of planning a huge JPEG.
        if plan.heap_bytes > budget.max_memory {
            return Err(Error::limits(over_budget(&plan)));
        }
        // The JPEG decoder's coefficient row is a lower bound of its buffers, known from the
        // header: refuse with it before walking the markers when it already does not fit.
        if let (Origin::Encoded(input), Some(Format::Jpeg)) = (&self.origin, input_format) {
            let lower = jpeg_coefficient_row_bytes(&read_metadata(input.bytes())?);
            if plan.heap_bytes + lower > budget.max_memory {
                plan.stages[0].heap_bytes = lower;
                plan.heap_bytes += lower;
                plan.stages[0].detail = "at least its coefficient row".into();
                return Err(Error::limits(over_budget(&plan)));
            }
        }
        // The decoder: built to read its buffer account (headers only, no pixel decoded).
        let decoder_bytes = match &self.origin {
            Origin::Encoded(input) => match input_format {
                Some(Format::Jpeg) => {
                    let decoder = JpegDecoder::new(input.clone(), jpeg_options(shrink, decode_region))?;
                    jpeg_decoder_bytes(decoder.buffer_bytes(), decoder.metadata().components as usize)
                }
                _ => {
                    let h = read_header(input.bytes())?;
                    if h.interlaced {
                        PngDecoder::new(input.clone())?.buffer_bytes() + ADAM7_TRANSIENT
                    } else {
                        let channels = match h.color_type {
                            "gray" | "palette" => 1,
                            "gray-alpha" => 2,
                            "rgb" => 3,
                            _ => 4,
                        };
                        png_sequential_decoder_bytes(
                            w,
                            (ry + rh).min(h.height),
                            h.height,
                            channels * h.bit_depth as u32,
                        )
                    }
                }
            },
            Origin::Rows(source) => chain_buffer_bytes(&**source),
        };
        plan.stages[0].heap_bytes = decoder_bytes;
        plan.heap_bytes += decoder_bytes;
        if plan.heap_bytes > budget.max_memory {
            return Err(Error::limits(over_budget(&plan)));
        }
        Ok(plan)
    }

    /// Plans, builds and runs the job, writing the encoded image to `writer`.
    pub fn write_to(self, writer: &mut dyn Write) -> Result<RunStats> {
        let started = Instant::now();
        let plan = self.plan()?;
        self.run(plan, writer, started)
    }

    /// Plans, builds and runs the job, writing the file at `path` atomically (nothing is left
    /// behind on failure). Without [`format`](Self::format), the extension names the format.
    pub fn write_to_path(mut self, path: impl AsRef<Path>) -> Result<RunStats> {
        let started = Instant::now();
        if self.format.is_none() {
            self.format = Format::from_extension(path.as_ref());
        }
        let plan = self.plan()?;
        let mut out = AtomicOutput::create(path)?;
        let stats = self.run(plan, &mut out, started)?;
        out.commit()?;
        Ok(stats)
    }

    /// Plans and builds the job without encoding: the plan and the last stage, whose rows are
    /// the output pixels (for callers with their own sink, and for tests).
    pub fn into_rows(self) -> Result<(Plan, Box<dyn RowSource>)> {
        let plan = self.plan()?;
        let source = build(self.origin, &plan, self.background, self.resize_options)?;
        Ok((plan, source))
    }

    fn run(self, plan: Plan, writer: &mut dyn Write, started: Instant) -> Result<RunStats> {
        let (png, jpeg, background, resize_options) = (self.png, self.jpeg, self.background, self.resize_options);
        let mut source = build(self.origin, &plan, background, resize_options)?;
        let pipeline_buffer_bytes = chain_buffer_bytes(&*source);
        match plan.output_format {
            Format::Png => png.encode(&mut *source, writer)?,
            Format::Jpeg => jpeg.encode(&mut *source, writer)?,
        }
        writer.flush()?;
        Ok(RunStats {
            elapsed: started.elapsed(),
            rows: plan.output.height,
            output: plan.output,
            pipeline_buffer_bytes,
            plan,
        })
    }
}

/// Bytes of one MCU row of DCT coefficients (16-bit, 64 per block, every component): the JPEG
/// decoder allocates at least this at any scale.
fn jpeg_coefficient_row_bytes(m: &crate::codec::jpeg::decode::JpegMetadata) -> usize {
    let hmax = m.sampling.iter().map(|s| s.0 as usize).max().unwrap_or(1).max(1);
    let mcus_x = (m.width as usize).div_ceil(8 * hmax);
    m.sampling
        .iter()
        .map(|&(h, v)| h as usize * v as usize * mcus_x * 64 * 2)
        .sum()
}

fn jpeg_options(shrink: u8, region: Option<Rect>) -> DecodeOptions {
    DecodeOptions {
        scale_denominator: shrink,
        region: region.map(|r| Region {
            x: r.x,
            y: r.y,
            width: r.width,
            height: r.height,
        }),
        ..Default::default()
    }
}

/// The error message of a plan over budget: what it needs, where, and what would help.
fn over_budget(plan: &Plan) -> String {
    let biggest = plan
        .stages
        .iter()
        .max_by_key(|s| s.heap_bytes)
        .expect("a plan has stages");
    let mut message = format!(
        "the job needs {} of heap but the budget is {}; the largest part is {} with {} ({})",
        human(plan.heap_bytes as u64),
        human(plan.budget.max_memory as u64),
        biggest.name,
        human(biggest.heap_bytes as u64),
        if biggest.detail.is_empty() {
            "its row buffers"
        } else {
            &biggest.detail
        }
    );
    let mut parts: Vec<&StagePlan> = plan.stages.iter().filter(|s| s.heap_bytes > 0).collect();
    parts.sort_by_key(|s| std::cmp::Reverse(s.heap_bytes));
    let list: Vec<String> = parts
        .iter()
        .map(|s| format!("{} {}", s.name, human(s.heap_bytes as u64)))
        .collect();
    message.push_str(&format!("; all parts: {}", list.join(", ")));
    if plan.budget.no_scratch && biggest.name.starts_with("orient") {
        message.push_str(". Scratch files are disabled, so the whole frame must be held on the heap");
    }
    message
}

/// Builds the stages of `plan` over the origin.
fn build(origin: Origin, plan: &Plan, background: Rgba, resize_options: ResizeOptions) -> Result<Box<dyn RowSource>> {
    let r = &plan.recipe;
    let mut source: Box<dyn RowSource> = match origin {
        Origin::Encoded(input) => match plan.input_format {
            Some(Format::Jpeg) => Box::new(JpegDecoder::new(
                input,
                jpeg_options(plan.shrink_on_load, plan.decode_region),
            )?),
            _ => Box::new(PngDecoder::new(input)?),
        },
        Origin::Rows(source) => source,
    };
    if let Some(rect) = r.crop {
        source = Box::new(Crop::new(source, rect)?);
    }
    let orient = |source: Box<dyn RowSource>, (o, storage): (Orientation, Storage)| -> Result<Box<dyn RowSource>> {
        Ok(if o.streams() {
            Box::new(Flop::new(source))
        } else {
            Box::new(Reorient::new(source, o, storage)?)
        })
    };
    if let Some(o) = r.orient_before {
        source = orient(source, o)?;
    }
    if let Some((w, h)) = r.resize {
        source = Box::new(Resize::new(source, w, h, resize_options)?);
    }
    if let Some(o) = r.orient_after {
        source = orient(source, o)?;
    }
    if r.add_alpha {
        let info = source.info();
        let format = crate::pixel::PixelFormat::new(info.format.color.with_alpha(), info.format.depth);
        source = Box::new(Convert::new(source, format, [0, 0, 0]));
    }
    if let Some(((cw, ch), (x, y))) = r.pad {
        source = Box::new(Pad::new(source, cw, ch, x, y, background)?);
    }
    if let Some(bg) = r.flatten {
        let info = source.info();
        let format = crate::pixel::PixelFormat::new(info.format.color.without_alpha(), info.format.depth);
        source = Box::new(Convert::new(source, format, bg));
    }
    debug_assert_eq!(source.info(), plan.output);
    Ok(source)
}
