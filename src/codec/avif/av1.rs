//! rav1e driven directly: the encoder configuration for a still AVIF image (quantizer, speed
//! settings, tiles), one frame in and its AV1 data out, and the AVIF container around it
//! (avif-serialize).
//!
//! The quality-to-quantizer mapping and the speed tweaks are ravif 0.13's (`av1encoder.rs`), so
//! `--quality` and `--effort` keep the meaning they had when stripflow encoded through ravif;
//! what ravif could not do, and this module does, is chroma subsampling (ravif always encodes
//! 4:4:4, twice the chroma samples of 4:2:0).

use rav1e::prelude::{
    ChromaSamplePosition, ChromaSampling, ColorDescription, ColorPrimaries, Config, Context, EncoderConfig,
    EncoderStatus, Frame, FrameType, MatrixCoefficients, Pixel, PixelRange, PredictionModesSetting, Rational,
    SGRComplexityLevel, SceneDetectionSpeed, SpeedSettings, TransferCharacteristics, Tune,
};

use crate::error::{Error, Result};

/// ravif's quality (1..=100) to rav1e's quantizer (0..=255) mapping.
pub fn quantizer(quality: u8) -> u8 {
    let q = quality as f32 / 100.;
    let x = if q >= 0.82 {
        (1. - q) * 2.6
    } else if q > 0.25 {
        q.mul_add(-0.5, 1. - 0.125)
    } else {
        1. - q
    };
    (x * 255.).round() as u8
}

/// What one AV1 image (the colour or the alpha image of the file) is encoded with.
#[derive(Debug, Clone, Copy)]
pub struct Av1Image {
    /// Width and height in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// 8 or 10.
    pub bit_depth: usize,
    /// rav1e quantizer 0..=255 (see [`quantizer`]).
    pub quantizer: u8,
    /// rav1e speed preset 1..=10.
    pub speed: u8,
    /// Tiles the frame is cut into (each is encoded on its own thread).
    pub tiles: usize,
    /// 4:4:4, 4:2:2, 4:2:0 for colour; 4:0:0 (monochrome) for alpha.
    pub chroma: ChromaSampling,
    /// Full-range BT.601 over sRGB for colour; none for alpha.
    pub color: Option<ColorDescription>,
}

/// The colour description of the colour image: sRGB primaries and transfer, BT.601 matrix.
pub const SRGB_BT601: ColorDescription = ColorDescription {
    color_primaries: ColorPrimaries::BT709,
    transfer_characteristics: TransferCharacteristics::SRGB,
    matrix_coefficients: MatrixCoefficients::BT601,
};

/// ravif's smallest tile side (pixels) for a speed preset and quantizer: smaller tiles would
/// cost more bytes than their thread saves time.
pub fn min_tile_side(speed: u8, quantizer: u8) -> usize {
    let high_quality = quantizer > self::quantizer(80);
    let side = match speed {
        0 => 4096,
        1 => 2048,
        2 => 1024,
        3 => 512,
        4 => 256,
        _ => 128,
    };
    side * if high_quality { 2 } else { 1 }
}

/// The tiles an image of `width` x `height` is cut into on `threads` threads (ravif's rule: one
/// per thread, but none smaller than [`min_tile_side`] squared).
pub fn tiles(width: usize, height: usize, threads: usize, speed: u8, quantizer: u8) -> usize {
    threads.min(width * height / min_tile_side(speed, quantizer).pow(2)).max(1)
}

/// rav1e's speed settings for a preset, with ravif's tweaks for still images except one: the
/// partition sizes are rav1e's own for the preset (up to 64x64 from speed 1 to 8), where ravif
/// capped them at 16x16 from speed 1 to 8 (and at 16x16 for every speed at the quantizers it
/// calls high quality, which include the default quality 50). On the report's 2048-wide
/// thumbnail at quality 50, effort 4, that cap made the file 1.6x larger at a 1.6 dB lower PSNR
/// and took 2.5x the CPU time (see the design note in [`super`]).
fn speed_settings(speed: u8, quantizer: u8) -> SpeedSettings {
    // ravif's names, kept with its comparisons: they compare quantizers (higher is coarser), so
    // the default quality 50 takes the `high_quality` branches.
    let low_quality = quantizer < self::quantizer(55);
    let high_quality = quantizer > self::quantizer(80);
    let mut s = SpeedSettings::from_preset(speed);
    s.multiref = false;
    s.rdo_lookahead_frames = 1;
    s.scene_detection_mode = SceneDetectionSpeed::None;
    s.motion.include_near_mvs = false;
    s.motion.use_satd_subpel = false;
    s.fast_deblock = speed >= 7 && !high_quality;
    s.transform.reduced_tx_set = speed == 4 || speed >= 9;
    s.transform.tx_domain_rate = speed >= 10;
    s.transform.rdo_tx_decision = speed <= 4 && !high_quality;
    s.transform.enable_inter_tx_split = speed >= 9;
    s.partition.encode_bottomup = speed <= 2;
    s.cdef = low_quality && speed <= 9;
    s.lrf = low_quality && speed <= 8;
    s.sgr_complexity = if speed <= 2 { SGRComplexityLevel::Full } else { SGRComplexityLevel::Reduced };
    s.prediction.fine_directional_intra = speed <= 6;
    s.prediction.prediction_modes = if speed <= 1 { PredictionModesSetting::ComplexAll } else { PredictionModesSetting::Simple };
    s
}

