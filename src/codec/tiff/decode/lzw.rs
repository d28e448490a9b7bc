//! An incremental TIFF LZW decoder: the counterpart of the encoder in `super::super::lzw`.
//!
//! TIFF's LZW (compression 5) packs codes most significant bit first and widens them one code
//! early ("early change": 10 bits once the next free code is 511). Files from before TIFF 5.0
//! ("old-style" LZW, written by early libtiff) pack them least significant bit first without the
//! early change; they are recognised as libtiff does, by a first byte of 0 and an odd second
//! byte (a new-style stream starts with the Clear code, 0x80 0x00...).
//!
//! The decoder fills the caller's slice and keeps the rest of a string that did not fit, so a
//! strip is decompressed a row at a time. Its heap is fixed: the 4096-entry string table and a
//! 4096-byte overflow string ([`HEAP_BYTES`]).

use super::stream::Feed;
use crate::error::{Error, Result};

const CLEAR: u16 = 256;
const END: u16 = 257;
const FIRST_FREE: u16 = 258;
const TABLE: usize = 4096;

/// One string of the table: its first eight bytes (fewer for a shorter string; byte `i` in bits
/// `8i..8i+8`), its last byte, its first byte, its length and the code of the string without
/// its last byte.
///
/// Most strings of a photograph's LZW stream are short, and their first eight bytes are all of
/// them: one unaligned eight-byte store writes such a string, instead of a walk down the prefix
/// chain (one dependent load per byte). Only the bytes past the eighth of a longer string are
/// written by the walk.
#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    head: u64,
    prefix: u16,
    len: u16,
    last: u8,
    first: u8,
}

impl Entry {
    /// The entry for the string of `self` followed by `byte`, coded `self_code`.
    #[inline]
    fn extended(self, self_code: u16, byte: u8) -> Entry {
        let head = if self.len < 8 { self.head | (byte as u64) << (8 * self.len as u32) } else { self.head };
        Entry { head, prefix: self_code, len: self.len + 1, last: byte, first: self.first }
    }
}

/// Heap of an [`LzwDecoder`].
pub(crate) const HEAP_BYTES: usize = TABLE * std::mem::size_of::<Entry>() + TABLE;

/// No previous code (after a Clear code or at the chunk's start).
const NONE: u16 = u16::MAX;

/// The decoder's state within one chunk.
#[derive(Debug)]
pub(crate) struct LzwDecoder {
    table: Box<[Entry; TABLE]>,
    /// The part of the last string that did not fit in the caller's slice.
    overflow: Box<[u8; TABLE]>,
    overflow_at: usize,
    overflow_end: usize,
    next: u16,
    width: u32,
    /// The previous code, or [`NONE`].
    previous: u16,
    /// Unread bits: the low `bit_count` bits (new-style: the oldest highest; old-style: the
    /// oldest lowest).
    bits: u64,
    bit_count: u32,
    /// Old-style: LSB-first codes, no early change.
    old_style: bool,
    /// The End code was read.
    ended: bool,
}

/// The code width once the next free code is `next` (`early`: 1 for new-style streams).
#[inline]
fn width_for(next: u16, early: u16) -> u32 {
    let n = next + early;
    9 + (n >= 512) as u32 + (n >= 1024) as u32 + (n >= 2048) as u32
}

impl LzwDecoder {
    /// A decoder with its table allocated.
    pub(crate) fn new() -> LzwDecoder {
        let mut table: Box<[Entry; TABLE]> =
            vec![Entry::default(); TABLE].into_boxed_slice().try_into().expect("TABLE entries");
        for (i, e) in table.iter_mut().enumerate().take(256) {
            *e = Entry { head: i as u64, prefix: 0, len: 1, last: i as u8, first: i as u8 };
        }
        LzwDecoder {
            table,
            overflow: vec![0u8; TABLE].into_boxed_slice().try_into().expect("TABLE bytes"),
            overflow_at: 0,
            overflow_end: 0,
            next: FIRST_FREE,
            width: 9,
            previous: NONE,
            bits: 0,
            bit_count: 0,
            old_style: false,
            ended: false,
        }
    }

