//! The GIF row source, over the `gif` crate's LZW decoder (palette indices, line by line).
//!
//! Two ways to serve rows, chosen by [`GifLayout`]:
//!
//! * **streamed**: page 0 whose frame is not interlaced. Each output row inside the frame is one
//!   line of indices from the `gif` crate, mapped through the palette; rows and columns of the
//!   logical screen outside the frame are transparent. Memory: the `gif` crate's state and one
//!   line.
//! * **canvas**: an interlaced first frame (its lines come in four passes), or a page past the
//!   first. The frames up to the page are decoded when the decoder is built and composited on an
//!   RGBA canvas of the logical screen as a browser shows them: transparent pixels leave the
//!   canvas as it is, and before the next frame each frame's disposal applies (2: its rectangle
//!   cleared to transparent, 3: restored to what it was before it, from a saved copy). Rows are
//!   then served from the canvas.

use std::sync::Arc;

use super::blocks::GifLayout;
use crate::error::{Error, Result};
use crate::io::{is_input_ended, Input, InputReader};
use crate::pipeline::{RowCounter, RowSource};
use crate::pixel::{ImageInfo, PixelFormat};

/// The largest extension block (comment, application data, XMP) the `gif` crate may collect:
/// [`crate::codec::Embedded::MAX_BLOCK_BYTES`]; a larger one is an [`Error::Limits`].
pub const MAX_EXTENSION_BYTES: usize = crate::codec::Embedded::MAX_BLOCK_BYTES;

/// The pixel format rows of `layout` are decoded to: RGB8 for a first frame that covers the
/// screen without a transparent index, RGBA8 otherwise.
pub fn output_format(layout: &GifLayout) -> PixelFormat {
    if layout.page_index == 0 && layout.first.covers(layout.width, layout.height) && layout.first.transparent.is_none() {
        PixelFormat::RGB8
    } else {
        PixelFormat::RGBA8
    }
}

/// Whether `layout`'s page is served from a composited canvas (else streamed).
pub fn needs_canvas(layout: &GifLayout) -> bool {
    layout.page_index > 0 || layout.first.interlaced
}

/// The stripflow error for a `gif` crate error.
pub(crate) fn gif_error(e: gif::DecodingError) -> Error {
    match e {
        gif::DecodingError::Io(io) if is_input_ended(&io) => Error::Io(io),
        gif::DecodingError::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => Error::format("GIF", "file truncated"),
        gif::DecodingError::Io(io) => Error::Io(io),
        gif::DecodingError::Format(f) if f.to_string().contains("memory limit") => {
            Error::limits(format!("a GIF extension block is over {MAX_EXTENSION_BYTES} bytes"))
        }
        gif::DecodingError::Format(f) => Error::format("GIF", f),
    }
}

type GifReader = gif::Decoder<InputReader>;

/// A palette: up to 256 RGB entries.
#[derive(Clone)]
struct Palette {
    rgb: [u8; 768],
    len: usize,
}

impl Palette {
    fn of(decoder: &GifReader) -> Result<Palette> {
        let p = decoder.palette().map_err(gif_error)?;
        let len = (p.len() / 3).min(256);
        let mut rgb = [0u8; 768];
        rgb[..len * 3].copy_from_slice(&p[..len * 3]);
        Ok(Palette { rgb, len })
    }

    fn get(&self, index: u8) -> Result<&[u8]> {
        let i = index as usize;
        if i >= self.len {
            return Err(Error::format("GIF", format!("palette index {i} out of range (the palette has {} colours)", self.len)));
        }
        Ok(&self.rgb[i * 3..i * 3 + 3])
    }
}

/// Opens the `gif` crate's decoder on `input` (indexed output, extension blocks bounded).
fn open(input: &Input) -> Result<GifReader> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    options.set_memory_limit(gif::MemoryLimit::Bytes(std::num::NonZeroU64::new(MAX_EXTENSION_BYTES as u64).expect("non-zero")));
    options.read_info(input.cursor()).map_err(gif_error)
}

/// The row of a frame `height` tall that its `k`-th stored line is, interlaced.
pub(crate) fn interlaced_row(k: u32, height: u32) -> u32 {
    let passes = [(0u32, 8u32), (4, 8), (2, 4), (1, 2)];
    let mut k = k;
    for (start, step) in passes {
        let lines = height.saturating_sub(start).div_ceil(step);
        if k < lines {
            return start + k * step;
        }
        k -= lines;
    }
    height
}

enum Rows {
    /// Page 0 streamed: the decoder positioned in the frame's data, the palette, one line.
    Streamed { reader: Box<GifReader>, palette: Box<Palette>, line: Vec<u8>, frame_rows_read: u32 },
    /// The composited page.
    Canvas(Vec<u8>),
}

