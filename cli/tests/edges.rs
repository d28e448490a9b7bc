//! The edges of the `stripflow` process: a closed standard output, negative turns, directories
//! and missing paths as input or output, long output names, and the output file's mode and owner.

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use stripflow::codec::jpeg::JpegEncoder;
use stripflow::codec::png::PngEncoder;
use stripflow::synth::Synthetic;
use stripflow::PixelFormat;

fn stripflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stripflow")).args(args).output().expect("run stripflow")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn jpeg_file(dir: &Path, w: u32, h: u32) -> PathBuf {
    let path = dir.join("in.jpg");
    let mut bytes = Vec::new();
    JpegEncoder::default().encode(&mut Synthetic::new(w, h, PixelFormat::RGB8, 2), &mut bytes).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A PNG whose second half is missing: its header reads fine, decoding fails near the end.
fn truncated_png(dir: &Path) -> PathBuf {
    let mut bytes = Vec::new();
    PngEncoder::default().encode(&mut Synthetic::new(300, 200, PixelFormat::RGB8, 1), &mut bytes).unwrap();
    let path = dir.join("truncated.png");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    path
}

/// Runs `stripflow args` with standard output a pipe whose reading end is already closed.
fn to_closed_pipe(args: &[&str]) -> Output {
    let mut fds = [0; 2];
    // SAFETY: pipe fills the two-element array.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just created and are owned here alone.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Command::new(env!("CARGO_BIN_EXE_stripflow"))
        .args(args)
        .stdout(Stdio::from(write))
        .stderr(Stdio::piped())
        .output()
        .expect("run stripflow")
}

#[test]
fn a_closed_standard_output_is_a_quiet_exit() {
    let dir = tempfile::tempdir().unwrap();
    let jpg = jpeg_file(dir.path(), 64, 48);
    for args in [
        vec!["info", s(&jpg)],
        vec!["info", s(&jpg), "--json"],
        vec!["convert", s(&jpg), "out.png", "--plan"],
        vec!["convert", s(&jpg), "out.png", "--plan", "--json"],
        vec!["convert", s(&jpg), "-", "--format", "png"],
    ] {
        let out = to_closed_pipe(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {:?} {stderr}", out.status);
        assert!(stderr.is_empty(), "{args:?}: quiet, but printed: {stderr}");
    }
}

#[test]
fn rotate_minus_90_is_rotate_270() {
    let dir = tempfile::tempdir().unwrap();
    let jpg = jpeg_file(dir.path(), 40, 24);
    let (a, b) = (dir.path().join("a.png"), dir.path().join("b.png"));
    let out = stripflow(&["convert", s(&jpg), s(&a), "--rotate", "-90"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = stripflow(&["convert", s(&jpg), s(&b), "--rotate", "270"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (a, b) = (image::open(&a).unwrap().to_rgb8(), image::open(&b).unwrap().to_rgb8());
    assert_eq!(a.dimensions(), (24, 40));
    assert!(a == b, "-90 and 270 differ");
}

#[test]
fn a_directory_or_a_missing_file_as_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = stripflow(&["info", s(dir.path())]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("is a directory") && err.contains(s(dir.path())), "{err}");
    assert!(!err.contains("No such device"), "{err}");

    let missing = dir.path().join("missing.jpg");
    let out = stripflow(&["convert", s(&missing), s(&dir.path().join("o.png"))]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains(s(&missing)) && err.contains("No such file"), "{err}");
}

/// The input decodes badly near its end, so an error about the output path proves it came before
/// decoding (on a late check the decode error would come first).
#[test]
fn a_directory_or_a_missing_folder_as_output_fails_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let png = truncated_png(dir.path());
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    let out = stripflow(&["convert", s(&png), s(&folder), "--format", "png"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("is a directory") && err.contains(s(&folder)), "{err}");

    let nowhere = dir.path().join("no-such-folder").join("out.png");
    let out = stripflow(&["convert", s(&png), s(&nowhere)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("no-such-folder") && !err.contains("invalid PNG"), "{err}");
}

#[test]
fn a_250_character_output_name_works() {
    let dir = tempfile::tempdir().unwrap();
    let jpg = jpeg_file(dir.path(), 32, 32);
    let name = format!("{}.png", "x".repeat(246));
    assert_eq!(name.len(), 250);
    let target = dir.path().join(&name);
    for round in 0..2 {
        // The second round replaces the first output.
        let out = stripflow(&["convert", s(&jpg), s(&target)]);
        assert!(out.status.success(), "round {round}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(image::open(&target).unwrap().to_rgb8().dimensions(), (32, 32));
    }
}

#[test]
fn outputs_follow_the_umask_and_replaced_files_keep_mode_and_owner() {
    let dir = tempfile::tempdir().unwrap();
    let jpg = jpeg_file(dir.path(), 32, 32);
    let target = dir.path().join("out.jpg");
    let convert = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_stripflow"));
        command.args(["convert", s(&jpg), s(&target)]);
        // SAFETY: umask(2) is async-signal-safe, as pre_exec requires.
        unsafe {
            command.pre_exec(|| {
                libc::umask(0o022);
                Ok(())
            });
        }
        let out = command.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        std::fs::metadata(&target).unwrap()
    };
    assert_eq!(convert().mode() & 0o7777, 0o644, "a new file gets 0666 less the umask");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o664)).unwrap();
    assert_eq!(convert().mode() & 0o7777, 0o664, "a replaced file keeps its mode");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        std::os::unix::fs::chown(&target, Some(1234), Some(5678)).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let meta = convert();
        assert_eq!((meta.uid(), meta.gid(), meta.mode() & 0o7777), (1234, 5678, 0o644), "root keeps the owner");
    }
}

/// A JPEG whose quarter turn needs a scratch file (its frame is over the heap-frame limit).
fn turn_in(tmpdir: &Path, dir: &Path) -> Output {
    let jpg = jpeg_file(dir, 1800, 1200);
    let out = dir.join("turned.jpg");
    let result = Command::new(env!("CARGO_BIN_EXE_stripflow"))
        // Under 8M the 6.5 MB frame is over half the budget, so it goes to a scratch file.
        .args(["convert", s(&jpg), s(&out), "--rotate", "90", "--max-memory", "8M"])
        .env("TMPDIR", tmpdir)
        .output()
        .unwrap();
    assert!(result.status.success() || !out.exists(), "no output after a failure");
    result
}

#[test]
fn a_full_tmpdir_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let small = tempfile::tempdir().unwrap();
    let target = std::ffi::CString::new(s(small.path())).unwrap();
    // SAFETY: mount(2) with NUL-terminated strings that outlive the call.
    if unsafe { libc::mount(c"tmpfs".as_ptr(), target.as_ptr(), c"tmpfs".as_ptr(), 0, c"size=1M".as_ptr().cast()) } != 0 {
        eprintln!("cannot mount a tmpfs here (not root?): the library's unit test covers this with a hook");
        return;
    }
    let out = turn_in(small.path(), dir.path());
    // SAFETY: as above.
    unsafe { libc::umount(target.as_ptr()) };
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{:?} {err}", out.status);
    assert!(err.contains("no space in TMPDIR") && err.contains(s(small.path())), "{err}");
}

#[test]
fn a_missing_tmpdir_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-tmp");
    let out = turn_in(&missing, dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("TMPDIR") && err.contains(s(&missing)), "{err}");
}
