//! Archives and compressed files made by real tools (Python's lzma, bz2 and
//! tarfile modules; zstandard and py7zr from PyPI in a venv under `target/`,
//! or the `zstd` tool): every format is opened, alone and around a tar,
//! whatever the file is called, and a bomb of each stops at the member cap.
//! Without the package index the zstd and 7z cases say SKIPPED.

use crate::support::pyvenv::{self, Unavailable};
use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const TOOLS: &[&str] = &["zstandard==0.23.0", "py7zr==0.22.0"];

/// The venv's python with the tools, or the system's without them.
fn python(test: &str) -> PathBuf {
    match pyvenv::venv("archive-tools", TOOLS) {
        Ok(bin) => bin.join("python"),
        Err(why @ Unavailable(_)) => {
            pyvenv::skip(&format!("{test} (zstd and 7z parts)"), &why);
            PathBuf::from(
                std::env::var("KEYSWEEP_TEST_PYTHON").unwrap_or_else(|_| "python3".into()),
            )
        }
    }
}

/// Runs tests/support/archives.py; returns the formats it could not make.
fn make(python: &Path, args: &[&str]) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/archives.py");
    let out = Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "archives.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("missing ").map(str::to_string))
        .collect()
}

#[test]
fn archives_made_by_real_tools_are_opened() {
    let py = python("archives_made_by_real_tools_are_opened");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    let missing = make(&py, &["real", root, KEY_ID, SECRET]);
    let r = run(keysweep()
        .args(["scan", root, "--format", "json", "--no-progress"])
        .env_remove("NO_COLOR"));
    assert_eq!(r.code, 1, "{}", r.stderr);
    // Each finding as `archive` then its member names, one per level.
    let mut found: Vec<String> = r
        .findings()
        .iter()
        .map(|f| {
            let mut label = f["path"].as_str().unwrap_or("").to_string();
            for name in f["member"].as_array().into_iter().flatten() {
                label.push('!');
                label.push_str(name.as_str().unwrap_or(""));
            }
            label
        })
        .collect();
    found.sort();
    let mut expected = vec![
        "backup.tar.bz2!-!app/.env",
        "backup.tar.xz!-!app/.env",
        "creds.env.bz2!-",
        "creds.env.xz!-",
        "notes.txt!-",
    ];
    if missing.contains(&"zstd".to_string()) {
        eprintln!("SKIPPED zstd part: neither zstandard nor the zstd tool");
    } else {
        expected.extend(["backup.tar.zst!-!app/.env", "creds.env.zst!-"]);
    }
    if missing.contains(&"7z".to_string()) {
        eprintln!("SKIPPED 7z part: py7zr is not installed");
    } else {
        expected.push("backup.7z!app/.env");
    }
    expected.sort();
    assert_eq!(found, expected, "stderr: {}", r.stderr);
    for f in r.findings() {
        assert_eq!(f["access_key_id"]["value"], KEY_ID);
        assert_eq!(f["confidence"], "high");
    }
    assert!(!r.stderr.contains("damaged"), "{}", r.stderr);
}

#[test]
fn bombs_of_every_format_stop_at_the_member_cap() {
    let py = python("bombs_of_every_format_stop_at_the_member_cap");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    // 300 MiB of zeros each, in a few kilobytes: over the 64 MiB member cap.
    let missing = make(&py, &["bombs", root, "300"]);
    write(dir.path(), "sibling/.env", env_file(KEY_ID, SECRET));
    let r = run(keysweep()
        .args(["scan", root, "--format", "json", "--no-progress"])
        .env_remove("NO_COLOR"));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(paths(&r.findings()), vec!["sibling/.env".to_string()]);
    let mut bombs = vec![("bomb.xz", "-"), ("bomb.bz2", "-")];
    if !missing.contains(&"zstd".to_string()) {
        bombs.push(("bomb.zst", "-"));
    }
    if !missing.contains(&"7z".to_string()) {
        bombs.push(("bomb.7z", "zeros.bin"));
    }
    for (file, member) in bombs {
        let size = std::fs::metadata(dir.path().join(file)).unwrap().len();
        assert!(size < 1 << 20, "{file} is {size} bytes");
        let line = format!("{file}: archive member {member} was scanned only up to 67108864 bytes");
        assert!(r.stderr.contains(&line), "{line} not in: {}", r.stderr);
    }
}
