//! dhat heap tests of planned jobs: the planner's predicted peak against the measured one.
//!
//! * `cover_16k_orient6`: a 16384x16384 JPEG tagged with EXIF orientation 6, auto-oriented and
//!   cut to 1200x630 with fit cover at top-right, encoded as JPEG: at most 8 MiB of heap.
//! * `rotate_scratch_6000x4000`: a quarter turn through a mapped scratch file, heap <= 2 MiB.
//! * `chain_N`: random chains (orientation, crop, resize with any fit and position, flatten,
//!   shrink-on-load, PNG, JPEG or TIFF out) on random inputs (PNG in all eight pixel formats, Adam7
//!   PNG in every colour type and depth, gray and colour JPEG, baseline and progressive, sizes 1..20000 px on a side, at most ~1.2 MP so the binary runs in about two
//!   minutes). For each, the predicted peak must be at least the measured one and at most twice it.
//!
//! Each scenario runs in a child process (see `support/heap.rs`); input files are generated
//! once and cached under `target/`. `STRIPFLOW_PLAN_CASES` changes the number of random chains.

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod support;

use stripflow::plan::Chain;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;

use stripflow::codec::jpeg::encode::JpegEncoder;
use stripflow::codec::png::encode::PngEncoder;
use stripflow::codec::Format;
use stripflow::ops::crop::Gravity;
use stripflow::ops::fit::{geometry, Fit, FitOptions};
use stripflow::ops::orient::Orientation;
use stripflow::plan::Pipeline;
use stripflow::synth::Synthetic;
use stripflow::PixelFormat;
use support::fixtures::{self, JpegSpec};
use support::heap::{human, HeapTests};
use support::interlaced::{interlaced_png, RawFormat};

/// splitmix64: a small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below((hi - lo + 1) as u64) as u32
    }
    /// Log-uniform in 1..=max.
    fn size(&mut self, max: u32) -> u32 {
        let t = (self.below(1_000_000) as f64) / 1_000_000.0;
        ((max as f64).powf(t).round() as u32).clamp(1, max)
    }
    fn coin(&mut self) -> bool {
        self.below(2) == 0
    }
}

/// A random job.
#[derive(Debug, Clone)]
struct Case {
    width: u32,
    height: u32,
    input: Format,
    format: PixelFormat,
    /// Interlaced PNG layout (any colour type and depth), if the input is interlaced.
    interlaced: Option<RawFormat>,
    /// Progressive JPEG.
    progressive: bool,
    orientation: Orientation,
    auto_orient: bool,
    crop: Option<(u32, u32, u32, u32)>,
    target: Option<(Option<u32>, Option<u32>)>,
    fit: Fit,
    position: Gravity,
    flatten: bool,
    shrink_on_load: bool,
    output: Format,
}



/// Case `i`: the first random draw whose output is at most 3 MP (so that the binary stays fast).
fn case(i: u64) -> Case {
    (0..)
        .map(|k| draw(i * 7919 + 13 + k * 1_000_003))
        .find(|c| {
            let (ow, oh) = c.orientation.output_size(c.width, c.height);
            let (cw, ch) = c.crop.map_or((ow, oh), |(_, _, w, h)| (w, h));
            let (tw, th) = c.target.unwrap_or((None, None));
            let options = FitOptions {
                fit: c.fit,
                position: c.position,
                ..Default::default()
            };
            let g = geometry((cw, ch), tw, th, &options).unwrap();
            g.canvas.0 as u64 * g.canvas.1 as u64 <= 3_000_000 && g.canvas.0 <= 65535 && g.canvas.1 <= 65535
        })
        .unwrap()
}

