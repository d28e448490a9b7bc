//! Resampling coefficients along one axis, computed once per stage.
//!
//! Output pixel `i` has its centre at `(i + 0.5) * scale` in input coordinates (input pixel `j`
//! covers `[j, j + 1)`), so the image stays centred whatever the factor: no half-pixel drift.
//! The kernel is stretched by the scale factor when downscaling. Each output pixel gets a window
//! `{start, size}` of input pixels and weights that sum to one: taps outside the image are dropped
//! and the rest renormalised (exact edge handling, no mirrored or clamped pixels), and zero taps at
//! the ends of a window are trimmed.
//!
//! Design note: the vertical pass relies on window starts and ends that never decrease from one
//! output row to the next (the scatter accumulators are a ring, and the gather ring only moves
//! forward). Untrimmed windows are monotonic by construction; trimming may break that, so after
//! trimming each start is lowered to the smallest later start and each end raised to the largest
//! earlier end, putting back a few (near-)zero taps. Buffer sizes are derived from the untrimmed
//! windows, which contain the final ones, so they can be predicted without building the tables.

use super::kernel::Kernel;

/// Weights smaller than this (after normalisation) are trimmed from the ends of a window.
const TRIM: f64 = 1e-7;

/// One axis of a resampling: `n_in` kernel-input pixels onto `n_out` output pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Axis {
    /// Pixels in (after any box shrink).
    pub n_in: u32,
    /// Pixels out.
    pub n_out: u32,
    /// Input pixels per output pixel (may differ from `n_in / n_out` after a box shrink whose last
    /// box is partial: the geometry follows the original image).
    pub scale: f64,
    /// The kernel.
    pub kernel: Kernel,
}

impl Axis {
    /// Centre of output pixel `i` in input coordinates.
    fn centre(&self, i: u32) -> f64 {
        (i as f64 + 0.5) * self.scale
    }

    /// Whether this axis keeps its size (and has no box shrink): every kernel then copies, even
    /// the non-interpolating Mitchell, so that resizing one axis leaves the other untouched.
    pub fn is_identity(&self) -> bool {
        self.n_in == self.n_out && self.scale == 1.0
    }

    /// Kernel stretch: the scale when downscaling, 1 when upscaling.
    fn stretch(&self) -> f64 {
        self.scale.max(1.0)
    }

    /// The untrimmed window `[start, end)` of output pixel `i`: every input pixel whose centre is
    /// strictly inside the kernel's support, clipped to the image; never empty.
    pub fn span(&self, i: u32) -> (u32, u32) {
        let c = self.centre(i);
        let nearest = (c.floor().max(0.0) as u64).min(self.n_in as u64 - 1) as u32;
        if self.kernel == Kernel::Nearest || self.is_identity() {
            return (nearest, nearest + 1);
        }
        let support = self.kernel.radius() * self.stretch();
        let start = ((c - support - 0.5).floor() + 1.0).max(0.0);
        let end = (c + support - 0.5).ceil().min(self.n_in as f64);
        if start >= end {
            return (nearest, nearest + 1);
        }
        (start as u32, end as u32)
    }

    /// The largest untrimmed window: taps per output pixel, and rows of the gather ring.
    pub fn max_span(&self) -> usize {
        (0..self.n_out).map(|i| self.span(i)).map(|(s, e)| (e - s) as usize).max().unwrap_or(1)
    }

    /// The largest number of output pixels whose untrimmed windows share one input pixel: the
    /// number of scatter accumulators that can be open at once.
    pub fn max_open(&self) -> usize {
        // The count only rises where a window starts, so it is enough to look at r = start_j for
        // every j. Windows are monotonic, so the output pixels whose window holds r form a range
        // [lo, hi) whose ends only move forward: O(n_out) whatever the input size.
        let (mut lo, mut hi, mut most) = (0u32, 0u32, 0usize);
        for j in 0..self.n_out {
            let r = self.span(j).0;
            while hi < self.n_out && self.span(hi).0 <= r {
                hi += 1;
            }
            while lo < hi && self.span(lo).1 <= r {
                lo += 1;
            }
            most = most.max((hi - lo) as usize);
        }
        most.max(1)
    }

