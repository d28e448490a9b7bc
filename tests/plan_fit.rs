//! The planner's output against whole-image references: for every fit, the nine positions,
//! landscape and portrait inputs, with and without a quarter turn, the streamed pipeline matches
//! "orient, crop then resize" (cover) or "orient, resize then pad" (contain) done on a whole
//! image in memory, within max abs diff 1.

use stripflow::plan::Chain;
use stripflow::ops::crop::Gravity;
use stripflow::ops::fit::{geometry, Fit, FitOptions};
use stripflow::ops::orient::Orientation;
use stripflow::ops::pad::pixel_bytes;
use stripflow::ops::resize::{Resize, ResizeOptions};
use stripflow::pipeline::drain;
use stripflow::plan::Pipeline;
use stripflow::synth::Synthetic;
use stripflow::{Error, ImageInfo, PixelFormat, Result, RowSource};

/// A whole image in memory, served as rows.
struct Memory {
    info: ImageInfo,
    pixels: Vec<u8>,
    next: u32,
}

impl RowSource for Memory {
    fn info(&self) -> ImageInfo {
        self.info
    }
    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        if self.next >= self.info.height {
            return Err(Error::parameter("past the end"));
        }
        let n = self.info.row_bytes();
        row.copy_from_slice(&self.pixels[self.next as usize * n..][..n]);
        self.next += 1;
        Ok(())
    }
    fn buffer_bytes(&self) -> usize {
        self.pixels.len()
    }
    fn name(&self) -> &'static str {
        "memory"
    }
}

fn pixels(mut s: impl RowSource) -> Vec<u8> {
    let mut out = Vec::new();
    drain(&mut s, 7, |strip, _| {
        out.extend_from_slice(strip);
        Ok(())
    })
    .unwrap();
    out
}

/// The whole image turned by `o`, pixel by pixel.
fn oriented(o: Orientation, img: &Memory) -> Memory {
    let (w, h) = (img.info.width, img.info.height);
    let (ow, oh) = o.output_size(w, h);
    let bpp = img.info.format.bytes_per_pixel();
    let mut out = Vec::new();
    for y in 0..oh {
        for x in 0..ow {
            let (sx, sy) = o.source_of(x, y, w, h);
            let at = (sy as usize * w as usize + sx as usize) * bpp;
            out.extend_from_slice(&img.pixels[at..at + bpp]);
        }
    }
    Memory {
        info: ImageInfo {
            width: ow,
            height: oh,
            ..img.info
        },
        pixels: out,
        next: 0,
    }
}

fn crop(img: &Memory, x: u32, y: u32, w: u32, h: u32) -> Memory {
    let bpp = img.info.format.bytes_per_pixel();
    let mut out = Vec::new();
    for row in y..y + h {
        let at = (row as usize * img.info.width as usize + x as usize) * bpp;
        out.extend_from_slice(&img.pixels[at..at + w as usize * bpp]);
    }
    Memory {
        info: ImageInfo {
            width: w,
            height: h,
            ..img.info
        },
        pixels: out,
        next: 0,
    }
}

fn reference(
    source: &Memory,
    o: Orientation,
    target: (Option<u32>, Option<u32>),
    options: &FitOptions,
    background: [u8; 4],
) -> (ImageInfo, Vec<u8>) {
    let up = oriented(o, source);
    let g = geometry((up.info.width, up.info.height), target.0, target.1, options).unwrap();
    // Crop (cover) then resize.
    let cropped = crop(&up, g.source.x, g.source.y, g.source.width, g.source.height);
    let format = cropped.info.format;
    let scaled = if g.resizes() {
        pixels(Resize::new(cropped, g.scaled.0, g.scaled.1, ResizeOptions::default()).unwrap())
    } else {
        cropped.pixels
    };
    // Pad (contain).
    let bpp = format.bytes_per_pixel();
    let bg = pixel_bytes(background, format);
    let (cw, ch) = g.canvas;
    let mut out = Vec::with_capacity(cw as usize * ch as usize * bpp);
    for y in 0..ch {
        for x in 0..cw {
            let (ix, iy) = (x.wrapping_sub(g.offset.0), y.wrapping_sub(g.offset.1));
            if ix < g.scaled.0 && iy < g.scaled.1 {
                let at = (iy as usize * g.scaled.0 as usize + ix as usize) * bpp;
                out.extend_from_slice(&scaled[at..at + bpp]);
            } else {
                out.extend_from_slice(&bg);
            }
        }
    }
    (
        ImageInfo {
            width: cw,
            height: ch,
            format,
        },
        out,
    )
}

fn max_diff(a: &[u8], b: &[u8]) -> u8 {
    a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap_or(0)
}

