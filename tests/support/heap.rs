//! A harness for dhat heap tests: one profiler per process.
//!
//! dhat allows one profiler per process, and its peak is a high-water mark that cannot be reset,
//! so every scenario runs in a child process of its own: the test binary (built with
//! `harness = false`) re-executes itself with `STRIPFLOW_HEAP_SCENARIO=<name>`; the child runs the
//! scenario's setup without profiling (fixture generation is not counted), then starts the
//! profiler, runs the job, prints the peak and exits. The parent collects the peaks, checks them
//! and prints a closing `N passed, N failed` line.
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: dhat::Alloc = dhat::Alloc;
//! mod support;
//! fn main() {
//!     let mut t = support::heap::HeapTests::new();
//!     let peak = t.measure("crop_16k", || make_fixture(), |path| run_job(path));
//!     t.check_at_most("crop 16K", peak, 4 << 20);
//!     t.finish();
//! }
//! ```

use std::process::Command;

const SCENARIO_VAR: &str = "STRIPFLOW_HEAP_SCENARIO";

/// libtest's flags that take a value as the next argument: the value is not a filter.
const FLAGS_WITH_VALUE: [&str; 6] = ["--test-threads", "--skip", "--color", "--format", "--logfile", "-Z"];

/// The first argument that is neither a flag nor the value of one of [`FLAGS_WITH_VALUE`].
fn scenario_filter(args: impl IntoIterator<Item = String>) -> Option<String> {
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if FLAGS_WITH_VALUE.contains(&arg.as_str()) {
            args.next();
        } else if !arg.starts_with('-') {
            return Some(arg);
        }
    }
    None
}

/// Collects measured peaks and checks, and reports them like a test runner.
pub struct HeapTests {
    passed: usize,
    failed: usize,
    filter: Option<String>,
}

impl HeapTests {
    /// A new harness; a first command-line argument that is neither a flag nor a flag's value
    /// filters scenario names (so `cargo test -- --nocapture --test-threads 1` runs them all).
    pub fn new() -> Self {
        HeapTests { passed: 0, failed: 0, filter: scenario_filter(std::env::args().skip(1)) }
    }

    /// Whether a scenario is selected by the command-line filter.
    pub fn selected(&self, name: &str) -> bool {
        self.filter.as_deref().map_or(true, |f| name.contains(f))
    }

    /// Peak heap bytes of `run(setup())`, measured by dhat in a child process.
    ///
    /// `setup` (fixture generation) runs before the profiler starts. Returns `None` (and counts
    /// a failure) if the child failed; returns `None` without counting when filtered out.
    pub fn measure<T>(
        &mut self,
        name: &str,
        setup: impl FnOnce() -> T,
        run: impl FnOnce(T),
    ) -> Option<u64> {
        if let Ok(wanted) = std::env::var(SCENARIO_VAR) {
            if wanted == name {
                let input = setup();
                let profiler = dhat::Profiler::builder().testing().build();
                run(input);
                let stats = dhat::HeapStats::get();
                drop(profiler);
                println!("STRIPFLOW_PEAK {} {}", stats.max_bytes, stats.total_blocks);
                std::process::exit(0);
            }
            return None;
        }
        if !self.selected(name) {
            return None;
        }
        let exe = std::env::current_exe().expect("test binary path");
        let output = Command::new(exe)
            .env(SCENARIO_VAR, name)
            .output()
            .expect("re-run the test binary");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let peak = stdout
            .lines()
            .find_map(|l| l.strip_prefix("STRIPFLOW_PEAK "))
            .and_then(|l| l.split_whitespace().next()?.parse::<u64>().ok());
        match (output.status.success(), peak) {
            (true, Some(peak)) => {
                println!("scenario {name}: peak heap {} ({peak} bytes)", human(peak));
                Some(peak)
            }
            _ => {
                println!("scenario {name} ... FAILED (exit {:?})", output.status.code());
                println!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
                self.failed += 1;
                None
            }
        }
    }

    /// Records a check; prints `test NAME ... ok` or `... FAILED` with `detail`.
    pub fn check(&mut self, name: &str, ok: bool, detail: &str) {
        if ok {
            self.passed += 1;
            println!("test {name} ... ok ({detail})");
        } else {
            self.failed += 1;
            println!("test {name} ... FAILED ({detail})");
        }
    }

    /// Checks that a measured peak (if measured) is at most `limit` bytes.
    pub fn check_at_most(&mut self, name: &str, peak: Option<u64>, limit: u64) {
        if let Some(peak) = peak {
            self.check(name, peak <= limit, &format!("peak {} <= limit {}", human(peak), human(limit)));
        }
    }

    /// Checks that two peaks (if measured) differ by at most `tolerance` bytes.
    pub fn check_flat(&mut self, name: &str, small: Option<u64>, large: Option<u64>, tolerance: u64) {
        if let (Some(a), Some(b)) = (small, large) {
            self.check(
                name,
                b <= a + tolerance,
                &format!("taller image peak {} vs {} (tolerance {})", human(b), human(a), human(tolerance)),
            );
        }
    }

    /// Prints the closing line and exits non-zero if anything failed.
    pub fn finish(self) {
        if std::env::var(SCENARIO_VAR).is_ok() {
            eprintln!("scenario not found in this test binary");
            std::process::exit(2);
        }
        println!();
        println!("heap: {} passed, {} failed", self.passed, self.failed);
        if self.failed > 0 {
            std::process::exit(1);
        }
    }
}

/// Bytes in KiB / MiB for people.
pub fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.2} MiB", bytes as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}
