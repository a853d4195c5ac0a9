//! What a value is called: the name in front of it (`aws_secret_access_key
//! = …`, `"secretAccessKey": …`, `<SecretAccessKey>…`, `--secret-key …`),
//! the column or row it sits in, or the block around it.
//!
//! A 40-character string is only a secret access key when something says so:
//! a key ID near it, or a name like these. The name is read backwards from
//! the value over separators (`=`, `:`, quotes, spaces, `\"`, `&quot;`,
//! string prefixes such as `r'` or `@"`) and then over the identifier
//! itself, within the same line, or on the line above when the value stands
//! alone on its line (`<SecretAccessKey>` then the value, `key: |`, `key =
//! (`). Where a value's own name says nothing, structure does: an earlier
//! cell of a `|`-, tab- or comma-delimited row, the header of its column,
//! and for generic names (`default`, `value`) the enclosing block
//! (`variable "aws_secret_key" { default = … }`, a YAML parent or sibling
//! `name:`, an XML parent element, a JSON parent object).

use std::ops::Range;

/// How strongly the name in front of a value marks it as an AWS credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) enum Strength {
    /// No name, or one that says nothing (`nonce`, `id`).
    #[default]
    None,
    /// A secret-ish name without AWS in it (`secret_key`, `password`).
    Generic,
    /// An AWS secret name (`aws_secret_access_key`, `SecretAccessKey`).
    Aws,
}

/// The names in front of a value, classified for secrets and for tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Label {
    pub secret: Strength,
    pub token: Strength,
}

impl Label {
    /// The stronger of two labels, field by field.
    fn max(self, other: Label) -> Label {
        Label {
            secret: self.secret.max(other.secret),
            token: self.token.max(other.token),
        }
    }

    fn is_aws(self) -> bool {
        self.secret == Strength::Aws && self.token == Strength::Aws
    }
}

/// What may stand between a name and its value: assignment operators of
/// shells, Makefiles (`?=`, `+=`, `!=`, `:=`), YAML, JSON, XML, code; quotes
/// and escaped quotes; Markdown emphasis; table bars.
const SEPARATORS: &[u8] = b" \t'\"`:=>(,{|\\?!+*#<;~&[";
const MAX_NAME: usize = 64;
/// Separator bytes skipped between a name and its value (column-aligned
/// files pad with spaces).
const MAX_SKIP: usize = 32;
/// How far back the line of a value is searched: searching for the line
/// start over the whole prefix made a long line with many values quadratic.
const REACH: usize = 256;
/// Names, each read after skipping separators, looked at before giving up
/// (string prefixes and `]` are not names).
const MAX_NAMES: usize = 4;

/// Classifies the name in front of `data[at..]`: on its line, or on the
/// line above when the value stands alone on its line.
#[cfg(test)]
fn label_before(data: &[u8], at: usize) -> Label {
    named(data, at).0
}

/// The label of the name in front of `at`, and that name's last word
/// (normalized) when there is one.
fn named(data: &[u8], at: usize) -> (Label, Option<String>) {
    let floor = line_floor(data, at, REACH);
    if let Some(name) = name_before(data, at, floor) {
        return (
            classify_name(&data[name.clone()], &data[floor..at]),
            Some(last_word(&data[name])),
        );
    }
    // The value alone on its line: the name is at the end of the line above.
    let at_line_start = floor == 0 || data[floor - 1] == b'\n';
    let alone = data[floor..at].iter().all(|b| {
        matches!(
            b,
            b' ' | b'\t' | b'"' | b'\'' | b'`' | b'-' | b'*' | b'>' | b'#'
        )
    });
    if !(at_line_start && alone && floor > 0) {
        return (Label::default(), None);
    }
    let Some((prev_floor, end)) = line_above(data, floor) else {
        return (Label::default(), None);
    };
    let line = &data[prev_floor..end];
    let Some(&last) = line.last() else {
        return (Label::default(), None);
    };
    if last == b'>' {
        // An opening tag (`<SecretAccessKey>`); not a closing or empty one.
        let Some(lt) = memchr::memrchr(b'<', line) else {
            return (Label::default(), None);
        };
        let tag = &line[lt + 1..line.len() - 1];
        if tag.first() == Some(&b'/') || tag.last() == Some(&b'/') {
            return (Label::default(), None);
        }
        return (classify_name(tag, line), Some(last_word(tag)));
    }
    let block_scalar = matches!(last, b'-' | b'+')
        && line.len() >= 2
        && matches!(line[line.len() - 2], b'|' | b'>');
    if !(block_scalar || b"=:|([{\\".contains(&last)) {
        return (Label::default(), None);
    }
    match name_before(data, end, prev_floor) {
        Some(name) => (
            classify_name(&data[name.clone()], line),
            Some(last_word(&data[name])),
        ),
        None => (Label::default(), None),
    }
}

