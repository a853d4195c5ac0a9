//! Owner records remembered across runs (`OwnerOptions::cache_file`).
//!
//! Org-wide scans and repeated triage meet the same key IDs again; each
//! lookup costs several IAM requests. The file holds owner records only
//! (key IDs, account and user names, dates, policy names: no secret was ever
//! known to this path). An entry is used only by the same operator account
//! against the same endpoints, within the TTL, and only records that are a
//! verdict are kept (`unreachable` and `error` are asked again next time).
//! Revocation forgets the records of the keys it touched.
//!
//! The file is keysweep's own but may sit in a shared directory, so it is
//! read only if it is a regular file (not a symlink) of bounded size, and a
//! parse error quotes none of its content.

use super::{KeyId, OwnerRecord};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const VERSION: u32 = 1;
/// Larger files are not ours: 32 MiB is some 50,000 records.
const MAX_FILE: u64 = 32 << 20;

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    /// Key ID → what was learned.
    entries: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    record: OwnerRecord,
    /// Unix seconds.
    looked_up_at: u64,
    /// The operator account that looked it up.
    operator: String,
    /// The endpoints asked (so a test server's answers never stand in for
    /// AWS's).
    endpoints: String,
}

pub(crate) struct Cache {
    path: PathBuf,
    file: CacheFile,
    operator: String,
    endpoints: String,
    changed: bool,
    /// Problems reading or writing the file; losing the cache only costs
    /// requests, so they are warnings.
    pub(crate) warnings: Vec<String>,
}

pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Cache {
    /// Reads the cache; missing is empty, and so is unreadable (with a
    /// warning).
    pub(crate) fn load(path: &Path, operator: &str, endpoints: &str) -> Cache {
        let mut warnings = Vec::new();
        let file = match read_own_file(path) {
            Ok(None) => CacheFile::default(),
            Ok(Some(bytes)) => match serde_json::from_slice::<CacheFile>(&bytes) {
                Ok(f) if f.version == VERSION => f,
                Ok(f) => {
                    warnings.push(format!(
                        "owner cache {}: version {} is not {VERSION}; starting empty",
                        path.display(),
                        f.version
                    ));
                    CacheFile::default()
                }
                Err(e) => {
                    warnings.push(format!(
                        "owner cache {} is corrupt (line {}, column {}); starting empty",
                        path.display(),
                        e.line(),
                        e.column()
                    ));
                    CacheFile::default()
                }
            },
            Err(why) => {
                warnings.push(format!(
                    "cannot read owner cache {}: {why}; starting empty",
                    path.display()
                ));
                CacheFile::default()
            }
        };
        Cache {
            path: path.to_path_buf(),
            file,
            operator: operator.to_string(),
            endpoints: endpoints.to_string(),
            changed: false,
            warnings,
        }
    }

    /// The remembered record of `key`, if this operator looked it up at
    /// these endpoints less than `ttl` ago.
    pub(crate) fn get(&self, key: &KeyId, now: u64, ttl: Duration) -> Option<OwnerRecord> {
        let e = self.file.entries.get(key.as_str())?;
        let usable = e.operator == self.operator
            && e.endpoints == self.endpoints
            && e.record.key_id == *key
            && now.saturating_sub(e.looked_up_at) < ttl.as_secs();
        usable.then(|| e.record.clone())
    }

    /// Remembers a record that is a verdict; others are ignored.
    pub(crate) fn put(&mut self, record: &OwnerRecord, now: u64) {
        if !record.state.is_verdict() {
            return;
        }
        self.file.entries.insert(
            record.key_id.as_str().to_string(),
            Entry {
                record: record.clone(),
                looked_up_at: now,
                operator: self.operator.clone(),
                endpoints: self.endpoints.clone(),
            },
        );
        self.changed = true;
    }

    pub(crate) fn forget(&mut self, key: &KeyId) {
        if self.file.entries.remove(key.as_str()).is_some() {
            self.changed = true;
        }
    }

    /// Writes the file if it changed, dropping expired entries, atomically
    /// (temporary file and rename).
    pub(crate) fn save(&mut self, now: u64, ttl: Duration) {
        if !self.changed {
            return;
        }
        self.file
            .entries
            .retain(|_, e| now.saturating_sub(e.looked_up_at) < ttl.as_secs());
        self.file.version = VERSION;
        match self.write() {
            Ok(()) => self.changed = false,
            Err(e) => self.warnings.push(format!(
                "could not write owner cache {}: {e}",
                self.path.display()
            )),
        }
    }

    fn write(&self) -> std::io::Result<()> {
        let dir = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir)?;
        let json = serde_json::to_vec_pretty(&self.file).map_err(std::io::Error::other)?;
        crate::atomic_file::write_replacing(&self.path, &json, crate::atomic_file::Access::Private)
    }
}

