//! Tests of the EXIF reader, the orientation reset and the sub-IFD re-serialisation.
use super::*;

fn tiff(little: bool, value: u16, kind: u16) -> Vec<u8> {
    let mut t = Vec::new();
    let put16 = |t: &mut Vec<u8>, v: u16| {
        t.extend(if little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        })
    };
    let put32 = |t: &mut Vec<u8>, v: u32| {
        t.extend(if little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        })
    };
    t.extend(if little { b"II" } else { b"MM" });
    put16(&mut t, 42);
    put32(&mut t, 8);
    put16(&mut t, 1);
    put16(&mut t, 0x0112);
    put16(&mut t, kind);
    put32(&mut t, 1);
    put16(&mut t, value);
    put16(&mut t, 0);
    put32(&mut t, 0);
    t
}

#[test]
fn reads_both_byte_orders() {
    for v in 1..=8 {
        assert_eq!(orientation(&tiff(true, v, 3)), Some(v as u8));
        assert_eq!(orientation(&tiff(false, v, 3)), Some(v as u8));
    }
}

#[test]
fn rejects_bad_values_and_truncation() {
    assert_eq!(orientation(&tiff(true, 9, 3)), None);
    assert_eq!(orientation(&tiff(true, 6, 4)), None);
    // The orientation value ends at byte 20 (8 header + 2 count + 8 into the entry + 2).
    let t = tiff(false, 6, 3);
    for cut in 0..20 {
        assert_eq!(orientation(&t[..cut]), None, "cut at {cut}");
    }
    let mut hostile = t.clone();
    hostile[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(orientation(&hostile), None);
}

/// IFD0 with orientation 6 and an EXIF sub-IFD with a SHORT, an ASCII value out of line, a
/// RATIONAL, a MakerNote and an interoperability pointer.
fn with_sub_ifd(little: bool) -> Vec<u8> {
    let p16 = |v: u16| if little { v.to_le_bytes() } else { v.to_be_bytes() };
    let p32 = |v: u32| if little { v.to_le_bytes() } else { v.to_be_bytes() };
    let mut t = Vec::new();
    t.extend(if little { b"II" } else { b"MM" });
    t.extend(p16(42));
    t.extend(p32(8));
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend(p16(tag));
        t.extend(p16(kind));
        t.extend(p32(count));
        t.extend(value);
    };
    t.extend(p16(2));
    let six = p16(6);
    entry(&mut t, 0x0112, 3, 1, [six[0], six[1], 0, 0]);
    entry(&mut t, 0x8769, 4, 1, p32(38));
    t.extend(p32(0));
    assert_eq!(t.len(), 38);
    t.extend(p16(5));
    let iso = p16(400);
    entry(&mut t, 0x8827, 3, 1, [iso[0], iso[1], 0, 0]);
    entry(&mut t, 0x9003, 2, 20, p32(104));
    entry(&mut t, 0x829A, 5, 1, p32(124));
    entry(&mut t, 0x927C, 7, 8, p32(132));
    entry(&mut t, 0xA005, 4, 1, p32(8));
    t.extend(p32(0));
    t.extend(b"2024:01:02 03:04:05\0");
    t.extend(p32(1));
    t.extend(p32(250));
    t.extend(b"MAKERNOT");
    t
}

#[test]
fn orientation_is_reset_in_place_in_both_byte_orders() {
    for little in [true, false] {
        let before = with_sub_ifd(little);
        let mut t = before.clone();
        assert_eq!(orientation(&t), Some(6));
        assert!(reset_orientation(&mut t));
        assert_eq!(orientation(&t), Some(1));
        let changed: Vec<usize> = (0..t.len()).filter(|&i| t[i] != before[i]).collect();
        assert_eq!(changed, vec![if little { 18 } else { 19 }]);
        // Truncated anywhere: no panic, no change past the end.
        for cut in 0..before.len() {
            let mut short = before[..cut].to_vec();
            reset_orientation(&mut short);
        }
    }
}

