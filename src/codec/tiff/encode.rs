//! The streaming TIFF encoder: rows pulled strip by strip, each strip predicted and compressed
//! on its own and written as soon as it is full, the directory (IFD) written once, in one pass.
//!
//! Layout. Little-endian, one image, chunky samples (`PlanarConfiguration` 1), gray or RGB with
//! an optional unassociated alpha (`ExtraSamples` 2), 8 or 16 bits per sample.
//! `RowsPerStrip` makes a strip about [`TARGET_STRIP_BYTES`] (64 KiB) uncompressed, at least one
//! row: libtiff's default is 8 KiB, but each deflate or LZW strip restarts its dictionary, so
//! bigger strips compress better and need fewer table entries; 64 KiB keeps the strip buffer
//! small.
//!
//! * Uncompressed: every strip's size is known, so the whole layout is computed up front: header,
//!   IFD (its offset table computed, not stored), then the strips. This streams to any writer,
//!   a pipe included, in one pass with no table at all.
//! * LZW or deflate, always with the horizontal predictor (libtiff's and libvips' choice for
//!   both): header with a placeholder, the strips, then the IFD, and one seek back to patch the
//!   header's first-IFD offset. This needs [`EncoderSpec::encode_seekable`] (files,
//!   `Pipeline::write_to_seekable`); to a plain writer (a pipe) it is refused with an
//!   [`Error::Unsupported`] before anything is written. The only table is one `u32` byte count
//!   per strip (4 bytes a strip; offsets are their running sum).
//!
//! BigTIFF is chosen before writing when the file could pass 4 GiB: the compressed size is not
//! known then, so the test uses an upper bound of it (raw data x 3/2 plus per-strip overheads
//! for LZW or deflate, whose worst cases stay below that).
//!
//! Deflate defaults to level 6, libtiff's and libvips' default, so the same request gives the
//! same size class of file as those tools. It is slow on photographs: 8192x8192 JPEG -> TIFF took
//! 41 s at level 6 (79.0 MB; vips 49 s, 74.7 MB), 5.6 s at level 1 (91.7 MB), LZW 5.2 s
//! (81.5 MB; vips 7.0 s), uncompressed 1.5 s (vips 1.2 s), on a loaded 2-core machine
//! (`bench/compare_tiff.sh`); `--compression 1` is the fast choice. Those figures made LZW the
//! default method (`TiffCompression`).
//!
//! Memory: the strip buffer, one input row when the bit depth is converted, the compressor
//! (LZW 48 KiB, miniz_oxide deflate ~303 KiB measured with dhat), the byte-count table, the
//! IFD writer's 8 KiB buffer. Only the byte-count table grows, with the strip count.

use std::io::{SeekFrom, Write};

use miniz_oxide::deflate::core::{compress_to_output, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus};

use super::ifd::{self, tag, Entry, StripCounts, Values, Variant};
use super::kept_metadata::{self, Kept};
use super::lzw::{self, LzwEncoder};
use crate::codec::spec::{EncoderSpec, Output, WriteSeek};
use crate::codec::Embedded;
use crate::codec::{Format, TiffCompression};
use crate::error::{Error, Result};
use crate::ops::convert::Convert;
use crate::pipeline::RowSource;
use crate::pixel::{BitDepth, ImageInfo, PixelFormat};

/// Uncompressed bytes a strip aims at (at least one row).
pub const TARGET_STRIP_BYTES: usize = 64 * 1024;

/// The deflate level when none is given: zlib's and libtiff's default.
pub const DEFAULT_DEFLATE_LEVEL: u8 = 6;

/// miniz_oxide's compressor (its dictionary, hash chains, LZ code and output buffers, Huffman
/// tables), with the LZ code buffer its `reset` allocates before freeing the old one: ~303 KiB
/// measured with dhat (miniz_oxide 0.8, `tests/heap_tiff.rs`), rounded up.
const DEFLATE_STATE: usize = 320 * 1024;

