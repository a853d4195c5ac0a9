//! `verify_findings` against a real STS-compatible server on loopback
//! (moto, signatures enforced): every verdict comes from an actual signed
//! request, and the server counts what reaches it.

use crate::support::sts::{self, ACCOUNT};
use keysweep::diag::Diagnostics;
use keysweep::finding::{
    Confidence, Credential, Finding, Location, Origin, Part, Position, ReportPath, Secret, Verdict,
};
use keysweep::report::remediation::remediation;
use keysweep::verify::canary::account_id_from_key_id;
use keysweep::verify::{verify_findings, VerifyOptions, VerifySummary};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn part<V>(value: V) -> Part<V> {
    Part {
        value,
        position: Position {
            offset: 0,
            line: 1,
            column: 1,
        },
        encoding: None,
    }
}

/// A finding as the detector would make it (account decoded offline).
fn finding(key_id: Option<&str>, secret: Option<&str>, token: Option<&str>) -> Finding {
    Finding {
        credential: Credential {
            access_key_id: key_id.map(|k| part(k.to_string())),
            secret_access_key: secret.map(|s| part(Secret::new(s))),
            session_token: token.map(|t| part(Secret::new(t))),
            account_id: key_id.and_then(account_id_from_key_id),
            confidence: Confidence::High,
            member: None,
            presigned: None,
        },
        location: Location {
            repo: None,
            path: ReportPath::from("config/prod.env"),
            origin: Origin::File,
        },
        verdict: None,
        owner: None,
        recorded_fingerprint: None,
    }
}

/// A verdict's kind, for assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Live,
    Invalid,
    Expired,
    Unverified,
    Canary,
    Skipped,
}

/// A verdict seen flat: its kind and the fields the JSON contract carries.
#[derive(Debug, Default)]
struct View {
    arn: Option<String>,
    account: Option<String>,
    user_id: Option<String>,
    error: Option<String>,
}

fn view(f: &Finding) -> View {
    match f.verdict.as_ref().expect("verified") {
        Verdict::Live {
            arn,
            account,
            user_id,
        } => View {
            arn: Some(arn.to_string()),
            account: Some(account.clone()),
            user_id: Some(user_id.clone()),
            error: None,
        },
        Verdict::Invalid { code } => View {
            error: Some(code.clone()),
            ..View::default()
        },
        Verdict::Expired => View {
            error: Some("ExpiredToken".into()),
            ..View::default()
        },
        Verdict::Unverified { reason } | Verdict::Skipped { reason } => View {
            error: Some(reason.clone()),
            ..View::default()
        },
        Verdict::Canary { account, reason } => View {
            account: Some(account.clone()),
            error: Some(reason.clone()),
            ..View::default()
        },
    }
}

fn fixture_finding(name: &str) -> Finding {
    let f = sts::server().fixture(name);
    finding(
        Some(&f.access_key_id),
        Some(&f.secret_access_key),
        f.session_token.as_deref(),
    )
}

fn opts() -> VerifyOptions {
    VerifyOptions {
        endpoint: Some(sts::server().endpoint.clone()),
        signature_retry_pause: Duration::from_millis(200),
        throttle_backoff: Duration::from_millis(20),
        ..VerifyOptions::default()
    }
}

fn run(findings: &mut [Finding], opts: &VerifyOptions) -> VerifySummary {
    verify_findings(findings, opts, &Diagnostics::silent()).expect("verification runs")
}

fn status(f: &Finding) -> Status {
    match f.verdict.as_ref().expect("verified") {
        Verdict::Live { .. } => Status::Live,
        Verdict::Invalid { .. } => Status::Invalid,
        Verdict::Expired => Status::Expired,
        Verdict::Unverified { .. } => Status::Unverified,
        Verdict::Canary { .. } => Status::Canary,
        Verdict::Skipped { .. } => Status::Skipped,
    }
}

fn error(f: &Finding) -> String {
    view(f).error.unwrap_or_default()
}

