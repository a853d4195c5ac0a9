//! Git history scans against real repositories built with the git CLI.

use crate::gitutil::{credential, env_file, Scratch};
use keysweep::blob::ReadLimits;
use keysweep::detect::Detector;
use keysweep::diag::Diagnostics;
use keysweep::finding::Finding;
use keysweep::source::git::{scan_commits, scan_history, scan_range, GitError, HistoryOptions};
use keysweep::source::SourceScan;
use std::path::Path;

fn opts() -> HistoryOptions {
    HistoryOptions {
        reachable_only: false,
        threads: 2,
        limits: ReadLimits {
            max_file_size: 1 << 20,
            ..ReadLimits::default()
        },
        list_refs: true,
    }
}

fn history(repo: &Path) -> SourceScan {
    scan_history(repo, &Detector::new(), &opts(), &Diagnostics::silent()).expect("history scan")
}

fn range(repo: &Path, spec: &str) -> SourceScan {
    scan_range(
        repo,
        spec,
        &Detector::new(),
        &opts(),
        &Diagnostics::silent(),
    )
    .expect("range scan")
}

fn key_id(f: &Finding) -> &str {
    f.credential
        .access_key_id
        .as_ref()
        .map(|p| p.value.as_str())
        .expect("finding has a key ID")
}

fn only(scan: &SourceScan, seed: u64) -> &Finding {
    let id = credential(seed).0;
    let hits: Vec<&Finding> = scan.findings.iter().filter(|f| key_id(f) == id).collect();
    assert_eq!(
        hits.len(),
        1,
        "exactly one finding for credential {seed}: {:#?}",
        scan.findings
    );
    hits[0]
}

fn commit_of(f: &Finding) -> Option<&str> {
    f.commit().map(|c| c.id.as_str())
}

#[test]
fn deleted_key_is_found_and_attributed_to_the_commit_that_added_it() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.write("README.md", "hello\n");
    r.commit("readme");
    r.write("config/.env", &env_file(1));
    let added = r.commit("add config");
    let blob = r.rev("HEAD:config/.env");
    std::fs::remove_file(r.path.join("config/.env")).expect("rm");
    r.commit("remove config");

    let scan = history(&r.path);
    assert_eq!(scan.findings.len(), 1, "{:#?}", scan.findings);
    let f = only(&scan, 1);
    let (_, secret) = credential(1);
    assert_eq!(
        f.credential
            .secret_access_key
            .as_ref()
            .map(|p| p.value.expose()),
        Some(secret.as_str())
    );
    assert_eq!(f.location.path.as_str(), "config/.env");
    assert_eq!(f.blob().map(|b| b.id.as_str()), Some(blob.as_str()));
    let p = f.blob().expect("provenance");
    assert_eq!(
        p.commit.as_ref().map(|c| c.id.as_str()),
        Some(added.as_str())
    );
    assert_eq!(
        p.commit.as_ref().and_then(|c| c.author.as_deref()),
        Some("Test Author <author@example.com>")
    );
    let date = p
        .commit
        .as_ref()
        .and_then(|c| c.date.as_deref())
        .expect("author date");
    assert!(
        date.starts_with("2023-11-") && date.ends_with("+02:00"),
        "RFC 3339 with offset: {date}"
    );
    assert!(!p.still_at_head);
    assert!(
        p.refs.names().is_empty(),
        "no ref tip holds it any more: {:?}",
        p.refs.names()
    );
    assert!(!p.unreachable);
    assert!(f.location.repo.is_none() && f.verdict.is_none());
    assert_eq!(scan.stats.blobs, r.blob_count());
    assert_eq!(scan.stats.commits, 3);
    assert!(scan.stats.bytes > 0);
}