/// Options of the TIFF encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TiffEncoder {
    /// The compression of the strips.
    pub compression: TiffCompression,
    /// The deflate level 0..=9 (used with [`TiffCompression::Deflate`]).
    pub deflate_level: u8,
    /// Bits per sample of the file; `None` keeps the pipeline's (8 -> 16 scales by 257, 16 -> 8
    /// rounds, as `ops::convert` does).
    pub bit_depth: Option<BitDepth>,
    /// Writes BigTIFF whatever the size (for tests of BigTIFF on small images).
    #[doc(hidden)]
    pub force_bigtiff: bool,
}

impl Default for TiffEncoder {
    fn default() -> Self {
        TiffEncoder {
            compression: TiffCompression::default(),
            deflate_level: DEFAULT_DEFLATE_LEVEL,
            bit_depth: None,
            force_bigtiff: false,
        }
    }
}

/// What the encoder writes for an input: computed once, used by both the heap account and the
/// encoder.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// The rows as the encoder receives them.
    input: ImageInfo,
    /// The rows as stored (the bit depth possibly converted).
    stored: PixelFormat,
    /// Bytes of one stored row.
    row_bytes: u64,
    rows_per_strip: u32,
    strips: u64,
    variant: Variant,
}

impl Layout {
    fn strip_buffer_bytes(&self) -> usize {
        (self.row_bytes * self.rows_per_strip as u64) as usize
    }

    fn counts(&self) -> StripCounts<'static> {
        let last_rows = self.input.height as u64 - (self.strips - 1) * self.rows_per_strip as u64;
        StripCounts::Uniform {
            strips: self.strips,
            full: self.row_bytes * self.rows_per_strip as u64,
            last: self.row_bytes * last_rows,
        }
    }
}

impl TiffEncoder {
    fn compressed(&self) -> bool {
        self.compression != TiffCompression::None
    }

    fn layout(&self, input: ImageInfo) -> Layout {
        let stored = PixelFormat::new(input.format.color, self.bit_depth.unwrap_or(input.format.depth));
        let row_bytes = stored.row_bytes(input.width) as u64;
        let height = input.height.max(1);
        let rows_per_strip = (TARGET_STRIP_BYTES as u64 / row_bytes.max(1)).clamp(1, height as u64) as u32;
        let strips = (height as u64).div_ceil(rows_per_strip as u64);
        let mut layout = Layout { input, stored, row_bytes, rows_per_strip, strips, variant: Variant { big: true } };
        layout.variant = Variant { big: self.force_bigtiff || self.file_bound(&layout) > u32::MAX as u64 };
        layout
    }

    /// An upper bound of the file's size (as BigTIFF, the larger directory).
    fn file_bound(&self, layout: &Layout) -> u64 {
        let raw = layout.row_bytes * layout.input.height as u64;
        let data = if self.compressed() { raw + raw / 2 + 64 * layout.strips } else { raw };
        let big = Variant { big: true };
        let ifd = big.ifd_len(&self.entries(layout, &big_bits(layout.stored), layout.counts(), 0));
        big.header_len() + data + 1 + ifd
    }

