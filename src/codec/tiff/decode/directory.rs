//! The TIFF file structure as read: the header (classic or BigTIFF, either byte order), one image
//! file directory (IFD) parsed into its fields, and the walk along the chain of top-level IFDs.
//!
//! Everything is read by positioned reads into small stack buffers; a field's values stay in the
//! file (only where they are, [`Field`], is kept) and are read one at a time or in blocks when
//! needed. Hard limits make a hostile file a typed [`Error::Format`], never a long walk or a large
//! allocation: at most [`MAX_ENTRIES`] entries in an IFD, every value inside the file, at most
//! [`MAX_PAGES`] directories in the chain, and a loop in the chain detected (Brent's algorithm, in
//! constant memory).

use crate::error::{Error, Result};
use crate::io::Input;

/// The most entries an IFD may have (real files have 10 to 60).
pub(crate) const MAX_ENTRIES: u64 = 4096;

/// The most directories a chain may have.
pub(crate) const MAX_PAGES: u32 = 65_536;

/// Tags read by the decoder.
pub(crate) mod tag {
    pub const NEW_SUBFILE_TYPE: u16 = 254;
    pub const IMAGE_WIDTH: u16 = 256;
    pub const IMAGE_LENGTH: u16 = 257;
    pub const BITS_PER_SAMPLE: u16 = 258;
    pub const COMPRESSION: u16 = 259;
    pub const PHOTOMETRIC: u16 = 262;
    pub const FILL_ORDER: u16 = 266;
    pub const STRIP_OFFSETS: u16 = 273;
    pub const ORIENTATION: u16 = 274;
    pub const SAMPLES_PER_PIXEL: u16 = 277;
    pub const ROWS_PER_STRIP: u16 = 278;
    pub const STRIP_BYTE_COUNTS: u16 = 279;
    pub const PLANAR_CONFIGURATION: u16 = 284;
    pub const PREDICTOR: u16 = 317;
    pub const COLOR_MAP: u16 = 320;
    pub const TILE_WIDTH: u16 = 322;
    pub const TILE_LENGTH: u16 = 323;
    pub const TILE_OFFSETS: u16 = 324;
    pub const TILE_BYTE_COUNTS: u16 = 325;
    pub const INK_SET: u16 = 332;
    pub const EXTRA_SAMPLES: u16 = 338;
    pub const SAMPLE_FORMAT: u16 = 339;
    pub const XMP: u16 = 700;
    pub const ICC_PROFILE: u16 = 34675;
}

/// Byte order and offset size of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileHeader {
    /// `MM`: big-endian values.
    pub big_endian: bool,
    /// BigTIFF: 64-bit offsets and counts, 20-byte entries.
    pub big_tiff: bool,
    /// Offset of the first IFD.
    pub first_ifd: u64,
}

impl FileHeader {
    /// Reads the header of `input`.
    pub(crate) fn read(input: &Input) -> Result<FileHeader> {
        let mut h = [0u8; 16];
        let got = input.read_at(0, &mut h)?;
        let big_endian = match &h[..2] {
            b"II" => false,
            b"MM" => true,
            _ => return Err(Error::format("TIFF", "no byte-order mark (II or MM)")),
        };
        if got < 8 {
            return Err(Error::format("TIFF", "file truncated in its header"));
        }
        let partial = FileHeader { big_endian, big_tiff: false, first_ifd: 0 };
        match partial.u16(&h[2..4]) {
            42 => Ok(FileHeader { first_ifd: partial.u32(&h[4..8]) as u64, ..partial }),
            43 => {
                if got < 16 {
                    return Err(Error::format("TIFF", "file truncated in its BigTIFF header"));
                }
                if partial.u16(&h[4..6]) != 8 || partial.u16(&h[6..8]) != 0 {
                    return Err(Error::format("TIFF", "BigTIFF header with an offset size other than 8"));
                }
                Ok(FileHeader { big_tiff: true, first_ifd: partial.u64(&h[8..16]), ..partial })
            }
            other => Err(Error::format("TIFF", format!("magic number {other} is neither 42 nor 43 (BigTIFF)"))),
        }
    }

