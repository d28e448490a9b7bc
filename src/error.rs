//! The one error type of stripflow, classified by who caused the failure ([`ErrorKind`]).
//!
//! * [`ErrorKind::Io`]: the operating system (a read or write failed). [`Error::Io`] carries the
//!   bare OS error, [`Error::File`] the same with the path it concerns.
//! * [`ErrorKind::Format`]: the input (a truncated, corrupt or hostile file).
//! * [`ErrorKind::Unsupported`]: the input is valid but uses a feature or format stripflow does
//!   not implement.
//! * [`ErrorKind::Parameter`]: the caller (an impossible crop, a zero size, an option that does
//!   not apply to the chosen format).
//! * [`ErrorKind::Limits`]: a configured limit (memory budget, pixel count) would be exceeded.
//!
//! Messages are plain sentences for people. Each error's `Display` says everything once: no
//! variant exposes an inner error as its `source()`, so printing the chain (`{e:#}` in anyhow)
//! does not repeat the operating system's words.

use std::fmt;
use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Who caused a failure: the classification every [`Error`] falls into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The operating system: a read or a write failed.
    Io,
    /// The input is not a valid image of the format it claims to be.
    Format,
    /// The input is valid but needs something stripflow does not implement.
    Unsupported,
    /// The caller asked for something impossible or inapplicable.
    Parameter,
    /// A configured limit would be exceeded.
    Limits,
}

/// Every failure stripflow reports.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading the input or writing the output failed.
    Io(std::io::Error),
    /// Reading or writing the file at `path` failed.
    File {
        /// The file concerned.
        path: PathBuf,
        /// What the operating system said.
        error: std::io::Error,
    },
    /// The input is not a valid image of the format it claims to be.
    Format {
        /// Which format was being decoded ("PNG", "JPEG", ...).
        format: &'static str,
        /// What exactly is wrong, for people.
        detail: String,
    },
    /// The input is valid, but uses a feature stripflow does not implement.
    Unsupported {
        /// Which format ("PNG", "JPEG", ...).
        format: &'static str,
        /// The feature that is missing, e.g. "arithmetic coding".
        feature: String,
    },
    /// The caller asked for something impossible (crop outside the image, zero size, ...).
    Parameter(String),
    /// A configured limit would be exceeded; nothing was decoded.
    Limits(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::File { path, error } => write!(f, "{}: {error}", path.display()),
            Error::Format { format, detail } => write!(f, "invalid {format} data: {detail}"),
            Error::Unsupported { format, feature } => write!(f, "unsupported {format} feature: {feature}"),
            Error::Parameter(m) => write!(f, "invalid parameter: {m}"),
            Error::Limits(m) => write!(f, "limit exceeded: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
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

    /// An I/O error about the file at `path` ([`Error::File`]).
    pub fn file(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Error::File { path: path.into(), error }
    }

    /// Who caused this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Io(_) | Error::File { .. } => ErrorKind::Io,
            Error::Format { .. } => ErrorKind::Format,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::Parameter(_) => ErrorKind::Parameter,
            Error::Limits(_) => ErrorKind::Limits,
        }
    }

    /// The same failure again, for a second party that must hear of it (several outputs of one
    /// shared decode). Not `Clone`: the operating system's errors are not; they are copied as
    /// their kind and message.
    pub(crate) fn duplicate(&self) -> Error {
        let io = |e: &std::io::Error| std::io::Error::new(e.kind(), e.to_string());
        match self {
            Error::Io(e) => Error::Io(io(e)),
            Error::File { path, error } => Error::File { path: path.clone(), error: io(error) },
            Error::Format { format, detail } => Error::Format { format, detail: detail.clone() },
            Error::Unsupported { format, feature } => Error::Unsupported { format, feature: feature.clone() },
            Error::Parameter(m) => Error::Parameter(m.clone()),
            Error::Limits(m) => Error::Limits(m.clone()),
        }
    }

    /// The operating system's error, for [`ErrorKind::Io`] errors.
    pub fn io_error(&self) -> Option<&std::io::Error> {
        match self {
            Error::Io(e) | Error::File { error: e, .. } => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_the_os_error_and_the_path_once() {
        let e = Error::file("/no/such.png", std::io::Error::from(std::io::ErrorKind::NotFound));
        let text = e.to_string();
        assert_eq!(text.matches("not found").count(), 1, "{text}");
        assert!(text.starts_with("/no/such.png: "), "{text}");
        assert!(std::error::Error::source(&e).is_none());
        assert_eq!(e.kind(), ErrorKind::Io);
    }
}
