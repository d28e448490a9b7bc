//! A progress bar on standard error for long jobs, as a pass-through stage at the end of the chain.

use indicatif::{ProgressBar, ProgressStyle};
use stripflow::{ImageInfo, RowSource};

/// Counts the rows the encoder pulls and shows them as a bar (when enabled).
pub struct Progress {
    source: Box<dyn RowSource>,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Wraps `source`; `show` decides whether a bar is drawn (a terminal, a long job).
    pub fn new(source: Box<dyn RowSource>, show: bool) -> Self {
        let bar = show.then(|| {
            let bar = ProgressBar::new(source.info().height as u64);
            bar.set_style(
                ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} rows ({eta} left)")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar
        });
        Progress { source, bar }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl RowSource for Progress {
    fn info(&self) -> ImageInfo {
        self.source.info()
    }
    fn read_row(&mut self, row: &mut [u8]) -> stripflow::Result<()> {
        self.source.read_row(row)?;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        Ok(())
    }
    fn buffer_bytes(&self) -> usize {
        0
    }
    fn name(&self) -> &'static str {
        "progress"
    }
    fn upstream(&self) -> Option<&dyn RowSource> {
        Some(&*self.source)
    }
}
