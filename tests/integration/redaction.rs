//! No secret leaks by accident: random credentials, written in random file
//! formats, scanned in every output format without `--show-secrets`; no
//! full secret or session token (nor any long piece of one) may reach
//! stdout, stderr or the GitHub step summary. With `--show-secrets` the
//! JSON report must contain them all, so the test fails if nothing was
//! found at all.
//!
//! The generator is a fixed-seed xorshift: reproducible without a crate,
//! and `KEYSWEEP_REDACTION_SEED` replays another seed.

use crate::support::*;
use keysweep::detect::allow;
use std::path::Path;

/// xorshift64*: small, deterministic, good enough to pick characters.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }

    fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[self.below(alphabet.len())] as char)
            .collect()
    }
}

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// One generated credential.
struct Cred {
    key_id: String,
    secret: String,
    token: Option<String>,
    /// The file it was written to, for failure messages.
    file: String,
}

fn credential(rng: &mut Rng) -> Cred {
    let temporary = rng.below(2) == 0;
    let key_id = loop {
        // Old `AKIAI…`/`AKIAJ…` IDs are fine too; placeholders are not real.
        let id = format!(
            "{}{}",
            if temporary { "ASIA" } else { "AKIA" },
            rng.chars(BASE32, 16)
        );
        if !allow::is_placeholder_key_id(&id) {
            break id;
        }
    };
    let secret = loop {
        let s = rng.chars(BASE64, 40);
        // What a real secret looks like: both cases and random-looking.
        let shaped = s.bytes().any(|b| b.is_ascii_lowercase())
            && s.bytes().any(|b| b.is_ascii_uppercase())
            && keysweep::detect::entropy::shannon(s.as_bytes()) >= 4.6
            && !allow::is_placeholder_secret(&s);
        if shaped {
            break s;
        }
    };
    let token = temporary.then(|| {
        let len = 300 + rng.below(500);
        let prefix = rng.pick(&["IQoJb3JpZ2luX2Vj", "FwoGZXIvYXdz"]);
        let mut t = format!("{prefix}{}", rng.chars(BASE64, len));
        while t.len() % 4 != 0 {
            t.push('=');
        }
        t
    });
    Cred {
        key_id,
        secret,
        token,
        file: String::new(),
    }
}

/// The credential written as one of the formats people leak keys in.
fn render(rng: &mut Rng, c: &Cred) -> (&'static str, String) {
    let (id, s) = (&c.key_id, &c.secret);
    let t = c.token.as_deref();
    // The IAM console's CSV export (the last format) has no session token.
    match rng.below(if t.is_some() { 6 } else { 7 }) {
        0 => ("env", {
            let mut b = format!("AWS_REGION=eu-west-1\nAWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={s}\n");
            if let Some(t) = t {
                b += &format!("AWS_SESSION_TOKEN={t}\n");
            }
            b
        }),
        1 => ("ini", {
            let mut b = format!(
                "[profile ci]\naws_access_key_id = {id}\naws_secret_access_key = {s}\n"
            );
            if let Some(t) = t {
                b += &format!("aws_session_token = {t}\n");
            }
            b
        }),
        2 => ("json", {
            let mut v = serde_json::json!({"AccessKeyId": id, "SecretAccessKey": s});
            if let Some(t) = t {
                v["SessionToken"] = t.into();
            }
            // Pretty or compact, and `/` escaped as JavaScript writes it.
            let text = if rng.below(2) == 0 {
                serde_json::to_string_pretty(&v).unwrap()
            } else {
                serde_json::to_string(&v).unwrap()
            };
            text.replace('/', "\\/")
        }),
        3 => ("yaml", {
            let mut b = format!("aws:\n  access_key_id: {id}\n  secret_access_key: \"{s}\"\n");
            if let Some(t) = t {
                b += &format!("  session_token: {t}\n");
            }
            b
        }),
        4 => (
            "tf",
            format!(
                "provider \"aws\" {{\n  region     = \"us-east-1\"\n  access_key = \"{id}\"\n  secret_key = \"{s}\"\n{}}}\n",
                t.map_or(String::new(), |t| format!("  token      = \"{t}\"\n"))
            ),
        ),
        5 => (
            "py",
            format!(
                "import boto3\ns3 = boto3.client('s3', aws_access_key_id='{id}', aws_secret_access_key='{s}'{})\n",
                t.map_or(String::new(), |t| format!(", aws_session_token='{t}'"))
            ),
        ),
        _ => (
            "csv",
            format!("User name,Password,Access key ID,Secret access key,Console login link\nci,,{id},{s},https://example.signin.aws.amazon.com/console\n"),
        ),
    }
}

