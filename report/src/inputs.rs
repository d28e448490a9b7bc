//! The report's input images, generated once into a cache folder.
//!
//! Every input is the library's deterministic photo-like [`Synthetic`] image (seed 7), encoded:
//! baseline JPEG and PNG with stripflow's own streaming encoders (quality 85 4:2:0, fast deflate),
//! progressive JPEG with `cjpeg -progressive` fed a PPM stream (or, without cjpeg, jpeg-encoder's
//! progressive mode on a whole frame), and the Adam7-interlaced PNG with the small writer below,
//! which makes seven passes over the generator so it never holds the frame either.
//! A file is written under a temporary name and renamed, so an interrupted run leaves no half file.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use miniz_oxide::deflate::core::{compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus};
use stripflow::codec::jpeg::JpegEncoder;
use stripflow::codec::png::PngEncoder;
use stripflow::synth::Synthetic;
use stripflow::{PixelFormat, RowSource};

/// The seed of every generated input.
pub const SEED: u32 = 7;

/// How an input is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputKind {
    /// Baseline JPEG, quality 85, 4:2:0.
    Jpeg,
    /// Progressive JPEG, quality 85, 4:2:0.
    ProgressiveJpeg,
    /// 8-bit RGB PNG.
    PngRgb,
    /// 8-bit RGBA PNG (the synthetic alpha is a soft-edged disc).
    PngRgba,
    /// 8-bit RGB PNG, Adam7-interlaced.
    InterlacedPngRgb,
    /// 8-bit RGB TIFF in 256x256 LZW tiles with the horizontal predictor, written by libvips
    /// from the PNG of the same size (what scanners and slide tools produce).
    TiledTiff,
}

/// One input image.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InputSpec {
    /// Encoding.
    pub kind: InputKind,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl InputSpec {
    /// File name without extension, e.g. `pjpeg-8192x8192`.
    pub fn stem(&self) -> String {
        let kind = match self.kind {
            InputKind::Jpeg => "jpeg",
            InputKind::ProgressiveJpeg => "pjpeg",
            InputKind::PngRgb => "png-rgb",
            InputKind::PngRgba => "png-rgba",
            InputKind::InterlacedPngRgb => "ipng-rgb",
            InputKind::TiledTiff => "tiled-tiff",
        };
        format!("{kind}-{}x{}", self.width, self.height)
    }

    /// File name in the cache.
    pub fn file_name(&self) -> String {
        let ext = match self.kind {
            _ if self.is_jpeg() => "jpg",
            InputKind::TiledTiff => "tif",
            _ => "png",
        };
        format!("{}.{ext}", self.stem())
    }

    /// Whether the input is a JPEG.
    pub fn is_jpeg(&self) -> bool {
        matches!(self.kind, InputKind::Jpeg | InputKind::ProgressiveJpeg)
    }

    /// Human description, e.g. `8192x8192 progressive JPEG`.
    pub fn label(&self) -> String {
        let kind = match self.kind {
            InputKind::Jpeg => "baseline JPEG",
            InputKind::ProgressiveJpeg => "progressive JPEG",
            InputKind::PngRgb => "RGB PNG",
            InputKind::PngRgba => "RGBA PNG",
            InputKind::InterlacedPngRgb => "interlaced RGB PNG",
            InputKind::TiledTiff => "tiled LZW TIFF",
        };
        format!("{}x{} {kind}", self.width, self.height)
    }

    /// Megapixels.
    pub fn megapixels(&self) -> f64 {
        self.width as f64 * self.height as f64 / 1e6
    }
}

