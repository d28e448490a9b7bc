//! The first pass: walk the file's markers, parse every segment, and find where each scan's
//! entropy-coded data starts and ends.
//!
//! The walk never decodes entropy-coded data; it only searches it for the next marker (`FF`
//! followed by anything but `00`, `FF` or `RSTn`), eight bytes at a time. Its result lists every
//! scan with the Huffman tables in force when the scan started (a later DHT may redefine a slot;
//! each scan keeps its own reference) and the restart interval of its time. Quantisation tables
//! are latched per component at the first scan that holds the component, as libjpeg does.
//!
//! Tolerated as libjpeg tolerates them: stray bytes between segments, fill bytes before a marker,
//! 16-bit quantisation tables in 8-bit files, scans that use a Huffman table the file never
//! defined (Motion-JPEG; the typical tables of T.81 K.3 are used).

use std::sync::Arc;

use super::huffman::HuffTable;
use super::metadata::{IccChunks, JpegColorSpace, JpegMetadata};
use super::tables::{default_table, ZIGZAG};
use crate::codec::exif;
use crate::error::{Error, Result};
use super::walk::Walk;
use crate::io::Input;

/// Most scans a file may have. A real progressive file has about ten; one scan per coefficient
/// and component is under 200. Each scan costs a cursor and possibly its own tables.
pub(crate) const MAX_SCANS: usize = 256;

/// One component of the frame header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FrameComponent {
    pub id: u8,
    pub h: u8,
    pub v: u8,
    pub tq: u8,
}

/// The frame header (SOFn).
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub width: u32,
    pub height: u32,
    pub progressive: bool,
    pub components: Vec<FrameComponent>,
    pub hmax: u8,
    pub vmax: u8,
}

/// One scan: its header, tables and where its data lies.
#[derive(Clone)]
pub(crate) struct Scan {
    /// Indices into the frame's components, in scan order.
    pub components: Vec<usize>,
    /// DC and AC table per scan component (None when the scan does not use that class).
    pub dc: Vec<Option<Arc<HuffTable>>>,
    pub ac: Vec<Option<Arc<HuffTable>>>,
    pub ss: u8,
    pub se: u8,
    pub ah: u8,
    pub al: u8,
    pub restart_interval: u16,
    /// First byte of the entropy-coded data and the position of the marker ending it.
    pub data_start: usize,
    pub data_end: usize,
}

/// How far to walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParseMode {
    /// Headers up to the first scan (and a DNL search if the height is 0).
    Metadata,
    /// The whole file: every scan.
    Full,
}

/// Everything the first pass learns.
pub(crate) struct Parsed {
    pub frame: Frame,
    pub scans: Vec<Scan>,
    /// Quantisation table of each frame component, natural order.
    pub quant: Vec<[u16; 64]>,
    pub metadata: JpegMetadata,
    /// Whether the walk reached EOI (false: the file is cut off).
    pub complete: bool,
    /// Where the ICC profile's chunks lie (before the first scan).
    pub icc: IccChunks,
}

fn err(detail: &str) -> Error {
    Error::format("JPEG", detail)
}

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]))
}

/// The position of the marker that ends entropy-coded data starting at `pos` in `bytes`.
#[cfg(test)]
pub(crate) fn find_scan_end(bytes: &[u8], pos: usize) -> Option<usize> {
    let input = Input::from_bytes(bytes.to_vec());
    Walk::new(&input).find_scan_end(pos).unwrap()
}

