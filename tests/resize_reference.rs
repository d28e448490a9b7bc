//! The resize stage against a straightforward double-precision, whole-image reference resampler
//! written here, independently of the library code.
//!
//! The reference implements the same definition of the result:
//! * samples to values (sRGB decoded to linear light when asked; colour premultiplied by alpha);
//! * along each axis of `n` pixels onto `m`: unless the kernel is nearest, an integer box mean of
//!   `k = max(1, floor(n / 2m))` pixels (the last box partial), then the kernel with output pixel
//!   `i` centred at `(i + 0.5) * n / (k m)` in box units, stretched by `max(1, n / (k m))`, over
//!   every box pixel whose centre is strictly inside the support, weights normalised to sum 1;
//!   nearest takes the pixel under the centre; an axis whose size does not change is copied;
//! * alpha clamped, colour divided by alpha (zero where alpha rounds to 0), rounded, clamped.
//!
//! 8-bit results must be within 1 of the reference everywhere (colour compared where alpha is
//! not 0 on both sides). 16-bit results within 2/65535 (f32 arithmetic), colour compared where
//! alpha is at least 1/16.

use stripflow::ops::resize::{Kernel, Resize, ResizeOptions};
use stripflow::pipeline::{drain, MemorySource};
use stripflow::pixel::{BitDepth, ImageInfo, PixelFormat};
use stripflow::synth::Synthetic;
use stripflow::RowSource;

/// A whole image as a source.
type Image = MemorySource;

fn image(info: ImageInfo, data: Vec<u8>) -> Image {
    MemorySource::new(info, data).unwrap()
}

fn read_all(source: &mut dyn RowSource) -> Vec<u8> {
    let mut out = Vec::new();
    drain(source, 5, |s, _| {
        out.extend_from_slice(s);
        Ok(())
    })
    .unwrap();
    out
}

fn synthetic(width: u32, height: u32, format: PixelFormat, seed: u32) -> Image {
    let mut s = Synthetic::new(width, height, format, seed);
    let info = s.info();
    image(info, read_all(&mut s))
}

fn samples(info: &ImageInfo, data: &[u8]) -> Vec<f64> {
    match info.format.depth {
        BitDepth::Eight => data.iter().map(|&v| v as f64).collect(),
        BitDepth::Sixteen => data.chunks_exact(2).map(|b| u16::from_ne_bytes([b[0], b[1]]) as f64).collect(),
    }
}

// ---- the reference ----

fn kernel_weight(kernel: Kernel, x: f64) -> f64 {
    let x = x.abs();
    let cubic = |b: f64, c: f64| {
        if x < 1.0 {
            ((12.0 - 9.0 * b - 6.0 * c) * x.powi(3) + (-18.0 + 12.0 * b + 6.0 * c) * x * x + (6.0 - 2.0 * b)) / 6.0
        } else if x < 2.0 {
            ((-b - 6.0 * c) * x.powi(3) + (6.0 * b + 30.0 * c) * x * x + (-12.0 * b - 48.0 * c) * x + 8.0 * b + 24.0 * c)
                / 6.0
        } else {
            0.0
        }
    };
    let sinc = |v: f64| if v == 0.0 { 1.0 } else { (std::f64::consts::PI * v).sin() / (std::f64::consts::PI * v) };
    match kernel {
        Kernel::Nearest => unreachable!(),
        Kernel::Linear => (1.0 - x).max(0.0),
        Kernel::Cubic => cubic(0.0, 0.5),
        Kernel::Mitchell => cubic(1.0 / 3.0, 1.0 / 3.0),
        Kernel::Lanczos2 => if x < 2.0 { sinc(x) * sinc(x / 2.0) } else { 0.0 },
        Kernel::Lanczos3 => if x < 3.0 { sinc(x) * sinc(x / 3.0) } else { 0.0 },
    }
}

fn kernel_radius(kernel: Kernel) -> f64 {
    match kernel {
        Kernel::Nearest => 0.5,
        Kernel::Linear => 1.0,
        Kernel::Cubic | Kernel::Mitchell | Kernel::Lanczos2 => 2.0,
        Kernel::Lanczos3 => 3.0,
    }
}

