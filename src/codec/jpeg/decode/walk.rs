//! Reading for the marker walk (`markers.rs`): positioned reads through one bounded window, or
//! sub-slices of input held in memory; a search for the next marker, and for the marker that
//! ends a scan's entropy-coded data, eight bytes at a time. Mapped pages the walk has passed are
//! released by position (the window does it), whatever the bytes.

use crate::error::Result;
use crate::io::{Input, Window};

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]))
}

/// Bytes the walk reads from a file at once (its window is freed when the walk ends).
pub(crate) const WALK_WINDOW: usize = 32 * 1024;

/// The walk's reading position machinery: positioned reads through one bounded window, or
/// sub-slices of input held in memory (mapped pages it has passed are released by position).
pub(crate) struct Walk<'a> {
    input: &'a Input,
    window: Window,
}

impl<'a> Walk<'a> {
    /// A walk over `input` from its start.
    pub(crate) fn new(input: &'a Input) -> Walk<'a> {
        // A small file gets a window of its own size.
        Walk { input, window: Window::new(input, WALK_WINDOW.min(input.len()).max(2), 0) }
    }

    /// The bytes from `pos` on that the window holds (at least 16 unless at the end; asking
    /// for little makes the window refill only when it is nearly used up).
    fn bytes(&mut self, pos: usize) -> Result<&[u8]> {
        self.window.get(self.input, pos, 16, usize::MAX)
    }

    pub(crate) fn byte(&mut self, pos: usize) -> Result<Option<u8>> {
        Ok(self.bytes(pos)?.first().copied())
    }

    pub(crate) fn be16(&mut self, pos: usize) -> Result<Option<u16>> {
        Ok(be16(self.window.get(self.input, pos, 2, usize::MAX)?, 0))
    }

    /// The `len` bytes at `start` (the caller checked they lie inside the input).
    pub(crate) fn read(&mut self, start: usize, len: usize) -> Result<Vec<u8>> {
        let mut body = vec![0u8; len];
        let got = self.input.read_at(start, &mut body)?;
        body.truncate(got);
        Ok(body)
    }

    /// Finds the next marker at or after `pos`: returns (marker code, position after it).
    /// Skips stray bytes and fill bytes.
    pub(crate) fn next_marker(&mut self, mut pos: usize) -> Result<Option<(u8, usize)>> {
        loop {
            loop {
                let data = self.bytes(pos)?;
                if data.is_empty() {
                    return Ok(None);
                }
                match data.iter().position(|&b| b == 0xFF) {
                    Some(i) => {
                        pos += i;
                        break;
                    }
                    None => pos += data.len(),
                }
            }
            loop {
                let data = self.bytes(pos)?;
                if data.is_empty() {
                    return Ok(None);
                }
                let fill = data.iter().take_while(|&&b| b == 0xFF).count();
                pos += fill;
                if fill < data.len() {
                    break;
                }
            }
            let code = self.byte(pos)?.expect("a byte that is not 0xFF was seen here");
            pos += 1;
            if code != 0 {
                return Ok(Some((code, pos)));
            }
        }
    }

    /// The position of the marker that ends entropy-coded data starting at `pos` (the `FF` of
    /// it), or `None` if the data runs to the end of the input. Searches eight bytes at a time.
    pub(crate) fn find_scan_end(&mut self, mut pos: usize) -> Result<Option<usize>> {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        loop {
            let data = self.bytes(pos)?;
            if data.is_empty() {
                return Ok(None);
            }
            let mut i = 0;
            // Skip eight bytes at a time while none of them is 0xFF.
            while let Some(chunk) = data.get(i..i + 8) {
                let inv = !u64::from_le_bytes(chunk.try_into().unwrap());
                if inv.wrapping_sub(ONES) & !inv & HIGHS != 0 {
                    break;
                }
                i += 8;
            }
            while i < data.len() && data[i] != 0xFF {
                i += 1;
            }
            if i == data.len() {
                pos += i;
                continue;
            }
            let ff = pos + i;
            let next = match data.get(i + 1).copied() {
                Some(b) => b,
                None => match self.byte(ff + 1)? {
                    Some(b) => b,
                    None => return Ok(None),
                },
            };
            match next {
                0x00 | 0xD0..=0xD7 => pos = ff + 2,
                0xFF => pos = ff + 1,
                // Reserved codes cannot follow a scan: damaged data (the bit reader stops there),
                // not the segment after the scan, whose length would be read from garbage.
                0x02..=0xBF => pos = ff + 2,
                _ => return Ok(Some(ff)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_end_search_reads_each_window_once() {
        // 4 MiB of entropy-coded-like data: a stuffed FF 00 every 100 bytes, then EOI.
        let mut data: Vec<u8> = (0..4u32 << 20).map(|i| if i % 100 == 0 { 0xFF } else if i % 100 == 1 { 0 } else { (i % 199) as u8 }).collect();
        data.extend_from_slice(&[0xFF, 0xD9]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scan");
        std::fs::write(&path, &data).unwrap();
        let input = Input::open(&path).unwrap();
        let mut walk = Walk::new(&input);
        assert_eq!(walk.find_scan_end(0).unwrap(), Some(data.len() - 2));
        let most = data.len() / (WALK_WINDOW / 2);
        assert!(walk.window.reads() <= most, "{} reads of the file, at most {most} expected", walk.window.reads());
    }
}
