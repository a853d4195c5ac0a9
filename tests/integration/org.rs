//! `keysweep org` and `keysweep merge` through the binary: real repositories
//! reached by `file://` URLs (one a fork of another), a GitHub-API-compatible
//! server on loopback, the clone cache and blob memory across runs, shards
//! merged back into one report, and a broken repository among good ones.

use crate::gitutil::{credential, env_file, Scratch};
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

const KEYSWEEP: &str = env!("CARGO_BIN_EXE_keysweep");

fn keysweep(args: &[&str], cwd: &Path) -> Output {
    Command::new(KEYSWEEP)
        .args(args)
        .current_dir(cwd)
        .env_remove("GITHUB_TOKEN")
        .output()
        .expect("run keysweep")
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `(fingerprint, repo)` of every finding, in report order.
fn keys(doc: &Value) -> Vec<(String, String)> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["fingerprint"].as_str().expect("fingerprint").to_string(),
                f["repo"].as_str().expect("repo is set").to_string(),
            )
        })
        .collect()
}

fn stat(doc: &Value, name: &str) -> u64 {
    doc["stats"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("stats.{name} in {}", doc["stats"]))
}

/// Blob ids in a repository's object database.
fn blob_ids(s: &Scratch, repo: &Path) -> HashSet<String> {
    s.git(
        repo,
        &[
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objectname) %(objecttype)",
        ],
    )
    .lines()
    .filter_map(|l| l.strip_suffix(" blob").map(str::to_string))
    .collect()
}

fn file_url(p: &Path) -> String {
    format!("file://{}", p.display())
}

/// alpha: a key added then deleted; fork: a clone of alpha with one more
/// commit holding another key; beta: a third key; gamma: clean.
struct Org {
    s: Scratch,
}

impl Org {
    fn new() -> Org {
        let s = Scratch::new();
        let alpha = s.init("src/alpha", &[]);
        alpha.write("README.md", "alpha\n");
        alpha.commit("start");
        alpha.write("config/app.env", &env_file(1));
        alpha.commit("add config");
        std::fs::remove_file(alpha.path.join("config/app.env")).expect("rm");
        alpha.commit("remove config");

        s.git(&s.path("src"), &["clone", "-q", "alpha", "fork"]);
        let fork = s.repo("src/fork");
        fork.write("deploy/fork.env", &env_file(4));
        fork.commit("fork: deploy settings");

        let beta = s.init("src/beta", &[]);
        beta.write("secrets.env", &env_file(2));
        beta.write("docs/guide.md", "no keys here\n");
        beta.commit("beta");

        let gamma = s.init("src/gamma", &[]);
        gamma.write("main.rs", "fn main() {}\n");
        gamma.commit("gamma");
        Org { s }
    }

    fn url(&self, name: &str) -> String {
        file_url(&self.s.path(&format!("src/{name}")))
    }

    fn list(&self, file: &str, names: &[&str], extra: &[&str]) -> String {
        let mut body = String::from("# the acme organization\n\n");
        for n in names {
            body.push_str(&self.url(n));
            body.push('\n');
        }
        for e in extra {
            body.push_str(e);
            body.push('\n');
        }
        let p = self.s.path(file);
        std::fs::write(&p, body).expect("write list");
        p.display().to_string()
    }

    fn distinct_blobs(&self, names: &[&str]) -> (u64, u64) {
        let mut all = HashSet::new();
        let mut sum = 0;
        for n in names {
            let ids = blob_ids(&self.s, &self.s.path(&format!("src/{n}")));
            sum += ids.len() as u64;
            all.extend(ids);
        }
        (all.len() as u64, sum)
    }

    fn run(&self, args: &[&str]) -> Output {
        keysweep(args, self.s.dir.path())
    }
}

