//! `keysweep scan` on real directory trees.

use crate::support::*;
use std::os::unix::fs::symlink;

fn scan_json(dir: &std::path::Path, extra: &[&str]) -> Run {
    run(keysweep()
        .arg("scan")
        .arg(dir)
        .args(["--format", "json"])
        .args(extra))
}

#[test]
fn finds_a_pair_and_reports_the_json_contract() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "config/prod.env", env_file(KEY_ID, SECRET));
    let r = scan_json(dir.path(), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(doc["version"], 2);
    assert_eq!(doc["tool"]["name"], "keysweep");
    let f = &doc["findings"][0];
    assert_eq!(f["path"], "config/prod.env");
    assert_eq!(f["commit"], serde_json::Value::Null);
    assert_eq!(f["access_key_id"]["value"], KEY_ID);
    assert_eq!(f["access_key_id"]["line"], 2);
    assert_eq!(f["access_key_id"]["column"], 19);
    assert_eq!(
        f["secret_access_key"]["value"],
        "PtYg************************************"
    );
    assert_eq!(f["secret_access_key"]["line"], 3);
    assert_eq!(f["session_token"], serde_json::Value::Null);
    assert_eq!(f["confidence"], "high");
    assert_eq!(f["verification"], serde_json::Value::Null);
    assert!(f["account_id"].as_str().is_some_and(|a| a.len() == 12));
    assert_eq!(f["fingerprint"].as_str().map(str::len), Some(32));
    assert_eq!(doc["stats"]["files"], 1);
    assert!(
        !r.stdout.contains(SECRET),
        "secret printed without --show-secrets"
    );
}

#[test]
fn show_secrets_prints_them_and_fingerprints_are_stable() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".env", env_file(KEY_ID, SECRET));
    let a = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(a.findings()[0]["secret_access_key"]["value"], SECRET);
    // Moving the credential down a few lines keeps its fingerprint.
    write(
        dir.path(),
        ".env",
        format!("# moved\n\n{}", env_file(KEY_ID, SECRET)),
    );
    let b = scan_json(dir.path(), &[]);
    assert_eq!(
        a.findings()[0]["fingerprint"],
        b.findings()[0]["fingerprint"]
    );
}

#[test]
fn exit_codes() {
    let clean = tempfile::tempdir().unwrap();
    write(clean.path(), "README.md", "nothing here\n");
    assert_eq!(scan_json(clean.path(), &[]).code, 0);
    let leaky = tempfile::tempdir().unwrap();
    write(leaky.path(), "a.env", env_file(KEY_ID, SECRET));
    assert_eq!(scan_json(leaky.path(), &[]).code, 1);
    // Something could not be scanned and nothing was found: 2.
    write(clean.path(), "big.bin", vec![b'x'; 4096]);
    let r = scan_json(clean.path(), &["--max-file-size", "1K"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("big.bin"),
        "the skipped file is named: {}",
        r.stderr
    );
    assert_eq!(r.json()["stats"]["skipped_too_large"], 1);
    // Bad arguments: 2.
    assert_eq!(
        run(keysweep().args(["scan", "--max-file-size", "lots"])).code,
        2
    );
    assert_eq!(run(keysweep().args(["scan", "--format", "xml"])).code, 2);
}

#[test]
fn hidden_files_ignore_rules_and_git_dirs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Ignore rules are git's: they apply in a work tree (tree_trust.rs).
    assert!(std::process::Command::new("git")
        .args(["init", "-q"])
        .arg(d)
        .status()
        .unwrap()
        .success());
    write(
        d,
        ".aws/credentials",
        format!("[default]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"),
    );
    write(d, ".gitignore", "build/\n");
    write(d, "build/out.env", env_file(KEY_ID_2, SECRET_2));
    write(d, ".git/config.env", env_file(KEY_ID_2, SECRET_2));
    let r = scan_json(d, &[]);
    assert_eq!(paths(&r.findings()), vec![".aws/credentials"]);
    let r = scan_json(d, &["--no-ignore"]);
    assert_eq!(
        paths(&r.findings()),
        vec![".aws/credentials", "build/out.env"]
    );
    // A file named on the command line is scanned even when ignored.
    let r = run(keysweep()
        .arg("scan")
        .arg(d.join("build/out.env"))
        .args(["--format", "json"]));
    assert_eq!(r.findings().len(), 1);
}

