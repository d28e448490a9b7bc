//! The tools compared, how each is found, and the command line each uses for a job.
//!
//! Each peer gets the idiomatic command a user would type for the job, with comparable output
//! settings: JPEG quality 85 with 4:2:0 chroma, PNG with fast (level 1) deflate, lossy WebP
//! quality 80 (effort 4), AVIF quality 50 (effort 4, 8-bit), Lanczos-3 where the tool lets one
//! choose a resize kernel. A full-size WebP/AVIF needs the whole frame in every tool: stripflow
//! is given `--max-memory 4G` for those, so its plan accepts them (the default 256 MiB refuses).
//!
//! - stripflow: `stripflow convert IN OUT --width 256`, `--crop WxH --gravity bottom-right`,
//!   `--resize WxH --fit cover` (streaming, every core unless `--stripflow-threads` says,
//!   JPEG shrink-on-load by default).
//! - libvips: `vips thumbnail` (shrink-on-load, streaming, threaded), `vips crop`, `vips copy`.
//! - ImageMagick: `convert IN -thumbnail 256x OUT` etc. with the system's default policy.
//! - djpeg (libjpeg-turbo): JPEG inputs only, and only the decode half of a job: it writes PPM,
//!   with DCT scaling (`-scale M/8`) for shrinks and `-crop` for crops; a floor for JPEG decode.
//! - Pillow: bench/pillow_job.py (`Image.thumbnail`, which uses JPEG draft mode, `resize` with
//!   Lanczos, `ImageOps.fit`); its decompression-bomb limit is lifted (a user handling 16K images must).
//! - image crate: the hidden `stripflow-report baseline` subcommand, decoding the whole frame with
//!   image 0.25 (allocation limit lifted) and resizing with its Lanczos3.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::jobs::{Job, Op};

/// The Pillow job script, written next to the cached inputs at run time.
const PILLOW_SCRIPT: &str = include_str!("../../bench/pillow_job.py");

/// The `--threads` stripflow is run with, when the report was asked for one.
static STRIPFLOW_THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

/// Runs stripflow with `--threads threads` in every job of this process (set once, at start).
pub fn set_stripflow_threads(threads: usize) {
    let _ = STRIPFLOW_THREADS.set(threads);
}

/// The `--threads` stripflow runs with, if not its default.
pub fn stripflow_threads() -> Option<usize> {
    STRIPFLOW_THREADS.get().copied()
}

/// A tool of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// This project.
    Stripflow,
    /// libvips command line.
    Vips,
    /// ImageMagick 6 `convert` (or 7 `magick`).
    ImageMagick,
    /// libjpeg-turbo's djpeg (decode only).
    Djpeg,
    /// Python 3 with Pillow.
    Pillow,
    /// The image crate, whole frame in memory.
    ImageCrate,
}

/// A tool and whether it was found.
#[derive(Debug, Clone)]
pub struct ToolInfo {
    /// Which tool.
    pub tool: Tool,
    /// Its version line, when found.
    pub version: String,
    /// Why it cannot run, when missing.
    pub missing: Option<String>,
    /// Program to run (resolved path).
    pub program: PathBuf,
    /// Extra leading arguments (the Pillow script path).
    pub prefix: Vec<OsString>,
}

impl Tool {
    /// Every tool, in table order.
    pub const ALL: [Tool; 6] = [Tool::Stripflow, Tool::Vips, Tool::ImageMagick, Tool::Djpeg, Tool::Pillow, Tool::ImageCrate];

