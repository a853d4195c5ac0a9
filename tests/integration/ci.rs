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
    run_ci_with_path(repo, event_name, event, extra, None)
}

/// [`run_ci`] with `PATH` set to `path`.
fn run_ci_with_path(
    repo: &Path,
    event_name: &str,
    event: Value,
    extra: &[&str],
    path: Option<std::ffi::OsString>,
) -> CiRun {
    let dir = tempfile::tempdir().unwrap();
    let event_path = dir.path().join("event.json");
    std::fs::write(&event_path, event.to_string()).unwrap();
    let outputs = dir.path().join("outputs");
    let summary = dir.path().join("summary.md");
    let sarif = dir.path().join("out.sarif");
    let mut cmd = std::process::Command::new(KEYSWEEP);
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    let out = cmd
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

/// A bare origin, a developer's clone that pushes to it, and a function
/// that makes the Actions checkout (a full clone of origin, as
/// actions/checkout with `fetch-depth: 0` leaves it) after each push.
struct Pushed<'s> {
    s: &'s Scratch,
    dev: Repo<'s>,
}

impl<'s> Pushed<'s> {
    fn new(s: &'s Scratch) -> Self {
        s.init("origin.git", &["--bare"]);
        let url = format!("file://{}", s.path("origin.git").display());
        s.git(&s.path(""), &["clone", "-q", &url, "dev"]);
        let dev = s.repo("dev");
        dev.git(&["checkout", "-q", "-b", "main"]);
        dev.write("README.md", "hello\n");
        dev.commit("start");
        dev.git(&["push", "-q", "origin", "main"]);
        Pushed { s, dev }
    }

    /// A fresh checkout of origin, as the job for one push event sees it.
    fn checkout(&self, name: &str) -> std::path::PathBuf {
        let url = format!("file://{}", self.s.path("origin.git").display());
        self.s.git(&self.s.path(""), &["clone", "-q", &url, name]);
        self.s.path(name)
    }
}

fn created(r: &str, after: &str) -> Value {
    json!({"ref": r, "before": ZERO, "after": after, "created": true,
           "repository": {"default_branch": "main"}})
}

#[test]
fn refs_created_by_one_push_never_hide_each_others_commits() {
    let s = Scratch::new();
    let p = Pushed::new(&s);
    p.dev.git(&["checkout", "-q", "-b", "work"]);
    p.dev.write("deploy/prod.env", &env_file(31));
    let leak = p.dev.commit("leak");
    // The same commit under two new branch names and a tag, in one push.
    p.dev.git(&["tag", "v1"]);
    p.dev.git(&[
        "push",
        "-q",
        "origin",
        "HEAD:refs/heads/a",
        "HEAD:refs/heads/b",
        "v1",
    ]);
    let checkout = p.checkout("checkout");
    for r in ["refs/heads/a", "refs/heads/b", "refs/tags/v1"] {
        let run = run_ci(&checkout, "push", created(r, &leak), &[]);
        assert_eq!(run.out.status.code(), Some(1), "{r}: {}", stderr(&run));
        assert!(run.outputs.contains("findings=1\n"), "{r}: {}", run.outputs);
    }
    // `git push --all` of two new branches, one built on the other.
    p.dev.git(&["checkout", "-q", "-b", "c"]);
    p.dev.write("c.env", &env_file(32));
    let c = p.dev.commit("c leak");
    p.dev.git(&["checkout", "-q", "-b", "d"]);
    p.dev.write("d.txt", "clean\n");
    let d = p.dev.commit("d clean");
    p.dev.git(&["push", "-q", "--all", "origin"]);
    let checkout = p.checkout("checkout-all");
    let run = run_ci(&checkout, "push", created("refs/heads/c", &c), &[]);
    assert_eq!(run.out.status.code(), Some(1), "c: {}", stderr(&run));
    // d holds c's leak too: d is new, and only main can hide commits.
    let run = run_ci(&checkout, "push", created("refs/heads/d", &d), &[]);
    assert_eq!(run.out.status.code(), Some(1), "d: {}", stderr(&run));
    assert!(stdout(&run).contains("file=c.env"), "{}", stdout(&run));
}

#[test]
fn a_branch_pushed_before_the_first_job_runs_hides_nothing() {
    let s = Scratch::new();
    let p = Pushed::new(&s);
    p.dev.git(&["checkout", "-q", "-b", "first"]);
    p.dev.write("k.env", &env_file(33));
    let first = p.dev.commit("leak");
    p.dev.git(&["push", "-q", "origin", "first"]);
    p.dev.git(&["checkout", "-q", "-b", "second"]);
    p.dev.write("more.txt", "x\n");
    p.dev.commit("more");
    p.dev.git(&["push", "-q", "origin", "second"]);
    // The job for `first` runs only now: `second` is in its checkout.
    let checkout = p.checkout("checkout");
    let run = run_ci(&checkout, "push", created("refs/heads/first", &first), &[]);
    assert_eq!(run.out.status.code(), Some(1), "{}", stderr(&run));
}

#[test]
fn the_default_branch_missing_or_unnamed_means_every_commit_and_says_so() {
    let s = Scratch::new();
    let p = Pushed::new(&s);
    p.dev.git(&["checkout", "-q", "-b", "x"]);
    p.dev.write("x.env", &env_file(34));
    let x = p.dev.commit("leak");
    p.dev.git(&["push", "-q", "origin", "x"]);
    let checkout = p.checkout("checkout");
    for repository in [
        json!({}),
        json!({"default_branch": "trunk"}),
        json!({"default_branch": "-x"}),
    ] {
        let ev =
            json!({"ref": "refs/heads/x", "before": ZERO, "after": x, "repository": repository});
        let run = run_ci(&checkout, "push", ev, &[]);
        assert_eq!(run.out.status.code(), Some(1), "{}", stderr(&run));
        assert!(stderr(&run).contains("every commit"), "{}", stderr(&run));
    }
}

