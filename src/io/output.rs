//! [`AtomicOutput`]: a file written beside its target and moved into place on commit, leaving
//! nothing behind when the run fails or the process is killed.
//!
//! Where the operating system allows it (Linux, a file system with `O_TMPFILE`: ext4, xfs,
//! btrfs, tmpfs), the file being written has no name at all until [`AtomicOutput::commit`]: it is
//! opened with `O_TMPFILE` in the target's folder, so a process killed even by `SIGKILL` leaves
//! nothing on disk. On commit it is linked in from `/proc/self/fd` (straight onto the target when
//! there is none, else under a temporary name that is then renamed over the target, so a reader
//! sees the old file or the new one, never a half-written one).
//!
//! Elsewhere the file is written under a temporary name (`.NAME.XXXXXX.partial`, shortened so it
//! never exceeds `NAME_MAX`) that is listed in a process-wide registry while it exists; a signal
//! handler (the CLI installs one) calls [`remove_pending_outputs`] to delete them before exiting.
//!
//! Permissions: a new file gets `0666` less the umask, as any program's output would; a replaced
//! file keeps its mode, and (when running as root) its owner and group.

use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// The longest file name most Unix file systems accept, in bytes.
const NAME_MAX: usize = 255;

/// Size of the write buffer held on the heap.
const BUFFER_BYTES: usize = 64 * 1024;

/// Named temporary files that exist right now (the fallback kind, and the brief moment between
/// linking an unnamed file and renaming it over the target).
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Deletes every named temporary file an [`AtomicOutput`] of this process holds at this moment.
///
/// For a signal handler's cleanup: call it from an ordinary thread (it takes a lock), for example
/// one woken by the handler through a pipe, then exit. Unnamed temporary files need nothing: they
/// vanish with the process.
pub fn remove_pending_outputs() {
    let pending = PENDING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    for path in pending.iter() {
        let _ = std::fs::remove_file(path);
    }
}

fn register(path: &Path) {
    PENDING.lock().unwrap_or_else(|p| p.into_inner()).push(path.to_path_buf());
}

fn unregister(path: &Path) {
    let mut pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(i) = pending.iter().position(|p| p == path) {
        pending.swap_remove(i);
    }
}

/// How the file being written is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Opened with `O_TMPFILE`: no name until commit.
    Unnamed,
    /// A named temporary file in the target's folder, listed in [`PENDING`].
    Named,
}

/// A file being written: an unnamed (or, where that is impossible, a temporary named) file in the
/// target's folder, moved into place on commit.
///
/// Dropping it without [`AtomicOutput::commit`] discards it, so a failed run leaves nothing
/// behind and an existing file at the target is untouched.
pub struct AtomicOutput {
    target: PathBuf,
    /// The target's folder (`.` for a bare file name).
    dir: PathBuf,
    writer: BufWriter<File>,
    kind: Kind,
    /// The temporary name of a [`Kind::Named`] file, or of an unnamed one while it is being
    /// linked and renamed; removed on drop unless committed.
    temp_name: Option<PathBuf>,
}

impl std::fmt::Debug for AtomicOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtomicOutput").field("target", &self.target).field("kind", &self.kind).finish()
    }
}

impl AtomicOutput {
    /// Heap bytes of the write buffer (counted in a plan that writes to a file).
    pub const BUFFER_BYTES: usize = BUFFER_BYTES;

    /// Starts writing the file that will become `target`.
    ///
    /// Fails at once, naming the path, when `target` is a directory or its folder does not exist
    /// (so a caller finds out before decoding anything).
    pub fn create(target: impl AsRef<Path>) -> Result<AtomicOutput> {
        Self::create_as(target.as_ref(), true)
    }

