//! Entropy decoding with one cursor per scan, one MCU row at a time.
//!
//! A [`ScanCursor`] is everything needed to resume a scan where it stopped: its own byte position
//! in the file (inside its [`BitReader`]), its Huffman tables as they were when the scan started,
//! the DC predictors, the end-of-band run (which runs across blocks, rows and, for progressive
//! AC scans, MCU rows), and the restart counter. [`ScanCursor::decode_row`] decodes the blocks
//! of one MCU row into a coefficient buffer that holds one MCU row of every component; calling
//! every cursor in file order for each row applies the scans in the order the encoder sent them,
//! which is all that successive-approximation refinement needs. Each scan is decoded once.
//!
//! Blocks per row (T.81 A.2): an interleaved scan codes whole MCUs, padding blocks included; a
//! scan of one component codes only the blocks holding real samples of that component,
//! `ceil(ceil(X * H / Hmax) / 8)` per row and `ceil(ceil(Y * V / Vmax) / 8)` rows.
//!
//! Damage (a bad Huffman code, data that ends before the scan's last block) is an error, unless
//! the [`FailOn`] level lets it pass: then the rest of the scan is left zero (the cursor stops:
//! nothing more of it is read), or, with restart markers, the rest of the restart interval, and
//! decoding resumes at the next marker, as libjpeg does after its "Corrupt JPEG data" warnings.
//!
//! Progressive decoding follows T.81 G.1.2: DC first (difference << Al), DC refinement (one bit),
//! AC first (run/size with EOBRUN), AC refinement (correction bits for coefficients already
//! non-zero, new coefficients of magnitude 1 << Al). Coefficients are stored in natural order.

use std::sync::Arc;

use super::huffman::{BitReader, HuffTable, LOOKAHEAD};
use super::markers::Scan;
use super::tables::ZIGZAG;
use crate::codec::FailOn;
use crate::error::{Error, Result};

/// Block geometry of one component, as the cursors need it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlockGeometry {
    /// Sampling factors.
    pub h: usize,
    pub v: usize,
    /// Blocks per row of the coefficient buffer (MCUs per row x H).
    pub buf_cols: usize,
    /// Blocks holding real samples: per row, and rows in the whole image.
    pub real_cols: usize,
    pub real_rows: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sequential,
    DcFirst,
    DcRefine,
    AcFirst,
    AcRefine,
}

/// The resumable state of one scan.
pub(crate) struct ScanCursor {
    components: Vec<usize>,
    dc: Vec<Option<Arc<HuffTable>>>,
    ac: Vec<Option<Arc<HuffTable>>>,
    ss: usize,
    se: usize,
    al: u32,
    restart_interval: u32,
    kind: Kind,
    reader: BitReader,
    eobrun: u32,
    pred: [i32; 4],
    restarts_left: u32,
    /// Set when damage was passed over with no restart marker to resume at: the rest of the
    /// scan is zero and nothing more of it is read.
    stopped: bool,
    /// Set when damage was passed over inside a restart interval: its remaining units are zero,
    /// and decoding resumes at the next restart marker.
    skipping: bool,
    /// Which damage fails instead of being passed over.
    fail_on: FailOn,
    /// Whether the file ends inside this scan's data (running out of it is truncation, not
    /// corruption).
    cut_off: bool,
    /// Damaged places passed over so far, and what the first one was.
    faults: u32,
    first_fault: Option<&'static str>,
    /// Per scan component: only the DC coefficient is needed (sequential scans skip storing AC).
    dc_only: [bool; 4],
    /// For interleaved scans, the blocks of one MCU (built on first use).
    mcu_blocks: Vec<(usize, usize, usize, usize)>,
    /// File offset up to which this scan's consumed data has been handed back.
    released_to: usize,
}

fn corrupt(detail: &str) -> Error {
    Error::format("JPEG", detail)
}

