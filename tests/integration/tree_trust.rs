//! `keysweep scan` on a hostile tree (docs/security.md, "The scanned
//! tree"): links never lead out of the scanned roots, and no ignore file in
//! the tree can hide a tracked file.

use crate::gitutil::credential;
use crate::support::*;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

fn scan_json(dir: &Path, extra: &[&str]) -> Run {
    run(keysweep()
        .arg("scan")
        .arg(dir)
        .args(["--format", "json", "--show-secrets"])
        .args(extra))
}

fn pair(seed: u64) -> (String, String, String) {
    let (id, secret) = credential(seed);
    let body = format!("AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}\n");
    (id, secret, body)
}

fn key_ids(r: &Run) -> Vec<String> {
    let mut ids: Vec<String> = r
        .findings()
        .iter()
        .filter_map(|f| f["access_key_id"]["value"].as_str().map(String::from))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn links_never_lead_out_of_the_scanned_tree() {
    let outside = tempfile::tempdir().unwrap();
    let tree = tempfile::tempdir().unwrap();
    let (o, t) = (outside.path(), tree.path());
    // The scanning machine's own secrets, in the places an attacker names.
    let (out_id, out_secret, out_body) = pair(1);
    write(o, "home/.aws/credentials", &out_body);
    write(o, "dir/keys.env", &out_body);
    // What the tree legitimately holds.
    let (in_id, _, in_body) = pair(2);
    write(t, "app/config.env", &in_body);

    symlink(o.join("home/.aws/credentials"), t.join("creds")).unwrap(); // absolute
    std::fs::create_dir_all(t.join("nested/deeper")).unwrap();
    symlink(o.join("dir/keys.env"), t.join("nested/deeper/abs.env")).unwrap();
    symlink("/proc/self/environ", t.join("environ")).unwrap();
    symlink(o.join("dir"), t.join("dir-out")).unwrap(); // a directory outside
                                                        // A chain that starts inside and ends outside.
    symlink(o.join("dir/keys.env"), t.join("hop2")).unwrap();
    symlink("hop2", t.join("hop1")).unwrap();
    // Relative escape with `..`, through the tree's parent.
    let parent_hop = Path::new("..")
        .join(o.file_name().unwrap())
        .join("dir/keys.env");
    if o.parent() == t.parent() {
        symlink(&parent_hop, t.join("dotdot.env")).unwrap();
    }
    // Links that stay inside are followed: absolute, relative, via `..`.
    symlink(t.join("app/config.env"), t.join("inside-abs.env")).unwrap();
    symlink("../app/config.env", t.join("nested/inside-rel.env")).unwrap();

    let r = run(keysweep()
        .arg("scan")
        .arg(t)
        .args(["--format", "json", "--show-secrets"])
        .env("AWS_ACCESS_KEY_ID", &out_id)
        .env("AWS_SECRET_ACCESS_KEY", &out_secret));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(key_ids(&r), vec![in_id.clone()], "{}", r.stdout);
    assert!(!r.stdout.contains(&out_secret) && !r.stderr.contains(&out_secret));
    let mut found = paths(&r.findings());
    found.dedup();
    assert_eq!(
        found,
        vec!["app/config.env", "inside-abs.env", "nested/inside-rel.env"]
    );
    // creds, environ, dir-out, hop1, hop2, abs.env (and dotdot.env).
    let outside_links = if o.parent() == t.parent() { 7 } else { 6 };
    assert_eq!(
        r.json()["stats"]["skipped_links_outside"],
        outside_links,
        "{}",
        r.stderr
    );
    for name in [
        "creds",
        "environ",
        "dir-out",
        "hop1",
        "nested/deeper/abs.env",
    ] {
        assert!(
            r.stderr
                .contains(&format!("{name}: symbolic link out of the scanned tree")),
            "{name} not named: {}",
            r.stderr
        );
    }
    // The text summary says links were not followed.
    let text = run(keysweep().arg("scan").arg(t));
    assert!(
        text.stderr.contains("out of the scanned tree not followed"),
        "{}",
        text.stderr
    );

    // Scanning both trees makes the outside one a root: its links are in.
    let both = run(keysweep()
        .arg("scan")
        .args([t, o])
        .args(["--format", "json"]));
    assert_eq!(key_ids(&both), {
        let mut v = vec![in_id.clone(), out_id.clone()];
        v.sort();
        v
    });
    // A link named on the command line is read as given.
    let given = scan_json(&t.join("creds"), &[]);
    assert_eq!(key_ids(&given), vec![out_id]);
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn no_ignore_file_in_the_tree_hides_a_tracked_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q"]);
    let (tracked_id, _, tracked) = pair(10);
    let (forced_id, _, forced) = pair(11);
    let (deep_id, _, deep) = pair(12);
    let (untracked_id, _, untracked) = pair(13);
    let (build_id, _, build) = pair(14);
    write(d, "src/app.env", &tracked);
    write(d, "secrets/prod.env", &forced);
    write(d, "vendor/lib/deep.env", &deep);
    // Hostile ignore files: git never reads `.ignore`/`.rgignore`, and a
    // `.gitignore` cannot un-track what was force-added.
    write(d, ".ignore", "*\n");
    write(d, ".rgignore", "*\n");
    write(d, "src/.ignore", "*.env\n");
    write(d, ".gitignore", "secrets/\n*.env\nbuild/\nlocal.env\n");
    git(
        d,
        &["add", ".ignore", ".rgignore", "src/.ignore", ".gitignore"],
    );
    git(
        d,
        &[
            "add",
            "-f",
            "src/app.env",
            "secrets/prod.env",
            "vendor/lib/deep.env",
        ],
    );
    git(d, &["commit", "-qm", "start"]);
    // Untracked and ignored: skipped (and counted), unless --no-ignore.
    write(d, "local.env", &untracked);
    write(d, "build/out/gen.env", &build);
    write(d, "build/out/more.env", &build);

    let r = scan_json(d, &[]);
    let mut want = vec![tracked_id.clone(), forced_id.clone(), deep_id.clone()];
    want.sort();
    assert_eq!(key_ids(&r), want, "{}", r.stderr);
    // `local.env` and the whole `build/` directory.
    assert_eq!(r.json()["stats"]["skipped_ignored"], 2);
    let text = run(keysweep().arg("scan").arg(d));
    assert!(text.stderr.contains("2 ignored by git"), "{}", text.stderr);

    let all = scan_json(d, &["--no-ignore"]);
    let mut want_all = vec![
        tracked_id,
        forced_id,
        deep_id.clone(),
        untracked_id,
        build_id,
    ];
    want_all.sort();
    assert_eq!(key_ids(&all), want_all);
    assert_eq!(all.json()["stats"]["skipped_ignored"], 0);

    // A subdirectory of the work tree as the root: the same rules.
    let sub = scan_json(&d.join("vendor"), &[]);
    assert_eq!(key_ids(&sub), vec![deep_id]);

    // A GIT_DIR in keysweep's environment points git elsewhere: ignored.
    let other = tempfile::tempdir().unwrap();
    git(other.path(), &["init", "-q"]);
    write(other.path(), ".git/info/exclude", "*\n");
    let r2 = run(keysweep()
        .arg("scan")
        .arg(d)
        .args(["--format", "json"])
        .env("GIT_DIR", other.path().join(".git")));
    assert_eq!(key_ids(&r2), want, "{}", r2.stderr);
}

#[test]
fn outside_a_git_work_tree_no_ignore_rules_apply() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (a, _, body_a) = pair(20);
    let (b, _, body_b) = pair(21);
    // An unpacked archive or a copied tree carrying ignore files.
    write(d, ".gitignore", "*\n");
    write(d, ".ignore", "*\n");
    write(d, "build/.gitignore", "*\n");
    write(d, "one.env", &body_a);
    write(d, "build/two.env", &body_b);
    let r = scan_json(d, &[]);
    let mut want = vec![a, b];
    want.sort();
    assert_eq!(key_ids(&r), want, "{}", r.stderr);
    assert_eq!(r.json()["stats"]["skipped_ignored"], 0);
}
