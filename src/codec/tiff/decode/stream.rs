//! One strip or tile decompressed incrementally: [`ChunkStream::read`] fills the caller's slice
//! (a row, or a tile's row) with the next decompressed bytes, reading the compressed chunk by
//! positioned reads through a bounded piece buffer ([`Feed`]).
//!
//! Memory is fixed when the stream is built: the piece buffer (at most [`MAX_PIECE`], and no more
//! than the largest chunk) and the decompressor's state: for LZW its table
//! ([`super::lzw::HEAP_BYTES`]), for deflate miniz_oxide's `DecompressorOxide` and a window
//! of 32 KiB, for PackBits a run counter. Uncompressed chunks are read straight into
//! the caller's slice, with no piece buffer.

use std::ops::Range;

use miniz_oxide::inflate::core::inflate_flags::{TINFL_FLAG_HAS_MORE_INPUT, TINFL_FLAG_PARSE_ZLIB_HEADER};
use miniz_oxide::inflate::core::{decompress, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

use super::image::Compression;
use super::lzw::LzwDecoder;
use crate::error::{Error, Result};
use crate::io::Input;

/// The largest piece of compressed data read at once.
pub(crate) const MAX_PIECE: usize = 64 * 1024;

/// Deflate's window (the largest back-reference distance).
const WINDOW: usize = 32 * 1024;

/// The compressed bytes of one chunk, read by position through a bounded piece buffer.
#[derive(Debug)]
pub(crate) struct Feed {
    input: Input,
    /// Next file offset to read into the piece.
    pos: u64,
    /// End of the chunk in the file.
    end: u64,
    piece: Vec<u8>,
    /// Unconsumed bytes of the piece: `piece[at..len]`.
    at: usize,
    len: usize,
    /// The chunk's data ran out before its decompressed size.
    pub(crate) truncated: bool,
}

impl Feed {
    /// A feed over `input` with a piece buffer of `piece` bytes (at least 1).
    pub(crate) fn new(input: Input, piece: usize) -> Feed {
        Feed { input, pos: 0, end: 0, piece: vec![0u8; piece.max(1)], at: 0, len: 0, truncated: false }
    }

    /// Starts reading the chunk at `range` of the file.
    pub(crate) fn start(&mut self, range: Range<u64>) {
        self.pos = range.start;
        self.end = range.end;
        self.at = 0;
        self.len = 0;
        self.truncated = false;
    }

    /// Heap of the piece buffer.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.piece.capacity()
    }

    /// The buffered bytes, refilled from the file when all are consumed (empty at the chunk's
    /// end).
    pub(crate) fn buffered(&mut self) -> Result<&[u8]> {
        if self.at == self.len && self.pos < self.end {
            let want = ((self.end - self.pos) as usize).min(self.piece.len());
            let got = self.input.read_at(self.pos as usize, &mut self.piece[..want])?;
            if got == 0 {
                self.end = self.pos; // the file ended (checked at open: it shrank since)
            }
            self.pos += got as u64;
            self.at = 0;
            self.len = got;
        }
        Ok(&self.piece[self.at..self.len])
    }

    /// Marks `n` buffered bytes consumed.
    pub(crate) fn consume(&mut self, n: usize) {
        self.at += n;
    }

    /// Whether bytes remain beyond the buffered ones.
    pub(crate) fn more_after_buffer(&self) -> bool {
        self.pos < self.end
    }

    /// The next byte, or `None` at the chunk's end.
    #[inline]
    pub(crate) fn next_byte(&mut self) -> Result<Option<u8>> {
        if self.at < self.len {
            self.at += 1;
            return Ok(Some(self.piece[self.at - 1]));
        }
        let b = self.buffered()?.first().copied();
        if b.is_some() {
            self.at += 1;
        }
        Ok(b)
    }

    /// The error for a chunk whose `method` data ended before its decompressed size.
    pub(crate) fn ended_early(&mut self, method: &str) -> Error {
        self.truncated = true;
        Error::format("TIFF", format!("{method} data of a strip or tile ends before its last row (truncated)"))
    }
}

