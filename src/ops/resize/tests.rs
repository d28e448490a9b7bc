//! Unit tests of the stage as a whole (the reference comparison lives in tests/resize_*.rs).

use super::*;
use crate::pipeline::{drain, MemorySource};
use crate::pixel::PixelFormat;
use crate::synth::Synthetic;

/// A whole image held in memory, as a source.
fn image(width: u32, height: u32, format: PixelFormat, data: Vec<u8>) -> MemorySource {
    MemorySource::new(ImageInfo { width, height, format }, data).unwrap()
}

fn collect(source: &mut dyn RowSource, strip: u32) -> Vec<u8> {
    let mut out = Vec::new();
    drain(source, strip, |s, _| {
        out.extend_from_slice(s);
        Ok(())
    })
    .unwrap();
    out
}



#[test]
fn predicted_bytes_match_and_strip_height_does_not_matter() {
    let sizes = [(37, 29, 5, 4), (37, 29, 90, 71), (300, 200, 7, 3), (20, 20, 20, 20), (5, 300, 40, 2)];
    for format in PixelFormat::ALL {
        for kernel in Kernel::ALL {
            for linear_light in [false, true] {
                let options = ResizeOptions { kernel, linear_light, ..Default::default() };
                for &(w, h, ow, oh) in &sizes {
                    let make = || Resize::new(Synthetic::new(w, h, format, 3), ow, oh, options).unwrap();
                    let stage = make();
                    let info = Synthetic::new(w, h, format, 3).info();
                    assert_eq!(stage.buffer_bytes(), Resize::<Synthetic>::predicted_buffer_bytes(info, ow, oh, &options));
                    let whole = collect(&mut make(), oh);
                    assert_eq!(whole.len(), format.row_bytes(ow) * oh as usize);
                    for strip in [1, 7] {
                        assert_eq!(collect(&mut make(), strip), whole, "{format} {kernel} {w}x{h}->{ow}x{oh} strip {strip}");
                    }
                }
            }
        }
    }
}

#[test]
fn constant_image_stays_constant() {
    for format in PixelFormat::ALL {
        let bytes = format.bytes_per_pixel();
        let (w, h) = (23u32, 17u32);
        let pixel: Vec<u8> = match format.depth {
            BitDepth::Eight => [201u8, 17, 99, 180][4 - format.channels()..].to_vec(),
            BitDepth::Sixteen => [51234u16, 4321, 60000, 33333][4 - format.channels()..]
                .iter()
                .flat_map(|v| v.to_ne_bytes())
                .collect(),
        };
        assert_eq!(pixel.len(), bytes);
        let data: Vec<u8> = pixel.iter().copied().cycle().take(bytes * (w * h) as usize).collect();
        for kernel in Kernel::ALL {
            for linear_light in [false, true] {
                for (ow, oh) in [(1, 1), (5, 3), (23, 17), (100, 61), (2, 90)] {
                    let options = ResizeOptions { kernel, linear_light, ..Default::default() };
                    let mut r = Resize::new(image(w, h, format, data.clone()), ow, oh, options).unwrap();
                    let out = collect(&mut r, 4);
                    for px in out.chunks_exact(bytes) {
                        assert_eq!(px, &pixel[..], "{format} {kernel} linear {linear_light} -> {ow}x{oh}");
                    }
                }
            }
        }
    }
}

#[test]
fn bad_parameters_are_refused() {
    let s = || Synthetic::new(10, 10, PixelFormat::RGB8, 1);
    let o = ResizeOptions::default();
    assert!(matches!(Resize::new(s(), 0, 5, o), Err(Error::Parameter(_))));
    assert!(matches!(Resize::new(s(), 5, 0, o), Err(Error::Parameter(_))));
    assert!(matches!(Resize::new(s(), u32::MAX, 5, o), Err(Error::Parameter(_))));
    assert!(matches!(Resize::new(s(), 5, u32::MAX, o), Err(Error::Parameter(_))));
    assert!(matches!(Resize::new(s(), 1 << 24, 1 << 24, o), Err(Error::Parameter(_))));
    assert_eq!(Resize::<Synthetic>::predicted_buffer_bytes(s().info(), 0, 1, &o), usize::MAX);
}

