//! TIFF's LZW (compression 5), as libtiff writes it: codes packed most significant bit first,
//! 9 to 12 bits wide with the "early change" of TIFF 6.0 (a decoder widens its codes one entry
//! before the table fills the current width), a Clear code at the start of each strip and when
//! the table reaches 4094 entries, and an End-of-Information code at its end.
//!
//! The dictionary is an open-addressing hash table of 8192 `u32` slots (prefix code, next byte
//! and code packed in one word), allocated once: 32 KiB whatever the image. Each strip is one
//! independent LZW stream ([`LzwEncoder::encode`]).

use std::io::Write;

/// The Clear code: the decoder empties its table.
const CLEAR: u16 = 256;
/// The End-of-Information code: the strip ends.
const END: u16 = 257;
/// The first code assigned to a string of two or more bytes.
const FIRST_FREE: u16 = 258;
/// The table is reset (Clear) when the next code to assign reaches this (libtiff's
/// `CODE_MAX - 1`): 4095 would need 13 bits at the decoder's early change.
const TABLE_FULL: u16 = 4094;
/// Hash table slots: a power of two, at least twice the table's 4094 entries.
const SLOTS: usize = 8192;
/// Bytes of output gathered before they are handed to the writer.
const OUTPUT_CHUNK: usize = 16 * 1024;

/// A reusable TIFF LZW encoder.
#[derive(Debug)]
pub(super) struct LzwEncoder {
    /// `(prefix << 8 | byte) + 1` in the high 20 bits and the code in the low 12; 0 is empty.
    slots: Box<[u32]>,
    /// Encoded bytes not yet written.
    output: Vec<u8>,
}

/// The encoder's heap: its hash table and output chunk.
pub(super) const HEAP_BYTES: usize = SLOTS * 4 + OUTPUT_CHUNK;

/// Bits not yet written, most significant first.
struct BitWriter<'a> {
    bits: u64,
    count: u32,
    output: &'a mut Vec<u8>,
    /// Bytes handed to the writer so far.
    written: u64,
}

impl BitWriter<'_> {
    #[inline]
    fn put(&mut self, code: u16, width: u32, out: &mut dyn Write) -> std::io::Result<()> {
        self.bits = (self.bits << width) | code as u64;
        self.count += width;
        while self.count >= 8 {
            self.count -= 8;
            self.output.push((self.bits >> self.count) as u8);
        }
        if self.output.len() >= OUTPUT_CHUNK - 8 {
            out.write_all(self.output)?;
            self.written += self.output.len() as u64;
            self.output.clear();
        }
        Ok(())
    }

    fn finish(mut self, out: &mut dyn Write) -> std::io::Result<u64> {
        if self.count > 0 {
            self.output.push((self.bits << (8 - self.count)) as u8);
        }
        out.write_all(self.output)?;
        self.written += self.output.len() as u64;
        self.output.clear();
        Ok(self.written)
    }
}

impl LzwEncoder {
    /// An encoder with its table and output chunk allocated.
    pub(super) fn new() -> Self {
        LzwEncoder { slots: vec![0u32; SLOTS].into_boxed_slice(), output: Vec::with_capacity(OUTPUT_CHUNK) }
    }