/// Start of the line holding `at`, looked for at most `reach` bytes back.
fn line_floor(data: &[u8], at: usize, reach: usize) -> usize {
    let low = at.saturating_sub(reach);
    memchr::memrchr(b'\n', &data[low..at]).map_or(low, |i| low + i + 1)
}

/// The last non-blank line before the line starting at `line_start` (at
/// most one blank line between), trimmed: its start and end.
fn line_above(data: &[u8], line_start: usize) -> Option<(usize, usize)> {
    let mut end = line_start;
    for _ in 0..2 {
        // `end` is just after a newline; step over it.
        end = end.checked_sub(1)?;
        let start = line_floor(data, end, REACH);
        let mut e = end;
        while e > start && data[e - 1].is_ascii_whitespace() {
            e -= 1;
        }
        if e > start {
            return Some((start, e));
        }
        end = start;
        if start == 0 || data[start - 1] != b'\n' {
            return None;
        }
    }
    None
}

/// The name in front of `at`: separators are skipped, then name bytes read;
/// string prefixes (`r'…'`, `r#"…"#`, `@"…"`, `$"…"`) and bare brackets
/// (`ENV["…"] = "…"`) are stepped over.
fn name_before(data: &[u8], at: usize, floor: usize) -> Option<Range<usize>> {
    let mut i = at;
    for _ in 0..MAX_NAMES {
        let before = i;
        i = skip_separators(data, i, floor);
        let end = i;
        while i > floor && end - i < MAX_NAME && is_name_byte(data[i - 1]) {
            i -= 1;
        }
        let norm = normalize(&data[i..end]);
        let string_prefix = is_string_prefix(&norm)
            && data
                .get(end)
                .is_some_and(|b| matches!(b, b'"' | b'\'' | b'`' | b'#'));
        if !norm.is_empty() && !string_prefix {
            return Some(i..end);
        }
        if i == before || i == floor {
            return None;
        }
    }
    None
}

/// Steps back over separators and HTML entities (`&quot;`), at most
/// `MAX_SKIP` bytes.
fn skip_separators(data: &[u8], mut i: usize, floor: usize) -> usize {
    let limit = i.saturating_sub(MAX_SKIP).max(floor);
    while i > limit {
        if data[i - 1] == b';' {
            if let Some(amp) = entity_before(data, i, limit) {
                i = amp;
                continue;
            }
        }
        if !SEPARATORS.contains(&data[i - 1]) {
            break;
        }
        i -= 1;
    }
    i
}

/// Start of an HTML entity (`&quot;`, `&#34;`) ending at `end`.
fn entity_before(data: &[u8], end: usize, floor: usize) -> Option<usize> {
    let low = end.saturating_sub(10).max(floor);
    let amp = memchr::memrchr(b'&', &data[low..end - 1])? + low;
    let body = &data[amp + 1..end - 1];
    (body.len() >= 2 && body.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'#')).then_some(amp)
}

/// Letters that prefix a string literal in Python, C++, C#, Rust …
fn is_string_prefix(norm: &str) -> bool {
    matches!(
        norm,
        "r" | "b" | "u" | "f" | "l" | "rb" | "br" | "fr" | "rf" | "u8"
    )
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b' ' | b'[' | b']' | b'$' | b'@')
}

/// Lower-case letters and digits only: `AWS_Secret-Access.Key` → `awssecretaccesskey`.
fn normalize(s: &[u8]) -> String {
    s.iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(|b| b.to_ascii_lowercase() as char)
        .collect()
}

