//! Where a pyramid's files go: a directory tree, or one ZIP archive written as a stream. Both are
//! all-or-nothing: the tree is built in a temporary directory beside the target and its entries
//! renamed into place on commit; the archive is an [`AtomicOutput`]. Dropped without a commit
//! (an error, a panic), nothing is left behind.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::tile_buffer::TileBuffer;
use super::zip::ZipWriter;
use crate::error::{Error, Result};
use crate::io::AtomicOutput;

/// A place to put the pyramid's files, by relative path (`/` separated).
pub trait TileStore: Send {
    /// Stores an encoded tile.
    fn put(&mut self, path: &str, tile: &mut TileBuffer) -> Result<()>;
    /// Stores a small file (metadata, viewer page).
    fn put_bytes(&mut self, path: &str, bytes: &[u8]) -> Result<()>;
    /// A file to encode the tile at `path` into directly, when the store is a directory (the
    /// tile then needs no buffer); `None` for a store that takes whole tiles.
    fn direct(&mut self, _path: &str) -> Result<Option<fs::File>> {
        Ok(None)
    }
    /// Removes a tile written with [`direct`](Self::direct) (a blank one).
    fn remove(&mut self, _path: &str) -> Result<()> {
        Ok(())
    }
    /// Makes the output visible; without it, nothing is left.
    fn commit(self: Box<Self>) -> Result<()>;
}

/// Heap bytes each store holds while tiles are written (its write buffer).
pub fn heap_bytes(zip: bool) -> usize {
    if zip {
        AtomicOutput::BUFFER_BYTES + super::zip::HEAP_BYTES
    } else {
        1024
    }
}

/// A directory tree, built in a hidden temporary directory in `parent` and moved into place.
pub struct DirStore {
    temp: tempfile::TempDir,
    parent: PathBuf,
    /// The top-level names the pyramid makes (`x.dzi`, `x_files`, ...).
    roots: Vec<String>,
    /// The last directory made, so a level's tiles do not each ask the file system.
    last_dir: String,
}

impl DirStore {
    /// A store whose top-level entries `roots` will be created in `parent`; refuses when any
    /// of them exists already.
    pub fn new(parent: &Path, roots: Vec<String>) -> Result<DirStore> {
        for root in &roots {
            let target = parent.join(root);
            if target.symlink_metadata().is_ok() {
                return Err(Error::parameter(format!("{} exists already; remove it or choose another output", target.display())));
            }
        }
        let temp = tempfile::Builder::new().prefix(".stripflow-tiles-").tempdir_in(parent).map_err(|e| Error::file(parent, e))?;
        Ok(DirStore { temp, parent: parent.to_path_buf(), roots, last_dir: String::new() })
    }

    fn file(&mut self, path: &str) -> Result<fs::File> {
        if let Some((dir, _)) = path.rsplit_once('/') {
            if dir != self.last_dir {
                fs::create_dir_all(self.temp.path().join(dir))?;
                self.last_dir = dir.to_string();
            }
        }
        Ok(fs::File::create(self.temp.path().join(path))?)
    }
}

impl TileStore for DirStore {
    fn put(&mut self, path: &str, tile: &mut TileBuffer) -> Result<()> {
        let mut file = std::io::BufWriter::with_capacity(8 * 1024, self.file(path)?);
        tile.copy_to(&mut file)?;
        file.flush()?;
        Ok(())
    }

    fn put_bytes(&mut self, path: &str, bytes: &[u8]) -> Result<()> {
        self.file(path)?.write_all(bytes)?;
        Ok(())
    }

    fn direct(&mut self, path: &str) -> Result<Option<fs::File>> {
        self.file(path).map(Some)
    }

    fn remove(&mut self, path: &str) -> Result<()> {
        Ok(fs::remove_file(self.temp.path().join(path))?)
    }

    fn commit(self: Box<Self>) -> Result<()> {
        for root in &self.roots {
            let from = self.temp.path().join(root);
            if from.symlink_metadata().is_err() {
                continue;
            }
            let to = self.parent.join(root);
            if to.symlink_metadata().is_ok() {
                return Err(Error::parameter(format!("{} appeared while the pyramid was written", to.display())));
            }
            fs::rename(&from, &to).map_err(|e| Error::file(&to, e))?;
        }
        Ok(())
    }
}

/// One ZIP archive, written as a stream through an [`AtomicOutput`].
pub struct ZipStore {
    zip: ZipWriter<AtomicOutput>,
}

impl ZipStore {
    /// An archive at `path`.
    pub fn new(path: &Path) -> Result<ZipStore> {
        Ok(ZipStore { zip: ZipWriter::new(AtomicOutput::create(path)?)? })
    }
}

impl TileStore for ZipStore {
    fn put(&mut self, path: &str, tile: &mut TileBuffer) -> Result<()> {
        self.zip.start_entry(path)?;
        tile.copy_to(&mut self.zip)?;
        self.zip.finish_entry()?;
        Ok(())
    }

    fn put_bytes(&mut self, path: &str, bytes: &[u8]) -> Result<()> {
        self.zip.start_entry(path)?;
        self.zip.write_all(bytes)?;
        self.zip.finish_entry()?;
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<()> {
        self.zip.finish()?.commit()
    }
}