    /// Encodes `data` as one LZW stream (Clear ... End) to `out`; returns the bytes written.
    pub(super) fn encode(&mut self, data: &[u8], out: &mut dyn Write) -> std::io::Result<u64> {
        self.slots.fill(0);
        let mut bits = BitWriter { bits: 0, count: 0, output: &mut self.output, written: 0 };
        let mut width = 9u32;
        let mut next = FIRST_FREE;
        bits.put(CLEAR, width, out)?;
        let Some((&first, rest)) = data.split_first() else {
            bits.put(END, width, out)?;
            return bits.finish(out);
        };
        let mut prefix = first as u16;
        for &byte in rest {
            let key = (((prefix as u32) << 8) | byte as u32) + 1;
            let mut slot = (key.wrapping_mul(0x9E37_79B1) >> 19) as usize & (SLOTS - 1);
            loop {
                let entry = self.slots[slot];
                if entry == 0 {
                    break;
                }
                if entry >> 12 == key {
                    break;
                }
                slot = (slot + 1) & (SLOTS - 1);
            }
            let entry = self.slots[slot];
            if entry != 0 {
                prefix = (entry & 0xFFF) as u16;
                continue;
            }
            // `prefix` + `byte` is new: emit the prefix, add the string, start again at `byte`.
            bits.put(prefix, width, out)?;
            self.slots[slot] = (key << 12) | next as u32;
            next += 1;
            if next == TABLE_FULL {
                bits.put(CLEAR, width, out)?;
                self.slots.fill(0);
                width = 9;
                next = FIRST_FREE;
            } else if next as u32 > (1 << width) - 1 {
                width += 1;
            }
            prefix = byte as u16;
        }
        // The last string, then End at the width the decoder reaches after adding its entry.
        bits.put(prefix, width, out)?;
        next += 1;
        if next == TABLE_FULL {
            bits.put(CLEAR, width, out)?;
            width = 9;
        } else if next as u32 > (1 << width) - 1 {
            width += 1;
        }
        bits.put(END, width, out)?;
        bits.finish(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plain TIFF LZW decoder (early change), the inverse the tests check against.
    fn decode(data: &[u8]) -> Vec<u8> {
        let mut table: Vec<Vec<u8>> = Vec::new();
        let reset = |t: &mut Vec<Vec<u8>>| {
            t.clear();
            t.extend((0..=255u8).map(|b| vec![b]));
            t.push(Vec::new());
            t.push(Vec::new());
        };
        reset(&mut table);
        let (mut acc, mut count, mut pos) = (0u64, 0u32, 0usize);
        let mut width = 9u32;
        let mut out = Vec::new();
        let mut previous: Option<Vec<u8>> = None;
        loop {
            while count < width {
                acc = (acc << 8) | *data.get(pos).expect("stream ended before End") as u64;
                pos += 1;
                count += 8;
            }
            count -= width;
            let code = ((acc >> count) & ((1 << width) - 1)) as u16;
            if code == END {
                return out;
            }
            if code == CLEAR {
                reset(&mut table);
                width = 9;
                previous = None;
                continue;
            }
            let string = if (code as usize) < table.len() {
                table[code as usize].clone()
            } else {
                let p = previous.clone().expect("KwKwK after a code");
                let mut s = p.clone();
                s.push(p[0]);
                s
            };
            if let Some(p) = previous {
                let mut entry = p;
                entry.push(string[0]);
                table.push(entry);
            }
            out.extend_from_slice(&string);
            previous = Some(string);
            if table.len() + 1 >= (1 << width) && width < 12 {
                width += 1;
            }
        }
    }

    fn round_trip(data: &[u8]) {
        let mut encoder = LzwEncoder::new();
        let mut out = Vec::new();
        let n = encoder.encode(data, &mut out).unwrap();
        assert_eq!(n as usize, out.len());
        assert_eq!(decode(&out), data, "{} bytes", data.len());
    }

    #[test]
    fn round_trips_short_repetitive_and_noisy_data() {
        round_trip(b"");
        round_trip(b"a");
        round_trip(b"TOBEORNOTTOBEORTOBEORNOT#");
        round_trip(&[7u8; 100_000]);
        let mut x = 1u32;
        let noisy: Vec<u8> = (0..200_000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                if i % 3 == 0 { (x >> 24) as u8 } else { (i / 97) as u8 }
            })
            .collect();
        round_trip(&noisy);
        // The encoder is reused: each stream starts from an empty table.
        let mut encoder = LzwEncoder::new();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        encoder.encode(&noisy, &mut a).unwrap();
        encoder.encode(&noisy, &mut b).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn starts_with_clear_and_compresses_runs() {
        let mut out = Vec::new();
        LzwEncoder::new().encode(&[0u8; 10_000], &mut out).unwrap();
        assert_eq!(out[0], 0x80, "Clear (256) in 9 bits, MSB first");
        assert!(out.len() < 300, "{} bytes", out.len());
    }
}
