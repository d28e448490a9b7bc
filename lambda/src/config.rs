//! The function's configuration: the recipe (one output per size and format), the destination
//! bucket and prefix, the memory reserve and the transfer sizes, read once at cold start from a
//! JSON document and/or environment variables.
//!
//! Sources, later ones overriding earlier ones field by field:
//! 1. defaults (one 256 px JPEG thumbnail, quality 80, fit `inside`);
//! 2. a JSON document, inline in `STRIPFLOW_CONFIG` or in the file `STRIPFLOW_CONFIG_FILE`
//!    (the shape of [`FileConfig`]);
//! 3. single variables: `STRIPFLOW_DEST_BUCKET`, `STRIPFLOW_DEST_PREFIX`, `STRIPFLOW_SIZES`
//!    (`256,1024x768`), `STRIPFLOW_FORMATS` (`jpeg,webp`), `STRIPFLOW_QUALITY`, `STRIPFLOW_FIT`,
//!    `STRIPFLOW_RESERVE_MB`, `STRIPFLOW_S3_FORCE_PATH_STYLE`. `STRIPFLOW_SIZES` or
//!    `STRIPFLOW_FORMATS` replace the JSON outputs with their cross product.
//!
//! The function's memory comes from `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (MB), which Lambda sets.

use std::collections::HashMap;
use std::str::FromStr;

use serde::Deserialize;
use stripflow::codec::{registry, Codec, EncodeOptions};
use stripflow::prelude::{Fit, Format};

use crate::error::FunctionError;

/// Memory kept out of the plan's budget by default, MB: the runtime, the S3 client and its TLS
/// and connection buffers, the binary's own pages and the allocator's slack (measured: the
/// function's RSS with no image job running is about 12 MB; see the README).
pub const DEFAULT_RESERVE_MB: u64 = 48;

/// Objects up to this size are sent with one `PutObject`; larger ones in multipart parts.
pub const DEFAULT_MULTIPART_THRESHOLD: u64 = 8 << 20;

/// Size of a multipart upload part (S3's minimum for all but the last part is 5 MiB).
pub const DEFAULT_PART_SIZE: u64 = 8 << 20;

/// One output of the recipe.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// Name in the output key (`photo-<name>.jpg`); by default the size (`256x256`).
    #[serde(default)]
    pub name: Option<String>,
    /// Target width in pixels.
    pub width: Option<u32>,
    /// Target height in pixels (the width's value when only the width is given).
    #[serde(default)]
    pub height: Option<u32>,
    /// Output format name (`jpeg`, `png`, `webp`, `tiff`).
    #[serde(default = "default_format")]
    pub format: String,
    /// Encoder quality (JPEG, lossy WebP).
    #[serde(default)]
    pub quality: Option<u8>,
    /// How the image fits the box (`cover`, `contain`, `fill`, `inside`, `outside`).
    #[serde(default = "default_fit")]
    pub fit: String,
}

fn default_format() -> String {
    "jpeg".into()
}

fn default_fit() -> String {
    "inside".into()
}

/// The JSON document (`STRIPFLOW_CONFIG` / `STRIPFLOW_CONFIG_FILE`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Destination bucket (the source bucket when absent).
    pub dest_bucket: Option<String>,
    /// Prefix of every output key.
    pub dest_prefix: Option<String>,
    /// The outputs.
    pub outputs: Option<Vec<OutputSpec>>,
    /// Memory kept out of the plan's budget, MB.
    pub reserve_mb: Option<u64>,
    /// Size above which an output is uploaded in parts, bytes.
    pub multipart_threshold: Option<u64>,
    /// Multipart part size, bytes.
    pub part_size: Option<u64>,
    /// Address buckets by path (`http://host/bucket/key`), for S3-compatible servers.
    pub force_path_style: Option<bool>,
}

/// One output, checked: what the job runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// Name in the output key.
    pub name: String,
    /// Target box.
    pub width: u32,
    /// Target box.
    pub height: u32,
    /// Output format.
    pub format: Format,
    /// Usual file extension of the format.
    pub extension: &'static str,
    /// Encoder quality, if set.
    pub quality: Option<u8>,
    /// Fit mode.
    pub fit: Fit,
}

