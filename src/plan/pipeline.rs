//! [`Pipeline`]: a [`Recipe`] bound to its input, planned and run.
//!
//! The input's header is parsed once, on first planning, and kept: planning again (a CLI that
//! prints the plan, then runs) and building reuse it. Running builds exactly the specifications
//! the plan priced ([`super::Build`]) over the input, then the encoder pulls every row.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::chain::{plan, Destination, Source};
use super::recipe::{Chain, Recipe};
use super::Plan;
use crate::codec::registry;
use crate::codec::spec::{Header, WriteSeek};
use crate::codec::Format;
use crate::error::{Error, Result};
use crate::io::{AtomicOutput, Input};
use crate::pipeline::{chain_buffer_bytes, BoxedSource};
use crate::pixel::ImageInfo;

/// Where the pixels come from.
enum Origin {
    /// Encoded bytes (a file, a spooled stream, bytes in memory).
    Encoded(Input),
    /// An already-built row source (a generator, a custom decoder).
    Rows(BoxedSource),
}

/// A sharp-style image job: a [`Recipe`] (set with the [`Chain`] methods) and its input.
///
/// `Send`: build it on one thread and run it on another. For many inputs, build the recipe once
/// and bind it with [`Recipe::open`] / [`Recipe::input`].
pub struct Pipeline {
    origin: Origin,
    recipe: Recipe,
    header: OnceLock<Header>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let origin = match &self.origin {
            Origin::Encoded(input) => format!("{input:?}"),
            Origin::Rows(source) => format!("rows from {}", source.name()),
        };
        f.debug_struct("Pipeline").field("origin", &origin).field("recipe", &self.recipe).finish()
    }
}

/// What a run did and measured.
#[derive(Debug, Clone)]
pub struct RunStats {
    /// Wall time from planning to the last byte written.
    pub elapsed: Duration,
    /// Output rows produced.
    pub rows: u32,
    /// Output size and pixel format.
    pub output: ImageInfo,
    /// Heap held by the built pipeline's buffers (decoder and stages), as they report it.
    pub pipeline_buffer_bytes: usize,
    /// The plan that ran.
    pub plan: Plan,
}

impl Chain for Pipeline {
    fn recipe_mut(&mut self) -> &mut Recipe {
        &mut self.recipe
    }
}

/// `Input::open` with the path in its error.
fn open_path(path: &Path) -> Result<Input> {
    Input::open(path).map_err(|e| match e {
        Error::Io(error) => Error::file(path, error),
        other => other,
    })
}

impl Recipe {
    /// This recipe bound to the file at `path`.
    pub fn open(&self, path: impl AsRef<Path>) -> Result<Pipeline> {
        Ok(self.input(open_path(path.as_ref())?))
    }

    /// This recipe bound to `input`.
    pub fn input(&self, input: impl Into<Input>) -> Pipeline {
        Pipeline { origin: Origin::Encoded(input.into()), recipe: self.clone(), header: OnceLock::new() }
    }

    /// This recipe bound to a row source (no EXIF, no shrink-on-load).
    pub fn rows(&self, source: BoxedSource) -> Pipeline {
        Pipeline { origin: Origin::Rows(source), recipe: self.clone(), header: OnceLock::new() }
    }
}

impl From<Vec<u8>> for Input {
    fn from(bytes: Vec<u8>) -> Input {
        Input::from_bytes(bytes)
    }
}

impl From<std::sync::Arc<[u8]>> for Input {
    /// Shared bytes, not copied: many pipelines can read one buffer.
    fn from(bytes: std::sync::Arc<[u8]>) -> Input {
        Input::from_shared(bytes)
    }
}

impl From<&'static [u8]> for Input {
    /// Bytes that live for the whole program (an embedded image), not copied.
    fn from(bytes: &'static [u8]) -> Input {
        Input::from_static(bytes)
    }
}

