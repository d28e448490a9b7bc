//! One TIFF directory interpreted as an image: its size, sample layout, colour model, compression
//! and the geometry of its strips or tiles, checked for consistency (chunk counts against the
//! size, every chunk inside the file, the largest compressed chunk bounded) and the pixel format
//! the decoder emits.

use std::sync::Arc;

use super::directory::{tag, Directory, FileHeader};
use crate::error::{Error, Result};
use crate::io::Input;
use crate::pixel::{BitDepth, ColorType, PixelFormat};

/// The largest compressed chunk (strip or tile) accepted: 1 GiB. A chunk is read through a
/// bounded piece buffer, never whole, so this only bounds the work a hostile table can ask for.
pub(crate) const MAX_CHUNK_BYTES: u64 = 1 << 30;

/// The most chunks a directory may have (a 16384x16384 image in 16x16 tiles has a million).
pub(crate) const MAX_CHUNKS: u64 = 1 << 24;

/// Compression methods the decoder reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    /// 1: none.
    None,
    /// 5: LZW.
    Lzw,
    /// 8 (Adobe) or 32946 (old): zlib deflate.
    Deflate,
    /// 32773: PackBits.
    PackBits,
}

impl Compression {
    fn from_tag(value: u64) -> Result<Compression> {
        Ok(match value {
            1 => Compression::None,
            5 => Compression::Lzw,
            8 | 32946 => Compression::Deflate,
            32773 => Compression::PackBits,
            2..=4 => return Err(Error::unsupported("TIFF", format!("CCITT fax compression ({value})"))),
            6 | 7 => return Err(Error::unsupported("TIFF", format!("JPEG-in-TIFF compression ({value})"))),
            34712 => return Err(Error::unsupported("TIFF", "JPEG 2000 compression (34712)")),
            50000 | 34925 | 50001 => return Err(Error::unsupported("TIFF", format!("compression {value} (ZSTD, LZMA or WebP)"))),
            other => return Err(Error::unsupported("TIFF", format!("compression {other}"))),
        })
    }

    /// Name for `stripflow info`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Lzw => "lzw",
            Compression::Deflate => "deflate",
            Compression::PackBits => "packbits",
        }
    }
}

/// The colour model of the stored samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Color {
    /// Photometric 0 (`white_is_zero`) or 1.
    Gray {
        /// MinIsWhite: 0 is white.
        white_is_zero: bool,
    },
    /// Photometric 2.
    Rgb,
    /// Photometric 3: the ColorMap as 16-bit RGB entries.
    Palette(Arc<Vec<[u16; 3]>>),
    /// Photometric 5 with InkSet 1: C, M, Y, K ink amounts.
    Cmyk,
}

impl Color {
    /// Samples of colour (before extra samples).
    pub(crate) fn samples(&self) -> usize {
        match self {
            Color::Gray { .. } | Color::Palette(_) => 1,
            Color::Rgb => 3,
            Color::Cmyk => 4,
        }
    }
}

/// An alpha channel from ExtraSamples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Alpha {
    /// The sample index of alpha.
    pub index: usize,
    /// Associated (premultiplied) alpha, to be undone.
    pub associated: bool,
}

/// Strips or tiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Chunks {
    /// Whether the chunks are tiles.
    pub tiled: bool,
    /// Chunk width in pixels (the image width for strips).
    pub width: u32,
    /// Chunk height in rows (RowsPerStrip, clamped to the image height, for strips).
    pub height: u32,
    /// Chunks across and down one plane.
    pub across: u32,
    /// Chunks down.
    pub down: u32,
}

/// A TIFF directory as an image the decoder can read.
#[derive(Debug, Clone)]
pub(crate) struct TiffImage {
    /// The parsed directory (offset tables are read from it by position).
    pub dir: Directory,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bits per sample: 1, 2, 4, 8 or 16.
    pub bits: u8,
    /// Samples per pixel.
    pub samples: usize,
    /// PlanarConfiguration 2: each sample in its own plane of chunks.
    pub planar: bool,
    /// The compression.
    pub compression: Compression,
    /// Horizontal differencing (Predictor 2).
    pub predictor: bool,
    /// Colour model.
    pub color: Color,
    /// Alpha, if an extra sample is one.
    pub alpha: Option<Alpha>,
    /// Strip or tile geometry.
    pub chunks: Chunks,
    /// The largest compressed chunk, in bytes.
    pub max_chunk_bytes: u64,
    /// The Orientation tag (1..=8), if present and valid.
    pub orientation: Option<u8>,
    /// Directories in the file.
    pub pages: u32,
}

