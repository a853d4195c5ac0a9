//! `keysweep scan --verify` end to end: the binary, real files, the loopback
//! STS. The library-level cases are in `verify.rs`; these check the flags
//! and what reaches the report and the exit code.

use crate::support::sts::{self, ACCOUNT};
use crate::support::{env_file, keysweep, run, write, Run};
use serde_json::Value;
use std::path::Path;

/// Random-looking, and in no account: only the key ID decides the verdict.
const SOME_SECRET: &str = "u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzd";
/// TruffleHog's README demo key: a Thinkst canary (account 595918472158).
const CANARY_KEY: &str = "AKIAYVP4CIPPERUVIFXG";

fn scan_verify(dir: &Path, extra: &[&str]) -> Run {
    let endpoint = sts::server().endpoint.clone();
    let mut cmd = keysweep();
    cmd.args([
        "scan",
        "--format",
        "json",
        "--verify",
        "--sts-endpoint",
        &endpoint,
    ])
    .args(extra)
    .arg(dir);
    run(&mut cmd)
}

/// The verification object of the finding with `key_id`.
fn verification(r: &Run, key_id: &str) -> Value {
    r.findings()
        .into_iter()
        .find(|f| f["access_key_id"]["value"] == key_id)
        .unwrap_or_else(|| panic!("no finding for {key_id}:\n{}\n{}", r.stdout, r.stderr))
        ["verification"]
        .clone()
}

#[test]
fn scan_verify_reports_verdicts_and_never_sends_canaries() {
    let server = sts::server();
    let live = server.fixture("cli_live");
    let gone = server.fixture("deleted");
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "live.env",
        env_file(&live.access_key_id, &live.secret_access_key),
    );
    write(
        dir.path(),
        "old/gone.env",
        env_file(&gone.access_key_id, &gone.secret_access_key),
    );
    write(
        dir.path(),
        "demo/canary.env",
        env_file(CANARY_KEY, SOME_SECRET),
    );

    let r = scan_verify(dir.path(), &[]);
    assert_eq!(r.code, 1, "findings: exit 1\n{}", r.stderr);
    let v = verification(&r, &live.access_key_id);
    assert_eq!(v["status"], "live", "{v}");
    assert_eq!(v["arn"], "arn:aws:iam::123456789012:user/cli-user");
    assert_eq!(v["account"], ACCOUNT);
    assert_eq!(verification(&r, &gone.access_key_id)["status"], "invalid");
    assert_eq!(
        verification(&r, &gone.access_key_id)["error"],
        "InvalidClientTokenId"
    );
    let c = verification(&r, CANARY_KEY);
    assert_eq!(c["status"], "canary", "{c}");
    assert_eq!(c["account"], "595918472158");
    assert_eq!(
        server.requests_for(CANARY_KEY),
        0,
        "the canary key was sent"
    );
    assert!(
        !r.stdout.contains(&live.secret_access_key),
        "secrets stay redacted"
    );
    assert!(
        !r.stderr.contains(&live.secret_access_key),
        "secrets stay redacted"
    );
}

#[test]
fn fail_on_live_fails_only_for_live_keys() {
    let server = sts::server();
    let gone = server.fixture("deleted");
    let live = server.fixture("cli_live");
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "gone.env",
        env_file(&gone.access_key_id, &gone.secret_access_key),
    );
    let dead_only = scan_verify(dir.path(), &["--fail-on", "live"]);
    assert_eq!(
        dead_only.code, 0,
        "only a dead key: exit 0\n{}",
        dead_only.stderr
    );
    assert_eq!(dead_only.findings().len(), 1, "still reported");

    write(
        dir.path(),
        "live.env",
        env_file(&live.access_key_id, &live.secret_access_key),
    );
    let with_live = scan_verify(dir.path(), &["--fail-on", "live"]);
    assert_eq!(
        with_live.code, 1,
        "a live key: exit 1\n{}",
        with_live.stderr
    );
}

#[test]
fn endpoint_comes_from_aws_endpoint_url_sts() {
    let fx = sts::server().fixture("cli_live");
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "live.env",
        env_file(&fx.access_key_id, &fx.secret_access_key),
    );
    let mut cmd = keysweep();
    cmd.env("AWS_ENDPOINT_URL_STS", &sts::server().endpoint)
        .args(["scan", "--format", "json", "--verify"])
        .arg(dir.path());
    let r = run(&mut cmd);
    assert_eq!(
        verification(&r, &fx.access_key_id)["status"],
        "live",
        "{}",
        r.stderr
    );
}

