//! The loopback STS the verification tests talk to: `tests/sts/sts_server.py`
//! (moto with authentication enforced), started once per test process.
//!
//! First use creates a venv under `target/keysweep-sts/` and installs the
//! pinned moto into it (the script does that with `tests/support/pyvenv.py`,
//! under a file lock, so test binaries running at once share one install);
//! later runs reuse it. The
//! server exits by itself when this process ends (it watches its parent), so
//! nothing is left listening after the tests.
//!
//! Needs only `python3` with `venv` and `pip` (and PyPI, on first use).
//! `KEYSWEEP_TEST_PYTHON` picks another interpreter.

use serde_json::Value;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Live IAM users `bench-000`.. created for the throughput benchmark.
pub const BENCH_USERS: usize = 50;

/// The account moto puts everything in.
pub const ACCOUNT: &str = "123456789012";

/// One seeded credential.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    /// The ARN GetCallerIdentity returns, for live fixtures.
    pub arn: Option<String>,
}

pub struct StsServer {
    pub endpoint: String,
    port: u16,
    fixtures: HashMap<String, Fixture>,
    // Kept so the handle lives as long as the process; the server's own
    // parent watchdog ends it.
    _child: Mutex<Child>,
}

/// The server of this test process, started on first call.
pub fn server() -> &'static StsServer {
    static SERVER: OnceLock<Result<StsServer, String>> = OnceLock::new();
    match SERVER.get_or_init(start) {
        Ok(s) => s,
        Err(e) => panic!("loopback STS did not start: {e}"),
    }
}

impl StsServer {
    /// A seeded credential by name (see `seed` in `tests/sts/sts_server.py`).
    pub fn fixture(&self, name: &str) -> &Fixture {
        self.fixtures
            .get(name)
            .unwrap_or_else(|| panic!("no fixture {name:?}"))
    }

    /// Requests that reached the server signed with `key_id`.
    pub fn requests_for(&self, key_id: &str) -> u64 {
        self.get_json(&format!("/keysweep/requests?key={key_id}"))["key"]
            .as_u64()
            .expect("count is a number")
    }

    /// Requests that reached the server, all keys.
    pub fn total_requests(&self) -> u64 {
        self.get_json("/keysweep/requests")["total"]
            .as_u64()
            .expect("count is a number")
    }

    /// Makes the next `count` requests signed with `key_id` fail with HTTP
    /// `status` and error `code` (`None`: a bare status without a body).
    pub fn inject(&self, key_id: &str, count: u32, status: u16, code: Option<&str>) {
        let code = code.map(|c| format!("&code={c}")).unwrap_or_default();
        self.get_json(&format!(
            "/keysweep/inject?key={key_id}&count={count}&status={status}{code}"
        ));
    }

    /// [`StsServer::inject`] with an error message too.
    pub fn inject_message(&self, key_id: &str, count: u32, status: u16, code: &str, message: &str) {
        let message: String = message
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        self.get_json(&format!(
            "/keysweep/inject?key={key_id}&count={count}&status={status}&code={code}&message={message}"
        ));
    }

    fn get_json(&self, path: &str) -> Value {
        get_json(self.port, path)
    }
}

fn state_dir() -> PathBuf {
    super::pyvenv::target_subdir("keysweep-sts")
}

fn start() -> Result<StsServer, String> {
    let bench = BENCH_USERS.to_string();
    let (port, doc, child) = spawn(&["--bench-users", &bench])?;
    let mut fixtures = HashMap::new();
    for (name, f) in doc["fixtures"]
        .as_object()
        .ok_or("ready file: no fixtures")?
    {
        let s = |k: &str| f[k].as_str().map(str::to_string);
        fixtures.insert(
            name.clone(),
            Fixture {
                access_key_id: s("access_key_id").ok_or("fixture without key id")?,
                secret_access_key: s("secret_access_key").ok_or("fixture without secret")?,
                session_token: s("session_token"),
                arn: s("arn"),
            },
        );
    }
    Ok(StsServer {
        endpoint: format!("http://127.0.0.1:{port}"),
        port,
        fixtures,
        _child: Mutex::new(child),
    })
}

/// Starts `tests/sts/sts_server.py` with `args` and waits until it is
/// seeded; returns its port, its ready document and the process.
pub fn spawn(args: &[&str]) -> Result<(u16, Value, Child), String> {
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    let dir = state_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    remove_stale_files(&dir);
    let pid = std::process::id();
    // Several servers per test process (one per scenario): number them.
    let n = STARTED.fetch_add(1, Ordering::Relaxed);
    let ready = dir.join(format!("ready-{pid}-{n}.json"));
    let log_path = dir.join(format!("server-{pid}-{n}.log"));
    let _ = std::fs::remove_file(&ready);
    let log = std::fs::File::create(&log_path)
        .map_err(|e| format!("create {}: {e}", log_path.display()))?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    let python = std::env::var("KEYSWEEP_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sts/sts_server.py");
    let mut child = Command::new(&python)
        .arg(&script)
        .arg("--venv")
        .arg(dir.join("venv"))
        .arg("--ready-file")
        .arg(&ready)
        .arg("--parent-pid")
        .arg(pid.to_string())
        .args(args)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|e| format!("run {python}: {e}"))?;

    // A fresh machine downloads moto first: allow for a slow index.
    let deadline = Instant::now() + Duration::from_secs(900);
    let tail = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    while !ready.exists() {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "sts_server.py exited with {status}:\n{}",
                tail(&log_path)
            ));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(format!(
                "sts_server.py not ready after 900 s:\n{}",
                tail(&log_path)
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let doc: Value = serde_json::from_slice(&std::fs::read(&ready).map_err(|e| e.to_string())?)
        .map_err(|e| format!("ready file: {e}"))?;
    let _ = std::fs::remove_file(&ready);
    let port = doc["port"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .ok_or("ready file: no port")?;
    Ok((port, doc, child))
}

/// GET `path` from the server's test hooks on `port`; the JSON answer.
pub fn get_json(port: u16, path: &str) -> Value {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to loopback STS");
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").expect("send");
    let mut response = String::new();
    s.read_to_string(&mut response).expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("HTTP response");
    assert!(
        head.starts_with("HTTP/1.") && head.contains(" 200 "),
        "{head}"
    );
    serde_json::from_str(body).expect("JSON body")
}

/// Logs and ready files of earlier test runs (an hour old or more).
fn remove_stale_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name.starts_with("server-") || name.starts_with("ready-");
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > Duration::from_secs(3600));
        if ours && old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
