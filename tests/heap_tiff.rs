//! dhat heap tests of the streaming TIFF encoder: a 16384x65535 RGB image (3 GiB of pixels,
//! generated row by row, never held) written as a deflate BigTIFF into a seekable sink that
//! stores nothing but the header and the file's last 4 MiB, in well under 1 MiB of heap; the
//! encoder's account (`heap_bytes`) against dhat for each compression and a bit-depth
//! conversion; and peaks flat in height (only the 4-byte-a-strip byte-count table grows).
//!
//! Each scenario runs in its own process (see `support/heap.rs`); the row generator and the sink
//! are built before the profiler starts.

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod support;

use std::io::{Seek, SeekFrom, Write};

use stripflow::codec::tiff::TiffEncoder;
use stripflow::codec::{EncoderSpec, TiffCompression};
use stripflow::synth::Synthetic;
use stripflow::{BitDepth, ImageInfo, PixelFormat};
use support::heap::{human, HeapTests};

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;

/// Bytes of the file's end the sink keeps (a compressed TIFF's IFD and strip tables are last).
const TAIL: usize = 4 << 20;
/// Bytes of the file's start the sink keeps (an uncompressed TIFF's IFD and tables are first).
const HEAD: usize = 4 << 20;

/// A `Write + Seek` sink that discards the data: it tracks the position and length, keeps the
/// first [`HEAD`] bytes (the header, patched by a seek) and the last [`TAIL`] bytes written past
/// them in a ring, both allocated before the profiler starts.
struct TailSink {
    position: u64,
    len: u64,
    head: Vec<u8>,
    ring: Vec<u8>,
    seeks: u32,
}

impl TailSink {
    fn new() -> Self {
        TailSink { position: 0, len: 0, head: vec![0; HEAD], ring: vec![0; TAIL], seeks: 0 }
    }

    /// The byte at `at`, which must be in the header or the kept tail.
    fn byte(&self, at: u64) -> u8 {
        if at < HEAD as u64 && at < self.len {
            self.head[at as usize]
        } else {
            assert!(at + TAIL as u64 >= self.len && at < self.len, "byte {at} not kept (file of {})", self.len);
            self.ring[(at % TAIL as u64) as usize]
        }
    }

    fn le(&self, at: u64, n: u64) -> u64 {
        (0..n).rev().fold(0, |v, i| (v << 8) | self.byte(at + i) as u64)
    }
}

impl Write for TailSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for (i, &b) in buf.iter().enumerate().take_while(|(i, _)| self.position + (*i as u64) < HEAD as u64) {
            self.head[(self.position + i as u64) as usize] = b;
        }
        // Only the last TAIL bytes of `buf` can stay in the ring; copy them in one or two runs.
        let skip = buf.len().saturating_sub(TAIL).max(HEAD.saturating_sub(self.position as usize).min(buf.len()));
        let (mut at, mut rest) = (self.position + skip as u64, &buf[skip..]);
        while !rest.is_empty() {
            let start = (at % TAIL as u64) as usize;
            let n = rest.len().min(TAIL - start);
            self.ring[start..start + n].copy_from_slice(&rest[..n]);
            at += n as u64;
            rest = &rest[n..];
        }
        self.position += buf.len() as u64;
        self.len = self.len.max(self.position);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Seek for TailSink {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.seeks += 1;
        self.position = match pos {
            SeekFrom::Start(p) => p,
            SeekFrom::End(d) => (self.len as i64 + d) as u64,
            SeekFrom::Current(d) => (self.position as i64 + d) as u64,
        };
        Ok(self.position)
    }
}

/// What the sink's header and IFD say, checked for consistency: BigTIFF, the size, as many
/// strips as RowsPerStrip implies, back to back: after the header and before the IFD when the
/// strips are compressed (the IFD written last), after the IFD up to the end of the file when
/// not (the layout computed up front). Returns the strip count and the file length.
fn check_bigtiff(sink: &TailSink, width: u32, height: u32) -> (u64, u64) {
    assert_eq!(&sink.head[..8], b"II+\0\x08\0\0\0", "BigTIFF header");
    let ifd = sink.le(8, 8);
    let entries = sink.le(ifd, 8);
    let mut tags = [0u64; 5]; // width, height, rows per strip, strip count, compression
    let (mut offsets_at, mut counts_at) = (0, 0);
    for i in 0..entries {
        let e = ifd + 8 + 20 * i;
        let (tag, count, value) = (sink.le(e, 2), sink.le(e + 4, 8), e + 12);
        match tag {
            256 => tags[0] = sink.le(value, 4),
            257 => tags[1] = sink.le(value, 4),
            259 => tags[4] = sink.le(value, 2),
            278 => tags[2] = sink.le(value, 4),
            273 => {
                tags[3] = count;
                offsets_at = sink.le(value, 8);
            }
            279 => {
                assert_eq!(count, tags[3]);
                counts_at = sink.le(value, 8);
            }
            _ => {}
        }
    }
    assert_eq!((tags[0], tags[1]), (width as u64, height as u64));
    let strips = tags[3];
    assert_eq!(strips, (height as u64).div_ceil(tags[2]), "strip count from RowsPerStrip");
    let first = sink.le(offsets_at, 8);
    let mut end = first;
    for s in 0..strips {
        assert_eq!(sink.le(offsets_at + 8 * s, 8), end, "strip {s} starts where the last ended");
        end += sink.le(counts_at + 8 * s, 8);
    }
    if tags[4] == 1 {
        assert!(ifd == 16 && first > counts_at && end == sink.len, "uncompressed: IFD, tables, strips to the end");
    } else {
        assert!(first == 16 && end <= ifd && ifd - end <= 1, "compressed: strips from 16 up to the IFD ({end} vs {ifd})");
    }
    assert_eq!(sink.le(ifd + 8 + 20 * entries, 8), 0, "one IFD");
    (strips, sink.len)
}

