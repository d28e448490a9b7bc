//! Lossy and lossless WebP through libwebp (the libwebp-sys crate, which compiles libwebp's C
//! source; `webp-lossy` feature).
//!
//! The frame is built in the `WebPPicture` libwebp encodes from, so it is held once:
//!
//! * lossy: the YUV 4:2:0 planes (and an alpha plane), filled strip by strip: each strip of
//!   [`STRIP_ROWS`] rows (an even number) is converted by libwebp's own `WebPPictureImportRGB(A)`
//!   into a small picture and its planes copied into the frame. libwebp converts each pair of rows
//!   on its own, so this is byte for byte the whole-frame conversion (a unit test checks the file
//!   against `WebPEncodeRGB`'s).
//! * lossless, and lossy with smart subsampling (whose iterative conversion reads the whole RGB
//!   frame): one ARGB `u32` per pixel, filled row by row.
//!
//! libwebp writes through a callback into our writer; its allocations are C `malloc`s that dhat
//! does not see, so its working memory is a model fitted to massif measurements
//! ([`heap_bytes`], `docs/webp-memory.md`), checked by the peak-RSS test `cli/tests/webp.rs`.

use std::ffi::{c_int, c_void};
use std::io::Write;
use std::mem::MaybeUninit;

use libwebp_sys as sys;

use super::encode::{WebpEncoder, STRIP_ROWS};
use super::fast_mode::{check_heap, HeapGuard};
use crate::error::{Error, Result};
use crate::pipeline::RowSource;
use crate::pixel::PixelFormat;

/// A `WebPPicture` freed on drop.
struct Picture(sys::WebPPicture);

impl Picture {
    /// An empty picture `width` x `height`; `argb` for ARGB pixels, else YUV 4:2:0 (with an alpha
    /// plane when `alpha`). Nothing is allocated until [`Picture::alloc`] or an import.
    fn new(width: u32, height: u32, argb: bool, alpha: bool) -> Result<Picture> {
        let mut raw = MaybeUninit::<sys::WebPPicture>::zeroed();
        // SAFETY: `raw` is a writable WebPPicture; the init function only writes its fields
        // and fails (returns 0) on an ABI mismatch, checked here.
        if unsafe { sys::WebPPictureInitInternal(raw.as_mut_ptr(), sys::WEBP_ENCODER_ABI_VERSION as c_int) } == 0 {
            return Err(Error::unsupported("output", "the linked libwebp has another encoder ABI version"));
        }
        // SAFETY: initialised by WebPPictureInitInternal above.
        let mut picture = Picture(unsafe { raw.assume_init() });
        picture.0.width = width as c_int;
        picture.0.height = height as c_int;
        picture.0.use_argb = argb as c_int;
        picture.0.colorspace = if alpha { sys::WebPEncCSP::WEBP_YUV420A } else { sys::WebPEncCSP::WEBP_YUV420 };
        Ok(picture)
    }

    /// Allocates the planes (or the ARGB buffer).
    fn alloc(&mut self) -> Result<()> {
        // SAFETY: the picture was initialised by `Picture::new`; WebPPictureAlloc frees what it
        // held and allocates buffers for its width, height and colour space.
        if unsafe { sys::WebPPictureAlloc(&mut self.0) } == 0 {
            return Err(Error::limits(format!(
                "libwebp could not allocate a {}x{} WebP frame",
                self.0.width, self.0.height
            )));
        }
        Ok(())
    }
}

impl Drop for Picture {
    fn drop(&mut self) {
        // SAFETY: the picture was initialised by `Picture::new`; freeing an unallocated
        // picture is a no-op.
        unsafe { sys::WebPPictureFree(&mut self.0) }
    }
}

/// Where libwebp's writer callback sends the file, and the first I/O error it met.
struct Sink<'a> {
    writer: &'a mut dyn Write,
    error: Option<std::io::Error>,
    /// Bytes written so far.
    written: u64,
}

