//! Canary safety: which found keys must never be sent to AWS.
//!
//! Canary tokens (Thinkst Canarytokens and look-alikes) are real IAM keys in
//! accounts their vendors watch: any signed call, `GetCallerIdentity`
//! included, raises the alarm, so "checking" a canary tells whoever planted it
//! that the leak was found and by whom. The account a key belongs to can be
//! read from the key ID itself, offline, so keysweep decides here, before any
//! request, whether a key may be verified at all.
//!
//! Old key IDs (`AKIAI…`, `AKIAJ…`) encode no account; they cannot be
//! screened and are verified like any other key.
//!
//! Nothing here needs the `verify` feature: an offline build can still label
//! canaries.

/// Accounts known to host canary tokens: the union of TruffleHog's Thinkst
/// and Thinkst-knockoff lists (`pkg/detectors/aws/access_keys/canary.go`)
/// and Kingfisher's built-in skip list (`BUILTIN_SKIP_ACCOUNT_IDS`).
pub(crate) const CANARY_ACCOUNTS: [&str; 29] = [
    // TruffleHog thinkstCanaryList
    "052310077262",
    "171436882533",
    "534261010715",
    "595918472158",
    "717712589309",
    "819147034852",
    "992382622183",
    "730335385048",
    "266735846894",
    "893192397702",
    // TruffleHog thinkstKnockoffsCanaryList
    "044858866125",
    "251535659677",
    "344043088457",
    "351906852752",
    "390477818340",
    "426127672474",
    "427150556519",
    "439872796651",
    "445142720921",
    "465867158099",
    "637958123769",
    "693412236332",
    "732624840810",
    "735421457923",
    "959235150393",
    "982842642351",
    // Kingfisher-only entries
    "528757803018",
    "538784191382",
    "729780141977",
];

/// True when `account` (12 digits) is a known canary-token account.
pub(crate) fn is_canary_account(account: &str) -> bool {
    CANARY_ACCOUNTS.contains(&account)
}

/// Why a credential must not be sent to STS, if it must not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DoNotContact {
    /// The account is on the built-in canary list.
    KnownCanary { account: String },
    /// The account is on the user's skip list.
    SkipListed { account: String },
}

impl DoNotContact {
    pub fn account(&self) -> &str {
        match self {
            DoNotContact::KnownCanary { account } | DoNotContact::SkipListed { account } => account,
        }
    }

    /// One line for the `error` field of the verification.
    pub fn reason(&self) -> String {
        match self {
            DoNotContact::KnownCanary { account } => {
                format!("account {account} hosts canary tokens; not contacted")
            }
            DoNotContact::SkipListed { account } => {
                format!("account {account} is on the skip list; not contacted")
            }
        }
    }
}

/// Decides whether a key may be verified: the account is the one the
/// detector decoded, or, when it did not, the one decoded here from the key
/// ID (so a caller that forgot to decode cannot trip a canary).
pub(crate) fn screen(
    access_key_id: Option<&str>,
    decoded_account: Option<&str>,
    skip_accounts: &[String],
) -> Option<DoNotContact> {
    let account = match decoded_account {
        Some(a) => a.to_string(),
        None => account_id_from_key_id(access_key_id?)?,
    };
    if is_canary_account(&account) {
        Some(DoNotContact::KnownCanary { account })
    } else if skip_accounts.iter().any(|s| same_account(s, &account)) {
        Some(DoNotContact::SkipListed { account })
    } else {
        None
    }
}

/// Compares a user-typed account (`1234-5678-9012`, ` 123456789012 `) with a
/// decoded one; the console shows accounts with dashes.
fn same_account(typed: &str, account: &str) -> bool {
    let digits: String = typed.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    digits == account
}

/// The AWS account a key ID belongs to, decoded offline; `None` for IDs that
/// encode none (5th character `I` or `J`) or are not 20 base32 characters
/// after the prefix. The detector's decoder, so both agree on every ID.
pub fn account_id_from_key_id(key_id: &str) -> Option<String> {
    crate::detect::keyid::account_id(key_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn canary_list_has_29_unique_twelve_digit_accounts() {
        let unique: HashSet<_> = CANARY_ACCOUNTS.iter().collect();
        assert_eq!(unique.len(), 29);
        assert!(CANARY_ACCOUNTS
            .iter()
            .all(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())));
    }

    #[test]
    fn decodes_account_ids_offline() {
        assert_eq!(
            account_id_from_key_id("AKIASP2TPHJSQH3FJRUX").as_deref(),
            Some("171436882533")
        );
        assert_eq!(
            account_id_from_key_id("AKIAXYZDQCEN4B6JSJQI").as_deref(),
            Some("534261010715")
        );
        // moto's keys encode its default account, like real ones do
        assert_eq!(
            account_id_from_key_id("ASIARZPUZDIKAAAAAAAB").as_deref(),
            Some("123456789012")
        );
        // TruffleHog's README demo key is itself a canary
        assert_eq!(
            account_id_from_key_id("AKIAYVP4CIPPERUVIFXG").as_deref(),
            Some("595918472158")
        );
    }

    #[test]
    fn old_and_malformed_ids_decode_to_nothing() {
        assert_eq!(account_id_from_key_id("AKIAIOSFODNN7EXAMPLE"), None);
        assert_eq!(account_id_from_key_id("AKIAJR6JB222YOU5NYHU"), None);
        assert_eq!(
            account_id_from_key_id("AKIASP2TPHJSQH3FJRU"),
            None,
            "19 characters"
        );
        assert_eq!(
            account_id_from_key_id("AKIASP2TPHJSQH3FJRU1"),
            None,
            "1 is not base32"
        );
    }

    #[test]
    fn screen_uses_the_decoded_account_then_the_key_id() {
        let none: Vec<String> = Vec::new();
        assert_eq!(
            screen(Some("AKIASP2TPHJSQH3FJRUX"), None, &none),
            Some(DoNotContact::KnownCanary {
                account: "171436882533".into()
            })
        );
        // the detector's decoded account wins over re-decoding
        assert_eq!(
            screen(Some("AKIASP2TPHJSQH3FJRUX"), Some("123456789012"), &none),
            None
        );
        assert_eq!(
            screen(
                Some("ASIARZPUZDIKAAAAAAAB"),
                None,
                &["123456789012".to_string()]
            ),
            Some(DoNotContact::SkipListed {
                account: "123456789012".into()
            })
        );
        assert_eq!(
            screen(Some("AKIAIOSFODNN7EXAMPLE"), None, &none),
            None,
            "undecodable: verified"
        );
        assert_eq!(screen(None, None, &none), None);
    }
}
