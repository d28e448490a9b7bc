//! [`AtomicOutput`]: a file written beside its target and renamed into place on commit.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A file being written: a temporary file beside the target, renamed into place on commit.
///
/// Dropping it without [`AtomicOutput::commit`] deletes the temporary file, so a failed run
/// leaves nothing behind and an existing file at the target is untouched.
pub struct AtomicOutput {
    target: PathBuf,
    writer: BufWriter<tempfile::NamedTempFile>,
}

impl AtomicOutput {
    /// Heap bytes of the write buffer (counted in a plan that writes to a file).
    pub const BUFFER_BYTES: usize = 64 * 1024;

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
        Ok(AtomicOutput { target, writer: BufWriter::with_capacity(Self::BUFFER_BYTES, temp) })
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
}
