//! Lossless WebP in pure Rust through the image-webp crate (its VP8L encoder).
//!
//! image-webp takes the whole frame as one byte slice, so the frame is collected first, in RGB or
//! RGBA bytes. Its working memory, measured with dhat (`tests/heap_webp.rs`, image-webp 0.2.4):
//! one ARGB `u32` per pixel, and the encoded bitstream in a growing vector, which on noise (the
//! worst case, larger than the raw frame) reaches twice the frame after its last doubling.
//! Peaks measured (bytes per pixel, frame included): photo-like RGB 9.0, RGBA 10.0; noise RGB
//! 11.0, RGBA 16.0. The model: frame + 4 bytes a pixel + 2.25 frames + 64 KiB.

use std::io::Write;

use crate::error::{Error, Result};
use crate::pipeline::RowSource;
use crate::pixel::PixelFormat;

/// Pulls every row of `source` (RGB8 or RGBA8) into one frame and writes it as lossless WebP.
pub(crate) fn encode(source: &mut dyn RowSource, writer: &mut dyn Write) -> Result<()> {
    let info = source.info();
    let color = if info.format == PixelFormat::RGBA8 { image_webp::ColorType::Rgba8 } else { image_webp::ColorType::Rgb8 };
    let frame = collect_frame(source)?;
    image_webp::WebPEncoder::new(writer).encode(&frame, info.width, info.height, color).map_err(|e| match e {
        image_webp::EncodingError::IoError(e) => Error::Io(e),
        other => Error::parameter(format!("WebP encoder (image-webp): {other}")),
    })
}

/// Every row of `source` in one buffer; an allocation failure is a [`Error::Limits`].
pub(crate) fn collect_frame(source: &mut dyn RowSource) -> Result<Vec<u8>> {
    let info = source.info();
    let bytes = info.row_bytes() * info.height as usize;
    let mut frame = Vec::new();
    frame.try_reserve_exact(bytes).map_err(|_| {
        Error::limits(format!("could not allocate the {}x{} WebP frame ({bytes} bytes)", info.width, info.height))
    })?;
    frame.resize(bytes, 0);
    source.read_rows(&mut frame)?;
    Ok(frame)
}

/// The frame plus image-webp's working memory for a `width` x `height` frame of `format`.
pub(crate) fn heap_bytes(width: u32, height: u32, format: PixelFormat) -> usize {
    let pixels = width as usize * height as usize;
    let frame = pixels * format.bytes_per_pixel();
    let argb = pixels.saturating_mul(4);
    let bitstream = frame.saturating_mul(9) / 4;
    frame.saturating_add(argb).saturating_add(bitstream).saturating_add(64 * 1024)
}
