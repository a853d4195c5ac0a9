//! Values that look like credentials but are not leaks: AWS documentation
//! examples and what people derive from them, placeholders, and values a
//! person typed. Kept in one place so every detector agrees.
//!
//! Each rule is decided by what a random key never contains (a placeholder
//! word of 6+ letters, a 12-character piece of a documentation secret, a
//! dozen characters of keyboard rows), so it costs no real key: the tests
//! count how many of a million random keys each rule would drop.

use std::collections::HashSet;
use std::sync::OnceLock;

/// Access key IDs and secrets published in AWS documentation.
const DOC_KEY_IDS: [&str; 2] = ["AKIAIOSFODNN7EXAMPLE", "AKIAI44QH8DHBEXAMPLE"];
const DOC_SECRETS: [&str; 2] = [
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
];

/// The fixed parts of key IDs in AWS documentation (IAM, STS, CLI guides):
/// people copy them and change the `EXAMPLE` end (`AKIAIOSFODNN7ABCDEFG`).
const DOC_KEY_STEMS: [&[u8]; 3] = [b"IOSFODNN7", b"I44QH8DHB", b"V3ZUEFP6"];

/// The fixed parts of documented secrets (IAM user guide, STS API reference,
/// AWS CLI examples, the Signature Version 4 test suite).
const DOC_SECRET_STEMS: [&[u8]; 4] = [
    b"wJalrXUtnFEMI/K7MDENG/bPxRfiCY",
    b"wJalrXUtnFEMI/K7MDENG+bPxRfiCY",
    b"je7MtGbClwBF/2Zp9Utk/h3yCo8nvb",
    b"8P+SQvWIuLnKhh8d++jpw0nNmQRBZvN",
];
/// A value holding this much of a documented secret was copied from it.
const DOC_SECRET_PIECE: usize = 12;

/// Session tokens printed in AWS documentation: the STS API reference and
/// IAM user guide (`AssumeRole`, `GetFederationToken`), and the AWS CLI
/// examples for `get-session-token`, `assume-role` and
/// `assume-role-with-saml`. Copies with `EXAMPLE` edited out still share
/// long pieces of their bodies.
const DOC_TOKENS: [&str; 4] = [
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==",
    "AQoEXAMPLEH4aoAH0gNCAPyJxz4BlCFFxWNE1OPTgk5TthT+FvwqnKwRcOIfrRh3c/LTo6UDdyJwOOvEVPvLXCrrrUtdnniCEXAMPLE/IvU1dYUg2RVAJBanLiHb4IgRmpRV3zrkuWJOgQs8IZZaIv2BXIa2R4OlgkBN9bkUDNCJiBeb/AXlzBBko7b15fjrBs2+cTQtpZ3CYWFXG8C5zqx37wnOE49mRl/+OtkIKGO7fAE",
    "AQoXdzELDDY//////////wEaoAK1wvxJY12r2IrDFT2IvAzTCn3zHoZ7YNtpiQLF0MqZye/qwjzP2iEXAMPLEbw/m3hsj8VBTkPORGvr9jM5sgP+w9IZWZnU+LWhmg+a5fDi2oTGUYcdg9uexQ4mtCHIHfi4citgqZTgco40Yqr4lIlo4V2b2Dyauk0eYFNebHtYlFVgAUj+7Indz3LU0aTWk1WKIjHmmMCIoTkyYp/k7kUG7moeEYKSitwQIi6Gjn+nyzM+PtoA3685ixzv0R7i5rjQi0YE0lf1oeie3bDiNHncmzosRM6SFiPzSvp6h/32xQuZsjcypmwsPSDtTPYcs0+YN/8BRi2/IcrxSpnWEXAMPLEXSDFTAQAM6Dl9zR0tXoybnlrZIwMLlMi1Kcgo5OytwU=",
    "IQoJb3JpZ2luX2VjEOz////////////////////wEXAMPLEtMSJHMEUCIDoKK3JH9uGQE1z0sINr5M4jk+Na8KHDcCYRVjJCZEvOAiEA3OvJGtw1EcViOleS2vhs8VdCKFJQWPQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==",
];
/// Pieces of documented tokens compared with a found one. The first
/// characters of a token are structure every real token shares (version,
/// region, key lengths), so pieces start after them, and pieces with `//`
/// (padding of length fields) are left out.
const TOKEN_PIECE: usize = 16;
const TOKEN_HEADER: usize = 56;
/// Pieces a token must share with one documented token to be its copy: a
/// stretch of at least `TOKEN_PIECE + 2` characters.
const TOKEN_PIECES_SHARED: usize = 3;

