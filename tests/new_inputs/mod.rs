//! Shared support of the BMP, GIF and WebP input tests: inputs made at test time (our own BMP
//! writer, the gif crate's encoder, image-webp's lossless encoder, cwebp and Pillow when
//! installed) and a decode through the registry as a job does it.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use stripflow::codec::registry;
use stripflow::codec::{DecodeRequest, FailOn};
use stripflow::io::Input;
use stripflow::synth::Synthetic;
use stripflow::{ImageInfo, PixelFormat, Result, RowSource};

/// The request of a whole-image decode.
pub fn request(height: u32) -> DecodeRequest {
    DecodeRequest { shrink: 1, region: None, rows_needed: height, fail_on: FailOn::default(), cmyk: false, threads: 1 }
}

/// The planned heap of decoding page `page` of `bytes` (the decoder's `heap_bytes`).
pub fn planned_heap(bytes: &[u8], page: u32) -> Result<usize> {
    let input = Input::from_bytes(bytes.to_vec());
    let header = registry::read_page_header(&input, page)?;
    let decoder = registry::codec(header.format).decoder.expect("a decoder");
    decoder.heap_bytes(&input, &header, &request(header.info.height))
}

/// Decodes page `page` of `input` through the registry: its info and every row.
pub fn decode_input(input: Input, page: u32) -> Result<(ImageInfo, Vec<u8>)> {
    let header = registry::read_page_header(&input, page)?;
    let decoder = registry::codec(header.format).decoder.expect("a decoder");
    let mut source = decoder.build(input, &header, &request(header.info.height))?;
    let info = source.info();
    let mut pixels = vec![0u8; info.row_bytes() * info.height as usize];
    for row in pixels.chunks_exact_mut(info.row_bytes().max(1)) {
        source.read_row(row)?;
    }
    Ok((info, pixels))
}

/// [`decode_input`] of bytes.
pub fn decode(bytes: &[u8], page: u32) -> Result<(ImageInfo, Vec<u8>)> {
    decode_input(Input::from_bytes(bytes.to_vec()), page)
}

/// A synthetic RGB or RGBA frame (stripflow's test pattern).
pub fn synthetic(width: u32, height: u32, format: PixelFormat, seed: u32) -> Vec<u8> {
    let mut source = Synthetic::new(width, height, format, seed);
    let mut pixels = vec![0u8; format.row_bytes(width) * height as usize];
    for row in pixels.chunks_exact_mut(format.row_bytes(width)) {
        source.read_row(row).unwrap();
    }
    pixels
}

/// A 24-bit BMP (BITMAPINFOHEADER), bottom-up unless `top_down`, of RGB `pixels`.
pub fn bmp24(width: u32, height: u32, pixels: &[u8], top_down: bool) -> Vec<u8> {
    let stride = (width as usize * 3).div_ceil(4) * 4;
    let mut out = bmp_headers(width, height, 24, top_down, 0, stride * height as usize, &[]);
    for y in 0..height as usize {
        let src = if top_down { y } else { height as usize - 1 - y };
        let row = &pixels[src * width as usize * 3..][..width as usize * 3];
        for p in row.chunks_exact(3) {
            out.extend_from_slice(&[p[2], p[1], p[0]]);
        }
        out.resize(out.len() + stride - width as usize * 3, 0);
    }
    out
}