/// The last space-separated word of a name, normalized.
fn last_word(name: &[u8]) -> String {
    name.rsplit(|&b| b == b' ' || b == b'<')
        .find(|w| !normalize(w).is_empty())
        .map(normalize)
        .unwrap_or_default()
}

fn contains_any(s: &str, words: &[&str]) -> bool {
    words.iter().any(|w| s.contains(w))
}

const AWS_WORDS: &[&str] = &["aws", "amazon", "amz"];

/// Classifies a name found in `line` (the text the name was read from).
fn classify_name(raw_name: &[u8], line: &[u8]) -> Label {
    // The last word of the name alone (`secret_key`, not `DJANGO_SECRET_KEY`).
    if matches!(
        last_word(raw_name).as_str(),
        "secret" | "secretkey" | "secretaccesskey" | "accesssecret" | "secretaccess"
    ) {
        return Label {
            secret: Strength::Aws,
            token: Strength::None,
        };
    }
    classify(
        &normalize(raw_name),
        contains_any(&normalize(line), AWS_WORDS),
    )
}

fn classify(name: &str, line_has_aws: bool) -> Label {
    let aws = line_has_aws || contains_any(name, &["aws", "amazon", "amz", "s3", "iam"]);
    let secretish = contains_any(name, &["secret", "sk", "privatekey"]);
    let secret = if contains_any(
        name,
        &["secretaccesskey", "awssecret", "awssk", "secretkey"],
    ) && (aws || name.contains("secretaccesskey"))
        || secretish && aws
    {
        Strength::Aws
    } else if secretish
        || contains_any(
            name,
            &[
                "key",
                "password",
                "passwd",
                "pwd",
                "pass",
                "credential",
                "auth",
            ],
        )
    {
        Strength::Generic
    } else {
        Strength::None
    };
    let token = if contains_any(name, &["sessiontoken", "securitytoken", "ststoken"])
        || name.contains("token") && aws
    {
        Strength::Aws
    } else if name.contains("token") || name.contains("session") {
        Strength::Generic
    } else {
        Strength::None
    };
    Label { secret, token }
}

/// Names that say only "here is the value": its context is the block.
const GENERIC_NAMES: &[&str] = &[
    "default",
    "defaultvalue",
    "value",
    "val",
    "parametervalue",
    "string",
];

/// How far back the enclosing block of a generic name is looked for.
const BLOCK_REACH: usize = 1024;
const BLOCK_LINES: usize = 8;
/// How far back a delimited row's start is looked for, and how far up its
/// column header.
const ROW_REACH: usize = 1024;
const HEADER_LINES: usize = 32;
const HEADER_REACH: usize = 16 << 10;

/// Labels values of one buffer, remembering the last table header found so
/// that a long table is walked up once, not once per row.
#[derive(Debug, Default)]
pub(crate) struct Labeler {
    table: Option<Table>,
    /// Lines walked up looking for headers, for the test that proves a
    /// table is walked once.
    #[cfg(test)]
    pub(super) lines_walked: usize,
}

/// A delimited table seen before: its header line and the last row looked up.
#[derive(Debug, Clone, Copy)]
struct Table {
    delimiter: u8,
    cells: usize,
    header: usize,
    last_row: usize,
}

impl Labeler {
    /// Everything that names the value at `data[at..]`: its own name, the
    /// row and column it sits in, and for a generic name its block.
    pub fn label(&mut self, data: &[u8], at: usize) -> Label {
        let (mut label, name) = named(data, at);
        if label.is_aws() {
            return label;
        }
        if name.is_some_and(|n| GENERIC_NAMES.contains(&n.as_str())) {
            label = label.max(block_label(data, at));
        }
        if label.secret < Strength::Aws {
            label = label.max(self.row_label(data, at));
        }
        label
    }

