//! Tile columns whose encoder only pulls rows: a worker thread each.
//!
//! An encoder that cannot be fed rows ([`EncoderSpec::encodes_pushed_rows`]: PNG, WebP, whole-
//! frame files) pulls them ([`EncoderSpec::encode`] drains a [`RowSource`]), but a pyramid's rows
//! arrive one image row at a time across every tile of a row of tiles. Holding the whole band
//! of rows one tile tall would cost `width x tile height` per level (12 MiB at 16384 pixels
//! wide, RGB); instead each tile column of such a level has a worker thread running the encoder
//! over a [`ChannelRows`] source, and the cutter hands it small batches of rows ([`BATCH_ROWS`]
//! rows of the tile's width) through a one-slot channel.
//!
//! A worker's tile is encoded into a [`TileBuffer`] (or straight into its file), and once the
//! cutter says whether the tile was blank, stored through the shared
//! [`super::store::TileStore`] or dropped.

use std::io::{BufWriter, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::column::{Shared, DIRECT_BUFFER};
use super::tile_buffer::TileBuffer;
use crate::codec::spec::EncoderSpec;
use crate::error::{Error, Result};
use crate::pipeline::{RowCounter, RowSource};
use crate::pixel::ImageInfo;

/// Rows in one batch handed to a tile's encoder.
pub const BATCH_ROWS: u32 = 4;

/// Stack of each worker thread: the encoders keep their buffers on the heap.
const WORKER_STACK: usize = 64 * 1024;

/// Batches a column may have in circulation: one being filled, one in the channel, one read.
pub const BATCHES_PER_COLUMN: usize = 3;

/// A message to a worker.
enum Message {
    /// A new tile: its path in the pyramid and its size.
    Start { path: String, info: ImageInfo },
    /// The next rows of the tile.
    Rows(Vec<u8>),
    /// The tile's rows are all sent; `blank` says whether it is skipped.
    End { blank: bool },
}

/// The cutter's end of one tile column: the channel to its worker and the batch being filled.
pub struct ThreadedColumn {
    sender: Option<SyncSender<Message>>,
    recycled: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<()>>,
    pending: Vec<u8>,
    pending_rows: u32,
}

impl ThreadedColumn {
    /// Starts a worker encoding tiles with `encoder`.
    pub fn spawn(encoder: Arc<dyn EncoderSpec>, shared: Arc<Shared>) -> Result<ThreadedColumn> {
        let (sender, receiver) = sync_channel::<Message>(1);
        let (recycle, recycled) = sync_channel::<Vec<u8>>(BATCHES_PER_COLUMN);
        let thread = std::thread::Builder::new()
            .name("stripflow-tile".into())
            .stack_size(WORKER_STACK)
            .spawn(move || work(encoder, shared, receiver, recycle))?;
        Ok(ThreadedColumn { sender: Some(sender), recycled, thread: Some(thread), pending: Vec::new(), pending_rows: 0 })
    }

    /// Begins a tile of `info` stored at `path`.
    pub fn start(&mut self, path: String, info: ImageInfo) -> Result<()> {
        self.pending_rows = 0;
        self.send(Message::Start { path, info })
    }

    /// Adds one row of the current tile.
    pub fn push_row(&mut self, row: &[u8]) -> Result<()> {
        if self.pending_rows == 0 {
            self.pending = self.recycled.try_recv().unwrap_or_default();
            self.pending.clear();
        }
        self.pending.extend_from_slice(row);
        self.pending_rows += 1;
        if self.pending_rows == BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    /// Sends the rows gathered and says whether the tile is stored.
    pub fn end(&mut self, blank: bool) -> Result<()> {
        self.flush()?;
        self.send(Message::End { blank })
    }

    fn flush(&mut self) -> Result<()> {
        if self.pending_rows == 0 {
            return Ok(());
        }
        self.pending_rows = 0;
        let batch = std::mem::take(&mut self.pending);
        self.send(Message::Rows(batch))
    }

    fn send(&mut self, message: Message) -> Result<()> {
        let sender = self.sender.as_ref().ok_or_else(|| Error::parameter("tile column already closed"))?;
        sender.send(message).map_err(|_| Error::parameter("a tile encoder stopped"))
    }

    /// Closes the channel and waits for the worker (it finishes the tile it is in, if any).
    pub fn close(&mut self) {
        self.sender = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ThreadedColumn {
    fn drop(&mut self) {
        self.close();
    }
}

/// A worker: encodes one tile after another until its channel closes.
fn work(encoder: Arc<dyn EncoderSpec>, shared: Arc<Shared>, receiver: Receiver<Message>, recycle: SyncSender<Vec<u8>>) {
    let mut source = ChannelRows { receiver, recycle, info: ImageInfo { width: 0, height: 0, format: crate::pixel::PixelFormat::RGB8 }, batch: Vec::new(), offset: 0, counter: RowCounter::new(0) };
    let mut buffer = TileBuffer::default();
    while let Ok(message) = source.receiver.recv() {
        let Message::Start { path, info } = message else {
            shared.fail(Error::parameter("tile rows arrived before the tile started"));
            return;
        };
        source.start(info);
        let direct = shared.store().direct(&path);
        let stored = match direct {
            Ok(Some(file)) => {
                // A directory: encoded straight into the tile's file through a small buffer.
                let mut writer = BufWriter::with_capacity(DIRECT_BUFFER, file);
                let encoded = encoder.encode(&mut source, &mut writer).and_then(|()| Ok(writer.flush()?));
                drop(writer);
                let Some(blank) = source.skip_to_end() else { return };
                let removed = if blank || encoded.is_err() { shared.store().remove(&path) } else { Ok(()) };
                encoded.and(removed).map(|()| blank)
            }
            Ok(None) => {
                buffer.clear();
                let encoded = encoder.encode(&mut source, &mut buffer);
                // Whatever the encoder did, read up to the tile's end so the next tile starts clean.
                let Some(blank) = source.skip_to_end() else { return };
                encoded.and_then(|()| {
                    if !blank {
                        shared.store().put(&path, &mut buffer)?;
                    }
                    Ok(blank)
                })
            }
            Err(e) => Err(e),
        };
        match stored {
            Ok(blank) => shared.tile_done(blank),
            Err(e) => {
                shared.fail(e);
                return;
            }
        }
    }
}

/// A tile's rows as they arrive through the channel (the worker's end of it, reused for each
/// tile).
struct ChannelRows {
    receiver: Receiver<Message>,
    recycle: SyncSender<Vec<u8>>,
    info: ImageInfo,
    batch: Vec<u8>,
    offset: usize,
    counter: RowCounter,
}

impl ChannelRows {
    fn start(&mut self, info: ImageInfo) {
        self.info = info;
        self.counter = RowCounter::new(info.height);
        self.give_back();
    }

    /// Returns the batch read to the cutter for reuse.
    fn give_back(&mut self) {
        let used = std::mem::take(&mut self.batch);
        if used.capacity() > 0 {
            let _ = self.recycle.try_send(used);
        }
        self.offset = 0;
    }

    /// Reads up to the tile's end: whether it is blank, or `None` when the channel closed.
    fn skip_to_end(&mut self) -> Option<bool> {
        self.give_back();
        loop {
            match self.receiver.recv() {
                Ok(Message::End { blank }) => return Some(blank),
                Ok(Message::Rows(batch)) => {
                    let _ = self.recycle.try_send(batch);
                }
                Ok(Message::Start { .. }) | Err(_) => return None,
            }
        }
    }
}

impl RowSource for ChannelRows {
    fn info(&self) -> ImageInfo {
        self.info
    }

    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        self.counter.advance()?;
        if self.offset >= self.batch.len() {
            self.give_back();
            match self.receiver.recv() {
                Ok(Message::Rows(batch)) => self.batch = batch,
                _ => return Err(Error::parameter("a tile ended before its last row")),
            }
        }
        let end = self.offset + row.len();
        let Some(bytes) = self.batch.get(self.offset..end) else {
            return Err(Error::parameter("a tile row batch is not whole rows"));
        };
        row.copy_from_slice(bytes);
        self.offset = end;
        Ok(())
    }

    fn buffer_bytes(&self) -> usize {
        0
    }

    fn name(&self) -> &'static str {
        "tile rows"
    }
}

