//! Our streaming baseline JPEG encoder: sequential DCT, Huffman tables of T.81 Annex K, no
//! restart markers, 4:4:4, 4:2:2, 4:2:0 or gray.
//!
//! It is fed one MCU row at a time (8 or 16 image rows) and holds only that: one plane per
//! component at full resolution, `mcu_height` rows of the width padded to whole MCUs, plus
//! the pipeline row it converts from and a bounded buffer of coded bytes ([`Layout`] is what it
//! allocates, and the plan prices that same layout). For each MCU row:
//! 1. rows are pulled and converted to Y, Cb, Cr planes (`color`, libjpeg's arithmetic), the
//!    right edge repeated to the MCU boundary, and the last row repeated below the image;
//! 2. every MCU's blocks are loaded (chroma downsampled as libjpeg does), transformed and
//!    quantised (`fdct`);
//! 3. the blocks are Huffman-coded (`huffman`) and the coded bytes drained to the writer in
//!    64 KiB pieces.
//!
//! The SIMD kernels are plain loops compiled twice (SSE2 and AVX2) through `avx2_dispatch!`;
//! a unit test checks that both give the same file.

mod color;
#[cfg(target_arch = "x86_64")]
mod color_avx2;
mod fdct;
#[cfg(target_arch = "x86_64")]
mod fdct_avx2;
mod huffman;
#[doc(hidden)]
pub mod kernels;
mod tables;

use std::io::Write;
use std::sync::OnceLock;

use fdct::{transform_mcu, Coefficients, Divisors, McuRow};
use huffman::BitWriter;
use tables::{quant_table, EncodeTable};

use crate::codec::metadata::jpeg::{EXIF_SIGNATURE, XMP_SIGNATURE};
use crate::codec::Embedded;
use crate::error::{Error, Result};
use crate::pipeline::RowSource;
use crate::pixel::{ColorType, ImageInfo, PixelFormat};

use super::decode::tables::ZIGZAG;
use super::encode::Subsampling;

/// Profile bytes per `APP2` chunk (65535 less the length, signature and sequence bytes).
pub(crate) const ICC_CHUNK: usize = 65519;

/// What the encoder allocates for one image: the single source of its heap figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    width: usize,
    height: usize,
    /// One component (gray) or three.
    gray: bool,
    /// Luma blocks per MCU, horizontally and vertically.
    h: usize,
    v: usize,
}

impl Layout {
    /// The layout for a `width` x `height` image of 8-bit RGB or gray rows.
    pub(crate) fn new(width: u32, height: u32, gray: bool, subsampling: Subsampling) -> Layout {
        let (h, v) = if gray {
            (1, 1)
        } else {
            match subsampling {
                Subsampling::S444 => (1, 1),
                Subsampling::S422 => (2, 1),
                Subsampling::S420 => (2, 2),
            }
        };
        Layout { width: width as usize, height: height as usize, gray, h, v }
    }

    fn components(&self) -> usize {
        if self.gray {
            1
        } else {
            3
        }
    }

    /// Image rows per MCU row.
    fn mcu_height(&self) -> usize {
        8 * self.v
    }

    /// Plane row length: the width padded to whole MCUs.
    fn stride(&self) -> usize {
        self.width.div_ceil(8 * self.h) * 8 * self.h
    }

    fn row_bytes(&self) -> usize {
        self.width * self.components()
    }

    fn plane_bytes(&self) -> usize {
        self.stride() * self.mcu_height()
    }

    /// Coded bytes gathered before they are handed to the writer: one MCU row's worth of pixel
    /// bytes, between 4 KiB and [`BitWriter::DRAIN_AT`]. A small image (a pyramid tile: a
    /// 16384-wide pyramid runs over a hundred tile encoders at once) needs no 64 KiB buffer.
    fn drain_at(&self) -> usize {
        (self.row_bytes() * self.mcu_height()).clamp(4096, BitWriter::DRAIN_AT)
    }

