//! Reading an encoded input's colour space for the planner, and what happens when it is bad.
//!
//! Policy for a damaged or unusable profile (one moxcms cannot parse, a cHRM with a zero
//! chromaticity, a profile that cannot connect to sRGB): with [`FailOn::Error`] (the default) a
//! typed error ([`Error::Format`] or [`Error::Unsupported`], the house rule); with a lenient
//! `fail_on` the profile is ignored as libvips does (its "falling back to sRGB" warning), and the
//! plan says so ([`ColourDecision::Ignored`]). A profile over the size cap is
//! [`Error::Limits`] whatever the level: it is a resource bound, not damage.
//!
//! A CMYK profile on a CMYK JPEG converts the decoder's CMYK rows. A profile whose colour space
//! does not match the image (a CMYK profile on an RGB file, an RGB one on a CMYK file) is not
//! applied, and the plan says so: the rows keep their meaning (a CMYK file without a usable
//! profile keeps the decoder's RGB approximation).

use std::sync::Arc;

use super::{ColourSpec, InputProfile};
use crate::codec::{icc, FailOn, Format};
use crate::error::{Error, Result};
use crate::io::Input;
use crate::pixel::PixelFormat;

/// Heap an embedded profile of `len` bytes takes while planning beside the bytes read: the copy
/// the ICC parser is given. A profile that adds no stage is counted in the plan as the bytes
/// kept for the output plus this copy (an upper bound of the planning peak).
pub(crate) fn profile_planning_bytes(len: usize) -> usize {
    len
}

/// What the planner does about an input's colours.
#[derive(Debug, Clone)]
pub(crate) enum ColourDecision {
    /// No profile, or one equivalent to sRGB: nothing to do.
    Srgb(Option<Arc<Vec<u8>>>),
    /// Convert with this stage (built for the rows it will receive).
    Convert(ColourSpec),
    /// The profile is not applied, for the reason given (the embedded bytes, if any, kept).
    Ignored(Option<Arc<Vec<u8>>>, String),
}

impl ColourDecision {
    /// The embedded ICC profile, whatever was decided.
    pub(crate) fn icc(&self) -> Option<Arc<Vec<u8>>> {
        match self {
            ColourDecision::Srgb(icc) | ColourDecision::Ignored(icc, _) => icc.clone(),
            ColourDecision::Convert(spec) => spec.profile().icc.clone(),
        }
    }
}

/// The input's colour space as decoded at `format` (the format of the rows the stage will see):
/// a stage to add, or why none. `keep`: the profile is only read (kept for the output), not
/// applied.
/// `cmyk_rows`: the decoder can emit CMYK rows (a four-component JPEG).
pub(crate) fn decide(
    input: &Input,
    format: Format,
    rows: PixelFormat,
    cmyk_rows: bool,
    keep: bool,
    fail_on: FailOn,
    max_memory: usize,
) -> Result<ColourDecision> {
    if !matches!(format, Format::Jpeg | Format::Png | Format::Tiff | Format::Webp) {
        return Ok(ColourDecision::Srgb(None));
    }
    // Reading the profile (and the parser's copy of it) must itself fit the budget: refused
    // before anything is assembled.
    if let Some(len) = icc::icc_profile_len(input)? {
        let need = icc::read_heap_bytes(input, len)? + profile_planning_bytes(len);
        if need > max_memory {
            return Err(Error::limits(format!(
                "reading the input's {len}-byte ICC profile needs about {need} bytes, over the budget of {max_memory} bytes"
            )));
        }
    }
    let icc = icc::read_icc_profile(input)?.map(Arc::new);
    if keep {
        return Ok(ColourDecision::Ignored(icc, "kept, not converted (keep_icc_profile)".into()));
    }
    let lenient = |e: Error, icc: Option<Arc<Vec<u8>>>| -> Result<ColourDecision> {
        match e {
            Error::Format { .. } | Error::Unsupported { .. } if fail_on != FailOn::Error => {
                Ok(ColourDecision::Ignored(icc, format!("ignored: {e}")))
            }
            e => Err(e),
        }
    };
    let profile = match &icc {
        Some(bytes) => match InputProfile::from_icc(bytes.to_vec()) {
            Ok(p) => p,
            Err(e) => return lenient(e, icc),
        },
        None if format == Format::Png => {
            let chunks = match crate::codec::png::chunks::colour_chunks(input) {
                Ok(c) => c,
                Err(e) => return lenient(e, None),
            };
            match InputProfile::from_png_chunks(&chunks, !rows.color.is_rgb()) {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(ColourDecision::Srgb(None)),
                Err(e) => return lenient(e, None),
            }
        }
        None => return Ok(ColourDecision::Srgb(None)),
    };
    let rgb_profile = profile.color_space() == moxcms::DataColorSpace::Rgb;
    let gray_profile = profile.color_space() == moxcms::DataColorSpace::Gray;
    let cmyk_profile = profile.color_space() == moxcms::DataColorSpace::Cmyk;
    if cmyk_profile && cmyk_rows {
        return match ColourSpec::new(profile, PixelFormat::RGBA8) {
            Ok(spec) => Ok(ColourDecision::Convert(spec)),
            Err(e) => lenient(e, icc),
        };
    }
    if !(rgb_profile && rows.color.is_rgb() || gray_profile && !rows.color.is_rgb()) {
        let why = format!("not applied: {} on {} rows", profile.description, rows);
        return Ok(ColourDecision::Ignored(icc, why));
    }
    if profile.is_srgb() {
        return Ok(ColourDecision::Srgb(icc));
    }
    match ColourSpec::new(profile, rows) {
        Ok(spec) => Ok(ColourDecision::Convert(spec)),
        Err(e) => lenient(e, icc),
    }
}
