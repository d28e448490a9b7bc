//! Colour management: rows converted from the input's colour space (an embedded ICC profile, or
//! a PNG's `gAMA`/`cHRM` chunks) to sRGB with moxcms, a pure-Rust CMS.
//!
//! The transform is built once per job, when the plan is made ([`ColourSpec::new`]), for the
//! pixel format the stage will receive; every row then goes through it in place of a copy.
//!
//! * RGB and RGBA, 8 or 16 bit: the profile to sRGB, relative colorimetric (libvips' default
//!   intent); out-of-gamut colours are clipped. The 16-bit path uses moxcms's 16-bit transform
//!   (65536-entry tables), so precision is kept. Alpha is copied through untouched.
//! * Gray and gray-alpha with a gray profile: the profile's tone curve to sRGB's, staying gray
//!   (a gray profile has no chromaticity to convert, only a transfer curve).
//! * CMYK (a JPEG with a CMYK profile): the decoder is asked for four-channel ink rows
//!   ([`crate::codec::spec::DecodeRequest::cmyk`], Adobe's inversion undone there) and this
//!   stage, placed right after it, converts them through the profile's lookup tables to RGB8,
//!   before any resize (which would take the fourth channel for alpha).
//!
//! Where it sits ([`crate::plan`]): after shrink-on-load, the crop and the resize and before
//! the contain padding, extract and extend, so the conversion runs on the fewest pixels (a
//! thumbnail converts 256 rows, not 8192) and background colours, which are given in sRGB, are
//! never converted. The resize then works on the profile's numbers; libvips' thumbnail does the
//! same (it imports after shrinking), and the difference from converting first is within
//! rounding for smooth images.
//!
//! Heap ([`ColourSpec::heap_bytes`]): the transform's tables at their peak while being built, the
//! parsed profile (its curves and lookup tables), the embedded profile's bytes (kept for
//! encoders), and the row buffers; the constants are moxcms 0.8.1's allocations, derived from its
//! table sizes and checked against dhat for matrix-shaper, gray and LUT profiles in
//! `tests/heap_colour.rs`.

mod profile;
mod source;

pub(crate) use profile::srgb_gray;
pub use profile::InputProfile;
pub(crate) use source::{decide, profile_planning_bytes, ColourDecision};

use std::sync::Arc;

use moxcms::{ColorProfile, DataColorSpace, Layout, Transform16BitExecutor, Transform8BitExecutor, TransformOptions};

use crate::error::{Error, Result};
use crate::pipeline::{BoxedSource, RowCounter, RowSource, StageSpec};
use crate::pixel::{BitDepth, ColorType, ImageInfo, PixelFormat};

/// A built moxcms transform of one sample size.
#[derive(Clone)]
enum Transform {
    Eight(Arc<Transform8BitExecutor>),
    Sixteen(Arc<Transform16BitExecutor>),
}

/// How moxcms builds the transform, which fixes the tables it allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// RGB matrix and curves; `curves` distinct tone curves (1 when all three are equal).
    MatrixShaper { curves: usize },
    /// Gray tone curve to gray tone curve.
    Gray,
    /// Lookup tables (A2B/B2A, CMYK).
    Lut,
}

/// The colour conversion to sRGB as a [`StageSpec`], with its transform already built.
#[derive(Clone)]
pub struct ColourSpec {
    profile: InputProfile,
    format: PixelFormat,
    kind: Kind,
    transform: Transform,
}

impl std::fmt::Debug for ColourSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ColourSpec")
            .field("profile", &self.profile.description)
            .field("format", &self.format)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// Whether the profile converts device values through lookup tables (moxcms's own test,
/// private in 0.8.1).
fn has_device_lut(p: &ColorProfile) -> bool {
    p.lut_a_to_b_perceptual.is_some() || p.lut_a_to_b_colorimetric.is_some() || p.lut_a_to_b_saturation.is_some()
}

/// The moxcms layout of a pixel format.
fn layout(color: ColorType) -> Layout {
    match color {
        ColorType::Gray => Layout::Gray,
        ColorType::GrayAlpha => Layout::GrayAlpha,
        ColorType::Rgb => Layout::Rgb,
        ColorType::Rgba => Layout::Rgba,
    }
}

/// moxcms 0.8.1's tables per tone curve: a linearising table of f32 (256 entries for 8-bit
/// input, 65536 for 16-bit) and an encoding table of 65536 samples, plus its 88-byte executor.
const fn curve_tables(depth: BitDepth) -> usize {
    match depth {
        BitDepth::Eight => 256 * 4 + 65536 + 88,
        BitDepth::Sixteen => 65536 * 4 + 65536 * 2 + 88,
    }
}