    /// Heap bytes of [`encode`]: the pulled row, and the [`RowWriter`]'s planes and coded-byte
    /// buffer.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.row_bytes() + self.components() * self.plane_bytes() + self.drain_at() + BitWriter::MARGIN
    }
}

/// The four Annex K Huffman tables (luma DC and AC, chroma DC and AC), built once per process:
/// they do not depend on the quality, and a pyramid starts thousands of tile encoders.
fn annex_k_tables() -> &'static [EncodeTable; 4] {
    static TABLES: OnceLock<[EncodeTable; 4]> = OnceLock::new();
    TABLES.get_or_init(|| [(false, 0), (true, 0), (false, 1), (true, 1)].map(|(ac, id)| EncodeTable::annex_k(ac, id).0))
}

/// A baseline JPEG encoded from rows pushed to it one at a time: what [`encode`] drives by
/// pulling, and what a pyramid's tile columns drive from the cutter's thread
/// ([`RowEncoder`](crate::codec::spec::RowEncoder)). It holds the [`Layout`]'s planes and
/// coded-byte buffer; the caller owns the row.
pub(crate) struct RowWriter {
    layout: Layout,
    /// One plane per component; gray leaves the last two empty.
    planes: [Vec<u8>; 3],
    bits: BitWriter,
    divisors: [Divisors; 2],
    previous_dc: [i16; 3],
    /// Rows of the current MCU row converted so far.
    filled: usize,
    /// Image rows pushed so far.
    rows: usize,
}

impl RowWriter {
    /// Starts a `info`-sized image (RGB8 or GRAY8 rows) at `quality`, writing its headers and
    /// the metadata `blocks` to `writer`.
    pub(crate) fn new(info: ImageInfo, quality: u8, subsampling: Subsampling, blocks: &Embedded, writer: &mut dyn Write) -> Result<RowWriter> {
        let gray = match info.format {
            PixelFormat::RGB8 => false,
            PixelFormat::GRAY8 => true,
            other => return Err(Error::parameter(format!("the baseline JPEG encoder takes RGB8 or GRAY8 rows, not {other}"))),
        };
        debug_assert_eq!(info.format.color == ColorType::Gray, gray);
        if info.width == 0 || info.height == 0 || info.width > 0xFFFF || info.height > 0xFFFF {
            return Err(Error::parameter(format!("JPEG cannot store a {}x{} image", info.width, info.height)));
        }
        if !(1..=100).contains(&quality) {
            return Err(Error::parameter(format!("JPEG quality {quality} is not in 1..=100")));
        }
        let layout = Layout::new(info.width, info.height, gray, subsampling);
        let quant = [quant_table(0, quality), quant_table(1, quality)];
        write_headers(writer, &layout, &quant, blocks)?;
        Ok(RowWriter {
            layout,
            planes: std::array::from_fn(|c| if c < layout.components() { vec![0; layout.plane_bytes()] } else { Vec::new() }),
            bits: BitWriter::new(Vec::with_capacity(layout.drain_at() + BitWriter::MARGIN)),
            divisors: [Divisors::new(&quant[0]), Divisors::new(&quant[1])],
            previous_dc: [0; 3],
            filled: 0,
            rows: 0,
        })
    }

    /// Takes the next row; once an MCU row is complete (or the image is), codes it and hands
    /// the coded bytes to `writer` when they reach the drain threshold.
    pub(crate) fn push_row(&mut self, row: &[u8], writer: &mut dyn Write) -> Result<()> {
        let layout = self.layout;
        if self.rows >= layout.height {
            return Err(Error::parameter(format!("a {}-row JPEG was given another row", layout.height)));
        }
        if row.len() != layout.row_bytes() {
            return Err(Error::parameter(format!("a JPEG row of {} bytes was given {}", layout.row_bytes(), row.len())));
        }
        let stride = layout.stride();
        convert_row(row, &mut self.planes[..layout.components()], self.filled * stride, layout.width, stride);
        self.filled += 1;
        self.rows += 1;
        if self.filled == layout.mcu_height() || self.rows == layout.height {
            self.code_mcu_row(writer)?;
        }
        Ok(())
    }