#[test]
fn shared_blobs_scanned_once_and_remembered_across_runs() {
    let org = Org::new();
    let names = ["alpha", "fork", "beta", "gamma"];
    let list = org.list("repos.txt", &names, &[]);
    let cache = org.s.path("cache");
    let cache = cache.to_str().expect("utf-8 path");
    let args = [
        "org",
        "--repos",
        &list,
        "--cache-dir",
        cache,
        "--format",
        "json",
    ];

    let first = org.run(&args);
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    let doc = json(&first);
    let found = keys(&doc);
    // alpha: key 1; fork: key 1 (inherited) and key 4; beta: key 2.
    assert_eq!(found.len(), 4, "{doc:#}");
    let unique: HashSet<_> = found.iter().cloned().collect();
    assert_eq!(unique.len(), found.len(), "every finding once");
    let by_repo: BTreeSet<(String, String)> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["repo"].as_str().expect("repo").to_string(),
                f["access_key_id"]["value"]
                    .as_str()
                    .expect("key id")
                    .to_string(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> =
        [("alpha", 1), ("fork", 1), ("fork", 4), ("beta", 2)]
            .iter()
            .map(|(n, seed)| (org.url(n), credential(*seed).0))
            .collect();
    assert_eq!(by_repo, expected);
    // The inherited key has provenance in the fork too: alpha's commit.
    for f in doc["findings"].as_array().expect("findings") {
        assert!(f["commit"].as_str().is_some_and(|c| c.len() == 40), "{f}");
    }
    let (distinct, total) = org.distinct_blobs(&names);
    assert_eq!(stat(&doc, "blobs"), distinct, "each distinct blob once");
    assert_eq!(stat(&doc, "blobs_already_scanned"), total - distinct);
    assert_eq!(stat(&doc, "repos"), 4);
    assert_eq!(stat(&doc, "repos_failed"), 0);

    // The state holds secrets: owner-only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let state_dir = Path::new(cache).join("state");
        let state = std::fs::read_dir(&state_dir)
            .expect("state dir")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .expect("a state file");
        let mode = std::fs::metadata(&state)
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{}", state.display());
    }

    // Second run: the clones are refreshed, no blob is scanned again, the
    // same findings come out.
    let second = org.run(&args);
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    let again = json(&second);
    assert_eq!(stat(&again, "blobs"), 0, "{}", again["stats"]);
    assert_eq!(stat(&again, "blobs_already_scanned"), total);
    assert_eq!(keys(&again), found);

    // A new commit is fetched on refresh; only its blobs are scanned.
    let beta = org.s.repo("src/beta");
    beta.write("later.env", &env_file(5));
    beta.commit("later");
    let third = org.run(&args);
    let doc3 = json(&third);
    assert_eq!(keys(&doc3).len(), 5, "{doc3:#}");
    assert_eq!(
        stat(&doc3, "blobs"),
        1,
        "only the new blob: {}",
        doc3["stats"]
    );

    // Text: grouped by credential, then one line per repository.
    let text = org.run(&["org", "--repos", &list, "--cache-dir", cache]);
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(out.contains("Per repository:"), "{out}");
    let fork_line = out
        .lines()
        .find(|l| l.contains(&org.url("fork")) && l.contains("credential"))
        .unwrap_or_else(|| panic!("a summary line for the fork:\n{out}"));
    assert!(
        fork_line.contains("2 credentials, 2 findings"),
        "{fork_line}"
    );
    assert!(!out.contains(&credential(1).1), "secrets are redacted");
}

