//! [`Handoff`]: the stage that runs everything upstream of it on a worker thread, so that the
//! upstream part of a chain (the decoder and early stages) and the downstream part (later stages
//! and the encoder) run at the same time.
//!
//! The worker pulls rows from the upstream chain into a few strip buffers and queues them; the
//! consumer (the stage after the handoff, or the encoder) reads rows from the oldest queued strip
//! and gives each emptied strip back. The buffers are allocated once, when the stage is built
//! ([`HandoffLayout`] gives their size to the planner and to the constructor alike), and recycled:
//! nothing is allocated per strip. A small `Mutex` and `Condvar` carry the two queues (filled
//! strips to the consumer, empty strips to the worker), so both sides block, never spin.
//!
//! The rows are the upstream's rows, in order, untouched, so output bytes do not depend on whether
//! a handoff runs. The worker fills a strip row by row: when a read fails, the rows read before it
//! are delivered and the consumer gets the very same typed [`Error`] when it asks for the failed
//! row, as it would without the handoff. The worker may read a few strips ahead; rows the
//! consumer never asks for are decoded and dropped (a resize may leave the last rows unread).
//!
//! Ending: when the consumer is dropped (job done, failed, or stopped early), it tells the worker
//! to stop, and joins it; the worker notices between rows. A worker that panics (a bug) tells the
//! consumer before it unwinds, and the consumer re-raises the panic on its own thread: neither side
//! ever waits for a partner that is gone.
//!
//! Because the upstream chain lives on the worker thread, [`RowSource::upstream`] of a handoff
//! returns a record of it taken when it was built ([`Detached`]: names, sizes and buffer bytes,
//! no rows), so [`super::chain_buffer_bytes`] and [`super::chain_names`] still see the whole chain.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use super::{BoxedSource, RowCounter, RowSource, StageSpec};
use crate::error::{Error, Result};
use crate::pixel::ImageInfo;

/// Strip buffers a handoff holds: one being filled by the worker, one being read by the consumer,
/// and one queued between them, which absorbs the jitter of either side.
pub const HANDOFF_STRIPS: usize = 3;

/// A strip holds about this many bytes (at least one row): small against the stages' own buffers,
/// and large enough that the per-strip locking is negligible (a few thousand strips per 8K image).
pub const HANDOFF_STRIP_BYTES: usize = 64 * 1024;

/// Heap of a handoff beyond its strips: the shared queue state, the worker thread's handle, name
/// and closure, what the new thread allocates for itself, and the [`Detached`] record of the
/// upstream stages. Measured with dhat (`tests/heap_threads.rs`, threaded peak minus
/// single-threaded peak minus the strips): 836 B above a JPEG decoder, 772 B above a PNG decoder;
/// rounded up to 1 KiB for longer upstream records.
pub const HANDOFF_CONTROL_BYTES: usize = 1024;

/// The size of a handoff's buffers for rows of `input`: what the planner prices and what
/// [`Handoff::new`] allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandoffLayout {
    /// Bytes of one row.
    pub row_bytes: usize,
    /// Rows per strip (the last strip of the image may be shorter).
    pub rows_per_strip: u32,
    /// Number of strip buffers.
    pub strips: usize,
}

impl HandoffLayout {
    /// The layout for rows of `input`.
    pub fn new(input: ImageInfo) -> HandoffLayout {
        let row_bytes = input.row_bytes();
        let rows = (HANDOFF_STRIP_BYTES / row_bytes.max(1)).clamp(1, input.height.max(1) as usize) as u32;
        HandoffLayout { row_bytes, rows_per_strip: rows, strips: HANDOFF_STRIPS }
    }

    /// Bytes of one strip buffer.
    pub fn strip_bytes(&self) -> usize {
        self.row_bytes * self.rows_per_strip as usize
    }

    /// Heap bytes of the handoff: its strips and [`HANDOFF_CONTROL_BYTES`].
    pub fn heap_bytes(&self) -> usize {
        self.strips * self.strip_bytes() + HANDOFF_CONTROL_BYTES
    }
}

/// The handoff as a [`StageSpec`]: the planner inserts it where it cuts the chain in two
/// (`plan::Chain::threads`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HandoffSpec;

