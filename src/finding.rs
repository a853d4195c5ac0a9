//! What a scan reports: one leaked credential at one place.
//!
//! A [`Finding`] joins three things, each typed so that no stage has to
//! split a string to learn something:
//!
//! - the [`Credential`] the detector paired (key ID, secret, session token),
//!   with where each part sits *inside its blob* (line, column, encoding, and
//!   the archive member when the blob is an archive);
//! - the [`Location`] of the blob: repository, path, and its [`Origin`] (a
//!   file, or a git blob with the commit that introduced it);
//! - after `--verify`, the [`Verdict`], whose variants carry only what they
//!   mean.
//!
//! Secret values live in [`Secret`], which redacts itself in `Debug` and
//! `Display`, so a stray `{:?}` or log line can never print one.

use crate::verify::owner::OwnerRecord;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

/// A secret value (secret access key or session token). Only
/// [`Secret::expose`] gives the real text; everything else redacts.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The real value. Call only where the user asked for it (`--show-secrets`)
    /// or where it must leave the process (signing a verification request).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// First four characters kept, the rest replaced by `*`, same length.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

/// Keeps the first four characters of `value` and masks the rest.
pub(crate) fn redact(value: &str) -> String {
    value
        .chars()
        .enumerate()
        .map(|(i, c)| if i < 4 { c } else { '*' })
        .collect()
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Where a part of a credential was found inside its blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Byte offset of the part, or of the encoded run that holds it.
    pub offset: usize,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in bytes from the start of the line.
    pub column: u32,
}

impl Position {
    /// The first byte of a blob.
    pub(crate) const START: Position = Position {
        offset: 0,
        line: 1,
        column: 1,
    };
}

/// How the part was written in the blob, when it was not plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// String escapes such as `\/`, `\u002F`, `\u{2F}` or `\x2F`.
    Escaped,
    /// HTML/XML character references such as `&#x2F;`, `&#47;` or `&sol;`.
    Html,
    /// URL percent-encoding such as `%2F`.
    Percent,
    /// Base64-encoded content.
    Base64,
    /// UTF-16 text.
    Utf16,
}

/// One part of a credential: its value and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Part<V> {
    pub value: V,
    pub position: Position,
    pub encoding: Option<Encoding>,
}

/// How sure the detector is that this is a real credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// A key ID alone, or a labelled secret without a key ID.
    Medium,
    /// A key ID paired with a secret.
    High,
}

/// The longest archive member name kept, in bytes; longer names are cut
/// (at a character boundary) and marked, so one hostile name cannot make
/// every finding and report line huge.
pub(crate) const MAX_MEMBER_NAME: usize = 1024;

/// The longest path kept, in bytes (PATH_MAX on Linux): git trees can hold
/// longer ones (a 4,000-level tree of 200-byte names is a 280 KB repository
/// that passes `git fsck`). A longer path is cut and marked with its length
/// and a digest of the whole, so two long paths stay two paths.
pub(crate) const MAX_PATH_NAME: usize = 4096;

/// The most findings one blob (file, git blob or archive) contributes; the
/// rest are counted in `stats.findings_over_limit` and the blob is named in
/// a warning. Real files with more credentials than this are exports or
/// generated fixtures, and a few kilobytes of compressed key IDs can
/// otherwise hold millions.
pub const MAX_FINDINGS_PER_BLOB: usize = 1000;

/// Where inside an archive a credential was: one member name per level of
/// nesting (`["inner.tar", "config/prod.env"]` for a tar inside a zip).
/// Kept as its own list, never joined into the path: `!`, `/` and every
/// other character are legal in member and file names alike. Shared, not
/// copied, by the findings of one member.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MemberPath(Arc<[String]>);

impl MemberPath {
    /// This path with `name` nested one level deeper.
    pub fn join(&self, name: &str) -> MemberPath {
        let mut names = self.0.to_vec();
        names.push(cap_name(name, MAX_MEMBER_NAME));
        MemberPath(names.into())
    }

