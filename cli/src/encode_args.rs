//! The output format and its encoder options as flags: one flag per field of
//! [`stripflow::codec::EncodeOptions`]. An option that does not apply to the chosen format is
//! refused by the library, naming the flag and what the format takes.

use anyhow::Result;
use clap::Args;
use stripflow::codec::jpeg::Subsampling;
use stripflow::codec::{EncodeOptions, Format, TiffCompression};
use stripflow::plan::{Chain, Recipe};

/// Output format and encoder flags, shared by `convert` and `thumbnail`.
#[derive(Args, Debug, Default)]
#[command(next_help_heading = "Output format")]
pub struct EncodeArgs {
    /// Output format when it cannot be taken from OUT's extension: png, jpeg, webp, avif, tiff.
    #[arg(long)]
    pub format: Option<String>,
    /// Quality 1..=100: JPEG (default 85), lossy WebP (default 80), AVIF (default 50).
    #[arg(long)]
    quality: Option<u8>,
    /// WebP and AVIF: quality of the alpha channel 0..=100 (default 100).
    #[arg(long)]
    alpha_quality: Option<u8>,
    /// WebP: lossless compression.
    #[arg(long)]
    lossless: bool,
    /// WebP: near-lossless preprocessing 0..=100 (100 is off); implies --lossless.
    #[arg(long)]
    near_lossless: Option<u8>,
    /// CPU effort, higher is slower and smaller: WebP 0..=6 (default 4), AVIF 0..=9 (default 4).
    #[arg(long)]
    effort: Option<u8>,
    /// Lossy WebP: sharper RGB to YUV conversion ("smart subsampling").
    #[arg(long)]
    smart_subsample: bool,
    /// JPEG chroma subsampling: 420 (default), 422 or 444.
    #[arg(long)]
    subsampling: Option<String>,
    /// JPEG: progressive scans (the encoder holds the whole frame's coefficients; priced in the
    /// plan).
    #[arg(long)]
    progressive: bool,
    /// JPEG: Huffman tables fitted to the image (smaller; holds the frame's coefficients).
    #[arg(long)]
    optimize_coding: bool,
    /// Deflate level: PNG 0 (none), 1 (fast, default) .. 9 (smallest, slow); TIFF 0..=9
    /// (default 6), selecting deflate.
    #[arg(long)]
    compression: Option<u8>,
    /// TIFF compression: none, lzw (default) or deflate (--compression sets its level and
    /// alone selects it).
    #[arg(long)]
    tiff_compression: Option<String>,
    /// Bits per sample: TIFF 8 or 16 (default: the image's), AVIF 8 or 10 (default 8).
    #[arg(long)]
    bit_depth: Option<u8>,
}

/// Examples shown after `--help` of `convert`.
pub const EXAMPLES: &str = "\
Examples:
  stripflow convert in.jpg out.webp --quality 75 --effort 6
  stripflow convert in.png out.webp --lossless
  stripflow convert in.jpg out.avif --quality 50 --effort 4
  stripflow convert in.jpg out.jpg --quality 90 --progressive --subsampling 444
  stripflow convert in.png out.tif --tiff-compression lzw --bit-depth 16
  stripflow convert in.jpg - --format webp > out.webp";

impl EncodeArgs {
    /// The encoder options the flags set (the background is set elsewhere).
    pub fn options(&self) -> Result<EncodeOptions> {
        let flag = |on: bool| on.then_some(true);
        Ok(EncodeOptions {
            quality: self.quality,
            alpha_quality: self.alpha_quality,
            lossless: flag(self.lossless),
            near_lossless: self.near_lossless,
            effort: self.effort,
            smart_subsample: flag(self.smart_subsample),
            subsampling: self.subsampling.as_deref().map(str::parse::<Subsampling>).transpose()?,
            progressive: flag(self.progressive),
            optimize_coding: flag(self.optimize_coding),
            compression: self.compression,
            tiff_compression: self.tiff_compression.as_deref().map(str::parse::<TiffCompression>).transpose()?,
            bit_depth: self.bit_depth,
            background: [0; 3],
        })
    }

    /// `recipe` with the format and encoder options set.
    pub fn apply(&self, mut recipe: Recipe) -> Result<Recipe> {
        if let Some(format) = &self.format {
            recipe = recipe.format(format.parse::<Format>()?);
        }
        Ok(recipe.encode_options(self.options()?))
    }
}
