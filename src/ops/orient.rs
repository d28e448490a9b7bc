//! Orientation: the eight ways to turn and mirror an image (EXIF orientation 1..=8), as one
//! composable value, and the stages that apply them.
//!
//! * [`Flop`] (a horizontal mirror) streams: each row is reversed on its way through.
//! * Everything else ([`Reorient`]: a vertical flip, a half or quarter turn, a transpose) needs
//!   the whole frame before its first output row. The frame is held in a [`ScratchImage`]: a small
//!   heap buffer when the frame is small (the planner puts the stage after a downscale so that it
//!   usually is), else an unnamed temporary file written in tiles through one band buffer.
//!
//! An [`Orientation`] is stored as three bits applied in order to an output pixel `(ox, oy)` to
//! find the input pixel it comes from: `swap` exchanges the axes (`(a, b) = (oy, ox)`), then
//! `flip_x` mirrors `a` and `flip_y` mirrors `b` over the input's width and height.

use crate::error::{Error, Result};
use crate::pipeline::{RowCounter, RowSource};
use crate::pixel::ImageInfo;
use crate::scratch::{ScratchImage, Storage};

/// One of the eight orientations, named by what it does to the stored image to make it upright;
/// the discriminants are the EXIF orientation values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Orientation {
    /// 1: nothing to do.
    #[default]
    Identity = 1,
    /// 2: mirror left-right (flop).
    FlipHorizontal = 2,
    /// 3: turn 180 degrees.
    Rotate180 = 3,
    /// 4: mirror top-bottom (flip).
    FlipVertical = 4,
    /// 5: mirror across the top-left to bottom-right diagonal.
    Transpose = 5,
    /// 6: turn 90 degrees clockwise.
    Rotate90 = 6,
    /// 7: mirror across the top-right to bottom-left diagonal.
    Transverse = 7,
    /// 8: turn 270 degrees clockwise (90 anticlockwise).
    Rotate270 = 8,
}

impl Orientation {
    /// All eight, in EXIF order.
    pub const ALL: [Orientation; 8] = [
        Orientation::Identity,
        Orientation::FlipHorizontal,
        Orientation::Rotate180,
        Orientation::FlipVertical,
        Orientation::Transpose,
        Orientation::Rotate90,
        Orientation::Transverse,
        Orientation::Rotate270,
    ];

    /// The orientation of EXIF value `value` (1..=8); `None` for anything else.
    pub fn from_exif(value: u8) -> Option<Orientation> {
        Self::ALL.get((value as usize).wrapping_sub(1)).copied()
    }

    /// The EXIF value, 1..=8.
    pub fn exif(self) -> u8 {
        self as u8
    }

    /// A clockwise turn by `degrees` (0, 90, 180 or 270, or those plus multiples of 360,
    /// negative meaning anticlockwise).
    pub fn rotation(degrees: i32) -> Result<Orientation> {
        match degrees.rem_euclid(360) {
            0 => Ok(Orientation::Identity),
            90 => Ok(Orientation::Rotate90),
            180 => Ok(Orientation::Rotate180),
            270 => Ok(Orientation::Rotate270),
            _ => Err(Error::parameter(format!(
                "rotation by {degrees} degrees: only multiples of 90 are supported"
            ))),
        }
    }

    /// `(swap, flip_x, flip_y)`: see the module documentation.
    pub fn parts(self) -> (bool, bool, bool) {
        match self {
            Orientation::Identity => (false, false, false),
            Orientation::FlipHorizontal => (false, true, false),
            Orientation::Rotate180 => (false, true, true),
            Orientation::FlipVertical => (false, false, true),
            Orientation::Transpose => (true, false, false),
            Orientation::Rotate90 => (true, false, true),
            Orientation::Transverse => (true, true, true),
            Orientation::Rotate270 => (true, true, false),
        }
    }

    /// The orientation with these parts.
    pub fn from_parts(swap: bool, flip_x: bool, flip_y: bool) -> Orientation {
        *Self::ALL
            .iter()
            .find(|o| o.parts() == (swap, flip_x, flip_y))
            .expect("all eight combinations exist")
    }

