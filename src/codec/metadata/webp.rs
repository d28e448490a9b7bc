//! Adding ICC, EXIF and XMP chunks to a WebP file as an encoder writes it, as libwebp's `webpmux`
//! does: the simple format (`RIFF` `WEBP` `VP8 `/`VP8L`) becomes the extended one, a `VP8X`
//! chunk first with the ICC, EXIF, XMP (and alpha) flags set, then `ICCP`, the encoder's chunks
//! as they were, then `EXIF` and `XMP `; an encoder's own `VP8X` (lossy with alpha) gets the
//! flags added. The RIFF size is the encoder's plus what is added.
//!
//! [`Vp8xWriter`] does this on the stream: it holds the first 30 bytes (the RIFF header and the
//! first chunk's header, and a `VP8X` payload) until it can rewrite them, then passes every byte
//! through; [`Vp8xWriter::finish`] appends the trailing chunks. No copy of the image is made.

use std::io::{self, Write};

use crate::codec::Embedded;
use crate::error::{Error, Result};

const FLAG_ICC: u8 = 0x20;
const FLAG_ALPHA: u8 = 0x10;
const FLAG_EXIF: u8 = 0x08;
const FLAG_XMP: u8 = 0x04;

/// Bytes a chunk of `len` payload bytes takes (header and padding to an even size).
fn chunk_len(len: usize) -> u64 {
    8 + len.next_multiple_of(2) as u64
}

/// A writer that turns the WebP file written into it into an extended one carrying `blocks`.
pub struct Vp8xWriter<'a> {
    inner: &'a mut dyn Write,
    blocks: &'a Embedded,
    width: u32,
    height: u32,
    alpha: bool,
    head: [u8; 30],
    held: usize,
    /// The header has been rewritten and written: bytes pass through.
    passing: bool,
}

impl<'a> Vp8xWriter<'a> {
    /// A writer into `inner` for a `width` x `height` frame (`alpha`: it has an alpha channel).
    pub fn new(
        inner: &'a mut dyn Write,
        blocks: &'a Embedded,
        width: u32,
        height: u32,
        alpha: bool,
    ) -> Self {
        Vp8xWriter {
            inner,
            blocks,
            width,
            height,
            alpha,
            head: [0; 30],
            held: 0,
            passing: false,
        }
    }

    /// How many header bytes must be held before rewriting: 20, or 30 when the first chunk is
    /// `VP8X`.
    fn needed(&self) -> usize {
        if self.held >= 16 && &self.head[12..16] == b"VP8X" {
            30
        } else {
            20
        }
    }

    fn rewrite(&mut self) -> io::Result<()> {
        let bad = |what: &str| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("WebP encoder output: {what}"),
            )
        };
        if &self.head[0..4] != b"RIFF" || &self.head[8..12] != b"WEBP" {
            return Err(bad("no RIFF WEBP header"));
        }
        let riff =
            u32::from_le_bytes([self.head[4], self.head[5], self.head[6], self.head[7]]) as u64;
        let has_vp8x = &self.head[12..16] == b"VP8X";
        let icc = self.blocks.icc.as_deref();
        let added = if has_vp8x { 0 } else { chunk_len(10) }
            + icc.map_or(0, |p| chunk_len(p.len()))
            + self.blocks.exif.as_ref().map_or(0, |b| chunk_len(b.len()))
            + self.blocks.xmp.as_ref().map_or(0, |b| chunk_len(b.len()));
        let size = u32::try_from(riff + added)
            .map_err(|_| bad("the file with its metadata passes 4 GiB"))?;
        let mut flags = if has_vp8x { self.head[20] } else { 0 };
        flags |= if icc.is_some() { FLAG_ICC } else { 0 }
            | if self.blocks.exif.is_some() {
                FLAG_EXIF
            } else {
                0
            }
            | if self.blocks.xmp.is_some() {
                FLAG_XMP
            } else {
                0
            }
            | if self.alpha { FLAG_ALPHA } else { 0 };
        let mut out = Vec::with_capacity(30);
        out.extend_from_slice(b"RIFFxxxxWEBPVP8X");
        out[4..8].copy_from_slice(&size.to_le_bytes());
        out.extend(10u32.to_le_bytes());
        out.extend([flags, 0, 0, 0]);
        out.extend(&(self.width - 1).to_le_bytes()[..3]);
        out.extend(&(self.height - 1).to_le_bytes()[..3]);
        self.inner.write_all(&out)?;
        if let Some(p) = icc {
            write_chunk(self.inner, b"ICCP", p)?;
        }
        // The encoder's first chunk header (when it was not VP8X) follows as it was.
        if !has_vp8x {
            self.inner.write_all(&self.head[12..20])?;
        }
        self.passing = true;
        Ok(())
    }

    /// Appends the EXIF and XMP chunks; an error if the encoder wrote no whole header.
    pub fn finish(self) -> Result<()> {
        if !self.passing {
            return Err(Error::parameter(
                "WebP encoder output ended inside its header",
            ));
        }
        if let Some(exif) = &self.blocks.exif {
            write_chunk(self.inner, b"EXIF", exif)?;
        }
        if let Some(xmp) = &self.blocks.xmp {
            write_chunk(self.inner, b"XMP ", xmp)?;
        }
        Ok(())
    }
}

