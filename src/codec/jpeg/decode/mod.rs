//! The streaming JPEG decoder: baseline, extended and progressive Huffman-coded 8-bit JPEG, emitted
//! row by row while holding one MCU row (plus context) of state.
//!
//! Layers, each in its own module:
//! * `markers`: the first pass over the file: segments, tables, and where each scan's data is
//!   (`walk`: how it reads the file, by position through a bounded window).
//! * `huffman`: lookahead Huffman tables and the bit reader.
//! * `entropy`: one resumable cursor per scan, decoding one MCU row at a time.
//! * `idct`: dequantisation and the 8x8 / reduced inverse DCTs.
//! * `upsample` and `color`: libjpeg's fancy upsampling and colour conversion.
//! * `metadata`: what the headers say, without decoding pixels.
//!
//! For every MCU row, every scan's cursor decodes that row's blocks, in file order, into a
//! coefficient buffer of one MCU row; the blocks are then transformed into a ring of three MCU
//! rows of component samples (the row being emitted and its neighbours, which fancy vertical
//! upsampling reads). Output rows are upsampled and colour-converted one at a time when asked
//! for, so the result does not depend on strip height. Baseline and progressive files take the
//! same path: a sequential file just has one (or one per component) sequential scan.
//!
//! Shrink-on-load: at 1/2, 1/4, 1/8 every component uses a 4x4, 2x2 or 1x1 IDCT, or a larger one
//! for subsampled chroma so that it needs no upsampling (libjpeg-turbo's choice), and progressive
//! AC scans whose band lies beyond what those IDCTs read are never decoded (at 1/8 that is every
//! AC scan). Crop-on-load: rows after the region's last MCU row are never decoded, and blocks
//! outside the region's columns are not transformed, upsampled or converted.

mod color;
mod entropy;
mod huffman;
mod idct;
mod markers;
mod metadata;
mod nonzero;
pub(crate) mod tables;
mod upsample;
mod walk;

pub use metadata::{read_icc_profile, read_metadata, scaled_size, JpegColorSpace, JpegMetadata};

use entropy::{BlockGeometry, ScanCursor};
use idct::Reduced;
use markers::{parse, ParseMode};
use upsample::Upsample;

use crate::codec::FailOn;
use crate::error::{Error, Result};
use crate::io::Input;
use crate::pipeline::{RowCounter, RowSource};
use crate::pixel::{ImageInfo, PixelFormat};

/// A rectangle of the (scaled) output image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Left column, in scaled output pixels.
    pub x: u32,
    /// Top row, in scaled output pixels.
    pub y: u32,
    /// Width in scaled output pixels.
    pub width: u32,
    /// Height in scaled output pixels.
    pub height: u32,
}

/// How to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Shrink-on-load: 1, 2, 4 or 8; the output is `scaled_size(width, height, denominator)`.
    pub scale_denominator: u8,
    /// Crop-on-load: emit only this region of the scaled image.
    pub region: Option<Region>,
    /// Which damaged scan data fails rather than being rendered (missing data as zero
    /// coefficients: grey or blurred, as libjpeg does with a warning); see [`FailOn`]. Damaged
    /// headers always fail.
    pub fail_on: FailOn,
    /// A four-component (CMYK or YCCK) file is emitted as 4-channel CMYK rows of ink amounts
    /// (0 = no ink, Adobe's inversion undone), for a colour stage with the file's CMYK profile,
    /// instead of the RGB approximation. The rows are typed [`PixelFormat::RGBA8`] (four 8-bit
    /// channels); other files ignore the option.
    pub cmyk: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions { scale_denominator: 1, region: None, fail_on: FailOn::Error, cmyk: false }
    }
}

/// One frame component's decoding state.
struct Component {
    /// IDCT output size (8, 4, 2 or 1 samples per block side).
    size: usize,
    /// Samples per row of the plane (coefficient buffer blocks x size).
    plane_w: usize,
    /// Sample rows per MCU row (V x size).
    rows_per_mcu: usize,
    /// Real samples per row and rows of the component at this scale.
    ds_w: usize,
    ds_h: usize,
    upsample: Upsample,
    quant: [u16; 64],
    /// Block columns transformed (crop-on-load).
    block_cols: (usize, usize),
    /// Input columns the region needs (for column sums).
    in_cols: (usize, usize),
    /// Three MCU rows of samples, slot = MCU row % 3.
    plane: Vec<u8>,
    /// One upsampled row (output width + slack).
    row: Vec<u8>,
    /// Column sums for fancy vertical upsampling.
    sums: Vec<u16>,
}

