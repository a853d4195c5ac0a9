//! `--owner-lookup`, `keysweep triage` and `keysweep revoke` end to end: the
//! binary against the loopback AWS Organization of `owner.rs` (moto with
//! signatures and IAM policies enforced). The operator's credentials come
//! from a profile in a temporary AWS config file; nothing AWS-related from
//! the developer's environment reaches the runs.

use crate::owner::{assert_no_leaked_secret_was_sent, CANARY_KEY};
use crate::support::owner::{self, OwnerServer};
use crate::support::{env_file, keysweep, run, write, Run};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};

/// A secret for keys whose secret no test needs (the canary).
const SOME_SECRET: &str = "u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzd";

/// `keysweep ARGS` as a security team would run it: profile `auditor` from
/// a temporary AWS config file, the loopback endpoints by flag, no AWS_*
/// variable, home or instance metadata of this machine.
pub(crate) fn operator(s: &OwnerServer, dir: &Path, args: &[&str]) -> Command {
    let config = s.config_file(dir, 0);
    let mut cmd = keysweep();
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(&name);
        }
    }
    cmd.env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOME", dir)
        // Where no project `.keysweep.toml` applies.
        .current_dir(dir)
        .args(args)
        .args([
            "--profile",
            "auditor",
            "--assume-role-name",
            &s.role_name,
            "--sts-endpoint",
            &s.endpoint,
            "--iam-endpoint",
            &s.endpoint,
            "--organizations-endpoint",
            &s.endpoint,
        ])
        .stdin(Stdio::null());
    cmd
}

/// A directory of `.env` files, one per seeded key named.
fn leaks(s: &OwnerServer, names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for name in names {
        let k = s.key(name);
        write(
            dir.path(),
            &format!("{name}.env"),
            env_file(&k.access_key_id, &k.secret_access_key),
        );
    }
    dir
}

/// The `owner` object of the finding with `key_id`.
fn owner_of(r: &Run, key_id: &str) -> Value {
    r.findings()
        .into_iter()
        .find(|f| f["access_key_id"]["value"] == key_id)
        .unwrap_or_else(|| panic!("no finding for {key_id}:\n{}\n{}", r.stdout, r.stderr))["owner"]
        .clone()
}

fn fingerprint_of(report: &Value, key_id: &str) -> String {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["access_key_id"]["value"] == key_id)
        .and_then(|f| f["fingerprint"].as_str())
        .unwrap_or_else(|| panic!("no finding for {key_id}"))
        .to_string()
}

