//! The optional `.keysweep.toml` (or `--config FILE`) and `--baseline`:
//! what to leave out of reports, and accounts never to verify. Validated
//! before any scanning, so a typo is an error, not a silently ignored rule.
//!
//! ```toml
//! [allow]
//! paths = ["testdata/**", "docs/*.md"]   # globs over reported paths
//! key_ids = ["AKIA2IJB4LAJLJ6HDU6G"]     # known and accepted key IDs
//! fingerprints = ["5b1d0c…"]             # single findings
//!
//! [verify]
//! skip_accounts = ["123456789012"]       # never call STS for these
//!
//! baseline = "keysweep-baseline.json"    # a previous JSON report, relative to this file
//! ```
//!
//! These files are read by keysweep for itself, and they may come from the
//! code under review, so they are read like hostile input (docs/security.md):
//! never through a symbolic link, only when they are regular files, up to a
//! size cap, and an error names the file, the line and the column but never
//! quotes what the file holds.

use crate::finding::{is_account_id, Finding};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The file looked for in the scanned directory when `--config` is not given.
pub(crate) const DEFAULT_FILE: &str = ".keysweep.toml";
/// The largest config file read.
pub(crate) const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// The largest baseline read.
pub(crate) const MAX_BASELINE_BYTES: u64 = 256 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {what} {}: {reason}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("invalid config {}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("cannot use baseline {}: {message}\nhint: a baseline is a report written by `keysweep ... --format json` (or jsonl)", path.display())]
    Baseline { path: PathBuf, message: String },
    #[error("cannot read {what} from commit {rev}: {reason}")]
    AtCommit {
        what: String,
        rev: String,
        reason: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    baseline: Option<PathBuf>,
    #[serde(default)]
    allow: AllowSection,
    #[serde(default)]
    verify: VerifySection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowSection {
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    key_ids: Vec<String>,
    #[serde(default)]
    fingerprints: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifySection {
    #[serde(default)]
    skip_accounts: Vec<String>,
}

/// The words of the config schema: the only quoted text a parse error may
/// keep.
const SCHEMA_WORDS: &[&str] = &[
    "baseline",
    "allow",
    "verify",
    "paths",
    "key_ids",
    "fingerprints",
    "skip_accounts",
];

/// What to leave out of reports, from the config file and the baseline.
#[derive(Debug, Default)]
pub struct Allowlist {
    paths: Option<GlobSet>,
    key_ids: HashSet<String>,
    fingerprints: HashSet<String>,
}

impl Allowlist {
    /// Whether a finding is allowed (and so not reported). Path globs match
    /// the reported path of the file (for an archive, the archive itself).
    pub(crate) fn allows(&self, f: &Finding) -> bool {
        self.paths
            .as_ref()
            .is_some_and(|g| g.is_match(f.location.path.as_str()))
            || f.credential
                .key_id()
                .is_some_and(|id| self.key_ids.contains(id))
            || (!self.fingerprints.is_empty() && self.fingerprints.contains(&f.fingerprint()))
    }
}

/// Suppression and verification settings from the config file and baseline.
#[derive(Debug, Default)]
pub struct Config {
    pub allow: Allowlist,
    pub skip_accounts: Vec<String>,
}

impl Config {
    /// Loads `explicit`, or `.keysweep.toml` in `root` when present.
    pub fn load(explicit: Option<&Path>, root: &Path) -> Result<Config, ConfigError> {
        let (path, required) = match explicit {
            Some(p) => (p.to_path_buf(), true),
            None => {
                let dir = if root.is_dir() {
                    root
                } else {
                    root.parent().unwrap_or(Path::new("."))
                };
                (dir.join(DEFAULT_FILE), false)
            }
        };
        let text = match read_own_file(&path, MAX_CONFIG_BYTES) {
            Ok(bytes) => bytes,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Config::default())
            }
            Err(e) => {
                return Err(ConfigError::Read {
                    what: "config",
                    path,
                    reason: e.to_string(),
                })
            }
        };
        let text = String::from_utf8(text).map_err(|e| ConfigError::Invalid {
            path: path.clone(),
            message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        })?;
        let (mut config, baseline) = Self::parse(&text, &path)?;
        if let Some(baseline) = baseline {
            let dir = path.parent().unwrap_or(Path::new("."));
            config.add_baseline(&dir.join(baseline))?;
        }
        Ok(config)
    }

    /// The `.keysweep.toml` of commit `rev` (and the baseline it names, from
    /// the same commit), for `ci` and `pre-push`: configuration comes from a
    /// commit that is not under judgement, never from the commits being
    /// judged. No file there: an empty configuration.
    pub(crate) fn load_at_commit(repo: &Path, rev: &str) -> Result<Config, ConfigError> {
        let at = |what: &str, e: &dyn std::error::Error| ConfigError::AtCommit {
            what: what.to_string(),
            rev: rev.to_string(),
            reason: crate::diag::chain(e),
        };
        let Some(bytes) = crate::source::git::file_at(repo, rev, DEFAULT_FILE, MAX_CONFIG_BYTES)
            .map_err(|e| at(DEFAULT_FILE, &e))?
        else {
            return Ok(Config::default());
        };
        let shown = PathBuf::from(format!("{rev}:{DEFAULT_FILE}"));
        let text = String::from_utf8(bytes).map_err(|e| ConfigError::Invalid {
            path: shown.clone(),
            message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        })?;
        let (mut config, baseline) = Self::parse(&text, &shown)?;
        if let Some(baseline) = baseline {
            // Inside the repository, from its root: no absolute paths, no `..`.
            let name = baseline.to_string_lossy().replace('\\', "/");
            let inside = !name.starts_with('/')
                && !name.is_empty()
                && name.split('/').all(|part| part != ".." && !part.is_empty());
            if !inside {
                return Err(ConfigError::Invalid {
                    path: shown,
                    message: "baseline must be a path inside the repository (no `/` at the start, no `..`)".into(),
                });
            }
            let bytes = crate::source::git::file_at(repo, rev, &name, MAX_BASELINE_BYTES)
                .map_err(|e| at("the baseline", &e))?
                .ok_or_else(|| ConfigError::AtCommit {
                    what: "the baseline".into(),
                    rev: rev.to_string(),
                    reason: "the file the config names is not in that commit".into(),
                })?;
            config.add_baseline_text(&bytes, &PathBuf::from(format!("{rev}:{name}")))?;
        }
        Ok(config)
    }

    /// Adds what `other` holds to this configuration: its fingerprints and
    /// accounts (an explicit `--baseline` beside a committed config).
    pub(crate) fn absorb(&mut self, other: Config) {
        self.allow.fingerprints.extend(other.allow.fingerprints);
        self.allow.key_ids.extend(other.allow.key_ids);
        self.skip_accounts.extend(other.skip_accounts);
        if self.allow.paths.is_none() {
            self.allow.paths = other.allow.paths;
        }
    }

    /// Parses config text; `path` names it in errors. Returns the baseline
    /// path the file names without following it (see [`Config::load`]).
    pub fn parse(text: &str, path: &Path) -> Result<(Config, Option<PathBuf>), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let file: FileConfig = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let (line, column) = line_column(text, s.start);
                    format!("line {line}, column {column}: ")
                })
                .unwrap_or_default();
            invalid(format!("{at}{}", scrub(e.message())))
        })?;
        let paths = if file.allow.paths.is_empty() {
            None
        } else {
            let mut b = GlobSetBuilder::new();
            for (i, g) in file.allow.paths.iter().enumerate() {
                let glob =
                    Glob::new(g).map_err(|e| invalid(format!("allow.paths[{i}]: {}", e.kind())))?;
                b.add(glob);
            }
            Some(
                b.build()
                    .map_err(|e| invalid(format!("allow.paths: {}", e.kind())))?,
            )
        };
        for (i, id) in file.allow.key_ids.iter().enumerate() {
            if id.len() != 20
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            {
                return Err(invalid(format!(
                    "allow.key_ids[{i}] is not an access key ID (20 characters, A-Z and 0-9)"
                )));
            }
        }
        for (i, fp) in file.allow.fingerprints.iter().enumerate() {
            if !(fp.len() == 32 && fp.bytes().all(|b| b.is_ascii_hexdigit())) {
                return Err(invalid(format!(
                    "allow.fingerprints[{i}] is not a fingerprint (32 hex digits)"
                )));
            }
        }
        for (i, acct) in file.verify.skip_accounts.iter().enumerate() {
            if !is_account_id(acct) {
                return Err(invalid(format!(
                    "verify.skip_accounts[{i}] is not a 12-digit account ID"
                )));
            }
        }
        let config = Config {
            allow: Allowlist {
                paths,
                key_ids: file.allow.key_ids.into_iter().collect(),
                fingerprints: file
                    .allow
                    .fingerprints
                    .into_iter()
                    .map(|f| f.to_ascii_lowercase())
                    .collect(),
            },
            skip_accounts: file.verify.skip_accounts,
        };
        Ok((config, file.baseline))
    }

    /// Adds the fingerprints of a previous JSON (or JSONL) report.
    pub(crate) fn add_baseline(&mut self, path: &Path) -> Result<(), ConfigError> {
        let err = |message: String| ConfigError::Baseline {
            path: path.to_path_buf(),
            message,
        };
        let bytes = read_own_file(path, MAX_BASELINE_BYTES).map_err(|e| err(e.to_string()))?;
        self.add_baseline_text(&bytes, path)
    }

    /// Adds the fingerprints of a report already read; `path` names it.
    fn add_baseline_text(&mut self, bytes: &[u8], path: &Path) -> Result<(), ConfigError> {
        let err = |message: String| ConfigError::Baseline {
            path: path.to_path_buf(),
            message,
        };
        let text = std::str::from_utf8(bytes)
            .map_err(|e| err(format!("not UTF-8 text (byte {})", e.valid_up_to())))?;
        let (findings, _) =
            crate::report::json::read_report(text).map_err(|e| err(scrub(&e.to_string())))?;
        for f in findings {
            self.allow.fingerprints.insert(f.fingerprint());
        }
        Ok(())
    }
}

