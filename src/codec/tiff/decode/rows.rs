//! The streaming TIFF decoder: a [`RowSource`] that decodes one strip row, or one row of tiles,
//! at a time by positioned reads.
//!
//! * Streamed chunks (every striped file, and tiled files where it costs less): one
//!   [`ChunkStream`] per plane and chunk column (a strip is one column) decompresses its current
//!   chunk a row at a time into a one-row buffer per plane, so memory does not depend on
//!   RowsPerStrip or the tile height (a one-strip file streams too).
//! * Buffered tiles (where many narrow tile columns would need more streams than a tile row
//!   costs): the row of tiles that holds the next output row is decompressed into a buffer of
//!   tile-height rows spanning only the tile columns the region covers, tile by tile, plane by
//!   plane, with one stream.
//!
//! [`DecoderLayout::new`] buffers a row of tiles up to [`MAX_BUFFERED_TILE_ROW`] (faster), and
//! above it streams when that costs less: for 256x256 LZW tiles 16384 wide, 64 streams (about
//! 2.1 MiB) instead of a 12 MiB row of tiles. Streamed tile columns are read a band of rows at
//! a time, the columns shared out among the decoder's threads (see [`super::band`]).
//!
//! Crop-on-load: rows above the region are decompressed and dropped only inside the strip that
//! holds the first wanted row (strips above it, and tiles outside the region's rows and columns,
//! are never read); after the region's last row nothing more is read. The account
//! ([`DecoderLayout`]) gives the exact sizes [`TiffDecoder::new`] allocates.

use std::sync::Arc;

use super::band::{Band, BAND_ROWS, MAX_HELPERS, SPAWN_BYTES};
use super::image::TiffImage;
use super::samples::{undo_predictor, Converter};
use super::stream::ChunkStream;
use crate::codec::FailOn;
use crate::error::{Error, Result};
use crate::io::Input;
use crate::ops::crop::Rect;
use crate::pipeline::{RowCounter, RowSource};
use crate::pixel::ImageInfo;

/// The most heap a buffered row of tiles may take before the decoder streams the tile columns
/// instead (when that costs less): decoding tile by tile keeps one decompressor's state in the
/// CPU cache, measured 2.5x faster than 128 interleaved LZW streams on a 16384-wide file of
/// 128x128 tiles (6 MiB buffered).
const MAX_BUFFERED_TILE_ROW: usize = 8 << 20;

/// The buffers a decoder allocates for one image and region: what the planner prices and what
/// [`TiffDecoder::new`] allocates, from one computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DecoderLayout {
    /// Region decoded, in image pixels.
    pub region: Rect,
    /// First tile column of the region (0 for strips).
    pub first_column: u32,
    /// Bytes of one plane's row buffer: an image row (strips), or tile-height rows of the
    /// region's tile columns (tiles).
    pub plane_bytes: usize,
    /// Bytes of one buffered row of one plane (the stride of `plane_bytes`).
    pub stride: usize,
    /// Planes (each with its buffer).
    pub planes: usize,
    /// Chunk columns the region covers (1 for strips).
    pub columns: usize,
    /// Whether a whole row of tiles is buffered (one stream), rather than one stream per plane
    /// and column giving a row at a time.
    pub buffered: bool,
    /// Chunk streams.
    pub streams: usize,
    /// Bytes of each stream's piece buffer.
    pub piece: usize,
    /// Streamed tile columns: rows each stream gives at a time into the band (0: a row at a
    /// time, no band; strips and buffered tiles).
    pub band_rows: u32,
    /// Threads that fill a band (1 for no band).
    pub threads: usize,
}