#[test]
fn scan_with_owner_lookup_reports_owners_most_urgent_first() {
    let s = owner::server();
    let repo = leaks(
        s,
        &["never_used", "outside", "admin_used", "deleted", "inactive"],
    );
    write(
        repo.path(),
        "demo/canary.env",
        env_file(CANARY_KEY, SOME_SECRET),
    );
    let home = tempfile::tempdir().expect("temp dir");
    let r = run(operator(
        s,
        home.path(),
        &["scan", "--format", "json", "--owner-lookup"],
    )
    .arg(repo.path()));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("owner lookup as arn:aws:iam::"),
        "{}",
        r.stderr
    );

    let o = owner_of(&r, &s.key("admin_used").access_key_id);
    assert_eq!(o["state"], "found", "{o}");
    assert_eq!(o["account"], s.account("prod"));
    assert_eq!(o["account_name"], "prod");
    assert_eq!(o["user"], "ci-deploy");
    assert_eq!(o["key_status"], "Active");
    assert_eq!(o["admin"], true);
    assert_eq!(o["last_used"]["service"], "s3");
    assert_eq!(o["last_used"]["region"], "eu-west-1");
    assert!(o["created"].as_str().is_some_and(|c| c.starts_with("20")));
    let o = owner_of(&r, &s.key("never_used").access_key_id);
    assert_eq!(
        (&o["user"], &o["admin"]),
        (&Value::from("reporting"), &Value::from(false))
    );
    assert!(o["last_used"].get("date").is_none(), "never used: {o}");
    assert_eq!(
        owner_of(&r, &s.key("inactive").access_key_id)["key_status"],
        "Inactive"
    );
    assert_eq!(
        owner_of(&r, &s.key("outside").access_key_id)["state"],
        "not_yours"
    );
    assert_eq!(
        owner_of(&r, &s.key("deleted").access_key_id)["state"],
        "not_found"
    );
    assert_eq!(owner_of(&r, CANARY_KEY)["state"], "canary");

    // Most urgent first: the active administrator key, then the other
    // active key, then someone else's.
    let order: Vec<String> = r
        .findings()
        .iter()
        .map(|f| {
            f["access_key_id"]["value"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    let at = |name: &str| {
        order
            .iter()
            .position(|k| *k == s.key(name).access_key_id)
            .expect("listed")
    };
    assert_eq!(at("admin_used"), 0, "{order:?}");
    assert!(at("never_used") < at("outside"), "{order:?}");
    assert!(at("outside") < at("inactive"), "{order:?}");

    // The text report: one owner line per credential.
    let t = run(operator(
        s,
        home.path(),
        &["scan", "--owner-lookup", "--color", "never"],
    )
    .arg(repo.path()));
    assert!(
        t.stdout.contains(&format!(
            "owner: owned by ci-deploy in prod ({}), Active, created ",
            s.account("prod")
        )),
        "{}",
        t.stdout
    );
    assert!(t
        .stdout
        .contains("by s3 in eu-west-1, administrator (AdministratorAccess)"));
    assert!(t.stdout.contains("is NOT one of yours"));
    assert!(
        t.stderr
            .contains("owner lookup: 2 active keys (1 administrator), 1 not yours"),
        "{}",
        t.stderr
    );

    // SARIF: the active administrator key at the top severity.
    let sarif = run(operator(
        s,
        home.path(),
        &["scan", "--owner-lookup", "--format", "sarif"],
    )
    .arg(repo.path()));
    let doc: Value = serde_json::from_str(&sarif.stdout).expect("SARIF");
    let first = &doc["runs"][0]["results"][0];
    assert_eq!(first["properties"]["security-severity"], "10.0", "{first}");
    assert_eq!(first["properties"]["owner"], "active");

    assert_no_leaked_secret_was_sent(s);
}

#[test]
fn triage_adds_owners_to_a_report_in_any_format() {
    let s = owner::server();
    let repo = leaks(s, &["admin_by_document", "mgmt_backup"]);
    let home = tempfile::tempdir().expect("temp dir");
    let report = home.path().join("report.json");
    let scanned = run(keysweep()
        .args(["scan", "--format", "json", "-o"])
        .arg(&report)
        .arg(repo.path()));
    assert_eq!(scanned.code, 1, "{}", scanned.stderr);
    assert!(!std::fs::read_to_string(&report)
        .expect("report")
        .contains("\"owner\""));

    let r = run(operator(s, home.path(), &["triage", "--format", "json"]).arg(&report));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let o = owner_of(&r, &s.key("admin_by_document").access_key_id);
    assert_eq!(
        (o["account_name"].as_str(), o["admin"].as_bool()),
        (Some("staging"), Some(true)),
        "{o}"
    );
    let o = owner_of(&r, &s.key("mgmt_backup").access_key_id);
    assert_eq!(o["user"], "mgmt-backup");
    // The enriched report reads back: merge keeps the owner records.
    let enriched = home.path().join("enriched.json");
    std::fs::write(&enriched, &r.stdout).expect("write");
    let merged = run(keysweep()
        .args(["merge", "--format", "json"])
        .arg(&enriched));
    assert_eq!(
        owner_of(&merged, &s.key("mgmt_backup").access_key_id),
        o,
        "{}",
        merged.stderr
    );

    // `merge --owner-lookup` looks the keys of merged reports up too.
    let merged = run(operator(
        s,
        home.path(),
        &["merge", "--owner-lookup", "--format", "json"],
    )
    .arg(&report));
    assert_eq!(
        owner_of(&merged, &s.key("admin_by_document").access_key_id)["user"],
        "power",
        "{}",
        merged.stderr
    );

    let html = run(operator(s, home.path(), &["triage", "--format", "html"]).arg(&report));
    assert!(html
        .stdout
        .contains("<span class=\"badge admin\">admin</span>"));
    assert!(html
        .stdout
        .contains("<li class=\"active\" data-count=\"2\" data-admin=\"1\">"));

    // --owner-cache: the second run takes both records from the file.
    let cache = format!(
        "--owner-cache={}",
        home.path().join("owners.json").display()
    );
    for cached in ["0 from the cache", "2 from the cache"] {
        let r = run(operator(s, home.path(), &["triage", "--format", "json", &cache]).arg(&report));
        assert!(r.stderr.contains(cached), "{}", r.stderr);
        assert_eq!(
            owner_of(&r, &s.key("mgmt_backup").access_key_id)["user"],
            "mgmt-backup"
        );
    }

    // Without usable credentials triage stops with a clear error.
    let broken = run(operator(s, home.path(), &["triage"])
        .env("AWS_CONFIG_FILE", home.path().join("missing"))
        .arg(&report));
    assert_eq!(broken.code, 2);
    assert!(
        broken
            .stderr
            .contains("could not load your AWS credentials"),
        "{}",
        broken.stderr
    );
}

#[test]
fn revoke_asks_shows_the_plan_and_deactivates_exactly_the_key_asked_for() {
    let s = owner::server();
    let repo = leaks(s, &["cli_revoke_target", "cli_revoke_keep", "outside"]);
    let home = tempfile::tempdir().expect("temp dir");
    let report_path = home.path().join("report.json");
    // The report holds the secrets in full: revoke must still send none.
    let scanned = run(keysweep()
        .args(["scan", "--format", "json", "--show-secrets", "-o"])
        .arg(&report_path)
        .arg(repo.path()));
    assert_eq!(scanned.code, 1, "{}", scanned.stderr);
    let mut report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report"))
            .expect("JSON");
    let target = s.key("cli_revoke_target").access_key_id.clone();
    let keep = s.key("cli_revoke_keep").access_key_id.clone();
    let outside = s.key("outside").access_key_id.clone();
    // A forged owner object: the outsider's key claimed to be an Active key
    // of a prod user. Revoke looks keys up again and never believes it.
    for f in report["findings"].as_array_mut().expect("findings") {
        if f["access_key_id"]["value"] == outside.as_str() {
            f["owner"] = serde_json::json!({"key_id": outside, "state": "found",
                "account": s.account("prod"), "user": "cli-revoke", "key_status": "Active"});
        }
    }
    std::fs::write(&report_path, report.to_string()).expect("write report");
    let fp = fingerprint_of(&report, &target);
    let revoke = |extra: &[&str]| {
        let mut args = vec!["revoke", "--fingerprint", &fp];
        args.extend_from_slice(extra);
        run(operator(s, home.path(), &args).arg(&report_path))
    };

    // A dry run shows the plan and changes nothing.
    let dry = revoke(&["--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout.contains(&format!(
            "will deactivate {target} of user cli-revoke in account prod ({})",
            s.account("prod")
        )),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains(&format!(
        "aws iam update-access-key --user-name cli-revoke --access-key-id {target} --status Inactive"
    )));
    assert!(dry.stdout.contains("Dry run: nothing was changed."));
    assert_eq!(s.key_status(&target).as_deref(), Some("Active"));

    // Without --yes and without a terminal to ask on: refused, before any
    // request.
    let refused = revoke(&[]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("standard input is not a terminal"),
        "{}",
        refused.stderr
    );
    assert!(refused.stdout.is_empty());
    assert_eq!(s.key_status(&target).as_deref(), Some("Active"));

    // Confirmed: exactly that key, with the command to undo it.
    let done = revoke(&["--yes"]);
    assert_eq!(done.code, 0, "{}\n{}", done.stdout, done.stderr);
    assert!(
        done.stdout.contains(&format!(
            "{target} of cli-revoke in account {}: deactivated",
            s.account("prod")
        )),
        "{}",
        done.stdout
    );
    assert!(done.stdout.contains(&format!(
        "aws iam update-access-key --user-name cli-revoke --access-key-id {target} --status Active"
    )));
    assert_eq!(s.key_status(&target).as_deref(), Some("Inactive"));
    assert_eq!(
        s.key_status(&keep).as_deref(),
        Some("Active"),
        "the user's other key"
    );

    // Again: nothing left to do.
    let again = revoke(&["--yes"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("already inactive"),
        "{}",
        again.stdout
    );
    assert!(again.stdout.contains("Nothing to deactivate."));
    assert!(!again.stdout.contains("To undo"));

    // Someone else's key, and a key of an account not allowed: refused.
    let fp_outside = fingerprint_of(&report, &outside);
    let fp_keep = fingerprint_of(&report, &keep);
    let stranger = run(operator(
        s,
        home.path(),
        &["revoke", "--fingerprint", &fp_outside, "--yes"],
    )
    .arg(&report_path));
    assert_eq!(stranger.code, 2);
    assert!(
        stranger.stdout.contains("is not one of yours"),
        "{}",
        stranger.stdout
    );
    let staging_only = run(operator(
        s,
        home.path(),
        &[
            "revoke",
            "--fingerprint",
            &fp_keep,
            "--account",
            s.account("staging"),
            "--yes",
        ],
    )
    .arg(&report_path));
    assert_eq!(staging_only.code, 2);
    assert!(
        staging_only
            .stdout
            .contains("not among the accounts you allowed"),
        "{}",
        staging_only.stdout
    );
    assert_eq!(s.key_status(&keep).as_deref(), Some("Active"));
    assert_eq!(s.key_status(&outside).as_deref(), Some("Active"));

    // A fingerprint the report does not hold: an error, nothing sent.
    let unknown = run(operator(
        s,
        home.path(),
        &[
            "revoke",
            "--fingerprint",
            "0123456789abcdef0123456789abcdef",
            "--yes",
        ],
    )
    .arg(&report_path));
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("no finding of"),
        "{}",
        unknown.stderr
    );

    assert_no_leaked_secret_was_sent(s);
}

/// Runs `cmd` with a pseudo-terminal as its standard input and output (a
/// Python `pty.fork`), typing `answer` when it asks; what it printed.
fn on_a_terminal(cmd: &Command, answer: &str) -> (i32, String) {
    const DRIVER: &str = r#"
import os, pty, sys
answer = sys.argv[1].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
seen = b""
asked = False
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    if not asked and b"Type yes to go on:" in seen:
        os.write(fd, answer + b"\n")
        asked = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let mut py = Command::new("python3");
    py.arg("-c").arg(DRIVER).arg(answer).arg(cmd.get_program());
    py.args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => py.env(k, v),
            None => py.env_remove(k),
        };
    }
    if let Some(d) = cmd.get_current_dir() {
        py.current_dir(d);
    }
    let out = py.output().expect("python3 runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
#[cfg(unix)]
fn revoke_on_a_terminal_acts_only_on_yes() {
    let s = owner::server();
    let repo = leaks(s, &["cli_revoke_tty"]);
    let home = tempfile::tempdir().expect("temp dir");
    let report_path = home.path().join("report.json");
    let scanned = run(keysweep()
        .args(["scan", "--format", "json", "-o"])
        .arg(&report_path)
        .arg(repo.path()));
    assert_eq!(scanned.code, 1, "{}", scanned.stderr);
    let key = s.key("cli_revoke_tty").access_key_id.clone();
    let mut cmd = operator(s, home.path(), &["revoke", "--all-active"]);
    cmd.arg(&report_path);

    let (code, shown) = on_a_terminal(&cmd, "no");
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains(&format!("will deactivate {key} of user cli-tty")),
        "{shown}"
    );
    assert!(
        shown.contains("Deactivate 1 key? Type yes to go on:"),
        "{shown}"
    );
    assert!(shown.contains("Nothing was changed."), "{shown}");
    assert_eq!(s.key_status(&key).as_deref(), Some("Active"));

    let (code, shown) = on_a_terminal(&cmd, "yes");
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains(": deactivated"), "{shown}");
    assert!(
        shown.contains("--status Active"),
        "the undo command: {shown}"
    );
    assert_eq!(s.key_status(&key).as_deref(), Some("Inactive"));
}

#[test]
fn a_scan_whose_owner_lookup_cannot_connect_still_reports() {
    let s = owner::server();
    let repo = leaks(s, &["mgmt_backup"]);
    let home = tempfile::tempdir().expect("temp dir");
    let r = run(operator(
        s,
        home.path(),
        &["scan", "--format", "json", "--owner-lookup"],
    )
    .env("AWS_CONFIG_FILE", home.path().join("missing"))
    .arg(repo.path()));
    assert_eq!(r.code, 1, "the finding still fails the run: {}", r.stderr);
    assert!(
        r.stderr
            .contains("warning: owner lookup did not run: could not load your AWS credentials"),
        "{}",
        r.stderr
    );
    let findings = r.findings();
    assert_eq!(findings.len(), 1);
    assert!(findings[0].get("owner").is_none());
}