    /// Whether width and height trade places.
    pub fn swaps_dimensions(self) -> bool {
        self.parts().0
    }

    /// Whether the transform can stream row by row (identity or a horizontal mirror); the others
    /// need the whole frame.
    pub fn streams(self) -> bool {
        matches!(self, Orientation::Identity | Orientation::FlipHorizontal)
    }

    /// Output size for an input of `width` x `height`.
    pub fn output_size(self, width: u32, height: u32) -> (u32, u32) {
        if self.swaps_dimensions() {
            (height, width)
        } else {
            (width, height)
        }
    }

    /// The input pixel that output pixel `(ox, oy)` comes from, for an input `width` x `height`.
    pub fn source_of(self, ox: u32, oy: u32, width: u32, height: u32) -> (u32, u32) {
        let (swap, fx, fy) = self.parts();
        let (a, b) = if swap { (oy, ox) } else { (ox, oy) };
        (if fx { width - 1 - a } else { a }, if fy { height - 1 - b } else { b })
    }

    /// This orientation followed by `next` (both as seen by the image: `next` acts on the result).
    pub fn then(self, next: Orientation) -> Orientation {
        // Checked on a 2x3 image, whose eight transforms are all different.
        let (w, h) = (2u32, 3u32);
        let (mw, mh) = self.output_size(w, h);
        let (ow, oh) = next.output_size(mw, mh);
        Self::ALL
            .into_iter()
            .find(|c| {
                c.output_size(w, h) == (ow, oh)
                    && (0..oh).all(|y| {
                        (0..ow).all(|x| {
                            let (mx, my) = next.source_of(x, y, mw, mh);
                            c.source_of(x, y, w, h) == self.source_of(mx, my, w, h)
                        })
                    })
            })
            .expect("the eight orientations form a group")
    }

    /// The orientation that undoes this one.
    pub fn inverse(self) -> Orientation {
        *Self::ALL
            .iter()
            .find(|o| self.then(**o) == Orientation::Identity)
            .expect("a group has inverses")
    }

    /// A rectangle `(x, y, w, h)` of the output mapped back to input coordinates, for an input
    /// `width` x `height`.
    pub fn source_rect(self, rect: (u32, u32, u32, u32), width: u32, height: u32) -> (u32, u32, u32, u32) {
        let (x, y, w, h) = rect;
        let a = self.source_of(x, y, width, height);
        let b = self.source_of(x + w - 1, y + h - 1, width, height);
        let (x0, x1) = (a.0.min(b.0), a.0.max(b.0));
        let (y0, y1) = (a.1.min(b.1), a.1.max(b.1));
        (x0, y0, x1 - x0 + 1, y1 - y0 + 1)
    }

    /// Short lower-case name, for plans.
    pub fn name(self) -> &'static str {
        match self {
            Orientation::Identity => "identity",
            Orientation::FlipHorizontal => "flop",
            Orientation::Rotate180 => "rotate 180",
            Orientation::FlipVertical => "flip",
            Orientation::Transpose => "transpose",
            Orientation::Rotate90 => "rotate 90",
            Orientation::Transverse => "transverse",
            Orientation::Rotate270 => "rotate 270",
        }
    }
}

/// Reverses the pixels of a row in place.
fn mirror_row(row: &mut [u8], bpp: usize) {
    let n = row.len() / bpp;
    for i in 0..n / 2 {
        let j = n - 1 - i;
        for b in 0..bpp {
            row.swap(i * bpp + b, j * bpp + b);
        }
    }
}

/// The horizontal mirror, streaming: each row is read into the caller's buffer and reversed.
#[derive(Debug)]
pub struct Flop<S> {
    source: S,
    info: ImageInfo,
}

impl<S: RowSource> Flop<S> {
    /// Mirrors `source` left to right.
    pub fn new(source: S) -> Self {
        Flop {
            info: source.info(),
            source,
        }
    }
}

