//! `keysweep hook install`: writes a pre-push hook that runs
//! `keysweep pre-push "$@"`. It goes where git will run it (`core.hooksPath`
//! is respected, as `git rev-parse --git-path hooks` resolves it), and it
//! never replaces a hook keysweep did not write unless forced.

use crate::gitcli::Git;
use std::path::{Path, PathBuf};

/// Marks hooks this tool wrote, so a reinstall may replace them.
pub(crate) const MARKER: &str = "# installed by keysweep";

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("{path} is not inside a git repository: {reason}")]
    NotARepository { path: PathBuf, reason: String },
    #[error("{path} already exists and was not written by keysweep\nhint: add `keysweep pre-push \"$@\"` to it yourself, or rerun with --force to replace it")]
    Exists { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The hook script. `exe` is the keysweep binary to run; when it has moved,
/// the one on PATH is used.
pub fn script(exe: &Path) -> String {
    let exe = exe.to_string_lossy().replace('\'', r"'\''");
    format!(
        "#!/bin/sh\n{MARKER}: stops a push that would publish AWS credentials.\n\
         # Bypass once (not recommended): git push --no-verify\n\
         k='{exe}'\n\
         [ -x \"$k\" ] || k=keysweep\n\
         exec \"$k\" pre-push \"$@\"\n"
    )
}

/// Where git looks for hooks in the repository at `repo`.
pub(crate) fn hooks_dir(repo: &Path) -> Result<PathBuf, HookError> {
    let out = Git::asking_for_hooks_dir(repo)
        .args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
        .output()
        .map_err(|e| HookError::NotARepository {
            path: repo.to_path_buf(),
            reason: crate::diag::chain(&e),
        })?;
    Ok(PathBuf::from(String::from_utf8_lossy(&out).trim()))
}

/// Installs the pre-push hook; returns its path.
pub fn install(repo: &Path, exe: &Path, force: bool) -> Result<PathBuf, HookError> {
    let dir = hooks_dir(repo)?;
    let path = dir.join("pre-push");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if !existing.contains(MARKER) && !force {
            return Err(HookError::Exists { path });
        }
    } else if path.exists() && !force {
        return Err(HookError::Exists { path });
    }
    let write = |p: &Path| -> std::io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(p, script(exe))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755))
    };
    write(&path).map_err(|source| HookError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