/// Every piece of `secret` that must never be printed: the whole value and
/// each 12-character window past what redaction shows (the first four).
fn pieces(secret: &str, shown: usize) -> impl Iterator<Item = &str> {
    let windows = (shown.max(4)..secret.len().saturating_sub(11)).map(move |i| &secret[i..i + 12]);
    std::iter::once(secret).chain(windows)
}

fn assert_no_leak(where_: &str, text: &str, creds: &[Cred]) {
    for c in creds {
        for piece in pieces(&c.secret, 4) {
            assert!(
                !text.contains(piece),
                "{where_} leaks secret {} (piece {piece:?}):\n{text}",
                c.secret
            );
        }
        if let Some(t) = &c.token {
            // The marker at the start is the same in every token: skip it.
            for piece in pieces(t, 16) {
                assert!(
                    !text.contains(piece),
                    "{where_} leaks a session token (piece {piece:?}):\n{text}"
                );
            }
        }
    }
}

fn scan(dir: &Path, format: &str, extra: &[&str], summary: Option<&Path>) -> Run {
    let mut cmd = keysweep();
    cmd.arg("scan")
        .arg(dir)
        .args(["--format", format, "--no-progress"])
        .args(extra)
        .env_remove("GITHUB_STEP_SUMMARY");
    if let Some(s) = summary {
        cmd.env("GITHUB_STEP_SUMMARY", s);
    }
    run(&mut cmd)
}

#[test]
fn no_output_format_prints_a_secret_without_show_secrets() {
    let seed = std::env::var("KEYSWEEP_REDACTION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_0FC0_FFEE_u64);
    let mut rng = Rng(seed);
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let mut creds = Vec::new();
        for i in 0..8 {
            let mut c = credential(&mut rng);
            let (ext, body) = render(&mut rng, &c);
            c.file = format!("r{round}/f{i}.{ext}");
            write(dir.path(), &c.file, body);
            creds.push(c);
        }
        let context = format!("seed {seed:#x}, round {round}");
        for format in ["text", "json", "jsonl", "sarif", "github"] {
            let r = scan(dir.path(), format, &[], None);
            assert_eq!(r.code, 1, "{context}, {format}: {}", r.stderr);
            assert_no_leak(&format!("{context}, {format} stdout"), &r.stdout, &creds);
            assert_no_leak(&format!("{context}, {format} stderr"), &r.stderr, &creds);
            // Colour and a terminal-style report must not change that.
            if format == "text" {
                let r = scan(dir.path(), format, &["--color", "always"], None);
                assert_no_leak(&format!("{context}, coloured text"), &r.stdout, &creds);
            }
        }
        let summary = dir.path().join("step-summary.md");
        let r = scan(dir.path(), "github", &[], Some(&summary));
        let written = std::fs::read_to_string(&summary).unwrap();
        assert!(written.contains(&creds[0].key_id), "{written}");
        assert_no_leak(&format!("{context}, github stdout"), &r.stdout, &creds);
        assert_no_leak(&format!("{context}, step summary"), &written, &creds);

        // The control: asked to, the report shows every secret and token.
        let r = scan(dir.path(), "json", &["--show-secrets"], None);
        for c in &creds {
            assert!(
                r.stdout.contains(&c.secret),
                "{context}: secret in {} not found with --show-secrets:\n{}",
                c.file,
                r.stdout
            );
            if let Some(t) = &c.token {
                assert!(
                    r.stdout.contains(t.as_str()),
                    "{context}: token in {} not found with --show-secrets:\n{}",
                    c.file,
                    r.stdout
                );
            }
        }
    }
}