    /// [`create`](Self::create), with the unnamed kind allowed or not (tests force the fallback).
    fn create_as(target: &Path, allow_unnamed: bool) -> Result<AtomicOutput> {
        let (dir, name) = split_target(target)?;
        let existing = match std::fs::metadata(target) {
            Ok(meta) if meta.is_dir() => {
                return Err(io_error(errno_kind(libc::EISDIR), format!("{} is a directory", target.display())))
            }
            Ok(meta) => Some(meta),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_error(e.kind(), format!("{}: {e}", target.display()))),
        };
        match std::fs::metadata(&dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(io_error(errno_kind(libc::ENOTDIR), format!("{} is not a directory", dir.display()))),
            Err(e) => return Err(io_error(e.kind(), format!("folder {} of {}: {e}", dir.display(), target.display()))),
        }
        let unnamed = if allow_unnamed { open_unnamed(&dir) } else { None };
        let (file, kind, temp_name) = match unnamed {
            Some(file) => (file, Kind::Unnamed, None),
            None => {
                let (file, path) = create_named(&dir, &name)?;
                (file, Kind::Named, Some(path))
            }
        };
        let out = AtomicOutput { target: target.to_path_buf(), dir, writer: BufWriter::with_capacity(BUFFER_BYTES, file), kind, temp_name };
        if let Some(meta) = existing {
            out.keep_owner_and_mode(&meta)?;
        }
        Ok(out)
    }

    /// Gives the new file the replaced file's mode, and its owner and group when running as root
    /// (otherwise the group only, where allowed).
    fn keep_owner_and_mode(&self, meta: &std::fs::Metadata) -> Result<()> {
        let fd = self.writer.get_ref().as_raw_fd();
        // SAFETY: plain syscalls on a descriptor this value owns; no memory is passed.
        unsafe {
            if libc::geteuid() == 0 {
                if libc::fchown(fd, meta.uid(), meta.gid()) != 0 {
                    return Err(io::Error::last_os_error().into());
                }
            } else {
                // Not root: keeping the group is allowed when we belong to it; else leave ours.
                let _ = libc::fchown(fd, u32::MAX, meta.gid());
            }
            if libc::fchmod(fd, meta.mode() & 0o7777) != 0 {
                return Err(io::Error::last_os_error().into());
            }
        }
        Ok(())
    }

    /// Flushes, syncs and moves the file into place.
    pub fn commit(mut self) -> Result<()> {
        self.writer.flush()?;
        self.writer.get_ref().sync_all()?;
        if self.kind == Kind::Unnamed && !self.link_unnamed()? {
            return Ok(()); // linked straight into place
        }
        let temp = self.temp_name.clone().expect("a named file has a name");
        std::fs::rename(&temp, &self.target).map_err(|e| io_error(e.kind(), format!("cannot rename {} to {}: {e}", temp.display(), self.target.display())))?;
        unregister(&temp);
        self.temp_name = None;
        Ok(())
    }

    /// Gives the unnamed file a name: the target itself when there is none (returns `false`:
    /// nothing to rename), else a fresh temporary name in `temp_name` (returns `true`).
    fn link_unnamed(&mut self) -> Result<bool> {
        let proc_path = format!("/proc/self/fd/{}\0", self.writer.get_ref().as_raw_fd());
        let link = |to: &Path| -> io::Result<()> {
            let to = std::ffi::CString::new(to.as_os_str().as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
            // SAFETY: both paths are NUL-terminated strings that outlive the call.
            let r = unsafe {
                libc::linkat(libc::AT_FDCWD, proc_path.as_ptr().cast(), libc::AT_FDCWD, to.as_ptr(), libc::AT_SYMLINK_FOLLOW)
            };
            if r == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        };
        match link(&self.target) {
            Ok(()) => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error(e.kind(), format!("cannot link {}: {e}", self.target.display()))),
        }
        let name = self.target.file_name().expect("checked in create").to_os_string();
        loop {
            let temp = self.dir.join(temp_file_name(&name));
            // Registered first: a signal between link and rename must find it.
            register(&temp);
            match link(&temp) {
                Ok(()) => {
                    self.kind = Kind::Named;
                    self.temp_name = Some(temp);
                    return Ok(true);
                }
                Err(e) => {
                    unregister(&temp);
                    if e.kind() != io::ErrorKind::AlreadyExists {
                        return Err(io_error(e.kind(), format!("cannot link {}: {e}", temp.display())));
                    }
                }
            }
        }
    }
}

impl Drop for AtomicOutput {
    fn drop(&mut self) {
        if let Some(temp) = self.temp_name.take() {
            let _ = std::fs::remove_file(&temp);
            unregister(&temp);
        }
    }
}

impl Write for AtomicOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

