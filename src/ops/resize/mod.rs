//! The streaming resize stage: every kernel, any factor, in a heap that depends on the widths
//! and the kernel but not on the image height nor the scale factor.
//!
//! Data flow for each kernel-input row (see the files for the details):
//!
//! 1. `pixels.rs`: input samples to `f32` working values (sRGB to linear light when asked,
//!    colour premultiplied by alpha by default, see `alpha.rs` and `gamma.rs`);
//! 2. `box_shrink.rs`: for a reduction by `s >= 4`, boxes of `floor(s / 2)` rows are summed and
//!    then boxes of columns, leaving at least 2x for the kernel;
//! 3. `horizontal.rs`: the row is resampled to the output width with per-pixel windows and
//!    weights computed once (`coefficients.rs`, kernels in `kernel.rs`);
//! 4. `vertical.rs`: the row is scattered into the few open output-row accumulators
//!    (downscale), or kept in a small ring from which output rows are gathered (upscale);
//! 5. finished output rows are unpremultiplied, re-encoded and rounded into the caller's buffer.
//!
//! Input rows that no output row uses (nearest neighbour, zero-trimmed windows) are read from
//! upstream but not converted. [`RowSource::input_rows`] reports exactly the rows pulled.
//!
//! Arithmetic is `f32` throughout, in portable loops the compiler vectorises: 16-bit samples keep
//! their precision (within 1/65535 of a double-precision reference in the tests); box sums stay
//! exact integers while below 2^24 (boxes up to 256x256 of 8-bit samples), beyond which they
//! round at f32's relative 6e-8, far below one level. Measured choices: the
//! conversion back to integers uses an add-and-bit-cast rounding instead of a saturating `as`
//! cast, and the vertical pass works in cache-sized blocks (together 3.0 s -> 0.7 s of CPU for a
//! 64 -> 16384 upscale); an AVX2 build of the vertical loops, dispatched at run time, gained only
//! 8% there (the pass is bound by memory bandwidth), so there is no `unsafe` SIMD code. A
//! fixed-point variant was not tried: the f32 path already runs well ahead of libvips
//! (`bench/compare_resize.sh`), whose time goes to decoding.
//!
//! Every buffer is allocated when the stage is built; [`Resize::predicted_buffer_bytes`] gives
//! their size before building it.

mod alpha;
mod box_shrink;
mod coefficients;
mod gamma;
mod horizontal;
mod kernel;
mod pixels;
mod vertical;

use std::ops::Range;

pub use kernel::Kernel;

use crate::error::{Error, Result};
use crate::pipeline::{BoxedSource, RowCounter, RowSource, StageSpec};
use crate::pixel::{BitDepth, ImageInfo};
use coefficients::{Axis, Coefficients};
use gamma::GammaTables;
use pixels::Conversion;
use vertical::Vertical;

/// A resize whose buffers would exceed this many bytes is refused as absurd.
pub const MAX_BUFFER_BYTES: usize = 512 << 20;

/// Options of a resize.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResizeOptions {
    /// The resampling kernel (default lanczos3).
    pub kernel: Kernel,
    /// Resize in linear light (sRGB decoded before, encoded after); default off.
    pub linear_light: bool,
    /// Resize colour premultiplied by alpha (default on; only matters for formats with alpha).
    pub premultiply_alpha: bool,
}

impl Default for ResizeOptions {
    fn default() -> Self {
        ResizeOptions { kernel: Kernel::default(), linear_light: false, premultiply_alpha: true }
    }
}

/// Everything about a resize that is decided before any buffer is allocated.
#[derive(Debug, Clone)]
struct Plan {
    input: ImageInfo,
    output: ImageInfo,
    /// Box factors across and down.
    kx: u32,
    ky: u32,
    horizontal: Axis,
    vertical: Axis,
    premultiply: bool,
    gamma_bits: Option<u32>,
}

