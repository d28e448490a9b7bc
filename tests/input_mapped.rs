//! The opt-in memory-mapped input ([`Input::open_mapped`]) hands back the pages its readers have
//! passed by position, whatever the bytes: a 100 MiB JPEG made of APPn segments, or whose scan
//! holds no `0xFF` byte, is walked with the process's peak resident set (`VmHWM`, which counts
//! mapped file pages) growing by a few MiB, not by the file's size. Before, pages were released
//! only after an `0xFF` byte, and only inside scans.
//!
//! One test function: the peak is process-wide, so the two cases run one after the other.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use stripflow::codec::jpeg::{read_metadata, DecodeOptions, JpegDecoder};
use stripflow::io::Input;

const MIB: u64 = 1 << 20;

/// The process's peak resident set size in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

/// A small baseline JPEG from the conformance fixtures: its bytes, and where its first scan's
/// data starts (just after the SOS segment).
fn small_jpeg() -> (Vec<u8>, usize) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/jpegsuite/baseline/32x32x8_grayscale.jpg");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut pos = 2;
    loop {
        assert_eq!(bytes[pos], 0xFF);
        let marker = bytes[pos + 1];
        let len = u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]) as usize;
        pos += 2 + len;
        if marker == 0xDA {
            return (bytes, pos);
        }
    }
}

/// Writes `head`, then `count` pieces made by `piece`, then `tail`, without holding them in memory.
fn write_file(dir: &Path, name: &str, head: &[u8], count: usize, piece: &[u8], tail: &[u8]) -> PathBuf {
    let path = dir.join(name);
    let mut out = BufWriter::new(std::fs::File::create(&path).unwrap());
    out.write_all(head).unwrap();
    for _ in 0..count {
        out.write_all(piece).unwrap();
    }
    out.write_all(tail).unwrap();
    out.flush().unwrap();
    path
}

#[test]
fn mapped_pages_are_released_by_position() {
    let dir = tempfile::tempdir().unwrap();
    let (jpeg, scan_start) = small_jpeg();

    // 1600 APP15 segments of 64 KiB of zeros (100 MiB) between SOI and the real headers.
    let mut app = vec![0xFF, 0xEF, 0xFF, 0xFF];
    app.resize(2 + 0xFFFF, 0);
    let segments = write_file(dir.path(), "segments.jpg", &jpeg[..2], 1600, &app, &jpeg[2..]);
    let before = peak_rss();
    let meta = read_metadata(&Input::open_mapped(&segments).unwrap()).unwrap();
    assert_eq!((meta.width, meta.height), (32, 32));
    let growth = peak_rss().saturating_sub(before);
    assert!(growth < 16 * MIB, "metadata of 100 MiB of APPn segments: peak RSS grew {} MiB", growth / MIB);

    // A scan of 100 MiB with no 0xFF byte: the marker walk searches all of it for the end.
    let zeros = vec![0u8; 1 << 20];
    let scan = write_file(dir.path(), "scan.jpg", &jpeg[..scan_start], 100, &zeros, &[0xFF, 0xD9]);
    let before = peak_rss();
    let decoder = JpegDecoder::new(Input::open_mapped(&scan).unwrap(), DecodeOptions::default()).unwrap();
    assert_eq!(decoder.metadata().width, 32);
    let growth = peak_rss().saturating_sub(before);
    assert!(growth < 16 * MIB, "walk of a 100 MiB scan without 0xFF: peak RSS grew {} MiB", growth / MIB);
}