#[test]
fn the_sub_ifd_is_re_serialised_little_endian_without_private_offsets() {
    for (little, big) in [(true, false), (false, false), (false, true)] {
        let t = with_sub_ifd(little);
        let at = 1000u64;
        let ifd = exif_ifd_for_tiff(&t, at, big).unwrap();
        assert!(ifd.len() <= exif_ifd_for_tiff_bound(t.len()));
        let (count, entry_len, first) = if big {
            (u64::from_le_bytes(ifd[0..8].try_into().unwrap()) as usize, 20, 8)
        } else {
            (u16::from_le_bytes([ifd[0], ifd[1]]) as usize, 12, 2)
        };
        assert_eq!(count, 3, "ISO, date, exposure: no MakerNote, no interoperability pointer");
        let tags: Vec<u16> = (0..count).map(|i| u16::from_le_bytes([ifd[first + i * entry_len], ifd[first + i * entry_len + 1]])).collect();
        assert_eq!(tags, vec![0x8827, 0x9003, 0x829A]);
        let value = first + if big { 12 } else { 8 };
        assert_eq!(u16::from_le_bytes([ifd[value], ifd[value + 1]]), 400);
        let offset_in = |field: usize| {
            let o = if big {
                u64::from_le_bytes(ifd[field..field + 8].try_into().unwrap())
            } else {
                u32::from_le_bytes(ifd[field..field + 4].try_into().unwrap()) as u64
            };
            (o - at) as usize
        };
        // The date's offset points inside the block, at the text.
        let date = offset_in(value + entry_len);
        assert_eq!(&ifd[date..date + 19], b"2024:01:02 03:04:05");
        // The rational 1/250, little-endian unit by unit (inline in BigTIFF's 8-byte field).
        let rational = if big { value + 2 * entry_len } else { offset_in(value + 2 * entry_len) };
        assert_eq!(&ifd[rational..rational + 8], &[1, 0, 0, 0, 250, 0, 0, 0]);
    }
}

#[test]
fn hostile_payloads_stay_bounded() {
    let good = with_sub_ifd(true);
    // Every truncation, and random corruption: no panic, output within the bound.
    let mut seed = 0x1234_5678u32;
    let mut next = || {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        seed
    };
    for cut in 0..good.len() {
        let t = &good[..cut];
        let _ = (summary(t), orientation(t));
        if let Some(out) = exif_ifd_for_tiff(t, 0, false) {
            assert!(out.len() <= exif_ifd_for_tiff_bound(t.len()));
        }
    }
    for _ in 0..20_000 {
        let mut t = good.clone();
        for _ in 0..1 + next() % 4 {
            let at = next() as usize % t.len();
            t[at] = next() as u8;
        }
        let _ = summary(&t);
        for big in [false, true] {
            if let Some(out) = exif_ifd_for_tiff(&t, 0, big) {
                assert!(out.len() <= exif_ifd_for_tiff_bound(t.len()), "{} > bound", out.len());
            }
        }
    }
    // 5,000 entries sharing one 4 KiB value: the output cannot pass the payload's size.
    let mut t = b"II*\0\x08\0\0\0\x01\0\x69\x87\x04\0\x01\0\0\0\x1a\0\0\0\0\0\0\0".to_vec();
    t.extend(5000u16.to_le_bytes());
    let value_at = (t.len() + 5000 * 12 + 4) as u32;
    for _ in 0..5000 {
        t.extend(0x9286u16.to_le_bytes());
        t.extend(7u16.to_le_bytes());
        t.extend(4096u32.to_le_bytes());
        t.extend(value_at.to_le_bytes());
    }
    t.extend(0u32.to_le_bytes());
    t.extend(vec![b'x'; 4096]);
    let out = exif_ifd_for_tiff(&t, 0, false).unwrap();
    assert!(out.len() <= exif_ifd_for_tiff_bound(t.len()) && out.len() < 2 * t.len(), "{}", out.len());
}
