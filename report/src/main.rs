//! The `stripflow-report` binary: parses the command line and runs the report (see the library
//! documentation); on error prints one line and exits with 1.

use clap::Parser;

fn main() {
    let args = stripflow_report::ReportArgs::parse();
    if let Err(e) = stripflow_report::run(&args) {
        eprintln!("stripflow-report: error: {e:#}");
        std::process::exit(1);
    }
}
