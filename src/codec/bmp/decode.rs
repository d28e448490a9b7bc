//! The BMP row source.
//!
//! Uncompressed files stream: output row `y` is file row `y` (top-down) or `height - 1 - y`
//! (bottom-up), fetched with one positioned read into the one row buffer and converted. RLE4 and
//! RLE8 files are decoded whole when the decoder is built into a frame of palette indices (one
//! byte a pixel, top-down), and rows are served from it.
//!
//! Heap ([`decoder_heap_bytes`], what `heap_bytes` and `buffer_bytes` both report): the decoder
//! itself, its palette, and the row buffer or the index frame; building an RLE decoder also holds
//! an input reader's buffer while it decodes.

use std::sync::Arc;

use super::header::{read_exact_at, AlphaSource, BmpHeader, Compression};
use crate::error::{Error, Result};
use crate::io::{Input, InputReader};
use crate::pipeline::{RowCounter, RowSource};
use crate::pixel::ImageInfo;

/// A BMP decoder: rows top to bottom.
pub struct BmpDecoder {
    input: Input,
    header: Arc<BmpHeader>,
    info: ImageInfo,
    rows: RowCounter,
    /// One stored row (uncompressed files), empty for RLE.
    row: Vec<u8>,
    /// The palette indices of the whole frame, top-down (RLE files), empty otherwise.
    frame: Vec<u8>,
    /// Whether 32-bit pixels carry alpha (see [`AlphaSource::IfNotAllZero`]).
    alpha: bool,
    failed: bool,
}

impl std::fmt::Debug for BmpDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BmpDecoder").field("header", &self.header).field("next_row", &self.rows.next()).finish()
    }
}

/// Heap of a [`BmpDecoder`] for `header`: the boxed decoder, its row buffer or index frame (the
/// palette is shared with the header). The layout [`BmpDecoder::new`] allocates.
pub fn decoder_heap_bytes(header: &BmpHeader) -> usize {
    let own = std::mem::size_of::<BmpDecoder>();
    match header.compression {
        Compression::Rle4 | Compression::Rle8 => own + header.width as usize * header.height as usize,
        _ => own + header.stride,
    }
}

/// Extra heap while an RLE decoder is built: the input reader's buffer.
pub fn build_transient_bytes(input: &Input, header: &BmpHeader) -> usize {
    match header.compression {
        Compression::Rle4 | Compression::Rle8 => InputReader::buffer_bytes_for(input),
        _ => 0,
    }
}

impl BmpDecoder {
    /// A decoder for `input` whose headers are `header`; decodes an RLE frame here.
    pub fn new(input: Input, header: Arc<BmpHeader>) -> Result<BmpDecoder> {
        let h = &*header;
        super::header::check_data_length(&input, h)?;
        let info = ImageInfo { width: h.width, height: h.height, format: h.output };
        let mut decoder = BmpDecoder {
            rows: RowCounter::new(h.height),
            row: Vec::new(),
            frame: Vec::new(),
            alpha: h.alpha == AlphaSource::Mask,
            failed: false,
            info,
            input,
            header: header.clone(),
        };
        match h.compression {
            Compression::Rle4 | Compression::Rle8 => {
                decoder.frame = super::rle::decode(&decoder.input, h)?;
            }
            _ => {
                decoder.row = vec![0; h.stride];
                if h.alpha == AlphaSource::IfNotAllZero {
                    decoder.alpha = decoder.any_alpha()?;
                }
            }
        }
        Ok(decoder)
    }

