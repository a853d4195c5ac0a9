//! Real git repositories for history tests, built with the `git` CLI in a
//! temporary directory that is also `HOME`, so no user or system config
//! leaks in and every run gives the same commit ids.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// A scratch area holding one or more repositories.
pub struct Scratch {
    pub dir: TempDir,
    tick: Cell<u64>,
}

impl Scratch {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("create a temp dir");
        std::fs::write(
            dir.path().join(".gitconfig"),
            "[user]\n\tname = Test Author\n\temail = author@example.com\n[init]\n\tdefaultBranch = main\n[gc]\n\tauto = 0\n[advice]\n\tdetachedHead = false\n",
        )
        .expect("write .gitconfig");
        Scratch {
            dir,
            tick: Cell::new(0),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Runs git in `cwd`, each call one minute after the previous one, and
    /// returns trimmed stdout; panics with stderr on failure.
    pub fn git(&self, cwd: &Path, args: &[&str]) -> String {
        let out = self.git_output(cwd, args);
        assert!(
            out.status.success(),
            "git {args:?} in {} failed: {}",
            cwd.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Like [`Scratch::git`] but returns the raw output, for expected failures.
    pub fn git_output(&self, cwd: &Path, args: &[&str]) -> std::process::Output {
        let t = self.tick.get() + 1;
        self.tick.set(t);
        let date = format!("{} +0200", 1_700_000_000 + t * 60);
        Command::new("git")
            .args(args)
            .current_dir(cwd)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("LC_ALL", "C")
            .output()
            .expect("run git")
    }

    /// `git init` a work tree at `rel` (extra args such as `--bare`).
    pub fn init(&self, rel: &str, extra: &[&str]) -> Repo<'_> {
        let path = self.path(rel);
        std::fs::create_dir_all(&path).expect("create repo dir");
        let mut args = vec!["init", "-q"];
        args.extend_from_slice(extra);
        self.git(&path, &args);
        Repo { s: self, path }
    }

    pub fn repo(&self, rel: &str) -> Repo<'_> {
        Repo {
            s: self,
            path: self.path(rel),
        }
    }
}

/// One repository inside a [`Scratch`].
pub struct Repo<'s> {
    pub s: &'s Scratch,
    pub path: PathBuf,
}

impl Repo<'_> {
    pub fn git(&self, args: &[&str]) -> String {
        self.s.git(&self.path, args)
    }

    pub fn write(&self, rel: &str, content: &str) {
        let p = self.path.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create parent dirs");
        }
        std::fs::write(p, content).expect("write file");
    }

    /// `git add -A && git commit`, returning the new commit id.
    pub fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.git(&["rev-parse", "HEAD"])
    }

    pub fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev])
    }

    /// Number of distinct blobs in the object database, as git counts them.
    pub fn blob_count(&self) -> u64 {
        self.git(&[
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objecttype)",
        ])
        .lines()
        .filter(|l| *l == "blob")
        .count() as u64
    }
}

/// A credential the detector accepts: a key ID of the right grammar and a
/// random-looking 40-character secret, different for each `seed`, never an
/// AWS documentation example.
pub fn credential(seed: u64) -> (String, String) {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+";
    // `Q` as 5th character keeps the account ID decodable, like real new keys.
    let id: String = "AKIAQ"
        .chars()
        .chain((0..15).map(|_| B32[(next() % 32) as usize] as char))
        .collect();
    let secret: String = (0..40)
        .map(|_| B64[(next() % 64) as usize] as char)
        .collect();
    (id, secret)
}

/// A `.env`-style file holding credential `seed`.
pub fn env_file(seed: u64) -> String {
    let (id, secret) = credential(seed);
    format!("# service config\nREGION=eu-west-1\nAWS_ACCESS_KEY_ID={id}\naws_secret_access_key = {secret}\n")
}

/// A directory holding a `git` that logs each call to a file and then runs
/// the real git, to put first on the `PATH` of a keysweep under test: the
/// log says whether (and how) keysweep ran git.
pub struct GitSpy {
    pub bin: PathBuf,
    pub log: PathBuf,
}

impl GitSpy {
    pub fn new(s: &Scratch) -> GitSpy {
        let real = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|d| d.join("git"))
            .find(|g| g.is_file())
            .expect("git on PATH");
        let bin = s.path("spy-bin");
        let log = s.path("spy.log");
        std::fs::create_dir_all(&bin).expect("mkdir");
        let script = bin.join("git");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
                log.display(),
                real.display()
            ),
        )
        .expect("write spy");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        GitSpy { bin, log }
    }

    /// `PATH` with the spy first.
    pub fn path_var(&self) -> std::ffi::OsString {
        let mut dirs = vec![self.bin.clone()];
        if let Some(p) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&p));
        }
        std::env::join_paths(dirs).expect("join PATH")
    }

    /// The git calls made so far, one a line.
    pub fn calls(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
