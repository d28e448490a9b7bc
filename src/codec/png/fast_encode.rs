//! The default PNG compression (level 1): rows filtered by [`row_filter`](super::row_filter) and
//! deflated by fdeflate's `Compressor` writing straight into 4 KiB `IDAT` chunks.
//!
//! The png crate's `StreamWriter` does the same; we drive fdeflate ourselves for two reasons.
//! Speed: fdeflate emits every code through a small `write_bits` that ends in its writer's
//! `write_all`; with the png crate's chunk writer behind it the compiler stopped inlining that
//! call (10-15 % of a full-size PNG encode), while our sink's fast path is a copy into a fixed
//! buffer, small enough to inline. Safety: fdeflate unwraps the writer's result while it flushes
//! its last bits and the checksum, so a disk that fills at the end of a file would panic inside
//! it; our sink never fails a write: it keeps the first error (in a cell the encoder shares, as
//! fdeflate gives no access to its writer before `finish`), drops what follows, and the encoder
//! returns that error after the strip in which it happened.
//!
//! The output is byte-identical to the png crate's at `Compression::Fast` (same filter choice,
//! same calls into fdeflate, same chunk size), which the tests check.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use super::row_filter::filter_adaptive;

/// Bytes of image data per `IDAT` chunk (the png crate's stream writer default).
pub(crate) const IDAT_CHUNK: usize = 4096;

/// fdeflate's compressor writes into this: whole `IDAT` chunks go to the png writer.
struct IdatSink<'p, W: io::Write> {
    png: &'p mut png::Writer<W>,
    chunk: Box<[u8; IDAT_CHUNK]>,
    filled: usize,
    /// The first write error; shared with [`FastIdat`].
    error: Rc<RefCell<Option<io::Error>>>,
}

impl<W: io::Write> IdatSink<'_, W> {
    /// Writes the full or final chunk; after a failure, discards it.
    #[cold]
    #[inline(never)]
    fn emit(&mut self) {
        if self.error.borrow().is_none() && self.filled > 0 {
            if let Err(e) = self.png.write_chunk(png::chunk::IDAT, &self.chunk[..self.filled]) {
                *self.error.borrow_mut() = Some(match e {
                    png::EncodingError::IoError(e) => e,
                    other => io::Error::other(other.to_string()),
                });
            }
        }
        self.filled = 0;
    }

    /// Appends bytes that do not fit in the chunk's room, emitting chunks as they fill.
    #[cold]
    #[inline(never)]
    fn append_slow(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let take = data.len().min(IDAT_CHUNK - self.filled);
            self.chunk[self.filled..self.filled + take].copy_from_slice(&data[..take]);
            self.filled += take;
            data = &data[take..];
            if self.filled == IDAT_CHUNK {
                self.emit();
            }
        }
    }
}

impl<W: io::Write> io::Write for IdatSink<'_, W> {
    #[inline(always)]
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        io::Write::write_all(self, data)?;
        Ok(data.len())
    }

    /// Never fails: see the module notes.
    #[inline(always)]
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        // Strictly less, so a chunk is emitted as soon as it is full, as the png crate does.
        if self.filled + data.len() < IDAT_CHUNK {
            self.chunk[self.filled..self.filled + data.len()].copy_from_slice(data);
            self.filled += data.len();
        } else {
            self.append_slow(data);
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Filters and deflates rows into `IDAT` chunks, row by row.
pub(crate) struct FastIdat<'p, W: io::Write> {
    compressor: fdeflate::Compressor<IdatSink<'p, W>>,
    bpp: usize,
    /// The last raw row of the previous strip (zeros before the first row).
    above: Vec<u8>,
    filtered: Vec<u8>,
    error: Rc<RefCell<Option<io::Error>>>,
}

impl<'p, W: io::Write> FastIdat<'p, W> {
    /// Starts the zlib stream for rows of `row_bytes` bytes with `bpp` bytes per pixel, writing
    /// chunks through `png` (whose header and metadata chunks are already written).
    pub(crate) fn new(png: &'p mut png::Writer<W>, row_bytes: usize, bpp: usize) -> io::Result<Self> {
        let error = Rc::new(RefCell::new(None));
        let sink = IdatSink { png, chunk: Box::new([0; IDAT_CHUNK]), filled: 0, error: Rc::clone(&error) };
        Ok(FastIdat {
            compressor: fdeflate::Compressor::new(sink)?,
            bpp,
            above: vec![0; row_bytes],
            filtered: vec![0; row_bytes],
            error,
        })
    }

