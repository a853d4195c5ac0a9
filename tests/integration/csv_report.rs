//! `--format csv` read back by Python's `csv` module, as a spreadsheet
//! import or a security team's script would, with hostile file names.

use crate::support::*;
use serde_json::Value;
use std::process::{Command, Stdio};

/// The rows of `csv_text` as Python's `csv.DictReader` sees them.
fn python_rows(csv_text: &str) -> Vec<Value> {
    let python = std::env::var("KEYSWEEP_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = Command::new(python)
        .args([
            "-c",
            "import csv, io, json, sys\n\
             data = sys.stdin.buffer.read().decode('utf-8')\n\
             rows = list(csv.DictReader(io.StringIO(data, newline=''), strict=True))\n\
             json.dump(rows, sys.stdout)\n",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(csv_text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "python csv failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).expect("JSON rows")
}

#[test]
fn python_reads_back_one_row_per_place_with_formulas_defused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let names = [
        "=HYPERLINK(\"evil.example\",\"x\").env",
        "+cmd|' /C calc'!A0.env",
        "-2+3.env",
        "@SUM(A1).env",
        "comma, \"quoted\".env",
        "line\nbreak.env",
        "plain.env",
    ];
    for name in names {
        write(dir.path(), name, env_file(KEY_ID, SECRET));
    }
    let r = run(keysweep().args(["scan", "--format", "csv"]).arg(dir.path()));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let rows = python_rows(&r.stdout);
    assert_eq!(rows.len(), names.len(), "{}", r.stdout);
    let mut paths: Vec<&str> = rows
        .iter()
        .map(|row| row["path"].as_str().unwrap_or(""))
        .collect();
    paths.sort_unstable();
    let mut expected = vec![
        "'=HYPERLINK(\"evil.example\",\"x\").env",
        "'+cmd|' /C calc'!A0.env",
        "'-2+3.env",
        "'@SUM(A1).env",
        "comma, \"quoted\".env",
        "line\\nbreak.env",
        "plain.env",
    ];
    expected.sort_unstable();
    assert_eq!(paths, expected);
    for row in &rows {
        assert_eq!(row["access_key_id"], KEY_ID);
        assert_eq!(row["status"], "found");
        assert_eq!(row["rule"], "aws-access-key-pair");
        assert_eq!(row["origin"], "file");
        assert_eq!(row["line"], "2");
        assert_eq!(
            row["secret_access_key"], "PtYg************************************",
            "redacted"
        );
        assert_eq!(row["fingerprint"].as_str().map(str::len), Some(32));
    }
    // The same findings as the JSON report, place for place.
    let json = run(keysweep()
        .args(["scan", "--format", "json"])
        .arg(dir.path()));
    let mut fps: Vec<&str> = rows
        .iter()
        .map(|r| r["fingerprint"].as_str().unwrap_or(""))
        .collect();
    let findings = json.findings();
    let mut json_fps: Vec<&str> = findings
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap_or(""))
        .collect();
    fps.sort_unstable();
    json_fps.sort_unstable();
    assert_eq!(fps, json_fps);
}

#[test]
fn merge_writes_csv_too() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "src/a.env", env_file(KEY_ID, SECRET));
    let report = dir.path().join("report.json");
    let r = run(keysweep()
        .args(["scan", "--format", "json", "-o"])
        .arg(&report)
        .arg(dir.path().join("src")));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let m = run(keysweep().args(["merge", "--format", "csv"]).arg(&report));
    assert_eq!(m.code, 1, "{}", m.stderr);
    let rows = python_rows(&m.stdout);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["path"], "a.env");
}