#[test]
fn key_only_on_a_non_default_branch_names_that_branch() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.write("a.txt", "a\n");
    r.commit("base");
    r.git(&["checkout", "-q", "-b", "feature/creds"]);
    r.write("deploy/.env", &env_file(2));
    let c = r.commit("creds on a branch");
    r.git(&["checkout", "-q", "main"]);

    let scan = history(&r.path);
    let f = only(&scan, 2);
    let p = f.blob().expect("provenance");
    assert_eq!(p.commit.as_ref().map(|c| c.id.as_str()), Some(c.as_str()));
    assert_eq!(p.refs.names(), vec!["refs/heads/feature/creds".to_string()]);
    assert!(!p.still_at_head);
}

#[test]
fn key_only_in_an_annotated_tag() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.write("a.txt", "a\n");
    r.commit("base");
    r.git(&["checkout", "-q", "-b", "release"]);
    r.write("release.env", &env_file(3));
    let c = r.commit("release with creds");
    r.git(&["tag", "-a", "v1", "-m", "v1"]);
    r.git(&["checkout", "-q", "main"]);
    r.git(&["branch", "-q", "-D", "release"]);

    let scan = history(&r.path);
    let p = only(&scan, 3).blob().cloned().expect("provenance");
    assert_eq!(p.commit.as_ref().map(|c| c.id.as_str()), Some(c.as_str()));
    assert_eq!(p.refs.names(), vec!["refs/tags/v1".to_string()]);
    assert!(!p.unreachable);
}

/// Builds main and a side branch that both edit `settings.env`, and a merge
/// whose conflict resolution adds credential 4: content that exists only in
/// the merge result. Returns (commit before the merge, merge commit).
fn conflict_merge_with_key(s: &Scratch) -> (String, String) {
    let r = s.init("repo", &[]);
    r.write("settings.env", "MODE=base\n");
    r.commit("base");
    r.git(&["checkout", "-q", "-b", "side"]);
    r.write("settings.env", "MODE=side\n");
    r.commit("side");
    r.git(&["checkout", "-q", "main"]);
    r.write("settings.env", "MODE=main\n");
    let before = r.commit("main");
    let out = s.git_output(&r.path, &["merge", "-q", "side"]);
    assert!(
        !out.status.success(),
        "the merge must conflict for this test to mean anything"
    );
    r.write("settings.env", &format!("MODE=merged\n{}", env_file(4)));
    r.git(&["add", "settings.env"]);
    r.git(&["commit", "-q", "--no-edit"]);
    let merge = r.rev("HEAD");
    assert_eq!(
        r.git(&["rev-list", "--parents", "-n1", "HEAD"])
            .split(' ')
            .count(),
        3,
        "a real merge"
    );
    (before, merge)
}

#[test]
fn content_that_exists_only_in_a_merge_is_attributed_to_the_merge() {
    let s = Scratch::new();
    let (_, merge) = conflict_merge_with_key(&s);
    let scan = history(&s.path("repo"));
    let f = only(&scan, 4);
    assert_eq!(f.location.path.as_str(), "settings.env");
    assert_eq!(commit_of(f), Some(merge.as_str()));
    assert!(f.blob().is_some_and(|p| p.still_at_head));
}

#[test]
fn a_renamed_file_keeps_its_first_commit_and_path() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.write("old/dir/.env", &env_file(5));
    let first = r.commit("add");
    r.git(&["mv", "old", "new"]);
    r.commit("rename");
    r.write("unrelated.txt", "x\n");
    r.commit("later");

    let scan = history(&r.path);
    let f = only(&scan, 5);
    assert_eq!(f.location.path.as_str(), "old/dir/.env");
    assert_eq!(commit_of(f), Some(first.as_str()));
    let p = f.blob().expect("provenance");
    assert!(
        p.still_at_head,
        "the same blob is still at HEAD under its new name"
    );
    assert_eq!(p.refs.names(), vec!["refs/heads/main".to_string()]);
}