    /// Key used on the command line and in the CSV.
    pub fn key(self) -> &'static str {
        match self {
            Tool::Stripflow => "stripflow",
            Tool::Vips => "vips",
            Tool::ImageMagick => "imagemagick",
            Tool::Djpeg => "djpeg",
            Tool::Pillow => "pillow",
            Tool::ImageCrate => "image",
        }
    }

    /// Display name.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Stripflow => "stripflow",
            Tool::Vips => "libvips",
            Tool::ImageMagick => "ImageMagick",
            Tool::Djpeg => "djpeg",
            Tool::Pillow => "Pillow",
            Tool::ImageCrate => "image crate",
        }
    }

    /// Whether this tool does the whole job (djpeg only decodes).
    pub fn whole_job(self) -> bool {
        self != Tool::Djpeg
    }

    /// Extension of the file the tool writes for `job`.
    pub fn output_ext(self, job: &Job) -> &'static str {
        if self == Tool::Djpeg {
            "ppm"
        } else {
            job.out_ext
        }
    }

    /// The full command line (program first) for `job`, or `None` when the tool cannot do it.
    /// `exe` is the `stripflow-report` executable (the image crate baseline), beside which the
    /// `stripflow` binary is found; program paths of peers are resolved by [`detect`] and
    /// filled in by [`ToolInfo::argv`], so here peers use their bare names.
    pub fn command(self, job: &Job, input: &Path, output: &Path, exe: &Path) -> Option<Vec<OsString>> {
        let (w, h) = (job.input.width, job.input.height);
        let ext = job.out_ext;
        let mut a: Vec<OsString> = Vec::new();
        let s = |v: &str| OsString::from(v);
        match self {
            Tool::Stripflow => {
                a.extend([stripflow_exe(exe).into_os_string(), s("convert"), input.into(), output.into()]);
                match job.op {
                    Op::Width(width) => a.extend([s("--width"), s(&width.to_string())]),
                    Op::CropBottomRight(cw, ch) => {
                        a.extend([s("--crop"), s(&format!("{cw}x{ch}")), s("--gravity"), s("bottom-right")])
                    }
                    Op::Cover(cw, ch) => a.extend([s("--resize"), s(&format!("{cw}x{ch}")), s("--fit"), s("cover")]),
                    Op::Transcode => {}
                }
                // The input-pixel limit (sharp's 16383x16383 by default) is lifted, as Pillow's and
                // the image crate's are: the report is about images beyond it.
                match ext {
                    "jpg" => a.extend([s("--quality"), s("85")]),
                    "webp" => a.extend([s("--quality"), s("80"), s("--effort"), s("4")]),
                    "avif" => a.extend([s("--quality"), s("50"), s("--effort"), s("4")]),
                    _ => a.extend([s("--compression"), s("1")]),
                }
                if job.whole_frame_output() && job.op == Op::Transcode {
                    a.extend([s("--max-memory"), s("4G")]);
                }
                a.extend([s("--limit-input-pixels"), s("0")]);
                if let Some(threads) = stripflow_threads() {
                    a.extend([s("--threads"), s(&threads.to_string())]);
                }
            }
            Tool::Vips => {
                let out = match ext {
                    "jpg" => format!("{}[Q=85]", output.display()),
                    "webp" => format!("{}[Q=80,effort=4]", output.display()),
                    "avif" => format!("{}[Q=50,effort=4,compression=av1]", output.display()),
                    _ => format!("{}[compression=1]", output.display()),
                };
                a.push(s("vips"));
                match job.op {
                    // A huge height bound: fit the width only (and allow upscaling, the default).
                    Op::Width(width) => a.extend([
                        s("thumbnail"),
                        input.into(),
                        s(&out),
                        s(&width.to_string()),
                        s("--height"),
                        s("10000000"),
                    ]),
                    Op::CropBottomRight(cw, ch) => a.extend([
                        s("crop"),
                        input.into(),
                        s(&out),
                        s(&(w - cw).to_string()),
                        s(&(h - ch).to_string()),
                        s(&cw.to_string()),
                        s(&ch.to_string()),
                    ]),
                    Op::Cover(cw, ch) => a.extend([
                        s("thumbnail"),
                        input.into(),
                        s(&out),
                        s(&cw.to_string()),
                        s("--height"),
                        s(&ch.to_string()),
                        s("--crop"),
                        s("centre"),
                    ]),
                    Op::Transcode => a.extend([s("copy"), input.into(), s(&out)]),
                }
            }
            Tool::ImageMagick => {
                a.extend([s("convert"), input.into()]);
                match job.op {
                    Op::Width(width) => a.extend([s("-thumbnail"), s(&format!("{width}x"))]),
                    Op::CropBottomRight(cw, ch) => {
                        a.extend([s("-gravity"), s("SouthEast"), s("-crop"), s(&format!("{cw}x{ch}+0+0")), s("+repage")])
                    }
                    Op::Cover(cw, ch) => a.extend([
                        s("-thumbnail"),
                        s(&format!("{cw}x{ch}^")),
                        s("-gravity"),
                        s("center"),
                        s("-extent"),
                        s(&format!("{cw}x{ch}")),
                    ]),
                    Op::Transcode => {}
                }
                match ext {
                    "jpg" => a.extend([s("-quality"), s("85"), s("-sampling-factor"), s("2x2")]),
                    "webp" => a.extend([s("-quality"), s("80"), s("-define"), s("webp:method=4")]),
                    "avif" => a.extend([s("-quality"), s("50")]),
                    _ => a.extend([s("-define"), s("png:compression-level=1")]),
                }
                a.push(output.into());
            }
            Tool::Djpeg => {
                if !job.input.is_jpeg() {
                    return None;
                }
                a.push(s("djpeg"));
                match job.op {
                    // DCT scaling by M/8: the smallest that is still at least the output width.
                    Op::Width(width) => {
                        let m = (1..=16u32).find(|m| (w * m).div_ceil(8) >= width)?;
                        a.extend([s("-scale"), s(&format!("{m}/8"))]);
                    }
                    Op::CropBottomRight(cw, ch) => {
                        a.extend([s("-crop"), s(&format!("{cw}x{ch}+{}+{}", w - cw, h - ch))]);
                    }
                    Op::Cover(..) => return None,
                    Op::Transcode => {}
                }
                a.extend([s("-ppm"), s("-outfile"), output.into(), input.into()]);
            }
            Tool::Pillow => {
                a.extend([s("python3"), s("pillow_job.py")]);
                a.extend(job.op.to_args().into_iter().map(OsString::from));
                a.extend([input.into(), output.into()]);
            }
            Tool::ImageCrate => {
                // The image crate writes lossless WebP only, and AVIF not in this build; it is
                // built without TIFF.
                if job.whole_frame_output() || job.input.kind == crate::inputs::InputKind::TiledTiff {
                    return None;
                }
                a.extend([exe.as_os_str().to_owned(), s("baseline")]);
                a.extend(job.op.to_args().into_iter().map(OsString::from));
                a.extend([input.into(), output.into()]);
            }
        }
        Some(a)
    }
}

