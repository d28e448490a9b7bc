//! The streaming PNG decoder: a [`RowSource`] over an [`Input`], for every colour type and bit
//! depth, interlaced or not, in memory proportional to the image width.
//!
//! * Non-interlaced files are streamed by the png crate's `Reader::read_row`, which keeps a
//!   window of the inflated stream and the previous row: about 150 KiB plus the larger of
//!   128 KiB and 8 rows, whatever the height (measured with dhat, `tests/heap_png.rs`); it reads
//!   a file through an [`InputReader`]'s 32 KiB buffer. Like
//!   libpng, the png crate stops inflating once it has every row, so a corruption hidden behind
//!   a forged chunk CRC that only lengthens the stream can go unnoticed there; the interlaced
//!   path always inflates to the end and checks the Adler-32.
//! * Interlaced (Adam7) files are decoded by seven inflate cursors (see [`super::adam7`]): the
//!   png crate, like every other library, would need the whole frame for them.
//!
//! Damaged image data fails by default; a lenient [`FailOn`] level instead ignores CRC and
//! Adler-32 mismatches and, where the data cannot be decoded further (truncated, a bad zlib
//! stream or filter type), gives the rows decoded so far and rows of zero bytes after them
//! (non-interlaced files; an interlaced file is checked whole before its first row, so damage
//! there still fails). The `iCCP` chunk is never inflated here (see [`crate::codec::icc`]); an
//! `eXIf` chunk, which the png crate cannot skip, is bounded ([`metadata_heap_bytes`]).
//!
//! Output pixels follow the png crate with `Transformations::EXPAND`: palette to RGB8 (RGBA8
//! with `tRNS`), gray below 8 bits scaled to 8 bits, a `tRNS` colour key becomes alpha, 16-bit
//! samples stay 16-bit (converted to native endianness).

use std::io::{BufRead, Seek};

use super::adam7::Adam7Rows;
use super::chunks::Chunk;
use super::inflate::{check_chunk_crc, read_chunk};
use super::expand::{output_format, Expander, PngColor};
use crate::codec::exif;
use crate::codec::FailOn;
use crate::error::{Error, Result};
use crate::io::{is_input_ended, Input, InputReader};
use crate::pipeline::{RowCounter, RowSource};
use crate::pixel::{BitDepth, ImageInfo, PixelFormat};

/// What a PNG's header chunks say, read without decoding pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PngHeader {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Colour type of the file: "gray", "rgb", "palette", "gray-alpha" or "rgba".
    pub color_type: &'static str,
    /// Bits per sample (per index for palette images): 1, 2, 4, 8 or 16.
    pub bit_depth: u8,
    /// Whether the file is Adam7 interlaced.
    pub interlaced: bool,
    /// Whether the file has a `tRNS` chunk.
    pub has_transparency: bool,
    /// The EXIF orientation (1..=8) of an `eXIf` chunk before the image data, if any.
    pub orientation: Option<u8>,
    /// The pixel format [`PngDecoder`] emits for this file.
    pub output: PixelFormat,
}

/// How to decode a PNG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PngDecodeOptions {
    /// Which damaged image data fails rather than being rendered (see [`FailOn`]); damaged
    /// header chunks always fail.
    pub fail_on: FailOn,
    /// Threads the decoder may use (0 and 1: the calling thread only). With two or more, an
    /// interlaced file's last pass is inflated on a thread of its own.
    pub threads: usize,
}

/// Reads the header of the PNG `input`: walks the chunks up to the first `IDAT`, checking
/// them, without decoding pixels (through an [`InputReader`]: a bounded buffer for a file).
pub fn read_header(input: &Input) -> Result<PngHeader> {
    metadata_heap_bytes(input)?;
    let reader = png_reader(input.cursor(), FailOn::Error)?;
    header_from_info(reader.info())
}

/// A png crate reader set up as stripflow needs: EXPAND, text and ICC chunks skipped (neither
/// inflated nor held), the zlib Adler-32 checked (the png crate skips it by default) so that
/// corrupt image data is an error, unless `fail_on` lets corruption pass.
fn png_reader<R: BufRead + Seek>(r: R, fail_on: FailOn) -> Result<png::Reader<R>> {
    let mut options = png::DecodeOptions::default();
    options.set_ignore_adler32(!fail_on.fails_on_corruption());
    options.set_ignore_crc(!fail_on.fails_on_corruption());
    options.set_ignore_text_chunk(true);
    options.set_ignore_iccp_chunk(true);
    let mut decoder = png::Decoder::new_with_options(r, options);
    decoder.set_transformations(png::Transformations::EXPAND);
    decoder.read_info().map_err(png_error)
}

