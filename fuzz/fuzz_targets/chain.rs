//! An arbitrary sharp-style chain over arbitrary image bytes: the first `HEADER` bytes choose
//! the operations (orientation, crop, resize with fit, position and kernel, extract, extend,
//! flatten, output format and its options), the rest is the image. Outputs over
//! `MAX_OUTPUT_PIXELS` are refused by the planner, so a unit stays fast. Every chain must encode
//! or give an error, never panic, hang or allocate past the limits `run.sh` sets.
#![no_main]

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use stripflow::codec::jpeg::encode::Subsampling;
use stripflow::codec::probe::read_metadata;
use stripflow::prelude::*;
use stripflow_fuzz::{input, pipeline, MAX_OUTPUT_PIXELS};

/// Bytes of the unit that describe the chain; the image follows.
const HEADER: usize = 24;

/// Adds the operations the header describes to `p`; `upright` is the input's upright size.
fn chain(u: &mut Unstructured, mut p: Pipeline, upright: (u32, u32)) -> Result<Pipeline> {
    let flags: u16 = u.arbitrary()?;
    let bit = |n: u8| flags & (1 << n) != 0;
    if bit(0) {
        p = p.auto_orient();
    }
    p = p.rotate(i32::from(u.arbitrary::<i8>()?) * 90);
    if bit(1) {
        p = p.flip();
    }
    if bit(2) {
        p = p.flop();
    }
    // Crop in 1/256ths of the upright size, so most crops fall inside the image.
    let part = |n: u8, of: u32| (u64::from(n) * u64::from(of) / 256) as u32;
    let [x, y, w, h]: [u8; 4] = u.arbitrary()?;
    if bit(3) {
        p = p.crop(part(x, upright.0), part(y, upright.1), part(w, upright.0) + 1, part(h, upright.1) + 1);
    }
    let [width, height]: [u16; 2] = u.arbitrary()?;
    if bit(4) {
        p = p.resize_to(Some(u32::from(width)).filter(|&w| w > 0), Some(u32::from(height)).filter(|&h| h > 0));
    }
    p = p
        .fit(*u.choose(&Fit::ALL)?)
        .position(*u.choose(&Gravity::ALL)?)
        .kernel(*u.choose(&Kernel::ALL)?)
        .without_enlargement(bit(5))
        .without_reduction(bit(6))
        .linear_light(bit(7))
        .shrink_on_load(!bit(8));
    let [x, y, w, h]: [u8; 4] = u.arbitrary()?;
    if bit(9) {
        p = p.extract(x.into(), y.into(), u32::from(w) + 1, u32::from(h) + 1);
    }
    let [vertical, horizontal]: [u8; 2] = u.arbitrary()?;
    if bit(10) {
        let (top, bottom, left, right) = (vertical >> 4, vertical & 15, horizontal >> 4, horizontal & 15);
        p = p.extend(Margins { top: top.into(), right: right.into(), bottom: bottom.into(), left: left.into() });
    }
    let [grey, alpha]: [u8; 2] = u.arbitrary()?;
    p = p.background([grey, grey, grey, alpha]);
    if bit(11) {
        p = p.flatten([grey; 3]);
    }
    let [quality, level]: [u8; 2] = u.arbitrary()?;
    p = if bit(12) {
        let subsampling = if bit(13) { Subsampling::S444 } else { Subsampling::S420 };
        p.format(Format::Jpeg).quality(quality % 101).subsampling(subsampling)
    } else {
        p.format(Format::Png).compression(level % 10)
    };
    if bit(14) {
        p = p.no_scratch();
    }
    Ok(p.limit_output_pixels(MAX_OUTPUT_PIXELS))
}

fuzz_target!(|data: &[u8]| {
    if data.len() < HEADER {
        return;
    }
    let (header, image) = data.split_at(HEADER);
    let image = input(image);
    let upright = read_metadata(&image).map_or((1, 1), |m| m.oriented_size());
    if let Ok(job) = chain(&mut Unstructured::new(header), pipeline(&image), upright) {
        let _ = job.write_to(&mut std::io::sink());
    }
});