/// Longest run of one repeated character.
fn longest_run(s: &[u8]) -> usize {
    let mut best = 0;
    let mut run = 0;
    let mut prev = None;
    for &b in s {
        run = if Some(b) == prev { run + 1 } else { 1 };
        prev = Some(b);
        best = best.max(run);
    }
    best
}

fn distinct(s: &[u8]) -> usize {
    let mut seen = [0u128; 2];
    for &b in s {
        seen[usize::from(b >> 7)] |= 1 << (b & 127);
    }
    (seen[0].count_ones() + seen[1].count_ones()) as usize
}

/// Documentation keys and their copies, `…EXAMPLE` IDs, filler such as
/// `AKIAXXXXXXXXXXXXXXXX` or `AKIAABCDEFGHIJKLMNOP`, placeholder words
/// (`AKIAFAKEKEY…`) and keyboard walks.
pub fn is_placeholder_key_id(id: &str) -> bool {
    let tail = id.as_bytes().get(4..).unwrap_or_default();
    DOC_KEY_IDS.contains(&id)
        || contains(id.as_bytes(), b"EXAMPLE")
        || longest_run(tail) >= 5
        || distinct(tail) < 7
        || is_sequence(tail)
        || DOC_KEY_STEMS.iter().any(|stem| contains(tail, stem))
        || has_placeholder_words(tail, 6)
        || typed_run_chars(tail) >= 10
}

/// `ABCDEFGH…`-style runs of consecutive letters: typed by people, never random.
fn is_sequence(s: &[u8]) -> bool {
    let ascending = s.windows(2).filter(|w| w[1] == w[0] + 1).count();
    ascending * 2 >= s.len()
}

/// Documentation secrets and their copies, `…EXAMPLEKEY`/filler secrets,
/// placeholder words (`FakeValues…`, `…DUMMY…`, `…TESTKEY`) and typed
/// patterns (`QwErTyUiOp…1234567890`).
pub fn is_placeholder_secret(secret: &str) -> bool {
    let b = secret.as_bytes();
    DOC_SECRETS.contains(&secret)
        || contains(b, b"EXAMPLE")
        || longest_run(b) >= 6
        || distinct(b) < 16
        || is_sequence(b)
        || is_doc_secret_copy(b)
        || has_placeholder_words(b, 6)
        || typed_run_chars(b) >= 12
}

/// Session tokens copied from AWS documentation: they carry `EXAMPLE`, or
/// share a long piece of a documented token's body.
pub(crate) fn is_placeholder_token(token: &str) -> bool {
    token.contains("EXAMPLE") || is_doc_token_copy(token.as_bytes())
}

/// A plain search: the values searched are short, and building a SIMD
/// searcher for each would cost more than it saves.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn is_doc_secret_copy(s: &[u8]) -> bool {
    DOC_SECRET_STEMS.iter().any(|stem| {
        stem.windows(DOC_SECRET_PIECE)
            .any(|piece| contains(s, piece))
    })
}

fn is_doc_token_copy(token: &[u8]) -> bool {
    static PIECES: OnceLock<Vec<HashSet<&'static [u8]>>> = OnceLock::new();
    let pieces = PIECES.get_or_init(|| {
        DOC_TOKENS
            .iter()
            .map(|t| {
                t.as_bytes()
                    .get(TOKEN_HEADER..)
                    .unwrap_or_default()
                    .windows(TOKEN_PIECE)
                    .filter(|w| !contains(w, b"//"))
                    .collect()
            })
            .collect()
    });
    pieces.iter().any(|doc| {
        token
            .windows(TOKEN_PIECE)
            .filter(|w| doc.contains(w))
            .nth(TOKEN_PIECES_SHARED - 1)
            .is_some()
    })
}

