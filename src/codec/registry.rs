//! The codec registry: one [`Codec`] entry per format, the only place that lists them.
//!
//! Format detection, extension and name lookup, header parsing and encoder construction all go
//! through [`CODECS`]; nothing else in the crate matches on a format. Adding a format is a module
//! that implements [`DecoderSpec`] and/or [`EncoderSpec`], a [`Format`] variant and one line here
//! (see `docs/adding-a-format.md`).
//!
//! Formats that stripflow recognises but does not read or write ([`FOREIGN`]) get a typed
//! [`Error::Unsupported`] that names them, rather than "unknown signature".

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::spec::{DecoderSpec, EncoderSpec, Header};
use super::{avif, bmp, gif, jpeg, png, tiff, webp, EncodeOptions, Format};
use crate::error::{Error, Result};
use crate::io::Input;

/// A format's entry in the registry.
pub struct Codec {
    /// The format.
    pub format: Format,
    /// Lower-case name, as `--format` takes it ("png").
    pub name: &'static str,
    /// The name as people write it, for messages ("WebP").
    pub label: &'static str,
    /// Other names `--format` accepts ("jpg").
    pub aliases: &'static [&'static str],
    /// File name extensions, lower case, without the dot; the first is the usual one.
    pub extensions: &'static [&'static str],
    /// Whether `bytes` (the start of a file) carry this format's signature.
    pub sniff: fn(&[u8]) -> bool,
    /// The decoder, if stripflow reads the format.
    pub decoder: Option<&'static dyn DecoderSpec>,
    /// Makes the encoder from the job's options, if stripflow writes the format; an option that
    /// does not apply to the format is an [`Error::Parameter`].
    pub encoder: Option<fn(&EncodeOptions) -> Result<Arc<dyn EncoderSpec>>>,
}

impl std::fmt::Debug for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codec").field("format", &self.format).field("extensions", &self.extensions).finish()
    }
}

/// Every format stripflow reads or writes.
pub static CODECS: [Codec; 7] = [
    png::codec::CODEC,
    jpeg::codec::CODEC,
    tiff::codec::CODEC,
    webp::codec::CODEC,
    avif::codec::CODEC,
    gif::codec::CODEC,
    bmp::codec::CODEC,
];

/// A format known by name, extension or signature, but neither read nor written.
#[derive(Debug)]
pub struct Foreign {
    /// Its name for people.
    pub name: &'static str,
    /// Its extensions.
    pub extensions: &'static [&'static str],
    /// Its signature test.
    pub sniff: fn(&[u8]) -> bool,
}

/// Formats users send that stripflow does not handle (yet): named in errors.
pub static FOREIGN: [Foreign; 1] = [
    Foreign {
        name: "HEIF",
        extensions: &["heic", "heif"],
        sniff: |b| iso_brand(b, &[b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"]),
    },
];

/// Whether `b` starts with an ISO base media `ftyp` box of one of `brands`.
pub(crate) fn iso_brand(b: &[u8], brands: &[&[u8; 4]]) -> bool {
    b.len() >= 12 && &b[4..8] == b"ftyp" && brands.iter().any(|brand| &b[8..12] == *brand)
}

/// The registry entry of `format`.
pub fn codec(format: Format) -> &'static Codec {
    CODECS.iter().find(|c| c.format == format).expect("every Format has a registry entry")
}

/// The codec whose signature starts `bytes`, or a typed error: [`Error::Format`] for an empty
/// input, [`Error::Unsupported`] naming a known foreign format or saying the signature is
/// unknown.
pub fn sniff(bytes: &[u8]) -> Result<&'static Codec> {
    if let Some(c) = CODECS.iter().find(|c| (c.sniff)(bytes)) {
        return Ok(c);
    }
    if bytes.is_empty() {
        return Err(Error::format("image", "the input is empty"));
    }
    if let Some(f) = FOREIGN.iter().find(|f| (f.sniff)(bytes)) {
        return Err(Error::unsupported("input", format!("{} images are not supported (stripflow reads {})", f.name, readable())));
    }
    Err(Error::unsupported("input", format!("unknown image format (stripflow reads {})", readable())))
}

