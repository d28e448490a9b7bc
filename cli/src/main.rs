//! The `stripflow` binary: the CLI with a counting allocator, so `demo` and `--stats` can print
//! measured peak heap.

#[global_allocator]
static ALLOC: stripflow_cli::peak_alloc::PeakAlloc = stripflow_cli::peak_alloc::PeakAlloc;

fn main() {
    stripflow_cli::main_with_args();
}