#[test]
fn shards_merged_equal_one_run() {
    let org = Org::new();
    let names = ["alpha", "fork", "beta", "gamma"];
    let list = org.list("repos.txt", &names, &[]);
    let dir = org.s.dir.path();
    let one = org.run(&[
        "org",
        "--repos",
        &list,
        "--cache-dir",
        "cache-all",
        "--format",
        "json",
    ]);
    let single = json(&one);

    let mut reports = Vec::new();
    let mut per_shard = Vec::new();
    for k in 1..=2 {
        let report = format!("report-{k}.json");
        let out = org.run(&[
            "org",
            "--repos",
            &list,
            "--cache-dir",
            &format!("cache-{k}"),
            "--shard",
            &format!("{k}/2"),
            "--format",
            "json",
            "-o",
            &report,
        ]);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
        let text = std::fs::read_to_string(dir.join(&report)).expect("shard report");
        let doc: Value = serde_json::from_str(&text).expect("shard JSON");
        per_shard.push(stat(&doc, "repos"));
        reports.push(report);
    }
    assert_eq!(
        per_shard.iter().sum::<u64>(),
        4,
        "each repository in one shard"
    );

    let mut args = vec!["merge", "--format", "json"];
    args.extend(reports.iter().map(String::as_str));
    let merged = org.run(&args);
    assert_eq!(merged.status.code(), Some(1), "{}", stderr(&merged));
    let merged = json(&merged);
    assert_eq!(keys(&merged), keys(&single), "same findings, same order");
    assert_eq!(stat(&merged, "repos"), 4);
    // Merging a report twice changes nothing.
    let mut twice = args.clone();
    twice.push(&reports[0]);
    assert_eq!(keys(&json(&org.run(&twice))), keys(&single));

    // Text and SARIF from the same shards.
    let mut text_args = vec!["merge"];
    text_args.extend(reports.iter().map(String::as_str));
    let text = org.run(&text_args);
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(
        out.contains("Per repository:") && out.contains(&credential(4).0),
        "{out}"
    );
    let mut sarif_args = vec!["merge", "--format", "sarif"];
    sarif_args.extend(reports.iter().map(String::as_str));
    let sarif: Value = serde_json::from_slice(&org.run(&sarif_args).stdout).expect("SARIF");
    assert_eq!(
        sarif["runs"][0]["results"].as_array().map(Vec::len),
        Some(4)
    );

    // Not a report: a clear error, exit 2.
    std::fs::write(dir.join("junk.json"), "{}").expect("write");
    let bad = org.run(&["merge", "junk.json"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("junk.json"), "{}", stderr(&bad));
}

#[test]
fn a_broken_repository_is_reported_and_the_rest_completes() {
    let org = Org::new();
    let missing = file_url(&org.s.path("src/does-not-exist.git"));
    let not_a_repo = org.s.path("src/plain-dir");
    std::fs::create_dir_all(&not_a_repo).expect("mkdir");
    let list = org.list(
        "repos.txt",
        &["alpha", "beta"],
        &[&missing, not_a_repo.to_str().expect("utf-8")],
    );
    let out = org.run(&[
        "org",
        "--repos",
        &list,
        "--cache-dir",
        "cache",
        "--format",
        "json",
        "--jobs",
        "2",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "findings exist: {}",
        stderr(&out)
    );
    let doc = json(&out);
    assert_eq!(stat(&doc, "repos"), 2);
    assert_eq!(stat(&doc, "repos_failed"), 2);
    let repos: BTreeSet<String> = keys(&doc).into_iter().map(|(_, r)| r).collect();
    assert_eq!(
        repos,
        [org.url("alpha"), org.url("beta")].into_iter().collect()
    );
    let err = stderr(&out);
    assert!(err.contains(&missing), "{err}");
    assert!(err.contains("plain-dir"), "{err}");
    assert!(
        err.contains("2 of 4 repositories could not be scanned"),
        "{err}"
    );

    // Nothing found but something failed: exit 2.
    let only_bad = org.list("bad.txt", &["gamma"], &[&missing]);
    let out = org.run(&["org", "--repos", &only_bad, "--cache-dir", "cache"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn repo_timeout_kills_git() {
    // A remote that never answers: an ssh command that only sleeps.
    let org = Org::new();
    let fake_ssh = org.s.path("slow-ssh");
    std::fs::write(&fake_ssh, "#!/bin/sh\nexec sleep 30\n").expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake_ssh, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let list = org.list(
        "repos.txt",
        &["beta"],
        &["ssh://git@slow.example/acme/x.git"],
    );
    let started = std::time::Instant::now();
    let out = Command::new(KEYSWEEP)
        .args([
            "org",
            "--repos",
            &list,
            "--cache-dir",
            "cache",
            "--repo-timeout",
            "2",
            "--format",
            "json",
        ])
        .current_dir(org.s.dir.path())
        .env("GIT_SSH_COMMAND", &fake_ssh)
        .output()
        .expect("run keysweep");
    assert!(started.elapsed().as_secs() < 20, "the timeout stopped git");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(stat(&doc, "repos_failed"), 1);
    assert!(
        stderr(&out).contains("did not finish within 2 s"),
        "{}",
        stderr(&out)
    );
}

/// A GitHub REST API stand-in: `/orgs/acme/repos`, two pages linked by
/// `Link: rel="next"`, 401 without the right bearer token.
struct FakeGitHub {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FakeGitHub {
    fn start(token: &'static str, page1: Value, page2: Value) -> FakeGitHub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let base = url.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut auth = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        if k.eq_ignore_ascii_case("authorization") {
                            auth = Some(v.trim().to_string());
                        }
                    }
                }
                let target = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("")
                    .to_string();
                seen.lock().expect("lock").push(target.clone());
                let (status, link, body) = if auth.as_deref() != Some(&format!("Bearer {token}")) {
                    (
                        "401 Unauthorized",
                        None,
                        r#"{"message":"Bad credentials"}"#.to_string(),
                    )
                } else if !target.starts_with("/orgs/acme/repos?") {
                    (
                        "404 Not Found",
                        None,
                        r#"{"message":"Not Found"}"#.to_string(),
                    )
                } else if target.contains("page=2") {
                    ("200 OK", None, page2.to_string())
                } else {
                    let next = format!(
                        "<{base}/orgs/acme/repos?per_page=100&type=all&page=2>; rel=\"next\", <{base}/orgs/acme/repos?per_page=100&type=all&page=2>; rel=\"last\""
                    );
                    ("200 OK", Some(next), page1.to_string())
                };
                let mut head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                if let Some(l) = link {
                    head.push_str(&format!("Link: {l}\r\n"));
                }
                head.push_str("\r\n");
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(body.as_bytes());
            }
        });
        FakeGitHub { url, requests }
    }
}

