//! The loopback AWS for the owner-lookup tests: `tests/sts/sts_server.py
//! --scenario owner`, moto with signatures and IAM policies enforced, seeded
//! with an AWS Organization (`tests/sts/owner_seed.py`): a management
//! account, member accounts `prod`, `staging` (both with the lookup role) and
//! `sandbox` (without), an account outside the Organization, and users with
//! active, inactive, deleted, old-style and temporary keys.
//!
//! One server per test process serves the tests (each uses its own keys);
//! the benchmark starts its own, with many more keys.

use super::sts::{get_json, spawn};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::{Mutex, OnceLock};

/// One seeded access key.
#[derive(Debug, Clone)]
pub struct OwnerKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub account: String,
    pub user: Option<String>,
    /// As seeded: Active, Inactive, Deleted or Temporary.
    pub status: String,
}

/// Credentials of an operator user in the management account.
#[derive(Debug, Clone)]
pub struct Operator {
    pub access_key_id: String,
    pub secret_access_key: String,
}

pub struct OwnerServer {
    pub endpoint: String,
    port: u16,
    /// Account name (`management`, `prod`, `staging`, `sandbox`, `outside`)
    /// → ID.
    pub accounts: HashMap<String, String>,
    pub role_name: String,
    pub operators: Vec<Operator>,
    keys: HashMap<String, OwnerKey>,
    pub bench_keys: Vec<String>,
    _child: Mutex<Child>,
}

/// The owner server of this test process, started on first call.
pub fn server() -> &'static OwnerServer {
    static SERVER: OnceLock<Result<OwnerServer, String>> = OnceLock::new();
    match SERVER.get_or_init(|| start(0)) {
        Ok(s) => s,
        Err(e) => panic!("loopback AWS (owner scenario) did not start: {e}"),
    }
}

/// A server of its own, with `bench_keys` more keys spread over the
/// management account, `prod` and `staging`.
pub fn start_with_bench_keys(bench_keys: usize) -> OwnerServer {
    start(bench_keys).unwrap_or_else(|e| panic!("loopback AWS did not start: {e}"))
}

fn start(bench_keys: usize) -> Result<OwnerServer, String> {
    let bench = bench_keys.to_string();
    let (port, doc, child) = spawn(&["--scenario", "owner", "--bench-keys", &bench])?;
    let o = &doc["owner"];
    let s = |v: &Value| v.as_str().map(str::to_string);
    let accounts = o["accounts"]
        .as_object()
        .ok_or("no accounts")?
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), s(v)?)))
        .collect();
    let operators = o["operators"]
        .as_array()
        .ok_or("no operators")?
        .iter()
        .filter_map(|v| {
            Some(Operator {
                access_key_id: s(&v["access_key_id"])?,
                secret_access_key: s(&v["secret_access_key"])?,
            })
        })
        .collect();
    let mut keys = HashMap::new();
    for (name, k) in o["keys"].as_object().ok_or("no keys")? {
        keys.insert(
            name.clone(),
            OwnerKey {
                access_key_id: s(&k["access_key_id"]).ok_or("key without ID")?,
                secret_access_key: s(&k["secret_access_key"]).ok_or("key without secret")?,
                session_token: s(&k["session_token"]),
                account: s(&k["account"]).ok_or("key without account")?,
                user: s(&k["user"]),
                status: s(&k["status"]).ok_or("key without status")?,
            },
        );
    }
    let bench_keys = o["bench_keys"]
        .as_array()
        .map(|a| a.iter().filter_map(s).collect())
        .unwrap_or_default();
    Ok(OwnerServer {
        endpoint: format!("http://127.0.0.1:{port}"),
        port,
        accounts,
        role_name: s(&o["role_name"]).ok_or("no role name")?,
        operators,
        keys,
        bench_keys,
        _child: Mutex::new(child),
    })
}

impl OwnerServer {
    /// A seeded key by name (see `tests/sts/owner_seed.py`).
    pub fn key(&self, name: &str) -> &OwnerKey {
        self.keys
            .get(name)
            .unwrap_or_else(|| panic!("no key {name:?}"))
    }

    pub fn all_keys(&self) -> impl Iterator<Item = &OwnerKey> {
        self.keys.values()
    }

    pub fn account(&self, name: &str) -> &str {
        self.accounts
            .get(name)
            .unwrap_or_else(|| panic!("no account {name:?}"))
    }

    /// A user key's status, read from the server's state directly (not
    /// through the code under test); `None` when no user holds the key.
    pub fn key_status(&self, key_id: &str) -> Option<String> {
        get_json(self.port, &format!("/keysweep/key-status?key={key_id}"))["status"]
            .as_str()
            .map(str::to_string)
    }

    /// Requests that reached the server signed with `key_id`.
    pub fn requests_signed_by(&self, key_id: &str) -> u64 {
        get_json(self.port, &format!("/keysweep/requests?key={key_id}"))["key"]
            .as_u64()
            .expect("count is a number")
    }

    /// Every request the server received since it was seeded, whole.
    pub fn recorded(&self) -> Vec<Value> {
        get_json(self.port, "/keysweep/recorded?since=0")["requests"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Makes the next `count` requests signed with `key_id` fail with HTTP
    /// `status` and error `code`.
    pub fn inject(&self, key_id: &str, count: u32, status: u16, code: &str) {
        get_json(
            self.port,
            &format!("/keysweep/inject?key={key_id}&count={count}&status={status}&code={code}"),
        );
    }

    /// Writes an AWS config file with profile `auditor` holding operator
    /// `n`'s key, as a security team's `~/.aws/config` would.
    pub fn config_file(&self, dir: &Path, n: usize) -> PathBuf {
        let op = &self.operators[n];
        let path = dir.join("aws-config");
        let body = format!(
            "[default]\nregion = eu-central-1\n\n[profile auditor]\nregion = us-east-1\n\
             aws_access_key_id = {}\naws_secret_access_key = {}\n",
            op.access_key_id, op.secret_access_key
        );
        std::fs::write(&path, body).expect("write AWS config");
        path
    }
}
