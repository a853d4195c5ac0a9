//! The one sanitizer: every human-readable line built from scanned data (a
//! path, an archive member, an author, a ref, an ARN, an error a server sent)
//! goes through here before it reaches a terminal, a CI log or Markdown.
//!
//! Scanned data is hostile by definition. On a terminal, control and bidi
//! characters could move the cursor, rewrite earlier lines or reorder what
//! is shown. In a GitHub Actions log the runner also executes
//! `::command::` at the start of a line and the legacy `##[command]`
//! anywhere in one (`stop-commands` would silence every later annotation).
//! In the job summary, Markdown and HTML in a name would become links,
//! images and headings. Each medium gets its escaper here, and nothing else
//! in keysweep escapes by itself.
//!
//! This module is a leaf: it depends on nothing else in the crate.

use std::fmt::Write as _;

/// Where human-readable text is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Medium {
    /// A terminal or a plain log.
    #[default]
    Terminal,
    /// A GitHub Actions step log: the terminal rules plus workflow commands
    /// neutralised.
    CiLog,
}

impl Medium {
    /// `CiLog` when running under GitHub Actions (`GITHUB_ACTIONS=true`),
    /// which parses every line a step writes, stdout and stderr alike.
    pub fn from_env() -> Medium {
        Self::from_env_with(|k| std::env::var(k).ok())
    }

    pub(crate) fn from_env_with(var: impl Fn(&str) -> Option<String>) -> Medium {
        if var("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
            Medium::CiLog
        } else {
            Medium::Terminal
        }
    }

    /// An error message for stderr: one cleaned line, and the `hint:` line
    /// our errors end with (`message\nhint: text`) on a line of its own.
    /// Only the last `\nhint: ` splits, so one inside a quoted name before
    /// it stays escaped; every line is cleaned, so neither can carry a
    /// workflow command.
    pub fn clean_message(self, s: &str) -> String {
        match s.rsplit_once("\nhint: ") {
            Some((message, hint)) => format!(
                "{}\n{}",
                self.clean(message),
                self.clean(&format!("hint: {hint}"))
            ),
            None => self.clean(s),
        }
    }

    /// `s` made safe for this medium.
    pub fn clean(self, s: &str) -> String {
        match self {
            Medium::Terminal => for_terminal(s),
            Medium::CiLog => for_ci_log(s),
        }
    }
}

