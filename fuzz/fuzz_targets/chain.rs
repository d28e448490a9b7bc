//! An arbitrary sharp-style chain over arbitrary image bytes: the first `HEADER` bytes choose
//! the operations (crop, resize with fit, position and kernel, orientation, flatten, output
//! format), the rest is the image. Outputs over `MAX_OUTPUT_PIXELS` are skipped so a unit stays
//! fast. Every chain must encode or give an error, never panic, hang or allocate past the
//! limits `run.sh` sets.
#![no_main]

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use stripflow::codec::probe::read_metadata;
use stripflow::codec::Format;
use stripflow::ops::crop::Gravity;
use stripflow::ops::fit::Fit;
use stripflow::ops::resize::Kernel;
use stripflow::plan::Pipeline;
use stripflow_fuzz::{pipeline, MAX_OUTPUT_PIXELS};

/// Bytes of the unit that describe the chain; the image follows.
const HEADER: usize = 16;

/// Adds the operations the header describes to `p`; `upright` is the input's upright size.
fn chain(u: &mut Unstructured, mut p: Pipeline, upright: (u32, u32)) -> Result<Pipeline> {
    let flags: u8 = u.arbitrary()?;
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
        .without_enlargement(bit(5));
    let grey: u8 = u.arbitrary()?;
    if bit(6) {
        p = p.flatten([grey; 3]);
    }
    let quality: u8 = u.arbitrary()?;
    p = p.format(if bit(7) { Format::Jpeg } else { Format::Png }).quality(quality % 101);
    if u.arbitrary::<bool>()? {
        p = p.no_scratch();
    }
    Ok(p)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < HEADER {
        return;
    }
    let (header, image) = data.split_at(HEADER);
    let upright = read_metadata(image).map_or((1, 1), |m| m.oriented_size());
    let Ok(job) = chain(&mut Unstructured::new(header), pipeline(image), upright) else {
        return;
    };
    let Ok(plan) = job.plan() else {
        return;
    };
    if u64::from(plan.output.width) * u64::from(plan.output.height) > MAX_OUTPUT_PIXELS {
        return;
    }
    let _ = job.write_to(&mut std::io::sink());
});