impl Plan {
    fn new(input: ImageInfo, width: u32, height: u32, options: &ResizeOptions) -> Result<Plan> {
        if width == 0 || height == 0 {
            return Err(Error::parameter(format!("resize to {width}x{height}: sizes must be at least 1")));
        }
        if input.width == 0 || input.height == 0 {
            return Err(Error::parameter("resize of an empty image"));
        }
        let kernel = options.kernel;
        let axis = |n_in: u32, n_out: u32| {
            let k = box_shrink::box_factor(n_in, n_out, kernel);
            let boxes = n_in.div_ceil(k);
            (k, Axis { n_in: boxes, n_out, scale: n_in as f64 / (k as f64 * n_out as f64), kernel })
        };
        let (kx, horizontal) = axis(input.width, width);
        let (ky, vertical) = axis(input.height, height);
        let output = ImageInfo { width, height, format: input.format };

        // A cheap upper bound first, so that absurd sizes are refused before any loop over them.
        let channels = input.format.channels() as f64;
        let taps = |a: &Axis| (2.0 * kernel.radius() * a.scale.max(1.0)).ceil() + 2.0;
        let row_out = width as f64 * channels * 4.0;
        let estimate = width as f64 * (8.0 + 4.0 * taps(&horizontal))
            + height as f64 * (8.0 + 4.0 * taps(&vertical))
            + row_out * (taps(&vertical).min(2.0 * kernel.radius() + 4.0) + 2.0)
            + input.width as f64 * channels * 4.0 * 3.0;
        if estimate > MAX_BUFFER_BYTES as f64 {
            return Err(Error::parameter(format!(
                "resize {}x{} to {width}x{height} would need about {:.0} MiB of buffers",
                input.width,
                input.height,
                estimate / (1u64 << 20) as f64
            )));
        }
        let premultiply = options.premultiply_alpha && input.format.color.has_alpha();
        let gamma_bits = options.linear_light.then_some(input.format.depth.bits());
        let plan = Plan { input, output, kx, ky, horizontal, vertical, premultiply, gamma_bits };
        if plan.bytes() > MAX_BUFFER_BYTES {
            return Err(Error::parameter(format!(
                "resize {}x{} to {width}x{height} would need {} MiB of buffers",
                input.width,
                input.height,
                plan.bytes() >> 20
            )));
        }
        Ok(plan)
    }

    fn is_plain(&self) -> bool {
        !self.premultiply && self.gamma_bits.is_none()
    }

    /// Sizes of the front buffers: (working row, row accumulator, column boxes), in `f32`s.
    fn front_lens(&self) -> (usize, usize, usize) {
        let channels = self.input.format.channels();
        let row = self.input.width as usize * channels;
        let work = if self.ky == 1 || !self.is_plain() { row } else { 0 };
        let acc = if self.ky > 1 { row } else { 0 };
        let boxes = if self.kx > 1 { self.horizontal.n_in as usize * channels } else { 0 };
        (work, acc, boxes)
    }

    fn bytes(&self) -> usize {
        let (work, acc, boxes) = self.front_lens();
        let out_len = self.output.width as usize * self.output.format.channels();
        self.input.row_bytes()
            + (work + acc + boxes) * 4
            + self.horizontal.table_bytes()
            + vertical::bytes_for(&self.vertical, out_len)
            + self.gamma_bits.map_or(0, GammaTables::bytes_for)
    }
}

/// The part of the stage before the vertical pass: reading, converting, box-shrinking and
/// horizontally resampling input rows into kernel-input rows.
#[derive(Debug)]
struct Front {
    conversion: Conversion,
    input: ImageInfo,
    kx: u32,
    ky: u32,
    horizontal: Coefficients,
    in_row: Vec<u8>,
    work: Vec<f32>,
    acc: Vec<f32>,
    boxes: Vec<f32>,
    /// Input rows read so far.
    rows_read: u32,
}