    pub fn names(&self) -> &[String] {
        &self.0
    }

    /// Builds a path from names read back from a report.
    pub(crate) fn from_names(names: Vec<String>) -> MemberPath {
        MemberPath(names.iter().map(|n| cap_name(n, MAX_MEMBER_NAME)).collect())
    }
}

/// `name` cut to at most `max` bytes (at a character boundary) and marked
/// with its length when it was longer.
pub(crate) fn cap_name(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let mut end = max;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[{} bytes]", &name[..end], name.len())
}

/// The credential the detector found in one blob: what the pure detector
/// returns, before the blob's location is attached. Positions and the
/// archive member are places *inside the blob*.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key_id: Option<Part<String>>,
    pub secret_access_key: Option<Part<Secret>>,
    pub session_token: Option<Part<Secret>>,
    /// Account ID decoded offline from the key ID, when the ID allows it.
    pub account_id: Option<String>,
    pub confidence: Confidence,
    /// The archive member the credential was found in, when the blob is an
    /// archive.
    pub member: Option<MemberPath>,
    /// Set when the key ID (and token) were found in the query of a
    /// presigned URL: the signature of one request, not a leaked key pair.
    pub presigned: Option<Presigned>,
}

/// How a presigned URL was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Signing {
    /// `AWSAccessKeyId=…&Expires=…&Signature=…`.
    Sigv2,
    /// `X-Amz-Credential=…&X-Amz-Date=…&X-Amz-Expires=…&X-Amz-Signature=…`.
    Sigv4,
}

/// What a presigned URL states about itself. Its key ID is the signer's,
/// but the URL holds no secret: it grants one request on one object until
/// it expires, so it is reported as its own, low-severity kind and never
/// verified.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Presigned {
    pub signing: Signing,
    /// When the URL stops working, as it states it (RFC 3339, UTC); `None`
    /// when the URL does not say (its date or lifetime missing or garbled).
    pub expires: Option<String>,
}

impl Credential {
    /// The position reported for the whole credential: its first part.
    pub(crate) fn first_position(&self) -> Position {
        [
            self.access_key_id.as_ref().map(|p| p.position),
            self.secret_access_key.as_ref().map(|p| p.position),
            self.session_token.as_ref().map(|p| p.position),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(Position::START)
    }

    /// The identity used to verify and group a credential: the same key ID,
    /// secret and token are one credential wherever they appear.
    pub fn key(&self) -> CredentialKey {
        CredentialKey {
            access_key_id: self.access_key_id.as_ref().map(|p| p.value.clone()),
            secret_access_key: self.secret_access_key.as_ref().map(|p| p.value.clone()),
            session_token: self.session_token.as_ref().map(|p| p.value.clone()),
            presigned: self.presigned.is_some(),
        }
    }

    /// The key ID, when one was found.
    pub fn key_id(&self) -> Option<&str> {
        self.access_key_id.as_ref().map(|p| p.value.as_str())
    }
}

/// Key ID + secret + token: what makes two findings the same credential.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CredentialKey {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    pub session_token: Option<Secret>,
    /// Found in a presigned URL: never the same credential as a leak of
    /// the same key ID, which must stay reported (and suppressible) apart.
    pub presigned: bool,
}

impl CredentialKey {
    /// A stable hex digest of the credential; safe to print or store (it
    /// cannot be turned back into the secret).
    pub(crate) fn digest(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.access_key_id.as_deref(),
            self.secret_access_key.as_ref().map(Secret::expose),
            self.session_token.as_ref().map(Secret::expose),
        ] {
            h.update(part.unwrap_or("").as_bytes());
            h.update([0u8]);
        }
        // Only presigned credentials add to the digest, so the digests and
        // fingerprints of every other finding stay what they were.
        if self.presigned {
            h.update(b"presigned\0");
        }
        hex(&h.finalize())
    }
}

