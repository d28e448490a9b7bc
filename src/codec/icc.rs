//! ICC profiles: located by the header walk, assembled only when asked for, and bounded.
//!
//! Neither reading a file's metadata nor decoding it assembles or inflates its ICC profile: a
//! JPEG's `APP2` chunks are only noted (where and how long, with no allocation), a PNG's `iCCP`
//! chunk is skipped, a TIFF's tag 34675 (first directory) is only located. Colour management asks
//! for the profile with [`read_icc_profile`]; before it
//! does, [`icc_profile_len`] says how many bytes the profile would take, so that a planner can
//! count them.
//!
//! The cap: a profile larger than [`MAX_ICC_PROFILE_BYTES`] (8 MiB) is refused with
//! [`Error::Limits`] by both functions, before the profile is allocated. Real profiles are 0.5 to
//! 4 KiB for matrix profiles and rarely above 1 MiB for large LUT profiles (e.g. printer
//! profiles); a 200 MB iCCP chunk, which 194 KB of zlib data can inflate to, is an attack.
//!
//! Heap of [`read_icc_profile`]: the profile; for PNG also the inflater's state and a 32 KiB
//! window while the inflated size is counted, and the inflater's state while inflating into the
//! profile ([`icc_profile_heap_bytes`] gives the sum). No profile is held by a decoder.

