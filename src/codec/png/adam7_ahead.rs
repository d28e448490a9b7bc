//! The last Adam7 pass inflated and unfiltered on a thread of its own, a few rows ahead.
//!
//! Pass 7 (every odd row, full width) is half of an interlaced file's data, and its inflater is
//! independent of the six cursors of passes 1-6 once the scan has placed them (`adam7.rs`). So,
//! with two threads or more, a worker owns that cursor: it inflates and unfilters pass 7's rows
//! into [`AHEAD_ROWS`] recycled buffers and hands them over in order through a bounded channel,
//! while the decoding thread reads passes 1-6 and assembles the image rows. The worker's
//! previous row and the buffers are the only memory added ([`LastPassAhead::heap_bytes_for`]).
//!
//! Errors keep their place: a damaged row of pass 7 is sent where the row would have been, so
//! the decoder reports it when the image reaches that row, as the single-threaded decoder does;
//! the worker then stops. After the last row the worker finishes the stream (the Adler-32, the
//! chunks after the data) and sends the result. Dropping the reader closes both channels, which
//! ends the worker at its next send or receive, and joins it. Bytes out are the same for any
//! thread count: the same inflater and unfilter run, elsewhere.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use super::filter::unfilter;
use super::inflate::Cursor;
use crate::error::{Error, Result};
use crate::io::Input;

/// Rows of pass 7 a worker may have ready ahead of the decoder.
pub(crate) const AHEAD_ROWS: usize = 4;

/// The worker's stack: it runs the inflater (whose state is on the heap) and the unfilter.
const WORKER_STACK: usize = 256 * 1024;

/// What the worker sends, in order.
enum Ahead {
    /// The next row: filter byte slot and unfiltered bytes.
    Row(Vec<u8>),
    /// The stream after the last row: the offset of the chunk after the last `IDAT`.
    Finished(Result<usize>),
    /// The row could not be read.
    Failed(Error),
}

/// The decoder's end of the worker reading the last pass.
pub(crate) struct LastPassAhead {
    rows: Option<Receiver<Ahead>>,
    free: Option<SyncSender<Vec<u8>>>,
    worker: Option<JoinHandle<()>>,
}

impl LastPassAhead {
    /// Heap bytes for a pass whose rows are `row_bytes` long (filter byte included): the buffers
    /// and the worker's previous row.
    pub(crate) fn heap_bytes_for(row_bytes: usize) -> usize {
        (AHEAD_ROWS + 1) * row_bytes
    }

    /// Starts the worker on `cursor`, which yields `rows` rows of `row_bytes`, unfiltered with
    /// `filter_bpp` bytes per pixel.
    pub(crate) fn start(mut cursor: Cursor, input: Input, rows: u32, row_bytes: usize, filter_bpp: usize) -> Result<LastPassAhead> {
        let (row_tx, row_rx) = sync_channel::<Ahead>(AHEAD_ROWS);
        let (free_tx, free_rx) = sync_channel::<Vec<u8>>(AHEAD_ROWS);
        for _ in 0..AHEAD_ROWS {
            free_tx.send(vec![0u8; row_bytes]).expect("the receiver is alive");
        }
        let work = move || {
            let mut previous = vec![0u8; row_bytes];
            for _ in 0..rows {
                let Ok(mut row) = free_rx.recv() else { return };
                let read = cursor.read_exact(&input, &mut row).and_then(|()| {
                    let filter = row[0];
                    unfilter(filter, &mut row[1..], &previous[1..], filter_bpp)
                });
                if let Err(e) = read {
                    let _ = row_tx.send(Ahead::Failed(e));
                    return;
                }
                previous.copy_from_slice(&row);
                if row_tx.send(Ahead::Row(row)).is_err() {
                    return;
                }
            }
            let _ = row_tx.send(Ahead::Finished(cursor.finish(&input)));
        };
        let worker = std::thread::Builder::new()
            .name("stripflow-adam7".into())
            .stack_size(WORKER_STACK)
            .spawn(move || {
                // A panic ends the worker; the decoder sees the channel close and reports it.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            })
            .map_err(Error::Io)?;
        Ok(LastPassAhead { rows: Some(row_rx), free: Some(free_tx), worker: Some(worker) })
    }

    fn receive(&mut self) -> Result<Ahead> {
        self.rows
            .as_ref()
            .and_then(|rows| rows.recv().ok())
            .ok_or_else(|| Error::format("PNG", "the interlaced decoder's reading thread stopped"))
    }

    /// Hands the next unfiltered row (filter byte slot first) to `use_row`.
    pub(crate) fn next_row(&mut self, use_row: impl FnOnce(&[u8])) -> Result<()> {
        match self.receive()? {
            Ahead::Row(row) => {
                use_row(&row);
                if let Some(free) = &self.free {
                    // The worker may have stopped after its last row; the buffer is then dropped.
                    let _ = free.send(row);
                }
                Ok(())
            }
            Ahead::Failed(e) => Err(e),
            Ahead::Finished(_) => Err(Error::format("PNG", "the last pass ended before its rows")),
        }
    }

    /// After the last row: the stream's end, as `Cursor::finish` gives it.
    pub(crate) fn finish(&mut self) -> Result<usize> {
        match self.receive()? {
            Ahead::Finished(result) => result,
            Ahead::Failed(e) => Err(e),
            Ahead::Row(_) => Err(Error::format("PNG", "the last pass has more rows than the image")),
        }
    }
}

impl Drop for LastPassAhead {
    fn drop(&mut self) {
        // Closing both channels ends the worker at its next send or receive.
        self.rows.take();
        self.free.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
