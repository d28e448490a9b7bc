//! One tile column of one level: the encoder its tiles go through, one tile at a time.
//!
//! Where the tile format's encoder takes pushed rows ([`EncoderSpec::encodes_pushed_rows`]:
//! baseline JPEG, the default and by far the most used), a column is a [`PushedColumn`]: the
//! cutter's thread hands each row straight to the tile's [`RowEncoder`], which writes into the
//! tile's file (or its [`TileBuffer`] for a ZIP). No thread, no channel, no copy of the rows: a
//! 16384-wide pyramid's hundred-odd columns cost their encoders' buffers and nothing else.
//! Other encoders pull their rows and get a worker thread per column
//! ([`super::worker::ThreadedColumn`]).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::store::TileStore;
use super::tile_buffer::TileBuffer;
use super::worker::ThreadedColumn;
use crate::codec::spec::{EncoderSpec, RowEncoder};
use crate::error::{Error, Result};
use crate::pixel::ImageInfo;

/// Write buffer of a tile encoded straight into its file.
pub const DIRECT_BUFFER: usize = 4 * 1024;

/// A callback told the tiles written so far and the tiles in the pyramid.
pub type ProgressFn = dyn Fn(u64, u64) + Send + Sync;

/// What every column shares: where tiles go, the first error, the counts.
pub struct Shared {
    /// Where tiles are stored.
    pub store: Mutex<Box<dyn TileStore>>,
    /// The first error a worker thread met.
    pub error: Mutex<Option<Error>>,
    /// Set once any worker failed, so the cutter stops early.
    pub failed: AtomicBool,
    /// Tiles stored.
    pub written: AtomicU64,
    /// Tiles skipped as blank.
    pub skipped: AtomicU64,
    /// Tiles in the pyramid (for progress).
    pub total: u64,
    /// Told after every tile.
    pub progress: Option<Arc<ProgressFn>>,
}

impl Shared {
    /// The store, locked.
    pub fn store(&self) -> MutexGuard<'_, Box<dyn TileStore>> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a worker's error (the first one is kept) and tells the cutter to stop.
    pub fn fail(&self, error: Error) {
        let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(error);
        }
        self.failed.store(true, Ordering::Release);
    }

    /// The first worker error, taken.
    pub fn take_error(&self) -> Option<Error> {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Counts a finished tile (stored, or skipped when `blank`) and tells the progress callback.
    pub fn tile_done(&self, blank: bool) {
        let counter = if blank { &self.skipped } else { &self.written };
        counter.fetch_add(1, Ordering::Relaxed);
        if let Some(progress) = &self.progress {
            let done = self.written.load(Ordering::Relaxed) + self.skipped.load(Ordering::Relaxed);
            progress(done, self.total);
        }
    }
}

/// A tile column, as the cutter drives it: start a tile, push its rows, end it.
pub struct Column {
    encoder: ColumnEncoder,
    /// Whether every row of the current tile so far was within the blank threshold.
    pub blank: bool,
}

enum ColumnEncoder {
    Pushed(PushedColumn),
    Threaded(ThreadedColumn),
}

impl Column {
    /// A column encoding with `encoder` tiles of `format` pixels: pushed rows where the encoder
    /// takes them, else a worker thread.
    pub fn new(encoder: Arc<dyn EncoderSpec>, format: crate::PixelFormat, shared: Arc<Shared>) -> Result<Column> {
        let encoder = if encoder.encodes_pushed_rows(format) {
            ColumnEncoder::Pushed(PushedColumn { encoder, shared, tile: None, buffer: TileBuffer::default() })
        } else {
            ColumnEncoder::Threaded(ThreadedColumn::spawn(encoder, shared)?)
        };
        Ok(Column { encoder, blank: true })
    }

    /// Begins a tile of `info` stored at `path`.
    pub fn start(&mut self, path: String, info: ImageInfo) -> Result<()> {
        self.blank = true;
        match &mut self.encoder {
            ColumnEncoder::Pushed(c) => c.start(path, info),
            ColumnEncoder::Threaded(c) => c.start(path, info),
        }
    }

    /// Adds one row of the current tile.
    pub fn push_row(&mut self, row: &[u8]) -> Result<()> {
        match &mut self.encoder {
            ColumnEncoder::Pushed(c) => c.push_row(row),
            ColumnEncoder::Threaded(c) => c.push_row(row),
        }
    }

    /// Ends the current tile; `blank` says it is skipped rather than stored.
    pub fn end(&mut self, blank: bool) -> Result<()> {
        match &mut self.encoder {
            ColumnEncoder::Pushed(c) => c.end(blank),
            ColumnEncoder::Threaded(c) => c.end(blank),
        }
    }

    /// Stops the column's worker, if it has one, once its last tile is stored.
    pub fn close(&mut self) {
        if let ColumnEncoder::Threaded(c) = &mut self.encoder {
            c.close();
        }
    }
}

/// A column whose tiles are encoded on the cutter's thread from the rows pushed to it.
pub struct PushedColumn {
    encoder: Arc<dyn EncoderSpec>,
    shared: Arc<Shared>,
    tile: Option<PushedTile>,
    /// Where a ZIP's tiles are encoded (kept from one tile to the next).
    buffer: TileBuffer,
}

/// The tile a [`PushedColumn`] is encoding.
struct PushedTile {
    path: String,
    /// The tile's file, for a directory store; `None`: the column's [`TileBuffer`].
    file: Option<BufWriter<File>>,
    encoder: Box<dyn RowEncoder>,
}

impl PushedColumn {
    fn start(&mut self, path: String, info: ImageInfo) -> Result<()> {
        if self.tile.is_some() {
            return Err(Error::parameter("a tile started before the last one ended"));
        }
        let mut file = self.shared.store().direct(&path)?.map(|f| BufWriter::with_capacity(DIRECT_BUFFER, f));
        if file.is_none() {
            self.buffer.clear();
        }
        let out: &mut dyn Write = match &mut file {
            Some(f) => f,
            None => &mut self.buffer,
        };
        let encoder = self.encoder.row_encoder(info, out)?;
        self.tile = Some(PushedTile { path, file, encoder });
        Ok(())
    }

    fn push_row(&mut self, row: &[u8]) -> Result<()> {
        let tile = self.tile.as_mut().ok_or_else(|| Error::parameter("tile rows arrived before the tile started"))?;
        let out: &mut dyn Write = match &mut tile.file {
            Some(f) => f,
            None => &mut self.buffer,
        };
        tile.encoder.push_row(row, out)
    }

    fn end(&mut self, blank: bool) -> Result<()> {
        let PushedTile { path, file, encoder } = self.tile.take().ok_or_else(|| Error::parameter("a tile ended before it started"))?;
        match file {
            Some(mut f) => {
                encoder.finish(&mut f)?;
                f.flush()?;
                drop(f);
                if blank {
                    self.shared.store().remove(&path)?;
                }
            }
            None => {
                encoder.finish(&mut self.buffer)?;
                if !blank {
                    self.shared.store().put(&path, &mut self.buffer)?;
                }
            }
        }
        self.shared.tile_done(blank);
        Ok(())
    }
}