impl DecoderLayout {
    /// The layout for decoding `region` (the whole image when `None`) of `image` on at most
    /// `threads` threads.
    pub(crate) fn new(image: &TiffImage, region: Option<Rect>, threads: usize) -> Result<DecoderLayout> {
        let full = Rect { x: 0, y: 0, width: image.width, height: image.height };
        let region = region.unwrap_or(full);
        if region.width == 0
            || region.height == 0
            || region.x as u64 + region.width as u64 > image.width as u64
            || region.y as u64 + region.height as u64 > image.height as u64
        {
            return Err(Error::parameter(format!("crop region {region:?} is not inside the {}x{} TIFF", image.width, image.height)));
        }
        let planes = image.planes();
        let row = image.chunk_row_bytes();
        let tw = image.chunks.width;
        let (first, last) = (region.x / tw, (region.x + region.width - 1) / tw);
        let columns = (last - first + 1) as usize;
        let stride = row * columns;
        let streamed_count = planes * columns;
        let streamed = DecoderLayout {
            region,
            first_column: first,
            plane_bytes: stride,
            stride,
            planes,
            columns,
            buffered: false,
            streams: streamed_count,
            piece: ChunkStream::piece_for(image.compression, image.max_chunk_bytes, streamed_count),
            band_rows: 0,
            threads: 1,
        };
        if !image.chunks.tiled {
            return Ok(streamed);
        }
        let streamed = DecoderLayout {
            band_rows: BAND_ROWS.min(image.chunks.height),
            threads: threads.clamp(1, streamed_count.min(MAX_HELPERS + 1)),
            ..streamed
        };
        let plane_bytes = stride.checked_mul(image.chunks.height as usize).ok_or_else(|| Error::limits("tile row too large"))?;
        let buffered = DecoderLayout {
            plane_bytes,
            buffered: true,
            streams: 1,
            piece: ChunkStream::piece_for(image.compression, image.max_chunk_bytes, 1),
            band_rows: 0,
            threads: 1,
            ..streamed
        };
        let cost = buffered.heap_bytes(image);
        Ok(if cost > MAX_BUFFERED_TILE_ROW && streamed.heap_bytes(image) < cost { streamed } else { buffered })
    }

    /// Heap of the decoder with this layout.
    pub(crate) fn heap_bytes(&self, image: &TiffImage) -> usize {
        self.band_bytes(image)
            + (self.threads - 1) * SPAWN_BYTES
            + self.plane_bytes * self.planes
            + self.streams * ChunkStream::heap_bytes_for(image.compression, self.piece)
            + self.streams * std::mem::size_of::<ChunkStream>()
            + self.planes * std::mem::size_of::<Vec<u8>>()
            + self.streams * std::mem::size_of::<Option<StripAt>>()
    }

    /// Bytes of the band: `band_rows` chunk rows of every stream.
    pub(crate) fn band_bytes(&self, image: &TiffImage) -> usize {
        self.streams * self.band_rows as usize * image.chunk_row_bytes()
    }
}

/// Where a streamed chunk is: its chunk row (strip or row of tiles) and the next row it will give.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StripAt {
    pub strip: u32,
    pub next_row: u32,
}

/// Decompresses the next row of `stream`'s chunk into `out` and undoes the predictor; damaged
/// data is an error or, when `fail_on` allows, zeros.
pub(crate) fn read_chunk_row(stream: &mut ChunkStream, image: &TiffImage, fail_on: FailOn, out: &mut [u8]) -> Result<()> {
    match stream.read(out) {
        Err(e @ Error::Format { .. }) => {
            if fail_on.fails_on(stream.truncated()) {
                return Err(e);
            }
            out.fill(0);
        }
        other => other?,
    }
    if image.predictor {
        undo_predictor(out, image.plane_samples(), image.bits, image.dir.header.big_endian);
    }
    Ok(())
}

/// The decoder.
pub struct TiffDecoder {
    input: Input,
    image: Arc<TiffImage>,
    layout: DecoderLayout,
    info: ImageInfo,
    converter: Converter,
    counter: RowCounter,
    planes: Vec<Vec<u8>>,
    streams: Vec<ChunkStream>,
    /// Streamed chunks: where each stream is.
    strips: Vec<Option<StripAt>>,
    /// Tiles: the row of tiles in the buffers.
    tile_row: Option<u32>,
    /// Streamed tile columns: a block of band rows per stream, and the rows it holds.
    band: Vec<u8>,
    band_rows: std::ops::Range<u32>,
    fail_on: FailOn,
    failed: bool,
    /// Rows of the region that will be read.
    rows_needed: u32,
}

