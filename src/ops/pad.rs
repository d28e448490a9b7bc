//! Pad (extend, embed): places the image on a larger canvas of a background colour, streaming.
//!
//! This is how fit=contain fills the space the resized image leaves. Rows above and below the
//! image are background; the rows in between are read straight into the middle of the caller's
//! row and the margins painted. The stage holds no buffer beyond one background pixel.

use crate::error::{Error, Result};
use crate::pipeline::{BoxedSource, RowCounter, RowSource, StageSpec};
use crate::pixel::{BitDepth, ImageInfo, PixelFormat};

/// A background colour as 8-bit RGBA (alpha 255 = opaque), converted to each pixel format.
pub type Rgba = [u8; 4];

/// Parses `RRGGBB` or `RRGGBBAA` (with or without `#`) into a colour; alpha defaults to opaque.
pub fn parse_rgba(s: &str) -> Result<Rgba> {
    let hex = s.trim().trim_start_matches('#');
    if !(hex.len() == 6 || hex.len() == 8) || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::parameter(format!("colour '{s}' is not RRGGBB or RRGGBBAA hex")));
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).expect("checked hex digits");
    Ok([byte(0), byte(2), byte(4), if hex.len() == 8 { byte(6) } else { 255 }])
}

/// The bytes of `colour` in `format`: gray takes the Rec. 601 luma, 16-bit scales by 257,
/// alpha is dropped from formats without it.
pub fn pixel_bytes(colour: Rgba, format: PixelFormat) -> Vec<u8> {
    let [r, g, b, a] = colour.map(|c| c as u32);
    let luma = (19595 * r + 38470 * g + 7471 * b + 32768) >> 16;
    let samples: Vec<u32> = match format.color {
        crate::pixel::ColorType::Gray => vec![luma],
        crate::pixel::ColorType::GrayAlpha => vec![luma, a],
        crate::pixel::ColorType::Rgb => vec![r, g, b],
        crate::pixel::ColorType::Rgba => vec![r, g, b, a],
    };
    match format.depth {
        BitDepth::Eight => samples.iter().map(|&s| s as u8).collect(),
        BitDepth::Sixteen => samples.iter().flat_map(|&s| ((s * 257) as u16).to_ne_bytes()).collect(),
    }
}

/// The pad stage.
#[derive(Debug)]
pub struct Pad<S> {
    source: S,
    input: ImageInfo,
    info: ImageInfo,
    left: u32,
    top: u32,
    background: Vec<u8>,
    rows: RowCounter,
}

impl<S: RowSource> Pad<S> {
    /// Places `source` at `(left, top)` on a `width` x `height` canvas of `background`.
    pub fn new(source: S, width: u32, height: u32, left: u32, top: u32, background: Rgba) -> Result<Self> {
        let input = source.info();
        PadSpec { canvas: (width, height), offset: (left, top), background }.check(input)?;
        Ok(Pad {
            info: ImageInfo {
                width,
                height,
                format: input.format,
            },
            background: pixel_bytes(background, input.format),
            rows: RowCounter::new(height),
            input,
            left,
            top,
            source,
        })
    }

    fn paint(&self, pixels: &mut [u8]) {
        for px in pixels.chunks_exact_mut(self.background.len()) {
            px.copy_from_slice(&self.background);
        }
    }
}

impl<S: RowSource> RowSource for Pad<S> {
    fn info(&self) -> ImageInfo {
        self.info
    }

    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        if row.len() != self.info.row_bytes() {
            return Err(Error::parameter("row buffer has the wrong length"));
        }
        let y = self.rows.advance()?;
        if y < self.top || y >= self.top + self.input.height {
            self.paint(row);
            return Ok(());
        }
        let bpp = self.info.format.bytes_per_pixel();
        let start = self.left as usize * bpp;
        let end = start + self.input.row_bytes();
        self.source.read_row(&mut row[start..end])?;
        let (before, rest) = row.split_at_mut(start);
        self.paint(before);
        self.paint(&mut rest[end - start..]);
        Ok(())
    }

    fn input_rows(&self, output: std::ops::Range<u32>) -> std::ops::Range<u32> {
        let clamp = |y: u32| y.saturating_sub(self.top).min(self.input.height);
        clamp(output.start)..clamp(output.end)
    }

    fn buffer_bytes(&self) -> usize {
        self.background.capacity()
    }

    fn name(&self) -> &'static str {
        "pad"
    }

    fn upstream(&self) -> Option<&dyn RowSource> {
        Some(&self.source)
    }
}

