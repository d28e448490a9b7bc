//! Fit geometry as sharp defines it: how an input of some size is resized to a target width
//! and/or height, which part of it is kept (cover), and where it sits on the canvas (contain).
//!
//! The rules follow sharp's `ResolveShrink`, `CalculateCrop` and `CalculateEmbedPosition`:
//!
//! * A shrink factor (input pixels per output pixel) is found per axis: `input / target`. With
//!   both dimensions given, cover and outside use the smaller factor for both axes, contain and
//!   inside the larger, fill keeps both. With one dimension the other axis follows it (except
//!   fill, which leaves it alone). without_reduction caps the factors at 1, without_enlargement
//!   raises them to 1 (the former wins when both are set).
//! * The resized size is `round(input / shrink)`, at least 1.
//! * cover crops the resized image to `min(target, resized)` placed by position (the centre
//!   rounds up, as `(free + 1) / 2`); contain pads it to `max(target, resized)` with the image
//!   placed by position (the centre rounds down); fill, inside and outside output the resized
//!   image. An axis without a target takes the resized size.
//!
//! stripflow crops in *source* coordinates before resizing (it reads and resamples fewer
//! pixels, and the crop can be pushed into the decoder): the crop rectangle in the resized image
//! is mapped through the shrink factor back to the input and rounded to whole input pixels, then
//! that input rectangle is resized to exactly the crop size. The mapping error is under half an
//! input pixel at each edge, which after a downscale by `s` is under `0.5 / s` output pixels.

use std::str::FromStr;

use crate::error::{Error, Result};
use crate::ops::crop::{Gravity, Rect};

/// How the image is fitted to both target dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Fit {
    /// Keep the aspect ratio, cover both dimensions, crop the excess by position (the default).
    #[default]
    Cover,
    /// Keep the aspect ratio, fit within both dimensions, pad with the background by position.
    Contain,
    /// Ignore the aspect ratio, stretch to both dimensions.
    Fill,
    /// Keep the aspect ratio, as large as possible within both dimensions (no padding).
    Inside,
    /// Keep the aspect ratio, as small as possible covering both dimensions (no crop).
    Outside,
}

impl Fit {
    /// Every fit, for tests and help texts.
    pub const ALL: [Fit; 5] = [Fit::Cover, Fit::Contain, Fit::Fill, Fit::Inside, Fit::Outside];

    /// Lower-case name, as [`FromStr`] accepts it.
    pub fn name(self) -> &'static str {
        match self {
            Fit::Cover => "cover",
            Fit::Contain => "contain",
            Fit::Fill => "fill",
            Fit::Inside => "inside",
            Fit::Outside => "outside",
        }
    }
}

impl FromStr for Fit {
    type Err = Error;
    /// Parses `cover`, `contain`, `fill`, `inside` or `outside`.
    fn from_str(s: &str) -> Result<Fit> {
        let s = s.trim().to_ascii_lowercase();
        Fit::ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| {
            Error::parameter(format!(
                "unknown fit '{s}' (expected cover, contain, fill, inside or outside)"
            ))
        })
    }
}

/// The options of a fitted resize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FitOptions {
    /// The fit mode.
    pub fit: Fit,
    /// Where the kept part is taken from (cover) or the image placed (contain).
    pub position: Gravity,
    /// Never make the image larger.
    pub without_enlargement: bool,
    /// Never make the image smaller.
    pub without_reduction: bool,
}

/// The geometry of a fitted resize of an input image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    /// Horizontal and vertical shrink factors (input pixels per output pixel).
    pub shrink: (f64, f64),
    /// The size the whole input would be resized to (sharp's intermediate image).
    pub resized: (u32, u32),
    /// The part of the input used, in input pixels (the whole input unless cover crops).
    pub source: Rect,
    /// The size `source` is resized to.
    pub scaled: (u32, u32),
    /// The output size.
    pub canvas: (u32, u32),
    /// Where the scaled image sits on the canvas (non-zero only for contain).
    pub offset: (u32, u32),
    /// The cover crop in the coordinates of the `resized` image, if any.
    pub crop: Option<Rect>,
}

impl Geometry {
    /// Whether the canvas is larger than the scaled image (contain padding).
    pub fn pads(&self) -> bool {
        self.canvas != self.scaled
    }

    /// Whether a resize is needed (the source rectangle and the scaled size differ).
    pub fn resizes(&self) -> bool {
        (self.source.width, self.source.height) != self.scaled
    }
}

/// sharp's `CalculateCrop`: offset of an `inner` crop inside `outer`, the centre rounding up.
pub fn crop_offset(position: Gravity, outer: (u32, u32), inner: (u32, u32)) -> (u32, u32) {
    let along = |free: u32, f: u32| match f {
        0 => 0,
        1 => free.div_ceil(2),
        _ => free,
    };
    let (fx, fy) = position.fractions();
    (
        along(outer.0.saturating_sub(inner.0), fx),
        along(outer.1.saturating_sub(inner.1), fy),
    )
}

