//! Where a chain is cut in two for [`Chain::threads`](super::Chain::threads): the
//! [`HandoffSpec`](crate::pipeline::HandoffSpec) goes where the work above it (run on a worker
//! thread) and the work below it (on the caller's thread, with the encoder) are closest to equal.
//!
//! The work of each part is estimated from its pixels with per-pixel costs measured on the
//! report's jobs (nanoseconds per pixel on the 2-core reference machine; only their ratios matter):
//!
//! | part | cost per pixel | measured on |
//! |---|---|---|
//! | JPEG decode | stored pixels x (2.2 + 2.8 / shrink^2) | 8192^2 at 1/1 0.33 s, at 1/8 0.18 s |
//! | PNG decode | rows read x width x 10 | 8192^2 RGB 0.71 s |
//! | other decoders, a row source | 8, 2 | |
//! | resize | input x 10 (input x 1 when both axes shrink 4x or more: box sums) + output x 5 | 4096^2 -> 2048^2 0.20 s, 8192^2 -> 256^2 0.06 s, 64^2 -> 4096^2 0.08 s |
//! | crop, extract, pad, extend | output x 0.3 | |
//! | orientation, colour and other stages | output x 2 / x 3 | |
//! | JPEG / PNG / TIFF / WebP / AVIF encode | output x 12 / 20 / 6 / 60 / 300 | 8192^2 JPEG 0.7-1.3 s, PNG 1.3 s |
//!
//! The cut minimises the larger side; among cuts within 5% of the best, the one with the
//! narrowest rows wins (the handoff's strips are smaller). No handoff is made when it would save
//! less than a tenth of the work or less than [`MIN_SAVING_NS`] (a thread costs tens of
//! microseconds to start, a small job gains nothing).

use crate::codec::Format;
use crate::ops::crop::Rect;
use crate::pixel::ImageInfo;

/// A handoff must be expected to save at least this much work (nanoseconds) to be made.
pub const MIN_SAVING_NS: f64 = 2.0e6;

/// Estimated work of the decoder (or row source) reading `rect` of the stored `input` at
/// 1/`shrink` scale.
pub(crate) fn decoder_cost(format: Option<Format>, input: ImageInfo, rect: Rect, shrink: u8) -> f64 {
    let rect_pixels = rect.width as f64 * rect.height as f64;
    match format {
        Some(Format::Jpeg) => {
            let s = shrink.max(1) as f64;
            rect_pixels * (2.2 + 2.8 / (s * s))
        }
        Some(Format::Png) => input.width as f64 * (rect.y as f64 + rect.height as f64) * 10.0,
        Some(_) => rect_pixels * 8.0,
        None => rect_pixels * 2.0,
    }
}

/// Estimated work of the stage called `name` turning rows of `input` into rows of `output`.
pub(crate) fn stage_cost(name: &str, input: ImageInfo, output: ImageInfo) -> f64 {
    let (inp, out) = (input.pixels() as f64, output.pixels() as f64);
    match name {
        "resize" => {
            let boxed = input.width >= 4 * output.width && input.height >= 4 * output.height;
            inp * if boxed { 1.0 } else { 10.0 } + out * 5.0
        }
        "crop" | "extract" | "pad" | "extend" => out * 0.3,
        n if n.starts_with("orient") => out * 2.0,
        _ => out * 3.0,
    }
}

/// Estimated work of encoding `output` as `format`.
pub(crate) fn encoder_cost(format: Format, output: ImageInfo) -> f64 {
    let per_pixel = match format {
        Format::Jpeg => 12.0,
        Format::Png => 20.0,
        Format::Tiff => 6.0,
        Format::Webp => 60.0,
        Format::Avif => 300.0,
        _ => 10.0,
    };
    output.pixels() as f64 * per_pixel
}

/// The cut for a chain whose parts (decoder, stages, encoder, in order) cost `costs`, where
/// `row_bytes[c]` is the size of the rows between part `c - 1` and part `c`: `Some(c)` puts the
/// handoff before part `c` (parts `..c` run on the worker), `None` makes none.
pub(crate) fn choose(costs: &[f64], row_bytes: &[usize]) -> Option<usize> {
    debug_assert_eq!(costs.len(), row_bytes.len());
    let total: f64 = costs.iter().sum();
    let larger_side = |c: usize| {
        let upstream: f64 = costs[..c].iter().sum();
        upstream.max(total - upstream)
    };
    let cuts = 1..costs.len();
    let best = cuts.clone().map(larger_side).fold(f64::INFINITY, f64::min);
    let saving = total - best;
    if !(saving >= MIN_SAVING_NS && saving >= total / 10.0) {
        return None;
    }
    cuts.filter(|&c| larger_side(c) <= best * 1.05).min_by_key(|&c| (row_bytes[c], std::cmp::Reverse(c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MP: f64 = 1.0e6;

    #[test]
    fn cuts_where_the_sides_balance() {
        // decoder 300, resize 200, encoder 50: decoder | resize + encoder.
        assert_eq!(choose(&[300.0 * MP, 200.0 * MP, 50.0 * MP], &[0, 100, 50]), Some(1));
        // decoder 10, resize 400, encoder 900: decoder + resize | encoder.
        assert_eq!(choose(&[10.0 * MP, 400.0 * MP, 900.0 * MP], &[0, 10, 100]), Some(2));
    }

    #[test]
    fn a_free_stage_goes_with_the_side_whose_rows_are_narrower() {
        // decoder | crop | encoder: the crop costs nothing; cutting after it hands off its
        // narrower rows.
        assert_eq!(choose(&[500.0 * MP, 0.1 * MP, 400.0 * MP], &[0, 48_000, 3_000]), Some(2));
    }

    #[test]
    fn no_handoff_when_it_saves_little() {
        assert_eq!(choose(&[1000.0 * MP, 50.0 * MP], &[0, 100]), None, "under a tenth");
        assert_eq!(choose(&[1.0 * MP, 1.0 * MP], &[0, 100]), None, "too small a job");
        assert_eq!(choose(&[5.0 * MP], &[0]), None, "nothing to cut");
    }
}
