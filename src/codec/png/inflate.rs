//! Inflating the `IDAT` stream from the input: an input position that walks across `IDAT`
//! chunks, a scan that inflates the stream from its start up to the last offset asked for and
//! takes checkpoints on the way, and cursors that resume from those checkpoints. Each reads the
//! file through its own bounded [`Window`] (positioned reads; sub-slices for input held in
//! memory), never the whole file at once.
//!
//! Validation: the scan's own inflater is not thrown away at the last checkpoint; it becomes the
//! *verifying* cursor (the last pass's), which goes on checking each chunk's CRC-32 over the bytes
//! it inflates and, in [`Cursor::finish`], the Adler-32 trailer and the chunks up to the last
//! `IDAT`. So every byte of the stream is inflated once by the scan or the verifying cursor and
//! once more only if it lies before the last checkpoint (for Adam7, passes 1 to 6: half the
//! data), where an earlier design inflated the whole stream twice (a scan to the end, then the
//! cursors). Damage after the last checkpoint is found when the rows reach it, as in any
//! streaming decoder.
//!
//! # Design notes (miniz_oxide's core inflater with a wrapping buffer)
//!
//! `miniz_oxide::inflate::core::decompress(state, input, window, out_pos, flags)` writes output
//! into `window[out_pos..]` and, unless `TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF` is given, treats
//! `window` as a ring: its length must be a power of two, back-references are read at
//! `(pos - distance) & (len - 1)`. With a 32 KiB ring (the largest deflate distance) the ring *is*
//! the sliding window, so the complete state of an inflater between two calls is the
//! `DecompressorOxide` (a `Clone` value of about 11 KB: Huffman tables, bit buffer, the position
//! inside a match or stored block), the 32 KiB ring, the write position in the ring, and the
//! position in the compressed input. Cloning those is a checkpoint; resuming from a checkpoint
//! produces exactly the bytes the original inflater produced after that point.
//!
//! Facts read from miniz_oxide 0.8.9 `inflate/core.rs` that this relies on:
//! * A call stops when it reaches the end of the ring (`HasMoreOutput`; it may stop inside a
//!   match and resume it next call) or when the input slice is used up (`NeedsMoreInput` if
//!   `TINFL_FLAG_HAS_MORE_INPUT` was set: all input bytes are then absorbed into the bit buffer,
//!   so the next slice starts where this one ended, across `IDAT` chunk boundaries). Without
//!   that flag, running out of input is `FailedCannotMakeProgress`: a truncated stream. For
//!   other statuses the reported input count is exact (unused whole bytes are given back).
//! * `TINFL_FLAG_PARSE_ZLIB_HEADER` must be passed on EVERY call, not only the first: the state
//!   machine consults it at the start (to read CMF/FLG), at the end of the last block (to read the
//!   Adler-32 trailer) and after each call (to update and, at the end, compare the checksum).
//!   Passing it only once would silently skip the Adler-32 check.
//! * The zlib header's window size is checked against the ring size: a 32 KiB ring accepts
//!   every valid header.
//! * A call cannot be told to stop at an arbitrary output offset (the output slice must stay the
//!   whole ring). So a checkpoint is taken *before* the call during which a pass begins, and
//!   records the output offset it was taken at; the cursor resumed from it discards the (fewer
//!   than 32 KiB) bytes up to the pass start, which belong to the previous pass.
//! * A slice that ends before its chunk does (a window is smaller than the chunk) is passed with
//!   `TINFL_FLAG_HAS_MORE_INPUT` too: more input follows, exactly as across chunks.
//! * Resumed cursors pass `TINFL_FLAG_IGNORE_ADLER32`: a cursor that starts mid-stream cannot
//!   compute the checksum; the verifying cursor, which has seen the stream from its start, checks
//!   it.