#[test]
fn aspect_helpers_round() {
    let r = Resize::to_width(Synthetic::new(1000, 333, PixelFormat::RGB8, 1), 100, Default::default()).unwrap();
    assert_eq!((r.info().width, r.info().height), (100, 33));
    let r = Resize::to_height(Synthetic::new(1000, 333, PixelFormat::RGB8, 1), 1, Default::default()).unwrap();
    assert_eq!((r.info().width, r.info().height), (3, 1));
    let r = Resize::to_width(Synthetic::new(1000, 3, PixelFormat::RGB8, 1), 10, Default::default()).unwrap();
    assert_eq!((r.info().width, r.info().height), (10, 1));
}

#[test]
fn input_rows_cover_what_is_read() {
    // Downscale by 10 with lanczos3: box 5, then 2x with a 12-row window.
    let r = Resize::new(Synthetic::new(50, 1000, PixelFormat::GRAY8, 1), 5, 100, Default::default()).unwrap();
    assert_eq!(r.box_factors(), (5, 5));
    assert!(r.is_scatter());
    let rows = r.input_rows(10..11);
    assert!(rows.start <= 100 && rows.end >= 110, "{rows:?}");
    assert!(rows.end - rows.start <= 70, "{rows:?}");
    assert_eq!(r.input_rows(0..100), 0..1000);
    // Upscale gathers.
    let r = Resize::new(Synthetic::new(5, 10, PixelFormat::GRAY8, 1), 50, 100, Default::default()).unwrap();
    assert!(!r.is_scatter());
    let rows = r.input_rows(50..51);
    assert!(rows.start <= 5 && rows.end >= 6 && rows.end - rows.start <= 6, "{rows:?}");
}

#[test]
fn reads_no_row_twice_and_stops_at_the_end() {
    let mut r = Resize::new(Synthetic::new(40, 40, PixelFormat::RGB8, 1), 7, 7, Default::default()).unwrap();
    let mut row = vec![0; 21];
    for _ in 0..7 {
        r.read_row(&mut row).unwrap();
    }
    assert!(r.read_row(&mut row).is_err());
}

/// Counts the rows pulled from a synthetic source.
struct Counting {
    inner: Synthetic,
    read: u32,
}

impl RowSource for Counting {
    fn info(&self) -> ImageInfo {
        self.inner.info()
    }
    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        self.read += 1;
        self.inner.read_row(row)
    }
    fn buffer_bytes(&self) -> usize {
        0
    }
    fn name(&self) -> &'static str {
        "counting"
    }
}

#[test]
fn input_rows_is_exactly_what_each_output_row_pulls() {
    for kernel in Kernel::ALL {
        for (h, oh) in [(1000, 7), (97, 13), (13, 97), (50, 50), (1, 5), (5, 1), (1001, 3)] {
            let source = Counting { inner: Synthetic::new(9, h, PixelFormat::RGB8, 1), read: 0 };
            let mut r = Resize::new(source, 4, oh, ResizeOptions { kernel, ..Default::default() }).unwrap();
            let mut row = vec![0; 12];
            for j in 0..oh {
                let need = r.input_rows(j..j + 1);
                let upto = r.input_rows(0..j + 1);
                assert!(need.start < need.end && need.end <= upto.end && upto.start == r.input_rows(0..1).start);
                r.read_row(&mut row).unwrap();
                let read = r.source_rows_read();
                assert_eq!(read, r.source.read);
                assert_eq!(read, upto.end, "{kernel} {h}->{oh} row {j}: read {read}, input_rows says {upto:?}");
            }
        }
    }
}