/// For one axis of `n` pixels onto `m`: per output pixel, (input pixel, weight) pairs over the
/// ORIGINAL pixels (the box mean folded into the weights).
fn axis_weights(n: usize, m: usize, kernel: Kernel) -> Vec<Vec<(usize, f64)>> {
    let k = if kernel == Kernel::Nearest { 1 } else { (n / (2 * m)).max(1) };
    let boxes = n.div_ceil(k);
    let scale = n as f64 / (k as f64 * m as f64);
    let box_pixels = |b: usize| (b * k..((b + 1) * k).min(n)).collect::<Vec<_>>();
    (0..m)
        .map(|i| {
            let c = (i as f64 + 0.5) * scale;
            let mut taps: Vec<(usize, f64)> = Vec::new();
            if kernel == Kernel::Nearest || (n == m && k == 1) {
                let b = if n == m { i } else { (c.floor() as usize).min(boxes - 1) };
                taps.push((b, 1.0));
            } else {
                let stretch = scale.max(1.0);
                let support = kernel_radius(kernel) * stretch;
                for b in 0..boxes {
                    let d = b as f64 + 0.5 - c;
                    if d.abs() < support {
                        taps.push((b, kernel_weight(kernel, d / stretch)));
                    }
                }
                let sum: f64 = taps.iter().map(|t| t.1).sum();
                taps.iter_mut().for_each(|t| t.1 /= sum);
            }
            // Expand boxes to pixels.
            let mut out = Vec::new();
            for (b, w) in taps {
                let px = box_pixels(b);
                let share = w / px.len() as f64;
                out.extend(px.into_iter().map(|p| (p, share)));
            }
            out
        })
        .collect()
}

fn srgb_to_linear(v: f64) -> f64 {
    if v <= 0.04045 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
}

fn linear_to_srgb(v: f64) -> f64 {
    if v <= 0.0031308 { v * 12.92 } else { 1.055 * v.powf(1.0 / 2.4) - 0.055 }
}

/// The reference result as unrounded sample values (colour unpremultiplied), per sample.
fn reference(info: &ImageInfo, data: &[u8], w: usize, h: usize, options: &ResizeOptions) -> Vec<f64> {
    let (iw, ih) = (info.width as usize, info.height as usize);
    let ch = info.format.channels();
    let alpha = info.format.color.has_alpha();
    let colour = if alpha { ch - 1 } else { ch };
    let max = if info.format.depth == BitDepth::Eight { 255.0 } else { 65535.0 };
    let premultiply = alpha && options.premultiply_alpha;
    let mut v = samples(info, data);
    for px in v.chunks_exact_mut(ch) {
        if options.linear_light {
            for c in &mut px[..colour] {
                *c = srgb_to_linear(*c / max) * max;
            }
        }
        if premultiply {
            let a = px[ch - 1] / max;
            for c in &mut px[..colour] {
                *c *= a;
            }
        }
    }
    let wx = axis_weights(iw, w, options.kernel);
    let wy = axis_weights(ih, h, options.kernel);
    // Horizontal, then vertical.
    let mut across = vec![0.0; ih * w * ch];
    for y in 0..ih {
        for (x, taps) in wx.iter().enumerate() {
            for &(p, wt) in taps {
                for c in 0..ch {
                    across[(y * w + x) * ch + c] += wt * v[(y * iw + p) * ch + c];
                }
            }
        }
    }
    let mut out = vec![0.0; h * w * ch];
    for (y, taps) in wy.iter().enumerate() {
        for &(p, wt) in taps {
            for i in 0..w * ch {
                out[y * w * ch + i] += wt * across[p * w * ch + i];
            }
        }
    }
    for px in out.chunks_exact_mut(ch) {
        if premultiply {
            let a = px[ch - 1].clamp(0.0, max);
            px[ch - 1] = a;
            for c in &mut px[..colour] {
                *c = if a < 0.5 { 0.0 } else { *c * max / a };
            }
        }
        if options.linear_light {
            for c in &mut px[..colour] {
                *c = linear_to_srgb((*c / max).clamp(0.0, 1.0)) * max;
            }
        }
        for c in px.iter_mut() {
            *c = c.clamp(0.0, max);
        }
    }
    out
}