/// Bytes the built transform keeps while rows flow, with 4 KiB for what a 16-bit call
/// allocates for itself (about 3 KB measured).
fn retained_bytes(kind: Kind, depth: BitDepth) -> usize {
    4096 + match (kind, depth) {
        (Kind::MatrixShaper { curves }, _) => curves * curve_tables(depth),
        (Kind::Gray, BitDepth::Eight) => 65536 + 32,
        (Kind::Gray, BitDepth::Sixteen) => 2 * 65536 + 32,
        // The sampled grid (CMYK: 17^4 x 3 samples) in f32 with its interpolator.
        (Kind::Lut, BitDepth::Eight) => 680_000,
        (Kind::Lut, BitDepth::Sixteen) => 1_350_000,
    }
}

/// Bytes moxcms holds at its peak while building a transform (the parsed profile aside),
/// measured by dhat on moxcms 0.8.1 (`tests/heap_colour.rs` checks every kind): the 8-bit
/// paths build their encoding table through a temporary of the same size (three curves share
/// most of it), gray 16-bit stages a 65536-entry f32 and f64 pair, and a LUT profile samples its
/// grid through an intermediate float copy (2.43 to 2.48 MB for the grids moxcms picks).
fn build_peak_bytes(kind: Kind, depth: BitDepth) -> usize {
    match (kind, depth) {
        (Kind::MatrixShaper { curves: 1 }, BitDepth::Eight) => 133_208,
        (Kind::MatrixShaper { .. }, BitDepth::Eight) => 216_000,
        (Kind::MatrixShaper { curves }, BitDepth::Sixteen) => curves * curve_tables(depth),
        (Kind::Gray, BitDepth::Eight) => 132_128,
        (Kind::Gray, BitDepth::Sixteen) => 524_320,
        (Kind::Lut, _) => 2_500_000,
    }
}

impl ColourSpec {
    /// Builds the transform from `profile` to sRGB for rows of `format`. A profile whose colour
    /// space does not match the rows (a CMYK profile on RGB rows, an RGB profile on gray rows),
    /// or that moxcms cannot connect to sRGB, is [`Error::Unsupported`].
    pub fn new(profile: InputProfile, format: PixelFormat) -> Result<ColourSpec> {
        let space = profile.color_space();
        let cmyk = space == DataColorSpace::Cmyk && format == PixelFormat::RGBA8;
        let matches = match space {
            DataColorSpace::Rgb => format.color.is_rgb(),
            DataColorSpace::Gray => !format.color.is_rgb(),
            _ => cmyk,
        };
        if !matches {
            return Err(Error::unsupported("ICC profile", format!("{} on {} rows", profile.description, format)));
        }
        let p: &ColorProfile = &profile.parsed;
        let kind = if space == DataColorSpace::Gray {
            if has_device_lut(p) {
                Kind::Lut
            } else {
                Kind::Gray
            }
        } else if p.is_matrix_shaper() && !has_device_lut(p) {
            let same = p.red_trc == p.green_trc && p.green_trc == p.blue_trc;
            Kind::MatrixShaper { curves: if same { 1 } else { 3 } }
        } else {
            Kind::Lut
        };
        let dst = if space == DataColorSpace::Gray { srgb_gray() } else { ColorProfile::new_srgb() };
        let l = layout(format.color);
        // CMYK rows are four 8-bit channels (moxcms's CMYK layout is its RGBA one) to RGB.
        let dst_layout = if cmyk { Layout::Rgb } else { l };
        let options = TransformOptions::default();
        let cannot = |e: moxcms::CmsError| {
            Error::unsupported("ICC profile", format!("{} cannot be converted to sRGB ({e})", profile.description))
        };
        let transform = match format.depth {
            BitDepth::Eight => Transform::Eight(p.create_transform_8bit(l, &dst, dst_layout, options).map_err(cannot)?),
            BitDepth::Sixteen => {
                Transform::Sixteen(p.create_transform_16bit(l, &dst, dst_layout, options).map_err(cannot)?)
            }
        };
        Ok(ColourSpec { profile, format, kind, transform })
    }

    /// Whether the stage takes CMYK rows (four 8-bit ink channels, typed RGBA8) to RGB8: it then
    /// sits right after the decoder, which is asked for such rows.
    pub fn is_cmyk(&self) -> bool {
        self.profile.color_space() == DataColorSpace::Cmyk
    }

    /// The input profile.
    pub fn profile(&self) -> &InputProfile {
        &self.profile
    }

    /// The row buffers of the stage: the input row, and for 16-bit an output row of `u16`.
    fn row_buffer_bytes(input: ImageInfo) -> usize {
        match input.format.depth {
            BitDepth::Eight => input.row_bytes(),
            BitDepth::Sixteen => 2 * input.row_bytes(),
        }
    }
}

