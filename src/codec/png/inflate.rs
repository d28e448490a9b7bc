//! Inflating the `IDAT` stream from the mapped file: an input position that walks across `IDAT`
//! chunks, a scan that validates the whole stream once and takes checkpoints, and cursors that
//! resume from those checkpoints.
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
//! * Resumed cursors pass `TINFL_FLAG_IGNORE_ADLER32`: the scan already verified the checksum,
//!   and a cursor that starts mid-stream cannot compute it anyway.

use miniz_oxide::inflate::core::inflate_flags::{
    TINFL_FLAG_HAS_MORE_INPUT, TINFL_FLAG_IGNORE_ADLER32, TINFL_FLAG_PARSE_ZLIB_HEADER,
};
use miniz_oxide::inflate::core::{decompress, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

use super::chunks::{check_crc, chunk_at, Chunk};
use crate::error::{Error, Result};

/// Size of the ring buffer: the deflate window.
pub(crate) const WINDOW: usize = 32 * 1024;

/// A position in the compressed stream: inside the data of one `IDAT` chunk.
#[derive(Debug, Clone)]
pub(crate) struct IdatPos {
    /// The current `IDAT` chunk.
    chunk: Chunk,
    /// Next unread byte (absolute file offset, within `chunk.data`).
    pos: usize,
    /// Whether another `IDAT` chunk follows this one.
    more: bool,
}

impl IdatPos {
    /// The position at the start of the `IDAT` chunk `first`; `check` verifies its CRC.
    pub fn start(bytes: &[u8], first: Chunk, check: bool) -> Result<IdatPos> {
        if check {
            check_crc(bytes, &first)?;
        }
        let more = next_is_idat(bytes, &first)?;
        Ok(IdatPos { pos: first.data.start, chunk: first, more })
    }

    /// The unread bytes of the current chunk, moving to the next `IDAT` chunk when it is used
    /// up (checking its CRC when `check`); also says whether more chunks follow.
    fn input<'a>(&mut self, bytes: &'a [u8], check: bool) -> Result<(&'a [u8], bool)> {
        while self.pos == self.chunk.data.end && self.more {
            let next = chunk_at(bytes, self.chunk.end())?;
            if check {
                check_crc(bytes, &next)?;
            }
            self.more = next_is_idat(bytes, &next)?;
            self.pos = next.data.start;
            self.chunk = next;
        }
        Ok((&bytes[self.pos..self.chunk.data.end], self.more))
    }

    /// Offset of the chunk after the last `IDAT` chunk, once the input is at the last chunk.
    pub fn after_idat(&self) -> Option<usize> {
        (!self.more).then(|| self.chunk.end())
    }
}