impl ScanCursor {
    /// A cursor at the start of `scan`.
    pub(crate) fn new(scan: &Scan, progressive: bool) -> ScanCursor {
        let kind = if !progressive {
            Kind::Sequential
        } else if scan.ss == 0 {
            if scan.ah == 0 {
                Kind::DcFirst
            } else {
                Kind::DcRefine
            }
        } else if scan.ah == 0 {
            Kind::AcFirst
        } else {
            Kind::AcRefine
        };
        ScanCursor {
            components: scan.components.clone(),
            dc: scan.dc.clone(),
            ac: scan.ac.clone(),
            ss: scan.ss as usize,
            se: scan.se as usize,
            al: scan.al as u32,
            restart_interval: scan.restart_interval as u32,
            kind,
            reader: BitReader::new(scan.data_start),
            eobrun: 0,
            pred: [0; 4],
            restarts_left: scan.restart_interval as u32,
            stopped: false,
            skipping: false,
            fail_on: FailOn::Error,
            cut_off: false,
            faults: 0,
            first_fault: None,
            dc_only: [false; 4],
            mcu_blocks: Vec::new(),
            released_to: scan.data_start,
        }
    }

    /// A range of this scan's data the cursor has read past, once it is worth releasing (see
    /// [`crate::io::Input::release`]); each scan owns a disjoint part of the file.
    pub(crate) fn take_consumed(&mut self) -> Option<std::ops::Range<usize>> {
        use crate::io::InputReader;
        let keep_from = self.reader.pos.saturating_sub(InputReader::KEEP_BEHIND);
        if keep_from >= self.released_to + InputReader::RELEASE_STEP {
            let range = self.released_to..keep_from;
            self.released_to = keep_from;
            return Some(range);
        }
        None
    }

    /// Sets which damage fails (the default is [`FailOn::Error`]: all of it), and whether the file
    /// ends inside this scan (then running out of data is truncation).
    pub(crate) fn set_fail_on(&mut self, fail_on: FailOn, cut_off: bool) {
        self.fail_on = fail_on;
        self.cut_off = cut_off;
    }

    /// Whether the cursor has given up on the rest of its scan (after passing over damage).
    pub(crate) fn stopped(&self) -> bool {
        self.stopped
    }

    /// Damaged places passed over, and a description of the first one.
    pub(crate) fn faults(&self) -> (u32, Option<&'static str>) {
        (self.faults, self.first_fault)
    }

    /// Marks the scan components whose frame component needs only DC coefficients.
    pub(crate) fn set_dc_only(&mut self, frame_dc_only: &[bool]) {
        for (si, &c) in self.components.iter().enumerate() {
            self.dc_only[si] = frame_dc_only[c];
        }
    }

    /// The frame components this scan holds.
    pub(crate) fn components(&self) -> &[usize] {
        &self.components
    }

    /// First coefficient (zig-zag index) of the scan's spectral band.
    pub(crate) fn spectral_start(&self) -> usize {
        if self.kind == Kind::Sequential {
            0
        } else {
            self.ss
        }
    }

    /// Decodes the blocks of MCU row `row` into `coefs` (one buffer per frame component, each
    /// `V` block rows of `buf_cols` blocks of 64 coefficients).
    pub(crate) fn decode_row(
        &mut self,
        data: &[u8],
        row: usize,
        geometry: &[BlockGeometry],
        mcus_x: usize,
        coefs: &mut [Vec<i16>],
    ) -> Result<()> {
        if self.stopped {
            return Ok(());
        }
        if self.components.len() > 1 {
            if self.mcu_blocks.is_empty() {
                // The blocks of one MCU in scan order: (scan component, frame component, offset
                // of the block in the first MCU, step per MCU).
                for (si, &c) in self.components.iter().enumerate() {
                    let g = geometry[c];
                    for by in 0..g.v {
                        for bx in 0..g.h {
                            self.mcu_blocks.push((si, c, (by * g.buf_cols + bx) * 64, g.h * 64));
                        }
                    }
                }
            }
            let blocks = std::mem::take(&mut self.mcu_blocks);
            let mut result = Ok(());
            for mx in 0..mcus_x {
                self.restart_check(data);
                if self.stopped {
                    break;
                }
                if self.skipping {
                    continue;
                }
                let mut decoded = Ok(());
                for &(si, c, offset, step) in &blocks {
                    let at = offset + mx * step;
                    let block: &mut [i16; 64] = (&mut coefs[c][at..at + 64]).try_into().unwrap();
                    decoded = self.decode_block(data, si, block);
                    if decoded.is_err() {
                        break;
                    }
                }
                result = self.check_unit(decoded);
                if result.is_err() {
                    break;
                }
            }
            self.mcu_blocks = blocks;
            return result;
        } else {
            let c = self.components[0];
            let g = geometry[c];
            let first = row * g.v;
            let last = ((row + 1) * g.v).min(g.real_rows);
            for by in first..last {
                for bx in 0..g.real_cols {
                    self.restart_check(data);
                    if self.stopped {
                        return Ok(());
                    }
                    if self.skipping {
                        continue;
                    }
                    let at = ((by - first) * g.buf_cols + bx) * 64;
                    let block: &mut [i16; 64] = (&mut coefs[c][at..at + 64]).try_into().unwrap();
                    let decoded = self.decode_block(data, 0, block);
                    self.check_unit(decoded)?;
                }
            }
        }
        Ok(())
    }