/// Words people put into made-up values. Each says "not real" on its own
/// when it is long (`sample`, six letters or more); short ones count only in
/// a run of dictionary words (`FakeValues`, `TESTKEY`, `DUMMYKEY`,
/// `YourSecretKeyHere`).
const INTENT_WORDS: &[&str] = &[
    "example",
    "sample",
    "dummy",
    "placeholder",
    "fixture",
    "redacted",
    "changeme",
    "replace",
    "replaceme",
    "notreal",
    "invalid",
    "bogus",
    "fake",
    "test",
    "mock",
    "demo",
    "stub",
    "your",
    "insert",
];
/// Words that fill out a placeholder phrase but say nothing alone.
const FILLER_WORDS: &[&str] = &[
    "key", "keys", "secret", "access", "value", "values", "here", "token", "aws", "the", "for",
    "not", "real", "only", "this", "string", "password",
];
/// Letters a run of dictionary words must cover when no long intent word
/// is in it.
const WORD_RUN_MIN: usize = 7;

/// Whether `s` holds a placeholder word of `strong` letters or more, or a
/// run of dictionary words (each written in lower, UPPER or Title case)
/// covering `WORD_RUN_MIN` letters with an intent word among them. Meant
/// for key IDs and secrets: values of 64 characters or more are not looked at.
fn has_placeholder_words(s: &[u8], strong: usize) -> bool {
    // Most values start no word anywhere.
    if !(0..s.len()).any(|i| starts_word(s, i)) {
        return false;
    }
    // Runs of words, from the end: `run[i]` is the letters covered by the
    // words chained from `i`, and whether an intent word is among them.
    let mut run = [(0usize, false); 64];
    let Some(run) = run.get_mut(..=s.len()) else {
        return false;
    };
    for i in (0..s.len()).rev() {
        if let Some((len, intent)) = word_at(s, i) {
            if intent && len >= strong {
                return true;
            }
            let (more, more_intent) = run[i + len];
            run[i] = (len + more, intent || more_intent);
            if run[i].1 && run[i].0 >= WORD_RUN_MIN {
                return true;
            }
        }
    }
    false
}

/// The first three letters of every dictionary word, as a set of 26³ bits:
/// most places start no word, and this runs on every key ID found.
const WORD_STARTS: [u64; 26 * 26 * 26 / 64 + 1] = word_starts();

const fn word_starts() -> [u64; 26 * 26 * 26 / 64 + 1] {
    let mut t = [0u64; 26 * 26 * 26 / 64 + 1];
    let mut k = 0;
    while k < INTENT_WORDS.len() + FILLER_WORDS.len() {
        let w = if k < INTENT_WORDS.len() {
            INTENT_WORDS[k]
        } else {
            FILLER_WORDS[k - INTENT_WORDS.len()]
        }
        .as_bytes();
        let i =
            ((w[0] - b'a') as usize * 26 + (w[1] - b'a') as usize) * 26 + (w[2] - b'a') as usize;
        t[i / 64] |= 1 << (i % 64);
        k += 1;
    }
    t
}

/// Whether the three letters at `s[at..]` start a dictionary word.
fn starts_word(s: &[u8], at: usize) -> bool {
    let Some(start) = s.get(at..at + 3) else {
        return false;
    };
    let mut i = 0;
    for &c in start {
        // `| 0x20` lower-cases letters and moves nothing else into a..z.
        let c = c | 0x20;
        if !c.is_ascii_lowercase() {
            return false;
        }
        i = i * 26 + usize::from(c - b'a');
    }
    WORD_STARTS[i / 64] >> (i % 64) & 1 == 1
}

/// The longest dictionary word at `s[at..]`, and whether it is an intent word.
fn word_at(s: &[u8], at: usize) -> Option<(usize, bool)> {
    if !starts_word(s, at) {
        return None;
    }
    let rest = &s[at..];
    let intent = INTENT_WORDS.iter().map(|w| (w, true));
    let filler = FILLER_WORDS.iter().map(|w| (w, false));
    intent
        .chain(filler)
        .filter(|(w, _)| {
            rest.get(..w.len())
                .is_some_and(|c| same_word(c, w.as_bytes()))
        })
        .max_by_key(|(w, is_intent)| (w.len(), *is_intent))
        .map(|(w, is_intent)| (w.len(), is_intent))
}

/// `c` spells the lower-case `word` in lower, UPPER or Title case.
fn same_word(c: &[u8], word: &[u8]) -> bool {
    if !c.eq_ignore_ascii_case(word) {
        return false;
    }
    let lower = c.iter().all(u8::is_ascii_lowercase);
    let upper = c.iter().all(u8::is_ascii_uppercase);
    let title = c.first().is_some_and(u8::is_ascii_uppercase)
        && c.iter().skip(1).all(u8::is_ascii_lowercase);
    lower || upper || title
}

