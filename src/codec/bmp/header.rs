//! The BMP headers: file header, DIB header of any known size, bit fields and palette.
//!
//! Everything is read by position from the start of the file (at most the headers and a
//! 256-entry palette); nothing depends on the pixel data, so `stripflow info` is instant and a
//! hostile size is refused here (the planner then applies the input pixel limit).

use crate::error::{Error, Result};
use crate::io::Input;
use crate::pixel::PixelFormat;

/// How the pixel data is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Uncompressed, default channel layout (palette, 16-bit 5-5-5, 24-bit BGR, 32-bit BGRX).
    Rgb,
    /// Uncompressed with channel masks (16 and 32 bits a pixel).
    Bitfields,
    /// Run-length encoded 8-bit indices.
    Rle8,
    /// Run-length encoded 4-bit indices.
    Rle4,
}

/// Where the alpha channel of a 16- or 32-bit file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlphaSource {
    /// No alpha: the rows are RGB.
    None,
    /// A V4/V5 header's alpha mask (or BI_ALPHABITFIELDS) names it.
    Mask,
    /// The unused byte of a 32-bit pixel: alpha only if it is not zero everywhere (as browsers
    /// do); the decoder scans the file once when built to find out.
    IfNotAllZero,
}

/// What a BMP's headers say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BmpHeader {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Whether the first stored row is the top one (negative height).
    pub top_down: bool,
    /// Bits per pixel: 1, 4, 8, 16, 24 or 32.
    pub bits: u16,
    /// How the pixels are stored.
    pub compression: Compression,
    /// Offset of the pixel data in the file.
    pub data_offset: usize,
    /// Bytes of one stored row (uncompressed files; padded to 4 bytes).
    pub stride: usize,
    /// The palette (1, 4 and 8 bits), as RGB, at most 256 entries.
    pub palette: Vec<[u8; 3]>,
    /// Channel masks red, green, blue, alpha (16 and 32 bits).
    pub masks: [u32; 4],
    /// Where alpha comes from.
    pub alpha: AlphaSource,
    /// The DIB header's name ("BITMAPINFOHEADER", "BITMAPV5HEADER", "OS/2 core").
    pub dib: &'static str,
    /// The pixel format the decoder emits.
    pub output: PixelFormat,
}

/// The largest width or height accepted (what a signed 32-bit field of a sane file holds; the
/// planner's input pixel limit refuses most of these long before).
const MAX_SIDE: u32 = 1 << 30;

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn bad(detail: impl std::fmt::Display) -> Error {
    Error::format("BMP", detail)
}

/// Reads exactly `buf.len()` bytes at `offset`, or a "truncated" format error naming `what`.
pub(crate) fn read_exact_at(input: &Input, offset: usize, buf: &mut [u8], what: &str) -> Result<()> {
    if input.read_at(offset, buf)? != buf.len() {
        return Err(bad(format!("file truncated in the {what}")));
    }
    Ok(())
}