/// The stripflow error for a png crate error.
fn png_error(e: png::DecodingError) -> Error {
    match e {
        // The file shrank while being read: an I/O error (see `Input::read_at`).
        png::DecodingError::IoError(io) if is_input_ended(&io) => Error::Io(io),
        png::DecodingError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            Error::format("PNG", "file truncated")
        }
        png::DecodingError::IoError(io) => Error::Io(io),
        png::DecodingError::Format(f) => Error::format("PNG", super::codec::plain_message(&f.to_string())),
        png::DecodingError::Parameter(p) => Error::parameter(format!("PNG decoder: {p}")),
        png::DecodingError::LimitsExceeded => Error::limits("PNG decoder memory limit exceeded"),
    }
}

fn header_from_info(info: &png::Info) -> Result<PngHeader> {
    let color = PngColor::from_png(info.color_type);
    let bits = info.bit_depth as u8;
    if info.width == 0 || info.height == 0 {
        return Err(Error::format("PNG", "image has zero width or height"));
    }
    // The png crate 0.18 accepts such a PLTE and then panics expanding it (found by fuzzing).
    if color == PngColor::Palette && info.palette.as_ref().is_some_and(|p| p.len() % 3 != 0) {
        return Err(Error::format("PNG", "PLTE chunk length is not a multiple of 3"));
    }
    Ok(PngHeader {
        width: info.width,
        height: info.height,
        color_type: color.name(),
        bit_depth: bits,
        interlaced: info.interlaced,
        has_transparency: info.trns.is_some(),
        orientation: info.exif_metadata.as_deref().and_then(exif::orientation),
        output: output_format(color, bits, info.trns.is_some()),
    })
}

/// Whether a png crate error means the file ended early (rather than holding wrong data).
fn is_truncation(e: &png::DecodingError) -> bool {
    matches!(e, png::DecodingError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof)
}

/// Heap the png crate spends on metadata chunks it cannot skip in the PNG in `bytes` (an `eXIf`
/// chunk, held twice), beyond the decoder's row buffers: for the planner to count. An `eXIf`
/// chunk over 1 MiB is a [`Error::Limits`] error (and is refused by the decoder too).
pub fn metadata_heap_bytes(input: &Input) -> Result<usize> {
    super::chunks::metadata_heap_bytes(input)
}

/// How rows are produced.
enum Inner {
    /// Non-interlaced: the png crate's row reader; `swap16` when samples need byte swapping.
    Sequential { reader: Box<png::Reader<InputReader>>, swap16: bool, input_buffer: usize },
    /// Interlaced: seven cursors.
    Adam7(Box<Adam7Rows>),
}

/// A streaming PNG decoder: rows top to bottom, in O(width) memory, interlaced or not.
pub struct PngDecoder {
    input: Input,
    header: PngHeader,
    info: ImageInfo,
    rows: RowCounter,
    inner: Inner,
    /// Set after an error: the decoder refuses to continue.
    failed: bool,
    /// Which damage fails.
    fail_on: FailOn,
    /// What damage was passed over (the rows from there on are zero), if any.
    fault: Option<&'static str>,
}

impl std::fmt::Debug for PngDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PngDecoder").field("header", &self.header).field("next_row", &self.rows.next()).finish()
    }
}

impl PngDecoder {
    /// Reads the header chunks of `input` and prepares to decode.
    ///
    /// For an interlaced file this also inflates the image data up to its last pass (checking the
    /// CRCs on the way), so damage in the first half of an interlaced file fails here; damage in
    /// the last pass, the Adler-32 and the chunks after the data fail when the rows reach them.
    pub fn new(input: Input) -> Result<PngDecoder> {
        PngDecoder::with_options(input, PngDecodeOptions::default())
    }

    /// [`PngDecoder::new`] with options (a lenient [`FailOn`] level).
    pub fn with_options(input: Input, options: PngDecodeOptions) -> Result<PngDecoder> {
        metadata_heap_bytes(&input)?;
        let reader = png_reader(input.cursor(), options.fail_on)?;
        let header = header_from_info(reader.info())?;
        let info = ImageInfo { width: header.width, height: header.height, format: header.output };
        let row_bytes = info.row_bytes();
        let inner = if !header.interlaced {
            if reader.output_line_size(header.width) != Some(row_bytes) {
                return Err(Error::unsupported("PNG", "output layout differs from the expected pixel format"));
            }
            Inner::Sequential {
                input_buffer: InputReader::buffer_bytes_for(&input),
                reader: Box::new(reader),
                swap16: header.output.depth == BitDepth::Sixteen && cfg!(target_endian = "little"),
            }
        } else {
            let png_info = reader.info();
            let color = PngColor::from_png(png_info.color_type);
            let expander =
                Expander::new(color, header.bit_depth, png_info.palette.as_deref(), png_info.trns.as_deref())?;
            drop(reader);
            let first = first_idat(&input)?;
            let rows =
                Adam7Rows::new(&input, first, header.width, header.height, color, header.bit_depth, expander, options.threads)?;
            Inner::Adam7(Box::new(rows))
        };
        Ok(PngDecoder {
            input,
            header,
            info,
            rows: RowCounter::new(info.height),
            inner,
            failed: false,
            fail_on: options.fail_on,
            fault: None,
        })
    }