/// Whether the chunk after `chunk` is another `IDAT` (an error if its header is cut off).
fn next_is_idat(bytes: &[u8], chunk: &Chunk) -> Result<bool> {
    let next = chunk_at(bytes, chunk.end())?;
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

/// Inflates the whole `IDAT` stream once, checking chunk CRCs, the zlib header and the Adler-32
/// trailer, and returns a checkpoint for each offset in `starts` (ascending; a checkpoint's
/// offset is at most its start and less than 32 KiB before it), plus the offset of the chunk
/// after the last `IDAT`. `expected` is the number of bytes the image needs; a shorter stream
/// is an error, extra bytes are ignored.
pub(crate) fn scan(
    bytes: &[u8],
    first: Chunk,
    starts: &[u64],
    expected: u64,
    release: &dyn Fn(std::ops::Range<usize>),
) -> Result<(Vec<Checkpoint>, usize)> {
    let mut input = IdatPos::start(bytes, first, true)?;
    let mut state = Box::<DecompressorOxide>::default();
    let mut ring = vec![0u8; WINDOW].into_boxed_slice();
    let mut ring_pos = 0usize;
    let mut total = 0u64;
    let mut checkpoints = Vec::with_capacity(starts.len());
    let mut released_to = input.pos;
    loop {
        // Hand back the file pages this pass has read (it reads every IDAT byte once).
        let keep_from = input.pos.saturating_sub(crate::io::InputReader::KEEP_BEHIND);
        if keep_from >= released_to + crate::io::InputReader::RELEASE_STEP {
            release(released_to..keep_from);
            released_to = keep_from;
        }
        let (data, more) = input.input(bytes, true)?;
        // Take every checkpoint whose start this call may pass (or reach exactly).
        let room = (WINDOW - ring_pos) as u64;
        while let Some(&start) = starts.get(checkpoints.len()) {
            if start > total + room {
                break;
            }
            checkpoints.push(Checkpoint {
                state: state.clone(),
                ring: ring.clone(),
                ring_pos,
                offset: total,
                input: input.clone(),
            });
        }
        let flags = TINFL_FLAG_PARSE_ZLIB_HEADER | if more { TINFL_FLAG_HAS_MORE_INPUT } else { 0 };
        let (status, used, produced) = decompress(&mut state, data, &mut ring, ring_pos, flags);
        input.pos += used;
        ring_pos += produced;
        total += produced as u64;
        if ring_pos == WINDOW {
            ring_pos = 0;
        }
        match status {
            TINFLStatus::Done => break,
            TINFLStatus::HasMoreOutput => {}
            TINFLStatus::NeedsMoreInput if more => {}
            other => return Err(inflate_error(other)),
        }
    }
    if total < expected {
        return Err(Error::format(
            "PNG",
            format!("image data too short: {total} bytes inflated, {expected} needed"),
        ));
    }
    // Skip any remaining (empty or trailing) IDAT chunks, checking their CRCs.
    loop {
        let (data, more) = input.input(bytes, true)?;
        if !more {
            input.pos += data.len();
            break;
        }
        input.pos += data.len();
    }
    let after = input.after_idat().expect("at last IDAT chunk");
    debug_assert_eq!(checkpoints.len(), starts.len());
    Ok((checkpoints, after))
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
    /// File offset up to which this cursor's consumed input has been handed back.
    released_to: usize,
}

impl Cursor {
    /// A cursor whose first byte is decompressed offset `start` (at or after the checkpoint).
    pub fn new(cp: Checkpoint, start: u64) -> Cursor {
        debug_assert!(start >= cp.offset);
        let skip = start - cp.offset;
        let read_pos = cp.ring_pos;
        let released_to = cp.input.pos;
        Cursor { cp, read_pos, skip, done: false, released_to }
    }

    /// A range of the file this cursor has read past and will not read again, once it is worth
    /// releasing (see [`crate::io::Input::release`]); keeps [`crate::io::InputReader::KEEP_BEHIND`].
    pub fn take_consumed(&mut self) -> Option<std::ops::Range<usize>> {
        use crate::io::InputReader;
        let keep_from = self.cp.input.pos.saturating_sub(InputReader::KEEP_BEHIND);
        if keep_from >= self.released_to + InputReader::RELEASE_STEP {
            let range = self.released_to..keep_from;
            self.released_to = keep_from;
            return Some(range);
        }
        None
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        WINDOW + std::mem::size_of::<DecompressorOxide>()
    }

    /// Fills `dst` with the next decompressed bytes.
    pub fn read_exact(&mut self, bytes: &[u8], mut dst: &mut [u8]) -> Result<()> {
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
            let (data, more) = self.cp.input.input(bytes, false)?;
            let flags = TINFL_FLAG_PARSE_ZLIB_HEADER
                | TINFL_FLAG_IGNORE_ADLER32
                | if more { TINFL_FLAG_HAS_MORE_INPUT } else { 0 };
            let (status, used, produced) =
                decompress(&mut self.cp.state, data, &mut self.cp.ring, self.cp.ring_pos, flags);
            self.cp.input.pos += used;
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
            let (checkpoints, after) = scan(&file, first.clone(), &starts, data.len() as u64, &|_| {}).unwrap();
            assert_eq!(&file[after + 4..after + 8], b"IEND");
            for (cp, &start) in checkpoints.into_iter().zip(&starts) {
                assert!(cp.offset <= start && start - cp.offset < WINDOW as u64 + 1);
                let mut cursor = Cursor::new(cp, start);
                let n = (data.len() as u64 - start).min(50_000) as usize;
                let mut got = vec![0u8; n];
                // Read in uneven pieces, as rows would be.
                for piece in got.chunks_mut(313) {
                    cursor.read_exact(&file, piece).unwrap();
                }
                assert!(got == data[start as usize..start as usize + n], "size {size} level {level} start {start}");
            }
            // Asking for more than the stream holds is an error, not a hang.
            let (mut cps, _) = scan(&file, first, &[299_990], data.len() as u64, &|_| {}).unwrap();
            let mut cursor = Cursor::new(cps.pop().unwrap(), 299_990);
            assert!(cursor.read_exact(&file, &mut [0u8; 11]).is_err());
        }
    }

    #[test]
    fn scan_rejects_bad_streams() {
        let data = sample(50_000);
        let file = idat_file(&data, 4096, 6);
        let first = chunk_at(&file, 8).unwrap();
        // Needs more than the stream holds.
        assert!(scan(&file, first.clone(), &[0], 50_001, &|_| {}).is_err());
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
        let err = scan(&bad, first.clone(), &[0], 50_000, &|_| {}).err().expect("Adler-32 mismatch");
        assert!(err.to_string().contains("Adler-32"), "{err}");
        // A CRC error in a later chunk.
        let mut bad = file.clone();
        bad[8 + 12 + 4096 + 8 + 10] ^= 1;
        assert!(scan(&bad, first, &[0], 50_000, &|_| {}).is_err());
    }
}
