//! Opening an encoded image as a row source, and reading its metadata, whatever its format.

use crate::codec::exif::{self, ExifSummary};
use crate::codec::metadata::{icc_description, Density};
use crate::codec::registry;
use crate::codec::spec::DecodeRequest;
use crate::codec::Format;
use crate::error::Result;
use crate::io::Input;
use crate::pipeline::BoxedSource;

/// What `stripflow info` prints: facts from the header, no pixels decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// File format.
    pub format: Format,
    /// Stored width in pixels.
    pub width: u32,
    /// Stored height in pixels.
    pub height: u32,
    /// Colour model as stored: "gray", "rgb", "palette", "gray-alpha", "rgba", "ycbcr", "cmyk", "ycck".
    pub color: String,
    /// Bits per stored sample.
    pub bit_depth: u8,
    /// Adam7 interlaced (PNG).
    pub interlaced: bool,
    /// Progressive (JPEG).
    pub progressive: bool,
    /// EXIF orientation 1..=8, if the file carries one.
    pub orientation: Option<u8>,
    /// Channels of the decoded rows, e.g. "rgb8".
    pub decoded_format: String,
    /// Pages (TIFF directories, GIF or WebP frames) in the file; 1 for single-image formats.
    pub pages: u32,
    /// How the pixels are stored, where the format has choices worth printing (TIFF:
    /// "lzw + predictor, tiles 256x256"); empty otherwise.
    pub layout: String,
}

impl Metadata {
    /// Width and height once EXIF orientation is applied (5..=8 swap them).
    pub fn oriented_size(&self) -> (u32, u32) {
        match self.orientation {
            Some(5..=8) => (self.height, self.width),
            _ => (self.width, self.height),
        }
    }

    /// The metadata as a JSON object (one line).
    pub fn to_json(&self) -> String {
        let (ow, oh) = self.oriented_size();
        format!(
            "{{\"format\":\"{}\",\"width\":{},\"height\":{},\"oriented_width\":{},\"oriented_height\":{},\"color\":\"{}\",\"bit_depth\":{},\"interlaced\":{},\"progressive\":{},\"orientation\":{},\"decoded_format\":\"{}\",\"pages\":{},\"layout\":\"{}\"}}",
            self.format.name(),
            self.width,
            self.height,
            ow,
            oh,
            self.color,
            self.bit_depth,
            self.interlaced,
            self.progressive,
            self.orientation.map_or("null".to_string(), |o| o.to_string()),
            self.decoded_format,
            self.pages,
            self.layout
        )
    }
}

impl std::fmt::Display for Metadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (ow, oh) = self.oriented_size();
        writeln!(f, "format:       {}", self.format.name())?;
        writeln!(f, "size:         {}x{}", self.width, self.height)?;
        if (ow, oh) != (self.width, self.height) {
            writeln!(f, "oriented:     {ow}x{oh}")?;
        }
        writeln!(f, "colour:       {}", self.color)?;
        writeln!(f, "bit depth:    {}", self.bit_depth)?;
        if self.interlaced {
            writeln!(f, "interlaced:   yes (Adam7)")?;
        }
        if self.progressive {
            writeln!(f, "progressive:  yes")?;
        }
        match self.orientation {
            Some(o) => writeln!(f, "orientation:  {o}")?,
            None => writeln!(f, "orientation:  none")?,
        }
        if !self.layout.is_empty() {
            writeln!(f, "storage:      {}", self.layout)?;
        }
        if self.pages > 1 {
            writeln!(f, "pages:        {}", self.pages)?;
        }
        write!(f, "decodes as:   {}", self.decoded_format)
    }
}

/// The format of `input` from its first bytes (a bounded prefix, read by position), or a typed
/// error saying why it is not an image stripflow reads ([`crate::codec::registry::sniff`]).
pub fn sniff(input: &Input) -> Result<Format> {
    let mut head = [0u8; registry::SIGNATURE_BYTES];
    let got = input.read_at(0, &mut head)?;
    registry::sniff(&head[..got]).map(|c| c.format)
}

/// What `stripflow info` prints: the header's [`Metadata`] and what the metadata blocks say
/// (read bounded, from the header path: no pixel decoded).
#[derive(Debug, Clone, PartialEq)]
pub struct Info {
    /// The header facts.
    pub metadata: Metadata,
    /// The embedded ICC profile's description (its `desc` tag), if it has a readable one.
    pub icc_description: Option<String>,
    /// Bytes of the embedded ICC profile, if any (at most [`crate::codec::Embedded::MAX_BLOCK_BYTES`]).
    pub icc_bytes: Option<usize>,
    /// The EXIF summary (camera, date taken, whether GPS is present; never the position).
    pub exif: Option<ExifSummary>,
    /// Whether an XMP packet is present.
    pub xmp: bool,
    /// The pixel density: the format's own (JFIF, `pHYs`), else the EXIF resolution.
    pub density: Option<Density>,
}

