//! All integration tests, built as one binary (`autotests = false`).

mod support;
#[cfg(feature = "verify")]
mod verify;
