//! libwebp's fast lossy mode on large frames, within a heap allowance the plan grants.
//!
//! libwebp's lossy encoder (effort 3 and up) records every coefficient token of the frame and
//! writes them after a second look at their statistics. The token buffer grows with the content:
//! about 1.3 bytes a pixel on a photo, 16.5 on noise (`docs/webp-memory.md`). Its low-memory mode
//! keeps no tokens and analyses the frame in a pass of its own instead, at about 1.6 times the
//! time (8192x8192 PNG -> WebP: cwebp 6.8 s, with `-low_memory` 11.0 s). Above 4 Mpx the plan
//! prices the low-memory mode ([`super::libwebp::uses_low_memory`]), the only one whose heap is
//! known before the pixels are seen.
//!
//! When the budget leaves heap to spare, the planner offers it
//! ([`EncoderSpec::with_spare_heap`]) and [`offer`] takes up to what the worst case could use.
//! The frame is then encoded in the fast mode under a guard:
//!
//! * libwebp allocates with C `malloc`, which stripflow cannot count call by call; glibc's
//!   `mallinfo` gives the heap the process has in use, cheaply (a walk of the allocator's bins).
//! * libwebp calls the picture's progress hook 20 times across its token pass (every 5 % of the
//!   macroblocks). At each call the guard reads how far the heap has grown since the encode
//!   began, and stops the encoder (the hook returns 0) when that plus the most the next step can
//!   add would pass the allowance. The next step adds at most 5 % of the worst-case tokens, or,
//!   after the pass, the bitstream the tokens become (at most half their bytes: a token is two
//!   bytes and costs at most 8 bits).
//! * Nothing is written before the token pass ends, so a stopped encode has written nothing: the
//!   frame, still in the picture, is encoded again in the low-memory mode, within the plan's base
//!   price. A wrong guess costs time, never heap.
//!
//! The count is the process's: allocations by other threads make the guard stop earlier; memory
//! other threads free while the frame encodes lets libwebp use it, so what the guard bounds is
//! the process's growth (within one step), which is what the budget of a batch bounds too.
//! Where `mallinfo` does not exist (not glibc) no offer is taken: large frames keep the
//! low-memory mode.

use std::ffi::c_int;
use std::io::Write;
use std::sync::Arc;

use libwebp_sys as sys;

use super::encode::WebpEncoder;
use super::libwebp::{uses_low_memory, LOSSY_PER_PIXEL, TOKENS_PER_PIXEL};
use crate::codec::spec::{EncoderKind, EncoderSpec, Output};
use crate::codec::{Embedded, Format};
use crate::error::Result;
use crate::pipeline::RowSource;
use crate::pixel::ImageInfo;

/// Progress hook calls across the token pass (libwebp reports 20 percent over it, one call a
/// percent).
const GUARD_STEPS: usize = 20;

/// The fewest spare bytes a pixel worth taking: below this a photo's tokens would not fit and
/// the attempt would only cost time.
const MIN_SPARE_PER_PIXEL: f64 = 0.5;

/// The faster configuration of `options` for `input`, and the bytes it takes from `spare`: a
/// lossy libwebp encode of a frame large enough for the plan to price the low-memory mode, on a
/// platform where the heap can be read, with at least [`MIN_SPARE_PER_PIXEL`] to spare.
pub(crate) fn offer(options: &WebpEncoder, input: ImageInfo, spare: usize) -> Option<(Arc<dyn EncoderSpec>, usize)> {
    let (width, height) = (input.width, input.height);
    if options.lossless || options.effort < 3 || !uses_low_memory(width, height) || heap_in_use().is_none() {
        return None;
    }
    let pixels = width as f64 * height as f64;
    let worst = (pixels * (TOKENS_PER_PIXEL - LOSSY_PER_PIXEL)) as usize;
    let extra = spare.min(worst).min(MAX_EXTRA);
    if (extra as f64) < pixels * MIN_SPARE_PER_PIXEL {
        return None;
    }
    // The allowance is what the plan prices libwebp's coder at beside the frame, plus the extra.
    let allowance = (pixels * LOSSY_PER_PIXEL) as usize + extra;
    Some((Arc::new(FastWebp { options: *options, allowance, extra }), extra))
}

/// The most extra bytes taken: the guard's arithmetic reads glibc's 32-bit counters, exact for
/// growth below 2 GiB.
const MAX_EXTRA: usize = 1 << 30;

/// A lossy libwebp encoder given `allowance` bytes for its fast mode (see the module).
#[derive(Debug)]
struct FastWebp {
    options: WebpEncoder,
    /// The most libwebp's coder may grow the heap by while encoding.
    allowance: usize,
    /// What the plan counts beyond the options' own price.
    extra: usize,
}

