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

/// One string of the table: its last byte, its first byte, its length and the code of the
/// string without its last byte.
#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    prefix: u16,
    len: u16,
    last: u8,
    first: u8,
}

/// Heap of an [`LzwDecoder`].
pub(crate) const HEAP_BYTES: usize = TABLE * std::mem::size_of::<Entry>() + TABLE;

/// The decoder's state within one chunk.
#[derive(Debug)]
pub(crate) struct LzwDecoder {
    table: Box<[Entry]>,
    /// The part of the last string that did not fit in the caller's slice.
    overflow: Box<[u8]>,
    overflow_at: usize,
    overflow_end: usize,
    next: u16,
    width: u32,
    previous: Option<u16>,
    bits: u64,
    bit_count: u32,
    /// Old-style: LSB-first codes, no early change.
    old_style: bool,
    /// The End code was read.
    ended: bool,
}

impl LzwDecoder {
    /// A decoder with its table allocated.
    pub(crate) fn new() -> LzwDecoder {
        let mut table = vec![Entry::default(); TABLE].into_boxed_slice();
        for (i, e) in table.iter_mut().enumerate().take(256) {
            *e = Entry { prefix: 0, len: 1, last: i as u8, first: i as u8 };
        }
        LzwDecoder {
            table,
            overflow: vec![0u8; TABLE].into_boxed_slice(),
            overflow_at: 0,
            overflow_end: 0,
            next: FIRST_FREE,
            width: 9,
            previous: None,
            bits: 0,
            bit_count: 0,
            old_style: false,
            ended: false,
        }
    }

    /// Starts a new chunk whose first bytes are `head`.
    pub(crate) fn reset(&mut self, head: &[u8]) {
        self.old_style = head.len() >= 2 && head[0] == 0 && head[1] & 1 == 1;
        self.clear();
        self.overflow_at = 0;
        self.overflow_end = 0;
        self.bits = 0;
        self.bit_count = 0;
        self.ended = false;
    }

    fn clear(&mut self) {
        self.next = FIRST_FREE;
        self.width = 9;
        self.previous = None;
    }

    /// The next code, or `None` when the data ends.
    #[inline]
    fn code(&mut self, feed: &mut Feed) -> Result<Option<u16>> {
        while self.bit_count < self.width {
            let Some(byte) = feed.next_byte()? else { return Ok(None) };
            if self.old_style {
                self.bits |= (byte as u64) << self.bit_count;
            } else {
                self.bits = (self.bits << 8) | byte as u64;
            }
            self.bit_count += 8;
        }
        let mask = (1u64 << self.width) - 1;
        let code = if self.old_style {
            let c = self.bits & mask;
            self.bits >>= self.width;
            c
        } else {
            (self.bits >> (self.bit_count - self.width)) & mask
        };
        self.bit_count -= self.width;
        Ok(Some(code as u16))
    }

    /// Writes the string of `code` into `out[..len]` (its length), last byte first.
    #[inline]
    fn write_string(&self, mut code: u16, out: &mut [u8]) {
        let mut i = out.len();
        while i > 0 {
            i -= 1;
            let e = self.table[code as usize];
            out[i] = e.last;
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
        while o < out.len() {
            if self.ended {
                return Err(feed.ended_early("LZW"));
            }
            let Some(code) = self.code(feed)? else {
                return Err(feed.ended_early("LZW"));
            };
            match code {
                CLEAR => {
                    self.clear();
                    continue;
                }
                END => {
                    self.ended = true;
                    continue;
                }
                _ => {}
            }
            let (string, extra) = match self.previous {
                _ if code < self.next => (code, None),
                Some(p) if code == self.next => (p, Some(self.table[p as usize].first)),
                _ => return Err(Error::format("TIFF", format!("LZW code {code} is not in the table (next free {})", self.next))),
            };
            let len = self.table[string as usize].len as usize + extra.is_some() as usize;
            let first = self.table[string as usize].first;
            if let Some(p) = self.previous {
                if (self.next as usize) < TABLE {
                    let pe = self.table[p as usize];
                    self.table[self.next as usize] = Entry { prefix: p, len: pe.len + 1, last: first, first: pe.first };
                    self.next += 1;
                }
            }
            self.previous = Some(code);
            let early = if self.old_style { 0 } else { 1 };
            self.width = match self.next as u32 + early {
                0..=511 => 9,
                512..=1023 => 10,
                1024..=2047 => 11,
                _ => 12,
            };
            // The string (of the entry just added, for the KwKwK case) goes straight to `out`
            // when it fits, else through the overflow buffer.
            let code_len = len - extra.is_some() as usize;
            if o + len <= out.len() {
                self.write_string(string, &mut out[o..o + code_len]);
                if let Some(b) = extra {
                    out[o + code_len] = b;
                }
                o += len;
            } else {
                let mut overflow = std::mem::take(&mut self.overflow);
                self.write_string(string, &mut overflow[..code_len]);
                if let Some(b) = extra {
                    overflow[code_len] = b;
                }
                let n = out.len() - o;
                out[o..].copy_from_slice(&overflow[..n]);
                self.overflow = overflow;
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