    /// After one MCU (or block) was decoded with `decoded` as result: an error if it or the
    /// reader's state shows damage that the fail-on level does not let pass; otherwise the
    /// damage is passed over (the rest of the interval or scan is skipped).
    #[inline(always)]
    fn check_unit(&mut self, decoded: Result<()>) -> Result<()> {
        let (error, what) = match decoded {
            Ok(()) if !self.reader.overrun() => return Ok(()),
            Ok(()) => (
                corrupt("entropy-coded data ends before the scan's last block (truncated or corrupt file)"),
                "scan data ends early",
            ),
            Err(e) => (e, "corrupt entropy-coded data"),
        };
        // Running into the end of a file that ends inside this scan is truncation.
        let truncated = self.cut_off && self.reader.overrun();
        if self.fail_on.fails_on(truncated) {
            return Err(error);
        }
        self.faults += 1;
        self.first_fault.get_or_insert(what);
        if self.restart_interval > 0 {
            self.skipping = true;
        } else {
            self.stopped = true;
        }
        Ok(())
    }

    #[inline(always)]
    fn restart_check(&mut self, data: &[u8]) {
        if self.restart_interval > 0 {
            if self.restarts_left == 0 {
                let found = self.reader.restart(data);
                self.pred = [0; 4];
                self.eobrun = 0;
                self.restarts_left = self.restart_interval;
                if self.skipping {
                    // Resynchronised at a restart marker; with none ahead, the scan is over.
                    self.skipping = false;
                    self.stopped = !found;
                }
            }
            self.restarts_left -= 1;
        }
    }

    #[inline(always)]
    fn decode_block(&mut self, data: &[u8], si: usize, block: &mut [i16; 64]) -> Result<()> {
        match self.kind {
            Kind::Sequential if self.dc_only[si] => self.sequential::<false>(data, si, block),
            Kind::Sequential => self.sequential::<true>(data, si, block),
            Kind::DcFirst => self.dc_first(data, si, block),
            Kind::DcRefine => {
                if self.reader.bit(data) {
                    block[0] |= (1i32 << self.al) as i16;
                }
                Ok(())
            }
            Kind::AcFirst => self.ac_first(data, si, block),
            Kind::AcRefine => self.ac_refine(data, si, block),
        }
    }

    #[inline(always)]
    fn dc_diff(&mut self, data: &[u8], si: usize) -> Result<i32> {
        let table = self.dc[si].as_deref().ok_or_else(|| corrupt("scan without DC table"))?;
        let s = table.decode(&mut self.reader, data)? as u32;
        if s > 16 {
            return Err(corrupt("DC difference longer than 16 bits"));
        }
        Ok(self.reader.receive_extend(s, data))
    }

