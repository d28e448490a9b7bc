//! The TIFF decoder in the registry: headers of any page, the heap from the decoder's layout,
//! crop-on-load, and the embedded ICC profile and XMP packet.
//!
//! EXIF is not returned: a TIFF's EXIF is a sub-IFD of the file itself, which would have to be
//! re-serialised as a TIFF structure of its own.

use std::sync::Arc;

use super::directory::{tag, Directory, FileHeader};
use super::image::TiffImage;
use super::rows::{DecoderLayout, TiffDecoder};
use crate::codec::probe::Metadata;
use crate::codec::spec::{DecodeRequest, DecoderSpec, Embedded, Header};
use crate::codec::Format;
use crate::error::{Error, Result};
use crate::io::Input;
use crate::pipeline::BoxedSource;
use crate::pixel::ImageInfo;

/// The TIFF decoder as a [`DecoderSpec`].
#[derive(Debug)]
pub struct TiffDecoding;

fn image(header: &Header) -> Result<&Arc<TiffImage>> {
    header.parsed::<Arc<TiffImage>>().ok_or_else(|| Error::parameter("a TIFF decoder was given another format's header"))
}

/// What `stripflow info` says of the storage: compression, strips or tiles, planes.
fn layout_detail(image: &TiffImage) -> String {
    let c = image.chunks;
    let chunks = if c.tiled {
        format!("tiles {}x{}", c.width, c.height)
    } else {
        format!("strips of {} rows", c.height)
    };
    let planar = if image.planar { ", planar" } else { "" };
    let big = if image.dir.header.big_tiff { ", BigTIFF" } else { "" };
    let predictor = if image.predictor { " + predictor" } else { "" };
    format!("{}{predictor}, {chunks}{planar}{big}", image.compression.name())
}

impl DecoderSpec for TiffDecoding {
    fn read_header(&self, input: &Input) -> Result<Header> {
        self.read_page_header(input, 0)
    }

    fn read_page_header(&self, input: &Input, page: u32) -> Result<Header> {
        let image = TiffImage::read(input, page)?;
        let format = image.output_format(false);
        let info = ImageInfo { width: image.width, height: image.height, format };
        let metadata = Metadata {
            format: Format::Tiff,
            width: image.width,
            height: image.height,
            color: image.color_name().to_string(),
            bit_depth: image.bits,
            interlaced: false,
            progressive: false,
            orientation: image.orientation,
            decoded_format: format.to_string(),
            pages: image.pages,
            layout: layout_detail(&image),
        };
        Ok(Header::new(Format::Tiff, info, image.orientation, metadata, Arc::new(Arc::new(image))))
    }

    fn crops_on_load(&self) -> bool {
        true
    }

    fn heap_lower_bound(&self, header: &Header, request: &DecodeRequest) -> usize {
        self.layout(header, request).map_or(0, |(image, layout)| layout.heap_bytes(image))
    }

    fn heap_bytes(&self, _input: &Input, header: &Header, request: &DecodeRequest) -> Result<usize> {
        let (image, layout) = self.layout(header, request)?;
        Ok(layout.heap_bytes(image))
    }

    fn build(&self, input: Input, header: &Header, request: &DecodeRequest) -> Result<BoxedSource> {
        let image = image(header)?.clone();
        let rows = request.rows_needed;
        Ok(Box::new(TiffDecoder::new(input, image, request.region, request.cmyk, request.fail_on, rows, request.threads)?))
    }

    fn read_embedded(&self, input: &Input, header: &Header) -> Result<Embedded> {
        let image = image(header)?;
        let block = |t| match image.dir.field(t) {
            Some(f) => image.dir.bytes(input, f, Embedded::MAX_BLOCK_BYTES),
            None => Ok(None),
        };
        Ok(Embedded { icc: block(tag::ICC_PROFILE)?, exif: None, xmp: block(tag::XMP)? })
    }
}

impl TiffDecoding {
    fn layout<'h>(&self, header: &'h Header, request: &DecodeRequest) -> Result<(&'h TiffImage, DecoderLayout)> {
        let image = image(header)?;
        if request.shrink != 1 {
            return Err(Error::parameter("the TIFF decoder has no shrink-on-load"));
        }
        Ok((image, DecoderLayout::new(image, request.region, request.threads)?))
    }
}

/// The ICC profile of the TIFF `input`'s first page (tag 34675), where it is and how long:
/// `None` if it has none.
pub(crate) fn icc_profile_field(input: &Input) -> Result<Option<(u64, usize)>> {
    let header = FileHeader::read(input)?;
    let dir = Directory::read(input, header, header.first_ifd)?;
    Ok(dir.field(tag::ICC_PROFILE).map(|f| (f.offset, f.byte_len() as usize)))
}
