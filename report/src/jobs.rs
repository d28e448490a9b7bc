//! The job matrix: which inputs, which operations, and which chart series each job feeds.
//!
//! Sizes come from a [`Preset`]: `full` is the matrix of the issue (8192 and 16384 pixel squares, a
//! height series 16384 wide up to 65535 tall, upscales to 16384), `medium` halves every side, and
//! `quick` uses small images so CI can run the whole code path in a minute or two.

use std::collections::HashMap;

use super::inputs::{InputKind, InputSpec};

/// How big the matrix is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Small images, for CI.
    Quick,
    /// Half-size images.
    Medium,
    /// The full matrix of the issue.
    Full,
}

impl Preset {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Quick => "quick",
            Preset::Medium => "medium",
            Preset::Full => "full",
        }
    }

    /// The "8K" side, the "16K" side, and the heights of the height series (which is `big` wide).
    pub fn sizes(self) -> (u32, u32, &'static [u32]) {
        match self {
            Preset::Quick => (512, 1024, &[256, 1024, 4096]),
            Preset::Medium => (4096, 8192, &[1024, 4096, 8192, 16384, 32768]),
            Preset::Full => (8192, 16384, &[1024, 4096, 16384, 32768, 65535]),
        }
    }
}

/// What a job does to its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Resize to this width, keeping the aspect ratio (a thumbnail, or an upscale).
    Width(u32),
    /// Crop a `w` x `h` rectangle at the bottom-right corner.
    CropBottomRight(u32, u32),
    /// Fill exactly `w` x `h`: crop the centre to that aspect ratio, then resize.
    Cover(u32, u32),
    /// Full size, format change only.
    Transcode,
}

impl Op {
    /// Short name used in job ids.
    pub fn short(self) -> String {
        match self {
            Op::Width(w) => format!("w{w}"),
            Op::CropBottomRight(w, h) => format!("crop{w}x{h}"),
            Op::Cover(w, h) => format!("cover{w}x{h}"),
            Op::Transcode => "full".to_string(),
        }
    }

    /// The operation as arguments of bench/pillow_job.py and of the image-crate baseline.
    pub fn to_args(self) -> Vec<String> {
        match self {
            Op::Width(w) => vec!["width".into(), w.to_string()],
            Op::CropBottomRight(w, h) => vec!["crop-br".into(), w.to_string(), h.to_string()],
            Op::Cover(w, h) => vec!["cover".into(), w.to_string(), h.to_string()],
            Op::Transcode => vec!["transcode".into()],
        }
    }

    /// Parses what [`Op::to_args`] wrote; returns the op and the number of arguments used.
    pub fn from_args(args: &[String]) -> anyhow::Result<(Op, usize)> {
        let num = |i: usize| -> anyhow::Result<u32> {
            let s = args.get(i).ok_or_else(|| anyhow::anyhow!("missing number"))?;
            Ok(s.parse()?)
        };
        match args.first().map(String::as_str) {
            Some("width") => Ok((Op::Width(num(1)?), 2)),
            Some("crop-br") => Ok((Op::CropBottomRight(num(1)?, num(2)?), 3)),
            Some("cover") => Ok((Op::Cover(num(1)?, num(2)?), 3)),
            Some("transcode") => Ok((Op::Transcode, 1)),
            other => anyhow::bail!("unknown operation {other:?}"),
        }
    }

    /// The centred crop (x, y, w, h) of a `width` x `height` image with the aspect ratio of
    /// `w` x `h`, as the cover operation takes it.
    pub fn cover_crop(width: u32, height: u32, w: u32, h: u32) -> (u32, u32, u32, u32) {
        let (cw, ch) = if width as u64 * h as u64 > height as u64 * w as u64 {
            (((height as u64 * w as u64 + h as u64 / 2) / h as u64).max(1) as u32, height)
        } else {
            (width, ((width as u64 * h as u64 + w as u64 / 2) / w as u64).max(1) as u32)
        };
        ((width - cw) / 2, (height - ch) / 2, cw, ch)
    }
}