impl<S: RowSource> RowSource for Flop<S> {
    fn info(&self) -> ImageInfo {
        self.info
    }

    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        self.source.read_row(row)?;
        mirror_row(row, self.info.format.bytes_per_pixel());
        Ok(())
    }

    fn read_rows(&mut self, strip: &mut [u8]) -> Result<()> {
        self.source.read_rows(strip)?;
        let row_bytes = self.info.row_bytes();
        for row in strip.chunks_exact_mut(row_bytes) {
            mirror_row(row, self.info.format.bytes_per_pixel());
        }
        Ok(())
    }

    fn input_rows(&self, output: std::ops::Range<u32>) -> std::ops::Range<u32> {
        output
    }

    fn buffer_bytes(&self) -> usize {
        0
    }

    fn name(&self) -> &'static str {
        "flop"
    }

    fn upstream(&self) -> Option<&dyn RowSource> {
        Some(&self.source)
    }
}

/// A whole-frame orientation: on the first request it pulls every input row into a
/// [`ScratchImage`], then produces output rows from it.
#[derive(Debug)]
pub struct Reorient<S> {
    source: S,
    orientation: Orientation,
    input: ImageInfo,
    info: ImageInfo,
    frame: ScratchImage,
    /// One input row, used while filling the frame.
    input_row: Vec<u8>,
    filled: bool,
    rows: RowCounter,
}

impl<S: RowSource> Reorient<S> {
    /// Applies `orientation` to `source`, holding the frame in `storage`.
    pub fn new(source: S, orientation: Orientation, storage: Storage) -> Result<Self> {
        let input = source.info();
        let (width, height) = orientation.output_size(input.width, input.height);
        let info = ImageInfo {
            width,
            height,
            format: input.format,
        };
        Ok(Reorient {
            frame: ScratchImage::new(input, storage)?,
            input_row: vec![0; input.row_bytes()],
            orientation,
            input,
            info,
            filled: false,
            rows: RowCounter::new(height),
            source,
        })
    }

    /// Heap bytes a stage applying an orientation to `input` will hold in `storage`: one input
    /// row, and the frame on the heap or a file frame's band buffer
    /// ([`ScratchImage::heap_bytes_for`], the same computation [`ScratchImage::new`] allocates by).
    pub fn predicted_buffer_bytes(input: ImageInfo, storage: Storage) -> usize {
        input.row_bytes() + usize::try_from(ScratchImage::heap_bytes_for(input, storage)).unwrap_or(usize::MAX)
    }

    /// Scratch-file bytes a stage applying an orientation to `input` will reserve in `storage`.
    pub fn predicted_scratch_bytes(input: ImageInfo, storage: Storage) -> u64 {
        match storage {
            Storage::Heap => 0,
            Storage::File => ScratchImage::bytes_for(input, storage),
        }
    }

    /// Where the frame is held.
    pub fn storage(&self) -> Storage {
        self.frame.storage()
    }

    fn fill(&mut self) -> Result<()> {
        for y in 0..self.input.height {
            self.source.read_row(&mut self.input_row)?;
            self.frame.write_row(y, &self.input_row)?;
        }
        self.filled = true;
        Ok(())
    }
}

impl<S: RowSource> RowSource for Reorient<S> {
    fn info(&self) -> ImageInfo {
        self.info
    }

    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        if row.len() != self.info.row_bytes() {
            return Err(Error::parameter("row buffer has the wrong length"));
        }
        let oy = self.rows.advance()?;
        if !self.filled {
            self.fill()?;
        }
        let (w, h) = (self.input.width, self.input.height);
        let (swap, fx, fy) = self.orientation.parts();
        // Output row oy, pixel 0, and the step from one output pixel to the next, in input pixels.
        let (x, y) = self.orientation.source_of(0, oy, w, h);
        let step = |flipped: bool| if flipped { -1 } else { 1 };
        let (dx, dy) = if swap { (0, step(fy)) } else { (step(fx), 0) };
        self.frame.read_line(x, y, dx, dy, row)
    }

    fn input_rows(&self, output: std::ops::Range<u32>) -> std::ops::Range<u32> {
        if output.is_empty() {
            return 0..0;
        }
        0..self.input.height
    }

    fn buffer_bytes(&self) -> usize {
        self.input_row.capacity() + self.frame.heap_bytes()
    }

    fn name(&self) -> &'static str {
        match self.frame.storage() {
            Storage::Heap => "orient (heap frame)",
            Storage::File => "orient (scratch file)",
        }
    }

    fn upstream(&self) -> Option<&dyn RowSource> {
        Some(&self.source)
    }
}