    /// The names of a delimited row: earlier cells of it, and the header of
    /// the value's column.
    fn row_label(&mut self, data: &[u8], at: usize) -> Label {
        let start = line_floor(data, at, ROW_REACH);
        if start > 0 && data[start - 1] != b'\n' {
            return Label::default(); // a giant line, not a table row
        }
        let prefix = &data[start..at];
        let Some(&delimiter) = [b'|', b'\t', b','].iter().find(|d| prefix.contains(d)) else {
            return Label::default();
        };
        let cells = split_cells(prefix, delimiter);
        let column = cells.len() - 1;
        let mut label = cells[..column]
            .iter()
            .filter_map(|c| name_cell(c))
            .fold(Label::default(), |l, c| l.max(classify_cell(c)));
        if label.secret < Strength::Aws {
            if let Some(header) = self.header_cell(data, start, delimiter, column) {
                label = label.max(classify_cell(header));
            }
        }
        label
    }

    /// The header cell of `column` in the table whose row starts at
    /// `row`: the topmost of the lines above with as many delimiters.
    fn header_cell<'d>(
        &mut self,
        data: &'d [u8],
        row: usize,
        delimiter: u8,
        column: usize,
    ) -> Option<&'d [u8]> {
        let cells = count_cells(line_at(data, row), delimiter);
        if cells < min_cells(delimiter) {
            return None;
        }
        let known = self
            .table
            .filter(|t| t.delimiter == delimiter && t.cells == cells);
        let mut top = row;
        let mut walked = 0;
        let header = loop {
            if let Some(t) = known.filter(|t| (t.header..=t.last_row).contains(&top)) {
                break t.header;
            }
            if top == 0 {
                break top;
            }
            let above = line_floor(data, top - 1, HEADER_REACH);
            if above > 0 && data[above - 1] != b'\n' {
                return None;
            }
            if count_cells(line_at(data, above), delimiter) != cells {
                break top;
            }
            walked += 1;
            #[cfg(test)]
            {
                self.lines_walked += 1;
            }
            if walked > HEADER_LINES || row - above > HEADER_REACH {
                return None;
            }
            top = above;
        };
        self.table = Some(Table {
            delimiter,
            cells,
            header,
            last_row: row,
        });
        if header == row {
            return None;
        }
        split_cells(line_at(data, header), delimiter)
            .get(column)
            .and_then(|c| name_cell(c))
    }
}

/// Commas are everywhere in code: a comma table needs three columns.
fn min_cells(delimiter: u8) -> usize {
    if delimiter == b',' {
        3
    } else {
        2
    }
}

/// Whether the name around the word `data[word]` (`secret`, `token`) is an
/// AWS one, judged by the words right next to it (at most one separator
/// between): `aws`/`amz`/`amazon` glued before it (`aws_secret_key`,
/// `AWSSecretKey`, `X-Amz-Security-Token`), `access key` after `secret`,
/// `session` or `security` before `token`, or a bare AWS name
/// (`SecretKey`, `AccessSecret`). Only such names are worth looking for a
/// value on the lines below (source code says `secret` and `token`
/// everywhere), and this runs for each of them: a few byte compares.
pub(crate) fn names_aws(data: &[u8], word: Range<usize>) -> bool {
    let (start, end) = (word.start, word.end);
    // Every name below ends in s, z, n or y before the word, or starts
    // with a or k after it: most words are done after two bytes.
    let sep = |b: u8| matches!(b, b' ' | b'_' | b'-' | b'.');
    let near = |i: Option<usize>, step: fn(usize) -> Option<usize>| {
        let b = *i.and_then(|i| data.get(i))?;
        if sep(b) {
            i.and_then(step).and_then(|j| data.get(j)).map(|b| b | 0x20)
        } else {
            Some(b | 0x20)
        }
    };
    let before = near(start.checked_sub(1), |i| i.checked_sub(1));
    let after = near(Some(end), |i| i.checked_add(1));
    if !matches!(before, Some(b's' | b'z' | b'n' | b'y')) && !matches!(after, Some(b'a' | b'k')) {
        return false;
    }
    // `aws` glued to the word in an identifier (`aws_secret`, not the prose
    // `AWS secret`); `session token` and `secret access key` either way.
    let glued = start > 0 && data[start - 1] != b' ';
    let aws_before = glued
        && [&b"aws"[..], b"amz", b"amazon"]
            .iter()
            .any(|w| words_before(data, start, w).is_some());
    let token_before = [&b"session"[..], b"security"]
        .iter()
        .any(|w| words_before(data, start, w).is_some());
    if aws_before || token_before || words_at(data, end, &[b"access", b"key"]).is_some() {
        return true;
    }
    // `SecretKey`, `SecretAccess`, `AccessSecret` as the whole name.
    let ident = |i: Option<usize>| {
        i.and_then(|i| data.get(i))
            .is_some_and(|&b| IDENT[usize::from(b)])
    };
    // One identifier: no space inside (`secret key` is prose).
    let whole = |from: usize, to: usize| {
        !ident(from.checked_sub(1)) && !ident(Some(to)) && !data[from..to].contains(&b' ')
    };
    [&b"key"[..], b"access"]
        .iter()
        .filter_map(|w| words_at(data, end, &[w]))
        .any(|to| whole(start, to))
        || words_before(data, start, b"access").is_some_and(|from| whole(from, end))
}