    /// Starts a new chunk whose first bytes are `head`.
    pub(crate) fn reset(&mut self, head: &[u8]) {
        self.old_style = head.len() >= 2 && head[0] == 0 && head[1] & 1 == 1;
        self.next = FIRST_FREE;
        self.width = 9;
        self.previous = NONE;
        self.overflow_at = 0;
        self.overflow_end = 0;
        self.bits = 0;
        self.bit_count = 0;
        self.ended = false;
    }

    /// Tops the bit buffer up with as many whole bytes as fit (up to 7 at once) from the feed's
    /// buffered bytes; none only at the chunk's end.
    #[inline]
    fn refill(&mut self, feed: &mut Feed) -> Result<()> {
        let room = ((63 - self.bit_count) / 8) as usize;
        let data = feed.buffered()?;
        if data.len() >= 8 && room > 0 {
            // Eight bytes at once; the first `room` of them go in.
            let word = u64::from_be_bytes(data[..8].try_into().expect("eight bytes"));
            let take = 8 * room as u32;
            if self.old_style {
                let low = word.swap_bytes() & (u64::MAX >> (64 - take));
                self.bits |= low << self.bit_count;
            } else {
                self.bits = (self.bits << take) | (word >> (64 - take));
            }
            self.bit_count += take;
            feed.consume(room);
            return Ok(());
        }
        let n = room.min(data.len());
        if self.old_style {
            for (i, &b) in data[..n].iter().enumerate() {
                self.bits |= (b as u64) << (self.bit_count + 8 * i as u32);
            }
        } else {
            for &b in &data[..n] {
                self.bits = (self.bits << 8) | b as u64;
            }
        }
        self.bit_count += 8 * n as u32;
        feed.consume(n);
        Ok(())
    }

    /// Writes the string of `code` into `out[..len]` (its length), last byte first.
    #[inline]
    fn write_string(table: &[Entry; TABLE], mut code: u16, out: &mut [u8]) {
        for o in out.iter_mut().rev() {
            let e = table[code as usize & (TABLE - 1)];
            *o = e.last;
            code = e.prefix;
        }
    }

