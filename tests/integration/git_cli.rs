//! `keysweep git` through the binary: the JSON fields history adds, the text
//! a person reads, ranges, several repositories, and errors.

use crate::gitutil::{credential, env_file, Scratch};
use std::process::Output;

const KEYSWEEP: &str = env!("CARGO_BIN_EXE_keysweep");

fn keysweep(args: &[&str], cwd: &std::path::Path) -> Output {
    std::process::Command::new(KEYSWEEP)
        .args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .output()
        .unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)))
}

#[test]
fn history_findings_carry_provenance_in_json_and_text() {
    let s = Scratch::new();
    let repo = s.init("r", &[]);
    repo.write("README.md", "hi\n");
    repo.commit("start");
    repo.write("config/app.env", &env_file(21));
    let introduced = repo.commit("add config");
    std::fs::remove_file(repo.path.join("config/app.env")).unwrap();
    repo.commit("remove config");
    repo.git(&["tag", "v1", &introduced]);

    let out = keysweep(&["git", ".", "--format", "json"], &repo.path);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    let f = &doc["findings"][0];
    assert_eq!(f["path"], "config/app.env");
    assert_eq!(f["commit"], introduced.as_str());
    assert_eq!(f["author"], "Test Author <author@example.com>");
    assert!(
        f["date"].as_str().unwrap().starts_with("2023-11-15T"),
        "{}",
        f["date"]
    );
    assert_eq!(f["still_at_head"], false);
    assert_eq!(f["refs"], serde_json::json!(["refs/tags/v1"]));
    assert_eq!(f["unreachable"], false);
    assert_eq!(f["access_key_id"]["value"], credential(21).0.as_str());
    assert_eq!(f["access_key_id"]["line"], 3);
    assert!(doc["stats"]["blobs"].as_u64().unwrap() >= 2);
    assert!(doc["stats"]["commits"].as_u64().unwrap() >= 3);

    let out = keysweep(&["git", "."], &repo.path);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&introduced[..12])
            && text.contains("Test Author")
            && text.contains("config/app.env:3:"),
        "{text}"
    );
    assert!(text.contains("not at HEAD"), "{text}");
    assert!(!text.contains(&credential(21).1));
}

#[test]
fn ranges_several_repositories_and_errors() {
    let s = Scratch::new();
    let a = s.init("a", &[]);
    a.write("old.env", &env_file(22));
    a.commit("old leak");
    let base = a.rev("HEAD");
    a.write("new.env", &env_file(23));
    a.commit("new leak");
    let out = keysweep(&["git", "--since", &base, "--format", "json"], &a.path);
    let doc = json(&out);
    let ids: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["access_key_id"]["value"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![credential(23).0.as_str()]);

    let b = s.init("b", &[]);
    b.write("x.env", &env_file(24));
    b.commit("b leak");
    let out = keysweep(
        &["git", "a", "b", "not-a-repo", "--format", "json"],
        &s.path(""),
    );
    let doc = json(&out);
    let repos: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["repo"].as_str().unwrap())
        .collect();
    assert_eq!(repos, vec!["a", "a", "b"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not-a-repo"));
    assert_eq!(doc["stats"]["walk_errors"], 1);

    std::fs::create_dir_all(s.path("plain")).unwrap();
    let out = keysweep(&["git", "plain"], &s.path(""));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a git repository"));
}

#[test]
fn a_shallow_clone_is_named_with_its_boundary_and_still_scanned() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.write("old.env", &env_file(18));
    r.commit("old");
    std::fs::remove_file(r.path.join("old.env")).unwrap();
    r.write("new.env", &env_file(19));
    let tip = r.commit("new");
    let url = format!("file://{}", r.path.display());
    s.git(
        s.dir.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );

    let out = keysweep(&["git", ".", "--format", "json"], &s.path("shallow"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("shallow clone, history is incomplete") && stderr.contains(&tip),
        "the warning names the boundary commit: {stderr}"
    );
    let doc = json(&out);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
    assert_eq!(doc["findings"][0]["commit"], tip.as_str());

    let out = keysweep(&["git", ".", "--format", "json"], &r.path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("shallow"), "a full clone: {stderr}");
}

#[test]
fn an_error_prints_its_hint_on_a_line_of_its_own() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.commit("start");
    let out = keysweep(&["git", ".", "--range", "a...b"], &r.path);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with("error: invalid commit range"),
        "{stderr}"
    );
    assert!(lines[1].starts_with("hint: use BASE..HEAD"), "{stderr}");
    assert!(!stderr.contains("\\n"), "no escaped line break: {stderr}");
}

