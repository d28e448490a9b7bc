//! Strip height is a hint, never a contract: encoders pulling 1, 7 or all rows at a time must
//! write byte-identical files through decode and crop.

use stripflow::codec::jpeg::JpegEncoder;
use stripflow::codec::png::{PngDecoder, PngEncoder};
use stripflow::io::Input;
use stripflow::ops::crop::{Crop, Rect};
use stripflow::synth::Synthetic;
use stripflow::{PixelFormat, RowSource};

fn png_of(source: &mut dyn RowSource, strip_height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder { strip_height, ..Default::default() }.encode(source, &mut out).unwrap();
    out
}

#[test]
fn png_decode_crop_encode_is_independent_of_strip_height() {
    for format in [PixelFormat::RGB8, PixelFormat::RGBA16, PixelFormat::GRAY8] {
        let source = png_of(&mut Synthetic::new(211, 157, format, 9), 16);
        let mut outputs = Vec::new();
        for strip in [1, 7, u32::MAX] {
            let decoder = PngDecoder::new(Input::from_bytes(source.clone())).unwrap();
            let mut crop = Crop::new(decoder, Rect::new(13, 29, 150, 101)).unwrap();
            outputs.push(png_of(&mut crop, strip));
        }
        assert_eq!(outputs[0], outputs[1], "{format}: strip 1 vs 7");
        assert_eq!(outputs[0], outputs[2], "{format}: strip 1 vs whole");
    }
}

#[test]
fn jpeg_encode_is_independent_of_how_rows_are_read() {
    let mut a = Vec::new();
    JpegEncoder::default().encode(&mut Synthetic::new(99, 41, PixelFormat::RGBA8, 2), &mut a).unwrap();
    // The same rows through a crop that covers everything: a different chain, the same pixels.
    let mut crop = Crop::new(Synthetic::new(99, 41, PixelFormat::RGBA8, 2), Rect::new(0, 0, 99, 41)).unwrap();
    let mut b = Vec::new();
    JpegEncoder::default().encode(&mut crop, &mut b).unwrap();
    assert_eq!(a, b);
}