impl Component {
    /// Samples of component row `y` (clamped to the real rows), as decoded.
    fn plane_row(&self, y: isize) -> &[u8] {
        let y = y.clamp(0, self.ds_h as isize - 1) as usize;
        let slot = (y / self.rows_per_mcu) % 3;
        let at = (slot * self.rows_per_mcu + y % self.rows_per_mcu) * self.plane_w;
        &self.plane[at..at + self.ds_w]
    }

    /// Upsamples the component's contribution to output row `oy`, columns `x0..x1`, into
    /// `self.row` (unless it is already full size; then the plane row is used directly).
    fn upsample_row(&mut self, oy: usize, x0: usize, x1: usize) {
        match self.upsample {
            Upsample::Full => {}
            Upsample::H2V1 => {
                let y = oy as isize;
                let (plane, row) = self.split(y);
                upsample::h2v1(plane, row, x0, x1);
            }
            Upsample::H1V2 | Upsample::H2V2 => {
                let cy = (oy / 2) as isize;
                let lower = oy % 2 == 1;
                let far_y = if lower { cy + 1 } else { cy - 1 };
                let (i0, i1) = self.in_cols;
                let mut sums = std::mem::take(&mut self.sums);
                upsample::column_sums(self.plane_row(cy), self.plane_row(far_y), &mut sums, i0, i1);
                if self.upsample == Upsample::H2V2 {
                    upsample::h2v2(&sums, self.ds_w, &mut self.row, x0, x1);
                } else {
                    upsample::h1v2(&sums, &mut self.row, lower, x0, x1);
                }
                self.sums = sums;
            }
            Upsample::Replicate { h, v } => {
                let y = (oy / v) as isize;
                let (plane, row) = self.split(y);
                upsample::replicate(plane, h, row, x0, x1);
            }
        }
    }

    fn split(&mut self, y: isize) -> (&[u8], &mut [u8]) {
        let y = y.clamp(0, self.ds_h as isize - 1) as usize;
        let slot = (y / self.rows_per_mcu) % 3;
        let at = (slot * self.rows_per_mcu + y % self.rows_per_mcu) * self.plane_w;
        (&self.plane[at..at + self.ds_w], &mut self.row[..])
    }

    /// The samples of output row `oy` after `upsample_row`, columns `x0..x1`.
    fn output(&self, oy: usize, x0: usize, x1: usize) -> &[u8] {
        if self.upsample == Upsample::Full {
            &self.plane_row(oy as isize)[x0..x1]
        } else {
            &self.row[x0..x1]
        }
    }
}

/// A streaming JPEG decoder; a [`RowSource`] of `GRAY8` (one component) or `RGB8` rows.
pub struct JpegDecoder {
    input: Input,
    metadata: JpegMetadata,
    info: ImageInfo,
    components: Vec<Component>,
    geometry: Vec<BlockGeometry>,
    coefs: Vec<Vec<i16>>,
    cursors: Vec<ScanCursor>,
    reduced: Reduced,
    mcus_x: usize,
    mcus_y: usize,
    /// Output rows per MCU row at this scale.
    out_rows_per_mcu: usize,
    /// Region in scaled output coordinates.
    x0: usize,
    y0: usize,
    /// MCU rows decoded so far.
    decoded: usize,
    /// First MCU row whose blocks are transformed (rows above the region are only entropy-decoded).
    first_idct_row: usize,
    context: bool,
    progressive: bool,
    counter: RowCounter,
}

impl std::fmt::Debug for JpegDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JpegDecoder").field("metadata", &self.metadata).field("info", &self.info).finish()
    }
}

