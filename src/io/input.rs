//! [`Input`]: the encoded image as a read-only, cheaply cloneable byte source, read by positioned
//! reads into the caller's bounded buffers, and [`InputReader`], its `Read + BufRead + Seek`
//! cursor.

use std::fs::File;
use std::io::{self, BufRead, BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;

use crate::error::{Error, Result};

/// A read-only, cheaply cloneable (`Clone + Send + Sync`) source of encoded bytes.
///
/// A file is read with positioned reads (`pread`) into buffers its readers own and bound, so a
/// file that another process truncates or rewrites meanwhile gives an error (see
/// [`Input::read_at`]), never a signal. Bytes already in memory ([`Input::from_bytes`],
/// [`Input::from_shared`], [`Input::from_static`]) and, on request, a memory-mapped file
/// ([`Input::open_mapped`]) are read in place: [`Input::as_slice`] exposes them and decoders
/// borrow them instead of copying.
#[derive(Clone)]
pub struct Input {
    source: Source,
    /// Length in bytes when the input was opened; reads never go past it.
    len: usize,
}

#[derive(Clone)]
enum Source {
    /// A file read by positioned reads; `spooled` when it is standard input's unnamed copy.
    File { file: Arc<File>, spooled: bool },
    /// A memory-mapped file (opt-in, see [`Input::open_mapped`]).
    Mapped(Arc<Mmap>),
    /// Bytes the caller handed over.
    Owned(Arc<Vec<u8>>),
    /// Bytes the caller shares.
    Shared(Arc<[u8]>),
    /// Bytes that live for the whole program.
    Static(&'static [u8]),
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.source {
            Source::File { spooled: true, .. } => "spooled",
            Source::File { .. } => "file",
            Source::Mapped(_) => "mapped",
            Source::Owned(_) => "owned",
            Source::Shared(_) => "shared",
            Source::Static(_) => "static",
        };
        write!(f, "Input({kind}, {} bytes)", self.len)
    }
}

/// The payload of the [`io::Error`] returned when a file ends before the length it had when it
/// was opened: another process truncated or replaced it while it was being read.
#[derive(Debug)]
pub(crate) struct InputEnded {
    expected: usize,
    offset: usize,
}

impl std::fmt::Display for InputEnded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "input ended early: the file had {} bytes when opened but ends before byte {} \
             (it was truncated or replaced while being read)",
            self.expected, self.offset
        )
    }
}

impl std::error::Error for InputEnded {}

/// Whether `e` says the input file shrank while being read (see [`Input::read_at`]).
pub(crate) fn is_input_ended(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<InputEnded>())
}

impl Input {
    /// Opens the file at `path` for positioned reads (no memory map: see the module notes).
    pub fn open(path: impl AsRef<Path>) -> Result<Input> {
        Self::from_file(open_regular(path.as_ref())?)
    }

    /// Reads `file`, an already open file (e.g. an unnamed temporary one), by positioned reads
    /// from offset 0 to its length now. The file's own cursor is neither used nor moved.
    pub fn from_file(file: File) -> Result<Input> {
        let len = file_len(&file)?;
        Ok(Input { source: Source::File { file: Arc::new(file), spooled: false }, len })
    }

    /// Maps the file at `path` into memory instead of reading it: decoders then read the pages
    /// in place (no copy, no read buffers), and hand back the pages they have passed
    /// ([`Input::release`]) so that resident memory stays bounded.
    ///
    /// **Risk: SIGBUS.** If another process truncates the file while it is mapped, touching a
    /// page past the new end raises `SIGBUS`, which kills the whole process; no error can be
    /// returned. Use it only for files nothing else writes (a private copy, a read-only volume).
    /// [`Input::open`] has no such risk and is the default.
    pub fn open_mapped(path: impl AsRef<Path>) -> Result<Input> {
        let file = open_regular(path.as_ref())?;
        let len = file_len(&file)?;
        if len == 0 {
            return Ok(Input::from_static(&[]));
        }
        // SAFETY: the map is read-only and stripflow never writes to it. Another process
        // truncating the file while it is mapped makes later accesses fault (SIGBUS): that is
        // the documented risk of this opt-in constructor.
        let map = unsafe { Mmap::map(&file)? };
        let len = map.len();
        Ok(Input { source: Source::Mapped(Arc::new(map)), len })
    }

