//! Shell completions and man pages, generated from the clap definitions
//! themselves (`keysweep completions SHELL`, `keysweep man`), as ripgrep and
//! fd ship them: a flag added to `cli.rs` is in both at once, and nothing
//! written by hand can fall behind. Generated at run time by the installed
//! binary rather than at build time, so a `cargo install` or a release
//! archive gives the ones matching that very binary without a build script.

use crate::cli::Cli;
use clap::CommandFactory;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut Cli::command(), "keysweep", out);
}

/// Writes the man page of `keysweep` (roff).
pub fn man(out: &mut dyn Write) -> io::Result<()> {
    clap_mangen::Man::new(Cli::command()).render(out)
}

/// Writes `keysweep.1` and one `keysweep-COMMAND.1` per command into `dir`;
/// returns the files written.
pub(crate) fn man_pages(dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    clap_mangen::generate_to(Cli::command(), dir)?;
    let mut written: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("keysweep") && n.ends_with(".1"))
        })
        .collect();
    written.sort();
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_man_page_lists_every_command_and_flag() {
        let mut out = Vec::new();
        man(&mut out).expect("render");
        let page = String::from_utf8(out).expect("roff is text");
        assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{}", &page[..80]);
        assert!(page.contains(".TH keysweep 1"), "{page}");
        for command in [
            "scan",
            "git",
            "pre\\-push",
            "hook",
            "org",
            "merge",
            "completions",
        ] {
            assert!(page.contains(command), "{command}");
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let pages = man_pages(dir.path()).expect("pages");
        let names: Vec<String> = pages
            .iter()
            .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
            .collect();
        for n in ["keysweep.1", "keysweep-scan.1", "keysweep-hook-install.1"] {
            assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
        }
        let scan = std::fs::read_to_string(dir.path().join("keysweep-scan.1")).expect("read");
        assert!(scan.contains("\\-\\-staged"), "scan's page has its flags");
    }

    #[test]
    fn every_shell_gets_a_script_naming_the_commands() {
        use clap::ValueEnum;
        for shell in clap_complete::Shell::value_variants() {
            let mut out = Vec::new();
            completions(*shell, &mut out);
            let script = String::from_utf8(out).expect("text");
            assert!(
                script.contains("keysweep") && script.contains("staged"),
                "{shell}: {script}"
            );
        }
    }
}