impl Front {
    /// Reads the input rows of the next kernel-input row and writes it, resampled, into `dst`;
    /// with no `dst`, only reads them.
    fn next_row(&mut self, source: &mut dyn RowSource, dst: Option<&mut [f32]>) -> Result<()> {
        let channels = self.input.format.channels();
        let rows = self.ky.min(self.input.height - self.rows_read);
        let Some(dst) = dst else {
            for _ in 0..rows {
                source.read_row(&mut self.in_row)?;
            }
            self.rows_read += rows;
            return Ok(());
        };
        let src: &mut [f32] = if self.ky == 1 {
            source.read_row(&mut self.in_row)?;
            self.conversion.load(&self.in_row, &mut self.work);
            &mut self.work
        } else {
            for t in 0..rows {
                source.read_row(&mut self.in_row)?;
                if self.conversion.is_plain() {
                    match self.input.format.depth {
                        BitDepth::Eight => box_shrink::accumulate_u8(&mut self.acc, &self.in_row, t == 0),
                        BitDepth::Sixteen => box_shrink::accumulate_u16(&mut self.acc, &self.in_row, t == 0),
                    }
                } else {
                    self.conversion.load(&self.in_row, &mut self.work);
                    box_shrink::accumulate(&mut self.acc, &self.work, t == 0);
                }
            }
            &mut self.acc
        };
        self.rows_read += rows;
        if self.kx > 1 {
            box_shrink::sum_columns(src, &mut self.boxes, channels, self.kx as usize, rows);
            horizontal::resample(&self.boxes, dst, channels, &self.horizontal);
        } else {
            if rows > 1 {
                box_shrink::scale(src, 1.0 / rows as f32);
            }
            horizontal::resample(src, dst, channels, &self.horizontal);
        }
        Ok(())
    }

    fn bytes(&self) -> usize {
        self.in_row.capacity()
            + (self.work.capacity() + self.acc.capacity() + self.boxes.capacity()) * 4
            + self.horizontal.bytes()
            + self.conversion.gamma.as_ref().map_or(0, GammaTables::bytes)
    }
}

/// The resize stage: a [`RowSource`] producing `source` resampled to a new size.
#[derive(Debug)]
pub struct Resize<S: RowSource> {
    source: S,
    output: ImageInfo,
    options: ResizeOptions,
    front: Front,
    vertical: Vertical,
    rows: RowCounter,
}

impl<S: RowSource> Resize<S> {
    /// Resizes `source` to exactly `width` x `height`.
    ///
    /// A zero size, or one whose buffers would exceed [`MAX_BUFFER_BYTES`], is a
    /// [`Error::Parameter`] error.
    pub fn new(source: S, width: u32, height: u32, options: ResizeOptions) -> Result<Self> {
        let input = source.info();
        let plan = Plan::new(input, width, height, &options)?;
        let (work, acc, boxes) = plan.front_lens();
        let conversion = Conversion {
            format: input.format,
            premultiply: plan.premultiply,
            gamma: plan.gamma_bits.map(GammaTables::new),
        };
        let front = Front {
            conversion,
            input,
            kx: plan.kx,
            ky: plan.ky,
            horizontal: plan.horizontal.build(),
            in_row: vec![0; input.row_bytes()],
            work: vec![0.0; work],
            acc: vec![0.0; acc],
            boxes: vec![0.0; boxes],
            rows_read: 0,
        };
        let vertical = Vertical::new(&plan.vertical, width as usize * input.format.channels());
        let stage = Resize { source, output: plan.output, options, front, vertical, rows: RowCounter::new(height) };
        debug_assert_eq!(stage.buffer_bytes(), plan.bytes());
        Ok(stage)
    }

    /// Resizes `source` to `width`, keeping the aspect ratio (height rounded, at least 1).
    pub fn to_width(source: S, width: u32, options: ResizeOptions) -> Result<Self> {
        let info = source.info();
        let height = scaled(info.height, width, info.width);
        Self::new(source, width, height, options)
    }

    /// Resizes `source` to `height`, keeping the aspect ratio (width rounded, at least 1).
    pub fn to_height(source: S, height: u32, options: ResizeOptions) -> Result<Self> {
        let info = source.info();
        let width = scaled(info.width, height, info.height);
        Self::new(source, width, height, options)
    }

    /// Heap bytes the stage resizing `input` to `width` x `height` will hold: equal to
    /// [`RowSource::buffer_bytes`] of the built stage. `usize::MAX` for an impossible resize.
    pub fn predicted_buffer_bytes(input: ImageInfo, width: u32, height: u32, options: &ResizeOptions) -> usize {
        Plan::new(input, width, height, options).map_or(usize::MAX, |p| p.bytes())
    }