/// A chart a job feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Series {
    /// Peak memory vs input megapixels: 256-wide thumbnails of square RGB PNGs of four sizes.
    Megapixels,
    /// Peak heap vs image height: 256-wide thumbnails of PNGs of one width and growing height.
    Height,
    /// Peak heap vs scale factor: one JPEG resized to many widths, and the big upscale.
    Scale,
}

/// One job of the matrix.
#[derive(Debug, Clone)]
pub struct Job {
    /// Stable identifier (file names, CSV).
    pub id: String,
    /// Human description.
    pub title: String,
    /// Input image.
    pub input: InputSpec,
    /// Operation.
    pub op: Op,
    /// Output extension: "jpg", "png", "webp" or "avif".
    pub out_ext: &'static str,
    /// Charts this job feeds.
    pub series: Vec<Series>,
}

impl Job {
    fn new(input: InputSpec, op: Op, out_ext: &'static str, series: &[Series]) -> Job {
        let what = match op {
            Op::Width(w) if w > input.width => format!("upscale to {w} wide"),
            Op::Width(w) if w == input.width => "resize 1:1 (re-encode)".to_string(),
            Op::Width(w) => format!("resize to {w} wide"),
            Op::CropBottomRight(w, h) => format!("crop {w}x{h} bottom-right"),
            Op::Cover(w, h) => format!("cover {w}x{h}"),
            Op::Transcode => "full size".to_string(),
        };
        let out = match out_ext {
            "png" => "PNG",
            "webp" => "WebP",
            "avif" => "AVIF",
            _ => "JPEG",
        };
        Job {
            id: format!("{}-{}-{}", input.stem(), op.short(), out_ext),
            title: format!("{what}: {} -> {out}", input.label()),
            input,
            op,
            out_ext,
            series: series.to_vec(),
        }
    }

    /// The output size every tool should produce.
    pub fn expected_size(&self) -> (u32, u32) {
        let (w, h) = (self.input.width, self.input.height);
        match self.op {
            Op::Width(out) => (out, ((h as u64 * out as u64 + w as u64 / 2) / w as u64).max(1) as u32),
            Op::CropBottomRight(cw, ch) | Op::Cover(cw, ch) => (cw, ch),
            Op::Transcode => (w, h),
        }
    }

    /// Whether the output format needs the whole output frame in the encoder (WebP, AVIF).
    pub fn whole_frame_output(&self) -> bool {
        matches!(self.out_ext, "webp" | "avif")
    }

    /// Output width over input width.
    pub fn scale_factor(&self) -> f64 {
        self.expected_size().0 as f64 / self.input.width as f64
    }
}