    pub(crate) fn u16(&self, b: &[u8]) -> u16 {
        let b = [b[0], b[1]];
        if self.big_endian { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) }
    }

    pub(crate) fn u32(&self, b: &[u8]) -> u32 {
        let b = [b[0], b[1], b[2], b[3]];
        if self.big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) }
    }

    pub(crate) fn u64(&self, b: &[u8]) -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        if self.big_endian { u64::from_be_bytes(a) } else { u64::from_le_bytes(a) }
    }

    /// Bytes of an IFD's entry count, of one entry, of the next-IFD offset.
    fn sizes(&self) -> (usize, usize, usize) {
        if self.big_tiff { (8, 20, 8) } else { (2, 12, 4) }
    }

    /// Reads the entry count of the IFD at `offset` and where its next-IFD offset is.
    fn ifd_extent(&self, input: &Input, offset: u64) -> Result<(u64, u64)> {
        let (count_len, entry_len, next_len) = self.sizes();
        if offset < 8 {
            return Err(Error::format("TIFF", format!("IFD offset {offset} points into the file header")));
        }
        let mut b = [0u8; 8];
        read_exact(input, offset, &mut b[..count_len], "IFD entry count")?;
        let count = if self.big_tiff { self.u64(&b) } else { self.u16(&b) as u64 };
        if count == 0 || count > MAX_ENTRIES {
            return Err(Error::format("TIFF", format!("IFD at {offset} has {count} entries (1..={MAX_ENTRIES} allowed)")));
        }
        let next_at = offset + count_len as u64 + count * entry_len as u64;
        if next_at + next_len as u64 > input.len() as u64 {
            return Err(Error::format("TIFF", format!("IFD at {offset} runs past the end of the file")));
        }
        Ok((count, next_at))
    }

    /// The offset of the IFD after the one at `offset` (0: none).
    pub(crate) fn next_ifd(&self, input: &Input, offset: u64) -> Result<u64> {
        let (_, next_at) = self.ifd_extent(input, offset)?;
        let mut b = [0u8; 8];
        let n = self.sizes().2;
        read_exact(input, next_at, &mut b[..n], "next IFD offset")?;
        Ok(if self.big_tiff { self.u64(&b) } else { self.u32(&b) as u64 })
    }
}

/// Reads exactly `buf.len()` bytes at `offset`, or a format error naming `what`.
pub(crate) fn read_exact(input: &Input, offset: u64, buf: &mut [u8], what: &str) -> Result<()> {
    let at = usize::try_from(offset).map_err(|_| Error::format("TIFF", format!("{what} offset {offset} is past the end of the file")))?;
    if input.read_at(at, buf)? != buf.len() {
        return Err(Error::format("TIFF", format!("{what} at {offset} runs past the end of the file (truncated)")));
    }
    Ok(())
}

/// Where one field's values are: inline in the entry or at an offset, checked inside the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field {
    /// The TIFF field type (1 BYTE, 3 SHORT, 4 LONG, 16 LONG8, ...).
    pub typ: u16,
    /// Number of values.
    pub count: u64,
    /// Offset of the first value in the file (inline values: inside the entry).
    pub offset: u64,
}

impl Field {
    /// Bytes of one value of type `typ`, 0 for an unknown type.
    fn type_size(typ: u16) -> u64 {
        match typ {
            1 | 2 | 6 | 7 => 1,
            3 | 8 => 2,
            4 | 9 | 11 | 13 => 4,
            5 | 10 | 12 | 16 | 17 | 18 => 8,
            _ => 0,
        }
    }

    /// Bytes of one value.
    pub(crate) fn value_size(&self) -> u64 {
        Self::type_size(self.typ)
    }

    /// Whether the values are unsigned integers (BYTE, SHORT, LONG, LONG8, IFD, IFD8).
    pub(crate) fn is_unsigned(&self) -> bool {
        matches!(self.typ, 1 | 3 | 4 | 13 | 16 | 18)
    }

