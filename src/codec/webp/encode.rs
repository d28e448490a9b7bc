//! The WebP encoder: its options, which library encodes them, and its heap account.
//!
//! The frame is collected from the row source first (WebP is written whole): 8-bit RGB, or RGBA
//! when the source has alpha; gray and 16-bit sources go through [`Convert`]. Each library keeps
//! the frame in the layout it encodes from, so no second copy is made:
//!
//! * image-webp (lossless, pure Rust): an RGB(A) byte frame (`super::rust_lossless`);
//! * libwebp lossy: the YUV 4:2:0 planes (plus an alpha plane), converted strip by strip;
//!   libwebp ARGB (lossless, and lossy with smart subsampling): one `u32` per pixel
//!   (`super::libwebp`).

use std::io::Write;
use std::sync::Arc;

use crate::codec::metadata::webp::Vp8xWriter;
use crate::codec::spec::{EncoderKind, EncoderSpec, Output};
use crate::codec::Embedded;
use crate::codec::Format;
use crate::error::{Error, Result};
use crate::ops::convert::Convert;
use crate::pipeline::RowSource;
use crate::pixel::{ImageInfo, PixelFormat};

/// The largest width and height a WebP file stores (14-bit sizes).
pub const WEBP_MAX_SIZE: u32 = 16383;

/// Rows pulled from the pipeline per read while the frame is collected.
pub(crate) const STRIP_ROWS: u32 = 16;

/// Which library encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebpLibrary {
    /// The image-webp crate: pure Rust, lossless only, no effort or near-lossless setting.
    ImageWebp,
    /// libwebp, compiled from C by libwebp-sys: lossy and lossless with every option. Needs the
    /// `webp-lossy` cargo feature (the CLI enables it); without it encoding is an
    /// [`Error::Unsupported`].
    Libwebp,
}

impl WebpLibrary {
    /// libwebp when the `webp-lossy` feature is compiled in, else image-webp: the library the
    /// registry picks for lossless output.
    pub fn lossless_default() -> WebpLibrary {
        if cfg!(feature = "webp-lossy") {
            WebpLibrary::Libwebp
        } else {
            WebpLibrary::ImageWebp
        }
    }
}

/// Options of the WebP encoder (sharp's `webp()` options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebpEncoder {
    /// Lossless (VP8L) rather than lossy (VP8) compression.
    pub lossless: bool,
    /// Lossy quality 1..=100.
    pub quality: u8,
    /// Lossy quality of the alpha plane 0..=100 (100 keeps it lossless).
    pub alpha_quality: u8,
    /// libwebp's near-lossless preprocessing 0..=100 (100 is off); lossless only.
    pub near_lossless: u8,
    /// CPU effort 0..=6 (libwebp's `method`; for lossless its `-z` preset level).
    pub effort: u8,
    /// Sharper (iterative) RGB to YUV conversion for lossy output.
    pub smart_subsample: bool,
    /// The library that encodes.
    pub library: WebpLibrary,
}

impl Default for WebpEncoder {
    /// Lossy quality 80, alpha quality 100, effort 4 (sharp's defaults), through libwebp.
    fn default() -> Self {
        WebpEncoder {
            lossless: false,
            quality: 80,
            alpha_quality: 100,
            near_lossless: 100,
            effort: 4,
            smart_subsample: false,
            library: WebpLibrary::Libwebp,
        }
    }
}

impl WebpEncoder {
    /// Lossless output through the library the build has ([`WebpLibrary::lossless_default`]).
    pub fn lossless() -> Self {
        WebpEncoder { lossless: true, library: WebpLibrary::lossless_default(), ..Default::default() }
    }

