//! `keysweep org` against loopback stand-ins of each forge's API
//! (tests/support/forge.py): real pagination, auth headers and error
//! answers, and repositories cloned over git's smart HTTP protocol (git
//! http-backend), with the token checked on every git request too. Hostile
//! answers (clone URLs that are local paths, `file://` or on another host)
//! must be skipped, never cloned.

use crate::gitutil::{credential, env_file, Scratch};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const KEYSWEEP: &str = env!("CARGO_BIN_EXE_keysweep");
const TOKEN: &str = "fake-forge-token-0123456789";

fn support(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(name)
}

/// One running stand-in; killed when dropped.
struct Forge {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Drop for Forge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Forge {
    /// Starts the stand-in for `kind` serving `collections` (API path →
    /// items) and the bare repositories under `git_root` at /git/.
    fn start(s: &Scratch, name: &str, kind: &str, mut config: Value) -> Forge {
        let log = s.path(&format!("{name}-requests.jsonl"));
        config["kind"] = json!(kind);
        config["log"] = json!(log);
        config["git_root"] = json!(s.path("served"));
        let path = s.path(&format!("{name}-config.json"));
        std::fs::write(&path, config.to_string()).expect("write config");
        let mut child = Command::new("python3")
            .arg(support("forge.py"))
            .arg(&path)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the forge stand-in");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .unwrap_or_else(|| panic!("stand-in did not start: {line:?}"));
        Forge {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("log line"))
            .collect()
    }
}

/// Work repositories, each served bare under `served/<path>.git`.
struct Fixture {
    s: Scratch,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture { s: Scratch::new() }
    }

    /// A repository with one file per `(path, content)`, served at
    /// `served/<at>.git`.
    fn serve(&self, at: &str, files: &[(&str, String)]) {
        let work = format!("work/{at}");
        let repo = self.s.init(&work, &[]);
        for (path, content) in files {
            repo.write(path, content);
        }
        repo.commit("content");
        let served = self.s.path(&format!("served/{at}.git"));
        std::fs::create_dir_all(served.parent().expect("parent")).expect("mkdir");
        self.s.git(
            &self.s.path("."),
            &[
                "clone",
                "-q",
                "--bare",
                self.s.path(&work).to_str().expect("utf-8"),
                served.to_str().expect("utf-8"),
            ],
        );
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(KEYSWEEP);
        cmd.args(args)
            .args(["--format", "json", "--jobs", "1"])
            .current_dir(self.s.dir.path())
            .env("HOME", self.s.dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1");
        for t in [
            "GITHUB_TOKEN",
            "GITLAB_TOKEN",
            "GITEA_TOKEN",
            "BITBUCKET_TOKEN",
            "AZURE_DEVOPS_TOKEN",
        ] {
            cmd.env_remove(t);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run keysweep")
    }
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            stderr(o)
        )
    })
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stat(doc: &Value, name: &str) -> u64 {
    doc["stats"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("stats.{name} in {}", doc["stats"]))
}

/// `(repo, key id)` of every finding.
fn found(doc: &Value) -> BTreeSet<(String, String)> {
    doc["findings"]
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
        .collect()
}

fn key(seed: u64) -> String {
    credential(seed).0
}

/// A local repository with a key, named in hostile answers: cloning it
/// would read this machine's files.
fn local_bait(f: &Fixture) -> String {
    let bait = f.s.init("bait", &[]);
    bait.write("stolen.env", &env_file(9));
    bait.commit("bait");
    f.s.path("bait").display().to_string()
}

