//! An encoded tile held until it is stored: in memory up to [`SPILL_BYTES`], then in an
//! unnamed temporary file, so a tile column's memory is bounded whatever the tile's size.

use std::io::{self, Read, Seek, Write};

/// Bytes of encoded tile kept in memory before it moves to a temporary file.
pub const SPILL_BYTES: usize = 64 * 1024;

/// An encoded tile: in memory up to [`SPILL_BYTES`], then in an unnamed temporary file.
#[derive(Default)]
pub struct TileBuffer {
    memory: Vec<u8>,
    file: Option<std::fs::File>,
    /// Whether this tile's bytes past `memory` are in `file`.
    spilled: bool,
    len: u64,
}

impl TileBuffer {
    /// Empties the buffer, keeping its memory and file for the next tile.
    pub fn clear(&mut self) {
        self.memory.clear();
        self.len = 0;
        self.spilled = false;
        if let Some(file) = &mut self.file {
            if file.set_len(0).and_then(|()| file.seek(io::SeekFrom::Start(0)).map(drop)).is_err() {
                self.file = None;
            }
        }
    }

    /// Copies the whole tile to `out`.
    pub fn copy_to(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(&self.memory)?;
        if let (true, Some(file)) = (self.spilled, &mut self.file) {
            file.seek(io::SeekFrom::Start(0))?;
            let mut chunk = [0u8; 8192];
            loop {
                let n = file.read(&mut chunk)?;
                if n == 0 {
                    break;
                }
                out.write_all(&chunk[..n])?;
            }
        }
        Ok(())
    }
}

impl Write for TileBuffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if !self.spilled && self.memory.len() + bytes.len() > SPILL_BYTES {
            // From here on this tile goes to the file (a file kept from an earlier tile is reused).
            if self.file.is_none() {
                self.file = Some(tempfile::tempfile()?);
            }
            self.spilled = true;
        }
        match &mut self.file {
            Some(file) if self.spilled => file.write_all(bytes)?,
            _ => {
                // Grow by doubling but never past SPILL_BYTES, so the heap bound holds.
                let needed = self.memory.len() + bytes.len();
                if needed > self.memory.capacity() {
                    let target = (self.memory.capacity() * 2).clamp(needed, SPILL_BYTES);
                    self.memory.reserve_exact(target - self.memory.len());
                }
                self.memory.extend_from_slice(bytes)
            }
        }
        self.len += bytes.len() as u64;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_tile_spills_to_a_file_and_reads_back_whole() {
        let data: Vec<u8> = (0..SPILL_BYTES * 2 + 17).map(|i| (i % 253) as u8).collect();
        let mut buffer = TileBuffer::default();
        for chunk in data.chunks(1000) {
            buffer.write_all(chunk).unwrap();
        }
        assert!(buffer.file.is_some());
        assert!(buffer.memory.len() <= SPILL_BYTES);
        let mut back = Vec::new();
        buffer.copy_to(&mut back).unwrap();
        assert_eq!(back, data);
        assert_eq!(buffer.len, data.len() as u64);
    }
}
