//! The memory of scanned blobs, kept in the cache directory between runs.
//!
//! One append-only JSON Lines file per detector: its name holds the crate
//! version and [`RULES_VERSION`], so a keysweep whose detection changed
//! starts a fresh memory instead of trusting results it would not give.
//! After each repository one line is appended, written in one piece and
//! flushed to disk:
//!
//! ```json
//! {"repo":"https://…/api.git","clean":["<blob id>",…],"found":[{"blob":"<blob id>","credentials":[…]}]}
//! ```
//!
//! A run that is interrupted (Ctrl-C, crash, a killed CI job) loses at most
//! the repository it was scanning. Any damaged line (torn, not UTF-8, not
//! JSON, wrong fields, another format version) is skipped with a warning
//! and its blobs are scanned again; the file is then compacted (written
//! beside, synced, renamed over), which also keeps it about the size of
//! what it remembers however many runs appended to it.
//! The file holds the credentials found, secrets included (a remembered
//! blob's findings are reported again without reading it), so it is
//! created with mode 0600 in a 0700 directory. One run at a time per cache
//! directory: a second one is refused, naming the first (`state/lock`).

use super::OrgError;
use crate::detect::RULES_VERSION;
use crate::diag::Diagnostics;
use crate::finding::{
    Confidence, Credential, Encoding, MemberPath, Part, Position, Presigned, Secret, Signing,
};
use crate::source::git::{BlobMemory, ObjectId, ScannedBlobs};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Seek, Write};
use std::path::{Path, PathBuf};

/// The blobs earlier runs (and earlier repositories of this run) scanned.
pub(crate) struct BlobState {
    path: PathBuf,
    file: File,
    /// Held for the run: one run at a time per cache directory.
    _lock: File,
    /// Blob id → what it held (empty: clean).
    known: HashMap<ObjectId, Vec<Credential>>,
}

impl BlobMemory for BlobState {
    fn recall(&self, id: &gix::oid) -> Option<Vec<Credential>> {
        self.known.get(id).cloned()
    }
}

/// The shape of a state line; bumped when it changes, so old lines are
/// never misread.
const STATE_FORMAT: u32 = 2;

/// Blob ids per line when the state is compacted: lines of about 400 KB.
const COMPACT_IDS_PER_LINE: usize = 10_000;

