//! What a JPEG says about itself before any pixel is decoded: size, components, sampling, colour
//! space, EXIF orientation, ICC profile, JFIF and Adobe markers.
//!
//! The ICC profile is not assembled by reading the headers or by decoding: the walk only notes
//! where its `APP2` chunks lie and how long they are (on the stack, whatever the number of
//! segments), so [`JpegMetadata::icc_profile_len`] is known from the headers and
//! [`read_icc_profile`] assembles the profile, bounded by [`crate::codec::icc::MAX_ICC_PROFILE_BYTES`],
//! only when asked.

use super::markers::{parse, ParseMode};
use crate::codec::icc::{check_icc_len, MAX_ICC_PROFILE_BYTES};
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
    /// Bytes of the ICC profile carried in APP2 chunks before the first scan, if they form a
    /// complete set (read it with [`read_icc_profile`]; it may exceed the cap that applies then).
    pub icc_profile_len: Option<usize>,
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

/// Reads and assembles the ICC profile of a JPEG (its `APP2` chunks before the first scan, in
/// sequence order); `None` if there is none or the chunks are not a complete set.
///
/// Heap: the profile only. A profile over [`MAX_ICC_PROFILE_BYTES`] is refused with
/// [`crate::Error::Limits`] before anything is allocated.
pub fn read_icc_profile(input: &Input) -> Result<Option<Vec<u8>>> {
    let parsed = parse(input, ParseMode::Metadata)?;
    let Some(len) = parsed.icc.len() else { return Ok(None) };
    check_icc_len(len)?;
    let mut profile = vec![0u8; len];
    let mut at = 0;
    for &(start, chunk_len) in &parsed.icc.chunks[1..=parsed.icc.count as usize] {
        // Read by position; the walk checked every chunk lies inside the input.
        at += input.read_at(start, &mut profile[at..at + chunk_len as usize])?;
    }
    Ok(Some(profile))
}

/// Where the ICC chunks of a JPEG lie, collected during the marker walk without allocating: one
/// slot per sequence number (1..=255), so the number of APP2 segments does not matter.
#[derive(Clone)]
pub(crate) struct IccChunks {
    /// Per sequence number: start of the chunk's data in the file and its length (0: not seen).
    chunks: [(usize, u16); 256],
    /// The chunk count the first chunk declared (0: no chunk seen).
    count: u8,
    /// Set when the chunks contradict each other (different counts, a repeated or out-of-range
    /// sequence number): the profile is then ignored, as libjpeg's reader does.
    broken: bool,
}

impl IccChunks {
    /// No chunk seen.
    pub(crate) fn new() -> IccChunks {
        IccChunks { chunks: [(0, 0); 256], count: 0, broken: false }
    }

    /// Notes one chunk: its sequence number and count (bytes 12 and 13 of the APP2 body), and
    /// where its data (after those) lies.
    pub(crate) fn add(&mut self, seq: u8, count: u8, start: usize, len: usize) {
        if self.count == 0 {
            self.count = count;
        }
        let slot = seq as usize;
        if count != self.count || seq == 0 || seq > count || self.chunks[slot].1 != 0 || len == 0 {
            self.broken = true;
            return;
        }
        // An APP2 body is at most 65533 bytes, 14 of them the header.
        self.chunks[slot] = (start, len as u16);
    }

    /// Bytes of the assembled profile, if the chunks form a complete set.
    pub(crate) fn len(&self) -> Option<usize> {
        if self.count == 0 || self.broken {
            return None;
        }
        let chunks = &self.chunks[1..=self.count as usize];
        if chunks.iter().any(|c| c.1 == 0) {
            return None;
        }
        let len: usize = chunks.iter().map(|c| c.1 as usize).sum();
        debug_assert!(len <= 255 * 65519 && MAX_ICC_PROFILE_BYTES > 0);
        Some(len)
    }
}

/// The size of an image of `width` x `height` decoded at 1/`denominator` scale: each side divided
/// and rounded up, as libjpeg does (`jdiv_round_up`).
pub fn scaled_size(width: u32, height: u32, denominator: u8) -> (u32, u32) {
    let d = denominator.max(1) as u32;
    (width.div_ceil(d), height.div_ceil(d))
}
