//! Interlaced (Adam7) PNG fixtures of any size, colour type and bit depth, generated at test time
//! and cached under the target folder.
//!
//! The png crate cannot write Adam7, so this writes the file itself: for each of the seven passes
//! it regenerates the deterministic [`Synthetic`] image top to bottom, keeps the rows and columns of
//! that pass, packs the samples (1, 2, 4, 8 or 16 bits), filters each row (cycling through all five
//! filter types), and deflates the concatenated pass rows as one zlib stream with miniz_oxide,
//! cutting it into `IDAT` chunks of a chosen size. Memory: O(width), whatever the height. The code
//! shares nothing with the decoder under test (its own pass table, filters and CRC), and the tests
//! compare against the png crate's decoder.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use miniz_oxide::deflate::core::{create_comp_flags_from_zip_params, CompressorOxide};
use miniz_oxide::deflate::stream::deflate;
use miniz_oxide::{MZFlush, MZStatus};
use stripflow::pixel::{BitDepth, ColorType, PixelFormat};
use stripflow::synth::Synthetic;
use stripflow::RowSource;

/// A PNG pixel layout: colour type byte (0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA), bits
/// per sample, and whether to write a `tRNS` chunk (gray, RGB and palette only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawFormat {
    /// PNG colour type.
    pub color: u8,
    /// Bits per sample (per index for palette).
    pub bits: u8,
    /// Whether a `tRNS` chunk is written.
    pub trns: bool,
}

impl RawFormat {
    /// A layout without `tRNS`.
    pub const fn new(color: u8, bits: u8) -> RawFormat {
        RawFormat { color, bits, trns: false }
    }

    /// The same layout with a `tRNS` chunk.
    pub const fn with_trns(self) -> RawFormat {
        RawFormat { trns: true, ..self }
    }

    /// Every valid PNG layout (colour type and depth), each with and without `tRNS` where
    /// allowed: 25 in all.
    pub fn all() -> Vec<RawFormat> {
        let mut all = Vec::new();
        for (color, depths) in [
            (0u8, &[1u8, 2, 4, 8, 16][..]),
            (2, &[8, 16][..]),
            (3, &[1, 2, 4, 8][..]),
            (4, &[8, 16][..]),
            (6, &[8, 16][..]),
        ] {
            for &bits in depths {
                all.push(RawFormat::new(color, bits));
                if matches!(color, 0 | 2 | 3) {
                    all.push(RawFormat::new(color, bits).with_trns());
                }
            }
        }
        all
    }

    fn samples(self) -> usize {
        match self.color {
            0 | 3 => 1,
            4 => 2,
            2 => 3,
            _ => 4,
        }
    }

    /// The synthetic source format the samples are derived from.
    fn source_format(self) -> PixelFormat {
        let depth = if self.bits == 16 { BitDepth::Sixteen } else { BitDepth::Eight };
        let color = match self.color {
            0 | 3 => ColorType::Gray,
            2 => ColorType::Rgb,
            4 => ColorType::GrayAlpha,
            _ => ColorType::Rgba,
        };
        PixelFormat::new(color, depth)
    }
}

impl std::fmt::Display for RawFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "c{}b{}{}", self.color, self.bits, if self.trns { "t" } else { "" })
    }
}

impl From<PixelFormat> for RawFormat {
    fn from(format: PixelFormat) -> RawFormat {
        let color = match format.color {
            ColorType::Gray => 0,
            ColorType::Rgb => 2,
            ColorType::GrayAlpha => 4,
            ColorType::Rgba => 6,
        };
        RawFormat::new(color, format.depth.bits() as u8)
    }
}