impl JpegDecoder {
    /// Prepares to decode `input`: walks the markers, checks what is supported, and allocates
    /// every buffer (one MCU row of coefficients, three of samples).
    pub fn new(input: Input, options: DecodeOptions) -> Result<JpegDecoder> {
        let denominator = options.scale_denominator;
        if !matches!(denominator, 1 | 2 | 4 | 8) {
            return Err(Error::parameter(format!("JPEG scale 1/{denominator} (use 1, 2, 4 or 8)")));
        }
        let parsed = parse(&input, ParseMode::Full)?;
        // Without EOI at the end of the walk, the file is cut off, unless it ends with one: then
        // damaged data (a segment length read from garbage) hid it, which is corruption.
        let mut tail = [0u8; 2];
        let ends_with_eoi = input.len() >= 2 && input.read_at(input.len() - 2, &mut tail)? == 2 && tail == [0xFF, 0xD9];
        let cut_off = !parsed.complete && !ends_with_eoi;
        if !parsed.complete && options.fail_on.fails_on(cut_off) {
            return Err(Error::format("JPEG", "file is truncated (no EOI marker after the last scan)"));
        }
        let frame = &parsed.frame;
        let (width, height) = (frame.width as usize, frame.height as usize);
        let (hmax, vmax) = (frame.hmax as usize, frame.vmax as usize);
        let mcus_x = width.div_ceil(8 * hmax);
        let mcus_y = height.div_ceil(8 * vmax);
        let min_size = 8 / denominator as usize;
        let (out_w, out_h) = scaled_size(frame.width, frame.height, denominator);
        let region = options.region.unwrap_or(Region { x: 0, y: 0, width: out_w, height: out_h });
        if region.width == 0
            || region.height == 0
            || region.x as u64 + region.width as u64 > out_w as u64
            || region.y as u64 + region.height as u64 > out_h as u64
        {
            return Err(Error::parameter(format!(
                "region {}x{}+{}+{} outside the {out_w}x{out_h} image",
                region.width, region.height, region.x, region.y
            )));
        }
        let (x0, x1) = (region.x as usize, (region.x + region.width) as usize);
        let fancy = min_size > 1;

        let mut components = Vec::new();
        let mut geometry = Vec::new();
        let mut coefs = Vec::new();
        for (ci, fc) in frame.components.iter().enumerate() {
            let (h, v) = (fc.h as usize, fc.v as usize);
            // libjpeg-turbo: scale chroma up in the IDCT rather than in the upsampler.
            let mut size = min_size;
            while size < 8 && (hmax * min_size) % (h * size * 2) == 0 && (vmax * min_size) % (v * size * 2) == 0 {
                size *= 2;
            }
            let (h_in, v_in) = (h * size, v * size);
            let (h_out, v_out) = (hmax * min_size, vmax * min_size);
            if h_out % h_in != 0 || v_out % v_in != 0 {
                return Err(Error::unsupported("JPEG", "fractional sampling factors"));
            }
            let (hr, vr) = (h_out / h_in, v_out / v_in);
            let buf_cols = mcus_x * h;
            let plane_w = buf_cols * size;
            let rows_per_mcu = v * size;
            let ds_w = (width * h * size).div_ceil(hmax * 8);
            let upsample = Upsample::choose(hr, vr, fancy, ds_w);
            let ds_h = (height * v * size).div_ceil(vmax * 8);
            // Input columns the region needs, with one column of context each side.
            let i0 = (x0 / hr).saturating_sub(1);
            let i1 = (x1.div_ceil(hr) + 1).min(ds_w);
            let block_cols = (i0 / size, i1.div_ceil(size));
            components.push(Component {
                size,
                plane_w,
                rows_per_mcu,
                ds_w,
                ds_h,
                upsample,
                quant: parsed.quant[ci],
                block_cols,
                in_cols: (i0, i1),
                plane: vec![0u8; 3 * rows_per_mcu * plane_w],
                row: if upsample == Upsample::Full { Vec::new() } else { vec![0u8; out_w as usize + 2 * hr] },
                sums: if upsample.needs_context() { vec![0u16; ds_w] } else { Vec::new() },
            });
            geometry.push(BlockGeometry {
                h,
                v,
                buf_cols,
                real_cols: (width * h).div_ceil(hmax).div_ceil(8),
                real_rows: (height * v).div_ceil(vmax).div_ceil(8),
            });
            coefs.push(vec![0i16; v * buf_cols * 64]);
        }

        // Cursors for the scans that matter at this scale, sharing a bounded window budget.
        let dc_only: Vec<bool> = components.iter().map(|c| c.size == 1).collect();
        let needed: Vec<(usize, &markers::Scan)> = parsed
            .scans
            .iter()
            .enumerate()
            .filter(|(_, scan)| {
                !(frame.progressive
                    && scan.ss > 0
                    && scan.ss as usize > last_needed_coefficient(components[scan.components[0]].size))
            })
            .collect();
        let share = cursor_window_share(needed.len());
        let mut cursors = Vec::with_capacity(needed.len());
        for (i, scan) in needed {
            let mut cursor = ScanCursor::new(scan, frame.progressive, &input, share);
            cursor.set_dc_only(&dc_only);
            // A file cut off (no EOI) ends inside its last scan, if anywhere.
            cursor.set_fail_on(options.fail_on, cut_off && i + 1 == parsed.scans.len());
            cursors.push(cursor);
        }

        let out_rows_per_mcu = vmax * min_size;
        let context = components.iter().any(|c| c.upsample.needs_context());
        let first_row = region.y as usize / out_rows_per_mcu;
        let first_idct_row = if context { first_row.saturating_sub(1) } else { first_row };
        let format = match frame.components.len() {
            1 => PixelFormat::GRAY8,
            4 if options.cmyk => PixelFormat::RGBA8,
            _ => PixelFormat::RGB8,
        };
        let info = ImageInfo { width: region.width, height: region.height, format };
        Ok(JpegDecoder {
            metadata: parsed.metadata,
            input,
            info,
            components,
            geometry,
            coefs,
            cursors,
            reduced: Reduced::new(),
            mcus_x,
            mcus_y,
            out_rows_per_mcu,
            x0,
            y0: region.y as usize,
            decoded: 0,
            first_idct_row,
            context,
            progressive: frame.progressive,
            counter: RowCounter::new(region.height),
        })
    }