/// An orientation as a [`StageSpec`](crate::pipeline::StageSpec): a streaming mirror
/// ([`Flop`]) when it only mirrors left to right, else a whole-frame [`Reorient`] holding the
/// frame in `storage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrientSpec {
    /// What to apply.
    pub orientation: Orientation,
    /// Where a whole frame is held (ignored when the orientation streams).
    pub storage: Storage,
}

impl crate::pipeline::StageSpec for OrientSpec {
    fn name(&self) -> String {
        format!("orient {}", self.orientation.name())
    }
    fn output(&self, input: ImageInfo) -> Result<ImageInfo> {
        let (width, height) = self.orientation.output_size(input.width, input.height);
        Ok(ImageInfo { width, height, format: input.format })
    }
    fn heap_bytes(&self, input: ImageInfo) -> usize {
        if self.orientation.streams() {
            0
        } else {
            Reorient::<crate::pipeline::BoxedSource>::predicted_buffer_bytes(input, self.storage)
        }
    }
    fn scratch_bytes(&self, input: ImageInfo) -> u64 {
        if self.orientation.streams() {
            0
        } else {
            Reorient::<crate::pipeline::BoxedSource>::predicted_scratch_bytes(input, self.storage)
        }
    }
    fn detail(&self, input: ImageInfo) -> String {
        if self.orientation.streams() {
            "streams".into()
        } else {
            format!("whole {}x{} frame in {}", input.width, input.height, self.storage.name())
        }
    }
    fn build(&self, upstream: crate::pipeline::BoxedSource) -> Result<crate::pipeline::BoxedSource> {
        Ok(if self.orientation.streams() {
            Box::new(Flop::new(upstream))
        } else {
            Box::new(Reorient::new(upstream, self.orientation, self.storage)?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::drain;
    use crate::pixel::PixelFormat;
    use crate::synth::Synthetic;

    fn whole(s: &mut dyn RowSource, strip: u32) -> Vec<u8> {
        let mut out = Vec::new();
        drain(s, strip, |rows, _| {
            out.extend_from_slice(rows);
            Ok(())
        })
        .unwrap();
        out
    }

    /// The orientation applied pixel by pixel to a whole image in memory.
    fn reference(o: Orientation, pixels: &[u8], w: u32, h: u32, bpp: usize) -> Vec<u8> {
        let (ow, oh) = o.output_size(w, h);
        let mut out = Vec::with_capacity(pixels.len());
        for y in 0..oh {
            for x in 0..ow {
                let (sx, sy) = o.source_of(x, y, w, h);
                let at = (sy as usize * w as usize + sx as usize) * bpp;
                out.extend_from_slice(&pixels[at..at + bpp]);
            }
        }
        out
    }

    #[test]
    fn exif_values_and_known_mappings() {
        for v in 1..=8 {
            assert_eq!(Orientation::from_exif(v).unwrap().exif(), v);
        }
        assert_eq!(Orientation::from_exif(0), None);
        assert_eq!(Orientation::from_exif(9), None);
        // A 3x2 image turned 90 degrees clockwise: output (0, 0) is the input's bottom-left.
        assert_eq!(Orientation::Rotate90.source_of(0, 0, 3, 2), (0, 1));
        assert_eq!(Orientation::Rotate90.source_of(1, 0, 3, 2), (0, 0));
        assert_eq!(Orientation::Rotate270.source_of(0, 0, 3, 2), (2, 0));
        assert_eq!(Orientation::Rotate180.source_of(0, 0, 3, 2), (2, 1));
        assert_eq!(Orientation::Transpose.source_of(1, 2, 3, 2), (2, 1));
        assert_eq!(Orientation::Transverse.source_of(0, 0, 3, 2), (2, 1));
        assert!(Orientation::Rotate90.swaps_dimensions() && !Orientation::Rotate180.swaps_dimensions());
    }

    #[test]
    fn composition_is_a_group() {
        use Orientation::*;
        assert_eq!(Rotate90.then(Rotate90), Rotate180);
        assert_eq!(Rotate90.then(Rotate180), Rotate270);
        assert_eq!(Rotate270.then(Rotate90), Identity);
        assert_eq!(FlipHorizontal.then(FlipVertical), Rotate180);
        // EXIF 5 is a transpose: a flop then a quarter turn anticlockwise, or a turn then a flop.
        assert_eq!(Rotate90.then(FlipHorizontal), Transpose);
        assert_eq!(Rotate90.then(FlipVertical), Transverse);
        for a in Orientation::ALL {
            assert_eq!(a.then(a.inverse()), Identity);
            assert_eq!(Identity.then(a), a);
            for b in Orientation::ALL {
                for c in Orientation::ALL {
                    assert_eq!(a.then(b).then(c), a.then(b.then(c)));
                }
            }
        }
        assert_eq!(Orientation::rotation(-90).unwrap(), Rotate270);
        assert_eq!(Orientation::rotation(450).unwrap(), Rotate90);
        assert!(Orientation::rotation(45).is_err());
    }

    #[test]
    fn stages_match_the_reference_at_any_strip_height() {
        for (w, h) in [(1, 1), (1, 9), (70, 3), (131, 67)] {
            for format in [PixelFormat::GRAY8, PixelFormat::RGB8, PixelFormat::RGBA16] {
                let bpp = format.bytes_per_pixel();
                let pixels = whole(&mut Synthetic::new(w, h, format, 5), u32::MAX);
                for o in Orientation::ALL {
                    let expected = reference(o, &pixels, w, h, bpp);
                    for storage in [Storage::Heap, Storage::File] {
                        for strip in [1, 7, u32::MAX] {
                            let source = Synthetic::new(w, h, format, 5);
                            let mut stage: Box<dyn RowSource> = if o == Orientation::FlipHorizontal {
                                Box::new(Flop::new(source))
                            } else {
                                Box::new(Reorient::new(source, o, storage).unwrap())
                            };
                            let (ow, oh) = o.output_size(w, h);
                            assert_eq!((stage.info().width, stage.info().height), (ow, oh));
                            assert!(
                                whole(&mut *stage, strip) == expected,
                                "{o:?} {w}x{h} {format} {storage:?} strip {strip}"
                            );
                            let mut row = vec![0; stage.info().row_bytes()];
                            assert!(stage.read_row(&mut row).is_err(), "a row past the end must be refused");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn source_rect_maps_corners() {
        // A 4x10 rectangle at (1, 2) of the upright 6x20 output of a 20x6 image stored turned.
        let o = Orientation::Rotate90;
        let (w, h) = (20, 6); // stored
        let r = o.source_rect((1, 2, 4, 10), w, h);
        // Every output pixel of the rectangle comes from inside the mapped rectangle, and the
        // areas agree.
        assert_eq!(r.2 * r.3, 40);
        for y in 2..12 {
            for x in 1..5 {
                let (sx, sy) = o.source_of(x, y, w, h);
                assert!(sx >= r.0 && sx < r.0 + r.2 && sy >= r.1 && sy < r.1 + r.3);
            }
        }
    }

    #[test]
    fn buffer_prediction_matches() {
        let input = ImageInfo {
            width: 100,
            height: 30,
            format: PixelFormat::RGB8,
        };
        for storage in [Storage::Heap, Storage::File] {
            let stage = Reorient::new(
                Synthetic::new(100, 30, PixelFormat::RGB8, 0),
                Orientation::Rotate90,
                storage,
            )
            .unwrap();
            assert_eq!(
                stage.buffer_bytes(),
                Reorient::<Synthetic>::predicted_buffer_bytes(input, storage)
            );
        }
    }
}
