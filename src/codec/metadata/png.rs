//! A PNG's metadata chunks, found by a walk over the chunk headers up to the first `IDAT` (read
//! by position; of a chunk's data only what is kept is read, CRC checked).
//!
//! * EXIF: `eXIf` (the TIFF payload itself);
//! * XMP: the `iTXt` chunk with keyword `XML:com.adobe.xmp`, uncompressed (as the XMP
//!   specification asks; a compressed one is left out);
//! * ICC: `iCCP`, inflated by [`crate::codec::icc::read_icc_profile`] (bounded);
//! * density: `pHYs` (pixels per metre, or an aspect ratio only).
//!
//! Chunks after the image data are not looked at: that would walk every `IDAT` header, and
//! `eXIf` must precede the image data (PNG 3rd edition); writers put XMP first too.

use std::ops::Range;

use super::jpeg::read_block;
use super::Density;
use crate::codec::png::chunks::SIGNATURE;
use crate::codec::png::inflate::{check_chunk_crc, read_chunk};
use crate::codec::spec::Embedded;
use crate::error::{Error, Result};
use crate::io::Input;

/// The keyword of an XMP `iTXt` chunk.
pub(crate) const XMP_KEYWORD: &[u8] = b"XML:com.adobe.xmp";

#[derive(Debug, Default)]
struct Found {
    exif: Option<Range<usize>>,
    xmp: Option<Range<usize>>,
    density: Option<Density>,
}

fn walk(input: &Input) -> Result<Found> {
    let mut signature = [0u8; 8];
    if input.read_at(0, &mut signature)? < 8 || signature != SIGNATURE {
        return Err(Error::format("PNG", "not a PNG signature"));
    }
    let mut found = Found::default();
    let mut pos = SIGNATURE.len();
    loop {
        let chunk = read_chunk(input, pos)?;
        match &chunk.kind {
            b"IDAT" | b"IEND" => return Ok(found),
            b"eXIf" if found.exif.is_none() => {
                check_chunk_crc(input, &chunk)?;
                found.exif = Some(chunk.data.clone());
            }
            b"iTXt" if found.xmp.is_none() => {
                // keyword NUL, compression flag, method, language NUL, translated keyword NUL.
                let mut head = [0u8; 64];
                let got = input.read_at(chunk.data.start, &mut head[..chunk.data.len().min(64)])?;
                let head = &head[..got];
                let k = XMP_KEYWORD.len();
                if head.len() > k + 2
                    && head.starts_with(XMP_KEYWORD)
                    && head[k] == 0
                    && head[k + 1] == 0
                {
                    let rest = &head[k + 3..];
                    let lang = rest.iter().position(|&b| b == 0);
                    let translated = lang.and_then(|l| {
                        rest[l + 1..]
                            .iter()
                            .position(|&b| b == 0)
                            .map(|t| l + 1 + t)
                    });
                    if let Some(t) = translated {
                        check_chunk_crc(input, &chunk)?;
                        found.xmp = Some(chunk.data.start + k + 3 + t + 1..chunk.data.end);
                    }
                }
            }
            b"pHYs" if chunk.data.len() == 9 && found.density.is_none() => {
                let mut d = [0u8; 9];
                input.read_at(chunk.data.start, &mut d)?;
                let x = u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as f64;
                let y = u32::from_be_bytes([d[4], d[5], d[6], d[7]]) as f64;
                // Unit 1: per metre, given here per centimetre; 0: aspect ratio only.
                found.density = if d[8] == 1 {
                    Density::new(x / 100.0, y / 100.0, 2)
                } else {
                    Density::new(x, y, 0)
                };
            }
            _ => {}
        }
        pos = chunk.end();
    }
}

/// The EXIF, XMP and ICC blocks of the PNG `input`, each at most
/// [`Embedded::MAX_BLOCK_BYTES`] (a larger one is left out; the ICC profile is counted through
/// a window before it is inflated).
pub fn read_embedded(input: &Input) -> Result<Embedded> {
    let found = walk(input)?;
    let icc = match crate::codec::icc::icc_profile_len(input) {
        Err(Error::Limits(_)) => None, // over the 8 MiB cap: left out like any block over the bound
        Err(e) => return Err(e),
        Ok(Some(n)) if n <= Embedded::MAX_BLOCK_BYTES => {
            crate::codec::icc::read_icc_profile(input)?
        }
        Ok(_) => None,
    };
    Ok(Embedded {
        icc,
        exif: read_block(input, found.exif)?,
        xmp: read_block(input, found.xmp)?,
    })
}

/// The `pHYs` density of the PNG `input`, if it has one.
pub fn density(input: &Input) -> Result<Option<Density>> {
    Ok(walk(input)?.density)
}