/// Opens `path` for reading and appending, created 0600 (and made 0600 if
/// a hand-made or older file is wider open); `new` insists on creating it.
/// A symlink in its place is refused, not followed.
fn open_private(path: &Path, new: bool) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).append(true);
    if new {
        options.create_new(true);
    } else {
        options.create(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// Takes the cache directory's lock (`state/lock`, holding the pid of the
/// run that has it), or says which run has it. The lock is the kernel's
/// (flock), so a killed run never leaves it behind.
fn lock_cache(cache_dir: &Path) -> Result<File, OrgError> {
    let path = cache_dir.join("state").join("lock");
    let err = |source| OrgError::State {
        path: path.clone(),
        source,
    };
    let mut file = open_private(&path, false).map_err(err)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = std::io::Read::read_to_string(&mut file, &mut holder);
            let pid: String = holder
                .trim()
                .chars()
                .filter(char::is_ascii_digit)
                .take(10)
                .collect();
            return Err(OrgError::Busy {
                path: cache_dir.to_path_buf(),
                pid: if pid.is_empty() {
                    "unknown".into()
                } else {
                    pid
                },
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(err(e)),
    }
    file.set_len(0).map_err(err)?;
    file.write_all(format!("{}\n", std::process::id()).as_bytes())
        .map_err(err)?;
    Ok(file)
}

/// Reads every line of the state into `known`: `(lines, damaged lines,
/// blob records)`. A line is taken only when it is UTF-8, JSON of the
/// right shape and of this [`STATE_FORMAT`].
fn read_lines(
    file: &mut File,
    known: &mut HashMap<ObjectId, Vec<Credential>>,
) -> std::io::Result<(usize, usize, usize)> {
    file.rewind()?;
    let mut reader = BufReader::new(&*file);
    let mut line = Vec::new();
    let (mut lines, mut damaged, mut records) = (0, 0, 0);
    let mut ends_with_newline = true;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        lines += 1;
        ends_with_newline = line.ends_with(b"\n");
        let entry = std::str::from_utf8(&line)
            .ok()
            .and_then(|text| serde_json::from_str::<Entry>(text.trim_end()).ok())
            .filter(|e| e.v.unwrap_or(STATE_FORMAT) == STATE_FORMAT);
        match entry {
            Some(entry) => records += entry.load_into(known),
            None if line.iter().all(u8::is_ascii_whitespace) => {}
            None => damaged += 1,
        }
    }
    if !ends_with_newline {
        // A torn last line: start the next entry on a line of its own.
        file.write_all(b"\n")?;
    }
    Ok((lines, damaged, records))
}

fn write_entry(out: &mut impl Write, entry: &Entry) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(entry)?;
    line.push(b'\n');
    out.write_all(&line)
}

/// The state file for this keysweep and rules version.
pub(crate) fn state_path(cache_dir: &Path) -> PathBuf {
    cache_dir.join("state").join(format!(
        "blobs-v{}-rules{RULES_VERSION}-s{STATE_FORMAT}.jsonl",
        env!("CARGO_PKG_VERSION")
    ))
}

impl BlobState {
    /// Opens (or creates) the state under `cache_dir` and reads it. Every
    /// damaged line (not UTF-8, cut anywhere, not JSON, wrong fields, an
    /// unknown version) is skipped with one warning and its blobs are
    /// scanned again; a file with damaged or redundant lines is compacted.
    pub fn open(cache_dir: &Path, diag: &Diagnostics) -> Result<Self, OrgError> {
        let path = state_path(cache_dir);
        let err = |source| OrgError::State {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            super::clone::create_private_dir(dir).map_err(err)?;
        }
        let lock = lock_cache(cache_dir)?;
        let mut file = open_private(&path, false).map_err(err)?;

        let mut known = HashMap::new();
        let read = read_lines(&mut file, &mut known);
        let (lines, damaged, records) = match read {
            Ok(counts) => counts,
            Err(e) => {
                // An unreadable stretch (a bad sector): what was read is
                // kept, the rest is scanned again and the file rewritten.
                diag.warn(format_args!(
                    "{}: cannot read the rest of the scan state ({e}); those blobs are scanned again",
                    path.display()
                ));
                (usize::MAX, 1, usize::MAX)
            }
        };
        if damaged > 0 {
            diag.warn(format_args!(
                "{}: {damaged} damaged line(s) skipped (an interrupted run, a torn write?); those blobs are scanned again",
                path.display()
            ));
        }
        let mut state = BlobState {
            path,
            file,
            _lock: lock,
            known,
        };
        // Compact when lines were damaged, when records repeat blobs (two
        // runs scanned the same new blobs), or when many small lines could
        // be a few large ones: the file stays about the size of what it
        // remembers, however many runs appended to it.
        let redundant = records > state.known.len().saturating_mul(2).max(1024);
        let fragmented = lines > 256 && lines > state.known.len() / COMPACT_IDS_PER_LINE * 4;
        if damaged > 0 || redundant || fragmented {
            state.compact()?;
        }
        Ok(state)
    }

    /// Rewrites the state as only what it knows: beside the file, synced,
    /// then renamed over it (a crash leaves the old file or the new one,
    /// never a mix), mode 0600.
    pub fn compact(&mut self) -> Result<(), OrgError> {
        let err = |source| OrgError::State {
            path: self.path.clone(),
            source,
        };
        let tmp = self
            .path
            .with_extension(format!("jsonl.compact-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let written = (|| -> std::io::Result<File> {
            let mut out = std::io::BufWriter::new(open_private(&tmp, true)?);
            let mut clean: Vec<ObjectId> = Vec::new();
            let mut found: Vec<(ObjectId, Vec<Credential>)> = Vec::new();
            for (id, creds) in &self.known {
                if creds.is_empty() {
                    clean.push(*id);
                } else {
                    found.push((*id, creds.clone()));
                }
            }
            clean.sort();
            found.sort_by_key(|f| f.0);
            for chunk in clean.chunks(COMPACT_IDS_PER_LINE) {
                let blobs: ScannedBlobs = chunk.iter().map(|id| (*id, Vec::new())).collect();
                write_entry(&mut out, &Entry::new("(compacted)", &blobs))?;
            }
            for chunk in found.chunks(COMPACT_IDS_PER_LINE) {
                write_entry(&mut out, &Entry::new("(compacted)", &chunk.to_vec()))?;
            }
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            Ok(file)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(err(e));
        }
        std::fs::rename(&tmp, &self.path).map_err(err)?;
        if let Some(dir) = self.path.parent() {
            // The rename itself survives a power cut only once the
            // directory is synced.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        self.file = open_private(&self.path, false).map_err(err)?;
        Ok(())
    }

    /// Number of blobs remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.known.len()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// Remembers what one repository's scan found, on disk first.
    pub fn record(&mut self, repo: &str, blobs: ScannedBlobs) -> Result<(), OrgError> {
        if blobs.is_empty() {
            return Ok(());
        }
        let entry = Entry::new(repo, &blobs);
        let err = |source| OrgError::State {
            path: self.path.clone(),
            source,
        };
        // One write of the whole line, so a crash tears at most this line.
        let mut line = Vec::new();
        write_entry(&mut line, &entry).map_err(err)?;
        self.file.write_all(&line).map_err(err)?;
        self.file.sync_data().map_err(err)?;
        self.known.extend(blobs);
        Ok(())
    }
}

/// One line of the state file: one repository's newly scanned blobs.
#[derive(Serialize, Deserialize)]
struct Entry {
    /// [`STATE_FORMAT`]; absent in lines written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    v: Option<u32>,
    repo: String,
    clean: Vec<String>,
    found: Vec<FoundBlob>,
}

#[derive(Serialize, Deserialize)]
struct FoundBlob {
    blob: String,
    credentials: Vec<StoredCredential>,
}

/// A [`Credential`] on disk. Its own type, so `Secret` itself never gains
/// a serializer that could leak it elsewhere.
#[derive(Serialize, Deserialize)]
struct StoredCredential {
    access_key_id: Option<StoredPart>,
    secret_access_key: Option<StoredPart>,
    session_token: Option<StoredPart>,
    account_id: Option<String>,
    confidence: Confidence,
    /// Archive member names, outermost first.
    member: Option<Vec<String>>,
    /// Found in a presigned URL.
    #[serde(default)]
    presigned: Option<StoredPresigned>,
}

#[derive(Serialize, Deserialize)]
struct StoredPresigned {
    signing: Signing,
    expires: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredPart {
    value: String,
    offset: usize,
    line: u32,
    column: u32,
    encoding: Option<Encoding>,
}

impl StoredPart {
    fn of<V>(p: &Part<V>, value: &str) -> Self {
        StoredPart {
            value: value.to_string(),
            offset: p.position.offset,
            line: p.position.line,
            column: p.position.column,
            encoding: p.encoding,
        }
    }

    fn into_part<V>(self, f: impl FnOnce(String) -> V) -> Part<V> {
        Part {
            value: f(self.value),
            position: Position {
                offset: self.offset,
                line: self.line,
                column: self.column,
            },
            encoding: self.encoding,
        }
    }
}

impl StoredCredential {
    fn of(c: &Credential) -> Self {
        StoredCredential {
            access_key_id: c
                .access_key_id
                .as_ref()
                .map(|p| StoredPart::of(p, &p.value)),
            secret_access_key: c
                .secret_access_key
                .as_ref()
                .map(|p| StoredPart::of(p, p.value.expose())),
            session_token: c
                .session_token
                .as_ref()
                .map(|p| StoredPart::of(p, p.value.expose())),
            account_id: c.account_id.clone(),
            confidence: c.confidence,
            member: c.member.as_ref().map(|m| m.names().to_vec()),
            presigned: c.presigned.as_ref().map(|p| StoredPresigned {
                signing: p.signing,
                expires: p.expires.clone(),
            }),
        }
    }

    fn into_credential(self) -> Credential {
        Credential {
            access_key_id: self.access_key_id.map(|p| p.into_part(|v| v)),
            secret_access_key: self.secret_access_key.map(|p| p.into_part(Secret::new)),
            session_token: self.session_token.map(|p| p.into_part(Secret::new)),
            account_id: self.account_id,
            confidence: self.confidence,
            member: self.member.map(MemberPath::from_names),
            presigned: self.presigned.map(|p| Presigned {
                signing: p.signing,
                expires: p.expires,
            }),
        }
    }
}

impl Entry {
    fn new(repo: &str, blobs: &ScannedBlobs) -> Self {
        let mut clean = Vec::new();
        let mut found = Vec::new();
        for (id, credentials) in blobs {
            if credentials.is_empty() {
                clean.push(id.to_string());
            } else {
                found.push(FoundBlob {
                    blob: id.to_string(),
                    credentials: credentials.iter().map(StoredCredential::of).collect(),
                });
            }
        }
        Entry {
            v: Some(STATE_FORMAT),
            repo: repo.to_string(),
            clean,
            found,
        }
    }

    /// Adds the entry's blobs to `known` and says how many it held; ids
    /// that do not parse are skipped (those blobs are simply scanned again).
    fn load_into(self, known: &mut HashMap<ObjectId, Vec<Credential>>) -> usize {
        let records = self.clean.len() + self.found.len();
        for hex in self.clean {
            if let Ok(id) = ObjectId::from_hex(hex.as_bytes()) {
                known.insert(id, Vec::new());
            }
        }
        for blob in self.found {
            if let Ok(id) = ObjectId::from_hex(blob.blob.as_bytes()) {
                let credentials = blob
                    .credentials
                    .into_iter()
                    .map(StoredCredential::into_credential)
                    .collect();
                known.insert(id, credentials);
            }
        }
        records
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential() -> Credential {
        let pos = Position {
            offset: 7,
            line: 2,
            column: 3,
        };
        Credential {
            access_key_id: Some(Part {
                value: "AKIAQYLPMN5HHHFPZAM2".into(),
                position: pos,
                encoding: None,
            }),
            secret_access_key: Some(Part {
                value: Secret::new("u3bVqX9yZ+fj2kW8sLr0Pq7Nc5Tt1Hm4Ga6EdBvC"),
                position: pos,
                encoding: Some(Encoding::Base64),
            }),
            session_token: None,
            account_id: Some("123456789012".into()),
            confidence: Confidence::High,
            member: Some(MemberPath::default().join("a.zip").join("b")),
            presigned: None,
        }
    }

    /// A pair and a presigned URL's key ID: both kept as found.
    fn credentials() -> Vec<Credential> {
        let mut presigned = credential();
        presigned.secret_access_key = None;
        presigned.presigned = Some(Presigned {
            signing: Signing::Sigv2,
            expires: Some("2024-01-01T00:00:00Z".into()),
        });
        vec![credential(), presigned]
    }

    #[test]
    fn remembers_across_opens_and_survives_a_torn_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let diag = Diagnostics::silent();
        let clean = ObjectId::from_hex(b"1111111111111111111111111111111111111111").expect("hex");
        let dirty = ObjectId::from_hex(b"2222222222222222222222222222222222222222").expect("hex");
        {
            let mut s = BlobState::open(dir.path(), &diag).expect("open");
            assert!(s.is_empty());
            s.record("r", vec![(clean, Vec::new()), (dirty, credentials())])
                .expect("record");
            assert_eq!(s.recall(&dirty), Some(credentials()));
        }
        let path = state_path(dir.path());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A crash mid-write leaves half a line.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open state");
        f.write_all(b"{\"repo\":\"x\",\"clean\":[\"33")
            .expect("write");
        drop(f);
        let mut s = BlobState::open(dir.path(), &diag).expect("reopen");
        assert_eq!(s.len(), 2);
        assert_eq!(s.recall(&clean), Some(Vec::new()));
        assert_eq!(s.recall(&dirty), Some(credentials()));
        let third = ObjectId::from_hex(b"3333333333333333333333333333333333333333").expect("hex");
        s.record("r2", vec![(third, Vec::new())]).expect("record");
        drop(s);
        let s = BlobState::open(dir.path(), &diag).expect("reopen");
        assert_eq!(s.len(), 3, "the entry after the torn line is read");
    }

    fn id(c: u8) -> ObjectId {
        ObjectId::from_hex(&[c; 40]).expect("hex")
    }

    #[test]
    fn every_kind_of_damaged_line_is_skipped_and_compacted_away() {
        let dir = tempfile::tempdir().expect("temp dir");
        let diag = Diagnostics::silent();
        {
            let mut s = BlobState::open(dir.path(), &diag).expect("open");
            s.record("r1", vec![(id(b'1'), Vec::new())])
                .expect("record");
        }
        let path = state_path(dir.path());
        let good = |c: u8, repo: &str| {
            let e = Entry::new(repo, &vec![(id(c), vec![credential()])]);
            let mut l = serde_json::to_vec(&e).expect("json");
            l.push(b'\n');
            l
        };
        let mut damaged: Vec<u8> = Vec::new();
        // Not UTF-8 at all (a bad sector).
        damaged.extend_from_slice(b"\xff\xfe\x00garbage\n");
        // A line with a multi-byte name, cut inside the character.
        let cut = good(b'4', "caf\u{e9}-repo");
        let at = cut.iter().position(|&b| b == 0xc3).expect("multi-byte") + 1;
        damaged.extend_from_slice(&cut[..at]);
        damaged.push(b'\n');
        // JSON of the wrong shape, not JSON, an unknown version.
        damaged.extend_from_slice(b"{\"repo\":7,\"clean\":\"x\"}\n");
        damaged.extend_from_slice(b"not json at all\n");
        damaged.extend_from_slice(
            format!(
                "{{\"v\":99,\"repo\":\"x\",\"clean\":[\"{}\"],\"found\":[]}}\n",
                id(b'5')
            )
            .as_bytes(),
        );
        // A good line after all that, and a torn one at the end.
        damaged.extend_from_slice(&good(b'2', "r2"));
        damaged.extend_from_slice(&good(b'3', "r3")[..30]);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open state");
        f.write_all(&damaged).expect("write");
        drop(f);

        let s = BlobState::open(dir.path(), &diag).expect("damage is never fatal");
        assert_eq!(s.recall(&id(b'1')), Some(Vec::new()));
        assert_eq!(s.recall(&id(b'2')), Some(vec![credential()]));
        for lost in [b'3', b'4', b'5'] {
            assert_eq!(s.recall(&id(lost)), None, "scanned again");
        }
        drop(s);
        // Compacted: every line is whole and of this version, 0600.
        let text = std::fs::read_to_string(&path).expect("the state is UTF-8 again");
        assert!(!text.is_empty());
        for line in text.lines() {
            let e: Entry = serde_json::from_str(line).expect("a whole line");
            assert_eq!(e.v, Some(STATE_FORMAT));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("list")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("compact"))
            .collect();
        assert!(leftovers.is_empty(), "no temp file left behind");
        let s = BlobState::open(dir.path(), &diag).expect("reopen");
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn repeated_records_are_compacted() {
        let dir = tempfile::tempdir().expect("temp dir");
        let diag = Diagnostics::silent();
        {
            let mut s = BlobState::open(dir.path(), &diag).expect("open");
            // The same blob recorded by many runs (each thought it new).
            for _ in 0..1500 {
                s.record("r", vec![(id(b'a'), Vec::new())]).expect("record");
            }
        }
        let path = state_path(dir.path());
        let before = std::fs::read_to_string(&path)
            .expect("read")
            .lines()
            .count();
        assert_eq!(before, 1500);
        let s = BlobState::open(dir.path(), &diag).expect("open");
        assert_eq!(s.len(), 1);
        drop(s);
        let after = std::fs::read_to_string(&path)
            .expect("read")
            .lines()
            .count();
        assert_eq!(after, 1, "bounded by what is remembered, not by runs");
    }

    #[test]
    fn a_second_run_on_the_same_cache_is_refused_naming_the_first() {
        let dir = tempfile::tempdir().expect("temp dir");
        let diag = Diagnostics::silent();
        let first = BlobState::open(dir.path(), &diag).expect("open");
        let Err(e) = BlobState::open(dir.path(), &diag) else {
            panic!("a second open must be refused")
        };
        let msg = e.to_string();
        assert!(
            msg.contains("in use by another keysweep run")
                && msg.contains(&std::process::id().to_string()),
            "{msg}"
        );
        drop(first);
        BlobState::open(dir.path(), &diag).expect("free again once the first ends");
    }
}
