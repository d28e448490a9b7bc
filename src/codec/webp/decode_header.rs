//! WebP's header: our own bounded walk over the RIFF chunks, without decoding pixels.
//!
//! It reads the first chunk (`VP8 `, `VP8L` or `VP8X`) for the canvas size, alpha and kind, and
//! for an extended file walks the chunk headers (seeking over their data) to count the `ANMF`
//! frames and note where the `ICCP`, `EXIF` and `XMP ` chunks are. Memory: fixed, whatever the
//! number of chunks; reads: a few bytes a chunk.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::io::Input;

/// What a WebP's chunks say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebpHeader {
    /// Canvas width.
    pub width: u32,
    /// Canvas height.
    pub height: u32,
    /// Whether the image (or the animation) has alpha: what image-webp decodes to RGBA.
    pub alpha: bool,
    /// Lossy (`VP8 ` data, or `ALPH` in an animation) rather than lossless.
    pub lossy: bool,
    /// Whether the file is an animation (`ANMF` frames).
    pub animated: bool,
    /// Frames: the `ANMF` count of an animation, else 1.
    pub frames: u32,
    /// The `ICCP` chunk's data.
    pub icc: Option<Range<usize>>,
    /// The `EXIF` chunk's data.
    pub exif: Option<Range<usize>>,
    /// The `XMP ` chunk's data.
    pub xmp: Option<Range<usize>>,
}

fn bad(detail: impl std::fmt::Display) -> Error {
    Error::format("WebP", detail)
}

fn u24(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], 0])
}

/// Reads `buf.len()` bytes at `at` or a "truncated" error.
fn exact(input: &Input, at: usize, buf: &mut [u8]) -> Result<()> {
    if input.read_at(at, buf)? != buf.len() {
        return Err(bad("file truncated"));
    }
    Ok(())
}

/// A chunk: its name and its data's range (the chunk may claim more than the file holds).
fn chunk_at(input: &Input, at: usize) -> Result<([u8; 4], Range<usize>)> {
    let mut head = [0u8; 8];
    exact(input, at, &mut head)?;
    let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
    Ok(([head[0], head[1], head[2], head[3]], at + 8..(at + 8).saturating_add(len)))
}

/// Reads the header of the WebP `input` (see the module doc).
pub fn read_header(input: &Input) -> Result<WebpHeader> {
    let mut riff = [0u8; 12];
    exact(input, 0, &mut riff)?;
    if &riff[..4] != b"RIFF" || &riff[8..] != b"WEBP" {
        return Err(bad("not a RIFF WEBP file"));
    }
    let riff_end = (8 + u32::from_le_bytes([riff[4], riff[5], riff[6], riff[7]]) as usize).min(input.len());
    let (name, data) = chunk_at(input, 12)?;
    let mut h = WebpHeader { width: 0, height: 0, alpha: false, lossy: false, animated: false, frames: 1, icc: None, exif: None, xmp: None };
    match &name {
        b"VP8 " => {
            let mut b = [0u8; 10];
            exact(input, data.start, &mut b)?;
            if b[0] & 1 != 0 {
                return Err(bad("the VP8 frame is not a key frame"));
            }
            if b[3..6] != [0x9d, 0x01, 0x2a] {
                return Err(bad("bad VP8 start code"));
            }
            h.width = u16::from_le_bytes([b[6], b[7]]) as u32 & 0x3fff;
            h.height = u16::from_le_bytes([b[8], b[9]]) as u32 & 0x3fff;
            h.lossy = true;
        }
        b"VP8L" => {
            let mut b = [0u8; 5];
            exact(input, data.start, &mut b)?;
            if b[0] != 0x2f {
                return Err(bad("bad VP8L signature"));
            }
            let bits = u32::from_le_bytes([b[1], b[2], b[3], b[4]]);
            if bits >> 29 != 0 {
                return Err(bad("unknown VP8L version"));
            }
            h.width = (bits & 0x3fff) + 1;
            h.height = ((bits >> 14) & 0x3fff) + 1;
            h.alpha = (bits >> 28) & 1 != 0;
        }
        b"VP8X" => {
            let mut b = [0u8; 10];
            exact(input, data.start, &mut b)?;
            h.alpha = b[0] & 0x10 != 0;
            h.animated = b[0] & 0x02 != 0;
            h.width = u24(&b[4..7]) + 1;
            h.height = u24(&b[7..10]) + 1;
            extended(input, &mut h, data.end.saturating_add(data.len() & 1), riff_end)?;
        }
        other => return Err(bad(format!("unknown first chunk '{}'", String::from_utf8_lossy(other)))),
    }
    if h.width == 0 || h.height == 0 {
        return Err(bad("zero width or height"));
    }
    Ok(h)
}

/// Walks the chunks after `VP8X` up to `end`.
fn extended(input: &Input, h: &mut WebpHeader, mut at: usize, end: usize) -> Result<()> {
    let mut frames = 0u32;
    let mut image = false;
    while at + 8 <= end {
        let (name, data) = chunk_at(input, at)?;
        match &name {
            b"ANMF" => {
                if frames == 0 && data.len() >= 24 {
                    let (sub, _) = chunk_at(input, data.start + 16)?;
                    h.lossy = matches!(&sub, b"VP8 " | b"ALPH");
                }
                frames += 1;
            }
            b"VP8 " => (h.lossy, image) = (true, true),
            b"VP8L" => image = true,
            b"ICCP" if h.icc.is_none() => h.icc = Some(data.clone()),
            b"EXIF" if h.exif.is_none() => h.exif = Some(data.clone()),
            b"XMP " if h.xmp.is_none() => h.xmp = Some(data.clone()),
            _ => {}
        }
        at = data.end.saturating_add(data.len() & 1);
    }
    if h.animated {
        if frames == 0 {
            return Err(bad("an animation without frames"));
        }
        h.frames = frames;
    } else if !image {
        return Err(bad("no image data"));
    }
    Ok(())
}
