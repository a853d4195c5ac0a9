//! `keysweep scan --staged` on real index states, and the pre-commit hook
//! installed by `keysweep hook install --pre-commit` blocking real `git
//! commit`s. (Through the pre-commit framework: `tests/integration/github.rs`,
//! beside the pre-push stage, with the same pinned pre-commit.)

use crate::gitutil::{credential, env_file, Repo, Scratch};
use serde_json::Value;
use std::process::{Command, Output};

const KEYSWEEP: &str = env!("CARGO_BIN_EXE_keysweep");

/// `keysweep scan --staged --format json` in `repo`; (exit code, findings, stats).
fn staged(repo: &Repo<'_>) -> (i32, Vec<Value>, Value) {
    let out = Command::new(KEYSWEEP)
        .args(["scan", "--staged", "--format", "json"])
        .current_dir(&repo.path)
        .env("HOME", repo.s.dir.path())
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("keysweep runs");
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (
        out.status.code().unwrap_or(-1),
        doc["findings"].as_array().cloned().unwrap_or_default(),
        doc["stats"].clone(),
    )
}

/// (path, key ID) of each finding.
fn places(findings: &[Value]) -> Vec<(String, String)> {
    findings
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or("").to_string(),
                f["access_key_id"]["value"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect()
}

fn key(seed: u64) -> String {
    credential(seed).0
}

#[test]
fn new_files_before_the_first_commit_are_judged() {
    let s = Scratch::new();
    let repo = s.init("work", &[]);
    repo.write("README.md", "hello\n");
    repo.write("conf/prod.env", &env_file(1));
    repo.git(&["add", "-A"]);
    let (code, findings, _) = staged(&repo);
    assert_eq!(code, 1);
    assert_eq!(places(&findings), vec![("conf/prod.env".into(), key(1))]);
    let f = &findings[0];
    assert_eq!(f["origin"], "index");
    assert_eq!(f["commit"], Value::Null);
    assert_eq!(
        f["blob"].as_str(),
        Some(repo.git(&["rev-parse", ":conf/prod.env"]).as_str()),
        "the staged blob"
    );
}

#[test]
fn modified_renamed_and_deleted_files() {
    let s = Scratch::new();
    let repo = s.init("work", &[]);
    repo.write("old.env", &env_file(1));
    repo.write("moved.env", &env_file(2));
    repo.write("gone.env", &env_file(3));
    repo.write("app.cfg", "x = 1\n");
    repo.commit("with old leaks");
    let (code, findings, _) = staged(&repo);
    assert_eq!((code, findings.len()), (0, 0), "nothing staged");

    // Modified: the old key is not new, a key added beside it is.
    repo.write("old.env", &format!("{}# touched\n", env_file(1)));
    repo.write("app.cfg", &format!("x = 1\n{}", env_file(4)));
    // Renamed: judged at its new path, as pre-push will judge it.
    std::fs::create_dir(repo.path.join("config")).expect("mkdir");
    repo.git(&["mv", "moved.env", "config/moved.env"]);
    repo.git(&["rm", "-q", "gone.env"]);
    repo.git(&["add", "-A"]);
    let (code, findings, stats) = staged(&repo);
    assert_eq!(code, 1);
    assert_eq!(
        places(&findings),
        vec![
            ("app.cfg".into(), key(4)),
            ("config/moved.env".into(), key(2)),
        ]
    );
    // Only what is staged was read: the new blobs, and HEAD's version of
    // the one modified path with a finding (old.env has none new but is
    // read to learn that).
    assert_eq!(stats["blobs"], 5, "{stats}");
}

#[test]
fn the_index_is_judged_not_the_work_tree() {
    let s = Scratch::new();
    let repo = s.init("work", &[]);
    let clean = "line 1\nline 2\nline 3\n";
    repo.write("deploy.sh", clean);
    repo.commit("start");
    // A key in the work tree only (not staged): the commit would not have it.
    repo.write("deploy.sh", &format!("{clean}{}", env_file(5)));
    let (code, findings, _) = staged(&repo);
    assert_eq!((code, findings.len()), (0, 0), "{findings:?}");
    // Partly staged, as `git add -p` leaves it: the index holds the key,
    // the work tree has since dropped it.
    let blob = {
        let staged_text = format!("line 1\n{}line 2\nline 3\n", env_file(6));
        let path = repo.path.join("staged-version");
        std::fs::write(&path, staged_text).expect("write");
        let id = repo.git(&["hash-object", "-w", "staged-version"]);
        std::fs::remove_file(path).expect("rm");
        id
    };
    repo.git(&[
        "update-index",
        "--cacheinfo",
        &format!("100644,{blob},deploy.sh"),
    ]);
    repo.write("deploy.sh", clean);
    let (code, findings, _) = staged(&repo);
    assert_eq!(code, 1);
    assert_eq!(places(&findings), vec![("deploy.sh".into(), key(6))]);
    assert_eq!(
        findings[0]["access_key_id"]["line"], 4,
        "line in the index's version"
    );
}

#[test]
fn the_cost_grows_with_what_is_staged() {
    let s = Scratch::new();
    let repo = s.init("work", &[]);
    for i in 0..300 {
        repo.write(&format!("src/m{}/f{i}.txt", i % 17), &format!("file {i}\n"));
    }
    repo.commit("a large tree");
    repo.write("src/m3/new.txt", "one more\n");
    repo.git(&["add", "src/m3/new.txt"]);
    let (code, _, stats) = staged(&repo);
    assert_eq!(code, 0);
    assert_eq!(stats["blobs"], 1, "one staged blob read: {stats}");
}

fn hook_install(repo: &Repo<'_>, extra: &[&str]) -> Output {
    Command::new(KEYSWEEP)
        .args(["hook", "install"])
        .arg(&repo.path)
        .args(extra)
        .output()
        .expect("keysweep runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn the_pre_commit_hook_blocks_a_leaky_commit_and_passes_a_clean_one() {
    let s = Scratch::new();
    let repo = s.init("work", &[]);
    let out = hook_install(&repo, &["--pre-commit"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(repo.path.join(".git/hooks/pre-commit").exists());
    assert!(
        !repo.path.join(".git/hooks/pre-push").exists(),
        "--pre-commit alone installs only it"
    );

    repo.write("README.md", "hello\n");
    repo.git(&["add", "README.md"]);
    let out = s.git_output(&repo.path, &["commit", "-q", "-m", "clean"]);
    assert!(
        out.status.success(),
        "a clean commit passes: {}",
        stderr(&out)
    );

    repo.write("app/.env", &env_file(7));
    repo.git(&["add", "app/.env"]);
    let out = s.git_output(&repo.path, &["commit", "-q", "-m", "leak"]);
    assert!(!out.status.success(), "must be blocked");
    let err = stderr(&out);
    assert!(
        err.contains("commit blocked") && err.contains(&key(7)),
        "{err}"
    );
    assert!(err.contains("git commit --no-verify"), "{err}");
    assert!(!err.contains(&credential(7).1), "the secret is not printed");
    assert_eq!(
        repo.git(&["log", "--format=%s"]),
        "clean",
        "nothing recorded"
    );

    // `git commit -a` judges the index it prepares (GIT_INDEX_FILE), which
    // holds the work tree's change that was never `git add`ed.
    repo.git(&["reset", "-q", "app/.env"]);
    std::fs::remove_file(repo.path.join("app/.env")).expect("rm");
    repo.write("README.md", &format!("hello\n{}", env_file(8)));
    let out = s.git_output(&repo.path, &["commit", "-q", "-a", "-m", "sneaky"]);
    assert!(!out.status.success(), "commit -a must be blocked");
    assert!(stderr(&out).contains(&key(8)), "{}", stderr(&out));
    // And `git commit PATH` likewise.
    let out = s.git_output(&repo.path, &["commit", "-q", "-m", "by path", "README.md"]);
    assert!(!out.status.success(), "commit PATH must be blocked");
    assert_eq!(repo.git(&["log", "--format=%s"]), "clean");

    // A foreign pre-commit hook is kept; both hooks install together.
    repo.write("README.md", "hello\n");
    std::fs::write(
        repo.path.join(".git/hooks/pre-commit"),
        "#!/bin/sh\nexit 0\n",
    )
    .expect("write");
    let out = hook_install(&repo, &["--pre-commit", "--pre-push"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("scan --staged"), "{}", stderr(&out));
    let out = hook_install(&repo, &["--pre-commit", "--pre-push", "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(repo.path.join(".git/hooks/pre-push").exists());
}

#[test]
fn no_command_from_the_repository_runs() {
    let s = Scratch::new();
    let repo = s.init("work", &[]);
    let marker = s.path("ran");
    let evil = format!("touch '{}'", marker.display());
    for (k, v) in [
        ("core.fsmonitor", evil.clone()),
        ("core.pager", evil.clone()),
        ("diff.external", evil.clone()),
        ("filter.x.clean", evil.clone()),
        ("filter.x.process", evil.clone()),
        ("core.hooksPath", s.path("hooks").display().to_string()),
    ] {
        repo.git(&["config", k, &v]);
    }
    std::fs::create_dir(s.path("hooks")).expect("mkdir");
    for hook in ["post-index-change", "reference-transaction"] {
        let p = s.path("hooks").join(hook);
        std::fs::write(&p, format!("#!/bin/sh\n{evil}\n")).expect("write");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    repo.write(".gitattributes", "* filter=x\n");
    repo.write("a.env", &env_file(10));
    // Staged without running the filter (plumbing writes the blob as is).
    let id = repo.git(&["hash-object", "-w", "--no-filters", "a.env"]);
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("100644,{id},a.env"),
    ]);
    let _ = std::fs::remove_file(&marker);
    let (code, findings, _) = staged(&repo);
    assert_eq!(code, 1);
    assert_eq!(places(&findings), vec![("a.env".into(), key(10))]);
    assert!(
        !marker.exists(),
        "a command from the repository's config ran"
    );
}

#[test]
fn hostile_staged_names_stay_text() {
    let s = Scratch::new();
    let repo = s.init("work", &[]);
    repo.write("body", &env_file(11));
    let id = repo.git(&["hash-object", "-w", "body"]);
    std::fs::remove_file(repo.path.join("body")).expect("rm");
    let name = "evil\u{1b}]0;pwned\u{7}\n::error::x.env";
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("100644,{id},{name}"),
    ]);
    let out = Command::new(KEYSWEEP)
        .args(["scan", "--staged", "--color", "never"])
        .current_dir(&repo.path)
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("keysweep runs");
    assert_eq!(out.status.code(), Some(1));
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
        assert!(!text.lines().any(|l| l.starts_with("::")), "{text:?}");
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("evil\\x1b]0;pwned\\x07\\n::error::x.env"),
        "{err}"
    );
    // The JSON report keeps the name exactly (JSON escapes it).
    let (_, findings, _) = staged(&repo);
    assert_eq!(findings[0]["path"], name);
}
