//! The metadata a TIFF output keeps, as directory entries: the ICC profile (tag 34675,
//! UNDEFINED), the XMP packet (tag 700, BYTE) and the EXIF sub-IFD (tag 34665 pointing at the
//! input's EXIF sub-IFD re-serialised little-endian after the main directory, by
//! [`crate::codec::exif::exif_ifd_for_tiff`]).
//!
//! Of the input's EXIF, the TIFF keeps the EXIF sub-IFD (exposure, dates, lens: everything but the
//! MakerNote and the interoperability pointer). IFD0's own tags (Make, Model, Orientation, the
//! resolution) and the GPS sub-IFD are not carried over: the TIFF's IFD0 describes the new
//! pixels, and its orientation is 1 (rows are written as the pipeline gives them).

use super::ifd::{tag, Entry, FieldType, Values, Variant};
use crate::codec::exif::{exif_ifd_for_tiff, exif_ifd_for_tiff_bound};
use crate::codec::Embedded;

/// The blocks to write and where the EXIF sub-IFD goes.
pub(super) struct Kept<'a> {
    /// The ICC profile.
    pub icc: Option<&'a [u8]>,
    /// The XMP packet.
    pub xmp: Option<&'a [u8]>,
    /// The EXIF payload, if it has a sub-IFD to keep.
    exif: Option<&'a [u8]>,
    /// Bytes of the re-serialised sub-IFD.
    pub exif_len: u64,
    big: bool,
}

impl<'a> Kept<'a> {
    /// What of `blocks` a TIFF (BigTIFF when `big`) keeps.
    pub fn new(blocks: &'a Embedded, big: bool) -> Kept<'a> {
        let exif_len = blocks
            .exif
            .as_deref()
            .and_then(|e| exif_ifd_for_tiff(e, 0, big))
            .map_or(0, |b| b.len() as u64);
        Kept {
            icc: blocks.icc.as_deref(),
            xmp: blocks.xmp.as_deref(),
            exif: blocks.exif.as_deref().filter(|_| exif_len > 0),
            exif_len,
            big,
        }
    }

    /// Adds the entries to `entries` (kept sorted by tag), the EXIF sub-IFD placed at `exif_at`.
    pub fn add_entries(&self, entries: &mut Vec<Entry<'a>>, exif_at: u64) {
        if let Some(xmp) = self.xmp {
            entries.push(Entry {
                tag: tag::XMP,
                values: Values::Bytes {
                    kind: FieldType::Byte,
                    bytes: xmp,
                },
            });
        }
        if self.exif.is_some() {
            entries.push(Entry {
                tag: tag::EXIF_IFD,
                values: Values::Offset(exif_at),
            });
        }
        if let Some(icc) = self.icc {
            entries.push(Entry {
                tag: tag::ICC_PROFILE,
                values: Values::Bytes {
                    kind: FieldType::Undefined,
                    bytes: icc,
                },
            });
        }
        entries.sort_by_key(|e| e.tag);
    }

    /// Bytes the entries add to a directory of `variant` (their entries and out-of-line values).
    pub fn ifd_growth(&self, variant: Variant) -> u64 {
        let mut alone = Vec::new();
        self.add_entries(&mut alone, 0);
        variant.ifd_len(&alone) - variant.ifd_len(&[])
    }

    /// The EXIF sub-IFD to write at `at` (empty without one).
    pub fn exif_ifd(&self, at: u64) -> Vec<u8> {
        self.exif
            .and_then(|e| exif_ifd_for_tiff(e, at, self.big))
            .unwrap_or_default()
    }
}

/// Heap of writing `blocks`: the EXIF sub-IFD (built twice, one at a time) and the entry list's
/// growth.
pub(super) fn heap_bytes(blocks: &Embedded) -> usize {
    blocks
        .exif
        .as_ref()
        .map_or(0, |e| exif_ifd_for_tiff_bound(e.len()))
        + 1024
}
