//! The streaming PNG encoder: rows pulled from a [`RowSource`] in strips, filtered and deflated
//! by our [`FastIdat`] at the default compression, by the png crate's `StreamWriter` at the others.
//!
//! Memory: one strip of rows (plus a big-endian copy of it for 16-bit images), the previous and
//! filtered rows, the deflate state and one 4 KiB `IDAT` chunk. Nothing grows with the height.

use std::io::Write;

use super::fast_encode::FastIdat;
use crate::codec::metadata::png::XMP_KEYWORD;
use crate::codec::spec::{EncoderSpec, Output};
use crate::codec::Embedded;
use crate::codec::Format;
use crate::error::{Error, Result};
use crate::pipeline::RowSource;
use crate::pixel::{BitDepth, ColorType, ImageInfo};

/// How hard to compress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PngCompression {
    /// Stored deflate blocks, no filtering (level 0).
    None,
    /// fdeflate's fast mode with adaptive filtering (level 1, the default): a fraction of the
    /// time of zlib level 6 at a slightly larger file.
    #[default]
    Fast,
    /// zlib-style level 2..=9 with adaptive filtering.
    Level(u8),
}

impl PngCompression {
    /// The compression for a level 0..=9 as `--compression` takes it.
    pub fn from_level(level: u8) -> Result<Self> {
        match level {
            0 => Ok(PngCompression::None),
            1 => Ok(PngCompression::Fast),
            2..=9 => Ok(PngCompression::Level(level)),
            _ => Err(Error::parameter(format!("PNG compression level {level} is not in 0..=9"))),
        }
    }
}

/// Options of the PNG encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PngEncoder {
    /// Compression effort.
    pub compression: PngCompression,
    /// Rows pulled per read; a hint that changes speed, never the output.
    pub strip_height: u32,
}

impl Default for PngEncoder {
    fn default() -> Self {
        PngEncoder { compression: PngCompression::default(), strip_height: 16 }
    }
}

impl PngEncoder {
    /// Pulls every row of `source` and writes a PNG to `writer`.
    pub fn encode(&self, source: &mut dyn RowSource, writer: &mut dyn Write) -> Result<()> {
        self.encode_keeping(source, writer, &Embedded::default())
    }

    /// As [`encode`](Self::encode), with the metadata `blocks` in chunks before the image data:
    /// `iCCP` (the profile deflated), `eXIf`, and an uncompressed `iTXt` `XML:com.adobe.xmp`.
    pub fn encode_keeping(&self, source: &mut dyn RowSource, writer: &mut dyn Write, blocks: &Embedded) -> Result<()> {
        let info = source.info();
        let mut encoder = png::Encoder::new(writer, info.width, info.height);
        encoder.set_color(match info.format.color {
            ColorType::Gray => png::ColorType::Grayscale,
            ColorType::GrayAlpha => png::ColorType::GrayscaleAlpha,
            ColorType::Rgb => png::ColorType::Rgb,
            ColorType::Rgba => png::ColorType::Rgba,
        });
        encoder.set_depth(match info.format.depth {
            BitDepth::Eight => png::BitDepth::Eight,
            BitDepth::Sixteen => png::BitDepth::Sixteen,
        });
        match self.compression {
            PngCompression::None => encoder.set_compression(png::Compression::NoCompression),
            PngCompression::Fast => encoder.set_compression(png::Compression::Fast),
            PngCompression::Level(level) => {
                encoder.set_deflate_compression(png::DeflateCompression::Level(level));
                encoder.set_filter(png::Filter::Adaptive);
            }
        }
        let mut png_writer = encoder.write_header().map_err(encoding_error)?;
        if let Some(icc) = &blocks.icc {
            let mut chunk = b"icc\0\0".to_vec();
            chunk.extend(miniz_oxide::deflate::compress_to_vec_zlib(icc, 6));
            png_writer.write_chunk(png::chunk::iCCP, &chunk).map_err(encoding_error)?;
        }
        if let Some(exif) = &blocks.exif {
            png_writer.write_chunk(png::chunk::eXIf, exif).map_err(encoding_error)?;
        }
        if let Some(xmp) = &blocks.xmp {
            let chunk = [XMP_KEYWORD, b"\0\0\0\0\0", xmp].concat();
            png_writer.write_chunk(png::chunk::iTXt, &chunk).map_err(encoding_error)?;
        }
        let sixteen = info.format.depth == BitDepth::Sixteen;
        let mut big_endian = Vec::new();
        if self.compression == PngCompression::Fast {
            let bpp = info.format.bytes_per_pixel();
            let mut idat = FastIdat::new(&mut png_writer, info.row_bytes(), bpp)?;
            crate::pipeline::drain(source, self.strip_height, |strip, _rows| {
                Ok(idat.write_rows(png_order(strip, sixteen, &mut big_endian))?)
            })?;
            idat.finish()?;
        } else {
            let mut stream = png_writer.stream_writer().map_err(encoding_error)?;
            crate::pipeline::drain(source, self.strip_height, |strip, _rows| {
                Ok(stream.write_all(png_order(strip, sixteen, &mut big_endian))?)
            })?;
            stream.finish().map_err(encoding_error)?;
        }
        png_writer.finish().map_err(encoding_error)?;
        Ok(())
    }
}