#[test]
fn github_org_pagination_auth_and_filters() {
    let org = Org::new();
    let entry = |name: &str, archived: bool, fork: bool| {
        serde_json::json!({
            "name": name,
            "full_name": format!("acme/{name}"),
            "clone_url": org.url(name),
            "archived": archived,
            "fork": fork,
        })
    };
    let token = "ghp_fakeTokenForTests0123456789";
    let server = FakeGitHub::start(
        token,
        serde_json::json!([entry("alpha", false, false), entry("gamma", true, false)]),
        serde_json::json!([entry("fork", false, true), entry("beta", false, false)]),
    );
    let run = |token: Option<&str>, extra: &[&str], cache: &str| {
        let mut cmd = Command::new(KEYSWEEP);
        cmd.args([
            "org",
            "--github-org",
            "acme",
            "--github-api-url",
            &server.url,
            "--cache-dir",
            cache,
            "--format",
            "json",
        ])
        .args(extra)
        .current_dir(org.s.dir.path())
        .env_remove("GITHUB_TOKEN");
        if let Some(t) = token {
            cmd.env("GITHUB_TOKEN", t);
        }
        cmd.output().expect("run keysweep")
    };

    // No token: the API says 401, the run fails with a hint.
    let out = run(None, &[], "cache");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("401") && stderr(&out).contains("GITHUB_TOKEN"),
        "{}",
        stderr(&out)
    );

    // With the token: two pages; the archived repository and the fork are
    // left out; the other two are `file://` URLs, which an API answer may
    // not name (issue 11.6): skipped with a warning, never cloned.
    let out = run(Some(token), &[], "cache");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(stat(&doc, "repos"), 0);
    assert!(keys(&doc).is_empty());
    let err = stderr(&out);
    assert!(err.contains("1 archived and 1 forks left out"), "{err}");
    for name in ["acme/alpha", "acme/beta"] {
        assert!(
            err.contains(&format!("repository `{name}`: clone URL `file://"))
                && err.contains("; skipped"),
            "{name}: {err}"
        );
    }
    assert!(!err.contains(token) && !String::from_utf8_lossy(&out.stdout).contains(token));
    let requests = server.requests.lock().expect("lock").clone();
    assert!(
        requests
            .iter()
            .any(|r| r == "/orgs/acme/repos?per_page=100&type=all"),
        "{requests:?}"
    );
    assert!(
        requests.iter().any(|r| r.ends_with("&page=2")),
        "{requests:?}"
    );
    let cloned = std::fs::read_dir(org.s.path("cache/repos")).map_or(0, |d| d.count());
    assert_eq!(cloned, 0, "nothing cloned");
}