impl ToolInfo {
    /// The command for `job` with the resolved program path.
    pub fn argv(&self, job: &Job, input: &Path, output: &Path, exe: &Path) -> Option<Vec<OsString>> {
        let mut argv = self.tool.command(job, input, output, exe)?;
        match self.tool {
            Tool::Stripflow | Tool::ImageCrate => {}
            Tool::Pillow => {
                argv[0] = self.program.clone().into_os_string();
                argv[1] = self.prefix[0].clone();
            }
            _ => argv[0] = self.program.clone().into_os_string(),
        }
        Some(argv)
    }
}

/// The full path of `name` on PATH, if any.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| {
        use std::os::unix::fs::PermissionsExt;
        p.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
    })
}

/// First non-empty line of a command's output (stdout, else stderr), or None if it cannot run.
fn version_of(program: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    text.lines().map(str::trim).find(|l| !l.is_empty()).map(str::to_string)
}

/// Finds every tool; writes the Pillow script into `cache`.
pub fn detect(exe: &Path, cache: &Path) -> Result<Vec<ToolInfo>> {
    let mut tools = Vec::new();
    for tool in Tool::ALL {
        let mut info = ToolInfo { tool, version: String::new(), missing: None, program: PathBuf::new(), prefix: Vec::new() };
        match tool {
            Tool::Stripflow => {
                info.program = stripflow_exe(exe);
                info.version = format!("stripflow {} (this build)", env!("CARGO_PKG_VERSION"));
                for (program, package) in [(info.program.clone(), "stripflow-cli"), (exe.with_file_name("stripflow-dhat"), "stripflow-report")] {
                    if !program.exists() {
                        bail!("{} is missing: build it with `cargo build --release -p {package}`", program.display());
                    }
                }
            }
            Tool::ImageCrate => {
                info.program = exe.to_path_buf();
                info.version = "image 0.25 (png, jpeg features), whole frame in memory".to_string();
            }
            Tool::Vips => match on_path("vips") {
                Some(p) => {
                    info.version = version_of(&p, &["--version"]).unwrap_or_else(|| "vips (version unknown)".into());
                    info.program = p;
                }
                None => info.missing = Some("vips not on PATH (apt-get install libvips-tools)".into()),
            },
            Tool::ImageMagick => match on_path("convert").or_else(|| on_path("magick")) {
                Some(p) => {
                    info.version = version_of(&p, &["-version"]).unwrap_or_else(|| "convert (version unknown)".into());
                    if !info.version.contains("ImageMagick") {
                        info.missing = Some(format!("{} is not ImageMagick ({})", p.display(), info.version));
                    }
                    info.program = p;
                }
                None => info.missing = Some("convert not on PATH (apt-get install imagemagick)".into()),
            },
            Tool::Djpeg => match on_path("djpeg") {
                Some(p) => {
                    info.version = version_of(&p, &["-version"]).unwrap_or_else(|| "djpeg (version unknown)".into());
                    info.program = p;
                }
                None => info.missing = Some("djpeg not on PATH (apt-get install libjpeg-turbo-progs)".into()),
            },
            Tool::Pillow => match on_path("python3") {
                Some(p) => {
                    let script = cache.join("pillow_job.py");
                    std::fs::write(&script, PILLOW_SCRIPT).with_context(|| format!("cannot write {}", script.display()))?;
                    match version_of(&p, &[script.to_str().context("non-UTF-8 cache path")?, "--version"]) {
                        Some(v) if v.starts_with("Pillow") => info.version = v,
                        other => info.missing = Some(format!("python3 has no Pillow (pip install pillow): {}", other.unwrap_or_default())),
                    }
                    info.program = p;
                    info.prefix = vec![script.into_os_string()];
                }
                None => info.missing = Some("python3 not on PATH".into()),
            },
        }
        tools.push(info);
    }
    Ok(tools)
}

