use std::sync::mpsc;
use std::time::Duration;

use super::{tee, tee_bytes, TEE_ROWS};
use crate::error::{Error, ErrorKind, Result};
use crate::pipeline::{MemorySource, RowSource};
use crate::pixel::{ImageInfo, PixelFormat};

fn image(width: u32, height: u32) -> (ImageInfo, Vec<u8>) {
    let info = ImageInfo { width, height, format: PixelFormat::RGB8 };
    let data = (0..info.row_bytes() * height as usize).map(|i| (i * 7 + i / 13) as u8).collect();
    (info, data)
}

/// Reads every row of `source` in strips of `strip` rows (the last one shorter).
fn read_all(source: &mut dyn RowSource, strip: u32) -> Result<Vec<u8>> {
    let info = source.info();
    let mut out = vec![0u8; info.row_bytes() * info.height as usize];
    for chunk in out.chunks_mut(info.row_bytes() * strip as usize) {
        source.read_rows(chunk)?;
    }
    Ok(out)
}

/// Runs `work` on a thread and fails (instead of hanging the suite) when it takes over 20 s.
fn within_time<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || send.send(work()).unwrap());
    receive.recv_timeout(Duration::from_secs(20)).expect("the tee's branches deadlocked")
}

#[test]
fn every_branch_gets_every_row_whatever_its_strip_height() {
    let (info, data) = image(37, 301);
    let expected = data.clone();
    let results = within_time(move || {
        let branches = tee(Box::new(MemorySource::new(info, data).unwrap()), 3);
        let handles: Vec<_> = branches
            .into_iter()
            .zip([1u32, 7, 301])
            .map(|(mut branch, strip)| std::thread::spawn(move || read_all(&mut branch, strip)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap().unwrap()).collect::<Vec<_>>()
    });
    for rows in results {
        assert!(rows == expected, "a branch read other rows than the source's");
    }
}

#[test]
fn a_branch_that_leaves_early_does_not_hold_the_others_back() {
    let (info, data) = image(16, 200);
    let expected = data.clone();
    let rows = within_time(move || {
        let mut branches = tee(Box::new(MemorySource::new(info, data).unwrap()), 2);
        let mut quitter = branches.pop().unwrap();
        let mut stayer = branches.pop().unwrap();
        let mut row = vec![0u8; info.row_bytes()];
        quitter.read_row(&mut row).unwrap();
        let reader = std::thread::spawn(move || read_all(&mut stayer, 5).unwrap());
        std::thread::sleep(Duration::from_millis(50));
        drop(quitter);
        reader.join().unwrap()
    });
    assert!(rows == expected);
}

#[test]
fn a_branch_past_the_last_row_is_refused() {
    let (info, data) = image(4, 3);
    let mut branches = tee(Box::new(MemorySource::new(info, data).unwrap()), 1);
    let mut row = vec![0u8; info.row_bytes()];
    for _ in 0..3 {
        branches[0].read_row(&mut row).unwrap();
    }
    assert_eq!(branches[0].read_row(&mut row).unwrap_err().kind(), ErrorKind::Parameter);
}

/// Rows 0..fail_at, then a format error.
struct Failing {
    info: ImageInfo,
    next: u32,
    fail_at: u32,
}

impl RowSource for Failing {
    fn info(&self) -> ImageInfo {
        self.info
    }
    fn read_row(&mut self, row: &mut [u8]) -> Result<()> {
        if self.next == self.fail_at {
            return Err(Error::format("test", "damaged at row 40"));
        }
        row.fill(self.next as u8);
        self.next += 1;
        Ok(())
    }
    fn buffer_bytes(&self) -> usize {
        123
    }
    fn name(&self) -> &'static str {
        "failing"
    }
}

#[test]
fn a_failure_of_the_source_reaches_every_branch() {
    let info = ImageInfo { width: 8, height: 100, format: PixelFormat::GRAY8 };
    let errors = within_time(move || {
        let branches = tee(Box::new(Failing { info, next: 0, fail_at: 40 }), 3);
        let handles: Vec<_> = branches.into_iter().map(|mut b| std::thread::spawn(move || read_all(&mut b, 3))).collect();
        handles.into_iter().map(|h| h.join().unwrap().unwrap_err()).collect::<Vec<_>>()
    });
    for e in errors {
        assert_eq!(e.kind(), ErrorKind::Format);
        assert!(e.to_string().contains("damaged at row 40"), "{e}");
    }
}

#[test]
fn the_first_branch_reports_the_ring_and_the_source() {
    let info = ImageInfo { width: 10, height: 1000, format: PixelFormat::RGBA8 };
    let branches = tee(Box::new(Failing { info, next: 0, fail_at: u32::MAX }), 3);
    assert_eq!(tee_bytes(info), TEE_ROWS as usize * 40);
    assert_eq!(branches[0].buffer_bytes(), tee_bytes(info) + 123);
    assert_eq!(branches[1].buffer_bytes() + branches[2].buffer_bytes(), 0);
    let short = ImageInfo { height: 3, ..info };
    assert_eq!(tee_bytes(short), 3 * 40);
}
