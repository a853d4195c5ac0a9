//! Detection: bytes in, credentials out. Pure: no I/O, no printing, no
//! global state, so it is easy to test, fuzz and benchmark.
//!
//! It never runs a regex over every byte. One Aho-Corasick pass (SIMD
//! prefilter) finds anchors: the key-ID prefixes, the words `secret` and
//! `token`, session-token markers, base64, UTF-16 and escaped (`\u0041`,
//! `&#65;`) forms of the prefixes. Exact checks run only around anchors: key
//! IDs are validated in place, value runs near them are read once (escapes
//! decoded) and classified as secrets or session tokens, and the parts are
//! then paired by distance in lines (bytes on giant lines). A key ID that
//! signs a presigned URL is marked as such and pairs only with the session
//! token in that URL (see [`presigned`]).

pub mod allow;
pub mod archive;
pub mod decode;
pub mod entropy;
pub mod keyid;
pub mod label;
pub mod presigned;

use crate::finding::{
    Confidence, Credential, Encoding, MemberPath, Part, Position, Secret, MAX_FINDINGS_PER_BLOB,
};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use label::{Label, Labeler, Strength};
use std::borrow::Cow;
use std::ops::Range;

/// Version of the detection rules: bump when detection changes (what is
/// found, where it is reported, how parts pair), so that results remembered
/// from earlier runs (the `keysweep org` blob state, keyed by crate version
/// and this number) are thrown away and blobs are scanned again.
pub(crate) const RULES_VERSION: u32 = 3;

/// How far (bytes) around a key ID to look for its secret and token on its
/// own line, and the unit of the pairing distances below.
const PAIR_WINDOW: usize = 1024;
/// How many lines around a key ID its secret may be (with an AWS name);
/// these lines are read up to `4 * PAIR_WINDOW` bytes each way, so wide
/// table rows pair by rows while minified giant lines pair by bytes.
const PAIR_LINES: usize = 12;
/// How far after a `secret`/`token` word its value may start.
const LABEL_WINDOW: usize = 160;
/// Longest value run read (session tokens are 300–2000 characters).
const MAX_RUN: usize = 16 << 10;
/// Shortest run that can hold a value: a 40-character secret.
const MIN_VALUE_RUN: usize = 40;
/// Nesting of decoded content (base64 inside base64 …).
const MAX_DECODE_DEPTH: u8 = 2;
/// Key IDs, secrets and tokens kept per buffer before pairing: enough to
/// fill [`MAX_FINDINGS_PER_BLOB`] however they pair, few enough that a
/// buffer of millions of key IDs costs no more memory than a few.
const MAX_PARTS: usize = 4 * MAX_FINDINGS_PER_BLOB;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    KeyPrefix,
    SecretWord,
    TokenWord,
    TokenMarker,
    Base64KeyPrefix,
    Utf16KeyPrefix,
    /// `A` written as an escape (`\u0041`, `\u{41}`, `&#x41;`, `&#65;`):
    /// the start of a key ID spelled out in escapes.
    EscapedKeyPrefix,
}

/// The escapes of `A`, the first letter of every key-ID prefix, as JSON,
/// Java, JavaScript, Rust, Swift and HTML write it. Four, so that the
/// anchors stay at 32 patterns: beyond that the SIMD prefilter switches to
/// its slower wide variant (Teddy "fat"), which cost every scan ~10%.
const ESCAPED_A: [&str; 4] = ["\\u0041", "\\u{41}", "&#x41;", "&#65;"];

/// The AWS credential detector. Build once, share by reference across threads.
#[derive(Debug)]
pub struct Detector {
    anchors: AhoCorasick,
    /// What a hit on each pattern means.
    anchors_kind: Vec<Anchor>,
    archive_limits: archive::Limits,
}

impl Default for Detector {
    fn default() -> Self {
        Self::new()
    }
}

/// Everything the detector found in one blob, and what it could not read.
#[derive(Debug, Default)]
pub struct Detection {
    pub credentials: Vec<Credential>,
    /// Credentials dropped because their line says `keysweep:allow`.
    pub suppressed_inline: u64,
    /// Archive members scanned.
    pub archive_members: u64,
    /// Parts of the blob that were not fully scanned, and why.
    pub incomplete: Vec<String>,
    /// Credentials past [`MAX_FINDINGS_PER_BLOB`], and key IDs, secrets and
    /// tokens past [`MAX_PARTS`] in one buffer: counted, not kept.
    pub over_limit: u64,
}

impl Detector {
    pub fn new() -> Self {
        Self::with_archive_limits(archive::Limits::default())
    }