/// A well-formed key ID in `account` that no server has issued; unique per
/// call so that per-key request counts belong to one test.
pub(crate) fn key_id_in(prefix: &str, account: u64) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let salt = NEXT.fetch_add(1, Ordering::Relaxed) ^ (u64::from(std::process::id()) << 20);
    // 80 bits: flag bit, account << 7, 7 random bits, then 32 random bits;
    // the layout account_id_from_key_id decodes.
    let z: u128 = (1 << 47) | (u128::from(account) << 7) | u128::from(salt & 0x7f);
    let bits = (z << 32) | u128::from((salt >> 7) as u32 ^ 0x5a5a_5a5a);
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut id = prefix.to_string();
    for i in (0..16).rev() {
        id.push(ALPHABET[((bits >> (i * 5)) & 31) as usize] as char);
    }
    assert_eq!(
        account_id_from_key_id(&id),
        Some(format!("{account:012}")),
        "{id}"
    );
    id
}

/// Random-looking, and in no account: only the key ID decides the verdict.
const SOME_SECRET: &str = "u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzd";

#[test]
fn live_long_term_key_is_live_with_user_arn() {
    let fx = sts::server().fixture("live");
    let mut findings = vec![fixture_finding("live")];
    let summary = run(&mut findings, &opts());
    let v = view(&findings[0]);
    assert_eq!(status(&findings[0]), Status::Live, "{v:?}");
    assert_eq!(v.arn.as_deref(), fx.arn.as_deref());
    assert_eq!(
        v.arn.as_deref(),
        Some("arn:aws:iam::123456789012:user/deploy/ci-deployer")
    );
    assert_eq!(v.account.as_deref(), Some(ACCOUNT));
    assert!(v.user_id.as_deref().is_some_and(|u| !u.is_empty()));
    assert_eq!(v.error, None);
    assert_eq!(
        summary,
        VerifySummary {
            distinct: 1,
            requests: 1,
            cached: 0,
            canary: 0,
            live: 1,
            over_budget: 0,
        }
    );

    let steps = remediation(&findings[0]).expect("live key has remediation");
    assert_eq!(
        steps[0],
        format!("aws iam update-access-key --user-name ci-deployer --access-key-id {} --status Inactive", fx.access_key_id)
    );
}

#[test]
fn long_term_key_is_sent_without_a_stray_session_token() {
    // The detector may pair a token found nearby with an AKIA key; STS
    // would reject the key with it.
    let fx = sts::server().fixture("live");
    let token = sts::server().fixture("temporary").session_token.clone();
    let mut findings = vec![finding(
        Some(&fx.access_key_id),
        Some(&fx.secret_access_key),
        token.as_deref(),
    )];
    run(&mut findings, &opts());
    assert_eq!(
        status(&findings[0]),
        Status::Live,
        "{:?}",
        findings[0].verdict
    );
}

#[test]
fn second_user_key_gets_its_own_arn() {
    let mut findings = vec![fixture_finding("live_second_user"), fixture_finding("live")];
    let summary = run(&mut findings, &opts());
    assert_eq!(summary.live, 2);
    let arn = |f: &Finding| view(f).arn;
    assert_eq!(
        arn(&findings[0]).as_deref(),
        Some("arn:aws:iam::123456789012:user/svc-reporting")
    );
    assert_ne!(arn(&findings[0]), arn(&findings[1]));
}

#[test]
fn deactivated_deleted_and_unknown_keys_are_invalid() {
    let unknown = key_id_in("AKIA", 123_456_789_012);
    let mut findings = vec![
        fixture_finding("deactivated"),
        fixture_finding("deleted"),
        finding(Some(&unknown), Some(SOME_SECRET), None),
    ];
    let summary = run(&mut findings, &opts());
    for f in &findings {
        assert_eq!(status(f), Status::Invalid, "{:?}", f.verdict);
        assert_eq!(error(f), "InvalidClientTokenId");
    }
    assert_eq!(summary.requests, 3, "no retries for InvalidClientTokenId");
    assert_eq!(sts::server().requests_for(&unknown), 1);
}

#[test]
fn wrong_secret_is_invalid_after_exactly_one_retry() {
    let server = sts::server();
    let key_id = &server.fixture("wrong_secret_target").access_key_id;
    let mut findings = vec![finding(Some(key_id), Some(SOME_SECRET), None)];
    let started = Instant::now();
    let summary = run(&mut findings, &opts());
    assert_eq!(
        status(&findings[0]),
        Status::Invalid,
        "{:?}",
        findings[0].verdict
    );
    assert_eq!(error(&findings[0]), "SignatureDoesNotMatch");
    assert_eq!(summary.requests, 2);
    assert_eq!(server.requests_for(key_id), 2, "asked twice, no more");
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "paused before the retry"
    );
}

