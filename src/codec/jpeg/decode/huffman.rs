//! Huffman tables (T.81 C, F.2.2.3) with a 9-bit lookahead, and the bit reader of entropy-coded data.
//!
//! Decoding peeks 16 bits: the top [`LOOKAHEAD`] bits index a table that gives symbol and code
//! length at once for every code of up to 9 bits (nearly all codes of real files); longer codes
//! fall back to the canonical `maxcode` walk of T.81 F.2.2.3. For AC tables a second lookahead
//! also folds in the magnitude bits that follow a short code, so the common small coefficient costs
//! one table access.
//!
//! The [`BitReader`] keeps up to 64 bits MSB-aligned. It unstuffs `FF 00`, and stops at any other
//! marker: from then on it feeds zero bits and counts them, so a scan that runs past its data is
//! detected ([`BitReader::overrun`]) instead of silently reading the next segment.

use crate::error::{Error, Result};

/// Bits resolved by one table access.
pub(crate) const LOOKAHEAD: u32 = 9;

/// A decoding table built from a DHT segment's code counts and symbols.
#[derive(Clone)]
pub(crate) struct HuffTable {
    /// `(length << 8) | symbol` for codes of up to LOOKAHEAD bits, 0 when longer.
    lookup: [u16; 1 << LOOKAHEAD],
    /// For AC tables: `value << 8 | run << 4 | total_bits`, with total_bits = code + magnitude
    /// length <= LOOKAHEAD; value 0 means end of block; 0 when the fast path does not apply.
    ac_fast: [i32; 1 << LOOKAHEAD],
    /// Largest code of each length (index 1..=16), -1 when none; `maxcode[17]` is a sentinel.
    maxcode: [i32; 18],
    /// `valptr[l] - mincode[l]`: add the code to get the index of its symbol.
    valoffset: [i32; 17],
    values: [u8; 256],
}

