//! PLACEHOLDER until the jpeg branch lands: the contracted API, refusing to decode.
use crate::error::{Error, Result};
use crate::io::Input;
use crate::pipeline::RowSource;
use crate::pixel::{ImageInfo, PixelFormat};

/// Options.
#[derive(Debug, Clone, Copy, Default)]
pub struct DecodeOptions {
    /// 1, 2, 4, 8.
    pub scale_denominator: u8,
    /// Region in scaled coordinates.
    pub region: Option<Region>,
    /// Render truncated files.
    pub allow_truncated: bool,
}

/// Region.
#[derive(Debug, Clone, Copy)]
pub struct Region {
    /// x.
    pub x: u32,
    /// y.
    pub y: u32,
    /// w.
    pub width: u32,
    /// h.
    pub height: u32,
}

/// Colour space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JpegColorSpace {
    /// Gray.
    Gray,
    /// YCbCr.
    YCbCr,
    /// RGB.
    Rgb,
    /// CMYK.
    Cmyk,
    /// YCCK.
    Ycck,
}

/// Metadata.
#[derive(Debug, Clone)]
pub struct JpegMetadata {
    /// w.
    pub width: u32,
    /// h.
    pub height: u32,
    /// n.
    pub components: u8,
    /// progressive.
    pub progressive: bool,
    /// sampling.
    pub sampling: Vec<(u8, u8)>,
    /// colour.
    pub color_space: JpegColorSpace,
    /// orientation.
    pub orientation: Option<u8>,
    /// icc.
    pub icc_profile: Option<Vec<u8>>,
    /// jfif.
    pub jfif: bool,
    /// adobe.
    pub adobe_transform: Option<u8>,
    /// dri.
    pub restart_interval: u16,
    /// bits.
    pub bits_per_sample: u8,
}

/// Placeholder decoder.
pub struct JpegDecoder {
    metadata: JpegMetadata,
}

impl JpegDecoder {
    /// Placeholder.
    pub fn new(_input: Input, _options: DecodeOptions) -> Result<JpegDecoder> {
        Err(Error::unsupported("JPEG", "decoding (placeholder)"))
    }
    /// Metadata.
    pub fn metadata(&self) -> &JpegMetadata {
        &self.metadata
    }
}

impl RowSource for JpegDecoder {
    fn info(&self) -> ImageInfo {
        ImageInfo { width: self.metadata.width, height: self.metadata.height, format: PixelFormat::RGB8 }
    }
    fn read_row(&mut self, _row: &mut [u8]) -> Result<()> {
        Err(Error::unsupported("JPEG", "decoding (placeholder)"))
    }
    fn buffer_bytes(&self) -> usize {
        0
    }
    fn name(&self) -> &'static str {
        "jpeg decode"
    }
}

/// Placeholder.
pub fn read_metadata(_bytes: &[u8]) -> Result<JpegMetadata> {
    Err(Error::unsupported("JPEG", "decoding (placeholder)"))
}

/// Scaled size, rounded up.
pub fn scaled_size(width: u32, height: u32, denominator: u8) -> (u32, u32) {
    let d = denominator.max(1) as u32;
    (width.div_ceil(d), height.div_ceil(d))
}
