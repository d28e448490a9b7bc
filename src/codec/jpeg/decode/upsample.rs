//! Chroma upsampling as libjpeg does it by default ("fancy", jdsample.c).
//!
//! * 2x horizontal (4:2:2): each output sample is 3/4 of the nearer input sample plus 1/4 of the
//!   next nearer, rounding alternately down and up (`+1`, `+2` before `>> 2`).
//! * 2x vertical (4:4:0): the same between rows, with the row above or below.
//! * 2x both (4:2:0): the vertical step first (3 x near row + far row, kept exact), then the
//!   horizontal step, with `+8` and `+7` before `>> 4`.
//! * Any other integer ratio, every ratio at 1/8 scale, and 2x horizontal (with or without 2x
//!   vertical) of a component at most two samples wide: plain replication.
//!
//! Edges replicate the first or last real sample (row), which is what libjpeg's special-cased
//! first and last columns compute, and what its context rows hold above the first and below the
//! last row. Only output columns `x0..x1` are computed, for crop-on-load; buffers may be wider.

use crate::simd::avx2_dispatch;

/// How one component gets from its decoded size to the output size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Upsample {
    /// Already full size.
    Full,
    /// Fancy 2x horizontal.
    H2V1,
    /// Fancy 2x vertical.
    H1V2,
    /// Fancy 2x both ways.
    H2V2,
    /// Replication by integer factors.
    Replicate { h: usize, v: usize },
}

impl Upsample {
    /// The method libjpeg picks (jdsample.c, `jinit_upsampler`) for a component enlarged `hr` x
    /// `vr` times whose rows are `ds_w` samples wide; `fancy` is false at 1/8 scale.
    ///
    /// The fancy horizontal methods need a neighbour on each side, so libjpeg uses them only for
    /// components more than two samples wide and replicates otherwise: a 4:2:0 file of 4x4
    /// pixels (chroma 2x2) is upsampled by replication. The vertical-only method has no such
    /// condition.
    pub(crate) fn choose(hr: usize, vr: usize, fancy: bool, ds_w: usize) -> Upsample {
        let wide = ds_w > 2;
        match (hr, vr) {
            (1, 1) => Upsample::Full,
            (2, 1) if fancy && wide => Upsample::H2V1,
            (1, 2) if fancy => Upsample::H1V2,
            (2, 2) if fancy && wide => Upsample::H2V2,
            (h, v) => Upsample::Replicate { h, v },
        }
    }

    /// Whether output rows need the input row above or below (context rows).
    pub(crate) fn needs_context(self) -> bool {
        matches!(self, Upsample::H1V2 | Upsample::H2V2)
    }
}

avx2_dispatch! {
    /// Output columns `x0..x1` of a fancy 2x horizontal upsampling of `input`.
    pub(crate) fn h2v1(input: &[u8], out: &mut [u8], x0: usize, x1: usize) {
        let n = input.len();
        let (i0, i1) = (x0 / 2, x1.div_ceil(2).min(n));
        let at = |i: usize| input[i.min(n - 1)] as u16;
        let edge = |out: &mut [u8], i: usize| {
            let c = at(i) * 3;
            out[2 * i] = ((c + at(i.saturating_sub(1)) + 1) >> 2) as u8;
            out[2 * i + 1] = ((c + at(i + 1) + 2) >> 2) as u8;
        };
        // Interior columns (both neighbours real) in a loop without bounds logic.
        let (lo, hi) = (i0.max(1), i1.min(n.saturating_sub(1)));
        for i in (i0..i1).filter(|&i| i < lo || i >= hi) {
            edge(out, i);
        }
        if lo < hi {
            let pairs = out[2 * lo..2 * hi].chunks_exact_mut(2);
            for (((o, &l), &c), &r) in pairs.zip(&input[lo - 1..hi - 1]).zip(&input[lo..hi]).zip(&input[lo + 1..hi + 1]) {
                let c = c as u16 * 3;
                o[0] = ((c + l as u16 + 1) >> 2) as u8;
                o[1] = ((c + r as u16 + 2) >> 2) as u8;
            }
        }
    }
}

