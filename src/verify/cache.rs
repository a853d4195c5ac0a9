//! Verdicts remembered across runs (`--verify-cache FILE`).
//!
//! Org-wide and CI scans meet the same keys again and again; asking STS each
//! time costs requests, time and rate limit. The file is keyed by
//! [`CredentialKey::digest`](crate::finding::CredentialKey::digest), a
//! SHA-256 of the credential, so it never holds a secret. Only verdicts are
//! kept (live, invalid, expired): an `unverified` result says nothing about
//! the key and must be retried next time. Entries also remember the endpoint
//! they came from, so a test server's answers never stand in for AWS's.

use crate::diag::Diagnostics;
use crate::finding::{is_account_id, Arn, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const VERSION: u32 = 1;

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    /// Credential digest → verdict.
    entries: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    status: Remembered,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// When STS gave the verdict, in unix seconds.
    verified_at: u64,
    /// The endpoint asked; `None` for AWS's own.
    #[serde(default)]
    endpoint: Option<String>,
}

/// The statuses worth remembering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Remembered {
    Live,
    Invalid,
    Expired,
}

pub(crate) struct Cache {
    path: PathBuf,
    file: CacheFile,
    changed: bool,
}

pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Cache {
    /// Reads the cache; a missing file is an empty cache, and so is an
    /// unreadable or corrupt one (after a warning): losing the cache only
    /// costs requests.
    pub(crate) fn load(path: &Path, diag: &Diagnostics) -> Cache {
        let empty = CacheFile {
            version: VERSION,
            entries: BTreeMap::new(),
        };
        let file = match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice::<CacheFile>(&bytes) {
                Ok(f) if f.version == VERSION => f,
                Ok(f) => {
                    diag.warn(format_args!(
                        "verification cache {}: version {} is not {VERSION}; starting empty",
                        path.display(),
                        f.version
                    ));
                    empty
                }
                Err(e) => {
                    diag.warn(format_args!(
                        "verification cache {} is corrupt ({e}); starting empty",
                        path.display()
                    ));
                    empty
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => empty,
            Err(e) => {
                diag.warn(format_args!(
                    "cannot read verification cache {}: {e}; starting empty",
                    path.display()
                ));
                empty
            }
        };
        Cache {
            path: path.to_path_buf(),
            file,
            changed: false,
        }
    }

    /// The remembered verdict for `digest`, if younger than `ttl` and from
    /// the same endpoint.
    pub(crate) fn get(
        &self,
        digest: &str,
        endpoint: Option<&str>,
        now: u64,
        ttl: Duration,
    ) -> Option<Verdict> {
        let e = self.file.entries.get(digest)?;
        if e.endpoint.as_deref() != endpoint || now.saturating_sub(e.verified_at) >= ttl.as_secs() {
            return None;
        }
        // The file is read from disk: an entry that is not well formed is
        // asked again rather than trusted.
        match e.status {
            Remembered::Live => {
                let arn = Arn::parse(e.arn.as_deref()?)?;
                let account = e.account.clone().filter(|a| is_account_id(a))?;
                Some(Verdict::Live {
                    arn,
                    account,
                    user_id: e.user_id.clone().unwrap_or_default(),
                })
            }
            Remembered::Invalid => Some(Verdict::Invalid {
                code: e
                    .error
                    .clone()
                    .filter(|c| c.len() <= 64 && c.bytes().all(|b| b.is_ascii_alphanumeric()))?,
            }),
            Remembered::Expired => Some(Verdict::Expired),
        }
    }

    /// Remembers a verdict; other statuses are ignored.
    pub(crate) fn put(&mut self, digest: String, v: &Verdict, endpoint: Option<&str>, now: u64) {
        let entry = |status,
                     arn: Option<&Arn>,
                     account: Option<&String>,
                     user_id: Option<&String>,
                     error: Option<&str>| Entry {
            status,
            arn: arn.map(Arn::to_string),
            account: account.cloned(),
            user_id: user_id.cloned(),
            error: error.map(str::to_string),
            verified_at: now,
            endpoint: endpoint.map(str::to_string),
        };
        let e = match v {
            Verdict::Live {
                arn,
                account,
                user_id,
            } => entry(
                Remembered::Live,
                Some(arn),
                Some(account),
                Some(user_id),
                None,
            ),
            Verdict::Invalid { code } => entry(Remembered::Invalid, None, None, None, Some(code)),
            Verdict::Expired => entry(Remembered::Expired, None, None, None, None),
            _ => return,
        };
        self.file.entries.insert(digest, e);
        self.changed = true;
    }

    /// Writes the cache if it changed, dropping stale entries, atomically
    /// (temporary file + rename) so a crash never leaves half a file.
    pub(crate) fn save(&mut self, now: u64, ttl: Duration) -> std::io::Result<()> {
        if !self.changed {
            return Ok(());
        }
        self.file
            .entries
            .retain(|_, e| now.saturating_sub(e.verified_at) < ttl.as_secs());
        let dir = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir)?;
        let json = serde_json::to_vec_pretty(&self.file).map_err(std::io::Error::other)?;
        // Private: it names the principals of live keys.
        crate::atomic_file::write_replacing(
            &self.path,
            &json,
            crate::atomic_file::Access::Private,
        )?;
        self.changed = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live() -> Verdict {
        Verdict::Live {
            arn: Arn::parse("arn:aws:iam::123456789012:user/bob").expect("an ARN"),
            account: "123456789012".into(),
            user_id: "AIDAEXAMPLE".into(),
        }
    }

    #[test]
    fn round_trips_verdicts_and_honours_ttl_and_endpoint() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub/cache.json");
        let diag = Diagnostics::silent();
        let ttl = Duration::from_secs(100);
        let mut c = Cache::load(&path, &diag);
        c.put("d1".into(), &live(), Some("http://127.0.0.1:1"), 1000);
        let unverified = Verdict::Unverified {
            reason: "timeout".into(),
        };
        c.put("d2".into(), &unverified, None, 1000);
        c.save(1000, ttl).expect("save");

        let c = Cache::load(&path, &diag);
        assert_eq!(
            c.get("d1", Some("http://127.0.0.1:1"), 1050, ttl),
            Some(live())
        );
        assert_eq!(
            c.get("d1", Some("http://127.0.0.1:1"), 1100, ttl),
            None,
            "expired after ttl"
        );
        assert_eq!(
            c.get("d1", None, 1050, ttl),
            None,
            "another endpoint's verdict"
        );
        assert_eq!(
            c.get("d2", None, 1050, ttl),
            None,
            "unverified is never cached"
        );
    }

    #[test]
    fn corrupt_file_starts_empty() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("cache.json");
        std::fs::write(&path, b"{not json").expect("write");
        let c = Cache::load(&path, &Diagnostics::silent());
        assert!(c.file.entries.is_empty());
    }

    #[test]
    fn saves_status_and_unix_time_as_json() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("cache.json");
        let mut c = Cache::load(&path, &Diagnostics::silent());
        c.put("abc123".into(), &live(), None, 5);
        c.save(5, Duration::from_secs(10)).expect("save");
        let text = std::fs::read_to_string(&path).expect("read");
        let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(doc["entries"]["abc123"]["status"], "live");
        assert_eq!(doc["entries"]["abc123"]["verified_at"], 5);
    }
}