/// File header and BITMAPINFOHEADER (40 bytes) for `bits` a pixel with `palette` (BGRX entries),
/// compression `compression` and `data_len` bytes of pixel data to follow.
pub fn bmp_headers(width: u32, height: u32, bits: u16, top_down: bool, compression: u32, data_len: usize, palette: &[[u8; 4]]) -> Vec<u8> {
    let offset = 14 + 40 + 4 * palette.len();
    let mut out = Vec::with_capacity(offset + data_len);
    out.extend_from_slice(b"BM");
    out.extend_from_slice(&((offset + data_len) as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(offset as u32).to_le_bytes());
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&(width as i32).to_le_bytes());
    let h = if top_down { -(height as i32) } else { height as i32 };
    out.extend_from_slice(&h.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(&compression.to_le_bytes());
    out.extend_from_slice(&(data_len as u32).to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&(palette.len() as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    for entry in palette {
        out.extend_from_slice(entry);
    }
    out
}

/// One GIF frame for [`gif_bytes`].
pub struct GifFrameSpec {
    /// Left, top, width, height on the screen.
    pub rect: (u16, u16, u16, u16),
    /// Palette indices, `width * height`, top row first (interlaced files are stored in pass order).
    pub indices: Vec<u8>,
    /// Transparent index.
    pub transparent: Option<u8>,
    /// Disposal method.
    pub dispose: gif::DisposalMethod,
    /// Interlaced storage.
    pub interlaced: bool,
}

/// A GIF of `frames` on a `width` x `height` screen with a global `palette` (RGB triples).
pub fn gif_bytes(width: u16, height: u16, palette: &[u8], frames: &[GifFrameSpec]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut out, width, height, palette).unwrap();
        for f in frames {
            let (left, top, w, h) = f.rect;
            let mut frame = gif::Frame { left, top, width: w, height: h, ..Default::default() };
            // The encoder writes the buffer as given: an interlaced frame's lines go in pass order.
            frame.buffer = if f.interlaced {
                let passes = [(0usize, 8usize), (4, 8), (2, 4), (1, 2)];
                let rows = passes.iter().flat_map(|&(start, step)| (start..h as usize).step_by(step));
                std::borrow::Cow::Owned(rows.flat_map(|y| f.indices[y * w as usize..][..w as usize].iter().copied()).collect())
            } else {
                std::borrow::Cow::Borrowed(&f.indices)
            };
            frame.transparent = f.transparent;
            frame.dispose = f.dispose;
            frame.interlaced = f.interlaced;
            encoder.write_frame(&frame).unwrap();
        }
    }
    out
}

/// A lossless WebP of `pixels` (RGB8 or RGBA8) by image-webp's encoder.
pub fn webp_lossless(width: u32, height: u32, pixels: &[u8], alpha: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let color = if alpha { image_webp::ColorType::Rgba8 } else { image_webp::ColorType::Rgb8 };
    image_webp::WebPEncoder::new(&mut out).encode(pixels, width, height, color).unwrap();
    out
}

/// Whether `program` runs (else the test prints a note and skips that part).
pub fn have(program: &str) -> bool {
    let ok = Command::new(program).arg("-version").output().is_ok() || Command::new(program).arg("--version").output().is_ok();
    if !ok {
        eprintln!("note: {program} is not installed; skipping the part that needs it");
    }
    ok
}

/// Whether python3 with Pillow runs.
pub fn have_pillow() -> bool {
    let ok = Command::new("python3").args(["-c", "import PIL"]).status().is_ok_and(|s| s.success());
    if !ok {
        eprintln!("note: Pillow (python3 -c 'import PIL') is not installed; skipping the part that needs it");
    }
    ok
}

/// Runs a Python script with Pillow; panics with its stderr if it fails.
pub fn python(script: &str) {
    let out = Command::new("python3").args(["-c", script]).output().expect("python3");
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// RGB8 or RGBA8 pixels of an image file as Pillow decodes it (frame `page`), in `mode`.
pub fn pillow_pixels(path: &Path, page: u32, mode: &str) -> Vec<u8> {
    let raw = path.with_extension(format!("{page}.{mode}.raw"));
    python(&format!(
        "from PIL import Image\nim=Image.open({:?})\nim.seek({page})\nopen({:?},'wb').write(im.convert({mode:?}).tobytes())",
        path.to_str().unwrap(),
        raw.to_str().unwrap()
    ));
    std::fs::read(raw).unwrap()
}

/// A lossy WebP of RGB(A) `pixels` by cwebp at `quality` (None if cwebp is missing).
pub fn cwebp(dir: &Path, name: &str, width: u32, height: u32, pixels: &[u8], alpha: bool, quality: u8) -> Option<Vec<u8>> {
    if !have("cwebp") {
        return None;
    }
    let png = dir.join(format!("{name}.png"));
    let format = if alpha { PixelFormat::RGBA8 } else { PixelFormat::RGB8 };
    let mut source = stripflow::pipeline::MemorySource::new(ImageInfo { width, height, format }, pixels.to_vec()).unwrap();
    let mut file = std::fs::File::create(&png).unwrap();
    stripflow::codec::png::PngEncoder::default().encode(&mut source, &mut file).unwrap();
    let webp = dir.join(format!("{name}.webp"));
    let status = Command::new("cwebp")
        .args(["-quiet", "-q", &quality.to_string(), png.to_str().unwrap(), "-o", webp.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    Some(std::fs::read(webp).unwrap())
}

/// PSNR in dB of two equal-length byte buffers.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mse = a.iter().zip(b).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum::<f64>() / a.len() as f64;
    if mse == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (255.0f64 * 255.0 / mse).log10()
}
