//! Pixel format conversion: gray <-> RGB, adding alpha or flattening it onto a background, and
//! 8 <-> 16 bit.
//!
//! Every pixel goes through a 16-bit RGBA intermediate (8-bit samples scaled by 257, which is
//! exact), so each path is the composition of a few simple, separately checkable steps:
//! 8-bit -> 16-bit -> 8-bit is the identity, and flattening an 8-bit pixel gives the same result as
//! the 8-bit formula `(c * a + bg * (255 - a)) / 255` rounded.

use crate::error::{Error, Result};
use crate::pipeline::{BoxedSource, RowCounter, RowSource, StageSpec};
use crate::pixel::{BitDepth, ImageInfo, PixelFormat};

/// A background colour, 8-bit RGB (scaled by 257 for 16-bit output).
pub type Background = [u8; 3];

/// Parses `RRGGBB` or `#RRGGBB` into a background colour.
pub fn parse_background(s: &str) -> Result<Background> {
    let hex = s.trim().trim_start_matches('#');
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::parameter(format!("background '{s}' is not RRGGBB hex")));
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).expect("checked hex digits");
    Ok([byte(0), byte(2), byte(4)])
}

/// The conversion stage. When input and output formats are equal it copies rows through.
#[derive(Debug)]
pub struct Convert<S> {
    source: S,
    info: ImageInfo,
    input_format: PixelFormat,
    background: [u32; 3],
    rows: RowCounter,
    /// One input row (empty when the formats are equal and rows pass straight through).
    input_row: Vec<u8>,
}

impl<S: RowSource> Convert<S> {
    /// Converts `source` to `format`; alpha that `format` cannot hold is flattened onto
    /// `background`.
    pub fn new(source: S, format: PixelFormat, background: Background) -> Self {
        let input = source.info();
        Convert {
            info: ImageInfo { format, ..input },
            input_format: input.format,
            background: background.map(|c| c as u32 * 257),
            rows: RowCounter::new(input.height),
            input_row: vec![0; ConvertSpec::input_row_len(input, format)],
            source,
        }
    }
}

/// Reads pixel `i` of a row as 16-bit `[r, g, b, a]`.
#[inline]
fn load(row: &[u8], format: PixelFormat, i: usize) -> [u32; 4] {
    let n = format.channels();
    let s = |c: usize| -> u32 {
        match format.depth {
            BitDepth::Eight => row[i * n + c] as u32 * 257,
            BitDepth::Sixteen => {
                let at = (i * n + c) * 2;
                u16::from_ne_bytes([row[at], row[at + 1]]) as u32
            }
        }
    };
    match n {
        1 => [s(0), s(0), s(0), 65535],
        2 => [s(0), s(0), s(0), s(1)],
        3 => [s(0), s(1), s(2), 65535],
        _ => [s(0), s(1), s(2), s(3)],
    }
}

/// Rec. 601 luma of 16-bit RGB, rounded.
#[inline]
fn luma(p: [u32; 4]) -> u32 {
    ((19595 * p[0] as u64 + 38470 * p[1] as u64 + 7471 * p[2] as u64 + 32768) >> 16) as u32
}

impl<S: RowSource> RowSource for Convert<S> {
    fn info(&self) -> ImageInfo {
        self.info
    }

    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        if row.len() != self.info.row_bytes() {
            return Err(Error::parameter("row buffer has the wrong length"));
        }
        self.rows.advance()?;
        if self.input_row.is_empty() {
            return self.source.read_row(row);
        }
        self.source.read_row(&mut self.input_row)?;
        let out = self.info.format;
        let n = out.channels();
        let keep_alpha = out.color.has_alpha();
        let gray = !out.color.is_rgb();
        let mut pixel = [0u32; 4];
        for i in 0..self.info.width as usize {
            let mut p = load(&self.input_row, self.input_format, i);
            if !keep_alpha && p[3] != 65535 {
                let a = p[3];
                for (c, bg) in p.iter_mut().zip(self.background) {
                    *c = (*c * a + bg * (65535 - a) + 32767) / 65535;
                }
            }
            if gray {
                // The luma weights sum to 65536, so equal channels come back unchanged.
                pixel[0] = luma(p);
                if keep_alpha {
                    pixel[1] = p[3];
                }
            } else {
                pixel = p;
                if !keep_alpha {
                    pixel[3] = 0;
                }
            }
            match out.depth {
                BitDepth::Eight => {
                    for (out, v) in row[i * n..(i + 1) * n].iter_mut().zip(pixel) {
                        *out = ((v * 255 + 32767) / 65535) as u8;
                    }
                }
                BitDepth::Sixteen => {
                    for (out, v) in row[i * n * 2..(i + 1) * n * 2].chunks_exact_mut(2).zip(pixel) {
                        out.copy_from_slice(&(v as u16).to_ne_bytes());
                    }
                }
            }
        }
        Ok(())
    }

    fn buffer_bytes(&self) -> usize {
        self.input_row.capacity()
    }

    fn name(&self) -> &'static str {
        "convert"
    }

    fn upstream(&self) -> Option<&dyn RowSource> {
        Some(&self.source)
    }
}

