//! A procedural, photo-like image source: the built-in sample of `stripflow demo`, and the
//! generator of the big test and benchmark images (which are never committed).
//!
//! Each channel is a sum of smooth waves across x and y, a product term that makes diagonal
//! structure, and a little hashed noise, so the image compresses like a photograph (neither flat
//! nor random). Every row is a pure function of `(width, height, seed, y)`, so the generator is
//! deterministic and holds only per-column tables: O(width) memory for any height.
//!
//! [`Noise`] is the opposite: uniform random bytes, the worst case for compressors and for
//! encoders whose memory depends on the content (libwebp's token buffer).

use crate::error::{Error, Result};
use crate::pipeline::{RowCounter, RowSource};
use crate::pixel::{BitDepth, ImageInfo, PixelFormat};

/// A deterministic photo-like image of any size and pixel format.
#[derive(Debug, Clone)]
pub struct Synthetic {
    info: ImageInfo,
    seed: u32,
    rows: RowCounter,
    /// Per channel (up to 4), per column: the additive wave, 0..=128.
    column_wave: Vec<[u16; 4]>,
    /// Per channel, per column: the factor of the diagonal product term, 0..=63.
    column_factor: Vec<[u16; 4]>,
}

impl Synthetic {
    /// A generator of `width` x `height` pixels in `format`; `seed` varies the picture.
    ///
    /// # Panics
    /// Never; a zero dimension is clamped to 1 (use [`Synthetic::try_new`] to reject it).
    pub fn new(width: u32, height: u32, format: PixelFormat, seed: u32) -> Self {
        Self::try_new(width.max(1), height.max(1), format, seed).expect("non-zero size")
    }

    /// Like [`Synthetic::new`], but a zero dimension is an error.
    pub fn try_new(width: u32, height: u32, format: PixelFormat, seed: u32) -> Result<Self> {
        if width == 0 || height == 0 {
            return Err(Error::parameter("synthetic image must be at least 1x1"));
        }
        let mut column_wave = Vec::with_capacity(width as usize);
        let mut column_factor = Vec::with_capacity(width as usize);
        let fx = 1.0 / width as f64;
        for x in 0..width {
            let t = (x as f64 + 0.5) * fx;
            let mut wave = [0u16; 4];
            let mut factor = [0u16; 4];
            for c in 0..4 {
                let phase = c as f64 * 1.7 + seed as f64 * 0.37;
                let w = 0.5
                    + 0.30 * (t * (3.0 + c as f64) * std::f64::consts::TAU + phase).sin()
                    + 0.20 * (t * 37.0 * std::f64::consts::TAU + phase * 2.0).sin();
                wave[c] = (w.clamp(0.0, 1.0) * 128.0) as u16;
                let f = 0.5 + 0.5 * (t * (11.0 + 2.0 * c as f64) * std::f64::consts::TAU - phase).cos();
                factor[c] = (f * 63.0) as u16;
            }
            column_wave.push(wave);
            column_factor.push(factor);
        }
        Ok(Synthetic {
            info: ImageInfo { width, height, format },
            seed,
            rows: RowCounter::new(height),
            column_wave,
            column_factor,
        })
    }

    /// The 8-bit value of channel `c` at column `x`, given the row terms.
    #[inline]
    fn sample(&self, x: usize, c: usize, row_wave: u16, row_factor: u16, noise: u32) -> u16 {
        let v = self.column_wave[x][c] + row_wave / 2 + ((self.column_factor[x][c] * row_factor) >> 6);
        // v <= 128 + 64 + 62; spread onto 0..=255 with noise in the low bits.
        let v = (v as u32 * 255 / 254).min(255);
        ((v & !7) | (noise & 7)) as u16
    }
}

/// A cheap integer hash of a pixel position, for the noise term.
#[inline]
fn hash(x: u32, y: u32, seed: u32) -> u32 {
    let mut h = x.wrapping_mul(0x9E37_79B1) ^ y.wrapping_mul(0x85EB_CA77) ^ seed.wrapping_mul(0xC2B2_AE3D);
    h ^= h >> 15;
    h = h.wrapping_mul(0x2C1B_3C6D);
    h ^= h >> 12;
    h
}

