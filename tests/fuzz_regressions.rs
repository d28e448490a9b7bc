//! Inputs the fuzz targets (`fuzz/`) found, filed by failure type under `tests/fuzz-regressions/`
//! (as image-tiff does), one property per folder:
//!
//! * `panic/`: the metadata reader and a full decode through the planner return (`Ok` or a
//!   typed `Err`) without panicking.
//!
//! Each file is decoded as the fuzz targets do: `codec::probe::read_metadata`, then every row
//! of `plan::Pipeline::from_input(..).max_memory(64 MiB)` drained in strips of 16 rows.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use stripflow::codec::probe::read_metadata;
use stripflow::io::Input;
use stripflow::pipeline::drain;
use stripflow::plan::{Chain, Pipeline};
use stripflow::Result;

/// The fuzz targets' heap budget.
const MAX_MEMORY: usize = 64 << 20;

/// The files of one folder, sorted.
fn files(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions").join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// What the decode targets do with `bytes`; the result of the decode.
fn decode(bytes: &[u8]) -> Result<u32> {
    let input = Input::from_bytes(bytes.to_vec());
    let _ = read_metadata(&input);
    let (_plan, mut rows) = Pipeline::from_input(input).max_memory(MAX_MEMORY).into_rows()?;
    let mut count = 0;
    drain(&mut *rows, 16, |_, n| {
        count += n;
        Ok(())
    })?;
    Ok(count)
}

/// Decodes every file of `kind` and returns, per file, its result (`None` for a panic) and time.
fn decode_all(kind: &str) -> Vec<(PathBuf, Option<Result<u32>>, Duration)> {
    let files = files(kind);
    assert!(!files.is_empty(), "tests/fuzz-regressions/{kind}/ is empty");
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            let started = Instant::now();
            let result = catch_unwind(AssertUnwindSafe(|| decode(&bytes))).ok();
            (path, result, started.elapsed())
        })
        .collect()
}

#[test]
fn panic_files_return_a_result() {
    let panicked: Vec<_> = decode_all("panic").into_iter().filter(|(_, r, _)| r.is_none()).map(|(p, ..)| p).collect();
    assert!(panicked.is_empty(), "panicked: {panicked:?}");
}