#[test]
fn gitlab_subgroups_pagination_auth_filters_wikis_and_hostile_urls() {
    let f = Fixture::new();
    f.serve("acme/alpha", &[("app.env", env_file(1))]);
    f.serve("acme/platform/beta", &[("deploy.env", env_file(2))]);
    f.serve("acme/old", &[("old.env", env_file(3))]);
    f.serve("acme/forked", &[("fork.env", env_file(4))]);
    f.serve("acme/alpha.wiki", &[("Home.md", env_file(5))]);
    let bait = local_bait(&f);
    let project = |path: &str, url: String, archived: bool, fork: bool, wiki: bool| {
        let mut p = json!({
            "path_with_namespace": path,
            "http_url_to_repo": url,
            "archived": archived,
            "wiki_enabled": wiki,
        });
        if fork {
            p["forked_from_project"] = json!({"id": 1});
        }
        p
    };
    let git = |at: &str| format!("{{base}}/git/{at}.git");
    let forge = Forge::start(
        &f.s,
        "gitlab",
        "gitlab",
        json!({
            "token": TOKEN,
            "git_user": "oauth2",
            "page_size": 2,
            "fail_first": {"/api/v4/groups/acme/projects": [503]},
            "collections": {"/api/v4/groups/acme/projects": [
                project("acme/alpha", git("acme/alpha"), false, false, true),
                project("acme/platform/beta", git("acme/platform/beta"), false, false, true),
                project("acme/old", git("acme/old"), true, false, false),
                project("acme/forked", git("acme/forked"), false, true, false),
                project("acme/local", bait.clone(), false, false, false),
                project("acme/file", format!("file://{bait}"), false, false, false),
                project("acme/elsewhere", "https://evil.example/acme/x.git".into(), false, false, false),
            ]},
        }),
    );
    let cache = f.s.path("cache");
    let cache = cache.to_str().expect("utf-8");
    let base = [
        "org",
        "--gitlab-group",
        "acme",
        "--gitlab-url",
        &forge.base,
        "--cache-dir",
        cache,
    ];

    // No token: the API answers 401; a clear error, exit 2.
    let out = f.run(&base, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("GitLab group `acme`") && err.contains("401"),
        "{err}"
    );

    // With the token: a 503 retried, four pages, archived and fork left
    // out, the hostile clone URLs skipped with a warning and never read.
    let out = f.run(&base, &[("GITLAB_TOKEN", TOKEN)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json_of(&out);
    let url = |at: &str| format!("{}/git/{at}.git", forge.base);
    assert_eq!(
        found(&doc),
        [
            (url("acme/alpha"), key(1)),
            (url("acme/platform/beta"), key(2))
        ]
        .into_iter()
        .collect()
    );
    assert_eq!(stat(&doc, "repos"), 2);
    assert_eq!(stat(&doc, "repos_failed"), 0);
    let err = stderr(&out);
    assert!(err.contains("1 archived and 1 forks left out"), "{err}");
    for name in ["acme/local", "acme/file", "acme/elsewhere"] {
        assert!(
            err.contains(&format!("repository `{name}`")) && err.contains("skipped"),
            "{name}: {err}"
        );
    }
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&key(9)));
    assert!(!err.contains(TOKEN));
    let requests = forge.requests();
    let (api, unauthenticated): (Vec<&Value>, Vec<&Value>) = requests
        .iter()
        .filter(|r| r["path"] == "/api/v4/groups/acme/projects")
        .partition(|r| r["auth_ok"] == true);
    // Without the token: a 503, retried, then the 401.
    assert_eq!(unauthenticated.len(), 2, "{requests:?}");
    // With it: pages 1 to 4.
    assert_eq!(api.len(), 4, "{requests:?}");
    for r in &api {
        let q = r["query"].as_str().expect("query");
        assert!(q.contains("include_subgroups=true"), "{q}");
        assert_eq!(r["auth_ok"], true);
    }
    assert!(api
        .iter()
        .any(|r| r["query"].as_str().is_some_and(|q| q.ends_with("page=4"))));
    let git_requests: Vec<&Value> = requests
        .iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with("/git/")))
        .collect();
    assert!(!git_requests.is_empty());
    assert!(
        git_requests.iter().all(|r| r["auth_ok"] == true),
        "{git_requests:?}"
    );

    // Everything asked for: archived, forks, wikis. alpha's wiki holds a
    // key; beta's was never written to (noted, not a failure).
    let mut all = base.to_vec();
    all.extend(["--include-archived", "--include-forks", "--include-wikis"]);
    let out = f.run(&all, &[("GITLAB_TOKEN", TOKEN)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json_of(&out);
    let got = found(&doc);
    for (at, seed) in [
        ("acme/alpha", 1),
        ("acme/platform/beta", 2),
        ("acme/old", 3),
        ("acme/forked", 4),
        ("acme/alpha.wiki", 5),
    ] {
        assert!(got.contains(&(url(at), key(seed))), "{at}: {got:?}");
    }
    assert_eq!(stat(&doc, "repos_failed"), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 wikis could not be cloned"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn gitlab_rate_limit_says_when_it_resets() {
    let f = Fixture::new();
    let forge = Forge::start(
        &f.s,
        "gitlab",
        "gitlab",
        json!({
            "token": TOKEN,
            "git_user": "oauth2",
            "rate_limited": ["/api/v4/groups/acme/projects"],
            "collections": {"/api/v4/groups/acme/projects": []},
        }),
    );
    let out = f.run(
        &[
            "org",
            "--gitlab-group",
            "acme",
            "--gitlab-url",
            &forge.base,
            "--cache-dir",
            "cache",
        ],
        &[("GITLAB_TOKEN", TOKEN)],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("HTTP 429") && err.contains("rate limited; the limit resets in 120 s"),
        "{err}"
    );
}

#[test]
fn gitea_link_pagination_token_header_and_404() {
    let f = Fixture::new();
    f.serve("acme/one", &[("a.env", env_file(1))]);
    f.serve("acme/two", &[("b.env", env_file(2))]);
    f.serve("acme/three", &[("c.txt", "clean\n".to_string())]);
    let repo = |name: &str, fork: bool| {
        json!({
            "full_name": format!("acme/{name}"),
            "clone_url": format!("{{base}}/git/acme/{name}.git"),
            "archived": false,
            "fork": fork,
            "has_wiki": false,
        })
    };
    let forge = Forge::start(
        &f.s,
        "gitea",
        "gitea",
        json!({
            "token": TOKEN,
            "git_user": "oauth2",
            "page_size": 1,
            "collections": {"/api/v1/orgs/acme/repos": [
                repo("one", false), repo("two", false), repo("three", true),
            ]},
        }),
    );
    let run = |org: &str| {
        f.run(
            &[
                "org",
                "--gitea-org",
                org,
                "--gitea-url",
                &forge.base,
                "--cache-dir",
                "cache",
            ],
            &[("GITEA_TOKEN", TOKEN)],
        )
    };
    let out = run("acme");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json_of(&out);
    let url = |n: &str| format!("{}/git/acme/{n}.git", forge.base);
    assert_eq!(
        found(&doc),
        [(url("one"), key(1)), (url("two"), key(2))]
            .into_iter()
            .collect()
    );
    assert!(stderr(&out).contains("0 archived and 1 forks left out"));
    let pages: Vec<String> = forge
        .requests()
        .iter()
        .filter(|r| r["path"] == "/api/v1/orgs/acme/repos")
        .map(|r| r["query"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(pages.len(), 3, "one repository a page: {pages:?}");

    let out = run("nobody");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("Gitea organization `nobody`") && err.contains("404"),
        "{err}"
    );
}

#[test]
fn bitbucket_next_urls_forks_and_hostile_hosts() {
    let f = Fixture::new();
    f.serve("ws/app", &[("a.env", env_file(1))]);
    f.serve("ws/lib", &[("b.env", env_file(2))]);
    f.serve("ws/copy", &[("c.env", env_file(3))]);
    let repo = |name: &str, href: String, fork: bool| {
        let mut r = json!({
            "full_name": format!("ws/{name}"),
            "links": {"clone": [
                {"name": "https", "href": href},
                {"name": "ssh", "href": format!("git@bitbucket.org:ws/{name}.git")},
            ]},
            "has_wiki": false,
        });
        if fork {
            r["parent"] = json!({"full_name": "other/copy"});
        }
        r
    };
    let git = |name: &str| format!("{{base}}/git/ws/{name}.git");
    let forge = Forge::start(
        &f.s,
        "bitbucket",
        "bitbucket",
        json!({
            "token": TOKEN,
            "git_user": "x-token-auth",
            "page_size": 2,
            "collections": {"/2.0/repositories/ws": [
                repo("app", git("app"), false),
                repo("copy", git("copy"), true),
                repo("lib", git("lib"), false),
                repo("moved", "https://bitbucket.evil.example/ws/x.git".into(), false),
            ]},
        }),
    );
    let out = f.run(
        &[
            "org",
            "--bitbucket-workspace",
            "ws",
            "--bitbucket-api-url",
            &forge.base,
            "--cache-dir",
            "cache",
        ],
        &[("BITBUCKET_TOKEN", TOKEN)],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json_of(&out);
    let url = |n: &str| format!("{}/git/ws/{n}.git", forge.base);
    assert_eq!(
        found(&doc),
        [(url("app"), key(1)), (url("lib"), key(2))]
            .into_iter()
            .collect()
    );
    let err = stderr(&out);
    assert!(err.contains("repository `ws/moved`"), "{err}");
    let pages = forge
        .requests()
        .iter()
        .filter(|r| r["path"] == "/2.0/repositories/ws")
        .count();
    assert_eq!(pages, 2);
}

/// A GitHub user's repositories and a GitLab group in one run: one
/// report; the same repository mirrored on both is scanned once per URL,
/// its blobs once.
#[test]
fn github_user_and_gitlab_group_merge_and_share_blobs() {
    let f = Fixture::new();
    f.serve("alice/tool", &[("t.env", env_file(1))]);
    // The mirror: the same history on the "GitLab" side.
    std::fs::create_dir_all(f.s.path("served/mirror")).expect("mkdir");
    f.s.git(
        &f.s.path("."),
        &[
            "clone",
            "-q",
            "--bare",
            f.s.path("served/alice/tool.git").to_str().expect("utf-8"),
            f.s.path("served/mirror/tool.git").to_str().expect("utf-8"),
        ],
    );
    let bait = local_bait(&f);
    let github = Forge::start(
        &f.s,
        "github",
        "github",
        json!({
            "token": TOKEN,
            "git_user": "x-access-token",
            "page_size": 1,
            "collections": {"/users/alice/repos": [
                {"full_name": "alice/tool", "clone_url": "{base}/git/alice/tool.git"},
                {"full_name": "alice/bait", "clone_url": format!("file://{bait}")},
            ]},
        }),
    );
    let gitlab = Forge::start(
        &f.s,
        "gitlab",
        "gitlab",
        json!({
            "token": TOKEN,
            "git_user": "oauth2",
            "collections": {"/api/v4/groups/mirror/projects": [
                {"path_with_namespace": "mirror/tool", "http_url_to_repo": "{base}/git/mirror/tool.git"},
            ]},
        }),
    );
    let out = f.run(
        &[
            "org",
            "--github-user",
            "alice",
            "--github-api-url",
            &github.base,
            "--gitlab-group",
            "mirror",
            "--gitlab-url",
            &gitlab.base,
            "--cache-dir",
            "cache",
        ],
        &[("GITHUB_TOKEN", TOKEN), ("GITLAB_TOKEN", TOKEN)],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json_of(&out);
    assert_eq!(
        found(&doc),
        [
            (format!("{}/git/alice/tool.git", github.base), key(1)),
            (format!("{}/git/mirror/tool.git", gitlab.base), key(1)),
        ]
        .into_iter()
        .collect()
    );
    assert_eq!(stat(&doc, "repos"), 2);
    let blobs = stat(&doc, "blobs");
    assert_eq!(
        stat(&doc, "blobs_already_scanned"),
        blobs,
        "mirror: every blob recalled"
    );
    assert!(stderr(&out).contains("repository `alice/bait`"));
    // Each forge saw only its own token (the stand-ins check it).
    for r in github.requests().iter().chain(gitlab.requests().iter()) {
        assert_eq!(r["auth_ok"], true, "{r}");
    }
    let user_query = github
        .requests()
        .iter()
        .find(|r| r["path"] == "/users/alice/repos")
        .map(|r| r["query"].as_str().unwrap_or("").to_string())
        .expect("the user listing was asked for");
    assert!(user_query.contains("type=owner"), "{user_query}");
}

#[test]
fn azure_devops_continuation_auth_disabled_forks_wikis_and_hostile_urls() {
    let f = Fixture::new();
    let at = |repo: &str| format!("acme/Fabrikam Fiber/_git/{repo}");
    f.serve(&at("alpha"), &[("app.env", env_file(1))]);
    f.serve(&at("beta"), &[("deploy.env", env_file(2))]);
    f.serve(&at("old"), &[("old.env", env_file(3))]);
    f.serve(&at("forked"), &[("fork.env", env_file(4))]);
    f.serve(&at("Fabrikam Fiber.wiki"), &[("Home.md", env_file(5))]);
    let bait = local_bait(&f);
    // Azure's clone URLs carry the organization as user name.
    let remote = |repo: &str| {
        format!(
            "http://acme@{{hostport}}/git/{}",
            at(repo).replace(' ', "%20")
        )
    };
    let repo = |name: &str, url: String, disabled: bool, fork: bool| {
        json!({
            "id": format!("id-{name}"),
            "name": name,
            "project": {"name": "Fabrikam Fiber"},
            "remoteUrl": url,
            "isDisabled": disabled,
            "isFork": fork,
        })
    };
    let forge = Forge::start(
        &f.s,
        "azure",
        "azure",
        json!({
            "token": TOKEN,
            "git_user": "",
            "page_size": 2,
            "fail_first": {"/acme/_apis/git/repositories": [500]},
            "rate_limited": ["/busy/_apis/git/repositories"],
            "collections": {
                "/acme/_apis/git/repositories": [
                    repo("alpha", remote("alpha"), false, false),
                    repo("beta", remote("beta"), false, false),
                    repo("old", remote("old"), true, false),
                    repo("forked", remote("forked"), false, true),
                    repo("local", bait.clone(), false, false),
                    repo("file", format!("file://{bait}"), false, false),
                    repo("elsewhere", "https://acme@evil.example/acme/p/_git/x".into(), false, false),
                ],
                "/acme/Fabrikam%20Fiber/_apis/git/repositories": [
                    repo("alpha", remote("alpha"), false, false),
                ],
                "/acme/_apis/wiki/wikis": [
                    {"name": "Fabrikam Fiber.wiki", "type": "projectWiki",
                     "remoteUrl": remote("Fabrikam Fiber.wiki")},
                    {"name": "docs", "type": "codeWiki", "remoteUrl": remote("alpha")},
                ],
            },
        }),
    );
    let cache = f.s.path("cache");
    let cache = cache.to_str().expect("utf-8");
    let base = [
        "org",
        "--azure-org",
        "acme",
        "--azure-url",
        &forge.base,
        "--cache-dir",
        cache,
    ];
    let url = |repo: &str| format!("{}/git/{}", forge.base, at(repo).replace(' ', "%20"));

    // No token: a 500 retried, then the 401; a clear error, exit 2.
    let out = f.run(&base, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("Azure DevOps organization `acme`")
            && err.contains("401")
            && err.contains("AZURE_DEVOPS_TOKEN"),
        "{err}"
    );

    // With the token: four pages by continuation token, the disabled
    // repository and the hostile clone URLs skipped with a warning, the
    // fork left out; clones over smart HTTP with the token as Basic.
    let out = f.run(&base, &[("AZURE_DEVOPS_TOKEN", TOKEN)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json_of(&out);
    assert_eq!(
        found(&doc),
        [(url("alpha"), key(1)), (url("beta"), key(2))]
            .into_iter()
            .collect()
    );
    assert_eq!(stat(&doc, "repos_failed"), 0);
    let err = stderr(&out);
    assert!(err.contains("0 archived and 1 forks left out"), "{err}");
    for name in ["old", "local", "file", "elsewhere"] {
        assert!(
            err.contains(&format!("repository `Fabrikam Fiber/{name}`")),
            "{name}: {err}"
        );
    }
    assert!(err.contains("is disabled"), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&key(9)));
    assert!(!err.contains(TOKEN));
    let requests = forge.requests();
    let pages: Vec<&Value> = requests
        .iter()
        .filter(|r| r["path"] == "/acme/_apis/git/repositories" && r["auth_ok"] == true)
        .collect();
    assert_eq!(pages.len(), 4, "{requests:?}");
    assert!(pages[3]["query"]
        .as_str()
        .is_some_and(|q| q.contains("continuationToken=c%2B4%2F%3D%3D")));
    let git_requests: Vec<&Value> = requests
        .iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with("/git/")))
        .collect();
    assert!(!git_requests.is_empty());
    assert!(git_requests.iter().all(|r| r["auth_ok"] == true));

    // Forks and wikis asked for: the project wiki (a repository the list
    // does not show) is cloned; the code wiki is alpha, already listed.
    let mut all = base.to_vec();
    all.extend(["--include-forks", "--include-wikis"]);
    let out = f.run(&all, &[("AZURE_DEVOPS_TOKEN", TOKEN)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let got = found(&json_of(&out));
    for (repo, seed) in [
        ("alpha", 1),
        ("beta", 2),
        ("forked", 4),
        ("Fabrikam Fiber.wiki", 5),
    ] {
        assert!(got.contains(&(url(repo), key(seed))), "{repo}: {got:?}");
    }
    assert!(stderr(&out).contains("1 wikis"), "{}", stderr(&out));

    // One project: its own listing, its name escaped in the path.
    let mut one = base.to_vec();
    one.extend(["--azure-project", "Fabrikam Fiber"]);
    let out = f.run(&one, &[("AZURE_DEVOPS_TOKEN", TOKEN)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        found(&json_of(&out)),
        [(url("alpha"), key(1))].into_iter().collect()
    );

    // An unknown organization (404) and a rate limit (429, Retry-After).
    for (org, needle) in [
        ("nobody", "check the name"),
        ("busy", "the limit resets in 120 s"),
    ] {
        let out = f.run(
            &[
                "org",
                "--azure-org",
                org,
                "--azure-url",
                &forge.base,
                "--cache-dir",
                cache,
            ],
            &[("AZURE_DEVOPS_TOKEN", TOKEN)],
        );
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{org}: {}", stderr(&out));
    }
}
