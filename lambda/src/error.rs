//! [`FunctionError`]: why an invocation failed, classified by who caused it, and its Lambda error
//! type (`errorType` in the Runtime API's error response, so a caller or a retry policy can tell
//! a refused upload from a network failure).

use std::fmt;

/// Why an invocation (or the cold start) failed.
#[derive(Debug)]
pub enum FunctionError {
    /// The configuration is invalid (the deployment's fault).
    Config(String),
    /// The event is not an S3 object-created event the function can act on.
    Event(String),
    /// The upload's plan needs more memory than the function has: refused before any pixel is
    /// decoded, rather than killed by Lambda halfway.
    PlanExceedsMemory {
        /// The source object's key.
        key: String,
        /// The output that does not fit.
        output: String,
        /// The plan's predicted heap with no budget, bytes (`None` when it cannot be planned
        /// at all).
        planned_heap_bytes: Option<usize>,
        /// The budget: the function's memory less the reserve, bytes.
        budget_bytes: usize,
        /// stripflow's own message.
        detail: String,
    },
    /// stripflow refused or failed on the image (bad input, unsupported format, limits).
    Image {
        /// The source object's key.
        key: String,
        /// stripflow's typed error.
        error: stripflow::Error,
    },
    /// S3 (download or upload) failed.
    S3(String),
    /// A local file in the temporary folder failed.
    Io(std::io::Error),
}

impl FunctionError {
    /// The Lambda `errorType`.
    pub fn error_type(&self) -> &'static str {
        match self {
            FunctionError::Config(_) => "ConfigError",
            FunctionError::Event(_) => "EventError",
            FunctionError::PlanExceedsMemory { .. } => "PlanExceedsMemory",
            FunctionError::Image { .. } => "ImageError",
            FunctionError::S3(_) => "S3Error",
            FunctionError::Io(_) => "IoError",
        }
    }
}

impl fmt::Display for FunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FunctionError::Config(m) => write!(f, "configuration: {m}"),
            FunctionError::Event(m) => write!(f, "event: {m}"),
            FunctionError::PlanExceedsMemory { key, output, planned_heap_bytes, budget_bytes, detail } => {
                let planned = planned_heap_bytes.map_or("unknown".to_string(), |b| format!("{b} bytes"));
                write!(
                    f,
                    "{key}: output {output} needs {planned} of heap, more than the function's budget of \
                     {budget_bytes} bytes (raise the function's memory): {detail}"
                )
            }
            FunctionError::Image { key, error } => write!(f, "{key}: {error}"),
            FunctionError::S3(m) => write!(f, "S3: {m}"),
            FunctionError::Io(e) => write!(f, "temporary file: {e}"),
        }
    }
}

impl std::error::Error for FunctionError {}

impl From<std::io::Error> for FunctionError {
    fn from(e: std::io::Error) -> Self {
        FunctionError::Io(e)
    }
}

impl From<FunctionError> for lambda_runtime::Diagnostic {
    fn from(e: FunctionError) -> Self {
        lambda_runtime::Diagnostic { error_type: e.error_type().to_string(), error_message: e.to_string() }
    }
}