avx2_dispatch! {
    /// Vertical column sums `3 * near + far` for fancy vertical upsampling, columns `i0..i1`.
    pub(crate) fn column_sums(near: &[u8], far: &[u8], sums: &mut [u16], i0: usize, i1: usize) {
        for ((s, &a), &b) in sums[i0..i1].iter_mut().zip(&near[i0..i1]).zip(&far[i0..i1]) {
            *s = a as u16 * 3 + b as u16;
        }
    }
}

avx2_dispatch! {
    /// Output columns `x0..x1` of 2x horizontal upsampling of column sums (`n` input columns).
    pub(crate) fn h2v2(sums: &[u16], n: usize, out: &mut [u8], x0: usize, x1: usize) {
        let (i0, i1) = (x0 / 2, x1.div_ceil(2).min(n));
        let at = |i: usize| sums[i.min(n - 1)];
        let edge = |out: &mut [u8], i: usize| {
            let c = at(i) * 3;
            out[2 * i] = ((c + at(i.saturating_sub(1)) + 8) >> 4) as u8;
            out[2 * i + 1] = ((c + at(i + 1) + 7) >> 4) as u8;
        };
        let (lo, hi) = (i0.max(1), i1.min(n.saturating_sub(1)));
        for i in (i0..i1).filter(|&i| i < lo || i >= hi) {
            edge(out, i);
        }
        if lo < hi {
            let pairs = out[2 * lo..2 * hi].chunks_exact_mut(2);
            for (((o, &l), &c), &r) in pairs.zip(&sums[lo - 1..hi - 1]).zip(&sums[lo..hi]).zip(&sums[lo + 1..hi + 1]) {
                let c = c * 3;
                o[0] = ((c + l + 8) >> 4) as u8;
                o[1] = ((c + r + 7) >> 4) as u8;
            }
        }
    }
}

/// Output columns `x0..x1` of fancy vertical-only upsampling from column sums; `lower` is true
/// for the output row nearer the row below.
pub(crate) fn h1v2(sums: &[u16], out: &mut [u8], lower: bool, x0: usize, x1: usize) {
    let bias = if lower { 2 } else { 1 };
    for (o, &s) in out[x0..x1].iter_mut().zip(&sums[x0..x1]) {
        *o = ((s + bias) >> 2) as u8;
    }
}

/// Output columns `x0..x1` replicating each input sample `h` times.
pub(crate) fn replicate(input: &[u8], h: usize, out: &mut [u8], x0: usize, x1: usize) {
    for (x, o) in out[x0..x1].iter_mut().enumerate() {
        *o = input[((x0 + x) / h).min(input.len() - 1)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fancy_h2_matches_libjpeg_formula() {
        let input = [10u8, 20, 200, 0];
        let mut out = [0u8; 8];
        h2v1(&input, &mut out, 0, 8);
        assert_eq!(out, [10, 13, 17, 65, 155, 150, 50, 0]);
    }

    #[test]
    fn components_two_samples_wide_are_replicated_as_libjpeg_does() {
        assert_eq!(Upsample::choose(2, 2, true, 2), Upsample::Replicate { h: 2, v: 2 });
        assert_eq!(Upsample::choose(2, 1, true, 1), Upsample::Replicate { h: 2, v: 1 });
        assert_eq!(Upsample::choose(2, 2, true, 3), Upsample::H2V2);
        assert_eq!(Upsample::choose(2, 1, true, 3), Upsample::H2V1);
        // Vertical-only fancy upsampling has no width condition.
        assert_eq!(Upsample::choose(1, 2, true, 1), Upsample::H1V2);
        assert_eq!(Upsample::choose(2, 2, false, 100), Upsample::Replicate { h: 2, v: 2 });
    }

    #[test]
    fn fancy_h2v2_on_flat_rows_is_flat() {
        let near = [100u8; 5];
        let far = [100u8; 5];
        let mut sums = [0u16; 5];
        column_sums(&near, &far, &mut sums, 0, 5);
        let mut out = [0u8; 10];
        h2v2(&sums, 5, &mut out, 0, 10);
        assert!(out.iter().all(|&v| v == 100));
    }
}
