//! The TIFF file structure: the header and the one image file directory (IFD), little-endian,
//! classic TIFF (32-bit offsets) or BigTIFF (64-bit offsets).
//!
//! The IFD's strip tables are never held as offset arrays: a strip's offset is the data start
//! plus the byte counts of the strips before it (strips are written back to back), so the
//! offsets are computed while they are written, from [`StripCounts`]: a formula for
//! uncompressed strips, the recorded `u32` byte counts (4 bytes a strip) for compressed ones.
//! The IFD goes out through a fixed 8 KiB buffer.

use std::io::Write;

use crate::error::{Error, Result};

/// TIFF field types used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldType {
    /// 8-bit unsigned (XMP).
    Byte = 1,
    /// Bytes of no stated type (an ICC profile).
    Undefined = 7,
    /// 16-bit unsigned.
    Short = 3,
    /// 32-bit unsigned.
    Long = 4,
    /// 64-bit unsigned (BigTIFF only).
    Long8 = 16,
}

impl FieldType {
    fn size(self) -> u64 {
        match self {
            FieldType::Byte | FieldType::Undefined => 1,
            FieldType::Short => 2,
            FieldType::Long => 4,
            FieldType::Long8 => 8,
        }
    }
}

/// The byte counts of the strips, in order.
#[derive(Debug, Clone, Copy)]
pub(super) enum StripCounts<'a> {
    /// Uncompressed: every strip `full` bytes but the last, `last` bytes.
    Uniform {
        /// Number of strips.
        strips: u64,
        /// Bytes of each strip but the last.
        full: u64,
        /// Bytes of the last strip.
        last: u64,
    },
    /// Compressed: each strip's recorded size.
    Recorded(&'a [u32]),
}

impl StripCounts<'_> {
    fn len(&self) -> u64 {
        match self {
            StripCounts::Uniform { strips, .. } => *strips,
            StripCounts::Recorded(c) => c.len() as u64,
        }
    }

    fn get(&self, i: u64) -> u64 {
        match self {
            StripCounts::Uniform { strips, full, last } => {
                if i + 1 == *strips {
                    *last
                } else {
                    *full
                }
            }
            StripCounts::Recorded(c) => c[i as usize] as u64,
        }
    }

    /// Total bytes of strip data.
    pub(super) fn total(&self) -> u64 {
        match self {
            StripCounts::Uniform { strips, full, last } => full * strips.saturating_sub(1) + last,
            StripCounts::Recorded(c) => c.iter().map(|&n| n as u64).sum(),
        }
    }
}

/// The values of one IFD entry.
#[derive(Debug, Clone, Copy)]
pub(super) enum Values<'a> {
    /// A few SHORTs (BitsPerSample, ExtraSamples, ...).
    Shorts(&'a [u16]),
    /// One LONG.
    Long(u32),
    /// The strips' offsets: data starting at `start`, strips back to back.
    StripOffsets {
        /// Where the first strip starts.
        start: u64,
        /// Their sizes.
        counts: StripCounts<'a>,
    },
    /// The strips' byte counts.
    StripByteCounts(StripCounts<'a>),
    /// A block of bytes (an ICC profile, an XMP packet) of type `kind` (1 or 7).
    Bytes {
        /// BYTE or UNDEFINED.
        kind: FieldType,
        /// The bytes.
        bytes: &'a [u8],
    },
    /// A file offset (a sub-IFD's), LONG in classic TIFF, LONG8 in BigTIFF.
    Offset(u64),
}

/// One IFD entry.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry<'a> {
    /// The tag number.
    pub tag: u16,
    /// The values.
    pub values: Values<'a>,
}

/// Tags written.
pub(super) mod tag {
    pub const IMAGE_WIDTH: u16 = 256;
    pub const IMAGE_LENGTH: u16 = 257;
    pub const BITS_PER_SAMPLE: u16 = 258;
    pub const COMPRESSION: u16 = 259;
    pub const PHOTOMETRIC: u16 = 262;
    pub const STRIP_OFFSETS: u16 = 273;
    pub const SAMPLES_PER_PIXEL: u16 = 277;
    pub const ROWS_PER_STRIP: u16 = 278;
    pub const STRIP_BYTE_COUNTS: u16 = 279;
    pub const PLANAR_CONFIGURATION: u16 = 284;
    pub const PREDICTOR: u16 = 317;
    pub const EXTRA_SAMPLES: u16 = 338;
    pub const XMP: u16 = 700;
    pub const EXIF_IFD: u16 = 34665;
    pub const ICC_PROFILE: u16 = 34675;
}

/// Classic TIFF or BigTIFF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Variant {
    /// 64-bit offsets.
    pub big: bool,
}

/// Bytes of the IFD writer's buffer.
pub(super) const BUFFER_BYTES: usize = 8 * 1024;

impl Variant {
    /// Bytes of the file header.
    pub(super) fn header_len(self) -> u64 {
        if self.big {
            16
        } else {
            8
        }
    }

    /// Bytes a value may take inside its entry.
    fn inline_len(self) -> u64 {
        if self.big {
            8
        } else {
            4
        }
    }

    /// The type of offsets and byte counts.
    fn offset_type(self) -> FieldType {
        if self.big {
            FieldType::Long8
        } else {
            FieldType::Long
        }
    }

    /// The largest offset the variant can store.
    pub(super) fn max_offset(self) -> u64 {
        if self.big {
            u64::MAX
        } else {
            u32::MAX as u64
        }
    }

