//! RLE4 and RLE8 pixel data, decoded whole into a frame of palette indices.
//!
//! The stream is read through an [`crate::io::InputReader`] from the data offset. Pixels the
//! stream skips (a delta, an early end of line or of the bitmap) keep index 0, as Pillow renders
//! them. Pixels a run puts past the end of its row are dropped (encoders such as ImageMagick
//! write them; Pillow and browsers drop them too). Damage is a typed error: a run or a delta
//! past the last row, a stream that ends before its end-of-bitmap marker.

use std::io::Read;

use super::header::{BmpHeader, Compression};
use crate::error::{Error, Result};
use crate::io::{is_input_ended, Input};

fn bad(detail: impl std::fmt::Display) -> Error {
    Error::format("BMP", detail)
}

/// Decodes the RLE data of `input` into `width * height` indices, top row first.
pub(crate) fn decode(input: &Input, header: &BmpHeader) -> Result<Vec<u8>> {
    let (width, height) = (header.width as usize, header.height as usize);
    let four = header.compression == Compression::Rle4;
    let mut frame = vec![0u8; width * height];
    let mut reader = input.cursor();
    std::io::Seek::seek(&mut reader, std::io::SeekFrom::Start(header.data_offset as u64))?;
    let next = |reader: &mut crate::io::InputReader| -> Result<[u8; 2]> {
        let mut pair = [0u8; 2];
        match reader.read_exact(&mut pair) {
            Ok(()) => Ok(pair),
            Err(e) if is_input_ended(&e) => Err(Error::Io(e)),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(bad("run-length data truncated")),
            Err(e) => Err(Error::Io(e)),
        }
    };
    // Position in stored (bottom-up) rows.
    let (mut x, mut line) = (0usize, 0usize);
    loop {
        let [count, value] = next(&mut reader)?;
        if count > 0 {
            let count = count as usize;
            if line >= height {
                return Err(bad(format!("a run of {count} pixels past the last row")));
            }
            let row = &mut frame[(height - 1 - line) * width..][..width];
            let end = (x + count).min(width);
            for (i, p) in row[x.min(width)..end].iter_mut().enumerate() {
                *p = if four { if i % 2 == 0 { value >> 4 } else { value & 15 } } else { value };
            }
            x += count;
            continue;
        }
        match value {
            0 => {
                line += 1;
                x = 0;
            }
            1 => return Ok(frame),
            2 => {
                let [dx, dy] = next(&mut reader)?;
                x += dx as usize;
                line += dy as usize;
                if x > width || line > height || (line == height && (x > 0 || dy == 0)) {
                    return Err(bad("a delta moves past the image"));
                }
            }
            n => {
                let n = n as usize;
                if line >= height {
                    return Err(bad(format!("a literal run of {n} pixels past the last row")));
                }
                let bytes = if four { n.div_ceil(2) } else { n };
                let mut literal = [0u8; 256];
                let padded = bytes.next_multiple_of(2);
                for pair in literal[..padded].chunks_exact_mut(2) {
                    pair.copy_from_slice(&next(&mut reader)?);
                }
                let row = &mut frame[(height - 1 - line) * width..][..width];
                let end = (x + n).min(width);
                for (i, p) in row[x.min(width)..end].iter_mut().enumerate() {
                    *p = if four { (literal[i / 2] >> (4 * (1 - i % 2))) & 15 } else { literal[i] };
                }
                x += n;
            }
        }
        if line > height {
            return Err(bad("more run-length rows than the image height"));
        }
    }
}