/// The decompressor's state within one chunk.
#[derive(Debug)]
enum State {
    /// Uncompressed: the next byte's offset and the chunk's end.
    Raw { pos: u64, end: u64 },
    PackBits { literal: usize, repeat: usize, byte: u8 },
    Lzw(Box<LzwDecoder>),
    Deflate(Box<Inflate>),
}

struct Inflate {
    state: DecompressorOxide,
    window: Vec<u8>,
    /// Where miniz writes next in the window.
    write: usize,
    /// Decompressed bytes not yet handed out: `window[ready..ready + pending]` (mod WINDOW).
    ready: usize,
    pending: usize,
    done: bool,
}

/// One chunk at a time, decompressed into the caller's slices.
#[derive(Debug)]
pub(crate) struct ChunkStream {
    input: Input,
    feed: Feed,
    state: State,
    /// The chunk has no bytes (a sparse tile or strip): it reads as zeros.
    empty: bool,
}

impl ChunkStream {
    /// The piece buffer of each of `streams` streams reading chunks of `compression` whose
    /// largest is `max_chunk` bytes: [`MAX_PIECE`] shared out among the streams (at least 4 KiB
    /// each), never more than the largest chunk, none for uncompressed chunks (at least 1 byte).
    pub(crate) fn piece_for(compression: Compression, max_chunk: u64, streams: usize) -> usize {
        if compression == Compression::None {
            return 1;
        }
        let share = (MAX_PIECE / streams.max(1)).max(4096);
        (max_chunk.min(share as u64) as usize).max(1)
    }

    /// A stream for chunks of `compression`, read through a piece buffer of `piece` bytes
    /// ([`ChunkStream::piece_for`]).
    pub(crate) fn new(input: Input, compression: Compression, piece: usize) -> ChunkStream {
        let state = match compression {
            Compression::None => State::Raw { pos: 0, end: 0 },
            Compression::PackBits => State::PackBits { literal: 0, repeat: 0, byte: 0 },
            Compression::Lzw => State::Lzw(Box::new(LzwDecoder::new())),
            Compression::Deflate => State::Deflate(Box::new(Inflate {
                state: DecompressorOxide::new(),
                window: vec![0u8; WINDOW],
                write: 0,
                ready: 0,
                pending: 0,
                done: false,
            })),
        };
        let feed = Feed::new(input.clone(), piece);
        ChunkStream { input, feed, state, empty: false }
    }

    /// Heap the stream holds for `compression` and a piece buffer of `piece` bytes: the same
    /// sizes [`ChunkStream::new`] allocates.
    pub(crate) fn heap_bytes_for(compression: Compression, piece: usize) -> usize {
        let state = match compression {
            Compression::None | Compression::PackBits => 0,
            Compression::Lzw => std::mem::size_of::<LzwDecoder>() + super::lzw::HEAP_BYTES,
            Compression::Deflate => std::mem::size_of::<Inflate>() + WINDOW,
        };
        piece.max(1) + state
    }

    /// Heap held (see [`ChunkStream::heap_bytes_for`]).
    pub(crate) fn heap_bytes(&self) -> usize {
        let state = match &self.state {
            State::Raw { .. } | State::PackBits { .. } => 0,
            State::Lzw(_) => std::mem::size_of::<LzwDecoder>() + super::lzw::HEAP_BYTES,
            State::Deflate(d) => std::mem::size_of::<Inflate>() + d.window.capacity(),
        };
        self.feed.heap_bytes() + state
    }

    /// Starts the chunk at `range` of the file.
    pub(crate) fn start(&mut self, range: Range<u64>) -> Result<()> {
        self.feed.start(range.clone());
        self.empty = range.is_empty();
        if self.empty {
            return Ok(());
        }
        match &mut self.state {
            State::Raw { pos, end } => (*pos, *end) = (range.start, range.end),
            State::PackBits { literal, repeat, .. } => (*literal, *repeat) = (0, 0),
            State::Lzw(d) => {
                let head = self.feed.buffered()?;
                d.reset(head);
            }
            State::Deflate(d) => {
                d.state.init();
                (d.write, d.ready, d.pending, d.done) = (0, 0, 0, false);
            }
        }
        Ok(())
    }

