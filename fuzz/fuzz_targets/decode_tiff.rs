//! TIFF decoding through the planner: metadata, then every row, under the fuzzing budget.
//! Bad input must give an error, never a panic, a hang or an allocation past the budget.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stripflow_fuzz::{drain_rows, input, pipeline};

fuzz_target!(|data: &[u8]| {
    if !(data.starts_with(b"II") || data.starts_with(b"MM")) {
        return;
    }
    let input = input(data);
    let _ = stripflow::codec::probe::read_metadata(&input);
    let _ = drain_rows(pipeline(&input), 16, false);
});