fn draw(seed: u64) -> Case {
    let mut r = Rng(seed);
    let (mut width, mut height) = (r.size(20000), r.size(20000));
    // Keep each job small enough for hundreds of them.
    while width as u64 * height as u64 > 1_200_000 {
        if r.coin() {
            width = (width / 2).max(1)
        } else {
            height = (height / 2).max(1)
        }
    }
    let kind = r.below(6);
    let input = if kind < 2 { Format::Jpeg } else { Format::Png };
    let interlaced = (kind == 2).then(|| {
        let all = RawFormat::all();
        all[r.below(all.len() as u64) as usize]
    });
    let progressive = kind == 1;
    let format = match input {
        Format::Jpeg => {
            if r.below(4) == 0 {
                PixelFormat::GRAY8
            } else {
                PixelFormat::RGB8
            }
        }
        _ => PixelFormat::ALL[r.below(8) as usize],
    };
    let orientation = Orientation::ALL[r.below(8) as usize];
    let (ow, oh) = orientation.output_size(width, height);
    let crop = (r.below(4) == 0).then(|| {
        let w = r.range(1, ow);
        let h = r.range(1, oh);
        (r.range(0, ow - w), r.range(0, oh - h), w, h)
    });
    let target = (r.below(5) != 0).then(|| match r.below(4) {
        0 => (Some(r.size(3000)), None),
        1 => (None, Some(r.size(3000))),
        _ => (Some(r.size(3000)), Some(r.size(3000))),
    });
    Case {
        width,
        height,
        input,
        format,
        interlaced,
        progressive,
        orientation,
        auto_orient: r.coin(),
        crop,
        target,
        fit: Fit::ALL[r.below(5) as usize],
        position: Gravity::ALL[r.below(9) as usize],
        flatten: r.below(4) == 0,
        shrink_on_load: r.below(4) != 0,
        output: [Format::Jpeg, Format::Png, Format::Tiff][r.below(3) as usize],
    }
}

/// The input file of a case, written once: plain PNG and baseline JPEG with stripflow's own
/// encoders, interlaced PNG and progressive JPEG with the support generators.
fn input_file(c: &Case) -> PathBuf {
    if let Some(raw) = c.interlaced {
        return interlaced_png(c.width, c.height, raw, 3);
    }
    if c.progressive {
        let spec = JpegSpec { progressive: true, grayscale: c.format == PixelFormat::GRAY8, ..JpegSpec::default() };
        return fixtures::jpeg(c.width, c.height, spec, 3);
    }
    let ext = if c.input == Format::Jpeg { "jpg" } else { "png" };
    let path = fixtures::cache_dir().join(format!("plan-{}x{}-{}.{ext}", c.width, c.height, c.format));
    if !path.exists() {
        let temp = path.with_extension(format!("partial{}", std::process::id()));
        let mut out = BufWriter::new(File::create(&temp).unwrap());
        let mut source = Synthetic::new(c.width, c.height, c.format, 3);
        match c.input {
            Format::Jpeg => JpegEncoder::default().encode(&mut source, &mut out).unwrap(),
            _ => PngEncoder::default().encode(&mut source, &mut out).unwrap(),
        }
        out.flush().unwrap();
        drop(out);
        std::fs::rename(&temp, &path).unwrap();
    }
    path
}

fn pipeline(path: &PathBuf, c: &Case) -> Pipeline {
    let mut p = Pipeline::open(path)
        .unwrap()
        .orient(c.orientation)
        .format(c.output)
        .shrink_on_load(c.shrink_on_load);
    if c.auto_orient {
        p = p.auto_orient();
    }
    if let Some((x, y, w, h)) = c.crop {
        p = p.crop(x, y, w, h);
    }
    if let Some((w, h)) = c.target {
        p = p.resize_to(w, h).fit(c.fit).position(c.position);
    }
    if c.flatten {
        p = p.flatten([40, 50, 60]);
    }
    p
}