/// The seven Adam7 passes as (x0, y0, dx, dy).
const ADAM7: [(u32, u32, u32, u32); 7] =
    [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

/// An interlaced PNG of the synthetic image, with 64 KiB `IDAT` chunks; compression level 6 for
/// images up to a megapixel, 1 above.
pub fn interlaced_png(width: u32, height: u32, format: impl Into<RawFormat>, seed: u32) -> PathBuf {
    let level = if width as u64 * height as u64 <= 1 << 20 { 6 } else { 1 };
    interlaced_png_with(width, height, format, seed, 64 * 1024, level)
}

/// Like [`interlaced_png`] with a chosen `IDAT` chunk size (bytes of zlib data per chunk) and
/// deflate level (0..=9).
pub fn interlaced_png_with(
    width: u32,
    height: u32,
    format: impl Into<RawFormat>,
    seed: u32,
    idat_size: usize,
    level: u8,
) -> PathBuf {
    let format = format.into();
    let name = format!("adam7-{width}x{height}-{format}-s{seed}-i{idat_size}-l{level}.png");
    let path = super::fixtures::cache_dir().join(name);
    if !path.exists() {
        let temp = path.with_extension(format!("partial{}", std::process::id()));
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&temp).expect("create fixture"));
        write_interlaced(&mut out, width, height, format, seed, idat_size, level);
        out.flush().expect("flush fixture");
        drop(out);
        std::fs::rename(&temp, &path).expect("rename fixture");
    }
    path
}

/// Writes one chunk with its CRC.
fn chunk(out: &mut dyn Write, kind: &[u8; 4], data: &[u8]) {
    out.write_all(&(data.len() as u32).to_be_bytes()).unwrap();
    out.write_all(kind).unwrap();
    out.write_all(data).unwrap();
    let crc = !crc_update(crc_update(!0, kind), data);
    out.write_all(&crc.to_be_bytes()).unwrap();
}

/// Bitwise CRC-32 (reflected 0xEDB88320), slow and obviously right.
fn crc_update(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    crc
}

/// The raw (unpacked) sample values of `format` at pixel `x` of synthetic row `row`.
fn samples_at(format: RawFormat, row: &[u8], x: usize, out: &mut [u16; 4]) {
    let n = format.samples();
    if format.bits == 16 {
        for c in 0..n {
            let i = (x * n + c) * 2;
            out[c] = u16::from_ne_bytes([row[i], row[i + 1]]);
        }
    } else {
        for c in 0..n {
            out[c] = (row[x * n + c] >> (8 - format.bits)) as u16;
        }
    }
}

/// Packs the samples of pixels `x0, x0 + dx, ...` of `row` into `packed` (PNG layout).
fn pack(format: RawFormat, row: &[u8], x0: u32, dx: u32, count: u32, packed: &mut [u8]) {
    packed.fill(0);
    let n = format.samples();
    let bits = format.bits as usize;
    let mut s = [0u16; 4];
    let mut bit = 0usize;
    for k in 0..count {
        samples_at(format, row, (x0 + k * dx) as usize, &mut s);
        for &v in &s[..n] {
            if bits == 16 {
                packed[bit / 8..bit / 8 + 2].copy_from_slice(&v.to_be_bytes());
            } else {
                packed[bit / 8] |= (v as u8) << (8 - bits - bit % 8);
            }
            bit += bits;
        }
    }
}

/// Filters `row` (unfiltered, `prev` is the unfiltered row above) with `filter` into `out`.
fn filter(kind: u8, row: &[u8], prev: &[u8], bpp: usize, out: &mut [u8]) {
    for i in 0..row.len() {
        let a = if i >= bpp { row[i - bpp] } else { 0 };
        let b = prev[i];
        let c = if i >= bpp { prev[i - bpp] } else { 0 };
        let pred = match kind {
            0 => 0,
            1 => a,
            2 => b,
            3 => ((a as u16 + b as u16) / 2) as u8,
            _ => {
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
        };
        out[i] = row[i].wrapping_sub(pred);
    }
}

/// Deflates into `IDAT` chunks of `idat_size` bytes.
struct IdatWriter<'a> {
    out: &'a mut dyn Write,
    compressor: Box<CompressorOxide>,
    buf: Vec<u8>,
    filled: usize,
}

