//! Extend (sharp's `extend`): adds margins of a background colour to each side, streaming.
//!
//! The margins are a canvas around the image, so the stage is built as a [`Pad`]: rows above and
//! below are painted, rows in between are read into the middle of the output row. It holds one
//! background pixel, nothing else. In a chain it runs after the resize and any extract, before
//! flattening, as in sharp.

use crate::error::{Error, Result};
use crate::ops::pad::{Pad, PadSpec, Rgba};
use crate::pipeline::{BoxedSource, StageSpec};
use crate::pixel::ImageInfo;

/// Margins in pixels on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Margins {
    /// Rows added above.
    pub top: u32,
    /// Columns added on the right.
    pub right: u32,
    /// Rows added below.
    pub bottom: u32,
    /// Columns added on the left.
    pub left: u32,
}

impl Margins {
    /// The same margin on every side.
    pub fn uniform(pixels: u32) -> Margins {
        Margins { top: pixels, right: pixels, bottom: pixels, left: pixels }
    }
}

impl std::str::FromStr for Margins {
    type Err = Error;
    /// Parses `N` (every side), `V,H` (top and bottom, left and right) or `T,R,B,L` (CSS order).
    fn from_str(s: &str) -> Result<Margins> {
        let parts: std::result::Result<Vec<u32>, _> = s.split(',').map(|p| p.trim().parse::<u32>()).collect();
        match parts.as_deref() {
            Ok([n]) => Ok(Margins::uniform(*n)),
            Ok([v, h]) => Ok(Margins { top: *v, right: *h, bottom: *v, left: *h }),
            Ok([t, r, b, l]) => Ok(Margins { top: *t, right: *r, bottom: *b, left: *l }),
            _ => Err(Error::parameter(format!("extend '{s}' is not N, V,H or T,R,B,L"))),
        }
    }
}

/// Extend as a [`StageSpec`]: `margins` of `background` around the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtendSpec {
    /// The margins.
    pub margins: Margins,
    /// Their colour (alpha is kept only if the image has an alpha channel).
    pub background: Rgba,
}

impl ExtendSpec {
    /// The pad this extend is, for rows of `input`; an error if the canvas overflows.
    fn pad(&self, input: ImageInfo) -> Result<PadSpec> {
        let m = self.margins;
        let width = input.width as u64 + m.left as u64 + m.right as u64;
        let height = input.height as u64 + m.top as u64 + m.bottom as u64;
        if width > u32::MAX as u64 || height > u32::MAX as u64 {
            return Err(Error::parameter(format!(
                "extending {}x{} by {m:?} gives a canvas over 2^32 pixels a side",
                input.width, input.height
            )));
        }
        Ok(PadSpec { canvas: (width as u32, height as u32), offset: (m.left, m.top), background: self.background })
    }
}

impl StageSpec for ExtendSpec {
    fn name(&self) -> String {
        "extend".into()
    }
    fn output(&self, input: ImageInfo) -> Result<ImageInfo> {
        self.pad(input)?.output(input)
    }
    fn heap_bytes(&self, input: ImageInfo) -> usize {
        PadSpec::background_len(input.format)
    }
    fn detail(&self, _input: ImageInfo) -> String {
        let m = self.margins;
        let [r, g, b, a] = self.background;
        format!("top {} right {} bottom {} left {}, #{r:02x}{g:02x}{b:02x}{a:02x}", m.top, m.right, m.bottom, m.left)
    }
    fn build(&self, upstream: BoxedSource) -> Result<BoxedSource> {
        let pad = self.pad(upstream.info())?;
        let (w, h) = pad.canvas;
        Ok(Box::new(Pad::new(upstream, w, h, pad.offset.0, pad.offset.1, self.background)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{MemorySource, RowSource};
    use crate::pixel::PixelFormat;

    #[test]
    fn margins_surround_the_image_with_the_background() {
        let info = ImageInfo { width: 2, height: 1, format: PixelFormat::RGB8 };
        let source = MemorySource::new(info, vec![1, 2, 3, 4, 5, 6]).unwrap();
        let spec = ExtendSpec { margins: "1,2,0,1".parse().unwrap(), background: [9, 9, 9, 255] };
        let mut out = spec.build(Box::new(source)).unwrap();
        let got = out.info();
        assert_eq!((got.width, got.height), (5, 2));
        assert_eq!(spec.heap_bytes(info), out.buffer_bytes());
        let mut rows = vec![0; got.row_bytes() * 2];
        out.read_rows(&mut rows).unwrap();
        assert_eq!(&rows[..15], &[9; 15]);
        assert_eq!(&rows[15..], &[9, 9, 9, 1, 2, 3, 4, 5, 6, 9, 9, 9, 9, 9, 9]);
    }

    #[test]
    fn parses_css_order_and_rejects_garbage() {
        assert_eq!("3".parse::<Margins>().unwrap(), Margins::uniform(3));
        assert_eq!("1,2".parse::<Margins>().unwrap(), Margins { top: 1, right: 2, bottom: 1, left: 2 });
        assert!("1,2,3".parse::<Margins>().is_err());
        assert!("-1".parse::<Margins>().is_err());
    }
}
