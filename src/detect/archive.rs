//! Looking inside archives and compressed files (zip, tar, 7z; gzip, xz,
//! zstd, bzip2, alone or around a tar), within hard bounds so that a bomb,
//! a forged header or a deeply nested archive costs a bounded amount of
//! memory and time. Members are handed back one at a time; nothing touches
//! the disk.
//!
//! The formats are recognised by their content (magic bytes), never by file
//! name: a `.tar.xz` is an xz stream whose one member is a tar archive, and
//! the detector opens that member in turn (one nesting level each).

use std::cell::Cell;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::rc::Rc;

/// Bounds on the work one archive may cause (nested archives included).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Archives inside archives, counting the outermost as 1.
    pub max_depth: u8,
    /// Decompressed bytes read from one member; the rest is not scanned.
    pub max_member_bytes: u64,
    /// Decompressed bytes read from the whole archive, all members together.
    pub max_total_bytes: u64,
    /// Members looked at in one archive.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 3,
            max_member_bytes: 64 << 20,
            max_total_bytes: 256 << 20,
            max_entries: 10_000,
        }
    }
}

/// Largest history window a decoder may keep: the LZMA/LZMA2 dictionary of
/// xz and 7z, the window of a zstd frame (and the model of 7z's PPMd). It is
/// what `xz -9` and 7-Zip's ultra level use; a header that asks for more
/// (up to 4 GiB, in a file of a few bytes) is refused before anything is
/// allocated.
pub(crate) const MAX_DICTIONARY: u64 = 64 << 20;

/// A zip's end-of-central-directory record: 22 bytes, then a comment of at
/// most 65,535 bytes, at the very end of the file.
const EOCD_SIGNATURE: &[u8] = b"PK\x05\x06";
const EOCD_REACH: usize = 22 + 0xFFFF;
/// End-record signatures a zip may hold (stored nested zips each add one).
/// The zip reader tries every one from the back and scans forward from
/// each, so a file of end records was quadratic to open.
pub(crate) const MAX_EOCD_CANDIDATES: usize = 16;
/// Bytes the zip reader may read to open an archive (find and parse its
/// central directory), as a multiple of the archive's size: a backstop that
/// keeps opening linear whatever the reader's search does.
const ZIP_OPEN_READ_FACTOR: u64 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Gzip,
    Tar,
    Xz,
    Zstd,
    Bzip2,
    SevenZ,
}

/// Recognises an archive or compressed stream by its magic bytes.
pub fn sniff(data: &[u8]) -> Option<Kind> {
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        Some(Kind::Zip)
    } else if data.starts_with(&[0x1f, 0x8b]) {
        Some(Kind::Gzip)
    } else if data.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Some(Kind::Xz)
    } else if data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Kind::Zstd)
    } else if is_bzip2(data) {
        Some(Kind::Bzip2)
    } else if data.starts_with(&[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c]) {
        Some(Kind::SevenZ)
    } else if data.get(257..262) == Some(b"ustar") {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// `BZh1`…`BZh9`, then the magic of a first block (π) or of the end of an
/// empty stream (√π): four letters alone are too common in text.
fn is_bzip2(data: &[u8]) -> bool {
    const BLOCK: [u8; 6] = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
    const END: [u8; 6] = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];
    data.starts_with(b"BZh")
        && data.get(3).is_some_and(|l| (b'1'..=b'9').contains(l))
        && data
            .get(4..10)
            .is_some_and(|m| m == BLOCK.as_slice() || m == END.as_slice())
}

/// What happened while reading one archive.
#[derive(Debug, Default)]
pub struct Walk {
    pub members: u64,
    /// Why not every byte was scanned (a bound was hit, or the archive is
    /// damaged), for the user to see.
    pub incomplete: Vec<String>,
    /// Bytes the zip reader read to find and parse the central directory:
    /// the cost of opening, which must stay linear in the archive's size.
    pub index_bytes_read: u64,
}