    pub(crate) fn with_archive_limits(archive_limits: archive::Limits) -> Self {
        let mut patterns: Vec<(Vec<u8>, Anchor)> = Vec::new();
        for p in keyid::PREFIXES {
            patterns.push((p.to_vec(), Anchor::KeyPrefix));
            for frag in decode::base64_fragments(p) {
                patterns.push((frag, Anchor::Base64KeyPrefix));
            }
            let wide: Vec<u8> = p.iter().flat_map(|&b| [b, 0]).collect();
            patterns.push((wide, Anchor::Utf16KeyPrefix));
        }
        // Exact case variants keep the search case-sensitive, which lets the
        // SIMD (Teddy) prefilter run; mixed-case spellings are not names.
        for word in ["secret", "Secret", "SECRET"] {
            patterns.push((word.as_bytes().to_vec(), Anchor::SecretWord));
        }
        for word in ["token", "Token", "TOKEN"] {
            patterns.push((word.as_bytes().to_vec(), Anchor::TokenWord));
        }
        // `IQoJb3JpZ2luX2Vj…` and `FwoGZXIvYXdz…`: the start of real STS session tokens.
        patterns.push((b"Jb3JpZ2luX2Vj".to_vec(), Anchor::TokenMarker));
        patterns.push((b"FwoGZXIvYXdz".to_vec(), Anchor::TokenMarker));
        for escaped in ESCAPED_A {
            patterns.push((escaped.as_bytes().to_vec(), Anchor::EscapedKeyPrefix));
        }
        let anchors = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(patterns.iter().map(|(p, _)| p))
            .expect("the anchor patterns are a small fixed set");
        let anchors_kind = patterns.into_iter().map(|(_, a)| a).collect();
        Detector {
            anchors,
            anchors_kind,
            archive_limits,
        }
    }

    /// Every credential in one blob (file content), paired, with positions.
    pub fn detect(&self, bytes: &[u8]) -> Vec<Credential> {
        self.scan(bytes).credentials
    }

    /// Like [`Detector::detect`], with the counts and notes a caller reports.
    pub fn scan(&self, bytes: &[u8]) -> Detection {
        let start = Position {
            offset: 0,
            line: 1,
            column: 1,
        };
        self.scan_chunk(bytes, 0..bytes.len(), start)
    }

    /// Scans `bytes`, a window of a larger file that starts at `start`,
    /// keeping only credentials whose first part lies in `owned`. Windows that
    /// overlap by more than the pairing distance, each owning its own middle,
    /// find every credential of a file that is too large to hold in memory
    /// exactly once.
    pub(crate) fn scan_chunk(
        &self,
        bytes: &[u8],
        owned: Range<usize>,
        start: Position,
    ) -> Detection {
        let mut out = Detection::default();
        let budget = std::cell::Cell::new(self.archive_limits.max_total_bytes);
        // Only a whole blob is opened as an archive: a window of a larger
        // file that happens to start with a signature is bytes like the rest.
        if start.offset == 0 && owned == (0..bytes.len()) {
            self.scan_blob(bytes, 0, None, &budget, &mut out);
        } else {
            self.scan_text(bytes, None, &mut out);
        }
        // Parts inside archive members are placed in the member, not the window.
        out.credentials
            .retain(|c| c.member.is_some() || owned.contains(&c.first_position().offset));
        // Found once per window, not once per credential: a long first line
        // holding many credentials made that quadratic.
        let first_newline = memchr::memchr(b'\n', bytes);
        for c in out.credentials.iter_mut().filter(|c| c.member.is_none()) {
            shift_positions(c, first_newline, start);
        }
        out
    }

    /// One blob or archive member: looks inside archives, transcodes UTF-16,
    /// then detects.
    fn scan_blob(
        &self,
        data: &[u8],
        depth: u8,
        member: Option<&MemberPath>,
        budget: &std::cell::Cell<u64>,
        out: &mut Detection,
    ) {
        if let Some(kind) = archive::sniff(data) {
            if depth >= self.archive_limits.max_depth {
                out.incomplete.push(format!(
                    "archive nested deeper than {} levels was not opened",
                    self.archive_limits.max_depth
                ));
            } else {
                let walk = archive::walk(
                    data,
                    kind,
                    &self.archive_limits,
                    budget,
                    &mut |name, bytes| {
                        let inner = member.cloned().unwrap_or_default().join(name);
                        self.scan_blob(bytes, depth + 1, Some(&inner), budget, out);
                    },
                );
                out.archive_members += walk.members;
                out.incomplete.extend(walk.incomplete);
                if walk.members > 0 {
                    return;
                }
            }
        }
        self.scan_text(data, member, out);
    }

    /// Transcodes UTF-16, then detects.
    fn scan_text(&self, data: &[u8], member: Option<&MemberPath>, out: &mut Detection) {
        let (text, utf16): (Cow<[u8]>, bool) = match decode::sniff_utf16(data) {
            Some(order) => (Cow::Owned(decode::transcode_utf16(data, order)), true),
            None => (Cow::Borrowed(data), false),
        };
        let (mut found, dropped) = self.detect_text(&text);
        out.over_limit += dropped;
        set_line_columns(&mut found, &text);
        for mut c in found {
            if allowed_inline(&text, &c) {
                out.suppressed_inline += 1;
                continue;
            }
            if out.credentials.len() >= MAX_FINDINGS_PER_BLOB {
                out.over_limit += 1;
                continue;
            }
            if utf16 {
                for_each_position(&mut c, |p, enc| {
                    *enc = Some(Encoding::Utf16);
                    // Offsets count bytes of the file, two per character.
                    p.offset *= 2;
                });
            }
            c.member = member.cloned();
            out.credentials.push(c);
        }
    }

    /// Finds and pairs the parts in one text buffer, and counts the parts
    /// past [`MAX_PARTS`]. Positions carry only byte offsets here; lines and
    /// columns are added for the survivors.
    fn detect_text(&self, data: &[u8]) -> (Vec<Credential>, u64) {
        let mut atoms = Atoms::default();
        self.collect(
            data,
            View {
                id: 0,
                outer: None,
                encoding: None,
            },
            0,
            &mut atoms,
        );
        let dropped = atoms.dropped;
        (atoms.pair(data), dropped)
    }