    #[inline(always)]
    /// A sequential block; with `STORE` false the AC coefficients are decoded (to find the next
    /// block) but not stored, for components whose IDCT reads only the DC term (1/8 scale).
    fn sequential<const STORE: bool>(&mut self, data: &[u8], si: usize, block: &mut [i16; 64]) -> Result<()> {
        let diff = self.dc_diff(data, si)?;
        self.pred[si] = self.pred[si].wrapping_add(diff);
        block[0] = self.pred[si] as i16;
        let table = self.ac[si].as_deref().ok_or_else(|| corrupt("scan without AC table"))?;
        let reader = &mut self.reader;
        let mut k = 1usize;
        while k < 64 {
            reader.ensure(LOOKAHEAD, data);
            let fast = table.ac_fast(reader);
            if fast != 0 {
                reader.consume((fast & 15) as u32);
                if fast >> 8 == 0 {
                    break; // end of block
                }
                k += ((fast >> 4) & 15) as usize;
                if STORE {
                    block[ZIGZAG[k] as usize] = (fast >> 8) as i16;
                }
                k += 1;
                continue;
            }
            let rs = table.decode(reader, data)?;
            let (run, size) = ((rs >> 4) as usize, (rs & 15) as u32);
            if size == 0 {
                if run == 15 {
                    k += 16;
                    continue;
                }
                break;
            }
            k += run;
            let value = reader.receive_extend(size, data);
            if STORE {
                block[ZIGZAG[k.min(79)] as usize] = value as i16;
            }
            k += 1;
        }
        Ok(())
    }

    fn dc_first(&mut self, data: &[u8], si: usize, block: &mut [i16; 64]) -> Result<()> {
        let diff = self.dc_diff(data, si)?;
        self.pred[si] = self.pred[si].wrapping_add(diff);
        block[0] = (self.pred[si] << self.al) as i16;
        Ok(())
    }

    fn ac_first(&mut self, data: &[u8], si: usize, block: &mut [i16; 64]) -> Result<()> {
        if self.eobrun > 0 {
            self.eobrun -= 1;
            return Ok(());
        }
        let table = self.ac[si].as_deref().ok_or_else(|| corrupt("scan without AC table"))?;
        let reader = &mut self.reader;
        let mut k = self.ss;
        while k <= self.se {
            let rs = table.decode(reader, data)?;
            let (run, size) = ((rs >> 4) as u32, (rs & 15) as u32);
            if size != 0 {
                k += run as usize;
                let value = reader.receive_extend(size, data);
                block[ZIGZAG[k.min(79)] as usize] = (value << self.al) as i16;
                k += 1;
            } else if run == 15 {
                k += 16;
            } else {
                self.eobrun = (1u32 << run) - 1 + reader.bits(run, data);
                break;
            }
        }
        Ok(())
    }

    fn ac_refine(&mut self, data: &[u8], si: usize, block: &mut [i16; 64]) -> Result<()> {
        let p1 = 1i32 << self.al;
        let m1 = -1i32 << self.al;
        let table = self.ac[si].as_deref().ok_or_else(|| corrupt("scan without AC table"))?;
        let reader = &mut self.reader;
        let se = self.se;
        let mut k = self.ss;
        // Applies a correction bit to an already non-zero coefficient.
        let refine = |reader: &mut BitReader, coef: &mut i16| {
            if reader.bit(data) && (*coef as i32 & p1) == 0 {
                *coef = (*coef as i32 + if *coef >= 0 { p1 } else { m1 }) as i16;
            }
        };
        if self.eobrun == 0 {
            while k <= se {
                let rs = table.decode(reader, data)?;
                let (mut run, size) = ((rs >> 4) as i32, (rs & 15) as u32);
                let mut value = 0i32;
                if size != 0 {
                    // Only magnitude 1 is legal here; libjpeg reads one sign bit whatever size says.
                    value = if reader.bit(data) { p1 } else { m1 };
                } else if run != 15 {
                    self.eobrun = (1u32 << run) + reader.bits(run as u32, data);
                    break;
                }
                while k <= se {
                    let z = ZIGZAG[k] as usize;
                    if block[z] != 0 {
                        refine(reader, &mut block[z]);
                    } else {
                        if run == 0 {
                            break;
                        }
                        run -= 1;
                    }
                    k += 1;
                }
                if value != 0 && k <= se {
                    block[ZIGZAG[k] as usize] = value as i16;
                }
                k += 1;
            }
        }
        if self.eobrun > 0 {
            while k <= se {
                let z = ZIGZAG[k] as usize;
                if block[z] != 0 {
                    refine(reader, &mut block[z]);
                }
                k += 1;
            }
            self.eobrun -= 1;
        }
        Ok(())
    }
}
