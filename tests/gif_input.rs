//! GIF input: the first frame and composited pages against Pillow and against pixels computed
//! here, interlaced frames, transparency, disposal, frame counts, and damaged files as typed
//! errors, never a panic.

mod new_inputs;

use gif::DisposalMethod;
use new_inputs::*;
use stripflow::{ErrorKind, PixelFormat};

fn palette() -> Vec<u8> {
    (0..=255u8).flat_map(|i| [i, 255 - i, i.wrapping_mul(7)]).collect()
}

fn frame(rect: (u16, u16, u16, u16), seed: u8, transparent: Option<u8>, dispose: DisposalMethod, interlaced: bool) -> GifFrameSpec {
    let n = rect.2 as usize * rect.3 as usize;
    let indices = (0..n).map(|i| ((i * 13 + i / 7) as u8).wrapping_add(seed)).collect();
    GifFrameSpec { rect, indices, transparent, dispose, interlaced }
}

/// Composites `frames` as a browser does, independently of the decoder: RGBA.
fn composite(width: usize, height: usize, palette: &[u8], frames: &[GifFrameSpec], page: usize) -> Vec<u8> {
    let mut canvas = vec![0u8; width * height * 4];
    for (i, f) in frames.iter().enumerate().take(page + 1) {
        let before = canvas.clone();
        let (l, t, w, h) = (f.rect.0 as usize, f.rect.1 as usize, f.rect.2 as usize, f.rect.3 as usize);
        for y in 0..h {
            for x in 0..w {
                let index = f.indices[y * w + x];
                if Some(index) == f.transparent || l + x >= width || t + y >= height {
                    continue;
                }
                let at = ((t + y) * width + l + x) * 4;
                canvas[at..at + 3].copy_from_slice(&palette[index as usize * 3..][..3]);
                canvas[at + 3] = 255;
            }
        }
        if i < page {
            for y in t..(t + h).min(height) {
                for x in l..(l + w).min(width) {
                    let at = (y * width + x) * 4;
                    match f.dispose {
                        DisposalMethod::Background => canvas[at..at + 4].fill(0),
                        DisposalMethod::Previous => canvas[at..at + 4].copy_from_slice(&before[at..at + 4]),
                        _ => {}
                    }
                }
            }
        }
    }
    canvas
}

fn animation() -> (Vec<u8>, Vec<GifFrameSpec>) {
    let frames = vec![
        frame((0, 0, 20, 15), 0, None, DisposalMethod::Keep, false),
        frame((3, 2, 10, 8), 40, Some(5), DisposalMethod::Background, true),
        frame((5, 5, 12, 9), 90, Some(7), DisposalMethod::Previous, false),
        frame((1, 1, 30, 4), 150, None, DisposalMethod::Keep, false),
        frame((0, 6, 8, 8), 200, Some(201), DisposalMethod::Keep, true),
    ];
    (gif_bytes(20, 15, &palette(), &frames), frames)
}

#[test]
fn every_page_composites_as_a_browser_does() {
    let (bytes, frames) = animation();
    let header = stripflow::codec::registry::read_header(&stripflow::io::Input::from_bytes(bytes.clone())).unwrap();
    assert_eq!(header.metadata.pages, 5);
    let (info, first) = decode(&bytes, 0).unwrap();
    assert_eq!(info.format, PixelFormat::RGB8, "a covering first frame without transparency is RGB");
    let rgba = composite(20, 15, &palette(), &frames, 0);
    assert_eq!(first, rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect::<Vec<_>>());
    for page in 1..5 {
        let (info, pixels) = decode(&bytes, page).unwrap();
        assert_eq!(info.format, PixelFormat::RGBA8);
        assert_eq!(pixels, composite(20, 15, &palette(), &frames, page as usize), "page {page}");
    }
    let e = decode(&bytes, 5).unwrap_err();
    assert!(e.kind() == ErrorKind::Parameter && e.to_string().contains("5 frames"), "{e}");
}

#[test]
fn a_first_frame_smaller_than_the_screen_or_interlaced_or_transparent() {
    for (rect, transparent, interlaced) in
        [((4, 3, 9, 6), None, false), ((0, 0, 16, 11), Some(3), false), ((0, 0, 16, 11), None, true), ((2, 1, 30, 30), Some(9), true)]
    {
        let frames = [frame(rect, 17, transparent, DisposalMethod::Keep, interlaced)];
        let bytes = gif_bytes(16, 11, &palette(), &frames);
        let (info, pixels) = decode(&bytes, 0).unwrap();
        let rgba = composite(16, 11, &palette(), &frames, 0);
        let want: Vec<u8> = if info.format == PixelFormat::RGB8 { rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect() } else { rgba };
        assert_eq!(pixels, want, "{rect:?} {transparent:?} {interlaced}");
    }
}

#[test]
fn pillow_decodes_the_same_first_frame() {
    if !have_pillow() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    python(&format!(
        "from PIL import Image\nimport random\nrandom.seed(5)\nw,h=57,31\nfr=[Image.frombytes('RGB',(w,h),bytes(random.randrange(256) for _ in range(w*h*3))) for _ in range(3)]\nfr[0].save('{0}/anim.gif',save_all=True,append_images=fr[1:])\nfr[0].save('{0}/interlaced.gif',interlace=True)\nfr[1].quantize(64).save('{0}/q.gif',transparency=3)",
        dir.path().display()
    ));
    for (name, page) in [("anim.gif", 0), ("anim.gif", 1), ("anim.gif", 2), ("interlaced.gif", 0), ("q.gif", 0)] {
        let path = dir.path().join(name);
        let (info, ours) = decode(&std::fs::read(&path).unwrap(), page).unwrap();
        let reference = pillow_pixels(&path, page, "RGBA");
        let ours: Vec<u8> = if info.format == PixelFormat::RGB8 { ours.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect() } else { ours };
        // Transparent pixels: only alpha is compared (their colour is not defined).
        let differing = ours.chunks_exact(4).zip(reference.chunks_exact(4)).filter(|(a, b)| a[3] != b[3] || (a[3] != 0 && a != b)).count();
        assert_eq!(differing, 0, "{name} page {page}: {differing} pixels differ from Pillow");
    }
}

#[test]
fn damaged_files_are_typed_errors_and_never_panic() {
    let (bytes, _) = animation();
    let e = decode(&bytes[..bytes.len() / 3], 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format, "{e}");
    let mut bad = bytes.clone();
    bad[13 + 768] = 0x99; // the first block: neither extension, image nor trailer
    assert!(decode(&bad, 0).unwrap_err().to_string().contains("unknown block"));
    let mut seed = 3u64;
    let mut next = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    for cut in 0..bytes.len() {
        for page in [0, 2] {
            let _ = decode(&bytes[..cut], page);
        }
    }
    for _ in 0..1500 {
        let mut b = bytes.clone();
        for _ in 0..1 + next() % 3 {
            let at = next() % b.len();
            b[at] ^= 1 << (next() % 8);
        }
        let _ = decode(&b, next() as u32 % 5);
    }
}
