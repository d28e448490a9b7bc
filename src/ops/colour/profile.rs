//! Where an input's colours are defined: its embedded ICC profile, or for a PNG without one its
//! `sRGB`, `gAMA` and `cHRM` chunks; parsed with moxcms, and compared with sRGB.
//!
//! Precedence, as in the PNG specification (and libpng): an `iCCP` profile wins over `sRGB`,
//! which wins over `gAMA`/`cHRM`. An `sRGB` chunk means sRGB (nothing to convert). `gAMA` alone
//! means sRGB primaries with a pure power-law transfer (exponent `1/gAMA`); `cHRM` adds its white
//! point and primaries. A `cHRM` without `gAMA` is ignored (it says nothing about the transfer).

use std::sync::Arc;

use moxcms::{
    Chromaticity, ColorPrimaries, ColorProfile, DataColorSpace, Layout, LutStore, LutWarehouse, ParsingOptions,
    ProfileText, ToneReprCurve, TransformOptions, XyY,
};

use crate::codec::png::chunks::PngColourChunks;
use crate::error::{Error, Result};

/// An input's colour space, parsed and ready to build transforms from.
#[derive(Debug, Clone)]
pub struct InputProfile {
    /// The embedded ICC profile as stored in the file (`None` when built from PNG chunks).
    pub icc: Option<Arc<Vec<u8>>>,
    /// The parsed profile.
    pub(crate) parsed: Arc<ColorProfile>,
    /// Where it came from and what it is, for plans ("ICC 'Display P3' (rgb)", "PNG gAMA 0.5").
    pub description: String,
}

/// The largest colour lookup table (in grid entries) a parsed profile may hold; moxcms's own
/// default, stated here so the heap bound does not move with a moxcms upgrade.
const MAX_CLUT_ENTRIES: usize = 10_000_000;

impl InputProfile {
    /// Parses an ICC profile. A profile moxcms cannot parse is a [`Error::Format`] error.
    pub fn from_icc(bytes: Vec<u8>) -> Result<InputProfile> {
        let options = ParsingOptions {
            max_profile_size: crate::codec::icc::MAX_ICC_PROFILE_BYTES,
            max_allowed_clut_size: MAX_CLUT_ENTRIES,
            ..ParsingOptions::default()
        };
        let parsed = ColorProfile::new_from_slice_with_options(&bytes, options)
            .map_err(|e| Error::format("ICC profile", format!("cannot be parsed: {e}")))?;
        let name = text(parsed.description.as_ref()).unwrap_or_else(|| "unnamed".into());
        let space = match parsed.color_space {
            DataColorSpace::Rgb => "rgb",
            DataColorSpace::Gray => "gray",
            DataColorSpace::Cmyk => "cmyk",
            _ => "other",
        };
        Ok(InputProfile {
            description: format!("ICC '{name}' ({space}, {} bytes)", bytes.len()),
            icc: Some(Arc::new(bytes)),
            parsed: Arc::new(parsed),
        })
    }

    /// The profile a PNG's colour chunks describe, `None` when they say sRGB or nothing (`gray`:
    /// whether the image is gray, which takes a gray profile with the same transfer).
    pub(crate) fn from_png_chunks(chunks: &PngColourChunks, gray: bool) -> Result<Option<InputProfile>> {
        if chunks.srgb {
            return Ok(None);
        }
        let Some(gama) = chunks.gama else {
            return Ok(None);
        };
        if gama == 0 {
            return Err(Error::format("PNG", "gAMA chunk of 0"));
        }
        let exponent = 100_000.0 / gama as f32;
        let curve = ToneReprCurve::Parametric(vec![exponent]);
        let mut profile = ColorProfile::new_srgb();
        profile.cicp = None;
        profile.description = None;
        let mut description = format!("PNG gAMA {:.5}", gama as f64 / 100_000.0);
        if let Some(c) = chunks.chrm {
            let xy = |i: usize| Chromaticity { x: c[i] as f32 / 100_000.0, y: c[i + 1] as f32 / 100_000.0 };
            if c.iter().skip(1).step_by(2).any(|&y| y == 0) {
                return Err(Error::format("PNG", "cHRM chunk with a zero y chromaticity"));
            }
            let white = xy(0);
            let white = XyY { x: white.x as f64, y: white.y as f64, yb: 1.0 };
            profile.update_rgb_colorimetry(white, ColorPrimaries { red: xy(2), green: xy(4), blue: xy(6) });
            description.push_str(" + cHRM");
        }
        if gray {
            profile = ColorProfile::new_gray_with_gamma(exponent);
        } else {
            profile.red_trc = Some(curve.clone());
            profile.green_trc = Some(curve.clone());
            profile.blue_trc = Some(curve);
        }
        Ok(Some(InputProfile { icc: None, parsed: Arc::new(profile), description }))
    }

    /// The colour space of the profile's device side.
    pub(crate) fn color_space(&self) -> DataColorSpace {
        self.parsed.color_space
    }

    /// Heap the parsed profile holds: its curves and lookup tables (plus a little for texts).
    pub(crate) fn parsed_heap_bytes(&self) -> usize {
        parsed_heap_bytes(&self.parsed)
    }

