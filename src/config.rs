//! The optional `.keysweep.toml` (or `--config FILE`): path globs and key
//! IDs to allow, accounts never to verify. Validated before any scanning, so
//! a typo is an error, not a silently ignored rule.
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

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The file looked for in the scanned directory when `--config` is not given.
pub const DEFAULT_FILE: &str = ".keysweep.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot read baseline {path}: {message}\nhint: a baseline is a report written by `keysweep ... --format json`")]
    Baseline { path: PathBuf, message: String },
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

/// What to leave out of reports, from the config file and the baseline.
#[derive(Debug, Default)]
pub struct Allowlist {
    paths: Option<GlobSet>,
    key_ids: HashSet<String>,
    fingerprints: HashSet<String>,
}

/// The validated configuration.
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
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Config::default())
            }
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        Self::parse(&text, &path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let file: FileConfig = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let paths = if file.allow.paths.is_empty() {
            None
        } else {
            let mut b = GlobSetBuilder::new();
            for g in &file.allow.paths {
                b.add(Glob::new(g).map_err(|e| invalid(format!("path glob {g:?}: {e}")))?);
            }
            Some(b.build().map_err(|e| invalid(e.to_string()))?)
        };
        for id in &file.allow.key_ids {
            if id.len() != 20
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            {
                return Err(invalid(format!(
                    "allow.key_ids: {id:?} is not an access key ID"
                )));
            }
        }
        for acct in &file.verify.skip_accounts {
            if acct.len() != 12 || !acct.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(format!(
                    "verify.skip_accounts: {acct:?} is not a 12-digit account ID"
                )));
            }
        }
        let mut config = Config {
            allow: Allowlist {
                paths,
                key_ids: file.allow.key_ids.into_iter().collect(),
                fingerprints: file.allow.fingerprints.into_iter().collect(),
            },
            skip_accounts: file.verify.skip_accounts,
        };
        if let Some(baseline) = file.baseline {
            let dir = path.parent().unwrap_or(Path::new("."));
            config.add_baseline(&dir.join(baseline))?;
        }
        Ok(config)
    }

    /// Adds the fingerprints of a previous JSON (or JSONL) report.
    pub fn add_baseline(&mut self, path: &Path) -> Result<(), ConfigError> {
        let err = |message: String| ConfigError::Baseline {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let findings: Vec<serde_json::Value> =
            match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(doc) => doc
                    .get("findings")
                    .and_then(|f| f.as_array())
                    .cloned()
                    .ok_or_else(|| err("no \"findings\" array".into()))?,
                Err(_) => text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(serde_json::from_str)
                    .collect::<Result<_, _>>()
                    .map_err(|e| err(e.to_string()))?,
            };
        for f in findings {
            let fp = f
                .get("fingerprint")
                .and_then(|v| v.as_str())
                .ok_or_else(|| err("a finding has no fingerprint".into()))?;
            self.allow.fingerprints.insert(fp.to_string());
        }
        Ok(())
    }
}

impl Allowlist {
    /// Whether a finding is allowed (and so not reported).
    pub fn allows(&self, f: &crate::finding::Finding) -> bool {
        let path = f.path.split('!').next().unwrap_or(&f.path);
        self.paths.as_ref().is_some_and(|g| g.is_match(path))
            || f.credential
                .access_key_id
                .as_ref()
                .is_some_and(|p| self.key_ids.contains(&p.value))
            || (!self.fingerprints.is_empty() && self.fingerprints.contains(&f.fingerprint()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_configs_clearly() {
        let p = Path::new(".keysweep.toml");
        for (text, needle) in [
            ("[allow]\npaths = [\"a/[\"]\n", "path glob"),
            ("[allow]\nkey_ids = [\"AKIA\"]\n", "not an access key ID"),
            ("[verify]\nskip_accounts = [\"12\"]\n", "12-digit"),
            ("[alow]\n", "unknown field"),
            ("not toml", "invalid config"),
        ] {
            let e = Config::parse(text, p).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn a_missing_default_file_is_fine_a_missing_explicit_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Config::load(None, dir.path()).is_ok());
        assert!(Config::load(Some(&dir.path().join("nope.toml")), dir.path()).is_err());
    }
}
