//! Premultiplied alpha: resizing colour weighted by coverage, so transparent pixels (whose
//! colour is meaningless, often black) do not bleed a dark fringe into their opaque neighbours.
//!
//! Colour channels are multiplied by `alpha / max` before resizing and divided by it after.
//! After a kernel with negative lobes, alpha is clamped to `0..=max` first; a pixel whose alpha
//! rounds to zero gets colour zero (it is invisible, and zero compresses best); otherwise the
//! colour is divided by the clamped alpha, and clamped by the store.

/// Multiplies the colour channels of each pixel by its alpha (the last channel) over `max`.
/// Formats with alpha have 2 (gray + alpha) or 4 (RGBA) channels.
pub(crate) fn premultiply(values: &mut [f32], channels: usize, max: f32) {
    debug_assert!(channels == 2 || channels == 4, "{channels} channels with alpha");
    if channels == 2 {
        premultiply_n::<2>(values, max)
    } else {
        premultiply_n::<4>(values, max)
    }
}

/// [`premultiply`] for `N` channels known at compile time (the pixel loop fully unrolled).
fn premultiply_n<const N: usize>(values: &mut [f32], max: f32) {
    let inv = 1.0 / max;
    for px in values.chunks_exact_mut(N) {
        let a = px[N - 1] * inv;
        for c in &mut px[..N - 1] {
            *c *= a;
        }
    }
}

/// Loads 8-bit samples whose last channel is alpha (`channels` 2 or 4) as premultiplied working
/// values in one pass over the row: the same products, bit for bit, as converting each sample to
/// `f32` and then calling [`premultiply`] with `max` 255, which takes a second pass.
pub(crate) fn load_premultiplied_u8(row: &[u8], out: &mut [f32], channels: usize) {
    debug_assert!(channels == 2 || channels == 4, "{channels} channels with alpha");
    if channels == 2 {
        load_premultiplied_u8_n::<2>(row, out)
    } else {
        load_premultiplied_u8_n::<4>(row, out)
    }
}

/// [`load_premultiplied_u8`] for `N` channels known at compile time.
fn load_premultiplied_u8_n<const N: usize>(row: &[u8], out: &mut [f32]) {
    let inv = 1.0 / 255.0f32;
    for (o, px) in out.chunks_exact_mut(N).zip(row.chunks_exact(N)) {
        let alpha = px[N - 1] as f32;
        let a = alpha * inv;
        for c in 0..N - 1 {
            o[c] = px[c] as f32 * a;
        }
        o[N - 1] = alpha;
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
    fn fused_load_gives_the_two_pass_bits() {
        for channels in [2usize, 4] {
            let row: Vec<u8> = (0..channels * 700).map(|i| (i * 37 % 256) as u8).collect();
            let mut two_pass: Vec<f32> = row.iter().map(|&s| s as f32).collect();
            premultiply(&mut two_pass, channels, 255.0);
            let mut fused = vec![-1.0f32; row.len()];
            load_premultiplied_u8(&row, &mut fused, channels);
            let same = fused.iter().zip(&two_pass).all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{channels} channels");
            // The unrolled loop agrees with the definition, written per pixel.
            let mut reference: Vec<f32> = row.iter().map(|&s| s as f32).collect();
            let inv = 1.0 / 255.0f32;
            for px in reference.chunks_exact_mut(channels) {
                let a = px[channels - 1] * inv;
                px[..channels - 1].iter_mut().for_each(|c| *c *= a);
            }
            assert!(reference.iter().zip(&two_pass).all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    }

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