impl TiffDecoder {
    /// A decoder of `region` of `image` (in `input`), emitting CMYK inks when `cmyk`.
    /// Only the first `rows_needed` rows of the region will be read: no tile row is decoded
    /// below them.
    pub(crate) fn new(
        input: Input,
        image: Arc<TiffImage>,
        region: Option<Rect>,
        cmyk: bool,
        fail_on: FailOn,
        rows_needed: u32,
        threads: usize,
    ) -> Result<TiffDecoder> {
        let layout = DecoderLayout::new(&image, region, threads)?;
        let format = image.output_format(cmyk);
        let info = ImageInfo { width: layout.region.width, height: layout.region.height, format };
        let streams = (0..layout.streams)
            .map(|_| ChunkStream::new(input.clone(), image.compression, layout.piece))
            .collect();
        Ok(TiffDecoder {
            converter: Converter::new(&image, format),
            counter: RowCounter::new(info.height),
            planes: (0..layout.planes).map(|_| vec![0u8; layout.plane_bytes]).collect(),
            streams,
            strips: vec![None; layout.streams],
            tile_row: None,
            band: vec![0u8; layout.band_bytes(&image)],
            band_rows: 0..0,
            input,
            image,
            layout,
            info,
            fail_on,
            failed: false,
            rows_needed: rows_needed.clamp(1, layout.region.height),
        })
    }

    /// Starts chunk `index` on stream `s` (an empty chunk reads as zeros).
    fn chunk_start(&mut self, s: usize, index: u64) -> Result<()> {
        let (offset, len) = self.image.chunk(&self.input, index)?;
        self.streams[s].start(offset..offset + len)
    }

    /// Decompresses the next row of the current chunk of stream `s` into `planes[p][at..]`
    /// and undoes the predictor.
    fn next_chunk_row(&mut self, s: usize, p: usize, at: usize) -> Result<()> {
        let n = self.image.chunk_row_bytes();
        read_chunk_row(&mut self.streams[s], &self.image, self.fail_on, &mut self.planes[p][at..at + n])
    }

    /// Streamed chunks: brings every plane's row buffer to image row `y`, each plane and column
    /// from its own stream.
    fn streamed_row(&mut self, y: u32) -> Result<()> {
        let c = self.image.chunks;
        let ty = y / c.height;
        let row_bytes = self.image.chunk_row_bytes();
        let per_plane = c.across as u64 * c.down as u64;
        for p in 0..self.layout.planes {
            for column in 0..self.layout.columns {
                let s = p * self.layout.columns + column;
                let at = match self.strips[s] {
                    Some(at) if at.strip == ty && at.next_row <= y => at,
                    _ => {
                        let tx = self.layout.first_column as u64 + column as u64;
                        self.chunk_start(s, p as u64 * per_plane + ty as u64 * c.across as u64 + tx)?;
                        StripAt { strip: ty, next_row: ty * c.height }
                    }
                };
                let mut next = at.next_row;
                while next <= y {
                    self.next_chunk_row(s, p, column * row_bytes)?;
                    next += 1;
                }
                self.strips[s] = Some(StripAt { strip: ty, next_row: next });
            }
        }
        Ok(())
    }

    /// Tiles: decodes the row of tiles `ty` (the region's columns, every plane) into the
    /// buffers, down to the region's last row inside it.
    fn load_tile_row(&mut self, ty: u32) -> Result<()> {
        let c = self.image.chunks;
        let row_bytes = self.image.chunk_row_bytes();
        let region_end = self.layout.region.y + self.rows_needed.max(self.counter.next());
        let rows = (region_end - ty * c.height).min(c.height);
        let last = (self.layout.region.x + self.layout.region.width - 1) / c.width;
        let per_plane = c.across as u64 * c.down as u64;
        for p in 0..self.layout.planes {
            for tx in self.layout.first_column..=last {
                let index = p as u64 * per_plane + ty as u64 * c.across as u64 + tx as u64;
                self.chunk_start(0, index)?;
                let column = (tx - self.layout.first_column) as usize * row_bytes;
                for r in 0..rows as usize {
                    self.next_chunk_row(0, p, r * self.layout.stride + column)?;
                }
            }
        }
        self.tile_row = Some(ty);
        Ok(())
    }