#[test]
fn ignore_rules_at_any_depth_are_git_s_and_cost_one_lookup_per_entry() {
    // Issue 20.9: the walker matched every file against the ignore files of
    // every directory above it. Ignore rules now come from git, asked once;
    // the walk looks each entry up in that answer. Git's rules hold at every
    // depth, and a tracked file is scanned at any depth.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(std::process::Command::new("git")
        .args(["init", "-q"])
        .arg(d)
        .status()
        .unwrap()
        .success());
    write(d, ".gitignore", "*.log\n");
    let deep = |levels: usize| "d/".repeat(levels);
    write(
        d,
        &format!("{}near.log", deep(10)),
        env_file(KEY_ID, SECRET),
    );
    write(d, &format!("{}.gitignore", deep(80)), "skip.env\n");
    write(
        d,
        &format!("{}skip.env", deep(100)),
        env_file(KEY_ID, SECRET),
    );
    write(
        d,
        &format!("{}far.log", deep(100)),
        env_file(KEY_ID_2, SECRET_2),
    );
    let tracked = format!("{}tracked.log", deep(100));
    write(d, &tracked, env_file(KEY_ID_2, SECRET_2));
    assert!(std::process::Command::new("git")
        .arg("-C")
        .arg(d)
        .args(["add", "-f", &tracked])
        .status()
        .unwrap()
        .success());
    let r = scan_json(d, &[]);
    assert_eq!(paths(&r.findings()), vec![tracked.clone()], "{}", r.stderr);
    assert_eq!(r.json()["stats"]["skipped_ignored"], 3);
    let r = scan_json(d, &["--no-ignore"]);
    assert_eq!(r.findings().len(), 4);
}

#[test]
fn bad_input_is_reported_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "good/.env", env_file(KEY_ID, SECRET));
    write(d, "empty", "");
    write(
        d,
        "binary.bin",
        [0u8, 159, 146, 150, 0, 1, 2, 255].repeat(1000),
    );
    symlink(d.join("does-not-exist"), d.join("dangling")).unwrap();
    std::fs::create_dir(d.join("loop")).unwrap();
    symlink(d.join("loop"), d.join("loop/again")).unwrap();
    symlink(d.join("good/.env"), d.join("link-to-env")).unwrap();
    let fifo = d.join("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    // A name that is not UTF-8.
    use std::os::unix::ffi::OsStrExt;
    let odd = d.join(std::ffi::OsStr::from_bytes(b"caf\xe9.env"));
    std::fs::write(&odd, env_file(KEY_ID_2, SECRET_2)).unwrap();

    let r = scan_json(d, &[]);
    assert_eq!(r.code, 1, "findings win over problems: {}", r.stderr);
    let found = paths(&r.findings());
    // Shown escaped, kept distinct from any other name.
    assert_eq!(found, vec!["caf\\xe9.env", "good/.env", "link-to-env"]);
    assert!(r.stderr.contains("dangling"), "{}", r.stderr);
    assert!(r.stderr.contains("fifo"), "{}", r.stderr);
    let stats = &r.json()["stats"];
    assert_eq!(stats["unreadable"], 1);
    assert_eq!(stats["skipped_special"], 1);
}

#[test]
fn a_one_line_file_larger_than_the_read_window_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = "q".repeat(40 << 20);
    let at = 20 << 20;
    let cred = format!(" aws_access_key_id={KEY_ID} aws_secret_access_key={SECRET} ");
    body.replace_range(at..at + cred.len(), &cred);
    write(dir.path(), "huge.txt", body);
    let r = scan_json(dir.path(), &[]);
    let f = r.findings();
    assert_eq!(f.len(), 1, "{}", r.stderr);
    assert_eq!(f[0]["access_key_id"]["line"], 1);
    assert_eq!(f[0]["access_key_id"]["column"], at as u64 + 1 + 19);
}

#[test]
fn jsonl_text_and_output_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.env", env_file(KEY_ID, SECRET));
    write(dir.path(), "b.env", env_file(KEY_ID, SECRET));
    let r = run(keysweep()
        .arg("scan")
        .arg(dir.path())
        .args(["--format", "jsonl"]));
    let lines: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    // Text groups one credential found in two places, with no colour off a terminal.
    let r = run(keysweep().arg("scan").arg(dir.path()));
    assert_eq!(r.stdout.matches(KEY_ID).count(), 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("a.env:2:19") && r.stdout.contains("b.env:2:19"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains('\x1b'));
    assert!(!r.stdout.contains(SECRET));
    assert!(
        r.stderr.contains("1 credential in 2 places"),
        "{}",
        r.stderr
    );
    let r = run(keysweep()
        .arg("scan")
        .arg(dir.path())
        .args(["--color", "always"]));
    assert!(r.stdout.contains('\x1b'));
    let r =
        run(keysweep()
            .arg("scan")
            .arg(dir.path())
            .args(["--color", "always", "--show-secrets"]));
    assert!(r.stdout.contains(SECRET));
    let out = dir.path().join("report.json");
    let r = run(keysweep()
        .arg("scan")
        .arg(dir.path().join("a.env"))
        .args(["--format", "json", "-o"])
        .arg(&out));
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty());
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn documentation_examples_are_not_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "docs.md", "AWS Access Key ID [None]: AKIAIOSFODNN7EXAMPLE\nAWS Secret Access Key [None]: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n");
    assert_eq!(scan_json(dir.path(), &[]).code, 0);
}

