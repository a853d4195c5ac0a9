//! [`KeyId`]: the one thing about a found key that owner lookups use.
//!
//! The lookup and revocation API takes key IDs and nothing else, and a
//! `KeyId` can only hold a well-formed access key ID (four-letter credential
//! prefix, 16 base32 characters). A secret access key (40 characters of a
//! wider alphabet) or a session token cannot be turned into one, so no
//! caller can hand a secret to this path by mistake.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A well-formed AWS access key ID.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

/// What kind of credential a key ID belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `AKIA…`: a long-term key of an IAM user (or of an account's root user).
    LongTerm,
    /// `ASIA…`, `ABIA…`, `ACCA…`: temporary or service credentials, which IAM
    /// keeps no record of (CloudTrail does).
    Temporary,
}

/// The text given is not an access key ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an access key ID: expected AKIA, ASIA, ABIA or ACCA and 16 characters of A-Z and 2-7 ({len} characters given)")]
pub struct InvalidKeyId {
    /// Length of the rejected text, in characters; the text itself is never
    /// repeated, as it may be a secret pasted in the wrong place.
    pub len: usize,
}

impl KeyId {
    /// Accepts exactly a key ID as the detector would report it (documentation
    /// examples and placeholders such as `AKIAXXXXXXXXXXXXXXXX` are refused).
    pub fn parse(text: &str) -> Result<KeyId, InvalidKeyId> {
        let invalid = || InvalidKeyId {
            len: text.chars().count(),
        };
        if text.len() != crate::detect::keyid::LEN {
            return Err(invalid());
        }
        match crate::detect::keyid::key_id_at(text.as_bytes(), 0) {
            Some(id) => Ok(KeyId(id.to_string())),
            None => Err(invalid()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> KeyKind {
        if self.0.starts_with("AKIA") {
            KeyKind::LongTerm
        } else {
            KeyKind::Temporary
        }
    }

    /// The account the ID encodes, decoded offline; `None` for old
    /// `AKIAI…`/`AKIAJ…` IDs.
    pub fn encoded_account(&self) -> Option<String> {
        crate::detect::keyid::account_id(&self.0)
    }
}

impl TryFrom<String> for KeyId {
    type Error = InvalidKeyId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        KeyId::parse(&s)
    }
}

impl From<KeyId> for String {
    fn from(k: KeyId) -> String {
        k.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_key_ids_and_nothing_else() {
        let k = KeyId::parse("AKIA2IJB4LAJLJ6HDU6G").expect("a key ID");
        assert_eq!(k.as_str(), "AKIA2IJB4LAJLJ6HDU6G");
        assert_eq!(k.kind(), KeyKind::LongTerm);
        assert_eq!(
            KeyId::parse("ASIA44JANMOO4LTRNSAV").map(|k| k.kind()),
            Ok(KeyKind::Temporary)
        );
        for not in [
            "PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA+", // a secret access key
            "AKIA2IJB4LAJLJ6HDU6G ",
            " AKIA2IJB4LAJLJ6HDU6G",
            "AKIA2IJB4LAJLJ6HDU6",
            "AIDA2IJB4LAJLJ6HDU6G", // a user's unique ID, not a key
            "AKIAIOSFODNN7EXAMPLE", // documentation
            "AKIAXXXXXXXXXXXXXXXX",
            "akia2ijb4lajlj6hdu6g",
            "AKIA2IJB4LAJLJ6HDU6Ğ",
            "",
        ] {
            assert!(KeyId::parse(not).is_err(), "{not:?}");
        }
        let e = KeyId::parse("PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA+").unwrap_err();
        assert!(
            !e.to_string().contains("PtYg"),
            "the rejected text is never echoed: {e}"
        );
    }

    #[test]
    fn decodes_the_account_where_the_id_has_one() {
        let k = KeyId::parse("AKIASP2TPHJSQH3FJRUX").expect("a key ID");
        assert_eq!(k.encoded_account().as_deref(), Some("171436882533"));
        let old = KeyId::parse("AKIAJR6JB222YOU5NYHU").expect("a key ID");
        assert_eq!(old.encoded_account(), None);
    }

    #[test]
    fn serializes_as_a_string_and_refuses_bad_ones() {
        let k = KeyId::parse("AKIA2IJB4LAJLJ6HDU6G").expect("a key ID");
        let json = serde_json::to_string(&k).expect("serialize");
        assert_eq!(json, "\"AKIA2IJB4LAJLJ6HDU6G\"");
        assert_eq!(serde_json::from_str::<KeyId>(&json).ok(), Some(k));
        assert!(serde_json::from_str::<KeyId>("\"not-a-key\"").is_err());
    }
}
