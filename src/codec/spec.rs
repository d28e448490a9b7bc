//! What a codec states about itself: the traits behind the registry ([`super::registry`]).
//!
//! A decoder reads a [`Header`] once per job (the planner caches it), says which shrink-on-load
//! factors and whether crop-on-load it supports, predicts its heap for a [`DecodeRequest`] and
//! builds the row source for it. An encoder ([`EncoderSpec`]) says its size limits, whether it
//! streams or needs the whole frame, predicts its heap for the rows it will be given, and encodes.
//! The planner talks to codecs only through these traits, so a new format is one module that
//! implements them plus one line in the registry.

use std::any::Any;
use std::fmt;
use std::io::{Seek, Write};
use std::sync::{Arc, Mutex};

use super::Format;
use crate::error::Result;
use crate::io::Input;
use crate::ops::crop::Rect;
use crate::pipeline::{BoxedSource, RowSource};
use crate::pixel::{ImageInfo, PixelFormat};

/// Facts from an encoded image's header, read once per job without decoding pixels.
#[derive(Clone)]
pub struct Header {
    /// The file format.
    pub format: Format,
    /// Stored size, and the pixel format the decoder emits at full scale.
    pub info: ImageInfo,
    /// The EXIF orientation tag (1..=8), if the file carries one.
    pub exif_orientation: Option<u8>,
    /// What `stripflow info` prints.
    pub metadata: super::probe::Metadata,
    /// The codec's own parse, handed back to it when it plans and builds the decoder.
    pub(crate) parsed: Arc<dyn Any + Send + Sync>,
    /// A decoder built while planning (to learn its exact account) and kept for the run, with
    /// the request it was built for: building it is the costly part (a JPEG's marker walk, an
    /// Adam7 PNG's checking inflate pass), and it is done once per job.
    pub(crate) prepared: Arc<Mutex<Option<(DecodeRequest, BoxedSource)>>>,
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Header")
            .field("format", &self.format)
            .field("info", &self.info)
            .field("exif_orientation", &self.exif_orientation)
            .finish_non_exhaustive()
    }
}

impl Header {
    /// A header of `format` with the codec's own `parsed` state.
    pub(crate) fn new(
        format: Format,
        info: ImageInfo,
        exif_orientation: Option<u8>,
        metadata: super::probe::Metadata,
        parsed: Arc<dyn Any + Send + Sync>,
    ) -> Header {
        Header { format, info, exif_orientation, metadata, parsed, prepared: Arc::default() }
    }

    /// The codec's own parse, if it is of type `T`.
    pub(crate) fn parsed<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.parsed.downcast_ref::<T>()
    }

    /// The heap of the decoder prepared for `request`, building it with `build` (and keeping it
    /// for [`Header::take_prepared`]) unless it already is.
    pub(crate) fn prepare(
        &self,
        request: &DecodeRequest,
        build: impl FnOnce() -> Result<BoxedSource>,
    ) -> Result<usize> {
        let mut slot = self.prepared.lock().unwrap_or_else(|p| p.into_inner());
        match &*slot {
            Some((r, source)) if r == request => Ok(source.buffer_bytes()),
            _ => {
                *slot = None;
                let source = build()?;
                let bytes = source.buffer_bytes();
                *slot = Some((*request, source));
                Ok(bytes)
            }
        }
    }

    /// The decoder prepared for `request` while planning, if any (taken: a decoder runs once).
    pub(crate) fn take_prepared(&self, request: &DecodeRequest) -> Option<BoxedSource> {
        let mut slot = self.prepared.lock().unwrap_or_else(|p| p.into_inner());
        match slot.take() {
            Some((r, source)) if r == *request => Some(source),
            other => {
                *slot = other;
                None
            }
        }
    }

    /// Drops the decoder prepared while planning, if any (its buffers are heap held until the
    /// run): for a plan that will not run soon, or whose decode another plan's decoder makes.
    /// Building the decoder later prepares it again.
    pub(crate) fn release_prepared(&self) {
        self.prepared.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// How a decoder is asked to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeRequest {
    /// Shrink-on-load denominator, one of the decoder's [`DecoderSpec::shrink_factors`].
    pub shrink: u8,
    /// Crop-on-load window in scaled coordinates (only for decoders that
    /// [crop on load](DecoderSpec::crops_on_load)); `None` for the whole image.
    pub region: Option<Rect>,
    /// Rows of the scaled image that will be read (a crop below stops the decoder early).
    pub rows_needed: u32,
    /// Which damaged pixel data fails rather than being rendered.
    pub fail_on: super::FailOn,
    /// Emit a CMYK file's rows as 4-channel CMYK ink amounts (typed RGBA8) for a colour stage
    /// with its profile, instead of RGB (decoders without CMYK ignore it).
    pub cmyk: bool,
    /// Threads the decoder may keep busy at once, its caller's included (1: only the thread
    /// that reads its rows). Decoders that cannot split their work ignore it; one that can
    /// (TIFF tile columns) counts what its helpers allocate in its heap.
    pub threads: usize,
}

