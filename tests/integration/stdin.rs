//! `keysweep scan -`: standard input, written to the binary through a real
//! pipe in pieces.

use crate::support::*;
use std::io::Write;
use std::process::Stdio;

/// Runs `keysweep scan - --format json`, feeding `pieces` one `write` each.
fn scan_stdin(pieces: &[&[u8]], cwd: &std::path::Path) -> Run {
    let mut child = keysweep()
        .args(["scan", "-", "--format", "json"])
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("keysweep runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let pieces: Vec<Vec<u8>> = pieces.iter().map(|p| p.to_vec()).collect();
    let writer = std::thread::spawn(move || {
        for p in pieces {
            stdin.write_all(&p).expect("write");
            stdin.flush().expect("flush");
        }
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_credential_split_across_writes_and_windows_is_found_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The first 16 MiB window reports up to 16 MiB + 32 KiB; the pair
    // straddles that point, and each half arrives in its own write.
    let boundary = (16 << 20) + (32 << 10);
    let body = env_file(KEY_ID, SECRET);
    let mut head = vec![b'.'; boundary - 40];
    head.push(b'\n');
    let cut = body.find("AWS_SECRET").expect("secret line") + 10;
    let (a, b) = body.as_bytes().split_at(cut);
    let tail = vec![b'x'; 3 << 20];
    let r = scan_stdin(&[&head, a, b, &tail], dir.path());
    assert_eq!(r.code, 1, "{}", r.stderr);
    let findings = r.findings();
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f["path"], "<stdin>");
    assert_eq!(f["origin"], "stdin");
    assert_eq!(f["access_key_id"]["value"], KEY_ID);
    assert_eq!(f["confidence"], "high", "paired across the split");
    assert_eq!(
        f["access_key_id"]["line"], 3,
        "line numbers count the stream"
    );
    let stats = &r.json()["stats"];
    assert_eq!(stats["files"], 1);
    assert_eq!(
        stats["bytes"],
        (head.len() + body.len() + tail.len()) as u64
    );
}

#[test]
fn stdin_is_not_a_file_named_stdin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let body = env_file(KEY_ID, SECRET);
    write(dir.path(), "<stdin>", &body);
    let piped = scan_stdin(&[body.as_bytes()], dir.path());
    let file = run(keysweep()
        .args(["scan", "--format", "json"])
        .arg(dir.path()));
    let (p, f) = (&piped.findings()[0], &file.findings()[0]);
    assert_eq!(
        (&p["path"], &f["path"]),
        (&f["path"], &p["path"]),
        "same name"
    );
    assert_eq!(f["path"], "<stdin>");
    assert_eq!(p["origin"], "stdin");
    assert_eq!(f.get("origin"), None, "a file has no origin field");
    assert_ne!(p["fingerprint"], f["fingerprint"]);
    // An empty pipe is a clean run.
    let empty = scan_stdin(&[], dir.path());
    assert_eq!(empty.code, 0, "{}", empty.stderr);
    assert_eq!(empty.json()["stats"]["files"], 1);
}
