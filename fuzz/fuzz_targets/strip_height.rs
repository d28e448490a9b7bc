//! Strip height is a hint: the same input drained 1, 7 and all rows at a time must give the
//! same pixels, byte for byte, or fail at all three. Outputs over `MAX_OUTPUT_PIXELS` are
//! refused by the planner (the whole-image strip is held by this target, not by the pipeline).
#![no_main]

use libfuzzer_sys::fuzz_target;
use stripflow::plan::Chain;
use stripflow_fuzz::{drain_rows, input, pipeline, MAX_OUTPUT_PIXELS};

fuzz_target!(|data: &[u8]| {
    let input = input(data);
    let job = || pipeline(&input).limit_output_pixels(MAX_OUTPUT_PIXELS);
    let whole = drain_rows(job(), u32::MAX, true);
    for height in [1, 7] {
        match (&whole, drain_rows(job(), height, true)) {
            (Ok(whole), Ok(strips)) => assert!(strips == *whole, "strip height {height} changes the pixels"),
            (Err(_), Err(_)) => {}
            (whole, strips) => panic!("whole image {:?}, strip height {height} {:?}", whole.is_ok(), strips.is_ok()),
        }
    }
});