    /// Collects the parts in one view: the blob itself, or content decoded
    /// from a run inside it (whose parts all point at that run).
    fn collect(&self, data: &[u8], view: View, depth: u8, atoms: &mut Atoms) {
        let mut windows: Vec<Range<usize>> = Vec::new();
        // Starts of the encoded runs already decoded, and where the last
        // base64, UTF-16 and escaped runs end: an anchor inside a run that
        // was just decoded adds nothing, and expanding every one of them (a
        // prefix fragment every few bytes of a long run, or millions of
        // short runs checked against a list) was quadratic.
        let mut decoded_runs: std::collections::HashSet<usize> = Default::default();
        let (mut base64_until, mut utf16_until, mut escaped_until) = (0usize, 0usize, 0usize);
        // End of the last table whose column a name heads: a table is
        // measured once, however many names its rows hold.
        let mut table_until = 0usize;
        // End of the lines below the last AWS name that were added.
        let mut below_until = 0usize;
        let mut near_lines = NearLines::default();
        let mut urls = presigned::Reader::default();
        for m in self.anchors.find_iter(data) {
            let anchor = self.anchors_kind[m.pattern().as_usize()];
            let at = m.start();
            match anchor {
                Anchor::KeyPrefix => match keyid::judge_at(data, at) {
                    Some(Ok(_)) if atoms.keys.len() >= MAX_PARTS => atoms.dropped += 1,
                    Some(Ok(id)) => {
                        let mut key = Atom::new(id.to_string(), view, at, None, Label::default());
                        key.url = urls.around_key(data, at..at + keyid::LEN).map(Box::new);
                        atoms.keys.push(key);
                        windows.push(near_lines.window(data, at, at + keyid::LEN));
                    }
                    // Past the cap, a rejected key ID only loses a hint.
                    Some(Err(_)) if atoms.rejected.len() >= MAX_PARTS => {}
                    Some(Err(_)) => atoms.rejected.push(Atom::new(
                        String::new(),
                        view,
                        at,
                        None,
                        Label::default(),
                    )),
                    None => {}
                },
                Anchor::SecretWord | Anchor::TokenWord => {
                    // The value after the name on its line, or on the
                    // lines below (alone, or in the name's block), or in
                    // the column the name heads.
                    let mut end = line_end(data, m.end(), LABEL_WINDOW);
                    if end > below_until && label::names_aws(data, at..m.end()) {
                        end = lines_below(data, end, label::LINES_BELOW, PAIR_WINDOW);
                        below_until = end;
                        if at >= table_until {
                            if let Some(table) = label::table_end(data, at) {
                                table_until = table;
                                end = end.max(table);
                            }
                        }
                    }
                    windows.push(m.end()..end);
                }
                Anchor::TokenMarker => windows.push(at..m.end()),
                Anchor::Base64KeyPrefix if depth < MAX_DECODE_DEPTH => {
                    if at < base64_until {
                        continue;
                    }
                    let run = expand(data, at, is_base64_byte);
                    base64_until = run.end;
                    if !decoded_runs.insert(run.start) {
                        continue;
                    }
                    if let Some(plain) =
                        decode::base64(&data[run.clone()]).filter(|p| decode::is_mostly_text(p))
                    {
                        let inner =
                            atoms.new_view(view.outer.unwrap_or(run.start), Encoding::Base64);
                        self.collect(&plain, inner, depth + 1, atoms);
                    }
                }
                Anchor::Utf16KeyPrefix if depth < MAX_DECODE_DEPTH => {
                    if at < utf16_until {
                        continue;
                    }
                    let run = expand_utf16(data, at);
                    utf16_until = run.end;
                    if !decoded_runs.insert(run.start) {
                        continue;
                    }
                    let narrow = decode::transcode_utf16(&data[run.clone()], decode::Utf16::Le);
                    let inner = atoms.new_view(view.outer.unwrap_or(run.start), Encoding::Utf16);
                    self.collect(&narrow, inner, depth + 1, atoms);
                }
                Anchor::EscapedKeyPrefix if depth < MAX_DECODE_DEPTH => {
                    if at < escaped_until {
                        continue;
                    }
                    // The escaped text from here on, decoded: a key ID
                    // spelled out in escapes, and whatever follows it
                    // written the same way (a whole entity-encoded page).
                    let (plain, end, kind) = decode::unescape_from(data, at, MAX_RUN);
                    escaped_until = end;
                    if plain.len() < keyid::LEN {
                        continue;
                    }
                    let inner = atoms.new_view(view.outer.unwrap_or(at), kind);
                    self.collect(&plain, inner, depth + 1, atoms);
                    // Plain values near the escaped key ID pair with it.
                    windows.push(near_lines.window(data, at, end));
                }
                _ => {}
            }
        }
        let mut labeler = Labeler::default();
        let mut scanned = 0;
        for window in merge(windows) {
            self.values_in(data, window, view, depth, atoms, &mut labeler, &mut scanned);
        }
    }