#[test]
fn an_interrupted_run_resumes_after_the_repositories_it_finished() {
    let org = Org::new();
    // beta is scanned at once; the ssh "remote" hangs, and the run is
    // killed while waiting for it (as a crash or a cancelled CI job would).
    let fake_ssh = org.s.path("hang-ssh");
    std::fs::write(&fake_ssh, "#!/bin/sh\nexec sleep 20\n").expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake_ssh, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let list = org.list(
        "first.txt",
        &["beta"],
        &["ssh://git@hang.example/acme/x.git"],
    );
    let mut child = Command::new(KEYSWEEP)
        .args([
            "org",
            "--repos",
            &list,
            "--cache-dir",
            "cache",
            "--jobs",
            "2",
        ])
        .current_dir(org.s.dir.path())
        .env("GIT_SSH_COMMAND", &fake_ssh)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start keysweep");
    let state_dir = org.s.path("cache/state");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let written = loop {
        // The blob memory, not the lock beside it.
        let size = std::fs::read_dir(&state_dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum::<u64>();
        if size > 0 || std::time::Instant::now() > deadline {
            break size > 0;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    child.kill().expect("kill keysweep");
    let _ = child.wait();
    assert!(written, "beta's blobs were persisted before the run ended");

    // The rerun (without the hanging remote) scans only what it had not.
    let list = org.list("second.txt", &["beta", "gamma"], &[]);
    let out = org.run(&[
        "org",
        "--repos",
        &list,
        "--cache-dir",
        "cache",
        "--format",
        "json",
    ]);
    let doc = json(&out);
    let beta_blobs = blob_ids(&org.s, &org.s.path("src/beta")).len() as u64;
    let gamma_blobs = blob_ids(&org.s, &org.s.path("src/gamma")).len() as u64;
    // None of beta's blobs is scanned again: each is remembered on its
    // own, or stands in the note of a pack it was in (written just after
    // the memory; the kill can fall between the two, and a blob in a
    // recalled pack is not counted one by one).
    let already = stat(&doc, "blobs_already_scanned");
    let recalled = stat(&doc, "packs_recalled");
    assert!(
        already == beta_blobs || (recalled > 0 && already <= beta_blobs),
        "{}",
        doc["stats"]
    );
    assert_eq!(stat(&doc, "blobs"), gamma_blobs, "{}", doc["stats"]);
    assert_eq!(keys(&doc).len(), 1, "beta's key is still reported");
}

/// `--verify` over an organization: a key in a repository and its fork is
/// one credential, verified once.
#[cfg(feature = "verify")]
#[test]
fn verify_checks_each_credential_once_across_the_organization() {
    let server = crate::support::sts::server();
    let fx = server.fixture("org_fork");
    let s = Scratch::new();
    let upstream = s.init("src/upstream", &[]);
    upstream.write(
        "deploy/prod.env",
        &crate::support::env_file(&fx.access_key_id, &fx.secret_access_key),
    );
    upstream.commit("deploy config");
    s.git(&s.path("src"), &["clone", "-q", "upstream", "fork"]);
    s.repo("src/fork").write("README.md", "fork\n");
    s.repo("src/fork").commit("fork");
    let list = s.path("repos.txt");
    std::fs::write(
        &list,
        format!(
            "{}\n{}\n",
            file_url(&s.path("src/upstream")),
            file_url(&s.path("src/fork"))
        ),
    )
    .expect("write list");
    let out = Command::new(KEYSWEEP)
        .args(["org", "--repos"])
        .arg(&list)
        .args([
            "--cache-dir",
            "cache",
            "--format",
            "json",
            "--verify",
            "--sts-endpoint",
            &server.endpoint,
        ])
        .current_dir(s.dir.path())
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_STS")
        .output()
        .expect("run keysweep");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json(&out);
    let findings = doc["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 2, "{doc:#}");
    for f in findings {
        assert_eq!(f["verification"]["status"], "live", "{f}");
    }
    assert_eq!(stat(&doc, "credentials_verified"), 1);
    assert_eq!(server.requests_for(&fx.access_key_id), 1);
}

/// Issue 18.1: a state file damaged in any way never stops a scan; the
/// damaged lines' blobs are scanned again and the report is the same.
#[test]
fn a_damaged_state_is_healed_not_fatal() {
    let org = Org::new();
    let list = org.list("repos.txt", &["alpha", "beta"], &[]);
    let args = [
        "org",
        "--repos",
        &list,
        "--cache-dir",
        "cache",
        "--format",
        "json",
    ];
    let first = json(&org.run(&args));
    let state = std::fs::read_dir(org.s.path("cache/state"))
        .expect("state dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .expect("a state file");
    // Bytes that are not UTF-8, and a line cut inside a multi-byte
    // character, in front of the good lines.
    let good = std::fs::read(&state).expect("read state");
    let mut damaged = b"\xff\xfe not utf-8\n{\"repo\":\"caf\xc3\n".to_vec();
    damaged.extend_from_slice(&good[..good.len() / 2]);
    damaged.push(b'\n');
    std::fs::write(&state, &damaged).expect("damage the state");
    // Without the per-repository memories, so the clones are read and the
    // blob memory is what answers.
    std::fs::remove_dir_all(org.s.path("cache/state/repos")).expect("rm memories");

    let out = org.run(&args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("damaged line"), "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(keys(&doc), keys(&first), "same findings");
    assert!(stat(&doc, "blobs") > 0, "the lost blobs are scanned again");
    // Healed: the next run reads everything from the state.
    let out = org.run(&args);
    assert!(!stderr(&out).contains("damaged"), "{}", stderr(&out));
    assert_eq!(stat(&json(&out), "blobs"), 0);
}

/// Issue 14: two runs sharing one cache directory: the second is refused
/// with a message naming the first.
#[test]
fn a_second_run_on_a_busy_cache_is_refused() {
    let org = Org::new();
    let fake_ssh = org.s.path("hang-ssh");
    std::fs::write(&fake_ssh, "#!/bin/sh\nexec sleep 20\n").expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake_ssh, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let list = org.list("hang.txt", &[], &["ssh://git@hang.example/acme/x.git"]);
    let mut first = Command::new(KEYSWEEP)
        .args(["org", "--repos", &list, "--cache-dir", "cache"])
        .current_dir(org.s.dir.path())
        .env("GIT_SSH_COMMAND", &fake_ssh)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start keysweep");
    let lock = org.s.path("cache/state/lock");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::fs::metadata(&lock).map_or(0, |m| m.len()) == 0
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let list2 = org.list("beta.txt", &["beta"], &[]);
    let second = org.run(&["org", "--repos", &list2, "--cache-dir", "cache"]);
    let _ = first.kill();
    let _ = first.wait();
    assert_eq!(second.status.code(), Some(2));
    let err = stderr(&second);
    assert!(
        err.contains("in use by another keysweep run")
            && err.contains(&format!("pid {}", first.id())),
        "{err}"
    );
    // Once the first is gone (killed), the cache is free.
    let out = org.run(&["org", "--repos", &list2, "--cache-dir", "cache"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

/// Issue 11.10: a local repository in the list is scanned in place, and
/// its pack index is a claim, not a fact (keysweep does not hash what it
/// decodes). One whose index names a real blob id (alpha's key file) for
/// harmless content must not mark that id clean for later repositories.
#[test]
fn a_local_repository_cannot_vouch_for_blob_ids() {
    let org = Org::new();
    let liar = org.s.init("src/liar", &[]);
    liar.write("harmless.txt", "nothing to see\n");
    let git_dir = org.s.path("src/liar/.git");
    let clean = org.s.git(
        &org.s.path("src/liar"),
        &["hash-object", "-w", "harmless.txt"],
    );
    let secret_id = org.s.git(
        &org.s.path("src/alpha"),
        &["rev-parse", "HEAD~1:config/app.env"],
    );
    // Pack the harmless blob, drop its loose copy, then make the index
    // name alpha's key blob instead.
    let out = Command::new("git")
        .args(["pack-objects", "-q"])
        .arg(git_dir.join("objects/pack/pack"))
        .current_dir(org.s.path("src/liar"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin
                .take()
                .expect("stdin")
                .write_all(format!("{clean}\n").as_bytes())?;
            c.wait_with_output()
        })
        .expect("git pack-objects");
    let pack = String::from_utf8_lossy(&out.stdout).trim().to_string();
    std::fs::remove_file(git_dir.join(format!("objects/{}/{}", &clean[..2], &clean[2..])))
        .expect("drop the loose copy");
    let idx_path = git_dir.join(format!("objects/pack/pack-{pack}.idx"));
    let mut idx = std::fs::read(&idx_path).expect("read idx");
    let lie: Vec<u8> = (0..20)
        .map(|i| u8::from_str_radix(&secret_id[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    // v2 index: 8-byte header, 256 fan-out counts, then the sorted ids.
    for b in 0..256usize {
        let count: u32 = u32::from(b >= usize::from(lie[0]));
        idx[8 + 4 * b..12 + 4 * b].copy_from_slice(&count.to_be_bytes());
    }
    idx[8 + 1024..8 + 1024 + 20].copy_from_slice(&lie);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&idx_path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    std::fs::write(&idx_path, &idx).expect("write the lying index");

    let list = org.list(
        "repos.txt",
        &[],
        &[
            org.s.path("src/liar").to_str().expect("utf-8"),
            org.s.path("src/gamma").to_str().expect("utf-8"),
            &org.url("alpha"),
        ],
    );
    let run = || {
        org.run(&[
            "org",
            "--repos",
            &list,
            "--cache-dir",
            "cache",
            "--format",
            "json",
            "--jobs",
            "1",
        ])
    };
    for attempt in ["first run", "second run"] {
        let out = run();
        let doc = json(&out);
        let alpha: Vec<_> = keys(&doc)
            .into_iter()
            .filter(|(_, r)| *r == org.url("alpha"))
            .collect();
        assert_eq!(alpha.len(), 1, "{attempt}: alpha's key is found: {doc:#}");
        if attempt == "second run" {
            // alpha's blobs were remembered (cloned: hashed by git); the
            // honest local repository's one blob was not, and is read
            // again (the liar's id is recalled as alpha's key blob).
            assert_eq!(stat(&doc, "blobs"), 1, "{}", doc["stats"]);
        }
    }
}

/// Issue 14: a rescan reads nothing of a clone nothing was fetched into,
/// reads again only the clones that changed, and reports the same as a
/// full scan would; a damaged per-repository memory means a full read.
#[test]
fn unchanged_clones_are_not_read_again() {
    let org = Org::new();
    let names = ["alpha", "fork", "beta", "gamma"];
    let list = org.list("repos.txt", &names, &[]);
    let args = [
        "org",
        "--repos",
        &list,
        "--cache-dir",
        "cache",
        "--format",
        "json",
    ];
    let findings = |doc: &Value| doc["findings"].clone();
    let first = json(&org.run(&args));

    let out = org.run(&args);
    let again = json(&out);
    assert!(
        stderr(&out).contains("4 repositories unchanged since their last scan"),
        "{}",
        stderr(&out)
    );
    assert_eq!(findings(&again), findings(&first), "the same findings");
    assert_eq!(stat(&again, "blobs"), 0);
    assert_eq!(
        stat(&again, "blobs_already_scanned"),
        stat(&first, "blobs") + stat(&first, "blobs_already_scanned")
    );

    // One new commit in beta: beta is read again (its one new blob
    // scanned), the other three are not.
    let beta = org.s.repo("src/beta");
    beta.write("later.env", &env_file(5));
    beta.commit("later");
    let out = org.run(&args);
    let third = json(&out);
    assert!(
        stderr(&out).contains("3 repositories unchanged since their last scan"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stat(&third, "blobs"), 1);
    assert_eq!(keys(&third).len(), keys(&first).len() + 1);

    // A repack that rewrites every pack changes the fingerprint: read
    // again (every blob recalled from the blob memory, nothing scanned).
    let clone = std::fs::read_dir(org.s.path("cache/repos"))
        .expect("clones")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("gamma"))
        .expect("gamma's clone");
    org.s.git(&clone, &["repack", "-a", "-d", "-q"]);
    let out = org.run(&args);
    assert!(
        stderr(&out).contains("3 repositories unchanged"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stat(&json(&out), "blobs"), 0);

    // Damaged memories: read again, with a warning, same report.
    for entry in std::fs::read_dir(org.s.path("cache/state/repos")).expect("memories") {
        let path = entry.expect("entry").path();
        std::fs::write(&path, b"{\"v\":1,\"repo\":\"caf\xc3").expect("damage");
    }
    let out = org.run(&args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("damaged"), "{}", stderr(&out));
    assert_eq!(keys(&json(&out)), keys(&third));
}

#[test]
fn a_fetch_decodes_only_what_it_added() {
    let org = Org::new();
    let list = org.list("repos.txt", &["alpha", "beta"], &[]);
    let run = |cache: &str| {
        let out = org.run(&[
            "org",
            "--repos",
            &list,
            "--cache-dir",
            cache,
            "--format",
            "json",
        ]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        json(&out)
    };
    let objects = |name: &str| {
        org.s
            .git(
                &org.s.path(&format!("src/{name}")),
                &["cat-file", "--batch-all-objects", "--batch-check"],
            )
            .lines()
            .count() as u64
    };
    let first = run("cache");
    assert_eq!(
        stat(&first, "objects_decoded"),
        objects("alpha") + objects("beta")
    );
    assert_eq!(stat(&first, "packs_recalled"), 0);

    // beta gets a commit that adds a key and deletes its first file: the
    // fetch brings 3 objects (commit, tree, blob), loose. Only those are
    // decoded; beta's pack and alpha's are recalled from their notes.
    let beta = org.s.repo("src/beta");
    beta.write("later.env", &env_file(5));
    std::fs::remove_file(beta.path.join("secrets.env")).expect("rm");
    beta.commit("later");
    let second = run("cache");
    assert_eq!(stat(&second, "packs_recalled"), 1, "{}", second["stats"]);
    assert_eq!(stat(&second, "objects_decoded"), 3, "{}", second["stats"]);
    assert_eq!(stat(&second, "blobs"), 1);
    // The same report as a first scan of the same repositories: commits,
    // paths, refs and whether HEAD still holds each key (secrets.env's key
    // no longer does) are worked out again over the whole history.
    let cold = run("cold");
    assert_eq!(second["findings"], cold["findings"]);
    assert_eq!(stat(&second, "commits"), stat(&cold, "commits"));

    // A repack that rewrites beta's packs: a pack with no note, decoded in
    // full, its blobs recalled from the blob memory (none scanned).
    let clone = std::fs::read_dir(org.s.path("cache/repos"))
        .expect("clones")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("beta"))
        .expect("beta's clone");
    org.s.git(&clone, &["repack", "-a", "-d", "-q"]);
    let third = run("cache");
    assert_eq!(stat(&third, "objects_decoded"), objects("beta"));
    assert_eq!(stat(&third, "blobs"), 0);
    assert_eq!(third["findings"], cold["findings"]);

    // Noted from then on: damaged notes are decoded again, same report.
    beta.write("more.md", "no keys\n");
    beta.commit("more");
    let fourth = run("cache");
    assert_eq!(stat(&fourth, "objects_decoded"), 3, "{}", fourth["stats"]);
    for dir in std::fs::read_dir(org.s.path("cache/state")).expect("state") {
        let dir = dir.expect("entry").path();
        if dir
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("packs-"))
        {
            for note in std::fs::read_dir(&dir).expect("notes") {
                std::fs::write(note.expect("note").path(), b"torn").expect("damage");
            }
        }
    }
    beta.write("again.md", "no keys\n");
    beta.commit("again");
    let out = org.run(&[
        "org",
        "--repos",
        &list,
        "--cache-dir",
        "cache",
        "--format",
        "json",
    ]);
    assert!(
        stderr(&out).contains("damaged; its pack is decoded again"),
        "{}",
        stderr(&out)
    );
    let fifth = json(&out);
    assert_eq!(stat(&fifth, "packs_recalled"), 0);
    assert_eq!(fifth["findings"], run("cold2")["findings"]);
}
