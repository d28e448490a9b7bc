//! AVIF's registry entry: written (with the `avif` cargo feature), not read, and the encoder
//! built from the job's options.
//!
//! The options that apply, with sharp's conventions: `--quality` 1..=100 (default 50),
//! `--alpha-quality` 1..=100 (default: the quality), `--effort` 0..=9 (default 4; rav1e speed
//! `10 - effort`) and `--bit-depth` 8 or 10 (default 8). Any other option is an error naming it.

use std::sync::Arc;

use crate::codec::registry::{iso_brand, Codec};
use crate::codec::spec::EncoderSpec;
use crate::codec::{EncodeOption, EncodeOptions, Format};
use crate::error::Result;

/// AVIF in the registry. Input is a typed [`crate::Error::Unsupported`] (no decoder yet).
pub const CODEC: Codec = Codec {
    format: Format::Avif,
    name: "avif",
    label: "AVIF",
    aliases: &[],
    extensions: &["avif"],
    sniff: |b| iso_brand(b, &[b"avif", b"avis"]),
    decoder: None,
    encoder: Some(encoder),
};

/// The options the AVIF encoder takes.
pub const OPTIONS: &[EncodeOption] = &[EncodeOption::Quality, EncodeOption::AlphaQuality, EncodeOption::Effort, EncodeOption::BitDepth];

/// The AVIF encoder for `options`, or an [`crate::Error::Unsupported`] naming the `avif` cargo
/// feature when stripflow was built without it (checked after the options, so a wrong option is
/// reported as such either way).
fn encoder(options: &EncodeOptions) -> Result<Arc<dyn EncoderSpec>> {
    options.only("AVIF", OPTIONS)?;
    let quality = options.quality.map(|q| EncodeOptions::in_range("AVIF", EncodeOption::Quality, q, 1..=100)).transpose()?;
    let alpha_quality =
        options.alpha_quality.map(|q| EncodeOptions::in_range("AVIF", EncodeOption::AlphaQuality, q, 1..=100)).transpose()?;
    let effort = options.effort.map(|e| EncodeOptions::in_range("AVIF", EncodeOption::Effort, e, 0..=9)).transpose()?;
    let ten_bits = match options.bit_depth {
        None | Some(8) => false,
        Some(10) => true,
        Some(d) => return Err(crate::Error::parameter(format!("AVIF bit-depth {d} is not 8 or 10"))),
    };
    make(quality, alpha_quality, effort, ten_bits)
}

#[cfg(feature = "avif")]
fn make(quality: Option<u8>, alpha_quality: Option<u8>, effort: Option<u8>, ten_bits: bool) -> Result<Arc<dyn EncoderSpec>> {
    use super::encode::{AvifBitDepth, AvifEncoder};
    let defaults = AvifEncoder::default();
    let quality = quality.unwrap_or(defaults.quality);
    Ok(Arc::new(AvifEncoder {
        quality,
        alpha_quality: alpha_quality.unwrap_or(quality),
        effort: effort.unwrap_or(defaults.effort),
        bit_depth: if ten_bits { AvifBitDepth::Ten } else { AvifBitDepth::Eight },
        ..defaults
    }))
}

#[cfg(not(feature = "avif"))]
fn make(_quality: Option<u8>, _alpha_quality: Option<u8>, _effort: Option<u8>, _ten_bits: bool) -> Result<Arc<dyn EncoderSpec>> {
    Err(crate::Error::unsupported(
        "AVIF",
        "output: this build of stripflow has no AVIF encoder (build the library with the `avif` cargo feature; the stripflow CLI enables it)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::registry;
    use crate::Error;

    #[test]
    fn avif_input_is_unsupported_and_names_avif() {
        let avif = b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf";
        let input = crate::io::Input::from_bytes(avif.to_vec());
        let e = registry::read_header(&input).unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{e:?}");
        assert!(e.to_string().to_ascii_lowercase().contains("avif"), "{e}");
    }

    #[test]
    fn options_that_do_not_apply_or_are_out_of_range_are_parameter_errors() {
        let o = EncodeOptions { compression: Some(6), ..Default::default() };
        let e = encoder(&o).unwrap_err().to_string();
        assert!(e.contains("--compression does not apply to AVIF output"), "{e}");
        for (o, says) in [
            (EncodeOptions { quality: Some(0), ..Default::default() }, "quality 0 is not in 1..=100"),
            (EncodeOptions { alpha_quality: Some(101), ..Default::default() }, "alpha-quality 101"),
            (EncodeOptions { effort: Some(10), ..Default::default() }, "effort 10 is not in 0..=9"),
            (EncodeOptions { bit_depth: Some(12), ..Default::default() }, "bit-depth 12 is not 8 or 10"),
        ] {
            let e = encoder(&o).unwrap_err();
            assert!(matches!(e, Error::Parameter(_)) && e.to_string().contains(says), "{e}");
        }
    }

    #[cfg(not(feature = "avif"))]
    #[test]
    fn without_the_feature_avif_output_is_unsupported_naming_the_feature() {
        let e = registry::encoder(Format::Avif, &EncodeOptions::default()).unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }) && e.to_string().contains("`avif` cargo feature"), "{e}");
    }

    #[cfg(feature = "avif")]
    #[test]
    fn defaults_follow_sharp_and_alpha_quality_follows_quality() {
        let o = EncodeOptions { quality: Some(70), effort: Some(6), bit_depth: Some(10), ..Default::default() };
        let e = encoder(&o).unwrap();
        assert_eq!(e.detail(), "quality 70, alpha quality 70, effort 6 (rav1e speed 4), 10-bit");
        let e = encoder(&EncodeOptions::default()).unwrap();
        assert_eq!(e.detail(), "quality 50, alpha quality 50, effort 4 (rav1e speed 6), 8-bit");
        assert_eq!(e.kind(), crate::codec::EncoderKind::WholeFrame);
    }
}