use miniz_oxide::inflate::core::inflate_flags::{
    TINFL_FLAG_HAS_MORE_INPUT, TINFL_FLAG_IGNORE_ADLER32, TINFL_FLAG_PARSE_ZLIB_HEADER,
};
use miniz_oxide::inflate::core::{decompress, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

use super::chunks::{chunk_from_header, crc32_update, Chunk};
use crate::error::{Error, Result};
use crate::io::{Input, Window};

/// Size of the ring buffer: the deflate window.
pub(crate) const WINDOW: usize = 32 * 1024;

/// Bytes of compressed input each inflater's [`Window`] holds (for a file read by position).
pub(crate) const INPUT_WINDOW: usize = 16 * 1024;

/// The chunk whose header starts at `pos` of `input`, read by position; an error if header,
/// data or CRC run past the end.
pub(crate) fn read_chunk(input: &Input, pos: usize) -> Result<Chunk> {
    let mut header = [0u8; 8];
    let got = input.read_at(pos, &mut header)?;
    chunk_from_header((got == 8).then_some(&header[..]), pos, input.len())
}

/// Checks the CRC-32 stored after `chunk` against its type and data, reading them by position.
pub(crate) fn check_chunk_crc(input: &Input, chunk: &Chunk) -> Result<()> {
    let mut crc = crc32_update(!0, &chunk.kind);
    let mut piece = [0u8; 4096];
    let mut pos = chunk.data.start;
    while pos < chunk.data.end {
        let n = piece.len().min(chunk.data.end - pos);
        input.read_at(pos, &mut piece[..n])?;
        crc = crc32_update(crc, &piece[..n]);
        pos += n;
    }
    compare_crc(input, chunk, crc)
}

/// Compares the running CRC register `crc` of `chunk` with the CRC stored after it.
fn compare_crc(input: &Input, chunk: &Chunk, crc: u32) -> Result<()> {
    let mut stored = [0u8; 4];
    input.read_at(chunk.data.end, &mut stored)?;
    if u32::from_be_bytes(stored) != !crc {
        return Err(Error::format(
            "PNG",
            format!("CRC mismatch in chunk {} at offset {}", String::from_utf8_lossy(&chunk.kind), chunk.data.start - 8),
        ));
    }
    Ok(())
}

/// A position in the compressed stream: inside the data of one `IDAT` chunk.
#[derive(Debug, Clone)]
pub(crate) struct IdatPos {
    /// The current `IDAT` chunk.
    chunk: Chunk,
    /// Next unread byte (absolute file offset, within `chunk.data`).
    pos: usize,
    /// Whether another `IDAT` chunk follows this one.
    more: bool,
    /// When checking: the CRC-32 register over the chunk's type and the data consumed so far.
    crc: Option<u32>,
}

impl IdatPos {
    /// The position at the start of the `IDAT` chunk `first`; `check` verifies chunk CRCs.
    pub fn start(input: &Input, first: Chunk, check: bool) -> Result<IdatPos> {
        let more = next_is_idat(input, &first)?;
        let crc = check.then(|| crc32_update(!0, &first.kind));
        Ok(IdatPos { pos: first.data.start, chunk: first, more, crc })
    }

    /// Unread bytes of the current chunk (some of them, as `window` holds them), moving to the
    /// next `IDAT` chunk when it is used up (checking the finished chunk's CRC when checking);
    /// also says whether more input follows the bytes returned.
    fn input<'a>(&mut self, window: &'a mut Window, input: &'a Input) -> Result<(&'a [u8], bool)> {
        while self.pos == self.chunk.data.end && self.more {
            self.finish_chunk(input)?;
            let next = read_chunk(input, self.chunk.end())?;
            self.more = next_is_idat(input, &next)?;
            self.pos = next.data.start;
            if let Some(crc) = &mut self.crc {
                *crc = crc32_update(!0, &next.kind);
            }
            self.chunk = next;
        }
        // Ask for little: the window refills (a whole buffer) only when it is nearly used up.
        let data = window.get(input, self.pos, 64, self.chunk.data.end)?;
        let more = self.more || self.pos + data.len() < self.chunk.data.end;
        Ok((data, more))
    }

    /// Steps over the first `used` bytes of `data` (what [`IdatPos::input`] returned).
    fn consume(&mut self, data: &[u8], used: usize) {
        if let Some(crc) = &mut self.crc {
            *crc = crc32_update(*crc, &data[..used]);
        }
        self.pos += used;
    }

    /// When checking, compares the CRC of the current chunk, which must be wholly consumed.
    fn finish_chunk(&self, input: &Input) -> Result<()> {
        match self.crc {
            Some(crc) => compare_crc(input, &self.chunk, crc),
            None => Ok(()),
        }
    }

    /// Offset of the chunk after the last `IDAT` chunk, once the input is at the last chunk.
    pub fn after_idat(&self) -> Option<usize> {
        (!self.more).then(|| self.chunk.end())
    }
}

