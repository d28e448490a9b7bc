//! PLACEHOLDER until the png branch lands: the contracted API, refusing to decode.
use crate::error::{Error, Result};
use crate::io::Input;
use crate::pipeline::RowSource;
use crate::pixel::{ImageInfo, PixelFormat};

/// Header facts.
#[derive(Debug, Clone)]
pub struct PngHeader {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Stored colour type.
    pub color_type: &'static str,
    /// Stored bit depth.
    pub bit_depth: u8,
    /// Adam7.
    pub interlaced: bool,
    /// tRNS present.
    pub has_transparency: bool,
    /// EXIF orientation.
    pub orientation: Option<u8>,
    /// Decoded format.
    pub output: PixelFormat,
}

/// Placeholder decoder.
pub struct PngDecoder {
    header: PngHeader,
}

impl PngDecoder {
    /// Placeholder.
    pub fn new(_input: Input) -> Result<PngDecoder> {
        Err(Error::unsupported("PNG", "decoding (placeholder)"))
    }
    /// Header.
    pub fn header(&self) -> &PngHeader {
        &self.header
    }
}

impl RowSource for PngDecoder {
    fn info(&self) -> ImageInfo {
        ImageInfo { width: self.header.width, height: self.header.height, format: self.header.output }
    }
    fn read_row(&mut self, _row: &mut [u8]) -> Result<()> {
        Err(Error::unsupported("PNG", "decoding (placeholder)"))
    }
    fn buffer_bytes(&self) -> usize {
        0
    }
    fn name(&self) -> &'static str {
        "png decode"
    }
}

/// Placeholder.
pub fn read_header(_bytes: &[u8]) -> Result<PngHeader> {
    Err(Error::unsupported("PNG", "decoding (placeholder)"))
}