#[test]
fn a_blob_shared_by_many_commits_and_paths_is_scanned_once() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.write("keys/.env", &env_file(6));
    let first = r.commit("add");
    for i in 0..15 {
        r.write("counter.txt", &format!("{i}\n"));
        if i == 5 {
            r.write("copy/.env", &env_file(6));
        }
        r.commit(&format!("tick {i}"));
    }
    r.git(&["checkout", "-q", "-b", "other"]);
    r.write("counter.txt", "other\n");
    r.commit("other");

    let scan = history(&r.path);
    let f = only(&scan, 6);
    assert_eq!(commit_of(f), Some(first.as_str()));
    assert_eq!(f.location.path.as_str(), "keys/.env");
    // 1 key blob + 17 distinct counter.txt contents; every one read once.
    assert_eq!(r.blob_count(), 17);
    assert_eq!(
        scan.stats.blobs, 17,
        "each unique blob scanned exactly once"
    );
    assert_eq!(scan.stats.commits, 17);
    let p = f.blob().expect("provenance");
    assert_eq!(
        p.refs.names(),
        vec![
            "refs/heads/main".to_string(),
            "refs/heads/other".to_string()
        ]
    );
}

#[test]
fn a_dangling_blob_is_found_unreachable_and_dropped_with_reachable_only() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.write("a.txt", "a\n");
    r.commit("base");
    r.write("oops.env", &env_file(7));
    r.git(&["add", "oops.env"]);
    let blob = r.git(&["rev-parse", ":oops.env"]);
    r.git(&["reset", "-q", "--hard"]);
    assert!(!r.path.join("oops.env").exists());

    let scan = history(&r.path);
    let f = only(&scan, 7);
    let p = f.blob().expect("provenance");
    assert!(p.unreachable);
    assert!(p.commit.is_none());
    assert!(!p.still_at_head && p.refs.names().is_empty());
    assert_eq!(f.blob().map(|b| b.id.as_str()), Some(blob.as_str()));

    let reachable = HistoryOptions {
        reachable_only: true,
        ..opts()
    };
    let scan = scan_history(
        &r.path,
        &Detector::new(),
        &reachable,
        &Diagnostics::silent(),
    )
    .expect("scan");
    assert!(scan.findings.is_empty(), "{:#?}", scan.findings);
    assert_eq!(
        scan.stats.blobs, 2,
        "the dangling blob is still read and counted"
    );
}

#[test]
fn a_commit_dropped_by_reset_still_names_its_commit_and_path() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.write("a.txt", "a\n");
    r.commit("base");
    r.write("secrets/prod.env", &env_file(24));
    let dropped = r.commit("oops");
    r.git(&["reset", "-q", "--hard", "HEAD~1"]);
    // Forget the reflog too: the commit is now dangling, like history
    // rewritten by a force push.
    r.git(&["reflog", "expire", "--expire=now", "--all"]);
    assert!(r.git(&["branch", "--contains", &dropped]).is_empty());

    let scan = history(&r.path);
    let f = only(&scan, 24);
    assert_eq!(f.location.path.as_str(), "secrets/prod.env");
    let p = f.blob().expect("provenance");
    assert_eq!(
        p.commit.as_ref().map(|c| c.id.as_str()),
        Some(dropped.as_str())
    );
    assert!(p.unreachable && !p.still_at_head && p.refs.names().is_empty());
    assert_eq!(scan.stats.commits, 2, "both commit objects were read");

    let reachable = HistoryOptions {
        reachable_only: true,
        ..opts()
    };
    let scan = scan_history(
        &r.path,
        &Detector::new(),
        &reachable,
        &Diagnostics::silent(),
    )
    .expect("scan");
    assert!(scan.findings.is_empty(), "{:#?}", scan.findings);
}

#[test]
fn a_bare_clone_and_a_path_inside_a_work_tree_both_work() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.write("src/app/.env", &env_file(8));
    let c = r.commit("add");
    s.git(s.dir.path(), &["clone", "-q", "--bare", "repo", "bare.git"]);

    let scan = history(&s.path("bare.git"));
    let f = only(&scan, 8);
    assert_eq!(commit_of(f), Some(c.as_str()));
    assert_eq!(f.location.path.as_str(), "src/app/.env");

    let inside = history(&r.path.join("src/app"));
    assert_eq!(commit_of(only(&inside, 8)), Some(c.as_str()));
}

