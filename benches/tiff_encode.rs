//! Criterion benchmark of the TIFF encoder per compression (none, LZW, deflate levels 1 and 6,
//! all but none with the horizontal predictor), in megapixels per second, on a 2048x2048 photo-
//! like image held in memory (so the figures are the encoder's alone) into a seekable sink
//! that discards the bytes.

use std::io::{Seek, SeekFrom, Write};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use stripflow::codec::tiff::TiffEncoder;
use stripflow::codec::TiffCompression;
use stripflow::pipeline::MemorySource;
use stripflow::synth::Synthetic;
use stripflow::{ImageInfo, PixelFormat, RowSource};

const SIDE: u32 = 2048;

/// A seekable sink that keeps nothing.
struct Discard {
    position: u64,
    len: u64,
}

impl Write for Discard {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.position += buf.len() as u64;
        self.len = self.len.max(self.position);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Seek for Discard {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.position = match pos {
            SeekFrom::Start(p) => p,
            SeekFrom::End(d) => (self.len as i64 + d) as u64,
            SeekFrom::Current(d) => (self.position as i64 + d) as u64,
        };
        Ok(self.position)
    }
}

fn tiff(c: &mut Criterion) {
    for format in [PixelFormat::RGB8, PixelFormat::RGB16] {
        let info = ImageInfo { width: SIDE, height: SIDE, format };
        let mut frame = vec![0u8; info.row_bytes() * SIDE as usize];
        Synthetic::new(SIDE, SIDE, format, 1).read_rows(&mut frame).unwrap();
        let mut group = c.benchmark_group(format!("tiff encode {SIDE}x{SIDE} {format}"));
        group.sample_size(10);
        group.throughput(Throughput::Elements(SIDE as u64 * SIDE as u64));
        for (name, compression, level) in [
            ("none", TiffCompression::None, 6),
            ("lzw", TiffCompression::Lzw, 6),
            ("deflate level 1", TiffCompression::Deflate, 1),
            ("deflate level 6", TiffCompression::Deflate, 6),
        ] {
            let encoder = TiffEncoder { compression, deflate_level: level, ..Default::default() };
            group.bench_function(name, |b| {
                b.iter_batched(
                    || MemorySource::new(info, frame.clone()).unwrap(),
                    |mut source| {
                        let mut sink = Discard { position: 0, len: 0 };
                        encoder.encode_seekable(&mut source, &mut sink).unwrap();
                        sink.len
                    },
                    BatchSize::LargeInput,
                )
            });
        }
        group.finish();
    }
}

criterion_group!(benches, tiff);
criterion_main!(benches);
