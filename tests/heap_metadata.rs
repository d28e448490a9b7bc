//! dhat heap tests of hostile metadata: metadata is bounded, counted, and never assembled unless
//! asked for.
//!
//! Files (written at test time by `support/hostile.rs`): a 64x64 PNG whose iCCP chunk (194 KB)
//! inflates to 200 MB; a 64x64 JPEG whose ICC profile is 255 full APP2 chunks (16.7 MB); a 64x64
//! JPEG with 3,200 APPn segments; PNG and JPEG files with an ordinary 1 MiB profile; PNG files
//! with a 32 MiB and a 512 KiB `eXIf` chunk.
//!
//! For each: a planned job under `max_memory(4 MiB)` (colour management on, as by default) either
//! is refused with a typed error before the profile is allocated (a profile over the cap is a
//! limits error at every `fail_on` level; the 1 MiB profile here is not a valid ICC profile, a
//! format error by default) or, leniently (`FailOn::Truncated`: the damaged profile is ignored),
//! measures within the plan's prediction;
//! `probe::read_metadata` (what `stripflow info` runs) stays under 256 KiB; asking for the
//! profile costs at most what `icc::icc_profile_heap_bytes` says (plus the header walk), and a
//! profile over the 8 MiB cap is a limits error, not an allocation.
//!
//! Each scenario runs in a child process (see `support/heap.rs`).

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod support;

use std::path::PathBuf;

use stripflow::codec::icc::{icc_profile_heap_bytes, icc_profile_len, read_icc_profile, MAX_ICC_PROFILE_BYTES};
use stripflow::codec::png::{metadata_heap_bytes, PngDecoder};
use stripflow::codec::{probe, FailOn, Format};
use stripflow::io::Input;
use stripflow::plan::{Chain, Pipeline};
use stripflow::Error;
use support::heap::{human, HeapTests};
use support::hostile;

const KIB: u64 = 1024;
/// The jobs' budget: room for a 1 MiB profile read and parsed, not for a bomb.
const BUDGET: usize = 4 << 20;

/// The job: decode, re-encode in the same format, under a 2 MiB budget, failing on `fail_on`.
fn job(path: &PathBuf, fail_on: FailOn) -> Pipeline {
    let format = if path.extension().is_some_and(|e| e == "png") { Format::Png } else { Format::Jpeg };
    Pipeline::open(path).unwrap().max_memory(BUDGET).format(format).fail_on(fail_on)
}

/// Heap the header walk of `read_icc_profile` may take beside the profile (JPEG Huffman tables,
/// the PNG chunk walk: nothing).
const WALK_SLACK: u64 = 64 * KIB;