/// The whole configuration, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Destination bucket (`None`: the source object's bucket).
    pub dest_bucket: Option<String>,
    /// Prefix of every output key.
    pub dest_prefix: String,
    /// The outputs, in order.
    pub outputs: Vec<Output>,
    /// The function's memory, MB (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`).
    pub memory_mb: u64,
    /// Memory kept out of the plan's budget, MB.
    pub reserve_mb: u64,
    /// Size above which an output is uploaded in parts, bytes.
    pub multipart_threshold: u64,
    /// Multipart part size, bytes.
    pub part_size: u64,
    /// Address buckets by path.
    pub force_path_style: bool,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, FunctionError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Reads the configuration from `vars` (the environment, or a test's map).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Config, FunctionError> {
        let var = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let json = match (var("STRIPFLOW_CONFIG"), var("STRIPFLOW_CONFIG_FILE")) {
            (Some(text), _) => Some(text.to_string()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| FunctionError::Config(format!("cannot read STRIPFLOW_CONFIG_FILE {path}: {e}")))?,
            ),
            (None, None) => None,
        };
        let file: FileConfig = match json {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| FunctionError::Config(format!("the JSON configuration is invalid: {e}")))?,
            None => FileConfig::default(),
        };

        let mut specs = file.outputs.clone().unwrap_or_else(|| vec![default_output()]);
        let sizes = var("STRIPFLOW_SIZES");
        let formats = var("STRIPFLOW_FORMATS");
        if sizes.is_some() || formats.is_some() {
            let sizes = match sizes {
                Some(list) => list.split(',').map(parse_size).collect::<Result<Vec<_>, _>>()?,
                None => vec![(specs[0].width, specs[0].height)],
            };
            let formats: Vec<String> = match formats {
                Some(list) => list.split(',').map(|f| f.trim().to_string()).collect(),
                None => vec![specs[0].format.clone()],
            };
            specs = sizes
                .iter()
                .flat_map(|&(width, height)| {
                    formats.iter().map(move |format| OutputSpec { width, height, format: format.clone(), ..default_output() })
                })
                .collect();
        }
        for spec in &mut specs {
            // The one quality applies to the outputs whose format takes one (JPEG, lossy WebP).
            if let Some(q) = var("STRIPFLOW_QUALITY") {
                let q = q
                    .parse()
                    .ok()
                    .filter(|q| (1..=100).contains(q))
                    .ok_or_else(|| FunctionError::Config(format!("STRIPFLOW_QUALITY {q:?} is not 1..=100")))?;
                if registry::by_name(&spec.format).is_ok_and(|codec| takes_quality(codec, q)) {
                    spec.quality = Some(q);
                }
            }
            if let Some(fit) = var("STRIPFLOW_FIT") {
                spec.fit = fit.to_string();
            }
        }
        let outputs = specs.iter().map(check_output).collect::<Result<Vec<_>, _>>()?;
        if outputs.is_empty() {
            return Err(FunctionError::Config("the recipe has no outputs".into()));
        }

        let number = |name: &str| -> Result<Option<u64>, FunctionError> {
            var(name).map(|v| v.parse().map_err(|_| FunctionError::Config(format!("{name} {v:?} is not a number")))).transpose()
        };
        let memory_mb = number("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")?.unwrap_or(128);
        let reserve_mb = number("STRIPFLOW_RESERVE_MB")?.or(file.reserve_mb).unwrap_or(DEFAULT_RESERVE_MB);
        if reserve_mb >= memory_mb {
            return Err(FunctionError::Config(format!(
                "the reserve ({reserve_mb} MB) leaves nothing of the function's {memory_mb} MB for images"
            )));
        }
        let part_size = file.part_size.unwrap_or(DEFAULT_PART_SIZE);
        if part_size < 5 << 20 {
            return Err(FunctionError::Config(format!("part_size {part_size} is below S3's 5 MiB minimum")));
        }
        let force_path_style = match var("STRIPFLOW_S3_FORCE_PATH_STYLE") {
            Some(v) => matches!(v, "1" | "true" | "yes"),
            None => file.force_path_style.unwrap_or(false),
        };
        Ok(Config {
            dest_bucket: var("STRIPFLOW_DEST_BUCKET").map(str::to_string).or(file.dest_bucket),
            dest_prefix: var("STRIPFLOW_DEST_PREFIX").map(str::to_string).or(file.dest_prefix).unwrap_or_default(),
            outputs,
            memory_mb,
            reserve_mb,
            multipart_threshold: file.multipart_threshold.unwrap_or(DEFAULT_MULTIPART_THRESHOLD),
            part_size,
            force_path_style,
        })
    }

    /// The heap the plans may use: the function's memory less the reserve, bytes.
    pub fn plan_budget_bytes(&self) -> usize {
        ((self.memory_mb - self.reserve_mb) << 20) as usize
    }
}

fn default_output() -> OutputSpec {
    OutputSpec { name: None, width: Some(256), height: None, format: default_format(), quality: None, fit: default_fit() }
}

/// Whether `codec`'s encoder accepts `quality` (its factory refuses options that do not apply).
fn takes_quality(codec: &Codec, quality: u8) -> bool {
    let options = EncodeOptions { quality: Some(quality), ..EncodeOptions::default() };
    codec.encoder.is_some_and(|make| make(&options).is_ok())
}