#[test]
fn missing_path_is_an_error() {
    let r = run(keysweep().args([
        "scan",
        "/nonexistent/keysweep-test-path",
        "--format",
        "json",
    ]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("/nonexistent/keysweep-test-path"),
        "{}",
        r.stderr
    );
}

#[test]
fn every_name_stays_itself_in_every_format() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (a, b, c) = (
        crate::gitutil::env_file(30),
        crate::gitutil::env_file(31),
        crate::gitutil::env_file(32),
    );
    // Names that mean something else in a URI, or to a lazy reporter.
    write(d, "x#y.env", &a);
    write(d, "%41.env", &b);
    write(d, "A.env", &c);
    // `!` is a legal name character, not an archive separator: this file is
    // not inside `docs.md`, and `*.md` must not allowlist it.
    write(d, "docs.md!/prod.env", &a);
    write(d, "notes.md", &b);
    write(d, ".keysweep.toml", "[allow]\npaths = [\"*.md\"]\n");
    // Names that are not UTF-8 stay distinct from each other and from the
    // replacement character a lossy conversion would make of them.
    for name in [
        &b"caf\xe9.env"[..],
        b"caf\xc3\xa9.env",
        b"caf\xef\xbf\xbd.env",
    ] {
        std::fs::write(d.join(std::ffi::OsStr::from_bytes(name)), &c).unwrap();
    }
    let r = scan_json(d, &["--config", d.join(".keysweep.toml").to_str().unwrap()]);
    let found = paths(&r.findings());
    let mut want = vec![
        "%41.env",
        "A.env",
        "caf\\xe9.env",
        "café.env",
        "caf\u{fffd}.env",
        "docs.md!/prod.env",
        "x#y.env",
    ];
    want.sort();
    let mut got = found.clone();
    got.sort();
    assert_eq!(got, want, "{}", r.stderr);
    assert_eq!(r.json()["stats"]["suppressed"], 1, "notes.md only");
    let fingerprints: std::collections::HashSet<_> = r
        .findings()
        .iter()
        .map(|f| f["fingerprint"].to_string())
        .collect();
    assert_eq!(
        fingerprints.len(),
        want.len(),
        "every place keeps its own fingerprint"
    );

    // SARIF: each URI, decoded by RFC 3986, is the file's own name.
    let sarif = run(keysweep()
        .arg("scan")
        .arg(d)
        .args(["--format", "sarif", "--config"])
        .arg(d.join(".keysweep.toml")));
    let doc = sarif.json();
    let mut uris: Vec<String> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    uris.sort();
    for uri in &uris {
        assert!(
            !uri.contains(['#', '?', '!']) && !uri.contains("%4"),
            "not percent-encoded: {uri}"
        );
    }
    let decoded: std::collections::HashSet<Vec<u8>> =
        uris.iter().map(|u| percent_decode(u)).collect();
    for name in [
        &b"x#y.env"[..],
        b"%41.env",
        b"A.env",
        b"docs.md!/prod.env",
        b"caf\xe9.env",
        b"caf\xc3\xa9.env",
        b"caf\xef\xbf\xbd.env",
    ] {
        assert!(
            decoded.contains(name),
            "{:?} not among {uris:?}",
            String::from_utf8_lossy(name)
        );
    }
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// Runs `cmd` and kills it after `secs` seconds: a read that blocks
/// forever must fail the test, not hang it.
fn run_within(cmd: &mut std::process::Command, secs: u64) -> Run {
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("keysweep starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("keysweep did not finish within {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_pipe_named_on_the_command_line_is_read_and_a_device_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "source.env", env_file(KEY_ID, SECRET));
    for (fifo, named) in [("pipe", "pipe"), ("pipe2", "link-to-pipe")] {
        assert!(std::process::Command::new("mkfifo")
            .arg(d.join(fifo))
            .status()
            .unwrap()
            .success());
        if named != fifo {
            symlink(d.join(fifo), d.join(named)).unwrap();
        }
        // A writer, as a shell's process substitution or `mkfifo` user has.
        let mut writer = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("cat source.env > {fifo}"))
            .current_dir(d)
            .spawn()
            .unwrap();
        let r = run_within(
            keysweep()
                .arg("scan")
                .arg(d.join(named))
                .args(["--format", "json"]),
            20,
        );
        writer.wait().unwrap();
        assert_eq!(r.code, 1, "{named}: {}", r.stderr);
        let found = r.findings();
        assert_eq!(found.len(), 1, "{named}");
        assert_eq!(found[0]["access_key_id"]["value"], KEY_ID);
    }

    // A device named, directly or through a link: never read (`/dev/zero`
    // has no end), named, and a problem for the exit code.
    symlink("/dev/zero", d.join("zeros")).unwrap();
    for named in [std::path::PathBuf::from("/dev/zero"), d.join("zeros")] {
        let r = run_within(
            keysweep()
                .arg("scan")
                .arg(&named)
                .args(["--format", "json"]),
            20,
        );
        assert_eq!(r.code, 2, "{}: {}", named.display(), r.stderr);
        assert!(
            r.stderr.contains("not a regular file"),
            "{}: {}",
            named.display(),
            r.stderr
        );
        assert_eq!(r.json()["stats"]["unreadable"], 1);
    }

    // Found while walking a directory, the pipes (and the link to one) are
    // skipped, as before: a FIFO in a tree is not its content.
    let r = run_within(keysweep().arg("scan").arg(d).args(["--format", "json"]), 20);
    assert_eq!(r.json()["stats"]["skipped_special"], 3, "{}", r.stderr);
}
