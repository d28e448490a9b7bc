//! Metadata blocks (EXIF, XMP, ICC profile): read from inputs, summarised for `stripflow info`,
//! and kept in outputs on request.
//!
//! Stripped by default: an output carries no EXIF, XMP or ICC profile unless the job asks with
//! `keep_metadata()` (all three) or `keep_icc_profile()` (the profile only, pixels unconverted).
//! The planner reads the blocks with [`crate::codec::DecoderSpec::read_embedded`], decides what
//! is written ([`kept_blocks`]: the EXIF orientation reset when the pixels were turned upright,
//! the ICC profile that describes the output's pixels) and wraps the encoder in
//! [`KeepMetadata`], which hands the blocks to the format's
//! [`EncoderSpec::encode_with_metadata`] and adds what the encoder holds for them
//! ([`EncoderSpec::metadata_heap_bytes`]) to its heap. A format that cannot store a block the
//! user asked to keep is an [`crate::Error::Unsupported`] at planning.
//!
//! Files: [`jpeg`] and [`png`] (readers), [`icc_description`] (the profile's `desc` tag),
//! [`webp`] (the VP8X wrapper that adds ICCP, EXIF and XMP chunks to an encoder's output).

pub mod icc_description;
pub mod jpeg;
pub mod png;
pub mod webp;

use std::io::Write;
use std::sync::Arc;

use crate::codec::spec::{EncoderKind, EncoderSpec, Output, WriteSeek};
use crate::codec::{Embedded, Format};
use crate::error::Result;
use crate::pipeline::RowSource;
use crate::pixel::ImageInfo;

pub use icc_description::icc_description;

/// Pixel density as a file states it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Density {
    /// Horizontal pixels per unit.
    pub x: f64,
    /// Vertical pixels per unit.
    pub y: f64,
    /// The unit: "inch", "cm", or "aspect" (the values give only the pixel aspect ratio).
    pub unit: &'static str,
}

impl Density {
    /// A density from JFIF-style units (0 aspect ratio, 1 per inch, 2 per centimetre); `None`
    /// for zero values or an unknown unit.
    pub fn new(x: f64, y: f64, unit: u8) -> Option<Density> {
        let unit = match unit {
            0 => "aspect",
            1 => "inch",
            2 => "cm",
            _ => return None,
        };
        (x > 0.0 && y > 0.0).then_some(Density { x, y, unit })
    }

    /// From an EXIF resolution: rationals and the EXIF unit (2 inch, 3 centimetre, 1 none).
    pub fn from_exif(x: (u32, u32), y: (u32, u32), unit: u16) -> Option<Density> {
        let unit = match unit {
            2 => 1,
            3 => 2,
            1 => 0,
            _ => return None,
        };
        Density::new(x.0 as f64 / x.1 as f64, y.0 as f64 / y.1 as f64, unit)
    }
}

impl std::fmt::Display for Density {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = |v: f64| {
            if v.fract() == 0.0 {
                format!("{v}")
            } else {
                format!("{v:.2}")
            }
        };
        match self.unit {
            "aspect" => write!(f, "{}:{} (aspect ratio only)", n(self.x), n(self.y)),
            unit => write!(f, "{}x{} per {unit}", n(self.x), n(self.y)),
        }
    }
}

/// What the job keeps of the input's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Keep {
    /// EXIF, XMP and the ICC profile (`keep_metadata`).
    pub metadata: bool,
    /// The input's ICC profile, pixels unconverted (`keep_icc_profile`).
    pub icc: bool,
}