    /// What the header chunks say.
    pub fn header(&self) -> &PngHeader {
        &self.header
    }

    /// The damage passed over under a lenient [`FailOn`] level, if any (the rows from there on
    /// are zero): what a caller prints as a warning.
    pub fn fault(&self) -> Option<&'static str> {
        self.fault
    }

    fn next_row(&mut self, row: &mut [u8]) -> Result<()> {
        let y = self.rows.advance()?;
        match &mut self.inner {
            Inner::Sequential { .. } if self.fault.is_some() => row.fill(0),
            Inner::Sequential { reader, swap16, .. } => {
                let fault = match reader.read_row(row) {
                    Ok(Some(_)) => None,
                    Ok(None) => Some((Error::format("PNG", "image data ends early"), false)),
                    Err(e) => {
                        let truncated = is_truncation(&e);
                        Some((png_error(e), truncated))
                    }
                };
                if let Some((error, truncated)) = fault {
                    if self.fail_on.fails_on(truncated) {
                        return Err(error);
                    }
                    self.fault = Some(if truncated { "image data truncated" } else { "corrupt image data" });
                    row.fill(0);
                    return Ok(());
                }
                if *swap16 {
                    for s in row.chunks_exact_mut(2) {
                        s.swap(0, 1);
                    }
                }
                if self.rows.is_done() {
                    // Reads the rest of the file up to IEND, so truncation is noticed.
                    if let Err(e) = reader.finish() {
                        if self.fail_on.fails_on(is_truncation(&e)) {
                            return Err(png_error(e));
                        }
                        self.fault = Some("damaged chunks after the image data");
                    }
                }
            }
            Inner::Adam7(rows) => {
                if let Some(after_idat) = rows.read_row(&self.input, y, row)? {
                    check_tail(&self.input, after_idat)?;
                }
            }
        }
        Ok(())
    }
}

/// The first `IDAT` chunk of `input` (the png crate has already validated what precedes it).
fn first_idat(input: &Input) -> Result<Chunk> {
    super::chunks::header_chunk(input, b"IDAT")?.ok_or_else(|| Error::format("PNG", "no image data"))
}

/// Checks the chunks after the image data up to `IEND`: present, complete, CRCs right (like the
/// png crate, an ancillary chunk with a bad CRC is skipped rather than fatal).
fn check_tail(input: &Input, mut pos: usize) -> Result<()> {
    loop {
        let chunk = read_chunk(input, pos)?;
        let ancillary = chunk.kind[0] & 0x20 != 0;
        if !ancillary {
            check_chunk_crc(input, &chunk)?;
        }
        match &chunk.kind {
            b"IEND" => return Ok(()),
            b"IDAT" => return Err(Error::format("PNG", "IDAT chunks are not consecutive")),
            _ => pos = chunk.end(),
        }
    }
}

impl RowSource for PngDecoder {
    fn info(&self) -> ImageInfo {
        self.info
    }

    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        if row.len() != self.info.row_bytes() {
            return Err(Error::parameter(format!(
                "row buffer of {} bytes, rows are {} bytes",
                row.len(),
                self.info.row_bytes()
            )));
        }
        if self.failed {
            return Err(Error::format("PNG", "decoder stopped after an earlier error"));
        }
        let result = self.next_row(row);
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    fn buffer_bytes(&self) -> usize {
        match &self.inner {
            // The png crate's own buffers, by the same model the planner uses (read to the last
            // row), and the input reader's window.
            Inner::Sequential { input_buffer, .. } => {
                let h = &self.header;
                super::codec::sequential_decoder_bytes(h.width, h.height, h.height, super::codec::bits_per_pixel(h))
                    + input_buffer
            }
            Inner::Adam7(rows) => rows.heap_bytes(),
        }
    }

    fn name(&self) -> &'static str {
        "png decode"
    }
}
