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