/// What a [`ConvertSpec`] turns its input into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvertTo {
    /// The same samples with an opaque alpha channel added.
    AddAlpha,
    /// Alpha flattened onto this background and dropped.
    Flatten(Background),
    /// Exactly this pixel format (alpha flattened onto black when it must go).
    Format(PixelFormat),
}

/// The conversion as a [`StageSpec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvertSpec(pub ConvertTo);

impl ConvertSpec {
    /// The stage's one buffer: an input row, or nothing when rows pass straight through.
    fn input_row_len(input: ImageInfo, format: PixelFormat) -> usize {
        if input.format == format {
            0
        } else {
            input.row_bytes()
        }
    }

    fn target(&self, input: PixelFormat) -> (PixelFormat, Background) {
        match self.0 {
            ConvertTo::AddAlpha => (PixelFormat::new(input.color.with_alpha(), input.depth), [0, 0, 0]),
            ConvertTo::Flatten(bg) => (PixelFormat::new(input.color.without_alpha(), input.depth), bg),
            ConvertTo::Format(f) => (f, [0, 0, 0]),
        }
    }
}

impl StageSpec for ConvertSpec {
    fn name(&self) -> String {
        match self.0 {
            ConvertTo::AddAlpha => "add alpha".into(),
            ConvertTo::Flatten(_) => "flatten".into(),
            ConvertTo::Format(_) => "convert".into(),
        }
    }
    fn output(&self, input: ImageInfo) -> Result<ImageInfo> {
        Ok(ImageInfo { format: self.target(input.format).0, ..input })
    }
    fn heap_bytes(&self, input: ImageInfo) -> usize {
        Self::input_row_len(input, self.target(input.format).0)
    }
    fn detail(&self, input: ImageInfo) -> String {
        match self.0 {
            ConvertTo::Flatten(bg) => format!("onto #{:02x}{:02x}{:02x}", bg[0], bg[1], bg[2]),
            _ => format!("{} -> {}", input.format, self.target(input.format).0),
        }
    }
    fn build(&self, upstream: BoxedSource) -> Result<BoxedSource> {
        let (format, background) = self.target(upstream.info().format);
        Ok(Box::new(Convert::new(upstream, format, background)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pixel::ColorType;

    fn convert(format: PixelFormat, bytes: Vec<u8>, to: PixelFormat, bg: Background) -> Vec<u8> {
        let width = (bytes.len() / format.bytes_per_pixel()) as u32;
        let src = crate::pipeline::MemorySource::new(ImageInfo { width, height: 1, format }, bytes).unwrap();
        let mut c = Convert::new(src, to, bg);
        let mut out = vec![0; to.row_bytes(width)];
        c.read_row(&mut out).unwrap();
        out
    }

    #[test]
    fn flatten_matches_8bit_formula() {
        for a in [0u8, 1, 77, 128, 254, 255] {
            for c in [0u8, 9, 200, 255] {
                let bg = [255, 10, 128];
                let out = convert(PixelFormat::RGBA8, vec![c, c, c, a], PixelFormat::RGB8, bg);
                for k in 0..3 {
                    let expected = ((c as u32 * a as u32 + bg[k] as u32 * (255 - a as u32)) as f64 / 255.0).round() as i32;
                    assert!((out[k] as i32 - expected).abs() <= 1, "c={c} a={a} k={k}: {} vs {expected}", out[k]);
                }
            }
        }
    }

    #[test]
    fn depth_round_trip_is_exact() {
        let bytes: Vec<u8> = (0..=255).collect();
        let wide = convert(PixelFormat::GRAY8, bytes.clone(), PixelFormat::GRAY16, [0; 3]);
        let narrow = convert(PixelFormat::GRAY16, wide, PixelFormat::GRAY8, [0; 3]);
        assert_eq!(narrow, bytes);
    }

    #[test]
    fn gray_and_rgb() {
        assert_eq!(convert(PixelFormat::GRAY8, vec![7, 200], PixelFormat::RGB8, [0; 3]), vec![7, 7, 7, 200, 200, 200]);
        assert_eq!(convert(PixelFormat::RGB8, vec![255, 0, 0], PixelFormat::GRAY8, [0; 3]), vec![76]);
        assert_eq!(convert(PixelFormat::GRAYA8, vec![9, 50], PixelFormat::RGBA8, [0; 3]), vec![9, 9, 9, 50]);
        assert_eq!(convert(PixelFormat::RGB8, vec![1, 2, 3], PixelFormat::RGBA8, [0; 3]), vec![1, 2, 3, 255]);
        let f = PixelFormat::new(ColorType::GrayAlpha, BitDepth::Eight);
        assert_eq!(convert(f, vec![100, 0], PixelFormat::GRAY8, [255, 255, 255]), vec![255]);
    }
}
