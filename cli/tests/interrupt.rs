//! SIGTERM, SIGINT and SIGKILL in the middle of a job leave nothing on disk: no partial output
//! in the output folder, nothing in a private TMPDIR (no spooled stdin copy, no demo files).
//! SIGTERM and SIGINT end the process with 128 + the signal, after its cleanup.

use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use stripflow::codec::png::{PngCompression, PngEncoder};
use stripflow::synth::Synthetic;
use stripflow::PixelFormat;

/// A big PNG (6144x6144 RGB, about 60 MB), made once per test binary. The jobs below take over a
/// second on a fast machine (`slow_job`): the signal lands long before they end.
fn big_png() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("interrupt-6144.png");
        if !path.exists() {
            let partial = path.with_extension(format!("{}.partial", std::process::id()));
            let mut file = std::io::BufWriter::new(std::fs::File::create(&partial).unwrap());
            let encoder = PngEncoder { compression: PngCompression::from_level(1).unwrap(), ..Default::default() };
            encoder.encode(&mut Synthetic::new(6144, 6144, PixelFormat::RGB8, 7), &mut file).unwrap();
            file.flush().unwrap();
            drop(file);
            std::fs::rename(&partial, &path).unwrap();
        }
        path
    })
}

/// `stripflow args` with TMPDIR set to `tmp`, the signals at their defaults (as in an interactive
/// shell; a background job of a script would inherit SIGINT ignored, and stripflow keeps it so).
fn start(args: &[&str], tmp: &Path, stdin: Stdio) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stripflow"));
    command.args(args).env("TMPDIR", tmp).stdin(stdin).stdout(Stdio::piped()).stderr(Stdio::null());
    // SAFETY: signal(2) is async-signal-safe, as pre_exec requires.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGTERM, libc::SIG_DFL);
            Ok(())
        });
    }
    command.spawn().expect("spawn stripflow")
}

/// Flags that make a conversion of the big PNG take seconds: a linear-light lanczos3 resize and,
/// for PNG output, the slowest compression (an option JPEG output refuses).
fn slow_job(out_name: &str) -> Vec<&'static str> {
    let mut flags = vec!["--width", "6000", "--linear", "--no-shrink-on-load"];
    if out_name.ends_with(".png") {
        flags.extend(["--compression", "9"]);
    } else {
        flags.extend(["--quality", "100"]);
    }
    flags
}

fn listing(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

/// Waits `delay`, checks the job is still running (so the signal lands mid-run), sends `signal`
/// and waits for the process to end.
fn interrupt(child: &mut Child, delay: Duration, signal: libc::c_int, what: &str) -> ExitStatus {
    let started = Instant::now();
    while started.elapsed() < delay {
        assert!(child.try_wait().unwrap().is_none(), "{what} finished before the signal: make the input bigger");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(child.try_wait().unwrap().is_none(), "{what} finished before the signal");
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
    child.wait().unwrap()
}

/// SIGKILL kills; SIGTERM and SIGINT reach the handler, which exits with 128 + the signal.
fn check_status(status: ExitStatus, signal: libc::c_int, what: &str) {
    if signal == libc::SIGKILL {
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{what}: {status:?}");
    } else {
        assert_eq!(status.code(), Some(128 + signal), "{what}: the handler exits with 128 + signal, got {status:?}");
    }
}

fn signals() -> [(libc::c_int, &'static str); 3] {
    [(libc::SIGTERM, "SIGTERM"), (libc::SIGINT, "SIGINT"), (libc::SIGKILL, "SIGKILL")]
}

#[test]
fn an_interrupted_conversion_leaves_nothing() {
    let input = big_png().to_str().unwrap();
    for (signal, name) in signals() {
        for out_name in ["out.jpg", "out.png"] {
            let out_dir = tempfile::tempdir().unwrap();
            let tmp = tempfile::tempdir().unwrap();
            let out = out_dir.path().join(out_name);
            let mut args = vec!["convert", input, out.to_str().unwrap()];
            args.extend(slow_job(out_name));
            let mut child = start(&args, tmp.path(), Stdio::null());
            let what = format!("convert -> {out_name}, {name}");
            let status = interrupt(&mut child, Duration::from_millis(500), signal, &what);
            assert_eq!(listing(out_dir.path()), Vec::<String>::new(), "{what}: output folder not empty");
            assert_eq!(listing(tmp.path()), Vec::<String>::new(), "{what}: TMPDIR not empty");
            check_status(status, signal, &what);
        }
    }
}

#[test]
fn an_interrupted_conversion_from_stdin_leaves_nothing() {
    let bytes = std::fs::read(big_png()).unwrap();
    for (signal, name) in signals() {
        let out_dir = tempfile::tempdir().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let out = out_dir.path().join("out.png");
        let mut args = vec!["convert", "-", out.to_str().unwrap()];
        args.extend(slow_job("out.png"));
        let mut child = start(&args, tmp.path(), Stdio::piped());
        let mut stdin = child.stdin.take().unwrap();
        // All of the input is sent (stripflow spools it), then the signal lands while converting.
        let writer = {
            let bytes = bytes.clone();
            std::thread::spawn(move || {
                let _ = stdin.write_all(&bytes);
            })
        };
        writer.join().unwrap();
        let what = format!("convert - out.png, {name}");
        let status = interrupt(&mut child, Duration::from_millis(500), signal, &what);
        assert_eq!(listing(out_dir.path()), Vec::<String>::new(), "{what}: output folder not empty");
        assert_eq!(listing(tmp.path()), Vec::<String>::new(), "{what}: TMPDIR not empty (the spooled copy of stdin?)");
        check_status(status, signal, &what);
    }
}

#[test]
fn an_interrupted_demo_leaves_nothing() {
    for (signal, name) in signals() {
        let tmp = tempfile::tempdir().unwrap();
        let mut child = start(&["demo", "--size", "4096"], tmp.path(), Stdio::null());
        // Wait for the first line (the demo has set up its files), then let it work a while.
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 16];
        std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
        let what = format!("demo --size 4096, {name}");
        let status = interrupt(&mut child, Duration::from_millis(400), signal, &what);
        assert_eq!(listing(tmp.path()), Vec::<String>::new(), "{what}: TMPDIR not empty (the demo's folder?)");
        check_status(status, signal, &what);
    }
}
