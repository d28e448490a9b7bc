//! BMP, GIF and WebP decoding through the planner (every page of a GIF or WebP up to 3):
//! metadata, then every row, under the fuzzing budget. Bad input must give an error, never a
//! panic, a hang or an allocation past the budget.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stripflow_fuzz::{drain_rows, input, pipeline};

fuzz_target!(|data: &[u8]| {
    let known = data.starts_with(b"BM") || data.starts_with(b"GIF8") || (data.len() >= 12 && &data[8..12] == b"WEBP");
    if !known {
        return;
    }
    let input = input(data);
    let _ = stripflow::codec::probe::read_metadata(&input);
    let _ = drain_rows(pipeline(&input), 16, false);
});