    /// Total bytes of the values.
    pub(crate) fn byte_len(&self) -> u64 {
        self.count * self.value_size()
    }
}

/// One IFD: the fields the decoder reads, by tag, and the offset of the next IFD.
#[derive(Debug, Clone)]
pub(crate) struct Directory {
    /// The file's byte order and offset size.
    pub header: FileHeader,
    /// The fields of interest, sorted by tag.
    fields: Vec<(u16, Field)>,
}

/// Tags whose fields are kept (others are skipped unread).
const KEPT: [u16; 23] = [
    tag::NEW_SUBFILE_TYPE,
    tag::IMAGE_WIDTH,
    tag::IMAGE_LENGTH,
    tag::BITS_PER_SAMPLE,
    tag::COMPRESSION,
    tag::PHOTOMETRIC,
    tag::FILL_ORDER,
    tag::STRIP_OFFSETS,
    tag::ORIENTATION,
    tag::SAMPLES_PER_PIXEL,
    tag::ROWS_PER_STRIP,
    tag::STRIP_BYTE_COUNTS,
    tag::PLANAR_CONFIGURATION,
    tag::PREDICTOR,
    tag::COLOR_MAP,
    tag::TILE_WIDTH,
    tag::TILE_LENGTH,
    tag::TILE_OFFSETS,
    tag::TILE_BYTE_COUNTS,
    tag::INK_SET,
    tag::EXTRA_SAMPLES,
    tag::SAMPLE_FORMAT,
    tag::XMP,
];

impl Directory {
    /// Parses the IFD at `offset`.
    pub(crate) fn read(input: &Input, header: FileHeader, offset: u64) -> Result<Directory> {
        let (count, _) = header.ifd_extent(input, offset)?;
        let (count_len, entry_len, _) = header.sizes();
        let inline_len = if header.big_tiff { 8 } else { 4 };
        let mut fields = Vec::with_capacity(KEPT.len() + 1);
        let mut block = [0u8; 20 * 32];
        let mut done = 0u64;
        while done < count {
            let n = (count - done).min(32) as usize;
            let at = offset + count_len as u64 + done * entry_len as u64;
            read_exact(input, at, &mut block[..n * entry_len], "IFD entries")?;
            for (i, e) in block[..n * entry_len].chunks_exact(entry_len).enumerate() {
                let tag = header.u16(&e[0..2]);
                if !(KEPT.contains(&tag) || tag == tag::ICC_PROFILE) {
                    continue;
                }
                let typ = header.u16(&e[2..4]);
                let value_count = if header.big_tiff { header.u64(&e[4..12]) } else { header.u32(&e[4..8]) as u64 };
                let value_at = at + (i * entry_len) as u64 + if header.big_tiff { 12 } else { 8 };
                let size = Field::type_size(typ);
                if size == 0 {
                    continue; // an unknown type: the field is ignored, as TIFF readers must
                }
                let bytes = value_count.checked_mul(size).filter(|&b| b < 1 << 40).ok_or_else(|| {
                    Error::format("TIFF", format!("tag {tag} has an impossible count {value_count}"))
                })?;
                let value_offset = if bytes <= inline_len {
                    value_at
                } else {
                    let raw = &e[entry_len - inline_len as usize..];
                    if header.big_tiff { header.u64(raw) } else { header.u32(raw) as u64 }
                };
                if value_offset.checked_add(bytes).is_none_or(|end| end > input.len() as u64) {
                    return Err(Error::format("TIFF", format!("tag {tag}'s values run past the end of the file")));
                }
                if fields.iter().any(|&(t, _)| t == tag) {
                    continue; // a repeated tag: the first counts
                }
                fields.push((tag, Field { typ, count: value_count, offset: value_offset }));
            }
            done += n as u64;
        }
        fields.sort_by_key(|&(t, _)| t);
        Ok(Directory { header, fields })
    }

