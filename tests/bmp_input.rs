//! BMP input: decoded pixel-exact against independent decoders and known pixels, every header
//! kind and bit depth, and hostile files as typed errors, never a panic.

mod new_inputs;

use new_inputs::*;
use stripflow::{ErrorKind, PixelFormat};

/// A little noise (an LCG), for pixels and cut points.
fn lcg(seed: &mut u64) -> u32 {
    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (*seed >> 33) as u32
}

/// BITMAPV5HEADER file of 32-bit BGRA pixels with the given masks (compression BI_BITFIELDS).
fn bmp_v5_32(width: u32, height: u32, pixels_bgra: &[u8], masks: [u32; 4]) -> Vec<u8> {
    let offset = 14 + 124;
    let mut out = Vec::new();
    out.extend_from_slice(b"BM");
    out.extend_from_slice(&((offset + pixels_bgra.len()) as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(offset as u32).to_le_bytes());
    let mut dib = vec![0u8; 124];
    dib[0..4].copy_from_slice(&124u32.to_le_bytes());
    dib[4..8].copy_from_slice(&(width as i32).to_le_bytes());
    dib[8..12].copy_from_slice(&(-(height as i32)).to_le_bytes());
    dib[12..14].copy_from_slice(&1u16.to_le_bytes());
    dib[14..16].copy_from_slice(&32u16.to_le_bytes());
    dib[16..20].copy_from_slice(&3u32.to_le_bytes());
    for (i, m) in masks.iter().enumerate() {
        dib[40 + 4 * i..44 + 4 * i].copy_from_slice(&m.to_le_bytes());
    }
    out.extend_from_slice(&dib);
    out.extend_from_slice(pixels_bgra);
    out
}

#[test]
fn top_down_and_bottom_up_24_bit_decode_to_the_source() {
    let (w, h) = (37, 23);
    let rgb = synthetic(w, h, PixelFormat::RGB8, 9);
    for top_down in [false, true] {
        let (info, pixels) = decode(&bmp24(w, h, &rgb, top_down), 0).unwrap();
        assert_eq!((info.width, info.height, info.format), (w, h, PixelFormat::RGB8));
        assert_eq!(pixels, rgb, "top_down {top_down}");
    }
}

#[test]
fn palette_depths_and_os2_core_headers_decode_to_known_pixels() {
    let (w, h) = (13u32, 5u32);
    let palette: Vec<[u8; 4]> = (0..16u8).map(|i| [i * 16, 255 - i * 16, i * 3, 0]).collect();
    let index = |x: u32, y: u32| ((x * 3 + y * 5) % 16) as u8;
    let expected: Vec<u8> = (0..h).flat_map(|y| (0..w).flat_map(move |x| {
        let i = index(x, y) as usize;
        [i as u8 * 3, 255 - i as u8 * 16, i as u8 * 16]
    })).collect();
    // 4 bits: two pixels a byte, rows padded to 4 bytes, bottom-up.
    let stride = (w as usize * 4).div_ceil(32) * 4;
    let mut data = vec![0u8; stride * h as usize];
    for y in 0..h {
        for x in 0..w {
            let at = (h - 1 - y) as usize * stride + x as usize / 2;
            data[at] |= index(x, y) << if x % 2 == 0 { 4 } else { 0 };
        }
    }
    let mut file = bmp_headers(w, h, 4, false, 0, data.len(), &palette);
    file.extend_from_slice(&data);
    assert_eq!(decode(&file, 0).unwrap().1, expected);
    // 8 bits with an OS/2 core header (12 bytes, 3-byte palette entries).
    let stride = (w as usize).div_ceil(4) * 4;
    let mut os2 = Vec::new();
    let offset = 14 + 12 + 3 * 16;
    os2.extend_from_slice(b"BM");
    os2.extend_from_slice(&((offset + stride * h as usize) as u32).to_le_bytes());
    os2.extend_from_slice(&[0; 4]);
    os2.extend_from_slice(&(offset as u32).to_le_bytes());
    os2.extend_from_slice(&12u32.to_le_bytes());
    os2.extend_from_slice(&(w as u16).to_le_bytes());
    os2.extend_from_slice(&(h as u16).to_le_bytes());
    os2.extend_from_slice(&1u16.to_le_bytes());
    os2.extend_from_slice(&8u16.to_le_bytes());
    for p in &palette {
        os2.extend_from_slice(&p[..3]);
    }
    for y in (0..h).rev() {
        let mut row: Vec<u8> = (0..w).map(|x| index(x, y)).collect();
        row.resize(stride, 0);
        os2.extend_from_slice(&row);
    }
    let (info, pixels) = decode(&os2, 0).unwrap();
    assert_eq!(info.format, PixelFormat::RGB8);
    assert_eq!(pixels, expected);
}

#[test]
fn sixteen_and_thirty_two_bit_masks_and_alpha() {
    let (w, h) = (6u32, 3u32);
    // 16-bit 5-6-5 bit fields (BITMAPINFOHEADER + 3 masks), bottom-up.
    let mut seed = 7;
    let px: Vec<u16> = (0..w * h).map(|_| lcg(&mut seed) as u16).collect();
    let stride = (w as usize * 2).div_ceil(4) * 4;
    let masks = [0xf800u32, 0x07e0, 0x001f];
    let mut data = vec![0u8; stride * h as usize];
    for y in 0..h as usize {
        for x in 0..w as usize {
            data[(h as usize - 1 - y) * stride + 2 * x..][..2].copy_from_slice(&px[y * w as usize + x].to_le_bytes());
        }
    }
    let mut file = bmp_headers(w, h, 16, false, 3, data.len() + 12, &[]);
    let pixel_offset = u32::from_le_bytes(file[10..14].try_into().unwrap()) + 12;
    file[10..14].copy_from_slice(&pixel_offset.to_le_bytes());
    for m in masks {
        file.extend_from_slice(&m.to_le_bytes());
    }
    file.extend_from_slice(&data);
    let expected: Vec<u8> = px
        .iter()
        .flat_map(|&p| {
            let p = p as u32;
            [((p >> 11) * 255 / 31) as u8, (((p >> 5) & 63) * 255 / 63) as u8, ((p & 31) * 255 / 31) as u8]
        })
        .collect();
    assert_eq!(decode(&file, 0).unwrap().1, expected);

    // 32-bit V5 with an alpha mask: RGBA as stored.
    let bgra: Vec<u8> = (0..w * h * 4).map(|_| lcg(&mut seed) as u8).collect();
    let file = bmp_v5_32(w, h, &bgra, [0x00ff_0000, 0x0000_ff00, 0x0000_00ff, 0xff00_0000]);
    let (info, pixels) = decode(&file, 0).unwrap();
    assert_eq!(info.format, PixelFormat::RGBA8);
    let rgba: Vec<u8> = bgra.chunks_exact(4).flat_map(|p| [p[2], p[1], p[0], p[3]]).collect();
    assert_eq!(pixels, rgba);

    // 32-bit BI_RGB whose fourth byte is all zero: opaque (as browsers do); not all zero: alpha.
    let stride = w as usize * 4;
    let mut zero = bgra.clone();
    zero.chunks_exact_mut(4).for_each(|p| p[3] = 0);
    for (bytes, opaque) in [(zero, true), (bgra.clone(), false)] {
        let mut file = bmp_headers(w, h, 32, true, 0, stride * h as usize, &[]);
        file.extend_from_slice(&bytes);
        let (info, pixels) = decode(&file, 0).unwrap();
        assert_eq!(info.format, PixelFormat::RGBA8);
        let want: Vec<u8> = bytes.chunks_exact(4).flat_map(|p| [p[2], p[1], p[0], if opaque { 255 } else { p[3] }]).collect();
        assert_eq!(pixels, want, "opaque {opaque}");
    }
}

/// RLE8: runs, a literal run, a delta (the skipped pixels keep index 0), end of line, end of
/// bitmap.
fn rle8_file() -> (Vec<u8>, Vec<u8>) {
    let (w, h) = (8u32, 3u32);
    let palette: Vec<[u8; 4]> = (0..4u8).map(|i| [i * 10, i * 20, i * 30, 0]).collect();
    // Stored rows bottom-up: row 2 (bottom) first.
    let data = [
        3, 1, 0, 3, 2, 3, 1, 0, 2, 2, 0, 0, // bottom: 1 1 1 2 3 1 2 2, then EOL
        0, 2, 4, 0, 4, 3, 0, 0, // middle: delta +4 (0 0 0 0) then 3 3 3 3, EOL
        8, 2, 0, 1, // top: 2 x8, end of bitmap
    ];
    let mut file = bmp_headers(w, h, 8, false, 1, data.len(), &palette);
    file.extend_from_slice(&data);
    let indices = [[2u8; 8], [0, 0, 0, 0, 3, 3, 3, 3], [1, 1, 1, 2, 3, 1, 2, 2]];
    let rgb = indices.iter().flatten().flat_map(|&i| [i * 30, i * 20, i * 10]).collect();
    (file, rgb)
}

#[test]
fn rle8_runs_literals_and_deltas_decode() {
    let (file, rgb) = rle8_file();
    assert_eq!(decode(&file, 0).unwrap().1, rgb);
}

#[test]
fn hostile_files_are_typed_errors() {
    let (w, h) = (4u32, 2u32);
    // A palette index past the palette (2 colours, index 7).
    let mut file = bmp_headers(w, h, 8, false, 0, 8, &[[0, 0, 0, 0], [255, 255, 255, 0]]);
    file.extend_from_slice(&[0, 1, 7, 0, 0, 1, 1, 0]);
    let e = decode(&file, 0).unwrap_err();
    assert!(e.kind() == ErrorKind::Format && e.to_string().contains("palette index 7"), "{e}");
    // Truncated pixel data.
    let whole = bmp24(w, h, &synthetic(w, h, PixelFormat::RGB8, 1), false);
    let e = decode(&whole[..whole.len() - 5], 0).unwrap_err();
    assert!(e.kind() == ErrorKind::Format && e.to_string().contains("truncated"), "{e}");
    // A delta past the last row; RLE data without its end.
    let (rle, _) = rle8_file();
    let mut bad = rle.clone();
    let at = bad.len() - 24 + 15; // the delta's dy
    bad[at] = 9;
    let e = decode(&bad, 0).unwrap_err();
    assert!(e.kind() == ErrorKind::Format && e.to_string().contains("delta"), "{e}");
    assert_eq!(decode(&rle[..rle.len() - 2], 0).unwrap_err().kind(), ErrorKind::Format);
    // Unknown DIB header size, zero width, two planes.
    for (at, value) in [(14usize, 41u8), (18, 0), (26, 2)] {
        let mut bad = whole.clone();
        bad[at] = value;
        if at == 18 {
            bad[19..22].fill(0);
        }
        let e = decode(&bad, 0).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Format, "{e}");
    }
    // Embedded JPEG: unsupported, named.
    let mut jpeg = whole.clone();
    jpeg[30] = 4;
    let e = decode(&jpeg, 0).unwrap_err();
    assert!(e.kind() == ErrorKind::Unsupported && e.to_string().contains("JPEG"), "{e}");
}