/// A path as reported: relative to the scanned root or the repository root,
/// `/`-separated. A name that is not UTF-8 is shown with its bad bytes as
/// `\xNN`, and its raw bytes are kept, so two names that differ only in
/// those bytes stay two paths (in grouping, suppression and fingerprints).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReportPath {
    shown: Arc<str>,
    /// The bytes, only when they are not the UTF-8 of `shown`.
    raw: Option<Arc<[u8]>>,
}

impl ReportPath {
    pub fn from_bytes(bytes: &[u8]) -> ReportPath {
        if bytes.len() > MAX_PATH_NAME {
            return ReportPath::capped(bytes);
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => ReportPath::from(s),
            Err(_) => ReportPath {
                shown: Arc::from(escape_non_utf8(bytes)),
                raw: Some(Arc::from(bytes)),
            },
        }
    }

    /// A path over [`MAX_PATH_NAME`]: its start, its length and a digest of
    /// all of it, which is also its identity.
    fn capped(bytes: &[u8]) -> ReportPath {
        let mut end = MAX_PATH_NAME;
        // Cut at a character boundary when the start is UTF-8.
        while end > MAX_PATH_NAME - 4 && std::str::from_utf8(&bytes[..end]).is_err() {
            end -= 1;
        }
        let digest = hex(&Sha256::digest(bytes));
        let shown = format!(
            "{}…[{} bytes, sha256 {}]",
            escape_non_utf8(&bytes[..end]),
            bytes.len(),
            &digest[..16]
        );
        ReportPath {
            shown: Arc::from(shown),
            raw: None,
        }
    }

    /// The path for people and reports (escaped where not UTF-8).
    pub fn as_str(&self) -> &str {
        &self.shown
    }

    /// The bytes that identify the path.
    pub fn identity(&self) -> &[u8] {
        self.raw.as_deref().unwrap_or(self.shown.as_bytes())
    }
}

impl From<&str> for ReportPath {
    fn from(s: &str) -> Self {
        ReportPath {
            shown: Arc::from(s),
            raw: None,
        }
    }
}

impl fmt::Display for ReportPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// UTF-8 as it is, every byte of an invalid sequence as `\xNN`.
fn escape_non_utf8(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Where a blob was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The repository, for scans of several repositories.
    pub repo: Option<Arc<str>>,
    pub path: ReportPath,
    pub origin: Origin,
}

/// What the blob is: a file read from disk, a git blob of history, a blob
/// staged in git's index, or standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File,
    /// Shared by every finding of the blob (a blob may hold thousands).
    Blob(Arc<BlobOrigin>),
    /// A blob in git's index (`scan --staged`): what the next commit would
    /// hold, not what the work tree has. The git blob ID, shared.
    Index(Arc<str>),
    /// Standard input (`scan -`). Its path is [`STDIN_PATH`], which a file
    /// may also be named: this origin, not the name, says which it was.
    Stdin,
}

/// How standard input is named in reports.
pub(crate) const STDIN_PATH: &str = "<stdin>";

/// A git blob and what history says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobOrigin {
    /// The git blob ID of the content.
    pub id: String,
    /// The earliest commit that introduced the blob; `None` for a blob no
    /// commit holds (dangling, or staged and dropped).
    pub commit: Option<Commit>,
    /// Whether the blob is still in HEAD's tree.
    pub still_at_head: bool,
    /// Branches and tags whose tip still contains the blob.
    pub refs: RefList,
    /// True when no ref reaches the blob.
    pub unreachable: bool,
}

/// A commit as reports name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// Full hex id.
    pub id: String,
    /// `Name <email>` of the author.
    pub author: Option<String>,
    /// Author date, RFC 3339.
    pub date: Option<String>,
}

/// The most ref names kept for one blob; the rest are counted.
pub(crate) const MAX_REFS_LISTED: usize = 100;