impl EncoderSpec for FastWebp {
    fn format(&self) -> Format {
        Format::Webp
    }

    fn kind(&self) -> EncoderKind {
        EncoderKind::WholeFrame
    }

    fn max_size(&self) -> (u32, u32) {
        self.options.max_size()
    }

    fn heap_bytes(&self, input: ImageInfo) -> usize {
        self.options.heap_bytes(input).saturating_add(self.extra)
    }

    fn detail(&self) -> String {
        format!(
            "{}, fast mode within {} (else low-memory)",
            self.options.detail(),
            crate::plan::human(self.allowance as u64)
        )
    }

    fn encode(&self, source: &mut dyn RowSource, writer: &mut dyn Write) -> Result<()> {
        self.options.encode_keeping_within(source, writer, &Embedded::default(), Some(self.allowance))
    }

    fn metadata_heap_bytes(&self, blocks: &Embedded) -> Result<usize> {
        self.options.metadata_heap_bytes(blocks)
    }

    fn encode_with_metadata(&self, source: &mut dyn RowSource, output: Output<'_>, blocks: &Embedded) -> Result<()> {
        match output {
            Output::Stream(w) => self.options.encode_keeping_within(source, w, blocks, Some(self.allowance)),
            Output::Seekable(w) => self.options.encode_keeping_within(source, w, blocks, Some(self.allowance)),
        }
    }
}

/// The heap the process has in use, modulo 2^32 (glibc's `mallinfo`: arena bytes in use plus
/// mmapped chunks), or `None` where it cannot be read.
fn heap_in_use() -> Option<u32> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo takes no arguments and only reads the allocator's state (under its
        // locks). Its fields are C ints that wrap past 2 GiB; the guard takes differences.
        #[allow(deprecated)]
        let info = unsafe { libc::mallinfo() };
        Some((info.uordblks as u32).wrapping_add(info.hblkhd as u32))
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        None
    }
}

/// The guard over one fast-mode encode, reached by libwebp's progress hook through the
/// picture's `user_data`.
#[derive(Debug)]
pub(crate) struct HeapGuard {
    /// The heap in use when the encode began.
    start: u32,
    /// The most the heap may grow by.
    pub(crate) allowance: usize,
    /// The most one step of the token pass can add: 1/[`GUARD_STEPS`] of the worst case.
    step: usize,
    /// The largest growth seen at a check.
    pub(crate) peak_growth: usize,
    /// Whether the guard stopped the encode.
    pub(crate) tripped: bool,
}

impl HeapGuard {
    /// A guard for a `width` x `height` frame within `allowance`, from the heap in use now.
    pub(crate) fn new(allowance: usize, width: u32, height: u32) -> Option<HeapGuard> {
        let worst = width as f64 * height as f64 * TOKENS_PER_PIXEL;
        Some(HeapGuard {
            start: heap_in_use()?,
            allowance,
            step: (worst / GUARD_STEPS as f64) as usize,
            peak_growth: 0,
            tripped: false,
        })
    }

    /// Whether the encode may go on: the growth so far plus the next step's stays within the
    /// allowance.
    fn check(&mut self) -> bool {
        let growth = heap_in_use().map_or(usize::MAX, |now| (now.wrapping_sub(self.start) as i32).max(0) as usize);
        self.peak_growth = self.peak_growth.max(growth);
        let next = self.step.max(growth / 2);
        if growth.saturating_add(next) > self.allowance {
            self.tripped = true;
        }
        !self.tripped
    }
}