/// The `stripflow` binary measured by the report: the one beside `exe` (the report's own
/// executable), as `cargo build --release --workspace` leaves them.
pub fn stripflow_exe(exe: &Path) -> PathBuf {
    exe.with_file_name("stripflow")
}

/// The hidden `baseline OP [N..] IN OUT` subcommand: the job with the image crate, whole
/// frame in memory (no allocation limit), Lanczos3, JPEG quality 85, fast PNG.
pub fn baseline_main(args: &[String]) -> Result<()> {
    use image::imageops::FilterType;
    let (op, used) = Op::from_args(args)?;
    let [input, output] = &args[used..] else {
        bail!("baseline: expected OP [N..] IN OUT");
    };
    let mut reader = image::ImageReader::open(input)?.with_guessed_format()?;
    reader.no_limits();
    let img = reader.decode().with_context(|| format!("decoding {input}"))?;
    let (w, h) = (img.width(), img.height());
    let img = match op {
        Op::Width(ow) => {
            let oh = ((h as u64 * ow as u64 + w as u64 / 2) / w as u64).max(1) as u32;
            img.resize_exact(ow, oh, FilterType::Lanczos3)
        }
        Op::CropBottomRight(cw, ch) => img.crop_imm(w - cw, h - ch, cw, ch),
        Op::Cover(cw, ch) => img.resize_to_fill(cw, ch, FilterType::Lanczos3),
        Op::Transcode => img,
    };
    let file = std::io::BufWriter::new(std::fs::File::create(output)?);
    if output.ends_with(".jpg") {
        let img = if img.color().has_alpha() { image::DynamicImage::ImageRgb8(img.to_rgb8()) } else { img };
        img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(file, 85))?;
    } else {
        img.write_with_encoder(image::codecs::png::PngEncoder::new_with_quality(
            file,
            image::codecs::png::CompressionType::Fast,
            image::codecs::png::FilterType::Adaptive,
        ))?;
    }
    Ok(())
}