    /// Codes the MCU row in the planes, the rows below the image's last repeating it.
    fn code_mcu_row(&mut self, writer: &mut dyn Write) -> Result<()> {
        let layout = self.layout;
        let (stride, mcu_height, components) = (layout.stride(), layout.mcu_height(), layout.components());
        for r in self.filled..mcu_height {
            // Below the image: repeat the last row (libjpeg's expand_bottom_edge).
            for plane in &mut self.planes[..components] {
                plane.copy_within((r - 1) * stride..r * stride, r * stride);
            }
        }
        self.filled = 0;
        let [dc_luma, ac_luma, dc_chroma, ac_chroma] = annex_k_tables();
        let luma_blocks = layout.h * layout.v;
        let blocks_per_mcu = luma_blocks + components - 1;
        let mut coefficients = [Coefficients::default(); 6];
        let mut planes: [&[u8]; 3] = [&[]; 3];
        for (slot, plane) in planes.iter_mut().zip(&self.planes) {
            *slot = plane;
        }
        let row = McuRow { planes: &planes[..components], stride, h: layout.h, v: layout.v };
        let drain_at = layout.drain_at();
        for mx in 0..stride / (8 * layout.h) {
            transform_mcu(&row, mx, &self.divisors, &mut coefficients[..blocks_per_mcu]);
            for (n, block) in coefficients[..blocks_per_mcu].iter().enumerate() {
                if n < luma_blocks {
                    self.bits.block(block, &mut self.previous_dc[0], dc_luma, ac_luma);
                } else {
                    let c = n - luma_blocks + 1;
                    self.bits.block(block, &mut self.previous_dc[c], dc_chroma, ac_chroma);
                }
            }
            if self.bits.out.len() >= drain_at {
                writer.write_all(&self.bits.out)?;
                self.bits.out.clear();
            }
        }
        Ok(())
    }

    /// Ends the image: every row must have been pushed; writes the last coded bytes and EOI.
    pub(crate) fn finish(mut self, writer: &mut dyn Write) -> Result<()> {
        if self.rows != self.layout.height {
            return Err(Error::parameter(format!("a {}-row JPEG ended after {} rows", self.layout.height, self.rows)));
        }
        self.bits.finish();
        self.bits.out.extend_from_slice(&[0xFF, 0xD9]);
        writer.write_all(&self.bits.out)?;
        Ok(())
    }
}

impl crate::codec::spec::RowEncoder for RowWriter {
    fn push_row(&mut self, row: &[u8], out: &mut dyn Write) -> Result<()> {
        RowWriter::push_row(self, row, out)
    }

    fn finish(self: Box<Self>, out: &mut dyn Write) -> Result<()> {
        RowWriter::finish(*self, out)
    }
}

/// Encodes the rows of `source` (RGB8 or GRAY8) as a baseline JPEG at `quality` into `writer`,
/// with the metadata `blocks` after the JFIF header.
pub(crate) fn encode(
    source: &mut dyn RowSource,
    writer: &mut dyn Write,
    quality: u8,
    subsampling: Subsampling,
    blocks: &Embedded,
) -> Result<()> {
    let info = source.info();
    let mut jpeg = RowWriter::new(info, quality, subsampling, blocks, writer)?;
    let mut row = vec![0; jpeg.layout.row_bytes()];
    for _ in 0..info.height {
        source.read_row(&mut row)?;
        jpeg.push_row(&row, writer)?;
    }
    jpeg.finish(writer)
}