/// Characters that change how text is laid out or ordered without being
/// seen: bidi controls and marks, zero-width characters, line and paragraph
/// separators, the byte order mark.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Control characters and invisible formatting characters shown as escapes
/// (`\t`, `\n`, `\r`, `\x1b`, `\u{202e}`), so a name can neither drive the
/// terminal, nor hide what it is, nor shift the columns around it.
pub(crate) fn for_terminal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x100 && c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() || is_invisible_format(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// [`for_terminal`], and the GitHub Actions runner's command syntax made
/// inert: `##[` (legacy commands, acted on anywhere in a line) gets an
/// escaped character in the middle, and so does `::` at the start of the
/// text (after whitespace), where the runner reads a command when the text
/// begins a line. Line breaks are already escaped, so scanned text can start
/// a line only where keysweep puts it; `::` further in (as in every ARN) is
/// left as it is.
pub(crate) fn for_ci_log(s: &str) -> String {
    let t = for_terminal(s).replace("##[", "#\\x23[");
    let indent = t.len() - t.trim_start().len();
    if t[indent..].starts_with("::") {
        format!("{}:\\x3a{}", &t[..indent], &t[indent + 2..])
    } else {
        t
    }
}

/// Whether the GitHub Actions runner would act on `line` as a workflow
/// command: `::` after leading whitespace, or `##[` anywhere. (Its rules,
/// for tests that replay output through them.)
#[cfg(test)]
pub(crate) fn runner_would_act(line: &str) -> bool {
    line.trim_start().starts_with("::") || line.contains("##[")
}

/// Text for a GitHub-flavoured Markdown document (the job summary), inside
/// `<code>`: every ASCII punctuation character becomes a numeric character
/// reference, so nothing can open or close a code span, emphasis, link,
/// image, heading, HTML tag or table cell, and no URL is auto-linked;
/// control characters are shown escaped first.
pub(crate) fn markdown_code(s: &str) -> String {
    let mut out = String::from("<code>");
    for c in for_terminal(s).chars() {
        if c.is_ascii_punctuation() {
            let _ = write!(out, "&#{};", c as u32);
        } else {
            out.push(c);
        }
    }
    out.push_str("</code>");
    out
}

/// RFC 3986 percent-encoding: every byte outside the unreserved set
/// (`A-Za-z0-9-._~`) and `keep` as `%XX`. For URL path segments, query and
/// form values, and URI references built from names that came from input.
pub(crate) fn percent_encode(bytes: &[u8], keep: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Text for HTML element content or a quoted attribute value: `& < > " '`
/// as character references, control and invisible characters shown escaped.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in for_terminal(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `value` as one POSIX shell word: bare when it holds only characters no
/// shell treats specially, else in single quotes (a quote inside as `'\''`).
pub(crate) fn shell_quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=+@:,%".contains(&b));
    if plain {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_shows_controls_and_bidi_as_escapes() {
        assert_eq!(for_terminal("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(for_terminal("x\r\ny\tz"), "x\\r\\ny\\tz");
        assert_eq!(for_terminal("evil\u{202E}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(for_terminal("a\u{200B}b\u{FEFF}"), "a\\u{200b}b\\u{feff}");
        assert_eq!(for_terminal("\u{9b}31m"), "\\x9b31m");
        assert_eq!(for_terminal("plain/path é.env"), "plain/path é.env");
    }

    #[test]
    fn ci_log_neutralises_workflow_commands() {
        for hostile in [
            "vendor ##[stop-commands]x",
            "::stop-commands::tok",
            "  ::add-mask::secret",
            "\t::error::x",
            "a\n::error::pwned",
            "a\r::error::pwned",
            "x##[set-output name=a;]b",
            "###[group]",
            "\u{2028}::warning::x",
        ] {
            let out = for_ci_log(hostile);
            // At the start of a line, after keysweep's own indentation, or
            // anywhere inside one: the runner acts on none of it.
            for line in [out.clone(), format!("  {out}"), format!("warning: {out}")] {
                assert!(!runner_would_act(&line), "{line}");
            }
            assert!(!out.contains('\n') && !out.contains('\r'), "{out}");
        }
        assert_eq!(for_ci_log("arn:aws:iam::1:user/x"), "arn:aws:iam::1:user/x");
    }

    #[test]
    fn markdown_code_cannot_break_out() {
        let out = markdown_code("a`b|c](http://x)<img src=x>\r\n# h *e* www.x.com");
        assert!(out.starts_with("<code>") && out.ends_with("</code>"));
        let inner = &out["<code>".len()..out.len() - "</code>".len()];
        for c in ['`', '|', '<', '>', '[', ']', '(', ')', '*', '\r', '\n', '.'] {
            assert!(!inner.contains(c), "{c:?} in {inner}");
        }
        // `#` appears only inside character references (`&#35;`).
        assert!(!inner.replace("&#", "").contains('#'), "{inner}");
    }

    #[test]
    fn shell_words() {
        assert_eq!(shell_quote("ci-deploy"), "ci-deploy");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("x'; rm -rf ~; '"), r"'x'\''; rm -rf ~; '\'''");
        assert_eq!(shell_quote("$(id)"), "'$(id)'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn error_messages_keep_their_hint_lines_and_nothing_else() {
        let m = "error: bad range `a\nb`\nhint: use BASE..HEAD";
        assert_eq!(
            Medium::Terminal.clean_message(m),
            "error: bad range `a\\nb`\nhint: use BASE..HEAD"
        );
        // A hint inside a name before the real one stays escaped.
        assert_eq!(
            Medium::Terminal.clean_message("error: `a\nhint: fake`\nhint: real"),
            "error: `a\\nhint: fake`\nhint: real"
        );
        // A hint line that came from data is still only a hint line.
        for medium in [Medium::Terminal, Medium::CiLog] {
            let out = medium.clean_message("error: x\nhint: ::error::pwned\n::warning::y");
            assert_eq!(out.lines().count(), 2, "{out}");
            for line in out.lines() {
                assert!(
                    line.starts_with("error: ") || line.starts_with("hint: "),
                    "{line}"
                );
            }
        }
        let out = Medium::CiLog.clean_message("error: x\nhint: \u{1b}[31m::set-env");
        assert!(!out.contains('\u{1b}'), "{out}");
        assert!(out.lines().all(|l| !runner_would_act(l)), "{out}");
    }
}
