//! The AVIF encoder: the whole frame collected as full-range BT.601 YCbCr 4:4:4 planes (and an
//! alpha plane), then handed to ravif/rav1e in a thread pool of the job's size.
//!
//! Rows are converted on the way in (gray to RGB, 16-bit to 8-bit for 8-bit output; 8-bit to
//! 16-bit for 10-bit output, so 16-bit input keeps 10 bits of precision) by
//! [`crate::ops::convert::Convert`], one row at a time, then to YCbCr with ravif's own formulas.
//! An alpha channel that is opaque everywhere is dropped before encoding, as ravif does.
//!
//! Memory ([`AvifEncoder::heap_bytes`], fitted with dhat in `tests/heap_avif.rs`; the design
//! note in [`super`] gives the measurements): the collected planes, then rav1e's own frame,
//! reconstruction and per-block state, which grow with the pixels, plus a per-tile term.

use std::io::Write;

use crate::codec::spec::{EncoderKind, EncoderSpec};
use crate::codec::Format;
use crate::error::{Error, Result};
use crate::ops::convert::Convert;
use crate::pipeline::RowSource;
use crate::pixel::{ColorType, ImageInfo, PixelFormat};

/// Bits per sample of the AV1 data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AvifBitDepth {
    /// 8 bits (sharp's default; the most compatible).
    #[default]
    Eight,
    /// 10 bits: smoother gradients, and the precision of a 16-bit input is kept to 10 bits.
    Ten,
}

/// Options of the AVIF encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvifEncoder {
    /// Colour quality 1..=100 (ravif's scale; sharp's default 50).
    pub quality: u8,
    /// Alpha quality 1..=100.
    pub alpha_quality: u8,
    /// CPU effort 0..=9 (sharp's convention, default 4): rav1e speed preset `10 - effort`.
    pub effort: u8,
    /// Bits per sample of the file.
    pub bit_depth: AvifBitDepth,
    /// Threads rav1e may use; 0 means what the platform offers
    /// (`std::thread::available_parallelism`). The encoder runs in a rayon pool of exactly this
    /// many threads, created for the job: no other thread is started (not rayon's global pool,
    /// nor one per rav1e context).
    pub threads: usize,
    /// Rows pulled per read; a hint that changes speed, never the output.
    pub strip_height: u32,
}

impl Default for AvifEncoder {
    fn default() -> Self {
        AvifEncoder { quality: 50, alpha_quality: 50, effort: 4, bit_depth: AvifBitDepth::Eight, threads: 0, strip_height: 16 }
    }
}

/// The largest AVIF side rav1e encodes (AV1 frame sizes are 16-bit in rav1e).
pub const MAX_SIDE: u32 = 65535;

impl AvifEncoder {
    /// rav1e's speed preset for the effort (1 slowest .. 10 fastest).
    pub fn speed(&self) -> u8 {
        10 - self.effort.min(9)
    }

    /// The threads the encode will run on.
    pub fn thread_count(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }

    fn check(&self) -> Result<()> {
        if !(1..=100).contains(&self.quality) || !(1..=100).contains(&self.alpha_quality) || self.effort > 9 {
            return Err(Error::parameter(format!(
                "AVIF quality {} / alpha quality {} / effort {}: quality and alpha quality must be in 1..=100, effort in 0..=9",
                self.quality, self.alpha_quality, self.effort
            )));
        }
        Ok(())
    }

    /// The pixel format rows are converted to before YCbCr: RGB(A), 8-bit for 8-bit output and
    /// 16-bit for 10-bit output.
    fn working_format(&self, input: PixelFormat) -> PixelFormat {
        let color = if input.color.has_alpha() { ColorType::Rgba } else { ColorType::Rgb };
        match self.bit_depth {
            AvifBitDepth::Eight => PixelFormat::new(color, crate::pixel::BitDepth::Eight),
            AvifBitDepth::Ten => PixelFormat::new(color, crate::pixel::BitDepth::Sixteen),
        }
    }

    /// Pulls every row of `source` and writes an AVIF file to `writer`.
    pub fn encode(&self, source: &mut dyn RowSource, writer: &mut dyn Write) -> Result<()> {
        self.check()?;
        let info = source.info();
        if info.width == 0 || info.height == 0 || info.width > MAX_SIDE || info.height > MAX_SIDE {
            return Err(Error::parameter(format!("AVIF cannot store a {}x{} image (1..={MAX_SIDE} a side)", info.width, info.height)));
        }
        let format = self.working_format(info.format);
        let mut rows = Convert::new(source, format, [0, 0, 0]);
        let file = match self.bit_depth {
            AvifBitDepth::Eight => {
                let frame = collect::<u8>(&mut rows, self.strip_height, |s| s[0] as u16)?;
                self.run(|e| e.encode_raw_planes_8_bit(frame.width, frame.height, frame.planes, frame.alpha, FULL, BT601))?
            }
            AvifBitDepth::Ten => {
                let frame = collect::<u16>(&mut rows, self.strip_height, |s| u16::from_ne_bytes([s[0], s[1]]))?;
                self.run(|e| e.encode_raw_planes_10_bit(frame.width, frame.height, frame.planes, frame.alpha, FULL, BT601))?
            }
        };
        writer.write_all(&file)?;
        writer.flush()?;
        Ok(())
    }

