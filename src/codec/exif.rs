//! The one EXIF fact stripflow needs without decoding pixels: the orientation tag (0x0112).
//!
//! EXIF is a TIFF structure: a byte-order mark (`II` little-endian or `MM` big-endian), the magic
//! 42, the offset of the first image file directory (IFD0), then IFD entries of 12 bytes each
//! (tag, type, count, value). Orientation is a SHORT in IFD0. Offsets are untrusted: every read is
//! bounds-checked, so a hostile payload yields `None`, never a panic.

/// The EXIF orientation (1..=8) in a TIFF-structured payload, if present and valid.
///
/// `tiff` starts at the byte-order mark (for JPEG, after the `Exif\0\0` header of APP1; for PNG,
/// the whole `eXIf` chunk).
pub fn orientation(tiff: &[u8]) -> Option<u8> {
    let little = match tiff.get(0..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b = tiff.get(at..at.checked_add(2)?)?;
        Some(if little { u16::from_le_bytes([b[0], b[1]]) } else { u16::from_be_bytes([b[0], b[1]]) })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b = tiff.get(at..at.checked_add(4)?)?;
        let b = [b[0], b[1], b[2], b[3]];
        Some(if little { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    };
    if u16_at(2)? != 42 {
        return None;
    }
    let ifd = u32_at(4)? as usize;
    let entries = u16_at(ifd)? as usize;
    for i in 0..entries {
        let entry = ifd.checked_add(2)?.checked_add(i.checked_mul(12)?)?;
        if u16_at(entry)? == 0x0112 {
            // Type 3 = SHORT, count 1: the value sits in the first two bytes of the value field.
            if u16_at(entry + 2)? != 3 {
                return None;
            }
            let value = u16_at(entry + 8)?;
            return (1..=8).contains(&value).then_some(value as u8);
        }
    }
    None
}

/// The TIFF payload of a JPEG APP1 segment body, if it is an EXIF segment.
pub fn tiff_from_app1(app1: &[u8]) -> Option<&[u8]> {
    app1.strip_prefix(b"Exif\0\0")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiff(little: bool, value: u16, kind: u16) -> Vec<u8> {
        let mut t = Vec::new();
        let put16 = |t: &mut Vec<u8>, v: u16| t.extend(if little { v.to_le_bytes() } else { v.to_be_bytes() });
        let put32 = |t: &mut Vec<u8>, v: u32| t.extend(if little { v.to_le_bytes() } else { v.to_be_bytes() });
        t.extend(if little { b"II" } else { b"MM" });
        put16(&mut t, 42);
        put32(&mut t, 8);
        put16(&mut t, 1);
        put16(&mut t, 0x0112);
        put16(&mut t, kind);
        put32(&mut t, 1);
        put16(&mut t, value);
        put16(&mut t, 0);
        put32(&mut t, 0);
        t
    }

    #[test]
    fn reads_both_byte_orders() {
        for v in 1..=8 {
            assert_eq!(orientation(&tiff(true, v, 3)), Some(v as u8));
            assert_eq!(orientation(&tiff(false, v, 3)), Some(v as u8));
        }
    }

    #[test]
    fn rejects_bad_values_and_truncation() {
        assert_eq!(orientation(&tiff(true, 9, 3)), None);
        assert_eq!(orientation(&tiff(true, 6, 4)), None);
        // The orientation value ends at byte 20 (8 header + 2 count + 8 into the entry + 2).
        let t = tiff(false, 6, 3);
        for cut in 0..20 {
            assert_eq!(orientation(&t[..cut]), None, "cut at {cut}");
        }
        let mut hostile = t.clone();
        hostile[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(orientation(&hostile), None);
    }
}
