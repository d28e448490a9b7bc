//! Crop (extract): a rectangle in input coordinates, or a size placed by gravity.
//!
//! Rows above the rectangle are pulled and discarded one at a time into the stage's single row
//! buffer; rows below it are never pulled, so upstream decoding stops at the crop's last row.

use std::str::FromStr;

use crate::error::{Error, Result};
use crate::pipeline::{BoxedSource, RowCounter, RowSource, StageSpec};
use crate::pixel::ImageInfo;

/// Where a smaller rectangle sits inside a larger one: the nine positions users know from sharp
/// and libvips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Gravity {
    /// Centred both ways (the default).
    #[default]
    Centre,
    /// Top edge, centred horizontally.
    Top,
    /// Bottom edge, centred horizontally.
    Bottom,
    /// Left edge, centred vertically.
    Left,
    /// Right edge, centred vertically.
    Right,
    /// Top-left corner.
    TopLeft,
    /// Top-right corner.
    TopRight,
    /// Bottom-left corner.
    BottomLeft,
    /// Bottom-right corner.
    BottomRight,
}

impl Gravity {
    /// Every gravity, for tests and help texts.
    pub const ALL: [Gravity; 9] = [
        Gravity::Centre,
        Gravity::Top,
        Gravity::Bottom,
        Gravity::Left,
        Gravity::Right,
        Gravity::TopLeft,
        Gravity::TopRight,
        Gravity::BottomLeft,
        Gravity::BottomRight,
    ];

    /// Offset `(x, y)` of an `inner` rectangle placed in an `outer` one (inner <= outer).
    pub fn place(self, outer: (u32, u32), inner: (u32, u32)) -> (u32, u32) {
        let free_x = outer.0.saturating_sub(inner.0);
        let free_y = outer.1.saturating_sub(inner.1);
        let (fx, fy) = self.fractions();
        (free_x * fx / 2, free_y * fy / 2)
    }

    /// Horizontal and vertical placement in halves: 0 = start, 1 = centre, 2 = end.
    pub fn fractions(self) -> (u32, u32) {
        match self {
            Gravity::Centre => (1, 1),
            Gravity::Top => (1, 0),
            Gravity::Bottom => (1, 2),
            Gravity::Left => (0, 1),
            Gravity::Right => (2, 1),
            Gravity::TopLeft => (0, 0),
            Gravity::TopRight => (2, 0),
            Gravity::BottomLeft => (0, 2),
            Gravity::BottomRight => (2, 2),
        }
    }

    /// The canonical name, as accepted by [`FromStr`].
    pub fn name(self) -> &'static str {
        match self {
            Gravity::Centre => "centre",
            Gravity::Top => "top",
            Gravity::Bottom => "bottom",
            Gravity::Left => "left",
            Gravity::Right => "right",
            Gravity::TopLeft => "top-left",
            Gravity::TopRight => "top-right",
            Gravity::BottomLeft => "bottom-left",
            Gravity::BottomRight => "bottom-right",
        }
    }
}

impl FromStr for Gravity {
    type Err = Error;

    /// Accepts the canonical names, `center`, compass names (`north`, `southeast`, ...) and
    /// `_`/space in place of `-`.
    fn from_str(s: &str) -> Result<Gravity> {
        let s = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        Ok(match s.as_str() {
            "centre" | "center" | "c" => Gravity::Centre,
            "top" | "north" | "n" => Gravity::Top,
            "bottom" | "south" | "s" => Gravity::Bottom,
            "left" | "west" | "w" => Gravity::Left,
            "right" | "east" | "e" => Gravity::Right,
            "top-left" | "left-top" | "northwest" | "nw" => Gravity::TopLeft,
            "top-right" | "right-top" | "northeast" | "ne" => Gravity::TopRight,
            "bottom-left" | "left-bottom" | "southwest" | "sw" => Gravity::BottomLeft,
            "bottom-right" | "right-bottom" | "southeast" | "se" => Gravity::BottomRight,
            _ => {
                return Err(Error::parameter(format!(
                    "unknown gravity '{s}' (expected centre, top, bottom, left, right, top-left, top-right, bottom-left or bottom-right)"
                )))
            }
        })
    }
}

