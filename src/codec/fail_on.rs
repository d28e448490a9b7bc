//! When a decoder gives up on damaged pixel data: sharp's `failOn`, for the levels stripflow can
//! tell apart.
//!
//! Two kinds of damage are distinguished:
//! * **truncation**: the file ends before its image data does (a JPEG without EOI or whose last
//!   scan runs to the end of the file, a PNG whose image data or chunk sequence is cut off);
//! * **corruption**: the data is all there but wrong (a bad Huffman code, a JPEG scan that ends
//!   before its last block at a marker, a CRC or Adler-32 mismatch, a bad zlib stream or PNG
//!   filter type).
//!
//! Damaged headers (what the image is: size, components, tables, palette) always fail, whatever
//! the level, as in sharp ("invalid metadata will always abort"): there is nothing sensible to
//! decode without them.

use std::str::FromStr;

use crate::error::{Error, Result};

/// When decoding damaged pixel data fails instead of rendering what can be decoded.
///
/// What a lenient decoder renders in place of what it cannot decode:
/// * JPEG: as libjpeg does after its "Corrupt JPEG data" warnings, the rest of the damaged scan
///   is zero coefficients (mid-grey for a sequential file; a progressive file keeps what earlier
///   scans set), or, when the file has restart markers, the rest of the damaged restart interval,
///   decoding resuming at the next marker. Decoding stops at the damage: a corrupt scan is never
///   read further than the point where it went wrong, so a damaged file costs no more time than
///   an intact one.
/// * PNG: the rows decoded before the damage, then rows of zero bytes (black, transparent where
///   there is alpha). CRC and Adler-32 mismatches are ignored (the data is used as it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FailOn {
    /// Never fail on damaged pixel data: decode whatever can be decoded.
    None,
    /// Fail on truncated input only; other corruption is rendered leniently.
    Truncated,
    /// Fail on any truncation or corruption (the default).
    #[default]
    Error,
}

impl FailOn {
    /// Whether truncated input is an error at this level.
    pub fn fails_on_truncation(self) -> bool {
        self != FailOn::None
    }

    /// Whether corrupt (but complete) input is an error at this level.
    pub fn fails_on_corruption(self) -> bool {
        self == FailOn::Error
    }

    /// Whether damage of the given kind is an error at this level.
    pub fn fails_on(self, truncated: bool) -> bool {
        if truncated {
            self.fails_on_truncation()
        } else {
            self.fails_on_corruption()
        }
    }

    /// The level's name as sharp and the CLI spell it: `none`, `truncated`, `error`.
    pub fn name(self) -> &'static str {
        match self {
            FailOn::None => "none",
            FailOn::Truncated => "truncated",
            FailOn::Error => "error",
        }
    }
}

impl FromStr for FailOn {
    type Err = Error;

    /// Parses `none`, `truncated` or `error` (sharp's `warning` is accepted as `error`: stripflow
    /// has no level stricter than failing on every error).
    fn from_str(s: &str) -> Result<FailOn> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(FailOn::None),
            "truncated" => Ok(FailOn::Truncated),
            "error" | "warning" => Ok(FailOn::Error),
            _ => Err(Error::parameter(format!("fail-on level {s:?} (use none, truncated or error)"))),
        }
    }
}

impl std::fmt::Display for FailOn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_as_in_sharp() {
        assert!(!FailOn::None.fails_on(true) && !FailOn::None.fails_on(false));
        assert!(FailOn::Truncated.fails_on(true) && !FailOn::Truncated.fails_on(false));
        assert!(FailOn::Error.fails_on(true) && FailOn::Error.fails_on(false));
        assert_eq!(FailOn::default(), FailOn::Error);
    }

    #[test]
    fn parses_the_cli_names() {
        for level in [FailOn::None, FailOn::Truncated, FailOn::Error] {
            assert_eq!(level.name().parse::<FailOn>().unwrap(), level);
        }
        assert_eq!("WARNING".parse::<FailOn>().unwrap(), FailOn::Error);
        assert!(matches!("lenient".parse::<FailOn>(), Err(Error::Parameter(_))));
    }
}