#[test]
fn fit_position_matrix_matches_whole_image_reference() {
    let background = [200, 30, 90, 255];
    let mut cases = 0;
    for (w, h) in [(157, 101), (101, 157)] {
        for format in [PixelFormat::RGB8, PixelFormat::GRAYA8] {
            let whole = Memory {
                info: ImageInfo {
                    width: w,
                    height: h,
                    format,
                },
                pixels: pixels(Synthetic::new(w, h, format, 9)),
                next: 0,
            };
            for o in [Orientation::Identity, Orientation::Rotate90, Orientation::FlipVertical] {
                for target in [
                    (Some(60), Some(60)),
                    (Some(50), Some(90)),
                    (Some(240), Some(170)),
                    (Some(45), None),
                ] {
                    for fit in Fit::ALL {
                        for position in Gravity::ALL {
                            let options = FitOptions {
                                fit,
                                position,
                                ..Default::default()
                            };
                            let (info, expected) = reference(&whole, o, target, &options, background);
                            let (plan, rows) = Pipeline::from_source(Box::new(Synthetic::new(w, h, format, 9)))
                                .orient(o)
                                .resize_to(target.0, target.1)
                                .fit(fit)
                                .position(position)
                                .background(background)
                                .into_rows()
                                .unwrap();
                            assert_eq!(rows.info(), info, "{w}x{h} {o:?} {target:?} {fit:?} {position:?}");
                            assert_eq!(plan.output, info);
                            let got = pixels(rows);
                            let d = max_diff(&got, &expected);
                            assert!(
                                d <= 1,
                                "{w}x{h} {format} {o:?} {target:?} {fit:?} {position:?}: max diff {d}\n{plan}"
                            );
                            cases += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(cases, 2 * 2 * 3 * 4 * 5 * 9);
}

#[test]
fn crop_before_resize_is_in_upright_coordinates() {
    let (w, h) = (90, 60);
    let format = PixelFormat::RGB8;
    let whole = Memory {
        info: ImageInfo {
            width: w,
            height: h,
            format,
        },
        pixels: pixels(Synthetic::new(w, h, format, 4)),
        next: 0,
    };
    let up = oriented(Orientation::Rotate270, &whole);
    let expected = crop(&up, 5, 20, 30, 40).pixels;
    let (_, rows) = Pipeline::from_source(Box::new(Synthetic::new(w, h, format, 4)))
        .rotate(-90)
        .crop(5, 20, 30, 40)
        .into_rows()
        .unwrap();
    assert_eq!(pixels(rows), expected);
    let outside = Pipeline::from_source(Box::new(Synthetic::new(w, h, format, 4)))
        .rotate(90)
        .crop(0, 0, 61, 10)
        .plan();
    assert!(matches!(outside, Err(Error::Parameter(_))));
    assert!(matches!(
        Pipeline::from_source(Box::new(Synthetic::new(w, h, format, 4)))
            .rotate(45)
            .plan(),
        Err(Error::Parameter(_))
    ));
}

#[test]
fn plan_is_printable_and_json() {
    // One thread: the stage list of the single-threaded plan (tests/threads.rs covers the
    // handoff line that more threads add after the row source).
    let plan = Pipeline::from_source(Box::new(Synthetic::new(4000, 3000, PixelFormat::RGBA8, 1)))
        .rotate(90)
        .resize(300, 200)
        .fit(Fit::Contain)
        .position(Gravity::Bottom)
        .flatten([255, 255, 255])
        .threads(1)
        .plan()
        .unwrap();
    let text = plan.to_string();
    println!("{text}\n{}", plan.to_json());
    assert!(text.contains("resize") && text.contains("orient rotate 90") && text.contains("pad"));
    let names: Vec<&str> = plan.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "row source",
            "resize",
            "orient rotate 90",
            "pad",
            "flatten",
            "png encode"
        ]
    );
    let resized = &plan.stages[1].output;
    assert_eq!(
        (resized.width, resized.height),
        (200, 150),
        "resized in stored orientation, turned after"
    );
    assert_eq!((plan.output.width, plan.output.height), (300, 200));
    let json = plan.to_json();
    assert!(json.starts_with('{') && json.ends_with('}') && json.contains("\"heap_bytes\":"));
}

#[test]
fn planned_chains_do_not_depend_on_strip_height() {
    let run = |strip: u32, o: Orientation, fit: Fit| {
        let (_, mut rows) = Pipeline::from_source(Box::new(Synthetic::new(97, 61, PixelFormat::RGBA16, 3)))
            .orient(o)
            .crop(3, 5, 50, 40)
            .resize(33, 47)
            .fit(fit)
            .position(Gravity::BottomLeft)
            .flatten([1, 2, 3])
            .into_rows()
            .unwrap();
        let mut out = Vec::new();
        drain(&mut *rows, strip, |s, _| {
            out.extend_from_slice(s);
            Ok(())
        })
        .unwrap();
        out
    };
    for o in [Orientation::Identity, Orientation::FlipHorizontal, Orientation::Transverse] {
        for fit in Fit::ALL {
            let whole = run(u32::MAX, o, fit);
            assert_eq!(run(1, o, fit), whole, "{o:?} {fit:?}");
            assert_eq!(run(7, o, fit), whole, "{o:?} {fit:?}");
        }
    }
}

#[test]
fn transparent_contain_background_adds_alpha_for_png() {
    let plan = |format| {
        Pipeline::from_source(Box::new(Synthetic::new(40, 20, PixelFormat::RGB8, 1)))
            .resize(30, 30)
            .fit(Fit::Contain)
            .background([0, 0, 0, 0])
            .format(format)
            .plan()
            .unwrap()
    };
    assert_eq!(plan(stripflow::codec::Format::Png).output.format, PixelFormat::RGBA8);
    assert_eq!(plan(stripflow::codec::Format::Jpeg).output.format, PixelFormat::RGB8);
    let (_, rows) = Pipeline::from_source(Box::new(Synthetic::new(40, 20, PixelFormat::RGB8, 1)))
        .resize(30, 30)
        .fit(Fit::Contain)
        .background([0, 0, 0, 0])
        .into_rows()
        .unwrap();
    let px = pixels(rows);
    // Rows 0..7 are padding (transparent), the middle row is opaque image.
    assert_eq!(&px[..4], &[0, 0, 0, 0]);
    assert_eq!(px[15 * 30 * 4 + 3], 255);
}
