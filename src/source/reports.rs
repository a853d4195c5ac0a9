//! Reports as a source: `keysweep merge` reads the JSON reports of earlier
//! runs (the shards of `keysweep org --shard`). A report is input like any
//! other: read with the size cap and checks keysweep uses for its own
//! files, and every field validated by the report reader.

use crate::finding::{sort_canonical, Finding};
use crate::report::json::read_report;
use crate::settings::config::{read_own_file, MAX_BASELINE_BYTES};
use crate::source::SourceScan;
use crate::stats::Stats;
use anyhow::Context;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// One JSON report, read back (`merge`, `triage`, `revoke`).
pub(crate) fn read(path: &Path) -> anyhow::Result<(Vec<Finding>, Stats)> {
    let bytes = read_own_file(path, MAX_BASELINE_BYTES)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("cannot read {}: not UTF-8 text", path.display()))?;
    read_report(text).with_context(|| format!("cannot read {}", path.display()))
}

/// `keysweep merge`: the shard reports of `keysweep org --shard`, as the
/// report one run over all repositories would give.
pub(crate) fn merge(reports: &[PathBuf]) -> anyhow::Result<SourceScan> {
    let mut out = SourceScan::default();
    let mut elapsed_ms = 0;
    let mut seen = HashSet::new();
    for path in reports {
        let (part, part_stats) = read(path)?;
        // Shards run side by side: the run took as long as the slowest.
        elapsed_ms = elapsed_ms.max(part_stats.elapsed_ms);
        out.stats.add(&part_stats);
        for f in part {
            if seen.insert((f.fingerprint(), f.location.repo.clone())) {
                out.findings.push(f);
            }
        }
    }
    sort_canonical(&mut out.findings);
    out.stats.elapsed_ms = elapsed_ms;
    Ok(out)
}