/// Resizes `image` with the stage and with the reference; panics past the tolerance. Returns the
/// largest difference.
fn compare(image: &Image, w: u32, h: u32, options: ResizeOptions) -> f64 {
    let info = image.info();
    let expected = reference(&info, &image.data(), w as usize, h as usize, &options);
    let mut stage = Resize::new(image.clone(), w, h, options).unwrap();
    let got_info = stage.info();
    assert_eq!((got_info.width, got_info.height, got_info.format), (w, h, info.format));
    let got = samples(&got_info, &read_all(&mut stage));
    assert_eq!(got.len(), expected.len());
    let ch = info.format.channels();
    let alpha = info.format.color.has_alpha();
    let eight = info.format.depth == BitDepth::Eight;
    let (tolerance, min_alpha) = if eight { (1.0, 0.5) } else { (2.0, 65535.0 / 16.0) };
    let mut worst = 0.0f64;
    for (i, (g, e)) in got.chunks_exact(ch).zip(expected.chunks_exact(ch)).enumerate() {
        for c in 0..ch {
            let is_colour = alpha && c < ch - 1;
            if is_colour && (g[ch - 1] < min_alpha || e[ch - 1].round() < min_alpha) {
                continue;
            }
            let diff = (g[c] - e[c].round()).abs();
            worst = worst.max(diff);
            assert!(
                diff <= tolerance,
                "{} {}x{} -> {w}x{h} {:?}: pixel ({}, {}) channel {c}: got {} expected {:.3}",
                info.format,
                info.width,
                info.height,
                options,
                i % w as usize,
                i / w as usize,
                g[c],
                e[c]
            );
        }
    }
    worst
}

/// (input, output) sizes covering the factors 1/1000, 1/7.3, 1/2, 1, 1.5, 3, 256, and odd sizes.
const CASES: [((u32, u32), (u32, u32)); 17] = [
    ((2000, 1000), (2, 1)),     // 1/1000
    ((146, 73), (20, 10)),      // 1/7.3
    ((64, 46), (32, 23)),       // 1/2
    ((31, 17), (31, 17)),       // 1
    ((20, 14), (30, 21)),       // 1.5
    ((11, 7), (33, 21)),        // 3
    ((3, 2), (768, 512)),       // 256
    ((300, 40), (300, 13)),     // one axis only
    ((1, 40), (1, 7)),          // 1xN
    ((40, 1), (9, 1)),          // Nx1
    ((1, 1), (1, 1)),
    ((1, 1), (5, 3)),
    ((7, 5), (1, 1)),
    ((1, 9), (13, 1)),
    ((9, 1), (1, 13)),
    ((1001, 3), (3, 1001)),     // down one way, up the other
    ((257, 199), (17, 13)),     // odd partial boxes
];

#[test]
fn every_kernel_every_factor_rgb8_and_rgba8() {
    for format in [PixelFormat::RGB8, PixelFormat::RGBA8] {
        for kernel in Kernel::ALL {
            for (n, &((iw, ih), (ow, oh))) in CASES.iter().enumerate() {
                let image = synthetic(iw, ih, format, n as u32);
                let options = ResizeOptions { kernel, ..Default::default() };
                compare(&image, ow, oh, options);
            }
        }
    }
}

#[test]
fn every_format_and_linear_light() {
    let formats = PixelFormat::ALL;
    let mut worst16 = 0.0f64;
    for format in formats {
        for linear_light in [false, true] {
            for premultiply_alpha in [true, false] {
                for kernel in [Kernel::Lanczos3, Kernel::Mitchell, Kernel::Linear] {
                    for &((iw, ih), (ow, oh)) in &[CASES[1], CASES[5], CASES[16], CASES[0]] {
                        let image = synthetic(iw, ih, format, 9);
                        let options = ResizeOptions { kernel, linear_light, premultiply_alpha };
                        let worst = compare(&image, ow, oh, options);
                        if format.depth == BitDepth::Sixteen {
                            worst16 = worst16.max(worst);
                        }
                    }
                }
            }
        }
    }
    println!("largest 16-bit difference from the reference: {worst16}");
}

fn solid(width: u32, height: u32, format: PixelFormat, pixel: &[u8]) -> Image {
    let data = pixel.iter().copied().cycle().take(pixel.len() * (width * height) as usize).collect();
    image(ImageInfo { width, height, format }, data)
}