    /// Runs `encode` with a ravif encoder of these options in a pool of
    /// [`thread_count`](Self::thread_count) threads.
    fn run(
        &self,
        encode: impl FnOnce(&ravif::Encoder<'static>) -> std::result::Result<ravif::EncodedImage, ravif::Error> + Send,
    ) -> Result<Vec<u8>> {
        // ravif's own thread setting (`with_num_threads(Some(n))`) would give each rav1e context
        // (colour and alpha, encoded at once) a pool of n threads, and run the two on rayon's
        // global pool: up to 2n + cores threads. `None` makes rav1e use the pool it runs in.
        let encoder = ravif::Encoder::new()
            .with_quality(self.quality as f32)
            .with_alpha_quality(self.alpha_quality as f32)
            .with_speed(self.speed())
            .with_num_threads(None)
            .with_alpha_color_mode(ravif::AlphaColorMode::UnassociatedDirty);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.thread_count())
            .thread_name(|i| format!("stripflow-avif-{i}"))
            .build()
            .map_err(|e| Error::Io(std::io::Error::other(format!("cannot start the AVIF encoder's threads: {e}"))))?;
        let encoded = pool.install(|| encode(&encoder)).map_err(|e| Error::parameter(format!("AVIF encoder (rav1e): {e}")))?;
        Ok(encoded.avif_file)
    }
}

const FULL: ravif::PixelRange = ravif::PixelRange::Full;
const BT601: ravif::MatrixCoefficients = ravif::MatrixCoefficients::BT601;

/// A collected frame: YCbCr samples per pixel, and alpha when some pixel is not opaque.
struct Frame<P> {
    width: usize,
    height: usize,
    planes: Vec<[P; 3]>,
    alpha: Option<Vec<P>>,
}

/// A sample type of the collected planes.
trait Sample: Copy + Default + PartialEq + Send + 'static {
    /// Bits of the AV1 data (8 or 10).
    const BITS: u32;
    /// Bytes per sample of the working rows (1 or 2).
    const INPUT_BYTES: usize;
    /// From a rounded value in range.
    fn from_f32(v: f32) -> Self;
    /// Scales an input sample (8 or 16 bits) to [`Self::BITS`], rounded.
    fn scale(v: u16) -> Self;
    /// The opaque alpha value.
    const OPAQUE: Self;
}

impl Sample for u8 {
    const BITS: u32 = 8;
    const INPUT_BYTES: usize = 1;
    const OPAQUE: u8 = 255;
    fn from_f32(v: f32) -> u8 {
        v as u8
    }
    fn scale(v: u16) -> u8 {
        v as u8
    }
}

impl Sample for u16 {
    const BITS: u32 = 10;
    const INPUT_BYTES: usize = 2;
    const OPAQUE: u16 = 1023;
    fn from_f32(v: f32) -> u16 {
        v as u16
    }
    fn scale(v: u16) -> u16 {
        ((v as u32 * 1023 + 32767) / 65535) as u16
    }
}

/// BT.601 luma weights, as ravif uses them.
const KR: f32 = 0.2990;
const KG: f32 = 0.5870;
const KB: f32 = 0.1140;

/// Full-range BT.601 YCbCr of an RGB pixel whose samples are on a 0..=`input_max` scale, with
/// ravif's formulas (`rgb_to_ycbcr`): an 8-bit input gives the bytes ravif's own RGB entry
/// points would.
#[inline]
fn ycbcr<P: Sample>(r: f32, g: f32, b: f32, input_max: f32) -> [P; 3] {
    let max_value = ((1u32 << P::BITS) - 1) as f32;
    let scale = max_value / input_max;
    let shift = (max_value * 0.5).round();
    let y = (scale * KB).mul_add(b, (scale * KR).mul_add(r, scale * KG * g));
    let cb = b.mul_add(scale, -y).mul_add(0.5 / (1. - KB), shift);
    let cr = r.mul_add(scale, -y).mul_add(0.5 / (1. - KR), shift);
    [P::from_f32(y.round()), P::from_f32(cb.round().clamp(0., max_value)), P::from_f32(cr.round().clamp(0., max_value))]
}