#[test]
fn signature_expired_is_a_clock_problem_not_a_verdict() {
    // What STS says when this machine's clock is more than 15 minutes off.
    let server = sts::server();
    let fx = server.fixture("clock_skew");
    let message = "Signature expired: 20260101T000000Z is now earlier than 20261122T180000Z (20261122T181500Z - 15 min.)";
    server.inject_message(&fx.access_key_id, 1, 403, "SignatureDoesNotMatch", message);
    let mut findings = vec![fixture_finding("clock_skew")];
    let summary = run(&mut findings, &opts());
    assert_eq!(
        status(&findings[0]),
        Status::Unverified,
        "{:?}",
        findings[0].verdict
    );
    assert!(
        error(&findings[0]).contains("clock"),
        "{}",
        error(&findings[0])
    );
    assert_eq!(summary.requests, 1);
}

#[test]
fn temporary_key_with_token_is_live_as_assumed_role() {
    let mut findings = vec![fixture_finding("temporary")];
    run(&mut findings, &opts());
    let v = view(&findings[0]);
    assert_eq!(status(&findings[0]), Status::Live, "{v:?}");
    assert_eq!(
        v.arn.as_deref(),
        Some("arn:aws:sts::123456789012:assumed-role/ci-deploy-role/keysweep-test")
    );
    let steps = remediation(&findings[0]).expect("remediation");
    assert!(
        steps[0].contains("temporary") && steps[0].contains("ci-deploy-role"),
        "{steps:?}"
    );
}

#[test]
fn expired_session_is_expired() {
    let mut findings = vec![fixture_finding("temporary_expired")];
    run(&mut findings, &opts());
    assert_eq!(
        status(&findings[0]),
        Status::Expired,
        "{:?}",
        findings[0].verdict
    );
    assert_eq!(error(&findings[0]), "ExpiredToken");
}

#[test]
fn temporary_key_without_its_token_is_invalid() {
    let fx = sts::server().fixture("temporary");
    assert!(fx.access_key_id.starts_with("ASIA"));
    let mut findings = vec![finding(
        Some(&fx.access_key_id),
        Some(&fx.secret_access_key),
        None,
    )];
    run(&mut findings, &opts());
    assert_eq!(
        status(&findings[0]),
        Status::Invalid,
        "{:?}",
        findings[0].verdict
    );
    assert_eq!(error(&findings[0]), "InvalidClientTokenId");
}

#[test]
fn canary_and_skip_listed_accounts_are_never_contacted() {
    let server = sts::server();
    // Thinkst's own account, decoded by the detector
    let thinkst = "AKIASP2TPHJSQH3FJRUX";
    // a knockoff canary account, with no account decoded by the detector:
    // the verifier must decode it itself
    let knockoff = key_id_in("AKIA", 44_858_866_125);
    let mut undecoded = finding(Some(&knockoff), Some(SOME_SECRET), None);
    undecoded.credential.account_id = None;
    // moto's own account, put on the skip list by the user
    let skip_listed = key_id_in("AKIA", 123_456_789_012);
    let mut findings = vec![
        finding(Some(thinkst), Some(SOME_SECRET), None),
        undecoded,
        finding(Some(&skip_listed), Some(SOME_SECRET), None),
    ];
    let opts = VerifyOptions {
        skip_accounts: vec![ACCOUNT.to_string()],
        ..opts()
    };
    let summary = run(&mut findings, &opts);

    for f in &findings {
        assert_eq!(status(f), Status::Canary, "{:?}", f.verdict);
    }
    assert_eq!(view(&findings[0]).account.as_deref(), Some("171436882533"));
    assert_eq!(view(&findings[1]).account.as_deref(), Some("044858866125"));
    assert!(
        error(&findings[2]).contains("skip list"),
        "{}",
        error(&findings[2])
    );
    assert_eq!(
        summary,
        VerifySummary {
            distinct: 3,
            requests: 0,
            cached: 0,
            canary: 3,
            live: 0,
            over_budget: 0,
        }
    );
    for key in [thinkst, knockoff.as_str(), skip_listed.as_str()] {
        assert_eq!(server.requests_for(key), 0, "{key} reached the server");
    }
}