fn main() {
    let mut t = HeapTests::new();
    type MakeFile = fn() -> PathBuf;
    let files: [(&str, MakeFile); 5] = [
        ("iccp_bomb_png", hostile::iccp_bomb_png),
        ("icc_255_chunks_jpeg", hostile::icc_255_chunks_jpeg),
        ("app_3200_jpeg", hostile::app_3200_segments_jpeg),
        ("icc_1mib_png", hostile::png_with_ordinary_icc),
        ("icc_1mib_jpeg", hostile::jpeg_with_ordinary_icc),
    ];
    for (name, make) in files {
        // By default the job is refused with a typed error before any profile is assembled.
        let scenario = format!("{name}_job_refused");
        let has_profile = !matches!(icc_profile_len(&Input::open(make()).unwrap()), Ok(None));
        let peak = t.measure(&scenario, make, |path| {
            let result = job(&path, FailOn::Error).write_to(&mut std::io::sink());
            match result {
                Err(Error::Limits(_) | Error::Format { .. }) if has_profile => {}
                other => assert!(other.is_ok() && !has_profile, "{other:?}"),
            }
        });
        t.check_at_most(&format!("{name}: a refused job stays within the budget"), peak, BUDGET as u64);

        // Leniently: over-cap profiles are still refused; a damaged one is ignored and the job
        // measures within its plan.
        let scenario = format!("{name}_job_lenient");
        let over_cap = icc_profile_len(&Input::open(make()).unwrap()).is_err();
        let peak = t.measure(&scenario, make, |path| {
            let result = job(&path, FailOn::Truncated).write_to(&mut std::io::sink());
            match result {
                Err(Error::Limits(_)) if over_cap => {}
                other => assert!(other.is_ok(), "{other:?}"),
            }
        });
        if let (Some(peak), false) = (peak, over_cap) {
            let plan = job(&make(), FailOn::Truncated).plan().unwrap();
            t.check(
                &format!("{name}: lenient job within its plan"),
                peak <= plan.heap_bytes as u64,
                &format!("measured {} planned {}", human(peak), human(plan.heap_bytes as u64)),
            );
        }

        // `stripflow info`: the header walk only.
        let scenario = format!("{name}_info");
        let peak = t.measure(&scenario, make, |path| {
            let input = Input::open(path).unwrap();
            probe::read_metadata(&input).unwrap();
        });
        t.check_at_most(&format!("{name}: metadata read stays small"), peak, 256 * KIB);

        // Asking for the profile: bounded by the cap, costing what was announced.
        let scenario = format!("{name}_icc");
        let peak = t.measure(&scenario, make, |path| {
            let input = Input::open(path).unwrap();
            match icc_profile_len(&input) {
                Ok(Some(len)) => {
                    let profile = read_icc_profile(&input).unwrap().unwrap();
                    assert_eq!(profile.len(), len);
                    assert_eq!(len, 1 << 20);
                    assert!(profile.iter().enumerate().all(|(i, &b)| b == hostile::ordinary_profile_byte(i)));
                }
                Ok(None) => assert_eq!(read_icc_profile(&input).unwrap(), None),
                Err(Error::Limits(_)) => {
                    assert!(matches!(read_icc_profile(&input), Err(Error::Limits(_))));
                }
                Err(e) => panic!("{e}"),
            }
        });
        if let Some(peak) = peak {
            let announced = match icc_profile_heap_bytes(&Input::open(make()).unwrap()) {
                Ok(n) => n as u64,
                Err(Error::Limits(_)) => 0,
                Err(e) => panic!("{e}"),
            };
            // The hostile files are refused (or have no profile); the ordinary ones are read.
            let expect_profile = name.starts_with("icc_1mib");
            t.check(
                &format!("{name}: profile {}", if expect_profile { "read as announced" } else { "refused unassembled" }),
                (announced > 0) == expect_profile && peak <= announced + WALK_SLACK,
                &format!(
                    "measured {} announced {} (+{} walk), cap {}",
                    human(peak),
                    human(announced),
                    human(WALK_SLACK),
                    human(MAX_ICC_PROFILE_BYTES as u64)
                ),
            );
        }
    }

    // eXIf, which the png crate cannot skip and holds twice: over 1 MiB it is refused before the
    // png crate reads it; below, what it costs is what `png::metadata_heap_bytes` says.
    let peak = t.measure("exif_32mib_png_info", || hostile::png_with_exif(32 << 20), |path| {
        let input = Input::open(path).unwrap();
        assert!(matches!(probe::read_metadata(&input), Err(Error::Limits(_))));
        assert!(matches!(PngDecoder::new(input), Err(Error::Limits(_))));
    });
    t.check_at_most("32 MiB eXIf: refused unread", peak, 64 * KIB);
    let exif_512k = || hostile::png_with_exif(512 << 10);
    let peak = t.measure("exif_512k_png_job", exif_512k, |path| {
        job(&path, FailOn::Error).write_to(&mut std::io::sink()).unwrap();
    });
    if let Some(peak) = peak {
        let plan = job(&exif_512k(), FailOn::Error).plan().unwrap();
        let exif = metadata_heap_bytes(&Input::open(exif_512k()).unwrap()).unwrap();
        t.check(
            "512 KiB eXIf: job within its plan plus png::metadata_heap_bytes",
            peak <= (plan.heap_bytes + exif) as u64,
            &format!("measured {} planned {} + eXIf {}", human(peak), human(plan.heap_bytes as u64), human(exif as u64)),
        );
    }
    t.finish();
}
