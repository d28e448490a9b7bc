//! The interpolation kernels: their radius and their weight as a function of distance.
//!
//! Distances are in units of the kernel's own grid: input pixels when upscaling, output pixels
//! (input pixels divided by the scale factor) when downscaling, where the kernel is stretched.

use std::f64::consts::PI;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A resampling kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Kernel {
    /// Nearest neighbour: each output pixel copies the input pixel under its centre.
    Nearest,
    /// Linear interpolation (a triangle of radius 1); when downscaling, a triangle filter.
    Linear,
    /// Catmull-Rom cubic (B = 0, C = 1/2), radius 2: sharp, slight overshoot.
    Cubic,
    /// Mitchell-Netravali cubic (B = C = 1/3), radius 2: softer, little ringing.
    Mitchell,
    /// Lanczos windowed sinc, radius 2.
    Lanczos2,
    /// Lanczos windowed sinc, radius 3 (the default): the sharpest of the set.
    #[default]
    Lanczos3,
}

impl Kernel {
    /// Every kernel, for tests and help texts.
    pub const ALL: [Kernel; 6] =
        [Kernel::Nearest, Kernel::Linear, Kernel::Cubic, Kernel::Mitchell, Kernel::Lanczos2, Kernel::Lanczos3];

    /// The canonical name, as accepted by [`FromStr`].
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Nearest => "nearest",
            Kernel::Linear => "linear",
            Kernel::Cubic => "cubic",
            Kernel::Mitchell => "mitchell",
            Kernel::Lanczos2 => "lanczos2",
            Kernel::Lanczos3 => "lanczos3",
        }
    }

    /// Half the width of the kernel's non-zero part, in kernel-grid units.
    ///
    /// The weight is zero at and beyond the radius (for [`Kernel::Nearest`], which is handled
    /// apart, this is the half-width of its box).
    pub fn radius(self) -> f64 {
        match self {
            Kernel::Nearest => 0.5,
            Kernel::Linear => 1.0,
            Kernel::Cubic | Kernel::Mitchell | Kernel::Lanczos2 => 2.0,
            Kernel::Lanczos3 => 3.0,
        }
    }

    /// The (unnormalised) weight at distance `x`.
    pub fn weight(self, x: f64) -> f64 {
        let x = x.abs();
        match self {
            Kernel::Nearest => {
                if x < 0.5 {
                    1.0
                } else {
                    0.0
                }
            }
            Kernel::Linear => (1.0 - x).max(0.0),
            Kernel::Cubic => bicubic(x, 0.0, 0.5),
            Kernel::Mitchell => bicubic(x, 1.0 / 3.0, 1.0 / 3.0),
            Kernel::Lanczos2 => lanczos(x, 2.0),
            Kernel::Lanczos3 => lanczos(x, 3.0),
        }
    }
}

/// The Mitchell-Netravali family of cubics with parameters `b` and `c`, at `x >= 0`.
fn bicubic(x: f64, b: f64, c: f64) -> f64 {
    let (x2, x3) = (x * x, x * x * x);
    if x < 1.0 {
        ((12.0 - 9.0 * b - 6.0 * c) * x3 + (-18.0 + 12.0 * b + 6.0 * c) * x2 + (6.0 - 2.0 * b)) / 6.0
    } else if x < 2.0 {
        ((-b - 6.0 * c) * x3 + (6.0 * b + 30.0 * c) * x2 + (-12.0 * b - 48.0 * c) * x + (8.0 * b + 24.0 * c))
            / 6.0
    } else {
        0.0
    }
}

/// `sinc(x) * sinc(x / a)` inside `|x| < a`, at `x >= 0`.
fn lanczos(x: f64, a: f64) -> f64 {
    if x < 1e-12 {
        1.0
    } else if x < a {
        let px = PI * x;
        a * px.sin() * (px / a).sin() / (px * px)
    } else {
        0.0
    }
}

impl FromStr for Kernel {
    type Err = Error;

    fn from_str(s: &str) -> Result<Kernel> {
        let lower = s.trim().to_ascii_lowercase();
        Kernel::ALL.iter().copied().find(|k| k.name() == lower).ok_or_else(|| {
            Error::parameter(format!(
                "unknown kernel {s:?}; expected one of nearest, linear, cubic, mitchell, lanczos2, lanczos3"
            ))
        })
    }
}

impl std::fmt::Display for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Kernel::ALL {
            assert_eq!(k.name().parse::<Kernel>().unwrap(), k);
        }
        assert!("bilinear-ish".parse::<Kernel>().is_err());
        assert_eq!(Kernel::default(), Kernel::Lanczos3);
    }

    #[test]
    fn kernels_interpolate() {
        for k in Kernel::ALL {
            if k == Kernel::Mitchell {
                // Mitchell is not interpolating: 8/9 at 0, 1/18 at 1.
                assert!((k.weight(0.0) - 8.0 / 9.0).abs() < 1e-12);
                assert!((k.weight(1.0) - 1.0 / 18.0).abs() < 1e-12);
                continue;
            }
            assert!((k.weight(0.0) - 1.0).abs() < 1e-12, "{k}");
            assert!(k.weight(1.0).abs() < 1e-12, "{k}");
            assert_eq!(k.weight(k.radius()), 0.0, "{k} at its radius");
        }
        assert_eq!(Kernel::Mitchell.weight(2.0), 0.0);
    }
}