/// The job matrix of a preset, without duplicates (a job that belongs to several series appears once).
pub fn matrix(preset: Preset) -> Vec<Job> {
    use InputKind::*;
    use Series::*;
    let (base, big, heights) = preset.sizes();
    let sq = |kind, side| InputSpec { kind, width: side, height: side };
    let thumb = 256;
    let mut jobs = vec![
        Job::new(sq(Jpeg, base), Op::Width(thumb), "jpg", &[Scale]),
        Job::new(sq(Jpeg, big), Op::Width(thumb), "jpg", &[]),
        Job::new(sq(ProgressiveJpeg, base), Op::Width(thumb), "jpg", &[]),
        Job::new(sq(ProgressiveJpeg, big), Op::Width(thumb), "jpg", &[]),
        Job::new(sq(PngRgb, base), Op::Width(thumb), "png", &[Megapixels]),
        Job::new(sq(PngRgb, big), Op::Width(thumb), "png", &[Megapixels]),
        Job::new(sq(PngRgb, base / 4), Op::Width(thumb), "png", &[Megapixels]),
        Job::new(sq(PngRgb, base / 2), Op::Width(thumb), "png", &[Megapixels]),
        Job::new(sq(PngRgba, base), Op::Width(thumb), "png", &[]),
        Job::new(sq(PngRgba, big), Op::Width(thumb), "png", &[]),
        Job::new(sq(InterlacedPngRgb, base), Op::Width(thumb), "png", &[]),
        Job::new(sq(Jpeg, big), Op::Width(1), "png", &[]),
        Job::new(sq(PngRgb, 64), Op::Width(big), "jpg", &[Scale]),
        Job::new(sq(PngRgb, 64), Op::Width(big), "png", &[]),
    ];
    let crop = if big >= 2000 { 1000 } else { big / 2 };
    jobs.push(Job::new(sq(Jpeg, big), Op::CropBottomRight(crop, crop), "jpg", &[]));
    let cover = if base >= 2400 { (1200, 630) } else { (base / 2, base / 2 * 630 / 1200) };
    jobs.push(Job::new(sq(Jpeg, base), Op::Cover(cover.0, cover.1), "jpg", &[]));
    jobs.push(Job::new(sq(Jpeg, base), Op::Transcode, "png", &[]));
    jobs.push(Job::new(sq(PngRgb, base), Op::Transcode, "jpg", &[]));
    // The outputs upload pipelines ship (issue 11): WebP cards and thumbnails, AVIF, and a
    // full-size WebP (whole frame: stripflow's plan prices it).
    jobs.push(Job::new(sq(Jpeg, base), Op::Cover(cover.0, cover.1), "webp", &[]));
    jobs.push(Job::new(sq(Jpeg, big), Op::Cover(cover.0, cover.1), "webp", &[]));
    jobs.push(Job::new(sq(Jpeg, base), Op::Width(thumb), "webp", &[]));
    jobs.push(Job::new(sq(Jpeg, base), Op::Width(base / 4), "avif", &[]));
    jobs.push(Job::new(sq(Jpeg, base), Op::Width(thumb), "avif", &[]));
    jobs.push(Job::new(sq(PngRgb, base), Op::Transcode, "webp", &[]));
    // Tiled TIFF input (issue 12): a 256-wide thumbnail, streamed one row of tiles at a time.
    jobs.push(Job::new(sq(TiledTiff, big), Op::Width(thumb), "jpg", &[]));
    for w in [1, 16, base / 4, base] {
        jobs.push(Job::new(sq(Jpeg, base), Op::Width(w), "jpg", &[Scale]));
    }
    for &h in heights {
        jobs.push(Job::new(InputSpec { kind: PngRgb, width: big, height: h }, Op::Width(thumb), "png", &[Height]));
    }
    // Merge duplicates (same id), keeping the first position and the union of the series.
    let mut out: Vec<Job> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for job in jobs {
        match at.get(&job.id) {
            Some(&i) => {
                for s in job.series {
                    if !out[i].series.contains(&s) {
                        out[i].series.push(s);
                    }
                }
            }
            None => {
                at.insert(job.id.clone(), out.len());
                out.push(job);
            }
        }
    }
    out
}

/// The distinct inputs the jobs need, in first-use order.
pub fn distinct_inputs(jobs: &[Job]) -> Vec<InputSpec> {
    let mut specs: Vec<InputSpec> = Vec::new();
    for job in jobs {
        if !specs.contains(&job.input) {
            specs.push(job.input.clone());
        }
    }
    specs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_has_no_duplicates_and_merges_series() {
        for preset in [Preset::Quick, Preset::Medium, Preset::Full] {
            let jobs = matrix(preset);
            let mut ids: Vec<_> = jobs.iter().map(|j| j.id.clone()).collect();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), jobs.len());
            let (_, big, _) = preset.sizes();
            let square = jobs.iter().find(|j| j.id == format!("png-rgb-{big}x{big}-w256-png")).unwrap();
            assert!(square.series.contains(&Series::Height) && square.series.contains(&Series::Megapixels));
            assert_eq!(jobs.iter().filter(|j| j.series.contains(&Series::Megapixels)).count(), 4);
        }
    }

    #[test]
    fn cover_crop_keeps_the_aspect() {
        assert_eq!(Op::cover_crop(16384, 16384, 1200, 630), (0, (16384 - 8602) / 2, 16384, 8602));
        assert_eq!(Op::cover_crop(4000, 1000, 100, 100), (1500, 0, 1000, 1000));
    }

    #[test]
    fn op_args_round_trip() {
        for op in [Op::Width(7), Op::CropBottomRight(3, 4), Op::Cover(5, 6), Op::Transcode] {
            let args = op.to_args();
            assert_eq!(Op::from_args(&args).unwrap(), (op, args.len()));
        }
    }
}