    /// Whether the last failure was the data running out (rather than corrupt data).
    pub(crate) fn truncated(&self) -> bool {
        self.feed.truncated
    }

    /// Fills `out` with the chunk's next decompressed bytes.
    pub(crate) fn read(&mut self, out: &mut [u8]) -> Result<()> {
        if self.empty {
            out.fill(0);
            return Ok(());
        }
        match &mut self.state {
            State::Raw { pos, end } => {
                let want = out.len().min(end.saturating_sub(*pos) as usize);
                let got = self.input.read_at(*pos as usize, &mut out[..want])?;
                *pos += got as u64;
                if got < out.len() {
                    return Err(self.feed.ended_early("uncompressed"));
                }
                Ok(())
            }
            State::PackBits { literal, repeat, byte } => {
                let feed = &mut self.feed;
                let mut o = 0;
                while o < out.len() {
                    if *repeat > 0 {
                        let n = (*repeat).min(out.len() - o);
                        out[o..o + n].fill(*byte);
                        (*repeat, o) = (*repeat - n, o + n);
                    } else if *literal > 0 {
                        let data = feed.buffered()?;
                        if data.is_empty() {
                            return Err(feed.ended_early("PackBits"));
                        }
                        let n = (*literal).min(out.len() - o).min(data.len());
                        out[o..o + n].copy_from_slice(&data[..n]);
                        feed.consume(n);
                        (*literal, o) = (*literal - n, o + n);
                    } else {
                        let Some(h) = feed.next_byte()? else { return Err(feed.ended_early("PackBits")) };
                        match h as i8 {
                            0..=127 => *literal = h as usize + 1,
                            -128 => {}
                            n => {
                                let Some(b) = feed.next_byte()? else { return Err(feed.ended_early("PackBits")) };
                                (*repeat, *byte) = ((1 - n as isize) as usize, b);
                            }
                        }
                    }
                }
                Ok(())
            }
            State::Lzw(d) => d.read(&mut self.feed, out),
            State::Deflate(d) => d.read(&mut self.feed, out),
        }
    }
}

impl std::fmt::Debug for Inflate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflate").field("pending", &self.pending).field("done", &self.done).finish_non_exhaustive()
    }
}

impl Inflate {
    fn read(&mut self, feed: &mut Feed, out: &mut [u8]) -> Result<()> {
        let mut o = 0;
        loop {
            while self.pending > 0 && o < out.len() {
                let n = self.pending.min(out.len() - o).min(WINDOW - self.ready);
                out[o..o + n].copy_from_slice(&self.window[self.ready..self.ready + n]);
                self.ready = (self.ready + n) % WINDOW;
                self.pending -= n;
                o += n;
            }
            if o == out.len() {
                return Ok(());
            }
            if self.done {
                return Err(feed.ended_early("deflate"));
            }
            feed.buffered()?;
            let more = feed.more_after_buffer();
            let data = feed.buffered()?;
            let flags = TINFL_FLAG_PARSE_ZLIB_HEADER | if more { TINFL_FLAG_HAS_MORE_INPUT } else { 0 };
            let (status, used, written) = decompress(&mut self.state, data, &mut self.window, self.write, flags);
            let had = data.len();
            feed.consume(used);
            self.ready = self.write;
            self.pending = written;
            self.write = (self.write + written) % WINDOW;
            match status {
                TINFLStatus::Done => self.done = true,
                TINFLStatus::HasMoreOutput => {}
                TINFLStatus::NeedsMoreInput if more || used < had => {}
                TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
                    if written == 0 {
                        return Err(feed.ended_early("deflate"));
                    }
                }
                other => return Err(Error::format("TIFF", format!("deflate data of a strip or tile is corrupt ({other:?})"))),
            }
        }
    }
}