#[test]
fn unreachable_endpoint_is_unverified_and_not_cached() {
    // A port that was just free and is now closed: connections are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("cache.json");
    let opts = VerifyOptions {
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        cache_file: Some(cache.clone()),
        ..opts()
    };
    let mut findings = vec![fixture_finding("live")];
    let summary = run(&mut findings, &opts);
    assert_eq!(
        status(&findings[0]),
        Status::Unverified,
        "{:?}",
        findings[0].verdict
    );
    assert!(
        error(&findings[0]).contains("could not reach STS"),
        "{}",
        error(&findings[0])
    );
    assert_eq!(summary.requests, 1);
    assert_eq!(summary.live, 0);
    assert!(!cache.exists(), "nothing worth caching, nothing written");
}

#[test]
fn same_credential_in_1000_findings_is_asked_once() {
    let server = sts::server();
    let fx = server.fixture("dedupe");
    let mut findings: Vec<Finding> = (0..1000)
        .map(|i| {
            let mut f = fixture_finding("dedupe");
            f.location.path = ReportPath::from(format!("copies/{i}.env").as_str());
            f
        })
        .collect();
    let summary = run(&mut findings, &opts());
    assert_eq!(
        summary,
        VerifySummary {
            distinct: 1,
            requests: 1,
            cached: 0,
            canary: 0,
            live: 1,
            over_budget: 0,
        }
    );
    assert!(findings.iter().all(|f| status(f) == Status::Live));
    assert!(findings.iter().all(|f| f.verdict == findings[0].verdict));
    assert_eq!(server.requests_for(&fx.access_key_id), 1);
}

#[test]
fn cache_file_answers_the_second_run_without_requests() {
    let server = sts::server();
    let fx = server.fixture("cache");
    let unknown = key_id_in("AKIA", 123_456_789_012);
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("state/verify-cache.json");
    let opts = VerifyOptions {
        cache_file: Some(cache.clone()),
        ..opts()
    };
    let make = || {
        vec![
            fixture_finding("cache"),
            finding(Some(&unknown), Some(SOME_SECRET), None),
        ]
    };

    let mut first = make();
    let s1 = run(&mut first, &opts);
    assert_eq!((s1.requests, s1.cached, s1.live), (2, 0, 1));
    assert_eq!(status(&first[0]), Status::Live);
    assert_eq!(status(&first[1]), Status::Invalid);

    let text = std::fs::read_to_string(&cache).expect("cache written");
    assert!(
        !text.contains(&fx.secret_access_key),
        "the cache must not hold secrets"
    );
    assert!(
        !text.contains(SOME_SECRET),
        "the cache must not hold secrets"
    );

    let mut second = make();
    let s2 = run(&mut second, &opts);
    assert_eq!(
        s2,
        VerifySummary {
            distinct: 2,
            requests: 0,
            cached: 2,
            canary: 0,
            live: 1,
            over_budget: 0,
        }
    );
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.verdict, b.verdict);
    }
    assert_eq!(server.requests_for(&fx.access_key_id), 1);
    assert_eq!(server.requests_for(&unknown), 1);

    // a verdict older than the TTL is asked again
    let mut third = make();
    let s3 = run(
        &mut third,
        &VerifyOptions {
            cache_ttl: Duration::ZERO,
            ..opts.clone()
        },
    );
    assert_eq!((s3.requests, s3.cached), (2, 0));
    assert_eq!(server.requests_for(&fx.access_key_id), 2);
}

#[test]
fn corrupt_cache_file_is_replaced() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("cache.json");
    std::fs::write(&cache, "{ this is not json").expect("write");
    let unknown = key_id_in("AKIA", 123_456_789_012);
    let mut findings = vec![finding(Some(&unknown), Some(SOME_SECRET), None)];
    let summary = run(
        &mut findings,
        &VerifyOptions {
            cache_file: Some(cache.clone()),
            ..opts()
        },
    );
    assert_eq!((summary.requests, summary.cached), (1, 0));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cache).expect("read")).expect("json");
    assert_eq!(doc["entries"].as_object().map(|m| m.len()), Some(1));
}

#[test]
fn key_id_without_secret_is_skipped_without_a_request() {
    let server = sts::server();
    let lonely = key_id_in("AKIA", 123_456_789_012);
    let mut findings = vec![
        finding(Some(&lonely), None, None),
        finding(None, Some(SOME_SECRET), None),
    ];
    let summary = run(&mut findings, &opts());
    assert!(
        findings.iter().all(|f| status(f) == Status::Skipped),
        "{findings:?}"
    );
    assert_eq!(summary.requests, 0);
    assert_eq!(server.requests_for(&lonely), 0);
}

