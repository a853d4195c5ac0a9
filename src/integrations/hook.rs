//! `keysweep hook install`: writes a pre-push hook that runs
//! `keysweep pre-push "$@"`, and with `--pre-commit` a pre-commit hook that
//! runs `keysweep scan --staged` (a key caught before the commit never
//! enters local history; caught at the push, it takes a rewrite). Hooks go
//! where git will run them (`core.hooksPath` is respected, as `git rev-parse
//! --git-path hooks` resolves it), and never replace a hook keysweep did not
//! write unless forced.

use crate::finding::Finding;
use crate::gitcli::Git;
use crate::report::Style;
use std::path::{Path, PathBuf};

/// Marks hooks this tool wrote, so a reinstall may replace them.
pub(crate) const MARKER: &str = "# installed by keysweep";

/// Which hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    PrePush,
    PreCommit,
}

impl Kind {
    /// git's name for the hook (and its file name).
    pub fn name(self) -> &'static str {
        match self {
            Kind::PrePush => "pre-push",
            Kind::PreCommit => "pre-commit",
        }
    }

    /// The keysweep command line the hook runs, after the binary.
    fn command(self) -> &'static str {
        match self {
            Kind::PrePush => "pre-push \"$@\"",
            Kind::PreCommit => "scan --staged --no-progress",
        }
    }

    fn purpose(self) -> &'static str {
        match self {
            Kind::PrePush => "stops a push that would publish AWS credentials",
            Kind::PreCommit => "stops a commit that would record AWS credentials",
        }
    }

    fn bypass(self) -> &'static str {
        match self {
            Kind::PrePush => "git push --no-verify",
            Kind::PreCommit => "git commit --no-verify",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("{path} is not inside a git repository: {reason}")]
    NotARepository { path: PathBuf, reason: String },
    #[error("{path} already exists and was not written by keysweep\nhint: add `keysweep {command}` to it yourself, or rerun with --force to replace it")]
    Exists {
        path: PathBuf,
        command: &'static str,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The hook script. `exe` is the keysweep binary to run; when it has moved,
/// the one on PATH is used.
pub fn script(exe: &Path, kind: Kind) -> String {
    let exe = exe.to_string_lossy().replace('\'', r"'\''");
    format!(
        "#!/bin/sh\n{MARKER}: {}.\n\
         # Bypass once (not recommended): {}\n\
         k='{exe}'\n\
         [ -x \"$k\" ] || k=keysweep\n\
         exec \"$k\" {}\n",
        kind.purpose(),
        kind.bypass(),
        kind.command()
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

/// Installs one hook; returns its path.
pub fn install(repo: &Path, exe: &Path, kind: Kind, force: bool) -> Result<PathBuf, HookError> {
    let dir = hooks_dir(repo)?;
    let path = dir.join(kind.name());
    let exists = || HookError::Exists {
        path: path.clone(),
        command: kind.command(),
    };
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if !existing.contains(MARKER) && !force {
            return Err(exists());
        }
    } else if path.symlink_metadata().is_ok() && !force {
        return Err(exists());
    }
    let write = |p: &Path| -> std::io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(p, script(exe, kind))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755))
    };
    write(&path).map_err(|source| HookError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// What `scan --staged` prints when it finds something (as the pre-commit
/// hook, it blocks the commit): one line per finding (place names cleaned
/// for the terminal), then how to fix it.
pub(crate) fn staged_blocked_message(findings: &[Finding], style: &Style) -> String {
    super::blocked_message(
        "commit blocked: the staged changes contain AWS credentials.",
        findings,
        style,
        "\x20 1. Take the key out of the file and stage the file again (git add); it is not in any commit yet.\n\
         \x20 2. If the key is real, deactivate it in IAM anyway if it was ever shared or pushed elsewhere.\n",
        "commit",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_run_the_right_command_with_a_quoted_binary() {
        let exe = Path::new("/opt/it's here/keysweep");
        let push = script(exe, Kind::PrePush);
        assert!(push.contains("exec \"$k\" pre-push \"$@\"\n"), "{push}");
        assert!(push.contains("git push --no-verify"));
        let commit = script(exe, Kind::PreCommit);
        assert!(
            commit.contains("exec \"$k\" scan --staged --no-progress\n"),
            "{commit}"
        );
        assert!(commit.contains("git commit --no-verify"));
        assert!(
            commit.contains(r"k='/opt/it'\''s here/keysweep'"),
            "{commit}"
        );
        assert!(commit.contains(MARKER));
    }
}