    /// Normalised weights of the untrimmed window of `i`, written into `out` (len >= span).
    fn weights(&self, i: u32, out: &mut [f64]) -> (u32, u32) {
        let (start, end) = self.span(i);
        let n = (end - start) as usize;
        if self.kernel == Kernel::Nearest || self.is_identity() {
            out[0] = 1.0;
            return (start, end);
        }
        let c = self.centre(i);
        let stretch = self.stretch();
        let mut sum = 0.0;
        for (k, w) in out[..n].iter_mut().enumerate() {
            let x = (start as f64 + k as f64 + 0.5 - c) / stretch;
            *w = self.kernel.weight(x);
            sum += *w;
        }
        if sum.abs() < 1e-9 {
            // Cannot happen with these kernels (the nearest tap is within half a stretch of
            // the centre, where every kernel is positive); keep a sane fallback anyway.
            out[..n].fill(0.0);
            let nearest = ((c.floor().max(0.0) as u32).min(end - 1)).max(start);
            out[(nearest - start) as usize] = 1.0;
        } else {
            out[..n].iter_mut().for_each(|w| *w /= sum);
        }
        (start, end)
    }

    /// Builds the coefficient table.
    pub fn build(&self) -> Coefficients {
        let n = self.n_out as usize;
        let stride = self.max_span();
        let mut scratch = vec![0.0f64; stride];
        let mut starts = vec![0u32; n];
        let mut ends = vec![0u32; n];
        // Pass 1: trimmed windows.
        for i in 0..self.n_out {
            let (start, end) = self.weights(i, &mut scratch);
            let w = &scratch[..(end - start) as usize];
            let first = w.iter().position(|w| w.abs() >= TRIM).unwrap_or(0);
            let last = w.iter().rposition(|w| w.abs() >= TRIM).unwrap_or(w.len() - 1);
            starts[i as usize] = start + first as u32;
            ends[i as usize] = start + last as u32 + 1;
        }
        // Pass 2: restore monotonic starts and ends (see the module notes).
        for i in (0..n.saturating_sub(1)).rev() {
            starts[i] = starts[i].min(starts[i + 1]);
        }
        for i in 1..n {
            ends[i] = ends[i].max(ends[i - 1]);
        }
        // Pass 3: weights of the final windows, taken from the untrimmed normalised weights.
        let mut weights = vec![0.0f32; n * stride];
        let mut sizes = vec![0u32; n];
        for i in 0..self.n_out {
            let (span_start, _) = self.weights(i, &mut scratch);
            let (s, e) = (starts[i as usize], ends[i as usize]);
            let from = (s - span_start) as usize;
            let size = (e - s) as usize;
            let row = &mut weights[i as usize * stride..][..size];
            for (dst, src) in row.iter_mut().zip(&scratch[from..from + size]) {
                *dst = *src as f32;
            }
            sizes[i as usize] = size as u32;
        }
        Coefficients { starts, sizes, stride, weights }
    }

    /// Heap bytes of the table [`Axis::build`] makes, without building it.
    pub fn table_bytes(&self) -> usize {
        Coefficients::bytes_for(self.n_out as usize, self.max_span())
    }
}

/// Per output pixel: the first input pixel, the number of taps and the weights.
#[derive(Debug, Clone)]
pub(crate) struct Coefficients {
    /// First input pixel of each window (never decreasing).
    pub starts: Vec<u32>,
    /// Taps of each window (`starts[i] + sizes[i]` never decreasing).
    pub sizes: Vec<u32>,
    /// Distance between the weights of consecutive windows in `weights`.
    pub stride: usize,
    /// `weights[i * stride..][..sizes[i]]` are the weights of output pixel `i`.
    pub weights: Vec<f32>,
}