/// Makes sure every input exists in `cache`; returns file name -> path.
pub fn ensure_all(specs: &[InputSpec], cache: &Path) -> Result<HashMap<String, PathBuf>> {
    let mut paths = HashMap::new();
    for spec in specs {
        let path = cache.join(spec.file_name());
        if !path.exists() {
            eprintln!("report: generating {} ...", spec.file_name());
            let started = std::time::Instant::now();
            let temp = cache.join(format!("{}.partial{}", spec.file_name(), std::process::id()));
            let result = generate(spec, &temp);
            if let Err(e) = result {
                let _ = std::fs::remove_file(&temp);
                return Err(e.context(format!("generating {}", spec.file_name())));
            }
            std::fs::rename(&temp, &path)?;
            eprintln!("report:   done in {:.1} s", started.elapsed().as_secs_f64());
        }
        paths.insert(spec.file_name(), path);
    }
    Ok(paths)
}

/// Writes `spec` to `path`.
pub fn generate(spec: &InputSpec, path: &Path) -> Result<()> {
    let (w, h) = (spec.width, spec.height);
    let create = || -> Result<BufWriter<File>> {
        Ok(BufWriter::with_capacity(1 << 20, File::create(path).with_context(|| format!("cannot create {}", path.display()))?))
    };
    match spec.kind {
        InputKind::Jpeg => {
            let mut out = create()?;
            JpegEncoder::default().encode(&mut Synthetic::new(w, h, PixelFormat::RGB8, SEED), &mut out)?;
            out.flush()?;
        }
        InputKind::PngRgb | InputKind::PngRgba => {
            let format = if spec.kind == InputKind::PngRgb { PixelFormat::RGB8 } else { PixelFormat::RGBA8 };
            let mut out = create()?;
            PngEncoder::default().encode(&mut Synthetic::new(w, h, format, SEED), &mut out)?;
            out.flush()?;
        }
        InputKind::ProgressiveJpeg => {
            if super::peers::on_path("cjpeg").is_some() {
                progressive_with_cjpeg(w, h, path)?;
            } else {
                let mut out = create()?;
                progressive_with_jpeg_encoder(w, h, &mut out)?;
                out.flush()?;
            }
        }
        InputKind::InterlacedPngRgb => {
            let mut out = create()?;
            write_interlaced_png(&mut || Synthetic::new(w, h, PixelFormat::RGB8, SEED), &mut out)?;
            out.flush()?;
        }
        InputKind::TiledTiff => {
            let png = path.with_extension("source.png");
            generate(&InputSpec { kind: InputKind::PngRgb, ..spec.clone() }, &png)?;
            let status = Command::new("vips")
                .arg("tiffsave")
                .arg(&png)
                .arg(path)
                .args(["--tile", "--tile-width", "256", "--tile-height", "256", "--compression", "lzw", "--predictor", "horizontal"])
                .status();
            let _ = std::fs::remove_file(&png);
            if !status.is_ok_and(|s| s.success()) {
                bail!("the tiled TIFF input needs libvips (`vips tiffsave`)");
            }
        }
    }
    Ok(())
}

/// Streams the synthetic image as PPM into `cjpeg -progressive -quality 85` (4:2:0 is its default).
fn progressive_with_cjpeg(w: u32, h: u32, path: &Path) -> Result<()> {
    let mut child = Command::new("cjpeg")
        .args(["-progressive", "-quality", "85", "-sample", "2x2", "-outfile"])
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()
        .context("cannot run cjpeg")?;
    {
        let stdin = child.stdin.take().expect("piped");
        let mut pipe = BufWriter::with_capacity(1 << 20, stdin);
        write!(pipe, "P6\n{w} {h}\n255\n")?;
        let mut source = Synthetic::new(w, h, PixelFormat::RGB8, SEED);
        let mut row = vec![0u8; source.info().row_bytes()];
        for _ in 0..h {
            source.read_row(&mut row)?;
            pipe.write_all(&row)?;
        }
        pipe.flush()?;
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("cjpeg failed: {status}");
    }
    Ok(())
}