/// `strip` in the PNG's byte order: as it is for 8-bit samples, 16-bit ones swapped to big-endian
/// into `big_endian`.
fn png_order<'a>(strip: &'a [u8], sixteen: bool, big_endian: &'a mut Vec<u8>) -> &'a [u8] {
    if !sixteen {
        return strip;
    }
    big_endian.clear();
    big_endian.extend(strip.chunks_exact(2).flat_map(|s| u16::from_ne_bytes([s[0], s[1]]).to_be_bytes()));
    big_endian
}

/// The zlib-style deflate state of the png crate's compression levels 2..=9, measured with dhat.
const ZLIB_STATE: usize = 320 * 1024;

/// Levels 0 and 1: the 4 KiB `IDAT` chunk (ours at level 1, the png crate's at 0) and the few
/// words of fdeflate's state, measured with dhat.
const FDEFLATE_STATE: usize = 5 * 1024;

impl EncoderSpec for PngEncoder {
    fn format(&self) -> Format {
        Format::Png
    }

    /// Our strip (and its big-endian copy for 16-bit), the previous, current and output rows (at
    /// level 1 only two of them exist) and the deflate state (png 0.18, measured with dhat).
    fn heap_bytes(&self, info: ImageInfo) -> usize {
        let row = info.row_bytes();
        let strip_rows = self.strip_height.clamp(1, info.height.max(1)) as usize;
        let sixteen = info.format.depth == BitDepth::Sixteen;
        let strip = row * strip_rows * if sixteen { 2 } else { 1 };
        let deflate = match self.compression {
            PngCompression::None | PngCompression::Fast => FDEFLATE_STATE,
            PngCompression::Level(_) => ZLIB_STATE,
        };
        strip + 3 * (row + 1) + deflate
    }

    fn detail(&self) -> String {
        match self.compression {
            PngCompression::None => "no compression".into(),
            PngCompression::Fast => "fast compression".into(),
            PngCompression::Level(l) => format!("compression level {l}"),
        }
    }

    fn encode(&self, source: &mut dyn RowSource, writer: &mut dyn Write) -> Result<()> {
        PngEncoder::encode(self, source, writer)
    }

    /// The `iCCP` chunk (the profile deflated: at most its length plus a little) with
    /// miniz_oxide's compressor while it deflates, and the `iTXt` chunk's copy of the XMP; one
    /// at a time, before the image data's deflate state exists, counted as a sum.
    fn metadata_heap_bytes(&self, blocks: &Embedded) -> Result<usize> {
        let icc = blocks.icc.as_ref().map_or(0, |p| 2 * (p.len() + p.len() / 8 + 64) + ZLIB_STATE);
        let xmp = blocks.xmp.as_ref().map_or(0, |b| b.len() + XMP_KEYWORD.len() + 5);
        Ok(icc + xmp)
    }

    fn encode_with_metadata(&self, source: &mut dyn RowSource, output: Output<'_>, blocks: &Embedded) -> Result<()> {
        match output {
            Output::Stream(w) => self.encode_keeping(source, w, blocks),
            Output::Seekable(w) => self.encode_keeping(source, w, blocks),
        }
    }
}

fn encoding_error(e: png::EncodingError) -> Error {
    match e {
        png::EncodingError::IoError(e) => Error::Io(e),
        other => Error::parameter(format!("PNG encoder: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pixel::PixelFormat;
    use crate::synth::Synthetic;

    #[test]
    fn round_trips_every_format_through_the_png_crate() {
        for format in PixelFormat::ALL {
            let (w, h) = (31, 19);
            let mut png_bytes = Vec::new();
            let mut source = Synthetic::new(w, h, format, 5);
            let encoder = PngEncoder { strip_height: 7, ..Default::default() };
            encoder.encode(&mut source, &mut png_bytes).unwrap();

            let mut expected = vec![0u8; format.row_bytes(w) * h as usize];
            Synthetic::new(w, h, format, 5).read_rows(&mut expected).unwrap();
            let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
            let mut reader = decoder.read_info().unwrap();
            let mut decoded = vec![0u8; reader.output_buffer_size().unwrap()];
            reader.next_frame(&mut decoded).unwrap();
            if format.depth == BitDepth::Sixteen {
                for s in decoded.chunks_exact_mut(2) {
                    let v = u16::from_be_bytes([s[0], s[1]]);
                    s.copy_from_slice(&v.to_ne_bytes());
                }
            }
            assert_eq!(decoded, expected, "{format}");
        }
    }
}