    /// A typed error for options this encoder cannot honour: values out of range, lossy
    /// options on image-webp, or libwebp in a build without the `webp-lossy` feature.
    pub fn validate(&self) -> Result<()> {
        let range = |name: &str, value: u8, lo: u8, hi: u8| {
            if (lo..=hi).contains(&value) {
                Ok(())
            } else {
                Err(Error::parameter(format!("WebP {name} {value} is not in {lo}..={hi}")))
            }
        };
        range("quality", self.quality, 1, 100)?;
        range("alpha-quality", self.alpha_quality, 0, 100)?;
        range("near-lossless", self.near_lossless, 0, 100)?;
        range("effort", self.effort, 0, 6)?;
        match self.library {
            WebpLibrary::ImageWebp if !self.lossless => Err(Error::parameter("image-webp encodes lossless WebP only")),
            WebpLibrary::ImageWebp if self.near_lossless != 100 => {
                Err(Error::parameter("image-webp has no near-lossless mode (libwebp, the webp-lossy feature, has)"))
            }
            WebpLibrary::Libwebp if !cfg!(feature = "webp-lossy") => Err(needs_libwebp(if self.lossless {
                "lossless WebP with effort or near-lossless"
            } else {
                "lossy WebP"
            })),
            _ => Ok(()),
        }
    }

    /// The 8-bit format the frame is collected in: RGBA when `input` has alpha, else RGB.
    pub(crate) fn frame_format(input: PixelFormat) -> PixelFormat {
        if input.color.has_alpha() {
            PixelFormat::RGBA8
        } else {
            PixelFormat::RGB8
        }
    }

    /// Whether libwebp is handed ARGB pixels (lossless, or lossy with smart subsampling, whose
    /// iterative conversion needs the whole RGB frame) rather than YUV planes.
    #[cfg_attr(not(feature = "webp-lossy"), allow(dead_code))]
    pub(crate) fn libwebp_takes_argb(&self) -> bool {
        self.lossless || self.smart_subsample
    }

    /// Pulls every row of `source` and writes a WebP file to `writer`.
    pub fn encode(&self, source: &mut dyn RowSource, writer: &mut dyn Write) -> Result<()> {
        self.encode_keeping(source, writer, &Embedded::default())
    }

    /// As [`encode`](Self::encode), the file extended (`VP8X`) with the metadata `blocks` in
    /// `ICCP`, `EXIF` and `XMP ` chunks when there are any ([`Vp8xWriter`], on the stream).
    pub fn encode_keeping(&self, source: &mut dyn RowSource, writer: &mut dyn Write, blocks: &Embedded) -> Result<()> {
        self.encode_keeping_within(source, writer, blocks, None)
    }

    /// [`encode_keeping`](Self::encode_keeping), libwebp's lossy encoder given `fast_allowance`
    /// bytes for its fast mode on a large frame (`super::fast_mode`).
    #[cfg_attr(not(feature = "webp-lossy"), allow(dead_code))]
    pub(crate) fn encode_keeping_within(
        &self,
        source: &mut dyn RowSource,
        writer: &mut dyn Write,
        blocks: &Embedded,
        fast_allowance: Option<usize>,
    ) -> Result<()> {
        if blocks.is_empty() {
            return self.encode_frame(source, writer, fast_allowance);
        }
        let info = source.info();
        let alpha = Self::frame_format(info.format).color.has_alpha();
        let mut wrapped = Vp8xWriter::new(writer, blocks, info.width.max(1), info.height.max(1), alpha);
        self.encode_frame(source, &mut wrapped, fast_allowance)?;
        wrapped.finish()
    }

    fn encode_frame(&self, source: &mut dyn RowSource, writer: &mut dyn Write, fast_allowance: Option<usize>) -> Result<()> {
        self.validate()?;
        let info = source.info();
        if info.width > WEBP_MAX_SIZE || info.height > WEBP_MAX_SIZE || info.width == 0 || info.height == 0 {
            return Err(Error::parameter(format!(
                "WebP cannot store a {}x{} image (1 to {WEBP_MAX_SIZE} on each side)",
                info.width, info.height
            )));
        }
        let target = Self::frame_format(info.format);
        let mut converted = Convert::new(source, target, [0, 0, 0]);
        match self.library {
            WebpLibrary::ImageWebp => super::rust_lossless::encode(&mut converted, writer),
            #[cfg(feature = "webp-lossy")]
            WebpLibrary::Libwebp => super::libwebp::encode(self, &mut converted, writer, fast_allowance).map(|_| ()),
            #[cfg(not(feature = "webp-lossy"))]
            WebpLibrary::Libwebp => {
                let _ = fast_allowance;
                unreachable!("validate refuses libwebp without the webp-lossy feature")
            }
        }
    }
}