/// Calls `visit(member_name, bytes)` for each file in the archive, within
/// `budget` decompressed bytes (shared with nested archives).
pub fn walk(
    data: &[u8],
    kind: Kind,
    limits: &Limits,
    budget: &Cell<u64>,
    visit: &mut dyn FnMut(&str, &[u8]),
) -> Walk {
    let mut walk = Walk::default();
    let result = match kind {
        Kind::Zip => walk_zip(data, limits, budget, visit, &mut walk),
        Kind::Tar => walk_tar(data, limits, budget, visit, &mut walk),
        Kind::SevenZ => walk_7z(data, limits, budget, visit, &mut walk),
        Kind::Gzip => {
            let decoder = flate2::read::MultiGzDecoder::new(data);
            let name = decoder
                .header()
                .and_then(|h| h.filename())
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .unwrap_or_else(|| "-".to_string());
            walk_stream(decoder, &name, limits, budget, visit, &mut walk)
        }
        Kind::Xz => {
            // Refuses a block whose dictionary is over the limit before
            // allocating it; concatenated streams are read in turn.
            let mem_kb = lzma_rust2::lzma2_get_memory_usage(MAX_DICTIONARY as u32);
            let decoder = lzma_rust2::XzReader::new_mem_limit(data, true, mem_kb);
            walk_stream(decoder, "-", limits, budget, visit, &mut walk)
        }
        Kind::Zstd => walk_stream(ZstdFrames::new(data), "-", limits, budget, visit, &mut walk),
        Kind::Bzip2 => {
            let decoder = bzip2::read::MultiBzDecoder::new(data);
            walk_stream(decoder, "-", limits, budget, visit, &mut walk)
        }
    };
    if let Err(e) = result {
        walk.incomplete
            .push(format!("damaged {kind:?} archive: {e}"));
    }
    walk
}

/// Reads at most the member limit and what is left of the budget. Returns
/// the bytes and whether the member went on past them. A member that turns
/// out damaged after some bytes is handed out up to there (they were
/// decoded and charged to the budget); one damaged from the start is an
/// error.
fn read_bounded(
    mut r: impl Read,
    limits: &Limits,
    budget: &Cell<u64>,
    name: &str,
    walk: &mut Walk,
) -> io::Result<(Vec<u8>, bool)> {
    let cap = limits.max_member_bytes.min(budget.get());
    let mut buf = Vec::new();
    let read = r.by_ref().take(cap).read_to_end(&mut buf);
    budget.set(budget.get() - buf.len() as u64);
    let damaged = |e: io::Error, walk: &mut Walk, buf: &[u8]| {
        walk.incomplete.push(format!(
            "archive member {name} is damaged after {} bytes: {e}",
            buf.len()
        ));
    };
    if let Err(e) = read {
        if buf.is_empty() {
            return Err(e);
        }
        damaged(e, walk, &buf);
        return Ok((buf, true));
    }
    let mut probe = [0u8; 1];
    match r.read(&mut probe) {
        Ok(0) => Ok((buf, false)),
        Ok(_) => {
            walk.incomplete.push(format!(
                "archive member {name} was scanned only up to {} bytes (the archive size limit)",
                buf.len()
            ));
            Ok((buf, true))
        }
        Err(e) => {
            damaged(e, walk, &buf);
            Ok((buf, true))
        }
    }
}

/// A compressed stream (gzip, xz, zstd, bzip2): one member, its content.
fn walk_stream(
    decoder: impl Read,
    name: &str,
    limits: &Limits,
    budget: &Cell<u64>,
    visit: &mut dyn FnMut(&str, &[u8]),
    walk: &mut Walk,
) -> Result<(), String> {
    let (bytes, _) =
        read_bounded(decoder, limits, budget, name, walk).map_err(|e| e.to_string())?;
    walk.members += 1;
    visit(name, &bytes);
    Ok(())
}