    /// Copies `reader` (standard input, a socket) to an unnamed temporary file in the system
    /// temporary folder (`TMPDIR`), through a 64 KiB buffer, and reads that file by positioned
    /// reads. The file has no name from the start (`tempfile::tempfile`, `O_TMPFILE` or
    /// unlinked at once), so nothing is left behind whatever ends the process, SIGKILL included.
    ///
    /// A temporary folder that is missing, not writable or full is an [`Error::Io`] naming it.
    pub fn spool(mut reader: impl Read) -> Result<Input> {
        let tmpdir = std::env::temp_dir();
        let blame = |e: io::Error| {
            Error::Io(io::Error::new(
                e.kind(),
                format!("cannot spool the input to a temporary file in {} (TMPDIR): {e}", tmpdir.display()),
            ))
        };
        let mut spool = tempfile::tempfile().map_err(blame)?;
        {
            let mut writer = BufWriter::with_capacity(64 * 1024, &mut spool);
            copy_reader(&mut reader, &mut writer, blame)?;
            writer.flush().map_err(blame)?;
        }
        let len = file_len(&spool)?;
        Ok(Input { source: Source::File { file: Arc::new(spool), spooled: true }, len })
    }

    /// Wraps bytes already in memory (no copy).
    pub fn from_bytes(bytes: Vec<u8>) -> Input {
        let len = bytes.len();
        Input { source: Source::Owned(Arc::new(bytes)), len }
    }

    /// Wraps shared bytes (no copy): several jobs may read the same buffer.
    pub fn from_shared(bytes: Arc<[u8]>) -> Input {
        let len = bytes.len();
        Input { source: Source::Shared(bytes), len }
    }

    /// Wraps bytes that live for the whole program, such as `include_bytes!` data (no copy).
    pub fn from_static(bytes: &'static [u8]) -> Input {
        Input { source: Source::Static(bytes), len: bytes.len() }
    }

    /// Length in bytes (for a file: its length when it was opened).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the input is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// All the bytes, when they can be read in place: in memory or mapped. `None` for a file
    /// read by positioned reads; read those with [`Input::read_at`] or [`Input::cursor`].
    pub fn as_slice(&self) -> Option<&[u8]> {
        match &self.source {
            Source::File { .. } => None,
            Source::Mapped(map) => Some(map),
            Source::Owned(bytes) => Some(bytes),
            Source::Shared(bytes) => Some(bytes),
            Source::Static(bytes) => Some(bytes),
        }
    }

    /// Reads bytes from `offset` into `buf`, as many as fit and the input holds: fewer than
    /// `buf.len()` only at the input's end ([`Input::len`]), 0 at or past it.
    ///
    /// A file that now ends before the length it had when opened (another process truncated it)
    /// is an [`Error::Io`] of kind `UnexpectedEof` whose message starts "input ended early":
    /// an I/O error rather than [`Error::Format`], because the file was whole when opened and
    /// what failed is the file system's answer, not the data (the same job on the same bytes
    /// would succeed). Other read failures are [`Error::Io`] too.
    pub fn read_at(&self, offset: usize, buf: &mut [u8]) -> Result<usize> {
        Ok(self.read_at_io(offset, buf)?)
    }

    /// [`Input::read_at`] with the error as an [`io::Error`].
    fn read_at_io(&self, offset: usize, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf.len().min(self.len.saturating_sub(offset));
        if want == 0 {
            return Ok(0);
        }
        let buf = &mut buf[..want];
        match &self.source {
            Source::File { file, .. } => {
                let mut done = 0;
                while done < want {
                    match file.read_at(&mut buf[done..], (offset + done) as u64) {
                        Ok(0) => {
                            return Err(io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                InputEnded { expected: self.len, offset: offset + done },
                            ))
                        }
                        Ok(n) => done += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            _ => {
                let bytes = self.as_slice().expect("in-memory source");
                buf.copy_from_slice(&bytes[offset..offset + want]);
            }
        }
        Ok(want)
    }

    /// A `Read + BufRead + Seek` reader from offset 0 (see [`InputReader`]).
    pub fn cursor(&self) -> InputReader {
        let buffer = if self.as_slice().is_some() { Vec::new() } else { vec![0; InputReader::BUFFER] };
        InputReader { input: self.clone(), position: 0, buffer, buffer_start: 0, buffer_len: 0, released_to: 0 }
    }

    /// Drops the pages wholly inside `range` from this process's resident set, for a mapped
    /// input (see the module notes); a no-op for every other input and on failure.
    pub fn release(&self, range: Range<usize>) {
        let Source::Mapped(map) = &self.source else { return };
        let page = page_size();
        let start = range.start.div_ceil(page) * page;
        let end = (range.end.min(map.len()) / page) * page;
        if end > start {
            // SAFETY: the map is a read-only shared mapping of a file stripflow does not write;
            // MADV_DONTNEED on it discards no data: the next access re-reads the page from the
            // page cache or the file. No reference into the range is invalidated: slices stay
            // valid and read the same bytes.
            let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start) };
        }
    }
}