impl TiffImage {
    /// Reads and checks directory `page` of `input`.
    pub(crate) fn read(input: &Input, page: u32) -> Result<TiffImage> {
        let header = FileHeader::read(input)?;
        let (_, pages) = super::directory::walk(input, header, None)?;
        let (Some(offset), _) = super::directory::walk(input, header, Some(page))? else {
            return Err(Error::parameter(format!("page {page} does not exist: the TIFF file has {pages} pages (0..={})", pages - 1)));
        };
        let dir = Directory::read(input, header, offset)?;
        Self::from_directory(input, dir, pages)
    }

    fn from_directory(input: &Input, dir: Directory, pages: u32) -> Result<TiffImage> {
        let get = |t, d| dir.get(input, t, d);
        let width = get(tag::IMAGE_WIDTH, 0)?;
        let height = get(tag::IMAGE_LENGTH, 0)?;
        if width == 0 || height == 0 || width > u32::MAX as u64 / 2 || height > u32::MAX as u64 / 2 {
            return Err(Error::format("TIFF", format!("image size {width}x{height} (missing, zero or too large)")));
        }
        let (width, height) = (width as u32, height as u32);
        let samples = get(tag::SAMPLES_PER_PIXEL, 1)?;
        if !(1..=16).contains(&samples) {
            return Err(Error::format("TIFF", format!("{samples} samples per pixel")));
        }
        let samples = samples as usize;
        let bits = match dir.field(tag::BITS_PER_SAMPLE) {
            None => 1,
            Some(f) => {
                let first = dir.value(input, f, 0)?;
                for i in 1..f.count.min(samples as u64) {
                    if dir.value(input, f, i)? != first {
                        return Err(Error::unsupported("TIFF", "samples of different bit depths"));
                    }
                }
                first
            }
        };
        if !matches!(bits, 1 | 2 | 4 | 8 | 16) {
            return Err(Error::unsupported("TIFF", format!("{bits} bits per sample (1, 2, 4, 8 and 16 are read)")));
        }
        let bits = bits as u8;
        match get(tag::SAMPLE_FORMAT, 1)? {
            1 => {}
            2 => return Err(Error::unsupported("TIFF", "signed integer samples")),
            3 => return Err(Error::unsupported("TIFF", "floating-point samples")),
            other => return Err(Error::format("TIFF", format!("sample format {other}"))),
        }
        if get(tag::FILL_ORDER, 1)? != 1 && bits < 8 {
            return Err(Error::unsupported("TIFF", "FillOrder 2 (least significant bit first)"));
        }
        let compression = Compression::from_tag(get(tag::COMPRESSION, 1)?)?;
        let predictor = match get(tag::PREDICTOR, 1)? {
            1 => false,
            2 if bits >= 8 => true,
            2 => return Err(Error::unsupported("TIFF", format!("the horizontal predictor on {bits}-bit samples"))),
            3 => return Err(Error::unsupported("TIFF", "the floating-point predictor (3)")),
            other => return Err(Error::format("TIFF", format!("predictor {other}"))),
        };
        let planar = match get(tag::PLANAR_CONFIGURATION, 1)? {
            1 => false,
            2 => samples > 1,
            other => return Err(Error::format("TIFF", format!("planar configuration {other}"))),
        };
        let color = read_color(input, &dir, bits, samples)?;
        let alpha = read_alpha(input, &dir, &color, samples)?;
        let chunks = read_chunks(input, &dir, width, height)?;
        let orientation = match dir.field(tag::ORIENTATION) {
            Some(f) if f.count > 0 => dir.value(input, f, 0).ok().filter(|o| (1..=8).contains(o)).map(|o| o as u8),
            _ => None,
        };
        let mut image = TiffImage {
            dir,
            width,
            height,
            bits,
            samples,
            planar,
            compression,
            predictor,
            color,
            alpha,
            chunks,
            max_chunk_bytes: 0,
            orientation,
            pages,
        };
        image.max_chunk_bytes = image.check_chunk_table(input)?;
        Ok(image)
    }

    /// Planes of chunks: the samples per pixel when planar, else 1.
    pub(crate) fn planes(&self) -> usize {
        if self.planar { self.samples } else { 1 }
    }