fn walk_zip(
    data: &[u8],
    limits: &Limits,
    budget: &Cell<u64>,
    visit: &mut dyn FnMut(&str, &[u8]),
    walk: &mut Walk,
) -> Result<(), String> {
    let tail = &data[data.len().saturating_sub(EOCD_REACH)..];
    if memchr::memmem::find(tail, EOCD_SIGNATURE).is_none() {
        return Err("no end-of-central-directory record in its last 64 KiB".to_string());
    }
    let candidates = memchr::memmem::find_iter(data, EOCD_SIGNATURE).count();
    if candidates > MAX_EOCD_CANDIDATES {
        return Err(format!(
            "{candidates} end-of-central-directory records (at most {MAX_EOCD_CANDIDATES} are tried); scanned as bytes"
        ));
    }
    let allowance = Rc::new(Cell::new(
        ZIP_OPEN_READ_FACTOR.saturating_mul(data.len() as u64),
    ));
    let reader = MeteredCursor {
        inner: Cursor::new(data),
        allowance: Rc::clone(&allowance),
        read: Rc::new(Cell::new(0)),
    };
    let read = Rc::clone(&reader.read);
    let opened = zip::ZipArchive::new(reader);
    walk.index_bytes_read = read.get();
    // Members are bounded by the decompression budget, not by this meter.
    allowance.set(u64::MAX);
    let mut zip = opened.map_err(|e| e.to_string())?;
    for i in 0..zip.len() {
        if i >= limits.max_entries || budget.get() == 0 {
            walk.incomplete.push(format!(
                "zip archive has more members than were scanned ({} of {})",
                i,
                zip.len()
            ));
            break;
        }
        let file = match zip.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                walk.incomplete.push(format!("zip member {i}: {e}"));
                continue;
            }
        };
        if file.is_dir() {
            continue;
        }
        let name = file.name().to_string();
        match read_bounded(file, limits, budget, &name, walk) {
            Ok((bytes, _)) => {
                walk.members += 1;
                visit(&name, &bytes);
            }
            Err(e) => walk.incomplete.push(format!("zip member {name}: {e}")),
        }
    }
    Ok(())
}

/// A cursor that counts the bytes read through it and fails once they pass
/// an allowance.
struct MeteredCursor<'a> {
    inner: Cursor<&'a [u8]>,
    allowance: Rc<Cell<u64>>,
    read: Rc<Cell<u64>>,
}

impl Read for MeteredCursor<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let room = self.allowance.get().saturating_sub(self.read.get());
        if room == 0 {
            return Err(io::Error::other(
                "gave up looking for the central directory (read the archive 4 times over)",
            ));
        }
        let len = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..len])?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

impl Seek for MeteredCursor<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

fn walk_tar(
    data: &[u8],
    limits: &Limits,
    budget: &Cell<u64>,
    visit: &mut dyn FnMut(&str, &[u8]),
    walk: &mut Walk,
) -> Result<(), String> {
    let mut archive = tar::Archive::new(Cursor::new(data));
    let entries = archive.entries().map_err(|e| e.to_string())?;
    for (i, entry) in entries.enumerate() {
        if i >= limits.max_entries || budget.get() == 0 {
            walk.incomplete
                .push(format!("tar archive has more members than the {i} scanned"));
            break;
        }
        let entry = entry.map_err(|e| e.to_string())?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        match read_bounded(entry, limits, budget, &name, walk) {
            Ok((bytes, _)) => {
                walk.members += 1;
                visit(&name, &bytes);
            }
            Err(e) => walk.incomplete.push(format!("tar member {name}: {e}")),
        }
    }
    Ok(())
}

fn walk_7z(
    data: &[u8],
    limits: &Limits,
    budget: &Cell<u64>,
    visit: &mut dyn FnMut(&str, &[u8]),
    walk: &mut Walk,
) -> Result<(), String> {
    use sevenz_rust2::{ArchiveReader, EntryDecision, Password};
    // An archive whose writer never finished has a zeroed start header; the
    // reader would then try every byte of the last MiB as a header, each a
    // parse of up to a MiB.
    if data.get(12..32).is_some_and(|h| h.iter().all(|&b| b == 0)) {
        return Err("unfinished 7z archive (no start header)".to_string());
    }
    let mem_kb = (MAX_DICTIONARY >> 10) as usize;
    let mut reader =
        ArchiveReader::new_with_memory_limit(Cursor::new(data), Password::empty(), mem_kb)
            .map_err(|e| e.to_string())?;
    // One thread per scanned blob: the scanner already runs one per core.
    reader.set_thread_count(1);
    let total = reader.archive().files.len();
    let mut seen = 0usize;
    let result = reader.for_each_entries_with_decision(|entry, r| {
        if entry.is_directory() || !entry.has_stream() {
            return Ok(EntryDecision::Continue);
        }
        if seen >= limits.max_entries || budget.get() == 0 {
            walk.incomplete.push(format!(
                "7z archive has more members than were scanned ({seen} of {total})"
            ));
            return Ok(EntryDecision::Stop);
        }
        seen += 1;
        let name = entry.name().to_string();
        match read_bounded(r, limits, budget, &name, walk) {
            Ok((bytes, cut)) => {
                walk.members += 1;
                visit(&name, &bytes);
                // The rest of a cut member would have to be decoded to reach
                // the next one in a solid block: skip the block instead.
                Ok(if cut {
                    EntryDecision::SkipBlock
                } else {
                    EntryDecision::Continue
                })
            }
            Err(e) => {
                walk.incomplete.push(format!("7z member {name}: {e}"));
                Ok(EntryDecision::SkipBlock)
            }
        }
    });
    result.map_err(|e| e.to_string())
}