#[test]
fn verify_cache_spares_the_second_run() {
    let server = sts::server();
    let fx = server.fixture("cli_cache");
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "src/live.env",
        env_file(&fx.access_key_id, &fx.secret_access_key),
    );
    let cache = dir.path().join("cache/verify.json");
    let cache_arg = cache.to_str().expect("utf-8 temp path");
    let first = scan_verify(&dir.path().join("src"), &["--verify-cache", cache_arg]);
    let second = scan_verify(&dir.path().join("src"), &["--verify-cache", cache_arg]);
    assert_eq!(
        verification(&first, &fx.access_key_id)["status"],
        "live",
        "{}",
        first.stderr
    );
    assert_eq!(
        verification(&first, &fx.access_key_id),
        verification(&second, &fx.access_key_id)
    );
    assert_eq!(
        server.requests_for(&fx.access_key_id),
        1,
        "second run answered from the cache"
    );
    let text = std::fs::read_to_string(&cache).expect("cache file");
    assert!(!text.contains(&fx.secret_access_key));
}

#[test]
fn skip_account_is_honoured() {
    let server = sts::server();
    let fx = server.fixture("cli_skip");
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "live.env",
        env_file(&fx.access_key_id, &fx.secret_access_key),
    );
    let r = scan_verify(dir.path(), &["--skip-account", "1234-5678-9012"]);
    assert_eq!(
        verification(&r, &fx.access_key_id)["status"],
        "canary",
        "{}",
        r.stderr
    );
    assert_eq!(server.requests_for(&fx.access_key_id), 0);
}

#[test]
fn text_report_says_what_to_do_about_a_live_key() {
    let fx = sts::server().fixture("cli_live");
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "live.env",
        env_file(&fx.access_key_id, &fx.secret_access_key),
    );
    let endpoint = sts::server().endpoint.clone();
    let mut cmd = keysweep();
    cmd.args([
        "scan",
        "--format",
        "text",
        "--color",
        "never",
        "--verify",
        "--sts-endpoint",
        &endpoint,
    ])
    .arg(dir.path());
    let r = run(&mut cmd);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let expected = format!(
        "aws iam update-access-key --user-name cli-user --access-key-id {} --status Inactive",
        fx.access_key_id
    );
    assert!(r.stdout.contains(&expected), "{}", r.stdout);
    assert!(r.stdout.contains("review CloudTrail"), "{}", r.stdout);
}

#[test]
fn git_history_keys_are_verified_too() {
    // A key committed and then deleted is still live until it is revoked.
    let fx = sts::server().fixture("cli_history");
    let s = crate::gitutil::Scratch::new();
    let repo = s.init("r", &[]);
    repo.write(
        "deploy/prod.env",
        &env_file(&fx.access_key_id, &fx.secret_access_key),
    );
    let introduced = repo.commit("add deploy config");
    std::fs::remove_file(repo.path.join("deploy/prod.env")).expect("rm");
    repo.commit("remove the key again");

    let endpoint = sts::server().endpoint.clone();
    let mut cmd = keysweep();
    cmd.args([
        "git",
        "--format",
        "json",
        "--verify",
        "--sts-endpoint",
        &endpoint,
    ])
    .arg(&repo.path)
    .env("HOME", s.dir.path());
    let r = run(&mut cmd);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = r
        .findings()
        .into_iter()
        .find(|f| f["access_key_id"]["value"] == fx.access_key_id.as_str())
        .unwrap_or_else(|| panic!("no finding:\n{}\n{}", r.stdout, r.stderr));
    assert_eq!(f["commit"], introduced.as_str());
    assert_eq!(f["still_at_head"], false);
    assert_eq!(f["verification"]["status"], "live", "{f}");
    assert_eq!(
        f["verification"]["arn"],
        "arn:aws:iam::123456789012:user/cli-history-user"
    );
}

#[test]
fn the_request_budget_is_named_when_reached() {
    let server = sts::server();
    let dir = tempfile::tempdir().expect("temp dir");
    // Planted by a hostile repository: distinct fake pairs, one per file.
    let keys: Vec<String> = (0..5)
        .map(|_| crate::verify::key_id_in("AKIA", 123_456_789_012))
        .collect();
    for (i, k) in keys.iter().enumerate() {
        write(
            dir.path(),
            &format!("planted/{i}.env"),
            env_file(k, SOME_SECRET),
        );
    }
    let r = scan_verify(dir.path(), &["--max-verify-requests", "2"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let sent: u64 = keys.iter().map(|k| server.requests_for(k)).sum();
    assert_eq!(sent, 2, "the budget is a hard cap");
    assert_eq!(r.json()["stats"]["verify_requests"], 2);
    let over: Vec<Value> = keys
        .iter()
        .map(|k| verification(&r, k))
        .filter(|v| v["status"] == "unverified")
        .collect();
    assert_eq!(over.len(), 3, "{over:?}");
    for v in &over {
        let e = v["error"].as_str().unwrap_or_default();
        assert!(e.contains("--max-verify-requests"), "{e}");
    }
    assert!(
        r.stderr.contains(
            "budget of 2 STS requests (--max-verify-requests) was reached: 3 credential(s)"
        ),
        "{}",
        r.stderr
    );
}
