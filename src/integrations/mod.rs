//! Where keysweep meets its users' workflows: the git pre-push and
//! pre-commit hooks, their installer, GitHub Actions, shell completions and
//! man pages. The parsers here are pure (text in, plan
//! out) so they are easy to test and fuzz; the driver runs the plans.

pub mod github;
pub mod hook;
pub mod prepush;
pub mod shell;

/// Which commits to scan: everything reachable from `tips` and from none of
/// `exclude` (revisions or ref names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitSet {
    pub tips: Vec<String>,
    pub exclude: Vec<String>,
}

pub use crate::source::git::is_zero_oid;

/// What a hook prints when it blocks: `headline`, one line per finding
/// (place names cleaned for the terminal, and the commit of a pushed one),
/// then how to fix it: the hook's own `steps` (1 and 2), the false-alarm
/// step every hook shares, and how to `git <bypass> --no-verify` once.
pub(crate) fn blocked_message(
    headline: &str,
    findings: &[crate::finding::Finding],
    style: &crate::report::Style,
    steps: &str,
    bypass: &str,
) -> String {
    use crate::report::vocab::{place, short_id};
    let mut msg = format!("\nkeysweep: {headline}\n");
    for f in findings {
        let id = f.credential.key_id().unwrap_or("a secret access key");
        let pos = f.credential.first_position();
        let commit = f
            .commit()
            .map_or(String::new(), |c| format!(" (commit {})", short_id(&c.id)));
        msg.push_str(&format!(
            "  - {id} in {}:{}{commit}\n",
            place(f, style),
            pos.line
        ));
    }
    msg.push_str("\nHow to fix:\n");
    msg.push_str(steps);
    msg.push_str(
        "\x20 3. If it is a false alarm: add `keysweep:allow` on the line, allow it in .keysweep.toml,\n\
         \x20    or pass a --baseline.\n",
    );
    msg.push_str(&format!(
        "Bypass this check once (not recommended): git {bypass} --no-verify\n"
    ));
    msg
}
