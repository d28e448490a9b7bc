//! Shared test support: the dhat heap harness and the big-fixture generator.
//!
//! Included by test binaries with `mod support;`. Not every binary uses every item.
#![allow(dead_code)]

pub mod fixtures;
pub mod heap;
pub mod hostile;
pub mod interlaced;

/// Runs `program args` with `input` on its standard input (written from a thread, so a large
/// input cannot deadlock against the output) and returns what it printed and its status.
pub fn run_piped(program: &str, args: &[&str], input: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("wait for the child");
    writer.join().expect("stdin writer");
    output
}

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