/// A rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

impl Rect {
    /// A rectangle from its parts.
    pub fn new(x: u32, y: u32, width: u32, height: u32) -> Self {
        Rect { x, y, width, height }
    }

    /// Checks that the rectangle is non-empty and lies inside a `width` x `height` image.
    pub fn check_inside(&self, width: u32, height: u32) -> Result<()> {
        if self.width == 0 || self.height == 0 {
            return Err(Error::parameter(format!("crop {}x{} is empty", self.width, self.height)));
        }
        let right = self.x as u64 + self.width as u64;
        let bottom = self.y as u64 + self.height as u64;
        if right > width as u64 || bottom > height as u64 {
            return Err(Error::parameter(format!(
                "crop {}x{} at {},{} lies outside the {}x{} image",
                self.width, self.height, self.x, self.y, width, height
            )));
        }
        Ok(())
    }
}

impl FromStr for Rect {
    type Err = Error;

    /// Parses `X,Y,W,H`.
    fn from_str(s: &str) -> Result<Rect> {
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        let nums: Option<Vec<u32>> = parts.iter().map(|p| p.parse().ok()).collect();
        match nums.as_deref() {
            Some(&[x, y, w, h]) => Ok(Rect::new(x, y, w, h)),
            _ => Err(Error::parameter(format!("crop '{s}' is not X,Y,W,H"))),
        }
    }
}

/// The crop stage.
#[derive(Debug)]
pub struct Crop<S> {
    source: S,
    rect: Rect,
    info: ImageInfo,
    rows: RowCounter,
    /// One full-width input row: rows above the crop are discarded into it.
    input_row: Vec<u8>,
    /// Rows above the crop not yet pulled and discarded.
    rows_to_skip: u32,
}

impl<S: RowSource> Crop<S> {
    /// Crops `source` to `rect` (input coordinates). A rectangle outside the image is an error.
    pub fn new(source: S, rect: Rect) -> Result<Self> {
        let input = source.info();
        rect.check_inside(input.width, input.height)?;
        Ok(Crop {
            info: ImageInfo { width: rect.width, height: rect.height, format: input.format },
            rows: RowCounter::new(rect.height),
            input_row: vec![0; CropSpec::row_buffer_len(input)],
            rows_to_skip: rect.y,
            rect,
            source,
        })
    }

    /// Crops `source` to `width` x `height` placed by `gravity`.
    pub fn gravity(source: S, width: u32, height: u32, gravity: Gravity) -> Result<Self> {
        let input = source.info();
        if width > input.width || height > input.height {
            return Err(Error::parameter(format!(
                "crop {width}x{height} is larger than the {}x{} image",
                input.width, input.height
            )));
        }
        let (x, y) = gravity.place((input.width, input.height), (width, height));
        Self::new(source, Rect::new(x, y, width, height))
    }

    /// The rectangle, in input coordinates.
    pub fn rect(&self) -> Rect {
        self.rect
    }
}

impl<S: RowSource> RowSource for Crop<S> {
    fn info(&self) -> ImageInfo {
        self.info
    }

    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        if row.len() != self.info.row_bytes() {
            return Err(Error::parameter("row buffer has the wrong length"));
        }
        self.rows.advance()?;
        while self.rows_to_skip > 0 {
            self.source.read_row(&mut self.input_row)?;
            self.rows_to_skip -= 1;
        }
        self.source.read_row(&mut self.input_row)?;
        let bpp = self.info.format.bytes_per_pixel();
        let start = self.rect.x as usize * bpp;
        row.copy_from_slice(&self.input_row[start..start + row.len()]);
        Ok(())
    }

    fn input_rows(&self, output: std::ops::Range<u32>) -> std::ops::Range<u32> {
        output.start + self.rect.y..output.end + self.rect.y
    }

    fn buffer_bytes(&self) -> usize {
        self.input_row.capacity()
    }

    fn name(&self) -> &'static str {
        "crop"
    }

    fn upstream(&self) -> Option<&dyn RowSource> {
        Some(&self.source)
    }
}

/// The crop as a [`StageSpec`]: keeps `rect` (input coordinates) of its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CropSpec(pub Rect);