/// Whether the chunk after `chunk` is another `IDAT` (an error if its header is cut off).
fn next_is_idat(input: &Input, chunk: &Chunk) -> Result<bool> {
    let next = read_chunk(input, chunk.end())?;
    Ok(&next.kind == b"IDAT")
}

/// The state of an inflater between two calls, resumable any number of times.
#[derive(Clone)]
pub(crate) struct Checkpoint {
    state: Box<DecompressorOxide>,
    ring: Box<[u8]>,
    /// Where the next call writes in `ring`.
    ring_pos: usize,
    /// Decompressed bytes produced before this checkpoint.
    offset: u64,
    input: IdatPos,
}

/// Maps a failed inflate status to an error.
fn inflate_error(status: TINFLStatus) -> Error {
    let what = match status {
        TINFLStatus::FailedCannotMakeProgress => "image data truncated (zlib stream ends early)",
        TINFLStatus::Adler32Mismatch => "Adler-32 checksum mismatch in image data",
        TINFLStatus::BadParam => "internal inflate parameter error",
        _ => "corrupt deflate stream in image data",
    };
    Error::format("PNG", what)
}

/// Inflates the `IDAT` stream from its start, checking chunk CRCs and the zlib header, up to the
/// last offset in `starts` (ascending, at least one), and returns a cursor for each: cursors
/// resumed from checkpoints for all but the last (a checkpoint's offset is at most its start and
/// less than 32 KiB before it), and the scan's own inflater for the last, which verifies the rest
/// of the stream as it reads (see [`Cursor::finish`]). Reads `input` through windows of
/// [`INPUT_WINDOW`].
pub(crate) fn scan(input: &Input, first: Chunk, starts: &[u64]) -> Result<Vec<Cursor>> {
    let (&last, earlier) = starts.split_last().ok_or_else(|| Error::parameter("no pass to scan for"))?;
    let mut window = Window::new(input, INPUT_WINDOW, first.data.start);
    let mut at = IdatPos::start(input, first, true)?;
    let mut state = Box::<DecompressorOxide>::default();
    let mut ring = vec![0u8; WINDOW].into_boxed_slice();
    let mut ring_pos = 0usize;
    let mut total = 0u64;
    let mut cursors = Vec::with_capacity(starts.len());
    loop {
        // The last start is reached when this call may pass it: stop, and hand the inflater on.
        let room = (WINDOW - ring_pos) as u64;
        if last <= total + room {
            break;
        }
        let (data, more) = at.input(&mut window, input)?;
        // Take every checkpoint whose start this call may pass (or reach exactly).
        while let Some(&start) = earlier.get(cursors.len()) {
            if start > total + room {
                break;
            }
            let mut resume = at.clone();
            resume.crc = None;
            let cp = Checkpoint { state: state.clone(), ring: ring.clone(), ring_pos, offset: total, input: resume };
            cursors.push(Cursor::new(cp, start, input));
        }
        let flags = TINFL_FLAG_PARSE_ZLIB_HEADER | if more { TINFL_FLAG_HAS_MORE_INPUT } else { 0 };
        let (status, used, produced) = decompress(&mut state, data, &mut ring, ring_pos, flags);
        at.consume(data, used);
        ring_pos += produced;
        total += produced as u64;
        if ring_pos == WINDOW {
            ring_pos = 0;
        }
        match status {
            TINFLStatus::Done => {
                return Err(Error::format(
                    "PNG",
                    format!("image data too short: {total} bytes inflated, more than {last} needed"),
                ))
            }
            TINFLStatus::HasMoreOutput => {}
            TINFLStatus::NeedsMoreInput if more => {}
            other => return Err(inflate_error(other)),
        }
    }
    // Checkpoints that start within the final call's reach (they share the last one's window).
    while let Some(&start) = earlier.get(cursors.len()) {
        let mut resume = at.clone();
        resume.crc = None;
        let cp = Checkpoint { state: state.clone(), ring: ring.clone(), ring_pos, offset: total, input: resume };
        cursors.push(Cursor::new(cp, start, input));
    }
    let cp = Checkpoint { state, ring, ring_pos, offset: total, input: at };
    let mut verifying = Cursor::new(cp, last, input);
    verifying.verifying = true;
    cursors.push(verifying);
    Ok(cursors)
}

