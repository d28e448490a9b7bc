//! PLACEHOLDER until the resize branch lands: the contracted API, refusing to resize.
use crate::error::{Error, Result};
use crate::pipeline::RowSource;
use crate::pixel::ImageInfo;

/// Kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kernel {
    /// Nearest.
    Nearest,
    /// Linear.
    Linear,
    /// Catmull-Rom.
    Cubic,
    /// Mitchell.
    Mitchell,
    /// Lanczos2.
    Lanczos2,
    /// Lanczos3.
    #[default]
    Lanczos3,
}

impl std::str::FromStr for Kernel {
    type Err = Error;
    fn from_str(s: &str) -> Result<Kernel> {
        Ok(match s {
            "nearest" => Kernel::Nearest,
            "linear" => Kernel::Linear,
            "cubic" => Kernel::Cubic,
            "mitchell" => Kernel::Mitchell,
            "lanczos2" => Kernel::Lanczos2,
            "lanczos3" => Kernel::Lanczos3,
            _ => return Err(Error::parameter("kernel")),
        })
    }
}

/// Options.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResizeOptions {
    /// Kernel.
    pub kernel: Kernel,
    /// Linear light.
    pub linear_light: bool,
    /// Premultiply.
    pub premultiply_alpha: bool,
}

/// Placeholder stage.
pub struct Resize<S> {
    source: S,
}

impl<S: RowSource> Resize<S> {
    /// Placeholder.
    pub fn new(_source: S, _width: u32, _height: u32, _options: ResizeOptions) -> Result<Self> {
        Err(Error::unsupported("resize", "placeholder"))
    }
    /// Placeholder.
    pub fn to_width(_source: S, _width: u32, _options: ResizeOptions) -> Result<Self> {
        Err(Error::unsupported("resize", "placeholder"))
    }
    /// Placeholder.
    pub fn to_height(_source: S, _height: u32, _options: ResizeOptions) -> Result<Self> {
        Err(Error::unsupported("resize", "placeholder"))
    }
    /// Placeholder.
    pub fn predicted_buffer_bytes(_input: ImageInfo, _width: u32, _height: u32, _options: &ResizeOptions) -> usize {
        0
    }
}

impl<S: RowSource> RowSource for Resize<S> {
    fn info(&self) -> ImageInfo {
        self.source.info()
    }
    fn read_row(&mut self, _row: &mut [u8]) -> Result<()> {
        Err(Error::unsupported("resize", "placeholder"))
    }
    fn buffer_bytes(&self) -> usize {
        0
    }
    fn name(&self) -> &'static str {
        "resize"
    }
}
