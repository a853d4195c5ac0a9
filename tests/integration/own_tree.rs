//! keysweep's own repository: `testdata/` holds real formats with fake keys,
//! `tests/testdata.expected.txt` the exact report they give; everything else in the tree and its
//! history scans clean under the repository's `.keysweep.toml`.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn testdata_gives_exactly_the_expected_report() {
    let testdata = project().join("testdata");
    let r = run(keysweep()
        .arg("scan")
        .arg(&testdata)
        .args(["--color", "never"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let expected_path = project().join("tests/testdata.expected.txt");
    if std::env::var_os("KEYSWEEP_BLESS").is_some() {
        std::fs::write(&expected_path, &r.stdout).unwrap();
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap();
    assert_eq!(
        r.stdout, expected,
        "the report on testdata/ changed; if on purpose, rerun with KEYSWEEP_BLESS=1"
    );
    // Every example file contributes at least one finding.
    let json = run(keysweep()
        .arg("scan")
        .arg(&testdata)
        .args(["--format", "json"]));
    let found = paths(&json.findings());
    for entry in walk(&testdata) {
        let rel = entry
            .strip_prefix(&testdata)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel == "README.md" {
            continue;
        }
        assert!(
            found.iter().any(|p| p.starts_with(&rel)),
            "{rel} gives no finding"
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn the_project_tree_scans_clean() {
    let r = run(keysweep()
        .arg("scan")
        .arg(project())
        .args(["--format", "json"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.json()["stats"]["suppressed"].as_u64().unwrap() > 10);
}

#[test]
fn the_project_history_scans_clean() {
    let root = project();
    let is_repo = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["rev-parse", "--is-shallow-repository"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match is_repo.as_deref() {
        Some("false") => {}
        other => {
            eprintln!("SKIPPED: the project is not a full git clone ({other:?})");
            return;
        }
    }
    // The current branch's history only (a checkout may hold other work).
    let dir = tempfile::tempdir().unwrap();
    let clone = dir.path().join("clone");
    let ok = Command::new("git")
        .args(["clone", "-q", "--single-branch", "--no-tags"])
        .arg(&root)
        .arg(&clone)
        .status()
        .unwrap();
    assert!(ok.success());
    let r = run(keysweep()
        .arg("git")
        .arg(&clone)
        .args(["--reachable-only", "--format", "json", "--config"])
        .arg(root.join(".keysweep.toml")));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
}
