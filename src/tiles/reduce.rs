//! The streaming 2x box reduction that makes each level from the one above, as libvips' dzsave
//! does with its `region_shrink` mean: each output pixel is `(a + b + c + d + 2) / 4` of a 2x2
//! block, per channel. A level of odd width has its last column doubled (the block is that column
//! twice), one of odd height its last row doubled, so a 5-pixel level becomes 3.
//!
//! It holds one input row (the even one of a pair) and one output row: pushing the odd row of a
//! pair yields the reduced row; [`Reducer::finish`] yields the last one of an odd-height level.

/// Halves rows of a `width`-pixel level with `channels` bytes per pixel.
#[derive(Debug)]
pub struct Reducer {
    width: usize,
    channels: usize,
    /// The even row of the pair being reduced, if it has arrived.
    upper: Vec<u8>,
    has_upper: bool,
    /// The reduced row, `ceil(width / 2)` pixels.
    output: Vec<u8>,
}

impl Reducer {
    /// Heap bytes a reducer of a `width`-pixel level holds: the layout [`Reducer::new`] allocates.
    pub fn heap_bytes(width: u32, channels: usize) -> usize {
        width as usize * channels + (width as usize).div_ceil(2) * channels
    }

    /// A reducer for rows `width` pixels wide.
    pub fn new(width: u32, channels: usize) -> Reducer {
        let width = width as usize;
        Reducer { width, channels, upper: vec![0; width * channels], has_upper: false, output: vec![0; width.div_ceil(2) * channels] }
    }

    /// The row reduced last.
    pub fn output(&self) -> &[u8] {
        &self.output
    }

    /// Takes the next row; returns the reduced row when it completes a pair.
    pub fn push(&mut self, row: &[u8]) -> Option<&[u8]> {
        if !self.has_upper {
            self.upper.copy_from_slice(row);
            self.has_upper = true;
            return None;
        }
        self.has_upper = false;
        reduce_pair(&self.upper, row, self.width, self.channels, &mut self.output);
        Some(&self.output)
    }

    /// The last reduced row of an odd-height level (its last row doubled), if one is pending.
    pub fn finish(&mut self) -> Option<&[u8]> {
        if !self.has_upper {
            return None;
        }
        self.has_upper = false;
        reduce_pair(&self.upper, &self.upper, self.width, self.channels, &mut self.output);
        Some(&self.output)
    }
}

/// Reduces rows `a` and `b` into `out`, doubling the last column of an odd width.
fn reduce_pair(a: &[u8], b: &[u8], width: usize, channels: usize, out: &mut [u8]) {
    let pairs = width / 2;
    let span = 2 * channels;
    match channels {
        3 => reduce_fixed::<3>(a, b, pairs, out),
        4 => reduce_fixed::<4>(a, b, pairs, out),
        1 => reduce_fixed::<1>(a, b, pairs, out),
        _ => {
            for (i, o) in out[..pairs * channels].chunks_exact_mut(channels).enumerate() {
                for (c, v) in o.iter_mut().enumerate() {
                    let j = i * span + c;
                    *v = mean4(a[j], a[j + channels], b[j], b[j + channels]);
                }
            }
        }
    }
    if width % 2 == 1 {
        let last = (width - 1) * channels;
        for c in 0..channels {
            out[pairs * channels + c] = mean4(a[last + c], a[last + c], b[last + c], b[last + c]);
        }
    }
}

/// The pairs of a row with `N` channels, written so the compiler unrolls and vectorises it.
fn reduce_fixed<const N: usize>(a: &[u8], b: &[u8], pairs: usize, out: &mut [u8]) {
    let a = a[..pairs * 2 * N].chunks_exact(2 * N);
    let b = b[..pairs * 2 * N].chunks_exact(2 * N);
    for ((o, pa), pb) in out[..pairs * N].chunks_exact_mut(N).zip(a).zip(b) {
        for c in 0..N {
            o[c] = mean4(pa[c], pa[c + N], pb[c], pb[c + N]);
        }
    }
}

/// `(a + b + c + d + 2) / 4`, the mean libvips' shrink rounds to.
#[inline(always)]
fn mean4(a: u8, b: u8, c: u8, d: u8) -> u8 {
    ((a as u16 + b as u16 + c as u16 + d as u16 + 2) >> 2) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reduction of a whole image, done the obvious way.
    fn reference(image: &[u8], width: usize, height: usize, channels: usize) -> Vec<u8> {
        let (ow, oh) = (width.div_ceil(2), height.div_ceil(2));
        let px = |x: usize, y: usize, c: usize| image[(y.min(height - 1) * width + x.min(width - 1)) * channels + c] as u16;
        let mut out = Vec::new();
        for y in 0..oh {
            for x in 0..ow {
                for c in 0..channels {
                    let s = px(2 * x, 2 * y, c) + px(2 * x + 1, 2 * y, c) + px(2 * x, 2 * y + 1, c) + px(2 * x + 1, 2 * y + 1, c);
                    out.push(((s + 2) >> 2) as u8);
                }
            }
        }
        out
    }

    #[test]
    fn matches_the_whole_image_reduction_at_odd_sizes() {
        for (width, height, channels) in [(5, 3, 3), (4, 4, 1), (7, 1, 4), (1, 1, 2), (9, 6, 3)] {
            let image: Vec<u8> = (0..width * height * channels).map(|i| (i * 37 % 251) as u8).collect();
            let mut reducer = Reducer::new(width as u32, channels);
            let mut got = Vec::new();
            for row in image.chunks_exact(width * channels) {
                if let Some(out) = reducer.push(row) {
                    got.extend_from_slice(out);
                }
            }
            if let Some(out) = reducer.finish() {
                got.extend_from_slice(out);
            }
            assert_eq!(got, reference(&image, width, height, channels), "{width}x{height}x{channels}");
        }
    }

    #[test]
    fn mean_rounds_half_up() {
        assert_eq!(mean4(0, 0, 1, 1), 1);
        assert_eq!(mean4(0, 0, 0, 1), 0);
        assert_eq!(mean4(255, 255, 255, 255), 255);
    }
}
