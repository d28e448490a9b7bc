//! Decoders (row sources) and encoders (row sinks), and the registry that lists them.
//!
//! * [`spec`]: the traits every codec implements ([`DecoderSpec`], [`EncoderSpec`]) and the
//!   [`Header`] a job parses once.
//! * [`registry`]: one entry per format; detection, names, extensions and encoder options all go
//!   through it.
//! * `png`, `jpeg`, `tiff`, `webp`, `avif`, `gif`, `bmp`: the formats, each with a `codec` module holding its registry entry.
//! * [`metadata`]: EXIF, XMP and ICC blocks read from inputs and kept in outputs.
//! * [`probe`]: header facts for `stripflow info`.

#[cfg_attr(not(feature = "avif"), allow(unused))]
pub mod avif;
pub mod bmp;
pub mod exif;
pub mod gif;
mod fail_on;
pub mod icc;
pub mod jpeg;
pub mod metadata;
mod options;
pub mod png;
pub mod probe;
pub mod registry;
pub mod spec;
pub mod tiff;
pub mod webp;

pub use fail_on::FailOn;
pub use options::{EncodeOption, EncodeOptions, TiffCompression};
pub use registry::Codec;
pub use spec::{DecodeRequest, DecoderSpec, Embedded, EncoderKind, EncoderSpec, Header, Output, RowEncoder, WriteSeek};

use crate::error::Result;

/// The file formats stripflow reads and writes (each has one [`registry`] entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Portable Network Graphics.
    Png,
    /// JPEG (JFIF / EXIF).
    Jpeg,
    /// TIFF (classic and BigTIFF).
    Tiff,
    /// WebP (read and written).
    Webp,
    /// AVIF (AV1 in HEIF): written with the `avif` cargo feature, not read.
    Avif,
    /// GIF (read: the first frame, or any frame composited).
    Gif,
    /// Windows / OS/2 bitmap (read).
    Bmp,
}

impl Format {
    /// The format whose signature starts `bytes`, if stripflow reads or writes it.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        registry::sniff(bytes).ok().map(|c| c.format)
    }

    /// The format a file name's extension names (`.png`, `.jpg`, ...), case-insensitive; `None`
    /// for no or an unknown extension (see [`registry::by_extension`] for the reason).
    pub fn from_extension(path: &std::path::Path) -> Option<Format> {
        registry::by_extension(path).ok().flatten().map(|c| c.format)
    }

    /// The format named by `name` ("png", "jpeg", "jpg").
    pub fn from_name(name: &str) -> Option<Format> {
        registry::by_name(name).ok().map(|c| c.format)
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        registry::codec(self).name
    }

    /// The name as people write it ("WebP"), for messages.
    pub fn label(self) -> &'static str {
        registry::codec(self).label
    }
}

impl std::str::FromStr for Format {
    type Err = crate::Error;
    /// Parses a format name; an unknown or unsupported one is a typed error that says why.
    fn from_str(s: &str) -> Result<Format> {
        registry::by_name(s).map(|c| c.format)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