impl RowSource for Synthetic {
    fn info(&self) -> ImageInfo {
        self.info
    }

    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        if row.len() != self.info.row_bytes() {
            return Err(Error::parameter("row buffer has the wrong length"));
        }
        let y = self.rows.advance()?;
        let ty = (y as f64 + 0.5) / self.info.height as f64;
        let mut row_wave = [0u16; 4];
        let mut row_factor = [0u16; 4];
        for c in 0..4 {
            let phase = c as f64 * 2.3 + self.seed as f64 * 0.11;
            let w = 0.5 + 0.5 * (ty * (2.0 + c as f64) * std::f64::consts::TAU + phase).sin();
            row_wave[c] = (w * 128.0) as u16;
            let f = 0.5 + 0.5 * (ty * (13.0 + c as f64) * std::f64::consts::TAU + phase).sin();
            row_factor[c] = (f * 63.0) as u16;
        }
        let channels = self.info.format.channels();
        let has_alpha = self.info.format.color.has_alpha();
        let colour_channels = if has_alpha { channels - 1 } else { channels };
        let width = self.info.width as usize;
        let cx = width as i64 / 2;
        let cy = self.info.height as i64 / 2;
        let radius = (width.min(self.info.height as usize) as i64 * 2 / 5).max(1);
        let dy = y as i64 - cy;
        match self.info.format.depth {
            BitDepth::Eight => {
                for (x, px) in row.chunks_exact_mut(channels).enumerate() {
                    let noise = hash(x as u32, y, self.seed);
                    for c in 0..colour_channels {
                        px[c] = self.sample(x, c, row_wave[c], row_factor[c], noise >> (3 * c)) as u8;
                    }
                    if has_alpha {
                        px[channels - 1] = alpha_at(x as i64 - cx, dy, radius);
                    }
                }
            }
            BitDepth::Sixteen => {
                let samples: &mut [u16] = bytemuck::cast_slice_mut(row);
                for (x, px) in samples.chunks_exact_mut(channels).enumerate() {
                    let noise = hash(x as u32, y, self.seed);
                    for c in 0..colour_channels {
                        let v = self.sample(x, c, row_wave[c], row_factor[c], noise >> (3 * c));
                        px[c] = (v << 8) | ((noise >> (8 + 2 * c)) & 0xff) as u16;
                    }
                    if has_alpha {
                        px[channels - 1] = alpha_at(x as i64 - cx, dy, radius) as u16 * 257;
                    }
                }
            }
        }
        Ok(())
    }

    fn buffer_bytes(&self) -> usize {
        self.column_wave.capacity() * std::mem::size_of::<[u16; 4]>() * 2
    }

    fn name(&self) -> &'static str {
        "synthetic"
    }
}

/// Alpha of a soft-edged disc: opaque inside, transparent outside, a ramp between.
fn alpha_at(dx: i64, dy: i64, radius: i64) -> u8 {
    let d2 = dx * dx + dy * dy;
    let inner = radius * radius;
    let outer = (radius + radius / 8 + 1) * (radius + radius / 8 + 1);
    if d2 <= inner {
        255
    } else if d2 >= outer {
        0
    } else {
        (255 - (d2 - inner) * 255 / (outer - inner)) as u8
    }
}

/// Uniform random bytes of any size and pixel format (a 64-bit LCG, top byte per sample):
/// deterministic for a seed, no buffers.
#[derive(Debug, Clone)]
pub struct Noise {
    info: ImageInfo,
    state: u64,
}

impl Noise {
    /// Noise of `info`'s size and format from `seed`.
    pub fn new(info: ImageInfo, seed: u64) -> Noise {
        Noise { info, state: seed }
    }
}

impl RowSource for Noise {
    fn info(&self) -> ImageInfo {
        self.info
    }
    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        for b in row.iter_mut() {
            self.state = self.state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            *b = (self.state >> 56) as u8;
        }
        Ok(())
    }
    fn buffer_bytes(&self) -> usize {
        0
    }
    fn name(&self) -> &'static str {
        "noise"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_not_flat() {
        let mut a = Synthetic::new(300, 200, PixelFormat::RGB8, 7);
        let mut b = Synthetic::new(300, 200, PixelFormat::RGB8, 7);
        let mut ra = vec![0; 900];
        let mut rb = vec![0; 900];
        let mut distinct = std::collections::HashSet::new();
        for _ in 0..200 {
            a.read_row(&mut ra).unwrap();
            b.read_row(&mut rb).unwrap();
            assert_eq!(ra, rb);
            distinct.extend(ra.iter().copied());
        }
        assert!(distinct.len() > 100, "only {} distinct values", distinct.len());
        assert!(a.read_row(&mut ra).is_err(), "a row past the end must be refused");
    }

    #[test]
    fn alpha_has_opaque_and_transparent_parts() {
        let mut s = Synthetic::new(64, 64, PixelFormat::RGBA8, 1);
        let mut row = vec![0; 256];
        let mut seen = [false; 2];
        for _ in 0..64 {
            s.read_row(&mut row).unwrap();
            for px in row.chunks_exact(4) {
                seen[0] |= px[3] == 0;
                seen[1] |= px[3] == 255;
            }
        }
        assert_eq!(seen, [true, true]);
    }
}