/// Converts one pulled `row` into the planes at `offset`, and repeats its right edge.
fn convert_row(row: &[u8], planes: &mut [Vec<u8>], offset: usize, width: usize, stride: usize) {
    match planes {
        [gray] => {
            let out = &mut gray[offset..offset + stride];
            out[..width].copy_from_slice(row);
            color::extend_right(out, width);
        }
        [y, cb, cr] => {
            let (y, cb, cr) = (&mut y[offset..offset + stride], &mut cb[offset..offset + stride], &mut cr[offset..offset + stride]);
            color::rgb_to_ycbcr(row, y, cb, cr);
            for plane in [y, cb, cr] {
                color::extend_right(plane, width);
            }
        }
        _ => unreachable!("one or three planes"),
    }
}

/// Writes a marker segment: `FF marker`, the length, then `parts`.
fn segment(writer: &mut dyn Write, marker: u8, parts: &[&[u8]]) -> Result<()> {
    let len = 2 + parts.iter().map(|p| p.len()).sum::<usize>();
    debug_assert!(len <= 0xFFFF);
    writer.write_all(&[0xFF, marker, (len >> 8) as u8, len as u8])?;
    for part in parts {
        writer.write_all(part)?;
    }
    Ok(())
}

/// SOI, JFIF, the metadata segments, DQT, SOF0, DHT and SOS.
fn write_headers(writer: &mut dyn Write, layout: &Layout, quant: &[[u16; 64]; 2], blocks: &Embedded) -> Result<()> {
    writer.write_all(&[0xFF, 0xD8])?;
    // JFIF 1.01, no units, 1:1 pixel aspect, no thumbnail.
    segment(writer, 0xE0, &[b"JFIF\0", &[1, 1, 0, 0, 1, 0, 1, 0, 0]])?;
    if let Some(exif) = &blocks.exif {
        segment(writer, 0xE1, &[EXIF_SIGNATURE, exif])?;
    }
    if let Some(xmp) = &blocks.xmp {
        segment(writer, 0xE1, &[XMP_SIGNATURE, xmp])?;
    }
    if let Some(icc) = &blocks.icc {
        let count = icc.len().div_ceil(ICC_CHUNK);
        for (i, chunk) in icc.chunks(ICC_CHUNK).enumerate() {
            segment(writer, 0xE2, &[b"ICC_PROFILE\0", &[i as u8 + 1, count as u8], chunk])?;
        }
    }
    let tables = if layout.gray { 1 } else { 2 };
    for (id, table) in quant.iter().enumerate().take(tables) {
        let mut body = [0u8; 65];
        body[0] = id as u8;
        for k in 0..64 {
            body[1 + k] = table[ZIGZAG[k] as usize] as u8;
        }
        segment(writer, 0xDB, &[&body])?;
    }
    let (h, v) = (layout.h as u8, layout.v as u8);
    let (height, width) = (layout.height as u16, layout.width as u16);
    let [height_high, height_low] = height.to_be_bytes();
    let [width_high, width_low] = width.to_be_bytes();
    // Precision, size, then (id, sampling, quantisation table) per component.
    let sof = [8, height_high, height_low, width_high, width_low, layout.components() as u8, 1, (h << 4) | v, 0, 2, 0x11, 1, 3, 0x11, 1];
    segment(writer, 0xC0, &[&sof[..6 + 3 * layout.components()]])?;
    for id in 0..tables {
        for ac in [false, true] {
            let (_, counts, symbols) = EncodeTable::annex_k(ac, id);
            segment(writer, 0xC4, &[&[(ac as u8) << 4 | id as u8], counts, symbols])?;
        }
    }
    // Components (id, tables), then spectral selection 0..=63 and no approximation.
    let components = [1, 0x00, 2, 0x11, 3, 0x11];
    segment(writer, 0xDA, &[&[layout.components() as u8], &components[..2 * layout.components()], &[0, 63, 0]])
}

#[cfg(test)]
mod tests;