    /// The field of `tag`, if present.
    pub(crate) fn field(&self, tag: u16) -> Option<Field> {
        self.fields.iter().find(|&&(t, _)| t == tag).map(|&(_, f)| f)
    }

    /// Value `index` of `field` as an unsigned integer.
    pub(crate) fn value(&self, input: &Input, field: Field, index: u64) -> Result<u64> {
        if !field.is_unsigned() || index >= field.count {
            return Err(Error::format("TIFF", format!("a field of type {} read as integer {index} of {}", field.typ, field.count)));
        }
        let size = field.value_size() as usize;
        let mut b = [0u8; 8];
        read_exact(input, field.offset + index * size as u64, &mut b[..size], "tag value")?;
        Ok(self.decode(&b[..size], field.typ))
    }

    /// One unsigned value of type `typ` from its bytes.
    fn decode(&self, b: &[u8], typ: u16) -> u64 {
        match typ {
            1 => b[0] as u64,
            3 => self.header.u16(b) as u64,
            4 | 13 => self.header.u32(b) as u64,
            _ => self.header.u64(b),
        }
    }

    /// The first value of `tag`, or `default` when absent.
    pub(crate) fn get(&self, input: &Input, tag: u16, default: u64) -> Result<u64> {
        match self.field(tag) {
            Some(f) if f.count > 0 => self.value(input, f, 0),
            Some(_) => Err(Error::format("TIFF", format!("tag {tag} has no value"))),
            None => Ok(default),
        }
    }

    /// Reads values `start..start + out.len()` of `field` into `out`, in blocks through a stack
    /// buffer.
    pub(crate) fn values(&self, input: &Input, field: Field, start: u64, out: &mut [u64]) -> Result<()> {
        if !field.is_unsigned() || start + out.len() as u64 > field.count {
            return Err(Error::format("TIFF", "an offset or count table is shorter than the image needs"));
        }
        let size = field.value_size() as usize;
        let mut block = [0u8; 512];
        let per_block = 512 / size;
        for (n, chunk) in out.chunks_mut(per_block).enumerate() {
            let at = field.offset + (start + (n * per_block) as u64) * size as u64;
            let bytes = &mut block[..chunk.len() * size];
            read_exact(input, at, bytes, "offset table")?;
            for (v, b) in chunk.iter_mut().zip(bytes.chunks_exact(size)) {
                *v = self.decode(b, field.typ);
            }
        }
        Ok(())
    }

    /// Reads the raw bytes of `field` (at most `max` bytes; `None` when larger).
    pub(crate) fn bytes(&self, input: &Input, field: Field, max: usize) -> Result<Option<Vec<u8>>> {
        let len = field.byte_len();
        if len > max as u64 {
            return Ok(None);
        }
        let mut out = vec![0u8; len as usize];
        read_exact(input, field.offset, &mut out, "tag data")?;
        Ok(Some(out))
    }
}

/// Walks the chain of top-level IFDs from the first: the offset of directory `page` (when
/// `Some`), and how many directories there are (the whole chain is walked when `page` is `None`,
/// else up to `page`).
pub(crate) fn walk(input: &Input, header: FileHeader, page: Option<u32>) -> Result<(Option<u64>, u32)> {
    let mut current = header.first_ifd;
    let (mut tortoise, mut power, mut steps) = (current, 1u32, 0u32);
    let mut count = 0u32;
    while current != 0 {
        if page == Some(count) {
            return Ok((Some(current), count + 1));
        }
        count += 1;
        if count > MAX_PAGES {
            return Err(Error::format("TIFF", format!("more than {MAX_PAGES} directories in the IFD chain")));
        }
        let next = header.next_ifd(input, current)?;
        if next == tortoise || next == current {
            return Err(Error::format("TIFF", format!("the IFD chain loops back to offset {next}")));
        }
        steps += 1;
        if steps == power {
            tortoise = next;
            power = power.saturating_mul(2);
            steps = 0;
        }
        current = next;
    }
    if count == 0 {
        return Err(Error::format("TIFF", "the file has no image directory"));
    }
    Ok((None, count))
}
