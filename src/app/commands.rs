//! The commands that scan nothing: `hook install`, `completions`, `man`.
//! They run before any settings are built.

use crate::cli::{Command, HookCommand};
use crate::integrations::{hook, shell};
use anyhow::Context;
use std::io::Write;

/// Runs `command` if it is one of these (`None` then); else hands it back.
pub(super) fn run_if_no_scan(command: Command) -> anyhow::Result<Option<Command>> {
    if let Command::Hook(HookCommand::Install {
        repo,
        force,
        pre_commit,
        pre_push,
    }) = command
    {
        let exe = std::env::current_exe().context("cannot find the keysweep binary")?;
        // Pre-push unless only --pre-commit was asked for.
        let mut kinds = Vec::new();
        if pre_push || !pre_commit {
            kinds.push(hook::Kind::PrePush);
        }
        if pre_commit {
            kinds.push(hook::Kind::PreCommit);
        }
        for kind in kinds {
            let path = hook::install(&repo, &exe, kind, force)?;
            eprintln!(
                "installed the keysweep {} hook at {}",
                kind.name(),
                path.display()
            );
        }
        return Ok(None);
    }
    match command {
        Command::Completions { shell: kind } => {
            // Rendered first: clap_complete panics on a write error, and
            // `keysweep completions bash | head` closes the pipe early.
            let mut script = Vec::new();
            shell::completions(kind, &mut script);
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&script)?;
            stdout.flush()?;
        }
        Command::Man { dir: None } => {
            let mut stdout = std::io::stdout().lock();
            shell::man(&mut stdout)?;
            stdout.flush()?;
        }
        Command::Man { dir: Some(dir) } => {
            let pages = shell::man_pages(&dir)
                .with_context(|| format!("cannot write man pages into {}", dir.display()))?;
            eprintln!("wrote {} man pages into {}", pages.len(), dir.display());
        }
        scanning => return Ok(Some(scanning)),
    }
    Ok(None)
}
