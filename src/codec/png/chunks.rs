//! The chunk layer of PNG: walking chunks by their length fields and checking their CRC-32.
//!
//! The interlaced decoder reads the image data (`IDAT`) itself, from the memory-mapped input,
//! so it needs to find chunks and validate them without the png crate. A chunk is
//! `length (u32 BE) | type (4 bytes) | data (length bytes) | CRC-32 of type and data (u32 BE)`.

use std::ops::Range;

use crate::error::{Error, Result};

/// The eight signature bytes every PNG starts with.
pub(crate) const SIGNATURE: [u8; 8] = *b"\x89PNG\r\n\x1a\n";

/// The largest chunk length the specification allows (2^31 - 1).
const MAX_CHUNK_LENGTH: usize = 0x7FFF_FFFF;

/// One chunk, located in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chunk {
    /// The four type bytes, e.g. `*b"IDAT"`.
    pub kind: [u8; 4],
    /// Where the data lies in the file.
    pub data: Range<usize>,
}

impl Chunk {
    /// Offset of the chunk after this one (past the CRC).
    pub fn end(&self) -> usize {
        self.data.end + 4
    }
}

/// The chunk whose header starts at `pos`; an error if header, data or CRC run past the end.
/// (For bytes in memory; the decoder reads chunks by position, `inflate::read_chunk`.)
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn chunk_at(bytes: &[u8], pos: usize) -> Result<Chunk> {
    chunk_from_header(bytes.get(pos..pos.saturating_add(8)), pos, bytes.len())
}

/// The chunk whose eight header bytes (`None`: fewer were left) start at `pos` of a file
/// `file_len` bytes long; an error if header, data or CRC run past the end.
pub(crate) fn chunk_from_header(header: Option<&[u8]>, pos: usize, file_len: usize) -> Result<Chunk> {
    let header =
        header.ok_or_else(|| Error::format("PNG", format!("file truncated: no chunk header at offset {pos}")))?;
    let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
    if length > MAX_CHUNK_LENGTH {
        return Err(Error::format("PNG", format!("chunk length {length} at offset {pos} is too large")));
    }
    let kind = [header[4], header[5], header[6], header[7]];
    let start = pos + 8;
    let end = start + length;
    if end.saturating_add(4) > file_len {
        return Err(Error::format(
            "PNG",
            format!("file truncated inside chunk {} at offset {pos}", String::from_utf8_lossy(&kind)),
        ));
    }
    Ok(Chunk { kind, data: start..end })
}

/// The largest `eXIf` chunk stripflow lets the png crate read: 1 MiB. The png crate cannot skip
/// the chunk and holds it twice (its chunk buffer and the copy it keeps), so a larger one is
/// refused with [`Error::Limits`] before the png crate sees the file. EXIF in JPEG cannot exceed
/// 64 KiB; real `eXIf` chunks are that size.
pub(crate) const MAX_EXIF_BYTES: usize = 1 << 20;

/// Heap the png crate spends on the metadata chunks it cannot skip (`eXIf`, held twice) of the
/// PNG in `bytes`, walking the chunk headers before the first `IDAT` (no allocation); a
/// [`Error::Limits`] error if the `eXIf` chunk is over [`MAX_EXIF_BYTES`].
pub(crate) fn metadata_heap_bytes(input: &crate::io::Input) -> Result<usize> {
    let mut pos = SIGNATURE.len();
    let mut exif = 0usize;
    let mut header = [0u8; 8];
    // Chunk headers read by position, the chunks' data skipped unread.
    while input.read_at(pos, &mut header)? == 8 {
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        match &header[4..8] {
            b"IDAT" | b"IEND" => break,
            b"eXIf" => exif = exif.max(length),
            _ => {}
        }
        pos = pos.saturating_add(12).saturating_add(length);
    }
    if exif > MAX_EXIF_BYTES {
        return Err(Error::limits(format!("PNG eXIf chunk of {exif} bytes exceeds the {MAX_EXIF_BYTES}-byte cap")));
    }
    Ok(2 * exif)
}

/// Walks the chunk headers of the PNG `input` by position (the chunks' data unread), calling
/// `visit` on each chunk up to and including the first `IDAT` or `IEND`, until it returns
/// `Some`. The signature is checked.
fn walk_header_chunks<T>(
    input: &crate::io::Input,
    mut visit: impl FnMut(&Chunk) -> Result<Option<T>>,
) -> Result<Option<T>> {
    let mut signature = [0u8; 8];
    if input.read_at(0, &mut signature)? < 8 || signature != SIGNATURE {
        return Err(Error::format("PNG", "not a PNG signature"));
    }
    let mut pos = SIGNATURE.len();
    loop {
        let chunk = super::inflate::read_chunk(input, pos)?;
        if let Some(found) = visit(&chunk)? {
            return Ok(Some(found));
        }
        if matches!(&chunk.kind, b"IDAT" | b"IEND") {
            return Ok(None);
        }
        pos = chunk.end();
    }
}

/// The chunk of type `kind` among those up to the image data of the PNG `input`, walking the
/// chunk headers by position (the chunks' data unread): `None` when `IEND`, or for any other
/// `kind` the first `IDAT`, comes first. The signature is checked.
pub(crate) fn header_chunk(input: &crate::io::Input, kind: &[u8; 4]) -> Result<Option<Chunk>> {
    walk_header_chunks(input, |c| Ok((&c.kind == kind).then(|| c.clone())))
}