/// Encodes `source` with `encoder` into a fresh sink.
fn run(encoder: TiffEncoder, mut source: Synthetic, mut sink: TailSink) -> TailSink {
    encoder.encode_seekable(&mut source, &mut sink).unwrap();
    sink
}

fn encoder(compression: TiffCompression) -> TiffEncoder {
    TiffEncoder { compression, ..Default::default() }
}

fn main() {
    let mut t = HeapTests::new();

    // 16384x65535 RGB8: 3 GiB of pixels; the compressed size bound passes 4 GiB, so BigTIFF.
    let (w, h) = (16384, 65535);
    let big_info = ImageInfo { width: w, height: h, format: PixelFormat::RGB8 };
    let big = TiffEncoder { deflate_level: 1, ..encoder(TiffCompression::Deflate) };
    assert!(big.writes_bigtiff(big_info));
    let peak = t.measure(
        "deflate_16k_x_65535",
        || (Synthetic::new(w, h, PixelFormat::RGB8, 1), TailSink::new()),
        |(source, sink)| {
            let sink = run(big, source, sink);
            let (strips, len) = check_bigtiff(&sink, w, h);
            assert_eq!(sink.seeks, 3, "position, patch, back to the end");
            println!("wrote {len} bytes in {strips} strips");
        },
    );
    let planned = big.heap_bytes(big_info) as u64;
    t.check_at_most("16384x65535 RGB8 deflate BigTIFF: peak <= planned heap_bytes", peak, planned);
    t.check_at_most("16384x65535 RGB8 deflate BigTIFF: peak <= 1 MiB", peak, MIB);

    // 16384x65535 RGB16 uncompressed: 6 GiB, offsets past 4 GiB, no table held at all.
    let big16_info = ImageInfo { width: w, height: h, format: PixelFormat::RGB16 };
    let big16 = encoder(TiffCompression::None);
    assert!(big16.writes_bigtiff(big16_info));
    let peak = t.measure(
        "none_16k_x_65535_rgb16",
        || (Synthetic::new(w, h, PixelFormat::RGB16, 1), TailSink::new()),
        |(source, sink)| {
            let sink = run(big16, source, sink);
            let (strips, len) = check_bigtiff(&sink, w, h);
            assert!(len > 6 << 30);
            assert_eq!(sink.seeks, 0, "written in one pass");
            println!("wrote {len} bytes in {strips} strips");
        },
    );
    t.check_at_most("16384x65535 RGB16 uncompressed BigTIFF: peak <= planned heap_bytes", peak, big16.heap_bytes(big16_info) as u64);
    t.check_at_most("16384x65535 RGB16 uncompressed BigTIFF: peak <= 256 KiB", peak, 256 * KIB);

    // The account against dhat, and flatness in height, per compression.
    for (name, compression) in [("none", TiffCompression::None), ("lzw", TiffCompression::Lzw), ("deflate", TiffCompression::Deflate)] {
        let e = encoder(compression);
        let mut peaks = Vec::new();
        for height in [1024u32, 4096] {
            let info = ImageInfo { width: 16384, height, format: PixelFormat::RGB8 };
            let peak = t.measure(
                &format!("{name}_16k_x_{height}"),
                || (Synthetic::new(16384, height, PixelFormat::RGB8, 1), TailSink::new()),
                |(source, sink)| {
                    run(e, source, sink);
                },
            );
            if let Some(peak) = peak {
                let claimed = e.heap_bytes(info) as u64;
                t.check(
                    &format!("{name} 16384x{height}: heap_bytes >= peak and within 25% of it"),
                    claimed >= peak && claimed * 4 <= peak * 5,
                    &format!("claimed {}, measured {}", human(claimed), human(peak)),
                );
            }
            peaks.push(peak);
        }
        // Only the byte-count table grows: 4 bytes a strip (one 48 KiB row a strip here).
        let table_growth = if compression == TiffCompression::None { 0 } else { 4 * (4096 - 1024) };
        t.check_flat(&format!("{name}: peak flat in height (1024 -> 4096 rows) but for the strip table"), peaks[0], peaks[1], table_growth + 4 * KIB);
    }

    // Bit depth converted by the encoder: one input row more.
    let widen = TiffEncoder { bit_depth: Some(BitDepth::Sixteen), ..encoder(TiffCompression::Lzw) };
    let info = ImageInfo { width: 4000, height: 2000, format: PixelFormat::RGBA8 };
    let peak = t.measure(
        "lzw_8_to_16",
        || (Synthetic::new(4000, 2000, PixelFormat::RGBA8, 1), TailSink::new()),
        |(source, sink)| {
            run(widen, source, sink);
        },
    );
    if let Some(peak) = peak {
        let claimed = widen.heap_bytes(info) as u64;
        t.check(
            "RGBA8 -> 16-bit LZW: heap_bytes >= peak and within 25% of it",
            claimed >= peak && claimed * 4 <= peak * 5,
            &format!("claimed {}, measured {}", human(claimed), human(peak)),
        );
    }

    t.finish();
}