/// Progressive JPEG with jpeg-encoder, which needs the whole frame.
fn progressive_with_jpeg_encoder(w: u32, h: u32, out: &mut dyn Write) -> Result<()> {
    if w > u16::MAX as u32 || h > u16::MAX as u32 {
        bail!("{w}x{h} is too big for JPEG");
    }
    let mut source = Synthetic::new(w, h, PixelFormat::RGB8, SEED);
    let row_bytes = source.info().row_bytes();
    let mut frame = vec![0u8; row_bytes * h as usize];
    for row in frame.chunks_exact_mut(row_bytes) {
        source.read_row(row)?;
    }
    let mut encoder = jpeg_encoder::Encoder::new(out, 85);
    encoder.set_progressive(true);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    encoder.encode(&frame, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)?;
    Ok(())
}

/// The Adam7 passes: (x0, y0, dx, dy).
const ADAM7: [(u32, u32, u32, u32); 7] = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

/// Writes an 8-bit RGB or RGBA Adam7-interlaced PNG of the images `make` returns (called once per
/// non-empty pass; each call must give the same image). Rows are Paeth-filtered and deflated at
/// level 1 in a stream, so memory is a few rows whatever the size.
pub fn write_interlaced_png(make: &mut dyn FnMut() -> Synthetic, out: &mut dyn Write) -> Result<()> {
    let info = make().info();
    let (w, h) = (info.width, info.height);
    let (color_type, bpp) = match info.format {
        f if f == PixelFormat::RGB8 => (2u8, 3usize),
        f if f == PixelFormat::RGBA8 => (6u8, 4usize),
        f => bail!("interlaced writer takes RGB8 or RGBA8, not {f}"),
    };
    out.write_all(b"\x89PNG\r\n\x1a\n")?;
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, color_type, 0, 0, 1]);
    write_chunk(out, b"IHDR", &ihdr)?;
    let mut idat = IdatWriter { out, buffer: Vec::with_capacity(IDAT_BYTES) };
    let mut deflater = Deflater::new();
    let mut row = vec![0u8; info.row_bytes()];
    for (x0, y0, dx, dy) in ADAM7 {
        let pass_w = if w > x0 { (w - x0).div_ceil(dx) } else { 0 } as usize;
        let pass_h = if h > y0 { (h - y0).div_ceil(dy) } else { 0 };
        if pass_w == 0 || pass_h == 0 {
            continue;
        }
        let last_row = y0 + (pass_h - 1) * dy;
        let mut source = make();
        let mut previous = vec![0u8; pass_w * bpp];
        let mut current = vec![0u8; pass_w * bpp];
        let mut filtered = vec![0u8; 1 + pass_w * bpp];
        for y in 0..=last_row {
            source.read_row(&mut row)?;
            if y < y0 || (y - y0) % dy != 0 {
                continue;
            }
            for (i, px) in current.chunks_exact_mut(bpp).enumerate() {
                let x = (x0 + i as u32 * dx) as usize;
                px.copy_from_slice(&row[x * bpp..(x + 1) * bpp]);
            }
            filtered[0] = 4; // Paeth
            for i in 0..current.len() {
                let a = if i >= bpp { current[i - bpp] } else { 0 };
                let c = if i >= bpp { previous[i - bpp] } else { 0 };
                filtered[1 + i] = current[i].wrapping_sub(paeth(a, previous[i], c));
            }
            deflater.write(&filtered, &mut idat)?;
            std::mem::swap(&mut previous, &mut current);
        }
    }
    deflater.finish(&mut idat)?;
    idat.flush_chunk()?;
    write_chunk(idat.out, b"IEND", &[])?;
    Ok(())
}

/// The Paeth predictor of the PNG specification.
fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = a as i16 + b as i16 - c as i16;
    let (pa, pb, pc) = ((p - a as i16).abs(), (p - b as i16).abs(), (p - c as i16).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// Size of the IDAT chunks written.
const IDAT_BYTES: usize = 1 << 20;

/// Collects the zlib stream and writes it as IDAT chunks of [`IDAT_BYTES`].
struct IdatWriter<'a> {
    out: &'a mut dyn Write,
    buffer: Vec<u8>,
}