    /// Reads each value run that touches `window` once and keeps those that
    /// can be a secret or a session token. `scanned` is how far the windows
    /// before this one were read: every byte is read once, however many
    /// anchors fall into one long run.
    #[allow(clippy::too_many_arguments)]
    fn values_in(
        &self,
        data: &[u8],
        window: Range<usize>,
        view: View,
        depth: u8,
        atoms: &mut Atoms,
        labeler: &mut Labeler,
        scanned: &mut usize,
    ) {
        let mut i = window.start.max(*scanned);
        // Start at the beginning of a run that the window cuts.
        while i > *scanned && window.start - i < MAX_RUN && is_core(data[i - 1]) {
            i -= 1;
        }
        atoms.count_read(window.start.saturating_sub(i));
        let from = i;
        while i < window.end {
            if !starts_value(data, i) {
                i += 1;
                continue;
            }
            let run = read_run(data, i);
            i = run.end.max(i + 1);
            // Words and short values cannot be a secret (40 characters) or
            // anything longer: most runs end here, before any bookkeeping.
            let len = run.end - run.start;
            if !(MIN_VALUE_RUN..=MAX_RUN).contains(&len) || atoms.seen(view, run.start) {
                continue;
            }
            self.classify_run(data, &run, view, depth, atoms, labeler);
        }
        atoms.count_read(i - from);
        *scanned = (*scanned).max(i);
    }

    fn classify_run(
        &self,
        data: &[u8],
        run: &Run,
        view: View,
        depth: u8,
        atoms: &mut Atoms,
        labeler: &mut Labeler,
    ) {
        let raw = &data[run.start..run.core_end];
        let (core, encoding): (Cow<[u8]>, Option<Encoding>) = match decode::unescape(raw) {
            Some((plain, enc)) => (Cow::Owned(plain), Some(enc)),
            None if raw.iter().any(|&b| decode::is_escape_start(b)) => return,
            None => (Cow::Borrowed(raw), None),
        };
        let padded = run.end > run.core_end;
        if core.len() == 40 && !padded && is_secret_shaped(&core) {
            if atoms.secrets.len() >= MAX_PARTS {
                atoms.dropped += 1;
                return;
            }
            let value = String::from_utf8_lossy(&core).into_owned();
            let label = labeler.label(data, run.start);
            atoms
                .secrets
                .push(Atom::new(value, view, run.start, encoding, label));
        } else if core.len() >= 100 && is_token_shaped(&core) {
            let mut value = String::from_utf8_lossy(&core).into_owned();
            // Keep the padding: it is part of the token.
            value.extend(std::iter::repeat_n(
                '=',
                padding_len(&data[run.core_end..run.end]),
            ));
            let marker = value.contains("Jb3JpZ2luX2Vj") || value.contains("YXdz");
            let mut l = labeler.label(data, run.start);
            if marker && l.token == Strength::None {
                l.token = Strength::Generic;
            }
            if l.token > Strength::None && atoms.tokens.len() >= MAX_PARTS {
                atoms.dropped += 1;
            } else if l.token > Strength::None {
                atoms
                    .tokens
                    .push(Atom::new(value, view, run.start, encoding, l));
            }
        } else if (50..=60).contains(&(run.end - run.start))
            && depth < MAX_DECODE_DEPTH
            && encoding.is_none()
        {
            // A base64-encoded secret, as in a Kubernetes Secret's `data:`.
            let Some(plain) = decode::base64(&data[run.start..run.end]) else {
                return;
            };
            if plain.len() == 40 && is_secret_shaped(&plain) && atoms.secrets.len() >= MAX_PARTS {
                atoms.dropped += 1;
            } else if plain.len() == 40 && is_secret_shaped(&plain) {
                let value = String::from_utf8_lossy(&plain).into_owned();
                let label = labeler.label(data, run.start);
                atoms.secrets.push(Atom::new(
                    value,
                    view,
                    run.start,
                    Some(Encoding::Base64),
                    label,
                ));
            }
        }
    }
}

/// Which buffer an atom was found in: the blob (`outer: None`) or decoded
/// content whose parts all report the offset of the encoded run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct View {
    id: u32,
    outer: Option<usize>,
    encoding: Option<Encoding>,
}

/// A found part before pairing.
#[derive(Debug, Clone)]
struct Atom {
    value: String,
    view: View,
    /// Offset inside its view.
    inner: usize,
    encoding: Option<Encoding>,
    label: Label,
    /// For a key ID: the presigned URL it signed, when it is in one.
    url: Option<Box<presigned::Url>>,
}

impl Atom {
    fn new(
        value: String,
        view: View,
        inner: usize,
        encoding: Option<Encoding>,
        label: Label,
    ) -> Self {
        Atom {
            value,
            view,
            inner,
            encoding: encoding.or(view.encoding),
            label,
            url: None,
        }
    }

    /// Offset in the blob: the encoded run for decoded parts.
    fn offset(&self) -> usize {
        self.view.outer.unwrap_or(self.inner)
    }

    fn position(&self) -> Position {
        Position {
            offset: self.offset(),
            line: 0,
            column: 0,
        }
    }
}

#[derive(Debug, Default)]
struct Atoms {
    keys: Vec<Atom>,
    secrets: Vec<Atom>,
    tokens: Vec<Atom>,
    /// Key-ID-shaped strings rejected as placeholders or impossible: a
    /// secret whose only neighbour is one of them is no leak either.
    rejected: Vec<Atom>,
    views: u32,
    /// Parts not kept because their list was full ([`MAX_PARTS`]).
    dropped: u64,
    /// Runs already classified, by (view, start).
    runs: std::collections::HashSet<(u32, usize)>,
    /// Bytes the value reader went over, for the tests that prove it reads
    /// each byte a bounded number of times.
    #[cfg(test)]
    bytes_read: usize,
}

