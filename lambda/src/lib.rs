//! stripflow as an AWS Lambda function: an S3 object-created event in, the recipe's outputs
//! (sizes, formats, quality, fit) written to a destination bucket and prefix, with every job's
//! memory planned before it starts and refused when it does not fit the function's.
//!
//! Modules follow an invocation: [`config`] (read once at cold start), [`handler`] (the event's
//! records), [`s3`] (streamed download, single or multipart upload), [`job`] (the stripflow plan,
//! the refusal, the run), [`memory`] (the measured peak) and [`log`] (JSON lines). The binary
//! (`src/main.rs`) starts the Lambda runtime, or with `--plan FILE...` prints the plans of local
//! files at the configured memory size.

pub mod config;
pub mod error;
pub mod handler;
pub mod job;
pub mod log;
pub mod memory;
pub mod s3;

pub use config::Config;
pub use error::FunctionError;
