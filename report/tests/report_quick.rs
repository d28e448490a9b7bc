//! `stripflow-report --quick` end to end: the report, its CSV and its four charts are written and
//! hold stripflow's figures. Peers are used when installed but not required.
//!
//! The report measures the `stripflow` binary beside its own; `cargo test --workspace` builds it
//! (the CLI crate's tests need it), and `cargo test -p stripflow-report` alone needs
//! `cargo build --release -p stripflow-cli` first (the test says so if it is missing).

use std::path::PathBuf;
use std::process::Command;

#[test]
fn quick_report_is_written_with_stripflow_rows() {
    let out = tempfile::tempdir().unwrap();
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-cache");
    let report = PathBuf::from(env!("CARGO_BIN_EXE_stripflow-report"));
    let stripflow = report.with_file_name("stripflow");
    assert!(
        stripflow.exists(),
        "{} is missing: run `cargo build --release -p stripflow-cli` (or test the whole workspace)",
        stripflow.display()
    );
    let status = Command::new(&report)
        .args(["--quick", "--runs", "1", "--out"])
        .arg(out.path())
        .arg("--cache")
        .arg(&cache)
        .status()
        .expect("run stripflow-report");
    assert!(status.success(), "stripflow-report --quick failed: {status}");

    let md = std::fs::read_to_string(out.path().join("report.md")).expect("report.md");
    assert!(md.contains("## Summary") && md.contains("## Every job"), "report.md lacks its sections");
    assert!(md.contains("logical CPUs (nproc)") && md.contains("| stripflow | stripflow "), "header lacks machine or versions");
    // Every job has a stripflow row; the PNG-input ones must have succeeded with figures.
    let stripflow_rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| stripflow | ") && !l.contains("(this build)")).collect();
    let jobs = md.matches("\n### ").count() - 4; // minus the four chart headings
    assert_eq!(stripflow_rows.len(), jobs, "one stripflow row per job");
    let summary_png = md
        .lines()
        .find(|l| l.starts_with("| png-rgb-512x512-w256-png |"))
        .expect("summary row of the PNG thumbnail job");
    assert!(summary_png.contains("MiB") && (summary_png.contains(" ms |") || summary_png.contains(" s |")), "no figures: {summary_png}");
    assert!(!summary_png.contains("FAILED"), "stripflow failed the PNG thumbnail: {summary_png}");

    let csv = std::fs::read_to_string(out.path().join("results.csv")).expect("results.csv");
    assert!(csv.lines().any(|l| l.starts_with("png-rgb-512x512-w256-png,stripflow,1,true,")), "no successful stripflow run in the CSV");
    assert!(csv.lines().any(|l| l.starts_with("png-rgb-512x512-w256-png,stripflow-dhat,1,true,")), "no dhat figure in the CSV");
    assert!(out.path().join("dhat/png-rgb-512x512-w256-png.dhat-heap.json").exists(), "no dhat profile");

    for chart in ["memory_vs_megapixels.svg", "heap_vs_height.svg", "heap_vs_scale.svg", "time_per_job.svg"] {
        let svg = std::fs::read_to_string(out.path().join(chart)).unwrap_or_else(|e| panic!("{chart}: {e}"));
        assert!(svg.contains("<svg") && svg.contains("</svg>"), "{chart} is not an SVG");
        assert!(svg.contains("stripflow"), "{chart} has no stripflow series");
    }
}
