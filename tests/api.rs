//! The library as a Rust program holds it: a `Send` pipeline, a reusable `Clone + Debug` recipe,
//! one import, your own stage inside the planned chain, options that do not apply refused, plain
//! errors, and the two sharp operations added through the stage specifications (extend, extract
//! after resize).

mod support;

use std::sync::Arc;

use stripflow::codec::png::PngEncoder;
use stripflow::ops::crop::Rect;
use stripflow::pipeline::MemorySource;
use stripflow::prelude::*;
use stripflow::synth::Synthetic;
use support::fixtures::{self, JpegSpec};

fn assert_send<T: Send>() {}
fn assert_recipe_traits<T: Clone + std::fmt::Debug + Send + Sync>() {}

#[test]
fn pipeline_is_send_and_recipe_is_clone_debug_send_sync() {
    assert_send::<Pipeline>();
    assert_send::<BoxedSource>();
    assert_recipe_traits::<Recipe>();
    assert_recipe_traits::<Plan>();
    assert_recipe_traits::<Input>();
}

#[test]
fn one_recipe_runs_on_many_inputs_from_many_threads() {
    let recipe = Recipe::new().resize(64, 48).fit(Fit::Inside).format(Format::Png);
    let png = std::fs::read(fixtures::png(640, 480, PixelFormat::RGB8, 2)).unwrap();
    let jpeg = std::fs::read(fixtures::jpeg(320, 480, JpegSpec::default(), 2)).unwrap();
    let handles: Vec<_> = [png, jpeg]
        .into_iter()
        .map(|bytes| {
            let recipe = recipe.clone();
            std::thread::spawn(move || {
                let mut out = Vec::new();
                let stats = recipe.input(bytes).write_to(&mut out).unwrap();
                (stats.output.width, stats.output.height, out.len())
            })
        })
        .collect();
    let sizes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!((sizes[0].0, sizes[0].1), (64, 48));
    assert_eq!((sizes[1].0, sizes[1].1), (32, 48));
    assert!(sizes.iter().all(|s| s.2 > 0));
    // A pipeline moves to another thread whole.
    let p = recipe.rows(Box::new(Synthetic::new(100, 100, PixelFormat::RGBA8, 1)));
    let stats = std::thread::spawn(move || p.write_to(&mut std::io::sink()).unwrap()).join().unwrap();
    assert_eq!((stats.output.width, stats.output.height), (48, 48));
}

/// A user stage: inverts every sample, with one row of its own buffer declared.
#[derive(Debug)]
struct Invert;

struct Inverted {
    source: BoxedSource,
    row: Vec<u8>,
}

impl RowSource for Inverted {
    fn info(&self) -> ImageInfo {
        self.source.info()
    }
    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        self.source.read_row(&mut self.row)?;
        for (o, i) in row.iter_mut().zip(&self.row) {
            *o = 255 - i;
        }
        Ok(())
    }
    fn buffer_bytes(&self) -> usize {
        self.row.capacity()
    }
    fn name(&self) -> &'static str {
        "invert"
    }
    fn upstream(&self) -> Option<&dyn RowSource> {
        Some(&*self.source)
    }
}

impl StageSpec for Invert {
    fn name(&self) -> String {
        "invert".into()
    }
    fn output(&self, input: ImageInfo) -> Result<ImageInfo> {
        if input.format.depth != stripflow::BitDepth::Eight {
            return Err(Error::parameter("invert takes 8-bit rows"));
        }
        Ok(input)
    }
    fn heap_bytes(&self, input: ImageInfo) -> usize {
        input.row_bytes()
    }
    fn build(&self, upstream: BoxedSource) -> Result<BoxedSource> {
        let row = vec![0; upstream.info().row_bytes()];
        Ok(Box::new(Inverted { source: upstream, row }))
    }
}

#[test]
fn a_user_stage_runs_inside_the_planned_chain_and_its_heap_counts() {
    let info = ImageInfo { width: 4, height: 2, format: PixelFormat::GRAY8 };
    let pixels: Vec<u8> = (0..8).map(|i| i * 10).collect();
    let p = Pipeline::from_source(Box::new(MemorySource::new(info, pixels.clone()).unwrap()))
        .extend(Margins::uniform(1))
        .background([0, 0, 0, 255])
        .stage(Invert);
    let plan = p.plan().unwrap();
    let invert = plan.stages.iter().find(|s| s.name == "invert").expect("the stage is in the plan");
    assert_eq!(invert.heap_bytes, 6, "one row of the extended 6-pixel image");
    assert!(plan.stages.iter().position(|s| s.name == "extend") < plan.stages.iter().position(|s| s.name == "invert"));
    let (_, mut rows) = p.into_rows().unwrap();
    let mut out = vec![0; 6 * 4];
    rows.read_rows(&mut out).unwrap();
    assert_eq!(&out[..6], &[255; 6], "inverted black margin");
    assert_eq!(&out[6..12], &[255, 255, 245, 235, 225, 255]);
    // Its declared heap counts against the budget.
    #[derive(Debug)]
    struct Greedy;
    impl StageSpec for Greedy {
        fn name(&self) -> String {
            "greedy".into()
        }
        fn output(&self, input: ImageInfo) -> Result<ImageInfo> {
            Ok(input)
        }
        fn heap_bytes(&self, _input: ImageInfo) -> usize {
            64 << 20
        }
        fn build(&self, upstream: BoxedSource) -> Result<BoxedSource> {
            Ok(upstream)
        }
    }
    let e = Pipeline::from_source(Box::new(MemorySource::new(info, pixels).unwrap()))
        .stage(Greedy)
        .max_memory(16 << 20)
        .plan()
        .unwrap_err();
    assert!(matches!(e, Error::Limits(_)) && e.to_string().contains("greedy"), "{e}");
}

