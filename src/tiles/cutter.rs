//! The band cutter: rows of every level arrive one at a time, top to bottom; each is cut into
//! the tiles of the row of tiles it belongs to and handed to their encoders, and passed to the
//! level's 2x reducer, whose rows feed the level below.
//!
//! A level holds no band of rows: its tiles are encoded as their rows arrive (see
//! [`super::column`]). What it holds is the rows shared by two rows of tiles (Deep Zoom's
//! overlap: 2 rows for overlap 1), kept until the next row of tiles starts, and its reducer's
//! row. So the memory of the whole pyramid is a few rows per level (plus a few small batches
//! where encoders pull) and one encoder per tile column: `O(width x levels)`, whatever the
//! image's height.

use std::sync::Arc;

use super::layouts::Naming;
use super::levels::{Geometry, Level, Span};
use super::reduce::Reducer;
use super::column::{Column, Shared, DIRECT_BUFFER};
use super::tile_buffer::SPILL_BYTES;
use super::worker::{BATCHES_PER_COLUMN, BATCH_ROWS};
use crate::codec::spec::EncoderSpec;
use crate::error::{Error, Result};
use crate::pixel::{ImageInfo, PixelFormat};

/// Most tile columns (one encoder each, a thread each when the encoder pulls) a pyramid may run
/// at once.
pub const MAX_COLUMNS: u64 = 4096;

/// Skipping blank tiles: a tile is blank when every sample is within `threshold` of `ink`.
#[derive(Debug, Clone)]
pub struct BlankTest {
    /// The background pixel.
    pub ink: Vec<u8>,
    /// Largest difference per sample still counted as background.
    pub threshold: u8,
}

impl BlankTest {
    fn row_is_blank(&self, row: &[u8]) -> bool {
        let t = self.threshold;
        row.chunks_exact(self.ink.len()).all(|px| px.iter().zip(&self.ink).all(|(&p, &i)| p.abs_diff(i) <= t))
    }
}

/// The buffers of one level, as [`LevelCutter::new`] allocates them and the plan prices them.
#[derive(Debug, Clone, Copy)]
pub struct LevelBuffers {
    /// Shared rows kept for the next row of tiles.
    pub carry: usize,
    /// The reducer feeding the level below (0 for the smallest level).
    pub reducer: usize,
    /// Tile columns (one encoder each).
    pub columns: u32,
    /// Per column: the tile's file buffer or its encoded bytes held for a ZIP, and the row
    /// batches in circulation when the encoder has a worker thread.
    pub per_column: usize,
    /// The encoder's own heap while it encodes one tile of this level.
    pub encoder: usize,
}

impl LevelBuffers {
    /// The buffers of level `index` of `geometry`, `format` pixels, tiles encoded by `encoder`
    /// into a ZIP (a tile buffered whole, up to [`SPILL_BYTES`] in memory) or into files (through
    /// a [`DIRECT_BUFFER`]).
    pub fn of(geometry: &Geometry, index: usize, format: PixelFormat, encoder: &dyn EncoderSpec, zip: bool) -> LevelBuffers {
        let level = geometry.levels[index];
        let bpp = format.bytes_per_pixel();
        let side = geometry.max_tile_side().min(level.width.max(level.height));
        let tile_width = side.min(level.width);
        let tile = ImageInfo { width: tile_width, height: side.min(level.height), format };
        LevelBuffers {
            carry: geometry.shared_rows() as usize * level.width as usize * bpp,
            reducer: if index + 1 < geometry.levels.len() { Reducer::heap_bytes(level.width, bpp) } else { 0 },
            columns: level.tiles_across,
            per_column: if encoder.encodes_pushed_rows(format) { 0 } else { BATCHES_PER_COLUMN * BATCH_ROWS as usize * tile_width as usize * bpp }
                + if zip { SPILL_BYTES } else { DIRECT_BUFFER }
                + 1024,
            encoder: encoder.heap_bytes(tile),
        }
    }

    /// Heap bytes of the level.
    pub fn heap_bytes(&self) -> usize {
        self.carry + self.reducer + self.columns as usize * (self.per_column + self.encoder)
    }
}

