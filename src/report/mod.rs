//! Reporters: one per output format.

/// Escapes control and bidi characters so a file name or message cannot
/// drive the terminal.
pub fn sanitize_for_terminal(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => '\u{FFFD}',
            c if c.is_control() && c != '\t' => '\u{FFFD}',
            c => c,
        })
        .collect()
}