    /// The IFD's entries, sorted by tag.
    fn entries<'a>(&self, layout: &Layout, bits: &'a [u16], counts: StripCounts<'a>, data_start: u64) -> Vec<Entry<'a>> {
        const ONE: &[u16] = &[1];
        const TWO: &[u16] = &[2];
        const UNASSOCIATED_ALPHA: &[u16] = &[2];
        let format = layout.stored;
        let compression: &'static [u16] = match self.compression {
            TiffCompression::None => &[1],
            TiffCompression::Lzw => &[5],
            TiffCompression::Deflate => &[8],
        };
        const SAMPLES: [&[u16]; 4] = [&[1], &[2], &[3], &[4]];
        let samples = SAMPLES[format.channels() - 1];
        let mut e = vec![
            Entry { tag: tag::IMAGE_WIDTH, values: Values::Long(layout.input.width) },
            Entry { tag: tag::IMAGE_LENGTH, values: Values::Long(layout.input.height) },
            Entry { tag: tag::BITS_PER_SAMPLE, values: Values::Shorts(bits) },
            Entry { tag: tag::COMPRESSION, values: Values::Shorts(compression) },
            Entry { tag: tag::PHOTOMETRIC, values: Values::Shorts(if format.color.is_rgb() { TWO } else { ONE }) },
            Entry { tag: tag::STRIP_OFFSETS, values: Values::StripOffsets { start: data_start, counts } },
            Entry { tag: tag::SAMPLES_PER_PIXEL, values: Values::Shorts(samples) },
            Entry { tag: tag::ROWS_PER_STRIP, values: Values::Long(layout.rows_per_strip) },
            Entry { tag: tag::STRIP_BYTE_COUNTS, values: Values::StripByteCounts(counts) },
            Entry { tag: tag::PLANAR_CONFIGURATION, values: Values::Shorts(ONE) },
        ];
        if self.compressed() {
            e.push(Entry { tag: tag::PREDICTOR, values: Values::Shorts(TWO) });
        }
        if format.color.has_alpha() {
            e.push(Entry { tag: tag::EXTRA_SAMPLES, values: Values::Shorts(UNASSOCIATED_ALPHA) });
        }
        e
    }

    /// Whether `info` would be written as BigTIFF.
    pub fn writes_bigtiff(&self, info: ImageInfo) -> bool {
        self.layout(info).variant.big
    }

    /// Rows per strip for `info`.
    pub fn rows_per_strip(&self, info: ImageInfo) -> u32 {
        self.layout(info).rows_per_strip
    }

    /// Pulls every row of `source` and writes an uncompressed TIFF to `writer` in one pass;
    /// a compressed one needs [`TiffEncoder::encode_seekable`] and is refused here.
    pub fn encode(&self, source: &mut dyn RowSource, writer: &mut dyn Write) -> Result<()> {
        self.encode_keeping(source, Output::Stream(writer), &Embedded::default())
    }

    /// Pulls every row of `source` and writes the TIFF to `writer`, seeking back once to patch
    /// the header when the strips are compressed. Offsets are relative to where the writer was.
    pub fn encode_seekable(&self, source: &mut dyn RowSource, writer: &mut dyn WriteSeek) -> Result<()> {
        self.encode_keeping(source, Output::Seekable(writer), &Embedded::default())
    }

    /// As [`encode`](Self::encode) or [`encode_seekable`](Self::encode_seekable) (by `output`),
    /// with the metadata `blocks` in the directory (see `super::kept_metadata`).
    pub fn encode_keeping(&self, source: &mut dyn RowSource, output: Output<'_>, blocks: &Embedded) -> Result<()> {
        match output {
            Output::Stream(writer) => self.encode_stream(source, writer, blocks),
            Output::Seekable(writer) if !self.compressed() => self.encode_uncompressed(source, writer, blocks),
            Output::Seekable(writer) => self.encode_compressed(source, writer, blocks),
        }
    }

    fn encode_stream(&self, source: &mut dyn RowSource, writer: &mut dyn Write, blocks: &Embedded) -> Result<()> {
        if self.compressed() {
            return Err(Error::unsupported(
                "TIFF",
                format!(
                    "{} compression needs an output it can seek in (a file), to write the strip offsets after the strips; write to a file, or use --tiff-compression none to stream to a pipe",
                    compression_name(self.compression)
                ),
            ));
        }
        self.encode_uncompressed(source, writer, blocks)
    }

    /// Header, strips, directory, and one seek back to patch the header.
    fn encode_compressed(&self, source: &mut dyn RowSource, writer: &mut dyn WriteSeek, blocks: &Embedded) -> Result<()> {
        let base = writer.stream_position()?;
        let layout = self.layout(source.info());
        let variant = layout.variant;
        let kept = Kept::new(blocks, variant.big);
        let mut out = Counting { inner: writer, written: 0 };
        out.write_all(&variant.header(0))?;
        let mut counts: Vec<u32> = Vec::with_capacity(layout.strips as usize);
        let mut compressor = match self.compression {
            TiffCompression::Lzw => Compressor::Lzw(LzwEncoder::new()),
            _ => Compressor::Deflate(Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
                self.deflate_level as i32,
                1,
                0,
            )))),
        };
        self.each_strip(source, &layout, |strip| {
            predict(strip, layout.row_bytes as usize, layout.stored);
            let n = compressor.compress(strip, &mut out)?;
            if out.written > variant.max_offset() {
                return Err(Error::limits("the compressed TIFF passed 4 GiB before its directory (classic TIFF was chosen from an upper bound that proved wrong)"));
            }
            counts.push(u32::try_from(n).map_err(|_| Error::limits("a TIFF strip passed 4 GiB"))?);
            Ok(())
        })?;
        if out.written % 2 == 1 {
            out.write_all(&[0])?;
        }
        let ifd_at = out.written;
        let bits = big_bits(layout.stored);
        let mut entries = self.entries(&layout, &bits, StripCounts::Recorded(&counts), variant.header_len());
        let exif_at = ifd_at + variant.ifd_len(&entries) + kept.ifd_growth(variant);
        kept.add_entries(&mut entries, exif_at);
        variant.write_ifd(&entries, ifd_at, &mut out)?;
        out.write_all(&kept.exif_ifd(exif_at))?;
        let end = base + out.written;
        let (field, len) = variant.first_ifd_field();
        writer.seek(SeekFrom::Start(base + field))?;
        writer.write_all(&ifd_at.to_le_bytes()[..len])?;
        writer.seek(SeekFrom::Start(end))?;
        Ok(())
    }

    /// Header, IFD (and the EXIF sub-IFD) and strips in file order: every size is known before
    /// the first row.
    fn encode_uncompressed(&self, source: &mut dyn RowSource, writer: &mut dyn Write, blocks: &Embedded) -> Result<()> {
        let layout = self.layout(source.info());
        let variant = layout.variant;
        let kept = Kept::new(blocks, variant.big);
        let bits = big_bits(layout.stored);
        let ifd_at = variant.header_len();
        let ifd_len = variant.ifd_len(&self.entries(&layout, &bits, layout.counts(), 0)) + kept.ifd_growth(variant);
        let exif_at = ifd_at + ifd_len;
        let data_start = exif_at + kept.exif_len;
        if data_start + layout.counts().total() > variant.max_offset() {
            return Err(Error::limits("an uncompressed classic TIFF would pass 4 GiB"));
        }
        writer.write_all(&variant.header(ifd_at))?;
        let mut entries = self.entries(&layout, &bits, layout.counts(), data_start);
        kept.add_entries(&mut entries, exif_at);
        variant.write_ifd(&entries, ifd_at, writer)?;
        writer.write_all(&kept.exif_ifd(exif_at))?;
        self.each_strip(source, &layout, |strip| {
            to_little_endian(strip, layout.stored);
            writer.write_all(strip)?;
            Ok(())
        })
    }

    /// Reads the rows strip by strip (converting the bit depth when asked) into one buffer and
    /// hands each strip to `f`.
    fn each_strip(&self, source: &mut dyn RowSource, layout: &Layout, mut f: impl FnMut(&mut [u8]) -> Result<()>) -> Result<()> {
        let mut converted;
        let source: &mut dyn RowSource = if layout.stored != layout.input.format {
            converted = Convert::new(source, layout.stored, [0, 0, 0]);
            &mut converted
        } else {
            source
        };
        let mut strip = vec![0u8; layout.strip_buffer_bytes()];
        let mut done = 0u32;
        let height = layout.input.height;
        while done < height {
            let rows = layout.rows_per_strip.min(height - done);
            let part = &mut strip[..(layout.row_bytes * rows as u64) as usize];
            source.read_rows(part)?;
            f(part)?;
            done += rows;
        }
        Ok(())
    }
}