#[test]
fn a_warning_prints_its_hint_on_a_line_of_its_own() {
    // With several repositories, one that cannot be read is a warning.
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.commit("start");
    let plain = s.path("plain");
    std::fs::create_dir_all(&plain).unwrap();
    let out = keysweep(&["git", ".", plain.to_str().unwrap()], &r.path);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let at = stderr
        .lines()
        .position(|l| l.starts_with("warning: ") && l.contains("not a git repository"))
        .unwrap_or_else(|| panic!("{stderr}"));
    let next = stderr.lines().nth(at + 1).unwrap_or_default();
    assert!(next.starts_with("hint: pass a work tree"), "{stderr}");
    assert!(!stderr.contains("\\nhint"), "{stderr}");
}

/// A commit object written by hand: `tree` and `parent`, committed at
/// `time` (seconds), to give a history a skewed clock.
fn commit_at(repo: &crate::gitutil::Repo<'_>, tree: &str, parent: &str, time: i64) -> String {
    let text = format!(
        "tree {tree}\nparent {parent}\nauthor A <a@example.com> {time} +0000\ncommitter A <a@example.com> {time} +0000\n\nskewed\n"
    );
    let path = repo.path.join(".git/skewed-commit");
    std::fs::write(&path, text).unwrap();
    let id = repo.git(&["hash-object", "-t", "commit", "-w", ".git/skewed-commit"]);
    std::fs::remove_file(path).unwrap();
    id
}

#[test]
fn a_range_names_the_refs_that_descend_from_its_leak_and_still_hold_it() {
    let s = Scratch::new();
    let repo = s.init("r", &[]);
    repo.write("README.md", "hi\n");
    let start = repo.commit("start");
    // The same content committed long before, on a line the range never
    // reaches: a full-history scan's to name, not the range's.
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.write("old/copy.env", &env_file(31));
    repo.commit("an old copy");
    repo.git(&["tag", "old"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.write("config/app.env", &env_file(31));
    let leak = repo.commit("add config");
    repo.git(&["branch", "kept"]);
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("feature.txt", "more\n");
    repo.commit("a feature on top");
    repo.git(&["checkout", "-q", "-b", "fixed", &leak]);
    std::fs::remove_file(repo.path.join("config/app.env")).unwrap();
    repo.commit("remove config");
    // A descendant whose clock ran twelve hours behind: still found.
    let leak_time: i64 = repo
        .git(&["show", "-s", "--format=%ct", &leak])
        .parse()
        .unwrap();
    let tree = repo.rev(&format!("{leak}^{{tree}}"));
    let skewed = commit_at(&repo, &tree, &leak, leak_time - 12 * 3600);
    repo.git(&["update-ref", "refs/heads/skewed", &skewed]);
    // A merge of the leak into a branch that did not have it.
    repo.git(&["checkout", "-q", "-b", "merged", "side"]);
    repo.git(&["merge", "-q", "--no-edit", &leak]);
    repo.git(&["checkout", "-q", "main"]);

    let range = format!("{start}..main");
    for format in ["json", "jsonl"] {
        let args = ["git", ".", "--range", &range, "--format", format];
        let out = keysweep(&args, &repo.path);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let finding: serde_json::Value = if format == "jsonl" {
            serde_json::from_str(stdout.lines().next().unwrap()).unwrap()
        } else {
            json(&out)["findings"][0].clone()
        };
        assert_eq!(finding["path"], "config/app.env");
        assert_eq!(finding["commit"], leak.as_str());
        assert_eq!(
            finding["refs"],
            serde_json::json!([
                "refs/heads/feature",
                "refs/heads/kept",
                "refs/heads/main",
                "refs/heads/merged",
                "refs/heads/skewed"
            ]),
            "{args:?}"
        );
        assert_eq!(finding["still_at_head"], true);
    }
    // A full-history scan names every ref holding the blob, the old copy too.
    let out = keysweep(&["git", ".", "--format", "json"], &repo.path);
    let doc = json(&out);
    let refs: Vec<&serde_json::Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["refs"])
        .collect();
    assert!(
        refs.iter()
            .any(|r| r.as_array().unwrap().iter().any(|n| n == "refs/tags/old")),
        "{refs:?}"
    );
}