    /// The options the stage was built with.
    pub fn options(&self) -> &ResizeOptions {
        &self.options
    }

    /// The integer box factors (across, down) applied before the kernel (1 = none).
    pub fn box_factors(&self) -> (u32, u32) {
        (self.front.kx, self.front.ky)
    }

    /// Whether the vertical pass scatters into accumulators (downscale) rather than gathering
    /// from a ring of input rows (upscale).
    pub fn is_scatter(&self) -> bool {
        self.vertical.form() == vertical::Form::Scatter
    }

    /// Rows pulled from the upstream source so far.
    pub fn source_rows_read(&self) -> u32 {
        self.front.rows_read
    }

    /// Gives back the upstream source.
    pub fn into_inner(self) -> S {
        self.source
    }
}

/// The resize as a [`StageSpec`]: to exactly `width` x `height` with `options`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResizeSpec {
    /// Output width.
    pub width: u32,
    /// Output height.
    pub height: u32,
    /// Kernel, linear light, premultiplication.
    pub options: ResizeOptions,
}

impl ResizeSpec {
    /// Heap the stage needs while it is built beyond what it keeps: the window ends of both
    /// coefficient tables (4 bytes per output pixel of each axis) and a scratch span.
    fn build_bytes(&self) -> usize {
        4 * (self.width as usize + self.height as usize) + 1024
    }
}

impl StageSpec for ResizeSpec {
    fn name(&self) -> String {
        "resize".into()
    }
    fn output(&self, input: ImageInfo) -> Result<ImageInfo> {
        let plan = Plan::new(input, self.width, self.height, &self.options)?;
        Ok(plan.output)
    }
    fn heap_bytes(&self, input: ImageInfo) -> usize {
        Plan::new(input, self.width, self.height, &self.options).map_or(usize::MAX, |p| p.bytes() + self.build_bytes())
    }
    fn detail(&self, _input: ImageInfo) -> String {
        let mut detail = self.options.kernel.name().to_string();
        if self.options.linear_light {
            detail.push_str(", linear light");
        }
        detail
    }
    fn build(&self, upstream: BoxedSource) -> Result<BoxedSource> {
        Ok(Box::new(Resize::new(upstream, self.width, self.height, self.options)?))
    }
}

/// `value * numerator / denominator`, rounded to nearest, at least 1.
fn scaled(value: u32, numerator: u32, denominator: u32) -> u32 {
    if denominator == 0 {
        return 0;
    }
    let v = (2 * value as u64 * numerator as u64 + denominator as u64) / (2 * denominator as u64);
    v.clamp(1, u32::MAX as u64) as u32
}

impl<S: RowSource> RowSource for Resize<S> {
    fn info(&self) -> ImageInfo {
        self.output
    }

    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        if row.len() != self.output.row_bytes() {
            return Err(Error::parameter("row buffer has the wrong length"));
        }
        let j = self.rows.advance()? as usize;
        let front = &mut self.front;
        let source = &mut self.source;
        let values = self.vertical.row(j, |dst| front.next_row(source, dst))?;
        self.front.conversion.store(values, row);
        Ok(())
    }

    fn input_rows(&self, output: Range<u32>) -> Range<u32> {
        let end = output.end.min(self.output.height);
        if output.start >= end {
            return 0..0;
        }
        let c = self.vertical.coefficients();
        let first = c.starts[output.start as usize];
        let last = c.end(end as usize - 1);
        let (height, ky) = (self.front.input.height as u64, self.front.ky as u64);
        let rows = |boxes: u32| (boxes as u64 * ky).min(height) as u32;
        rows(first)..rows(last)
    }

    fn buffer_bytes(&self) -> usize {
        self.front.bytes() + self.vertical.bytes()
    }

    fn name(&self) -> &'static str {
        "resize"
    }

    fn upstream(&self) -> Option<&dyn RowSource> {
        Some(&self.source)
    }
}

#[cfg(test)]
mod tests;
