//! Unit tests of the colour stage: known P3 and Adobe RGB colours against their sRGB values,
//! gray, alpha, 16-bit precision, and the stage's account of its buffers.

use super::*;
use crate::pipeline::MemorySource;

fn p3() -> InputProfile {
    InputProfile::from_icc(ColorProfile::new_display_p3().encode().unwrap()).unwrap()
}

/// One row of `pixels` (8-bit) through the stage.
fn convert8(profile: InputProfile, format: PixelFormat, pixels: Vec<u8>) -> Vec<u8> {
    let info = ImageInfo { width: (pixels.len() / format.bytes_per_pixel()) as u32, height: 1, format };
    let spec = ColourSpec::new(profile, format).unwrap();
    let mut stage = spec.build(Box::new(MemorySource::new(info, pixels).unwrap())).unwrap();
    assert_eq!(stage.buffer_bytes(), ColourSpec::row_buffer_bytes(info));
    let mut row = vec![0; info.row_bytes()];
    stage.read_row(&mut row).unwrap();
    row
}

#[test]
fn p3_primaries_white_and_gray() {
    let out = convert8(p3(), PixelFormat::RGB8, vec![255, 0, 0, 255, 255, 255, 128, 128, 128, 0, 255, 0]);
    // Pure P3 red lies outside sRGB: clipped to full red with no green or blue.
    assert_eq!(&out[0..3], &[255, 0, 0], "P3 red");
    assert_eq!(&out[3..6], &[255, 255, 255], "P3 white");
    assert!(out[6..9].iter().all(|&c| c.abs_diff(128) <= 1), "mid gray stays gray: {:?}", &out[6..9]);
    // P3 green: out of gamut too (sRGB green has no red, P3 green needs negative red).
    assert_eq!(out[9], 0);
    assert_eq!(out[10], 255);
    // An in-gamut P3 colour becomes more saturated in sRGB numbers: P3 (200,100,100) has more
    // red than sRGB (200,100,100).
    let out = convert8(p3(), PixelFormat::RGB8, vec![200, 100, 100]);
    assert!(out[0] > 205 && out[1] < 100 && out[2] < 100, "{out:?}");
}

#[test]
fn alpha_passes_untouched_and_16_bit_keeps_precision() {
    let out = convert8(p3(), PixelFormat::RGBA8, vec![200, 100, 100, 7, 255, 255, 255, 200]);
    assert_eq!((out[3], out[7]), (7, 200));
    assert_eq!(&out[4..7], &[255, 255, 255]);

    let format = PixelFormat::RGBA16;
    // A ramp of reds whose 16-bit results must not collapse to 8-bit steps.
    let px: Vec<u16> = (0..64u16).flat_map(|i| [30000 + i * 3, 20000, 20000, 12345 + i]).collect();
    let info = ImageInfo { width: 64, height: 1, format };
    let spec = ColourSpec::new(p3(), format).unwrap();
    let src = MemorySource::new(info, bytemuck::cast_slice(&px).to_vec()).unwrap();
    let mut stage = spec.build(Box::new(src)).unwrap();
    let mut row = vec![0u8; info.row_bytes()];
    stage.read_row(&mut row).unwrap();
    let out: Vec<u16> = bytemuck::cast_slice(&row).to_vec();
    let reds: Vec<u16> = out.chunks(4).map(|p| p[0]).collect();
    let distinct = reds.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(distinct > 40, "16-bit reds collapse: {reds:?}");
    assert!(reds.windows(2).all(|w| w[1] >= w[0]), "monotonic");
    assert!(out.chunks(4).zip(px.chunks(4)).all(|(o, i)| o[3] == i[3]), "alpha untouched");
    // The 16-bit result agrees with the 8-bit one.
    let eight = convert8(p3(), PixelFormat::RGB8, vec![(30000u32 * 255 / 65535) as u8, 78, 78]);
    assert!((reds[0] as i32 / 257 - eight[0] as i32).abs() <= 1);
}