impl StageSpec for HandoffSpec {
    fn name(&self) -> String {
        "handoff".into()
    }
    fn output(&self, input: ImageInfo) -> Result<ImageInfo> {
        Ok(input)
    }
    fn heap_bytes(&self, input: ImageInfo) -> usize {
        HandoffLayout::new(input).heap_bytes()
    }
    fn detail(&self, input: ImageInfo) -> String {
        let l = HandoffLayout::new(input);
        format!("stages above run on a worker thread; {} strips of {} rows", l.strips, l.rows_per_strip)
    }
    fn build(&self, upstream: BoxedSource) -> Result<BoxedSource> {
        Ok(Box::new(Handoff::new(upstream)?))
    }
}

/// A strip of rows in one of the handoff's buffers.
struct Strip {
    data: Vec<u8>,
    /// Rows filled (at most the layout's rows per strip).
    rows: u32,
}

/// How the worker ended.
enum End {
    /// Every row was read.
    Done,
    /// A read failed; the error is handed to the consumer once (then `None`).
    Failed(Option<Error>),
    /// The worker panicked; the consumer re-raises the panic.
    Panicked,
}

/// What the two sides share, behind one lock.
struct State {
    /// Strips filled by the worker, oldest first.
    filled: VecDeque<Strip>,
    /// Empty buffers for the worker to fill.
    empty: Vec<Vec<u8>>,
    /// Set by the worker when it stops.
    end: Option<End>,
    /// Set by the consumer when it is dropped: the worker stops.
    consumer_gone: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    /// The state, whatever a panicking thread left behind (each update is a single assignment or
    /// queue operation, so the state is consistent).
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The handoff stage: rows of its upstream chain, which runs on a worker thread.
pub struct Handoff {
    info: ImageInfo,
    layout: HandoffLayout,
    shared: Arc<Shared>,
    /// The strip being read, and the index of its next row.
    current: Option<Strip>,
    next_in_strip: u32,
    rows: RowCounter,
    worker: Option<JoinHandle<()>>,
    upstream: Detached,
}

impl std::fmt::Debug for Handoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handoff").field("info", &self.info).field("layout", &self.layout).finish()
    }
}

impl Handoff {
    /// Starts a worker thread that pulls every row of `upstream` into the strips of
    /// [`HandoffLayout::new`]. A thread that cannot be started is an [`Error::Io`].
    pub fn new(upstream: BoxedSource) -> Result<Handoff> {
        let info = upstream.info();
        let layout = HandoffLayout::new(info);
        let record = Detached::of(&*upstream);
        let mut empty = Vec::with_capacity(layout.strips);
        for _ in 0..layout.strips {
            empty.push(vec![0u8; layout.strip_bytes()]);
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                filled: VecDeque::with_capacity(layout.strips),
                empty,
                end: None,
                consumer_gone: false,
            }),
            changed: Condvar::new(),
        });
        let worker_shared = Arc::clone(&shared);
        let worker = std::thread::Builder::new()
            .name("stripflow-handoff".into())
            .spawn(move || work(upstream, layout, &worker_shared))?;
        Ok(Handoff {
            info,
            layout,
            shared,
            current: None,
            next_in_strip: 0,
            rows: RowCounter::new(info.height),
            worker: Some(worker),
            upstream: record,
        })
    }

    /// The layout of its strips.
    pub fn layout(&self) -> HandoffLayout {
        self.layout
    }

    /// Waits for the next filled strip, giving the current one back first.
    fn next_strip(&mut self) -> Result<()> {
        let mut state = self.shared.lock();
        if let Some(done) = self.current.take() {
            state.empty.push(done.data);
            self.shared.changed.notify_all();
        }
        loop {
            if let Some(strip) = state.filled.pop_front() {
                self.current = Some(strip);
                self.next_in_strip = 0;
                return Ok(());
            }
            match &mut state.end {
                None => state = self.shared.changed.wait(state).unwrap_or_else(|p| p.into_inner()),
                Some(End::Failed(error)) => {
                    return Err(error.take().unwrap_or_else(|| Error::parameter("a row was asked for after an upstream stage failed")));
                }
                Some(End::Done) => return Err(Error::parameter("the handoff's worker ended before the last row")),
                Some(End::Panicked) => {
                    drop(state);
                    if let Some(Err(payload)) = self.worker.take().map(JoinHandle::join) {
                        std::panic::resume_unwind(payload);
                    }
                    return Err(Error::parameter("the handoff's worker panicked"));
                }
            }
        }
    }
}