/// Rows of a keyboard and runs of the alphabet and digits, as typed.
const TYPED: [&[u8]; 6] = [
    b"1234567890",
    b"qwertyuiop",
    b"asdfghjkl",
    b"zxcvbnm",
    b"abcdefghijklmnopqrstuvwxyz",
    b"0123456789",
];
/// Shortest typed run that counts.
const TYPED_RUN_MIN: usize = 4;

/// Characters of `s` inside typed runs (keyboard rows, the alphabet or the
/// digits, forwards or backwards, any letter case) of four or more. A random
/// 40-character key has a typed run of four about once in 200 keys; a dozen
/// characters of them are a person's doing.
fn typed_run_chars(s: &[u8]) -> usize {
    let adjacent = |i: usize| {
        let (a, b) = (s[i], s[i + 1]);
        a < 128 && b < 128 && NEXT_TO[usize::from(a)] >> b & 1 == 1
    };
    // Most values hold no three neighbour pairs in a row: one pass over
    // the pairs into a bit mask says so (key IDs and secrets fit in it).
    if s.len() <= 64 {
        let pairs = (0..s.len().saturating_sub(1))
            .filter(|&i| adjacent(i))
            .fold(0u64, |m, i| m | 1 << i);
        if pairs & pairs >> 1 & pairs >> 2 == 0 {
            return 0;
        }
    }
    let (mut total, mut i) = (0, 0);
    while i + TYPED_RUN_MIN <= s.len() {
        // Most places start no run of four: three neighbour pairs first.
        if !(adjacent(i) && adjacent(i + 1) && adjacent(i + 2)) {
            i += 1;
            continue;
        }
        let run = typed_run_at(&s[i..]);
        if run >= TYPED_RUN_MIN {
            total += run;
            i += run;
        } else {
            i += 1;
        }
    }
    total
}

/// For each ASCII character, the characters next to it on a typed row
/// (either way, any case), as bits.
const NEXT_TO: [u128; 128] = next_to();

const fn next_to() -> [u128; 128] {
    let mut t = [0u128; 128];
    let mut r = 0;
    while r < TYPED.len() {
        let row = TYPED[r];
        let mut k = 0;
        while k + 1 < row.len() {
            let (a, b) = (row[k], row[k + 1]);
            let forms = [
                (a, b),
                (b, a),
                (a.to_ascii_uppercase(), b),
                (a, b.to_ascii_uppercase()),
                (a.to_ascii_uppercase(), b.to_ascii_uppercase()),
                (b.to_ascii_uppercase(), a),
                (b, a.to_ascii_uppercase()),
                (b.to_ascii_uppercase(), a.to_ascii_uppercase()),
            ];
            let mut f = 0;
            while f < forms.len() {
                t[forms[f].0 as usize] |= 1 << forms[f].1;
                f += 1;
            }
            k += 1;
        }
        r += 1;
    }
    t
}

/// Length of the longest typed run at the start of `s`.
fn typed_run_at(s: &[u8]) -> usize {
    let Some(first) = s.first().map(u8::to_ascii_lowercase) else {
        return 0;
    };
    let mut best = 1;
    for row in TYPED {
        let Some(pos) = row.iter().position(|&c| c == first) else {
            continue;
        };
        for step in [1isize, -1] {
            let len = s
                .iter()
                .enumerate()
                .take_while(|&(k, b)| {
                    pos.checked_add_signed(step * k as isize)
                        .and_then(|p| row.get(p))
                        .is_some_and(|&c| c == b.to_ascii_lowercase())
                })
                .count();
            best = best.max(len);
        }
    }
    best
}

