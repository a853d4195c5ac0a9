//! Reading a file's bytes for the detector, in bounded memory.
//!
//! Small files are read whole. Larger ones, and standard input, are read as
//! overlapping windows (each window owns its middle; the overlap is wider
//! than any credential and its pairing distance), so a 1 GiB file with no
//! newline, or an endless pipe, costs one window of memory, not a gigabyte.

use crate::finding::Position;
use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::path::Path;

/// Bounds on reading one file.
#[derive(Debug, Clone, Copy)]
pub struct ReadLimits {
    /// Files larger than this are skipped (and reported).
    pub max_file_size: u64,
    /// Bytes held in memory at once for one file.
    pub window: usize,
    /// Largest archive read whole to look inside; a larger one is scanned
    /// as raw bytes, window by window, and never opened.
    pub max_whole_archive: u64,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_file_size: 256 << 20,
            window: 16 << 20,
            max_whole_archive: MAX_WHOLE_ARCHIVE,
        }
    }
}

/// Context kept on each side of a window: more than the longest value run
/// (16 KiB) plus the widest pairing distance (4 KiB).
pub(crate) const OVERLAP: usize = 32 << 10;

/// Default of [`ReadLimits::max_whole_archive`].
pub(crate) const MAX_WHOLE_ARCHIVE: u64 = 64 << 20;

fn starts_like_archive(file: &mut File) -> io::Result<bool> {
    use std::io::{Seek, SeekFrom};
    let mut head = [0u8; 262];
    let n = file.read(&mut head)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(crate::detect::archive::sniff(&head[..n]).is_some())
}

/// One window of a file.
pub(crate) struct Window<'a> {
    pub bytes: &'a [u8],
    /// The part of `bytes` this window reports findings for.
    pub owned: Range<usize>,
    /// Where `bytes[0]` sits in the file.
    pub start: Position,
}

/// What reading a file did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FileRead {
    Scanned { bytes: u64 },
    TooLarge { size: u64 },
}

/// Reads `path` and calls `scan` on each window, in order. Only regular
/// files are read, opened without blocking so that a FIFO cannot stall the
/// scan; with `given` (a path named on the command line) a FIFO is read to
/// its end as a stream, the way `cat` would (process substitution, a named
/// pipe). Devices and sockets are never read: `/dev/zero` has no end.
pub(crate) fn read_file(
    path: &Path,
    limits: &ReadLimits,
    given: bool,
    scan: &mut dyn FnMut(Window<'_>),
) -> io::Result<FileRead> {
    let mut file = open_without_blocking(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        if given && is_fifo(&meta) {
            let bytes = read_stream(&mut WaitingPipe(&mut file), limits, scan)?;
            return Ok(FileRead::Scanned { bytes });
        }
        return Err(not_regular());
    }
    let size = meta.len();
    if size > limits.max_file_size {
        return Ok(FileRead::TooLarge { size });
    }
    // Archives are opened whole (zip keeps its index at the end), up to a bound.
    let whole = size as usize <= limits.window
        || size <= limits.max_whole_archive && starts_like_archive(&mut file)?;
    if whole {
        let mut buf = Vec::with_capacity(size as usize);
        // The file may have grown since: never read more than the limit.
        file.by_ref()
            .take(limits.max_file_size)
            .read_to_end(&mut buf)?;
        let start = Position {
            offset: 0,
            line: 1,
            column: 1,
        };
        scan(Window {
            bytes: &buf,
            owned: 0..buf.len(),
            start,
        });
        return Ok(FileRead::Scanned {
            bytes: buf.len() as u64,
        });
    }
    read_windows(&mut file, limits.max_file_size, limits, scan)
}

fn not_regular() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "not a regular file (a FIFO, socket or device), not read",
    )
}

#[cfg(unix)]
fn open_without_blocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_without_blocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// A FIFO opened without blocking, read as a blocking stream: each read
/// waits (poll) for data or for the writers to be gone. Opening it again
/// to block instead hung when the writer had written and closed between
/// the two opens: a blocking open waits for a writer that never comes.
/// Linux reports the hang-up only once a writer opened after this reader,
/// and no writer can finish before a reader exists, so the end is seen.
#[cfg(unix)]
struct WaitingPipe<'a>(&'a mut File);

#[cfg(unix)]
impl Read for WaitingPipe<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        loop {
            let mut fd = libc::pollfd {
                fd: self.0.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd, for the duration of the call.
            if unsafe { libc::poll(&mut fd, 1, -1) } < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            match self.0.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                done => return done,
            }
        }
    }
}

#[cfg(not(unix))]
struct WaitingPipe<'a>(&'a mut File);

#[cfg(not(unix))]
impl Read for WaitingPipe<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