/// libwebp's `WebPProgressHook`: the picture's [`HeapGuard`] decides whether the encode goes on.
pub(crate) unsafe extern "C" fn check_heap(_percent: c_int, picture: *const sys::WebPPicture) -> c_int {
    // SAFETY: `user_data` is the `HeapGuard` that `libwebp::encode` set and keeps alive (and
    // borrows exclusively) for the WebPEncode call that calls this hook.
    let guard = unsafe { &mut *((*picture).user_data as *mut HeapGuard) };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| guard.check())) {
        Ok(go_on) => go_on as c_int,
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::webp::libwebp::{encode, LossyMode};
    use crate::pipeline::MemorySource;
    use crate::pixel::PixelFormat;
    use crate::synth::Synthetic;

    /// A frame just over the low-memory threshold: photo-like, or uniform noise (the token
    /// buffer's worst case).
    fn frame(noise: bool) -> MemorySource {
        let (w, h) = (2304, 2048);
        let format = PixelFormat::RGB8;
        let mut pixels = vec![0u8; format.row_bytes(w) * h as usize];
        if noise {
            let mut state = 0x2545_f491_4f6c_dd1du64;
            for p in pixels.iter_mut() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *p = (state >> 32) as u8;
            }
        } else {
            Synthetic::new(w, h, format, 5).read_rows(&mut pixels).unwrap();
        }
        MemorySource::new(ImageInfo { width: w, height: h, format }, pixels).unwrap()
    }

    fn run(noise: bool, allowance: Option<usize>, config_low_memory: Option<bool>) -> (Vec<u8>, LossyMode) {
        let mut out = Vec::new();
        let mut source = frame(noise);
        let options = WebpEncoder::default();
        let mode = match config_low_memory {
            // The plain fast mode, unguarded: libwebp's one-call configuration.
            Some(false) => {
                let mut fast = Vec::new();
                encode_unguarded_fast(&options, &mut source, &mut fast);
                out = fast;
                LossyMode::Fast
            }
            _ => encode(&options, &mut source, &mut out, allowance).unwrap(),
        };
        (out, mode)
    }

    /// The fast mode without a guard, through a planned-fast (small) frame's path: the frame
    /// is encoded by `encode` with an allowance that cannot trip.
    fn encode_unguarded_fast(options: &WebpEncoder, source: &mut MemorySource, out: &mut Vec<u8>) {
        let mode = encode(options, source, out, Some(usize::MAX / 4)).unwrap();
        assert_eq!(mode, LossyMode::Fast);
    }

    #[test]
    fn a_photo_is_encoded_in_the_fast_mode_within_its_allowance() {
        // A photo's tokens take about 1 byte a pixel; 32 leaves room for the other tests'
        // allocations, which the guard counts too (they run on threads beside this one).
        let allowance = (2304.0 * 2048.0 * 32.0) as usize;
        let (file, mode) = run(false, Some(allowance), None);
        assert_eq!(mode, LossyMode::Fast);
        let (unguarded, _) = run(false, None, Some(false));
        assert_eq!(file, unguarded, "the guard changes nothing in the file");
        let (low, mode) = run(false, None, None);
        assert_eq!(mode, LossyMode::LowMemory);
        // Same settings, another search for the probabilities: sizes within 1 %.
        let ratio = file.len() as f64 / low.len() as f64;
        assert!((0.99..1.01).contains(&ratio), "fast {} vs low-memory {} bytes", file.len(), low.len());
    }

    #[test]
    fn noise_over_the_allowance_falls_back_to_the_low_memory_file() {
        let pixels = 2304.0 * 2048.0;
        // Noise needs ~16 bytes a pixel of tokens; allow 3.
        let (file, mode) = run(true, Some((pixels * 3.0) as usize), None);
        assert_eq!(mode, LossyMode::FellBack);
        let (low, mode) = run(true, None, None);
        assert_eq!(mode, LossyMode::LowMemory);
        assert_eq!(file, low, "the fallback writes exactly the low-memory mode's file");
    }

    #[test]
    fn the_guard_stops_before_the_heap_passes_the_allowance() {
        let allowance = 40 << 20;
        let mut guard = HeapGuard::new(allowance, 2304, 2048).unwrap();
        assert!(guard.check(), "nothing grown yet");
        let held: Vec<Vec<u8>> = (0..40).map(|_| vec![1u8; 1 << 20]).collect();
        assert!(!guard.check(), "40 MiB grown, {} MiB peak", guard.peak_growth >> 20);
        assert!(guard.tripped && guard.peak_growth >= 40 << 20);
        drop(held);
    }

    #[test]
    fn offers_are_taken_only_where_they_help() {
        let info = |w, h| ImageInfo { width: w, height: h, format: PixelFormat::RGB8 };
        let options = WebpEncoder::default();
        let big = info(8192, 8192);
        let (spec, extra) = offer(&options, big, 64 << 20).expect("a large lossy frame takes spare heap");
        assert_eq!(extra, 64 << 20);
        assert_eq!(spec.heap_bytes(big), options.heap_bytes(big) + extra);
        assert!(spec.detail().contains("fast mode within"), "{}", spec.detail());
        // Not worth it below half a byte a pixel; no use on a small frame, lossless or effort 2.
        assert!(offer(&options, big, 16 << 20).is_none());
        assert!(offer(&options, info(2048, 2048), 1 << 30).is_none());
        assert!(offer(&WebpEncoder { lossless: true, ..options }, big, 1 << 30).is_none());
        assert!(offer(&WebpEncoder { effort: 2, ..options }, big, 1 << 30).is_none());
        // Never more than the worst case needs.
        let (_, extra) = offer(&options, info(2304, 2048), 1 << 30).unwrap();
        assert_eq!(extra, (2304.0 * 2048.0 * (TOKENS_PER_PIXEL - LOSSY_PER_PIXEL)) as usize);
    }
}
