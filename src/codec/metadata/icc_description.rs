//! The description of an ICC profile (its `desc` tag), read by a bounded parser: the tag table
//! is walked entry by entry within the profile's bytes, and the text is cut at 256 characters.
//!
//! ICC v2 stores it as `textDescriptionType` (`desc`: a 7-bit ASCII count and string, then
//! Unicode and ScriptCode variants, ignored here); ICC v4 as `multiLocalizedUnicodeType`
//! (`mluc`: records of language, country, length and offset of UTF-16BE text; the first record,
//! or the first English one, is taken).

/// Characters kept of a description.
const MAX_CHARS: usize = 256;

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

/// The profile's description, printable characters only; `None` if it has no readable one.
pub fn icc_description(profile: &[u8]) -> Option<String> {
    // Header (128 bytes), then the tag count and 12-byte entries: signature, offset, size.
    let count = be32(profile, 128)? as usize;
    let fits = profile.len().saturating_sub(132) / 12;
    let entry = (0..count.min(fits))
        .map(|i| 132 + 12 * i)
        .find(|&e| profile.get(e..e + 4) == Some(b"desc"))?;
    let (offset, size) = (
        be32(profile, entry + 4)? as usize,
        be32(profile, entry + 8)? as usize,
    );
    let tag = profile.get(offset..offset.checked_add(size)?)?;
    let text = match tag.get(0..4)? {
        b"desc" => {
            let n = be32(tag, 8)? as usize;
            let ascii = tag.get(12..12usize.checked_add(n)?)?;
            let end = ascii.iter().position(|&b| b == 0).unwrap_or(ascii.len());
            ascii[..end].iter().map(|&b| b as char).collect::<String>()
        }
        b"mluc" => {
            let records = be32(tag, 8)? as usize;
            let record_size = be32(tag, 12)? as usize;
            if record_size < 12 {
                return None;
            }
            let fits = tag.len().saturating_sub(16) / record_size;
            let record = |i: usize| 16 + i * record_size;
            let chosen = (0..records.min(fits))
                .find(|&i| tag.get(record(i)..record(i) + 2) == Some(b"en"))
                .unwrap_or(0);
            if records == 0 || fits == 0 {
                return None;
            }
            let r = record(chosen);
            let (len, off) = (be32(tag, r + 4)? as usize, be32(tag, r + 8)? as usize);
            let units = tag.get(off..off.checked_add(len)?)?;
            let utf16 = (0..units.len() / 2)
                .take(MAX_CHARS)
                .filter_map(|i| be16(units, 2 * i));
            char::decode_utf16(utf16)
                .map(|c| c.unwrap_or('?'))
                .take_while(|&c| c != '\0')
                .collect()
        }
        _ => return None,
    };
    let text: String = text
        .chars()
        .take(MAX_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A profile holding only a tag table with one `desc` tag of `tag` bytes.
    fn profile_with(tag: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; 128];
        p.extend(1u32.to_be_bytes());
        p.extend(b"desc");
        p.extend(144u32.to_be_bytes());
        p.extend((tag.len() as u32).to_be_bytes());
        p.extend_from_slice(tag);
        p
    }

    #[test]
    fn reads_v2_text_description_and_v4_mluc() {
        let mut v2 = b"desc\0\0\0\0".to_vec();
        v2.extend(10u32.to_be_bytes());
        v2.extend(b"Display P3");
        assert_eq!(
            icc_description(&profile_with(&v2)).as_deref(),
            Some("Display P3")
        );

        let text: Vec<u8> = "Adobe RGB (1998)"
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        let mut v4 = b"mluc\0\0\0\0".to_vec();
        v4.extend(1u32.to_be_bytes());
        v4.extend(12u32.to_be_bytes());
        v4.extend(b"enUS");
        v4.extend((text.len() as u32).to_be_bytes());
        v4.extend(28u32.to_be_bytes());
        v4.extend(&text);
        assert_eq!(
            icc_description(&profile_with(&v4)).as_deref(),
            Some("Adobe RGB (1998)")
        );
    }

    #[test]
    fn hostile_tables_give_none() {
        let mut v2 = b"desc\0\0\0\0".to_vec();
        v2.extend(u32::MAX.to_be_bytes());
        assert_eq!(icc_description(&profile_with(&v2)), None);
        let mut huge_count = vec![0u8; 128];
        huge_count.extend(u32::MAX.to_be_bytes());
        assert_eq!(icc_description(&huge_count), None);
        let mut mluc = b"mluc\0\0\0\0".to_vec();
        mluc.extend(u32::MAX.to_be_bytes());
        mluc.extend(0u32.to_be_bytes());
        assert_eq!(icc_description(&profile_with(&mluc)), None);
        for cut in 0..140 {
            let _ = icc_description(&profile_with(b"desc")[..cut.min(148)]);
        }
    }
}
