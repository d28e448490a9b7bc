//! dhat: keeping metadata is counted. A 256x256 JPEG carrying a 60 KB EXIF block, a 60 KB XMP
//! packet and a 400 KB ICC profile (an ordinary P3 profile padded with a private tag's worth of
//! bytes) is converted with `keep_metadata()` and `keep_icc_profile()` to JPEG, PNG, WebP and
//! TIFF: each job's measured peak is within its plan, and the plan exceeds the same job's without
//! metadata by at least the blocks' bytes. Each scenario runs in a child process
//! (`support/heap.rs`).

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod support;

use stripflow::codec::jpeg::JpegEncoder;
use stripflow::codec::{Embedded, Format};
use stripflow::pixel::PixelFormat;
use stripflow::plan::{Chain, Pipeline};
use stripflow::synth::Synthetic;
use support::heap::{human, HeapTests};

/// The input: synthetic pixels with the three blocks, written by stripflow's JPEG encoder.
fn input() -> (Vec<u8>, usize) {
    let mut icc = moxcms::ColorProfile::new_display_p3().encode().unwrap();
    icc.resize(400_000, 0); // bytes past the tag table are ignored by readers, kept as they are
    let size = (icc.len() as u32).to_be_bytes();
    icc[..4].copy_from_slice(&size);
    let mut exif = b"II*\0\x08\0\0\0\x01\0\x0e\x01\x02\0".to_vec();
    exif.extend(60_000u32.to_le_bytes());
    exif.extend(26u32.to_le_bytes());
    exif.extend(0u32.to_le_bytes());
    exif.extend(vec![b'd'; 60_000]);
    let xmp = [&b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">"[..], &vec![b' '; 60_000], b"</x:xmpmeta>"].concat();
    let blocks = Embedded { icc: Some(icc), exif: Some(exif), xmp: Some(xmp) };
    let mut out = Vec::new();
    let mut source = Synthetic::new(256, 256, PixelFormat::RGB8, 9);
    JpegEncoder::default().encode_keeping(&mut source, &mut out, &blocks).unwrap();
    (out, blocks.heap_bytes())
}

fn job(bytes: Vec<u8>, format: Format, keep: bool) -> Pipeline {
    let p = Pipeline::from_bytes(bytes).format(format).keep_icc_profile();
    if keep {
        p.keep_metadata()
    } else {
        p
    }
}

fn main() {
    let mut t = HeapTests::new();
    for format in [Format::Jpeg, Format::Png, Format::Webp, Format::Tiff] {
        let name = format!("keep_metadata_{}", format.name());
        let peak = t.measure(&name, input, |(bytes, _)| {
            job(bytes, format, true).write_to_seekable(&mut std::io::Cursor::new(Vec::new())).unwrap();
        });
        let (bytes, blocks) = input();
        let kept = job(bytes.clone(), format, true).plan().unwrap();
        let plain = job(bytes, format, false).plan().unwrap();
        if let Some(peak) = peak {
            t.check(
                &format!("{name}: measured within the plan"),
                peak <= kept.heap_bytes as u64,
                &format!("measured {} planned {}", human(peak), human(kept.heap_bytes as u64)),
            );
        }
        // keep_icc_profile alone already holds the profile: the EXIF and XMP (and their
        // copies where the encoder makes them) are what keep_metadata adds.
        let added = kept.heap_bytes - plain.heap_bytes;
        t.check(
            &format!("{name}: the plan counts the blocks"),
            added >= blocks - 400_000,
            &format!("added {} for {} of EXIF and XMP", human(added as u64), human((blocks - 400_000) as u64)),
        );
    }
    t.finish();
}