impl Atoms {
    fn new_view(&mut self, outer: usize, encoding: Encoding) -> View {
        self.views += 1;
        View {
            id: self.views,
            outer: Some(outer),
            encoding: Some(encoding),
        }
    }

    fn seen(&mut self, view: View, start: usize) -> bool {
        !self.runs.insert((view.id, start))
    }

    #[cfg_attr(not(test), allow(unused_variables))]
    fn count_read(&mut self, bytes: usize) {
        #[cfg(test)]
        {
            self.bytes_read += bytes;
        }
    }

    /// Whether a key ID that was rejected (a placeholder, or one AWS never
    /// issues) is near `part` and no real key ID is: then the part was made
    /// up with it (`AKIAIOSFODNN7EXAMPLE` beside a made-up secret).
    fn beside_rejected_key(&self, part: &Atom, data: &[u8]) -> bool {
        let (max_bytes, max_lines, _) = secret_reach(Strength::Aws);
        let near_any = |keys: &[Atom]| {
            let from = keys.partition_point(|k| k.offset() + 4 * PAIR_WINDOW < part.offset());
            keys[from..]
                .iter()
                .take_while(|k| k.offset() <= part.offset() + 4 * PAIR_WINDOW)
                .any(|k| {
                    let (bytes, lines) = distance(k, part, data);
                    near(bytes, lines, max_bytes, max_lines)
                })
        };
        near_any(&self.rejected) && !near_any(&self.keys)
    }

    /// Pairs key IDs with the nearest unclaimed secret and token, cheapest
    /// first, so multi-profile files and CSV exports pair correctly.
    fn pair(mut self, data: &[u8]) -> Vec<Credential> {
        dedup(&mut self.keys);
        dedup(&mut self.secrets);
        dedup(&mut self.tokens);
        dedup(&mut self.rejected);
        // A presigned URL holds no secret, and its session token (when
        // signed with a temporary key) is its own.
        let urls = UrlRanges::of(&self.keys);
        let secret_of = assign(&self.keys, &self.secrets, data, |k, s, bytes, lines| {
            let (max_bytes, max_lines, penalty) = secret_reach(s.label.secret);
            (k.url.is_none() && near(bytes, lines, max_bytes, max_lines)).then_some(bytes + penalty)
        });
        let token_of = assign(&self.keys, &self.tokens, data, |k, t, bytes, lines| {
            if let Some(url) = &k.url {
                return (t.view == k.view && url.range.contains(&t.inner)).then_some(bytes);
            }
            if urls.holds(t) {
                return None;
            }
            let temporary = k.value.starts_with("ASIA");
            let ok = temporary && bytes <= 4 * PAIR_WINDOW && lines <= 12
                || t.label.token == Strength::Aws && bytes <= PAIR_WINDOW && lines <= 6;
            ok.then_some(bytes)
        });
        let mut claimed_secrets = vec![false; self.secrets.len()];
        let mut claimed_tokens = vec![false; self.tokens.len()];
        let mut out = Vec::new();
        for (ki, key) in self.keys.iter().enumerate() {
            let secret = secret_of[ki].map(|si| {
                claimed_secrets[si] = true;
                &self.secrets[si]
            });
            let token = token_of[ki].map(|ti| {
                claimed_tokens[ti] = true;
                &self.tokens[ti]
            });
            out.push(Credential {
                access_key_id: Some(part(key, key.value.clone())),
                secret_access_key: secret.map(|s| part(s, Secret::new(s.value.clone()))),
                session_token: token.map(|t| part(t, Secret::new(t.value.clone()))),
                account_id: keyid::account_id(&key.value),
                confidence: if secret.is_some() {
                    Confidence::High
                } else {
                    Confidence::Medium
                },
                member: None,
                presigned: key.url.as_ref().map(|u| u.presigned.clone()),
            });
        }
        // A secret without a key ID counts only when its name says AWS, and
        // not when the only key ID near it is a placeholder or made up.
        let lone_secrets: Vec<usize> = (0..self.secrets.len())
            .filter(|&i| {
                !claimed_secrets[i]
                    && self.secrets[i].label.secret == Strength::Aws
                    && !self.beside_rejected_key(&self.secrets[i], data)
            })
            .collect();
        // Lone secrets and tokens next to each other are one credential.
        let lone_tokens: Vec<usize> = (0..self.tokens.len())
            .filter(|&i| {
                !claimed_tokens[i]
                    && !urls.holds(&self.tokens[i])
                    && (self.tokens[i].label.token == Strength::Aws || is_marked(&self.tokens[i]))
                    && !self.beside_rejected_key(&self.tokens[i], data)
            })
            .collect();
        let secrets_only: Vec<Atom> = lone_secrets
            .iter()
            .map(|&i| self.secrets[i].clone())
            .collect();
        let tokens_only: Vec<Atom> = lone_tokens
            .iter()
            .map(|&i| self.tokens[i].clone())
            .collect();
        let token_for_secret = assign(&secrets_only, &tokens_only, data, |_, _, bytes, lines| {
            (bytes <= 4 * PAIR_WINDOW && lines <= 6).then_some(bytes)
        });
        let mut token_used = vec![false; tokens_only.len()];
        for (si, s) in secrets_only.iter().enumerate() {
            let token = token_for_secret[si].map(|ti| {
                token_used[ti] = true;
                &tokens_only[ti]
            });
            out.push(Credential {
                access_key_id: None,
                secret_access_key: Some(part(s, Secret::new(s.value.clone()))),
                session_token: token.map(|t| part(t, Secret::new(t.value.clone()))),
                account_id: None,
                confidence: Confidence::Medium,
                member: None,
                presigned: None,
            });
        }
        for (ti, t) in tokens_only.iter().enumerate() {
            if !token_used[ti] {
                out.push(Credential {
                    access_key_id: None,
                    secret_access_key: None,
                    session_token: Some(part(t, Secret::new(t.value.clone()))),
                    account_id: None,
                    confidence: Confidence::Medium,
                    member: None,
                    presigned: None,
                });
            }
        }
        out.sort_by_key(|c| c.first_position().offset);
        out
    }
}

