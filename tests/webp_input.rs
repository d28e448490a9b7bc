//! WebP input: lossless pixel-exact, lossy against dwebp (PSNR stated), alpha, animations (frame
//! count and pages against Pillow), the ICCP/EXIF/XMP chunks, damaged files as typed errors and
//! never a panic; and HEIC / AVIF input as typed Unsupported errors naming the format.

mod new_inputs;

use new_inputs::*;
use stripflow::codec::{icc, registry};
use stripflow::io::Input;
use stripflow::{ErrorKind, PixelFormat};

#[test]
fn lossless_rgb_and_rgba_decode_to_the_source() {
    let (w, h) = (67, 45);
    for alpha in [false, true] {
        let format = if alpha { PixelFormat::RGBA8 } else { PixelFormat::RGB8 };
        let source = synthetic(w, h, format, 4);
        let (info, pixels) = decode(&webp_lossless(w, h, &source, alpha), 0).unwrap();
        assert_eq!((info.width, info.height, info.format), (w, h, format));
        assert_eq!(pixels, source, "alpha {alpha}");
    }
}

#[test]
fn lossy_matches_dwebp() {
    if !have("cwebp") || !have("dwebp") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (301, 203);
    for alpha in [false, true] {
        let format = if alpha { PixelFormat::RGBA8 } else { PixelFormat::RGB8 };
        let source = synthetic(w, h, format, 8);
        let bytes = cwebp(dir.path(), &format!("lossy{alpha}"), w, h, &source, alpha, 75).unwrap();
        let (info, ours) = decode(&bytes, 0).unwrap();
        assert_eq!(info.format, format);
        // dwebp's decode (libwebp) as PAM (RGBA), compared channel by channel.
        let file = dir.path().join(format!("lossy{alpha}.webp"));
        let pam = dir.path().join(format!("lossy{alpha}.pam"));
        assert!(std::process::Command::new("dwebp").args(["-quiet", file.to_str().unwrap(), "-pam", "-o", pam.to_str().unwrap()]).status().unwrap().success());
        let pam = std::fs::read(pam).unwrap();
        let body = &pam[pam.len() - (w * h * 4) as usize..];
        let reference: Vec<u8> = if alpha { body.to_vec() } else { body.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect() };
        let db = psnr(&ours, &reference);
        println!("lossy WebP {w}x{h} alpha {alpha}: PSNR against dwebp {db:.1} dB");
        assert!(db >= 40.0, "PSNR {db:.1} dB against dwebp");
        // Against the source: the encoder's loss on this high-frequency pattern at q75 (a sanity
        // floor, not a quality claim).
        let to_source = psnr(&ours, &source);
        println!("lossy WebP alpha {alpha}: PSNR against the source {to_source:.1} dB");
        assert!(to_source >= 15.0, "PSNR {to_source:.1} dB against the source");
    }
}

#[test]
fn animations_count_frames_and_decode_pages_like_pillow() {
    if !have_pillow() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    python(&format!(
        "from PIL import Image\nimport random\nrandom.seed(2)\nw,h=40,30\nfr=[Image.frombytes('RGBA',(w,h),bytes(random.randrange(256) for _ in range(w*h*4))) for _ in range(4)]\nfr[0].save('{0}/anim.webp',save_all=True,append_images=fr[1:],lossless=True)",
        dir.path().display()
    ));
    let path = dir.path().join("anim.webp");
    let bytes = std::fs::read(&path).unwrap();
    let header = registry::read_header(&Input::from_bytes(bytes.clone())).unwrap();
    assert_eq!((header.metadata.pages, header.info.format), (4, PixelFormat::RGBA8));
    for page in 0..4 {
        let (_, ours) = decode(&bytes, page).unwrap();
        let reference = pillow_pixels(&path, page, "RGBA");
        // Lossless frames blended over the canvas: libwebp (Pillow) and image-webp may round
        // the blend of semi-transparent pixels differently by 1.
        let worst = ours.iter().zip(&reference).map(|(&a, &b)| (a as i32 - b as i32).abs()).max().unwrap();
        assert!(worst <= 1, "page {page}: differs from Pillow by {worst}");
    }
    let e = decode(&bytes, 4).unwrap_err();
    assert!(e.kind() == ErrorKind::Parameter && e.to_string().contains("4 frames"), "{e}");
}

#[test]
fn iccp_exif_and_xmp_chunks_are_read_bounded() {
    if !have_pillow() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    python(&format!(
        "from PIL import Image, ImageCms\nim=Image.new('RGB',(20,10),(10,200,30))\nicc=ImageCms.ImageCmsProfile(ImageCms.createProfile('sRGB')).tobytes()\nopen('{0}/icc','wb').write(icc)\nex=Image.Exif(); ex[0x0112]=6\nim.save('{0}/meta.webp',lossless=True,icc_profile=icc,exif=ex.tobytes(),xmp=b'<x:xmpmeta>hello</x:xmpmeta>')",
        dir.path().display()
    ));
    let input = Input::open(dir.path().join("meta.webp")).unwrap();
    let icc_bytes = std::fs::read(dir.path().join("icc")).unwrap();
    let header = registry::read_header(&input).unwrap();
    let webp = registry::codec(header.format).decoder.unwrap();
    let embedded = webp.read_embedded(&input, &header).unwrap();
    assert_eq!(embedded.icc.as_deref(), Some(&icc_bytes[..]));
    assert!(embedded.exif.as_ref().is_some_and(|e| e.starts_with(b"II*\0") || e.starts_with(b"MM\0*") || e.starts_with(b"Exif")));
    assert_eq!(embedded.xmp.as_deref(), Some(&b"<x:xmpmeta>hello</x:xmpmeta>"[..]));
    // The colour stage's reader.
    assert_eq!(icc::icc_profile_len(&input).unwrap(), Some(icc_bytes.len()));
    assert_eq!(icc::read_icc_profile(&input).unwrap().as_deref(), Some(&icc_bytes[..]));
}

#[test]
fn damaged_files_are_typed_errors_and_never_panic() {
    let (w, h) = (23, 17);
    let lossless = webp_lossless(w, h, &synthetic(w, h, PixelFormat::RGBA8, 1), true);
    let e = decode(&lossless[..lossless.len() / 2], 0).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Format), "{e}");
    let e = decode(&lossless[..20], 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format, "{e}");
    let mut samples = vec![lossless];
    let dir = tempfile::tempdir().unwrap();
    if let Some(lossy) = cwebp(dir.path(), "l", w, h, &synthetic(w, h, PixelFormat::RGBA8, 2), true, 70) {
        samples.push(lossy);
    }
    let mut seed = 9u64;
    let mut next = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    for sample in &samples {
        for cut in 0..sample.len() {
            let _ = decode(&sample[..cut], 0);
        }
        for _ in 0..600 {
            let mut b = sample.clone();
            for _ in 0..1 + next() % 3 {
                let at = next() % b.len();
                b[at] ^= 1 << (next() % 8);
            }
            let _ = decode(&b, 0);
        }
    }
}

#[test]
fn heic_and_avif_input_are_unsupported_errors_naming_the_format() {
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    let e = registry::read_header(&Input::from_bytes(heic)).unwrap_err();
    assert!(e.kind() == ErrorKind::Unsupported && e.to_string().contains("HEIF"), "{e}");
    let avif = b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf".to_vec();
    let e = registry::read_header(&Input::from_bytes(avif)).unwrap_err();
    assert!(e.kind() == ErrorKind::Unsupported && e.to_string().contains("AVIF images are written but not read"), "{e}");
}