/// Where `words` end when they follow `at` in any case, each after at
/// most one separator (`_`, `-`, `.`, space).
fn words_at(data: &[u8], mut at: usize, words: &[&[u8]]) -> Option<usize> {
    for w in words {
        if data
            .get(at)
            .is_some_and(|b| matches!(b, b' ' | b'_' | b'-' | b'.'))
        {
            at += 1;
        }
        let c = data.get(at..at + w.len())?;
        if !c.eq_ignore_ascii_case(w) {
            return None;
        }
        at += w.len();
    }
    Some(at)
}

/// Where `word` starts when it ends at `end` in any case, or one
/// separator before it.
fn words_before(data: &[u8], mut end: usize, word: &[u8]) -> Option<usize> {
    if end > 0 && matches!(data[end - 1], b' ' | b'_' | b'-' | b'.') {
        end -= 1;
    }
    let start = end.checked_sub(word.len())?;
    data[start..end].eq_ignore_ascii_case(word).then_some(start)
}

/// Bytes of an identifier: letters, digits, `_`, `-`, `.`.
const IDENT: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.';
        b += 1;
    }
    t
};

/// Lines below a name where its value may stand: alone on the next line,
/// or a few lines down in its block (`default = …`).
pub(crate) const LINES_BELOW: usize = BLOCK_LINES;

/// The end of the delimited table whose row holds `at` (the last line below
/// with as many cells), when that line is a table row: a name in a header
/// names every value in its column.
pub(crate) fn table_end(data: &[u8], at: usize) -> Option<usize> {
    let start = line_floor(data, at, ROW_REACH);
    if start > 0 && data[start - 1] != b'\n' {
        return None;
    }
    let line = line_at(data, start);
    let delimiter = [b'|', b'\t', b','].into_iter().find(|d| line.contains(d))?;
    let cells = count_cells(line, delimiter);
    if cells < min_cells(delimiter) {
        return None;
    }
    let mut end = start + line.len();
    while let Some(i) = memchr::memchr(b'\n', &data[end..]) {
        let next = end + i + 1;
        let row = line_at(data, next);
        if row.is_empty() || count_cells(row, delimiter) != cells {
            break;
        }
        end = next + row.len();
    }
    Some(end)
}

/// The line starting at `start`, without its newline, at most `ROW_REACH` bytes.
fn line_at(data: &[u8], start: usize) -> &[u8] {
    let limit = data.len().min(start + ROW_REACH);
    let end = memchr::memchr(b'\n', &data[start..limit]).map_or(limit, |i| start + i);
    let line = &data[start..end];
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Cells of a delimited line; commas inside double quotes do not split.
fn split_cells(line: &[u8], delimiter: u8) -> Vec<&[u8]> {
    let mut cells = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, &b) in line.iter().enumerate() {
        if b == b'"' && delimiter == b',' {
            quoted = !quoted;
        } else if b == delimiter && !quoted {
            cells.push(&line[start..i]);
            start = i + 1;
        }
    }
    cells.push(&line[start..]);
    cells
}

fn count_cells(line: &[u8], delimiter: u8) -> usize {
    split_cells(line, delimiter).len()
}

