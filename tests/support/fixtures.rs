//! Big deterministic test images, generated at test time and cached under the target folder.
//!
//! Images come from [`stripflow::synth::Synthetic`] (photo-like, not trivially compressible) and
//! are encoded with the png and jpeg-encoder crates directly, row by row, so fixture generation
//! neither depends on stripflow's own encoders nor holds a whole frame (except progressive JPEG,
//! whose encoder needs all coefficients; that happens before any profiler starts).

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use stripflow::pixel::{BitDepth, ColorType, PixelFormat};
use stripflow::synth::Synthetic;
use stripflow::RowSource;

/// The folder fixtures are cached in (kept between runs, under `target/`).
pub fn cache_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("stripflow-fixtures");
    std::fs::create_dir_all(&dir).expect("create fixture cache");
    dir
}

/// Writes `path` with `write` unless it exists; writes to a temporary name and renames.
fn cached(name: &str, write: impl FnOnce(&mut BufWriter<File>)) -> PathBuf {
    let path = cache_dir().join(name);
    if !path.exists() {
        let temp = path.with_extension(format!("partial{}", std::process::id()));
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&temp).expect("create fixture"));
        write(&mut out);
        out.flush().expect("flush fixture");
        drop(out);
        std::fs::rename(&temp, &path).expect("rename fixture");
    }
    path
}

/// A non-interlaced PNG of the synthetic image, encoded with fast compression.
pub fn png(width: u32, height: u32, format: PixelFormat, seed: u32) -> PathBuf {
    let name = format!("synth-{width}x{height}-{format}-s{seed}.png");
    cached(&name, |out| {
        let mut source = Synthetic::new(width, height, format, seed);
        let mut encoder = png::Encoder::new(out, width, height);
        encoder.set_color(match format.color {
            ColorType::Gray => png::ColorType::Grayscale,
            ColorType::GrayAlpha => png::ColorType::GrayscaleAlpha,
            ColorType::Rgb => png::ColorType::Rgb,
            ColorType::Rgba => png::ColorType::Rgba,
        });
        encoder.set_depth(match format.depth {
            BitDepth::Eight => png::BitDepth::Eight,
            BitDepth::Sixteen => png::BitDepth::Sixteen,
        });
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().expect("png header");
        let mut stream = writer.stream_writer().expect("png stream");
        let mut row = vec![0u8; format.row_bytes(width)];
        for _ in 0..height {
            source.read_row(&mut row).expect("synthetic row");
            if format.depth == BitDepth::Sixteen {
                for s in row.chunks_exact_mut(2) {
                    let v = u16::from_ne_bytes([s[0], s[1]]);
                    s.copy_from_slice(&v.to_be_bytes());
                }
            }
            stream.write_all(&row).expect("png row");
        }
        stream.finish().expect("png finish");
    })
}

/// How a generated JPEG is coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegSpec {
    /// Quality 1..=100.
    pub quality: u8,
    /// Chroma subsampling (ignored for grayscale).
    pub sampling: jpeg_encoder::SamplingFactor,
    /// Progressive (spectral selection, whole frame held by the encoder) or baseline.
    pub progressive: bool,
    /// Restart interval in MCUs, 0 for none.
    pub restart_interval: u16,
    /// Grayscale instead of YCbCr.
    pub grayscale: bool,
}

impl Default for JpegSpec {
    fn default() -> Self {
        JpegSpec {
            quality: 85,
            sampling: jpeg_encoder::SamplingFactor::F_2_2,
            progressive: false,
            restart_interval: 0,
            grayscale: false,
        }
    }
}

/// A JPEG of the synthetic image.
pub fn jpeg(width: u32, height: u32, spec: JpegSpec, seed: u32) -> PathBuf {
    let name = format!(
        "synth-{width}x{height}-q{}-{:?}-p{}-r{}-g{}-s{seed}.jpg",
        spec.quality, spec.sampling, spec.progressive as u8, spec.restart_interval, spec.grayscale as u8
    );
    cached(&name, |out| {
        let format = if spec.grayscale { PixelFormat::GRAY8 } else { PixelFormat::RGB8 };
        let source = Synthetic::new(width, height, format, seed);
        let mut encoder = jpeg_encoder::Encoder::new(out, spec.quality);
        encoder.set_sampling_factor(spec.sampling);
        if spec.progressive {
            encoder.set_progressive(true);
        }
        if spec.restart_interval > 0 {
            encoder.set_restart_interval(spec.restart_interval);
        }
        let image = SyntheticRows::new(source);
        encoder.encode_image(image).expect("jpeg encode");
    })
}

/// Adapts a synthetic source to jpeg-encoder's row-pulling `ImageBuffer`.
struct SyntheticRows {
    source: RefCell<Synthetic>,
    row: RefCell<(Option<u16>, Vec<u8>)>,
}

impl SyntheticRows {
    fn new(source: Synthetic) -> Self {
        let bytes = source.info().row_bytes();
        SyntheticRows { source: RefCell::new(source), row: RefCell::new((None, vec![0; bytes])) }
    }
}

impl jpeg_encoder::ImageBuffer for SyntheticRows {
    fn get_jpeg_color_type(&self) -> jpeg_encoder::JpegColorType {
        if self.source.borrow().info().format.color == ColorType::Gray {
            jpeg_encoder::JpegColorType::Luma
        } else {
            jpeg_encoder::JpegColorType::Ycbcr
        }
    }
    fn width(&self) -> u16 {
        self.source.borrow().info().width as u16
    }
    fn height(&self) -> u16 {
        self.source.borrow().info().height as u16
    }
    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let mut cache = self.row.borrow_mut();
        let (ref mut at, ref mut row) = *cache;
        // Rows are asked for in order; the encoder repeats the last row to pad the last MCU row.
        while *at != Some(y) {
            self.source.borrow_mut().read_row(row).expect("synthetic row");
            *at = Some(at.map_or(0, |a| a + 1));
        }
        if self.get_jpeg_color_type() == jpeg_encoder::JpegColorType::Luma {
            buffers[0].extend_from_slice(row);
        } else {
            for px in row.chunks_exact(3) {
                let (r, g, b) = (px[0] as i32, px[1] as i32, px[2] as i32);
                let yy = (19595 * r + 38470 * g + 7471 * b + 32768) >> 16;
                let cb = ((-11059 * r - 21709 * g + 32768 * b + 32768) >> 16) + 128;
                let cr = ((32768 * r - 27439 * g - 5329 * b + 32768) >> 16) + 128;
                buffers[0].push(yy.clamp(0, 255) as u8);
                buffers[1].push(cb.clamp(0, 255) as u8);
                buffers[2].push(cr.clamp(0, 255) as u8);
            }
        }
    }
}