impl HuffTable {
    /// Builds a table from `counts[i]` = number of codes of length i + 1 and the symbols.
    pub(crate) fn new(counts: &[u8; 16], symbols: &[u8]) -> Result<HuffTable> {
        let total: usize = counts.iter().map(|&c| c as usize).sum();
        if total > 256 || total != symbols.len() {
            return Err(Error::format("JPEG", "Huffman table with more than 256 codes"));
        }
        let mut values = [0u8; 256];
        values[..total].copy_from_slice(symbols);
        let mut lookup = [0u16; 1 << LOOKAHEAD];
        let mut maxcode = [-1i32; 18];
        let mut valoffset = [0i32; 17];
        let mut code: u32 = 0;
        let mut k = 0usize;
        for len in 1..=16u32 {
            let n = counts[len as usize - 1] as u32;
            valoffset[len as usize] = k as i32 - code as i32;
            for _ in 0..n {
                // The codes of this length must fit in it (T.81 C).
                if code >= (1u32 << len) {
                    return Err(Error::format("JPEG", "invalid Huffman table: codes overflow"));
                }
                if len <= LOOKAHEAD {
                    let shift = LOOKAHEAD - len;
                    let first = (code << shift) as usize;
                    let entry = ((len as u16) << 8) | values[k] as u16;
                    for slot in &mut lookup[first..first + (1usize << shift)] {
                        *slot = entry;
                    }
                }
                code += 1;
                k += 1;
            }
            if n > 0 {
                maxcode[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        maxcode[17] = i32::MAX;
        let mut ac_fast = [0i32; 1 << LOOKAHEAD];
        for (i, slot) in ac_fast.iter_mut().enumerate() {
            let entry = lookup[i];
            let len = (entry >> 8) as u32;
            if len == 0 {
                continue;
            }
            let rs = (entry & 0xFF) as u32;
            let run = rs >> 4;
            let size = rs & 15;
            if rs == 0 {
                // End of block: value 0 marks it (a coded coefficient is never 0).
                *slot = len as i32;
                continue;
            }
            if size == 0 || len + size > LOOKAHEAD {
                continue;
            }
            let bits = ((i as u32) >> (LOOKAHEAD - len - size)) & ((1 << size) - 1);
            let value = extend(bits, size);
            *slot = (value << 8) | (run << 4) as i32 | (len + size) as i32;
        }
        Ok(HuffTable { lookup, ac_fast, maxcode, valoffset, values })
    }

    /// Decodes one symbol.
    #[inline(always)]
    pub(crate) fn decode(&self, reader: &mut BitReader, data: &[u8]) -> Result<u8> {
        reader.ensure(16, data);
        let peek = reader.peek(16);
        let entry = self.lookup[(peek >> (16 - LOOKAHEAD)) as usize];
        if entry != 0 {
            reader.consume((entry >> 8) as u32);
            return Ok(entry as u8);
        }
        let (len, symbol) = self.decode_slow(peek)?;
        reader.consume(len);
        Ok(symbol)
    }

    /// A code longer than the lookahead: its length and symbol. It takes the peeked bits, not
    /// the reader, so that a reader the caller keeps in registers never has its address taken.
    #[cold]
    #[inline(never)]
    fn decode_slow(&self, peek: u32) -> Result<(u32, u8)> {
        let mut len = LOOKAHEAD + 1;
        while len <= 16 {
            let code = (peek >> (16 - len)) as i32;
            if code <= self.maxcode[len as usize] {
                let index = (code + self.valoffset[len as usize]) as usize;
                return Ok((len, self.values[index & 255]));
            }
            len += 1;
        }
        Err(Error::format("JPEG", "bad Huffman code"))
    }

    /// The fast AC entry for the next bits (see `ac_fast`), 0 if the slow path is needed.
    #[inline(always)]
    pub(crate) fn ac_fast(&self, reader: &BitReader) -> i32 {
        self.ac_fast[reader.peek(LOOKAHEAD) as usize]
    }
}

/// Sign-extends the `size`-bit magnitude `bits` (T.81 F.2.2.1, EXTEND).
#[inline(always)]
pub(crate) fn extend(bits: u32, size: u32) -> i32 {
    if size == 0 {
        return 0;
    }
    let v = bits as i32;
    if v < (1 << (size - 1)) {
        v - (1 << size) + 1
    } else {
        v
    }
}

/// Reads the bits of one scan's entropy-coded data from the byte slice each call is given.
///
/// The slice is a window on the scan's data that the caller moves forward (see `entropy.rs`):
/// between two calls it may hand a slice that starts elsewhere, after rebasing `pos`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct BitReader {
    /// Next byte to read, as an index into the slice passed to each call.
    pub(crate) pos: usize,
    /// Buffered bits, MSB first.
    bits: u64,
    /// Number of valid bits in `bits`.
    nbits: u32,
    /// Zero bits appended after a marker or the end of the file.
    padded: u32,
    /// Whether `pos` is at a marker (or the end of data).
    at_marker: bool,
}

impl BitReader {
    /// A reader starting at byte `pos`.
    pub(crate) fn new(pos: usize) -> BitReader {
        BitReader { pos, ..Default::default() }
    }

    /// Makes at least `n` (<= 57) bits available.
    #[inline(always)]
    pub(crate) fn ensure(&mut self, n: u32, data: &[u8]) {
        if self.nbits < n {
            self.refill(data);
        }
    }

    /// Fills the buffer to at least 57 bits.
    #[inline(always)]
    fn refill(&mut self, data: &[u8]) {
        // Fast path: 8 bytes available and none of the ones needed is 0xFF.
        if !self.at_marker {
            if let Some(chunk) = data.get(self.pos..self.pos + 8) {
                let word = u64::from_be_bytes(chunk.try_into().unwrap());
                let take = (64 - self.nbits) / 8; // whole bytes that fit
                // Bytes equal to 0xFF become zero in !word; test the top `take` bytes only.
                let inv = !word;
                let has_ff = (inv.wrapping_sub(0x0101_0101_0101_0101) & !inv & 0x8080_8080_8080_8080)
                    >> (8 * (8 - take));
                // The shift above can be 64 when take == 0, which cannot happen (nbits <= 56 here
                // whenever refill is called, so take >= 1).
                if has_ff == 0 {
                    let bits = word >> (64 - 8 * take);
                    self.bits |= bits << (64 - self.nbits - 8 * take);
                    self.nbits += 8 * take;
                    self.pos += take as usize;
                    return;
                }
            }
        }
        *self = self.refilled_slow(data);
    }

    /// Byte by byte, unstuffing `FF 00` and stopping at markers. By value in and out, so that
    /// a reader the caller keeps in registers never has its address taken (see
    /// `entropy::sequential_ac`).
    #[cold]
    #[inline(never)]
    fn refilled_slow(mut self, data: &[u8]) -> BitReader {
        while self.nbits <= 56 {
            let byte = if self.at_marker {
                self.padded += 8;
                0
            } else {
                match data.get(self.pos) {
                    None => {
                        self.at_marker = true;
                        self.padded += 8;
                        0
                    }
                    Some(&0xFF) if data.get(self.pos + 1) == Some(&0) => {
                        self.pos += 2;
                        0xFF
                    }
                    Some(&0xFF) => {
                        self.at_marker = true;
                        self.padded += 8;
                        0
                    }
                    Some(&b) => {
                        self.pos += 1;
                        b
                    }
                }
            };
            self.bits |= (byte as u64) << (56 - self.nbits);
            self.nbits += 8;
        }
        self
    }

    /// The next `n` (1..=32) bits, without consuming them. Call `ensure` first.
    #[inline(always)]
    pub(crate) fn peek(&self, n: u32) -> u32 {
        (self.bits >> (64 - n)) as u32
    }

    /// Drops `n` bits.
    #[inline(always)]
    pub(crate) fn consume(&mut self, n: u32) {
        self.bits <<= n;
        self.nbits -= n;
    }

    /// Reads `n` (0..=16) bits as an unsigned number.
    #[inline(always)]
    pub(crate) fn bits(&mut self, n: u32, data: &[u8]) -> u32 {
        if n == 0 {
            return 0;
        }
        self.ensure(n, data);
        let v = self.peek(n);
        self.consume(n);
        v
    }

    /// Reads one bit.
    #[inline(always)]
    pub(crate) fn bit(&mut self, data: &[u8]) -> bool {
        self.bits(1, data) != 0
    }

    /// Reads `size` magnitude bits and sign-extends them.
    #[inline(always)]
    pub(crate) fn receive_extend(&mut self, size: u32, data: &[u8]) -> i32 {
        extend(self.bits(size, data), size)
    }

    /// Whether decoding has consumed bits past the end of the scan's data.
    #[inline(always)]
    pub(crate) fn overrun(&self) -> bool {
        self.padded > self.nbits
    }

    /// At a restart interval boundary: drops the partial byte, and steps over the next RSTn
    /// marker in `data` (skipping garbage and fill bytes before it). `at_end` says whether
    /// `data` runs to the end of the scan's data; when it does not and no marker was found in
    /// it, the answer is [`Restart::NeedMore`] and `pos` is where the search should go on.
    pub(crate) fn restart(&mut self, data: &[u8], at_end: bool) -> Restart {
        self.bits = 0;
        self.nbits = 0;
        self.padded = 0;
        self.at_marker = false;
        let mut p = self.pos;
        while p + 1 < data.len() {
            if data[p] == 0xFF {
                let m = data[p + 1];
                if (0xD0..=0xD7).contains(&m) {
                    self.pos = p + 2;
                    return Restart::Found;
                }
                if m != 0 && m != 0xFF {
                    // Another marker: the scan is cut short; read zeros from here on.
                    self.pos = p;
                    self.at_marker = true;
                    return Restart::Stopped;
                }
                p += if m == 0 { 2 } else { 1 };
            } else {
                p += 1;
            }
        }
        if !at_end {
            self.pos = p.min(data.len());
            return Restart::NeedMore;
        }
        self.pos = data.len();
        self.at_marker = true;
        Restart::Stopped
    }
}

/// What [`BitReader::restart`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Restart {
    /// An RSTn marker, stepped over.
    Found,
    /// Another marker or the end of the data: the reader feeds zeros from here on.
    Stopped,
    /// The end of the bytes it was given, before the end of the data: give it more.
    NeedMore,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_canonical_codes_and_unstuffs() {
        // Codes: a=0 (1 bit), b=10, c=110, d=1110 ... plus one 12-bit code.
        let mut counts = [0u8; 16];
        counts[0] = 1;
        counts[1] = 1;
        counts[2] = 1;
        counts[11] = 1;
        let table = HuffTable::new(&counts, &[1, 2, 3, 4]).unwrap();
        // bits: 0 | 10 | 110 | 1110_0000_0000 | 000 | 111 then FF 00 (eight ones), then a marker.
        let data = [0b0101_1011, 0b1000_0000, 0b0000_0111, 0xFF, 0x00, 0xFF, 0xD9];
        let mut r = BitReader::new(0);
        assert_eq!(table.decode(&mut r, &data).unwrap(), 1);
        assert_eq!(table.decode(&mut r, &data).unwrap(), 2);
        assert_eq!(table.decode(&mut r, &data).unwrap(), 3);
        assert_eq!(table.decode(&mut r, &data).unwrap(), 4);
        assert_eq!(r.bits(3, &data), 0);
        assert_eq!(r.bits(11, &data), 0x7FF);
        assert!(!r.overrun());
        assert_eq!(r.bits(8, &data), 0);
        assert!(r.overrun());
        assert_eq!(r.pos, 5);
    }

    #[test]
    fn bad_code_and_overfull_table_are_errors() {
        let mut counts = [0u8; 16];
        counts[0] = 1;
        let table = HuffTable::new(&counts, &[7]).unwrap();
        let data = [0xF0u8, 0, 0];
        let mut r = BitReader::new(0);
        assert!(table.decode(&mut r, &data).is_err());
        counts[0] = 3;
        assert!(HuffTable::new(&counts, &[1, 2, 3]).is_err());
    }

    #[test]
    fn extend_matches_t81() {
        assert_eq!(extend(0, 1), -1);
        assert_eq!(extend(1, 1), 1);
        assert_eq!(extend(0b010, 3), -5);
        assert_eq!(extend(0b110, 3), 6);
    }
}
