//! `keysweep ci` against real repositories, with GitHub event payloads as
//! the Actions runner writes them: push (normal, new branch, force push,
//! delete), pull_request, schedule; and a shallow clone that must fail.

use crate::gitutil::{credential, env_file, Repo, Scratch};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Output;

const KEYSWEEP: &str = env!("CARGO_BIN_EXE_keysweep");

/// An origin with `main`, and a full clone of it as the Actions checkout.
fn checkout(s: &Scratch) -> Repo<'_> {
    let origin = s.init("origin", &[]);
    origin.write("README.md", "hello\n");
    origin.commit("start");
    s.git(
        &s.path(""),
        &["clone", "-q", origin.path.to_str().unwrap(), "checkout"],
    );
    s.repo("checkout")
}

struct CiRun {
    out: Output,
    outputs: String,
    summary: String,
    sarif: Option<Value>,
}

fn run_ci(repo: &Path, event_name: &str, event: Value, extra: &[&str]) -> CiRun {
    let dir = tempfile::tempdir().unwrap();
    let event_path = dir.path().join("event.json");
    std::fs::write(&event_path, event.to_string()).unwrap();
    let outputs = dir.path().join("outputs");
    let summary = dir.path().join("summary.md");
    let sarif = dir.path().join("out.sarif");
    let out = std::process::Command::new(KEYSWEEP)
        .args(["ci", "--format", "github", "--repo"])
        .arg(repo)
        .arg("--sarif")
        .arg(&sarif)
        .args(extra)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", event_name)
        .env("GITHUB_EVENT_PATH", &event_path)
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    CiRun {
        out,
        outputs: std::fs::read_to_string(&outputs).unwrap_or_default(),
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        sarif: std::fs::read(&sarif)
            .ok()
            .map(|b| serde_json::from_slice(&b).unwrap()),
    }
}

fn stdout(r: &CiRun) -> String {
    String::from_utf8_lossy(&r.out.stdout).into_owned()
}

fn stderr(r: &CiRun) -> String {
    String::from_utf8_lossy(&r.out.stderr).into_owned()
}

const ZERO: &str = "0000000000000000000000000000000000000000";

#[test]
fn push_scans_before_to_after_and_reports_everywhere() {
    let s = Scratch::new();
    let repo = checkout(&s);
    let before = repo.rev("HEAD");
    repo.write("app/.env", &env_file(11));
    let after = repo.commit("leak");
    let r = run_ci(
        &repo.path,
        "push",
        json!({"ref": "refs/heads/main", "before": before, "after": after}),
        &[],
    );
    assert_eq!(r.out.status.code(), Some(1), "{}", stderr(&r));
    let annotations = stdout(&r);
    assert!(
        annotations.contains("::error file=app/.env,line=3,"),
        "{annotations}"
    );
    assert!(
        r.outputs.contains("findings=1\n") && r.outputs.contains("live-findings=0\n"),
        "{}",
        r.outputs
    );
    assert!(r.summary.contains(&credential(11).0), "{}", r.summary);
    let sarif = r.sarif.expect("SARIF written");
    assert_eq!(
        sarif["runs"][0]["results"][0]["properties"]["commitSha"],
        after
    );
    // A clean push in the same repository passes; the old leak is not re-scanned.
    repo.write("docs.md", "more\n");
    let next = repo.commit("docs");
    let r = run_ci(
        &repo.path,
        "push",
        json!({"ref": "refs/heads/main", "before": after, "after": next}),
        &[],
    );
    assert_eq!(r.out.status.code(), Some(0), "{}", stderr(&r));
    assert!(r.outputs.contains("findings=0\n"));
}

#[test]
fn new_branch_force_push_and_delete() {
    let s = Scratch::new();
    let repo = checkout(&s);
    // A new branch: only its own commits, not main's history.
    repo.git(&["checkout", "-q", "-b", "feat"]);
    repo.write("feat.env", &env_file(12));
    let after = repo.commit("feature with a key");
    repo.git(&["update-ref", "refs/remotes/origin/feat", &after]);
    let r = run_ci(
        &repo.path,
        "push",
        json!({"ref": "refs/heads/feat", "before": ZERO, "after": after, "created": true}),
        &[],
    );
    assert_eq!(r.out.status.code(), Some(1), "{}", stderr(&r));
    assert!(stdout(&r).contains("file=feat.env"), "{}", stdout(&r));
    // A force push whose old tip this clone never had: fall back, and say so.
    let r = run_ci(
        &repo.path,
        "push",
        json!({"ref": "refs/heads/feat", "before": "1234567890123456789012345678901234567890", "after": after, "forced": true}),
        &[],
    );
    assert_eq!(r.out.status.code(), Some(1), "{}", stderr(&r));
    assert!(stderr(&r).contains("force push"), "{}", stderr(&r));
    // A deleted branch: nothing to scan.
    let r = run_ci(
        &repo.path,
        "push",
        json!({"ref": "refs/heads/feat", "before": after, "after": ZERO, "deleted": true}),
        &[],
    );
    assert_eq!(r.out.status.code(), Some(0), "{}", stderr(&r));
    assert!(r.outputs.contains("findings=0"));
}

#[test]
fn pull_request_and_schedule() {
    let s = Scratch::new();
    let repo = checkout(&s);
    let base = repo.rev("HEAD");
    repo.write("old.env", &env_file(13));
    repo.commit("a leak that is then deleted");
    std::fs::remove_file(repo.path.join("old.env")).unwrap();
    let head = repo.commit("delete it");
    let pr = json!({"pull_request": {"base": {"sha": base}, "head": {"sha": head}}});
    let r = run_ci(&repo.path, "pull_request", pr, &[]);
    assert_eq!(
        r.out.status.code(),
        Some(1),
        "a key added and deleted within the PR is still leaked: {}",
        stderr(&r)
    );
    // The schedule scans the whole history.
    let r = run_ci(&repo.path, "schedule", json!({}), &["--fail-on", "none"]);
    assert_eq!(
        r.out.status.code(),
        Some(0),
        "--fail-on none: {}",
        stderr(&r)
    );
    assert!(r.outputs.contains("findings=1"), "{}", r.outputs);
}

#[test]
fn a_shallow_clone_fails_loudly_with_the_fix() {
    let s = Scratch::new();
    let repo = checkout(&s);
    repo.write("a.txt", "1\n");
    repo.commit("one");
    repo.write("b.txt", "2\n");
    let head = repo.commit("two");
    let url = format!("file://{}", repo.path.display());
    s.git(
        &s.path(""),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let r = run_ci(
        &s.path("shallow"),
        "push",
        json!({"ref": "refs/heads/main", "before": repo.rev("HEAD~1"), "after": head}),
        &[],
    );
    assert_eq!(r.out.status.code(), Some(2));
    assert!(stderr(&r).contains("fetch-depth: 0"), "{}", stderr(&r));
}
