//! Bands of streamed tile columns: a wide tiled TIFF decoded [`BAND_ROWS`] rows at a time, each
//! tile column's stream filling its own block, the columns shared out among threads.
//!
//! A 16384-wide file of 256x256 LZW tiles is streamed (a whole row of tiles would be 12 MiB):
//! 64 streams, one per tile column. Giving each output row one row from every stream in turn
//! touches 64 LZW tables (24 KiB each) per row, more than the core's cache holds. A band asks
//! each stream for [`BAND_ROWS`] rows in one go, so its table stays in cache for a block of
//! rows, and the streams are independent, so the columns are split between threads: the
//! decoder's work (LZW is nine tenths of a wide TIFF thumbnail) runs on every core it was given.
//!
//! Memory: the band holds `BAND_ROWS` rows of every stream's column (blocks of whole chunk
//! rows, stream after stream, so each thread writes a slice of its own), plus what spawning
//! the helper threads allocates ([`SPAWN_BYTES`] each), counted in the decoder's layout.

use super::image::TiffImage;
use super::rows::{read_chunk_row, StripAt};
use super::stream::ChunkStream;
use crate::codec::FailOn;
use crate::error::Result;
use crate::io::Input;

/// Rows of a band (fewer at the end of a row of tiles; TIFF tile heights are multiples of 16).
pub(crate) const BAND_ROWS: u32 = 16;

/// Most helper threads a band uses (beyond the calling thread).
pub(crate) const MAX_HELPERS: usize = 15;

/// Heap a helper thread of a band allocates while it runs (its handle and result packet),
/// measured with dhat (see `tests/heap_tiff_decode.rs`), with room to spare.
pub(crate) const SPAWN_BYTES: usize = 1024;

/// What every stream of a band shares.
pub(crate) struct Band<'a> {
    pub image: &'a TiffImage,
    pub input: &'a Input,
    pub fail_on: FailOn,
    /// The row of tiles the band lies in.
    pub tile_row: u32,
    /// The band's first and end image rows (inside `tile_row`).
    pub rows: std::ops::Range<u32>,
    /// The first tile column of the region, and how many it covers.
    pub first_column: u32,
    pub columns: usize,
}

impl Band<'_> {
    /// Fills `blocks` (one block of band rows per stream) from `streams`, at most `threads`
    /// threads at once (the calling one included). Each thread takes a fixed run of
    /// neighbouring streams, the same in every band, so its streams' LZW tables stay in its
    /// core's cache (a shared queue handing out streams one at a time moved them between cores:
    /// half again as much CPU time).
    pub(crate) fn fill(&self, streams: &mut [ChunkStream], at: &mut [Option<StripAt>], blocks: &mut [u8], threads: usize) -> Result<()> {
        let count = streams.len();
        let threads = threads.clamp(1, count.max(1));
        if threads == 1 {
            return self.fill_part(0, streams, at, blocks);
        }
        let block = blocks.len() / count;
        let per = count.div_ceil(threads);
        let mut parts = streams.chunks_mut(per).zip(at.chunks_mut(per)).zip(blocks.chunks_mut(per * block)).enumerate();
        let (_, ((mine, my_at), my_blocks)) = parts.next().expect("at least one stream");
        std::thread::scope(|scope| {
            let helpers: [Option<std::thread::ScopedJoinHandle<'_, Result<()>>>; MAX_HELPERS] = std::array::from_fn(|_| {
                parts.next().map(|(k, ((s, a), b))| scope.spawn(move || self.fill_part(k * per, s, a, b)))
            });
            let mut result = self.fill_part(0, mine, my_at, my_blocks);
            for helper in helpers.into_iter().flatten() {
                let theirs = helper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                result = result.and(theirs);
            }
            result
        })
    }

    /// Fills the blocks of streams `first..first + streams.len()`.
    fn fill_part(&self, first: usize, streams: &mut [ChunkStream], at: &mut [Option<StripAt>], blocks: &mut [u8]) -> Result<()> {
        let block = blocks.len() / streams.len().max(1);
        for (i, ((stream, at), block)) in streams.iter_mut().zip(at).zip(blocks.chunks_exact_mut(block)).enumerate() {
            self.fill_stream(first + i, stream, at, block)?;
        }
        Ok(())
    }

    /// Stream `s` (plane `s / columns`, column `s % columns` of the region) gives the band's
    /// rows into `block`, starting its chunk when it is not at it yet.
    fn fill_stream(&self, s: usize, stream: &mut ChunkStream, at: &mut Option<StripAt>, block: &mut [u8]) -> Result<()> {
        let c = self.image.chunks;
        let n = self.image.chunk_row_bytes();
        let (plane, column) = (s / self.columns, s % self.columns);
        let mut next = match *at {
            Some(a) if a.strip == self.tile_row && a.next_row <= self.rows.start => a.next_row,
            _ => {
                let index = plane as u64 * c.across as u64 * c.down as u64
                    + self.tile_row as u64 * c.across as u64
                    + self.first_column as u64
                    + column as u64;
                let (offset, len) = self.image.chunk(self.input, index)?;
                stream.start(offset..offset + len)?;
                self.tile_row * c.height
            }
        };
        // Rows above the band (a region starting inside the tile) are read into the first
        // block row and overwritten.
        while next < self.rows.end {
            let r = next.saturating_sub(self.rows.start) as usize;
            read_chunk_row(stream, self.image, self.fail_on, &mut block[r * n..][..n])?;
            next += 1;
        }
        *at = Some(StripAt { strip: self.tile_row, next_row: next });
        Ok(())
    }
}