/// How far a secret may be from its key ID, by what names it: bytes on one
/// line, lines otherwise; and what choosing it costs over a better-named one.
fn secret_reach(label: Strength) -> (usize, usize, usize) {
    match label {
        Strength::Aws => (2 * PAIR_WINDOW, PAIR_LINES, 0),
        Strength::Generic => (PAIR_WINDOW, PAIR_LINES / 2, 256),
        Strength::None => (400, 2, 512),
    }
}

/// Near enough: within `max_lines` lines, and within `max_bytes` when on
/// one line (else within the `4 * PAIR_WINDOW` bytes the window around a
/// key ID reads). Distance counts lines because table rows and
/// pretty-printed files are wide, and bytes on one line because a minified
/// file is one giant line.
fn near(bytes: usize, lines: usize, max_bytes: usize, max_lines: usize) -> bool {
    lines <= max_lines && (bytes <= max_bytes || lines > 0 && bytes <= 4 * PAIR_WINDOW)
}

/// Newlines near the key IDs of one buffer, each found once. The window
/// around a key ID reaches `PAIR_LINES` lines each way; with a key ID on
/// every line (a CSV export, a log) counting them again for each key ID
/// read every line two dozen times.
#[derive(Debug, Default)]
struct NearLines {
    /// Every newline at positions `low..high` of the buffer, in order.
    newlines: std::collections::VecDeque<usize>,
    low: usize,
    high: usize,
}

impl NearLines {
    /// The bytes around a key ID (at `start..end`) read for its secret and
    /// token: `PAIR_WINDOW` bytes each way, widened to `PAIR_LINES` lines
    /// each way but never beyond `4 * PAIR_WINDOW` bytes. Key IDs come in
    /// order of `start`.
    fn window(&mut self, data: &[u8], start: usize, end: usize) -> Range<usize> {
        let low = start.saturating_sub(4 * PAIR_WINDOW);
        let high = data.len().min(end + 4 * PAIR_WINDOW);
        if low > self.high || low < self.low {
            self.newlines.clear();
            (self.low, self.high) = (low, low);
        }
        while self.newlines.front().is_some_and(|&n| n < low) {
            self.newlines.pop_front();
        }
        self.low = low;
        if high > self.high {
            let from = self.high;
            self.newlines
                .extend(memchr::memchr_iter(b'\n', &data[from..high]).map(|i| from + i));
            self.high = high;
        }
        let before = self.newlines.partition_point(|&n| n < start);
        let from = match before.checked_sub(PAIR_LINES + 1) {
            Some(i) => self.newlines[i],
            None => low,
        };
        let after = self.newlines.partition_point(|&n| n < end);
        let to = self
            .newlines
            .get(after + PAIR_LINES)
            .map_or(high, |&n| n + 1);
        from.min(start.saturating_sub(PAIR_WINDOW))..to.max((end + PAIR_WINDOW).min(data.len()))
    }
}

/// The presigned URLs among the key IDs, by view and start, to tell
/// whether a part lies inside one.
struct UrlRanges(Vec<(u32, usize, usize)>);

impl UrlRanges {
    fn of(keys: &[Atom]) -> Self {
        let mut v: Vec<(u32, usize, usize)> = keys
            .iter()
            .filter_map(|k| {
                k.url
                    .as_ref()
                    .map(|u| (k.view.id, u.range.start, u.range.end))
            })
            .collect();
        v.sort_unstable();
        UrlRanges(v)
    }

    fn holds(&self, a: &Atom) -> bool {
        let i = self
            .0
            .partition_point(|&(view, start, _)| (view, start) <= (a.view.id, a.inner));
        i > 0 && {
            let (view, _, end) = self.0[i - 1];
            view == a.view.id && a.inner < end
        }
    }
}

/// Real STS session tokens start like this.
fn is_marked(t: &Atom) -> bool {
    t.value.starts_with("IQoJb3JpZ2luX2Vj") || t.value.starts_with("FwoGZXIvYXdz")
}

fn dedup(atoms: &mut Vec<Atom>) {
    atoms.sort_by_key(|a| (a.offset(), a.view.id, a.inner));
    atoms.dedup_by(|a, b| a.view == b.view && a.inner == b.inner);
}

fn part<V>(atom: &Atom, value: V) -> Part<V> {
    Part {
        value,
        position: atom.position(),
        encoding: atom.encoding,
    }
}