/// The codec a file name's extension names, case-insensitive: `Ok(None)` without an extension,
/// an [`Error::Unsupported`] for a known foreign one, [`Error::Parameter`] for an unknown one.
pub fn by_extension(path: &Path) -> Result<Option<&'static Codec>> {
    let Some(ext) = path.extension() else { return Ok(None) };
    let ext = ext.to_string_lossy().to_ascii_lowercase();
    if let Some(c) = CODECS.iter().find(|c| c.extensions.contains(&ext.as_str())) {
        return Ok(Some(c));
    }
    if let Some(f) = FOREIGN.iter().find(|f| f.extensions.contains(&ext.as_str())) {
        return Err(Error::unsupported("output", format!("{} ('.{ext}') is not a format stripflow writes (it writes {})", f.name, writable())));
    }
    Err(Error::parameter(format!("'.{ext}' is not an image extension stripflow knows (it writes {})", writable())))
}

/// The codec named `name` ("png", "jpeg", "jpg"), case-insensitive.
pub fn by_name(name: &str) -> Result<&'static Codec> {
    let name = name.trim().to_ascii_lowercase();
    if let Some(c) = CODECS.iter().find(|c| c.name == name || c.aliases.contains(&name.as_str())) {
        return Ok(c);
    }
    if let Some(f) = FOREIGN.iter().find(|f| f.name.eq_ignore_ascii_case(&name) || f.extensions.contains(&name.as_str())) {
        return Err(Error::unsupported("output", format!("{} is not a format stripflow writes (it writes {})", f.name, writable())));
    }
    Err(Error::parameter(format!("unknown format '{name}' (stripflow writes {})", writable())))
}

fn names(filter: impl Fn(&Codec) -> bool) -> String {
    CODECS.iter().filter(|c| filter(c)).map(|c| c.name).collect::<Vec<_>>().join(", ")
}

/// The formats stripflow reads, for messages ("png, jpeg").
pub fn readable() -> String {
    names(|c| c.decoder.is_some())
}

/// The formats stripflow writes, for messages.
pub fn writable() -> String {
    names(|c| c.encoder.is_some())
}