/// The file's bytes; `None` when it does not exist. Refuses symlinks,
/// non-regular files and files over [`MAX_FILE`].
fn read_own_file(path: &Path) -> Result<Option<Vec<u8>>, String> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    if meta.file_type().is_symlink() {
        return Err("it is a symbolic link".into());
    }
    let mut f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let meta = f.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    if meta.len() > MAX_FILE {
        return Err(format!("it is larger than {MAX_FILE} bytes"));
    }
    let mut bytes = Vec::new();
    Read::by_ref(&mut f)
        .take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(format!("it is larger than {MAX_FILE} bytes"));
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::owner::OwnerState;

    fn record(key: &str, state: OwnerState) -> OwnerRecord {
        let mut r = OwnerRecord::new(KeyId::parse(key).expect("key"), state);
        r.account = Some("123456789012".into());
        r.user = Some("ci".into());
        r
    }

    #[test]
    fn round_trips_verdicts_for_the_same_operator_and_endpoints() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub/owners.json");
        let ttl = Duration::from_secs(100);
        let found = record("AKIA2IJB4LAJLJ6HDU6G", OwnerState::Found);
        let failed = record("AKIADPMRCG4BE4UMR46P", OwnerState::Error);
        let mut c = Cache::load(&path, "111111111111", "http://x/");
        assert!(c.warnings.is_empty());
        c.put(&found, 1000);
        c.put(&failed, 1000);
        c.save(1000, ttl);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);

        let c = Cache::load(&path, "111111111111", "http://x/");
        assert_eq!(c.get(&found.key_id, 1050, ttl), Some(found.clone()));
        assert_eq!(c.get(&found.key_id, 1100, ttl), None, "expired");
        assert_eq!(
            c.get(&failed.key_id, 1050, ttl),
            None,
            "errors are not kept"
        );
        let other = Cache::load(&path, "222222222222", "http://x/");
        assert_eq!(
            other.get(&found.key_id, 1050, ttl),
            None,
            "another operator"
        );
        let elsewhere = Cache::load(&path, "111111111111", "https://iam/");
        assert_eq!(
            elsewhere.get(&found.key_id, 1050, ttl),
            None,
            "other endpoints"
        );

        let mut c = c;
        c.forget(&found.key_id);
        c.save(1050, ttl);
        let c = Cache::load(&path, "111111111111", "http://x/");
        assert_eq!(c.get(&found.key_id, 1050, ttl), None, "forgotten");

        let text = std::fs::read_to_string(&path).expect("read");
        assert!(!text.contains("secret"), "{text}");
    }

    #[test]
    fn refuses_corrupt_and_symlinked_files_without_quoting_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("owners.json");
        std::fs::write(&path, b"{\"version\":1, AKIA-not-json").expect("write");
        let c = Cache::load(&path, "1", "e");
        assert_eq!(c.warnings.len(), 1);
        assert!(c.warnings[0].contains("corrupt"), "{:?}", c.warnings);
        assert!(!c.warnings[0].contains("AKIA-not-json"));

        #[cfg(unix)]
        {
            let target = dir.path().join("elsewhere.json");
            std::fs::write(&target, b"{\"version\":1,\"entries\":{}}").expect("write");
            let link = dir.path().join("link.json");
            std::os::unix::fs::symlink(&target, &link).expect("symlink");
            let c = Cache::load(&link, "1", "e");
            assert!(
                c.warnings.iter().any(|w| w.contains("symbolic link")),
                "{:?}",
                c.warnings
            );
        }
    }
}