    /// Streamed tile columns: brings every plane's row buffer to image row `y` from the band,
    /// filling the band first when it does not hold `y`.
    fn banded_row(&mut self, y: u32) -> Result<()> {
        if !self.band_rows.contains(&y) {
            let c = self.image.chunks;
            let tile_row = y / c.height;
            let region_end = self.layout.region.y + self.rows_needed.max(self.counter.next());
            let end = (y + self.layout.band_rows).min((tile_row + 1) * c.height).min(region_end.max(y + 1));
            let band = Band {
                image: &self.image,
                input: &self.input,
                fail_on: self.fail_on,
                tile_row,
                rows: y..end,
                first_column: self.layout.first_column,
                columns: self.layout.columns,
            };
            self.band_rows = 0..0;
            band.fill(&mut self.streams, &mut self.strips, &mut self.band, self.layout.threads)?;
            self.band_rows = y..end;
        }
        let n = self.image.chunk_row_bytes();
        let block = self.layout.band_rows as usize * n;
        let r = (y - self.band_rows.start) as usize;
        for (s, source) in self.band.chunks_exact(block).enumerate() {
            let (p, column) = (s / self.layout.columns, s % self.layout.columns);
            self.planes[p][column * n..][..n].copy_from_slice(&source[r * n..][..n]);
        }
        Ok(())
    }

    fn next_row(&mut self, out: &mut [u8]) -> Result<()> {
        let y = self.layout.region.y + self.counter.advance()?;
        let region = self.layout.region;
        let (offset, x0) = if self.layout.band_rows > 0 {
            self.banded_row(y)?;
            (0, region.x - self.layout.first_column * self.image.chunks.width)
        } else if self.layout.buffered {
            let ty = y / self.image.chunks.height;
            if self.tile_row != Some(ty) {
                self.load_tile_row(ty)?;
            }
            let r = (y - ty * self.image.chunks.height) as usize;
            (r * self.layout.stride, region.x - self.layout.first_column * self.image.chunks.width)
        } else {
            self.streamed_row(y)?;
            (0, region.x - self.layout.first_column * self.image.chunks.width)
        };
        let stride = self.layout.stride;
        let mut slices: [&[u8]; 16] = [&[]; 16];
        for (p, plane) in self.planes.iter().enumerate() {
            slices[p] = &plane[offset..offset + stride];
        }
        self.converter.convert(&slices[..self.planes.len()], x0 as usize, region.width as usize, out);
        Ok(())
    }
}

impl RowSource for TiffDecoder {
    fn info(&self) -> ImageInfo {
        self.info
    }

    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        if row.len() != self.info.row_bytes() {
            return Err(Error::parameter(format!("row buffer of {} bytes, rows are {} bytes", row.len(), self.info.row_bytes())));
        }
        if self.failed {
            return Err(Error::format("TIFF", "decoder stopped after an earlier error"));
        }
        let result = self.next_row(row);
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    fn buffer_bytes(&self) -> usize {
        self.planes.iter().map(Vec::capacity).sum::<usize>()
            + self.band.capacity()
            + self.streams.iter().map(ChunkStream::heap_bytes).sum::<usize>()
            + self.streams.capacity() * std::mem::size_of::<ChunkStream>()
            + self.planes.capacity() * std::mem::size_of::<Vec<u8>>()
            + self.strips.capacity() * std::mem::size_of::<Option<StripAt>>()
    }

    fn name(&self) -> &'static str {
        "tiff decode"
    }
}