    /// Whether converting to sRGB would change nothing visible: the 8-bit transform maps every
    /// point of a 17x17x17 grid (or 256 grays) within one level of itself. JPEG's own
    /// quantisation error is larger; a one-level difference is below a colour difference of
    /// ΔE 0.5. It catches the many sRGB profiles that are not byte-identical (HP's, Google's
    /// compact one, v4 variants) and gamma-2.2 approximations (which are not: up to 3 levels).
    pub(crate) fn is_srgb(&self) -> bool {
        let gray = self.color_space() == DataColorSpace::Gray;
        if !gray && self.color_space() != DataColorSpace::Rgb {
            return false;
        }
        let (layout, dst) = if gray { (Layout::Gray, srgb_gray()) } else { (Layout::Rgb, ColorProfile::new_srgb()) };
        let Ok(t) = self.parsed.create_transform_8bit(layout, &dst, layout, TransformOptions::default()) else {
            return false;
        };
        let src: Vec<u8> = if gray {
            (0..=255).collect()
        } else {
            let steps: Vec<u8> = (0..17u32).map(|i| (i * 255 / 16) as u8).collect();
            let mut v = Vec::with_capacity(17 * 17 * 17 * 3);
            for &r in &steps {
                for &g in &steps {
                    for &b in &steps {
                        v.extend_from_slice(&[r, g, b]);
                    }
                }
            }
            v
        };
        let mut dst = vec![0u8; src.len()];
        t.transform(&src, &mut dst).is_ok() && src.iter().zip(&dst).all(|(&a, &b)| a.abs_diff(b) <= 1)
    }
}

/// The destination of a gray image: sRGB's transfer curve on a gray profile (D50 white, as
/// every ICC profile's connection space), so gray stays gray and only its tone curve changes.
pub(crate) fn srgb_gray() -> ColorProfile {
    let mut gray = ColorProfile::new_gray_with_gamma(2.2);
    gray.gray_trc = ColorProfile::new_srgb().red_trc;
    gray
}

/// The first string of a profile text tag.
fn text(t: Option<&ProfileText>) -> Option<String> {
    match t? {
        ProfileText::PlainString(s) => Some(s.clone()),
        ProfileText::Localizable(v) => v.first().map(|l| l.value.clone()),
        ProfileText::Description(d) => Some(d.ascii_string.clone()),
    }
    .map(|s| s.trim_end_matches('\0').chars().take(64).collect())
}

/// Bytes of a curve's table.
fn curve_bytes(c: &ToneReprCurve) -> usize {
    match c {
        ToneReprCurve::Lut(v) => v.capacity() * 2,
        ToneReprCurve::Parametric(v) => v.capacity() * 4,
    }
}

/// Bytes of a lookup table store.
fn store_bytes(s: &LutStore) -> usize {
    match s {
        LutStore::Store8(v) => v.capacity(),
        LutStore::Store16(v) => v.capacity() * 2,
    }
}

/// Heap of a parsed moxcms profile: every curve, table and text it holds, and 2 KiB for small
/// boxes.
pub(crate) fn parsed_heap_bytes(p: &ColorProfile) -> usize {
    let curves = [&p.red_trc, &p.green_trc, &p.blue_trc, &p.gray_trc];
    let mut bytes: usize = curves.iter().filter_map(|c| c.as_ref()).map(curve_bytes).sum();
    let luts = [
        &p.lut_a_to_b_perceptual,
        &p.lut_a_to_b_colorimetric,
        &p.lut_a_to_b_saturation,
        &p.lut_b_to_a_perceptual,
        &p.lut_b_to_a_colorimetric,
        &p.lut_b_to_a_saturation,
        &p.gamut,
    ];
    for lut in luts.iter().filter_map(|l| l.as_ref()) {
        bytes += match lut {
            LutWarehouse::Lut(l) => {
                store_bytes(&l.input_table) + store_bytes(&l.clut_table) + store_bytes(&l.output_table)
            }
            LutWarehouse::Multidimensional(m) => {
                let curves = m.a_curves.iter().chain(&m.b_curves).chain(&m.m_curves);
                m.clut.as_ref().map_or(0, store_bytes)
                    + curves.map(|c| curve_bytes(c) + std::mem::size_of::<ToneReprCurve>()).sum::<usize>()
            }
        } + std::mem::size_of::<LutWarehouse>();
    }
    let texts = [
        &p.copyright,
        &p.description,
        &p.device_manufacturer,
        &p.device_model,
        &p.char_target,
        &p.viewing_conditions_description,
    ];
    bytes += texts.iter().filter_map(|t| t.as_ref()).map(text_bytes).sum::<usize>();
    bytes + 2048
}

/// Bytes of a text tag's strings (a characterisation target, `targ`, can be most of a profile:
/// 734 KB of libvips' CMYK profile).
fn text_bytes(t: &ProfileText) -> usize {
    match t {
        ProfileText::PlainString(s) => s.capacity(),
        ProfileText::Localizable(v) => v
            .iter()
            .map(|l| l.language.capacity() + l.country.capacity() + l.value.capacity() + std::mem::size_of_val(l))
            .sum(),
        ProfileText::Description(d) => {
            d.ascii_string.capacity() + d.unicode_string.capacity() + d.mac_string.capacity()
        }
    }
}