/// `BitsPerSample`: one value per sample.
fn big_bits(format: PixelFormat) -> Vec<u16> {
    vec![8 * format.depth.bytes() as u16; format.channels()]
}

fn compression_name(c: TiffCompression) -> &'static str {
    match c {
        TiffCompression::None => "no",
        TiffCompression::Lzw => "LZW",
        TiffCompression::Deflate => "deflate",
    }
}

/// 16-bit samples from native to little-endian order (nothing to do on little-endian hosts).
fn to_little_endian(strip: &mut [u8], format: PixelFormat) {
    if cfg!(target_endian = "big") && format.depth == BitDepth::Sixteen {
        for s in strip.chunks_exact_mut(2) {
            let v = u16::from_ne_bytes([s[0], s[1]]);
            s.copy_from_slice(&v.to_le_bytes());
        }
    }
}

/// TIFF's horizontal predictor (Predictor 2), in place: each sample minus the same sample of
/// the pixel to its left, per row, wrapping; 16-bit samples as numbers, stored little-endian.
fn predict(strip: &mut [u8], row_bytes: usize, format: PixelFormat) {
    let channels = format.channels();
    match format.depth {
        BitDepth::Eight => {
            for row in strip.chunks_exact_mut(row_bytes) {
                let mut previous = [0u8; 4];
                for px in row.chunks_exact_mut(channels) {
                    for (s, p) in px.iter_mut().zip(previous.iter_mut()) {
                        let v = *s;
                        *s = v.wrapping_sub(*p);
                        *p = v;
                    }
                }
            }
        }
        BitDepth::Sixteen => {
            for row in strip.chunks_exact_mut(row_bytes) {
                let mut previous = [0u16; 4];
                for px in row.chunks_exact_mut(2 * channels) {
                    for (s, p) in px.chunks_exact_mut(2).zip(previous.iter_mut()) {
                        let v = u16::from_ne_bytes([s[0], s[1]]);
                        s.copy_from_slice(&v.wrapping_sub(*p).to_le_bytes());
                        *p = v;
                    }
                }
            }
        }
    }
}

