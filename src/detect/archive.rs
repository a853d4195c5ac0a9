//! Looking inside zip, gzip and tar archives, within hard bounds so that a
//! zip bomb or a deeply nested archive costs a bounded amount of memory and
//! time. Members are handed back one at a time; nothing touches the disk.

use std::cell::Cell;
use std::io::{Cursor, Read};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Gzip,
    Tar,
}

/// Recognises an archive by its magic bytes.
pub fn sniff(data: &[u8]) -> Option<Kind> {
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        Some(Kind::Zip)
    } else if data.starts_with(&[0x1f, 0x8b]) {
        Some(Kind::Gzip)
    } else if data.get(257..262) == Some(b"ustar") {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// What happened while reading one archive.
#[derive(Debug, Default)]
pub struct Walk {
    pub members: u64,
    /// Why not every byte was scanned (a bound was hit, or the archive is
    /// damaged), for the user to see.
    pub incomplete: Vec<String>,
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
        Kind::Gzip => walk_gzip(data, limits, budget, visit, &mut walk),
        Kind::Tar => walk_tar(data, limits, budget, visit, &mut walk),
    };
    if let Err(e) = result {
        walk.incomplete
            .push(format!("damaged {kind:?} archive: {e}"));
    }
    walk
}

/// Reads at most the member limit and what is left of the budget.
fn read_bounded(
    mut r: impl Read,
    limits: &Limits,
    budget: &Cell<u64>,
    name: &str,
    walk: &mut Walk,
) -> std::io::Result<Vec<u8>> {
    let cap = limits.max_member_bytes.min(budget.get());
    let mut buf = Vec::new();
    r.by_ref().take(cap).read_to_end(&mut buf)?;
    budget.set(budget.get() - buf.len() as u64);
    let mut probe = [0u8; 1];
    if r.read(&mut probe)? > 0 {
        walk.incomplete.push(format!(
            "archive member {name} was scanned only up to {} bytes (the archive size limit)",
            buf.len()
        ));
    }
    Ok(buf)
}

fn walk_zip(
    data: &[u8],
    limits: &Limits,
    budget: &Cell<u64>,
    visit: &mut dyn FnMut(&str, &[u8]),
    walk: &mut Walk,
) -> Result<(), String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(data)).map_err(|e| e.to_string())?;
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
            Ok(bytes) => {
                walk.members += 1;
                visit(&name, &bytes);
            }
            Err(e) => walk.incomplete.push(format!("zip member {name}: {e}")),
        }
    }
    Ok(())
}

fn walk_gzip(
    data: &[u8],
    limits: &Limits,
    budget: &Cell<u64>,
    visit: &mut dyn FnMut(&str, &[u8]),
    walk: &mut Walk,
) -> Result<(), String> {
    let decoder = flate2::read::MultiGzDecoder::new(data);
    let name = decoder
        .header()
        .and_then(|h| h.filename())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_else(|| "-".to_string());
    let bytes = read_bounded(decoder, limits, budget, &name, walk).map_err(|e| e.to_string())?;
    walk.members += 1;
    visit(&name, &bytes);
    Ok(())
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
            Ok(bytes) => {
                walk.members += 1;
                visit(&name, &bytes);
            }
            Err(e) => walk.incomplete.push(format!("tar member {name}: {e}")),
        }
    }
    Ok(())
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
