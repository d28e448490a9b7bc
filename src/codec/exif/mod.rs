//! EXIF without decoding pixels: the orientation tag (0x0112), a summary for `stripflow info`,
//! the orientation reset of a kept EXIF block, and its EXIF sub-IFD re-serialised for a TIFF.
//!
//! EXIF is a TIFF structure: a byte-order mark (`II` little-endian or `MM` big-endian), the magic
//! 42, the offset of the first image file directory (IFD0), then IFD entries of 12 bytes each
//! (tag, type, count, value). Orientation is a SHORT in IFD0. Offsets are untrusted: every read is
//! bounds-checked, each IFD is visited at most once (no offset loop), entry counts are bounded by
//! the bytes left, so a hostile payload yields `None` or nothing, never a panic, a hang or an
//! allocation beyond the output asked for.

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
        Some(if little {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b = tiff.get(at..at.checked_add(4)?)?;
        let b = [b[0], b[1], b[2], b[3]];
        Some(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
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

/// Tags read or rewritten.
pub mod tag {
    /// Orientation (SHORT, IFD0).
    pub const ORIENTATION: u16 = 0x0112;
    /// Camera maker (ASCII, IFD0).
    pub const MAKE: u16 = 0x010F;
    /// Camera model (ASCII, IFD0).
    pub const MODEL: u16 = 0x0110;
    /// Horizontal resolution (RATIONAL, IFD0).
    pub const X_RESOLUTION: u16 = 0x011A;
    /// Vertical resolution (RATIONAL, IFD0).
    pub const Y_RESOLUTION: u16 = 0x011B;
    /// Resolution unit (SHORT, IFD0): 2 inches, 3 centimetres.
    pub const RESOLUTION_UNIT: u16 = 0x0128;
    /// The EXIF sub-IFD's offset (LONG, IFD0).
    pub const EXIF_IFD: u16 = 0x8769;
    /// The GPS sub-IFD's offset (LONG, IFD0).
    pub const GPS_IFD: u16 = 0x8825;
    /// When the photo was taken (ASCII, EXIF sub-IFD).
    pub const DATE_TIME_ORIGINAL: u16 = 0x9003;
    /// The maker's private block, whose own offsets a re-serialisation would break.
    pub const MAKER_NOTE: u16 = 0x927C;
    /// The interoperability sub-IFD's offset (EXIF sub-IFD).
    pub const INTEROPERABILITY_IFD: u16 = 0xA005;
}

/// A bounds-checked view of a TIFF-structured payload.
#[derive(Debug, Clone, Copy)]
struct Tiff<'a> {
    bytes: &'a [u8],
    little: bool,
}

/// One 12-byte IFD entry, located.
#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    /// Offset of the entry's 4-byte value field.
    field: usize,
}

/// Bytes of one value of a TIFF field type (`None`: unknown type).
fn type_size(kind: u16) -> Option<usize> {
    match kind {
        1 | 2 | 6 | 7 => Some(1),
        3 | 8 => Some(2),
        4 | 9 | 11 | 13 => Some(4),
        5 | 10 | 12 => Some(8),
        _ => None,
    }
}

/// The unit the bytes of a value of type `kind` are swapped in (a RATIONAL is two LONGs).
fn swap_unit(kind: u16) -> usize {
    match kind {
        5 | 10 => 4,
        k => type_size(k).unwrap_or(1),
    }
}

impl<'a> Tiff<'a> {
    fn new(bytes: &'a [u8]) -> Option<Tiff<'a>> {
        let little = match bytes.get(0..2)? {
            b"II" => true,
            b"MM" => false,
            _ => return None,
        };
        let t = Tiff { bytes, little };
        (t.u16_at(2)? == 42).then_some(t)
    }

    fn u16_at(&self, at: usize) -> Option<u16> {
        let b = self.bytes.get(at..at.checked_add(2)?)?;
        Some(if self.little {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let b = self.bytes.get(at..at.checked_add(4)?)?;
        let b = [b[0], b[1], b[2], b[3]];
        Some(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn ifd0(&self) -> Option<usize> {
        Some(self.u32_at(4)? as usize)
    }

    /// The entries of the IFD at `at` that lie inside the payload (a count past the end is cut
    /// to what fits, so the walk is bounded by the payload's length).
    fn entries(&self, at: usize) -> impl Iterator<Item = Entry> + '_ {
        let count = self.u16_at(at).map_or(0, |n| n as usize);
        let fits = self.bytes.len().saturating_sub(at.saturating_add(2)) / 12;
        (0..count.min(fits)).filter_map(move |i| {
            let e = at + 2 + 12 * i;
            Some(Entry {
                tag: self.u16_at(e)?,
                kind: self.u16_at(e + 2)?,
                count: self.u32_at(e + 4)?,
                field: e + 8,
            })
        })
    }

    fn find(&self, ifd: usize, tag: u16) -> Option<Entry> {
        self.entries(ifd).find(|e| e.tag == tag)
    }

    /// The bytes of an entry's values (in the field when they fit in 4 bytes, else at the
    /// offset the field holds), if they lie inside the payload.
    fn value_bytes(&self, e: &Entry) -> Option<&'a [u8]> {
        let len = type_size(e.kind)?.checked_mul(e.count as usize)?;
        let start = if len <= 4 {
            e.field
        } else {
            self.u32_at(e.field)? as usize
        };
        self.bytes.get(start..start.checked_add(len)?)
    }

    /// An ASCII value, up to its first NUL, printable characters only, at most 128 of them.
    fn ascii(&self, e: &Entry) -> Option<String> {
        if e.kind != 2 {
            return None;
        }
        let bytes = self.value_bytes(e)?;
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        let text: String = bytes[..end]
            .iter()
            .take(128)
            .map(|&b| {
                if (0x20..0x7F).contains(&b) {
                    b as char
                } else {
                    '?'
                }
            })
            .collect();
        let text = text.trim().to_string();
        (!text.is_empty()).then_some(text)
    }

    /// A RATIONAL value as numerator and denominator.
    fn rational(&self, e: &Entry) -> Option<(u32, u32)> {
        if e.kind != 5 || e.count < 1 {
            return None;
        }
        let at = self.u32_at(e.field)? as usize;
        Some((self.u32_at(at)?, self.u32_at(at.checked_add(4)?)?))
    }

    /// A SHORT value.
    fn short(&self, e: &Entry) -> Option<u16> {
        (e.kind == 3 && e.count >= 1)
            .then(|| self.u16_at(e.field))
            .flatten()
    }

    /// The offset a pointer entry (a sub-IFD) holds.
    fn pointer(&self, ifd: usize, tag: u16) -> Option<usize> {
        let e = self.find(ifd, tag)?;
        matches!(e.kind, 4 | 13)
            .then(|| self.u32_at(e.field).map(|o| o as usize))
            .flatten()
    }
}

/// What `stripflow info` prints of an EXIF block: never the GPS position itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExifSummary {
    /// Camera maker (IFD0 `Make`).
    pub make: Option<String>,
    /// Camera model (IFD0 `Model`).
    pub model: Option<String>,
    /// When the photo was taken (`DateTimeOriginal`, "YYYY:MM:DD HH:MM:SS").
    pub date_time_original: Option<String>,
    /// Whether a GPS sub-IFD with at least one entry is present.
    pub gps: bool,
    /// Horizontal and vertical resolution (numerator, denominator) and the unit (2 inch, 3 cm).
    pub resolution: Option<Resolution>,
}

/// An EXIF resolution: XResolution and YResolution as (numerator, denominator), and the
/// ResolutionUnit (2 inch, 3 centimetre, 1 none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolution {
    /// Horizontal pixels per unit.
    pub x: (u32, u32),
    /// Vertical pixels per unit.
    pub y: (u32, u32),
    /// The unit.
    pub unit: u16,
}

/// The summary of a TIFF-structured EXIF payload; `None` if it is not one.
pub fn summary(tiff: &[u8]) -> Option<ExifSummary> {
    let t = Tiff::new(tiff)?;
    let ifd0 = t.ifd0()?;
    let text = |ifd: usize, tag: u16| t.find(ifd, tag).and_then(|e| t.ascii(&e));
    let date_time_original = t
        .pointer(ifd0, tag::EXIF_IFD)
        .and_then(|exif| text(exif, tag::DATE_TIME_ORIGINAL));
    let gps = t
        .pointer(ifd0, tag::GPS_IFD)
        .is_some_and(|g| t.u16_at(g).is_some_and(|n| n > 0));
    let rational = |tag: u16| {
        t.find(ifd0, tag)
            .and_then(|e| t.rational(&e))
            .filter(|r| r.1 != 0)
    };
    let unit = t
        .find(ifd0, tag::RESOLUTION_UNIT)
        .and_then(|e| t.short(&e))
        .unwrap_or(2);
    let resolution = match (rational(tag::X_RESOLUTION), rational(tag::Y_RESOLUTION)) {
        (Some(x), Some(y)) => Some(Resolution { x, y, unit }),
        _ => None,
    };
    Some(ExifSummary {
        make: text(ifd0, tag::MAKE),
        model: text(ifd0, tag::MODEL),
        date_time_original,
        gps,
        resolution,
    })
}

/// Rewrites the orientation tag of IFD0 to 1 (upright) in place, in the payload's byte order,
/// leaving every other byte as it was; returns whether the payload had the tag.
pub fn reset_orientation(tiff: &mut [u8]) -> bool {
    let Some(t) = Tiff::new(tiff) else {
        return false;
    };
    let Some(ifd0) = t.ifd0() else { return false };
    let Some(e) = t
        .find(ifd0, tag::ORIENTATION)
        .filter(|e| e.kind == 3 && e.count >= 1)
    else {
        return false;
    };
    let one = if t.little {
        1u16.to_le_bytes()
    } else {
        1u16.to_be_bytes()
    };
    tiff[e.field..e.field + 2].copy_from_slice(&one);
    true
}

/// Upper bound of [`exif_ifd_for_tiff`]'s output for a payload of `len` bytes.
pub fn exif_ifd_for_tiff_bound(len: usize) -> usize {
    // 20-byte BigTIFF entries (and a padding byte each) from 12-byte ones, values at most the
    // payload, 16 bytes of count and next offset.
    len / 12 * 21 + len + 16
}

/// The EXIF sub-IFD of `tiff` (the payload's `ExifIFD`, tag 34665), re-serialised little-endian
/// as a TIFF file's sub-IFD to be written at file offset `at` (classic TIFF, or BigTIFF when
/// `big`), its values out of line right after it. Left out: the interoperability pointer and
/// the MakerNote (their private offsets would point nowhere), entries of unknown types or whose
/// values lie outside the payload, and values once they would pass the payload's length (a
/// hostile block of entries sharing one value cannot inflate). `None` without an EXIF sub-IFD.
/// At most [`exif_ifd_for_tiff_bound`] bytes.
pub fn exif_ifd_for_tiff(tiff: &[u8], at: u64, big: bool) -> Option<Vec<u8>> {
    let t = Tiff::new(tiff)?;
    let exif = t.pointer(t.ifd0()?, tag::EXIF_IFD)?;
    let inline = if big { 8 } else { 4 };
    let mut budget = tiff.len();
    let kept =
        |e: &Entry| !matches!(e.tag, tag::MAKER_NOTE | tag::INTEROPERABILITY_IFD) && e.kind != 13;
    // First pass: which entries are kept and how long their out-of-line values are.
    let mut count = 0usize;
    let mut values_len = 0usize;
    for e in t.entries(exif).filter(kept) {
        let Some(v) = t.value_bytes(&e) else { continue };
        if v.len() > inline {
            if v.len() > budget {
                continue;
            }
            budget -= v.len();
            values_len += v.len().next_multiple_of(2);
        }
        count += 1;
    }
    let fixed = if big {
        8 + 20 * count + 8
    } else {
        2 + 12 * count + 4
    };
    // The directory first (patched entry by entry), then the values appended after it.
    let mut out = Vec::with_capacity(fixed + values_len);
    out.resize(fixed, 0);
    if big {
        out[..8].copy_from_slice(&(count as u64).to_le_bytes());
    } else {
        out[..2].copy_from_slice(&(count as u16).to_le_bytes());
    }
    let little = |v: &[u8], kind: u16, into: &mut Vec<u8>| {
        let unit = swap_unit(kind);
        for chunk in v.chunks_exact(unit) {
            if t.little {
                into.extend_from_slice(chunk);
            } else {
                into.extend(chunk.iter().rev());
            }
        }
    };
    let mut entry_at = if big { 8 } else { 2 };
    let mut budget = tiff.len();
    let mut field = Vec::with_capacity(8);
    for e in t.entries(exif).filter(kept) {
        let Some(v) = t.value_bytes(&e) else { continue };
        if v.len() > inline {
            if v.len() > budget {
                continue;
            }
            budget -= v.len();
        }
        field.clear();
        field.extend(e.tag.to_le_bytes());
        field.extend(e.kind.to_le_bytes());
        if big {
            field.extend((e.count as u64).to_le_bytes());
        } else {
            field.extend(e.count.to_le_bytes());
        }
        out[entry_at..entry_at + field.len()].copy_from_slice(&field);
        entry_at += field.len();
        field.clear();
        if v.len() > inline {
            let offset = at + out.len() as u64;
            if big {
                field.extend(offset.to_le_bytes());
            } else {
                field.extend((offset as u32).to_le_bytes());
            }
            little(v, e.kind, &mut out);
            if v.len() % 2 == 1 {
                out.push(0);
            }
        } else {
            little(v, e.kind, &mut field);
            field.resize(inline, 0);
        }
        out[entry_at..entry_at + inline].copy_from_slice(&field);
        entry_at += inline;
    }
    Some(out)
}

#[cfg(test)]
mod tests;