/// The blocks written to the output, from those `read` from the input:
///
/// * EXIF and XMP with `keep.metadata`; the EXIF orientation rewritten to 1 when
///   `turned_upright` (the pixels were auto-oriented);
/// * the ICC profile with either flag: the input's (`input_icc`, as the colour stage read it)
///   when the pixels keep its meaning, and, when they were `converted` to sRGB, an sRGB profile
///   for RGB output (`rgb_output`), as sharp's `withMetadata()` does; none for gray output.
pub(crate) fn kept_blocks(
    mut read: Embedded,
    keep: Keep,
    input_icc: Option<Arc<Vec<u8>>>,
    converted: bool,
    turned_upright: bool,
    rgb_output: bool,
) -> Embedded {
    let icc = if keep.icc || (keep.metadata && !converted) {
        input_icc.map(|p| p.to_vec()).or(read.icc.take())
    } else if keep.metadata && rgb_output {
        moxcms::ColorProfile::new_srgb().encode().ok()
    } else {
        None
    };
    if !keep.metadata {
        return Embedded {
            icc,
            exif: None,
            xmp: None,
        };
    }
    if turned_upright {
        if let Some(exif) = read.exif.as_mut() {
            crate::codec::exif::reset_orientation(exif);
        }
    }
    Embedded {
        icc,
        exif: read.exif,
        xmp: read.xmp,
    }
}

/// An encoder that writes the kept metadata blocks beside the pixels: the format's own
/// encoder, asked through [`EncoderSpec::encode_with_metadata`], its heap grown by what it
/// holds for the blocks.
#[derive(Debug)]
pub struct KeepMetadata {
    inner: Arc<dyn EncoderSpec>,
    blocks: Arc<Embedded>,
    extra_heap: usize,
}

impl KeepMetadata {
    /// `inner` writing `blocks`; an [`crate::Error::Unsupported`] if its format cannot store
    /// one of them.
    pub fn new(inner: Arc<dyn EncoderSpec>, blocks: Arc<Embedded>) -> Result<KeepMetadata> {
        let extra_heap = inner.metadata_heap_bytes(&blocks)?;
        Ok(KeepMetadata {
            inner,
            blocks,
            extra_heap,
        })
    }

    /// The blocks written.
    pub fn blocks(&self) -> &Embedded {
        &self.blocks
    }
}

impl EncoderSpec for KeepMetadata {
    fn format(&self) -> Format {
        self.inner.format()
    }

    fn kind(&self) -> EncoderKind {
        self.inner.kind()
    }

    fn max_size(&self) -> (u32, u32) {
        self.inner.max_size()
    }

    fn stores_alpha(&self) -> bool {
        self.inner.stores_alpha()
    }

    /// The format encoder's heap, plus its copies of the blocks and what writing them takes.
    fn heap_bytes(&self, input: ImageInfo) -> usize {
        self.inner.heap_bytes(input).saturating_add(self.extra_heap)
    }

    fn detail(&self) -> String {
        format!("{}, keeping {}", self.inner.detail(), self.blocks.names())
    }

    /// The format encoder's faster configuration, still writing the blocks.
    fn with_spare_heap(&self, input: ImageInfo, spare: usize) -> Option<(Arc<dyn EncoderSpec>, usize)> {
        let (inner, extra) = self.inner.with_spare_heap(input, spare)?;
        let faster = KeepMetadata { inner, blocks: Arc::clone(&self.blocks), extra_heap: self.extra_heap };
        Some((Arc::new(faster), extra))
    }

    fn encode(&self, source: &mut dyn RowSource, writer: &mut dyn Write) -> Result<()> {
        self.inner
            .encode_with_metadata(source, Output::Stream(writer), &self.blocks)
    }

    fn encode_seekable(
        &self,
        source: &mut dyn RowSource,
        writer: &mut dyn WriteSeek,
    ) -> Result<()> {
        self.inner
            .encode_with_metadata(source, Output::Seekable(writer), &self.blocks)
    }

    fn metadata_heap_bytes(&self, blocks: &Embedded) -> Result<usize> {
        self.inner.metadata_heap_bytes(blocks)
    }

    fn encode_with_metadata(
        &self,
        source: &mut dyn RowSource,
        output: Output<'_>,
        blocks: &Embedded,
    ) -> Result<()> {
        self.inner.encode_with_metadata(source, output, blocks)
    }
}
