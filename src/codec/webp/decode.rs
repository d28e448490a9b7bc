//! WebP input through image-webp (pure Rust): lossy, lossless, alpha, and animations (the first
//! frame, or `--page N` as image-webp composites it).
//!
//! image-webp decodes a whole frame at once, so this is a whole-frame decoder: the frame is
//! decoded when the decoder is built and rows are served from it. Its `heap_bytes` is the frame
//! plus image-webp's working memory ([`decoder_heap_bytes`], measured with dhat: see
//! `docs/webp-decode-memory.md`), so the planner refuses a frame over the budget before decoding.
//! With the `webp-lossy` feature, still lossy frames without alpha go through libwebp instead,
//! which scales while it decodes (`decode_libwebp`); the decoder then offers
//! shrink-on-load, and the kinds image-webp still decodes are box-shrunk in place.
//! The header comes from our own RIFF walk ([`super::decode_header`]), so `stripflow info` reads
//! a few bytes a chunk and decodes nothing.

use std::sync::Arc;

use super::decode_header::{read_header, WebpHeader};
use crate::codec::probe::Metadata;
use crate::codec::spec::{DecodeRequest, DecoderSpec, Embedded, Header};
use crate::codec::Format;
use crate::error::{Error, Result};
use crate::io::{is_input_ended, Input, InputReader};
use crate::pipeline::{BoxedSource, RowCounter, RowSource};
use crate::pixel::{ImageInfo, PixelFormat};

/// What the WebP decoder works on: the RIFF walk and the page asked for.
#[derive(Debug, Clone)]
pub struct WebpPage {
    /// The chunks.
    pub header: WebpHeader,
    /// The frame decoded (0 for a still image).
    pub page: u32,
}

/// The pixel format a WebP decodes to: RGBA8 with alpha, else RGB8 (as image-webp gives it).
pub fn output_format(h: &WebpHeader) -> PixelFormat {
    if h.alpha {
        PixelFormat::RGBA8
    } else {
        PixelFormat::RGB8
    }
}

/// image-webp's working memory beside the output frame, in bytes per canvas pixel, by kind
/// (image-webp 0.2.4, fitted to dhat peaks: `docs/webp-decode-memory.md`).
fn working_bytes_per_pixel(h: &WebpHeader) -> f64 {
    match (h.animated, h.lossy, h.alpha) {
        // Lossy: the YUV planes (1.5 bytes a pixel, rounded to macroblocks); alpha adds its
        // plane and the lossless decoder's ARGB copy of it.
        (false, true, false) => 1.8,
        (false, true, true) => 6.7,
        // Lossless: RGBA output is decoded in place; RGB output from an RGBA copy.
        (false, false, false) => 4.5,
        (false, false, true) => 0.5,
        // Animations: image-webp's RGBA canvas, the frame decoded and its RGBA copy.
        (true, false, _) => 9.0,
        (true, true, _) => 11.0,
    }
}

/// Fixed part of image-webp's working memory (tables, chunk map, reader buffers).
const WORKING_FIXED: usize = 256 * 1024;

/// Heap of a WebP decode of `h`: the output frame, image-webp's working memory and the input
/// reader's buffer.
pub fn decoder_heap_bytes(input: &Input, h: &WebpHeader) -> usize {
    let pixels = h.width as usize * h.height as usize;
    let frame = pixels * output_format(h).bytes_per_pixel();
    let working = (pixels as f64 * working_bytes_per_pixel(h)).ceil() as usize;
    frame + working + WORKING_FIXED + InputReader::buffer_bytes_for(input) + std::mem::size_of::<WebpDecoder>()
}

/// The stripflow error for an image-webp error.
fn webp_error(e: image_webp::DecodingError) -> Error {
    match e {
        image_webp::DecodingError::IoError(io) if is_input_ended(&io) => Error::Io(io),
        image_webp::DecodingError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            Error::format("WebP", "file truncated")
        }
        image_webp::DecodingError::IoError(io) => Error::Io(io),
        image_webp::DecodingError::ImageTooLarge => Error::limits("WebP image too large for image-webp"),
        image_webp::DecodingError::UnsupportedFeature(f) => Error::unsupported("WebP", f),
        other => Error::format("WebP", other),
    }
}

/// A decoded WebP frame, served row by row.
pub struct WebpDecoder {
    info: ImageInfo,
    frame: Vec<u8>,
    rows: RowCounter,
    held: usize,
    name: &'static str,
}