/// Greedy one-to-one assignment of `right` items to `left` items by
/// ascending cost; `cost` returns `None` for pairs that may not pair.
fn assign(
    left: &[Atom],
    right: &[Atom],
    data: &[u8],
    cost: impl Fn(&Atom, &Atom, usize, usize) -> Option<usize>,
) -> Vec<Option<usize>> {
    let mut options = Vec::new();
    // Both sides are sorted by offset: only look at the right items near each left one.
    for (li, l) in left.iter().enumerate() {
        let from = right.partition_point(|r| r.offset() + 4 * PAIR_WINDOW < l.offset());
        let to = right.partition_point(|r| r.offset() <= l.offset() + 4 * PAIR_WINDOW);
        for (ri, r) in right.iter().enumerate().take(to).skip(from) {
            let (bytes, lines) = distance(l, r, data);
            if bytes > 4 * PAIR_WINDOW {
                continue;
            }
            if let Some(c) = cost(l, r, bytes, lines) {
                options.push((c, li, ri));
            }
        }
    }
    options.sort_unstable();
    let mut of_left = vec![None; left.len()];
    let mut taken = vec![false; right.len()];
    for (_, li, ri) in options {
        if of_left[li].is_none() && !taken[ri] {
            of_left[li] = Some(ri);
            taken[ri] = true;
        }
    }
    of_left
}

/// Bytes and lines between two atoms: inside their view when they share
/// one, else between their places in the blob.
fn distance(a: &Atom, b: &Atom, data: &[u8]) -> (usize, usize) {
    let (x, y) = if a.view == b.view {
        (a.inner, b.inner)
    } else {
        (a.offset(), b.offset())
    };
    let (lo, hi) = (x.min(y), x.max(y));
    let bytes = hi - lo;
    let lines = if a.view == b.view && a.view.outer.is_some() {
        // Inside decoded content: no access to its text here; bytes decide.
        bytes / 80
    } else if bytes <= 4 * PAIR_WINDOW && hi <= data.len() {
        memchr::memchr_iter(b'\n', &data[lo..hi]).count()
    } else {
        usize::MAX
    };
    (bytes, lines)
}

/// Characters of a secret access key.
fn is_core(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'/' || b == b'+'
}

fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b'=' | b'-' | b'_')
}

/// A value run: core characters and escapes, then `=` padding.
struct Run {
    start: usize,
    /// End of the characters before any trailing padding.
    core_end: usize,
    /// End including padding (`=` or `%3D`).
    end: usize,
}

/// Whether a value run starts at `i`: a core character or an escape, not
/// preceded by one.
fn starts_value(data: &[u8], i: usize) -> bool {
    let b = data[i];
    let begins = is_core(b) || decode::is_escape_start(b) && escape_len(data, i) > 0;
    begins && (i == 0 || !(is_core(data[i - 1]) || data[i - 1] == b'\\'))
}

/// Length of the escape at `i` when it stands for a character of a value
/// (`%2F`, `\/`, `\u002F`, `\u{2F}`, `&#x2F;`, `&sol;` …), or 0.
fn escape_len(data: &[u8], i: usize) -> usize {
    escape_of(data, i, is_core)
}

/// Length of the escape at `i` when it stands for `=` (padding), or 0.
fn padding_escape_len(data: &[u8], i: usize) -> usize {
    escape_of(data, i, |b| b == b'=')
}

fn escape_of(data: &[u8], i: usize, wanted: impl Fn(u8) -> bool) -> usize {
    if !decode::is_escape_start(data[i]) {
        return 0;
    }
    decode::escape_at(data, i)
        .filter(|e| wanted(e.byte))
        .map_or(0, |e| e.len)
}

fn read_run(data: &[u8], start: usize) -> Run {
    let limit = data.len().min(start + MAX_RUN + 1);
    let mut i = start;
    while i < limit {
        if is_core(data[i]) {
            i += 1;
        } else {
            match escape_len(data, i) {
                0 => break,
                n => i += n,
            }
        }
    }
    let core_end = i;
    while i < data.len() {
        if data[i] == b'=' {
            i += 1;
        } else {
            match padding_escape_len(data, i) {
                0 => break,
                n => i += n,
            }
        }
    }
    Run {
        start,
        core_end,
        end: i,
    }
}

/// How many `=` the padding `s` (as written, maybe escaped) stands for.
fn padding_len(s: &[u8]) -> usize {
    let (mut n, mut i) = (0, 0);
    while i < s.len() {
        i += match s[i] {
            b'=' => 1,
            _ => padding_escape_len(s, i).max(1),
        };
        n += 1;
    }
    n
}

/// 40 characters of a secret access key: random base64, so high entropy and
/// both letter cases; documentation and filler values excluded.
fn is_secret_shaped(v: &[u8]) -> bool {
    v.len() == 40
        && v.iter().all(|&b| is_core(b))
        && v.iter().any(u8::is_ascii_lowercase)
        && v.iter().any(u8::is_ascii_uppercase)
        && entropy::shannon(v) >= entropy::SECRET_MIN
        && std::str::from_utf8(v).is_ok_and(|s| !allow::is_placeholder_secret(s))
}

/// A long base64 run with the entropy of random bytes.
fn is_token_shaped(v: &[u8]) -> bool {
    v.iter().all(|&b| is_core(b))
        && entropy::shannon(v) >= entropy::TOKEN_MIN
        && std::str::from_utf8(v).is_ok_and(|s| !allow::is_placeholder_token(s))
}

