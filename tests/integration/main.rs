//! Integration tests: one binary (see Cargo.toml `[[test]]`).

mod git;
mod gitutil;