/// Reads and checks the headers of the BMP `input` (no pixel read).
pub fn read_header(input: &Input) -> Result<BmpHeader> {
    let mut head = [0u8; 14 + 124 + 16];
    let got = input.read_at(0, &mut head)?;
    if got < 18 || &head[..2] != b"BM" {
        return Err(bad("file truncated in the file header"));
    }
    let data_offset = u32_at(&head, 10) as usize;
    let dib_size = u32_at(&head, 14) as usize;
    let dib = match dib_size {
        12 => "OS/2 core",
        16 | 64 => "OS/2 2.x",
        40 => "BITMAPINFOHEADER",
        52 => "BITMAPV2INFOHEADER",
        56 => "BITMAPV3INFOHEADER",
        108 => "BITMAPV4HEADER",
        124 => "BITMAPV5HEADER",
        n => return Err(bad(format!("unknown DIB header size {n}"))),
    };
    if got < 14 + dib_size {
        return Err(bad("file truncated in the DIB header"));
    }
    let h = &head[14..];
    let (width, height, planes, bits, compression_code) = if dib_size == 12 {
        (u16_at(h, 4) as i64, u16_at(h, 6) as i16 as i64, u16_at(h, 8), u16_at(h, 10), 0)
    } else {
        let compression = if dib_size >= 20 { u32_at(h, 16) } else { 0 };
        (u32_at(h, 4) as i32 as i64, u32_at(h, 8) as i32 as i64, u16_at(h, 12), u16_at(h, 14), compression)
    };
    if planes != 1 {
        return Err(bad(format!("{planes} colour planes (must be 1)")));
    }
    if width <= 0 || height == 0 || width > MAX_SIDE as i64 || height.unsigned_abs() > MAX_SIDE as u64 {
        return Err(bad(format!("invalid size {width}x{height}")));
    }
    let (width, top_down, height) = (width as u32, height < 0, height.unsigned_abs() as u32);
    let os2_v2 = dib_size == 16 || dib_size == 64;
    let compression = match (compression_code, bits) {
        (0, 1 | 4 | 8 | 16 | 24 | 32) => Compression::Rgb,
        (1, 8) => Compression::Rle8,
        (2, 4) => Compression::Rle4,
        (3 | 6, 16 | 32) if !os2_v2 => Compression::Bitfields,
        (4 | 5, _) if !os2_v2 => {
            let what = if compression_code == 4 { "embedded JPEG" } else { "embedded PNG" };
            return Err(Error::unsupported("BMP", format!("{what} pixel data is not supported")));
        }
        (3, _) | (4, 24) if os2_v2 => {
            let what = if compression_code == 3 { "OS/2 Huffman 1D" } else { "OS/2 RLE24" };
            return Err(Error::unsupported("BMP", format!("{what} pixel data is not supported")));
        }
        (c, b) => return Err(bad(format!("compression {c} with {b} bits a pixel"))),
    };
    if top_down && matches!(compression, Compression::Rle4 | Compression::Rle8) {
        return Err(bad("a run-length encoded image cannot be top-down"));
    }
    // Masks: inside a V2+ header, or 12 (16 with alpha) bytes after a BITMAPINFOHEADER.
    let mut masks = [0u32; 4];
    let mut after_dib = 14 + dib_size;
    let mut alpha = AlphaSource::None;
    if compression == Compression::Bitfields {
        let count = if compression_code == 6 || dib_size >= 56 { 4 } else { 3 };
        let at = if dib_size >= 52 {
            14 + 40
        } else {
            after_dib += 4 * count;
            14 + dib_size
        };
        if got < at + 4 * count {
            return Err(bad("file truncated in the channel masks"));
        }
        for (i, m) in masks.iter_mut().enumerate().take(count) {
            *m = u32_at(&head, at + 4 * i);
        }
        for m in masks {
            mask_shape(m)?;
        }
        if masks[..3].contains(&0) {
            return Err(bad("a colour channel mask is zero"));
        }
    } else if bits == 16 {
        masks = [0x7c00, 0x03e0, 0x001f, 0];
    } else if bits == 32 {
        masks = [0x00ff_0000, 0x0000_ff00, 0x0000_00ff, 0];
    }
    if matches!(bits, 16 | 32) {
        if dib_size >= 56 && compression == Compression::Bitfields && masks[3] == 0 {
            // A V3+ header that states its alpha mask as zero: no alpha.
        } else if masks[3] != 0 {
            alpha = AlphaSource::Mask;
        } else if bits == 32 {
            masks[3] = 0xff00_0000 & !(masks[0] | masks[1] | masks[2]);
            if masks[3] == 0xff00_0000 {
                alpha = AlphaSource::IfNotAllZero;
            }
        }
    }
    let palette = if bits <= 8 { read_palette(input, &head, dib_size, after_dib, data_offset, bits)? } else { Vec::new() };
    let stride = (width as u64 * bits as u64).div_ceil(32) * 4;
    let stride = usize::try_from(stride).map_err(|_| bad("rows too wide"))?;
    if data_offset < after_dib || data_offset > input.len() {
        return Err(bad(format!("pixel data offset {data_offset} outside the file")));
    }
    let output = if bits <= 8 || alpha == AlphaSource::None { PixelFormat::RGB8 } else { PixelFormat::RGBA8 };
    Ok(BmpHeader { width, height, top_down, bits, compression, data_offset, stride, palette, masks, alpha, dib, output })
}

/// Checks that the uncompressed pixel data of `h` is whole in `input` (done when a decoder is
/// built, not in the header, so that an oversized header is refused by the planner's input
/// pixel limit first, as for other formats).
pub(crate) fn check_data_length(input: &Input, h: &BmpHeader) -> Result<()> {
    if matches!(h.compression, Compression::Rgb | Compression::Bitfields) {
        let end = (h.data_offset as u64).saturating_add(h.stride as u64 * h.height as u64);
        if end > input.len() as u64 {
            return Err(bad(format!("file truncated: the pixel data needs {end} bytes, the file has {}", input.len())));
        }
    }
    Ok(())
}

/// Checks that `mask` is one run of at most 32 set bits (or zero).
fn mask_shape(mask: u32) -> Result<()> {
    if mask != 0 && (mask >> mask.trailing_zeros()).count_ones() != 32 - (mask >> mask.trailing_zeros()).leading_zeros() {
        return Err(bad(format!("channel mask {mask:#010x} is not contiguous")));
    }
    Ok(())
}

/// Reads the palette that follows the headers: `clrUsed` entries, or 2^bits; at most 256 and
/// no further than the pixel data.
fn read_palette(input: &Input, head: &[u8], dib_size: usize, at: usize, data_offset: usize, bits: u16) -> Result<Vec<[u8; 3]>> {
    let entry = if dib_size == 12 { 3 } else { 4 };
    let max = 1usize << bits;
    let used = if dib_size >= 36 { u32_at(head, 14 + 32) as usize } else { 0 };
    let wanted = if used == 0 { max } else { used.min(max) };
    let room = data_offset.saturating_sub(at) / entry;
    let count = wanted.min(room);
    if count == 0 {
        return Err(bad("a palette image without a palette"));
    }
    let mut raw = [0u8; 256 * 4];
    read_exact_at(input, at, &mut raw[..count * entry], "palette")?;
    Ok(raw[..count * entry].chunks_exact(entry).map(|c| [c[2], c[1], c[0]]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_must_be_contiguous() {
        assert!(mask_shape(0x0000_f800).is_ok());
        assert!(mask_shape(0xff00_0000).is_ok());
        assert!(mask_shape(0xffff_ffff).is_ok());
        assert!(mask_shape(0).is_ok());
        assert!(mask_shape(0x0000_f0f0).is_err());
    }
}
