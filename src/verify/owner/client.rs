//! Signed requests to STS and IAM (Query protocol) and Organizations (JSON),
//! counted, bounded and retried in one place.
//!
//! Why not aws-sdk-iam and aws-sdk-organizations: the owner lookup needs
//! twelve IAM operations and one of Organizations, and those two crates
//! added 55 s to a clean debug build and 144 s to a release build here
//! (aws-sdk-iam alone is 17 MB of generated source), and 2.3 MB to the
//! stripped binary. Signing the requests with `aws-sigv4`, already built for
//! aws-sdk-sts, costs none of that; the answers are small XML and JSON
//! documents read in [`super::xml`].
//!
//! Every attempt claims one unit of the request budget before it is sent,
//! so concurrent lookups cannot overshoot it. Throttling and 5xx answers are
//! retried with doubling pauses; nothing else is, so a dead endpoint costs
//! one timeout per call, not five.

use super::xml::{self, Node};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_smithy_runtime_api::client::http::{
    http_client_fn, HttpConnector, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use aws_smithy_types::error::display::DisplayErrorContext;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Largest answer read; IAM and Organizations pages are a few KiB.
const MAX_ANSWER: usize = 8 << 20;

/// Error codes AWS services use for rate limiting.
const THROTTLING_CODES: [&str; 7] = [
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
];

/// Where one service is reached and how its requests are signed.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    /// SigV4 signing name: `sts`, `iam`, `organizations`.
    pub(crate) name: &'static str,
    /// Base URL, ending in `/`.
    pub(crate) url: String,
    /// SigV4 signing region.
    pub(crate) region: String,
}

/// Why a call gave no answer to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallError {
    /// AWS answered with an error.
    Service {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// No usable answer: network trouble, a timeout, a body that does not
    /// parse.
    Transport(String),
    /// The run's request budget is used up; nothing was sent.
    Budget(usize),
}

impl CallError {
    pub(crate) fn code(&self) -> Option<&str> {
        match self {
            CallError::Service { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Service {
                status,
                code,
                message,
            } => {
                write!(f, "HTTP {status}")?;
                if let Some(c) = code {
                    write!(f, " {c}")?;
                }
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            CallError::Transport(why) => f.write_str(why),
            CallError::Budget(max) => write!(f, "the request budget ({max}) is used up"),
        }
    }
}

/// Settings for [`Http::new`].
pub(crate) struct HttpSettings {
    pub(crate) timeout: Duration,
    pub(crate) retries: u32,
    pub(crate) backoff: Duration,
    pub(crate) max_requests: Option<usize>,
}

/// The one HTTP connection pool of a run, and its counters.
pub(crate) struct Http {
    connector: SharedHttpConnector,
    settings: HttpSettings,
    sent: AtomicUsize,
    by_action: Mutex<BTreeMap<String, usize>>,
}

impl Http {
    /// Builds the pool (call inside the tokio runtime). Building an HTTPS
    /// client reads every root certificate, so there is one per run, shared
    /// with aws-config's credential providers through [`Http::for_sdk`].
    pub(crate) fn new(settings: HttpSettings) -> Http {
        let connector = aws_smithy_http_client::Connector::builder()
            .connector_settings(
                HttpConnectorSettings::builder()
                    .connect_timeout(settings.timeout)
                    .read_timeout(settings.timeout)
                    .build(),
            )
            .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new())
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build();
        Http {
            connector: SharedHttpConnector::new(connector),
            settings,
            sent: AtomicUsize::new(0),
            by_action: Mutex::new(BTreeMap::new()),
        }
    }

    /// The same pool as an SDK HTTP client, for aws-config.
    pub(crate) fn for_sdk(&self) -> SharedHttpClient {
        let connector = self.connector.clone();
        http_client_fn(move |_, _| connector.clone())
    }

    /// Requests sent so far (attempts, retries included).
    pub(crate) fn sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }

    /// Requests sent per `service:Action`.
    pub(crate) fn by_action(&self) -> BTreeMap<String, usize> {
        self.by_action.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// A Query-protocol call (STS, IAM): form-encoded POST, XML answer.
    pub(crate) async fn query(
        &self,
        svc: &Service,
        creds: &Credentials,
        action: &str,
        version: &str,
        params: &[(&str, &str)],
    ) -> Result<Node, CallError> {
        let mut body = format!("Action={}&Version={}", form(action), form(version));
        for (k, v) in params {
            body.push('&');
            body.push_str(&form(k));
            body.push('=');
            body.push_str(&form(v));
        }
        let headers = [(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8".to_string(),
        )];
        let answer = self
            .send(svc, creds, action, &headers, body.into_bytes())
            .await?;
        let text = String::from_utf8_lossy(&answer);
        xml::parse(&text)
            .map_err(|e| CallError::Transport(format!("unreadable {} answer: {e}", svc.name)))
    }

    /// A JSON 1.1 call (Organizations).
    pub(crate) async fn json(
        &self,
        svc: &Service,
        creds: &Credentials,
        target_prefix: &str,
        action: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, CallError> {
        let headers = [
            ("content-type", "application/x-amz-json-1.1".to_string()),
            ("x-amz-target", format!("{target_prefix}.{action}")),
        ];
        let bytes = serde_json::to_vec(body)
            .map_err(|e| CallError::Transport(format!("could not encode the request: {e}")))?;
        let answer = self.send(svc, creds, action, &headers, bytes).await?;
        serde_json::from_slice(&answer)
            .map_err(|e| CallError::Transport(format!("unreadable {} answer: {e}", svc.name)))
    }

    /// Sends with retries; the answer body of a 2xx.
    async fn send(
        &self,
        svc: &Service,
        creds: &Credentials,
        action: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<Vec<u8>, CallError> {
        let mut retried = 0u32;
        loop {
            let sent_before = self.sent.fetch_add(1, Ordering::Relaxed);
            if let Some(max) = self.settings.max_requests {
                if sent_before >= max {
                    // Give the unit back: it was not used.
                    self.sent.fetch_sub(1, Ordering::Relaxed);
                    return Err(CallError::Budget(max));
                }
            }
            if let Ok(mut m) = self.by_action.lock() {
                *m.entry(format!("{}:{action}", svc.name)).or_insert(0) += 1;
            }
            let attempt = tokio::time::timeout(
                self.settings.timeout,
                self.attempt(svc, creds, headers, &body),
            )
            .await
            .unwrap_or_else(|_| {
                Err(CallError::Transport(format!(
                    "no answer from {} within {:?}",
                    svc.name, self.settings.timeout
                )))
            });
            let err = match attempt {
                Ok(answer) => return Ok(answer),
                Err(e) => e,
            };
            let again = match &err {
                CallError::Service { status, code, .. } => {
                    *status >= 500
                        || *status == 429
                        || code
                            .as_deref()
                            .is_some_and(|c| THROTTLING_CODES.contains(&c))
                }
                _ => false,
            };
            if !again || retried >= self.settings.retries {
                return Err(err);
            }
            tokio::time::sleep(self.settings.backoff.saturating_mul(1 << retried.min(16))).await;
            retried += 1;
        }
    }

    async fn attempt(
        &self,
        svc: &Service,
        creds: &Credentials,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Vec<u8>, CallError> {
        let identity = creds.clone().into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&svc.region)
            .name(svc.name)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| CallError::Transport(format!("could not sign the request: {e}")))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            &svc.url,
            headers.iter().map(|(k, v)| (*k, v.as_str())),
            SignableBody::Bytes(body),
        )
        .map_err(|e| CallError::Transport(format!("could not sign the request: {e}")))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| CallError::Transport(format!("could not sign the request: {e}")))?
            .into_parts();
        let mut builder = http::Request::builder().method("POST").uri(&svc.url);
        for (k, v) in headers {
            builder = builder.header(*k, v);
        }
        let mut request = builder
            .body(SdkBody::from(body.to_vec()))
            .map_err(|e| CallError::Transport(format!("could not build the request: {e}")))?;
        instructions.apply_to_request_http1x(&mut request);
        let request = aws_smithy_runtime_api::http::Request::try_from(request)
            .map_err(|e| CallError::Transport(format!("could not build the request: {e}")))?;
        let response = self.connector.call(request).await.map_err(|e| {
            CallError::Transport(format!(
                "could not reach {}: {}",
                svc.name,
                DisplayErrorContext(&e)
            ))
        })?;
        let status = response.status().as_u16();
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .map(str::to_string);
        let mut stream = ByteStream::new(response.into_body());
        let mut answer = Vec::new();
        loop {
            match stream.try_next().await {
                Ok(Some(chunk)) => {
                    if answer.len() + chunk.len() > MAX_ANSWER {
                        return Err(CallError::Transport(format!(
                            "{} answer larger than {MAX_ANSWER} bytes",
                            svc.name
                        )));
                    }
                    answer.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(CallError::Transport(format!(
                        "{} answer cut short: {}",
                        svc.name,
                        DisplayErrorContext(&e)
                    )))
                }
            }
        }
        if (200..300).contains(&status) {
            return Ok(answer);
        }
        let (code, message) = error_of(&answer, error_type.as_deref());
        Err(CallError::Service {
            status,
            code,
            message,
        })
    }
}

