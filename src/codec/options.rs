//! Encoder options as a job sets them before the output format is known, and the rule that an
//! option which does not apply to the chosen format is an error, never silently dropped.
//!
//! The CLI maps each flag to one field of [`EncodeOptions`]; the library sets the same fields
//! through the `Chain` setters. Each format's encoder constructor (the registry's `encoder`
//! function) lists the options it takes with [`EncodeOptions::only`], then reads and validates
//! their values.

use crate::error::{Error, Result};

use super::jpeg::Subsampling;

/// Encoder options, as the CLI and a recipe set them without knowing the format yet. Each
/// format's encoder takes those that apply to it and refuses the others ([`Error::Parameter`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EncodeOptions {
    /// Quality 1..=100 (JPEG, lossy WebP, AVIF).
    pub quality: Option<u8>,
    /// Quality of the alpha channel 0..=100 (WebP, AVIF).
    pub alpha_quality: Option<u8>,
    /// Lossless compression (WebP).
    pub lossless: Option<bool>,
    /// Near-lossless preprocessing 0..=100, 100 being off (WebP; implies lossless).
    pub near_lossless: Option<u8>,
    /// CPU effort: WebP 0..=6, AVIF 0..=9 (higher is slower and smaller).
    pub effort: Option<u8>,
    /// Sharper RGB to YUV conversion for lossy WebP ("smart subsampling").
    pub smart_subsample: Option<bool>,
    /// Chroma subsampling (JPEG).
    pub subsampling: Option<Subsampling>,
    /// Progressive scans (JPEG).
    pub progressive: Option<bool>,
    /// Huffman tables fitted to the image (JPEG).
    pub optimize_coding: Option<bool>,
    /// Compression level 0..=9 (PNG).
    pub compression: Option<u8>,
    /// Compression method (TIFF).
    pub tiff_compression: Option<TiffCompression>,
    /// Bits per sample of the file: TIFF 8 or 16, AVIF 8 or 10.
    pub bit_depth: Option<u8>,
    /// What alpha is flattened onto by an encoder that cannot store it.
    pub background: [u8; 3],
}

/// A TIFF compression method.
///
/// LZW is the default: lossless, read by every TIFF reader, and on photos both faster and about
/// as small as deflate with the predictor (8192x8192 JPEG -> TIFF, whole process: LZW 5.2 s and
/// 81.5 MB, deflate level 1 5.6 s and 91.7 MB, level 6 41 s and 79.0 MB; `bench/compare_tiff.sh`).
/// A deflate level (`compression`, default 6 as libtiff's) alone selects deflate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TiffCompression {
    /// Uncompressed strips.
    None,
    /// LZW with horizontal differencing.
    #[default]
    Lzw,
    /// Deflate (zlib) with horizontal differencing.
    Deflate,
}

impl std::str::FromStr for TiffCompression {
    type Err = Error;
    /// Parses `none`, `lzw` or `deflate` (also `zip`).
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(TiffCompression::None),
            "lzw" => Ok(TiffCompression::Lzw),
            "deflate" | "zip" => Ok(TiffCompression::Deflate),
            _ => Err(Error::parameter(format!("TIFF compression '{s}' is not none, lzw or deflate"))),
        }
    }
}

/// One field of [`EncodeOptions`], to say which apply to a format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeOption {
    /// [`EncodeOptions::quality`].
    Quality,
    /// [`EncodeOptions::alpha_quality`].
    AlphaQuality,
    /// [`EncodeOptions::lossless`].
    Lossless,
    /// [`EncodeOptions::near_lossless`].
    NearLossless,
    /// [`EncodeOptions::effort`].
    Effort,
    /// [`EncodeOptions::smart_subsample`].
    SmartSubsample,
    /// [`EncodeOptions::subsampling`].
    Subsampling,
    /// [`EncodeOptions::progressive`].
    Progressive,
    /// [`EncodeOptions::optimize_coding`].
    OptimizeCoding,
    /// [`EncodeOptions::compression`].
    Compression,
    /// [`EncodeOptions::tiff_compression`].
    TiffCompression,
    /// [`EncodeOptions::bit_depth`].
    BitDepth,
}

impl EncodeOption {
    /// Every option, in the order messages list them.
    pub const ALL: [EncodeOption; 12] = [
        EncodeOption::Quality,
        EncodeOption::AlphaQuality,
        EncodeOption::Lossless,
        EncodeOption::NearLossless,
        EncodeOption::Effort,
        EncodeOption::SmartSubsample,
        EncodeOption::Subsampling,
        EncodeOption::Progressive,
        EncodeOption::OptimizeCoding,
        EncodeOption::Compression,
        EncodeOption::TiffCompression,
        EncodeOption::BitDepth,
    ];

