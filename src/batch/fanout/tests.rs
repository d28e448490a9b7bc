use std::path::Path;
use std::sync::Mutex;

use super::{FanOut, OutputDone};
use crate::codec::Format;
use crate::error::ErrorKind;
use crate::io::Input;
use crate::pixel::PixelFormat;
use crate::plan::{Chain, Pipeline, Recipe};
use crate::prelude::Fit;
use crate::synth::Synthetic;

/// A `width` x `height` synthetic RGB image encoded as `format`.
fn encoded(width: u32, height: u32, format: Format) -> Vec<u8> {
    let mut bytes = Vec::new();
    Pipeline::from_source(Box::new(Synthetic::new(width, height, PixelFormat::RGB8, 5))).format(format).write_to(&mut bytes).unwrap();
    bytes
}

fn thumb(side: u32) -> Recipe {
    Recipe::new().resize(side, side).fit(Fit::Inside)
}

/// Runs `outputs`, returning what each output's end said, in index order.
fn run(outputs: FanOut) -> Vec<OutputDone> {
    let ends = Mutex::new(Vec::new());
    outputs.run(None, &|done| ends.lock().unwrap().push(done));
    let mut ends = ends.into_inner().unwrap();
    ends.sort_by_key(|d| d.index);
    ends
}

/// The file `recipe` writes at `path` when run alone, read back.
fn alone(input: &Input, recipe: Recipe, path: &Path) -> Vec<u8> {
    recipe.input(input.clone()).write_to_path(path).unwrap();
    std::fs::read(path).unwrap()
}

#[test]
fn outputs_of_one_decode_are_the_files_each_would_be_alone() {
    let dir = tempfile::tempdir().unwrap();
    let input = Input::from_bytes(encoded(640, 480, Format::Png));
    // Lossy WebP needs the `webp-lossy` feature (the workspace's tests have it through the CLI).
    let third = if cfg!(feature = "webp-lossy") { "b.webp" } else { "b.png" };
    let outputs: Vec<(Recipe, &str)> = vec![(thumb(128), "a.jpg"), (thumb(128), "a.png"), (thumb(300), third), (Recipe::new(), "full.png")];
    let mut fan = FanOut::new(input.clone());
    for (recipe, name) in &outputs {
        fan.add(recipe.clone(), dir.path().join(name)).unwrap();
    }
    // A PNG has no shrink-on-load: every whole-image output shares the one decode.
    assert_eq!(fan.groups().len(), 1);
    let alone_heaps: Vec<usize> = (0..fan.len()).map(|i| fan.plan(i).heap_bytes).collect();
    assert!(fan.heap_bytes() > *alone_heaps.iter().max().unwrap());
    assert!(fan.heap_bytes() < alone_heaps.iter().sum::<usize>(), "the decoder is counted once");
    for done in run(fan) {
        let stats = done.result.unwrap();
        assert_eq!(stats.plan.output, done_plan_output(&input, &outputs[done.index].0, &done.path));
        let shared = std::fs::read(&done.path).unwrap();
        let separate = alone(&input, outputs[done.index].0.clone(), &dir.path().join(format!("alone-{}", outputs[done.index].1)));
        assert!(shared == separate, "{} differs from the same output made alone", outputs[done.index].1);
    }
}

fn done_plan_output(input: &Input, recipe: &Recipe, path: &Path) -> crate::pixel::ImageInfo {
    recipe.input(input.clone()).plan_for_path(path).unwrap().output
}

#[test]
fn outputs_share_a_decode_only_when_they_ask_the_decoder_for_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let input = Input::from_bytes(encoded(1600, 1200, Format::Jpeg));
    let mut fan = FanOut::new(input);
    let small_jpg = fan.add(thumb(100), dir.path().join("s.jpg")).unwrap();
    let large = fan.add(thumb(800), dir.path().join("l.jpg")).unwrap();
    let small_png = fan.add(thumb(100), dir.path().join("s.png")).unwrap();
    assert_ne!(fan.plan(small_jpg).shrink_on_load, fan.plan(large).shrink_on_load);
    let groups: Vec<Vec<usize>> = fan.groups().iter().map(|g| g.outputs.clone()).collect();
    assert_eq!(groups, vec![vec![small_jpg, small_png], vec![large]]);
    for done in run(fan) {
        done.result.unwrap();
    }
}

#[test]
fn an_output_that_would_take_the_group_over_its_budget_decodes_alone() {
    let dir = tempfile::tempdir().unwrap();
    let input = Input::from_bytes(encoded(2000, 1000, Format::Png));
    let mut fan = FanOut::new(input.clone());
    fan.add(Recipe::new(), dir.path().join("a.png")).unwrap();
    let alone = fan.plan(0).heap_bytes;
    // The second output's budget fits it alone but not both outputs at once.
    fan.add(Recipe::new().max_memory(alone + alone / 4), dir.path().join("b.png")).unwrap();
    assert_eq!(fan.groups().len(), 2);
    let mut fan = FanOut::new(input);
    fan.add(Recipe::new(), dir.path().join("a.png")).unwrap();
    fan.add(Recipe::new(), dir.path().join("b.png")).unwrap();
    assert_eq!(fan.groups().len(), 1);
}

#[test]
fn a_damaged_input_fails_every_output_of_its_decode_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = encoded(800, 600, Format::Png);
    bytes.truncate(bytes.len() / 2);
    let mut fan = FanOut::new(Input::from_bytes(bytes));
    for name in ["a.jpg", "b.png", "c.jpg"] {
        fan.add(thumb(200), dir.path().join(name)).unwrap();
    }
    assert_eq!(fan.groups().len(), 1);
    let ends = run(fan);
    assert_eq!(ends.len(), 3);
    for done in ends {
        assert_eq!(done.result.unwrap_err().kind(), ErrorKind::Format);
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no output, no temporary file left");
}

#[test]
fn a_failing_output_does_not_stop_the_others_of_its_decode() {
    let dir = tempfile::tempdir().unwrap();
    let input = Input::from_bytes(encoded(500, 400, Format::Png));
    let mut fan = FanOut::new(input);
    fan.add(thumb(100), dir.path().join("ok.jpg")).unwrap();
    // A folder that does not exist: this output fails when it creates its file.
    fan.add(thumb(100), dir.path().join("missing/fails.jpg")).unwrap();
    fan.add(thumb(120), dir.path().join("ok.png")).unwrap();
    assert_eq!(fan.groups().len(), 1);
    let ends = run(fan);
    assert!(ends[0].result.is_ok() && ends[2].result.is_ok());
    assert_eq!(ends[1].result.as_ref().unwrap_err().kind(), ErrorKind::Io);
    assert!(dir.path().join("ok.jpg").exists() && dir.path().join("ok.png").exists());
}
