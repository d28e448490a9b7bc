//! A row source for benchmarks: a few pre-generated rows of the synthetic image replayed as a
//! tall image, so the stage under test, not the generator, is what is timed.

use stripflow::pipeline::RowCounter;
use stripflow::pixel::{ImageInfo, PixelFormat};
use stripflow::synth::Synthetic;
use stripflow::{Result, RowSource};

/// Replays up to 64 pre-generated rows as a `width` x `height` image.
#[derive(Clone)]
pub struct Replay {
    info: ImageInfo,
    rows: Vec<u8>,
    count: usize,
    next: RowCounter,
}

impl Replay {
    /// A `width` x `height` image of `format`.
    pub fn new(width: u32, height: u32, format: PixelFormat) -> Self {
        let count = 64.min(height as usize);
        let mut s = Synthetic::new(width, count as u32, format, 1);
        let mut rows = vec![0; s.info().row_bytes() * count];
        s.read_rows(&mut rows).unwrap();
        Replay { info: ImageInfo { width, height, format }, rows, count, next: RowCounter::new(height) }
    }
}

impl RowSource for Replay {
    fn info(&self) -> ImageInfo {
        self.info
    }
    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        let y = self.next.advance()? as usize % self.count;
        row.copy_from_slice(&self.rows[y * row.len()..][..row.len()]);
        Ok(())
    }
    fn buffer_bytes(&self) -> usize {
        self.rows.len()
    }
    fn name(&self) -> &'static str {
        "replay"
    }
}
