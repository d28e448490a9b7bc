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
//!
//! Reading: each cursor reads its scan's bytes through its own bounded [`Window`] (positioned
//! reads for a file, sub-slices for input in memory). Before each unit (an MCU of an interleaved
//! scan, a block otherwise) the window is made to hold at least the most bytes a unit can
//! consume ([`ScanCursor::unit_bytes`]: the longest codes and magnitudes of 64 coefficients,
//! doubled for `FF 00` stuffing, plus the bit reader's lookahead), or everything up to the end
//! of the scan's data; the bit reader is rebased onto that slice, so the decoding loops work on
//! one plain slice, as fast as on a mapped file, and never see a window's end as the data's.

use std::sync::Arc;

use super::huffman::{BitReader, HuffTable, Restart, LOOKAHEAD};
use super::markers::Scan;
use super::nonzero::nonzero_zigzag;
use super::tables::ZIGZAG;
use crate::codec::FailOn;
use crate::error::{Error, Result};
use crate::io::{Input, Window};

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
    /// The scan's bytes (see the module notes).
    window: Window,
    /// Input offset of byte 0 of the slice `reader` reads (its `pos` is relative to it).
    base: usize,
    /// Input offset of the marker that ends the scan's data (or the input's length).
    data_end: usize,
    /// Most input bytes one unit (MCU or block) can consume; see [`ScanCursor::unit_bytes`].
    unit_bytes: usize,
}

fn corrupt(detail: &str) -> Error {
    Error::format("JPEG", detail)
}

/// Most bits one block can take, per kind of scan (see [`ScanCursor::unit_bytes`]).
fn max_block_bits(kind: Kind) -> usize {
    match kind {
        // DC: a code and a magnitude of up to 16 bits each. AC: at most 64 steps of a 16-bit
        // code and up to 15 magnitude (or end-of-band run) bits; refinement adds up to one
        // correction bit per coefficient of the band.
        Kind::Sequential | Kind::AcFirst | Kind::AcRefine => 32 + 64 * 31 + 64,
        Kind::DcFirst => 32,
        Kind::DcRefine => 1,
    }
}

fn kind_of(scan: &Scan, progressive: bool) -> Kind {
    if !progressive {
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
    }
}

impl ScanCursor {
    /// Most input bytes one unit of `scan` can consume: an MCU (at most 10 blocks, T.81 B.2.3)
    /// of an interleaved scan, one block otherwise; bits to bytes, doubled for `FF 00`
    /// stuffing, plus the bit reader's lookahead (8 bytes, stuffed) and the byte after an `FF`.
    pub(crate) fn unit_bytes(scan: &Scan, progressive: bool) -> usize {
        let blocks = if scan.components.len() > 1 { 10 } else { 1 };
        2 * (blocks * max_block_bits(kind_of(scan, progressive))).div_ceil(8) + 2 * 8 + 8
    }

    /// A cursor at the start of `scan`, reading `input` through a window of `share` bytes (at
    /// least two units; none when `input` is read in place).
    pub(crate) fn new(scan: &Scan, progressive: bool, input: &Input, share: usize) -> ScanCursor {
        let unit_bytes = Self::unit_bytes(scan, progressive);
        let window = Window::new(input, share.max(2 * unit_bytes), scan.data_start);
        let kind = kind_of(scan, progressive);
        ScanCursor {
            components: scan.components.clone(),
            dc: scan.dc.clone(),
            ac: scan.ac.clone(),
            ss: scan.ss as usize,
            se: scan.se as usize,
            al: scan.al as u32,
            restart_interval: scan.restart_interval as u32,
            kind,
            reader: BitReader::new(0),
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
            window,
            base: scan.data_start,
            data_end: scan.data_end,
            unit_bytes,
        }
    }