/// The pad as a [`StageSpec`]: its input placed at `offset` on a `canvas` of `background`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PadSpec {
    /// Canvas width and height.
    pub canvas: (u32, u32),
    /// Where the input's top-left corner sits on the canvas.
    pub offset: (u32, u32),
    /// The canvas colour.
    pub background: Rgba,
}

impl PadSpec {
    /// The stage's one buffer: the background as one pixel of `format` ([`pixel_bytes`]).
    pub(crate) fn background_len(format: PixelFormat) -> usize {
        format.bytes_per_pixel()
    }

    /// Checks that an `input`-sized image fits on the canvas at the offset.
    fn check(&self, input: ImageInfo) -> Result<()> {
        let (left, top) = self.offset;
        let (width, height) = self.canvas;
        if left as u64 + input.width as u64 > width as u64 || top as u64 + input.height as u64 > height as u64 {
            return Err(Error::parameter(format!(
                "a {}x{} image at {left},{top} does not fit on a {width}x{height} canvas",
                input.width, input.height
            )));
        }
        Ok(())
    }
}

impl StageSpec for PadSpec {
    fn name(&self) -> String {
        "pad".into()
    }
    fn output(&self, input: ImageInfo) -> Result<ImageInfo> {
        self.check(input)?;
        Ok(ImageInfo { width: self.canvas.0, height: self.canvas.1, format: input.format })
    }
    fn heap_bytes(&self, input: ImageInfo) -> usize {
        Self::background_len(input.format)
    }
    fn detail(&self, _input: ImageInfo) -> String {
        format!("at {},{} on {}x{}", self.offset.0, self.offset.1, self.canvas.0, self.canvas.1)
    }
    fn build(&self, upstream: BoxedSource) -> Result<BoxedSource> {
        let (w, h) = self.canvas;
        Ok(Box::new(Pad::new(upstream, w, h, self.offset.0, self.offset.1, self.background)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::drain;
    use crate::synth::Synthetic;

    #[test]
    fn pads_around_the_image_at_any_strip_height() {
        let (w, h) = (13, 5);
        let format = PixelFormat::RGBA16;
        let bpp = format.bytes_per_pixel();
        let mut full = Vec::new();
        drain(&mut Synthetic::new(w, h, format, 2), u32::MAX, |s, _| {
            full.extend_from_slice(s);
            Ok(())
        })
        .unwrap();
        let bg = pixel_bytes([10, 20, 30, 128], format);
        let (cw, ch, left, top) = (20u32, 9u32, 4u32, 3u32);
        let mut expected = Vec::new();
        for y in 0..ch {
            for x in 0..cw {
                if x >= left && x < left + w && y >= top && y < top + h {
                    let at = (((y - top) * w + (x - left)) as usize) * bpp;
                    expected.extend_from_slice(&full[at..at + bpp]);
                } else {
                    expected.extend_from_slice(&bg);
                }
            }
        }
        for strip in [1, 7, u32::MAX] {
            let mut pad = Pad::new(Synthetic::new(w, h, format, 2), cw, ch, left, top, [10, 20, 30, 128]).unwrap();
            let mut out = Vec::new();
            drain(&mut pad, strip, |s, _| {
                out.extend_from_slice(s);
                Ok(())
            })
            .unwrap();
            assert_eq!(out, expected, "strip {strip}");
            assert!(pad.read_row(&mut vec![0; cw as usize * bpp]).is_err());
        }
        assert!(Pad::new(Synthetic::new(w, h, format, 2), 16, 9, 4, 0, [0; 4]).is_err());
    }

    #[test]
    fn background_in_every_format() {
        assert_eq!(pixel_bytes([255, 0, 0, 255], PixelFormat::RGB8), vec![255, 0, 0]);
        assert_eq!(pixel_bytes([255, 255, 255, 0], PixelFormat::GRAYA8), vec![255, 0]);
        assert_eq!(
            pixel_bytes([0, 0, 255, 255], PixelFormat::RGBA16)[4..6],
            65535u16.to_ne_bytes()
        );
    }
}