/// libwebp's `WebPWriterFunction`: writes `size` bytes at `data` to the picture's [`Sink`].
unsafe extern "C" fn write_to_sink(data: *const u8, size: usize, picture: *const sys::WebPPicture) -> c_int {
    if size == 0 {
        return 1;
    }
    // SAFETY: `custom_ptr` is the `Sink` that `encode` set and keeps alive (and borrows
    // exclusively) for the whole WebPEncode call; libwebp passes `size` readable bytes at `data`.
    let (sink, bytes) = unsafe { (&mut *((*picture).custom_ptr as *mut Sink), std::slice::from_raw_parts(data, size)) };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink.writer.write_all(bytes))) {
        Ok(Ok(())) => {
            sink.written += size as u64;
            1
        }
        Ok(Err(e)) => {
            sink.error = Some(e);
            0
        }
        Err(_) => {
            sink.error = Some(std::io::Error::other("the output writer panicked"));
            0
        }
    }
}

/// libwebp's configuration for `options`.
fn config(options: &WebpEncoder, width: u32, height: u32) -> Result<sys::WebPConfig> {
    let mut raw = MaybeUninit::<sys::WebPConfig>::zeroed();
    let quality = if options.lossless { 75.0 } else { options.quality as f32 };
    // SAFETY: `raw` is a writable WebPConfig that the init function fills; it returns 0 on an
    // ABI mismatch or a bad quality, checked here.
    let ok = unsafe {
        sys::WebPConfigInitInternal(raw.as_mut_ptr(), sys::WebPPreset::WEBP_PRESET_DEFAULT, quality, sys::WEBP_ENCODER_ABI_VERSION as c_int)
    };
    if ok == 0 {
        return Err(Error::parameter("libwebp refused its default configuration"));
    }
    // SAFETY: initialised above.
    let mut config = unsafe { raw.assume_init() };
    if options.lossless {
        // cwebp's -z presets: effort 0..=6 sets method and the lossless compression quality.
        // SAFETY: `config` is an initialised WebPConfig.
        if unsafe { sys::WebPConfigLosslessPreset(&mut config, options.effort as c_int) } == 0 {
            return Err(Error::parameter(format!("WebP effort {} is not in 0..=6", options.effort)));
        }
        config.near_lossless = options.near_lossless as c_int;
        // Lossless means lossless: keep the RGB under transparent pixels too.
        config.exact = 1;
    } else {
        config.method = options.effort as c_int;
        config.alpha_quality = options.alpha_quality as c_int;
        config.use_sharp_yuv = options.smart_subsample as c_int;
        config.low_memory = uses_low_memory(width, height) as c_int;
    }
    // SAFETY: `config` is an initialised WebPConfig.
    if unsafe { sys::WebPValidateConfig(&config) } == 0 {
        return Err(Error::parameter(format!("libwebp refused the options {options:?}")));
    }
    Ok(config)
}

/// How libwebp's lossy encoder ran (lossless reports [`LossyMode::Fast`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LossyMode {
    /// Tokens kept for the whole frame.
    Fast,
    /// The low-memory mode, as planned.
    LowMemory,
    /// The fast mode under a heap guard that stopped it; encoded again in the low-memory mode.
    FellBack,
}

