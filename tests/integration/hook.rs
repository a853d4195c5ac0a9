//! The pre-push hook, end to end: `keysweep hook install`, then real
//! `git push` to a bare remote over file://.

use crate::gitutil::{credential, env_file, Scratch};
use std::path::Path;
use std::process::Output;

const KEYSWEEP: &str = env!("CARGO_BIN_EXE_keysweep");

/// A work repository with a bare `origin`, the hook installed.
fn setup(s: &Scratch) -> crate::gitutil::Repo<'_> {
    s.init("remote.git", &["--bare"]);
    let work = s.init("work", &[]);
    work.git(&[
        "remote",
        "add",
        "origin",
        &format!("file://{}", s.path("remote.git").display()),
    ]);
    let out = install(&work.path, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    work
}

fn install(repo: &Path, extra: &[&str]) -> Output {
    std::process::Command::new(KEYSWEEP)
        .arg("hook")
        .arg("install")
        .arg(repo)
        .args(extra)
        .output()
        .unwrap()
}

fn push(work: &crate::gitutil::Repo<'_>, args: &[&str]) -> Output {
    let mut all = vec!["push", "-q"];
    all.extend_from_slice(args);
    work.s.git_output(&work.path, &all)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn install_respects_hooks_path_and_foreign_hooks() {
    let s = Scratch::new();
    let work = s.init("work", &[]);
    let out = install(&work.path, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let hook = work.path.join(".git/hooks/pre-push");
    let text = std::fs::read_to_string(&hook).unwrap();
    assert!(text.contains("pre-push \"$@\""));
    // Reinstalling over our own hook is fine.
    assert!(install(&work.path, &[]).status.success());
    // A hook someone else wrote is kept unless --force.
    std::fs::write(&hook, "#!/bin/sh\necho mine\n").unwrap();
    let out = install(&work.path, &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert!(install(&work.path, &["--force"]).status.success());
    // core.hooksPath is where git looks, so that is where it goes.
    work.git(&["config", "core.hooksPath", "githooks"]);
    assert!(install(&work.path, &[]).status.success());
    assert!(work.path.join("githooks/pre-push").exists());
}

#[test]
fn a_push_carrying_a_key_is_blocked_even_if_a_later_commit_deletes_it() {
    let s = Scratch::new();
    let work = setup(&s);
    work.write("README.md", "hello\n");
    work.commit("clean start");
    let out = push(&work, &["origin", "main"]);
    assert!(
        out.status.success(),
        "a clean push passes: {}",
        stderr(&out)
    );

    work.write("app/.env", &env_file(1));
    work.commit("add config");
    std::fs::remove_file(work.path.join("app/.env")).unwrap();
    work.commit("oops, remove it");
    let out = push(&work, &["origin", "main"]);
    assert!(!out.status.success(), "must be blocked");
    let err = stderr(&out);
    let (id, secret) = credential(1);
    assert!(err.contains("push blocked") && err.contains(&id), "{err}");
    assert!(err.contains("--no-verify"), "{err}");
    assert!(!err.contains(&secret), "the secret is not printed");
    // Nothing reached the remote.
    let remote_main = s.git_output(&s.path("remote.git"), &["rev-parse", "main"]);
    assert_eq!(
        String::from_utf8_lossy(&remote_main.stdout).trim(),
        work.rev("HEAD~2")
    );
}

#[test]
fn new_branches_multi_ref_pushes_urls_and_deletions() {
    let s = Scratch::new();
    let work = setup(&s);
    work.write("README.md", "hello\n");
    work.commit("start");
    assert!(push(&work, &["origin", "main"]).status.success());
    // A new clean branch passes; its history is already on the remote.
    work.git(&["checkout", "-q", "-b", "clean"]);
    work.write("notes.txt", "more\n");
    work.commit("clean work");
    assert!(push(&work, &["origin", "clean"]).status.success());
    // Several refs at once: one leaky branch blocks the whole push.
    work.git(&["checkout", "-q", "-b", "leaky", "main"]);
    work.write("deploy.sh", &env_file(2));
    work.commit("leak");
    work.git(&["checkout", "-q", "main"]);
    work.write("more.txt", "x\n");
    work.commit("clean on main");
    let out = push(&work, &["origin", "main", "leaky"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(&credential(2).0), "{}", stderr(&out));
    // To a URL instead of a remote name: still blocked.
    let url = format!("file://{}", s.path("remote.git").display());
    assert!(!push(&work, &[&url, "leaky"]).status.success());
    // Deleting a branch sends no commits.
    assert!(push(&work, &["origin", "main"]).status.success());
    assert!(push(&work, &["origin", "--delete", "clean"])
        .status
        .success());
}

#[test]
fn history_the_remote_already_has_and_allowlisted_keys_pass() {
    let s = Scratch::new();
    let work = setup(&s);
    work.write("old.env", &env_file(3));
    work.commit("old leak");
    // Someone pushed it with --no-verify long ago.
    assert!(push(&work, &["--no-verify", "origin", "main"])
        .status
        .success());
    work.write("old.env", &format!("{}# touched\n", env_file(3)));
    work.write("README.md", "docs\n");
    work.commit("edit the file with the old leak");
    let out = push(&work, &["origin", "main"]);
    assert!(
        out.status.success(),
        "an old leak is not re-reported: {}",
        stderr(&out)
    );

    // A config that allowlists a key, in the same push as the key: the
    // push is judged by what the remote already has, so it is blocked.
    work.write("svc.env", &env_file(4));
    work.write(
        ".keysweep.toml",
        &format!("[allow]\nkey_ids = [\"{}\"]\n", credential(4).0),
    );
    work.commit("known test key, and the allowlist that would wave it through");
    let out = push(&work, &["origin", "main"]);
    assert!(!out.status.success(), "a push allowlisted its own key");
    assert!(stderr(&out).contains(&credential(4).0), "{}", stderr(&out));
    // Once the remote has the allowlist (pushed on its own), the key passes.
    // (The key ID in the allowlist is itself marked, or it would be a finding.)
    work.git(&["reset", "-q", "--hard", "HEAD~1"]);
    work.write(
        ".keysweep.toml",
        &format!(
            "[allow]\nkey_ids = [\"{}\"]  # keysweep:allow\n",
            credential(4).0
        ),
    );
    work.commit("allowlist a known test key");
    assert!(push(&work, &["origin", "main"]).status.success());
    work.write("svc.env", &env_file(4));
    work.commit("known test key");
    let out = push(&work, &["origin", "main"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // An explicit --baseline (the operator's own file) still applies.
    work.write("svc2.env", &env_file(5));
    let key = work.commit("another known key");
    let report = s.path("baseline.json");
    let out = std::process::Command::new(KEYSWEEP)
        .args([
            "git",
            "--range",
            "origin/main..HEAD",
            "--format",
            "json",
            "-o",
        ])
        .arg(&report)
        .current_dir(&work.path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let line = format!(
        "refs/heads/main {key} refs/heads/main {}\n",
        work.rev("origin/main")
    );
    let hook = |extra: &[&std::ffi::OsStr]| {
        let mut child = std::process::Command::new(KEYSWEEP)
            .args(["pre-push", "origin", "url"])
            .args(extra)
            .current_dir(&work.path)
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(line.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    assert_eq!(hook(&[]).status.code(), Some(1), "not baselined: blocked");
    let out = hook(&["--baseline".as_ref(), report.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn the_blocked_message_shows_hostile_names_as_text() {
    let s = Scratch::new();
    let work = setup(&s);
    work.write("README.md", "hi\n");
    work.commit("start");
    assert!(push(&work, &["origin", "HEAD:main"]).status.success());
    let names = [
        "esc\u{1b}]0;title\u{7}\u{1b}[2J.env",
        "cr\rfake: all clear.env",
        "nl\nkeysweep: push allowed.env",
        "bidi\u{202e}vne.txt",
        "del\u{7f}\u{9b}31m.env",
    ];
    for (i, name) in names.iter().enumerate() {
        work.write(name, &env_file(80 + i as u64));
    }
    work.commit("leaks");
    let out = push(&work, &["origin", "HEAD:main"]);
    assert!(!out.status.success(), "the push must be blocked");
    let err = stderr(&out);
    for i in 0..names.len() {
        assert!(err.contains(&credential(80 + i as u64).0), "{err}");
    }
    for raw in ['\u{1b}', '\r', '\u{7}', '\u{202e}', '\u{7f}', '\u{9b}'] {
        assert!(
            !err.contains(raw),
            "raw {raw:?} reached the terminal: {err:?}"
        );
    }
    // A newline in a name cannot start a line of its own.
    assert!(
        !err.lines().any(|l| l.starts_with("keysweep: push allowed")),
        "{err}"
    );
}