/// A presigned URL's key ID is never sent to STS: the URL holds no secret,
/// and even a finding that claimed one would not be verified as a key pair.
#[test]
fn presigned_urls_are_never_verified() {
    use keysweep::detect::Detector;
    use keysweep::finding::{Presigned, Signing};

    let server = sts::server();
    let live = server.fixture("live_second_user");
    let temp = server.fixture("temporary");
    let token = temp.session_token.as_deref().expect("token");
    let url = format!(
        "curl 'https://b.s3.amazonaws.com/k.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600&X-Amz-Security-Token={}&X-Amz-SignedHeaders=host&X-Amz-Signature=0a1b'\n",
        temp.access_key_id,
        token.replace('/', "%2F").replace('+', "%2B").replace('=', "%3D"),
    );
    let mut findings: Vec<Finding> = Detector::new()
        .detect(url.as_bytes())
        .into_iter()
        .map(|c| {
            let mut f = finding(None, None, None);
            f.credential = c;
            f
        })
        .collect();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(findings[0].credential.presigned.is_some());
    assert!(findings[0].credential.session_token.is_some());
    let mut forged = finding(
        Some(&live.access_key_id),
        Some(&live.secret_access_key),
        None,
    );
    forged.credential.presigned = Some(Presigned {
        signing: Signing::Sigv4,
        expires: None,
    });
    findings.push(forged);
    let summary = run(&mut findings, &opts());
    assert_eq!(summary.requests, 0);
    for f in &findings {
        assert_eq!(status(f), Status::Skipped, "{f:?}");
        assert!(error(f).contains("presigned"), "{}", error(f));
    }
    assert_eq!(server.requests_for(&temp.access_key_id), 0);
    assert_eq!(server.requests_for(&live.access_key_id), 0);
}

#[test]
fn throttling_is_retried_with_backoff() {
    let server = sts::server();
    let fx = server.fixture("throttled_then_live");
    server.inject(&fx.access_key_id, 2, 400, Some("Throttling"));
    let mut findings = vec![fixture_finding("throttled_then_live")];
    let summary = run(&mut findings, &opts());
    assert_eq!(
        status(&findings[0]),
        Status::Live,
        "{:?}",
        findings[0].verdict
    );
    assert_eq!(summary.requests, 3);
    assert_eq!(server.requests_for(&fx.access_key_id), 3);
}

#[test]
fn endless_throttling_gives_up_as_unverified() {
    let server = sts::server();
    let fx = server.fixture("throttled_forever");
    server.inject(&fx.access_key_id, 1000, 400, Some("Throttling"));
    let mut findings = vec![fixture_finding("throttled_forever")];
    let opts = VerifyOptions {
        throttle_retries: 2,
        ..opts()
    };
    let summary = run(&mut findings, &opts);
    assert_eq!(status(&findings[0]), Status::Unverified);
    assert!(
        error(&findings[0]).contains("Throttling"),
        "{}",
        error(&findings[0])
    );
    assert_eq!(summary.requests, 3, "one try and two retries");
}

#[test]
fn server_errors_and_codeless_403s_are_no_verdict() {
    let server = sts::server();
    let five = server.fixture("server_error");
    let proxy = server.fixture("bare_403");
    server.inject(&five.access_key_id, 1, 500, Some("InternalFailure"));
    server.inject(&proxy.access_key_id, 1, 403, None);
    let mut findings = vec![fixture_finding("server_error"), fixture_finding("bare_403")];
    run(&mut findings, &opts());
    assert_eq!(
        status(&findings[0]),
        Status::Unverified,
        "{:?}",
        findings[0].verdict
    );
    assert!(
        error(&findings[0]).contains("500"),
        "{}",
        error(&findings[0])
    );
    assert_eq!(
        status(&findings[1]),
        Status::Unverified,
        "{:?}",
        findings[1].verdict
    );
    assert!(
        error(&findings[1]).contains("403"),
        "{}",
        error(&findings[1])
    );
}

#[test]
fn errors_never_contain_the_secret() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let fx = sts::server().fixture("temporary");
    let mut findings = vec![
        fixture_finding("temporary"),
        finding(Some(&fx.access_key_id), Some(SOME_SECRET), None),
    ];
    let opts = VerifyOptions {
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        ..opts()
    };
    run(&mut findings, &opts);
    for f in &findings {
        let text = format!("{:?}", f.verdict);
        assert!(
            !text.contains(&fx.secret_access_key) && !text.contains(SOME_SECRET),
            "{text}"
        );
        assert!(
            !text.contains(fx.session_token.as_deref().expect("token")),
            "{text}"
        );
    }
}

