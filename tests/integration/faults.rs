//! Real faults while writing reports (docs/limits.md, "What survives what"):
//! a file-size limit hit mid-write (the same error a full disk gives), a
//! kill at random moments, and the modes of files that hold secrets.

use crate::gitutil::env_file;
use crate::support::*;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

const KEYSWEEP: &str = env!("CARGO_BIN_EXE_keysweep");

fn leaky_tree(n: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..n {
        write(dir.path(), &format!("svc-{i}/.env"), env_file(500 + i));
    }
    dir
}

#[test]
fn a_write_that_fails_midway_leaves_the_previous_report_whole() {
    let tree = leaky_tree(40);
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("report.json");
    let first = run(keysweep()
        .arg("scan")
        .arg(tree.path())
        .args(["--format", "json", "-o"])
        .arg(&report));
    assert_eq!(first.code, 1, "{}", first.stderr);
    let complete = std::fs::read(&report).unwrap();
    assert!(
        complete.len() > 8 << 10,
        "the report must outgrow the limit"
    );
    // Files may grow to 8 KiB only; SIGXFSZ ignored so the write fails with
    // EFBIG, as it would fail with ENOSPC on a full disk.
    let limited = Command::new("sh")
        .arg("-c")
        .arg(r#"trap '' XFSZ; ulimit -f 16; exec "$@""#)
        .arg("sh")
        .arg(KEYSWEEP)
        .arg("scan")
        .arg(tree.path())
        .args(["--format", "json", "-o"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(
        limited.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&limited.stderr)
    );
    let err = String::from_utf8_lossy(&limited.stderr);
    assert!(
        err.contains("cannot write") && err.contains("unchanged"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&report).unwrap(),
        complete,
        "the earlier report is intact"
    );
    let names: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec!["report.json"],
        "no temporary file left: {names:?}"
    );
}

#[test]
fn a_reader_never_sees_a_torn_report_even_when_the_writer_is_killed() {
    let tree = leaky_tree(60);
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("report.json");
    let reference = run(keysweep()
        .arg("scan")
        .arg(tree.path())
        .args(["--format", "json", "-o"])
        .arg(&report));
    assert_eq!(reference.code, 1);
    let findings = |bytes: &[u8]| -> usize {
        let v: serde_json::Value = serde_json::from_slice(bytes).expect("a whole JSON report");
        v["findings"].as_array().map_or(0, Vec::len)
    };
    let expected = findings(&std::fs::read(&report).unwrap());
    // Kill the writer at varied moments; after each, the file is a whole
    // report with every finding.
    for i in 0..12u64 {
        let mut child = Command::new(KEYSWEEP)
            .arg("scan")
            .arg(tree.path())
            .args(["--format", "json", "-o"])
            .arg(&report)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(i * 3));
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(
            findings(&std::fs::read(&report).unwrap()),
            expected,
            "kill {i}"
        );
    }
}

#[test]
fn reports_with_secrets_are_private_and_never_written_through_a_link() {
    let tree = leaky_tree(1);
    let out = tempfile::tempdir().unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let shown = out.path().join("full.json");
    let r = run(keysweep()
        .arg("scan")
        .arg(tree.path())
        .args(["--format", "json", "--show-secrets", "-o"])
        .arg(&shown));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(mode(&shown), 0o600, "a report with full secrets is private");
    // Over an existing world-readable report: still private.
    std::fs::set_permissions(&shown, std::fs::Permissions::from_mode(0o644)).unwrap();
    run(keysweep()
        .arg("scan")
        .arg(tree.path())
        .args(["--format", "json", "--show-secrets", "-o"])
        .arg(&shown));
    assert_eq!(mode(&shown), 0o600);
    // A link planted where the report goes is replaced, not written through.
    let victim = out.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = out.path().join("linked.json");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    run(keysweep()
        .arg("scan")
        .arg(tree.path())
        .args(["--format", "json", "--show-secrets", "-o"])
        .arg(&link));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    assert_eq!(mode(&link), 0o600);
    // Redacted reports follow the umask as before.
    let redacted = out.path().join("redacted.json");
    run(keysweep()
        .arg("scan")
        .arg(tree.path())
        .args(["--format", "json", "-o"])
        .arg(&redacted));
    assert_ne!(mode(&redacted), 0o600);
}