/// Walks the input. See the module documentation. Reads by position through one bounded
/// window (input held in memory is read in place), never the whole file at once.
pub(crate) fn parse(input: &Input, mode: ParseMode) -> Result<Parsed> {
    let mut walk = Walk::new(input);
    let mut soi = [0u8; 2];
    if input.read_at(0, &mut soi)? < 2 || soi != [0xFF, 0xD8] {
        return Err(err("not a JPEG file (no SOI marker)"));
    }
    let mut pos = 2;
    let mut frame: Option<Frame> = None;
    let mut precision = 8u8;
    let mut qtables: [Option<[u16; 64]>; 4] = [None; 4];
    let mut dc_tables: [Option<Arc<HuffTable>>; 4] = Default::default();
    let mut ac_tables: [Option<Arc<HuffTable>>; 4] = Default::default();
    let mut default_tables: [Option<Arc<HuffTable>>; 4] = Default::default();
    let mut restart_interval = 0u16;
    let mut first_restart_interval = None;
    let mut scans: Vec<Scan> = Vec::new();
    let mut quant: Vec<Option<[u16; 64]>> = Vec::new();
    let mut jfif = false;
    let mut adobe_transform = None;
    let mut orientation = None;
    let mut icc = IccChunks::new();
    let mut dnl_height = None;
    let mut complete = false;
    let mut seen_sos = false;

    let input_len = input.len();
    while let Some((marker, after)) = walk.next_marker(pos)? {
        pos = after;
        match marker {
            0xD8 | 0x01 | 0xD0..=0xD7 => continue, // no length: stray SOI, TEM, RSTn
            0xD9 => {
                complete = true;
                break;
            }
            _ => {}
        }
        let Some(len) = walk.be16(pos)? else { break };
        let len = len as usize;
        if len < 2 {
            return Err(err("segment length below 2"));
        }
        if pos + len > input_len {
            break;
        }
        let body_start = pos + 2;
        let body_end = pos + len;
        pos = body_end;
        // Read what is parsed: whole bodies of the segments that define the frame, tables and
        // scans (and EXIF), a prefix of those recognised by a signature, nothing of the rest.
        let wanted = match marker {
            0xC0..=0xCF | 0xDA..=0xDD => len - 2,
            0xE1 if orientation.is_none() => len - 2,
            0xE0 | 0xE2 | 0xEE => (len - 2).min(14),
            _ => 0,
        };
        let body = walk.read(body_start, wanted)?;
        let body = &body[..];
        match marker {
            0xC0..=0xC2 => {
                if frame.is_some() {
                    return Err(err("more than one frame header"));
                }
                let (f, p) = parse_frame(body, marker == 0xC2)?;
                precision = p;
                quant = vec![None; f.components.len()];
                frame = Some(f);
            }
            0xC3 => return Err(Error::unsupported("JPEG", "lossless coding (SOF3)")),
            0xC5..=0xC7 => return Err(Error::unsupported("JPEG", "hierarchical coding (SOF5-7)")),
            0xC9..=0xCB | 0xCD..=0xCF => return Err(Error::unsupported("JPEG", "arithmetic coding")),
            0xC4 => parse_dht(body, &mut dc_tables, &mut ac_tables)?,
            0xDB => parse_dqt(body, &mut qtables)?,
            0xDD => {
                if body.len() < 2 {
                    return Err(err("short DRI segment"));
                }
                restart_interval = be16(body, 0).unwrap_or(0);
            }
            0xDC if body.len() >= 2 => dnl_height = Some(be16(body, 0).unwrap_or(0) as u32),
            0xE0 if body.starts_with(b"JFIF\0") => jfif = true,
            0xE1 if orientation.is_none() => {
                if let Some(tiff) = exif::tiff_from_app1(body) {
                    orientation = exif::orientation(tiff);
                }
            }
            0xE2 if !seen_sos && body.len() >= 14 && body.starts_with(b"ICC_PROFILE\0") => {
                icc.add(body[12], body[13], body_start + 14, body_end - body_start - 14);
            }
            0xEE if body.len() >= 12 && body.starts_with(b"Adobe") => adobe_transform = Some(body[11]),
            0xDA => {
                let Some(f) = frame.as_ref() else {
                    return Err(err("scan before the frame header"));
                };
                if first_restart_interval.is_none() {
                    first_restart_interval = Some(restart_interval);
                }
                if precision != 8 {
                    // Report metadata for 12-bit files; refuse to decode them.
                    if mode == ParseMode::Full {
                        return Err(Error::unsupported("JPEG", format!("{precision}-bit samples")));
                    }
                }
                if mode == ParseMode::Metadata && f.height != 0 {
                    seen_sos = true;
                    break;
                }
                if scans.len() >= MAX_SCANS {
                    return Err(Error::limits(format!("JPEG has more than {MAX_SCANS} scans")));
                }
                let mut scan = parse_sos(body, f, &dc_tables, &ac_tables, &mut default_tables)?;
                scan.restart_interval = restart_interval;
                for &c in &scan.components {
                    if quant[c].is_none() {
                        let tq = f.components[c].tq as usize;
                        quant[c] = Some(qtables[tq].ok_or_else(|| err("missing quantisation table"))?);
                    }
                }
                scan.data_start = pos;
                seen_sos = true;
                match walk.find_scan_end(pos)? {
                    Some(end) => {
                        scan.data_end = end;
                        pos = end;
                        scans.push(scan);
                    }
                    None => {
                        scan.data_end = input_len;
                        scans.push(scan);
                        break;
                    }
                }
            }
            _ => {} // APPn, COM, DAC, JPGn: skipped
        }
    }

    let mut frame = frame.ok_or_else(|| err("no frame header (SOF) found"))?;
    if !seen_sos {
        return Err(err("no scan (SOS) found"));
    }
    if frame.height == 0 {
        match dnl_height {
            Some(h) if h > 0 => frame.height = h,
            _ => return Err(err("height is 0 and no DNL segment defines it")),
        }
    }
    let ncomp = frame.components.len();
    let color_space = match ncomp {
        1 => JpegColorSpace::Gray,
        3 => {
            if jfif {
                JpegColorSpace::YCbCr
            } else if let Some(t) = adobe_transform {
                if t == 0 {
                    JpegColorSpace::Rgb
                } else {
                    JpegColorSpace::YCbCr
                }
            } else {
                let ids: Vec<u8> = frame.components.iter().map(|c| c.id).collect();
                if ids == [b'R', b'G', b'B'] {
                    JpegColorSpace::Rgb
                } else {
                    JpegColorSpace::YCbCr
                }
            }
        }
        _ => match adobe_transform {
            Some(2) => JpegColorSpace::Ycck,
            _ => JpegColorSpace::Cmyk,
        },
    };
    let metadata = JpegMetadata {
        width: frame.width,
        height: frame.height,
        components: ncomp as u8,
        progressive: frame.progressive,
        sampling: frame.components.iter().map(|c| (c.h, c.v)).collect(),
        color_space,
        orientation,
        icc_profile_len: icc.len(),
        jfif,
        adobe_transform,
        restart_interval: first_restart_interval.unwrap_or(restart_interval),
        bits_per_sample: precision,
    };
    let quant = if mode == ParseMode::Full {
        // A component that no scan holds decodes as grey; its table is irrelevant.
        quant.into_iter().map(|q| q.unwrap_or([1; 64])).collect()
    } else {
        Vec::new()
    };
    Ok(Parsed { frame, scans, quant, metadata, complete, icc })
}