/// The decoding side of a codec.
pub trait DecoderSpec: fmt::Debug + Send + Sync {
    /// Parses the header of `input` (no pixel decoded): of its first page, for a multi-page
    /// format.
    fn read_header(&self, input: &Input) -> Result<Header>;

    /// Parses the header of page `page` (0 is the first) of `input`: a TIFF directory, a GIF
    /// frame. The default serves single-page formats: page 0 is [`read_header`](Self::read_header)
    /// and any other page is an [`Error::Parameter`](crate::Error::Parameter) naming the format.
    fn read_page_header(&self, input: &Input, page: u32) -> Result<Header> {
        if page == 0 {
            return self.read_header(input);
        }
        let header = self.read_header(input)?;
        Err(crate::Error::parameter(format!(
            "page {page} does not exist: a {} image has one page (page 0)",
            super::registry::codec(header.format).label
        )))
    }

    /// Shrink-on-load denominators the decoder supports, largest first; `[1]` for none.
    fn shrink_factors(&self) -> &'static [u8] {
        &[1]
    }

    /// Whether a [`DecodeRequest::region`] is honoured (rows and columns outside never decoded).
    fn crops_on_load(&self) -> bool {
        false
    }

    /// The size of the image decoded at 1/`shrink` (each side rounded up by default).
    fn scaled_size(&self, header: &Header, shrink: u8) -> (u32, u32) {
        let d = shrink.max(1) as u32;
        (header.info.width.div_ceil(d), header.info.height.div_ceil(d))
    }

    /// A lower bound of the decoder's heap, known from the header alone, so a job can be refused
    /// before any costly planning step.
    fn heap_lower_bound(&self, _header: &Header, _request: &DecodeRequest) -> usize {
        0
    }

    /// Heap the decoder will hold for `request`, from the same layout it allocates from.
    fn heap_bytes(&self, input: &Input, header: &Header, request: &DecodeRequest) -> Result<usize>;

    /// Builds the decoder.
    fn build(&self, input: Input, header: &Header, request: &DecodeRequest) -> Result<BoxedSource>;

    /// The metadata blocks the file embeds (EXIF, XMP, ICC profile), as stored, for outputs that
    /// keep them; each at most [`Embedded::MAX_BLOCK_BYTES`] (a larger block is left out). The
    /// default is a format that carries none.
    fn read_embedded(&self, _input: &Input, _header: &Header) -> Result<Embedded> {
        Ok(Embedded::default())
    }

    /// The pixel density the format's own header states (JPEG JFIF, PNG `pHYs`), for
    /// `stripflow info`; the default is none (EXIF resolution is read from
    /// [`read_embedded`](Self::read_embedded)'s EXIF).
    fn read_density(&self, _input: &Input, _header: &Header) -> Result<Option<super::metadata::Density>> {
        Ok(None)
    }
}

/// Metadata blocks embedded in an encoded image, as stored, format-neutral: what
/// [`DecoderSpec::read_embedded`] returns and encoders that keep metadata write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Embedded {
    /// The ICC profile.
    pub icc: Option<Vec<u8>>,
    /// EXIF as a TIFF structure, starting at its byte-order mark ("II*\0" or "MM\0*"): what a
    /// JPEG's APP1 holds after "Exif\0\0", a PNG's eXIf chunk, a WebP's EXIF chunk.
    pub exif: Option<Vec<u8>>,
    /// The XMP packet (XML text).
    pub xmp: Option<Vec<u8>>,
}

impl Embedded {
    /// The largest block read: larger ones are left out rather than read into the heap.
    pub const MAX_BLOCK_BYTES: usize = 1 << 20;

    /// Bytes held by the blocks.
    pub fn heap_bytes(&self) -> usize {
        [&self.icc, &self.exif, &self.xmp].iter().map(|b| b.as_ref().map_or(0, Vec::len)).sum()
    }

    /// Whether there is no block.
    pub fn is_empty(&self) -> bool {
        self.icc.is_none() && self.exif.is_none() && self.xmp.is_none()
    }

    /// The names of the blocks present ("ICC profile, EXIF, XMP"), for messages.
    pub fn names(&self) -> String {
        let names: Vec<&str> = [(self.icc.is_some(), "ICC profile"), (self.exif.is_some(), "EXIF"), (self.xmp.is_some(), "XMP")]
            .into_iter()
            .filter_map(|(present, name)| present.then_some(name))
            .collect();
        names.join(", ")
    }

    /// An [`Error::Unsupported`](crate::Error::Unsupported) naming `format` and the blocks,
    /// unless there is none: what an encoder that stores no metadata answers.
    pub fn refuse_unless_empty(&self, format: Format) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        Err(crate::Error::unsupported(
            super::registry::codec(format).label,
            format!("keeping metadata: this output cannot store the input's {} (drop --keep-metadata / --keep-icc)", self.names()),
        ))
    }
}