    /// Samples per pixel within one plane.
    pub(crate) fn plane_samples(&self) -> usize {
        if self.planar { 1 } else { self.samples }
    }

    /// Bytes of one row of one chunk in one plane (rows of a chunk are padded to a whole byte).
    pub(crate) fn chunk_row_bytes(&self) -> usize {
        (self.chunks.width as usize * self.plane_samples() * self.bits as usize).div_ceil(8)
    }

    /// The offset and byte-count fields of the chunk tables.
    fn tables(&self) -> Result<(super::directory::Field, super::directory::Field)> {
        let (o, c) = if self.chunks.tiled {
            (tag::TILE_OFFSETS, tag::TILE_BYTE_COUNTS)
        } else {
            (tag::STRIP_OFFSETS, tag::STRIP_BYTE_COUNTS)
        };
        match (self.dir.field(o), self.dir.field(c)) {
            (Some(o), Some(c)) => Ok((o, c)),
            _ => Err(Error::format("TIFF", "the directory has no strip or tile offsets and byte counts")),
        }
    }

    /// Number of chunks: across x down x planes.
    pub(crate) fn chunk_count(&self) -> u64 {
        self.chunks.across as u64 * self.chunks.down as u64 * self.planes() as u64
    }

    /// Where chunk `index` is in the file (offset, byte count).
    pub(crate) fn chunk(&self, input: &Input, index: u64) -> Result<(u64, u64)> {
        let (o, c) = self.tables()?;
        Ok((self.dir.value(input, o, index)?, self.dir.value(input, c, index)?))
    }

    /// Checks every chunk's table entries (enough of them, each inside the file and under
    /// [`MAX_CHUNK_BYTES`]) and returns the largest byte count.
    fn check_chunk_table(&self, input: &Input) -> Result<u64> {
        let (o, c) = self.tables()?;
        let count = self.chunk_count();
        if count > MAX_CHUNKS {
            return Err(Error::format("TIFF", format!("{count} strips or tiles (at most {MAX_CHUNKS})")));
        }
        if o.count < count || c.count < count {
            return Err(Error::format(
                "TIFF",
                format!("{} offsets and {} byte counts for the {count} strips or tiles the size needs", o.count, c.count),
            ));
        }
        let (mut offsets, mut counts) = ([0u64; 64], [0u64; 64]);
        let (mut max, mut start) = (0u64, 0u64);
        while start < count {
            let n = (count - start).min(64) as usize;
            self.dir.values(input, o, start, &mut offsets[..n])?;
            self.dir.values(input, c, start, &mut counts[..n])?;
            for (&off, &len) in offsets[..n].iter().zip(&counts[..n]) {
                if len > MAX_CHUNK_BYTES {
                    return Err(Error::format("TIFF", format!("a strip or tile of {len} bytes (at most {MAX_CHUNK_BYTES})")));
                }
                if off.checked_add(len).is_none_or(|end| end > input.len() as u64) {
                    return Err(Error::format("TIFF", format!("a strip or tile at {off} of {len} bytes runs past the end of the file")));
                }
                max = max.max(len);
            }
            start += n as u64;
        }
        Ok(max)
    }

    /// The pixel format the decoder emits (`cmyk`: CMYK as ink amounts typed RGBA8).
    pub(crate) fn output_format(&self, cmyk: bool) -> PixelFormat {
        let depth = if self.bits == 16 { BitDepth::Sixteen } else { BitDepth::Eight };
        match &self.color {
            Color::Palette(_) => PixelFormat::RGB8,
            Color::Cmyk if cmyk => PixelFormat::RGBA8,
            Color::Cmyk => PixelFormat::RGB8,
            Color::Gray { .. } if self.alpha.is_some() => PixelFormat::new(ColorType::GrayAlpha, depth),
            Color::Gray { .. } => PixelFormat::new(ColorType::Gray, depth),
            Color::Rgb if self.alpha.is_some() => PixelFormat::new(ColorType::Rgba, depth),
            Color::Rgb => PixelFormat::new(ColorType::Rgb, depth),
        }
    }

    /// The colour model's name for `stripflow info`.
    pub(crate) fn color_name(&self) -> &'static str {
        match (&self.color, self.alpha.is_some()) {
            (Color::Gray { .. }, false) => "gray",
            (Color::Gray { .. }, true) => "gray-alpha",
            (Color::Rgb, false) => "rgb",
            (Color::Rgb, true) => "rgba",
            (Color::Palette(_), _) => "palette",
            (Color::Cmyk, _) => "cmyk",
        }
    }
}