impl io::Seek for AtomicOutput {
    /// Flushes the buffer and moves in the file (formats such as TIFF patch offsets).
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.writer.seek(pos)
    }
}

/// The error kind of OS error `code` (`IsADirectory` and friends by name need Rust 1.83).
fn errno_kind(code: i32) -> io::ErrorKind {
    io::Error::from_raw_os_error(code).kind()
}

/// An I/O error of `kind` whose message names the path.
fn io_error(kind: io::ErrorKind, message: String) -> Error {
    Error::Io(io::Error::new(kind, message))
}

/// The folder (`.` for a bare name) and file name of `target`.
fn split_target(target: &Path) -> Result<(PathBuf, OsString)> {
    let name = target
        .file_name()
        .ok_or_else(|| Error::parameter(format!("output path {} has no file name", target.display())))?;
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name.to_os_string()))
}

/// Opens an unnamed file in `dir` (`O_TMPFILE`, mode `0666` less the umask), or `None` where the
/// system cannot (no `O_TMPFILE`, or no `/proc` to link it from later).
#[cfg(target_os = "linux")]
fn open_unnamed(dir: &Path) -> Option<File> {
    if !Path::new("/proc/self/fd").is_dir() {
        return None;
    }
    OpenOptions::new().write(true).mode(0o666).custom_flags(libc::O_TMPFILE).open(dir).ok()
}

#[cfg(not(target_os = "linux"))]
fn open_unnamed(_dir: &Path) -> Option<File> {
    None
}

/// Creates a new named temporary file for `name` in `dir` (mode `0666` less the umask) and
/// registers it for cleanup.
fn create_named(dir: &Path, name: &OsStr) -> Result<(File, PathBuf)> {
    loop {
        let path = dir.join(temp_file_name(name));
        register(&path);
        match OpenOptions::new().write(true).create_new(true).mode(0o666).open(&path) {
            Ok(file) => return Ok((file, path)),
            Err(e) => {
                unregister(&path);
                if e.kind() != io::ErrorKind::AlreadyExists {
                    return Err(io_error(e.kind(), format!("cannot create a file in {}: {e}", dir.display())));
                }
            }
        }
    }
}