    /// The header, pointing at the first IFD at `ifd` (0 as a placeholder).
    pub(super) fn header(self, ifd: u64) -> Vec<u8> {
        let mut h = Vec::with_capacity(16);
        h.extend_from_slice(b"II");
        if self.big {
            h.extend_from_slice(&43u16.to_le_bytes());
            h.extend_from_slice(&8u16.to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            h.extend_from_slice(&ifd.to_le_bytes());
        } else {
            h.extend_from_slice(&42u16.to_le_bytes());
            h.extend_from_slice(&(ifd as u32).to_le_bytes());
        }
        h
    }

    /// Where the header stores the first IFD's offset, and how many bytes it takes.
    pub(super) fn first_ifd_field(self) -> (u64, usize) {
        if self.big {
            (8, 8)
        } else {
            (4, 4)
        }
    }

    fn entry_type_and_count(self, values: &Values) -> (FieldType, u64) {
        match values {
            Values::Shorts(v) => (FieldType::Short, v.len() as u64),
            Values::Long(_) => (FieldType::Long, 1),
            Values::StripOffsets { counts, .. } | Values::StripByteCounts(counts) => (self.offset_type(), counts.len()),
            Values::Bytes { kind, bytes } => (*kind, bytes.len() as u64),
            Values::Offset(_) => (self.offset_type(), 1),
        }
    }

    fn out_of_line_len(self, values: &Values) -> u64 {
        let (t, n) = self.entry_type_and_count(values);
        let len = t.size() * n;
        if len <= self.inline_len() {
            0
        } else {
            len.next_multiple_of(2)
        }
    }

    /// Bytes of the IFD with `entries`, its out-of-line values included.
    pub(super) fn ifd_len(self, entries: &[Entry]) -> u64 {
        let fixed = if self.big { 8 + 20 * entries.len() as u64 + 8 } else { 2 + 12 * entries.len() as u64 + 4 };
        fixed + entries.iter().map(|e| self.out_of_line_len(&e.values)).sum::<u64>()
    }

    /// Writes the IFD with `entries` (sorted by tag), placed at file offset `at`, its
    /// out-of-line values right after it; the next-IFD offset is 0.
    pub(super) fn write_ifd(self, entries: &[Entry], at: u64, out: &mut dyn Write) -> Result<()> {
        debug_assert!(entries.windows(2).all(|w| w[0].tag < w[1].tag), "IFD entries sorted by tag");
        let end = at + self.ifd_len(entries);
        if end > self.max_offset() {
            return Err(Error::limits("the TIFF directory would lie past 4 GiB in a classic TIFF"));
        }
        let mut buf = Buffered { buf: Vec::with_capacity(BUFFER_BYTES), out };
        if self.big {
            buf.put(&(entries.len() as u64).to_le_bytes())?;
        } else {
            buf.put(&(entries.len() as u16).to_le_bytes())?;
        }
        let mut extra = at + if self.big { 8 + 20 * entries.len() as u64 + 8 } else { 2 + 12 * entries.len() as u64 + 4 };
        for e in entries {
            let (t, n) = self.entry_type_and_count(&e.values);
            buf.put(&e.tag.to_le_bytes())?;
            buf.put(&(t as u16).to_le_bytes())?;
            if self.big {
                buf.put(&n.to_le_bytes())?;
            } else {
                buf.put(&(n as u32).to_le_bytes())?;
            }
            let outside = self.out_of_line_len(&e.values);
            if outside > 0 {
                self.put_offset(&mut buf, extra)?;
                extra += outside;
            } else {
                let written = self.put_values(&mut buf, &e.values)?;
                buf.put(&[0u8; 8][..(self.inline_len() - written) as usize])?;
            }
        }
        self.put_offset(&mut buf, 0)?;
        for e in entries {
            let outside = self.out_of_line_len(&e.values);
            if outside > 0 {
                let written = self.put_values(&mut buf, &e.values)?;
                buf.put(&[0u8; 1][..(outside - written) as usize])?;
            }
        }
        buf.flush()
    }

    fn put_offset(self, buf: &mut Buffered, v: u64) -> Result<()> {
        if self.big {
            buf.put(&v.to_le_bytes())
        } else {
            let v = u32::try_from(v).map_err(|_| Error::limits("a TIFF offset passed 4 GiB in a classic TIFF"))?;
            buf.put(&v.to_le_bytes())
        }
    }

    /// Writes the values themselves; returns their byte length.
    fn put_values(self, buf: &mut Buffered, values: &Values) -> Result<u64> {
        match values {
            Values::Shorts(v) => {
                for s in *v {
                    buf.put(&s.to_le_bytes())?;
                }
                Ok(2 * v.len() as u64)
            }
            Values::Long(v) => {
                buf.put(&v.to_le_bytes())?;
                Ok(4)
            }
            Values::StripOffsets { start, counts } => {
                let mut offset = *start;
                for i in 0..counts.len() {
                    self.put_offset(buf, offset)?;
                    offset += counts.get(i);
                }
                Ok(self.offset_type().size() * counts.len())
            }
            Values::StripByteCounts(counts) => {
                for i in 0..counts.len() {
                    self.put_offset(buf, counts.get(i))?;
                }
                Ok(self.offset_type().size() * counts.len())
            }
            Values::Bytes { bytes, .. } => {
                for piece in bytes.chunks(BUFFER_BYTES) {
                    buf.put(piece)?;
                }
                Ok(bytes.len() as u64)
            }
            Values::Offset(v) => {
                self.put_offset(buf, *v)?;
                Ok(self.offset_type().size())
            }
        }
    }
}

/// Small writes gathered into one buffer.
struct Buffered<'a> {
    buf: Vec<u8>,
    out: &'a mut dyn Write,
}

impl Buffered<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        if self.buf.len() + bytes.len() > self.buf.capacity() {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}
