//! Shannon entropy, the test that tells a random secret from a word, a
//! hash or a placeholder.
//!
//! A random 40-character secret access key scores about 4.7–5.0 bits per
//! character; a 40-hex SHA-1 at most 4.0 (16 symbols), English text far less.

/// Minimum for a secret access key (40 characters).
pub(crate) const SECRET_MIN: f64 = 4.2;
/// Minimum for a session token (hundreds of base64 characters: ~5.9 when random).
pub(crate) const TOKEN_MIN: f64 = 4.5;

/// Bits per byte of `data`.
pub fn shannon(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let n = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_secrets_from_hashes() {
        assert!(shannon(b"l5k284Ez6dy1uA6b0ql+fn3v8RxjiJnQnZwukgbV") > SECRET_MIN);
        assert!(shannon(b"712979e288b0c5a133711120b12edf0ab608c5c2") <= 4.0);
        assert!(shannon(b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx") < 1.0);
        assert_eq!(shannon(b""), 0.0);
    }
}