/// The inline suppression marker, as in `# keysweep:allow`.
pub(crate) const INLINE_ALLOW: &[u8] = b"keysweep:allow";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documentation_and_placeholders_are_not_leaks() {
        for id in [
            "AKIAIOSFODNN7EXAMPLE",
            "AKIAI44QH8DHBEXAMPLE",
            "AKIAXXXXXXXXXXXXXXXX",
            "AKIAABCDEFGHIJKLMNOP",
            "AKIA2222222222222222",
        ] {
            assert!(is_placeholder_key_id(id), "{id}");
        }
        for s in DOC_SECRETS.iter().copied().chain([
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "soBYDYWBLNgqEvGEPlha/QBX9XvydzEXAMPLEKEY",
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN",
        ]) {
            assert!(is_placeholder_secret(s), "{s}");
        }
    }

    #[test]
    fn copies_of_documentation_keys_are_not_leaks() {
        // The documented prefix with another ending, in both key kinds.
        for id in [
            "AKIAIOSFODNN7QZTW3KP",
            "ASIAIOSFODNN7XQWZ2R4",
            "AKIAZIOSFODNN7RTWQ5M",
            "ASIAV3ZUEFP6KQ2TRWZM",
        ] {
            assert!(is_placeholder_key_id(id), "{id}");
        }
        for s in [
            // IAM user guide, with the EXAMPLEKEY end replaced.
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYQ3zT9vLm2X",
            // The Signature Version 4 test suite's `+` variant.
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCY7hRk2Wq9Lp",
            // A piece of it elsewhere in the value.
            "Zq4pLm8TnR/MDENG/bPxRfiCYw2Ev6Yj0Hk3Ns5B",
            "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbR8kW2qZp0L",
            "8P+SQvWIuLnKhh8d++jpw0nNmQRBZvNt7Lk2Wq9X",
        ] {
            assert!(is_placeholder_secret(s), "{s}");
        }
    }

    #[test]
    fn documentation_tokens_and_their_copies_are_not_leaks() {
        for t in DOC_TOKENS {
            assert!(is_placeholder_token(t), "{t}");
        }
        // `EXAMPLE` edited out of the AssumeRoleWithSAML example.
        assert!(is_placeholder_token(
            "IQoJb3JpZ2luX2VjEOz//////////wEaCXVzLWVhc3QtMSJHMEUCIDoKK3JH9uGQE1z0sINr5M4jk"
        ));
        // The AssumeRole example with its `EXAMPLE` replaced and truncated.
        let edited = DOC_TOKENS[0].replace("EXAMPLE", "Zq3Rt7W");
        assert!(is_placeholder_token(&edited[..200]));
        // The get-session-token example without its two `EXAMPLE`s.
        let edited = DOC_TOKENS[1].replace("EXAMPLE", "");
        assert!(is_placeholder_token(&edited));
        // A real token's header alone says nothing: every token shares it.
        assert!(!is_placeholder_token(
            "IQoJb3JpZ2luX2VjEOz//////////wEaCXVzLWVhc3QtMSJHMEUCIQCk8qZr2m9PcL5tW1yN3vB7xJ0fH4dR6sA2uE8gKpTnYwIgS3bV9cX1zQ7mL0kR5tH2yW8nJ4pF6dG"
        ));
    }

    #[test]
    fn placeholder_words_inside_values_are_not_leaks() {
        for s in [
            "FakeValuesForLocalDevelopmentOnly2q9Zr7L",
            "AbCdEfGhSAMPLE2xZ9wQ7vR3tY6uI0oP4aS8dF1g",
            "k3Jq9ZxW2vR7tDUMMYKEYp5Lm8Nc1Bh4Gf6Ds0Aa",
            "DummyDummyq9Zr7Lk1Xp0Mv3Bn6Ct8W2Ds4Fg5Hj",
            "q8Wz3Rk5Lt2Yx7PLACEHOLDERn4Bv6Mc9Jh1Gf0Ds",
            "Zx3Wq8Rt5Yu2Io7Pa4Sd6Fg9Hj1Kl0ZxCvTESTKEY",
            "YourSecretKeyHereM2q9Zr7Lk1Xp0Mv3Bn6Ct8W",
            "r9Tq2Wz5Xy8Kv3Lm6Np1Bc4Dfixturez0Hg7Jk2Lq",
            "mockValue+q9Zr7Lk1Xp0Mv3Bn6Ct8W2Ds4Fg5Hj",
        ] {
            assert!(is_placeholder_secret(s), "{s}");
        }
        for id in [
            "AKIAFAKEKEYQZ2R4WTXM",
            "AKIAQZSAMPLE2R4WTXMZ",
            "AKIADUMMYKEYQ2R4WTXZ",
        ] {
            assert!(is_placeholder_key_id(id), "{id}");
        }
        // Three to five letters of a word are what random keys contain:
        // two of ten million random secrets held `Dummy` and `Bogus`.
        for s in [
            "l5k284Ez6dy1uA6b0ql+fn3v8RxjiJnQnZwukgbV",
            "jpAF5MePfwLE1kGc0bc3DummyUO5Ea9OsrRaWsra",
            "x21JWzuK0aF5BogusZFiuPq5G68DrguEuMVec7UO",
            "Test2q9Zr7Lk1Xp0Mv3Bn6Ct8W2Ds4Fg5Hj+Qa3e",
            "q2Ds4FakeZr7Lk1Xp0Mv3Bn6Ct8W/Fg5Hj+Qa3eR",
            "Zr7Lk1KeyXp0Mv3Bn6AwsCt8W2Ds4Fg5Hj+Qa3eR",
            "DEMO2q9Zr7Lk1Xp0Mv3Bn6Ct8W2Ds4Fg5Hj+Qa3e",
        ] {
            assert!(!is_placeholder_secret(s), "{s}");
        }
        assert!(!is_placeholder_key_id("AKIATESTQZ2R4WTXMZKP"));
    }

    #[test]
    fn typed_values_are_not_leaks() {
        for s in [
            "7xQwErTyUiOpAsDfGhJkLzXcVbNm1234567890ab",
            "qwertyuiopASDFGHJKL1234567890zxcvbnmQ2w9",
            "Zr7Lk1Xp0Mv3Bn6C0987654321poiuytrewqHj+Q",
            "abcdefghijKLMNOPQRST1234567890q9Zr7Lk1Xp",
        ] {
            assert!(is_placeholder_secret(s), "{s}");
        }
        assert!(is_placeholder_key_id("AKIAQWERTYUIOPZ2R4WT"));
        assert!(is_placeholder_key_id("AKIAZXCVBNMASDFGHJ27"));
        // One short run is chance.
        assert!(!is_placeholder_secret(
            "Zr7Lk1Xp0Mv3Bn6Ct8W2asdfQ9e+Hj/Qa3eR5Tu7"
        ));
        assert_eq!(typed_run_chars(b"xQwErTy1234x"), 10);
        assert_eq!(typed_run_chars(b"qwq"), 0);
    }

    #[test]
    fn random_values_are_kept() {
        assert!(!is_placeholder_key_id("AKIAQYLPMN5HHHFPZAM2"));
        assert!(!is_placeholder_secret(
            "l5k284Ez6dy1uA6b0ql+fn3v8RxjiJnQnZwukgbV"
        ));
    }

    /// xorshift64*: random keys without a crate, the same every run.
    fn random_keys(n: usize, alphabet: &[u8], len: usize, prefix: &str) -> Vec<String> {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        (0..n)
            .map(|_| {
                let tail: String = (0..len)
                    .map(|_| {
                        state ^= state >> 12;
                        state ^= state << 25;
                        state ^= state >> 27;
                        let r = state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32;
                        alphabet[(r % alphabet.len() as u64) as usize] as char
                    })
                    .collect();
                format!("{prefix}{tail}")
            })
            .collect()
    }

    const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    /// How many of `n` random secrets and key IDs the rules added for
    /// placeholder words, documentation copies and typed runs drop.
    fn dropped_random(n: usize) -> (usize, usize) {
        let secrets = random_keys(n, BASE64, 40, "")
            .into_iter()
            .filter(|s| {
                let b = s.as_bytes();
                is_doc_secret_copy(b) || has_placeholder_words(b, 6) || typed_run_chars(b) >= 12
            })
            .count();
        let ids = random_keys(n, BASE32, 16, "AKIA")
            .into_iter()
            .filter(|id| {
                let tail = &id.as_bytes()[4..];
                DOC_KEY_STEMS.iter().any(|stem| contains(tail, stem))
                    || has_placeholder_words(tail, 6)
                    || typed_run_chars(tail) >= 10
            })
            .count();
        (secrets, ids)
    }

    #[test]
    fn random_keys_are_never_taken_for_placeholders() {
        assert_eq!(dropped_random(20_000), (0, 0));
    }

    /// The measurement behind "costs nothing": ten million random keys of
    /// each kind (`cargo test --release --lib -- --ignored random_keys`).
    #[test]
    #[ignore = "a measurement: ~1 minute in a release build"]
    fn random_keys_at_scale() {
        let (secrets, ids) = dropped_random(10_000_000);
        println!("dropped of 10M random: {secrets} secrets, {ids} key IDs");
        assert_eq!((secrets, ids), (0, 0));
    }
}
