//! A walk over a GIF's blocks without decoding them: screen, frames, extensions.
//!
//! The walk reads the logical screen descriptor and then skips every block by its sub-block
//! lengths through an [`InputReader`], so it costs one pass over the file and a fixed amount of
//! memory whatever the number of frames: it keeps counts and the records of two frames (the
//! first, and the page asked for), not a list.

use std::io::{Read, Seek, SeekFrom};

use crate::error::{Error, Result};
use crate::io::{is_input_ended, Input, InputReader};

/// What one frame's image descriptor and graphic control extension say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GifFrame {
    /// Left edge on the logical screen.
    pub left: u16,
    /// Top edge on the logical screen.
    pub top: u16,
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Whether its rows are stored in the four interlaced passes.
    pub interlaced: bool,
    /// The palette index drawn as transparent, if any.
    pub transparent: Option<u8>,
    /// Disposal method (0 unspecified, 1 keep, 2 restore to background, 3 restore to previous).
    pub disposal: u8,
}

impl GifFrame {
    /// Whether the frame covers the whole `width` x `height` screen.
    pub fn covers(&self, width: u16, height: u16) -> bool {
        self.left == 0 && self.top == 0 && self.width >= width && self.height >= height
    }
}

/// What the walk found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GifLayout {
    /// Logical screen width.
    pub width: u16,
    /// Logical screen height.
    pub height: u16,
    /// Frames in the file (image descriptors before the trailer or the end of the file).
    pub frames: u32,
    /// The first frame.
    pub first: GifFrame,
    /// The frame asked for.
    pub page: GifFrame,
    /// The page asked for (0 is the first frame).
    pub page_index: u32,
    /// The widest frame up to the page asked for (the line buffer's length).
    pub max_frame_width: u16,
    /// Bytes of the largest "restore to previous" rectangle before the page (its saved copy).
    pub max_restore_bytes: usize,
    /// Bytes the `gif` crate collects of the longest extension (sub-block lengths included).
    pub max_extension_bytes: usize,
}

fn truncated_or(e: std::io::Error) -> Error {
    if is_input_ended(&e) || e.kind() != std::io::ErrorKind::UnexpectedEof {
        Error::Io(e)
    } else {
        Error::format("GIF", "file truncated")
    }
}

fn byte(r: &mut InputReader) -> std::io::Result<u8> {
    let mut b = [0u8; 1];
    r.read_exact(&mut b)?;
    Ok(b[0])
}

/// Skips sub-blocks up to their terminator; returns the bytes the `gif` crate would collect of
/// them (each length byte and its data).
fn skip_sub_blocks(r: &mut InputReader, first: Option<u8>) -> std::io::Result<usize> {
    let mut total = 0usize;
    let mut len = match first {
        Some(l) => l,
        None => byte(r)?,
    };
    while len != 0 {
        r.seek(SeekFrom::Current(len as i64))?;
        total += len as usize + 1;
        len = byte(r)?;
    }
    Ok(total)
}

/// Walks the GIF `input`, noting frame `page` (0 is the first). A page past the last is a
/// [`Error::Parameter`]; a file without frames, an unknown block or a truncated header are
/// [`Error::Format`]. A file that ends inside or after a frame counts the frames begun (the
/// decoder reports the truncation).
pub fn walk(input: &Input, page: u32) -> Result<GifLayout> {
    let mut r = input.cursor();
    let mut head = [0u8; 13];
    r.read_exact(&mut head).map_err(truncated_or)?;
    if &head[..6] != b"GIF87a" && &head[..6] != b"GIF89a" {
        return Err(Error::format("GIF", "not a GIF signature"));
    }
    let width = u16::from_le_bytes([head[6], head[7]]);
    let height = u16::from_le_bytes([head[8], head[9]]);
    if width == 0 || height == 0 {
        return Err(Error::format("GIF", format!("invalid screen size {width}x{height}")));
    }
    if head[10] & 0x80 != 0 {
        r.seek(SeekFrom::Current(3 << ((head[10] & 7) + 1))).map_err(truncated_or)?;
    }
    let mut layout = GifLayout {
        width,
        height,
        frames: 0,
        first: GifFrame::default(),
        page: GifFrame::default(),
        page_index: page,
        max_frame_width: 0,
        max_restore_bytes: 0,
        max_extension_bytes: 0,
    };
    let mut control = (None, 0u8);
    loop {
        let block = match byte(&mut r) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !is_input_ended(&e) && layout.frames > 0 => break,
            Err(e) => return Err(truncated_or(e)),
        };
        match block {
            0x3b => break,
            0x21 => {
                let label = byte(&mut r).map_err(truncated_or)?;
                let len = byte(&mut r).map_err(truncated_or)?;
                if label == 0xf9 && len == 4 {
                    let mut gce = [0u8; 4];
                    r.read_exact(&mut gce).map_err(truncated_or)?;
                    control = (if gce[0] & 1 != 0 { Some(gce[3]) } else { None }, (gce[0] >> 2) & 7);
                    let rest = skip_sub_blocks(&mut r, None).map_err(truncated_or)?;
                    layout.max_extension_bytes = layout.max_extension_bytes.max(5 + rest);
                } else {
                    let bytes = skip_sub_blocks(&mut r, Some(len)).map_err(truncated_or)?;
                    layout.max_extension_bytes = layout.max_extension_bytes.max(bytes);
                }
            }
            0x2c => {
                let mut d = [0u8; 9];
                let ended = r.read_exact(&mut d).map_err(truncated_or);
                if ended.is_err() && layout.frames > 0 {
                    break;
                }
                ended?;
                let u = |i: usize| u16::from_le_bytes([d[i], d[i + 1]]);
                let frame = GifFrame {
                    left: u(0),
                    top: u(2),
                    width: u(4),
                    height: u(6),
                    interlaced: d[8] & 0x40 != 0,
                    transparent: control.0,
                    disposal: control.1,
                };
                control = (None, 0);
                let n = layout.frames;
                if n == 0 {
                    layout.first = frame;
                }
                if n <= page {
                    layout.page = frame;
                    layout.max_frame_width = layout.max_frame_width.max(frame.width);
                    if n < page && frame.disposal == 3 {
                        layout.max_restore_bytes = layout.max_restore_bytes.max(frame.width as usize * frame.height as usize * 4);
                    }
                }
                layout.frames += 1;
                let skipped = (|| {
                    if d[8] & 0x80 != 0 {
                        r.seek(SeekFrom::Current(3 << ((d[8] & 7) + 1)))?;
                    }
                    byte(&mut r)?; // LZW minimum code size
                    skip_sub_blocks(&mut r, None)
                })();
                match skipped {
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !is_input_ended(&e) => break,
                    Err(e) => return Err(Error::Io(e)),
                }
            }
            other => return Err(Error::format("GIF", format!("unknown block type {other:#04x}"))),
        }
    }
    if layout.frames == 0 {
        return Err(Error::format("GIF", "no frame in the file"));
    }
    if page >= layout.frames {
        return Err(Error::parameter(format!(
            "page {page} does not exist: the GIF has {} frame{} (pages 0 to {})",
            layout.frames,
            if layout.frames == 1 { "" } else { "s" },
            layout.frames - 1
        )));
    }
    Ok(layout)
}
