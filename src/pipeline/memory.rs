//! [`MemorySource`]: rows of an image the caller already holds in memory.

use super::{RowCounter, RowSource};
use crate::error::{Error, Result};
use crate::pixel::ImageInfo;

/// Rows of an image already held in memory, served top to bottom.
///
/// For pixels that a caller already has (and for tests); it holds the whole frame by
/// definition, and reports it in [`RowSource::buffer_bytes`].
#[derive(Debug, Clone)]
pub struct MemorySource {
    info: ImageInfo,
    data: Vec<u8>,
    rows: RowCounter,
}

impl MemorySource {
    /// Serves `data`, which must hold exactly `info.height` rows of `info.row_bytes()`.
    pub fn new(info: ImageInfo, data: Vec<u8>) -> Result<Self> {
        if data.len() as u64 != info.row_bytes() as u64 * info.height as u64 {
            return Err(Error::parameter(format!(
                "{} bytes are not {}x{} {} pixels",
                data.len(),
                info.width,
                info.height,
                info.format
            )));
        }
        Ok(MemorySource { info, data, rows: RowCounter::new(info.height) })
    }

    /// The pixels, all rows.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

impl RowSource for MemorySource {
    fn info(&self) -> ImageInfo {
        self.info
    }
    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        let n = self.info.row_bytes();
        if row.len() != n {
            return Err(Error::parameter("row buffer has the wrong length"));
        }
        let y = self.rows.advance()? as usize;
        row.copy_from_slice(&self.data[y * n..][..n]);
        Ok(())
    }
    fn buffer_bytes(&self) -> usize {
        self.data.capacity()
    }
    fn name(&self) -> &'static str {
        "memory"
    }
}