/// The strip compressor, built once per image.
enum Compressor {
    Lzw(LzwEncoder),
    Deflate(Box<CompressorOxide>),
}

impl Compressor {
    /// Compresses `data` as one strip to `out`; returns the bytes written.
    fn compress(&mut self, data: &[u8], out: &mut Counting) -> Result<u64> {
        let before = out.written;
        match self {
            Compressor::Lzw(e) => {
                e.encode(data, out)?;
            }
            Compressor::Deflate(d) => {
                d.reset();
                let mut failed = None;
                let (status, _) = compress_to_output(d, data, TDEFLFlush::Finish, |chunk| match out.write_all(chunk) {
                    Ok(()) => true,
                    Err(e) => {
                        failed = Some(e);
                        false
                    }
                });
                if let Some(e) = failed {
                    return Err(Error::Io(e));
                }
                if status != TDEFLStatus::Done {
                    return Err(Error::parameter(format!("TIFF deflate ended with {status:?}")));
                }
            }
        }
        Ok(out.written - before)
    }
}

/// A writer that counts the bytes it passes on: positions relative to the TIFF's start.
struct Counting<'a> {
    inner: &'a mut dyn WriteSeek,
    written: u64,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl EncoderSpec for TiffEncoder {
    fn format(&self) -> Format {
        Format::Tiff
    }

    /// The strip buffer, one input row when the depth is converted, the compressor, the
    /// byte-count table (4 bytes a strip, compressed only), the IFD writer's buffer and its
    /// entry list.
    fn heap_bytes(&self, info: ImageInfo) -> usize {
        let layout = self.layout(info);
        let convert = if layout.stored != info.format { info.row_bytes() } else { 0 };
        let (compressor, table) = match self.compression {
            TiffCompression::None => (0, 0),
            TiffCompression::Lzw => (lzw::HEAP_BYTES, 4 * layout.strips as usize),
            TiffCompression::Deflate => (DEFLATE_STATE, 4 * layout.strips as usize),
        };
        layout.strip_buffer_bytes() + convert + compressor + table + ifd::BUFFER_BYTES + 1024
    }

    fn detail(&self) -> String {
        let mut d = match self.compression {
            TiffCompression::None => "uncompressed".to_string(),
            TiffCompression::Lzw => "LZW, horizontal predictor".to_string(),
            TiffCompression::Deflate => format!("deflate level {}, horizontal predictor", self.deflate_level),
        };
        if let Some(depth) = self.bit_depth {
            d += &format!(", {} bits", 8 * depth.bytes());
        }
        if self.force_bigtiff {
            d += ", BigTIFF";
        }
        d
    }

    fn encode(&self, source: &mut dyn RowSource, writer: &mut dyn Write) -> Result<()> {
        TiffEncoder::encode(self, source, writer)
    }

    fn encode_seekable(&self, source: &mut dyn RowSource, writer: &mut dyn WriteSeek) -> Result<()> {
        TiffEncoder::encode_seekable(self, source, writer)
    }

    fn metadata_heap_bytes(&self, blocks: &Embedded) -> Result<usize> {
        Ok(kept_metadata::heap_bytes(blocks))
    }

    fn encode_with_metadata(&self, source: &mut dyn RowSource, output: Output<'_>, blocks: &Embedded) -> Result<()> {
        self.encode_keeping(source, output, blocks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(width: u32, height: u32, format: PixelFormat) -> ImageInfo {
        ImageInfo { width, height, format }
    }

    #[test]
    fn strips_aim_at_64_kib_and_hold_at_least_one_row() {
        let e = TiffEncoder::default();
        assert_eq!(e.rows_per_strip(info(1000, 5000, PixelFormat::GRAY8)), 65);
        assert_eq!(e.rows_per_strip(info(16384, 5000, PixelFormat::RGB8)), 1);
        assert_eq!(e.rows_per_strip(info(100, 7, PixelFormat::RGBA16)), 7, "one strip for a small image");
    }

    #[test]
    fn bigtiff_when_an_upper_bound_of_the_file_passes_4_gib() {
        let none = TiffEncoder { compression: TiffCompression::None, ..Default::default() };
        let lzw = TiffEncoder { compression: TiffCompression::Lzw, ..Default::default() };
        // 3 GiB of RGB8: fits uncompressed; compressed, the bound (x 3/2) does not.
        assert!(!none.writes_bigtiff(info(16384, 65535, PixelFormat::RGB8)));
        assert!(lzw.writes_bigtiff(info(16384, 65535, PixelFormat::RGB8)));
        assert!(none.writes_bigtiff(info(16384, 65535, PixelFormat::RGB16)));
        assert!(!lzw.writes_bigtiff(info(8192, 8192, PixelFormat::RGBA16)));
        assert!(TiffEncoder { force_bigtiff: true, ..none }.writes_bigtiff(info(1, 1, PixelFormat::GRAY8)));
    }

    #[test]
    fn only_the_compressed_byte_count_table_grows_with_the_height() {
        let grow = |e: TiffEncoder| e.heap_bytes(info(16384, 2000, PixelFormat::RGB8)) - e.heap_bytes(info(16384, 1000, PixelFormat::RGB8));
        assert_eq!(grow(TiffEncoder { compression: TiffCompression::None, ..Default::default() }), 0);
        assert_eq!(grow(TiffEncoder { compression: TiffCompression::Lzw, ..Default::default() }), 4 * 1000);
        assert_eq!(grow(TiffEncoder::default()), 4 * 1000);
    }

    #[test]
    fn the_predictor_differences_each_sample_with_its_left_neighbour() {
        let mut row = vec![10u8, 20, 30, 11, 22, 33, 5, 5, 5];
        predict(&mut row, 9, PixelFormat::RGB8);
        assert_eq!(row, vec![10, 20, 30, 1, 2, 3, 250, 239, 228]);
        let mut row: Vec<u8> = [1000u16, 7, 900, 9].iter().flat_map(|v| v.to_ne_bytes()).collect();
        predict(&mut row, 8, PixelFormat::GRAYA16);
        let got: Vec<u16> = row.chunks_exact(2).map(|s| u16::from_le_bytes([s[0], s[1]])).collect();
        assert_eq!(got, vec![1000, 7, 900u16.wrapping_sub(1000), 2]);
    }
}
