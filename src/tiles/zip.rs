//! A small streaming ZIP writer: stored entries (tiles are JPEG, PNG or WebP already), each
//! written once front to back with its CRC and sizes in a data descriptor after the data, so
//! the output is never sought in (it can be a pipe), and ZIP64 records where a size, an offset
//! or the entry count outgrows the classic fields (APPNOTE 6.3.9, sections 4.3.9 and 4.4).
//!
//! Why not the `zip` crate: its writer seeks back to patch each local header (its streaming mode
//! needs a seekable writer for ZIP64 too) and keeps every central directory record in memory, a
//! heap that grows with the tile count. Here the central directory records go to an unnamed
//! temporary file as entries finish and are copied after the last entry, so the writer's memory
//! does not depend on the number of tiles.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};

/// Local file header signature.
const LOCAL: u32 = 0x0403_4b50;
/// Data descriptor signature.
const DESCRIPTOR: u32 = 0x0807_4b50;
/// Central directory file header signature.
const CENTRAL: u32 = 0x0201_4b50;
/// ZIP64 end of central directory record signature.
const END64: u32 = 0x0606_4b50;
/// ZIP64 end of central directory locator signature.
const LOCATOR64: u32 = 0x0706_4b50;
/// End of central directory record signature.
const END: u32 = 0x0605_4b50;
/// Flags: sizes in a data descriptor (bit 3), UTF-8 names (bit 11).
const FLAGS: u16 = 0x0808;
/// 1980-01-01 00:00 in MS-DOS form: entries carry no time, so output is reproducible.
const DOS_DATE: u16 = (1 << 5) | 1;
/// Buffer of the central directory spill file.
const CENTRAL_BUFFER: usize = 8 * 1024;

/// Heap bytes a [`ZipWriter`] holds (its central directory buffer and the name being written).
pub const HEAP_BYTES: usize = CENTRAL_BUFFER + 1024;

/// The entry being written.
struct Entry {
    name: String,
    offset: u64,
    crc: crc32fast::Hasher,
    size: u64,
}

/// Writes a ZIP archive to `W` as a stream.
pub struct ZipWriter<W: Write> {
    out: W,
    offset: u64,
    central: BufWriter<File>,
    central_len: u64,
    entries: u64,
    current: Option<Entry>,
}

impl<W: Write> ZipWriter<W> {
    /// A new archive written to `out`.
    pub fn new(out: W) -> io::Result<ZipWriter<W>> {
        let central = BufWriter::with_capacity(CENTRAL_BUFFER, tempfile::tempfile()?);
        Ok(ZipWriter { out, offset: 0, central, central_len: 0, entries: 0, current: None })
    }