/// 1-based line and column (in characters) of byte `at` in `text`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A parser's message with every quoted piece of the file's text replaced
/// by `…`; only the schema's own words stay quoted.
pub(crate) fn scrub(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(['`', '"']) {
        let quote = rest[start..].chars().next().unwrap_or('"');
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find(quote) {
            Some(end) => {
                let inner = &after[..end];
                if SCHEMA_WORDS.contains(&inner) {
                    out.push(quote);
                    out.push_str(inner);
                    out.push(quote);
                } else {
                    out.push(quote);
                    out.push('…');
                    out.push(quote);
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push(quote);
                out.push('…');
                rest = "";
            }
        }
    }
    out.push_str(rest);
    crate::term::for_terminal(&out)
}

/// Reads a file keysweep uses for itself (config, baseline, state, cache):
/// never through a symbolic link, only a regular file (a FIFO would hang
/// the run, `/dev/zero` would fill memory), at most `max` bytes.
pub(crate) fn read_own_file(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind};
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Not following a link at the last component; not blocking on a
        // FIFO while opening it (it is refused just below).
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return Error::new(
                ErrorKind::InvalidInput,
                "it is a symbolic link, which keysweep does not follow for its own files",
            );
        }
        e
    })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Error::new(ErrorKind::InvalidInput, "not a regular file"));
    }
    if meta.len() > max {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("{} bytes is over the {max}-byte limit", meta.len()),
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("it grew over the {max}-byte limit while being read"),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_configs_clearly() {
        let p = Path::new(".keysweep.toml");
        for (text, needle) in [
            ("[allow]\npaths = [\"a/[\"]\n", "allow.paths[0]"),
            ("[allow]\nkey_ids = [\"AKIA\"]\n", "not an access key ID"),
            ("[allow]\nfingerprints = [\"x\"]\n", "not a fingerprint"),
            ("[verify]\nskip_accounts = [\"12\"]\n", "12-digit"),
            ("[alow]\n", "unknown field"),
            ("not toml", "line 1, column"),
        ] {
            let e = Config::parse(text, p).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn parse_errors_never_quote_the_file() {
        let p = Path::new("c.toml");
        let secret = "AWS_SECRET_ACCESS_KEY=PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA+";
        for text in [
            format!("{secret}\n"),
            format!("[allow]\npaths = \"{secret}\"\n"),
            format!("[allow]\n{secret} = 1\n"),
            format!("[\"{secret}\"]\n"),
            format!("baseline = 5\n# {secret}\n"),
            format!("[allow]\nkey_ids = [\"{secret}\"]\n"),
        ] {
            let e = Config::parse(&text, p).unwrap_err().to_string();
            assert!(!e.contains("PtYg"), "{e}");
            assert!(!e.contains("SECRET_ACCESS"), "{e}");
            assert!(e.contains("c.toml"), "{e}");
        }
    }

    #[test]
    fn a_missing_default_file_is_fine_a_missing_explicit_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Config::load(None, dir.path()).is_ok());
        assert!(Config::load(Some(&dir.path().join("nope.toml")), dir.path()).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn own_files_are_never_read_through_links_fifos_or_devices() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.toml");
        std::fs::write(&real, "[allow]\n").unwrap();
        let link = dir.path().join(".keysweep.toml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = Config::load(None, dir.path()).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        let e = Config::load(Some(&link), dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("symbolic link"), "{e}");

        let fifo = dir.path().join("fifo.toml");
        let c = std::ffi::CString::new(fifo.to_string_lossy().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a node.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = Config::load(Some(&fifo), dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a regular file"), "{e}");

        let e = read_own_file(Path::new("/dev/zero"), 10)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a regular file"), "{e}");

        let big = dir.path().join("big.toml");
        std::fs::write(&big, vec![b'#'; (MAX_CONFIG_BYTES + 1) as usize]).unwrap();
        let e = Config::load(Some(&big), dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("limit"), "{e}");
    }

    #[test]
    fn scrub_keeps_schema_words_only() {
        assert_eq!(
            scrub("unknown field `alow`, expected one of `baseline`, `allow`"),
            "unknown field `…`, expected one of `baseline`, `allow`"
        );
        assert_eq!(
            scrub("invalid type: string \"s3cr3t\""),
            "invalid type: string \"…\""
        );
        assert_eq!(scrub("dangling `quote"), "dangling `…");
    }
}