impl IdatWriter<'_> {
    fn push(&mut self, mut data: &[u8], flush: MZFlush) {
        loop {
            let r = deflate(&mut self.compressor, data, &mut self.buf[self.filled..], flush);
            let status = r.status.expect("deflate");
            data = &data[r.bytes_consumed..];
            self.filled += r.bytes_written;
            if self.filled == self.buf.len() {
                chunk(self.out, b"IDAT", &self.buf);
                self.filled = 0;
            }
            if status == MZStatus::StreamEnd {
                if self.filled > 0 {
                    chunk(self.out, b"IDAT", &self.buf[..self.filled]);
                    self.filled = 0;
                }
                return;
            }
            if data.is_empty() && flush != MZFlush::Finish {
                return;
            }
        }
    }
}

fn write_interlaced(
    out: &mut dyn Write,
    width: u32,
    height: u32,
    format: RawFormat,
    seed: u32,
    idat_size: usize,
    level: u8,
) {
    let source_format = format.source_format();
    out.write_all(b"\x89PNG\r\n\x1a\n").unwrap();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[format.bits, format.color, 0, 0, 1]);
    chunk(out, b"IHDR", &ihdr);
    let mut row = vec![0u8; source_format.row_bytes(width)];
    if format.color == 3 {
        // A palette of 2^bits deterministic colours; with tRNS, alpha for the first half.
        let entries = 1usize << format.bits;
        let plte: Vec<u8> = (0..entries * 3).map(|i| (i as u32 * 97 + seed * 31) as u8).collect();
        chunk(out, b"PLTE", &plte);
        if format.trns {
            let alpha: Vec<u8> = (0..entries.div_ceil(2)).map(|i| (i * 255 / entries) as u8).collect();
            chunk(out, b"tRNS", &alpha);
        }
    } else if format.trns {
        // The colour of the first pixel is the transparent key, so it occurs.
        Synthetic::new(width, height, source_format, seed).read_row(&mut row).unwrap();
        let mut s = [0u16; 4];
        samples_at(format, &row, 0, &mut s);
        let key: Vec<u8> = s[..format.samples()].iter().flat_map(|v| v.to_be_bytes()).collect();
        chunk(out, b"tRNS", &key);
    }
    let flags = create_comp_flags_from_zip_params(level as i32, 15, 0);
    let mut idat = IdatWriter {
        out,
        compressor: Box::new(CompressorOxide::new(flags)),
        buf: vec![0; idat_size.max(1)],
        filled: 0,
    };
    let bits_pp = format.samples() * format.bits as usize;
    let bpp = bits_pp.div_ceil(8);
    for (p, &(x0, y0, dx, dy)) in ADAM7.iter().enumerate() {
        let pw = if width > x0 { (width - x0).div_ceil(dx) } else { 0 };
        let ph = if height > y0 { (height - y0).div_ceil(dy) } else { 0 };
        if pw == 0 || ph == 0 {
            continue;
        }
        let row_len = (pw as usize * bits_pp).div_ceil(8);
        let mut packed = vec![0u8; row_len];
        let mut prev = vec![0u8; row_len];
        let mut filtered = vec![0u8; row_len + 1];
        let mut source = Synthetic::new(width, height, source_format, seed);
        for y in 0..height {
            source.read_row(&mut row).unwrap();
            if y < y0 || (y - y0) % dy != 0 {
                continue;
            }
            let j = (y - y0) / dy;
            pack(format, &row, x0, dx, pw, &mut packed);
            let kind = ((j as usize + p + seed as usize) % 5) as u8;
            filtered[0] = kind;
            filter(kind, &packed, &prev, bpp, &mut filtered[1..]);
            idat.push(&filtered, MZFlush::None);
            std::mem::swap(&mut packed, &mut prev);
        }
    }
    idat.push(&[], MZFlush::Finish);
    chunk(out, b"IEND", &[]);
}