impl Pipeline {
    /// Opens the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Pipeline> {
        Recipe::new().open(path)
    }

    /// Reads an encoded image from `reader` (spooled to a temporary file, not the heap).
    pub fn from_reader(reader: impl Read) -> Result<Pipeline> {
        Ok(Self::from_input(Input::spool(reader)?))
    }

    /// An encoded image already in memory (a `Vec<u8>`, or any other [`Input`] source).
    pub fn from_bytes(bytes: impl Into<Input>) -> Pipeline {
        Self::from_input(bytes.into())
    }

    /// An encoded image as an [`Input`].
    pub fn from_input(input: Input) -> Pipeline {
        Recipe::new().input(input)
    }

    /// Rows from any row source (no EXIF orientation, no shrink-on-load; PNG output by default).
    pub fn from_source(source: BoxedSource) -> Pipeline {
        Recipe::new().rows(source)
    }

    /// The recipe.
    pub fn recipe(&self) -> &Recipe {
        &self.recipe
    }

    /// Replaces the recipe, keeping the input (and its parsed header).
    pub fn with_recipe(mut self, recipe: Recipe) -> Pipeline {
        if recipe.page != self.recipe.page {
            self.header = Default::default();
        }
        self.recipe = recipe;
        self
    }

    /// The input's header, parsed on first use and kept (`None` for a row source).
    pub fn header(&self) -> Result<Option<&Header>> {
        let Origin::Encoded(input) = &self.origin else { return Ok(None) };
        if let Some(h) = self.header.get() {
            return Ok(Some(h));
        }
        let parsed = registry::read_page_header(input, self.recipe.page)?;
        Ok(Some(self.header.get_or_init(|| parsed)))
    }

    /// Plans the job for writing to a caller's writer: reads the input's header only, chooses
    /// the stages, predicts their memory and checks it against the budget. No pixel is decoded.
    pub fn plan(&self) -> Result<Plan> {
        self.plan_to(None, Destination::Writer)
    }

    /// Plans the job for [`write_to_path`](Self::write_to_path): the format from the path's
    /// extension unless set, and the file writer's buffer counted.
    pub fn plan_for_path(&self, path: impl AsRef<Path>) -> Result<Plan> {
        let format = path_format(path.as_ref())?;
        self.plan_to(format, Destination::File)
    }

    fn plan_to(&self, format: Option<Format>, to: Destination) -> Result<Plan> {
        let source = match &self.origin {
            Origin::Encoded(input) => {
                let header = self.header()?.expect("an encoded origin has a header");
                let decoder = registry::codec(header.format).decoder.expect("a parsed header has a decoder");
                Source::Encoded { input, header, decoder }
            }
            Origin::Rows(rows) => Source::Rows { info: rows.info(), heap: chain_buffer_bytes(&**rows) },
        };
        plan(&self.recipe, source, format, to)
    }

    /// Plans, builds and runs the job, writing the encoded image to `writer`.
    pub fn write_to(self, writer: &mut dyn Write) -> Result<RunStats> {
        let started = Instant::now();
        let plan = self.plan()?;
        self.run(plan, Sink::Stream(writer), started)
    }

    /// As [`write_to`](Self::write_to), into an output the encoder may seek in (a
    /// `Cursor<Vec<u8>>`, a file): formats that patch offsets (TIFF) stream into it.
    pub fn write_to_seekable(self, writer: &mut dyn WriteSeek) -> Result<RunStats> {
        let started = Instant::now();
        let plan = self.plan()?;
        self.run(plan, Sink::Seekable(writer), started)
    }

    /// Plans, builds and runs the job, writing the file at `path` atomically (nothing is left
    /// behind on failure). Without [`format`](Chain::format), the extension names the format;
    /// an extension stripflow does not write is an error.
    pub fn write_to_path(self, path: impl AsRef<Path>) -> Result<RunStats> {
        let started = Instant::now();
        let path = path.as_ref();
        let plan = self.plan_for_path(path)?;
        let mut out = AtomicOutput::create(path)?;
        let stats = self.run(plan, Sink::Seekable(&mut out), started)?;
        out.commit()?;
        Ok(stats)
    }

    /// Plans and builds the job without encoding: the plan and the last stage, whose rows are
    /// the output pixels (for callers with their own sink, and for tests).
    pub fn into_rows(self) -> Result<(Plan, BoxedSource)> {
        let plan = self.plan()?;
        let source = self.build(&plan)?;
        Ok((plan, source))
    }

    /// Drops the decoder that planning built and keeps for the run (see `Header::prepare`), so
    /// that a planned job waiting for its turn holds no pixel buffers; the run builds it again.
    pub(crate) fn release_prepared_decoder(&self) {
        if let Some(header) = self.header.get() {
            header.release_prepared();
        }
    }

    /// Builds the specifications `plan` priced, over the input.
    fn build(self, plan: &Plan) -> Result<BoxedSource> {
        let source = self.build_source(plan)?;
        build_stages(plan, source)
    }

    /// Builds the decoder `plan` priced over the input (or hands back the row source): the first
    /// half of [`build`](Self::build), for a decode that several chains share.
    pub(crate) fn build_source(self, plan: &Plan) -> Result<BoxedSource> {
        Ok(match self.origin {
            Origin::Encoded(input) => {
                let header = self.header.get().expect("planned before building");
                let decoder = registry::codec(header.format).decoder.expect("a parsed header has a decoder");
                let request = plan.build.decode.expect("an encoded input has a decode request");
                decoder.build(input, header, &request)?
            }
            Origin::Rows(source) => source,
        })
    }

    fn run(self, plan: Plan, sink: Sink<'_>, started: Instant) -> Result<RunStats> {
        let encoder = plan.build.encoder.clone();
        let mut source = self.build(&plan)?;
        let pipeline_buffer_bytes = chain_buffer_bytes(&*source);
        match sink {
            Sink::Stream(writer) => {
                encoder.encode(&mut *source, writer)?;
                writer.flush()?;
            }
            Sink::Seekable(writer) => {
                encoder.encode_seekable(&mut *source, writer)?;
                writer.flush()?;
            }
        }
        Ok(RunStats { elapsed: started.elapsed(), rows: plan.output.height, output: plan.output, pipeline_buffer_bytes, plan })
    }
}

