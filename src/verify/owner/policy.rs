//! Does an IAM user hold administrator rights? Read from its policies.
//!
//! "Active key of an admin" is what makes a leak urgent, so the owner record
//! says it plainly. The test is deliberately narrow and explainable: the AWS
//! managed `AdministratorAccess` policy, or any policy document with an
//! `Allow` statement whose `Action` includes `*` (or `*:*`) and whose
//! `Resource` includes `*`. Conditions, `Deny` statements, permission
//! boundaries and service control policies are not evaluated (a key that
//! passes this test may be fenced in by them; one that fails it may still
//! do harm through, say, `iam:*`). Pure, so it builds without `verify`.

use serde_json::Value;

/// The name of AWS's own administrator policy.
pub const ADMINISTRATOR_ACCESS: &str = "AdministratorAccess";

/// True for `arn:PARTITION:iam::aws:policy/…`: a policy AWS maintains, whose
/// document keysweep does not fetch.
pub fn is_aws_managed(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    matches!(
        (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next()
        ),
        (Some("arn"), Some(_), Some("iam"), Some(""), Some("aws"), Some(r)) if r.starts_with("policy/")
    )
}

/// True for AWS's `AdministratorAccess` in any partition.
pub fn is_administrator_access(arn: &str) -> bool {
    is_aws_managed(arn) && arn.ends_with(":policy/AdministratorAccess")
}

/// A policy document that is not JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy document is not valid JSON")]
pub struct BadDocument;

/// IAM returns policy documents URL-encoded (RFC 3986) inside its XML; some
/// servers send them plain. Either way, the JSON text.
pub fn decode_document(raw: &str) -> String {
    let trimmed = raw.trim_start();
    if trimmed.starts_with('{') {
        return raw.to_string();
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let v = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(v as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a policy document (JSON text) allows every action on every
/// resource in some statement.
pub fn grants_everything(document: &str) -> Result<bool, BadDocument> {
    let doc: Value = serde_json::from_str(document).map_err(|_| BadDocument)?;
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    Ok(statements.into_iter().any(|s| {
        s.get("Effect").and_then(Value::as_str) == Some("Allow")
            && includes(s.get("Action"), |a| a == "*" || a == "*:*")
            && includes(s.get("Resource"), |r| r == "*")
    }))
}

/// Whether a policy element (a string or a list of strings) holds a value
/// matching `want`.
fn includes(element: Option<&Value>, want: impl Fn(&str) -> bool) -> bool {
    match element {
        Some(Value::String(s)) => want(s),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(want),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_on_star_is_admin_and_nothing_less() {
        let admin = [
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            r#"{"Statement":{"Effect":"Allow","Action":["s3:Get*","*:*"],"Resource":["arn:aws:s3:::x","*"]}}"#,
        ];
        for d in admin {
            assert_eq!(grants_everything(d), Ok(true), "{d}");
        }
        let not_admin = [
            r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::bucket/*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Action":"*","NotResource":"arn:aws:s3:::x"}]}"#,
            r#"{"Version":"2012-10-17"}"#,
        ];
        for d in not_admin {
            assert_eq!(grants_everything(d), Ok(false), "{d}");
        }
        assert_eq!(grants_everything("{not json"), Err(BadDocument));
    }

    #[test]
    fn documents_are_url_decoded_when_iam_encodes_them() {
        let encoded = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
        let plain = decode_document(encoded);
        assert_eq!(
            plain,
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        );
        assert_eq!(grants_everything(&plain), Ok(true));
        let already = r#" {"a":"100%"}"#;
        assert_eq!(decode_document(already), already, "plain JSON is kept");
        assert_eq!(
            decode_document("%zz%4"),
            "%zz%4",
            "broken escapes pass through"
        );
    }

    #[test]
    fn recognises_aws_managed_policies_in_any_partition() {
        assert!(is_administrator_access(
            "arn:aws:iam::aws:policy/AdministratorAccess"
        ));
        assert!(is_administrator_access(
            "arn:aws-us-gov:iam::aws:policy/AdministratorAccess"
        ));
        assert!(!is_administrator_access(
            "arn:aws:iam::123456789012:policy/AdministratorAccess"
        ));
        assert!(is_aws_managed(
            "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
        ));
        assert!(!is_aws_managed(
            "arn:aws:iam::123456789012:policy/everything"
        ));
        assert!(!is_aws_managed("not an arn"));
    }
}