/// Ref names holding a blob: the first [`MAX_REFS_LISTED`] in name order,
/// and how many there are in all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RefList {
    names: Vec<String>,
    total: usize,
}

impl RefList {
    /// From every ref name holding the blob (any order, no repeats).
    #[cfg(test)]
    pub(crate) fn new(mut names: Vec<String>) -> RefList {
        let total = names.len();
        names.sort_unstable();
        names.truncate(MAX_REFS_LISTED);
        RefList { names, total }
    }

    /// A list already capped elsewhere (read back from a report).
    pub(crate) fn with_total(names: Vec<String>, total: usize) -> RefList {
        let total = total.max(names.len());
        RefList { names, total }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Refs holding the blob, listed or not.
    pub fn total(&self) -> usize {
        self.total
    }
}

/// An ARN as STS returns it. Only text of ARN shape is accepted, so a
/// server, a cache file or a merged report cannot put arbitrary text where
/// an ARN is printed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arn(String);

impl Arn {
    /// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, printable ASCII
    /// without spaces or quotes, at most 2048 characters.
    pub fn parse(s: &str) -> Option<Arn> {
        if s.len() > 2048
            || !s
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'`' | b'\\'))
        {
            return None;
        }
        let mut fields = s.splitn(6, ':');
        let ok = fields.next() == Some("arn")
            && fields.next().is_some_and(|p| {
                p.starts_with("aws") && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
            })
            && fields.next().is_some_and(|svc| {
                !svc.is_empty() && svc.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
            && fields
                .next()
                .is_some_and(|r| r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
            && fields
                .next()
                .is_some_and(|a| a.is_empty() || is_account_id(a))
            && fields.next().is_some_and(|res| !res.is_empty());
        ok.then(|| Arn(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The account field.
    pub fn account(&self) -> Option<&str> {
        self.0.split(':').nth(4).filter(|a| !a.is_empty())
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Twelve ASCII digits.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// What `--verify` learnt about a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// STS accepted the key: it works.
    Live {
        arn: Arn,
        account: String,
        user_id: String,
    },
    /// STS rejected it (the AWS error code says how).
    Invalid { code: String },
    /// A session token that has expired.
    Expired,
    /// No clear answer (network, throttling, budget, …): never a verdict.
    Unverified { reason: String },
    /// Its account is a canary-token account or one the user skips: never sent.
    Canary { account: String, reason: String },
    /// Not asked: nothing to sign with.
    Skipped { reason: String },
}

impl Verdict {
    pub(crate) fn is_live(&self) -> bool {
        matches!(self, Verdict::Live { .. })
    }

    /// The word for it in reports and the JSON contract.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Live { .. } => "live",
            Verdict::Invalid { .. } => "invalid",
            Verdict::Expired => "expired",
            Verdict::Unverified { .. } => "unverified",
            Verdict::Canary { .. } => "canary",
            Verdict::Skipped { .. } => "skipped",
        }
    }
}

/// One leaked credential at one place: the unit every report is made of.
#[derive(Debug, Clone)]
pub struct Finding {
    pub credential: Credential,
    pub location: Location,
    /// `None` until `--verify` ran.
    pub verdict: Option<Verdict>,
    /// What an owner lookup (`--owner-lookup`, `keysweep triage`) learned
    /// about the key ID with the operator's own credentials; shared by every
    /// finding of the key. `None` when not looked up.
    pub owner: Option<Arc<OwnerRecord>>,
    /// The fingerprint as a report already wrote it. `keysweep merge` reads
    /// reports whose secrets are redacted, so it cannot compute the
    /// fingerprint again and keeps the one the scan computed. `None` for
    /// findings of a scan.
    pub recorded_fingerprint: Option<String>,
}

impl Finding {
    /// A finding of a scan (nothing verified yet).
    pub fn new(credential: Credential, location: Location) -> Finding {
        Finding {
            credential,
            location,
            verdict: None,
            owner: None,
            recorded_fingerprint: None,
        }
    }

    /// Stable across runs and machines for the same credential at the same
    /// place (and commit): what baselines refer to. Each component is
    /// separated by a NUL, which no path, member name or id can hold.
    pub fn fingerprint(&self) -> String {
        if let Some(fp) = &self.recorded_fingerprint {
            return fp.clone();
        }
        let mut h = Sha256::new();
        h.update(self.credential.key().digest().as_bytes());
        h.update([0u8]);
        if let Some(repo) = &self.location.repo {
            h.update(repo.as_bytes());
        }
        h.update([0u8]);
        h.update(self.location.path.identity());
        if let Some(member) = &self.credential.member {
            for name in member.names() {
                h.update([0u8, b'm']);
                h.update(name.as_bytes());
            }
        }
        h.update([0u8]);
        if let Some(commit) = self.commit() {
            h.update(commit.id.as_bytes());
        }
        // Only standard input adds to the digest, so a file named
        // `<stdin>` is another place, and every other fingerprint stays
        // what it was (a staged file's is the same file's on disk).
        if self.location.origin == Origin::Stdin {
            h.update(b"\0stdin");
        }
        hex(&h.finalize())[..32].to_string()
    }

    /// The git blob and its history, for findings of git scans.
    pub fn blob(&self) -> Option<&BlobOrigin> {
        match &self.location.origin {
            Origin::Blob(b) => Some(b),
            Origin::File | Origin::Index(_) | Origin::Stdin => None,
        }
    }

    /// The ID of the staged blob, for findings of `scan --staged`.
    pub(crate) fn staged_blob(&self) -> Option<&str> {
        match &self.location.origin {
            Origin::Index(id) => Some(id),
            _ => None,
        }
    }

    /// The commit that introduced the blob, when known.
    pub fn commit(&self) -> Option<&Commit> {
        self.blob().and_then(|b| b.commit.as_ref())
    }

    pub(crate) fn is_live(&self) -> bool {
        self.verdict.as_ref().is_some_and(Verdict::is_live)
    }

    /// The owner lookup found the key in one of the operator's accounts and
    /// IAM says it is `Active`.
    pub(crate) fn is_active(&self) -> bool {
        self.owner.as_deref().is_some_and(OwnerRecord::is_active)
    }

    /// Active, and its user has administrator rights.
    pub(crate) fn is_active_admin(&self) -> bool {
        self.owner
            .as_deref()
            .is_some_and(OwnerRecord::is_active_admin)
    }

    /// The order every report and merge uses: repository, path, member,
    /// commit, position, blob, fingerprint.
    pub(crate) fn canonical_cmp(&self, other: &Finding) -> Ordering {
        let key = |f: &Finding| {
            let pos = f.credential.first_position();
            (
                f.location.repo.clone(),
                f.location.path.clone(),
                f.credential.member.clone(),
                f.commit().map(|c| c.id.clone()),
                pos.line,
                pos.column,
                pos.offset,
                f.blob().map(|b| b.id.clone()),
            )
        };
        key(self)
            .cmp(&key(other))
            .then_with(|| self.fingerprint().cmp(&other.fingerprint()))
    }
}

/// Sorts findings into [`Finding::canonical_cmp`] order.
pub(crate) fn sort_canonical(findings: &mut [Finding]) {
    findings.sort_by(Finding::canonical_cmp);
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u32) -> Position {
        Position {
            offset: 0,
            line,
            column: 1,
        }
    }

    fn finding(path: &str, member: Option<MemberPath>) -> Finding {
        Finding::new(
            Credential {
                access_key_id: Some(Part {
                    value: "AKIASP2TPHJSQH3FJRUX".into(),
                    position: at(1),
                    encoding: None,
                }),
                secret_access_key: None,
                session_token: None,
                account_id: None,
                confidence: Confidence::Medium,
                member,
                presigned: None,
            },
            Location {
                repo: None,
                path: ReportPath::from(path),
                origin: Origin::File,
            },
        )
    }

    #[test]
    fn secret_never_prints_itself() {
        let s = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzzzzzzz");
        assert_eq!(format!("{s}"), "wJal************************************");
        assert_eq!(
            format!("{s:?}"),
            "Secret(wJal************************************)"
        );
        assert_eq!(s.expose().len(), 40);
    }

    #[test]
    fn debug_of_credentials_and_findings_never_shows_a_secret() {
        let secret = "PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA+";
        let token = "IQoJb3JpZ2luX2VjDnkHIfxIq2HZt+PlJhx2jIclHkCiHp6bR1IqfEouHgxzNNAL5wIScGebcy8F5n3+YNBDRzrZSgqbjG3uhkWKFLf6xuI5aHUQPFeNBTxaQWk8";
        let mut f = finding("a/.env", None);
        f.credential.access_key_id.as_mut().unwrap().value = "ASIAQM4I2HZ4UEP3ENTH".into();
        f.credential.secret_access_key = Some(Part {
            value: Secret::new(secret),
            position: at(1),
            encoding: Some(Encoding::Escaped),
        });
        f.credential.session_token = Some(Part {
            value: Secret::new(token),
            position: at(1),
            encoding: None,
        });
        let key = f.credential.key();
        for shown in [
            format!("{:?}", f.credential),
            format!("{:#?}", f.credential),
            format!("{f:?}"),
            format!("{f:#?}"),
            format!("{key:?}"),
        ] {
            assert!(shown.contains("ASIAQM4I2HZ4UEP3ENTH"), "{shown}");
            // Nothing past the four characters redaction keeps.
            assert!(!shown.contains(&secret[4..]), "{shown}");
            assert!(!shown.contains(&token[4..]), "{shown}");
            assert!(!shown.contains(&token[16..40]), "{shown}");
        }
    }

    #[test]
    fn fingerprint_depends_on_credential_path_and_member_not_on_line() {
        let f = finding("a/b", None);
        let mut g = f.clone();
        assert_eq!(f.fingerprint(), g.fingerprint());
        g.credential.access_key_id.as_mut().unwrap().position.line = 9;
        assert_eq!(f.fingerprint(), g.fingerprint(), "a moved line keeps it");
        g.location.path = ReportPath::from("a/c");
        assert_ne!(f.fingerprint(), g.fingerprint());
    }

    #[test]
    fn a_file_named_like_an_archive_member_is_not_that_member() {
        // `docs.md!/prod.env` is a legal file name; it is not member
        // `/prod.env` of `docs.md`.
        let file = finding("docs.md!/prod.env", None);
        let member = finding("docs.md", Some(MemberPath::default().join("/prod.env")));
        assert_ne!(file.fingerprint(), member.fingerprint());
        assert_ne!(file.location.path, member.location.path);
        // Nesting is kept level by level.
        let nested = finding("docs.md", Some(MemberPath::default().join("a!b").join("c")));
        let flat = finding("docs.md", Some(MemberPath::default().join("a").join("b!c")));
        assert_ne!(nested.fingerprint(), flat.fingerprint());
    }

    #[test]
    fn standard_input_is_not_a_file_named_like_it() {
        let file = finding(STDIN_PATH, None);
        let mut stdin = finding(STDIN_PATH, None);
        stdin.location.origin = Origin::Stdin;
        assert_ne!(file.fingerprint(), stdin.fingerprint());
        // A staged blob is the file it will become: same fingerprint.
        let mut staged = finding(STDIN_PATH, None);
        staged.location.origin =
            Origin::Index(Arc::from("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"));
        assert_eq!(file.fingerprint(), staged.fingerprint());
    }

    #[test]
    fn non_utf8_names_are_escaped_and_stay_distinct() {
        let a = ReportPath::from_bytes(b"k\xffey.env");
        let b = ReportPath::from_bytes(b"k\xfeey.env");
        assert_eq!(a.as_str(), "k\\xffey.env");
        assert_ne!(a, b);
        assert_ne!(a.identity(), b.identity());
        // A UTF-8 name spelling the escape is a third, distinct path.
        let c = ReportPath::from_bytes(b"k\\xffey.env");
        assert_eq!(c.as_str(), a.as_str());
        assert_ne!(a, c);
        let mut fa = finding("x", None);
        fa.location.path = a;
        let mut fc = finding("x", None);
        fc.location.path = c;
        assert_ne!(fa.fingerprint(), fc.fingerprint());
    }

    #[test]
    fn long_member_names_are_capped_at_a_character_boundary() {
        let name = "é".repeat(MAX_MEMBER_NAME);
        let m = MemberPath::default().join(&name);
        // Every finding of the member shares its names.
        let again = m.clone();
        assert!(std::ptr::eq(m.names(), again.names()));
        let kept = &m.names()[0];
        assert!(kept.len() < MAX_MEMBER_NAME + 32, "{}", kept.len());
        assert!(kept.ends_with(&format!("…[{} bytes]", name.len())));
    }

    #[test]
    fn long_paths_are_capped_and_stay_distinct() {
        let mut a = b"d/".repeat(100_000);
        a.extend_from_slice(b"k.txt");
        let mut b = a.clone();
        b.extend_from_slice(b"2");
        let (pa, pb) = (ReportPath::from_bytes(&a), ReportPath::from_bytes(&b));
        assert!(
            pa.as_str().len() < MAX_PATH_NAME + 64,
            "{}",
            pa.as_str().len()
        );
        assert!(
            pa.as_str().contains("…[200005 bytes, sha256 "),
            "{}",
            &pa.as_str()[4000..]
        );
        assert_ne!(pa, pb);
        assert_ne!(pa.identity(), pb.identity());
        // Not UTF-8, cut inside a character: still escaped, still capped.
        let mut c = "é".repeat(MAX_PATH_NAME).into_bytes();
        c.push(0xff);
        let pc = ReportPath::from_bytes(&c);
        assert!(pc.as_str().starts_with("éé"));
        assert!(pc.as_str().len() < MAX_PATH_NAME + 64);
        assert_eq!(ReportPath::from_bytes(b"a/b").as_str(), "a/b");
    }

    #[test]
    fn arns_must_look_like_arns() {
        for good in [
            "arn:aws:iam::123456789012:user/ci-deploy",
            "arn:aws:sts::123456789012:assumed-role/R/session",
            "arn:aws-us-gov:iam::123456789012:root",
            "arn:aws-cn:iam::123456789012:user/path/to/u",
        ] {
            let arn = Arn::parse(good).unwrap_or_else(|| panic!("{good}"));
            assert_eq!(arn.account(), Some("123456789012"));
        }
        for bad in [
            "",
            "arn:aws:iam::123456789012:",
            "arn:aws:iam::12345:user/x",
            "not an arn",
            "arn:aws:iam::123456789012:user/x\x1b[2J",
            "arn:aws:iam::123456789012:user/x y",
            "arn:aws:iam::123456789012:user/x'$(id)'",
            "arn:aws:iam::123456789012:user/::error::x\n",
            "arn:evil:iam::123456789012:user/x",
        ] {
            assert!(Arn::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn ref_lists_are_capped_with_a_total() {
        let names: Vec<String> = (0..250).map(|i| format!("refs/tags/v{i:03}")).collect();
        let list = RefList::new(names);
        assert_eq!(list.names().len(), MAX_REFS_LISTED);
        assert_eq!(list.total(), 250);
        assert_eq!(list.names()[0], "refs/tags/v000");
    }
}