    /// Begins the entry `name` (a relative path with `/` separators); its bytes follow through
    /// [`Write`], until [`finish_entry`](Self::finish_entry).
    pub fn start_entry(&mut self, name: &str) -> io::Result<()> {
        if self.current.is_some() {
            self.finish_entry()?;
        }
        let name_len = u16::try_from(name.len()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "zip entry name too long"))?;
        let mut header = Vec::with_capacity(30 + name.len());
        header.extend_from_slice(&LOCAL.to_le_bytes());
        header.extend_from_slice(&20u16.to_le_bytes()); // version needed: 2.0
        header.extend_from_slice(&FLAGS.to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes()); // stored
        header.extend_from_slice(&0u16.to_le_bytes()); // time
        header.extend_from_slice(&DOS_DATE.to_le_bytes());
        header.extend_from_slice(&[0; 12]); // CRC and sizes: in the descriptor
        header.extend_from_slice(&name_len.to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes()); // no extra field
        header.extend_from_slice(name.as_bytes());
        self.out.write_all(&header)?;
        self.current = Some(Entry { name: name.to_string(), offset: self.offset, crc: crc32fast::Hasher::new(), size: 0 });
        self.offset += header.len() as u64;
        Ok(())
    }

    /// Ends the current entry: writes its data descriptor and records its central directory
    /// header.
    pub fn finish_entry(&mut self) -> io::Result<()> {
        let Some(entry) = self.current.take() else { return Ok(()) };
        let crc = entry.crc.finalize();
        let big_size = entry.size >= u32::MAX as u64;
        let mut descriptor = Vec::with_capacity(24);
        descriptor.extend_from_slice(&DESCRIPTOR.to_le_bytes());
        descriptor.extend_from_slice(&crc.to_le_bytes());
        if big_size {
            descriptor.extend_from_slice(&entry.size.to_le_bytes());
            descriptor.extend_from_slice(&entry.size.to_le_bytes());
        } else {
            descriptor.extend_from_slice(&(entry.size as u32).to_le_bytes());
            descriptor.extend_from_slice(&(entry.size as u32).to_le_bytes());
        }
        self.out.write_all(&descriptor)?;
        self.offset += descriptor.len() as u64;

        let big_offset = entry.offset >= u32::MAX as u64;
        let mut extra = Vec::new();
        if big_size {
            extra.extend_from_slice(&entry.size.to_le_bytes());
            extra.extend_from_slice(&entry.size.to_le_bytes());
        }
        if big_offset {
            extra.extend_from_slice(&entry.offset.to_le_bytes());
        }
        let zip64 = !extra.is_empty();
        let mut record = Vec::with_capacity(46 + entry.name.len() + 4 + extra.len());
        record.extend_from_slice(&CENTRAL.to_le_bytes());
        record.extend_from_slice(&(3u16 << 8 | 45).to_le_bytes()); // made by: Unix, 4.5
        record.extend_from_slice(&(if zip64 { 45u16 } else { 20 }).to_le_bytes());
        record.extend_from_slice(&FLAGS.to_le_bytes());
        record.extend_from_slice(&0u16.to_le_bytes());
        record.extend_from_slice(&0u16.to_le_bytes());
        record.extend_from_slice(&DOS_DATE.to_le_bytes());
        record.extend_from_slice(&crc.to_le_bytes());
        let size32 = if big_size { u32::MAX } else { entry.size as u32 };
        record.extend_from_slice(&size32.to_le_bytes());
        record.extend_from_slice(&size32.to_le_bytes());
        record.extend_from_slice(&(entry.name.len() as u16).to_le_bytes());
        record.extend_from_slice(&(if zip64 { 4 + extra.len() as u16 } else { 0 }).to_le_bytes());
        record.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        record.extend_from_slice(&(0o100644u32 << 16).to_le_bytes()); // -rw-r--r--
        let offset32 = if big_offset { u32::MAX } else { entry.offset as u32 };
        record.extend_from_slice(&offset32.to_le_bytes());
        record.extend_from_slice(entry.name.as_bytes());
        if zip64 {
            record.extend_from_slice(&1u16.to_le_bytes());
            record.extend_from_slice(&(extra.len() as u16).to_le_bytes());
            record.extend_from_slice(&extra);
        }
        self.central.write_all(&record)?;
        self.central_len += record.len() as u64;
        self.entries += 1;
        Ok(())
    }

    /// Writes the central directory and the end records; returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.finish_entry()?;
        let central_offset = self.offset;
        let mut file = self.central.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        let mut chunk = [0u8; 8192];
        loop {
            let n = file.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            self.out.write_all(&chunk[..n])?;
        }
        let end_offset = central_offset + self.central_len;
        let zip64 = self.entries >= 0xFFFF || central_offset >= u32::MAX as u64 || self.central_len >= u32::MAX as u64;
        let mut tail = Vec::with_capacity(98);
        if zip64 {
            tail.extend_from_slice(&END64.to_le_bytes());
            tail.extend_from_slice(&44u64.to_le_bytes());
            tail.extend_from_slice(&(3u16 << 8 | 45).to_le_bytes());
            tail.extend_from_slice(&45u16.to_le_bytes());
            tail.extend_from_slice(&[0; 8]); // this disk, the central directory's disk
            tail.extend_from_slice(&self.entries.to_le_bytes());
            tail.extend_from_slice(&self.entries.to_le_bytes());
            tail.extend_from_slice(&self.central_len.to_le_bytes());
            tail.extend_from_slice(&central_offset.to_le_bytes());
            tail.extend_from_slice(&LOCATOR64.to_le_bytes());
            tail.extend_from_slice(&0u32.to_le_bytes());
            tail.extend_from_slice(&end_offset.to_le_bytes());
            tail.extend_from_slice(&1u32.to_le_bytes());
        }
        let entries16 = self.entries.min(0xFFFF) as u16;
        tail.extend_from_slice(&END.to_le_bytes());
        tail.extend_from_slice(&[0; 4]);
        tail.extend_from_slice(&entries16.to_le_bytes());
        tail.extend_from_slice(&entries16.to_le_bytes());
        tail.extend_from_slice(&(self.central_len.min(u32::MAX as u64) as u32).to_le_bytes());
        tail.extend_from_slice(&(central_offset.min(u32::MAX as u64) as u32).to_le_bytes());
        tail.extend_from_slice(&0u16.to_le_bytes());
        self.out.write_all(&tail)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for ZipWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let entry = self.current.as_mut().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no zip entry started"))?;
        self.out.write_all(bytes)?;
        entry.crc.update(bytes);
        entry.size += bytes.len() as u64;
        self.offset += bytes.len() as u64;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the archive's central directory back: (name, offset, size) of each entry, after
    /// checking every local header, data and descriptor against it.
    fn read_back(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
        let u16_at = |i: usize| u16::from_le_bytes([zip[i], zip[i + 1]]) as u64;
        let u32_at = |i: usize| u32::from_le_bytes(zip[i..i + 4].try_into().unwrap()) as u64;
        let u64_at = |i: usize| u64::from_le_bytes(zip[i..i + 8].try_into().unwrap());
        let end = zip.len() - 22;
        assert_eq!(u32_at(end), END as u64);
        let (mut count, mut at) = (u16_at(end + 10), u32_at(end + 16));
        if count == 0xFFFF || at == u32::MAX as u64 {
            let end64 = u64_at(end - 20 + 8) as usize;
            assert_eq!(u32_at(end64), END64 as u64);
            count = u64_at(end64 + 32);
            at = u64_at(end64 + 48);
        }
        let mut files = Vec::new();
        let mut at = at as usize;
        for _ in 0..count {
            assert_eq!(u32_at(at), CENTRAL as u64);
            let crc = u32_at(at + 16) as u32;
            let size = u32_at(at + 24) as usize;
            let (name_len, extra_len) = (u16_at(at + 28) as usize, u16_at(at + 30) as usize);
            let offset = u32_at(at + 42) as usize;
            let name = String::from_utf8(zip[at + 46..at + 46 + name_len].to_vec()).unwrap();
            let local_name_len = u16_at(offset + 26) as usize;
            let data_at = offset + 30 + local_name_len;
            let data = zip[data_at..data_at + size].to_vec();
            assert_eq!(crc32fast::hash(&data), crc);
            assert_eq!(u32_at(data_at + size), DESCRIPTOR as u64);
            files.push((name, data));
            at += 46 + name_len + extra_len;
        }
        files
    }

    #[test]
    fn entries_read_back() {
        let mut zip = ZipWriter::new(Vec::new()).unwrap();
        zip.start_entry("a/b.txt").unwrap();
        zip.write_all(b"hello ").unwrap();
        zip.write_all(b"tiles").unwrap();
        zip.start_entry("empty").unwrap();
        zip.finish_entry().unwrap();
        let bytes = zip.finish().unwrap();
        let files = read_back(&bytes);
        assert_eq!(files, [("a/b.txt".to_string(), b"hello tiles".to_vec()), ("empty".to_string(), vec![])]);
    }

    #[test]
    fn more_than_65534_entries_use_zip64_end_records() {
        let mut zip = ZipWriter::new(Vec::new()).unwrap();
        for i in 0..70_000u32 {
            zip.start_entry(&format!("{i}")).unwrap();
            zip.write_all(&i.to_le_bytes()).unwrap();
        }
        let bytes = zip.finish().unwrap();
        let files = read_back(&bytes);
        assert_eq!(files.len(), 70_000);
        assert_eq!(files[69_999], ("69999".to_string(), 69_999u32.to_le_bytes().to_vec()));
    }
}