/// What a PNG's colour chunks before the image data say (no `iCCP`: that is read by
/// [`crate::codec::icc`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PngColourChunks {
    /// An `sRGB` chunk is present (the image is sRGB whatever `gAMA` and `cHRM` say).
    pub srgb: bool,
    /// `gAMA`: the encoding gamma times 100000 (45455 for 1/2.2).
    pub gama: Option<u32>,
    /// `cHRM`: white x, y, red x, y, green x, y, blue x, y, each times 100000.
    pub chrm: Option<[u32; 8]>,
}

/// Reads the `sRGB`, `gAMA` and `cHRM` chunks of the PNG `input` (chunk headers walked by
/// position up to the first `IDAT`; the 4 and 32 bytes of `gAMA` and `cHRM` read on the stack,
/// CRC checked). A chunk of the wrong length is a [`Error::Format`] error.
pub fn colour_chunks(input: &crate::io::Input) -> Result<PngColourChunks> {
    let mut found = PngColourChunks::default();
    walk_header_chunks(input, |chunk| {
        let len = match &chunk.kind {
            b"sRGB" => 1,
            b"gAMA" => 4,
            b"cHRM" => 32,
            _ => return Ok(None::<()>),
        };
        let name = String::from_utf8_lossy(&chunk.kind).into_owned();
        if chunk.data.len() != len {
            return Err(Error::format("PNG", format!("{name} chunk of {} bytes (expected {len})", chunk.data.len())));
        }
        super::inflate::check_chunk_crc(input, chunk)?;
        let mut data = [0u8; 32];
        input.read_at(chunk.data.start, &mut data[..len])?;
        let be = |i: usize| u32::from_be_bytes([data[4 * i], data[4 * i + 1], data[4 * i + 2], data[4 * i + 3]]);
        match &chunk.kind {
            b"sRGB" => found.srgb = true,
            b"gAMA" => found.gama = Some(be(0)),
            _ => found.chrm = Some(std::array::from_fn(be)),
        }
        Ok(None)
    })?;
    Ok(found)
}

/// Checks the CRC-32 stored after `chunk` against its type and data.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn check_crc(bytes: &[u8], chunk: &Chunk) -> Result<()> {
    let stored = &bytes[chunk.data.end..chunk.data.end + 4];
    let stored = u32::from_be_bytes([stored[0], stored[1], stored[2], stored[3]]);
    let actual = !crc32_update(crc32_update(!0, &chunk.kind), &bytes[chunk.data.clone()]);
    if stored != actual {
        return Err(Error::format(
            "PNG",
            format!("CRC mismatch in chunk {} at offset {}", String::from_utf8_lossy(&chunk.kind), chunk.data.start - 8),
        ));
    }
    Ok(())
}

/// Slicing-by-4 tables of the CRC-32 of ISO 3309 / ITU-T V.42 (reflected polynomial 0xEDB88320).
static CRC_TABLES: [[u32; 256]; 4] = crc_tables();

const fn crc_tables() -> [[u32; 256]; 4] {
    let mut t = [[0u32; 256]; 4];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        t[0][n] = c;
        n += 1;
    }
    let mut n = 0;
    while n < 256 {
        let mut k = 1;
        while k < 4 {
            let prev = t[k - 1][n];
            t[k][n] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            k += 1;
        }
        n += 1;
    }
    t
}

/// Feeds `data` into a running (pre-inverted) CRC-32 register.
pub(crate) fn crc32_update(mut crc: u32, data: &[u8]) -> u32 {
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        crc ^= u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        crc = CRC_TABLES[3][(crc & 0xFF) as usize]
            ^ CRC_TABLES[2][((crc >> 8) & 0xFF) as usize]
            ^ CRC_TABLES[1][((crc >> 16) & 0xFF) as usize]
            ^ CRC_TABLES[0][(crc >> 24) as usize];
    }
    for &b in words.remainder() {
        crc = CRC_TABLES[0][((crc ^ b as u32) & 0xFF) as usize] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_iend_matches_the_spec_constant() {
        // Every PNG ends with IEND, whose CRC is the well-known AE 42 60 82.
        assert_eq!(!crc32_update(!0, b"IEND"), 0xAE42_6082);
        // The standard check value of CRC-32.
        assert_eq!(!crc32_update(!0, b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn truncated_and_oversized_chunks_are_errors() {
        let mut file = SIGNATURE.to_vec();
        file.extend_from_slice(&[0, 0, 0, 0]);
        file.extend_from_slice(b"IEND");
        file.extend_from_slice(&0xAE42_6082u32.to_be_bytes());
        let c = chunk_at(&file, 8).unwrap();
        assert_eq!(&c.kind, b"IEND");
        check_crc(&file, &c).unwrap();
        assert!(chunk_at(&file[..file.len() - 1], 8).is_err());
        file[8] = 0xFF;
        assert!(chunk_at(&file, 8).is_err());
        file[8] = 0;
        file[19] ^= 1;
        assert!(check_crc(&file, &c).is_err());
    }
}