#[test]
fn packed_loose_and_duplicated_objects_are_each_scanned_once() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.write("one.env", &env_file(9));
    let c1 = r.commit("one");
    let blob = r.rev("HEAD:one.env");
    let loose = r
        .path
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    let saved = std::fs::read(&loose).expect("the blob starts loose");
    r.git(&["gc", "-q", "--prune=now"]);
    assert!(!loose.exists(), "gc packed it");
    // Put the same object back as a loose file too: packed + loose.
    std::fs::create_dir_all(loose.parent().expect("fan-out dir")).expect("mkdir");
    std::fs::write(&loose, saved).expect("restore loose copy");
    r.write("two.txt", "two\n");
    r.commit("two");
    // A second pack holding everything again (old pack kept): duplicates
    // across packs.
    r.git(&["repack", "-q", "-a"]);
    r.write("three.env", &env_file(10));
    let c3 = r.commit("three, loose");
    let packs = std::fs::read_dir(r.path.join(".git/objects/pack"))
        .expect("pack dir")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "idx"))
        })
        .count();
    assert!(
        packs >= 2,
        "two packs with overlapping objects, got {packs}"
    );
    assert!(loose.exists());

    let scan = history(&r.path);
    assert_eq!(scan.findings.len(), 2, "{:#?}", scan.findings);
    assert_eq!(commit_of(only(&scan, 9)), Some(c1.as_str()));
    assert_eq!(commit_of(only(&scan, 10)), Some(c3.as_str()));
    assert_eq!(scan.stats.blobs, r.blob_count(), "no blob scanned twice");
    assert_eq!(scan.stats.blobs, 3);
}

#[test]
fn a_corrupt_loose_object_is_counted_and_the_scan_goes_on() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.write("good.env", &env_file(11));
    r.write("victim.txt", "to be corrupted\n");
    r.commit("two files");
    let victim = r.rev("HEAD:victim.txt");
    let file = r
        .path
        .join(".git/objects")
        .join(&victim[..2])
        .join(&victim[2..]);
    let mut perms = std::fs::metadata(&file).expect("stat").permissions();
    #[expect(
        clippy::permissions_set_readonly_false,
        reason = "the test owns the file and must overwrite it"
    )]
    perms.set_readonly(false);
    std::fs::set_permissions(&file, perms).expect("chmod");
    std::fs::write(&file, b"this is not zlib data").expect("corrupt it");

    let scan = history(&r.path);
    assert_eq!(scan.stats.corrupt_objects, 1);
    assert_eq!(scan.findings.len(), 1);
    only(&scan, 11);
}

#[test]
fn range_reports_a_new_leak_but_not_an_old_one_in_an_edited_file() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.write(".env", &env_file(12));
    let c1 = r.commit("old leak");
    r.git(&["tag", "base"]);
    r.write(".env", &format!("{}DEBUG=1\n", env_file(12)));
    r.commit("edit the file that holds the old leak");
    r.write("svc/prod.env", &env_file(13));
    let c3 = r.commit("new leak");
    r.write(".env", &env_file(14));
    let c4 = r.commit("replace the old key with a new one");

    for spec in ["base..HEAD", "base", "base..main"] {
        let scan = range(&r.path, spec);
        let ids: Vec<&str> = scan.findings.iter().map(key_id).collect();
        assert_eq!(scan.findings.len(), 2, "{spec}: {ids:?}");
        assert_eq!(commit_of(only(&scan, 13)), Some(c3.as_str()), "{spec}");
        assert_eq!(only(&scan, 13).location.path.as_str(), "svc/prod.env");
        assert_eq!(commit_of(only(&scan, 14)), Some(c4.as_str()), "{spec}");
        assert_eq!(scan.stats.commits, 3, "{spec}");
    }

    // The whole history as a range: the old leak belongs to its first commit.
    let all = scan_commits(
        &r.path,
        &["HEAD".into()],
        &[],
        &Detector::new(),
        &opts(),
        &Diagnostics::silent(),
    )
    .expect("scan");
    assert_eq!(all.findings.len(), 3);
    let old = only(&all, 12);
    assert_eq!(commit_of(old), Some(c1.as_str()));
    assert!(
        !old.blob().is_some_and(|p| p.still_at_head),
        "replaced in c4"
    );
    assert!(only(&all, 13).blob().is_some_and(|p| p.still_at_head));
}

