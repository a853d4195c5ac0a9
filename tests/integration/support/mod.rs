//! Helpers shared by the integration tests.

#[cfg(feature = "verify")]
pub mod sts;
