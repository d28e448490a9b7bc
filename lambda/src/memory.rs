//! Measured memory: a counting global allocator (live heap bytes and their high-water mark, two
//! relaxed atomics per call) and the process's peak resident set (`VmHWM`), to log beside each
//! plan's prediction.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counting allocator; the binary installs it with `#[global_allocator]`.
pub struct CountingAlloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

impl CountingAlloc {
    /// Live heap bytes now.
    pub fn live() -> usize {
        LIVE.load(Ordering::Relaxed)
    }

    /// Highest live heap bytes since the last [`CountingAlloc::reset_peak`].
    pub fn peak() -> usize {
        PEAK.load(Ordering::Relaxed)
    }

    /// Starts a new measurement: the peak becomes the live bytes now.
    pub fn reset_peak() {
        PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    fn grew(size: usize) {
        let now = LIVE.fetch_add(size, Ordering::Relaxed) + size;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

// SAFETY: every call forwards to `System` with the caller's arguments; the counters only observe
// the sizes and never touch the memory.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            Self::grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            Self::grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            Self::grew(new_size);
        }
        p
    }
}

/// The process's peak resident set since it started, bytes: `VmHWM` of `/proc/self/status`,
/// else `getrusage`'s `ru_maxrss`. `VmHWM` comes first because `ru_maxrss` survives `execve`: a
/// process forked from a big parent (a test driver, a shell wrapper) reports the parent's
/// resident set until its own passes it. 0 if neither can be read.
pub fn peak_rss_bytes() -> u64 {
    vm_hwm_bytes().unwrap_or_else(ru_maxrss_bytes)
}

/// `VmHWM` of `/proc/self/status` (Linux), bytes.
fn vm_hwm_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// `getrusage(RUSAGE_SELF)`'s `ru_maxrss` (KiB on Linux), bytes; 0 if the call fails.
fn ru_maxrss_bytes() -> u64 {
    // SAFETY: `getrusage` writes one `rusage` into the zeroed struct we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0;
    }
    usage.ru_maxrss.max(0) as u64 * 1024
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_rss_grows_with_touched_memory() {
        let before = peak_rss_bytes();
        assert!(before > 0);
        let mut block = vec![0u8; 64 << 20];
        for page in block.chunks_mut(4096) {
            page[0] = 1;
        }
        std::hint::black_box(&block);
        assert!(peak_rss_bytes() >= before.max(64 << 20), "{} after touching 64 MiB", peak_rss_bytes());
    }
}