fn parse_frame(body: &[u8], progressive: bool) -> Result<(Frame, u8)> {
    if body.len() < 6 {
        return Err(err("short frame header"));
    }
    let precision = body[0];
    let height = be16(body, 1).unwrap() as u32;
    let width = be16(body, 3).unwrap() as u32;
    let n = body[5] as usize;
    if precision != 8 && precision != 12 {
        return Err(Error::unsupported("JPEG", format!("{precision}-bit samples")));
    }
    if width == 0 {
        return Err(err("width is 0"));
    }
    if n == 0 || body.len() < 6 + 3 * n {
        return Err(err("bad component count in frame header"));
    }
    if n != 1 && n != 3 && n != 4 {
        return Err(Error::unsupported("JPEG", format!("{n} components")));
    }
    let mut components = Vec::with_capacity(n);
    for i in 0..n {
        let c = &body[6 + 3 * i..9 + 3 * i];
        let (h, v) = (c[1] >> 4, c[1] & 15);
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) {
            return Err(err("sampling factor outside 1..4"));
        }
        if c[2] > 3 {
            return Err(err("quantisation table index above 3"));
        }
        components.push(FrameComponent { id: c[0], h, v, tq: c[2] });
    }
    let hmax = components.iter().map(|c| c.h).max().unwrap();
    let vmax = components.iter().map(|c| c.v).max().unwrap();
    Ok((Frame { width, height, progressive, components, hmax, vmax }, precision))
}

fn parse_dht(
    mut body: &[u8],
    dc: &mut [Option<Arc<HuffTable>>; 4],
    ac: &mut [Option<Arc<HuffTable>>; 4],
) -> Result<()> {
    while !body.is_empty() {
        if body.len() < 17 {
            return Err(err("short DHT segment"));
        }
        let (class, id) = (body[0] >> 4, (body[0] & 15) as usize);
        if class > 1 || id > 3 {
            return Err(err("bad Huffman table class or index"));
        }
        let counts: [u8; 16] = body[1..17].try_into().unwrap();
        let total: usize = counts.iter().map(|&c| c as usize).sum();
        let symbols = body.get(17..17 + total).ok_or_else(|| err("short DHT segment"))?;
        let table = Arc::new(HuffTable::new(&counts, symbols)?);
        if class == 0 {
            dc[id] = Some(table);
        } else {
            ac[id] = Some(table);
        }
        body = &body[17 + total..];
    }
    Ok(())
}

fn parse_dqt(mut body: &[u8], tables: &mut [Option<[u16; 64]>; 4]) -> Result<()> {
    while !body.is_empty() {
        let (pq, id) = (body[0] >> 4, (body[0] & 15) as usize);
        if pq > 1 || id > 3 {
            return Err(err("bad quantisation table precision or index"));
        }
        let size = if pq == 0 { 64 } else { 128 };
        let data = body.get(1..1 + size).ok_or_else(|| err("short DQT segment"))?;
        let mut table = [0u16; 64];
        for k in 0..64 {
            let v = if pq == 0 { data[k] as u16 } else { u16::from_be_bytes([data[2 * k], data[2 * k + 1]]) };
            table[ZIGZAG[k] as usize] = v;
        }
        tables[id] = Some(table);
        body = &body[1 + size..];
    }
    Ok(())
}

