//! Premultiplied alpha: resizing colour weighted by coverage, so transparent pixels (whose
//! colour is meaningless, often black) do not bleed a dark fringe into their opaque neighbours.
//!
//! Colour channels are multiplied by `alpha / max` before resizing and divided by it after.
//! After a kernel with negative lobes, alpha is clamped to `0..=max` first; a pixel whose alpha
//! rounds to zero gets colour zero (it is invisible, and zero compresses best); otherwise the
//! colour is divided by the clamped alpha, and clamped by the store.

/// Multiplies the colour channels of each pixel by its alpha (the last channel) over `max`.
pub(crate) fn premultiply(values: &mut [f32], channels: usize, max: f32) {
    let inv = 1.0 / max;
    for px in values.chunks_exact_mut(channels) {
        let (colour, alpha) = px.split_at_mut(channels - 1);
        let a = alpha[0] * inv;
        for c in colour {
            *c *= a;
        }
    }
}

/// Divides the colour channels of each pixel by its alpha over `max`, clamping alpha first.
pub(crate) fn unpremultiply(values: &mut [f32], channels: usize, max: f32) {
    for px in values.chunks_exact_mut(channels) {
        let (colour, alpha) = px.split_at_mut(channels - 1);
        let a = alpha[0].clamp(0.0, max);
        alpha[0] = a;
        if a < 0.5 {
            colour.iter_mut().for_each(|c| *c = 0.0);
        } else {
            let f = max / a;
            colour.iter_mut().for_each(|c| *c *= f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_transparent() {
        let mut v = vec![200.0, 100.0, 50.0, 128.0, 9.0, 9.0, 9.0, 0.0];
        premultiply(&mut v, 4, 255.0);
        assert_eq!(v[7], 0.0);
        assert_eq!(&v[4..7], &[0.0, 0.0, 0.0]);
        unpremultiply(&mut v, 4, 255.0);
        for (a, b) in v[..4].iter().zip([200.0, 100.0, 50.0, 128.0]) {
            assert!((a - b).abs() < 1e-3);
        }
    }
}
