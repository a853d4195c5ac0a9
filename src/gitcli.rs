//! The one way keysweep runs the `git` program (clones, fetches, rev-parse,
//! ref listings). Reading objects is done in process with gix; git itself
//! is run only where it is the right tool (it speaks every transport and
//! credential helper users have, and knows every setting of a checkout).
//!
//! Every run is defensive in the same way, because the repository, its
//! config and the URLs may all be hostile:
//!
//! - settings that would run code from the repository are off (`-c` beats
//!   the repository's config): hooks, fsmonitor, the `ext::` transport,
//!   submodule recursion, pagers;
//! - nothing can prompt (a prompt would hang the run): no terminal prompt,
//!   no credential-manager UI, ssh in batch mode, stdin closed;
//! - a timeout kills git; its stderr is kept only up to a bound (and the
//!   rest drained, so git never blocks on a full pipe), its stdout up to a
//!   larger one;
//! - configuration keysweep adds (an auth header) travels through
//!   `GIT_CONFIG_*` variables, never the command line `ps` shows.

use std::ffi::OsStr;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// At most this much of git's stderr is kept for an error message.
const STDERR_LIMIT: u64 = 16 << 10;
/// At most this much of git's stdout is read (ref listings of huge
/// repositories stay far below it).
const STDOUT_LIMIT: u64 = 256 << 20;

/// Why a git command did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum GitCliError {
    #[error("cannot run git")]
    Spawn(#[source] std::io::Error),
    #[error("git {what} failed: {message}")]
    Failed { what: String, message: String },
    #[error("git {what} did not finish within {secs} s and was stopped")]
    Timeout { what: String, secs: u64 },
}

/// A git command being prepared.
pub struct Git {
    cmd: Command,
    what: String,
    timeout: Option<Duration>,
    extra_config: Vec<(String, String)>,
}

impl Git {
    /// `git [-C dir] <subcommand>`: `what` names it in errors (`fetch`).
    pub fn new(dir: Option<&Path>, what: &str) -> Git {
        let mut git = Self::bare(dir, what);
        git.cmd.args(["-c", "core.hooksPath=/dev/null"]);
        git
    }

    /// Like [`Git::new`] but leaving `core.hooksPath` as the repository
    /// sets it: only for asking where its hooks live (`rev-parse
    /// --git-path hooks`), which runs none.
    pub(crate) fn asking_for_hooks_dir(dir: &Path) -> Git {
        Self::bare(Some(dir), "rev-parse")
    }

    fn bare(dir: Option<&Path>, what: &str) -> Git {
        let mut cmd = Command::new("git");
        if let Some(dir) = dir {
            cmd.arg("-C").arg(dir);
        }
        cmd.args([
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.pager=cat",
            "-c",
            "submodule.recurse=false",
            "-c",
            "fetch.recurseSubmodules=false",
            "-c",
            "protocol.ext.allow=never",
        ])
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GCM_INTERACTIVE", "never")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env_remove("GIT_PAGER")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        if std::env::var_os("GIT_SSH_COMMAND").is_none() {
            // ssh would prompt for a passphrase or host key and hang the run.
            cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
        }
        Git {
            cmd,
            what: what.to_string(),
            timeout: None,
            extra_config: Vec::new(),
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Git {
        self.cmd.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Git
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Lets git find the repository from the directory alone: a `GIT_DIR`
    /// or `GIT_WORK_TREE` in keysweep's own environment (a hook's, say)
    /// must not point it at another repository.
    pub(crate) fn discovering(mut self) -> Git {
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_COMMON_DIR",
            "GIT_OBJECT_DIRECTORY",
        ] {
            self.cmd.env_remove(var);
        }
        self
    }

    /// Reads this index file instead of the repository's own: the one
    /// `git commit -a` or `git commit PATH` prepares and hands its hooks in
    /// `GIT_INDEX_FILE`, which holds what that commit will record.
    pub(crate) fn index_file(mut self, path: &Path) -> Git {
        self.cmd.env("GIT_INDEX_FILE", path);
        self
    }

    /// Kills git after `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Git {
        self.timeout = Some(timeout);
        self
    }