impl CropSpec {
    /// The stage's one buffer: a full-width input row (rows above the crop are read into it).
    fn row_buffer_len(input: ImageInfo) -> usize {
        input.row_bytes()
    }
}

impl StageSpec for CropSpec {
    fn name(&self) -> String {
        "crop".into()
    }
    fn output(&self, input: ImageInfo) -> Result<ImageInfo> {
        self.0.check_inside(input.width, input.height)?;
        Ok(ImageInfo { width: self.0.width, height: self.0.height, format: input.format })
    }
    fn heap_bytes(&self, input: ImageInfo) -> usize {
        Self::row_buffer_len(input)
    }
    fn detail(&self, _input: ImageInfo) -> String {
        format!("{}x{} at {},{}", self.0.width, self.0.height, self.0.x, self.0.y)
    }
    fn build(&self, upstream: BoxedSource) -> Result<BoxedSource> {
        Ok(Box::new(Crop::new(upstream, self.0)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::drain;
    use crate::pixel::PixelFormat;
    use crate::synth::Synthetic;

    fn whole(mut s: impl RowSource) -> Vec<u8> {
        let mut out = Vec::new();
        drain(&mut s, u32::MAX, |strip, _| {
            out.extend_from_slice(strip);
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn crop_matches_whole_image_slice() {
        let (w, h) = (37, 23);
        let full = whole(Synthetic::new(w, h, PixelFormat::RGBA16, 3));
        let rect = Rect::new(5, 7, 11, 9);
        let cropped = whole(Crop::new(Synthetic::new(w, h, PixelFormat::RGBA16, 3), rect).unwrap());
        let bpp = 8;
        let mut expected = Vec::new();
        for y in rect.y..rect.y + rect.height {
            let start = (y * w + rect.x) as usize * bpp;
            expected.extend_from_slice(&full[start..start + rect.width as usize * bpp]);
        }
        assert_eq!(cropped, expected);
    }

    #[test]
    fn gravity_places_all_nine() {
        let at = |g: Gravity| g.place((100, 50), (10, 20));
        assert_eq!(at(Gravity::TopLeft), (0, 0));
        assert_eq!(at(Gravity::Centre), (45, 15));
        assert_eq!(at(Gravity::BottomRight), (90, 30));
        assert_eq!(at(Gravity::Top), (45, 0));
        assert_eq!(at(Gravity::Left), (0, 15));
        assert_eq!(at(Gravity::Right), (90, 15));
        assert_eq!(at(Gravity::Bottom), (45, 30));
        assert_eq!(at(Gravity::TopRight), (90, 0));
        assert_eq!(at(Gravity::BottomLeft), (0, 30));
        for g in Gravity::ALL {
            assert_eq!(g.name().parse::<Gravity>().unwrap(), g);
        }
        assert!("middle".parse::<Gravity>().is_err());
    }

    #[test]
    fn crop_outside_is_an_error() {
        let s = || Synthetic::new(10, 10, PixelFormat::RGB8, 0);
        assert!(Crop::new(s(), Rect::new(5, 5, 6, 1)).is_err());
        assert!(Crop::new(s(), Rect::new(0, 0, 0, 1)).is_err());
        assert!(Crop::new(s(), Rect::new(u32::MAX, 0, 2, 1)).is_err());
        assert!(Crop::gravity(s(), 11, 1, Gravity::Centre).is_err());
        assert!(Crop::new(s(), Rect::new(0, 0, 10, 10)).is_ok());
        assert_eq!("1,2,3,4".parse::<Rect>().unwrap(), Rect::new(1, 2, 3, 4));
        assert!("1,2,3".parse::<Rect>().is_err());
    }

    #[test]
    fn stops_pulling_below_the_crop() {
        let mut c = Crop::new(Synthetic::new(10, 100, PixelFormat::GRAY8, 0), Rect::new(0, 10, 10, 5)).unwrap();
        let mut row = [0u8; 10];
        for _ in 0..5 {
            c.read_row(&mut row).unwrap();
        }
        assert!(c.read_row(&mut row).is_err());
        assert_eq!(c.input_rows(0..5), 10..15);
    }
}