/// A pull request from a branch of `p`, with `change` applied on top of a
/// leak; returns the checkout and the PR event.
fn pull_request(
    p: &Pushed<'_>,
    name: &str,
    change: &dyn Fn(&Repo<'_>),
) -> (std::path::PathBuf, Value) {
    let base = p.dev.rev("main");
    p.dev.git(&["checkout", "-q", "-B", name, "main"]);
    p.dev.write("svc/prod.env", &env_file(35));
    change(&p.dev);
    p.dev.git(&["add", "-A"]);
    let head = p.dev.commit("a leak and a change to what judges it");
    p.dev.git(&["push", "-q", "-f", "origin", name]);
    let checkout = p.checkout(&format!("checkout-{name}"));
    let ev = json!({"pull_request": {"base": {"sha": base}, "head": {"sha": head}}});
    (checkout, ev)
}

#[test]
fn a_pull_request_cannot_allowlist_its_own_leak() {
    let s = Scratch::new();
    let p = Pushed::new(&s);
    let key = credential(35).0;
    let configs: Vec<(&str, String)> = vec![
        ("paths", "[allow]\npaths = [\"**\"]\n".to_string()),
        (
            "key_ids",
            format!("[allow]\nkey_ids = [\"{key}\"]  # keysweep:allow\n"),
        ),
        ("baseline", "baseline = \"b.json\"\n".to_string()),
    ];
    for (name, config) in configs {
        let (checkout, ev) = pull_request(&p, name, &|dev| {
            dev.write(".keysweep.toml", &config);
            dev.write("b.json", "{\"version\":2,\"findings\":[]}");
        });
        let run = run_ci(&checkout, "pull_request", ev, &[]);
        assert_eq!(run.out.status.code(), Some(1), "{name}: {}", stderr(&run));
        assert!(
            run.outputs.contains("findings=1\n"),
            "{name}: {}",
            run.outputs
        );
    }
    // The same allowlist on the base branch does apply.
    p.dev.git(&["checkout", "-q", "main"]);
    p.dev.write(
        ".keysweep.toml",
        &format!("[allow]\nkey_ids = [\"{key}\"]  # keysweep:allow\n"),
    );
    p.dev.commit("allowlist a test key");
    p.dev.git(&["push", "-q", "origin", "main"]);
    let (checkout, ev) = pull_request(&p, "after-base", &|_| {});
    let run = run_ci(&checkout, "pull_request", ev, &[]);
    assert_eq!(run.out.status.code(), Some(0), "{}", stderr(&run));
}

#[test]
fn a_config_that_is_a_link_fifo_or_device_reveals_nothing() {
    let s = Scratch::new();
    let p = Pushed::new(&s);
    // In the pull request: a link to the job's environment. Not read (the
    // base has no config), so the leak is reported and nothing else.
    for (name, target) in [
        ("environ", "/proc/self/environ"),
        ("zero", "/dev/zero"),
        ("aws", "../../.aws/credentials"),
    ] {
        let (checkout, ev) = pull_request(&p, name, &|dev| {
            std::os::unix::fs::symlink(target, dev.path.join(".keysweep.toml")).unwrap();
        });
        let r = run_ci(&checkout, "pull_request", ev, &[]);
        assert_eq!(r.out.status.code(), Some(1), "{name}: {}", stderr(&r));
        assert!(!stderr(&r).contains("GITHUB_EVENT_PATH="), "{}", stderr(&r));
    }
    // On the base branch: a committed link is refused with a clear error,
    // and the file it points at is never read or quoted.
    p.dev.git(&["checkout", "-q", "main"]);
    std::os::unix::fs::symlink("/proc/self/environ", p.dev.path.join(".keysweep.toml")).unwrap();
    p.dev.git(&["add", "-A"]);
    p.dev.commit("a config that is a link");
    p.dev.git(&["push", "-q", "origin", "main"]);
    let (checkout, ev) = pull_request(&p, "after-link", &|_| {});
    let r = run_ci(&checkout, "pull_request", ev, &[]);
    assert_eq!(r.out.status.code(), Some(2), "{}", stderr(&r));
    assert!(stderr(&r).contains("symbolic link"), "{}", stderr(&r));
    assert!(!stderr(&r).contains("GITHUB_EVENT_PATH="), "{}", stderr(&r));
    assert!(!stderr(&r).contains("PATH="), "{}", stderr(&r));
}

#[test]
fn planning_an_event_runs_no_git_process() {
    let s = Scratch::new();
    let repo = checkout(&s);
    let before = repo.rev("HEAD");
    repo.write("app/.env", &env_file(15));
    let after = repo.commit("leak");
    let spy = crate::gitutil::GitSpy::new(&s);
    let events = [
        json!({"ref": "refs/heads/main", "before": before, "after": after}),
        json!({"ref": "refs/heads/feat", "before": ZERO, "after": after, "created": true,
               "repository": {"default_branch": "main"}}),
    ];
    for event in events {
        let r = run_ci_with_path(&repo.path, "push", event, &[], Some(spy.path_var()));
        assert_eq!(r.out.status.code(), Some(1), "{}", stderr(&r));
    }
    assert_eq!(spy.calls(), "", "git was run");
}