/// A cell that is a name (`AWS_SECRET_ACCESS_KEY`, `Secret access key`,
/// `**aws_secret**`), trimmed; not a value or a sentence of code.
fn name_cell(cell: &[u8]) -> Option<&[u8]> {
    let junk = |b: &u8| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'`' | b'*');
    let start = cell.iter().position(|b| !junk(b))?;
    let end = cell.iter().rposition(|b| !junk(b))? + 1;
    let name = &cell[start..end];
    let ok = name.len() <= MAX_NAME
        && name.iter().any(u8::is_ascii_alphabetic)
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b' ' | b'_' | b'-' | b'.'));
    ok.then_some(name)
}

fn classify_cell(name: &[u8]) -> Label {
    classify_name(name, b"")
}

/// The label the block around a generic name gives its value: the text
/// from the block's first line (the nearest unclosed `{`, `(`, `[` or `<`,
/// or the nearest line indented less) to the value.
fn block_label(data: &[u8], at: usize) -> Label {
    let floor = at.saturating_sub(BLOCK_REACH);
    let own = line_floor(data, at, BLOCK_REACH);
    // The closer of the two: a one-line object in an indented list is its
    // own block, a bracket far above is not the parent of an indented line.
    let opener = opener_before(&data[floor..at]).map(|i| line_floor(data, floor + i, BLOCK_REACH));
    let parent = indent_parent(data, own, floor);
    let start = match (opener, parent) {
        (Some(a), Some(b)) => a.max(b),
        (a, b) => a.or(b).unwrap_or(own),
    };
    classify_context(&data[start..at])
}

/// The nearest bracket before the end of `text` that is not closed before it.
fn opener_before(text: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &b) in text.iter().enumerate().rev() {
        match b {
            b'}' | b')' | b']' | b'>' => depth += 1,
            b'{' | b'(' | b'[' | b'<' => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return Some(i),
            },
            _ => {}
        }
    }
    None
}

/// The nearest line above `line` (within `floor` and `BLOCK_LINES` lines)
/// indented less than it: its YAML, XML or HCL parent.
fn indent_parent(data: &[u8], line: usize, floor: usize) -> Option<usize> {
    let indent = |start: usize| {
        data[start..]
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count()
    };
    let own = indent(line);
    let mut start = line;
    for _ in 0..BLOCK_LINES {
        if start <= floor {
            return None;
        }
        start = line_floor(data, start - 1, start - floor);
        let n = indent(start);
        let blank = data
            .get(start + n)
            .is_none_or(|&b| b == b'\n' || b == b'\r');
        if !blank && n < own {
            return Some(start);
        }
    }
    None
}

