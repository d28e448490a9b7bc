//! What a batch reports: one [`OutputRecord`] per output (a line of the JSON-lines log), and the
//! [`Summary`] at the end.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::ErrorKind;
use crate::plan::display::json_str;

/// How one output ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Written.
    Ok,
    /// Already complete (present and not older than its input): not made again.
    Skipped,
    /// Failed; the record's error says why. Nothing was written at its path.
    Failed,
}

impl Status {
    /// Lower-case name, as logged.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
        }
    }
}

/// One output's line of the log.
#[derive(Debug, Clone)]
pub struct OutputRecord {
    /// The input file.
    pub input: PathBuf,
    /// The output file.
    pub output: PathBuf,
    /// How it ended.
    pub status: Status,
    /// Who caused the failure, and the message, when it failed.
    pub error: Option<(ErrorKind, String)>,
    /// Wall time of this output (planning, decoding, encoding, writing).
    pub elapsed: Duration,
    /// The plan's predicted peak heap of this output, when it was planned.
    pub planned_heap: Option<usize>,
    /// The bytes the job was admitted with (the largest planned heap of its outputs, plus
    /// scratch held in memory and the per-job overhead), when it was admitted.
    pub reserved: Option<usize>,
    /// Measured peak heap of this output, when a [`super::HeapMeter`] was given.
    pub measured_heap: Option<usize>,
}

impl OutputRecord {
    /// The record as one line of JSON (no newline).
    pub fn to_json(&self) -> String {
        let opt = |v: Option<usize>| v.map_or_else(|| "null".to_string(), |v| v.to_string());
        let (kind, message) = match &self.error {
            Some((kind, message)) => (json_str(&format!("{kind:?}")), json_str(message)),
            None => ("null".to_string(), "null".to_string()),
        };
        format!(
            "{{\"input\":{},\"output\":{},\"status\":\"{}\",\"error_kind\":{kind},\"error\":{message},\"seconds\":{:.4},\"planned_heap\":{},\"reserved\":{},\"measured_heap\":{}}}",
            json_str(&self.input.to_string_lossy()),
            json_str(&self.output.to_string_lossy()),
            self.status.name(),
            self.elapsed.as_secs_f64(),
            opt(self.planned_heap),
            opt(self.reserved),
            opt(self.measured_heap),
        )
    }
}

/// Totals of a finished batch.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Inputs seen.
    pub inputs: usize,
    /// Outputs written.
    pub ok: usize,
    /// Outputs already complete.
    pub skipped: usize,
    /// Outputs that failed.
    pub failed: usize,
    /// Wall time of the whole batch.
    pub elapsed: Duration,
    /// The highest sum of admitted reservations at any moment (the batch's planned peak).
    pub peak_reserved: usize,
    /// The memory budget, and the part of it left for jobs after the process's own resident
    /// memory at the start.
    pub budget: usize,
    /// Bytes jobs could reserve: `budget` less the resident memory at the start.
    pub job_budget: usize,
    /// The process's peak resident set size when the batch ended (`VmHWM`), when known.
    pub peak_rss: Option<usize>,
}

impl Summary {
    /// Whether every output was written or already complete.
    pub fn all_ok(&self) -> bool {
        self.failed == 0
    }

    /// The summary as one line of JSON.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"summary\":true,\"inputs\":{},\"ok\":{},\"skipped\":{},\"failed\":{},\"seconds\":{:.3},\"peak_reserved\":{},\"budget\":{},\"job_budget\":{},\"peak_rss\":{}}}",
            self.inputs,
            self.ok,
            self.skipped,
            self.failed,
            self.elapsed.as_secs_f64(),
            self.peak_reserved,
            self.budget,
            self.job_budget,
            self.peak_rss.map_or_else(|| "null".to_string(), |b| b.to_string())
        )
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} inputs: {} written, {} already complete, {} failed in {:.1} s; peak reserved {} of {} for jobs; peak RSS {} ({} budget)",
            self.inputs,
            self.ok,
            self.skipped,
            self.failed,
            self.elapsed.as_secs_f64(),
            crate::plan::human(self.peak_reserved as u64),
            crate::plan::human(self.job_budget as u64),
            self.peak_rss.map_or_else(|| "unknown".to_string(), |b| crate::plan::human(b as u64)),
            crate::plan::human(self.budget as u64)
        )
    }
}
