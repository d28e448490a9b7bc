//! Images smaller than (or not much larger than) one MCU, against libjpeg-turbo's `djpeg`: every
//! size from 1x1 to 33x33 under every luma sampling cjpeg writes (1x1, 2x1, 1x2, 2x2, 4x1, 4x2),
//! from cjpeg and, where it can write the size, from jpeg-encoder. The output must be identical
//! (max diff 0). Skipped with a note when djpeg or cjpeg is missing (Debian: libjpeg-turbo-progs).
//!
//! Files are made and decoded in memory through pipes, two worker threads, no files on disk.
//! Only full-scale decoding is compared exactly: shrink-on-load uses reduced IDCTs that differ
//! from libjpeg-turbo's by a few levels at every size (see `jpeg_conformance`, PSNR there).

mod support;

use std::process::{Command, Stdio};

use jpeg_encoder::SamplingFactor;
use stripflow::codec::jpeg::{DecodeOptions, JpegDecoder};
use stripflow::io::Input;
use stripflow::pipeline::drain;
use stripflow::pixel::PixelFormat;
use stripflow::synth::Synthetic;
use stripflow::RowSource;

const MAX_SIDE: u32 = 33;

/// Luma sampling factors, as cjpeg's `-sample HxV` and as jpeg-encoder's enum.
const SAMPLINGS: [(&str, SamplingFactor); 6] = [
    ("1x1", SamplingFactor::F_1_1),
    ("2x1", SamplingFactor::F_2_1),
    ("1x2", SamplingFactor::F_1_2),
    ("2x2", SamplingFactor::F_2_2),
    ("4x1", SamplingFactor::F_4_1),
    ("4x2", SamplingFactor::F_4_2),
];

fn have_tool(name: &str) -> bool {
    Command::new(name).arg("-version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// Runs `program args` with `input` on stdin; its stdout, or None if it failed.
fn pipe(program: &str, args: &[&str], input: &[u8]) -> Option<Vec<u8>> {
    let output = support::run_piped(program, args, input);
    output.status.success().then_some(output.stdout)
}

/// The synthetic image's RGB rows, and the same as a binary PPM.
fn rgb_image(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let mut source = Synthetic::new(width, height, PixelFormat::RGB8, seed);
    let mut pixels = vec![0u8; source.info().row_bytes() * height as usize];
    for row in pixels.chunks_exact_mut(source.info().row_bytes()) {
        source.read_row(row).unwrap();
    }
    pixels
}

fn ppm(width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
    let mut bytes = format!("P6\n{width} {height}\n255\n").into_bytes();
    bytes.extend_from_slice(pixels);
    bytes
}

/// Pixels of a binary PPM (djpeg's output for colour files).
fn ppm_pixels(bytes: &[u8]) -> (u32, u32, &[u8]) {
    let text = |range: std::ops::Range<usize>| std::str::from_utf8(&bytes[range]).unwrap();
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(text(start..i));
    }
    assert_eq!(fields[0], "P6");
    (fields[1].parse().unwrap(), fields[2].parse().unwrap(), &bytes[i + 1..])
}

fn stripflow_decode(jpeg: &[u8], strip: u32, denominator: u8) -> (u32, u32, Vec<u8>) {
    let options = DecodeOptions { scale_denominator: denominator, ..Default::default() };
    let mut decoder = JpegDecoder::new(Input::from_bytes(jpeg.to_vec()), options).unwrap();
    let info = decoder.info();
    let mut data = Vec::new();
    drain(&mut decoder, strip, |s, _| {
        data.extend_from_slice(s);
        Ok(())
    })
    .unwrap();
    (info.width, info.height, data)
}

/// Compares stripflow with `djpeg -scale 1/denominator` on one file; a failure description, or None.
fn compare(label: &str, jpeg: &[u8], denominator: u8) -> Option<String> {
    let scale = format!("1/{denominator}");
    let reference =
        pipe("djpeg", &["-ppm", "-scale", &scale], jpeg).unwrap_or_else(|| panic!("{label}: djpeg failed"));
    let (w, h, expected) = ppm_pixels(&reference);
    for strip in [1, 7] {
        let (ow, oh, ours) = stripflow_decode(jpeg, strip, denominator);
        if (ow, oh) != (w, h) {
            return Some(format!("{label}: {ow}x{oh}, djpeg {w}x{h}"));
        }
        let max = ours.iter().zip(expected).map(|(a, b)| a.abs_diff(*b)).max().unwrap_or(0);
        if max != 0 {
            return Some(format!("{label} (strip {strip}): max diff {max}"));
        }
    }
    None
}

/// Every case, split over two threads; the list of failures.
fn run_all(cases: Vec<(u32, u32, usize)>, jpeg_encoder_too: bool) -> (usize, Vec<String>) {
    let half = cases.len().div_ceil(2);
    let chunks: Vec<Vec<(u32, u32, usize)>> = cases.chunks(half).map(|c| c.to_vec()).collect();
    let workers: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                let mut compared = 0;
                for (w, h, s) in chunk {
                    let (name, factor) = SAMPLINGS[s];
                    let pixels = rgb_image(w, h, w * 64 + h);
                    let jpeg = pipe("cjpeg", &["-sample", name, "-quality", "90"], &ppm(w, h, &pixels))
                        .unwrap_or_else(|| panic!("cjpeg {w}x{h} {name}"));
                    failures.extend(compare(&format!("cjpeg {w}x{h} -sample {name}"), &jpeg, 1));
                    compared += 1;
                    if jpeg_encoder_too {
                        let mut out = Vec::new();
                        let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
                        encoder.set_sampling_factor(factor);
                        let encoded = encoder.encode(&pixels, w as u16, h as u16, jpeg_encoder::ColorType::Rgb);
                        // jpeg-encoder writes every size it accepts; a refusal is not our concern.
                        if encoded.is_ok() {
                            failures.extend(compare(&format!("jpeg-encoder {w}x{h} {name}"), &out, 1));
                            compared += 1;
                        }
                    }
                }
                (compared, failures)
            })
        })
        .collect();
    let mut compared = 0;
    let mut failures = Vec::new();
    for worker in workers {
        let (n, f) = worker.join().unwrap();
        compared += n;
        failures.extend(f);
    }
    (compared, failures)
}

#[test]
fn every_size_to_33_under_every_sampling_matches_djpeg() {
    if !have_tool("djpeg") || !have_tool("cjpeg") {
        println!("SKIPPED: djpeg or cjpeg not found (Debian: apt-get install libjpeg-turbo-progs)");
        return;
    }
    let mut cases = Vec::new();
    for w in 1..=MAX_SIDE {
        for h in 1..=MAX_SIDE {
            for s in 0..SAMPLINGS.len() {
                cases.push((w, h, s));
            }
        }
    }
    let (compared, failures) = run_all(cases, true);
    println!("{compared} files compared with djpeg, {} differ", failures.len());
    assert!(failures.is_empty(), "{} of {compared} differ:\n{}", failures.len(), failures.join("\n"));
}