fn parse_sos(
    body: &[u8],
    frame: &Frame,
    dc_tables: &[Option<Arc<HuffTable>>; 4],
    ac_tables: &[Option<Arc<HuffTable>>; 4],
    defaults: &mut [Option<Arc<HuffTable>>; 4],
) -> Result<Scan> {
    let n = *body.first().ok_or_else(|| err("short SOS segment"))? as usize;
    if n == 0 || n > 4 || body.len() < 4 + 2 * n {
        return Err(err("bad component count in scan header"));
    }
    let params = &body[1 + 2 * n..];
    let (ss, se, ah, al) = (params[0], params[1], params[2] >> 4, params[2] & 15);
    let progressive = frame.progressive;
    if progressive {
        if se > 63 || ss > se || ah > 13 || al > 13 {
            return Err(err("bad progressive scan parameters"));
        }
        if ss == 0 && se != 0 {
            return Err(err("progressive DC scan with AC coefficients"));
        }
        if ss > 0 && n != 1 {
            return Err(err("progressive AC scan with more than one component"));
        }
    }
    let uses_dc = if progressive { ss == 0 && ah == 0 } else { true };
    let uses_ac = if progressive { ss > 0 } else { true };
    let mut components = Vec::with_capacity(n);
    let mut dc = Vec::with_capacity(n);
    let mut ac = Vec::with_capacity(n);
    let mut blocks_per_mcu = 0;
    for i in 0..n {
        let id = body[1 + 2 * i];
        let tables = body[2 + 2 * i];
        let (td, ta) = ((tables >> 4) as usize, (tables & 15) as usize);
        if td > 3 || ta > 3 {
            return Err(err("bad Huffman table index in scan header"));
        }
        let c = frame
            .components
            .iter()
            .position(|c| c.id == id)
            .ok_or_else(|| err("scan names a component not in the frame"))?;
        if components.contains(&c) {
            return Err(err("scan names a component twice"));
        }
        components.push(c);
        blocks_per_mcu += frame.components[c].h as usize * frame.components[c].v as usize;
        let mut pick = |tables: &[Option<Arc<HuffTable>>; 4], ac: bool, idx: usize| -> Result<Arc<HuffTable>> {
            if let Some(t) = &tables[idx] {
                return Ok(t.clone());
            }
            let slot = (ac as usize) * 2 + (idx != 0) as usize;
            if defaults[slot].is_none() {
                let (counts, symbols) = default_table(ac, idx);
                defaults[slot] = Some(Arc::new(HuffTable::new(counts, symbols)?));
            }
            Ok(defaults[slot].clone().unwrap())
        };
        dc.push(if uses_dc { Some(pick(dc_tables, false, td)?) } else { None });
        ac.push(if uses_ac { Some(pick(ac_tables, true, ta)?) } else { None });
    }
    if n > 1 && blocks_per_mcu > 10 {
        return Err(err("more than 10 blocks in an MCU"));
    }
    Ok(Scan { components, dc, ac, ss, se, ah, al, restart_interval: 0, data_start: 0, data_end: 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_end_skips_stuffing_and_restarts() {
        let data = [1, 2, 0xFF, 0x00, 3, 4, 5, 6, 7, 8, 9, 0xFF, 0xD3, 1, 0xFF, 0xFF, 0xD9];
        assert_eq!(find_scan_end(&data, 0), Some(15));
        assert_eq!(find_scan_end(&data[..12], 0), None);
    }

    fn parse(bytes: &[u8], mode: ParseMode) -> Result<Parsed> {
        super::parse(&Input::from_bytes(bytes.to_vec()), mode)
    }

    #[test]
    fn hostile_headers_are_errors() {
        assert!(parse(b"", ParseMode::Full).is_err());
        assert!(parse(&[0xFF, 0xD8, 0xFF, 0xD9], ParseMode::Full).is_err());
        // SOF with 65535x65535 and no scans.
        let sof = [
            0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0xFF, 0xFF, 0xFF, 0xFF, 1, 1, 0x11, 0, 0xFF, 0xD9,
        ];
        assert!(parse(&sof, ParseMode::Full).is_err());
        let arith = [0xFF, 0xD8, 0xFF, 0xC9, 0, 11, 8, 0, 8, 0, 8, 1, 1, 0x11, 0];
        assert!(matches!(parse(&arith, ParseMode::Full), Err(Error::Unsupported { .. })));
    }
}