/// One level: its current row of tiles, its encoders and its reducer.
struct LevelCutter {
    index: usize,
    level: Level,
    bpp: usize,
    /// The next row of this level to arrive.
    row: u32,
    /// The row of tiles being filled, and its rows.
    tile_row: u32,
    span: Span,
    started: bool,
    columns: Vec<Column>,
    x_spans: Vec<Span>,
    /// Rows that also belong to the next row(s) of tiles: rows `carry_first..` in order.
    carry: Vec<u8>,
    carry_first: u32,
    carry_rows: u32,
    reducer: Option<Reducer>,
}

/// Cuts every level of a pyramid into tiles.
pub struct Cutter {
    geometry: Arc<Geometry>,
    naming: Arc<Naming>,
    format: PixelFormat,
    blank: Option<BlankTest>,
    levels: Vec<LevelCutter>,
    shared: Arc<Shared>,
}

impl Cutter {
    /// A cutter for `geometry`'s levels of `format` pixels, tiles encoded by `encoder` and stored
    /// through `shared`.
    pub fn new(
        geometry: Arc<Geometry>,
        naming: Arc<Naming>,
        format: PixelFormat,
        encoder: Arc<dyn EncoderSpec>,
        blank: Option<BlankTest>,
        shared: Arc<Shared>,
    ) -> Result<Cutter> {
        let columns: u64 = geometry.levels.iter().map(|l| l.tiles_across as u64).sum();
        if columns > MAX_COLUMNS {
            return Err(Error::limits(format!("{columns} tile columns (one encoder each) is over {MAX_COLUMNS}: use larger tiles")));
        }
        let bpp = format.bytes_per_pixel();
        let mut levels = Vec::with_capacity(geometry.levels.len());
        for (index, &level) in geometry.levels.iter().enumerate() {
            let buffers = LevelBuffers::of(&geometry, index, format, &*encoder, false);
            let columns = (0..level.tiles_across).map(|_| Column::new(encoder.clone(), format, shared.clone())).collect::<Result<Vec<_>>>()?;
            levels.push(LevelCutter {
                index,
                level,
                bpp,
                row: 0,
                tile_row: 0,
                span: geometry.span(0, level.height),
                started: false,
                columns,
                x_spans: (0..level.tiles_across).map(|x| geometry.span(x, level.width)).collect(),
                carry: vec![0; buffers.carry],
                carry_first: 0,
                carry_rows: 0,
                reducer: (index + 1 < geometry.levels.len()).then(|| Reducer::new(level.width, bpp)),
            });
        }
        Ok(Cutter { geometry, naming, format, blank, levels, shared })
    }

    /// Takes the next row of the full-resolution level.
    pub fn push(&mut self, row: &[u8]) -> Result<()> {
        self.push_at(0, row)
    }

    fn push_at(&mut self, index: usize, row: &[u8]) -> Result<()> {
        if self.shared.failed.load(std::sync::atomic::Ordering::Acquire) {
            return Err(self.shared.take_error().unwrap_or_else(|| Error::parameter("a tile encoder failed")));
        }
        let ctx = Context { geometry: &self.geometry, naming: &self.naming, format: self.format, blank: self.blank.as_ref() };
        let level = &mut self.levels[index];
        level.take_row(&ctx, row)?;
        let reduced = level.reducer.as_mut().is_some_and(|r| r.push(row).is_some());
        if reduced {
            cascade(&mut self.levels, &ctx, index)?;
        }
        Ok(())
    }

    /// Ends the image: the last rows of odd-height levels go down, every level's last row of
    /// tiles is finished, and the workers are stopped.
    pub fn finish(mut self) -> Result<()> {
        let ctx = Context { geometry: &self.geometry, naming: &self.naming, format: self.format, blank: self.blank.as_ref() };
        for index in 0..self.levels.len() {
            let pending = self.levels[index].reducer.as_mut().is_some_and(|r| r.finish().is_some());
            if pending {
                cascade(&mut self.levels, &ctx, index)?;
            }
        }
        for level in &self.levels {
            if level.row != level.level.height {
                return Err(Error::parameter(format!("level {} got {} of {} rows", level.level.number, level.row, level.level.height)));
            }
        }
        for level in &mut self.levels {
            for column in &mut level.columns {
                column.close();
            }
        }
        match self.shared.take_error() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Passes the row that level `from`'s reducer just made down the levels, as far as each level's
/// reducer completes a pair of rows (no row is copied on the way).
fn cascade(levels: &mut [LevelCutter], ctx: &Context, from: usize) -> Result<()> {
    let mut i = from;
    loop {
        let (upper, lower) = levels.split_at_mut(i + 1);
        let row = upper[i].reducer.as_ref().expect("a level with a row reduced").output();
        let next = &mut lower[0];
        next.take_row(ctx, row)?;
        let reduced = next.reducer.as_mut().is_some_and(|r| r.push(row).is_some());
        if !reduced {
            return Ok(());
        }
        i += 1;
    }
}

/// What every level reads while taking a row.
struct Context<'a> {
    geometry: &'a Geometry,
    naming: &'a Naming,
    format: PixelFormat,
    blank: Option<&'a BlankTest>,
}

impl LevelCutter {
    fn row_bytes(&self) -> usize {
        self.level.width as usize * self.bpp
    }