/// Pulls every row of `source` (RGB8 or RGBA8) into a libwebp picture and writes the file. With
/// `fast_allowance`, a frame the low-memory mode would take is encoded in the fast mode, its
/// heap growth held within the allowance by a guard (`super::fast_mode`).
pub(crate) fn encode(
    options: &WebpEncoder,
    source: &mut dyn RowSource,
    writer: &mut dyn Write,
    fast_allowance: Option<usize>,
) -> Result<LossyMode> {
    let info = source.info();
    let mut config = config(options, info.width, info.height)?;
    let planned_low_memory = config.low_memory != 0;
    let fast_allowance = fast_allowance.filter(|_| planned_low_memory);
    let alpha = info.format == PixelFormat::RGBA8;
    let argb = options.libwebp_takes_argb();
    let mut picture = Picture::new(info.width, info.height, argb, alpha)?;
    picture.alloc()?;
    if argb {
        fill_argb(&mut picture, source)?;
    } else {
        fill_yuv(&mut picture, source, alpha)?;
    }
    let mut sink = Sink { writer, error: None, written: 0 };
    picture.0.writer = Some(write_to_sink);
    picture.0.custom_ptr = &mut sink as *mut Sink as *mut c_void;
    // The guard is made once the frame is filled: it bounds libwebp's growth from here.
    let mut guard = fast_allowance.and_then(|allowance| HeapGuard::new(allowance, info.width, info.height));
    let mut mode = if planned_low_memory { LossyMode::LowMemory } else { LossyMode::Fast };
    if let Some(guard) = guard.as_mut() {
        config.low_memory = 0;
        picture.0.progress_hook = Some(check_heap);
        picture.0.user_data = guard as *mut HeapGuard as *mut c_void;
        mode = LossyMode::Fast;
    }
    // SAFETY: `config` is validated, `picture` is allocated and filled, its writer and
    // custom_ptr point at `sink`, and its user_data (with a hook) at `guard`; both outlive the
    // call.
    let mut ok = unsafe { sys::WebPEncode(&config, &mut picture.0) };
    picture.0.progress_hook = None;
    picture.0.user_data = std::ptr::null_mut();
    if ok == 0 && guard.as_ref().is_some_and(|g| g.tripped) && sink.error.is_none() && sink.written == 0 {
        config.low_memory = 1;
        mode = LossyMode::FellBack;
        // SAFETY: as above, without the hook; the picture's planes are as the first call found
        // them (a lossy encode without preprocessing only reads them).
        ok = unsafe { sys::WebPEncode(&config, &mut picture.0) };
    }
    picture.0.custom_ptr = std::ptr::null_mut();
    if let Some(e) = sink.error {
        return Err(Error::Io(e));
    }
    if ok == 0 {
        return Err(match picture.0.error_code {
            sys::WebPEncodingError::VP8_ENC_ERROR_OUT_OF_MEMORY | sys::WebPEncodingError::VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY => {
                Error::limits(format!("libwebp ran out of memory encoding a {}x{} image", info.width, info.height))
            }
            code => Error::parameter(format!("WebP encoder (libwebp): {code:?}")),
        });
    }
    Ok(mode)
}

/// Fills an ARGB picture row by row.
fn fill_argb(picture: &mut Picture, source: &mut dyn RowSource) -> Result<()> {
    let info = source.info();
    let channels = info.format.channels();
    let width = info.width as usize;
    let stride = picture.0.argb_stride as usize;
    // SAFETY: WebPPictureAlloc gave an ARGB buffer of `argb_stride * height` u32s, owned by
    // `picture`, which is borrowed mutably for as long as this slice lives.
    let argb = unsafe { std::slice::from_raw_parts_mut(picture.0.argb, stride * info.height as usize) };
    let mut y = 0usize;
    crate::pipeline::drain(source, STRIP_ROWS, |strip, _rows| {
        for row in strip.chunks_exact(width * channels) {
            let out = &mut argb[y * stride..y * stride + width];
            for (o, p) in out.iter_mut().zip(row.chunks_exact(channels)) {
                let a = if channels == 4 { p[3] } else { 255 };
                *o = u32::from_be_bytes([a, p[0], p[1], p[2]]);
            }
            y += 1;
        }
        Ok(())
    })
}

/// Fills a YUV 4:2:0 (+ alpha) picture: each strip is converted by libwebp into a strip picture
/// and its planes copied into place.
fn fill_yuv(picture: &mut Picture, source: &mut dyn RowSource, alpha: bool) -> Result<()> {
    let info = source.info();
    let row_bytes = info.row_bytes();
    let frame = picture.0;
    let uv_width = info.width.div_ceil(2) as usize;
    let mut y0 = 0usize;
    crate::pipeline::drain(source, STRIP_ROWS, |strip, rows| {
        let mut part = Picture::new(info.width, rows, false, alpha)?;
        // SAFETY: `part` is initialised; `strip` holds `rows` rows of `row_bytes` RGB(A) bytes.
        let ok = unsafe {
            if alpha {
                sys::WebPPictureImportRGBA(&mut part.0, strip.as_ptr(), row_bytes as c_int)
            } else {
                sys::WebPPictureImportRGB(&mut part.0, strip.as_ptr(), row_bytes as c_int)
            }
        };
        if ok == 0 {
            return Err(Error::limits("libwebp could not allocate a strip picture"));
        }
        let p = &part.0;
        let width = info.width as usize;
        for r in 0..rows as usize {
            // SAFETY: rows y0..y0+rows lie inside the frame's Y (and A) planes, and rows r of the
            // strip picture's planes are `width` bytes; the two pictures do not overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    p.y.add(r * p.y_stride as usize),
                    frame.y.add((y0 + r) * frame.y_stride as usize),
                    width,
                );
                if alpha {
                    std::ptr::copy_nonoverlapping(
                        p.a.add(r * p.a_stride as usize),
                        frame.a.add((y0 + r) * frame.a_stride as usize),
                        width,
                    );
                }
            }
        }
        // y0 is even (every strip but the last has an even number of rows).
        let uv0 = y0 / 2;
        for r in 0..(rows as usize).div_ceil(2) {
            // SAFETY: chroma rows uv0..uv0+ceil(rows/2) lie inside the frame's U and V planes,
            // and the strip picture's chroma rows are `uv_width` bytes.
            unsafe {
                std::ptr::copy_nonoverlapping(p.u.add(r * p.uv_stride as usize), frame.u.add((uv0 + r) * frame.uv_stride as usize), uv_width);
                std::ptr::copy_nonoverlapping(p.v.add(r * p.uv_stride as usize), frame.v.add((uv0 + r) * frame.uv_stride as usize), uv_width);
            }
        }
        y0 += rows as usize;
        Ok(())
    })
}

