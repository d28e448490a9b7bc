//! Where bytes come from and go to, without holding a file on the heap.
//!
//! [`Input`] is a read-only view of the encoded image: a memory map of a file, or of a temporary
//! spool file when the input cannot be mapped (standard input, a socket). Decoders take slices of
//! it; several decoding cursors can read different parts of it at once, at no cost.
//!
//! [`AtomicOutput`] writes to a temporary file in the target's folder and renames it into place
//! only when [`AtomicOutput::commit`] is called: a failed run leaves no partial file and never
//! clobbers an existing output.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;

use crate::error::{Error, Result};

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

    /// A `Read + BufRead + Seek` cursor over the bytes, for decoders that want one.
    pub fn cursor(&self) -> io::Cursor<Input> {
        io::Cursor::new(self.clone())
    }
}

impl AsRef<[u8]> for Input {
    fn as_ref(&self) -> &[u8] {
        self.bytes()
    }
}

/// A file being written: a temporary file beside the target, renamed into place on commit.
///
/// Dropping it without [`AtomicOutput::commit`] deletes the temporary file, so a failed run
/// leaves nothing behind and an existing file at the target is untouched.
pub struct AtomicOutput {
    target: PathBuf,
    writer: BufWriter<tempfile::NamedTempFile>,
}

impl AtomicOutput {
    /// Starts writing the file that will become `target`.
    pub fn create(target: impl AsRef<Path>) -> Result<AtomicOutput> {
        let target = target.as_ref().to_path_buf();
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target.file_name().ok_or_else(|| Error::parameter("output path has no file name"))?;
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{}.", name.to_string_lossy()))
            .suffix(".partial")
            .tempfile_in(&dir)?;
        Ok(AtomicOutput { target, writer: BufWriter::with_capacity(64 * 1024, temp) })
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(self) -> Result<()> {
        let temp = self.writer.into_inner().map_err(|e| Error::Io(e.into_error()))?;
        temp.as_file().sync_all()?;
        temp.persist(&self.target).map_err(|e| Error::Io(e.error))?;
        Ok(())
    }
}

impl Write for AtomicOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_output_leaves_nothing_and_keeps_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.png");
        std::fs::write(&target, b"old").unwrap();
        {
            let mut out = AtomicOutput::create(&target).unwrap();
            out.write_all(b"half").unwrap();
        }
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let mut out = AtomicOutput::create(&target).unwrap();
        out.write_all(b"new").unwrap();
        out.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn spooled_input_reads_back() {
        let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let input = Input::spool(&data[..]).unwrap();
        assert_eq!(input.bytes(), &data[..]);
        assert!(Input::spool(&b""[..]).unwrap().is_empty());
    }
}
