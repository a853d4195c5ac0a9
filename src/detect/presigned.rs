//! Presigned URLs. A link to an S3 object signed with a key carries the
//! key's ID (and, for a temporary key, its session token) in its query, but
//! never the secret: it grants the one request it names until it expires.
//! Its key ID is reported as a kind of its own, with the expiry the URL
//! states, and is never taken for a leaked key pair.
//!
//! Recognised by the query parameter the key ID is the value of:
//! `X-Amz-Credential=ID/DATE/REGION/SERVICE/aws4_request` (SigV4) and
//! `AWSAccessKeyId=ID` beside `Signature` or `Expires` (SigV2), written
//! plainly or escaped the way a URL is when pasted into JSON, HTML or
//! another URL's query. `AWSAccessKeyId=ID` outside a signed query is the
//! old AWS tools' credential file, a leak like any other.

use crate::calendar::{civil_from_days, days_from_civil};
use crate::finding::{Presigned, Signing};
use std::ops::Range;

/// How far before and after the key ID its URL is read. A session token in
/// a query is up to ~3 KiB percent-encoded; parameters beyond these bounds
/// are not seen (the URL then states no expiry, or is not recognised).
const MAX_BEFORE: usize = 4 << 10;
const MAX_AFTER: usize = 12 << 10;

/// `=` between a parameter and its value, as written plainly, in another
/// URL's query (once or twice percent-encoded) and in a JSON string.
const EQUALS: [&[u8]; 4] = [b"=", b"%3D", b"%253D", b"\\u003D"];
/// What separates the parameters of a query (or starts it), written the
/// same ways, and as HTML writes `&`.
const SEPARATORS: [&[u8]; 10] = [
    b"&amp;", b"&#38;", b"&", b"%26", b"%2526", b"\\u0026", b"?", b"%3F", b"%253F", b"\\u003F",
];
/// `/` between the key ID and the date of a SigV4 credential scope.
const SLASHES: [&[u8]; 5] = [b"/", b"%2F", b"%252F", b"\\/", b"\\u002F"];
/// HTML entities and string escapes that end a URL (its closing quote).
const CLOSERS: [&[u8]; 8] = [
    b"&quot;", b"&#34;", b"&#39;", b"&apos;", b"&lt;", b"&gt;", b"\\n", b"\\\"",
];

/// A presigned URL around a key ID: where it lies and what it states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    /// The URL's bytes, as far as it was read.
    pub range: Range<usize>,
    pub presigned: Presigned,
}

/// Finds the presigned URLs of one buffer, reading each URL once: key IDs
/// inside the URL read last share what it states. (A hostile line of a
/// million credential parameters and no URL end would otherwise be read
/// 16 KiB per key ID.)
#[derive(Debug, Default)]
pub(crate) struct Reader {
    last: Option<Query>,
    /// Bytes of URLs read, for the test that proves each is read once.
    #[cfg(test)]
    pub(super) bytes_read: usize,
}

/// What one URL's query states, for either way of signing.
#[derive(Debug)]
struct Query {
    range: Range<usize>,
    sigv4_expires: Option<String>,
    sigv2_expires: Option<String>,
    sigv2_signed: bool,
}

impl Reader {
    /// The presigned URL whose signing key ID is `data[key]`, if it is one.
    /// Key IDs come in order of position.
    pub(crate) fn around_key(&mut self, data: &[u8], key: Range<usize>) -> Option<Url> {
        // Every spelling of `=` ends in `=` or `D`: most key IDs (after a
        // quote, a space, a colon) are decided by one byte.
        let before = key.start.checked_sub(1).and_then(|i| data.get(i))?;
        if !matches!(before, b'=' | b'D' | b'd') {
            return None;
        }
        let equals = suffix_at(data, key.start, &EQUALS)?;
        let (signing, name_start) = if let Some(s) = suffix_ci(data, equals, b"X-Amz-Credential") {
            // The credential scope follows: `/YYYYMMDD/…`.
            let slash = prefix_at(data, key.end, &SLASHES)?;
            let date = data.get(key.end + slash..key.end + slash + 8)?;
            if !date.iter().all(u8::is_ascii_digit) {
                return None;
            }
            (Signing::Sigv4, s)
        } else {
            (Signing::Sigv2, suffix_ci(data, equals, b"AWSAccessKeyId")?)
        };
        // A parameter of a query, not a line of a file.
        suffix_at(data, name_start, &SEPARATORS)?;
        let q = match self.last.take() {
            Some(q) if q.range.start <= key.start && key.end <= q.range.end => q,
            _ => self.read(data, key),
        };
        let expires = match signing {
            Signing::Sigv4 => q.sigv4_expires.clone(),
            Signing::Sigv2 if q.sigv2_signed => q.sigv2_expires.clone(),
            Signing::Sigv2 => {
                self.last = Some(q);
                return None;
            }
        };
        let url = Url {
            range: q.range.clone(),
            presigned: Presigned { signing, expires },
        };
        self.last = Some(q);
        Some(url)
    }