/// The formats whose default encoder streams (memory independent of the image height), upper
/// case, for messages ("PNG, JPEG and TIFF").
pub fn streaming_writable() -> String {
    let names: Vec<String> = CODECS
        .iter()
        .filter(|c| {
            c.encoder
                .and_then(|make| make(&EncodeOptions::default()).ok())
                .is_some_and(|e| e.kind() == super::EncoderKind::Streaming)
        })
        .map(|c| c.label.to_string())
        .collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// Bytes at the start of an input that signatures are recognised from.
pub(crate) const SIGNATURE_BYTES: usize = 64;

static HEADER_PARSES: AtomicUsize = AtomicUsize::new(0);

/// Detects the format of `input` and parses its header: the one header parse of a job.
pub fn read_header(input: &Input) -> Result<Header> {
    read_page_header(input, 0)
}

/// As [`read_header`], for page `page` (0 is the first) of a multi-page input; a page past the
/// last is an [`Error::Parameter`].
pub fn read_page_header(input: &Input, page: u32) -> Result<Header> {
    let mut head = [0u8; SIGNATURE_BYTES];
    let got = input.read_at(0, &mut head)?;
    let codec = sniff(&head[..got])?;
    let decoder = codec
        .decoder
        .ok_or_else(|| Error::unsupported("input", format!("{} images are written but not read by stripflow (it reads {})", codec.label, readable())))?;
    HEADER_PARSES.fetch_add(1, Ordering::Relaxed);
    decoder.read_page_header(input, page)
}

/// How many headers [`read_header`] has parsed in this process (tests check one per job).
#[doc(hidden)]
pub fn header_parses() -> usize {
    HEADER_PARSES.load(Ordering::Relaxed)
}

/// The encoder for `format` configured with `options`.
pub fn encoder(format: Format, options: &EncodeOptions) -> Result<Arc<dyn EncoderSpec>> {
    let codec = codec(format);
    let make = codec
        .encoder
        .ok_or_else(|| Error::unsupported("output", format!("{} is read but not written by stripflow (it writes {})", codec.label, writable())))?;
    make(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_has_one_entry_and_names_round_trip() {
        for c in &CODECS {
            assert_eq!(codec(c.format).name, c.name);
            assert_eq!(by_name(c.name).unwrap().format, c.format);
            let path = format!("x.{}", c.extensions[0].to_ascii_uppercase());
            assert_eq!(by_extension(Path::new(&path)).unwrap().unwrap().format, c.format);
        }
    }

    #[test]
    fn foreign_and_unknown_formats_are_typed_errors() {
        let gif = b"GIF89a\x01\0\x01\0";
        assert_eq!(sniff(gif).unwrap().format, Format::Gif);
        assert_eq!(sniff(b"BM\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0").unwrap().format, Format::Bmp);
        assert!(matches!(sniff(b"hello world!"), Err(Error::Unsupported { .. })));
        assert!(matches!(sniff(b""), Err(Error::Format { .. })));
        assert!(matches!(by_extension(Path::new("x.heic")), Err(Error::Unsupported { .. })));
        assert!(matches!(by_extension(Path::new("x.txt")), Err(Error::Parameter(_))));
        assert!(by_extension(Path::new("x")).unwrap().is_none());
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0";
        assert!(sniff(heic).unwrap_err().to_string().contains("HEIF"));
    }

    #[test]
    fn tiff_is_read_and_written_and_a_bare_header_is_a_typed_format_error() {
        for signature in [&b"II*\0\x08\0\0\0"[..], b"MM\0*\0\0\0\x08", b"II+\0\x08\0\0\0\x10\0\0\0\0\0\0\0"] {
            assert_eq!(sniff(signature).unwrap().format, Format::Tiff);
            // A header pointing at an IFD beyond the file's end: the decoder reads it and says so.
            let e = read_header(&Input::from_bytes(signature.to_vec())).unwrap_err();
            assert!(matches!(e, Error::Format { .. }) && e.to_string().contains("TIFF"), "{e}");
        }
        assert!(codec(Format::Tiff).decoder.is_some());
        assert_eq!(by_extension(Path::new("x.tif")).unwrap().unwrap().format, Format::Tiff);
        assert_eq!(by_name("TIF").unwrap().format, Format::Tiff);
        assert!(encoder(Format::Tiff, &EncodeOptions::default()).is_ok());
        // A TIFF written by the encoder reads back, with its page count.
        let mut tiff = std::io::Cursor::new(Vec::new());
        let mut rows = crate::synth::Synthetic::new(5, 3, crate::pixel::PixelFormat::RGB8, 1);
        encoder(Format::Tiff, &EncodeOptions::default()).unwrap().encode_seekable(&mut rows, &mut tiff).unwrap();
        let header = read_page_header(&Input::from_bytes(tiff.into_inner()), 0).unwrap();
        assert_eq!((header.info.width, header.info.height, header.metadata.pages), (5, 3, 1));
    }

    #[test]
    fn a_single_page_format_has_only_page_zero() {
        let mut png = Vec::new();
        let mut rows = crate::synth::Synthetic::new(3, 2, crate::pixel::PixelFormat::RGB8, 1);
        png::encode::PngEncoder::default().encode(&mut rows, &mut png).unwrap();
        assert_eq!(read_page_header(&Input::from_bytes(png.clone()), 0).unwrap().info.width, 3);
        let e = read_page_header(&Input::from_bytes(png), 1).unwrap_err();
        assert!(matches!(e, Error::Parameter(_)) && e.to_string().contains("a PNG image has one page"), "{e}");
    }
}