    /// Filters and compresses a strip of whole rows (in the PNG's byte order).
    pub(crate) fn write_rows(&mut self, strip: &[u8]) -> io::Result<()> {
        let row_bytes = self.above.len();
        if row_bytes == 0 {
            return Ok(());
        }
        let mut previous: &[u8] = &self.above;
        for row in strip.chunks_exact(row_bytes) {
            let filter = filter_adaptive(self.bpp, previous, row, &mut self.filtered);
            self.compressor.write_data(&[filter as u8])?;
            self.compressor.write_data(&self.filtered)?;
            previous = row;
        }
        if strip.len() >= row_bytes {
            self.above.copy_from_slice(&strip[strip.len() - row_bytes..]);
        }
        match self.error.borrow_mut().take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Ends the zlib stream and writes the last chunk.
    pub(crate) fn finish(self) -> io::Result<()> {
        let mut sink = self.compressor.finish()?;
        sink.emit();
        let kept = sink.error.borrow_mut().take();
        match kept {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use crate::codec::png::{PngCompression, PngEncoder};
    use crate::pipeline::RowSource;
    use crate::pixel::{BitDepth, ImageInfo, PixelFormat};
    use crate::synth::{Noise, Synthetic};

    /// The png crate's stream writer at `Compression::Fast`, fed the same strips: the path this
    /// module replaced, and the reference for its bytes.
    fn png_crate_fast(source: &mut dyn RowSource, strip_rows: usize) -> Vec<u8> {
        let info = source.info();
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, info.width, info.height);
        encoder.set_color(match info.format.color {
            crate::pixel::ColorType::Gray => png::ColorType::Grayscale,
            crate::pixel::ColorType::GrayAlpha => png::ColorType::GrayscaleAlpha,
            crate::pixel::ColorType::Rgb => png::ColorType::Rgb,
            crate::pixel::ColorType::Rgba => png::ColorType::Rgba,
        });
        encoder.set_depth(match info.format.depth {
            BitDepth::Eight => png::BitDepth::Eight,
            BitDepth::Sixteen => png::BitDepth::Sixteen,
        });
        encoder.set_compression(png::Compression::Fast);
        let mut png_writer = encoder.write_header().unwrap();
        let mut stream = png_writer.stream_writer().unwrap();
        let row = info.row_bytes();
        let mut strip = vec![0u8; row * strip_rows];
        let mut left = info.height as usize;
        while left > 0 {
            let rows = left.min(strip_rows);
            source.read_rows(&mut strip[..rows * row]).unwrap();
            if info.format.depth == BitDepth::Sixteen {
                for s in strip[..rows * row].chunks_exact_mut(2) {
                    let v = u16::from_ne_bytes([s[0], s[1]]);
                    s.copy_from_slice(&v.to_be_bytes());
                }
            }
            stream.write_all(&strip[..rows * row]).unwrap();
            left -= rows;
        }
        stream.finish().unwrap();
        png_writer.finish().unwrap();
        out
    }

    fn ours(source: &mut dyn RowSource, strip_rows: u32) -> Vec<u8> {
        let mut out = Vec::new();
        PngEncoder { compression: PngCompression::Fast, strip_height: strip_rows }.encode(source, &mut out).unwrap();
        out
    }

    #[test]
    fn bytes_match_the_png_crate_for_every_format_width_and_strip() {
        for format in PixelFormat::ALL {
            for (width, height, strip) in [(1, 1, 1), (7, 5, 2), (31, 19, 7), (257, 40, 16), (1000, 9, 64)] {
                let smooth = ours(&mut Synthetic::new(width, height, format, 3), strip);
                let expected = png_crate_fast(&mut Synthetic::new(width, height, format, 3), strip as usize);
                assert!(smooth == expected, "smooth {format} {width}x{height} strip {strip}");

                let info = ImageInfo { width, height, format };
                let noisy = ours(&mut Noise::new(info, 9), strip);
                let expected = png_crate_fast(&mut Noise::new(info, 9), strip as usize);
                assert!(noisy == expected, "noise {format} {width}x{height} strip {strip}");
            }
        }
    }

    /// Accepts `room` bytes, then fails every write (a disk that fills).
    struct FillsUp {
        room: usize,
        written: usize,
    }

    impl Write for FillsUp {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            let take = data.len().min(self.room - self.written);
            if take == 0 && !data.is_empty() {
                return Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full"));
            }
            self.written += take;
            Ok(take)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_writer_that_fails_anywhere_gives_an_error_not_a_panic() {
        let info = ImageInfo { width: 300, height: 60, format: PixelFormat::RGB8 };
        let whole = ours(&mut Noise::new(info, 4), 16);
        assert!(whole.len() > 3 * super::IDAT_CHUNK);
        // Every byte of the header, of the first and last chunk, and of the tail (the last bits,
        // the Adler-32, IEND); a stride through the rest.
        let rooms = (0..200).chain((200..whole.len() - 200).step_by(97)).chain(whole.len() - 200..whole.len());
        for room in rooms {
            let mut disk = FillsUp { room, written: 0 };
            let result = PngEncoder::default().encode(&mut Noise::new(info, 4), &mut disk);
            assert!(result.is_err(), "room {room} of {}", whole.len());
        }
        let mut disk = FillsUp { room: whole.len(), written: 0 };
        PngEncoder::default().encode(&mut Noise::new(info, 4), &mut disk).unwrap();
    }
}