fn read_color(input: &Input, dir: &Directory, bits: u8, samples: usize) -> Result<Color> {
    let photometric = match dir.field(tag::PHOTOMETRIC) {
        Some(f) if f.count > 0 => dir.value(input, f, 0)?,
        // Missing (old files): gray for one sample, RGB for three or more.
        _ if samples >= 3 => 2,
        _ => 1,
    };
    let color = match photometric {
        0 | 1 => Color::Gray { white_is_zero: photometric == 0 },
        2 => Color::Rgb,
        3 => {
            let Some(f) = dir.field(tag::COLOR_MAP) else {
                return Err(Error::format("TIFF", "a palette image without a ColorMap"));
            };
            let entries = 1u64 << bits.min(8);
            if f.count != 3 * entries || f.typ != 3 {
                return Err(Error::format("TIFF", format!("ColorMap of {} values for {bits}-bit indices", f.count)));
            }
            let mut values = vec![0u64; f.count as usize];
            dir.values(input, f, 0, &mut values)?;
            let n = entries as usize;
            let map = (0..n).map(|i| [values[i] as u16, values[n + i] as u16, values[2 * n + i] as u16]).collect();
            Color::Palette(Arc::new(map))
        }
        5 => {
            let ink_set = dir.get(input, tag::INK_SET, 1)?;
            if ink_set != 1 || samples < 4 {
                return Err(Error::unsupported("TIFF", "separated (photometric 5) images other than CMYK (InkSet 1, 4 inks)"));
            }
            Color::Cmyk
        }
        4 => return Err(Error::unsupported("TIFF", "transparency masks (photometric 4)")),
        6 => return Err(Error::unsupported("TIFF", "YCbCr images (photometric 6)")),
        8..=10 => return Err(Error::unsupported("TIFF", "CIE L*a*b* images")),
        other => return Err(Error::unsupported("TIFF", format!("photometric interpretation {other}"))),
    };
    if samples < color.samples() {
        return Err(Error::format("TIFF", format!("{samples} samples per pixel for a colour model of {}", color.samples())));
    }
    if bits == 16 && matches!(color, Color::Palette(_)) {
        return Err(Error::unsupported("TIFF", "16-bit palette indices"));
    }
    if bits < 8 && (samples > 1 || !matches!(color, Color::Gray { .. } | Color::Palette(_))) {
        return Err(Error::unsupported("TIFF", format!("{bits}-bit samples other than gray or palette")));
    }
    Ok(color)
}

fn read_alpha(input: &Input, dir: &Directory, color: &Color, samples: usize) -> Result<Option<Alpha>> {
    let index = color.samples();
    if samples <= index || matches!(color, Color::Palette(_) | Color::Cmyk) {
        return Ok(None);
    }
    // The first extra sample: 1 associated, 2 unassociated, 0 (unspecified) taken as
    // unassociated alpha, as libvips does.
    let kind = match dir.field(tag::EXTRA_SAMPLES) {
        Some(f) if f.count > 0 => dir.value(input, f, 0)?,
        _ => 0,
    };
    Ok(Some(Alpha { index, associated: kind == 1 }))
}

fn read_chunks(input: &Input, dir: &Directory, width: u32, height: u32) -> Result<Chunks> {
    let tiled = dir.field(tag::TILE_WIDTH).is_some() || dir.field(tag::TILE_OFFSETS).is_some();
    let (w, h) = if tiled {
        let (w, h) = (dir.get(input, tag::TILE_WIDTH, 0)?, dir.get(input, tag::TILE_LENGTH, 0)?);
        if w == 0 || h == 0 || w > 1 << 16 || h > 1 << 16 {
            return Err(Error::format("TIFF", format!("tile size {w}x{h}")));
        }
        (w as u32, h as u32)
    } else {
        let rows = dir.get(input, tag::ROWS_PER_STRIP, u32::MAX as u64)?;
        if rows == 0 {
            return Err(Error::format("TIFF", "RowsPerStrip is 0"));
        }
        (width, rows.min(height as u64) as u32)
    };
    Ok(Chunks { tiled, width: w, height: h, across: width.div_ceil(w), down: height.div_ceil(h) })
}
