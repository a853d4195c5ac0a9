//! Where blobs come from: a filesystem walk, a git object database, a range
//! of commits, git's index, standard input, the repositories of an
//! organization, the reports of earlier runs. Every source hands its
//! bytes to the one blob worker ([`crate::blob`]) and returns the same
//! [`SourceScan`]: findings with their locations, and what it did.

pub mod fs;
pub mod git;
pub mod org;
pub(crate) mod reports;
pub(crate) mod stdin;

use crate::finding::{sort_canonical, Finding};
use crate::stats::{elapsed_ms, AtomicStats, Stats};

/// What a source produced, before suppression and verification.
#[derive(Debug, Clone, Default)]
pub struct SourceScan {
    pub findings: Vec<Finding>,
    pub stats: Stats,
}

impl SourceScan {
    /// What a source that has finished produced: `findings` in the
    /// canonical order, what `counters` counted, and the time since
    /// `started`.
    pub(crate) fn finished(
        mut findings: Vec<Finding>,
        counters: &AtomicStats,
        started: std::time::Instant,
    ) -> Self {
        sort_canonical(&mut findings);
        let mut stats = counters.snapshot();
        stats.elapsed_ms = elapsed_ms(started);
        SourceScan { findings, stats }
    }

    /// Adds another scan's findings and counts to this one.
    pub(crate) fn absorb(&mut self, other: SourceScan) {
        self.stats.add(&other.stats);
        self.findings.extend(other.findings);
    }
}