/// Opens `path` for reading; a directory is an error that says so.
fn open_regular(path: &Path) -> Result<File> {
    let file = File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(Error::Io(io::Error::from_raw_os_error(libc::EISDIR)));
    }
    Ok(file)
}

fn file_len(file: &File) -> Result<usize> {
    let len = file.metadata()?.len();
    usize::try_from(len).map_err(|_| Error::limits("input file larger than this machine's address space"))
}

/// `io::copy`, with write errors (the spool file) blamed on the temporary folder and read errors
/// (the caller's stream) left as they are.
fn copy_reader(reader: &mut dyn Read, writer: &mut dyn Write, blame: impl Fn(io::Error) -> Error) -> Result<()> {
    let mut chunk = [0u8; 8192];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::Io(e)),
        };
        writer.write_all(&chunk[..n]).map_err(&blame)?;
    }
}

/// The system page size (4 KiB where it cannot be asked).
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as usize
    } else {
        4096
    }
}

/// A `Read + BufRead + Seek` reader over an [`Input`].
///
/// A file is read through one buffer of [`InputReader::BUFFER`] bytes, refilled by a positioned
/// read when the position leaves it. In-memory and mapped input is read in place; for a mapped
/// one the pages more than [`InputReader::KEEP_BEHIND`] bytes behind the position are released
/// in steps of [`InputReader::RELEASE_STEP`], so a front-to-back decode keeps a few MiB of the
/// file resident whatever its size.
#[derive(Debug, Clone)]
pub struct InputReader {
    input: Input,
    position: usize,
    /// Read buffer (empty when the input is read in place).
    buffer: Vec<u8>,
    /// Input offset of `buffer[0]`, and the number of valid bytes in `buffer`.
    buffer_start: usize,
    buffer_len: usize,
    released_to: usize,
}

impl InputReader {
    /// Bytes kept behind the position of a mapped input (a decoder may step back a little).
    pub const KEEP_BEHIND: usize = 1 << 20;
    /// Release mapped pages in steps of this many bytes.
    pub const RELEASE_STEP: usize = 4 << 20;
    /// Size of the read buffer for a file input.
    pub const BUFFER: usize = 32 * 1024;

    /// Heap bytes this reader holds (its read buffer).
    pub fn buffer_bytes(&self) -> usize {
        self.buffer.capacity()
    }

    /// Heap bytes a reader over `input` holds: [`InputReader::BUFFER`] for a file read by
    /// positioned reads, 0 for input read in place.
    pub fn buffer_bytes_for(input: &Input) -> usize {
        if input.as_slice().is_some() {
            0
        } else {
            Self::BUFFER
        }
    }

    fn release_behind(&mut self) {
        let keep_from = self.position.saturating_sub(Self::KEEP_BEHIND);
        if keep_from >= self.released_to + Self::RELEASE_STEP {
            self.input.release(self.released_to..keep_from);
            self.released_to = keep_from;
        }
    }
}

impl Read for InputReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for InputReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if let Some(bytes) = self.input.as_slice() {
            return Ok(&bytes[self.position.min(bytes.len())..]);
        }
        let in_buffer = self.position >= self.buffer_start && self.position < self.buffer_start + self.buffer_len;
        if !in_buffer {
            self.buffer_start = self.position;
            self.buffer_len = 0;
            self.buffer_len = self.input.read_at_io(self.position, &mut self.buffer)?;
        }
        Ok(&self.buffer[self.position - self.buffer_start..self.buffer_len])
    }

    fn consume(&mut self, amount: usize) {
        self.position = (self.position + amount).min(self.input.len());
        self.release_behind();
    }
}

