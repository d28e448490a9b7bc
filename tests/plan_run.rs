//! Running planned jobs end to end: paths, readers and bytes give the same file; the stats match
//! the plan; shrink-on-load and crop-on-load are chosen and stay close to the full decode.

use stripflow::plan::Chain;
use stripflow::codec::Format;
use stripflow::ops::crop::Gravity;
use stripflow::ops::fit::Fit;
use stripflow::pipeline::{chain_names, drain};
use stripflow::plan::Pipeline;

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/exif-orientation").join(name)
}

#[test]
fn path_reader_and_bytes_agree_and_stats_match_the_plan() {
    let path = fixture("Portrait_6.jpg");
    let job = |p: Pipeline| p.auto_orient().resize(300, 300).fit(Fit::Cover).position(Gravity::Top).format(Format::Png);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("thumb.png");
    let stats = job(Pipeline::open(&path).unwrap()).write_to_path(&out).unwrap();
    assert_eq!((stats.output.width, stats.output.height), (300, 300));
    assert_eq!(stats.rows, 300);
    assert!(stats.pipeline_buffer_bytes <= stats.plan.heap_bytes, "{} > {}", stats.pipeline_buffer_bytes, stats.plan.heap_bytes);
    assert!(stats.plan.shrink_on_load >= 2, "{}", stats.plan);
    let from_path = std::fs::read(&out).unwrap();
    let mut from_reader = Vec::new();
    job(Pipeline::from_reader(std::fs::File::open(&path).unwrap()).unwrap()).write_to(&mut from_reader).unwrap();
    let mut from_bytes = Vec::new();
    job(Pipeline::from_bytes(std::fs::read(&path).unwrap())).write_to(&mut from_bytes).unwrap();
    assert!(from_path == from_reader && from_reader == from_bytes);
    let decoded = image::load_from_memory(&from_path).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (300, 300));
}

#[test]
fn shrink_and_crop_on_load_stay_close_to_the_full_decode() {
    let path = fixture("Landscape_3.jpg");
    let rows = |shrink: bool| {
        let (plan, mut rows) = Pipeline::open(&path)
            .unwrap()
            .auto_orient()
            .resize(200, 200)
            .position(Gravity::BottomRight)
            .shrink_on_load(shrink)
            .into_rows()
            .unwrap();
        let mut out = Vec::new();
        drain(&mut *rows, 5, |s, _| {
            out.extend_from_slice(s);
            Ok(())
        })
        .unwrap();
        (plan, chain_names(&*rows), out)
    };
    let (fast, names, a) = rows(true);
    let (full, _, b) = rows(false);
    assert_eq!(full.shrink_on_load, 1);
    assert!(fast.shrink_on_load >= 2 && fast.decode_region.is_some(), "{fast}");
    assert_eq!(names.first(), Some(&"jpeg-decode"));
    assert!(fast.heap_bytes < full.heap_bytes);
    let mean = a.iter().zip(&b).map(|(x, y)| x.abs_diff(*y) as f64).sum::<f64>() / a.len() as f64;
    assert!(mean < 2.0, "shrink-on-load differs from the full decode by {mean:.2} on average");
    println!("{fast}\nmean diff vs full decode {mean:.2}");
}
