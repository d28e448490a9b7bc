//! The 18 EXIF orientation photos (fixtures/exif-orientation: Landscape_0..8, Portrait_0..8, each
//! stored turned or mirrored as its tag says) come out upright after auto-orient: each matches
//! the `_1` photo of its set (stored upright) within JPEG tolerance, at full size and as a
//! 256-pixel thumbnail. Without auto-orient the turned ones must not match, so the comparison
//! can fail.

use stripflow::plan::Chain;
use stripflow::ops::fit::Fit;
use stripflow::pipeline::drain;
use stripflow::plan::Pipeline;
use stripflow::{ImageInfo, RowSource};

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/exif-orientation")
        .join(name)
}

fn decode(p: Pipeline) -> (ImageInfo, Vec<u8>) {
    let (_, mut rows) = p.into_rows().unwrap();
    let info = rows.info();
    let mut out = Vec::new();
    drain(&mut *rows, 16, |s, _| {
        out.extend_from_slice(s);
        Ok(())
    })
    .unwrap();
    (info, out)
}

fn mean_diff(a: &[u8], b: &[u8]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x.abs_diff(*y) as f64).sum::<f64>() / a.len() as f64
}

fn check(thumbnail: bool) {
    for set in ["Landscape", "Portrait"] {
        let open = |n: u32| {
            let p = Pipeline::open(fixture(&format!("{set}_{n}.jpg")))
                .unwrap()
                .auto_orient();
            if thumbnail {
                p.resize(256, 256).fit(Fit::Inside)
            } else {
                p
            }
        };
        let (ref_info, reference) = decode(open(1));
        for n in [0, 2, 3, 4, 5, 6, 7, 8] {
            let (info, got) = decode(open(n));
            assert_eq!(info, ref_info, "{set}_{n} thumbnail={thumbnail}");
            let d = mean_diff(&got, &reference);
            // Measured: 0.4..3.7 for the right orientation, over 40 for any wrong one.
            assert!(d < 6.0, "{set}_{n} thumbnail={thumbnail}: mean abs diff {d:.2}");
            if n >= 2 && !thumbnail {
                // Stored turned or mirrored: without auto-orient it must differ a lot (or in size).
                let (raw_info, raw) = decode(Pipeline::open(fixture(&format!("{set}_{n}.jpg"))).unwrap());
                if raw_info == ref_info {
                    let d = mean_diff(&raw, &reference);
                    assert!(d > 10.0, "{set}_{n} without auto-orient differs by only {d:.2}");
                }
            }
        }
    }
}

#[test]
fn exif_photos_upright_at_full_size() {
    check(false);
}

#[test]
fn exif_photos_upright_as_thumbnails() {
    check(true);
}
