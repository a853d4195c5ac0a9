//! Scanning a repository never runs code from it: no hooks, no
//! `core.fsmonitor`, no filter or diff drivers from `.gitattributes`, no
//! submodule fetches. The repository here booby-traps every one of them;
//! each trap would create a marker file.

use crate::gitutil::{credential, env_file, Scratch};
use std::path::Path;

const KEYSWEEP: &str = env!("CARGO_BIN_EXE_keysweep");

/// Arms the traps after the history is written (git itself would spring
/// them while committing).
fn arm_traps(repo: &Path, marker: &Path) {
    let touch = format!("sh -c 'echo sprung >> {}'", marker.display());
    let config = format!(
        "[core]\n\tfsmonitor = {touch}\n\thooksPath = evil-hooks\n\tpager = {touch}\n\
         [filter \"evil\"]\n\tclean = {touch}\n\tsmudge = {touch}\n\tprocess = {touch}\n\trequired = true\n\
         [diff \"evil\"]\n\ttextconv = {touch}\n\tcommand = {touch}\n\
         [submodule \"sub\"]\n\turl = file:///nonexistent/evil\n"
    );
    let git_config = repo.join(".git/config");
    let mut text = std::fs::read_to_string(&git_config).unwrap();
    text.push_str(&config);
    std::fs::write(&git_config, text).unwrap();
    std::fs::write(repo.join(".gitattributes"), "* filter=evil diff=evil\n").unwrap();
    std::fs::write(
        repo.join(".gitmodules"),
        "[submodule \"sub\"]\n\tpath = sub\n\turl = file:///nonexistent/evil\n",
    )
    .unwrap();
    let hooks = repo.join("evil-hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    for hook in [
        "pre-push",
        "post-checkout",
        "post-merge",
        "reference-transaction",
        "pre-auto-gc",
        "post-index-change",
        "fsmonitor-watchman",
    ] {
        let p = hooks.join(hook);
        std::fs::write(&p, format!("#!/bin/sh\n{touch}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::copy(&p, repo.join(".git/hooks").join(hook)).unwrap();
    }
}

#[test]
fn no_command_from_the_scanned_repository_runs() {
    let s = Scratch::new();
    let repo = s.init("r", &[]);
    repo.write("README.md", "hi\n");
    let base = repo.commit("start");
    repo.write("app.env", &env_file(41));
    let head = repo.commit("leak");
    let marker = s.path("SPRUNG");
    arm_traps(&repo.path, &marker);

    let event = s.path("event.json");
    std::fs::write(
        &event,
        format!("{{\"ref\":\"refs/heads/main\",\"before\":\"{base}\",\"after\":\"{head}\"}}"),
    )
    .unwrap();
    let runs: [&[&str]; 4] = [
        &["git", ".", "--format", "json"],
        &["git", ".", "--range", "HEAD~1..HEAD", "--format", "json"],
        &["scan", ".", "--format", "json"],
        &["ci", "--format", "json"],
    ];
    for args in runs {
        let out = std::process::Command::new(KEYSWEEP)
            .args(args)
            .current_dir(&repo.path)
            .env("GITHUB_EVENT_NAME", "push")
            .env("GITHUB_EVENT_PATH", &event)
            .env("HOME", s.path(""))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(&credential(41).0),
            "{args:?} finds the key: {stdout}"
        );
        assert!(
            !marker.exists(),
            "{args:?} ran a command from the scanned repository"
        );
    }
}