/// A rav1e context for one still image. No thread setting: rav1e runs in the rayon pool the
/// caller installs (see `AvifEncoder::threads`).
pub fn context<P: Pixel>(image: &Av1Image) -> Result<Context<P>> {
    let config = EncoderConfig {
        width: image.width,
        height: image.height,
        time_base: Rational::new(1, 1),
        sample_aspect_ratio: Rational::new(1, 1),
        bit_depth: image.bit_depth,
        chroma_sampling: image.chroma,
        chroma_sample_position: ChromaSamplePosition::Unknown,
        pixel_range: PixelRange::Full,
        color_description: image.color,
        mastering_display: None,
        content_light: None,
        level_idx: None,
        enable_timing_info: false,
        still_picture: true,
        error_resilient: false,
        switch_frame_interval: 0,
        min_key_frame_interval: 0,
        max_key_frame_interval: 0,
        reservoir_frame_delay: None,
        low_latency: false,
        quantizer: image.quantizer as usize,
        min_quantizer: image.quantizer,
        bitrate: 0,
        tune: Tune::Psychovisual,
        film_grain_params: None,
        tile_cols: 0,
        tile_rows: 0,
        tiles: image.tiles,
        speed_settings: speed_settings(image.speed, image.quantizer),
    };
    Config::new().with_encoder_config(config).new_context().map_err(|e| Error::parameter(format!("AVIF encoder (rav1e): {e}")))
}

/// Encodes `frame` (filled by the caller) and returns the AV1 data of the key frame.
pub fn encode<P: Pixel>(mut context: Context<P>, frame: Frame<P>) -> Result<Vec<u8>> {
    let failed = |e: EncoderStatus| Error::parameter(format!("AVIF encoder (rav1e): {e}"));
    context.send_frame(frame).map_err(failed)?;
    context.flush();
    let mut out = Vec::new();
    loop {
        match context.receive_packet() {
            Ok(packet) if packet.frame_type == FrameType::KEY => out.extend_from_slice(&packet.data),
            Ok(_) | Err(EncoderStatus::Encoded) => {}
            Err(EncoderStatus::LimitReached) => return Ok(out),
            Err(e) => return Err(failed(e)),
        }
    }
}

/// The AVIF file around the AV1 data: avif-serialize's boxes, with a `colr` (nclx) property that
/// states sRGB primaries and transfer, the BT.601 matrix and full range.
pub fn container(
    color: &[u8],
    alpha: Option<&[u8]>,
    (width, height): (u32, u32),
    bit_depth: u8,
    chroma: ChromaSampling,
) -> Result<Vec<u8>> {
    use avif_serialize::constants::{ColorPrimaries, MatrixCoefficients, TransferCharacteristics};
    let (subsampled, profile) = match chroma {
        ChromaSampling::Cs420 => ((true, true), 0),
        ChromaSampling::Cs422 => ((true, false), 2),
        _ => ((false, false), 1),
    };
    let mut boxes = avif_serialize::Aviffy::new();
    boxes
        .set_seq_profile(profile)
        .set_chroma_subsampling(subsampled)
        .set_matrix_coefficients(MatrixCoefficients::Bt601)
        .set_color_primaries(ColorPrimaries::Bt709)
        .set_full_color_range(true)
        // avif-serialize leaves out a `colr` equal to its defaults (sRGB, BT.601, full range:
        // exactly ours), so it is asked for a BT.709 transfer, then that one field is set to
        // sRGB below, in place: same box size, no offset moves.
        .set_transfer_characteristics(TransferCharacteristics::Bt709);
    let mut file = Vec::new();
    boxes
        .write(&mut file, color, alpha, width, height, bit_depth)
        .map_err(|e| Error::Io(std::io::Error::other(format!("AVIF container: {e}"))))?;
    let written: &[u8] = &[b'c', b'o', b'l', b'r', b'n', b'c', b'l', b'x', 0, 1, 0, 1, 0, 6, 0x80];
    let at = file.windows(written.len()).position(|w| w == written).ok_or_else(|| Error::Io(std::io::Error::other("AVIF container: no colr box")))?;
    file[at + 11] = TransferCharacteristics::Srgb as u8;
    Ok(file)
}
