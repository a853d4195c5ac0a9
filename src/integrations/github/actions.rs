//! The GitHub Actions side of `keysweep ci`: the event the runner hands
//! over (`GITHUB_EVENT_NAME`, `GITHUB_EVENT_PATH`), the checkout the plan is
//! made against (looked up in process with gix), and the files the
//! runner reads back: step outputs (`GITHUB_OUTPUT`) and the job summary
//! (`GITHUB_STEP_SUMMARY`).

use super::event::{self, CiPlan};
use crate::source::git::Lookup;
use anyhow::{bail, Context};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The largest event payload read (GitHub's are far smaller).
const MAX_EVENT_BYTES: u64 = 64 << 20;

/// The event this job runs for: its name and payload.
pub(crate) fn read_event() -> anyhow::Result<(String, serde_json::Value)> {
    let name = std::env::var("GITHUB_EVENT_NAME").unwrap_or_default();
    if name.is_empty() {
        bail!("GITHUB_EVENT_NAME is not set\nhint: `keysweep ci` runs inside GitHub Actions; elsewhere use `keysweep git`");
    }
    let payload = match std::env::var_os("GITHUB_EVENT_PATH").filter(|p| !p.is_empty()) {
        Some(p) => {
            let path = Path::new(&p);
            let bytes = crate::settings::config::read_own_file(path, MAX_EVENT_BYTES)
                .with_context(|| format!("cannot read GITHUB_EVENT_PATH {}", path.display()))?;
            serde_json::from_slice(&bytes)
                .with_context(|| format!("GITHUB_EVENT_PATH {} is not JSON", path.display()))?
        }
        None => serde_json::Value::Null,
    };
    Ok((name, payload))
}

/// The repository facts a CI plan needs, looked up in process (see
/// [`Lookup`]): planning costs no git process.
pub(crate) struct GitCheckout {
    repo: PathBuf,
    lookup: Lookup,
}

impl GitCheckout {
    /// Opens the checkout at `repo`.
    pub fn open(repo: &Path) -> anyhow::Result<GitCheckout> {
        Ok(GitCheckout {
            repo: repo.to_path_buf(),
            lookup: Lookup::open(repo)?,
        })
    }

    /// Plans the scan for the event; a shallow clone is an error with the fix.
    pub fn plan(&self, name: &str, payload: &serde_json::Value) -> anyhow::Result<CiPlan> {
        if self.lookup.is_shallow() {
            bail!(
                "{} is a shallow clone: its history is incomplete, so leaks in it could be missed\nhint: check out with full history: actions/checkout with `fetch-depth: 0`",
                self.repo.display()
            );
        }
        Ok(event::plan(name, payload, self)?)
    }
}

impl event::Checkout for GitCheckout {
    /// The payload is untrusted: only a full hex object id is looked up.
    fn has_commit(&self, sha: &str) -> bool {
        self.lookup.has_commit(sha)
    }

    fn branch_ref(&self, name: &str) -> Option<String> {
        if !event::is_branch_name(name) {
            return None;
        }
        [
            format!("refs/remotes/origin/{name}"),
            format!("refs/heads/{name}"),
        ]
        .into_iter()
        .find(|r| self.lookup.ref_commit(r).is_some())
    }
}

/// Appends `findings=N`, `live-findings=N` and `sarif-file=PATH` to the
/// step outputs file.
pub(crate) fn write_step_outputs(
    file: &Path,
    findings: usize,
    live: usize,
    sarif: Option<&Path>,
) -> anyhow::Result<()> {
    let mut lines = format!("findings={findings}\nlive-findings={live}\n");
    if let Some(path) = sarif {
        // One line per output: a path with a newline would forge another.
        let shown = path.display().to_string().replace(['\r', '\n'], "");
        lines.push_str(&format!("sarif-file={shown}\n"));
    }
    append(file, &lines).with_context(|| format!("cannot write GITHUB_OUTPUT {}", file.display()))
}

/// Appends the job summary's Markdown.
pub(crate) fn append_step_summary(file: &Path, markdown: &str) -> anyhow::Result<()> {
    append(file, markdown)
        .with_context(|| format!("cannot write GITHUB_STEP_SUMMARY {}", file.display()))
}

fn append(file: &Path, text: &str) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)?
        .write_all(text.as_bytes())
}