/// An inflater resumed from a checkpoint, handing out the decompressed bytes from a given
/// offset on.
pub(crate) struct Cursor {
    cp: Checkpoint,
    /// Start of the produced but not yet handed out bytes in the ring (they end at `ring_pos`).
    read_pos: usize,
    /// Bytes still to discard before the first byte wanted.
    skip: u64,
    /// Whether the stream has ended.
    done: bool,
    /// Whether this is the scan's inflater, which has seen the stream from its start: it checks
    /// chunk CRCs as it reads and the Adler-32 trailer at the end.
    verifying: bool,
    /// The compressed bytes (see the module notes).
    window: Window,
}

impl Cursor {
    /// A cursor whose first byte is decompressed offset `start` (at or after the checkpoint),
    /// reading `input` through a window of [`INPUT_WINDOW`].
    pub fn new(cp: Checkpoint, start: u64, input: &Input) -> Cursor {
        debug_assert!(start >= cp.offset);
        let skip = start - cp.offset;
        let read_pos = cp.ring_pos;
        let window = Window::new(input, INPUT_WINDOW, cp.input.pos);
        Cursor { cp, read_pos, skip, done: false, verifying: false, window }
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        WINDOW + std::mem::size_of::<DecompressorOxide>() + self.window.heap_bytes()
    }

    /// Fills `dst` with the next decompressed bytes, reading `input`.
    pub fn read_exact(&mut self, input: &Input, mut dst: &mut [u8]) -> Result<()> {
        loop {
            let avail = self.cp.ring_pos - self.read_pos;
            if self.skip > 0 {
                let n = (self.skip.min(avail as u64)) as usize;
                self.read_pos += n;
                self.skip -= n as u64;
            }
            let avail = self.cp.ring_pos - self.read_pos;
            let n = avail.min(dst.len());
            dst[..n].copy_from_slice(&self.cp.ring[self.read_pos..self.read_pos + n]);
            self.read_pos += n;
            dst = &mut dst[n..];
            if dst.is_empty() && self.skip == 0 {
                return Ok(());
            }
            if self.done {
                return Err(Error::format("PNG", "image data ends early"));
            }
            // Everything produced has been handed out: the next call may overwrite the ring.
            if self.cp.ring_pos == WINDOW {
                self.cp.ring_pos = 0;
                self.read_pos = 0;
            }
            let (data, more) = self.cp.input.input(&mut self.window, input)?;
            let flags = TINFL_FLAG_PARSE_ZLIB_HEADER
                | if self.verifying { 0 } else { TINFL_FLAG_IGNORE_ADLER32 }
                | if more { TINFL_FLAG_HAS_MORE_INPUT } else { 0 };
            let (status, used, produced) =
                decompress(&mut self.cp.state, data, &mut self.cp.ring, self.cp.ring_pos, flags);
            self.cp.input.consume(data, used);
            self.cp.ring_pos += produced;
            self.cp.offset += produced as u64;
            match status {
                TINFLStatus::Done => self.done = true,
                TINFLStatus::HasMoreOutput => {}
                TINFLStatus::NeedsMoreInput if more => {}
                other => return Err(inflate_error(other)),
            }
        }
    }
}