#[test]
fn range_places_findings_at_head_and_names_refs_only_when_asked() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.write("README", "hello\n");
    r.commit("base");
    r.git(&["tag", "base"]);
    r.write("a/stays.env", &env_file(21));
    r.write("b/moves.env", &env_file(22));
    r.write("c/goes.env", &env_file(23));
    r.commit("three leaks");
    r.git(&["branch", "side"]);
    r.git(&["mv", "b/moves.env", "moved.env"]);
    r.git(&["rm", "-q", "c/goes.env"]);
    r.commit("move one, delete one");

    let scan_with = |list_refs: bool| {
        let opts = HistoryOptions {
            list_refs,
            ..opts()
        };
        scan_range(
            &r.path,
            "base..HEAD",
            &Detector::new(),
            &opts,
            &Diagnostics::silent(),
        )
        .expect("range scan")
    };
    let place = |scan: &SourceScan, seed: u64| {
        let b = only(scan, seed).blob().expect("a blob finding");
        (b.still_at_head, b.refs.names().to_vec())
    };
    let refs = |names: &[&str]| -> Vec<String> { names.iter().map(|n| n.to_string()).collect() };

    // Without refs: HEAD still holds the kept and the moved blob, not the
    // deleted one, and no ref tree is read.
    let quick = scan_with(false);
    assert_eq!(quick.findings.len(), 3);
    assert_eq!(place(&quick, 21), (true, vec![]));
    assert_eq!(place(&quick, 22), (true, vec![]));
    assert_eq!(place(&quick, 23), (false, vec![]));

    // With refs: the same answer about HEAD, and the branches holding each.
    let full = scan_with(true);
    assert_eq!(
        place(&full, 21),
        (true, refs(&["refs/heads/main", "refs/heads/side"]))
    );
    assert_eq!(
        place(&full, 22),
        (true, refs(&["refs/heads/main", "refs/heads/side"]))
    );
    assert_eq!(place(&full, 23), (false, refs(&["refs/heads/side"])));
}

#[test]
fn range_includes_merges_without_reporting_merged_content_twice() {
    let s = Scratch::new();
    let (before, merge) = conflict_merge_with_key(&s);
    let r = s.repo("repo");
    let scan = range(&r.path, &format!("{before}..HEAD"));
    assert_eq!(commit_of(only(&scan, 4)), Some(merge.as_str()));
    assert_eq!(scan.findings.len(), 1);

    // A clean merge of a branch whose own commit added a key: the key is
    // reported once, for the branch commit, not again for the merge.
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("feature/.env", &env_file(15));
    let feature = r.commit("feature creds");
    r.git(&["checkout", "-q", "main"]);
    let tip = r.rev("HEAD");
    r.git(&["merge", "-q", "--no-ff", "-m", "merge feature", "feature"]);
    let scan = range(&r.path, &format!("{tip}..main"));
    assert_eq!(scan.findings.len(), 1, "{:#?}", scan.findings);
    assert_eq!(commit_of(only(&scan, 15)), Some(feature.as_str()));
    assert_eq!(scan.stats.commits, 2, "the feature commit and the merge");

    // Pushing the merge of an already-pushed branch: the merge itself adds
    // nothing new, so nothing is reported again.
    let scan = range(&r.path, &format!("{feature}..main"));
    assert_eq!(scan.stats.commits, 1, "only the merge commit");
    assert!(scan.findings.is_empty(), "{:#?}", scan.findings);
}