    /// Whether any pixel of a 32-bit file has a non-zero fourth byte (reads the rows once).
    fn any_alpha(&mut self) -> Result<bool> {
        let h = &*self.header;
        for y in 0..h.height as usize {
            read_exact_at(&self.input, h.data_offset + y * h.stride, &mut self.row, "pixel data")?;
            if self.row[..h.width as usize * 4].chunks_exact(4).any(|p| p[3] != 0) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn next_row(&mut self, out: &mut [u8]) -> Result<()> {
        let y = self.rows.advance()? as usize;
        let h = &*self.header;
        let width = h.width as usize;
        if !self.frame.is_empty() {
            let indices = &self.frame[y * width..(y + 1) * width];
            return from_palette(indices.iter().copied(), &h.palette, out);
        }
        let stored = if h.top_down { y } else { h.height as usize - 1 - y };
        read_exact_at(&self.input, h.data_offset + stored * h.stride, &mut self.row, "pixel data")?;
        let row = &self.row[..];
        match h.bits {
            1 => from_palette((0..width).map(|x| (row[x / 8] >> (7 - x % 8)) & 1), &h.palette, out),
            4 => from_palette((0..width).map(|x| (row[x / 2] >> (4 * (1 - x % 2))) & 15), &h.palette, out),
            8 => from_palette(row[..width].iter().copied(), &h.palette, out),
            24 => {
                for (o, p) in out.chunks_exact_mut(3).zip(row.chunks_exact(3)) {
                    o.copy_from_slice(&[p[2], p[1], p[0]]);
                }
                Ok(())
            }
            16 => {
                let pixels = row.chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]]) as u32);
                from_masks(pixels, &h.masks, self.alpha, h.output.channels(), out);
                Ok(())
            }
            _ => {
                let pixels = row.chunks_exact(4).map(|p| u32::from_le_bytes([p[0], p[1], p[2], p[3]]));
                from_masks(pixels, &h.masks, self.alpha, h.output.channels(), out);
                Ok(())
            }
        }
    }
}

/// RGB rows from palette indices; an index past the palette is a format error.
fn from_palette(indices: impl Iterator<Item = u8>, palette: &[[u8; 3]], out: &mut [u8]) -> Result<()> {
    for (o, i) in out.chunks_exact_mut(3).zip(indices) {
        let Some(c) = palette.get(i as usize) else {
            return Err(Error::format("BMP", format!("palette index {i} out of range (the palette has {} colours)", palette.len())));
        };
        o.copy_from_slice(c);
    }
    Ok(())
}

/// One channel of `pixel` under `mask`, scaled to 8 bits (truncating, as Pillow does).
fn channel(pixel: u32, mask: u32) -> u8 {
    if mask == 0 {
        return 0;
    }
    let shift = mask.trailing_zeros();
    let bits = (mask >> shift).count_ones();
    let v = (pixel & mask) >> shift;
    if bits >= 8 {
        (v >> (bits - 8)) as u8
    } else {
        (v * 255 / ((1 << bits) - 1)) as u8
    }
}

/// RGB or RGBA rows from 16- or 32-bit pixels and their channel masks; `alpha` false on an
/// RGBA output means opaque.
fn from_masks(pixels: impl Iterator<Item = u32>, masks: &[u32; 4], alpha: bool, channels: usize, out: &mut [u8]) {
    for (o, p) in out.chunks_exact_mut(channels).zip(pixels) {
        o[0] = channel(p, masks[0]);
        o[1] = channel(p, masks[1]);
        o[2] = channel(p, masks[2]);
        if channels == 4 {
            o[3] = if alpha { channel(p, masks[3]) } else { 255 };
        }
    }
}

impl RowSource for BmpDecoder {
    fn info(&self) -> ImageInfo {
        self.info
    }

    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        if row.len() != self.info.row_bytes() {
            return Err(Error::parameter(format!("row buffer of {} bytes, rows are {} bytes", row.len(), self.info.row_bytes())));
        }
        if self.failed {
            return Err(Error::format("BMP", "decoder stopped after an earlier error"));
        }
        let result = self.next_row(row);
        self.failed = result.is_err();
        result
    }

    fn buffer_bytes(&self) -> usize {
        decoder_heap_bytes(&self.header)
    }

    fn name(&self) -> &'static str {
        "bmp decode"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_scale_to_eight_bits() {
        assert_eq!(channel(0x7c00, 0x7c00), 255);
        assert_eq!(channel(0x0400, 0x7c00), 8);
        assert_eq!(channel(0xffff_ffff, 0x0000_ff00), 255);
        assert_eq!(channel(0x0012_3400, 0x00ff_ff00), 0x12);
        assert_eq!(channel(5, 0), 0);
    }
}