/// The error for an encoding that needs libwebp in a build without the `webp-lossy` feature.
pub(crate) fn needs_libwebp(what: &str) -> Error {
    Error::unsupported(
        "output",
        format!(
            "{what} needs libwebp, which is behind stripflow's `webp-lossy` cargo feature (the stripflow CLI enables it); \
             without it, pure-Rust lossless WebP works (--lossless, `WebpEncoder::lossless()`)"
        ),
    )
}

impl EncoderSpec for WebpEncoder {
    fn format(&self) -> Format {
        Format::Webp
    }

    fn kind(&self) -> EncoderKind {
        EncoderKind::WholeFrame
    }

    fn max_size(&self) -> (u32, u32) {
        (WEBP_MAX_SIZE, WEBP_MAX_SIZE)
    }

    /// The frame as the library holds it, our conversion and strip buffers, and the library's
    /// working memory (image-webp measured with dhat, libwebp with massif: see the models in
    /// `rust_lossless` and `libwebp`).
    fn heap_bytes(&self, info: ImageInfo) -> usize {
        let target = Self::frame_format(info.format);
        let convert = if info.format != target { info.row_bytes() } else { 0 };
        // image-webp's frame is read in one call; libwebp's is converted from a strip of rows.
        let (strip, library) = match self.library {
            WebpLibrary::ImageWebp => (0, super::rust_lossless::heap_bytes(info.width, info.height, target)),
            WebpLibrary::Libwebp => (
                target.row_bytes(info.width) * STRIP_ROWS.min(info.height.max(1)) as usize,
                libwebp_heap_bytes(self, info.width, info.height, target.color.has_alpha()),
            ),
        };
        convert.saturating_add(strip).saturating_add(library)
    }

    fn detail(&self) -> String {
        let library = match self.library {
            WebpLibrary::ImageWebp => "image-webp",
            WebpLibrary::Libwebp => "libwebp",
        };
        if self.lossless {
            let near = if self.near_lossless < 100 { format!(", near-lossless {}", self.near_lossless) } else { String::new() };
            match self.library {
                WebpLibrary::ImageWebp => format!("{library}, lossless"),
                WebpLibrary::Libwebp => format!("{library}, lossless, effort {}{near}", self.effort),
            }
        } else {
            let alpha = if self.alpha_quality < 100 { format!(", alpha quality {}", self.alpha_quality) } else { String::new() };
            let smart = if self.smart_subsample { ", smart subsampling" } else { "" };
            format!("{library}, quality {}, effort {}{alpha}{smart}", self.quality, self.effort)
        }
    }

    /// With the `webp-lossy` feature: libwebp's fast mode on a large lossy frame when the spare
    /// heap gives it room (`super::fast_mode`).
    fn with_spare_heap(&self, input: ImageInfo, spare: usize) -> Option<(Arc<dyn EncoderSpec>, usize)> {
        #[cfg(feature = "webp-lossy")]
        {
            super::fast_mode::offer(self, input, spare)
        }
        #[cfg(not(feature = "webp-lossy"))]
        {
            let _ = (input, spare);
            None
        }
    }

    fn encode(&self, source: &mut dyn RowSource, writer: &mut dyn Write) -> Result<()> {
        WebpEncoder::encode(self, source, writer)
    }

    /// Nothing: the blocks are written from the caller's copy, the header rewritten in 30
    /// bytes held inline.
    fn metadata_heap_bytes(&self, _blocks: &Embedded) -> Result<usize> {
        Ok(0)
    }

    fn encode_with_metadata(&self, source: &mut dyn RowSource, output: Output<'_>, blocks: &Embedded) -> Result<()> {
        match output {
            Output::Stream(w) => self.encode_keeping(source, w, blocks),
            Output::Seekable(w) => self.encode_keeping(source, w, blocks),
        }
    }
}

/// libwebp's frame and working memory for `encoder` (0 in a build without libwebp: such an
/// encoder fails before allocating).
fn libwebp_heap_bytes(encoder: &WebpEncoder, width: u32, height: u32, alpha: bool) -> usize {
    #[cfg(feature = "webp-lossy")]
    {
        super::libwebp::heap_bytes(encoder, width, height, alpha)
    }
    #[cfg(not(feature = "webp-lossy"))]
    {
        let _ = (encoder, width, height, alpha);
        0
    }
}
