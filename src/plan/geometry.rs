//! From what the user asked, in upright coordinates, to what is decoded, in stored ones.
//!
//! The crop and the fit are defined on the upright image (after EXIF and the user's turns). The
//! rectangle of the upright image they keep is mapped back through the orientation to stored
//! pixels; the shrink-on-load factor is the largest one the decoder offers that still leaves at
//! least 2x for the resize kernel (as libvips does); and the rectangle is scaled to the decoder's
//! reduced image, rounded to whole pixels, as the crop-on-load window (or a crop stage after a
//! decoder that cannot crop).

use super::recipe::{CropRequest, Recipe};
use crate::error::Result;
use crate::ops::crop::Rect;
use crate::ops::fit::{self, geometry};
use crate::ops::orient::Orientation;
use crate::pixel::ImageInfo;

/// What the decoder can do, as the geometry needs it.
pub(crate) struct DecoderReach<'a> {
    /// Shrink-on-load denominators offered, largest first (`[1]` for none).
    pub shrink_factors: &'a [u8],
    /// The decoded size at each denominator.
    pub scaled_size: &'a dyn Fn(u8) -> (u32, u32),
}

/// The resolved geometry of a job.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// EXIF (when auto-orienting) then the user's orientation.
    pub orientation: Orientation,
    /// Upright size of the input.
    pub oriented: (u32, u32),
    /// The fitted resize of the cropped upright image.
    pub fit: fit::Geometry,
    /// The part of the stored input read, full scale.
    pub source_rect: Rect,
    /// The resize target in stored orientation.
    pub scaled: (u32, u32),
    /// Shrink-on-load denominator.
    pub shrink: u8,
    /// Size of the decoded (shrunk) image.
    pub decoded: (u32, u32),
    /// The part of the decoded image needed, in its coordinates.
    pub region: Rect,
}

impl Resolved {
    /// Whether the whole decoded image is needed.
    pub fn whole(&self) -> bool {
        self.region == Rect::new(0, 0, self.decoded.0, self.decoded.1)
    }
}

/// Resolves `recipe` on a stored `input` with EXIF orientation `exif`.
pub(crate) fn resolve(recipe: &Recipe, input: ImageInfo, exif: Option<u8>, reach: &DecoderReach) -> Result<Resolved> {
    let (w, h) = (input.width, input.height);
    let exif_orientation = if recipe.auto_orient { exif.and_then(Orientation::from_exif) } else { None };
    let orientation = exif_orientation.unwrap_or_default().then(recipe.user_orientation);
    let oriented = orientation.output_size(w, h);
    let crop = match recipe.crop {
        None => Rect::new(0, 0, oriented.0, oriented.1),
        Some(CropRequest::Rect(r)) => r,
        Some(CropRequest::Placed(cw, ch, gravity)) => {
            if cw > oriented.0 || ch > oriented.1 || cw == 0 || ch == 0 {
                return Err(crate::Error::parameter(format!(
                    "crop {cw}x{ch} does not fit the {}x{} image",
                    oriented.0, oriented.1
                )));
            }
            let (x, y) = gravity.place(oriented, (cw, ch));
            Rect::new(x, y, cw, ch)
        }
    };
    crop.check_inside(oriented.0, oriented.1)?;
    let g = geometry((crop.width, crop.height), recipe.width, recipe.height, &recipe.fit)?;
    let upright = (crop.x + g.source.x, crop.y + g.source.y, g.source.width, g.source.height);
    let (sx, sy, sw, sh) = orientation.source_rect(upright, w, h);
    let scaled = if orientation.swaps_dimensions() { (g.scaled.1, g.scaled.0) } else { g.scaled };

    let mut shrink = 1u8;
    if recipe.shrink_on_load {
        let factor = (sw as f64 / scaled.0 as f64).min(sh as f64 / scaled.1 as f64);
        shrink = reach.shrink_factors.iter().copied().find(|&d| factor >= 2.0 * d as f64).unwrap_or(1);
    }
    let d = shrink as u32;
    let decoded = (reach.scaled_size)(shrink);
    let scale_span = |start: u32, len: u32, full: u32| -> (u32, u32) {
        let a = ((start as f64 / d as f64).round() as u32).min(full - 1);
        let b = (((start + len) as f64 / d as f64).round() as u32).clamp(a + 1, full);
        (a, b - a)
    };
    let (rx, rw) = scale_span(sx, sw, decoded.0);
    let (ry, rh) = scale_span(sy, sh, decoded.1);
    Ok(Resolved {
        orientation,
        oriented,
        fit: g,
        source_rect: Rect::new(sx, sy, sw, sh),
        scaled,
        shrink,
        decoded,
        region: Rect::new(rx, ry, rw, rh),
    })
}