    /// A config setting passed through the environment (git >= 2.31),
    /// invisible in the process list; appended after any the user set.
    pub(crate) fn secret_config(mut self, key: &str, value: &str) -> Git {
        self.extra_config.push((key.to_string(), value.to_string()));
        self
    }

    /// Runs git and returns its stdout; an error unless it exits with 0.
    pub fn output(mut self) -> Result<Vec<u8>, GitCliError> {
        if !self.extra_config.is_empty() {
            let base: usize = std::env::var("GIT_CONFIG_COUNT")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            for (i, (k, v)) in self.extra_config.iter().enumerate() {
                self.cmd
                    .env(format!("GIT_CONFIG_KEY_{}", base + i), k)
                    .env(format!("GIT_CONFIG_VALUE_{}", base + i), v);
            }
            self.cmd.env(
                "GIT_CONFIG_COUNT",
                (base + self.extra_config.len()).to_string(),
            );
        }
        let mut child = self.cmd.spawn().map_err(GitCliError::Spawn)?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let out_reader = std::thread::spawn(move || read_bounded(stdout, STDOUT_LIMIT));
        let err_reader = std::thread::spawn(move || read_bounded(stderr, STDERR_LIMIT));
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if self.timeout.is_some_and(|t| started.elapsed() >= t) => {
                    // Only git itself is killed; its helpers lose their pipes
                    // to it and exit. The readers are not waited for, since a
                    // helper may hold a pipe a little longer.
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(GitCliError::Timeout {
                        what: self.what,
                        secs: self.timeout.map_or(0, |t| t.as_secs()),
                    });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return Err(GitCliError::Spawn(e)),
            }
        };
        let stdout = out_reader.join().unwrap_or_default();
        if status.success() {
            return Ok(stdout);
        }
        let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
        let lines: Vec<&str> = stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        Err(GitCliError::Failed {
            what: self.what,
            message: if lines.is_empty() {
                format!("git exited with {status}")
            } else {
                lines.join("; ")
            },
        })
    }

    /// Runs git; its stdout as text, trimmed. `None` on any failure, for
    /// questions whose "no" and "cannot tell" mean the same (is this a
    /// commit? is the clone shallow?).
    pub fn text(self) -> Option<String> {
        self.output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o).trim().to_string())
    }
}

/// Reads at most `limit` bytes, then drains the rest.
fn read_bounded(pipe: Option<impl Read>, limit: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    if let Some(p) = pipe {
        let mut limited = p.take(limit);
        let _ = limited.read_to_end(&mut bytes);
        let _ = std::io::copy(&mut limited.into_inner(), &mut std::io::sink());
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_and_fails_clearly() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(Git::new(Some(dir.path()), "init")
            .args(["init", "-q"])
            .output()
            .is_ok());
        let head = Git::new(Some(dir.path()), "rev-parse")
            .args(["rev-parse", "--is-bare-repository"])
            .text();
        assert_eq!(head.as_deref(), Some("false"));
        let err = Git::new(Some(dir.path()), "rev-parse")
            .args(["rev-parse", "--verify", "no-such-ref"])
            .output()
            .expect_err("no such ref");
        assert!(
            err.to_string().starts_with("git rev-parse failed: "),
            "{err}"
        );
    }

    #[test]
    fn a_hook_or_pager_in_the_repository_never_runs() {
        let dir = tempfile::tempdir().expect("temp dir");
        Git::new(Some(dir.path()), "init")
            .args(["init", "-q"])
            .output()
            .expect("init");
        let marker = dir.path().join("ran");
        let evil = format!("!touch '{}'", marker.display());
        for (k, v) in [
            ("core.pager", evil.as_str()),
            ("core.fsmonitor", &evil[1..]),
        ] {
            Git::new(Some(dir.path()), "config")
                .args(["config", k, v])
                .output()
                .expect("config");
        }
        let _ = Git::new(Some(dir.path()), "status")
            .args(["status"])
            .output();
        let _ = Git::new(Some(dir.path()), "log")
            .args(["log", "-1"])
            .output();
        assert!(!marker.exists(), "the repository's pager or fsmonitor ran");
    }
}
