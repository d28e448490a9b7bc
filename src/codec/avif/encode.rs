//! The AVIF encoder: the whole frame written as full-range BT.601 YCbCr (4:2:0 by default, 4:2:2
//! or 4:4:4 on request) straight into rav1e's input frame, alpha collected beside it, then both
//! encoded by rav1e in a thread pool of the job's size and wrapped by avif-serialize.
//!
//! Rows are converted on the way in (gray to RGB, 16-bit to 8-bit for 8-bit output; 8-bit to
//! 16-bit for 10-bit output, so 16-bit input keeps 10 bits of precision) by
//! [`crate::ops::convert::Convert`], one row at a time, then to YCbCr ([`super::planes`]).
//! An alpha channel that is opaque everywhere is dropped before encoding, as ravif did.
//!
//! Memory ([`AvifEncoder::heap_bytes`], fitted with dhat in `tests/heap_avif.rs`; the design
//! note in [`super`] gives the measurements): rav1e's frame, reconstruction and per-block state,
//! which grow with the pixels, plus a per-tile term, plus the collected alpha plane.

use std::io::Write;

use rav1e::prelude::ChromaSampling;

use super::av1;
use super::planes::{self, Sample};
use crate::codec::jpeg::Subsampling;
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
    /// Colour quality 1..=100 (ravif's scale, kept: rav1e quantizer `av1::quantizer`; sharp's
    /// default 50).
    pub quality: u8,
    /// Alpha quality 1..=100.
    pub alpha_quality: u8,
    /// CPU effort 0..=9 (sharp's convention, default 4): rav1e speed preset `10 - effort`.
    pub effort: u8,
    /// Bits per sample of the file.
    pub bit_depth: AvifBitDepth,
    /// Chroma resolution of the colour image: 4:2:0 by default (what libvips, libavif and
    /// Pillow write: half the samples of 4:4:4 to encode), 4:4:4 for full-resolution colour.
    pub subsampling: Subsampling,
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
        AvifEncoder {
            quality: 50,
            alpha_quality: 50,
            effort: 4,
            bit_depth: AvifBitDepth::Eight,
            subsampling: Subsampling::S420,
            threads: 0,
            strip_height: 16,
        }
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

    /// rav1e's chroma sampling of the colour image.
    pub fn chroma_sampling(&self) -> ChromaSampling {
        match self.subsampling {
            Subsampling::S420 => ChromaSampling::Cs420,
            Subsampling::S422 => ChromaSampling::Cs422,
            Subsampling::S444 => ChromaSampling::Cs444,
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
            AvifBitDepth::Eight => self.encode_as::<u8>(&mut rows, 8)?,
            AvifBitDepth::Ten => self.encode_as::<u16>(&mut rows, 10)?,
        };
        writer.write_all(&file)?;
        writer.flush()?;
        Ok(())
    }

    /// The AV1 image settings of the colour image (`alpha`: of the alpha image).
    fn image(&self, info: ImageInfo, bit_depth: usize, alpha: bool) -> av1::Av1Image {
        let (width, height) = (info.width as usize, info.height as usize);
        let quantizer = av1::quantizer(if alpha { self.alpha_quality } else { self.quality });
        av1::Av1Image {
            width,
            height,
            bit_depth,
            quantizer,
            speed: self.speed(),
            tiles: av1::tiles(width, height, self.thread_count(), self.speed(), quantizer),
            chroma: if alpha { ChromaSampling::Cs400 } else { self.chroma_sampling() },
            color: if alpha { None } else { Some(av1::SRGB_BT601) },
        }
    }

    /// Fills a rav1e frame from `rows` and encodes it (and the alpha image, when some pixel is
    /// not opaque) in a pool of [`thread_count`](Self::thread_count) threads; the AVIF file.
    fn encode_as<P: Sample>(&self, rows: &mut dyn RowSource, bit_depth: usize) -> Result<Vec<u8>> {
        let info = rows.info();
        let color_image = self.image(info, bit_depth, false);
        let color_context = av1::context::<P>(&color_image)?;
        let mut frame = color_context.new_frame();
        let alpha = planes::fill::<P>(rows, self.strip_height, color_image.chroma, &mut frame)?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.thread_count())
            .thread_name(|i| format!("stripflow-avif-{i}"))
            .build()
            .map_err(|e| Error::Io(std::io::Error::other(format!("cannot start the AVIF encoder's threads: {e}"))))?;
        let alpha_image = self.image(info, bit_depth, true);
        // Colour and alpha are two rav1e contexts encoded at once (as ravif does); rav1e has no
        // thread setting of its own, so both run in this pool.
        let (color, alpha) = pool.install(|| {
            rayon::join(
                || av1::encode(color_context, frame),
                || {
                    alpha
                        .map(|alpha| {
                            let context = av1::context::<P>(&alpha_image)?;
                            let mut frame = context.new_frame();
                            planes::fill_alpha(&alpha, alpha_image.width, &mut frame);
                            drop(alpha);
                            av1::encode(context, frame)
                        })
                        .transpose()
                },
            )
        });
        let (color, alpha) = (color?, alpha?);
        av1::container(&color, alpha.as_deref(), (info.width, info.height), bit_depth as u8, color_image.chroma)
    }
}