#[test]
fn bad_options_are_errors() {
    let diag = Diagnostics::silent();
    let unknown = key_id_in("AKIA", 123_456_789_012);
    let mut findings = vec![finding(Some(&unknown), Some(SOME_SECRET), None)];
    let zero = VerifyOptions {
        concurrency: 0,
        ..opts()
    };
    assert!(verify_findings(&mut findings, &zero, &diag).is_err());
    let bad = VerifyOptions {
        endpoint: Some("127.0.0.1:1".into()),
        ..opts()
    };
    let err = verify_findings(&mut findings, &bad, &diag).expect_err("no scheme");
    assert!(err.to_string().contains("http://"), "{err}");
    assert_eq!(findings[0].verdict, None, "nothing was done");
    assert_eq!(sts::server().requests_for(&unknown), 0);
}

#[test]
fn silent_endpoint_times_out_as_unverified() {
    // Listening but never answering: the kernel completes the handshake,
    // nobody reads the request.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let opts = VerifyOptions {
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        timeout: Duration::from_millis(300),
        ..opts()
    };
    let mut findings = vec![fixture_finding("live")];
    let started = Instant::now();
    run(&mut findings, &opts);
    assert_eq!(
        status(&findings[0]),
        Status::Unverified,
        "{:?}",
        findings[0].verdict
    );
    assert!(
        error(&findings[0]).contains("no answer"),
        "{}",
        error(&findings[0])
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded by the timeout"
    );
}

#[test]
fn concurrency_bounds_requests_in_flight() {
    // Six requests that each hang until the 300 ms timeout: at concurrency
    // 2 they need three rounds, at 6 one.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let timeout = Duration::from_millis(300);
    let findings = || -> Vec<Finding> {
        (0..6)
            .map(|_| {
                finding(
                    Some(&key_id_in("AKIA", 123_456_789_012)),
                    Some(SOME_SECRET),
                    None,
                )
            })
            .collect()
    };
    let timed = |concurrency: usize| {
        let opts = VerifyOptions {
            endpoint: Some(format!("http://127.0.0.1:{port}")),
            timeout,
            concurrency,
            ..opts()
        };
        let mut f = findings();
        let started = Instant::now();
        let s = run(&mut f, &opts);
        assert_eq!(s.requests, 6);
        assert!(f.iter().all(|f| status(f) == Status::Unverified));
        started.elapsed()
    };
    let bounded = timed(2);
    assert!(bounded >= timeout * 3, "at most 2 in flight: {bounded:?}");
    let wide = timed(6);
    assert!(wide < timeout * 3, "6 in flight at once: {wide:?}");
}

#[test]
fn request_budget_caps_the_run() {
    let server = sts::server();
    let keys: Vec<String> = (0..3).map(|_| key_id_in("AKIA", 123_456_789_012)).collect();
    let mut findings: Vec<Finding> = keys
        .iter()
        .map(|k| finding(Some(k), Some(SOME_SECRET), None))
        .collect();
    let opts = VerifyOptions {
        max_requests: Some(1),
        ..opts()
    };
    let summary = run(&mut findings, &opts);
    assert_eq!(summary.requests, 1);
    assert_eq!(summary.over_budget, 2);
    let sent: u64 = keys.iter().map(|k| server.requests_for(k)).sum();
    assert_eq!(sent, 1, "the budget is a hard cap");
    let over: Vec<&Finding> = findings
        .iter()
        .filter(|f| status(f) == Status::Unverified)
        .collect();
    assert_eq!(over.len(), 2);
    assert!(over.iter().all(|f| error(f).contains("budget")), "{over:?}");
}

