//! [`Input`]: the encoded image as a read-only, cheaply cloneable view, and [`InputReader`],
//! its `Read + BufRead + Seek` cursor that hands back the pages it has passed.

use std::fs::File;
use std::io::{self, BufRead, BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;

use crate::error::Result;

/// A read-only, cheaply cloneable view of an encoded image.
#[derive(Clone)]
pub struct Input {
    data: Arc<InputData>,
}

enum InputData {
    /// A mapped file; the temporary spool file it came from, if any, is deleted on drop.
    Mapped { map: Mmap, _spool: Option<tempfile::NamedTempFile> },
    /// Bytes the caller already had in memory.
    Owned(Vec<u8>),
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &*self.data {
            InputData::Mapped { _spool: Some(_), .. } => "spooled",
            InputData::Mapped { .. } => "mapped",
            InputData::Owned(_) => "owned",
        };
        write!(f, "Input({kind}, {} bytes)", self.len())
    }
}

impl Input {
    /// Maps the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Input> {
        let file = File::open(path.as_ref())?;
        Self::map_file(&file, None)
    }

    /// Copies `reader` to a temporary file (in the system temp folder) and maps it.
    ///
    /// Used for input that cannot be mapped or seeked, such as standard input. The copy goes
    /// through a fixed 64 KiB buffer, never the heap at large.
    pub fn spool(mut reader: impl Read) -> Result<Input> {
        let mut spool = tempfile::NamedTempFile::new()?;
        {
            let mut writer = BufWriter::with_capacity(64 * 1024, spool.as_file_mut());
            io::copy(&mut reader, &mut writer)?;
            writer.flush()?;
        }
        let file = spool.reopen()?;
        Self::map_file(&file, Some(spool))
    }

    /// Wraps bytes already in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Input {
        Input { data: Arc::new(InputData::Owned(bytes)) }
    }

    fn map_file(file: &File, spool: Option<tempfile::NamedTempFile>) -> Result<Input> {
        let len = file.metadata()?.len();
        if len == 0 {
            return Ok(Input::from_bytes(Vec::new()));
        }
        // SAFETY: the map is read-only. Another process truncating the file while it is mapped
        // would fault; that is the accepted contract of every memory-mapped reader (libvips,
        // ripgrep), and stripflow never writes to its inputs.
        let map = unsafe { Mmap::map(file)? };
        Ok(Input { data: Arc::new(InputData::Mapped { map, _spool: spool }) })
    }

    /// The encoded bytes.
    pub fn bytes(&self) -> &[u8] {
        match &*self.data {
            InputData::Mapped { map, .. } => map,
            InputData::Owned(bytes) => bytes,
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    /// Whether the input is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A `Read + BufRead + Seek` reader over the bytes that releases what it has passed.
    pub fn cursor(&self) -> InputReader {
        InputReader { input: self.clone(), position: 0, released_to: 0 }
    }

    /// Drops the pages wholly inside `range` from this process's resident set (see the module
    /// notes). Only whole pages are released; a no-op for owned bytes and on failure.
    pub fn release(&self, range: Range<usize>) {
        let InputData::Mapped { map, .. } = &*self.data else { return };
        let page = page_size();
        let start = range.start.div_ceil(page) * page;
        let end = (range.end.min(map.len()) / page) * page;
        if end > start {
            // SAFETY: the map is a read-only shared mapping of a file stripflow does not write;
            // MADV_DONTNEED on it discards no data: the next access re-reads the page from the
            // page cache or the file. No reference into the range is invalidated: slices stay
            // valid and read the same bytes.
            let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start) };
        }
    }
}

/// The system page size (4 KiB where it cannot be asked).
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 { size as usize } else { 4096 }
}

/// A reader over an [`Input`] that releases the pages it has moved past.
///
/// Pages more than [`InputReader::KEEP_BEHIND`] bytes behind the read position are released
/// in steps of [`InputReader::RELEASE_STEP`], so a front-to-back decode keeps a few MiB of the
/// file resident whatever its size.
#[derive(Debug, Clone)]
pub struct InputReader {
    input: Input,
    position: usize,
    released_to: usize,
}

impl InputReader {
    /// Bytes kept behind the position (a decoder may step back a little).
    pub const KEEP_BEHIND: usize = 1 << 20;
    /// Release in steps of this many bytes.
    pub const RELEASE_STEP: usize = 4 << 20;

    fn release_behind(&mut self) {
        let keep_from = self.position.saturating_sub(Self::KEEP_BEHIND);
        if keep_from >= self.released_to + Self::RELEASE_STEP {
            self.input.release(self.released_to..keep_from);
            self.released_to = keep_from;
        }
    }
}

impl Read for InputReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for InputReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let bytes = self.input.bytes();
        Ok(&bytes[self.position.min(bytes.len())..])
    }

    fn consume(&mut self, amount: usize) {
        self.position = (self.position + amount).min(self.input.len());
        self.release_behind();
    }
}

impl Seek for InputReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let len = self.input.len() as i128;
        let target = match to {
            SeekFrom::Start(n) => n as i128,
            SeekFrom::End(d) => len + d as i128,
            SeekFrom::Current(d) => self.position as i128 + d as i128,
        };
        if target < 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "seek before the start of the input"));
        }
        self.position = target.min(len) as usize;
        if self.position < self.released_to {
            self.released_to = self.position;
        }
        Ok(self.position as u64)
    }
}

impl AsRef<[u8]> for Input {
    fn as_ref(&self) -> &[u8] {
        self.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_reads_seeks_and_releases_without_changing_bytes() {
        let data: Vec<u8> = (0..20_000_000u32).map(|i| (i % 251) as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        std::fs::write(&path, &data).unwrap();
        let input = Input::open(&path).unwrap();
        let mut reader = input.cursor();
        let mut back = Vec::new();
        reader.read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
        assert!(reader.released_to > 0, "passed pages are released");
        // Released pages read back the same, through the reader and through slices.
        reader.seek(SeekFrom::Start(5)).unwrap();
        let mut five = [0u8; 5];
        reader.read_exact(&mut five).unwrap();
        assert_eq!(&five, &data[5..10]);
        input.release(0..input.len());
        assert_eq!(input.bytes(), &data[..]);
        assert!(reader.seek(SeekFrom::Current(-100)).is_err());
    }

    #[test]
    fn spooled_input_reads_back() {
        let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let input = Input::spool(&data[..]).unwrap();
        assert_eq!(input.bytes(), &data[..]);
        assert!(Input::spool(&b""[..]).unwrap().is_empty());
    }
}
