//! ICC profiles: located by the header walk, assembled only when asked for, and bounded.
//!
//! Neither reading a file's metadata nor decoding it assembles or inflates its ICC profile: a
//! JPEG's `APP2` chunks are only noted (where and how long, with no allocation), a PNG's `iCCP`
//! chunk is skipped. Colour management asks for the profile with [`read_icc_profile`]; before it
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
    TINFL_FLAG_PARSE_ZLIB_HEADER, TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
};
use miniz_oxide::inflate::core::{decompress, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

use super::png::chunks::{check_crc, chunk_at, SIGNATURE};
use super::Format;
use crate::error::{Error, Result};

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

/// Bytes the ICC profile of the PNG or JPEG in `bytes` takes once assembled; `None` if the file
/// has none (or, for JPEG, its chunks are not a complete set).
///
/// JPEG: from the chunk lengths found by the header walk. PNG: the `iCCP` chunk is inflated
/// through a 32 KiB window and counted, stopping past the cap. A profile over
/// [`MAX_ICC_PROFILE_BYTES`] is [`Error::Limits`]; a damaged `iCCP` chunk is [`Error::Format`].
pub fn icc_profile_len(bytes: &[u8]) -> Result<Option<usize>> {
    let len = match Format::sniff(bytes) {
        Some(Format::Jpeg) => super::jpeg::read_metadata(bytes)?.icc_profile_len,
        Some(Format::Png) => match png_iccp(bytes)? {
            Some(zlib) => Some(inflate_count(zlib)?),
            None => None,
        },
        None => return Err(Error::format("image", "not a PNG or JPEG file (unknown signature)")),
    };
    if let Some(len) = len {
        check_icc_len(len)?;
    }
    Ok(len)
}

/// Peak heap of [`read_icc_profile`] on `bytes`: 0 without a profile, else the profile plus the
/// PNG inflater's state and window. Errors as [`icc_profile_len`].
pub fn icc_profile_heap_bytes(bytes: &[u8]) -> Result<usize> {
    let Some(len) = icc_profile_len(bytes)? else { return Ok(0) };
    Ok(match Format::sniff(bytes) {
        Some(Format::Png) => (len + INFLATER_BYTES).max(WINDOW + INFLATER_BYTES),
        _ => len,
    })
}

/// Heap of a boxed `DecompressorOxide` (miniz_oxide 0.8: about 11 KB), rounded up.
const INFLATER_BYTES: usize = 12 * 1024;

/// Reads the ICC profile of the PNG or JPEG in `bytes`: the JPEG's `APP2` chunks assembled in
/// order, or the PNG's `iCCP` chunk inflated. `None` if there is none.
///
/// Bounded: a profile over [`MAX_ICC_PROFILE_BYTES`] is refused with [`Error::Limits`] before
/// it is allocated (for PNG, after counting it through a 32 KiB window).
pub fn read_icc_profile(bytes: &[u8]) -> Result<Option<Vec<u8>>> {
    match Format::sniff(bytes) {
        Some(Format::Jpeg) => super::jpeg::read_icc_profile(bytes),
        Some(Format::Png) => {
            let Some(zlib) = png_iccp(bytes)? else { return Ok(None) };
            let len = inflate_count(zlib)?;
            check_icc_len(len)?;
            let mut profile = vec![0u8; len];
            let mut state = Box::<DecompressorOxide>::default();
            let flags = TINFL_FLAG_PARSE_ZLIB_HEADER | TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
            let (status, _, written) = decompress(&mut state, zlib, &mut profile, 0, flags);
            if status != TINFLStatus::Done || written != len {
                return Err(Error::format("PNG", "iCCP chunk inflates differently the second time"));
            }
            Ok(Some(profile))
        }
        None => Err(Error::format("image", "not a PNG or JPEG file (unknown signature)")),
    }
}

/// The zlib stream of a PNG's `iCCP` chunk (before the first `IDAT`), CRC checked; `None` if the
/// file has none.
fn png_iccp(bytes: &[u8]) -> Result<Option<&[u8]>> {
    if !bytes.starts_with(&SIGNATURE) {
        return Err(Error::format("PNG", "not a PNG signature"));
    }
    let mut pos = SIGNATURE.len();
    loop {
        let chunk = chunk_at(bytes, pos)?;
        match &chunk.kind {
            b"IDAT" | b"IEND" => return Ok(None),
            b"iCCP" => {
                check_crc(bytes, &chunk)?;
                let data = &bytes[chunk.data.clone()];
                // Profile name (1..=79 bytes), NUL, compression method 0, zlib stream.
                let name_end = data.iter().take(80).position(|&b| b == 0);
                return match name_end {
                    Some(n) if n >= 1 && data.get(n + 1) == Some(&0) => Ok(Some(&data[n + 2..])),
                    _ => Err(Error::format("PNG", "iCCP chunk without a valid name and compression method")),
                };
            }
            _ => pos = chunk.end(),
        }
    }
}

/// Inflates `zlib` through a 32 KiB ring, counting the output; stops (with [`Error::Limits`])
/// once the count passes the cap, so a bomb costs at most the cap's worth of inflating.
fn inflate_count(zlib: &[u8]) -> Result<usize> {
    let mut state = Box::<DecompressorOxide>::default();
    let mut ring = vec![0u8; WINDOW];
    let (mut input, mut ring_pos, mut total) = (zlib, 0usize, 0usize);
    loop {
        let (status, used, written) = decompress(&mut state, input, &mut ring, ring_pos, TINFL_FLAG_PARSE_ZLIB_HEADER);
        input = &input[used..];
        ring_pos = (ring_pos + written) % WINDOW;
        total += written;
        check_icc_len(total)?;
        match status {
            TINFLStatus::Done => return Ok(total),
            TINFLStatus::HasMoreOutput => {}
            _ => return Err(Error::format("PNG", format!("iCCP chunk: bad zlib stream ({status:?})"))),
        }
    }
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