/// Writes one RIFF chunk (padded to an even size).
fn write_chunk(out: &mut dyn Write, kind: &[u8; 4], data: &[u8]) -> io::Result<()> {
    out.write_all(kind)?;
    out.write_all(&(data.len() as u32).to_le_bytes())?;
    out.write_all(data)?;
    if data.len() % 2 == 1 {
        out.write_all(&[0])?;
    }
    Ok(())
}

impl Write for Vp8xWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.passing {
            return self.inner.write(buf);
        }
        let take = (self.needed() - self.held).min(buf.len());
        self.head[self.held..self.held + take].copy_from_slice(&buf[..take]);
        self.held += take;
        if self.held == self.needed() {
            self.rewrite()?;
        }
        Ok(take)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal simple-format file: RIFF header and one VP8L chunk of `payload`.
    fn simple(payload: &[u8]) -> Vec<u8> {
        let mut f = b"RIFF".to_vec();
        f.extend(((4 + chunk_len(payload.len())) as u32).to_le_bytes());
        f.extend(b"WEBP");
        f.extend(b"VP8L");
        f.extend((payload.len() as u32).to_le_bytes());
        f.extend(payload);
        if payload.len() % 2 == 1 {
            f.push(0);
        }
        f
    }

    #[test]
    fn wraps_in_vp8x_whatever_the_write_sizes() {
        let blocks = Embedded {
            icc: Some(vec![1, 2, 3]),
            exif: Some(b"II*\0".to_vec()),
            xmp: Some(b"<x/>".to_vec()),
        };
        let file = simple(&[9u8; 41]);
        let mut whole = Vec::new();
        let mut w = Vp8xWriter::new(&mut whole, &blocks, 5, 7, false);
        w.write_all(&file).unwrap();
        w.finish().unwrap();
        for piece in [1, 3, 7] {
            let mut out = Vec::new();
            let mut w = Vp8xWriter::new(&mut out, &blocks, 5, 7, false);
            for c in file.chunks(piece) {
                w.write_all(c).unwrap();
            }
            w.finish().unwrap();
            assert_eq!(out, whole, "pieces of {piece}");
        }
        assert_eq!(
            u32::from_le_bytes(whole[4..8].try_into().unwrap()) as usize,
            whole.len() - 8
        );
        assert_eq!(&whole[12..16], b"VP8X");
        assert_eq!(whole[20], FLAG_ICC | FLAG_EXIF | FLAG_XMP);
        assert_eq!(&whole[24..30], &[4, 0, 0, 6, 0, 0]);
        assert_eq!(&whole[30..34], b"ICCP");
        assert_eq!(&whole[42..46], b"VP8L");
        let mut truncated = Vec::new();
        let mut w = Vp8xWriter::new(&mut truncated, &blocks, 5, 7, false);
        w.write_all(&file[..15]).unwrap();
        assert!(w.finish().is_err());
    }
}
