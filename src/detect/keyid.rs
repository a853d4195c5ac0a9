//! Access key IDs: the prefixes that are credentials, their base32 grammar,
//! and the account ID they encode.
//!
//! Only `AKIA` (long-term), `ASIA` (temporary), `ABIA` and `ACCA` start a
//! credential. `AIDA`, `AROA`, `AGPA`, … are unique IDs of users, roles and
//! groups, never secrets, so they are not matched at all.

/// Prefixes of access key IDs that are credentials.
pub const PREFIXES: [&[u8; 4]; 4] = [b"AKIA", b"ASIA", b"ABIA", b"ACCA"];

/// Length of an access key ID.
pub const LEN: usize = 20;

/// `true` for the RFC 4648 base32 alphabet, the only characters after the
/// prefix of a real key ID (no 0, 1, 8, 9).
fn is_base32(b: u8) -> bool {
    b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)
}

/// Characters that may not touch a key ID on either side.
pub(crate) fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Checks for a well-formed key ID starting at `at` (where a prefix was
/// found): 16 base32 characters, word boundaries on both sides, and not a
/// documentation example or placeholder.
pub fn key_id_at(data: &[u8], at: usize) -> Option<&str> {
    judge_at(data, at)?.ok()
}

/// Why a key-ID-shaped string is not a key ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// A documentation example, placeholder or typed pattern.
    Placeholder,
    /// Upper-case letters and digits, but with a 0, 1, 8 or 9 that AWS never
    /// issues: someone made it up.
    Impossible,
}

/// Judges the 20 characters at `at` (where a prefix was found): `None` when
/// they are not even shaped like a key ID (wrong length, lower case, glued
/// to a word), else the key ID or why it was rejected. A secret whose only
/// neighbour is a rejected key ID is suspicious too.
pub(crate) fn judge_at(data: &[u8], at: usize) -> Option<Result<&str, Rejected>> {
    let end = at.checked_add(LEN)?;
    let id = data.get(at..end)?;
    if !PREFIXES.iter().any(|p| &id[..4] == *p) {
        return None;
    }
    if at > 0 && is_word(data[at - 1]) {
        return None;
    }
    if data.get(end).is_some_and(|&b| is_word(b)) {
        return None;
    }
    let tail = &id[4..];
    if !tail
        .iter()
        .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return None;
    }
    let id = std::str::from_utf8(id).ok()?;
    Some(if !tail.iter().all(|&b| is_base32(b)) {
        Err(Rejected::Impossible)
    } else if super::allow::is_placeholder_key_id(id) {
        Err(Rejected::Placeholder)
    } else {
        Ok(id)
    })
}

/// The AWS account ID a key ID encodes, decoded offline; `None` for old
/// `AKIAI…`/`AKIAJ…` IDs, which encode none, and for IDs that decode to
/// more than 12 digits (no account has them, so the ID is not genuine).
///
/// Characters 5–20 are base32 (RFC 4648) for 10 bytes; the first 6 bytes,
/// big-endian, hold the account shifted left by 7 under a 1-bit flag.
pub fn account_id(key_id: &str) -> Option<String> {
    let b = key_id.as_bytes();
    if b.len() != LEN || matches!(b[4], b'I' | b'J') {
        return None;
    }
    let mut bits: u128 = 0;
    for &c in &b[4..] {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        bits = (bits << 5) | v as u128;
    }
    // 16 chars * 5 bits = 80 bits = 10 bytes; keep the top 6 bytes.
    let z = (bits >> 32) as u64;
    let account = (z & 0x7FFF_FFFF_FF80) >> 7;
    // 40 bits reach 1_099_511_627_775: 13 digits, which the JSON contract
    // (and AWS) never has.
    if account > 999_999_999_999 {
        return None;
    }
    // Twelve digits by hand: `format!` cost more than the rest of the key
    // ID checks together (every key ID found goes through here).
    let mut digits = [b'0'; 12];
    let mut rest = account;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    std::str::from_utf8(&digits).ok().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_account_ids() {
        assert_eq!(
            account_id("AKIASP2TPHJSQH3FJRUX").as_deref(),
            Some("171436882533")
        );
        assert_eq!(
            account_id("AKIAXYZDQCEN4B6JSJQI").as_deref(),
            Some("534261010715")
        );
        assert_eq!(
            account_id("ASIARZPUZDIKAAAAAAAB").as_deref(),
            Some("123456789012")
        );
        assert_eq!(
            account_id("AKIAIOSFODNN7EXAMPLE"),
            None,
            "AKIAI keys encode no account"
        );
        assert_eq!(account_id("AKIAJR6JB222YOU5NYHU"), None);
        // Found by fuzzing (fuzz/fuzz_targets/keyid.rs): decoded to the
        // 13-digit "1099510576283".
        assert_eq!(account_id("AKIA7777P6SN3BTJBS2Q"), None);
        assert_eq!(account_id("AKIA7777777777777777"), None);
    }

    #[test]
    fn matches_credential_prefixes_only() {
        for ok in [
            "AKIAQYLPMN5HHHFPZAM2",
            "ASIA44JANMOO4LTRNSAV",
            "ABIAQICDBR4PQHOBPXFE",
            "ACCAQICDBR4PQHOBPXFE",
        ] {
            assert_eq!(key_id_at(ok.as_bytes(), 0), Some(ok), "{ok}");
        }
        for not in [
            "AIDAQYLPMN5HHHFPZAM2",
            "AROAQYLPMN5HHHFPZAM2",
            "AGPAQYLPMN5HHHFPZAM2",
            "ANPAQYLPMN5HHHFPZAM2",
        ] {
            assert_eq!(key_id_at(not.as_bytes(), 0), None, "{not}");
        }
    }

    #[test]
    fn enforces_grammar_and_boundaries() {
        let cases: &[(&str, usize, bool)] = &[
            ("id=AKIAQYLPMN5HHHFPZAM2;", 3, true),
            ("xAKIAQYLPMN5HHHFPZAM2", 1, false), // glued to a word before
            ("AKIAQYLPMN5HHHFPZAM2Z", 0, false), // 21 characters
            ("AKIAQYLPMN5HHHFPZAM", 0, false),   // 19 characters
            ("AKIA0000000000000000", 0, false),  // 0 is not base32
            ("AKIAQYLPMN5HHHFPZ8M2", 0, false),  // 8 is not base32
            ("AKIAqylpmn5hhhfpzam2", 0, false),  // lower case
            ("AKIAXXXXXXXXXXXXXXXX", 0, false),  // placeholder
            ("AKIAIOSFODNN7EXAMPLE", 0, false),  // AWS documentation
            ("AKIA53O6WRL2XEXAMPLE", 0, false),  // any *EXAMPLE
            ("_AKIAQYLPMN5HHHFPZAM2_", 1, true),
        ];
        for &(text, at, want) in cases {
            assert_eq!(key_id_at(text.as_bytes(), at).is_some(), want, "{text}");
        }
    }
}