/// libwebp's lossless (VP8L) encoder beside the ARGB picture it encodes: bytes per pixel.
const LOSSLESS_PER_PIXEL: usize = 37;
/// ... plus its finer statistics on small images (per pixel, up to [`LOSSLESS_SMALL_CAP`]).
const LOSSLESS_SMALL_PER_PIXEL: usize = 26;
/// The cap of [`LOSSLESS_SMALL_PER_PIXEL`].
const LOSSLESS_SMALL_CAP: usize = 7 << 20;
/// The lossy encoder's token buffer (fast mode, effort 3 and up), bytes per pixel at worst.
pub(crate) const TOKENS_PER_PIXEL: f64 = 16.5;
/// The lossy encoder beside the planes otherwise (per-macroblock state, the partitions).
pub(crate) const LOSSY_PER_PIXEL: f64 = 1.5;
/// Smart subsampling's conversion buffers, bytes per pixel.
const SHARP_YUV_PER_PIXEL: usize = 7;
/// Fixed costs (tables, row caches, a strip picture), rounded up.
const LIBWEBP_FIXED: usize = 1 << 20;

/// The frame and libwebp's working memory for `options` on a `width` x `height` frame (with
/// `alpha`), fitted to massif peaks (libwebp 1.5 as vendored by libwebp-sys 0.14.4; every
/// allocation of the process, on photo-like and noise frames from 256x256 to 3000x2000, RGB and
/// RGBA, efforts 0 to 6; the table is in `docs/webp-memory.md`). Noise is the worst case for
/// the token buffer and the output; the model bounds it:
///
/// * lossy: the YUV planes (1.5 bytes a pixel, +1 for alpha) plus the token buffer (16.5) in the
///   fast mode or 1.5 in the low-memory mode and at efforts 0 to 2, which keep no tokens;
/// * alpha in lossy output is compressed by the lossless encoder over an ARGB copy of the plane
///   (4 + the lossless model);
/// * smart subsampling keeps the ARGB picture (4) and conversion buffers (7);
/// * lossless: the ARGB picture (4) and the VP8L encoder, 37 bytes a pixel plus up to 7 MiB of
///   finer statistics on small images (26 bytes a pixel below about 0.3 Mpx).
pub(crate) fn heap_bytes(options: &WebpEncoder, width: u32, height: u32, alpha: bool) -> usize {
    let pixels = width as usize * height as usize;
    let lossless = |pixels: usize| {
        pixels
            .saturating_mul(LOSSLESS_PER_PIXEL)
            .saturating_add(pixels.saturating_mul(LOSSLESS_SMALL_PER_PIXEL).min(LOSSLESS_SMALL_CAP))
    };
    let per_pixel = |bytes: f64| (pixels as f64 * bytes) as usize;
    let bytes = if options.lossless {
        pixels.saturating_mul(4).saturating_add(lossless(pixels))
    } else {
        let uv = width.div_ceil(2) as usize * height.div_ceil(2) as usize * 2;
        let planes = pixels + uv + if alpha { pixels } else { 0 };
        let tokens = options.effort >= 3 && !uses_low_memory(width, height);
        let coder = per_pixel(if tokens { TOKENS_PER_PIXEL } else { LOSSY_PER_PIXEL });
        let sharp = if options.smart_subsample { pixels.saturating_mul(4 + SHARP_YUV_PER_PIXEL) } else { 0 };
        let alpha_coder = if alpha { pixels.saturating_mul(4).saturating_add(lossless(pixels)) } else { 0 };
        planes.saturating_add(coder).saturating_add(sharp).saturating_add(alpha_coder)
    };
    bytes.saturating_add(LIBWEBP_FIXED)
}

