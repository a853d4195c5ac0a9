//! Options checked before anything runs, and where each service is
//! reached: the partition's default endpoints or the overrides.

use super::super::client::Service;
use super::super::{OwnerError, OwnerOptions};

/// Rejects options that cannot work before anything is done.
pub(super) fn check(opts: &OwnerOptions) -> Result<(), OwnerError> {
    if opts.concurrency == 0 {
        return Err(OwnerError::ZeroConcurrency);
    }
    if opts.region.as_deref().is_some_and(|r| r.trim().is_empty()) {
        return Err(OwnerError::EmptyRegion);
    }
    if let Some(role) = &opts.assume_role_name {
        let ok = (1..=64).contains(&role.len())
            && role
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
        if !ok {
            return Err(OwnerError::InvalidRoleName(role.clone()));
        }
    }
    let e = &opts.endpoints;
    for (service, url) in [
        ("STS", &e.sts),
        ("IAM", &e.iam),
        ("Organizations", &e.organizations),
    ] {
        if let Some(url) = url {
            check_endpoint(service, url)?;
        }
    }
    Ok(())
}

pub(super) fn check_endpoint(service: &'static str, url: &str) -> Result<(), OwnerError> {
    let bad = |why| OwnerError::InvalidEndpoint {
        service,
        url: url.to_string(),
        why,
    };
    let lower = url.to_ascii_lowercase();
    let rest = if let Some(r) = lower.strip_prefix("https://") {
        r
    } else if let Some(r) = lower.strip_prefix("http://") {
        let host = host_of(r);
        let loopback = host == "localhost"
            || host == "[::1]"
            || host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback());
        if !loopback {
            return Err(bad(
                "http:// is allowed only to a loopback address; use https://",
            ));
        }
        r
    } else {
        return Err(bad("expected an https:// URL"));
    };
    if host_of(rest).is_empty() {
        return Err(bad("no host"));
    }
    if rest.contains(['?', '#']) || rest.contains(char::is_whitespace) {
        return Err(bad(
            "a query, fragment or space has no place in an endpoint",
        ));
    }
    Ok(())
}

/// The host of `host[:port][/path]`, brackets kept for IPv6.
pub(super) fn host_of(after_scheme: &str) -> &str {
    let authority = after_scheme.split('/').next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or(authority)
    } else {
        authority.split(':').next().unwrap_or(authority)
    }
}

/// Partition of a region and the services' default endpoints in it.
pub(super) fn default_services(region: &str) -> (&'static str, Service, Service, Service) {
    let base = |url: String, name: &'static str, region: &str| Service {
        name,
        url,
        region: region.to_string(),
    };
    if region.starts_with("cn-") {
        (
            "aws-cn",
            base(
                format!("https://sts.{region}.amazonaws.com.cn/"),
                "sts",
                region,
            ),
            base(
                "https://iam.cn-north-1.amazonaws.com.cn/".into(),
                "iam",
                "cn-north-1",
            ),
            base(
                "https://organizations.cn-northwest-1.amazonaws.com.cn/".into(),
                "organizations",
                "cn-northwest-1",
            ),
        )
    } else if region.starts_with("us-gov-") {
        (
            "aws-us-gov",
            base(
                format!("https://sts.{region}.amazonaws.com/"),
                "sts",
                region,
            ),
            base(
                "https://iam.us-gov.amazonaws.com/".into(),
                "iam",
                "us-gov-west-1",
            ),
            base(
                "https://organizations.us-gov-west-1.amazonaws.com/".into(),
                "organizations",
                "us-gov-west-1",
            ),
        )
    } else {
        (
            "aws",
            base(
                format!("https://sts.{region}.amazonaws.com/"),
                "sts",
                region,
            ),
            base("https://iam.amazonaws.com/".into(), "iam", "us-east-1"),
            base(
                "https://organizations.us-east-1.amazonaws.com/".into(),
                "organizations",
                "us-east-1",
            ),
        )
    }
}

pub(super) fn with_override(mut svc: Service, url: &Option<String>) -> Service {
    if let Some(u) = url {
        svc.url = if u.ends_with('/') {
            u.clone()
        } else {
            format!("{u}/")
        };
    }
    svc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_https_or_loopback_http() {
        for ok in [
            "https://iam.amazonaws.com",
            "https://vpce-1.iam.example.internal:8443/base/",
            "http://127.0.0.1:5000",
            "http://127.0.0.2",
            "http://localhost:4566/",
            "http://[::1]:4566",
        ] {
            assert!(check_endpoint("IAM", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://iam.amazonaws.com",
            "http://10.0.0.1:5000",
            "http://localhost.evil.com",
            "http://127.0.0.1@evil.com/",
            "ftp://127.0.0.1",
            "iam.amazonaws.com",
            "https://",
            "https://x/?a=b",
        ] {
            assert!(check_endpoint("IAM", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn options_are_checked_before_anything_runs() {
        let base = OwnerOptions::default();
        assert!(check(&base).is_ok());
        for bad in [
            OwnerOptions {
                concurrency: 0,
                ..OwnerOptions::default()
            },
            OwnerOptions {
                region: Some(" ".into()),
                ..OwnerOptions::default()
            },
            OwnerOptions {
                assume_role_name: Some("role/../x".into()),
                ..OwnerOptions::default()
            },
            OwnerOptions {
                assume_role_name: Some(String::new()),
                ..OwnerOptions::default()
            },
        ] {
            assert!(check(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn partitions_follow_the_region() {
        let (p, sts, iam, org) = default_services("eu-west-1");
        assert_eq!(p, "aws");
        assert_eq!(sts.url, "https://sts.eu-west-1.amazonaws.com/");
        assert_eq!(
            (iam.url.as_str(), iam.region.as_str()),
            ("https://iam.amazonaws.com/", "us-east-1")
        );
        assert_eq!(org.region, "us-east-1");
        assert_eq!(default_services("cn-north-1").0, "aws-cn");
        assert_eq!(default_services("us-gov-west-1").0, "aws-us-gov");
        let over = with_override(sts, &Some("http://127.0.0.1:9".into()));
        assert_eq!(over.url, "http://127.0.0.1:9/");
        assert_eq!(over.region, "eu-west-1", "the signing region stays");
    }
}