#[test]
fn scan_commits_excludes_what_the_remote_has() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.write("a.env", &env_file(16));
    let pushed = r.commit("already pushed");
    r.write("b.env", &env_file(17));
    let local = r.commit("not yet pushed");
    let zero = "0".repeat(40);
    let scan = scan_commits(
        &r.path,
        std::slice::from_ref(&local),
        &[pushed.clone(), zero],
        &Detector::new(),
        &opts(),
        &Diagnostics::silent(),
    )
    .expect("scan");
    assert_eq!(scan.findings.len(), 1);
    assert_eq!(commit_of(only(&scan, 17)), Some(local.as_str()));
}

#[test]
fn a_shallow_clone_still_scans_what_it_has() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.write("old.env", &env_file(18));
    r.commit("old");
    std::fs::remove_file(r.path.join("old.env")).expect("rm");
    r.write("new.env", &env_file(19));
    let tip = r.commit("new");
    let url = format!("file://{}", r.path.display());
    s.git(
        s.dir.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );

    let shallow = s.path("shallow");
    let scan = history(&shallow);
    assert_eq!(
        scan.findings.len(),
        1,
        "the old key was never fetched: {:#?}",
        scan.findings
    );
    assert_eq!(commit_of(only(&scan, 19)), Some(tip.as_str()));
}

#[test]
fn not_a_repository_and_bad_revisions_are_errors() {
    let s = Scratch::new();
    let plain = s.path("plain");
    std::fs::create_dir_all(&plain).expect("mkdir");
    let err = scan_history(&plain, &Detector::new(), &opts(), &Diagnostics::silent())
        .expect_err("not a repo");
    assert!(matches!(err, GitError::NotARepository { .. }), "{err:?}");
    assert!(err.to_string().contains("plain"), "names the path: {err}");

    let r = s.init("repo", &[]);
    r.commit("empty");
    let err = scan_range(
        &r.path,
        "no-such-branch..HEAD",
        &Detector::new(),
        &opts(),
        &Diagnostics::silent(),
    )
    .expect_err("unknown rev");
    assert!(
        matches!(&err, GitError::Revision { rev, .. } if rev == "no-such-branch"),
        "{err:?}"
    );
    let err = scan_range(
        &r.path,
        "a...b",
        &Detector::new(),
        &opts(),
        &Diagnostics::silent(),
    )
    .expect_err("symmetric");
    assert!(matches!(err, GitError::InvalidRange { .. }), "{err:?}");
}

#[test]
fn sha256_repositories_are_scanned() {
    let s = Scratch::new();
    let r = s.init("repo", &["--object-format=sha256"]);
    r.write("x.env", &env_file(20));
    let c = r.commit("sha256");
    r.git(&["gc", "-q"]);
    r.write("y.env", &env_file(21));
    r.commit("loose");
    assert_eq!(c.len(), 64);

    let scan = history(&r.path);
    let f = only(&scan, 20);
    assert_eq!(commit_of(f), Some(c.as_str()));
    assert_eq!(f.blob().map(|b| b.id.len()), Some(64));
    only(&scan, 21);
    assert_eq!(scan.stats.blobs, r.blob_count());
}

#[test]
fn oversized_blobs_and_inline_allows_are_counted_not_reported() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    let big = format!("{}{}", env_file(22), "x".repeat(4096));
    r.write("big.env", &big);
    r.write("small.env", &env_file(23));
    r.commit("two");
    let (id, secret) = credential(25);
    r.write(
        "allowed.env",
        &format!("AWS_ACCESS_KEY_ID={id} # keysweep:allow\nAWS_SECRET_ACCESS_KEY={secret}\n"),
    );
    r.commit("an allowed test key");
    let small = HistoryOptions {
        limits: ReadLimits {
            max_file_size: 1024,
            ..ReadLimits::default()
        },
        ..opts()
    };
    let scan =
        scan_history(&r.path, &Detector::new(), &small, &Diagnostics::silent()).expect("scan");
    assert_eq!(scan.stats.skipped_too_large, 1);
    assert_eq!(scan.stats.blobs, 2);
    assert_eq!(scan.stats.suppressed, 1, "the inline allow is counted");
    assert_eq!(scan.findings.len(), 1);
    only(&scan, 23);
}