    /// What the file's headers say.
    pub fn metadata(&self) -> &JpegMetadata {
        &self.metadata
    }

    /// Damaged places in the scan data passed over so far under a lenient [`FailOn`] level (0
    /// for an intact file), and a description of the first one: what a caller prints as a
    /// warning.
    pub fn faults(&self) -> (u32, Option<&'static str>) {
        let count = self.cursors.iter().map(|c| c.faults().0).sum();
        (count, self.cursors.iter().find_map(|c| c.faults().1))
    }

    /// Entropy-decodes MCU row `row` with every cursor, then transforms its blocks.
    fn decode_mcu_row(&mut self, row: usize) -> Result<()> {
        for (c, comp) in self.coefs.iter_mut().zip(&self.components) {
            if comp.size == 1 && !self.progressive {
                // Only DC coefficients are stored and read.
                c.iter_mut().step_by(64).for_each(|v| *v = 0);
            } else {
                c.fill(0);
            }
        }
        // Checked before this row: a cursor that stops inside the row has decoded part of it.
        let all_stopped = self.cursors.iter().all(|c| c.stopped());
        for cursor in &mut self.cursors {
            cursor.decode_row(&self.input, row, &self.geometry, self.mcus_x, &mut self.coefs)?;
        }
        if row < self.first_idct_row {
            return Ok(());
        }
        if all_stopped {
            // Nothing more will be decoded (damage passed over, FailOn): every coefficient is
            // zero and every sample mid-grey, without transforming a block.
            for comp in &mut self.components {
                let rows = comp.rows_per_mcu * comp.plane_w;
                comp.plane[row % 3 * rows..][..rows].fill(128);
            }
            return Ok(());
        }
        for (ci, comp) in self.components.iter_mut().enumerate() {
            let g = self.geometry[ci];
            let size = comp.size;
            let slot = row % 3;
            let coefs = &self.coefs[ci];
            for by in 0..g.v {
                let base = (slot * comp.rows_per_mcu + by * size) * comp.plane_w;
                if size == 8 {
                    let row = &coefs[by * g.buf_cols * 64..(by + 1) * g.buf_cols * 64];
                    let (b0, b1) = comp.block_cols;
                    idct::idct_8x8_row(row, &comp.quant, &mut comp.plane[base..], comp.plane_w, b0, b1);
                    continue;
                }
                for bx in comp.block_cols.0..comp.block_cols.1 {
                    let at = (by * g.buf_cols + bx) * 64;
                    let block: &[i16; 64] = coefs[at..at + 64].try_into().unwrap();
                    let out = &mut comp.plane[base + bx * size..];
                    self.reduced.idct(size, block, &comp.quant, out, comp.plane_w);
                }
            }
        }
        Ok(())
    }
}