/// A block of text (a parent line and siblings) read for AWS names. Stricter
/// than a name: the text is longer, so short pieces (`sk`) would match by
/// chance.
fn classify_context(text: &[u8]) -> Label {
    let n = normalize(text);
    let aws = contains_any(&n, AWS_WORDS);
    let secret = if n.contains("secretaccesskey")
        || contains_any(
            &n,
            &["awssecret", "secretkey", "secretaccess", "accesssecret"],
        ) && aws
        || n.contains("secret") && aws
    {
        Strength::Aws
    } else if n.contains("secret") {
        Strength::Generic
    } else {
        Strength::None
    };
    let token =
        if contains_any(&n, &["sessiontoken", "securitytoken"]) || n.contains("token") && aws {
            Strength::Aws
        } else {
            Strength::None
        };
    Label { secret, token }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret_label(line: &str) -> Strength {
        let at = line.rfind('X').expect("value marker");
        label_before(line.as_bytes(), at).secret
    }

    #[test]
    fn aws_secret_names() {
        for line in [
            "aws_secret_access_key = X",
            "AWS_SECRET_ACCESS_KEY=X",
            "export AWS_SECRET_ACCESS_KEY=\"X",
            "  \"secretAccessKey\": \"X",
            "<SecretAccessKey>X",
            "AWS Secret Access Key [None]: X",
            "cloud.aws.credentials.secret-key=X",
            "GEO_SERVICE_AWS_SECRET=\"X",
            "aws s3 ls --secret-access-key X",
            "{accessKeyId:\"AKIAQYLPMN5HHHFPZAM2\",secretAccessKey:\"X",
            "aws: {secret: 'X",
        ] {
            assert_eq!(secret_label(line), Strength::Aws, "{line}");
        }
    }

    #[test]
    fn other_names() {
        assert_eq!(secret_label("DJANGO_SECRET_KEY=X"), Strength::Generic);
        assert_eq!(
            secret_label("secret_key: X"),
            Strength::Aws,
            "the bare AWS name"
        );
        assert_eq!(secret_label("github_token=X"), Strength::None);
        assert_eq!(secret_label("password: X"), Strength::Generic);
        assert_eq!(secret_label("\"nonce\": \"X"), Strength::None);
        assert_eq!(secret_label("- (X"), Strength::None);
        assert_eq!(
            secret_label("Provider(\"AKIAQYLPMN5HHHFPZAM2\", \"X"),
            Strength::None
        );
    }

    #[test]
    fn names_behind_punctuation_and_prefixes() {
        for line in [
            "AWS_SECRET_ACCESS_KEY ?= X",
            "AWS_SECRET_ACCESS_KEY += X",
            "AWS_SECRET_ACCESS_KEY != X",
            "\\\"awsSecretKey\\\":\\\"X",
            "aws_secret_access_key = r'X",
            "awsSecretKey = @\"X",
            "ENV[\"AWS_SECRET_ACCESS_KEY\"] = \"X",
            "**AWS_SECRET_ACCESS_KEY**: `X",
            "aws_secret_access_key=&quot;X",
            "| AWS_SECRET_ACCESS_KEY          | X",
        ] {
            assert_eq!(secret_label(line), Strength::Aws, "{line}");
        }
        // A string prefix is not a name, nor is a bracket.
        assert_eq!(secret_label("nonce = b'X"), Strength::None);
        assert_eq!(secret_label("[X"), Strength::None);
    }

    #[test]
    fn a_value_alone_on_its_line_takes_the_name_above() {
        let label = |text: &str| label_before(text.as_bytes(), text.rfind('X').unwrap()).secret;
        assert_eq!(label("<SecretAccessKey>\n   X"), Strength::Aws);
        assert_eq!(label("aws_secret_access_key: |-\n  X"), Strength::Aws);
        assert_eq!(label("aws_secret_access_key =\n\n  X"), Strength::Aws);
        assert_eq!(label("</SecretAccessKey>\nX"), Strength::None);
        assert_eq!(label("aws_secret_access_key\nX"), Strength::None);
        assert_eq!(label("aws_secret_access_key =\n\n\nX"), Strength::None);
    }

    #[test]
    fn aws_names_around_a_word() {
        let aws = |text: &str, word: &str| {
            let at = text.find(word).unwrap();
            names_aws(text.as_bytes(), at..at + word.len())
        };
        assert!(aws("aws_secret_access_key =", "secret"));
        assert!(aws("  <SecretAccessKey>", "Secret"));
        assert!(aws("| Secret access key |", "Secret"));
        assert!(aws("\"SessionToken\":", "Token"));
        assert!(aws("X-Amz-Security-Token:", "Token"));
        assert!(aws("SecretKey:", "Secret"));
        assert!(!aws("let secret = token;", "secret"));
        assert!(!aws("next_token()", "token"));
        assert!(!aws("DJANGO_SECRET_KEY=", "SECRET"));
    }

    #[test]
    fn tables_end_where_the_cell_count_changes() {
        let text = "a | b | c\n--|--|--\n1 | 2 | 3\nprose\n";
        assert_eq!(
            table_end(text.as_bytes(), 2),
            Some(text.find("\nprose").unwrap())
        );
        assert_eq!(
            table_end(b"call(a, b)", 3),
            None,
            "a call with a comma is no table"
        );
        assert_eq!(table_end(b"no delimiter", 3), None);
    }

    #[test]
    fn token_names() {
        let t = |line: &str| label_before(line.as_bytes(), line.rfind('X').unwrap()).token;
        assert_eq!(t("aws_session_token = X"), Strength::Aws);
        assert_eq!(t("\"SessionToken\": \"X"), Strength::Aws);
        assert_eq!(t("X-Amz-Security-Token=X"), Strength::Aws);
        assert_eq!(t("github_token=X"), Strength::Generic);
        assert_eq!(t("nonce=X"), Strength::None);
    }
}