#[test]
fn range_diffs_follow_git_tree_order_and_type_changes() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    // Names that sort differently as trees and as files: a.txt < a/ < a0.
    r.write("a.txt", "x\n");
    r.write("a/keep.txt", "keep\n");
    r.write("a0", "y\n");
    r.write("cfg", "a plain file\n");
    r.commit("base");
    let base = r.rev("HEAD");
    r.write("a/creds.env", &env_file(26));
    std::fs::remove_file(r.path.join("cfg")).expect("rm");
    r.write("cfg/prod.env", &env_file(27));
    r.write("a0", "changed, no key\n");
    let c = r.commit("a file becomes a directory, a key under a/");

    let scan = range(&r.path, &format!("{base}..HEAD"));
    assert_eq!(scan.findings.len(), 2, "{:#?}", scan.findings);
    assert_eq!(only(&scan, 26).location.path.as_str(), "a/creds.env");
    assert_eq!(only(&scan, 27).location.path.as_str(), "cfg/prod.env");
    assert_eq!(commit_of(only(&scan, 27)), Some(c.as_str()));
    // Exactly the three new or changed blobs were read.
    assert_eq!(scan.stats.blobs, 3);
}

#[test]
fn a_linked_worktree_scans_the_shared_history_with_its_own_head() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.write("a.txt", "a\n");
    r.commit("base");
    r.git(&["worktree", "add", "-q", "-b", "other", "../linked"]);
    let linked = s.repo("linked");
    linked.write("linked.env", &env_file(28));
    let c = linked.commit("key in the linked worktree");

    for path in [&r.path, &linked.path] {
        let scan = history(path);
        assert_eq!(
            commit_of(only(&scan, 28)),
            Some(c.as_str()),
            "{}",
            path.display()
        );
    }
    let from_linked = history(&linked.path);
    assert!(only(&from_linked, 28)
        .blob()
        .is_some_and(|p| p.still_at_head));
    let from_main = history(&r.path);
    assert!(!only(&from_main, 28).blob().is_some_and(|p| p.still_at_head));

    let scan = range(&linked.path, "main..HEAD");
    assert_eq!(commit_of(only(&scan, 28)), Some(c.as_str()));
}

/// A repository with a key and another file, packed, where the pack entry
/// of `damage` ("blob" for the other file, "tree" for the root tree) has a
/// reserved type in its header, so it cannot be decoded.
fn damaged_pack(s: &Scratch, damage: &str) -> std::path::PathBuf {
    let r = s.init("repo", &[]);
    r.write("good.env", &env_file(29));
    r.write("victim.txt", "some other file\n");
    r.commit("two files");
    r.git(&["gc", "-q", "--prune=now"]);
    let victim = match damage {
        "blob" => r.rev("HEAD:victim.txt"),
        _ => r.rev("HEAD^{tree}"),
    };
    let idx = std::fs::read_dir(r.path.join(".git/objects/pack"))
        .expect("pack dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .expect("one pack");
    // `git show-index` lists "offset id (crc)" for each entry.
    let out = std::process::Command::new("git")
        .arg("show-index")
        .stdin(std::fs::File::open(&idx).expect("open idx"))
        .output()
        .expect("git show-index");
    let offset: usize = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.contains(&victim))
        .and_then(|l| l.split(' ').next())
        .and_then(|o| o.parse().ok())
        .expect("the object is in the pack");
    let pack = idx.with_extension("pack");
    let mut bytes = std::fs::read(&pack).expect("read pack");
    bytes[offset] = (bytes[offset] & 0x8f) | (5 << 4);
    let mut perms = std::fs::metadata(&pack).expect("stat").permissions();
    #[expect(
        clippy::permissions_set_readonly_false,
        reason = "the test owns the file and must overwrite it"
    )]
    perms.set_readonly(false);
    std::fs::set_permissions(&pack, perms).expect("chmod");
    std::fs::write(&pack, bytes).expect("write damaged pack");
    r.path.clone()
}

