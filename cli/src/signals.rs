//! SIGTERM, SIGINT and SIGHUP: delete this process's named temporary files, then exit with
//! 128 + the signal number, as a shell reports a process killed by that signal.
//!
//! Most temporary files need no cleanup: outputs, scratch frames and the demo's intermediate
//! files are unnamed (`O_TMPFILE`) and vanish with the process, even on SIGKILL. What remains is
//! the fallback where the system has no unnamed files: [`AtomicOutput`]'s named `.partial` files
//! (its own registry, emptied by [`remove_pending_outputs`]) and paths the CLI registers here with
//! [`register`] (the demo's folder).
//!
//! The handler itself only writes the signal number into a pipe (the one thing it may safely do);
//! a thread blocked on the other end does the cleanup with ordinary locks and file calls, then
//! `_exit`s. A signal the process inherited as ignored (a background job of a non-interactive
//! shell ignores SIGINT) stays ignored.
//!
//! [`AtomicOutput`]: stripflow::io::AtomicOutput
//! [`remove_pending_outputs`]: stripflow::io::remove_pending_outputs

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;

/// Write end of the self-pipe; -1 until [`install`] ran.
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);

/// Paths (files or folders) to delete on a signal.
static REGISTERED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The signals that trigger cleanup.
const SIGNALS: [libc::c_int; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

/// Adds `path` (a file, or a folder deleted with its contents) to what a signal deletes.
pub fn register(path: &Path) {
    REGISTERED.lock().unwrap_or_else(|p| p.into_inner()).push(path.to_path_buf());
}

/// Removes `path` from what a signal deletes (it was deleted, or is kept on purpose).
pub fn unregister(path: &Path) {
    let mut paths = REGISTERED.lock().unwrap_or_else(|p| p.into_inner());
    paths.retain(|p| p != path);
}

extern "C" fn on_signal(signal: libc::c_int) {
    let fd = PIPE_WRITE.load(Ordering::Relaxed);
    let byte = signal as u8;
    // SAFETY: write(2) is async-signal-safe; the buffer is a local byte. A failed write (a full
    // pipe: a signal is already pending) changes nothing.
    unsafe {
        libc::write(fd, (&byte as *const u8).cast(), 1);
    }
}

/// Installs the handlers and starts the cleanup thread. Call once, early in `main`.
pub fn install() {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 fills the two-element array it is given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return; // no handler: the default actions still end the process
    }
    PIPE_WRITE.store(fds[1], Ordering::Relaxed);
    let read_fd = fds[0];
    let spawned = std::thread::Builder::new().name("signal-cleanup".into()).spawn(move || loop {
        let mut byte = 0u8;
        // SAFETY: reads one byte into a local from a descriptor this thread owns.
        let n = unsafe { libc::read(read_fd, (&mut byte as *mut u8).cast(), 1) };
        if n == 1 {
            clean_up_and_exit(byte as libc::c_int);
        }
        if n == 0 || (n < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted) {
            return;
        }
    });
    if spawned.is_err() {
        return;
    }
    for signal in SIGNALS {
        // SAFETY: a zeroed sigaction is valid; sa_sigaction is an `extern "C" fn(c_int)` that
        // only calls write(2), and we query the old action before replacing it.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN {
                continue;
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// Deletes every registered path and the library's pending outputs, then exits with
/// 128 + `signal`.
fn clean_up_and_exit(signal: libc::c_int) -> ! {
    stripflow::io::remove_pending_outputs();
    let paths = REGISTERED.lock().unwrap_or_else(|p| p.into_inner());
    for path in paths.iter() {
        if path.is_dir() {
            let _ = std::fs::remove_dir_all(path);
        } else {
            let _ = std::fs::remove_file(path);
        }
    }
    // SAFETY: _exit ends the process at once, without running destructors or atexit handlers
    // (other threads may be mid-write; nothing of theirs needs saving).
    unsafe { libc::_exit(128 + signal) }
}