impl Coefficients {
    /// The window and weights of output pixel `i`.
    #[inline]
    pub fn window(&self, i: usize) -> (usize, &[f32]) {
        (self.starts[i] as usize, &self.weights[i * self.stride..][..self.sizes[i] as usize])
    }

    /// End (exclusive) of the window of output pixel `i`.
    #[inline]
    pub fn end(&self, i: usize) -> u32 {
        self.starts[i] + self.sizes[i]
    }

    /// Heap bytes of a table of `n` windows of at most `stride` taps.
    pub fn bytes_for(n: usize, stride: usize) -> usize {
        n * 8 + n * stride * 4
    }

    /// Heap bytes held.
    pub fn bytes(&self) -> usize {
        self.starts.capacity() * 4 + self.sizes.capacity() * 4 + self.weights.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(n_in: u32, n_out: u32, kernel: Kernel) -> Axis {
        Axis { n_in, n_out, scale: n_in as f64 / n_out as f64, kernel }
    }

    #[test]
    fn weights_sum_to_one_and_windows_are_monotonic() {
        for kernel in Kernel::ALL {
            for (n_in, n_out) in [(1, 1), (1, 9), (9, 1), (10, 3), (3, 10), (100, 37), (37, 100), (64, 64)] {
                let a = axis(n_in, n_out, kernel);
                let c = a.build();
                assert_eq!(c.bytes(), a.table_bytes());
                for i in 0..n_out as usize {
                    let (start, w) = c.window(i);
                    assert!(!w.is_empty() && start + w.len() <= n_in as usize);
                    let sum: f32 = w.iter().sum();
                    assert!((sum - 1.0).abs() < 1e-5, "{kernel} {n_in}->{n_out} px {i}: {sum}");
                    if i > 0 {
                        assert!(c.starts[i] >= c.starts[i - 1] && c.end(i) >= c.end(i - 1));
                    }
                }
            }
        }
    }

    #[test]
    fn identity_is_one_tap() {
        for kernel in Kernel::ALL {
            let c = axis(50, 50, kernel).build();
            for i in 0..50 {
                let (start, w) = c.window(i);
                assert_eq!((start, w.len()), (i, 1), "{kernel}");
                assert_eq!(w[0], 1.0);
            }
        }
    }

    #[test]
    fn upscale_is_centred() {
        // 2 -> 4 linear: centres at 0.25, 0.75, 1.25, 1.75 in input pixels.
        let c = axis(2, 4, Kernel::Linear).build();
        assert_eq!(c.window(0), (0, &[1.0f32][..]));
        let (s, w) = c.window(1);
        assert_eq!(s, 0);
        assert!((w[0] - 0.75).abs() < 1e-6 && (w[1] - 0.25).abs() < 1e-6);
        let (s, w) = c.window(2);
        assert_eq!(s, 0);
        assert!((w[0] - 0.25).abs() < 1e-6 && (w[1] - 0.75).abs() < 1e-6);
        assert_eq!(c.window(3), (1, &[1.0f32][..]));
    }

    #[test]
    fn max_open_counts_by_brute_force() {
        for kernel in Kernel::ALL {
            for (n_in, n_out) in [(1, 1), (9, 1), (100, 37), (37, 100), (1000, 3), (5, 64)] {
                let a = axis(n_in, n_out, kernel);
                let brute = (0..n_in)
                    .map(|r| (0..n_out).filter(|&j| (a.span(j).0..a.span(j).1).contains(&r)).count())
                    .max()
                    .unwrap();
                assert_eq!(a.max_open(), brute.max(1), "{kernel} {n_in}->{n_out}");
            }
        }
    }

    #[test]
    fn scatter_open_rows_do_not_grow_with_the_factor() {
        for factor in [2u32, 10, 100, 1000] {
            let a = axis(16 * factor, 16, Kernel::Lanczos3);
            assert!(a.max_open() <= 7, "factor {factor}: {}", a.max_open());
        }
    }
}