/// The geometry of resizing an `input` (width, height) to `width` and/or `height` with
/// `options`. With neither dimension the geometry is the identity.
pub fn geometry(input: (u32, u32), width: Option<u32>, height: Option<u32>, options: &FitOptions) -> Result<Geometry> {
    let (iw, ih) = input;
    if iw == 0 || ih == 0 {
        return Err(Error::parameter("fit of an empty image"));
    }
    if width == Some(0) || height == Some(0) {
        return Err(Error::parameter("resize target dimensions must be at least 1"));
    }
    let (mut hs, mut vs) = (1.0f64, 1.0f64);
    match (width, height) {
        (Some(w), Some(h)) => {
            hs = iw as f64 / w as f64;
            vs = ih as f64 / h as f64;
            match options.fit {
                Fit::Cover | Fit::Outside => {
                    let s = hs.min(vs);
                    (hs, vs) = (s, s);
                }
                Fit::Contain | Fit::Inside => {
                    let s = hs.max(vs);
                    (hs, vs) = (s, s);
                }
                Fit::Fill => {}
            }
        }
        (Some(w), None) => {
            hs = iw as f64 / w as f64;
            if options.fit != Fit::Fill {
                vs = hs;
            }
        }
        (None, Some(h)) => {
            vs = ih as f64 / h as f64;
            if options.fit != Fit::Fill {
                hs = vs;
            }
        }
        (None, None) => {}
    }
    if options.without_reduction {
        hs = hs.min(1.0);
        vs = vs.min(1.0);
    } else if options.without_enlargement {
        hs = hs.max(1.0);
        vs = vs.max(1.0);
    }
    hs = hs.min(iw as f64);
    vs = vs.min(ih as f64);
    let round = |n: u32, s: f64| ((n as f64 / s).round() as u64).clamp(1, u32::MAX as u64) as u32;
    let resized = (round(iw, hs), round(ih, vs));
    let target = (width.unwrap_or(resized.0), height.unwrap_or(resized.1));
    let whole = Rect::new(0, 0, iw, ih);
    let mut g = Geometry {
        shrink: (hs, vs),
        resized,
        source: whole,
        scaled: resized,
        canvas: resized,
        offset: (0, 0),
        crop: None,
    };
    match options.fit {
        Fit::Contain => {
            g.canvas = (resized.0.max(target.0), resized.1.max(target.1));
            g.offset = options.position.place(g.canvas, resized);
        }
        Fit::Cover if target.0 < resized.0 || target.1 < resized.1 => {
            let size = (target.0.min(resized.0), target.1.min(resized.1));
            let (left, top) = crop_offset(options.position, resized, size);
            // Maps [start, start + len) of the resized axis back to input pixels.
            let span = |start: u32, len: u32, full: u32, n_in: u32, s: f64| -> (u32, u32) {
                if len == full {
                    return (0, n_in);
                }
                let a = ((start as f64 * s).round() as u64).min(n_in as u64 - 1) as u32;
                let b = (((start + len) as f64 * s).round() as u64).clamp(a as u64 + 1, n_in as u64) as u32;
                (a, b - a)
            };
            let (x, w) = span(left, size.0, resized.0, iw, hs);
            let (y, h) = span(top, size.1, resized.1, ih, vs);
            g.source = Rect::new(x, y, w, h);
            g.scaled = size;
            g.canvas = size;
            g.crop = Some(Rect::new(left, top, size.0, size.1));
        }
        _ => {}
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(fit: Fit) -> FitOptions {
        FitOptions {
            fit,
            ..Default::default()
        }
    }

    #[test]
    fn sizes_follow_sharp() {
        // sharp's documented examples and test expectations.
        // 2725x2225 -> 320x240: cover crops to exactly 320x240; contain pads to 320x240;
        // inside gives 294x240; outside 320x261; fill 320x240.
        let input = (2725, 2225);
        let g = |f| geometry(input, Some(320), Some(240), &fit(f)).unwrap();
        assert_eq!(g(Fit::Cover).canvas, (320, 240));
        assert_eq!(g(Fit::Cover).resized, (320, 261));
        assert_eq!(g(Fit::Contain).canvas, (320, 240));
        assert_eq!(g(Fit::Contain).scaled, (294, 240));
        assert_eq!(g(Fit::Contain).offset, (13, 0));
        assert_eq!(g(Fit::Inside).canvas, (294, 240));
        assert_eq!(g(Fit::Outside).canvas, (320, 261));
        assert_eq!(g(Fit::Fill).canvas, (320, 240));
        assert_eq!(g(Fit::Fill).shrink, (2725.0 / 320.0, 2225.0 / 240.0));
        // One dimension: the other follows the aspect ratio, whatever the fit (fill leaves it).
        let w = geometry(input, Some(320), None, &fit(Fit::Cover)).unwrap();
        assert_eq!(w.canvas, (320, 261));
        let h = geometry(input, None, Some(320), &fit(Fit::Contain)).unwrap();
        assert_eq!(h.canvas, (392, 320));
        let f = geometry(input, Some(320), None, &fit(Fit::Fill)).unwrap();
        assert_eq!(f.canvas, (320, 2225));
    }

    #[test]
    fn without_enlargement_and_reduction() {
        let small = (100, 50);
        let opts = FitOptions {
            without_enlargement: true,
            ..fit(Fit::Cover)
        };
        // Cover 200x200 of a 100x50 image: no enlargement, crop to min(target, resized).
        let g = geometry(small, Some(200), Some(200), &opts).unwrap();
        assert_eq!(g.canvas, (100, 50));
        assert!(!g.resizes());
        // Cover 80x80: the shrink 50/80 < 1 is raised to 1, then cropped to 80x50.
        let g = geometry(small, Some(80), Some(80), &opts).unwrap();
        assert_eq!((g.resized, g.canvas), ((100, 50), (80, 50)));
        assert_eq!(g.source, Rect::new(10, 0, 80, 50));
        // Contain pads even without enlargement: canvas max(target, resized).
        let opts = FitOptions {
            without_enlargement: true,
            ..fit(Fit::Contain)
        };
        let g = geometry(small, Some(200), Some(200), &opts).unwrap();
        assert_eq!((g.scaled, g.canvas, g.offset), ((100, 50), (200, 200), (50, 75)));
        // Without reduction: a downscale keeps the input size.
        let opts = FitOptions {
            without_reduction: true,
            ..fit(Fit::Inside)
        };
        let g = geometry((1000, 800), Some(100), Some(100), &opts).unwrap();
        assert_eq!(g.canvas, (1000, 800));
        let g = geometry((10, 8), Some(100), Some(100), &opts).unwrap();
        assert_eq!(g.canvas, (100, 80));
    }

    #[test]
    fn cover_crop_positions_and_source_mapping() {
        // 1000x700 -> 300x300: shrink 7/3 both ways, resized 429x300, crop 300x300.
        let at = |position| {
            geometry(
                (1000, 700),
                Some(300),
                Some(300),
                &FitOptions {
                    position,
                    ..Default::default()
                },
            )
            .unwrap()
        };
        let c = at(Gravity::Centre);
        assert_eq!(c.resized, (429, 300));
        assert_eq!(c.crop, Some(Rect::new(65, 0, 300, 300)));
        // 65 * 7/3 = 151.67 -> 152; (65 + 300) * 7/3 = 851.67 -> 852.
        assert_eq!(c.source, Rect::new(152, 0, 700, 700));
        assert_eq!(at(Gravity::Left).source, Rect::new(0, 0, 700, 700));
        assert_eq!(at(Gravity::TopLeft).source, Rect::new(0, 0, 700, 700));
        assert_eq!(at(Gravity::Right).crop.unwrap().x, 129);
        assert_eq!(at(Gravity::Right).source, Rect::new(301, 0, 699, 700));
        assert_eq!(
            at(Gravity::BottomRight).source.x + at(Gravity::BottomRight).source.width,
            1000
        );
        // Portrait: the vertical axis is cropped.
        let p = geometry(
            (700, 1000),
            Some(300),
            Some(300),
            &FitOptions {
                position: Gravity::Bottom,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(p.crop, Some(Rect::new(0, 129, 300, 300)));
        assert_eq!(p.source.y + p.source.height, 1000);
        // Every source rectangle lies inside the input, whatever the sizes.
        for (iw, ih) in [(1, 1), (3, 1000), (999, 2), (4000, 3000)] {
            for (w, h) in [(1, 1), (7, 300), (1200, 630), (5000, 2)] {
                for position in Gravity::ALL {
                    let g = geometry(
                        (iw, ih),
                        Some(w),
                        Some(h),
                        &FitOptions {
                            position,
                            ..Default::default()
                        },
                    )
                    .unwrap();
                    g.source.check_inside(iw, ih).unwrap();
                    assert_eq!(g.canvas, (w.min(g.resized.0), h.min(g.resized.1)));
                }
            }
        }
    }

    #[test]
    fn contain_offsets_by_position() {
        let at = |position| {
            geometry(
                (400, 200),
                Some(300),
                Some(300),
                &FitOptions {
                    fit: Fit::Contain,
                    position,
                    ..Default::default()
                },
            )
            .unwrap()
        };
        assert_eq!(at(Gravity::Centre).scaled, (300, 150));
        assert_eq!(at(Gravity::Centre).offset, (0, 75));
        assert_eq!(at(Gravity::Top).offset, (0, 0));
        assert_eq!(at(Gravity::Bottom).offset, (0, 150));
        let odd = geometry(
            (400, 200),
            Some(300),
            Some(301),
            &FitOptions {
                fit: Fit::Contain,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(odd.offset, (0, 75));
    }

    #[test]
    fn bad_targets() {
        assert!(geometry((10, 10), Some(0), None, &FitOptions::default()).is_err());
        assert!(geometry((0, 10), Some(1), None, &FitOptions::default()).is_err());
        assert!("stretch".parse::<Fit>().is_err());
        for f in Fit::ALL {
            assert_eq!(f.name().parse::<Fit>().unwrap(), f);
        }
        // Never shrinks an axis to nothing.
        let g = geometry((3, 20000), Some(1), Some(1), &fit(Fit::Inside)).unwrap();
        assert_eq!(g.canvas, (1, 1));
    }
}