/// The worker: fills empty strips from `upstream` until every row is read, a read fails, or the
/// consumer is gone.
fn work(mut upstream: BoxedSource, layout: HandoffLayout, shared: &Shared) {
    /// Tells the consumer when the worker unwinds from a panic.
    struct OnPanic<'a>(&'a Shared);
    impl Drop for OnPanic<'_> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                self.0.lock().end = Some(End::Panicked);
                self.0.changed.notify_all();
            }
        }
    }
    let _guard = OnPanic(shared);
    let height = upstream.info().height;
    let row_bytes = layout.row_bytes;
    let mut produced = 0u32;
    while produced < height {
        let mut data = {
            let mut state = shared.lock();
            loop {
                if state.consumer_gone {
                    return;
                }
                if let Some(buffer) = state.empty.pop() {
                    break buffer;
                }
                state = shared.changed.wait(state).unwrap_or_else(|p| p.into_inner());
            }
        };
        let wanted = layout.rows_per_strip.min(height - produced);
        let mut rows = 0;
        let mut failure = None;
        for row in data.chunks_exact_mut(row_bytes).take(wanted as usize) {
            match upstream.read_row(row) {
                Ok(()) => rows += 1,
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        produced += rows;
        let mut state = shared.lock();
        if rows > 0 {
            state.filled.push_back(Strip { data, rows });
        } else {
            state.empty.push(data);
        }
        let failed = failure.is_some();
        if let Some(error) = failure {
            state.end = Some(End::Failed(Some(error)));
        } else if produced == height {
            state.end = Some(End::Done);
        }
        shared.changed.notify_all();
        if failed {
            return;
        }
    }
    if height == 0 {
        shared.lock().end = Some(End::Done);
        shared.changed.notify_all();
    }
}

impl RowSource for Handoff {
    fn info(&self) -> ImageInfo {
        self.info
    }

    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        if row.len() != self.layout.row_bytes {
            return Err(Error::parameter("row buffer has the wrong length"));
        }
        self.rows.advance()?;
        if self.current.as_ref().is_none_or(|s| self.next_in_strip >= s.rows) {
            self.next_strip()?;
        }
        let strip = self.current.as_ref().expect("a strip was just taken");
        let at = self.next_in_strip as usize * self.layout.row_bytes;
        row.copy_from_slice(&strip.data[at..at + self.layout.row_bytes]);
        self.next_in_strip += 1;
        Ok(())
    }

    fn buffer_bytes(&self) -> usize {
        self.layout.heap_bytes()
    }

    fn name(&self) -> &'static str {
        "handoff"
    }

    fn upstream(&self) -> Option<&dyn RowSource> {
        Some(&self.upstream)
    }
}

impl Drop for Handoff {
    fn drop(&mut self) {
        self.shared.lock().consumer_gone = true;
        self.shared.changed.notify_all();
        if let Some(worker) = self.worker.take() {
            let result = worker.join();
            if let Err(payload) = result {
                if !std::thread::panicking() {
                    std::panic::resume_unwind(payload);
                }
            }
        }
    }
}

/// A record of the stages a handoff runs on its worker: their names, sizes and buffer bytes as
/// built, for [`super::chain_names`] and [`super::chain_buffer_bytes`]. It has no rows.
#[derive(Debug)]
pub struct Detached {
    info: ImageInfo,
    name: &'static str,
    buffer_bytes: usize,
    upstream: Option<Box<Detached>>,
}

impl Detached {
    /// The record of `source` and every stage upstream of it.
    fn of(source: &dyn RowSource) -> Detached {
        Detached {
            info: source.info(),
            name: source.name(),
            buffer_bytes: source.buffer_bytes(),
            upstream: source.upstream().map(|u| Box::new(Detached::of(u))),
        }
    }
}

impl RowSource for Detached {
    fn info(&self) -> ImageInfo {
        self.info
    }
    fn read_row(&mut self, _row: &mut [u8]) -> Result<()> {
        Err(Error::parameter(format!("{} runs on a handoff's worker thread; read the handoff's rows", self.name)))
    }
    fn buffer_bytes(&self) -> usize {
        self.buffer_bytes
    }
    fn name(&self) -> &'static str {
        self.name
    }
    fn upstream(&self) -> Option<&dyn RowSource> {
        self.upstream.as_deref().map(|d| d as &dyn RowSource)
    }
}
