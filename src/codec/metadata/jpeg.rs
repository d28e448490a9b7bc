//! A JPEG's metadata segments, found by a walk over the segment headers before the first scan
//! (read by position: two to four bytes a segment, nothing of the bodies but a signature prefix).
//!
//! * EXIF: the first `APP1` starting `Exif\0\0` (the TIFF payload after it);
//! * XMP: the first `APP1` starting `http://ns.adobe.com/xap/1.0/\0` (the packet after it).
//!   Extended XMP (`APP1` `http://ns.adobe.com/xmp/extension/\0`, a packet split over several
//!   segments, referenced from the main packet by a GUID) is not read: the main packet is kept
//!   alone, which is what a reader that ignores the extension sees;
//! * ICC: the `APP2` `ICC_PROFILE` chunks, assembled by [`crate::codec::jpeg::read_icc_profile`];
//! * density: the JFIF `APP0`'s units and densities.

use std::ops::Range;

use super::Density;
use crate::codec::spec::Embedded;
use crate::error::{Error, Result};
use crate::io::Input;

/// The signature of an EXIF `APP1` segment.
pub(crate) const EXIF_SIGNATURE: &[u8] = b"Exif\0\0";
/// The signature of an XMP `APP1` segment.
pub(crate) const XMP_SIGNATURE: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

/// Where the metadata segments' payloads lie.
#[derive(Debug, Default)]
struct Found {
    exif: Option<Range<usize>>,
    xmp: Option<Range<usize>>,
    density: Option<Density>,
}

/// Walks the segment headers of the JPEG `input` up to the first scan.
fn walk(input: &Input) -> Result<Found> {
    let mut soi = [0u8; 2];
    if input.read_at(0, &mut soi)? < 2 || soi != [0xFF, 0xD8] {
        return Err(Error::format("JPEG", "no SOI marker"));
    }
    let mut found = Found::default();
    let mut pos = 2usize;
    let len = input.len();
    let mut head = [0u8; 4];
    loop {
        if input.read_at(pos, &mut head)? < 4 {
            return Ok(found);
        }
        if head[0] != 0xFF {
            return Ok(found); // not a marker: the walk stops where a decoder would complain
        }
        let marker = head[1];
        match marker {
            0xFF => {
                pos += 1; // fill byte
                continue;
            }
            0xD8 | 0x01 | 0xD0..=0xD7 => {
                pos += 2;
                continue;
            }
            0xD9 | 0xDA => return Ok(found),
            _ => {}
        }
        let seg_len = u16::from_be_bytes([head[2], head[3]]) as usize;
        if seg_len < 2 || pos + 2 + seg_len > len {
            return Ok(found);
        }
        let body = pos + 4..pos + 2 + seg_len;
        let mut prefix = [0u8; 29];
        let got = input.read_at(body.start, &mut prefix[..body.len().min(29)])?;
        let prefix = &prefix[..got];
        match marker {
            0xE1 if found.exif.is_none() && prefix.starts_with(EXIF_SIGNATURE) => {
                found.exif = Some(body.start + EXIF_SIGNATURE.len()..body.end);
            }
            0xE1 if found.xmp.is_none() && prefix.starts_with(XMP_SIGNATURE) => {
                found.xmp = Some(body.start + XMP_SIGNATURE.len()..body.end);
            }
            0xE0 if found.density.is_none()
                && prefix.len() >= 12
                && prefix.starts_with(b"JFIF\0") =>
            {
                let x = u16::from_be_bytes([prefix[8], prefix[9]]);
                let y = u16::from_be_bytes([prefix[10], prefix[11]]);
                found.density = Density::new(x as f64, y as f64, prefix[7]);
            }
            _ => {}
        }
        pos = body.end;
    }
}

/// Reads `range` of `input` into a new vector, unless it is empty or over
/// [`Embedded::MAX_BLOCK_BYTES`] (left out).
pub(crate) fn read_block(input: &Input, range: Option<Range<usize>>) -> Result<Option<Vec<u8>>> {
    let Some(range) = range.filter(|r| !r.is_empty() && r.len() <= Embedded::MAX_BLOCK_BYTES)
    else {
        return Ok(None);
    };
    let mut block = vec![0u8; range.len()];
    let got = input.read_at(range.start, &mut block)?;
    block.truncate(got);
    Ok(Some(block))
}

/// The EXIF, XMP and ICC blocks of the JPEG `input` whose header walk found an ICC profile of
/// `icc_len` bytes, each at most [`Embedded::MAX_BLOCK_BYTES`] (a larger one, or an incomplete
/// set of ICC chunks, is left out).
pub fn read_embedded(input: &Input, icc_len: Option<usize>) -> Result<Embedded> {
    let found = walk(input)?;
    let icc = match icc_len {
        Some(n) if n <= Embedded::MAX_BLOCK_BYTES => crate::codec::jpeg::read_icc_profile(input)?,
        _ => None,
    };
    Ok(Embedded {
        icc,
        exif: read_block(input, found.exif)?,
        xmp: read_block(input, found.xmp)?,
    })
}

/// The JFIF density of the JPEG `input`, if it has a JFIF segment.
pub fn density(input: &Input) -> Result<Option<Density>> {
    Ok(walk(input)?.density)
}
