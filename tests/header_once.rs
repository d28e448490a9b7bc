//! One header parse per job: planning (even twice, as a CLI that prints the plan and then runs)
//! and building reuse the header the first planning parsed. Its own test binary, so no other
//! test moves the process-wide counter.

mod support;

use stripflow::codec::registry::header_parses;
use stripflow::prelude::*;
use support::fixtures::{self, JpegSpec};

#[test]
fn a_job_parses_its_header_once() {
    let dir = tempfile::tempdir().unwrap();
    for (path, out) in [
        (fixtures::jpeg(640, 480, JpegSpec::default(), 4), "a.png"),
        (fixtures::jpeg(640, 480, JpegSpec { progressive: true, ..JpegSpec::default() }, 4), "b.jpg"),
        (fixtures::png(640, 480, PixelFormat::RGBA8, 4), "c.jpg"),
    ] {
        let before = header_parses();
        let p = Pipeline::open(&path).unwrap().crop_gravity(300, 200, Gravity::BottomRight).resize(100, 100);
        let out = dir.path().join(out);
        p.plan_for_path(&out).unwrap();
        p.plan().unwrap();
        p.write_to_path(&out).unwrap();
        assert_eq!(header_parses() - before, 1, "{}", path.display());
    }
}
