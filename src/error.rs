//! The one error type of stripflow, classified by who caused the failure.
//!
//! * [`Error::Io`]: the operating system (a read or write failed).
//! * [`Error::Format`]: the input (a truncated, corrupt or hostile file).
//! * [`Error::Unsupported`]: the input is valid but uses a feature stripflow does not implement.
//! * [`Error::Parameter`]: the caller (an impossible crop, a zero size, a bad option).
//! * [`Error::Limits`]: a configured limit (memory budget, pixel count) would be exceeded.

use std::fmt;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every failure stripflow reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the input or writing the output failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The input is not a valid image of the format it claims to be.
    #[error("invalid {format} data: {detail}")]
    Format {
        /// Which format was being decoded ("PNG", "JPEG", ...).
        format: &'static str,
        /// What exactly is wrong, for people.
        detail: String,
    },
    /// The input is valid, but uses a feature stripflow does not implement.
    #[error("unsupported {format} feature: {feature}")]
    Unsupported {
        /// Which format ("PNG", "JPEG", ...).
        format: &'static str,
        /// The feature that is missing, e.g. "arithmetic coding".
        feature: String,
    },
    /// The caller asked for something impossible (crop outside the image, zero size, ...).
    #[error("invalid parameter: {0}")]
    Parameter(String),
    /// A configured limit would be exceeded; nothing was decoded.
    #[error("limit exceeded: {0}")]
    Limits(String),
}

impl Error {
    /// A [`Error::Format`] error for `format` with a message.
    pub fn format(format: &'static str, detail: impl fmt::Display) -> Self {
        Error::Format { format, detail: detail.to_string() }
    }

    /// An [`Error::Unsupported`] error for `format` naming the missing feature.
    pub fn unsupported(format: &'static str, feature: impl fmt::Display) -> Self {
        Error::Unsupported { format, feature: feature.to_string() }
    }

    /// A [`Error::Parameter`] error with a message.
    pub fn parameter(detail: impl fmt::Display) -> Self {
        Error::Parameter(detail.to_string())
    }

    /// A [`Error::Limits`] error with a message.
    pub fn limits(detail: impl fmt::Display) -> Self {
        Error::Limits(detail.to_string())
    }
}
