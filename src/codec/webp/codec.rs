//! WebP's registry entry: written (lossy and lossless), not read yet.
//!
//! The encoder constructor maps the job's options onto [`WebpEncoder`] and picks the library:
//! lossy output needs libwebp (the `webp-lossy` feature); lossless output uses libwebp when the
//! feature is on (so `--effort` and `--near-lossless` are honoured), image-webp otherwise, where
//! those two options are typed errors rather than ignored.

use std::sync::Arc;

use super::encode::{needs_libwebp, WebpEncoder, WebpLibrary};
use crate::codec::registry::Codec;
use crate::codec::spec::EncoderSpec;
use crate::codec::{EncodeOption, EncodeOptions, Format};
use crate::error::{Error, Result};

/// WebP in the registry.
pub const CODEC: Codec = Codec {
    format: Format::Webp,
    name: "webp",
    label: "WebP",
    aliases: &[],
    extensions: &["webp"],
    sniff: |b| b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP",
    decoder: None,
    encoder: Some(encoder),
};

/// The options WebP output takes.
const WEBP_OPTIONS: [EncodeOption; 6] = [
    EncodeOption::Quality,
    EncodeOption::AlphaQuality,
    EncodeOption::Lossless,
    EncodeOption::NearLossless,
    EncodeOption::Effort,
    EncodeOption::SmartSubsample,
];

/// The WebP encoder for `options` (see the module doc for which library encodes).
pub fn encoder(options: &EncodeOptions) -> Result<Arc<dyn EncoderSpec>> {
    Ok(Arc::new(webp_encoder(options)?))
}

/// [`encoder`], as the concrete type.
pub fn webp_encoder(options: &EncodeOptions) -> Result<WebpEncoder> {
    options.only("WebP", &WEBP_OPTIONS)?;
    let range = |option, value: Option<u8>, range| value.map(|v| EncodeOptions::in_range("WebP", option, v, range)).transpose();
    let quality = range(EncodeOption::Quality, options.quality, 1..=100)?;
    let alpha_quality = range(EncodeOption::AlphaQuality, options.alpha_quality, 0..=100)?;
    let near_lossless = range(EncodeOption::NearLossless, options.near_lossless, 0..=100)?;
    let effort = range(EncodeOption::Effort, options.effort, 0..=6)?;
    if options.lossless == Some(false) && near_lossless.is_some() {
        return Err(Error::parameter("--near-lossless is a lossless mode; it cannot be combined with lossless off"));
    }
    let lossless = options.lossless == Some(true) || near_lossless.is_some();
    let defaults = WebpEncoder::default();
    let mut encoder = WebpEncoder {
        lossless,
        quality: quality.unwrap_or(defaults.quality),
        alpha_quality: alpha_quality.unwrap_or(defaults.alpha_quality),
        near_lossless: near_lossless.unwrap_or(100),
        effort: effort.unwrap_or(defaults.effort),
        smart_subsample: options.smart_subsample.unwrap_or(false),
        library: WebpLibrary::Libwebp,
    };
    if lossless {
        for (option, set) in [
            (EncodeOption::Quality, quality.is_some()),
            (EncodeOption::AlphaQuality, alpha_quality.is_some()),
            (EncodeOption::SmartSubsample, options.smart_subsample.is_some()),
        ] {
            if set {
                return Err(Error::parameter(format!(
                    "{} applies to lossy WebP; lossless WebP takes --effort and --near-lossless",
                    option.flag()
                )));
            }
        }
        encoder.library = WebpLibrary::lossless_default();
        if encoder.library == WebpLibrary::ImageWebp && (effort.is_some() || near_lossless.is_some()) {
            let option = if near_lossless.is_some() { "--near-lossless" } else { "--effort" };
            return Err(needs_libwebp(&format!("lossless WebP with {option}")));
        }
    } else if !cfg!(feature = "webp-lossy") {
        return Err(needs_libwebp("lossy WebP (the default; --quality, --alpha-quality, --smart-subsample)"));
    }
    Ok(encoder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_map_onto_the_encoder_or_are_typed_errors() {
        let e = webp_encoder(&EncodeOptions { compression: Some(6), ..Default::default() }).unwrap_err().to_string();
        assert!(e.contains("--compression does not apply to WebP output"), "{e}");
        let e = webp_encoder(&EncodeOptions { effort: Some(7), ..Default::default() }).unwrap_err().to_string();
        assert!(e.contains("WebP effort 7 is not in 0..=6"), "{e}");
        let e = webp_encoder(&EncodeOptions { lossless: Some(true), quality: Some(80), ..Default::default() }).unwrap_err();
        assert!(matches!(e, Error::Parameter(_)) && e.to_string().contains("--quality applies to lossy WebP"), "{e}");
        let e = webp_encoder(&EncodeOptions { lossless: Some(false), near_lossless: Some(60), ..Default::default() }).unwrap_err();
        assert!(matches!(e, Error::Parameter(_)), "{e}");

        let lossless = webp_encoder(&EncodeOptions { lossless: Some(true), ..Default::default() }).unwrap();
        assert!(lossless.lossless);
        assert_eq!(lossless.library, WebpLibrary::lossless_default());

        let near = EncodeOptions { near_lossless: Some(60), effort: Some(6), ..Default::default() };
        let lossy = EncodeOptions { quality: Some(75), alpha_quality: Some(50), smart_subsample: Some(true), ..Default::default() };
        if cfg!(feature = "webp-lossy") {
            let n = webp_encoder(&near).unwrap();
            assert!(n.lossless && n.near_lossless == 60 && n.effort == 6 && n.library == WebpLibrary::Libwebp);
            let l = webp_encoder(&lossy).unwrap();
            assert!(!l.lossless && l.quality == 75 && l.alpha_quality == 50 && l.smart_subsample);
            assert_eq!(webp_encoder(&EncodeOptions::default()).unwrap(), WebpEncoder::default());
        } else {
            for options in [near, lossy, EncodeOptions::default()] {
                let e = webp_encoder(&options).unwrap_err();
                assert!(matches!(e, Error::Unsupported { .. }) && e.to_string().contains("webp-lossy"), "{e}");
                assert!(e.to_string().contains("--lossless"), "{e}");
            }
        }
    }
}