/// `256` (a square box) or `1024x768`.
fn parse_size(text: &str) -> Result<(Option<u32>, Option<u32>), FunctionError> {
    let bad = || FunctionError::Config(format!("size {text:?} is not N or WxH"));
    let text = text.trim();
    match text.split_once('x') {
        Some((w, h)) => Ok((Some(w.parse().map_err(|_| bad())?), Some(h.parse().map_err(|_| bad())?))),
        None => Ok((Some(text.parse().map_err(|_| bad())?), None)),
    }
}

fn check_output(spec: &OutputSpec) -> Result<Output, FunctionError> {
    let width = spec.width.filter(|&w| w > 0).ok_or_else(|| FunctionError::Config("an output needs a width > 0".into()))?;
    let height = spec.height.unwrap_or(width);
    if height == 0 {
        return Err(FunctionError::Config("an output's height must be > 0".into()));
    }
    let codec = registry::by_name(&spec.format).map_err(|e| FunctionError::Config(e.to_string()))?;
    let name = spec.name.clone().unwrap_or_else(|| format!("{width}x{height}"));
    // The encoder is made once here, so an option it refuses (a quality for PNG, quality 0)
    // stops the cold start instead of failing every upload.
    let make = codec.encoder.ok_or_else(|| FunctionError::Config(format!("stripflow does not write {}", codec.label)))?;
    make(&EncodeOptions { quality: spec.quality, ..EncodeOptions::default() })
        .map_err(|e| FunctionError::Config(format!("output {name}: {e}")))?;
    let fit = Fit::from_str(&spec.fit).map_err(|e| FunctionError::Config(e.to_string()))?;
    if name.is_empty() || name.contains('/') {
        return Err(FunctionError::Config(format!("output name {name:?} must be non-empty, without '/'")));
    }
    Ok(Output { name, width, height, format: codec.format, extension: codec.extensions[0], quality: spec.quality, fit })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_are_one_jpeg_thumbnail_at_128_mb() {
        let c = Config::from_vars(&vars(&[])).unwrap();
        assert_eq!(c.outputs.len(), 1);
        assert_eq!((c.outputs[0].width, c.outputs[0].height, c.outputs[0].format), (256, 256, Format::Jpeg));
        assert_eq!(c.memory_mb, 128);
        assert_eq!(c.plan_budget_bytes(), ((128 - DEFAULT_RESERVE_MB) << 20) as usize);
    }

    #[test]
    fn env_sizes_and_formats_make_the_cross_product() {
        let c = Config::from_vars(&vars(&[
            ("STRIPFLOW_SIZES", "256, 1024x768"),
            ("STRIPFLOW_FORMATS", "jpeg,png"),
            ("STRIPFLOW_QUALITY", "70"), // PNG takes no quality: it applies to the JPEGs
            ("STRIPFLOW_FIT", "cover"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"),
        ]))
        .unwrap();
        let got: Vec<_> = c.outputs.iter().map(|o| (o.name.as_str(), o.extension, o.quality, o.fit)).collect();
        assert_eq!(
            got,
            [
                ("256x256", "jpg", Some(70), Fit::Cover),
                ("256x256", "png", None, Fit::Cover),
                ("1024x768", "jpg", Some(70), Fit::Cover),
                ("1024x768", "png", None, Fit::Cover)
            ]
        );
        assert_eq!(c.memory_mb, 512);
    }

    #[test]
    fn json_then_env_overrides() {
        let json = r#"{"dest_bucket":"out","dest_prefix":"thumbs/","reserve_mb":30,
            "outputs":[{"name":"big","width":4096,"format":"webp","fit":"inside"}]}"#;
        let c = Config::from_vars(&vars(&[("STRIPFLOW_CONFIG", json), ("STRIPFLOW_DEST_PREFIX", "p/")])).unwrap();
        assert_eq!(c.dest_bucket.as_deref(), Some("out"));
        assert_eq!(c.dest_prefix, "p/");
        assert_eq!(c.reserve_mb, 30);
        assert_eq!(c.outputs[0].name, "big");
        assert_eq!(c.outputs[0].format, Format::Webp);
    }

    #[test]
    fn bad_settings_are_config_errors() {
        for bad in [
            vec![("STRIPFLOW_FORMATS", "gif")],
            vec![("STRIPFLOW_SIZES", "big")],
            vec![("STRIPFLOW_FIT", "squash")],
            vec![("STRIPFLOW_QUALITY", "0")],
            vec![("STRIPFLOW_CONFIG", "{\"outputs\":[{\"width\":64,\"format\":\"png\",\"quality\":80}]}")],
            vec![("STRIPFLOW_CONFIG", "{\"outputs\":[{\"width\":1,\"colour\":3}]}")],
            vec![("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "32")],
        ] {
            let err = Config::from_vars(&vars(&bad)).unwrap_err();
            assert!(matches!(err, FunctionError::Config(_)), "{bad:?}: {err:?}");
        }
    }
}
