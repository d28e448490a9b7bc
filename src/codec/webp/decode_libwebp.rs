//! Still lossy WebP (no alpha) through libwebp with shrink-on-load (`webp-lossy` feature).
//!
//! libwebp's VP8 decoder keeps a few macroblock rows of YUV cache and, with
//! `options.use_scaling`, rescales each row band as it is decoded, so the only frame-sized buffer
//! is the output at the scaled size. That output is our own `Vec` (`is_external_memory = 1`), so
//! dhat counts it; libwebp's own mallocs go through the C allocator, which dhat does not see:
//! they are the model [`working_bytes`], fitted to valgrind massif peaks
//! (`docs/webp-decode-memory.md`). The compressed data is borrowed when the input is in memory
//! or mapped, else read whole into a `Vec` for the decode and dropped before rows are served.
//!
//! Lossless files and files with alpha keep the image-webp path: libwebp's lossless decoder (and
//! the `ALPH` plane) hold the whole canvas anyway, so scaling saves nothing there.

use std::mem::MaybeUninit;

use libwebp_sys as sys;

use super::decode::WebpDecoder;
use super::decode_header::WebpHeader;
use crate::error::{Error, Result};
use crate::io::Input;
use crate::pixel::{ImageInfo, PixelFormat};

/// Whether the libwebp path decodes `h`: a still lossy image without alpha.
pub fn serves(h: &WebpHeader) -> bool {
    h.lossy && !h.alpha && !h.animated
}

/// libwebp's working memory (C mallocs) decoding a `width`-wide lossy frame to `scaled_width`
/// columns: the VP8 decoder's per-macroblock-column state and YUV row cache (bytes a source
/// column) and the rescaler's accumulators (bytes a scaled column), plus a fixed part (the VP8
/// decoder struct, probability tables). Fitted to massif: `docs/webp-decode-memory.md`.
pub fn working_bytes(width: u32, scaled_width: u32) -> usize {
    const PER_SOURCE_COLUMN: usize = 112;
    const PER_SCALED_COLUMN: usize = 32;
    const FIXED: usize = 32 * 1024;
    width as usize * PER_SOURCE_COLUMN + scaled_width as usize * PER_SCALED_COLUMN + FIXED
}

/// Heap of decoding `h` at `scaled` through libwebp: the scaled RGB frame, the compressed data
/// when it must be read into memory, and libwebp's working memory.
pub fn heap_bytes(input: &Input, h: &WebpHeader, scaled: (u32, u32)) -> usize {
    let frame = scaled.0 as usize * scaled.1 as usize * 3;
    let data = if input.as_slice().is_some() { 0 } else { input.len() };
    frame + data + working_bytes(h.width, scaled.0) + std::mem::size_of::<WebpDecoder>()
}

/// The stripflow error for a libwebp status.
fn status_error(status: sys::VP8StatusCode) -> Error {
    use sys::VP8StatusCode::*;
    match status {
        VP8_STATUS_OUT_OF_MEMORY => Error::limits("libwebp ran out of memory decoding the WebP"),
        VP8_STATUS_UNSUPPORTED_FEATURE => Error::unsupported("WebP", "a feature libwebp does not decode"),
        VP8_STATUS_NOT_ENOUGH_DATA => Error::format("WebP", "file truncated"),
        VP8_STATUS_INVALID_PARAM => Error::parameter("libwebp refused the decode parameters"),
        other => Error::format("WebP", format!("libwebp: {other:?}")),
    }
}

/// Decodes `input` (whose walk is `h`) with libwebp scaled to `scaled` (width, height) as RGB8,
/// served row by row from the scaled frame.
pub fn decode_scaled(input: &Input, h: &WebpHeader, scaled: (u32, u32)) -> Result<WebpDecoder> {
    if !serves(h) {
        return Err(Error::parameter("the libwebp decoder serves still lossy WebP without alpha"));
    }
    let (sw, sh) = scaled;
    if sw == 0 || sh == 0 || sw > h.width || sh > h.height {
        return Err(Error::parameter(format!("cannot decode a {}x{} WebP at {sw}x{sh}", h.width, h.height)));
    }
    let info = ImageInfo { width: sw, height: sh, format: PixelFormat::RGB8 };
    let stride = info.row_bytes();
    let mut frame = vec![0u8; stride * sh as usize];
    let read;
    let data: &[u8] = match input.as_slice() {
        Some(bytes) => bytes,
        None => {
            let mut bytes = vec![0u8; input.len()];
            if input.read_at(0, &mut bytes)? != bytes.len() {
                return Err(Error::format("WebP", "file truncated"));
            }
            read = bytes;
            &read
        }
    };
    let mut raw = MaybeUninit::<sys::WebPDecoderConfig>::zeroed();
    // SAFETY: `raw` is a writable config; the init function only writes its fields and fails
    // (returns false) on an ABI mismatch, checked here.
    if !unsafe { sys::WebPInitDecoderConfig(raw.as_mut_ptr()) } {
        return Err(Error::unsupported("WebP", "the linked libwebp has another decoder ABI version"));
    }
    // SAFETY: initialised above.
    let mut config = unsafe { raw.assume_init() };
    if (sw, sh) != (h.width, h.height) {
        config.options.use_scaling = 1;
        config.options.scaled_width = sw as i32;
        config.options.scaled_height = sh as i32;
    }
    config.output.colorspace = sys::WEBP_CSP_MODE::MODE_RGB;
    config.output.is_external_memory = 1;
    config.output.u.RGBA = sys::WebPRGBABuffer { rgba: frame.as_mut_ptr(), stride: stride as i32, size: frame.len() };
    // SAFETY: `data` is valid for its length for the call; the output buffer points into
    // `frame`, `stride` * `sh` bytes, which libwebp checks against the output size before
    // writing (an external buffer too small is VP8_STATUS_INVALID_PARAM). With external
    // memory libwebp allocates no output; WebPFreeDecBuffer frees nothing of ours.
    let status = unsafe { sys::WebPDecode(data.as_ptr(), data.len(), &mut config) };
    // SAFETY: the config's output was set up above; freeing an external buffer is a no-op.
    unsafe { sys::WebPFreeDecBuffer(&mut config.output) };
    if status != sys::VP8StatusCode::VP8_STATUS_OK {
        return Err(status_error(status));
    }
    if (config.input.width, config.input.height) != (h.width as i32, h.height as i32) || config.input.has_alpha != 0 {
        return Err(Error::format("WebP", "the chunks disagree about the canvas"));
    }
    Ok(WebpDecoder::from_frame(info, frame, "webp decode (libwebp)"))
}