/// End of the line (or `max` bytes) after `at`.
fn line_end(data: &[u8], at: usize, max: usize) -> usize {
    let limit = data.len().min(at + max);
    memchr::memchr(b'\n', &data[at..limit]).map_or(limit, |i| at + i)
}

/// The end of `lines` more lines after `at` (a line end), at most `max`
/// bytes further.
fn lines_below(data: &[u8], at: usize, lines: usize, max: usize) -> usize {
    let limit = data.len().min(at + max);
    let below = data.get(at + 1..limit).unwrap_or_default();
    memchr::memchr_iter(b'\n', below)
        .nth(lines - 1)
        .map_or(limit, |i| at + 1 + i)
}

/// The run of bytes satisfying `keep` around `at`, bounded by `MAX_RUN`.
fn expand(data: &[u8], at: usize, keep: impl Fn(u8) -> bool) -> Range<usize> {
    let mut s = at;
    while s > 0 && at - s < MAX_RUN && keep(data[s - 1]) {
        s -= 1;
    }
    let mut e = at;
    while e < data.len() && e - at < MAX_RUN && keep(data[e]) {
        e += 1;
    }
    s..e
}

/// The UTF-16LE text around `at` (ASCII characters, each followed by a
/// NUL), at most `MAX_RUN` bytes each way. Expanding over all ASCII bytes
/// instead cut the window out of surrounding plain text, up to 16 KiB
/// before the anchor (missing what followed it), once per anchor.
fn expand_utf16(data: &[u8], at: usize) -> Range<usize> {
    let unit = |i: usize| {
        data.get(i..i + 2)
            .is_some_and(|u| u[1] == 0 && u[0] != 0 && u[0].is_ascii())
    };
    let mut s = at;
    while s >= 2 && at - s < MAX_RUN && unit(s - 2) {
        s -= 2;
    }
    let mut e = at;
    while e - at < MAX_RUN && unit(e) {
        e += 2;
    }
    s..e
}

/// Sorts and merges overlapping windows so every byte is read once.
fn merge(mut windows: Vec<Range<usize>>) -> Vec<Range<usize>> {
    windows.sort_by_key(|w| w.start);
    let mut out: Vec<Range<usize>> = Vec::with_capacity(windows.len());
    for w in windows {
        match out.last_mut() {
            Some(last) if w.start <= last.end => last.end = last.end.max(w.end),
            _ => out.push(w),
        }
    }
    out
}

fn for_each_position(c: &mut Credential, mut f: impl FnMut(&mut Position, &mut Option<Encoding>)) {
    if let Some(p) = c.access_key_id.as_mut() {
        f(&mut p.position, &mut p.encoding);
    }
    if let Some(p) = c.secret_access_key.as_mut() {
        f(&mut p.position, &mut p.encoding);
    }
    if let Some(p) = c.session_token.as_mut() {
        f(&mut p.position, &mut p.encoding);
    }
}

/// Fills in 1-based line and byte column from each part's offset, in one
/// sweep over the text however many parts there are.
fn set_line_columns(found: &mut [Credential], data: &[u8]) {
    let mut positions: Vec<&mut Position> = Vec::new();
    for c in found.iter_mut() {
        positions.extend(
            [
                c.access_key_id.as_mut().map(|p| &mut p.position),
                c.secret_access_key.as_mut().map(|p| &mut p.position),
                c.session_token.as_mut().map(|p| &mut p.position),
            ]
            .into_iter()
            .flatten(),
        );
    }
    positions.sort_by_key(|p| p.offset);
    let (mut at, mut line, mut line_start) = (0usize, 1u32, 0usize);
    for p in positions {
        let to = p.offset.min(data.len());
        for nl in memchr::memchr_iter(b'\n', &data[at..to]) {
            line += 1;
            line_start = at + nl + 1;
        }
        at = to;
        p.line = line;
        p.column = 1 + (to - line_start) as u32;
    }
}

/// Moves positions found in a window to where the window sits in its file.
/// `first_newline` is the window's first `\n`: positions before it are on
/// the line the window started in, so their column continues that line.
fn shift_positions(c: &mut Credential, first_newline: Option<usize>, start: Position) {
    if start.offset == 0 && start.line == 1 && start.column == 1 {
        return;
    }
    for_each_position(c, |p, _| {
        if first_newline.is_none_or(|nl| p.offset <= nl) {
            p.column += start.column - 1;
        }
        p.line += start.line - 1;
        p.offset += start.offset;
    });
}

/// `keysweep:allow` on the line of any part (looked for within 4 KiB of the
/// part, so a huge one-line file stays linear).
fn allowed_inline(data: &[u8], c: &Credential) -> bool {
    [
        c.access_key_id.as_ref().map(|p| p.position.offset),
        c.secret_access_key.as_ref().map(|p| p.position.offset),
        c.session_token.as_ref().map(|p| p.position.offset),
    ]
    .into_iter()
    .flatten()
    .any(|offset| {
        let at = offset.min(data.len());
        let floor = at.saturating_sub(4096);
        let start = memchr::memrchr(b'\n', &data[floor..at]).map_or(floor, |i| floor + i + 1);
        let ceil = data.len().min(at + 4096);
        let end = memchr::memchr(b'\n', &data[at..ceil]).map_or(ceil, |i| at + i);
        memchr::memmem::find(&data[start..end], allow::INLINE_ALLOW).is_some()
    })
}

#[cfg(test)]
mod tests;