    /// Heap bytes of this cursor's window.
    pub(crate) fn window_heap_bytes(&self) -> usize {
        self.window.heap_bytes()
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

    /// Decodes the blocks of MCU row `row` into `coefs` (one buffer per frame component, each
    /// `V` block rows of `buf_cols` blocks of 64 coefficients), reading `input`.
    ///
    /// A read failure (the input file shrank) is an error whatever the [`FailOn`] level.
    pub(crate) fn decode_row(
        &mut self,
        input: &Input,
        row: usize,
        geometry: &[BlockGeometry],
        mcus_x: usize,
        coefs: &mut [Vec<i16>],
    ) -> Result<()> {
        if self.stopped {
            return Ok(());
        }
        let mut window = std::mem::take(&mut self.window);
        let result = self.decode_row_from(&mut window, input, row, geometry, mcus_x, coefs);
        self.window = window;
        result
    }

    /// The bytes from the reader's position on, at least one unit of them (or all that is left
    /// of the scan's data); the reader is rebased onto them.
    #[inline(always)]
    fn unit<'a>(&mut self, window: &'a mut Window, input: &'a Input) -> Result<&'a [u8]> {
        let at = self.base + self.reader.pos;
        let data = window.get(input, at, self.unit_bytes, self.data_end)?;
        self.base = at;
        self.reader.pos = 0;
        Ok(data)
    }

    #[allow(clippy::too_many_arguments)]
    fn decode_row_from(
        &mut self,
        window: &mut Window,
        input: &Input,
        row: usize,
        geometry: &[BlockGeometry],
        mcus_x: usize,
        coefs: &mut [Vec<i16>],
    ) -> Result<()> {
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
                if let Err(e) = self.restart_check(window, input) {
                    result = Err(e);
                    break;
                }
                if self.stopped {
                    break;
                }
                if self.skipping {
                    continue;
                }
                let data = match self.unit(window, input) {
                    Ok(data) => data,
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                };
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
                    self.restart_check(window, input)?;
                    if self.stopped {
                        return Ok(());
                    }
                    if self.skipping {
                        continue;
                    }
                    let data = self.unit(window, input)?;
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
    fn restart_check(&mut self, window: &mut Window, input: &Input) -> Result<()> {
        if self.restart_interval > 0 {
            if self.restarts_left == 0 {
                // Search window after window until a marker or the end of the scan's data.
                let found = loop {
                    let at = self.base + self.reader.pos;
                    let data = window.get(input, at, self.unit_bytes, self.data_end)?;
                    self.base = at;
                    self.reader.pos = 0;
                    let at_end = at + data.len() >= self.data_end.min(input.len());
                    match self.reader.restart(data, at_end) {
                        Restart::NeedMore => {}
                        outcome => break outcome == Restart::Found,
                    }
                };
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
        Ok(())
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
        // Through `self.reader` directly: a local copy taken and put back per block (meant to
        // keep the bit buffer in registers) stayed on the stack and cost two 32-byte copies a
        // block: a 16384^2 baseline JPEG at 1/8 took 0.48 s with it and 0.38 s before it.
        sequential_ac::<STORE>(&mut self.reader, table, data, block)
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
        // On a local copy, kept in registers (see `sequential_ac`), written back on every exit.
        let mut local = self.reader;
        let reader = &mut local;
        let mut k = self.ss;
        while k <= self.se {
            let rs = match table.decode(reader, data) {
                Ok(rs) => rs,
                Err(e) => {
                    self.reader = local;
                    return Err(e);
                }
            };
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
        self.reader = local;
        Ok(())
    }

    fn ac_refine(&mut self, data: &[u8], si: usize, block: &mut [i16; 64]) -> Result<()> {
        let p1 = 1i32 << self.al;
        let m1 = -1i32 << self.al;
        let table = self.ac[si].as_deref().ok_or_else(|| corrupt("scan without AC table"))?;
        // On a local copy, kept in registers (see `sequential_ac`), written back on every exit.
        let mut local = self.reader;
        let reader = &mut local;
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
                let rs = match table.decode(reader, data) {
                    Ok(rs) => rs,
                    Err(e) => {
                        self.reader = local;
                        return Err(e);
                    }
                };
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
            // Inside an end-of-band run only the non-zero coefficients of the band take a bit;
            // visit just those, in zigzag order (refining never makes a coefficient zero).
            if k <= se {
                let mut pending = nonzero_zigzag(block) & (u64::MAX << k) & (u64::MAX >> (63 - se.min(63)));
                while pending != 0 {
                    let z = ZIGZAG[pending.trailing_zeros() as usize] as usize;
                    refine(reader, &mut block[z]);
                    pending &= pending - 1;
                }
            }
            self.eobrun -= 1;
        }
        self.reader = local;
        Ok(())
    }
}

/// The AC coefficients of a sequential block (see `ScanCursor::sequential`).
///
/// The loop runs on a copy of the reader held in a local that never has its address taken
/// (the slow paths take and return readers by value), so its bit buffer and count live in
/// registers; through `&mut BitReader` every symbol stored and reloaded them, a store-to-load
/// chain on the loop's critical path.
#[inline(always)]
fn sequential_ac<const STORE: bool>(reader: &mut BitReader, table: &HuffTable, data: &[u8], block: &mut [i16; 64]) -> Result<()> {
    let mut local = *reader;
    let result = sequential_ac_on::<STORE>(&mut local, table, data, block);
    *reader = local;
    result
}

#[inline(always)]
fn sequential_ac_on<const STORE: bool>(reader: &mut BitReader, table: &HuffTable, data: &[u8], block: &mut [i16; 64]) -> Result<()> {
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
