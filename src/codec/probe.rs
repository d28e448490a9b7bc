//! Opening an encoded image as a row source, and reading its metadata, whatever its format.

use crate::codec::jpeg::decode::{DecodeOptions, JpegDecoder};
use crate::codec::png::decode::PngDecoder;
use crate::codec::Format;
use crate::error::{Error, Result};
use crate::io::Input;
use crate::pipeline::RowSource;

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
            "{{\"format\":\"{}\",\"width\":{},\"height\":{},\"oriented_width\":{},\"oriented_height\":{},\"color\":\"{}\",\"bit_depth\":{},\"interlaced\":{},\"progressive\":{},\"orientation\":{},\"decoded_format\":\"{}\"}}",
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
            self.decoded_format
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
        match self.format {
            Format::Png => writeln!(f, "interlaced:   {}", if self.interlaced { "yes (Adam7)" } else { "no" })?,
            Format::Jpeg => writeln!(f, "progressive:  {}", if self.progressive { "yes" } else { "no" })?,
        }
        match self.orientation {
            Some(o) => writeln!(f, "orientation:  {o}")?,
            None => writeln!(f, "orientation:  none")?,
        }
        write!(f, "decodes as:   {}", self.decoded_format)
    }
}

/// Bytes at the start of an input that [`sniff`] reads to recognise its format.
const SIGNATURE_BYTES: usize = 16;

/// The format of `input` from its first bytes, or a [`Error::Format`] error saying it is not an
/// image stripflow reads.
pub fn sniff(input: &Input) -> Result<Format> {
    let mut head = [0u8; SIGNATURE_BYTES];
    let got = input.read_at(0, &mut head)?;
    let bytes = &head[..got];
    Format::sniff(bytes).ok_or_else(|| {
        if bytes.is_empty() {
            Error::format("image", "the input is empty")
        } else {
            Error::format("image", "not a PNG or JPEG file (unknown signature)")
        }
    })
}

/// Reads the metadata of a PNG or JPEG from its header, without decoding pixels (reading a
/// bounded prefix of the input, or walking its markers by position).
pub fn read_metadata(input: &Input) -> Result<Metadata> {
    match sniff(input)? {
        Format::Png => {
            let h = crate::codec::png::decode::read_header(input)?;
            Ok(Metadata {
                format: Format::Png,
                width: h.width,
                height: h.height,
                color: h.color_type.to_string(),
                bit_depth: h.bit_depth,
                interlaced: h.interlaced,
                progressive: false,
                orientation: h.orientation,
                decoded_format: h.output.to_string(),
            })
        }
        Format::Jpeg => {
            let m = crate::codec::jpeg::decode::read_metadata(input)?;
            Ok(Metadata {
                format: Format::Jpeg,
                width: m.width,
                height: m.height,
                color: format!("{:?}", m.color_space).to_ascii_lowercase(),
                bit_depth: m.bits_per_sample,
                interlaced: false,
                progressive: m.progressive,
                orientation: m.orientation,
                decoded_format: if m.components == 1 { "gray8".into() } else { "rgb8".into() },
            })
        }
    }
}

/// Opens `input` as a row source with default decoding options.
pub fn open(input: Input) -> Result<Box<dyn RowSource>> {
    open_with(input, DecodeOptions::default())
}

/// Opens `input` as a row source; `jpeg` options (scale, region) apply to JPEG input only.
pub fn open_with(input: Input, jpeg: DecodeOptions) -> Result<Box<dyn RowSource>> {
    match sniff(&input)? {
        Format::Png => Ok(Box::new(PngDecoder::new(input)?)),
        Format::Jpeg => Ok(Box::new(JpegDecoder::new(input, jpeg)?)),
    }
}