    /// Fills `out` with decompressed bytes; a typed error if the data ends or is corrupt first.
    pub(crate) fn read(&mut self, feed: &mut Feed, out: &mut [u8]) -> Result<()> {
        let mut o = 0;
        if self.overflow_at < self.overflow_end {
            let n = (self.overflow_end - self.overflow_at).min(out.len());
            out[..n].copy_from_slice(&self.overflow[self.overflow_at..self.overflow_at + n]);
            self.overflow_at += n;
            o = n;
        }
        let early = if self.old_style { 0 } else { 1 };
        while o < out.len() {
            if self.ended {
                return Err(feed.ended_early("LZW"));
            }
            while self.bit_count < self.width {
                let had = self.bit_count;
                self.refill(feed)?;
                if self.bit_count == had {
                    return Err(feed.ended_early("LZW"));
                }
            }
            let mask = (1u64 << self.width) - 1;
            let code = if self.old_style {
                let c = self.bits & mask;
                self.bits >>= self.width;
                c
            } else {
                (self.bits >> (self.bit_count - self.width)) & mask
            } as u16;
            self.bit_count -= self.width;
            if code == CLEAR {
                self.next = FIRST_FREE;
                self.width = 9;
                self.previous = NONE;
                continue;
            }
            if code == END {
                self.ended = true;
                continue;
            }
            let previous = self.previous;
            let table = &mut *self.table;
            // A literal right after Clear, or following a code: the common short cases.
            if code < 256 && o < out.len() {
                out[o] = code as u8;
                o += 1;
                if previous != NONE && (self.next as usize) < TABLE {
                    let pe = table[previous as usize & (TABLE - 1)];
                    table[self.next as usize & (TABLE - 1)] = pe.extended(previous, code as u8);
                    self.next += 1;
                    self.width = width_for(self.next, early);
                }
                self.previous = code;
                continue;
            }
            // The string to write: `code`'s, or for the KwKwK case (`code` is the entry about to
            // be added) the previous code's string and its own first byte.
            let (string, extra) = if code < self.next {
                (code, false)
            } else if code == self.next && previous != NONE {
                (previous, true)
            } else {
                return Err(Error::format("TIFF", format!("LZW code {code} is not in the table (next free {})", self.next)));
            };
            let se = table[string as usize & (TABLE - 1)];
            let code_len = se.len as usize;
            let len = code_len + extra as usize;
            if previous != NONE && (self.next as usize) < TABLE {
                let pe = table[previous as usize & (TABLE - 1)];
                table[self.next as usize & (TABLE - 1)] = pe.extended(previous, se.first);
                self.next += 1;
                self.width = width_for(self.next, early);
            }
            self.previous = code;
            // The string goes straight to `out` when it fits, else through the overflow buffer.
            if o + len.max(8) <= out.len() {
                // The first eight bytes in one store (bytes past the string's end are written
                // again by the strings after it: `out` is filled to its end).
                out[o..o + 8].copy_from_slice(&se.head.to_le_bytes());
                if code_len > 8 {
                    Self::write_string(table, string, &mut out[o + 8..o + code_len]);
                }
                if extra {
                    out[o + code_len] = se.first;
                }
                o += len;
            } else if o + len <= out.len() {
                Self::write_string(table, string, &mut out[o..o + code_len]);
                if extra {
                    out[o + code_len] = se.first;
                }
                o += len;
            } else {
                let overflow = &mut *self.overflow;
                Self::write_string(table, string, &mut overflow[..code_len]);
                if extra {
                    overflow[code_len] = se.first;
                }
                let n = out.len() - o;
                out[o..].copy_from_slice(&overflow[..n]);
                self.overflow_at = n;
                self.overflow_end = len;
                o += n;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::stream::Feed;
    use super::*;
    use crate::io::Input;

    fn encode(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        crate::codec::tiff::lzw::LzwEncoder::new().encode(data, &mut out).unwrap();
        out
    }

    fn decode_in_pieces(compressed: &[u8], len: usize, piece: usize) -> Result<Vec<u8>> {
        let input = Input::from_bytes(compressed.to_vec());
        let mut feed = Feed::new(input, 7);
        feed.start(0..compressed.len() as u64);
        let mut d = LzwDecoder::new();
        d.reset(compressed);
        let mut out = vec![0u8; len];
        for part in out.chunks_mut(piece) {
            d.read(&mut feed, part)?;
        }
        Ok(out)
    }

    #[test]
    fn decodes_the_encoders_streams_in_any_pieces() {
        let noisy: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let runs: Vec<u8> = (0..100_000u32).map(|i| (i / 1000) as u8).collect();
        for data in [&b"abababababababab"[..], &noisy, &runs, &[7u8; 5000]] {
            let c = encode(data);
            for piece in [1, 3, 1000, data.len()] {
                assert_eq!(decode_in_pieces(&c, data.len(), piece).unwrap(), data);
            }
        }
    }

    #[test]
    fn truncated_and_corrupt_streams_are_format_errors() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 31 % 253) as u8).collect();
        let c = encode(&data);
        let e = decode_in_pieces(&c[..c.len() / 2], data.len(), 100).unwrap_err();
        assert!(matches!(e, Error::Format { .. }), "{e}");
        // A code far beyond the table right after Clear.
        let bad = [0x80, 0x3F, 0xFF, 0xFF];
        assert!(matches!(decode_in_pieces(&bad, 10, 10), Err(Error::Format { .. })));
    }
}