#[test]
fn options_that_do_not_apply_are_errors() {
    let jpeg = fixtures::jpeg(64, 48, JpegSpec::default(), 1);
    let dir = tempfile::tempdir().unwrap();
    let kind = |r: Result<RunStats>| r.map(|_| ()).unwrap_err().kind();
    // Quality on PNG output, compression on JPEG output.
    assert_eq!(kind(Pipeline::open(&jpeg).unwrap().quality(80).write_to_path(dir.path().join("a.png"))), ErrorKind::Parameter);
    assert_eq!(kind(Pipeline::open(&jpeg).unwrap().compression(9).write_to_path(dir.path().join("a.jpg"))), ErrorKind::Parameter);
    // An output format stripflow does not write is named, not silently replaced by JPEG.
    let e = Pipeline::open(&jpeg).unwrap().write_to_path(dir.path().join("a.gif")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.to_string().contains("GIF"), "{e}");
    // A configured encoder takes its own options.
    let e = Pipeline::open(&jpeg).unwrap().encoder(PngEncoder::default()).quality(3).plan().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parameter);
    // Auto-orientation of rows without EXIF.
    let e = Pipeline::from_source(Box::new(Synthetic::new(8, 8, PixelFormat::RGB8, 1))).auto_orient().plan().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parameter);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing written");
    // The options that do apply work.
    Pipeline::open(&jpeg).unwrap().compression(9).write_to_path(dir.path().join("a.png")).unwrap();
}

#[test]
fn errors_name_the_file_once_in_plain_words() {
    let e = Pipeline::open("/no/such/dir/photo.jpg").unwrap_err();
    let text = format!("{e}");
    assert_eq!(text.matches("/no/such/dir/photo.jpg").count(), 1, "{text}");
    assert!(std::error::Error::source(&e).is_none());
    assert_eq!(e.kind(), ErrorKind::Io);
}

#[test]
fn extract_after_resize_is_a_crop_of_the_resized_image() {
    let source = || Box::new(Synthetic::new(300, 200, PixelFormat::RGB8, 7)) as BoxedSource;
    let resized = {
        let (_, mut rows) = Pipeline::from_source(source()).resize(150, 100).into_rows().unwrap();
        let mut all = vec![0; 150 * 100 * 3];
        rows.read_rows(&mut all).unwrap();
        all
    };
    let (plan, mut rows) = Pipeline::from_source(source()).resize(150, 100).extract(10, 20, 40, 30).into_rows().unwrap();
    assert!(plan.stages.iter().any(|s| s.name == "extract"));
    let mut got = vec![0; 40 * 30 * 3];
    rows.read_rows(&mut got).unwrap();
    for y in 0..30 {
        let want = &resized[((20 + y) * 150 + 10) * 3..][..40 * 3];
        assert_eq!(&got[y * 120..][..120], want, "row {y}");
    }
    // Outside the resized image: a parameter error that says where.
    let e = Pipeline::from_source(source()).resize(150, 100).extract(140, 0, 20, 10).plan().unwrap_err();
    assert!(e.to_string().contains("extract after resize"), "{e}");
}

#[test]
fn extend_with_a_transparent_background_adds_alpha_for_png() {
    let (plan, mut rows) = Pipeline::from_source(Box::new(Synthetic::new(10, 6, PixelFormat::RGB8, 3)))
        .extend(Margins { top: 1, right: 2, bottom: 3, left: 4 })
        .background([0, 0, 0, 0])
        .format(Format::Png)
        .into_rows()
        .unwrap();
    assert_eq!((plan.output.width, plan.output.height, plan.output.format), (16, 10, PixelFormat::RGBA8));
    let mut all = vec![0; 16 * 10 * 4];
    rows.read_rows(&mut all).unwrap();
    assert_eq!(&all[..16 * 4], &[0; 64][..], "transparent top margin");
    assert_eq!(all[(16 + 4) * 4 + 3], 255, "the image itself stays opaque");
    // For JPEG output the same extend stays RGB (JPEG cannot keep alpha).
    let plan = Pipeline::from_source(Box::new(Synthetic::new(10, 6, PixelFormat::RGB8, 3)))
        .extend(Margins::uniform(2))
        .background([0, 0, 0, 0])
        .format(Format::Jpeg)
        .plan()
        .unwrap();
    assert_eq!(plan.output.format, PixelFormat::RGB8);
}

#[test]
fn shared_and_static_inputs_are_read_in_place() {
    let bytes: Arc<[u8]> = std::fs::read(fixtures::png(64, 64, PixelFormat::RGB8, 3)).unwrap().into();
    let recipe = Recipe::new().resize(8, 8);
    // One buffer, many jobs on many threads: each input reads the same allocation.
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let (recipe, bytes) = (recipe.clone(), bytes.clone());
            std::thread::spawn(move || {
                let input = Input::from(bytes.clone());
                assert_eq!(input.as_slice().unwrap().as_ptr(), bytes.as_ptr(), "not copied");
                recipe.input(input).write_to(&mut std::io::sink()).unwrap().output.width
            })
        })
        .collect();
    assert!(handles.into_iter().all(|h| h.join().unwrap() == 8));
    // An embedded image.
    static EMBEDDED: std::sync::OnceLock<&'static [u8]> = std::sync::OnceLock::new();
    let embedded: &'static [u8] = EMBEDDED.get_or_init(|| Box::leak(bytes.to_vec().into_boxed_slice()));
    let stats = Pipeline::from_bytes(embedded).extract(0, 0, 1, 1).write_to(&mut std::io::sink()).unwrap();
    assert_eq!((stats.output.width, stats.output.height), (1, 1));
    let _ = Rect::new(0, 0, 1, 1);
}