/// Every frame of a zstd stream in turn (the zstd tool writes one frame
/// per input, parallel compressors many), skippable frames skipped. Each
/// frame's window is checked before its decoder exists: ruzstd reserves it.
struct ZstdFrames<'a> {
    rest: &'a [u8],
    frame: Option<ruzstd::decoding::StreamingDecoder<&'a [u8], ruzstd::decoding::FrameDecoder>>,
}

impl<'a> ZstdFrames<'a> {
    fn new(data: &'a [u8]) -> Self {
        ZstdFrames {
            rest: data,
            frame: None,
        }
    }

    /// Moves to the next frame; `false` at the end of the input.
    fn next_frame(&mut self) -> io::Result<bool> {
        loop {
            let Some(magic) = self.rest.get(..4) else {
                if self.rest.is_empty() {
                    return Ok(false);
                }
                return Err(io::Error::other("trailing bytes after the last zstd frame"));
            };
            let magic = u32::from_le_bytes([magic[0], magic[1], magic[2], magic[3]]);
            if magic & 0xffff_fff0 == 0x184d_2a50 {
                let len = self
                    .rest
                    .get(4..8)
                    .map(|l| u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize)
                    .ok_or_else(|| io::Error::other("truncated zstd skippable frame"))?;
                self.rest = self
                    .rest
                    .get(8 + len..)
                    .ok_or_else(|| io::Error::other("truncated zstd skippable frame"))?;
                continue;
            }
            if magic != 0xfd2f_b528 {
                return Err(io::Error::other("trailing bytes after the last zstd frame"));
            }
            let window = zstd_window(self.rest)
                .ok_or_else(|| io::Error::other("truncated zstd frame header"))?;
            if window > MAX_DICTIONARY {
                return Err(io::Error::other(format!(
                    "a zstd frame asks for a {} MiB window, over the {} MiB limit",
                    window >> 20,
                    MAX_DICTIONARY >> 20
                )));
            }
            let decoder =
                ruzstd::decoding::StreamingDecoder::new(self.rest).map_err(io::Error::other)?;
            self.frame = Some(decoder);
            return Ok(true);
        }
    }
}

impl Read for ZstdFrames<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(frame) = self.frame.as_mut() {
                let n = frame.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                self.rest = frame.get_ref();
                self.frame = None;
            }
            if !self.next_frame()? {
                return Ok(0);
            }
        }
    }
}