impl Seek for InputReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let len = self.input.len() as i128;
        let target = match to {
            SeekFrom::Start(n) => n as i128,
            SeekFrom::End(d) => len + d as i128,
            SeekFrom::Current(d) => self.position as i128 + d as i128,
        };
        if target < 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "seek before the start of the input"));
        }
        self.position = target.min(len) as usize;
        if self.position < self.released_to {
            self.released_to = self.position;
        }
        Ok(self.position as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize) -> Vec<u8> {
        (0..n as u32).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn every_source_reads_the_same_bytes() {
        let data = sample(200_000);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        std::fs::write(&path, &data).unwrap();
        let leaked: &'static [u8] = Box::leak(data.clone().into_boxed_slice());
        let inputs = [
            Input::open(&path).unwrap(),
            Input::open_mapped(&path).unwrap(),
            Input::from_file(File::open(&path).unwrap()).unwrap(),
            Input::spool(&data[..]).unwrap(),
            Input::from_bytes(data.clone()),
            Input::from_shared(Arc::from(&data[..])),
            Input::from_static(leaked),
        ];
        for input in inputs {
            assert_eq!(input.len(), data.len(), "{input:?}");
            let mut back = Vec::new();
            input.cursor().read_to_end(&mut back).unwrap();
            assert!(back == data, "{input:?}");
            let mut piece = [0u8; 10];
            assert_eq!(input.read_at(199_995, &mut piece).unwrap(), 5);
            assert_eq!(&piece[..5], &data[199_995..]);
            assert_eq!(input.read_at(300_000, &mut piece).unwrap(), 0);
            assert_eq!(input.as_slice().is_some(), !format!("{input:?}").contains("file") && !format!("{input:?}").contains("spooled"));
        }
        fn assert_traits<T: Clone + Send + Sync + std::fmt::Debug>() {}
        assert_traits::<Input>();
    }

    #[test]
    fn a_file_that_shrinks_is_an_io_error_not_a_signal() {
        let data = sample(100_000);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        std::fs::write(&path, &data).unwrap();
        let input = Input::open(&path).unwrap();
        let mut reader = input.cursor();
        let mut head = [0u8; 100];
        reader.read_exact(&mut head).unwrap();
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(1000).unwrap();
        let mut buf = vec![0u8; 5000];
        let err = input.read_at(500, &mut buf).unwrap_err();
        assert!(matches!(&err, Error::Io(e) if is_input_ended(e)), "{err}");
        assert!(err.to_string().contains("input ended early"), "{err}");
        let mut rest = Vec::new();
        let err = reader.read_to_end(&mut rest).unwrap_err();
        assert!(is_input_ended(&err), "{err}");
    }

    #[test]
    fn reader_seeks_and_releases_mapped_pages_without_changing_bytes() {
        let data = sample(20_000_000);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        std::fs::write(&path, &data).unwrap();
        let input = Input::open_mapped(&path).unwrap();
        let mut reader = input.cursor();
        let mut back = Vec::new();
        reader.read_to_end(&mut back).unwrap();
        assert!(back == data);
        assert!(reader.released_to > 0, "passed pages are released");
        reader.seek(SeekFrom::Start(5)).unwrap();
        let mut five = [0u8; 5];
        reader.read_exact(&mut five).unwrap();
        assert_eq!(&five, &data[5..10]);
        input.release(0..input.len());
        assert!(input.as_slice().unwrap() == &data[..]);
        assert!(reader.seek(SeekFrom::Current(-100)).is_err());
    }

    #[test]
    fn spooled_input_reads_back_by_position() {
        let data = sample(1000);
        let input = Input::spool(&data[..]).unwrap();
        let mut back = vec![0u8; 1000];
        assert_eq!(input.read_at(0, &mut back).unwrap(), 1000);
        assert_eq!(back, data);
        assert!(Input::spool(&b""[..]).unwrap().is_empty());
    }

    #[test]
    fn a_directory_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let err = Input::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("Is a directory"), "{err}");
    }
}
