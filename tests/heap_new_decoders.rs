//! dhat heap tests of the BMP, GIF and WebP decoders: each decode's measured peak against the
//! heap its decoder plans (`heap_bytes`), and the streamed decoders flat as the height grows.
//!
//! * BMP, uncompressed: one row buffer, whatever the height (bottom-up files are read by
//!   position). RLE8: the index frame.
//! * GIF: page 0 streamed line by line (the gif crate's state and one line); an interlaced frame
//!   and a page past the first on the RGBA canvas.
//! * WebP (image-webp, whole frame): the frame plus image-webp's working memory, by kind
//!   (lossless RGB / RGBA, lossy RGB / RGBA when cwebp is installed, animation): the model must
//!   hold every peak and not be loose (peak >= 60 % of it): `docs/webp-decode-memory.md`.
//!
//! Each scenario runs in its own process (see `support/heap.rs`).

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod new_inputs;
mod support;

use new_inputs::*;
use stripflow::io::Input;
use stripflow::PixelFormat;
use support::heap::HeapTests;

/// Decodes page `page` row by row without holding the image; the measured peak is the decoder's,
/// the parsed header's and this one row's.
fn run_page(bytes: Vec<u8>, page: u32) {
    let input = Input::from_bytes(bytes);
    let header = stripflow::codec::registry::read_page_header(&input, page).unwrap();
    let decoder = stripflow::codec::registry::codec(header.format).decoder.unwrap();
    let mut source = decoder.build(input, &header, &request(header.info.height)).unwrap();
    let mut row = vec![0u8; source.info().row_bytes()];
    for _ in 0..source.info().height {
        source.read_row(&mut row).unwrap();
    }
}

fn run_streamed(bytes: Vec<u8>) {
    run_page(bytes, 0)
}

/// What a measured run holds beside the decoder: one row of `row_bytes` and the parsed header.
fn beside(row_bytes: usize) -> u64 {
    (row_bytes + 2048) as u64
}

fn gif_frame(width: u16, height: u16, interlaced: bool, seed: u8) -> GifFrameSpec {
    let indices = (0..width as usize * height as usize).map(|i| ((i * 7 + i / width as usize * 3) as u8).wrapping_add(seed)).collect();
    GifFrameSpec { rect: (0, 0, width, height), indices, transparent: None, dispose: gif::DisposalMethod::Keep, interlaced }
}

fn palette() -> Vec<u8> {
    (0..=255u8).flat_map(|i| [i, 255 - i, i / 2]).collect()
}

