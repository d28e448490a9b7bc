//! The process-level memory facts a batch needs beyond the plans: the resident size now, whether
//! scratch files land in memory, and handing freed heap back to the system between jobs.

/// The process's resident set size now, bytes (Linux `/proc/self/statm`; `None` elsewhere).
pub fn resident_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * usize::try_from(page).ok().filter(|&p| p > 0)?)
}

/// The process's peak resident set size so far, bytes: `VmHWM` of `/proc/self/status` (Linux).
///
/// Not `getrusage`'s `ru_maxrss`: Linux carries that across `exec` from the process that
/// spawned this one (a test harness, a shell's copy), so it can report the parent's peak.
pub fn peak_resident_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: usize = line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

/// Whether the scratch folder (`TMPDIR`) is a tmpfs, whose files take memory rather than disk:
/// then a job's planned scratch bytes count against the batch's memory budget too.
pub fn scratch_is_memory() -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        const TMPFS_MAGIC: i64 = 0x0102_1994;
        let Ok(dir) = std::ffi::CString::new(std::env::temp_dir().as_os_str().as_bytes()) else { return false };
        // SAFETY: a zeroed statfs is a valid value of this plain C struct, filled by statfs.
        let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
        // SAFETY: a NUL-terminated path and a valid pointer to a local.
        if unsafe { libc::statfs(dir.as_ptr(), &mut fs) } != 0 {
            return false;
        }
        #[allow(clippy::unnecessary_cast)]
        return fs.f_type as i64 == TMPFS_MAGIC;
    }
    #[allow(unreachable_code)]
    false
}

/// Returns the allocator's free memory to the system (glibc's `malloc_trim`): glibc keeps a
/// freed block in the arena of the thread that used it, so without this, a worker that once ran
/// a large job would keep its pages resident while the gate counts them free.
pub fn release_free_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}