    fn read(&mut self, data: &[u8], key: Range<usize>) -> Query {
        let range = extent(data, key);
        #[cfg(test)]
        {
            self.bytes_read += range.len();
        }
        let params = params(&data[range.clone()]);
        let value = |name: &[u8]| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        };
        let signed = value(b"X-Amz-Date").and_then(amz_date);
        let lifetime = value(b"X-Amz-Expires").and_then(|v| digits(v, 9));
        let sigv2_expires = value(b"Expires");
        Query {
            sigv4_expires: signed.zip(lifetime).and_then(|(t, s)| rfc3339(t + s)),
            sigv2_signed: sigv2_expires.is_some() || value(b"Signature").is_some(),
            sigv2_expires: sigv2_expires.and_then(|v| digits(v, 11)).and_then(rfc3339),
            range,
        }
    }
}

/// The URL around a key ID: out to the first byte or escape that cannot be
/// in one (space, quote, bracket, an HTML quote entity …), bounded.
fn extent(data: &[u8], key: Range<usize>) -> Range<usize> {
    let floor = key.start.saturating_sub(MAX_BEFORE);
    let mut start = key.start;
    while start > floor && !ends_url(data[start - 1]) {
        start -= 1;
    }
    // An escaped closing quote before the URL (`\"https://…`, `&quot;https://…`).
    for closer in CLOSERS {
        if let Some(at) = find_ci(&data[start..key.start], closer) {
            start += at + closer.len();
        }
    }
    let ceil = data.len().min(key.end + MAX_AFTER);
    let mut end = key.end;
    while end < ceil && !ends_url(data[end]) && prefix_at(data, end, &CLOSERS).is_none() {
        end += 1;
    }
    start..end
}

fn ends_url(b: u8) -> bool {
    b.is_ascii_whitespace()
        || b.is_ascii_control()
        || !b.is_ascii()
        || matches!(
            b,
            b'"' | b'\''
                | b'`'
                | b'<'
                | b'>'
                | b'('
                | b')'
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'|'
                | b'^'
        )
}

/// The `name=value` parameters of a query (and whatever precedes it, which
/// names nothing looked for).
fn params(q: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut out = Vec::new();
    let (mut from, mut i) = (0, 0);
    while i < q.len() {
        match prefix_at(q, i, &SEPARATORS) {
            Some(n) => {
                out.extend(split_param(&q[from..i]));
                i += n;
                from = i;
            }
            None => i += 1,
        }
    }
    out.extend(split_param(&q[from..]));
    out
}

fn split_param(segment: &[u8]) -> Option<(&[u8], &[u8])> {
    (0..segment.len())
        .find_map(|i| prefix_at(segment, i, &EQUALS).map(|n| (&segment[..i], &segment[i + n..])))
}

/// Length of the first of `patterns` (ASCII case ignored) at `at`.
fn prefix_at(data: &[u8], at: usize, patterns: &[&[u8]]) -> Option<usize> {
    patterns.iter().find_map(|p| {
        data.get(at..at + p.len())
            .filter(|s| s.eq_ignore_ascii_case(p))
            .map(|_| p.len())
    })
}

/// Start of the first of `patterns` (ASCII case ignored) that ends at `end`.
fn suffix_at(data: &[u8], end: usize, patterns: &[&[u8]]) -> Option<usize> {
    patterns.iter().find_map(|p| suffix_ci(data, end, p))
}

/// Start of `pattern` (ASCII case ignored) when it ends at `end`.
fn suffix_ci(data: &[u8], end: usize, pattern: &[u8]) -> Option<usize> {
    let start = end.checked_sub(pattern.len())?;
    data.get(start..end)
        .filter(|s| s.eq_ignore_ascii_case(pattern))
        .map(|_| start)
}

fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len())
        .rposition(|w| w.eq_ignore_ascii_case(needle))
}

/// A number of at most `max` decimal digits.
fn digits(v: &[u8], max: usize) -> Option<i64> {
    if v.is_empty() || v.len() > max || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// `YYYYMMDDTHHMMSSZ`, SigV4's `X-Amz-Date`, as seconds since 1970 (UTC).
fn amz_date(v: &[u8]) -> Option<i64> {
    if v.len() != 16 || v[8] != b'T' || !v[15].eq_ignore_ascii_case(&b'Z') {
        return None;
    }
    let n = |r: Range<usize>| digits(&v[r.clone()], r.len());
    let (y, mo, d) = (n(0..4)?, n(4..6)?, n(6..8)?);
    let (h, mi, s) = (n(9..11)?, n(11..13)?, n(13..15)?);
    if !(1..=12).contains(&mo) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    // A day the month does not have (`20240231`) does not come back.
    (d >= 1 && civil_from_days(days) == (y, mo, d))
        .then_some(days * 86_400 + h * 3600 + mi * 60 + s)
}

/// Seconds since 1970 as RFC 3339 UTC (`2024-01-01T01:00:00Z`), for years
/// 1970 to 9999.
fn rfc3339(t: i64) -> Option<String> {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    (1970..=9999).contains(&y).then(|| {
        format!(
            "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "ASIAQM4I2HZ4UEP3ENTH";

    fn url(text: &str) -> Option<Url> {
        let at = text.find(ID).expect("the key ID");
        Reader::default().around_key(text.as_bytes(), at..at + ID.len())
    }

    fn expiry(text: &str) -> Option<String> {
        url(text).and_then(|u| u.presigned.expires)
    }

    #[test]
    fn sigv4_expiry_is_its_date_plus_its_lifetime() {
        let u = url(&format!(
            "see https://b.s3.amazonaws.com/k.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={ID}%2F20240229%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240229T230000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=ab12 here"
        ))
        .expect("presigned");
        assert_eq!(u.presigned.signing, Signing::Sigv4);
        assert_eq!(u.presigned.expires.as_deref(), Some("2024-03-01T00:00:00Z"));
    }

    #[test]
    fn the_url_ends_where_its_text_does() {
        for (text, want) in [
            (
                "![img](https://x/a?X-Amz-Credential={ID}/20240101/r/s3/aws4_request&a=b) next",
                "https://x/a?X-Amz-Credential={ID}/20240101/r/s3/aws4_request&a=b",
            ),
            (
                "\"https://x/a?X-Amz-Credential={ID}/20240101/r/s3/aws4_request\\n\",",
                "https://x/a?X-Amz-Credential={ID}/20240101/r/s3/aws4_request",
            ),
            (
                "<a href=&quot;https://x/?X-Amz-Credential={ID}/20240101/r/s3/aws4_request&quot;>",
                "https://x/?X-Amz-Credential={ID}/20240101/r/s3/aws4_request",
            ),
            (
                "wget 'https://x/?X-Amz-Credential={ID}/20240101/r/s3/aws4_request' -O f",
                "https://x/?X-Amz-Credential={ID}/20240101/r/s3/aws4_request",
            ),
        ] {
            let text = text.replace("{ID}", ID);
            let u = url(&text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(&text[u.range], want.replace("{ID}", ID), "{text}");
        }
    }

    #[test]
    fn escaped_queries_are_read_too() {
        // Inside another URL's query, in a JSON string (Go escapes `&`), in HTML.
        for text in [
            "https://proxy/?u=https%3A%2F%2Fb.s3.amazonaws.com%2Fk%3FX-Amz-Credential%3D{ID}%252F20240101%252Fus-east-1%252Fs3%252Faws4_request%26X-Amz-Date%3D20240101T000000Z%26X-Amz-Expires%3D900",
            "{\"url\":\"https:\\/\\/b.s3.amazonaws.com\\/k?X-Amz-Credential={ID}\\/20240101\\/us-east-1\\/s3\\/aws4_request\\u0026X-Amz-Date=20240101T000000Z\\u0026X-Amz-Expires=900\"}",
            "<img src=\"https://b.s3.amazonaws.com/k?X-Amz-Credential={ID}%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&amp;X-Amz-Date=20240101T000000Z&amp;X-Amz-Expires=900\">",
        ] {
            let text = text.replace("{ID}", ID);
            assert_eq!(expiry(&text).as_deref(), Some("2024-01-01T00:15:00Z"), "{text}");
        }
    }

    #[test]
    fn sigv2_needs_a_signed_query() {
        let u = url(&format!(
            "https://b.s3.amazonaws.com/f.zip?AWSAccessKeyId={ID}&Expires=1700000000&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D"
        ))
        .expect("presigned");
        assert_eq!(u.presigned.signing, Signing::Sigv2);
        assert_eq!(u.presigned.expires.as_deref(), Some("2023-11-14T22:13:20Z"));
        // Signed without an expiry parameter: presigned, expiry unknown.
        let u = url(&format!("https://b/f?AWSAccessKeyId={ID}&Signature=abc%3D")).expect("signed");
        assert_eq!(u.presigned.expires, None);
        // The old AWS tools' credential file, and a query that signs nothing.
        for text in [
            format!("AWSAccessKeyId={ID}\nAWSSecretKey=x\n"),
            format!("https://x/?AWSAccessKeyId={ID}&user=bob"),
        ] {
            assert_eq!(url(&text), None, "{text}");
        }
    }

    #[test]
    fn a_credential_parameter_needs_its_scope_and_a_query() {
        for text in [
            format!("X-Amz-Credential={ID}/20240101/us-east-1/s3/aws4_request"),
            format!("https://x/?X-Amz-Credential={ID}&X-Amz-Date=20240101T000000Z"),
            format!("https://x/?X-Amz-Credential={ID}/2024/us-east-1"),
            format!("https://x/?Credential={ID}/20240101/us-east-1/s3/aws4_request"),
        ] {
            assert_eq!(url(&text), None, "{text}");
        }
        // Names are case-insensitive, as S3 reads them.
        assert!(url(&format!(
            "https://x/?x-amz-credential={ID}/20240101/r/s3/aws4_request"
        ))
        .is_some());
    }

    #[test]
    fn garbled_dates_and_lifetimes_state_no_expiry() {
        for (date, lifetime) in [
            ("20240231T000000Z", "60"),
            ("20241301T000000Z", "60"),
            ("20240101T250000Z", "60"),
            ("2024-01-01T00:00:00Z", "60"),
            ("20240101T000000Z", "-5"),
            ("20240101T000000Z", "9999999999"),
            ("20240101T000000Z", ""),
        ] {
            let text = format!("https://x/?X-Amz-Credential={ID}/20240101/r/s3/aws4_request&X-Amz-Date={date}&X-Amz-Expires={lifetime}");
            let u = url(&text).expect("still presigned");
            assert_eq!(u.presigned.expires, None, "{text}");
        }
    }

    #[test]
    fn one_url_is_read_once_however_many_key_ids_it_holds() {
        // One giant query of credential parameters, and no end of URL.
        let param = format!("&X-Amz-Credential={ID}%2F20240101%2Fr%2Fs3%2Faws4_request");
        let text = format!("https://x/?a=b{}", param.repeat(20_000));
        let data = text.as_bytes();
        let mut reader = Reader::default();
        let mut found = 0;
        for (at, _) in text.match_indices(ID) {
            found += usize::from(reader.around_key(data, at..at + ID.len()).is_some());
        }
        assert_eq!(found, 20_000);
        // Each stretch of the line is read about once, not once per key ID.
        assert!(
            reader.bytes_read < 3 * data.len(),
            "{} of {}",
            reader.bytes_read,
            data.len()
        );
    }

    #[test]
    fn dates_convert_both_ways() {
        assert_eq!(rfc3339(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            rfc3339(951_782_400).as_deref(),
            Some("2000-02-29T00:00:00Z")
        );
        assert_eq!(
            rfc3339(253_402_300_799).as_deref(),
            Some("9999-12-31T23:59:59Z")
        );
        assert_eq!(rfc3339(253_402_300_800), None);
        assert_eq!(amz_date(b"20000229T000000Z"), Some(951_782_400));
        assert_eq!(amz_date(b"19000229T000000Z"), None);
        for days in [-800_000, -1, 0, 59, 60, 10_957, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