#[cfg(unix)]
fn is_fifo(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_fifo()
}

#[cfg(not(unix))]
fn is_fifo(_: &std::fs::Metadata) -> bool {
    false
}

/// Reads a stream of unknown length (standard input) to its end and calls
/// `scan` on each window, in order: the same windows as a large file, so
/// memory stays at one window however much arrives, and a credential split
/// across reads or windows is found once. Returns the bytes read. No size
/// limit applies: a stream cannot be skipped unread.
pub(crate) fn read_stream(
    reader: &mut dyn Read,
    limits: &ReadLimits,
    scan: &mut dyn FnMut(Window<'_>),
) -> io::Result<u64> {
    match read_windows(reader, u64::MAX, limits, scan)? {
        FileRead::Scanned { bytes } | FileRead::TooLarge { size: bytes } => Ok(bytes),
    }
}

/// Streams `reader` through a buffer of `window + 2 * OVERLAP` bytes,
/// stopping after `max` bytes.
fn read_windows(
    file: &mut dyn Read,
    max: u64,
    limits: &ReadLimits,
    scan: &mut dyn FnMut(Window<'_>),
) -> io::Result<FileRead> {
    let step = limits.window.max(OVERLAP);
    let mut buf: Vec<u8> = Vec::with_capacity(step + 2 * OVERLAP);
    // File offset of buf[0], and the line/column there.
    let mut base = Position {
        offset: 0,
        line: 1,
        column: 1,
    };
    let mut total: u64 = 0;
    // Bytes of buf already reported by an earlier window.
    let mut owned_from = 0usize;
    loop {
        let want = step + 2 * OVERLAP - buf.len();
        let before = buf.len();
        // On an error the bytes read before it are in `buf`: scan them as
        // the last window, then report the error.
        let error = (&mut *file).take(want as u64).read_to_end(&mut buf).err();
        let got = buf.len() - before;
        total += got as u64;
        let eof = error.is_some() || got < want || total >= max;
        let owned_to = if eof { buf.len() } else { buf.len() - OVERLAP };
        scan(Window {
            bytes: &buf,
            owned: owned_from..owned_to,
            start: base,
        });
        if let Some(e) = error {
            return Err(e);
        }
        if eof {
            return Ok(FileRead::Scanned { bytes: total });
        }
        // Keep OVERLAP bytes before the next owned part as context.
        let keep_from = owned_to - OVERLAP;
        advance(&mut base, &buf[..keep_from]);
        buf.drain(..keep_from);
        owned_from = OVERLAP;
    }
}

/// Moves `pos` past `bytes`.
fn advance(pos: &mut Position, bytes: &[u8]) {
    pos.offset += bytes.len();
    match memchr::memrchr(b'\n', bytes) {
        Some(last) => {
            pos.line += memchr::memchr_iter(b'\n', bytes).count() as u32;
            pos.column = (bytes.len() - last) as u32;
        }
        None => pos.column += bytes.len() as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Detector;
    use std::io::Write;

    #[test]
    fn windows_find_each_credential_once_at_its_file_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.log");
        let mut f = File::create(&path).unwrap();
        let cred = "aws_access_key_id=AKIA2IJB4LAJLJ6HDU6G aws_secret_access_key=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\n";
        let mut size = 0;
        for i in 0..400 {
            // Long lines without newlines, and credentials at many alignments.
            let filler = "z".repeat(1000 + i * 37);
            write!(f, "{filler} ").unwrap();
            size += filler.len() + 1;
            if i % 7 == 0 {
                f.write_all(cred.as_bytes()).unwrap();
                size += cred.len();
            }
        }
        drop(f);
        let limits = ReadLimits {
            max_file_size: u64::MAX,
            window: 64 << 10,
            ..ReadLimits::default()
        };
        let d = Detector::new();
        let mut found = Vec::new();
        let read = read_file(&path, &limits, false, &mut |w| {
            for c in d.scan_chunk(w.bytes, w.owned.clone(), w.start).credentials {
                let p = c.access_key_id.unwrap().position;
                found.push((p.line as usize, p.column as usize, p.offset));
            }
        })
        .unwrap();
        assert_eq!(read, FileRead::Scanned { bytes: size as u64 });
        let whole = std::fs::read(&path).unwrap();
        let expected: Vec<_> = d
            .detect(&whole)
            .into_iter()
            .map(|c| c.access_key_id.unwrap().position)
            .map(|p| (p.line as usize, p.column as usize, p.offset))
            .collect();
        assert_eq!(expected.len(), 58);
        assert_eq!(found, expected);
    }

    /// Gives at most `chunk` bytes per read, as a pipe does.
    struct Trickle<'a> {
        data: &'a [u8],
        chunk: usize,
        reads: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.chunk.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            self.reads += 1;
            Ok(n)
        }
    }

    #[test]
    fn streams_are_read_in_windows_and_split_credentials_found() {
        let cred = "aws_access_key_id=AKIA2IJB4LAJLJ6HDU6G aws_secret_access_key=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\n";
        let limits = ReadLimits {
            window: 64 << 10,
            ..ReadLimits::default()
        };
        let mut data = Vec::new();
        let mut expected = Vec::new();
        // Credentials across every window boundary (and across reads).
        for w in 1..12 {
            let boundary = w * (64 << 10) + OVERLAP;
            data.resize(boundary - 30, b'.');
            data.push(b'\n');
            expected.push(data.len() + "aws_access_key_id=".len());
            data.extend_from_slice(cred.as_bytes());
        }
        data.extend_from_slice(&[b'x'; 5000]);
        let d = Detector::new();
        let mut found = Vec::new();
        let mut largest = 0;
        let mut input = Trickle {
            data: &data,
            chunk: 7_001,
            reads: 0,
        };
        let bytes = read_stream(&mut input, &limits, &mut |w| {
            largest = largest.max(w.bytes.len());
            for c in d.scan_chunk(w.bytes, w.owned.clone(), w.start).credentials {
                found.push(c.access_key_id.unwrap().position.offset);
            }
        })
        .unwrap();
        assert_eq!(bytes, data.len() as u64);
        assert_eq!(found, expected, "each split credential once");
        assert!(input.reads > data.len() / 7_001, "read in many pieces");
        assert!(
            largest <= (64 << 10) + 2 * OVERLAP,
            "one window in memory: {largest}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_met_while_walking_is_refused_at_once_not_waited_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipe");
        assert!(std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap()
            .success());
        let limits = ReadLimits {
            max_file_size: 1 << 20,
            window: 16,
            max_whole_archive: 1 << 20,
        };
        // No writer: a blocking open would never return.
        let e = read_file(&path, &limits, false, &mut |_| panic!("must not scan")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }

    #[test]
    fn too_large_files_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![b'a'; 100]).unwrap();
        let limits = ReadLimits {
            max_file_size: 99,
            window: 16,
            ..ReadLimits::default()
        };
        let r = read_file(&path, &limits, false, &mut |_| panic!("must not scan"));
        assert_eq!(r.unwrap(), FileRead::TooLarge { size: 100 });
    }

    /// Credentials found in `path`, with the archive member they were in.
    fn found_in(path: &Path, limits: &ReadLimits) -> Vec<(Option<String>, String)> {
        let d = Detector::new();
        let mut found = Vec::new();
        read_file(path, limits, false, &mut |w| {
            for c in d.scan_chunk(w.bytes, w.owned.clone(), w.start).credentials {
                let member = c.member.map(|m| m.names().join("/"));
                found.push((member, c.access_key_id.unwrap().value));
            }
        })
        .unwrap();
        found
    }

    #[test]
    fn only_a_whole_file_is_opened_as_an_archive() {
        let cred = b"aws_access_key_id=AKIA2IJB4LAJLJ6HDU6G\naws_secret_access_key=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\n";
        // A tar keeps its member's bytes as they are, so a credential in it
        // is found either way: opened, it is in member `creds`; scanned as
        // bytes, it is in the file itself.
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(cred.len() as u64);
        tar.append_data(&mut header, "creds", &cred[..]).unwrap();
        let tar = tar.into_inner().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let limits = ReadLimits {
            max_file_size: u64::MAX,
            window: 64 << 10,
            max_whole_archive: 100 << 10,
        };
        let key = "AKIA2IJB4LAJLJ6HDU6G".to_string();
        let in_member = vec![(Some("creds".to_string()), key.clone())];
        let as_bytes = vec![(None, key)];
        // Within the bound, the archive is opened.
        let mut bytes = tar.clone();
        bytes.resize(90 << 10, 0);
        let small = dir.path().join("small.tar");
        std::fs::write(&small, &bytes).unwrap();
        assert_eq!(found_in(&small, &limits), in_member);
        // Over it, the file is bytes, though its first window starts with
        // the archive.
        bytes.resize(200 << 10, 0);
        let large = dir.path().join("large.tar");
        std::fs::write(&large, &bytes).unwrap();
        assert_eq!(found_in(&large, &limits), as_bytes);
        // And so is a later window that happens to start with one.
        let mut bytes = vec![b'z'; 64 << 10];
        bytes.extend_from_slice(&tar);
        bytes.resize(300 << 10, b' ');
        let text = dir.path().join("big.log");
        std::fs::write(&text, &bytes).unwrap();
        assert_eq!(found_in(&text, &limits), as_bytes);
    }
}