use miniz_oxide::inflate::core::inflate_flags::{
    TINFL_FLAG_HAS_MORE_INPUT, TINFL_FLAG_PARSE_ZLIB_HEADER, TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
};
use miniz_oxide::inflate::core::{decompress, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

use std::ops::Range;

use super::png::chunks::header_chunk;
use super::png::inflate::check_chunk_crc;
use super::Format;
use crate::error::{Error, Result};
use crate::io::Input;

/// The largest ICC profile stripflow assembles: 8 MiB.
pub const MAX_ICC_PROFILE_BYTES: usize = 8 << 20;

/// Window of the counting inflate pass (the largest deflate distance).
const WINDOW: usize = 32 * 1024;

/// Refuses a profile of `len` bytes over the cap.
pub(crate) fn check_icc_len(len: usize) -> Result<()> {
    if len > MAX_ICC_PROFILE_BYTES {
        return Err(Error::limits(format!(
            "ICC profile of {len} bytes exceeds the {MAX_ICC_PROFILE_BYTES}-byte cap"
        )));
    }
    Ok(())
}

/// Bytes the ICC profile of the PNG or JPEG `input` takes once assembled; `None` if the file
/// has none (or, for JPEG, its chunks are not a complete set).
///
/// JPEG: from the chunk lengths found by the header walk. PNG: the `iCCP` chunk is inflated
/// through a 32 KiB window and counted, stopping past the cap. A profile over
/// [`MAX_ICC_PROFILE_BYTES`] is [`Error::Limits`]; a damaged `iCCP` chunk is [`Error::Format`].
pub fn icc_profile_len(input: &Input) -> Result<Option<usize>> {
    let len = match sniff(input)? {
        Some(Format::Jpeg) => super::jpeg::read_metadata(input)?.icc_profile_len,
        Some(Format::Png) => match png_iccp(input)? {
            Some(zlib) => Some(inflate_at(input, zlib, None)?),
            None => None,
        },
        Some(Format::Webp) => super::webp::decode_header::read_header(input)?.icc.map(|r| r.len()),
        Some(Format::Tiff) => super::tiff::decode::spec::icc_profile_field(input)?.map(|(_, len)| len),
        Some(other) => return Err(Error::unsupported("input", format!("ICC profiles of {other} files are not read"))),
        None => return Err(Error::format("image", "not a PNG or JPEG file (unknown signature)")),
    };
    if let Some(len) = len {
        check_icc_len(len)?;
    }
    Ok(len)
}

/// Peak heap of [`read_icc_profile`] on `input`: 0 without a profile, else the profile plus the
/// PNG inflater's state and window. Errors as [`icc_profile_len`].
pub fn icc_profile_heap_bytes(input: &Input) -> Result<usize> {
    match icc_profile_len(input)? {
        Some(len) => read_heap_bytes(input, len),
        None => Ok(0),
    }
}

/// Peak heap of [`read_icc_profile`] on `input` whose profile is `len` bytes (as
/// [`icc_profile_len`] said), without counting it again.
pub(crate) fn read_heap_bytes(input: &Input, len: usize) -> Result<usize> {
    Ok(match sniff(input)? {
        Some(Format::Png) => (len + INFLATER_BYTES).max(WINDOW + INFLATER_BYTES),
        _ => len,
    })
}

/// The format of `input` from its first bytes (`None`: neither PNG nor JPEG).
fn sniff(input: &Input) -> Result<Option<Format>> {
    let mut head = [0u8; 12];
    let got = input.read_at(0, &mut head)?;
    Ok(Format::sniff(&head[..got]))
}

/// Heap of a boxed `DecompressorOxide` (miniz_oxide 0.8: about 11 KB), rounded up.
const INFLATER_BYTES: usize = 12 * 1024;

/// Reads the ICC profile of the PNG or JPEG `input`: the JPEG's `APP2` chunks assembled in
/// order, or the PNG's `iCCP` chunk inflated. `None` if there is none.
///
/// Bounded: a profile over [`MAX_ICC_PROFILE_BYTES`] is refused with [`Error::Limits`] before
/// it is allocated (for PNG, after counting it through a 32 KiB window).
pub fn read_icc_profile(input: &Input) -> Result<Option<Vec<u8>>> {
    match sniff(input)? {
        Some(Format::Jpeg) => super::jpeg::read_icc_profile(input),
        Some(Format::Png) => {
            let Some(zlib) = png_iccp(input)? else { return Ok(None) };
            let len = inflate_at(input, zlib.clone(), None)?;
            check_icc_len(len)?;
            let mut profile = vec![0u8; len];
            if inflate_at(input, zlib, Some(&mut profile)).ok() != Some(len) {
                return Err(Error::format("PNG", "iCCP chunk inflates differently the second time"));
            }
            Ok(Some(profile))
        }
        Some(Format::Webp) => {
            let Some(range) = super::webp::decode_header::read_header(input)?.icc else { return Ok(None) };
            check_icc_len(range.len())?;
            let mut profile = vec![0u8; range.len()];
            if input.read_at(range.start, &mut profile)? != range.len() {
                return Err(Error::format("WebP", "ICCP chunk truncated"));
            }
            Ok(Some(profile))
        }
        Some(Format::Tiff) => {
            // Tag 34675 of the first directory, stored as is: read by position.
            let Some((offset, len)) = super::tiff::decode::spec::icc_profile_field(input)? else { return Ok(None) };
            check_icc_len(len)?;
            let mut profile = vec![0u8; len];
            super::tiff::decode::directory::read_exact(input, offset, &mut profile, "ICC profile")?;
            Ok(Some(profile))
        }
        Some(other) => Err(Error::unsupported("input", format!("ICC profiles of {other} files are not read"))),
        None => Err(Error::format("image", "not a PNG or JPEG file (unknown signature)")),
    }
}

/// The zlib stream of a PNG's `iCCP` chunk (before the first `IDAT`), CRC checked; `None` if the
/// file has none.
fn png_iccp(input: &Input) -> Result<Option<Range<usize>>> {
    // Chunk headers read by position; of the iCCP chunk only the name is read here.
    let Some(chunk) = header_chunk(input, b"iCCP")? else { return Ok(None) };
    check_chunk_crc(input, &chunk)?;
    let mut head = [0u8; 81];
    let got = input.read_at(chunk.data.start, &mut head[..chunk.data.len().min(81)])?;
    let data = &head[..got];
    // Profile name (1..=79 bytes), NUL, compression method 0, zlib stream.
    let name_end = data.iter().take(80).position(|&b| b == 0);
    match name_end {
        Some(n) if n >= 1 && data.get(n + 1) == Some(&0) => Ok(Some(chunk.data.start + n + 2..chunk.data.end)),
        _ => Err(Error::format("PNG", "iCCP chunk without a valid name and compression method")),
    }
}

/// Inflates `zlib` through a 32 KiB ring, counting the output; stops (with [`Error::Limits`])
/// once the count passes the cap, so a bomb costs at most the cap's worth of inflating.
/// Inflates the zlib stream at `zlib` of `input`, read by position in pieces of 4 KiB (on the
/// stack), into `out` when given (it must be the stream's exact length), else through a 32 KiB
/// window only to count; returns the inflated length. Counting stops past the cap.
fn inflate_at(input: &Input, zlib: Range<usize>, mut out: Option<&mut [u8]>) -> Result<usize> {
    let mut state = Box::<DecompressorOxide>::default();
    let mut ring = if out.is_none() { vec![0u8; WINDOW] } else { Vec::new() };
    let mut piece = [0u8; 4096];
    let (mut pos, mut out_pos, mut total) = (zlib.start, 0usize, 0usize);
    let (mut have, mut used_of_piece) = (0usize, 0usize);
    loop {
        if used_of_piece == have && pos < zlib.end {
            have = input.read_at(pos, &mut piece[..(zlib.end - pos).min(4096)])?;
            used_of_piece = 0;
        }
        let data = &piece[used_of_piece..have];
        let more = pos + data.len() < zlib.end;
        let flags = TINFL_FLAG_PARSE_ZLIB_HEADER | if more { TINFL_FLAG_HAS_MORE_INPUT } else { 0 };
        let (status, used, written) = match out.as_deref_mut() {
            Some(out) => decompress(&mut state, data, out, out_pos, flags | TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF),
            None => decompress(&mut state, data, &mut ring, out_pos, flags),
        };
        used_of_piece += used;
        pos += used;
        out_pos += written;
        if out.is_none() {
            out_pos %= WINDOW;
        }
        total += written;
        check_icc_len(total)?;
        match status {
            TINFLStatus::Done => return Ok(total),
            TINFLStatus::HasMoreOutput if out.is_none() => {}
            TINFLStatus::NeedsMoreInput if more => {}
            _ => return Err(Error::format("PNG", format!("iCCP chunk: bad zlib stream ({status:?})"))),
        }
    }
}

/// [`inflate_at`] counting a zlib stream held in memory.
#[cfg(test)]
fn inflate_count(zlib: &[u8]) -> Result<usize> {
    inflate_at(&Input::from_bytes(zlib.to_vec()), 0..zlib.len(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_matches_inflating_and_the_cap_is_enforced() {
        let profile: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let zlib = miniz_oxide::deflate::compress_to_vec_zlib(&profile, 6);
        assert_eq!(inflate_count(&zlib).unwrap(), profile.len());
        let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&vec![0u8; MAX_ICC_PROFILE_BYTES + 1], 10);
        assert!(matches!(inflate_count(&bomb), Err(Error::Limits(_))));
        assert!(matches!(inflate_count(&zlib[..zlib.len() / 2]), Err(Error::Format { .. })));
        assert!(check_icc_len(MAX_ICC_PROFILE_BYTES).is_ok());
    }
}
