//! The `stripflow` command-line tool (being written).
fn main() {}
