//! What a JPEG says about itself before any pixel is decoded: size, components, sampling, colour
//! space, EXIF orientation, ICC profile, JFIF and Adobe markers.

use super::markers::{parse, ParseMode};
use crate::error::Result;
use crate::io::Input;

/// The colour space of the coded components, as libjpeg infers it (JFIF, Adobe APP14, component
/// identifiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JpegColorSpace {
    /// One luminance component.
    Gray,
    /// Luminance and two colour differences (JFIF).
    YCbCr,
    /// Red, green, blue coded directly (Adobe transform 0, or component ids 'R','G','B').
    Rgb,
    /// Cyan, magenta, yellow, black (Adobe transform 0 with four components), stored inverted as
    /// Photoshop writes it.
    Cmyk,
    /// YCbCr plus black (Adobe transform 2).
    Ycck,
}

impl JpegColorSpace {
    /// Lower-case name, for `stripflow info`.
    pub fn name(self) -> &'static str {
        match self {
            JpegColorSpace::Gray => "gray",
            JpegColorSpace::YCbCr => "ycbcr",
            JpegColorSpace::Rgb => "rgb",
            JpegColorSpace::Cmyk => "cmyk",
            JpegColorSpace::Ycck => "ycck",
        }
    }
}

/// Facts from a JPEG's headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JpegMetadata {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels (from the frame header, or from the DNL segment when that says 0).
    pub height: u32,
    /// Number of components (1, 3 or 4).
    pub components: u8,
    /// Whether the frame is progressive (SOF2).
    pub progressive: bool,
    /// Horizontal and vertical sampling factor of each component, in frame order.
    pub sampling: Vec<(u8, u8)>,
    /// Colour space of the components.
    pub color_space: JpegColorSpace,
    /// EXIF orientation 1..=8 from APP1, if present.
    pub orientation: Option<u8>,
    /// The ICC profile from APP2, its chunks reassembled in order, if present and complete.
    pub icc_profile: Option<Vec<u8>>,
    /// Whether a JFIF APP0 segment is present.
    pub jfif: bool,
    /// The transform flag of an Adobe APP14 segment, if present.
    pub adobe_transform: Option<u8>,
    /// The restart interval in MCUs in force at the first scan (0: none).
    pub restart_interval: u16,
    /// Bits per sample (8; 12 is reported by `read_metadata` but not decoded).
    pub bits_per_sample: u8,
}

/// Reads a JPEG's metadata from its headers, without entropy decoding.
///
/// The walk stops at the first scan, unless the frame's height is 0, in which case the markers
/// after it are walked to find the DNL segment. The input is read by position through a bounded
/// window (segments that are not parsed are skipped unread).
pub fn read_metadata(input: &Input) -> Result<JpegMetadata> {
    Ok(parse(input, ParseMode::Metadata)?.metadata)
}

/// The size of an image of `width` x `height` decoded at 1/`denominator` scale: each side divided
/// and rounded up, as libjpeg does (`jdiv_round_up`).
pub fn scaled_size(width: u32, height: u32, denominator: u8) -> (u32, u32) {
    let d = denominator.max(1) as u32;
    (width.div_ceil(d), height.div_ceil(d))
}