fn main() {
    let mut t = HeapTests::new();
    let dir = tempfile::tempdir().unwrap();

    // BMP 24-bit bottom-up, streamed: flat from 256 to 4096 rows; within its plan.
    let bmp = |height: u32| bmp24(1024, height, &synthetic(1024, height, PixelFormat::RGB8, 3), false);
    let short = t.measure("bmp24_short", || bmp(256), run_streamed);
    let tall = t.measure("bmp24_tall", || bmp(4096), run_streamed);
    t.check_flat("BMP 24-bit bottom-up streams: peak flat as the height grows", short, tall, 1024);
    t.check_at_most("BMP 24-bit within its plan", tall, planned_heap(&bmp(4096), 0).unwrap() as u64 + beside(3072));

    // BMP RLE8: the index frame, priced.
    let rle = || {
        let (w, h) = (1000u32, 600u32);
        let mut data = Vec::new();
        for y in 0..h {
            for x in (0..w).step_by(250) {
                data.extend_from_slice(&[250, ((x / 250 + y) % 4) as u8]);
            }
            data.extend_from_slice(&[0, 0]);
        }
        data.extend_from_slice(&[0, 1]);
        let palette: Vec<[u8; 4]> = (0..4u8).map(|i| [i * 60, 255 - i * 60, i, 0]).collect();
        let mut out = bmp_headers(w, h, 8, false, 1, data.len(), &palette);
        out.extend_from_slice(&data);
        out
    };
    let peak = t.measure("bmp_rle8", rle, run_streamed);
    t.check_at_most("BMP RLE8 within its plan", peak, planned_heap(&rle(), 0).unwrap() as u64 + beside(3000));

    // GIF page 0 streamed: flat; interlaced and page 2 on the canvas, within their plans.
    let gif = |height: u16, interlaced: bool, frames: u8| {
        let specs: Vec<_> = (0..frames).map(|s| gif_frame(1000, height, interlaced, s)).collect();
        gif_bytes(1000, height, &palette(), &specs)
    };
    let short = t.measure("gif_short", || gif(200, false, 1), run_streamed);
    let tall = t.measure("gif_tall", || gif(3000, false, 1), run_streamed);
    t.check_flat("GIF first frame streams: peak flat as the height grows", short, tall, 2048);
    t.check_at_most("GIF streamed within its plan", tall, planned_heap(&gif(3000, false, 1), 0).unwrap() as u64 + beside(3000));
    let peak = t.measure("gif_interlaced", || gif(1500, true, 1), run_streamed);
    t.check_at_most("GIF interlaced (canvas) within its plan", peak, planned_heap(&gif(1500, true, 1), 0).unwrap() as u64 + beside(3000));
    let peak = t.measure("gif_page2", || gif(1500, false, 3), |b| run_page(b, 2));
    t.check_at_most("GIF page 2 (canvas) within its plan", peak, planned_heap(&gif(1500, false, 3), 2).unwrap() as u64 + beside(4000));

    // WebP by kind: peak within the model, and the model not loose.
    let (w, h) = (1024u32, 768u32);
    let rgb = synthetic(w, h, PixelFormat::RGB8, 5);
    let rgba = synthetic(w, h, PixelFormat::RGBA8, 5);
    let mut cases: Vec<(&str, Vec<u8>)> =
        vec![("webp_lossless_rgb", webp_lossless(w, h, &rgb, false)), ("webp_lossless_rgba", webp_lossless(w, h, &rgba, true))];
    if let Some(b) = cwebp(dir.path(), "lossy_rgb", w, h, &rgb, false, 80) {
        cases.push(("webp_lossy_rgb", b));
    }
    if let Some(b) = cwebp(dir.path(), "lossy_rgba", w, h, &rgba, true, 80) {
        cases.push(("webp_lossy_rgba", b));
    }
    if have_pillow() {
        let png = dir.path().join("frame.png");
        let mut source = stripflow::pipeline::MemorySource::new(stripflow::ImageInfo { width: w, height: h, format: PixelFormat::RGB8 }, rgb.clone()).unwrap();
        stripflow::codec::png::PngEncoder::default().encode(&mut source, &mut std::fs::File::create(&png).unwrap()).unwrap();
        let anim = dir.path().join("anim.webp");
        python(&format!(
            "from PIL import Image, ImageOps\na=Image.open({:?}).convert('RGB')\nb=ImageOps.invert(a)\na.save({:?},save_all=True,append_images=[b,a],lossless=True)",
            png.to_str().unwrap(),
            anim.to_str().unwrap()
        ));
        cases.push(("webp_animated_page2", std::fs::read(&anim).unwrap()));
        python(&format!(
            "from PIL import Image, ImageOps\na=Image.open({:?}).convert('RGB')\nb=ImageOps.invert(a)\na.save({:?},save_all=True,append_images=[b,a],quality=80)",
            png.to_str().unwrap(),
            anim.to_str().unwrap()
        ));
        cases.push(("webp_animated_lossy_page2", std::fs::read(&anim).unwrap()));
    }
    for (name, bytes) in cases {
        let page = if name.contains("page2") { 2 } else { 0 };
        let model = planned_heap(&bytes, page).unwrap() as u64;
        let peak = t.measure(name, || bytes.clone(), |b| run_page(b, page));
        let row = w as usize * if name.contains("rgba") { 4 } else { 3 };
        t.check_at_most(&format!("{name} within its model"), peak, model + beside(row));
        if let Some(peak) = peak {
            let ratio = peak as f64 / model as f64;
            println!("{name}: peak {peak} model {model} ratio {ratio:.2}");
            t.check(&format!("{name} model is tight"), ratio >= 0.6, &format!("ratio {ratio:.2}"));
        }
    }
    t.finish();
}