    /// The CLI flag that sets it.
    pub fn flag(self) -> &'static str {
        match self {
            EncodeOption::Quality => "--quality",
            EncodeOption::AlphaQuality => "--alpha-quality",
            EncodeOption::Lossless => "--lossless",
            EncodeOption::NearLossless => "--near-lossless",
            EncodeOption::Effort => "--effort",
            EncodeOption::SmartSubsample => "--smart-subsample",
            EncodeOption::Subsampling => "--subsampling",
            EncodeOption::Progressive => "--progressive",
            EncodeOption::OptimizeCoding => "--optimize-coding",
            EncodeOption::Compression => "--compression",
            EncodeOption::TiffCompression => "--tiff-compression",
            EncodeOption::BitDepth => "--bit-depth",
        }
    }

    /// Its name for people ("alpha quality").
    pub fn name(self) -> &'static str {
        let flag = self.flag();
        &flag[2..]
    }
}

impl EncodeOptions {
    /// Whether `option` is set.
    pub fn is_set(&self, option: EncodeOption) -> bool {
        match option {
            EncodeOption::Quality => self.quality.is_some(),
            EncodeOption::AlphaQuality => self.alpha_quality.is_some(),
            EncodeOption::Lossless => self.lossless.is_some(),
            EncodeOption::NearLossless => self.near_lossless.is_some(),
            EncodeOption::Effort => self.effort.is_some(),
            EncodeOption::SmartSubsample => self.smart_subsample.is_some(),
            EncodeOption::Subsampling => self.subsampling.is_some(),
            EncodeOption::Progressive => self.progressive.is_some(),
            EncodeOption::OptimizeCoding => self.optimize_coding.is_some(),
            EncodeOption::Compression => self.compression.is_some(),
            EncodeOption::TiffCompression => self.tiff_compression.is_some(),
            EncodeOption::BitDepth => self.bit_depth.is_some(),
        }
    }

    /// The options that are set.
    pub fn set_options(&self) -> Vec<EncodeOption> {
        EncodeOption::ALL.into_iter().filter(|&o| self.is_set(o)).collect()
    }

    /// An [`Error::Parameter`] naming the first set option outside `applicable`, and what
    /// `format` takes instead; `Ok` when every set option applies.
    pub fn only(&self, format: &str, applicable: &[EncodeOption]) -> Result<()> {
        match self.set_options().into_iter().find(|o| !applicable.contains(o)) {
            None => Ok(()),
            Some(o) => {
                let takes: Vec<&str> = applicable.iter().map(|a| a.flag()).collect();
                let takes = if takes.is_empty() { "no encoder options".to_string() } else { takes.join(", ") };
                Err(Error::parameter(format!("{} does not apply to {format} output ({format} takes {takes})", o.flag())))
            }
        }
    }

    /// `value` if it lies in `range`, else an [`Error::Parameter`] naming the option and format.
    pub fn in_range(format: &str, option: EncodeOption, value: u8, range: std::ops::RangeInclusive<u8>) -> Result<u8> {
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(Error::parameter(format!(
                "{format} {} {value} is not in {}..={}",
                option.name(),
                range.start(),
                range.end()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_the_first_option_that_does_not_apply_and_what_does() {
        let o = EncodeOptions { quality: Some(80), progressive: Some(true), ..Default::default() };
        assert!(o.only("JPEG", &[EncodeOption::Quality, EncodeOption::Progressive]).is_ok());
        let e = o.only("PNG", &[EncodeOption::Compression]).unwrap_err().to_string();
        assert!(e.contains("--quality does not apply to PNG output (PNG takes --compression)"), "{e}");
        assert_eq!(o.set_options(), vec![EncodeOption::Quality, EncodeOption::Progressive]);
        assert!(EncodeOptions::in_range("WebP", EncodeOption::Effort, 7, 0..=6).unwrap_err().to_string().contains("effort 7"));
    }

    #[test]
    fn every_option_has_a_distinct_flag() {
        let mut flags: Vec<&str> = EncodeOption::ALL.iter().map(|o| o.flag()).collect();
        flags.sort();
        flags.dedup();
        assert_eq!(flags.len(), EncodeOption::ALL.len());
    }
}
