//! PNG: a streaming decoder (every colour type and depth, Adam7 by seven cursors) and a streaming
//! encoder.

pub mod decode;
pub mod encode;

pub use encode::{PngCompression, PngEncoder};