#[test]
fn a_damaged_pack_entry_is_counted_and_the_rest_of_the_pack_is_scanned() {
    let s = Scratch::new();
    let scan = history(&damaged_pack(&s, "blob"));
    assert_eq!(scan.stats.corrupt_objects, 1, "{:?}", scan.stats);
    assert_eq!(scan.stats.blobs, 1, "the damaged blob is not scanned");
    assert_eq!(scan.findings.len(), 1);
    assert_eq!(only(&scan, 29).location.path.as_str(), "good.env");
}

#[test]
fn a_damaged_tree_is_counted_once_and_its_blobs_still_reported() {
    let s = Scratch::new();
    let scan = history(&damaged_pack(&s, "tree"));
    assert_eq!(scan.stats.corrupt_objects, 1, "{:?}", scan.stats);
    assert_eq!(scan.stats.blobs, 2);
    // No path can be given without the tree: the blob id stands in.
    let f = only(&scan, 29);
    assert_eq!(
        Some(f.location.path.as_str()),
        f.blob().map(|b| b.id.as_str())
    );
}

#[test]
fn objects_borrowed_through_alternates_are_scanned() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.write("shared.env", &env_file(30));
    let c = r.commit("in the lender");
    r.git(&["gc", "-q"]);
    s.git(
        s.dir.path(),
        &["clone", "-q", "--shared", "repo", "borrower"],
    );
    let b = s.repo("borrower");
    assert!(b.path.join(".git/objects/info/alternates").exists());
    b.write("own.env", &env_file(31));
    b.commit("in the borrower");

    let scan = history(&b.path);
    assert_eq!(commit_of(only(&scan, 30)), Some(c.as_str()));
    only(&scan, 31);
    assert_eq!(scan.stats.blobs, 2);
}

#[test]
fn an_empty_repository_scans_clean() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    let scan = history(&r.path);
    assert!(scan.findings.is_empty());
    assert_eq!((scan.stats.blobs, scan.stats.commits), (0, 0));
    let err = scan_range(
        &r.path,
        "HEAD~1",
        &Detector::new(),
        &opts(),
        &Diagnostics::silent(),
    )
    .expect_err("no HEAD yet");
    assert!(matches!(err, GitError::Revision { .. }), "{err:?}");
}

#[test]
fn lookup_answers_planning_questions_and_refuses_what_is_not_an_id() {
    let s = Scratch::new();
    let r = s.init("repo", &[]);
    r.write("a.txt", "a\n");
    let commit = r.commit("one");
    r.git(&["tag", "-a", "-m", "v1", "v1"]);
    r.git(&["update-ref", "refs/remotes/origin/main", &commit]);
    let tag = r.rev("refs/tags/v1");
    let blob = r.rev("HEAD:a.txt");
    let lookup = keysweep::source::git::Lookup::open(&r.path).expect("open");
    assert!(lookup.has_commit(&commit));
    assert!(lookup.has_commit(&tag), "a tag of a commit counts");
    assert!(!lookup.has_commit(&blob), "a blob is not a commit");
    for bad in ["HEAD", "main", &commit[..12], "--all", &"0".repeat(40)] {
        assert!(!lookup.has_commit(bad), "{bad}");
    }
    assert_eq!(lookup.ref_commit("refs/tags/v1"), Some(commit.clone()));
    assert_eq!(lookup.ref_commit("refs/heads/nope"), None);
    assert_eq!(
        lookup.refs_under("refs/remotes/origin/"),
        vec!["refs/remotes/origin/main".to_string()]
    );
    assert!(lookup.refs_under("refs/../x").is_empty());
    assert!(lookup.remote_names().is_empty());
    assert!(!lookup.is_shallow());
}