impl Cursor {
    /// For the verifying cursor (the last one [`scan`] returns), once every wanted byte has been
    /// read: inflates to the end of the stream (bytes past the image are allowed and ignored),
    /// checking the Adler-32 trailer, then steps over the rest of the `IDAT` chunks checking their
    /// CRCs, and returns the offset of the chunk after the last `IDAT`.
    pub fn finish(&mut self, input: &Input) -> Result<usize> {
        if !self.verifying {
            return Err(Error::parameter("only the verifying cursor can finish the stream"));
        }
        while !self.done {
            // The bytes left in the ring are past the image: dropped. The ring only wraps at its
            // end (back-references are read relative to the write position).
            if self.cp.ring_pos == WINDOW {
                self.cp.ring_pos = 0;
            }
            self.read_pos = self.cp.ring_pos;
            let (data, more) = self.cp.input.input(&mut self.window, input)?;
            let flags = TINFL_FLAG_PARSE_ZLIB_HEADER | if more { TINFL_FLAG_HAS_MORE_INPUT } else { 0 };
            let (status, used, produced) =
                decompress(&mut self.cp.state, data, &mut self.cp.ring, self.cp.ring_pos, flags);
            self.cp.input.consume(data, used);
            self.cp.ring_pos += produced;
            self.cp.offset += produced as u64;
            match status {
                TINFLStatus::Done => self.done = true,
                TINFLStatus::HasMoreOutput => {}
                TINFLStatus::NeedsMoreInput if more => {}
                other => return Err(inflate_error(other)),
            }
        }
        // Skip any remaining (empty or trailing) IDAT bytes and chunks, checking their CRCs.
        loop {
            let (data, more) = self.cp.input.input(&mut self.window, input)?;
            let n = data.len();
            self.cp.input.consume(data, n);
            if !more {
                break;
            }
        }
        self.cp.input.finish_chunk(input)?;
        Ok(self.cp.input.after_idat().expect("at the last IDAT chunk"))
    }
}

#[cfg(test)]
mod tests {
    use super::super::chunks::{chunk_at, crc32_update, SIGNATURE};
    use super::*;

    /// A fake PNG body: the zlib stream of `data` cut into IDAT chunks of `size` bytes, then IEND.
    fn idat_file(data: &[u8], size: usize, level: u8) -> Vec<u8> {
        let z = miniz_oxide::deflate::compress_to_vec_zlib(data, level);
        let mut file = SIGNATURE.to_vec();
        let mut put = |kind: &[u8; 4], body: &[u8]| {
            file.extend_from_slice(&(body.len() as u32).to_be_bytes());
            file.extend_from_slice(kind);
            file.extend_from_slice(body);
            file.extend_from_slice(&(!crc32_update(crc32_update(!0, kind), body)).to_be_bytes());
        };
        for part in z.chunks(size) {
            put(b"IDAT", part);
        }
        put(b"IEND", &[]);
        file
    }

