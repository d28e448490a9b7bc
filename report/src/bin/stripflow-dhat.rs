//! `stripflow-dhat`: the same commands as `stripflow`, run under the dhat heap profiler.
//!
//! Writes the profile to `$STRIPFLOW_DHAT_OUT` (default `dhat-heap.json`, viewable in dhat's
//! viewer) and prints `STRIPFLOW_DHAT_PEAK <bytes>` on standard error when the command ends.
//! Allocation is slower under dhat: use it for heap figures, not for timings.

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn main() {
    let out = std::env::var("STRIPFLOW_DHAT_OUT").unwrap_or_else(|_| "dhat-heap.json".to_string());
    let profiler = dhat::Profiler::builder().file_name(out).build();
    stripflow_cli::main_with_args();
    let stats = dhat::HeapStats::get();
    eprintln!("STRIPFLOW_DHAT_PEAK {}", stats.max_bytes);
    drop(profiler);
}