impl WebpDecoder {
    /// Decodes frame `page.page` of `input` (whose walk is `page.header`).
    pub fn new(input: &Input, page: &WebpPage) -> Result<WebpDecoder> {
        let h = &page.header;
        let mut decoder = image_webp::WebPDecoder::new(input.cursor()).map_err(webp_error)?;
        if decoder.dimensions() != (h.width, h.height) || decoder.has_alpha() != h.alpha {
            return Err(Error::format("WebP", "the chunks disagree about the canvas"));
        }
        let info = ImageInfo { width: h.width, height: h.height, format: output_format(h) };
        let mut frame = vec![0u8; info.row_bytes() * info.height as usize];
        if decoder.is_animated() {
            for _ in 0..=page.page {
                decoder.read_frame(&mut frame).map_err(webp_error)?;
            }
        } else {
            decoder.read_image(&mut frame).map_err(webp_error)?;
        }
        Ok(WebpDecoder::from_frame(info, frame, "webp decode"))
    }

    /// Serves the decoded `info`-sized `frame` row by row (also the libwebp decoder's output);
    /// `name` for plans.
    pub(super) fn from_frame(info: ImageInfo, frame: Vec<u8>, name: &'static str) -> WebpDecoder {
        let held = std::mem::size_of::<WebpDecoder>() + frame.len();
        WebpDecoder { info, frame, rows: RowCounter::new(info.height), held, name }
    }
}

impl RowSource for WebpDecoder {
    fn info(&self) -> ImageInfo {
        self.info
    }

    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        let bytes = self.info.row_bytes();
        if row.len() != bytes {
            return Err(Error::parameter(format!("row buffer of {} bytes, rows are {bytes} bytes", row.len())));
        }
        let y = self.rows.advance()? as usize;
        row.copy_from_slice(&self.frame[y * bytes..(y + 1) * bytes]);
        Ok(())
    }

    fn buffer_bytes(&self) -> usize {
        self.held
    }

    fn name(&self) -> &'static str {
        self.name
    }
}

/// Shrinks the `info`-sized frame held in `frame` by `d` in place: each output pixel the mean of
/// its `d` x `d` block (blocks at the right and bottom edges cut short, sides rounded up as
/// [`DecoderSpec::scaled_size`] does). The shrink-on-load of the image-webp path (animations,
/// alpha and lossless files), which holds the whole frame anyway: no new allocation.
fn box_shrink_in_place(frame: &mut Vec<u8>, info: ImageInfo, d: u32) -> ImageInfo {
    let channels = info.format.bytes_per_pixel();
    let (w, h) = (info.width as usize, info.height as usize);
    let (sw, sh) = (info.width.div_ceil(d), info.height.div_ceil(d));
    let d = d as usize;
    let mut sums = [0u32; 4];
    for oy in 0..sh as usize {
        let rows = oy * d..((oy + 1) * d).min(h);
        for ox in 0..sw as usize {
            let cols = ox * d..((ox + 1) * d).min(w);
            sums.fill(0);
            for y in rows.clone() {
                for x in cols.clone() {
                    let at = (y * w + x) * channels;
                    for (c, sum) in sums.iter_mut().enumerate().take(channels) {
                        *sum += frame[at + c] as u32;
                    }
                }
            }
            let n = (rows.len() * cols.len()) as u32;
            // The output pixel (oy, ox) lies at or before the block's first input pixel, all of
            // whose reads are done, so writing in place never clobbers an unread input.
            let out = (oy * sw as usize + ox) * channels;
            for c in 0..channels {
                frame[out + c] = ((sums[c] + n / 2) / n) as u8;
            }
        }
    }
    frame.truncate(sw as usize * sh as usize * channels);
    ImageInfo { width: sw, height: sh, format: info.format }
}

/// The WebP decoder as a [`DecoderSpec`].
#[derive(Debug)]
pub struct WebpDecoding;

/// Shrink-on-load factors: libwebp scales a still lossy frame while decoding it; other kinds are
/// decoded whole by image-webp and box-shrunk in place. Without libwebp, none.
#[cfg(feature = "webp-lossy")]
const SHRINK_FACTORS: &[u8] = &[16, 8, 4, 2, 1];
#[cfg(not(feature = "webp-lossy"))]
const SHRINK_FACTORS: &[u8] = &[1];