#[test]
fn cut_and_flipped_files_never_panic() {
    let (rle, _) = rle8_file();
    let mut seed = 11;
    let samples = [
        bmp24(9, 7, &synthetic(9, 7, PixelFormat::RGB8, 2), false),
        bmp_v5_32(5, 4, &(0..80).map(|i| i as u8).collect::<Vec<_>>(), [0xff0000, 0xff00, 0xff, 0xff000000]),
        rle,
    ];
    for sample in &samples {
        for cut in 0..sample.len() {
            let _ = decode(&sample[..cut], 0);
        }
        for _ in 0..400 {
            let mut bytes = sample.clone();
            for _ in 0..1 + lcg(&mut seed) % 3 {
                let at = lcg(&mut seed) as usize % bytes.len();
                bytes[at] ^= 1 << (lcg(&mut seed) % 8);
            }
            if let Ok(size) = planned_heap(&bytes, 0) {
                if size > 64 << 20 {
                    continue; // a flipped size the planner would refuse
                }
            }
            let _ = decode(&bytes, 0);
        }
    }
}

#[test]
fn pillow_and_imagemagick_files_decode_like_pillow() {
    if !have_pillow() || !have("convert") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let script = format!(
        "from PIL import Image\nimport random\nrandom.seed(3)\nw,h=41,29\nim=Image.frombytes('RGB',(w,h),bytes(random.randrange(256) for _ in range(w*h*3)))\nim.save('{0}/src.png')\nim.save('{0}/rgb24.bmp')\nim.quantize(200).save('{0}/p8.bmp')\nim.convert('1').save('{0}/p1.bmp')\nim.quantize(200).save('{0}/p8.png')\nImage.frombytes('RGBA',(w,h),bytes(random.randrange(256) for _ in range(w*h*4))).save('{0}/rgba.png')",
        d.display()
    );
    python(&script);
    let magick = |args: &[&str]| assert!(std::process::Command::new("convert").args(args).status().unwrap().success());
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    magick(&[&p("p8.png"), "-compress", "RLE", &format!("BMP3:{}", p("rle8.bmp"))]);
    magick(&[&p("src.png"), "-define", "bmp:subtype=RGB565", &p("rgb565.bmp")]);
    magick(&[&p("src.png"), "-define", "bmp:subtype=RGB555", &p("rgb555.bmp")]);
    magick(&[&p("rgba.png"), &p("argb32.bmp")]);
    magick(&[&p("src.png"), &format!("BMP2:{}", p("bmp2.bmp"))]);
    for name in ["rgb24.bmp", "p8.bmp", "p1.bmp", "rle8.bmp", "rgb565.bmp", "rgb555.bmp", "argb32.bmp", "bmp2.bmp"] {
        let bytes = std::fs::read(d.join(name)).unwrap();
        let (info, ours) = decode(&bytes, 0).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mode = if info.format == PixelFormat::RGBA8 { "RGBA" } else { "RGB" };
        let reference = pillow_pixels(&d.join(name), 0, mode);
        assert_eq!(ours.len(), reference.len(), "{name}");
        let differing = ours.iter().zip(&reference).filter(|(a, b)| a != b).count();
        assert_eq!(differing, 0, "{name}: {differing} bytes differ from Pillow's decode");
    }
}