#[test]
fn gray_profile_maps_tone_curve_and_stays_gray() {
    // A gamma-1.0 (linear) gray: 50% linear light is sRGB 188.
    let mut gray = ColorProfile::new_gray_with_gamma(1.0);
    gray.description = None;
    let profile = InputProfile::from_icc(gray.encode().unwrap()).unwrap();
    assert!(!profile.is_srgb());
    let out = convert8(profile.clone(), PixelFormat::GRAYA8, vec![0, 9, 128, 10, 255, 11]);
    assert_eq!(out[0], 0);
    assert!(out[2].abs_diff(188) <= 1, "{out:?}");
    assert_eq!(out[4], 255);
    assert_eq!((out[1], out[3], out[5]), (9, 10, 11));
    // A gray profile on RGB rows is refused, typed.
    assert!(matches!(ColourSpec::new(profile, PixelFormat::RGB8), Err(Error::Unsupported { .. })));
}

#[test]
fn srgb_equivalents_are_detected() {
    let srgb = InputProfile::from_icc(ColorProfile::new_srgb().encode().unwrap()).unwrap();
    assert!(srgb.is_srgb());
    assert!(InputProfile::from_icc(srgb_gray().encode().unwrap()).unwrap().is_srgb());
    assert!(!p3().is_srgb());
    assert!(!InputProfile::from_icc(ColorProfile::new_adobe_rgb().encode().unwrap()).unwrap().is_srgb());
    // A damaged profile is a typed format error.
    let mut bytes = ColorProfile::new_display_p3().encode().unwrap();
    bytes.truncate(100);
    assert!(matches!(InputProfile::from_icc(bytes), Err(Error::Format { .. })));
    assert!(matches!(InputProfile::from_icc(b"not a profile at all, just text".repeat(10)), Err(Error::Format { .. })));
}

#[test]
fn heap_account_counts_rows_profile_and_tables() {
    let spec = ColourSpec::new(p3(), PixelFormat::RGB16).unwrap();
    let info = ImageInfo { width: 1000, height: 10, format: PixelFormat::RGB16 };
    let bytes = spec.heap_bytes(info);
    assert!(bytes >= 2 * 6000 + 393_216, "{bytes}");
    assert!(matches!(spec.output(ImageInfo { format: PixelFormat::RGB8, ..info }), Err(Error::Parameter(_))));
}

#[test]
fn hostile_lut_sizes_are_typed_errors() {
    // A profile whose A2B0 lut16 declares a 255-point grid (16.5 M samples) with the data of a
    // 2-point one: refused by the parser (format error), not allocated.
    use moxcms::{LutDataType, LutStore, LutType, LutWarehouse, Matrix3d};
    let mut p = ColorProfile::new_display_p3();
    p.lut_a_to_b_colorimetric = Some(LutWarehouse::Lut(LutDataType {
        num_input_channels: 3,
        num_output_channels: 3,
        num_clut_grid_points: 2,
        matrix: Matrix3d::IDENTITY,
        num_input_table_entries: 2,
        num_output_table_entries: 2,
        input_table: LutStore::Store16(vec![0, 65535, 0, 65535, 0, 65535]),
        clut_table: LutStore::Store16(vec![32768; 24]),
        output_table: LutStore::Store16(vec![0, 65535, 0, 65535, 0, 65535]),
        lut_type: LutType::Lut16,
    }));
    let mut bytes = p.encode().unwrap();
    assert!(InputProfile::from_icc(bytes.clone()).is_ok());
    let count = u32::from_be_bytes(bytes[128..132].try_into().unwrap()) as usize;
    let tag = (0..count).map(|i| 132 + 12 * i).find(|&t| &bytes[t..t + 4] == b"A2B1").expect("A2B1 tag");
    let offset = u32::from_be_bytes(bytes[tag + 4..tag + 8].try_into().unwrap()) as usize;
    assert_eq!(&bytes[offset..offset + 4], b"mft2");
    bytes[offset + 10] = 255;
    assert!(matches!(InputProfile::from_icc(bytes), Err(Error::Format { .. })));
}