/// Throughput against the loopback server and the request count of a
/// duplicate-heavy corpus. Ignored by default (timing, not correctness);
/// `bench/verify.sh` runs it. moto answers from one Python process, so these
/// numbers measure keysweep plus moto, not AWS's rate limits.
#[test]
#[ignore = "benchmark: run with bench/verify.sh"]
fn bench_verify_throughput() {
    let server = sts::server();
    let distinct = 400;
    let corpus = |n: usize| -> Vec<Finding> {
        (0..n)
            .map(|i| {
                if i < sts::BENCH_USERS {
                    fixture_finding(&format!("bench-{i:03}"))
                } else {
                    finding(
                        Some(&key_id_in("AKIA", 123_456_789_012)),
                        Some(SOME_SECRET),
                        None,
                    )
                }
            })
            .collect()
    };
    for concurrency in [1, 8] {
        let mut findings = corpus(distinct);
        let before = server.total_requests();
        let started = Instant::now();
        let s = run(
            &mut findings,
            &VerifyOptions {
                concurrency,
                ..opts()
            },
        );
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(s.requests, distinct);
        assert_eq!(server.total_requests() - before, distinct as u64);
        assert_eq!(s.live, sts::BENCH_USERS);
        println!(
            "bench: concurrency {concurrency}: {distinct} distinct credentials ({} live) in {secs:.2} s = {:.0} credentials/s",
            s.live,
            distinct as f64 / secs
        );
    }

    // Each credential found 25 times: one request per distinct credential.
    let copies = 25;
    let base = corpus(distinct);
    let mut findings: Vec<Finding> = base
        .iter()
        .flat_map(|f| std::iter::repeat_n(f.clone(), copies))
        .collect();
    let before = server.total_requests();
    let started = Instant::now();
    let s = run(&mut findings, &opts());
    let sent = server.total_requests() - before;
    assert_eq!(s.distinct, distinct);
    assert_eq!(sent, distinct as u64, "one request per distinct credential");
    println!(
        "bench: {} findings of {distinct} distinct credentials: {sent} requests in {:.2} s",
        findings.len(),
        started.elapsed().as_secs_f64()
    );
}

/// The library pipeline as the CLI runs it: files on disk → detector →
/// verification. Checks that what the detector hands over (pairs, session
/// tokens, decoded accounts) is what verification needs.
#[test]
fn scanned_files_verify_end_to_end() {
    use keysweep::blob::ReadLimits;
    use keysweep::detect::Detector;
    use keysweep::source::fs::{scan_paths, WalkOptions};

    let server = sts::server();
    let live = server.fixture("live_second_user");
    let temp = server.fixture("temporary");
    let gone = server.fixture("deleted");
    let copy = server.fixture("pipeline");
    let canary_key = "AKIAYVP4CIPPERUVIFXG"; // TruffleHog's README demo key: a canary
    let dir = tempfile::tempdir().expect("temp dir");
    crate::support::write(
        dir.path(),
        ".aws/credentials",
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n\
             [ci]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n\n\
             [old]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            live.access_key_id,
            live.secret_access_key,
            temp.access_key_id,
            temp.secret_access_key,
            temp.session_token.as_deref().expect("token"),
            gone.access_key_id,
            gone.secret_access_key,
        ),
    );
    crate::support::write(
        dir.path(),
        "deploy/canary.env",
        crate::support::env_file(canary_key, SOME_SECRET),
    );
    for name in ["a", "b", "c"] {
        crate::support::write(
            dir.path(),
            &format!("copies/{name}.env"),
            crate::support::env_file(&copy.access_key_id, &copy.secret_access_key),
        );
    }

    let diag = Diagnostics::silent();
    let walk = WalkOptions {
        respect_ignore: true,
        threads: 2,
        limits: ReadLimits::default(),
    };
    let mut findings =
        scan_paths(&[dir.path().to_path_buf()], &Detector::new(), &walk, &diag).findings;
    let summary = run(&mut findings, &opts());

    let status_of = |key: &str| -> Vec<Status> {
        findings
            .iter()
            .filter(|f| {
                f.credential
                    .access_key_id
                    .as_ref()
                    .is_some_and(|p| p.value == key)
            })
            .map(status)
            .collect()
    };
    assert_eq!(status_of(&live.access_key_id), [Status::Live]);
    assert_eq!(
        status_of(&temp.access_key_id),
        [Status::Live],
        "ASIA key paired with its token"
    );
    assert_eq!(status_of(&gone.access_key_id), [Status::Invalid]);
    assert_eq!(status_of(canary_key), [Status::Canary]);
    assert_eq!(status_of(&copy.access_key_id), [Status::Live; 3]);
    assert_eq!(summary.distinct, 5);
    assert_eq!(server.requests_for(canary_key), 0);
    assert_eq!(server.requests_for(&copy.access_key_id), 1);
}
