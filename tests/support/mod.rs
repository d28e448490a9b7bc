//! Shared test support: the dhat heap harness and the big-fixture generator.
//!
//! Included by test binaries with `mod support;`. Not every binary uses every item.
#![allow(dead_code)]

pub mod fixtures;
pub mod heap;
pub mod hostile;
pub mod interlaced;

/// A writer that counts and discards: an encoder's output without a file.
pub struct CountingSink(pub u64);

impl std::io::Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