/// All the scan cursors' windows together hold at most about this much (for a file read by
/// positioned reads): one cursor (a baseline file) gets [`MAX_CURSOR_WINDOW`], each of many
/// (progressive files have up to 256 scans) a share, but at least [`MIN_CURSOR_WINDOW`] and two
/// of its units.
const CURSOR_WINDOWS: usize = 128 * 1024;
/// Largest window of one scan cursor: fewer reads buy little beyond this.
const MAX_CURSOR_WINDOW: usize = 64 * 1024;
/// Smallest window of one scan cursor.
const MIN_CURSOR_WINDOW: usize = 2 * 1024;

/// The window bytes each of `cursors` scan cursors is given.
fn cursor_window_share(cursors: usize) -> usize {
    (CURSOR_WINDOWS / cursors.max(1)).clamp(MIN_CURSOR_WINDOW, MAX_CURSOR_WINDOW)
}

/// The last zig-zag index an IDCT of `size` x `size` reads. The reduced IDCTs evaluate the full
/// 8-point basis at the centres of their sample groups, so they read high frequencies too; only
/// the DC-only 1x1 "IDCT" of 1/8 scale lets AC scans be skipped.
fn last_needed_coefficient(size: usize) -> usize {
    if size == 1 {
        0
    } else {
        63
    }
}

impl RowSource for JpegDecoder {
    fn info(&self) -> ImageInfo {
        self.info
    }

    fn read_row(&mut self, out: &mut [u8]) -> Result<()> {
        if out.len() != self.info.row_bytes() {
            return Err(Error::parameter("row buffer length does not match the image width"));
        }
        let oy = self.y0 + self.counter.advance()? as usize;
        let row = oy / self.out_rows_per_mcu;
        let needed = (row + 1 + self.context as usize).min(self.mcus_y);
        while self.decoded < needed {
            self.decode_mcu_row(self.decoded)?;
            self.decoded += 1;
        }
        let (x0, x1) = (self.x0, self.x0 + self.info.width as usize);
        for comp in &mut self.components {
            comp.upsample_row(oy, x0, x1);
        }
        let c = &self.components;
        match c.len() {
            1 => out.copy_from_slice(c[0].output(oy, x0, x1)),
            3 => {
                let (a, b, d) = (c[0].output(oy, x0, x1), c[1].output(oy, x0, x1), c[2].output(oy, x0, x1));
                if self.metadata.color_space == JpegColorSpace::Rgb {
                    color::interleave(a, b, d, out);
                } else {
                    color::ycc_to_rgb(a, b, d, out);
                }
            }
            _ => {
                let (a, b, d, k) = (
                    c[0].output(oy, x0, x1),
                    c[1].output(oy, x0, x1),
                    c[2].output(oy, x0, x1),
                    c[3].output(oy, x0, x1),
                );
                if self.info.format.channels() == 4 {
                    let inverted = self.metadata.adobe_transform.is_some();
                    if self.metadata.color_space == JpegColorSpace::Ycck {
                        color::ycck_to_cmyk(a, b, d, k, out);
                    } else {
                        color::cmyk_inks(a, b, d, k, inverted, out);
                    }
                } else if self.metadata.color_space == JpegColorSpace::Ycck {
                    color::ycck_to_rgb(a, b, d, k, out);
                } else {
                    color::cmyk_to_rgb(a, b, d, k, out);
                }
            }
        }
        Ok(())
    }

    fn buffer_bytes(&self) -> usize {
        let comps: usize = self
            .components
            .iter()
            .map(|c| c.plane.capacity() + c.row.capacity() + 2 * c.sums.capacity())
            .sum();
        let coefs: usize = self.coefs.iter().map(|c| 2 * c.capacity()).sum();
        let windows: usize = self.cursors.iter().map(ScanCursor::window_heap_bytes).sum();
        comps + coefs + windows + self.cursors.len() * std::mem::size_of::<ScanCursor>()
    }

    fn name(&self) -> &'static str {
        "jpeg-decode"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coefficient_limits_per_idct_size() {
        assert_eq!(last_needed_coefficient(8), 63);
        assert_eq!(last_needed_coefficient(4), 63);
        assert_eq!(last_needed_coefficient(2), 63);
        assert_eq!(last_needed_coefficient(1), 0);
    }

    #[test]
    fn scaled_size_rounds_up() {
        assert_eq!(scaled_size(17, 1, 8), (3, 1));
        assert_eq!(scaled_size(16384, 16384, 8), (2048, 2048));
    }
}
