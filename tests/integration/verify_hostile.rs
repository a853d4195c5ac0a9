//! `--verify` against a server that lies (docs/security.md, "Verification
//! answers"): whatever an STS endpoint answers, keysweep prints only values
//! of the right shape, bounded in size, escaped for the terminal, and every
//! value in a suggested command is one shell word.

use crate::gitutil::credential;
use crate::support::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;

const HOSTILE_USER: &str = "ci$(touch${IFS}PWNED)|x;y&z";

fn ok_body(arn: &str, account: &str) -> String {
    format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <GetCallerIdentityResult><Arn>{arn}</Arn><UserId>AIDAEXAMPLE</UserId>\
         <Account>{account}</Account></GetCallerIdentityResult>\
         <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
    )
}

fn error_body(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>\
         <Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
         <RequestId>r</RequestId></ErrorResponse>"
    )
}

/// The answer for each key, by seed: (HTTP status, body).
fn answer(seed: u64) -> (u16, String) {
    match seed {
        // A live key whose user name is a shell injection.
        100 => (200, ok_body(&format!("arn:aws:iam::123456789012:user/{}", HOSTILE_USER.replace('&', "&amp;")), "123456789012")),
        // An ARN with terminal escapes and workflow commands: not an ARN.
        101 => (200, ok_body("arn:aws:iam::123456789012:user/&#x1b;[2J::stop-commands::x", "123456789012")),
        // Not an ARN at all, with quotes.
        102 => (200, ok_body("rm -rf '~'", "123456789012")),
        // A valid ARN but no 12-digit account anywhere.
        103 => (200, ok_body("arn:aws:iam:::user/x", "12345")),
        // An error code and message built to be printed.
        104 => (403, error_body("::add-mask::x##[stop-commands]y", &format!("&#x1b;]0;pwn&#x7;{}", "A".repeat(200_000)))),
        // An entity bomb.
        105 => (
            200,
            format!(
                "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\">\
                 <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\
                 <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\"><!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">]>{}",
                ok_body("arn:aws:iam::123456789012:user/&e;&e;&e;&e;&e;&e;", "123456789012")
            ),
        ),
        // Not XML.
        _ => (200, "\u{1b}[31m##[error]hello\n::error::there".to_string()),
    }
}

/// A loopback "STS" that answers by the key ID in the request's signature.
fn serve(listener: TcpListener) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut length, mut key) = (0usize, String::new());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if let Some(at) = line.find("Credential=") {
                    key = line[at + 11..].split('/').next().unwrap_or("").to_string();
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let seed = (100..=106).find(|&s| credential(s).0 == key).unwrap_or(106);
            let (status, body) = answer(seed);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        });
    }
}

#[test]
fn whatever_the_server_answers_only_well_formed_values_are_printed() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || serve(listener));
    let dir = tempfile::tempdir().unwrap();
    for seed in 100..=106 {
        write(
            dir.path(),
            &format!("k{seed}.env"),
            crate::gitutil::env_file(seed),
        );
    }
    let scan = |format: &str| {
        run(keysweep()
            .args([
                "scan",
                "--verify",
                "--color",
                "never",
                "--sts-endpoint",
                &endpoint,
                "--format",
                format,
            ])
            .arg(dir.path())
            .env("GITHUB_ACTIONS", "true"))
    };
    let json = scan("json");
    assert_eq!(json.code, 1, "{}", json.stderr);
    let status = |seed: u64| -> String {
        let id = credential(seed).0;
        let f = json
            .findings()
            .into_iter()
            .find(|f| f["access_key_id"]["value"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} not found"));
        f["verification"]["status"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(status(100), "live");
    for seed in 101..=106 {
        assert_eq!(
            status(seed),
            "unverified",
            "seed {seed}: a lie is no verdict"
        );
    }
    // No field of the report carries a server string beyond a bound.
    assert!(
        json.stdout.len() < 64 << 10,
        "{} bytes of report",
        json.stdout.len()
    );

    for format in ["text", "github"] {
        let r = scan(format);
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(
            !all.contains('\u{1b}') && !all.contains('\u{7}'),
            "{format}: raw control characters"
        );
        assert!(!all.contains("##["), "{format}: ##[ reached the log");
        for line in all.lines() {
            let t = line.trim_start();
            assert!(
                !t.starts_with("::")
                    || t.starts_with("::error file=")
                    || t.starts_with("::warning file="),
                "{format}: the runner would act on {line:?}"
            );
        }
        assert!(all.len() < 64 << 10, "{format}: {} bytes", all.len());
    }

    // The suggested command, run by a shell with `aws` stubbed, passes the
    // hostile user name as one word and runs nothing else.
    let text = scan("text").stdout;
    let line = text
        .lines()
        .map(|l| l.trim().trim_start_matches("- "))
        .find(|l| l.starts_with("aws iam update-access-key"))
        .unwrap_or_else(|| panic!("no suggested command:\n{text}"));
    let work = tempfile::tempdir().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("aws() {{ printf '%s\\n' \"$@\"; }}\n{line}"))
        .current_dir(work.path())
        .output()
        .unwrap();
    let words: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    let at = words
        .iter()
        .position(|w| w == "--user-name")
        .expect("--user-name");
    assert_eq!(words[at + 1], HOSTILE_USER);
    assert!(
        !work.path().join("PWNED").exists(),
        "the suggested command ran code"
    );
}