/// A [`DecodeRequest::shrink`] this decoder offers, or a parameter error.
fn check_shrink(shrink: u8) -> Result<()> {
    if SHRINK_FACTORS.contains(&shrink) {
        Ok(())
    } else {
        Err(Error::parameter(format!("WebP cannot shrink on load by {shrink}")))
    }
}

fn page(header: &Header) -> Result<&WebpPage> {
    header.parsed::<WebpPage>().ok_or_else(|| Error::parameter("a WebP decoder was given another format's header"))
}

impl DecoderSpec for WebpDecoding {
    fn read_header(&self, input: &Input) -> Result<Header> {
        self.read_page_header(input, 0)
    }

    fn read_page_header(&self, input: &Input, page: u32) -> Result<Header> {
        let h = read_header(input)?;
        if page >= h.frames {
            return Err(Error::parameter(format!(
                "page {page} does not exist: the WebP has {} frame{} (pages 0 to {})",
                h.frames,
                if h.frames == 1 { "" } else { "s" },
                h.frames - 1
            )));
        }
        let format = output_format(&h);
        let info = ImageInfo { width: h.width, height: h.height, format };
        let color = match (h.lossy, h.alpha) {
            (true, false) => "yuv",
            (true, true) => "yuva",
            (false, false) => "rgb",
            (false, true) => "rgba",
        };
        let metadata = Metadata {
            format: Format::Webp,
            width: h.width,
            height: h.height,
            color: color.to_string(),
            bit_depth: 8,
            interlaced: false,
            progressive: false,
            orientation: None,
            decoded_format: format.to_string(),
            pages: h.frames,
            layout: format!("{}{}", if h.lossy { "lossy" } else { "lossless" }, if h.frames > 1 { ", animated" } else { "" }),
        };
        Ok(Header::new(Format::Webp, info, None, metadata, Arc::new(WebpPage { header: h, page })))
    }

    fn shrink_factors(&self) -> &'static [u8] {
        SHRINK_FACTORS
    }

    fn heap_lower_bound(&self, header: &Header, request: &DecodeRequest) -> usize {
        self.heap_bytes(&Input::from_static(b""), header, request).unwrap_or(0)
    }

    /// Through libwebp (a still lossy frame without alpha, `webp-lossy` feature): the scaled
    /// frame and libwebp's working memory (`decode_libwebp::heap_bytes`); otherwise the
    /// whole frame and image-webp's working memory ([`decoder_heap_bytes`]).
    fn heap_bytes(&self, input: &Input, header: &Header, request: &DecodeRequest) -> Result<usize> {
        let p = page(header)?;
        check_shrink(request.shrink)?;
        #[cfg(feature = "webp-lossy")]
        if super::decode_libwebp::serves(&p.header) {
            let scaled = self.scaled_size(header, request.shrink);
            return Ok(super::decode_libwebp::heap_bytes(input, &p.header, scaled));
        }
        Ok(decoder_heap_bytes(input, &p.header))
    }

    fn build(&self, input: Input, header: &Header, request: &DecodeRequest) -> Result<BoxedSource> {
        let p = page(header)?;
        check_shrink(request.shrink)?;
        #[cfg(feature = "webp-lossy")]
        if super::decode_libwebp::serves(&p.header) {
            let scaled = self.scaled_size(header, request.shrink);
            return Ok(Box::new(super::decode_libwebp::decode_scaled(&input, &p.header, scaled)?));
        }
        let mut decoder = WebpDecoder::new(&input, p)?;
        if request.shrink > 1 {
            decoder.info = box_shrink_in_place(&mut decoder.frame, decoder.info, request.shrink as u32);
            decoder.rows = RowCounter::new(decoder.info.height);
        }
        Ok(Box::new(decoder))
    }

    /// The `ICCP`, `EXIF` and `XMP ` chunks, each if at most [`Embedded::MAX_BLOCK_BYTES`] and
    /// whole in the file.
    fn read_embedded(&self, input: &Input, header: &Header) -> Result<Embedded> {
        let h = &page(header)?.header;
        let block = |range: &Option<std::ops::Range<usize>>| -> Result<Option<Vec<u8>>> {
            let Some(r) = range else { return Ok(None) };
            if r.len() > Embedded::MAX_BLOCK_BYTES || r.end > input.len() {
                return Ok(None);
            }
            let mut bytes = vec![0u8; r.len()];
            input.read_at(r.start, &mut bytes)?;
            Ok(Some(bytes))
        };
        Ok(Embedded { icc: block(&h.icc)?, exif: block(&h.exif)?, xmp: block(&h.xmp)? })
    }
}
