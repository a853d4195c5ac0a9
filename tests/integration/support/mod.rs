//! Helpers shared by the integration tests.

#[cfg(feature = "verify")]
pub mod owner;
pub mod pyvenv;
#[cfg(feature = "verify")]
pub mod sts;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Credentials that look real (random, base32 key IDs) but are not.
pub const KEY_ID: &str = "AKIA2IJB4LAJLJ6HDU6G";
pub const SECRET: &str = "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";
pub const KEY_ID_2: &str = "AKIADPMRCG4BE4UMR46P";
pub const SECRET_2: &str = "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";

/// A `.env` file body holding one credential.
pub fn env_file(id: &str, secret: &str) -> String {
    format!("AWS_REGION=us-east-1\nAWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}\n")
}

/// The binary under test, with an environment that cannot leak the
/// developer's settings into the run.
pub fn keysweep() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keysweep"));
    cmd.env_remove("NO_COLOR")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_STS");
    cmd
}

/// Result of one run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        })
    }

    pub fn findings(&self) -> Vec<Value> {
        self.json()["findings"]
            .as_array()
            .expect("findings array")
            .clone()
    }
}

pub fn run(cmd: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("keysweep runs");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Writes `body` at `root/rel`, creating parent directories.
pub fn write(root: &Path, rel: &str, body: impl AsRef<[u8]>) -> PathBuf {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("has a parent")).expect("mkdir");
    std::fs::write(&p, body).expect("write");
    p
}

/// Paths of all findings, sorted.
pub fn paths(findings: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = findings
        .iter()
        .map(|f| f["path"].as_str().unwrap_or("").to_string())
        .collect();
    v.sort();
    v
}