    /// Compressible but not trivial bytes, with repeats far apart (long back-references).
    fn sample(n: usize) -> Vec<u8> {
        let mut x = 1u32;
        (0..n)
            .map(|i| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                if (i / 5000) % 3 == 1 { (i % 251) as u8 } else { (x >> 29) as u8 + (i / 20000) as u8 }
            })
            .collect()
    }

    #[test]
    fn cursors_resumed_from_checkpoints_read_the_original_bytes() {
        let data = sample(300_000);
        for (size, level) in [(1usize, 6u8), (777, 9), (65536, 1), (100_000, 0)] {
            let file = idat_file(&data, size, level);
            let first = chunk_at(&file, 8).unwrap();
            let starts = [0u64, 1, 32_767, 32_768, 40_000, 123_457, 299_990];
            let input = Input::from_bytes(file.clone());
            let cursors = scan(&input, first.clone(), &starts).unwrap();
            assert_eq!(cursors.len(), starts.len());
            for (mut cursor, &start) in cursors.into_iter().zip(&starts) {
                assert!(cursor.cp.offset <= start && start - cursor.cp.offset < WINDOW as u64 + 1);
                let n = (data.len() as u64 - start).min(50_000) as usize;
                let mut got = vec![0u8; n];
                // Read in uneven pieces, as rows would be.
                for piece in got.chunks_mut(313) {
                    cursor.read_exact(&input, piece).unwrap();
                }
                assert!(got == data[start as usize..start as usize + n], "size {size} level {level} start {start}");
                if start == 299_990 {
                    // The verifying cursor finishes the stream and finds the chunk after it.
                    let after = cursor.finish(&input).unwrap();
                    assert_eq!(&file[after + 4..after + 8], b"IEND");
                } else {
                    assert!(cursor.finish(&input).is_err(), "only the last cursor verifies");
                }
            }
            // Asking for more than the stream holds is an error, not a hang.
            let mut cursor = scan(&input, first, &[299_990]).unwrap().pop().unwrap();
            assert!(cursor.read_exact(&input, &mut [0u8; 11]).is_err());
        }
    }

    /// Scans for `starts`, reads the last cursor to `read_to` and finishes the stream.
    fn scan_and_finish(file: &[u8], starts: &[u64], read_to: u64) -> Result<usize> {
        let input = Input::from_bytes(file.to_vec());
        let first = chunk_at(file, 8).unwrap();
        let mut cursors = scan(&input, first, starts)?;
        let mut last = cursors.pop().unwrap();
        let mut rest = vec![0u8; (read_to - starts[starts.len() - 1]) as usize];
        last.read_exact(&input, &mut rest)?;
        last.finish(&input)
    }

    #[test]
    fn scan_and_the_verifying_cursor_reject_bad_streams() {
        let data = sample(50_000);
        let file = idat_file(&data, 4096, 6);
        assert!(scan_and_finish(&file, &[0, 20_000], 50_000).is_ok());
        // Needs more than the stream holds: in the scan, and in the verifying cursor.
        assert!(scan(&Input::from_bytes(file.clone()), chunk_at(&file, 8).unwrap(), &[50_001 + WINDOW as u64]).is_err());
        assert!(scan_and_finish(&file, &[0, 20_000], 50_001).is_err());
        // Adler-32 trailer wrong (CRC fixed so only the checksum can tell).
        let mut bad = file.clone();
        let last_idat_end = file.len() - 12 - 4;
        bad[last_idat_end - 1] ^= 0x10;
        let mut pos = 8;
        loop {
            let c = chunk_at(&bad, pos).unwrap();
            if c.data.end == last_idat_end {
                let crc = !crc32_update(crc32_update(!0, b"IDAT"), &bad[c.data.clone()]);
                bad[c.data.end..c.data.end + 4].copy_from_slice(&crc.to_be_bytes());
                break;
            }
            pos = c.end();
        }
        let err = scan_and_finish(&bad, &[0, 20_000], 50_000).err().expect("Adler-32 mismatch");
        assert!(err.to_string().contains("Adler-32"), "{err}");
        // A CRC error in an early chunk fails the scan; in a late chunk, the verifying cursor.
        let mut bad = file.clone();
        bad[8 + 12 + 4096 + 8 + 10] ^= 1;
        assert!(scan(&Input::from_bytes(bad.clone()), chunk_at(&bad, 8).unwrap(), &[0, 40_000]).is_err());
        let mut bad = file.clone();
        let late = file.len() - 12 - 4 - 100;
        bad[late] ^= 1;
        assert!(scan(&Input::from_bytes(bad.clone()), chunk_at(&bad, 8).unwrap(), &[0, 1_000]).is_ok());
        assert!(scan_and_finish(&bad, &[0, 1_000], 50_000).is_err());
    }
}