/// The window a zstd frame header asks for (RFC 8878, 3.1.1.1), or `None`
/// when the header is cut short.
fn zstd_window(frame: &[u8]) -> Option<u64> {
    let descriptor = *frame.get(4)?;
    let single_segment = descriptor & 0x20 != 0;
    if !single_segment {
        let w = *frame.get(5)?;
        let log = 10 + u64::from(w >> 3);
        let base = 1u64 << log;
        return Some(base + (base / 8) * u64::from(w & 7));
    }
    // A single segment's window is its content size, which follows the
    // dictionary ID.
    let dict_len = [0usize, 1, 2, 4][usize::from(descriptor & 3)];
    let at = 5 + dict_len;
    let size = match descriptor >> 6 {
        0 => u64::from(*frame.get(at)?),
        1 => u64::from(u16::from_le_bytes(frame.get(at..at + 2)?.try_into().ok()?)) + 256,
        2 => u64::from(u32::from_le_bytes(frame.get(at..at + 4)?.try_into().ok()?)),
        _ => u64::from_le_bytes(frame.get(at..at + 8)?.try_into().ok()?),
    };
    Some(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reads_gzip_within_bounds() {
        let bomb = gzip(&vec![b'a'; 10 << 20]);
        assert_eq!(sniff(&bomb), Some(Kind::Gzip));
        let limits = Limits {
            max_member_bytes: 1 << 20,
            ..Limits::default()
        };
        let budget = Cell::new(limits.max_total_bytes);
        let mut seen = 0;
        let w = walk(&bomb, Kind::Gzip, &limits, &budget, &mut |_, b| {
            seen = b.len()
        });
        assert_eq!(seen, 1 << 20);
        assert_eq!(w.incomplete.len(), 1, "{:?}", w.incomplete);
    }

    #[test]
    fn reads_zip_members() {
        let mut buf = Cursor::new(Vec::new());
        {
            let mut z = zip::ZipWriter::new(&mut buf);
            z.start_file("a/.env", zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(b"hello").unwrap();
            z.finish().unwrap();
        }
        let data = buf.into_inner();
        let mut names = vec![];
        let budget = Cell::new(1 << 20);
        let w = walk(
            &data,
            Kind::Zip,
            &Limits::default(),
            &budget,
            &mut |n, b| names.push((n.to_string(), b.to_vec())),
        );
        assert_eq!(names, vec![("a/.env".to_string(), b"hello".to_vec())]);
        assert_eq!(w.members, 1);
    }

    fn xz(bytes: &[u8]) -> Vec<u8> {
        let options = lzma_rust2::XzOptions::with_preset(0);
        let mut w = lzma_rust2::XzWriter::new(Vec::new(), options).unwrap();
        w.write_all(bytes).unwrap();
        w.finish().unwrap()
    }

    fn zstd(bytes: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
    }

    fn bzip2(bytes: &[u8]) -> Vec<u8> {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn sevenz(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = sevenz_rust2::ArchiveWriter::new(Cursor::new(Vec::new())).unwrap();
        for (name, bytes) in members {
            w.push_archive_entry(sevenz_rust2::ArchiveEntry::new_file(name), Some(*bytes))
                .unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut t = tar::Builder::new(Vec::new());
        for (name, bytes) in members {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            t.append_data(&mut header, name, *bytes).unwrap();
        }
        t.into_inner().unwrap()
    }

    /// Every member, by name, with the limits given.
    fn members(data: &[u8], limits: &Limits) -> (Vec<(String, Vec<u8>)>, Walk) {
        let kind = sniff(data).expect("an archive");
        let budget = Cell::new(limits.max_total_bytes);
        let mut out = vec![];
        let w = walk(data, kind, limits, &budget, &mut |n, b| {
            out.push((n.to_string(), b.to_vec()))
        });
        (out, w)
    }

    #[test]
    fn new_formats_are_recognised_by_content_and_read() {
        let text = b"aws_access_key_id = AKIA2IJB4LAJLJ6HDU6G\n";
        for (kind, data) in [
            (Kind::Xz, xz(text)),
            (Kind::Zstd, zstd(text)),
            (Kind::Bzip2, bzip2(text)),
        ] {
            assert_eq!(sniff(&data), Some(kind));
            let (found, w) = members(&data, &Limits::default());
            assert_eq!(found, vec![("-".to_string(), text.to_vec())], "{kind:?}");
            assert!(w.incomplete.is_empty(), "{kind:?}: {:?}", w.incomplete);
        }
        let data = sevenz(&[("a/.env", text), ("b/notes.txt", b"hello")]);
        assert_eq!(sniff(&data), Some(Kind::SevenZ));
        let (found, w) = members(&data, &Limits::default());
        assert_eq!(
            found,
            vec![
                ("a/.env".to_string(), text.to_vec()),
                ("b/notes.txt".to_string(), b"hello".to_vec())
            ]
        );
        assert_eq!(w.members, 2);
        // Text that merely starts like a signature is not an archive.
        assert_eq!(sniff(b"BZh9 is not a bzip2 stream"), None);
        assert_eq!(sniff(b"7z is a file archiver"), None);
    }

    #[test]
    fn compressed_tars_are_one_stream_around_a_tar() {
        let inner = tar(&[("etc/app.conf", b"secret stuff")]);
        for data in [xz(&inner), zstd(&inner), bzip2(&inner), gzip(&inner)] {
            let (found, _) = members(&data, &Limits::default());
            assert_eq!(found.len(), 1);
            assert_eq!(sniff(&found[0].1), Some(Kind::Tar));
            let (inside, _) = members(&found[0].1, &Limits::default());
            assert_eq!(inside[0].0, "etc/app.conf");
        }
    }

    #[test]
    fn bombs_of_every_new_format_stop_at_the_member_cap() {
        let zeros = vec![0u8; 8 << 20];
        let limits = Limits {
            max_member_bytes: 1 << 20,
            ..Limits::default()
        };
        for data in [
            xz(&zeros),
            zstd(&zeros),
            bzip2(&zeros),
            sevenz(&[("bomb", &zeros)]),
        ] {
            let kind = sniff(&data).unwrap();
            assert!(data.len() < 64 << 10, "{kind:?}: {} bytes", data.len());
            let (found, w) = members(&data, &limits);
            assert_eq!(found[0].1.len(), 1 << 20, "{kind:?}");
            assert!(
                w.incomplete[0].contains("was scanned only up to 1048576 bytes"),
                "{kind:?}: {:?}",
                w.incomplete
            );
        }
    }

    #[test]
    fn a_7z_stops_at_the_shared_budget() {
        let mb = vec![b'x'; 1 << 20];
        let data = sevenz(&[("1", &mb), ("2", &mb), ("3", &mb), ("4", &mb)]);
        let limits = Limits {
            max_total_bytes: (2 << 20) + 10,
            ..Limits::default()
        };
        let (found, w) = members(&data, &limits);
        let read: usize = found.iter().map(|(_, b)| b.len()).sum();
        assert_eq!(read, (2 << 20) + 10);
        assert!(
            w.incomplete
                .iter()
                .any(|n| n.contains("7z archive has more members")),
            "{:?}",
            w.incomplete
        );
    }

    /// CRC-32 (IEEE), for patching headers.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn a_forged_xz_dictionary_is_refused_before_it_is_allocated() {
        let mut data = xz(b"hello");
        // The first block header follows the 12-byte stream header.
        let start = 12;
        let len = (usize::from(data[start]) + 1) * 4;
        let flags = data[start + 1];
        assert_eq!(
            flags & 0xc3,
            0,
            "one filter, no sizes, as this writer makes"
        );
        assert_eq!(&data[start + 2..start + 4], &[0x21, 0x01], "LZMA2");
        data[start + 4] = 40; // a 4 GiB dictionary
        let crc = crc32(&data[start..start + len - 4]);
        data[start + len - 4..start + len].copy_from_slice(&crc.to_le_bytes());
        let (found, w) = members(&data, &Limits::default());
        assert!(found.is_empty());
        assert!(
            w.incomplete[0].starts_with("damaged Xz archive:"),
            "{:?}",
            w.incomplete
        );
    }

    #[test]
    fn a_forged_zstd_window_is_refused() {
        // Frame header: no single segment, window descriptor 2^41.
        let mut data = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8];
        data.extend_from_slice(&[0x01, 0x00, 0x00]); // a last, empty raw block
        assert_eq!(zstd_window(&data), Some(1 << 41));
        let (found, w) = members(&data, &Limits::default());
        assert!(found.is_empty());
        assert!(
            w.incomplete[0].contains("asks for a 2097152 MiB window"),
            "{:?}",
            w.incomplete
        );
        // Frames follow each other; skippable frames are passed over.
        let mut two = zstd(b"first ");
        two.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
        two.extend_from_slice(&zstd(b"second"));
        let (found, w) = members(&two, &Limits::default());
        assert_eq!(found[0].1, b"first second");
        assert!(w.incomplete.is_empty(), "{:?}", w.incomplete);
    }

    #[test]
    fn an_unfinished_7z_is_not_searched_for_a_header() {
        let mut data = sevenz(&[("a", b"hello")]);
        data[8..32].fill(0);
        let (found, w) = members(&data, &Limits::default());
        assert!(found.is_empty());
        assert!(
            w.incomplete[0].contains("unfinished 7z archive"),
            "{:?}",
            w.incomplete
        );
    }

    /// A zip whose end is `records` end-of-central-directory records, each
    /// pointing at a central directory at offset 0 that is not there.
    fn eocd_records(junk: usize, records: usize) -> Vec<u8> {
        let mut z = b"PK\x03\x04".to_vec();
        z.resize(junk, b'.');
        for _ in 0..records {
            z.extend_from_slice(b"PK\x05\x06");
            z.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]); // disks; one file
            z.extend_from_slice(&46u32.to_le_bytes()); // central directory size
            z.extend_from_slice(&0u32.to_le_bytes()); // … at offset 0
            z.extend_from_slice(&0u16.to_le_bytes()); // no comment
        }
        z
    }

    #[test]
    fn a_zip_of_end_records_is_damaged_and_opening_stays_linear() {
        // Many candidates: not opened at all.
        let (found, w) = members(&eocd_records(100, 20_000), &Limits::default());
        assert!(found.is_empty());
        assert!(
            w.incomplete[0].contains("20000 end-of-central-directory records"),
            "{:?}",
            w.incomplete
        );
        assert_eq!(w.index_bytes_read, 0);
        // A few candidates, each pointing back across the whole file: what
        // the reader reads to give up grows with the size, not its square.
        let read = |junk: usize| {
            let data = eocd_records(junk, MAX_EOCD_CANDIDATES);
            let (found, w) = members(&data, &Limits::default());
            assert!(found.is_empty());
            assert!(w.incomplete[0].starts_with("damaged Zip archive"));
            assert!(w.index_bytes_read <= ZIP_OPEN_READ_FACTOR * data.len() as u64);
            (w.index_bytes_read, data.len() as u64)
        };
        let (small, small_len) = read(256 << 10);
        let (large, large_len) = read(1 << 20);
        assert!(
            large * small_len <= small * large_len * 2,
            "bytes read grew faster than the size: {small} for {small_len}, {large} for {large_len}"
        );
        // No end record in the last 64 KiB: the format does not allow it.
        let mut far = eocd_records(100, 1);
        far.extend(std::iter::repeat_n(b' ', 70_000));
        let (_, w) = members(&far, &Limits::default());
        assert!(
            w.incomplete[0].contains("no end-of-central-directory record in its last 64 KiB"),
            "{:?}",
            w.incomplete
        );
    }

    /// Found by the fuzzer: a zstd frame that decodes past the member cap
    /// of its limits, then breaks. The decoded bytes were charged to the
    /// budget but never handed out.
    #[test]
    fn a_member_damaged_after_the_cap_is_handed_out_and_charged_once() {
        let data: &[u8] = &[
            0x28, 0xb5, 0x2f, 0xfd, 0x80, 0x58, 0x00, 0x00, 0x40, 0x00, 0x54, 0x00, 0x00, 0x10,
            0x00, 0x00, 0x01, 0x00, 0xfb, 0xff, 0x39, 0xc0, 0x02, 0x02, 0x00, 0x10, 0x00, 0x02,
            0x00, 0x10, 0x00, 0x02, 0x00, 0x10, 0x00, 0x02, 0x00, 0x10, 0x00, 0x02, 0x00, 0x10,
            0x00, 0x02, 0x00, 0x10, 0x00, 0x02, 0x00, 0x10, 0x00, 0x02, 0x00, 0x10, 0x00, 0x02,
            0x00, 0x10, 0x00, 0x02, 0x00, 0x10, 0x00, 0x02, 0x00, 0x10, 0x00, 0x02, 0x00, 0x10,
            0x00, 0x02, 0x00, 0x10, 0x00, 0x02, 0x00, 0x10, 0x00, 0x02, 0x00, 0x10, 0x00, 0x02,
            0x00, 0x10, 0x00, 0x02, 0x00, 0x10, 0x00, 0x02, 0x00, 0x10, 0x00, 0x02, 0x00, 0x10,
            0x00, 0x02, 0x00, 0x10, 0x00, 0x02, 0x00, 0x10, 0x00, 0x02, 0x00, 0x10, 0x00, 0x02,
            0x00, 0x10, 0x00, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x10, 0x00, 0x02, 0x00, 0x10,
            0x00, 0x02, 0x00, 0x10, 0x00, 0x02, 0x00, 0x10, 0x00, 0x02, 0x00, 0x10, 0x00, 0x02,
            0x00, 0x10, 0x00, 0x02, 0x00, 0x10, 0x00, 0x03, 0x00, 0x10, 0x00,
        ];
        let limits = Limits {
            max_depth: 2,
            max_member_bytes: 1 << 20,
            max_total_bytes: 4 << 20,
            max_entries: 64,
        };
        let budget = Cell::new(limits.max_total_bytes);
        let mut handed = 0;
        let w = walk(data, Kind::Zstd, &limits, &budget, &mut |_, b| {
            handed += b.len() as u64
        });
        assert!(handed > 0);
        assert_eq!(budget.get(), limits.max_total_bytes - handed);
        assert_eq!(w.members, 1);
        assert!(
            w.incomplete[0].contains("is damaged after"),
            "{:?}",
            w.incomplete
        );
    }

    #[test]
    fn damaged_archives_are_reported_not_fatal() {
        let budget = Cell::new(1 << 20);
        let w = walk(
            b"PK\x03\x04garbage",
            Kind::Zip,
            &Limits::default(),
            &budget,
            &mut |_, _| {},
        );
        assert!(!w.incomplete.is_empty());
    }
}