/// A fresh temporary name for `name`: `.NAME.XXXXXX.partial`, with `NAME` shortened so the whole
/// stays within `NAME_MAX` bytes.
fn temp_file_name(name: &OsStr) -> OsString {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    let mut x = nanos ^ (std::process::id() as u64) << 32 ^ COUNTER.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut tag = [0u8; 6];
    for c in &mut tag {
        x ^= x >> 29;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        *c = ALPHABET[(x % ALPHABET.len() as u64) as usize];
    }
    let suffix = format!(".{}.partial", std::str::from_utf8(&tag).expect("ASCII"));
    let keep = name.as_bytes().len().min(NAME_MAX - 1 - suffix.len());
    let mut bytes = Vec::with_capacity(NAME_MAX);
    bytes.push(b'.');
    bytes.extend_from_slice(&name.as_bytes()[..keep]);
    bytes.extend_from_slice(suffix.as_bytes());
    OsString::from_vec(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tests in this module take this lock: one of them calls [`remove_pending_outputs`], which
    /// deletes every named temporary file of the process, another test's included.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn serial() -> std::sync::MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(|p| p.into_inner())
    }
    use std::os::unix::fs::PermissionsExt;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn dropped_output_leaves_nothing_and_keeps_existing_file() {
        let _serial = serial();
        for unnamed in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let target = dir.path().join("out.png");
            std::fs::write(&target, b"old").unwrap();
            {
                let mut out = AtomicOutput::create_as(&target, unnamed).unwrap();
                out.write_all(b"half").unwrap();
            }
            assert_eq!(std::fs::read(&target).unwrap(), b"old");
            assert_eq!(names(dir.path()), ["out.png"]);
            let mut out = AtomicOutput::create_as(&target, unnamed).unwrap();
            out.write_all(b"new").unwrap();
            out.commit().unwrap();
            assert_eq!(std::fs::read(&target).unwrap(), b"new");
            assert_eq!(names(dir.path()), ["out.png"]);
            assert!(PENDING.lock().unwrap().iter().all(|p| !p.starts_with(dir.path())));
        }
    }

    #[test]
    fn the_file_being_written_has_no_name_where_the_system_allows() {
        let _serial = serial();
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("new.jpg");
        let mut out = AtomicOutput::create(&target).unwrap();
        out.write_all(&[7; 100_000]).unwrap();
        // Nothing at all in the folder while writing: a SIGKILL now leaves nothing behind.
        assert_eq!(out.kind, Kind::Unnamed, "ext4 and tmpfs support O_TMPFILE");
        assert!(names(dir.path()).is_empty());
        out.commit().unwrap();
        assert_eq!(names(dir.path()), ["new.jpg"]);
        assert_eq!(std::fs::read(&target).unwrap().len(), 100_000);
    }

    #[test]
    fn a_named_temporary_file_is_registered_for_signal_cleanup() {
        let _serial = serial();
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("fallback.png");
        let mut out = AtomicOutput::create_as(&target, false).unwrap();
        out.write_all(b"partial").unwrap();
        out.flush().unwrap();
        let listed = names(dir.path());
        assert_eq!(listed.len(), 1);
        assert!(listed[0].starts_with(".fallback.png.") && listed[0].ends_with(".partial"), "{listed:?}");
        // What a signal handler does: the partial file goes at once.
        remove_pending_outputs();
        assert!(names(dir.path()).is_empty());
        drop(out);
    }

    /// Mode `0666` less a umask of `022` (the test sets it for the process: no other test in this
    /// binary depends on the umask).
    #[test]
    fn new_files_follow_the_umask_and_replaced_files_keep_their_mode() {
        let _serial = serial();
        for unnamed in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let target = dir.path().join("a.png");
            // SAFETY: umask has no preconditions.
            let old = unsafe { libc::umask(0o022) };
            let mut out = AtomicOutput::create_as(&target, unnamed).unwrap();
            out.write_all(b"x").unwrap();
            out.commit().unwrap();
            unsafe { libc::umask(old) };
            assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o7777, 0o644, "unnamed: {unnamed}");

            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
            let mut out = AtomicOutput::create_as(&target, unnamed).unwrap();
            out.write_all(b"y").unwrap();
            out.commit().unwrap();
            assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o7777, 0o640);
        }
    }

    #[test]
    fn a_replaced_file_keeps_its_owner_when_running_as_root() {
        let _serial = serial();
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("not root: chown to another user is not possible, nothing to check");
            return;
        }
        for unnamed in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let target = dir.path().join("owned.jpg");
            std::fs::write(&target, b"theirs").unwrap();
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
            std::os::unix::fs::chown(&target, Some(4321), Some(8765)).unwrap();
            let mut out = AtomicOutput::create_as(&target, unnamed).unwrap();
            out.write_all(b"ours").unwrap();
            out.commit().unwrap();
            let meta = std::fs::metadata(&target).unwrap();
            assert_eq!((meta.uid(), meta.gid(), meta.mode() & 0o7777), (4321, 8765, 0o644));
        }
    }

    #[test]
    fn a_250_character_name_works() {
        let _serial = serial();
        for unnamed in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let name = format!("{}.png", "n".repeat(246));
            assert_eq!(name.len(), 250);
            let target = dir.path().join(&name);
            std::fs::write(&target, b"old").unwrap(); // forces the rename path for the unnamed kind
            let mut out = AtomicOutput::create_as(&target, unnamed).unwrap();
            out.write_all(b"new").unwrap();
            out.commit().unwrap();
            assert_eq!(names(dir.path()), std::slice::from_ref(&name));
            assert!(temp_file_name(OsStr::new(&name)).len() <= NAME_MAX);
        }
    }

    #[test]
    fn a_directory_or_a_missing_folder_fails_at_create_naming_the_path() {
        let _serial = serial();
        let dir = tempfile::tempdir().unwrap();
        let err = AtomicOutput::create(dir.path()).unwrap_err().to_string();
        assert!(err.contains(&dir.path().display().to_string()) && err.contains("is a directory"), "{err}");
        let missing = dir.path().join("no-such-folder").join("out.png");
        let err = AtomicOutput::create(&missing).unwrap_err().to_string();
        assert!(err.contains("no-such-folder"), "{err}");
        assert!(names(dir.path()).is_empty());
    }
}