impl StageSpec for ColourSpec {
    fn name(&self) -> String {
        "colour".into()
    }

    fn output(&self, input: ImageInfo) -> Result<ImageInfo> {
        if input.format != self.format {
            return Err(Error::parameter(format!(
                "colour transform built for {} rows, given {}",
                self.format, input.format
            )));
        }
        Ok(if self.is_cmyk() { ImageInfo { format: PixelFormat::RGB8, ..input } } else { input })
    }

    /// The profile's bytes and parse, and the larger of the transform's build peak (before the
    /// row buffers exist) and its tables with the row buffers.
    fn heap_bytes(&self, input: ImageInfo) -> usize {
        let depth = input.format.depth;
        let transform =
            build_peak_bytes(self.kind, depth).max(retained_bytes(self.kind, depth) + Self::row_buffer_bytes(input));
        transform + self.profile.parsed_heap_bytes() + self.profile.icc.as_ref().map_or(0, |b| b.capacity())
    }

    fn detail(&self, _input: ImageInfo) -> String {
        let kind = match self.kind {
            Kind::MatrixShaper { .. } => "matrix-shaper",
            Kind::Gray => "gray curve",
            Kind::Lut => "LUT",
        };
        format!("{} -> sRGB ({kind})", self.profile.description)
    }

    fn build(&self, upstream: BoxedSource) -> Result<BoxedSource> {
        let info = self.output(upstream.info())?;
        let input = upstream.info();
        Ok(Box::new(Colour::new(upstream, input, info, self.transform.clone())))
    }
}

/// The running stage: each row read into a buffer and transformed into the caller's row.
pub struct Colour {
    source: BoxedSource,
    /// What the stage produces (the input's size; RGB8 for CMYK input).
    info: ImageInfo,
    /// Whether alpha is copied through (RGBA and gray-alpha; never CMYK's fourth channel).
    copy_alpha: bool,
    transform: Transform,
    rows: RowCounter,
    /// 8-bit: the input row. 16-bit: unused (empty).
    input8: Vec<u8>,
    /// 16-bit: the input row then the output row, as `u16` (aligned for moxcms).
    input16: Vec<u16>,
    output16: Vec<u16>,
}

impl Colour {
    fn new(source: BoxedSource, input: ImageInfo, info: ImageInfo, transform: Transform) -> Colour {
        let samples = input.width as usize * input.format.channels();
        let (input8, input16, output16) = match info.format.depth {
            BitDepth::Eight => (vec![0u8; samples], Vec::new(), Vec::new()),
            BitDepth::Sixteen => (Vec::new(), vec![0u16; samples], vec![0u16; samples]),
        };
        let copy_alpha = input.format == info.format && info.format.color.has_alpha();
        Colour { rows: RowCounter::new(info.height), source, info, copy_alpha, transform, input8, input16, output16 }
    }
}

impl std::fmt::Debug for Colour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Colour").field("info", &self.info).finish_non_exhaustive()
    }
}

impl RowSource for Colour {
    fn info(&self) -> ImageInfo {
        self.info
    }

    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        if row.len() != self.info.row_bytes() {
            return Err(Error::parameter("row buffer has the wrong length"));
        }
        self.rows.advance()?;
        let failed = |e: moxcms::CmsError| Error::unsupported("ICC profile", format!("colour transform failed: {e}"));
        match &self.transform {
            Transform::Eight(t) => {
                self.source.read_row(&mut self.input8)?;
                t.transform(&self.input8, row).map_err(failed)?;
                if self.copy_alpha {
                    copy_alpha(&self.input8, row, self.info.format.channels());
                }
            }
            Transform::Sixteen(t) => {
                self.source.read_row(bytemuck::cast_slice_mut(&mut self.input16))?;
                t.transform(&self.input16, &mut self.output16).map_err(failed)?;
                if self.copy_alpha {
                    copy_alpha(&self.input16, &mut self.output16, self.info.format.channels());
                }
                row.copy_from_slice(bytemuck::cast_slice(&self.output16));
            }
        }
        Ok(())
    }

    fn buffer_bytes(&self) -> usize {
        self.input8.capacity() + 2 * (self.input16.capacity() + self.output16.capacity())
    }

    fn name(&self) -> &'static str {
        "colour"
    }

    fn upstream(&self) -> Option<&dyn RowSource> {
        Some(&*self.source)
    }
}

/// Copies the last of every `channels` samples (alpha) from `from` to `to`: moxcms may round
/// alpha through its own scale, and alpha is not colour.
fn copy_alpha<T: Copy>(from: &[T], to: &mut [T], channels: usize) {
    for (a, b) in from.chunks_exact(channels).zip(to.chunks_exact_mut(channels)) {
        b[channels - 1] = a[channels - 1];
    }
}

#[cfg(test)]
mod tests;