#[test]
fn single_pixel_upscale_keeps_its_colour() {
    for (format, pixel) in [
        (PixelFormat::RGB8, vec![12u8, 200, 77]),
        (PixelFormat::RGBA8, vec![250, 3, 140, 90]),
        (PixelFormat::GRAY16, 43210u16.to_ne_bytes().to_vec()),
        (PixelFormat::RGBA16, [1u16, 65535, 30000, 20000].iter().flat_map(|v| v.to_ne_bytes()).collect()),
    ] {
        for kernel in Kernel::ALL {
            for linear_light in [false, true] {
                let options = ResizeOptions { kernel, linear_light, ..Default::default() };
                let mut r = Resize::new(solid(1, 1, format, &pixel), 37, 23, options).unwrap();
                let out = read_all(&mut r);
                for px in out.chunks_exact(pixel.len()) {
                    assert_eq!(px, &pixel[..], "{format} {kernel}");
                }
            }
        }
    }
}

#[test]
fn downscale_to_one_pixel_is_the_mean() {
    // With even sizes the box shrink leaves exactly two boxes each way, equal in size, and every
    // symmetric kernel weighs them equally: the result is the mean of the image.
    for format in [PixelFormat::RGB8, PixelFormat::GRAYA16] {
        let image = synthetic(400, 300, format, 5);
        let v = samples(&image.info(), &image.data());
        let ch = format.channels();
        let mean: Vec<f64> =
            (0..ch).map(|c| v.iter().skip(c).step_by(ch).sum::<f64>() / (400.0 * 300.0)).collect();
        for kernel in Kernel::ALL.into_iter().filter(|&k| k != Kernel::Nearest) {
            let options = ResizeOptions { kernel, premultiply_alpha: false, ..Default::default() };
            let mut r = Resize::new(image.clone(), 1, 1, options).unwrap();
            let got = samples(&r.info(), &read_all(&mut r));
            for c in 0..ch {
                assert!((got[c] - mean[c]).abs() <= 0.5 + 1e-3, "{format} {kernel} channel {c}: {} vs {}", got[c], mean[c]);
            }
        }
    }
}

/// An RGBA8 image: an opaque red square on fully transparent black.
fn red_square(size: u32, from: u32, to: u32) -> Image {
    let mut data = vec![0u8; (size * size * 4) as usize];
    for y in from..to {
        for x in from..to {
            let i = ((y * size + x) * 4) as usize;
            data[i..i + 4].copy_from_slice(&[255, 0, 0, 255]);
        }
    }
    image(ImageInfo { width: size, height: size, format: PixelFormat::RGBA8 }, data)
}

/// The largest departure from pure red over the pixels with alpha > 0.
fn fringe(image: &Image, size: u32, options: ResizeOptions) -> u8 {
    let mut r = Resize::new(image.clone(), size, size, options).unwrap();
    let out = read_all(&mut r);
    let mut worst = 0u8;
    let mut visible = 0;
    for px in out.chunks_exact(4) {
        if px[3] > 0 {
            visible += 1;
            worst = worst.max(255 - px[0]).max(px[1]).max(px[2]);
        }
    }
    assert!(visible > 0);
    worst
}

#[test]
fn premultiplied_alpha_leaves_no_dark_fringe() {
    let image = red_square(200, 61, 139);
    for kernel in Kernel::ALL {
        for linear_light in [false, true] {
            for size in [7, 13, 37, 99, 150, 601] {
                let options = ResizeOptions { kernel, linear_light, ..Default::default() };
                let worst = fringe(&image, size, options);
                assert!(worst <= 1, "{kernel} linear {linear_light} -> {size}: fringe {worst}");
            }
        }
    }
    // The check can fail: without premultiplication the black bleeds in.
    let straight = ResizeOptions { premultiply_alpha: false, ..Default::default() };
    assert!(fringe(&image, 37, straight) > 50);
}

#[test]
fn random_shapes_match_the_reference() {
    // A fixed xorshift sequence of sizes, kernels, formats and options.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let formats = PixelFormat::ALL;
    for case in 0..300 {
        let (iw, ih) = (1 + next(90) as u32, 1 + next(90) as u32);
        let (ow, oh) = (1 + next(120) as u32, 1 + next(120) as u32);
        let format = formats[next(8) as usize];
        let kernel = Kernel::ALL[next(6) as usize];
        let options = ResizeOptions { kernel, linear_light: next(4) == 0, premultiply_alpha: next(4) != 0 };
        let image = synthetic(iw, ih, format, case);
        compare(&image, ow, oh, options);
    }
}
