//! Pixel formats and image geometry.
//!
//! Rows travel between stages as byte slices. 8-bit samples are one byte each; 16-bit samples are
//! stored as native-endian `u16` (so a stage can `bytemuck::cast_slice` a row to `&[u16]`); codecs
//! convert to and from the big-endian order of PNG at the edges. Alpha, where present, is the last
//! channel and is straight (not premultiplied) between stages.

/// The channels of a pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColorType {
    /// One luminance channel.
    Gray,
    /// Luminance and alpha.
    GrayAlpha,
    /// Red, green, blue.
    Rgb,
    /// Red, green, blue, alpha.
    Rgba,
}

impl ColorType {
    /// Number of channels.
    pub fn channels(self) -> usize {
        match self {
            ColorType::Gray => 1,
            ColorType::GrayAlpha => 2,
            ColorType::Rgb => 3,
            ColorType::Rgba => 4,
        }
    }

    /// Whether the last channel is alpha.
    pub fn has_alpha(self) -> bool {
        matches!(self, ColorType::GrayAlpha | ColorType::Rgba)
    }

    /// Whether the colour channels are red, green and blue (as opposed to gray).
    pub fn is_rgb(self) -> bool {
        matches!(self, ColorType::Rgb | ColorType::Rgba)
    }

    /// The same colour model with alpha added (or kept).
    pub fn with_alpha(self) -> ColorType {
        match self {
            ColorType::Gray | ColorType::GrayAlpha => ColorType::GrayAlpha,
            ColorType::Rgb | ColorType::Rgba => ColorType::Rgba,
        }
    }

    /// The same colour model with alpha removed (or absent).
    pub fn without_alpha(self) -> ColorType {
        match self {
            ColorType::Gray | ColorType::GrayAlpha => ColorType::Gray,
            ColorType::Rgb | ColorType::Rgba => ColorType::Rgb,
        }
    }

    /// Lower-case name, as printed by `stripflow info`.
    pub fn name(self) -> &'static str {
        match self {
            ColorType::Gray => "gray",
            ColorType::GrayAlpha => "gray-alpha",
            ColorType::Rgb => "rgb",
            ColorType::Rgba => "rgba",
        }
    }
}

/// Bits per sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BitDepth {
    /// One byte per sample.
    Eight,
    /// A native-endian `u16` per sample.
    Sixteen,
}

impl BitDepth {
    /// Bytes per sample.
    pub fn bytes(self) -> usize {
        match self {
            BitDepth::Eight => 1,
            BitDepth::Sixteen => 2,
        }
    }

    /// Bits per sample.
    pub fn bits(self) -> u32 {
        match self {
            BitDepth::Eight => 8,
            BitDepth::Sixteen => 16,
        }
    }
}

/// The layout of one pixel: channels and sample size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PixelFormat {
    /// Channels.
    pub color: ColorType,
    /// Sample size.
    pub depth: BitDepth,
}

impl PixelFormat {
    /// 8-bit gray.
    pub const GRAY8: PixelFormat = PixelFormat::new(ColorType::Gray, BitDepth::Eight);
    /// 8-bit gray with alpha.
    pub const GRAYA8: PixelFormat = PixelFormat::new(ColorType::GrayAlpha, BitDepth::Eight);
    /// 8-bit RGB.
    pub const RGB8: PixelFormat = PixelFormat::new(ColorType::Rgb, BitDepth::Eight);
    /// 8-bit RGBA.
    pub const RGBA8: PixelFormat = PixelFormat::new(ColorType::Rgba, BitDepth::Eight);
    /// 16-bit gray.
    pub const GRAY16: PixelFormat = PixelFormat::new(ColorType::Gray, BitDepth::Sixteen);
    /// 16-bit gray with alpha.
    pub const GRAYA16: PixelFormat = PixelFormat::new(ColorType::GrayAlpha, BitDepth::Sixteen);
    /// 16-bit RGB.
    pub const RGB16: PixelFormat = PixelFormat::new(ColorType::Rgb, BitDepth::Sixteen);
    /// 16-bit RGBA.
    pub const RGBA16: PixelFormat = PixelFormat::new(ColorType::Rgba, BitDepth::Sixteen);

    /// Every format, 8-bit first, for tests and exhaustive checks.
    pub const ALL: [PixelFormat; 8] = [
        PixelFormat::GRAY8,
        PixelFormat::GRAYA8,
        PixelFormat::RGB8,
        PixelFormat::RGBA8,
        PixelFormat::GRAY16,
        PixelFormat::GRAYA16,
        PixelFormat::RGB16,
        PixelFormat::RGBA16,
    ];

    /// A format from its parts.
    pub const fn new(color: ColorType, depth: BitDepth) -> Self {
        PixelFormat { color, depth }
    }

    /// Samples per pixel.
    pub fn channels(self) -> usize {
        self.color.channels()
    }

    /// Bytes per pixel.
    pub fn bytes_per_pixel(self) -> usize {
        self.color.channels() * self.depth.bytes()
    }

    /// Bytes in a row of `width` pixels.
    pub fn row_bytes(self, width: u32) -> usize {
        width as usize * self.bytes_per_pixel()
    }
}

impl std::fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.color.name(), self.depth.bits())
    }
}

/// What a stage produces: its size and pixel format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ImageInfo {
    /// Width in pixels (at least 1).
    pub width: u32,
    /// Height in pixels (at least 1).
    pub height: u32,
    /// Layout of each pixel.
    pub format: PixelFormat,
}

impl ImageInfo {
    /// Bytes in one row.
    pub fn row_bytes(&self) -> usize {
        self.format.row_bytes(self.width)
    }

    /// Number of pixels, as `u64` (never overflows).
    pub fn pixels(&self) -> u64 {
        self.width as u64 * self.height as u64
    }
}