/// The 16K JPEG of heap_jpeg with an EXIF APP1 segment (orientation 6) after SOI.
fn jpeg_16k_orientation_6() -> PathBuf {
    let base = fixtures::jpeg(16384, 16384, JpegSpec::default(), 1);
    let path = fixtures::cache_dir().join("synth-16384x16384-exif6.jpg");
    if !path.exists() {
        let mut tiff = Vec::new();
        tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08\0\x01");
        tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
        tiff.extend_from_slice(&[0, 0, 0, 0]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let temp = path.with_extension("partial");
        let mut input = std::io::BufReader::new(File::open(&base).unwrap());
        let mut out = BufWriter::new(File::create(&temp).unwrap());
        let mut soi = [0u8; 2];
        input.read_exact(&mut soi).unwrap();
        out.write_all(&soi).unwrap();
        out.write_all(&[0xFF, 0xE1]).unwrap();
        out.write_all(&((app1.len() + 2) as u16).to_be_bytes()).unwrap();
        out.write_all(&app1).unwrap();
        std::io::copy(&mut input, &mut out).unwrap();
        out.flush().unwrap();
        drop(out);
        std::fs::rename(&temp, &path).unwrap();
    }
    path
}

fn main() {
    let mut t = HeapTests::new();

    // The acceptance job.
    let job = |path: PathBuf| {
        Pipeline::open(path)
            .unwrap()
            .limit_input_pixels(16384 * 16384)
            .auto_orient()
            .resize(1200, 630)
            .fit(Fit::Cover)
            .position(Gravity::TopRight)
            .format(Format::Jpeg)
            .write_to(&mut std::io::sink())
            .unwrap();
    };
    let name = "cover_16k_orient6";
    if t.selected(name) || std::env::var("STRIPFLOW_HEAP_SCENARIO").is_ok() {
        let peak = t.measure(name, jpeg_16k_orientation_6, job);
        if let Some(peak) = peak {
            let plan = pipeline_16k_plan();
            println!("{plan}");
            t.check(
                "16K orientation 6 cover 1200x630 top-right to JPEG <= 8 MiB",
                peak <= 8 << 20,
                &format!("peak {}", human(peak)),
            );
            t.check(
                "16K plan predicts the peak",
                plan.heap_bytes as u64 >= peak && plan.heap_bytes as u64 <= 2 * peak,
                &format!("predicted {} measured {}", human(plan.heap_bytes as u64), human(peak)),
            );
        }
    }

    // A quarter turn of a frame too big for the heap goes through a mapped scratch file: the heap
    // stays at a few rows while 72 MB of frame is written and read back.
    let name = "rotate_scratch_6000x4000";
    let rotate = || {
        Pipeline::from_source(Box::new(Synthetic::new(6000, 4000, PixelFormat::RGB8, 2)))
            .rotate(90)
            .format(Format::Png)
            .max_memory(16 << 20)
    };
    if let Some(peak) = t.measure(name, || (), |_| {
        rotate().write_to(&mut std::io::sink()).unwrap();
    }) {
        let plan = rotate().plan().unwrap();
        t.check(
            "quarter turn via scratch file keeps the heap small",
            plan.scratch_bytes >= 72_000_000 && peak <= 2 << 20,
            &format!("peak {}, scratch {}", human(peak), human(plan.scratch_bytes)),
        );
        t.check(
            "scratch plan predicts the peak",
            plan.heap_bytes as u64 >= peak && plan.heap_bytes as u64 <= 2 * peak,
            &format!("predicted {} measured {}", human(plan.heap_bytes as u64), human(peak)),
        );
    }

    // Random chains.
    let cases: u64 = std::env::var("STRIPFLOW_PLAN_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let (mut worst_low, mut worst_high) = (f64::MAX, 0f64);
    for i in 0..cases {
        let name = format!("chain_{i}");
        let c = case(i);
        if !t.selected(&name) && std::env::var("STRIPFLOW_HEAP_SCENARIO").is_err() {
            continue;
        }
        let setup = || input_file(&c);
        // Written to a real file, so the output writer's buffer is measured too.
        let out = output_path(&c);
        let run = |path: PathBuf| {
            pipeline(&path, &c).write_to_path(&out).unwrap();
        };
        if let Some(peak) = t.measure(&name, setup, run) {
            let plan = pipeline(&input_file(&c), &c).plan_for_path(&out).unwrap();
            let _ = std::fs::remove_file(&out);
            let ratio = plan.heap_bytes as f64 / peak as f64;
            worst_low = worst_low.min(ratio);
            worst_high = worst_high.max(ratio);
            let ok = (1.0..=1.5).contains(&ratio);
            if !ok || std::env::var("STRIPFLOW_PLAN_VERBOSE").is_ok() {
                println!("{c:?}\n{plan}");
            }
            t.check(
                &name,
                ok,
                &format!(
                    "predicted/measured {ratio:.2}: {} / {}",
                    human(plan.heap_bytes as u64),
                    human(peak)
                ),
            );
        }
    }
    if worst_high > 0.0 {
        println!("predicted/measured over {cases} chains: {worst_low:.2} .. {worst_high:.2}");
    }
    t.finish();
}

/// Where a case writes its output: a file in the fixture cache, named by process and format.
fn output_path(c: &Case) -> PathBuf {
    let ext = c.output.name();
    fixtures::cache_dir().join(format!("heap-plan-out-{}.{ext}", std::process::id()))
}

fn pipeline_16k_plan() -> stripflow::plan::Plan {
    Pipeline::open(jpeg_16k_orientation_6())
        .unwrap()
        .limit_input_pixels(16384 * 16384)
        .auto_orient()
        .resize(1200, 630)
        .fit(Fit::Cover)
        .position(Gravity::TopRight)
        .format(Format::Jpeg)
        .plan()
        .unwrap()
}
