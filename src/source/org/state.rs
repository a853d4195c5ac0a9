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
//! the repository it was scanning; a torn last line is skipped on reading.
//! The file holds the credentials found, secrets included (a remembered
//! blob's findings are reported again without reading it), so it is
//! created with mode 0600 in a 0700 directory. One run at a time per cache
//! directory.

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
pub struct BlobState {
    path: PathBuf,
    file: File,
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

/// The state file for this keysweep and rules version.
pub fn state_path(cache_dir: &Path) -> PathBuf {
    cache_dir.join("state").join(format!(
        "blobs-v{}-rules{RULES_VERSION}-s{STATE_FORMAT}.jsonl",
        env!("CARGO_PKG_VERSION")
    ))
}

impl BlobState {
    /// Opens (or creates) the state under `cache_dir` and reads it.
    pub fn open(cache_dir: &Path, diag: &Diagnostics) -> Result<Self, OrgError> {
        let path = state_path(cache_dir);
        let err = |source| OrgError::State {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            super::clone::create_private_dir(dir).map_err(err)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(err)?;
        #[cfg(unix)]
        {
            // A file made by hand or by an older run may be wider open.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
        }

        let mut known = HashMap::new();
        let mut torn = 0u64;
        let mut ends_with_newline = true;
        file.rewind().map_err(err)?;
        let mut reader = BufReader::new(&file);
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader.read_line(&mut line).map_err(err)?;
            if n == 0 {
                break;
            }
            ends_with_newline = line.ends_with('\n');
            match serde_json::from_str::<Entry>(line.trim_end()) {
                Ok(entry) => entry.load_into(&mut known),
                Err(_) => torn += 1,
            }
        }
        if torn > 0 {
            diag.warn(format_args!(
                "{}: {torn} damaged line(s) skipped (an interrupted run?); those blobs are scanned again",
                path.display()
            ));
        }
        if !ends_with_newline {
            // A torn last line: start the next entry on a line of its own.
            file.write_all(b"\n").map_err(err)?;
        }
        Ok(BlobState { path, file, known })
    }

    /// Number of blobs remembered.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// Remembers what one repository's scan found, on disk first.
    pub fn record(&mut self, repo: &str, blobs: ScannedBlobs) -> Result<(), OrgError> {
        if blobs.is_empty() {
            return Ok(());
        }
        let entry = Entry::new(repo, &blobs);
        let mut line = serde_json::to_vec(&entry).map_err(|e| OrgError::State {
            path: self.path.clone(),
            source: e.into(),
        })?;
        line.push(b'\n');
        let err = |source| OrgError::State {
            path: self.path.clone(),
            source,
        };
        self.file.write_all(&line).map_err(err)?;
        self.file.sync_data().map_err(err)?;
        self.known.extend(blobs);
        Ok(())
    }
}

/// One line of the state file: one repository's newly scanned blobs.
#[derive(Serialize, Deserialize)]
struct Entry {
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
            repo: repo.to_string(),
            clean,
            found,
        }
    }

    /// Adds the entry's blobs to `known`; ids that do not parse are
    /// skipped (those blobs are simply scanned again).
    fn load_into(self, known: &mut HashMap<ObjectId, Vec<Credential>>) {
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
        let s = BlobState::open(dir.path(), &diag).expect("reopen");
        assert_eq!(s.len(), 3, "the entry after the torn line is read");
    }
}
