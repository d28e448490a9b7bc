//! An input file that another process truncates while it is being decoded gives a typed error,
//! never a signal: each decoder is opened on a file (its headers and, for JPEG, every marker
//! walked; for Adam7 the whole stream inflated once), the file is cut to half its length, and
//! reading the rows must fail with the I/O error "input ended early".
//!
//! With memory-mapped input (stripflow before positioned reads) the first read past the new end
//! killed the test process with SIGBUS.

mod support;

use std::path::{Path, PathBuf};

use stripflow::codec::jpeg::{DecodeOptions, JpegDecoder};
use stripflow::codec::FailOn;
use stripflow::codec::png::PngDecoder;
use stripflow::io::Input;
use stripflow::plan::{Chain, Pipeline};
use stripflow::{Error, PixelFormat, RowSource};
use support::fixtures::{self, JpegSpec};
use support::interlaced;

/// A private copy of `fixture` (the cached fixture itself must stay whole).
fn copy(fixture: &Path, dir: &Path) -> PathBuf {
    let path = dir.join(fixture.file_name().unwrap());
    std::fs::copy(fixture, &path).unwrap();
    path
}

/// Cuts `path` to half its length, as another process would.
fn truncate_half(path: &Path) {
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    let len = file.metadata().unwrap().len();
    file.set_len(len / 2).unwrap();
}

/// Reads every row of `source`, returning the first error.
fn read_all(source: &mut dyn RowSource) -> stripflow::Result<()> {
    let mut row = vec![0u8; source.info().row_bytes()];
    for _ in 0..source.info().height {
        source.read_row(&mut row)?;
    }
    Ok(())
}

/// The error is the input's I/O error, not a format error, a panic or a signal.
fn assert_input_ended(result: stripflow::Result<()>, what: &str) {
    match result {
        Err(Error::Io(e)) => {
            assert!(e.to_string().contains("input ended early"), "{what}: {e}");
            assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{what}");
        }
        Err(other) => panic!("{what}: expected an I/O error, got {other}"),
        Ok(()) => panic!("{what}: rows decoded from a file cut in half"),
    }
}

fn jpeg_truncated_while_decoding(spec: JpegSpec, fail_on: FailOn, what: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = copy(&fixtures::jpeg(1024, 1024, spec, 3), dir.path());
    let options = DecodeOptions { fail_on, ..Default::default() };
    let mut decoder = JpegDecoder::new(Input::open(&path).unwrap(), options).unwrap();
    truncate_half(&path);
    assert_input_ended(read_all(&mut decoder), what);
}

#[test]
fn baseline_jpeg_truncated_while_decoding_is_an_io_error() {
    jpeg_truncated_while_decoding(JpegSpec::default(), FailOn::Error, "baseline");
    // Even when damaged files are rendered as far as they go, a file that changed is an error.
    jpeg_truncated_while_decoding(JpegSpec::default(), FailOn::None, "baseline, fail_on none");
    let restarts = JpegSpec { restart_interval: 4, ..Default::default() };
    jpeg_truncated_while_decoding(restarts, FailOn::None, "baseline with restart markers, fail_on none");
}

#[test]
fn progressive_jpeg_truncated_while_decoding_is_an_io_error() {
    jpeg_truncated_while_decoding(JpegSpec { progressive: true, ..Default::default() }, FailOn::Error, "progressive");
}

#[test]
fn png_truncated_while_decoding_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy(&fixtures::png(1024, 1024, PixelFormat::RGB8, 3), dir.path());
    let mut decoder = PngDecoder::new(Input::open(&path).unwrap()).unwrap();
    assert!(!decoder.header().interlaced);
    truncate_half(&path);
    assert_input_ended(read_all(&mut decoder), "non-interlaced PNG");
}

#[test]
fn adam7_png_truncated_while_decoding_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy(&interlaced::interlaced_png(1024, 1024, PixelFormat::RGB8, 3), dir.path());
    let mut decoder = PngDecoder::new(Input::open(&path).unwrap()).unwrap();
    assert!(decoder.header().interlaced);
    truncate_half(&path);
    assert_input_ended(read_all(&mut decoder), "Adam7 PNG");
}

#[test]
fn a_planned_job_whose_input_shrinks_fails_with_the_io_error() {
    let dir = tempfile::tempdir().unwrap();
    // (Seeds differ between tests: each test generates its own cached fixture.)
    let path = copy(&fixtures::jpeg(1024, 1024, JpegSpec::default(), 4), dir.path());
    let (_plan, mut rows) = Pipeline::open(&path).unwrap().resize(300, 300).into_rows().unwrap();
    truncate_half(&path);
    assert_input_ended(read_all(&mut *rows), "planned resize of a baseline JPEG");
}

#[test]
fn a_file_cut_before_it_is_opened_is_still_a_format_error() {
    // Truncation seen at open time is the file's fault: a format error, as before.
    let dir = tempfile::tempdir().unwrap();
    let path = copy(&fixtures::jpeg(1024, 1024, JpegSpec::default(), 5), dir.path());
    truncate_half(&path);
    let err = JpegDecoder::new(Input::open(&path).unwrap(), DecodeOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Format { .. }), "{err}");
}
