//! Key ID validation and the offline account-ID decoder: never panic, and
//! every accepted key ID decodes to a 12-digit account (or to none for the
//! old `AKIAI…`/`AKIAJ…` IDs).

#![no_main]

use keysweep::detect::keyid;
use libfuzzer_sys::fuzz_target;

fn check(id: &str) {
    assert_eq!(id.len(), keyid::LEN);
    assert!(keyid::PREFIXES
        .iter()
        .any(|p| id.as_bytes().starts_with(*p)));
    match (id.as_bytes()[4], keyid::account_id(id)) {
        (b'I' | b'J', account) => assert_eq!(account, None),
        (_, Some(account)) => {
            assert_eq!(account.len(), 12, "{id} -> {account}");
            assert!(account.bytes().all(|b| b.is_ascii_digit()));
        }
        (_, None) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    for at in 0..data.len() {
        if let Some(id) = keyid::key_id_at(data, at) {
            check(id);
        }
    }
    let _ = keyid::key_id_at(data, usize::MAX);
    let _ = keyid::key_id_at(data, data.len());
    let text = String::from_utf8_lossy(data);
    if let Some(account) = keyid::account_id(&text) {
        assert!(account.bytes().all(|b| b.is_ascii_digit()));
    }
    // Any 16 base32 characters after a credential prefix.
    if data.len() >= 16 {
        let tail: String = data[..16]
            .iter()
            .map(|b| b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[(b % 32) as usize] as char)
            .collect();
        let id = format!("AKIA{tail}");
        if let Some(account) = keyid::account_id(&id) {
            assert_eq!(account.len(), 12, "{id} -> {account}");
        }
    }
});