    /// Takes row `self.row` of this level.
    fn take_row(&mut self, ctx: &Context, row: &[u8]) -> Result<()> {
        let r = self.row;
        if r >= self.level.height {
            return Err(Error::parameter(format!("level {} got more than {} rows", self.level.number, self.level.height)));
        }
        self.row += 1;
        if !self.started {
            self.start(ctx)?;
        }
        self.feed(ctx, row)?;
        // A row the next row of tiles needs too is kept until that row of tiles starts.
        let next = self.tile_row + 1;
        if next < self.level.tiles_down && r >= ctx.geometry.span(next, self.level.height).start {
            let row_bytes = self.row_bytes();
            if self.carry_rows == 0 {
                self.carry_first = r;
            }
            let at = self.carry_rows as usize * row_bytes;
            self.carry[at..at + row_bytes].copy_from_slice(row);
            self.carry_rows += 1;
        }
        if r + 1 == self.span.end {
            self.end_tile_row(ctx)?;
        }
        Ok(())
    }

    /// Starts the row of tiles `self.tile_row`.
    fn start(&mut self, ctx: &Context) -> Result<()> {
        self.span = ctx.geometry.span(self.tile_row, self.level.height);
        for (x, column) in self.columns.iter_mut().enumerate() {
            let xs = &self.x_spans[x];
            let info = ImageInfo { width: xs.end - xs.start, height: self.span.end - self.span.start, format: ctx.format };
            column.start(ctx.naming.tile_path(ctx.geometry, self.index, x as u32, self.tile_row), info)?;
        }
        self.started = true;
        Ok(())
    }

    /// Hands one row of the current row of tiles to its columns.
    fn feed(&mut self, ctx: &Context, row: &[u8]) -> Result<()> {
        for (column, xs) in self.columns.iter_mut().zip(&self.x_spans) {
            let part = &row[xs.start as usize * self.bpp..xs.end as usize * self.bpp];
            if let Some(test) = ctx.blank {
                if column.blank && !test.row_is_blank(part) {
                    column.blank = false;
                }
            }
            column.push_row(part)?;
        }
        Ok(())
    }

    /// Ends the current row of tiles, starts the next with the rows it shares with this one.
    fn end_tile_row(&mut self, ctx: &Context) -> Result<()> {
        for column in &mut self.columns {
            let blank = ctx.blank.is_some() && column.blank;
            column.end(blank)?;
        }
        self.tile_row += 1;
        self.started = false;
        if self.tile_row >= self.level.tiles_down {
            return Ok(());
        }
        self.start(ctx)?;
        let row_bytes = self.row_bytes();
        let carried = std::mem::take(&mut self.carry);
        let rows = self.carry_rows;
        for i in 0..rows {
            let at = i as usize * row_bytes;
            self.feed(ctx, &carried[at..at + row_bytes])?;
        }
        self.carry = carried;
        // Keep those that the row of tiles after this one needs as well.
        let next = self.tile_row + 1;
        let keep_from = if next < self.level.tiles_down { ctx.geometry.span(next, self.level.height).start } else { u32::MAX };
        let drop = keep_from.saturating_sub(self.carry_first).min(rows);
        self.carry.copy_within(drop as usize * row_bytes..rows as usize * row_bytes, 0);
        self.carry_rows = rows - drop;
        self.carry_first += drop;
        Ok(())
    }
}