/// Pulls every row of `rows` (RGB or RGBA, 8-bit for `u8`, 16-bit for `u16`) into YCbCr planes.
fn collect<P: Sample>(rows: &mut dyn RowSource, strip_height: u32, read: impl Fn(&[u8]) -> u16) -> Result<Frame<P>> {
    let info = rows.info();
    let (width, height) = (info.width as usize, info.height as usize);
    let pixels = width * height;
    let channels = info.format.channels();
    let has_alpha = info.format.color.has_alpha();
    let input_max = if P::INPUT_BYTES == 1 { 255.0 } else { 65535.0 };
    let mut planes: Vec<[P; 3]> = Vec::new();
    planes.try_reserve_exact(pixels).map_err(|_| frame_too_big(info))?;
    let mut alpha: Vec<P> = Vec::new();
    if has_alpha {
        alpha.try_reserve_exact(pixels).map_err(|_| frame_too_big(info))?;
    }
    let mut opaque = true;
    let step = channels * P::INPUT_BYTES;
    crate::pipeline::drain(rows, strip_height, |strip, _| {
        for px in strip.chunks_exact(step) {
            let s = |c: usize| read(&px[c * P::INPUT_BYTES..]) as f32;
            planes.push(ycbcr::<P>(s(0), s(1), s(2), input_max));
            if has_alpha {
                let a = P::scale(read(&px[3 * P::INPUT_BYTES..]));
                opaque &= a == P::OPAQUE;
                alpha.push(a);
            }
        }
        Ok(())
    })?;
    let alpha = if has_alpha && !opaque { Some(alpha) } else { None };
    Ok(Frame { width, height, planes, alpha })
}

fn frame_too_big(info: ImageInfo) -> Error {
    Error::limits(format!("cannot allocate the {}x{} frame the AVIF encoder collects", info.width, info.height))
}

impl EncoderSpec for AvifEncoder {
    fn format(&self) -> Format {
        Format::Avif
    }

    fn kind(&self) -> EncoderKind {
        EncoderKind::WholeFrame
    }

    fn max_size(&self) -> (u32, u32) {
        (MAX_SIDE, MAX_SIDE)
    }

    fn heap_bytes(&self, info: ImageInfo) -> usize {
        heap_model(self, info)
    }

    fn detail(&self) -> String {
        format!(
            "quality {}, alpha quality {}, effort {} (rav1e speed {}), {}-bit",
            self.quality,
            self.alpha_quality,
            self.effort,
            self.speed(),
            match self.bit_depth {
                AvifBitDepth::Eight => 8,
                AvifBitDepth::Ten => 10,
            }
        )
    }

    fn encode(&self, source: &mut dyn RowSource, writer: &mut dyn Write) -> Result<()> {
        AvifEncoder::encode(self, source, writer)
    }
}

/// rav1e's luma padding on each side of a frame plane (`SB_SIZE + FRAME_MARGIN`, rav1e 0.8).
const RAV1E_PADDING: u64 = 88;

/// Heap of an AVIF encode of `info` (see the design note in [`super`]): per padded pixel of
/// rav1e's frames (input, reconstruction, CDEF and loop-restoration copies, per-block and motion
/// state), 17.5 bytes at 8 bits and 26.5 at 10 for the colour image, 7 more for an alpha image;
/// fixed 0.6 MiB, 0.5 MiB per thread and 1.5 MiB for the alpha context; and our strip. The
/// collected planes (3 or 6 bytes a pixel) are freed into rav1e's frame before its encoding
/// peak, so they are inside the per-pixel figure. An input with an alpha channel is priced with
/// the alpha image even if it turns out opaque.
fn heap_model(encoder: &AvifEncoder, info: ImageInfo) -> usize {
    const MIB: u64 = 1 << 20;
    let padded = (info.width.next_multiple_of(8) as u64 + 2 * RAV1E_PADDING) * (info.height.next_multiple_of(8) as u64 + 2 * RAV1E_PADDING);
    let (half_bytes_per_padded_pixel, sample_bytes) = match encoder.bit_depth {
        AvifBitDepth::Eight => (35, 1),
        AvifBitDepth::Ten => (53, 2),
    };
    let mut bytes = MIB * 6 / 10 + MIB / 2 * encoder.thread_count() as u64 + padded * half_bytes_per_padded_pixel / 2;
    if info.format.color.has_alpha() {
        bytes += if encoder.thread_count() > 1 {
            // ravif encodes the alpha image beside the colour one (rayon::join).
            MIB * 3 / 2 + padded * 7
        } else {
            // One thread: the alpha image is encoded after the colour one, whose peak it
            // meets only as the collected alpha plane.
            info.pixels() * sample_bytes
        };
    }
    let working = encoder.working_format(info.format);
    let strip = working.row_bytes(info.width) * encoder.strip_height.clamp(1, info.height.max(1)) as usize;
    let input_row = if working == info.format { 0 } else { info.row_bytes() };
    usize::try_from(bytes).unwrap_or(usize::MAX).saturating_add(strip + input_row)
}