/// A GIF decoder: the logical screen's rows, top to bottom.
pub struct GifDecoder {
    layout: Arc<GifLayout>,
    info: ImageInfo,
    counter: RowCounter,
    rows: Rows,
    /// Heap held ([`held_bytes`]).
    held: usize,
    failed: bool,
}

impl std::fmt::Debug for GifDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GifDecoder").field("layout", &self.layout).field("next_row", &self.counter.next()).finish()
    }
}

impl GifDecoder {
    /// A decoder for the page `layout` was walked for; decodes and composites the frames up to
    /// it now if it needs the canvas.
    pub fn new(input: Input, layout: Arc<GifLayout>) -> Result<GifDecoder> {
        let info = ImageInfo { width: layout.width as u32, height: layout.height as u32, format: output_format(&layout) };
        let mut reader = Box::new(open(&input)?);
        let rows = if needs_canvas(&layout) {
            Rows::Canvas(composite(&mut reader, &layout)?)
        } else {
            next_frame(&mut reader)?;
            let palette = Box::new(Palette::of(&reader)?);
            Rows::Streamed { reader, palette, line: vec![0; layout.first.width as usize], frame_rows_read: 0 }
        };
        let held = held_bytes(&input, &layout);
        Ok(GifDecoder { counter: RowCounter::new(info.height), info, layout, rows, held, failed: false })
    }

