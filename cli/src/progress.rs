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

/// The progress bar as a stage of the planned chain (it holds no buffer): the CLI adds it with
/// [`stripflow::plan::Chain::stage`], so the library still builds, prices and runs the job.
#[derive(Debug, Clone)]
pub struct ProgressSpec {
    bar: ProgressBar,
}

impl ProgressSpec {
    /// A bar over `rows` output rows.
    pub fn new(rows: u64) -> Self {
        let bar = ProgressBar::new(rows);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} rows ({eta} left)")
                .expect("valid template")
                .progress_chars("=> "),
        );
        ProgressSpec { bar }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl stripflow::StageSpec for ProgressSpec {
    fn name(&self) -> String {
        "progress".into()
    }
    fn output(&self, input: ImageInfo) -> stripflow::Result<ImageInfo> {
        Ok(input)
    }
    fn heap_bytes(&self, _input: ImageInfo) -> usize {
        0
    }
    fn build(&self, upstream: stripflow::pipeline::BoxedSource) -> stripflow::Result<stripflow::pipeline::BoxedSource> {
        self.bar.set_length(upstream.info().height as u64);
        Ok(Box::new(Progress { source: upstream, bar: Some(self.bar.clone()) }))
    }
}

/// A bar over the tiles of a pyramid (`stripflow tiles`), drawn in the same style as the rows
/// bar; the library's tile workers move it.
pub fn tile_bar(tiles: u64) -> ProgressBar {
    let bar = ProgressBar::new(tiles);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} tiles ({eta} left)")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}