/// Frames over this many pixels are encoded in libwebp's low-memory mode.
pub(crate) const LOW_MEMORY_ABOVE_PIXELS: u64 = 2048 * 2048;

/// Whether libwebp's lossy encoder runs in its low-memory mode for a `width` x `height` frame.
///
/// By default libwebp records every coefficient token of the frame to emit them after a second
/// look at the statistics: fast, but the buffer grows with the content, up to about 16 bytes a
/// pixel on noise (massif). Its low-memory mode encodes twice instead and holds little beyond
/// the frame (about 1.3 bytes a pixel on noise), at about 1.7 times the time (4096x4096 photo-like
/// frame at effort 4: 4.3 s vs 2.5 s, same size within 0.1 %). Cards and thumbnails keep the fast
/// mode; a large full-size frame takes the bounded one.
pub(crate) fn uses_low_memory(width: u32, height: u32) -> bool {
    width as u64 * height as u64 > LOW_MEMORY_ABOVE_PIXELS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::MemorySource;
    use crate::pixel::ImageInfo;
    use crate::synth::Synthetic;

    /// libwebp's one-call API (`WebPEncodeRGB(A)`: whole-frame import, default configuration).
    fn one_call(pixels: &[u8], width: u32, height: u32, alpha: bool, quality: f32) -> Vec<u8> {
        let mut out: *mut u8 = std::ptr::null_mut();
        let stride = width as c_int * if alpha { 4 } else { 3 };
        // SAFETY: `pixels` holds `height` rows of `stride` bytes; libwebp allocates `out`, freed
        // below with WebPFree.
        let len = unsafe {
            if alpha {
                sys::WebPEncodeRGBA(pixels.as_ptr(), width as c_int, height as c_int, stride, quality, &mut out)
            } else {
                sys::WebPEncodeRGB(pixels.as_ptr(), width as c_int, height as c_int, stride, quality, &mut out)
            }
        };
        assert!(len > 0);
        // SAFETY: libwebp returned `len` bytes at `out`.
        let bytes = unsafe { std::slice::from_raw_parts(out, len) }.to_vec();
        // SAFETY: `out` was allocated by libwebp.
        unsafe { sys::WebPFree(out as *mut c_void) };
        bytes
    }

    #[test]
    fn strip_by_strip_conversion_gives_the_whole_frame_file() {
        // Odd sizes: a last strip of odd height and an odd chroma column.
        for (format, alpha) in [(PixelFormat::RGB8, false), (PixelFormat::RGBA8, true)] {
            let (w, h) = (203, 77);
            let mut pixels = vec![0u8; format.row_bytes(w) * h as usize];
            Synthetic::new(w, h, format, 3).read_rows(&mut pixels).unwrap();
            let expected = one_call(&pixels, w, h, alpha, 80.0);
            let info = ImageInfo { width: w, height: h, format };
            let mut source = MemorySource::new(info, pixels).unwrap();
            let mut ours = Vec::new();
            encode(&WebpEncoder::default(), &mut source, &mut ours, None).unwrap();
            assert_eq!(ours, expected, "{format}");
        }
    }

    #[test]
    fn a_failing_writer_is_an_io_error() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut source = Synthetic::new(64, 64, PixelFormat::RGB8, 1);
        let e = encode(&WebpEncoder::default(), &mut source, &mut Broken, None).unwrap_err();
        assert!(matches!(e, Error::Io(_)) && e.to_string().contains("disk full"), "{e}");
    }

    #[test]
    fn large_frames_take_the_low_memory_mode() {
        assert!(!uses_low_memory(2048, 2048));
        assert!(uses_low_memory(2048, 2049));
        let options = WebpEncoder::default();
        assert_eq!(config(&options, 1200, 630).unwrap().low_memory, 0);
        assert_eq!(config(&options, 8192, 8192).unwrap().low_memory, 1);
    }
}