pub(super) fn frame_too_big(info: ImageInfo) -> Error {
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
            "quality {}, alpha quality {}, effort {} (rav1e speed {}), {}-bit, {}",
            self.quality,
            self.alpha_quality,
            self.effort,
            self.speed(),
            match self.bit_depth {
                AvifBitDepth::Eight => 8,
                AvifBitDepth::Ten => 10,
            },
            self.subsampling.name()
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
/// state) for the colour image, 12 / 14.5 / 17.5 bytes at 8 bits and 16 / 21 / 26.5 at 10 in
/// 4:2:0 / 4:2:2 / 4:4:4 (4:2:2 interpolated); 7 (8 bits) or 9 (10 bits) more for an alpha
/// image; fixed 0.6 MiB, 0.5 MiB per thread and 1.5 MiB for the alpha context; and our strip.
/// The colour planes are written straight into rav1e's frame (inside the per-pixel figure); the
/// collected alpha plane lives until the alpha frame is filled, inside the alpha figure. An
/// input with an alpha channel is priced with the alpha image even if it turns out opaque.
fn heap_model(encoder: &AvifEncoder, info: ImageInfo) -> usize {
    const MIB: u64 = 1 << 20;
    let padded = (info.width.next_multiple_of(8) as u64 + 2 * RAV1E_PADDING) * (info.height.next_multiple_of(8) as u64 + 2 * RAV1E_PADDING);
    let (half_bytes_per_padded_pixel, alpha_bytes_per_padded_pixel, sample_bytes) = match (encoder.bit_depth, encoder.subsampling) {
        (AvifBitDepth::Eight, Subsampling::S420) => (24, 7, 1),
        (AvifBitDepth::Eight, Subsampling::S422) => (29, 7, 1),
        (AvifBitDepth::Eight, Subsampling::S444) => (35, 7, 1),
        (AvifBitDepth::Ten, Subsampling::S420) => (32, 9, 2),
        (AvifBitDepth::Ten, Subsampling::S422) => (42, 9, 2),
        (AvifBitDepth::Ten, Subsampling::S444) => (53, 9, 2),
    };
    let mut bytes = MIB * 6 / 10 + MIB / 2 * encoder.thread_count() as u64 + padded * half_bytes_per_padded_pixel / 2;
    if info.format.color.has_alpha() {
        bytes += if encoder.thread_count() > 1 {
            // The alpha image is encoded beside the colour one (rayon::join).
            MIB * 3 / 2 + padded * alpha_bytes_per_padded_pixel
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