impl IdatWriter<'_> {
    fn push(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
        while !bytes.is_empty() {
            let take = (IDAT_BYTES - self.buffer.len()).min(bytes.len());
            self.buffer.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.buffer.len() == IDAT_BYTES {
                self.flush_chunk()?;
            }
        }
        Ok(())
    }

    fn flush_chunk(&mut self) -> std::io::Result<()> {
        if !self.buffer.is_empty() {
            write_chunk(self.out, b"IDAT", &self.buffer)?;
            self.buffer.clear();
        }
        Ok(())
    }
}

/// A streaming zlib compressor (miniz_oxide's core, level 1, zlib header and Adler-32 trailer).
struct Deflater {
    compressor: Box<CompressorOxide>,
    buffer: Vec<u8>,
}

impl Deflater {
    fn new() -> Self {
        Deflater { compressor: Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(1, 15, 0))), buffer: vec![0; 1 << 16] }
    }

    fn write(&mut self, mut input: &[u8], sink: &mut IdatWriter) -> Result<()> {
        while !input.is_empty() {
            let (status, used, produced) = compress(&mut self.compressor, input, &mut self.buffer, TDEFLFlush::None);
            if !matches!(status, TDEFLStatus::Okay) || (used == 0 && produced == 0) {
                bail!("deflate failed: {status:?}");
            }
            sink.push(&self.buffer[..produced])?;
            input = &input[used..];
        }
        Ok(())
    }

    fn finish(&mut self, sink: &mut IdatWriter) -> Result<()> {
        loop {
            let (status, _, produced) = compress(&mut self.compressor, &[], &mut self.buffer, TDEFLFlush::Finish);
            sink.push(&self.buffer[..produced])?;
            match status {
                TDEFLStatus::Done => return Ok(()),
                TDEFLStatus::Okay => continue,
                other => bail!("deflate failed: {other:?}"),
            }
        }
    }
}

/// Writes one PNG chunk.
fn write_chunk(out: &mut dyn Write, kind: &[u8; 4], data: &[u8]) -> std::io::Result<()> {
    out.write_all(&(data.len() as u32).to_be_bytes())?;
    out.write_all(kind)?;
    out.write_all(data)?;
    let crc = crc32_update(crc32_update(!0, kind), data);
    out.write_all(&(!crc).to_be_bytes())
}

/// CRC-32 (IEEE, reflected), bitwise by bytes through a lazily built table.
fn crc32_update(mut crc: u32, data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (n, entry) in t.iter_mut().enumerate() {
            let mut c = n as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
            *entry = c;
        }
        t
    });
    for &b in data {
        crc = table[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The interlaced writer's files decode (with the image crate) to exactly the synthetic image.
    #[test]
    fn interlaced_png_decodes_to_the_source() {
        for (w, h, format) in [(37, 29, PixelFormat::RGB8), (1, 1, PixelFormat::RGB8), (9, 3, PixelFormat::RGBA8), (300, 17, PixelFormat::RGB8)] {
            let mut bytes = Vec::new();
            write_interlaced_png(&mut || Synthetic::new(w, h, format, 3), &mut bytes).unwrap();
            let decoded = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png).unwrap();
            let expected = {
                let mut source = Synthetic::new(w, h, format, 3);
                let mut all = vec![0u8; source.info().row_bytes() * h as usize];
                for row in all.chunks_exact_mut(source.info().row_bytes()) {
                    source.read_row(row).unwrap();
                }
                all
            };
            assert_eq!((decoded.width(), decoded.height()), (w, h));
            assert_eq!(decoded.as_bytes(), &expected[..], "{w}x{h} {format}");
            // Adam7 flag set in IHDR.
            assert_eq!(bytes[8 + 8 + 12], 1);
        }
    }

    #[test]
    fn crc_matches_the_png_specification() {
        // CRC of "IEND" with no data is the well-known AE 42 60 82.
        assert_eq!(!crc32_update(!0, b"IEND"), 0xAE42_6082);
    }
}
