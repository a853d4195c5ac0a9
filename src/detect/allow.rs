//! Values that look like credentials but are not leaks: AWS documentation
//! examples and placeholders. Kept in one place so every detector agrees.

/// Access key IDs and secrets published in AWS documentation.
const DOC_KEY_IDS: [&str; 2] = ["AKIAIOSFODNN7EXAMPLE", "AKIAI44QH8DHBEXAMPLE"];
const DOC_SECRETS: [&str; 2] = [
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
];

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
    let mut seen = [false; 256];
    s.iter()
        .filter(|&&b| !std::mem::replace(&mut seen[b as usize], true))
        .count()
}

/// Documentation keys, `…EXAMPLE` IDs and filler such as `AKIAXXXXXXXXXXXXXXXX`
/// or `AKIAABCDEFGHIJKLMNOP`.
pub fn is_placeholder_key_id(id: &str) -> bool {
    let tail = &id.as_bytes()[4..];
    DOC_KEY_IDS.contains(&id)
        || id.contains("EXAMPLE")
        || longest_run(tail) >= 5
        || distinct(tail) < 7
        || is_sequence(tail)
}

/// `ABCDEFGH…`-style runs of consecutive letters: typed by people, never random.
fn is_sequence(s: &[u8]) -> bool {
    let ascending = s.windows(2).filter(|w| w[1] == w[0] + 1).count();
    ascending * 2 >= s.len()
}

/// Documentation secrets and `…EXAMPLEKEY`/filler secrets.
pub fn is_placeholder_secret(secret: &str) -> bool {
    let b = secret.as_bytes();
    DOC_SECRETS.contains(&secret)
        || secret.contains("EXAMPLE")
        || longest_run(b) >= 6
        || distinct(b) < 16
        || is_sequence(b)
}

/// Session tokens copied from AWS documentation carry `EXAMPLE`.
pub fn is_placeholder_token(token: &str) -> bool {
    token.contains("EXAMPLE")
}

/// The inline suppression marker, as in `# keysweep:allow`.
pub const INLINE_ALLOW: &[u8] = b"keysweep:allow";

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
    fn documentation_tokens_are_not_leaks() {
        assert!(is_placeholder_token(
            "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAe"
        ));
        assert!(!is_placeholder_token(
            "IQoJb3JpZ2luX2VjEOz//////////wEaCXVzLWVhc3QtMSJHMEUCIDoKK3JH9uGQE1z0sINr5M4jk"
        ));
    }

    #[test]
    fn random_values_are_kept() {
        assert!(!is_placeholder_key_id("AKIAQYLPMN5HHHFPZAM2"));
        assert!(!is_placeholder_secret(
            "l5k284Ez6dy1uA6b0ql+fn3v8RxjiJnQnZwukgbV"
        ));
    }
}