/// Builds the stages after the decoder that `plan` priced, over `source` (the decoder, or a
/// branch of a shared one).
pub(crate) fn build_stages(plan: &Plan, mut source: BoxedSource) -> Result<BoxedSource> {
    for spec in &plan.build.stages {
        source = spec.build(source)?;
    }
    debug_assert_eq!(source.info(), plan.output);
    Ok(source)
}

/// Encodes the rows of `source` (built from `plan`) into the file at `path`, atomically: the
/// last step of [`Pipeline::write_to_path`], for chains built elsewhere.
pub(crate) fn encode_to_path(plan: Plan, mut source: BoxedSource, path: &Path, started: Instant) -> Result<RunStats> {
    let pipeline_buffer_bytes = chain_buffer_bytes(&*source);
    let mut out = AtomicOutput::create(path)?;
    plan.build.encoder.encode_seekable(&mut *source, &mut out)?;
    out.flush()?;
    drop(source);
    out.commit()?;
    Ok(RunStats { elapsed: started.elapsed(), rows: plan.output.height, output: plan.output, pipeline_buffer_bytes, plan })
}

/// Where a run writes.
enum Sink<'a> {
    Stream(&'a mut dyn Write),
    Seekable(&'a mut dyn WriteSeek),
}

/// The format a path's extension names: `None` without an extension, an error for one stripflow
/// does not write.
fn path_format(path: &Path) -> Result<Option<Format>> {
    Ok(registry::by_extension(path)?.map(|c| c.format))
}