fn json_opt(s: &Option<String>) -> String {
    s.as_deref().map_or("null".into(), crate::plan::display::json_str)
}

impl Info {
    /// The info as a JSON object (one line): [`Metadata::to_json`]'s fields and
    /// `icc_description`, `icc_bytes`, `exif` (`make`, `model`, `date_time_original`, `gps`),
    /// `xmp`, `density` (`x`, `y`, `unit`).
    pub fn to_json(&self) -> String {
        let base = self.metadata.to_json();
        let exif = self.exif.as_ref().map_or("null".into(), |e| {
            format!(
                "{{\"make\":{},\"model\":{},\"date_time_original\":{},\"gps\":{}}}",
                json_opt(&e.make),
                json_opt(&e.model),
                json_opt(&e.date_time_original),
                e.gps
            )
        });
        let density = self.density.map_or("null".into(), |d| {
            format!("{{\"x\":{},\"y\":{},\"unit\":\"{}\"}}", d.x, d.y, d.unit)
        });
        format!(
            "{},\"icc_description\":{},\"icc_bytes\":{},\"exif\":{exif},\"xmp\":{},\"density\":{density}}}",
            &base[..base.len() - 1],
            json_opt(&self.icc_description),
            self.icc_bytes.map_or("null".into(), |n| n.to_string()),
            self.xmp
        )
    }
}

impl std::fmt::Display for Info {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.metadata)?;
        match (&self.icc_description, self.icc_bytes) {
            (Some(d), Some(n)) => write!(f, "\nicc profile:  {d} ({n} bytes)")?,
            (None, Some(n)) => write!(f, "\nicc profile:  {n} bytes, no description")?,
            _ => {}
        }
        if let Some(e) = &self.exif {
            let camera = [e.make.as_deref(), e.model.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            if !camera.is_empty() {
                write!(f, "\ncamera:       {camera}")?;
            }
            if let Some(d) = &e.date_time_original {
                write!(f, "\ntaken:        {d}")?;
            }
            write!(
                f,
                "\ngps:          {}",
                if e.gps {
                    "present (position not shown)"
                } else {
                    "none"
                }
            )?;
        }
        if self.xmp {
            write!(f, "\nxmp:          present")?;
        }
        if let Some(d) = self.density {
            write!(f, "\ndensity:      {d}")?;
        }
        Ok(())
    }
}

/// Reads the header facts and the metadata summary of an encoded image, without decoding
/// pixels: the metadata blocks are read bounded ([`crate::codec::Embedded::MAX_BLOCK_BYTES`] each). Damaged
/// blocks are left out of the summary rather than failing it.
pub fn read_info(input: &Input) -> Result<Info> {
    let header = registry::read_header(input)?;
    let decoder = registry::codec(header.format)
        .decoder
        .expect("read_header found a decoder");
    let blocks = decoder.read_embedded(input, &header).unwrap_or_default();
    let exif = blocks.exif.as_deref().and_then(exif::summary);
    let exif_density = exif
        .as_ref()
        .and_then(|e| e.resolution)
        .and_then(|r| Density::from_exif(r.x, r.y, r.unit));
    let density = decoder
        .read_density(input, &header)
        .ok()
        .flatten()
        .or(exif_density);
    Ok(Info {
        icc_description: blocks.icc.as_deref().and_then(icc_description),
        icc_bytes: blocks.icc.as_ref().map(Vec::len),
        exif,
        xmp: blocks.xmp.is_some(),
        density,
        metadata: header.metadata,
    })
}

/// Reads the metadata of an encoded image from its header, without decoding pixels.
pub fn read_metadata(input: &Input) -> Result<Metadata> {
    Ok(registry::read_header(input)?.metadata)
}

/// Opens `input` as a row source at full scale.
pub fn open(input: Input) -> Result<BoxedSource> {
    let header = registry::read_header(&input)?;
    let decoder = registry::codec(header.format)
        .decoder
        .expect("read_header found a decoder");
    let request = DecodeRequest {
        shrink: 1,
        region: None,
        rows_needed: header.info.height,
        fail_on: crate::codec::FailOn::default(),
        cmyk: false,
        threads: 1,
    };
    decoder.build(input, &header, &request)
}