    fn next_row(&mut self, out: &mut [u8]) -> Result<()> {
        let y = self.counter.advance()?;
        let channels = self.info.format.channels();
        match &mut self.rows {
            Rows::Canvas(canvas) => {
                let width = self.info.width as usize;
                let row = &canvas[y as usize * width * 4..][..width * 4];
                if channels == 4 {
                    out.copy_from_slice(row);
                } else {
                    for (o, p) in out.chunks_exact_mut(3).zip(row.chunks_exact(4)) {
                        o.copy_from_slice(&p[..3]);
                    }
                }
            }
            Rows::Streamed { reader, palette, line, frame_rows_read } => {
                let f = self.layout.first;
                out.fill(0);
                let top = f.top as u32;
                if y < top || y >= top + f.height as u32 {
                    return Ok(());
                }
                read_line(reader, line)?;
                *frame_rows_read += 1;
                let transparent = f.transparent;
                let span = (self.info.width as usize).saturating_sub(f.left as usize).min(line.len());
                let Some(dest) = out.get_mut(f.left as usize * channels..) else { return Ok(()) };
                for (o, &index) in dest.chunks_exact_mut(channels).zip(&line[..span]) {
                    if Some(index) == transparent {
                        continue;
                    }
                    o[..3].copy_from_slice(palette.get(index)?);
                    if channels == 4 {
                        o[3] = 255;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Advances `reader` to the next frame's data (a missing frame: truncated).
fn next_frame(reader: &mut GifReader) -> Result<FrameFacts> {
    match reader.next_frame_info().map_err(gif_error)? {
        Some(f) => Ok(FrameFacts {
            left: f.left,
            top: f.top,
            width: f.width,
            height: f.height,
            interlaced: f.interlaced,
            transparent: f.transparent,
            dispose: f.dispose,
        }),
        None => Err(Error::format("GIF", "file truncated before the frame")),
    }
}

/// The `gif` crate's frame header, without its palette (not copied).
struct FrameFacts {
    left: u16,
    top: u16,
    width: u16,
    height: u16,
    interlaced: bool,
    transparent: Option<u8>,
    dispose: gif::DisposalMethod,
}

/// Reads one line of palette indices (the whole of `line`).
fn read_line(reader: &mut GifReader, line: &mut [u8]) -> Result<()> {
    if line.is_empty() {
        return Ok(());
    }
    if !reader.fill_buffer(line).map_err(gif_error)? {
        return Err(Error::format("GIF", "image data ends early"));
    }
    Ok(())
}

/// Decodes frames 0 to `layout.page_index` onto an RGBA canvas of the logical screen.
fn composite(reader: &mut GifReader, layout: &GifLayout) -> Result<Vec<u8>> {
    let (width, height) = (layout.width as usize, layout.height as usize);
    let mut canvas = vec![0u8; width * height * 4];
    let mut saved = Vec::with_capacity(layout.max_restore_bytes);
    let mut line = vec![0u8; layout.max_frame_width as usize];
    for i in 0..=layout.page_index {
        let frame = next_frame(reader)?;
        let palette = Palette::of(reader)?;
        let (left, top) = (frame.left as usize, frame.top as usize);
        let (fw, fh) = (frame.width as usize, frame.height as usize);
        if fw > line.len() {
            return Err(Error::format("GIF", "a frame differs from the block walk"));
        }
        // The frame's rectangle clipped to the screen: columns x0..x1, rows y0..y1.
        let (x0, x1) = (left.min(width), (left + fw).min(width));
        let (y0, y1) = (top.min(height), (top + fh).min(height));
        let row_span = (x1 - x0) * 4;
        let restore = i < layout.page_index && frame.dispose == gif::DisposalMethod::Previous;
        if restore {
            saved.clear();
            for y in y0..y1 {
                saved.extend_from_slice(&canvas[(y * width + x0) * 4..][..row_span]);
            }
        }
        for k in 0..fh as u32 {
            read_line(reader, &mut line[..fw])?;
            let y = top + if frame.interlaced { interlaced_row(k, fh as u32) } else { k } as usize;
            if y >= height {
                continue;
            }
            let row = &mut canvas[(y * width + x0) * 4..][..row_span];
            for (o, &index) in row.chunks_exact_mut(4).zip(&line[..fw]) {
                if Some(index) != frame.transparent {
                    o[..3].copy_from_slice(palette.get(index)?);
                    o[3] = 255;
                }
            }
        }
        if i < layout.page_index {
            match frame.dispose {
                gif::DisposalMethod::Background => {
                    for y in y0..y1 {
                        canvas[(y * width + x0) * 4..][..row_span].fill(0);
                    }
                }
                gif::DisposalMethod::Previous => {
                    for (y, s) in (y0..y1).zip(saved.chunks_exact(row_span.max(1))) {
                        canvas[(y * width + x0) * 4..][..row_span].copy_from_slice(&s[..row_span]);
                    }
                }
                _ => {}
            }
        }
    }
    Ok(canvas)
}

/// Heap a [`GifDecoder`] holds once built for `layout` (its [`RowSource::buffer_bytes`]): the
/// canvas, or the `gif` crate's state and one line.
pub fn held_bytes(input: &Input, layout: &GifLayout) -> usize {
    let own = std::mem::size_of::<GifDecoder>();
    if needs_canvas(layout) {
        own + layout.width as usize * layout.height as usize * 4
    } else {
        own + reader_bytes(input, layout) + std::mem::size_of::<Palette>() + layout.first.width as usize
    }
}

/// Peak heap while a [`GifDecoder`] for `layout` is built and run: what it holds, and for the
/// canvas the `gif` crate's state, a line and the saved rectangle while compositing.
pub fn peak_bytes(input: &Input, layout: &GifLayout) -> usize {
    let held = held_bytes(input, layout);
    if needs_canvas(layout) {
        held + reader_bytes(input, layout) + layout.max_frame_width as usize + layout.max_restore_bytes
    } else {
        held
    }
}

/// The `gif` crate's decoder (gif 0.13, measured with dhat, `tests/heap_new_decoders.rs`): its
/// fixed state ([`GIF_STATE`]: an 8 KiB read buffer, the LZW tables, the palettes), the
/// extension bytes it collects (a vector that may double: twice the longest extension), and the
/// input reader's buffer.
fn reader_bytes(input: &Input, layout: &GifLayout) -> usize {
    GIF_STATE + 2 * layout.max_extension_bytes.max(256) + InputReader::buffer_bytes_for(input)
}

/// The `gif` crate's fixed state: see [`reader_bytes`].
pub const GIF_STATE: usize = 48 * 1024;

impl RowSource for GifDecoder {
    fn info(&self) -> ImageInfo {
        self.info
    }

    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        if row.len() != self.info.row_bytes() {
            return Err(Error::parameter(format!("row buffer of {} bytes, rows are {} bytes", row.len(), self.info.row_bytes())));
        }
        if self.failed {
            return Err(Error::format("GIF", "decoder stopped after an earlier error"));
        }
        let result = self.next_row(row);
        self.failed = result.is_err();
        result
    }

    fn buffer_bytes(&self) -> usize {
        self.held
    }

    fn name(&self) -> &'static str {
        "gif decode"
    }
}

#[cfg(test)]
mod tests {
    use super::interlaced_row;

    #[test]
    fn interlaced_lines_map_to_every_row_once() {
        for height in 1..40 {
            let mut rows: Vec<u32> = (0..height).map(|k| interlaced_row(k, height)).collect();
            rows.sort();
            assert_eq!(rows, (0..height).collect::<Vec<_>>(), "height {height}");
        }
        assert_eq!((0..5).map(|k| interlaced_row(k, 5)).collect::<Vec<_>>(), [0, 4, 2, 1, 3]);
    }
}
