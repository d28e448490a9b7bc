//! Extract after resize (sharp's `extract` following `resize`): keeps a rectangle of the resized
//! image, streaming.
//!
//! It is a crop placed later in the chain, so it is built as a [`Crop`]; this specification
//! only names it in plans and checks the rectangle against the resized size.

use crate::error::Result;
use crate::ops::crop::{CropSpec, Rect};
use crate::pipeline::{BoxedSource, StageSpec};
use crate::pixel::ImageInfo;

/// Extract as a [`StageSpec`]: keeps `0` (output coordinates of the resized image).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractSpec(pub Rect);

impl StageSpec for ExtractSpec {
    fn name(&self) -> String {
        "extract".into()
    }
    fn output(&self, input: ImageInfo) -> Result<ImageInfo> {
        CropSpec(self.0).output(input).map_err(|e| match e {
            crate::Error::Parameter(m) => crate::Error::parameter(format!("extract after resize: {m}")),
            other => other,
        })
    }
    fn heap_bytes(&self, input: ImageInfo) -> usize {
        CropSpec(self.0).heap_bytes(input)
    }
    fn detail(&self, input: ImageInfo) -> String {
        CropSpec(self.0).detail(input)
    }
    fn build(&self, upstream: BoxedSource) -> Result<BoxedSource> {
        CropSpec(self.0).build(upstream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{MemorySource, RowSource};
    use crate::pixel::PixelFormat;

    #[test]
    fn keeps_the_rectangle_and_rejects_one_outside() {
        let info = ImageInfo { width: 3, height: 2, format: PixelFormat::GRAY8 };
        let spec = ExtractSpec(Rect::new(1, 1, 2, 1));
        let mut out = spec.build(Box::new(MemorySource::new(info, vec![1, 2, 3, 4, 5, 6]).unwrap())).unwrap();
        assert_eq!(spec.heap_bytes(info), out.buffer_bytes());
        let mut row = [0; 2];
        out.read_row(&mut row).unwrap();
        assert_eq!(row, [5, 6]);
        let e = ExtractSpec(Rect::new(2, 0, 2, 1)).output(info).unwrap_err();
        assert!(e.to_string().contains("extract after resize"), "{e}");
    }
}