/// Where an encoder writes: a plain writer, or one it may also seek in
/// ([`EncoderSpec::encode_seekable`]).
pub enum Output<'a> {
    /// A writer (a pipe, a caller's buffer).
    Stream(&'a mut dyn Write),
    /// A writer that can seek (a file, a cursor).
    Seekable(&'a mut dyn WriteSeek),
}

/// Whether an encoder takes rows as they come or needs the whole output frame first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncoderKind {
    /// Rows are encoded as they arrive: memory does not grow with the height.
    Streaming,
    /// The whole frame is collected before encoding (WebP, AVIF, progressive JPEG): the frame
    /// and the encoder's working memory are priced in the plan.
    WholeFrame,
}

/// An encoder its caller feeds one row at a time ([`EncoderSpec::row_encoder`]): what a sink
/// that encodes many small images side by side on one thread (a pyramid's tiles) drives, where
/// a pulling [`EncoderSpec::encode`] would need a thread per image.
pub trait RowEncoder: Send {
    /// Encodes the next row, writing the bytes that are ready to `out`.
    fn push_row(&mut self, row: &[u8], out: &mut dyn Write) -> Result<()>;

    /// Ends the image once every row is pushed, writing the rest of it to `out`.
    fn finish(self: Box<Self>, out: &mut dyn Write) -> Result<()>;
}

/// The encoding side of a codec, configured with its options.
pub trait EncoderSpec: fmt::Debug + Send + Sync {
    /// The format written.
    fn format(&self) -> Format;

    /// Streaming or whole-frame.
    fn kind(&self) -> EncoderKind {
        EncoderKind::Streaming
    }

    /// The largest width and height the format can store.
    fn max_size(&self) -> (u32, u32) {
        (u32::MAX, u32::MAX)
    }

    /// Whether the format stores an alpha channel (else the encoder flattens it onto the
    /// background).
    fn stores_alpha(&self) -> bool {
        true
    }

    /// Heap the encoder holds while encoding rows of `input` (its own buffers, its library's
    /// state, and for a whole-frame encoder the frame), as measured with dhat.
    fn heap_bytes(&self, input: ImageInfo) -> usize;

    /// The options, for plans ("quality 85").
    fn detail(&self) -> String;

    /// A faster configuration of this encoder for `input` that holds up to the returned number
    /// of bytes beyond [`heap_bytes`](Self::heap_bytes), at most `spare`: the planner offers
    /// what the budget leaves once everything else is priced, and counts what is taken. `None`
    /// (the default) when more heap would not make the encoder faster.
    fn with_spare_heap(&self, _input: ImageInfo, _spare: usize) -> Option<(Arc<dyn EncoderSpec>, usize)> {
        None
    }

    /// Pulls every row of `source` and writes the encoded image to `writer`.
    fn encode(&self, source: &mut dyn RowSource, writer: &mut dyn Write) -> Result<()>;

    /// As [`encode`](Self::encode), into an output the encoder may also seek in (a file, a
    /// cursor): what a format that patches offsets after its data (TIFF) needs to stream. The
    /// default ignores the seeking.
    fn encode_seekable(&self, source: &mut dyn RowSource, writer: &mut dyn WriteSeek) -> Result<()> {
        self.encode(source, writer)
    }

    /// Whether [`row_encoder`](Self::row_encoder) takes rows of `format`. The default is no:
    /// the codec's images are encoded by pulling ([`encode`](Self::encode)).
    fn encodes_pushed_rows(&self, _format: PixelFormat) -> bool {
        false
    }

    /// An encoder of one image of `info` fed row by row, its header written to `out`, holding
    /// at most [`heap_bytes`](Self::heap_bytes). Only where
    /// [`encodes_pushed_rows`](Self::encodes_pushed_rows) says so; elsewhere an
    /// [`Error::Unsupported`](crate::Error::Unsupported).
    fn row_encoder(&self, info: ImageInfo, _out: &mut dyn Write) -> Result<Box<dyn RowEncoder>> {
        Err(crate::Error::unsupported(super::registry::codec(self.format()).label, format!("{} rows pushed one at a time", info.format)))
    }

    /// Heap the encoder holds beyond [`heap_bytes`](Self::heap_bytes) to write the metadata
    /// `blocks` into its output (its copies of them, a compressor), or an
    /// [`Error::Unsupported`](crate::Error::Unsupported) naming the blocks the format cannot
    /// store. The default stores none: any block is refused.
    fn metadata_heap_bytes(&self, blocks: &Embedded) -> Result<usize> {
        blocks.refuse_unless_empty(self.format())?;
        Ok(0)
    }

    /// Encodes as [`encode`](Self::encode) / [`encode_seekable`](Self::encode_seekable) (by
    /// `output`), writing the metadata `blocks` into the file too. The default stores none: with
    /// no block it encodes, with any it is refused as in
    /// [`metadata_heap_bytes`](Self::metadata_heap_bytes).
    fn encode_with_metadata(&self, source: &mut dyn RowSource, output: Output<'_>, blocks: &Embedded) -> Result<()> {
        blocks.refuse_unless_empty(self.format())?;
        match output {
            Output::Stream(w) => self.encode(source, w),
            Output::Seekable(w) => self.encode_seekable(source, w),
        }
    }
}

/// An output that can be written and sought in (a file, `std::io::Cursor<Vec<u8>>`).
pub trait WriteSeek: Write + Seek {}

impl<T: Write + Seek> WriteSeek for T {}
