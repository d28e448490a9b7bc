//! A global allocator that counts live heap bytes and their high-water mark.
//!
//! Wraps the system allocator with two relaxed atomics per call; cheap enough to leave on, so
//! `stripflow demo` (and `--stats`) can print the peak heap of each step as measured, not guessed.
//! The dhat test binaries measure the library the same way, independently.
//!
//! Each thread also keeps its own net bytes and their high-water mark ([`PeakAlloc::thread_start`],
//! [`PeakAlloc::thread_peak`]), so `batch` can measure each job on its worker while others run.
//! What a thread frees that another allocated lowers its own count (bytes a job hands to another
//! thread are attributed to the thread that allocated them).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counting allocator; install with `#[global_allocator]`.
pub struct PeakAlloc;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's allocated less freed bytes since it started (may go negative).
    static THREAD_NET: Cell<isize> = const { Cell::new(0) };
    /// The highest `THREAD_NET` since the last [`PeakAlloc::thread_start`].
    static THREAD_PEAK: Cell<isize> = const { Cell::new(0) };
    /// `THREAD_NET` at the last [`PeakAlloc::thread_start`].
    static THREAD_BASE: Cell<isize> = const { Cell::new(0) };
}

impl PeakAlloc {
    /// Live heap bytes now.
    pub fn current() -> usize {
        CURRENT.load(Ordering::Relaxed)
    }

    /// Highest live heap bytes since the last [`PeakAlloc::reset_peak`].
    pub fn peak() -> usize {
        PEAK.load(Ordering::Relaxed)
    }

    /// Starts a new measurement: the peak becomes the current live bytes.
    pub fn reset_peak() {
        PEAK.store(CURRENT.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// Starts a measurement of the calling thread's heap.
    pub fn thread_start() {
        let net = THREAD_NET.with(Cell::get);
        THREAD_BASE.with(|b| b.set(net));
        THREAD_PEAK.with(|p| p.set(net));
    }

    /// Highest heap the calling thread held since [`PeakAlloc::thread_start`], bytes; `None` when
    /// this allocator is not the global one (nothing was counted).
    pub fn thread_peak() -> Option<usize> {
        if PEAK.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let peak = THREAD_PEAK.with(Cell::get) - THREAD_BASE.with(Cell::get);
        Some(peak.max(0) as usize)
    }

    fn grew(size: usize) {
        let now = CURRENT.fetch_add(size, Ordering::Relaxed) + size;
        PEAK.fetch_max(now, Ordering::Relaxed);
        // `try_with`: during a thread's teardown the slots may be gone; the global count suffices.
        let _ = THREAD_NET.try_with(|net| {
            let n = net.get() + size as isize;
            net.set(n);
            let _ = THREAD_PEAK.try_with(|p| p.set(p.get().max(n)));
        });
    }

    fn shrank(size: usize) {
        CURRENT.fetch_sub(size, Ordering::Relaxed);
        let _ = THREAD_NET.try_with(|net| net.set(net.get() - size as isize));
    }
}

// SAFETY: every call forwards to `System` with the same arguments; the counters do not affect
// the returned memory.
unsafe impl GlobalAlloc for PeakAlloc {
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
        Self::shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            Self::shrank(layout.size());
            Self::grew(new_size);
        }
        p
    }
}