/// Code and message of an error answer, in any of the shapes AWS (and its
/// emulators) use: Query `<ErrorResponse><Error>`, `<Errors><Error>`, JSON
/// `__type`, or the `x-amzn-ErrorType` header.
fn error_of(body: &[u8], header: Option<&str>) -> (Option<String>, String) {
    let text = String::from_utf8_lossy(body);
    let (mut code, mut message) = (None, String::new());
    if let Ok(root) = xml::parse(&text) {
        let error = root
            .at(&["Error"])
            .or_else(|| root.at(&["Errors", "Error"]));
        if let Some(e) = error {
            code = e.text_at(&["Code"]);
            message = e.text_at(&["Message"]).unwrap_or_default();
        }
    } else if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        code = v.get("__type").and_then(|t| t.as_str()).map(short_code);
        message = v
            .get("message")
            .or_else(|| v.get("Message"))
            .and_then(|m| m.as_str())
            .unwrap_or_default()
            .to_string();
    }
    if code.is_none() {
        code = header.map(short_code).filter(|c| !c.is_empty());
    }
    (code, cap(&message, 300))
}

/// `com.amazonaws.x#SomeException:extra` → `SomeException`.
fn short_code(raw: &str) -> String {
    let after_hash = raw.rsplit('#').next().unwrap_or(raw);
    after_hash
        .split(':')
        .next()
        .unwrap_or(after_hash)
        .trim()
        .to_string()
}

/// At most `max` characters of `s`.
pub(crate) fn cap(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// A form value as AWS Query signing wants it: strict RFC 3986 encoding.
fn form(s: &str) -> String {
    crate::term::percent_encode(s.as_bytes(), b"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_form_values_strictly() {
        assert_eq!(form("ListAccessKeys"), "ListAccessKeys");
        assert_eq!(
            form("arn:aws:iam::1:role/a b+c"),
            "arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b%2Bc"
        );
        assert_eq!(form("é"), "%C3%A9");
    }

    #[test]
    fn reads_error_codes_in_every_shape() {
        let query = br#"<ErrorResponse xmlns="x"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error><RequestId>1</RequestId></ErrorResponse>"#;
        assert_eq!(
            error_of(query, None),
            (Some("AccessDenied".into()), "no".into())
        );
        let moto = br#"<ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code><Message>bad</Message></Error></Errors></ErrorResponse>"#;
        assert_eq!(
            error_of(moto, None).0.as_deref(),
            Some("InvalidClientTokenId")
        );
        let json = br#"{"__type":"com.amazonaws.organizations#AWSOrganizationsNotInUseException","Message":"not in an org"}"#;
        assert_eq!(
            error_of(json, None),
            (
                Some("AWSOrganizationsNotInUseException".into()),
                "not in an org".into()
            )
        );
        assert_eq!(
            error_of(b"", Some("ThrottlingException:http://internal"))
                .0
                .as_deref(),
            Some("ThrottlingException")
        );
        assert_eq!(error_of(b"<html>proxy</html>", None), (None, String::new()));
    }

    #[test]
    fn display_is_one_line_of_facts() {
        let e = CallError::Service {
            status: 403,
            code: Some("AccessDenied".into()),
            message: "not authorized".into(),
        };
        assert_eq!(e.to_string(), "HTTP 403 AccessDenied: not authorized");
        assert_eq!(
            CallError::Service {
                status: 502,
                code: None,
                message: String::new()
            }
            .to_string(),
            "HTTP 502"
        );
        assert_eq!(
            CallError::Budget(10).to_string(),
            "the request budget (10) is used up"
        );
        assert_eq!(cap("abcdef", 3), "abc…");
        assert_eq!(cap("ab", 3), "ab");
    }
}
