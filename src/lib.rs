//! keysweep: find leaked AWS credentials in files and in the whole history
//! of git repositories, and tell which still work.
//!
//! The pipeline runs one way: `source` (filesystem walk, git object
//! database, commit ranges) yields blobs, `blob` reads them in bounded
//! memory, `detect` turns bytes into credentials, `finding` attaches where
//! they were, `verify` asks STS about them, and `report` writes them out.
//! `app` wires the stages together; `cli` only describes the arguments.

pub mod app;
pub mod blob;
pub mod cli;
pub mod config;
pub mod detect;
pub mod diag;
pub mod finding;
pub mod integrations;
pub mod report;
pub mod source;
pub mod stats;
/// Live verification; the STS client inside needs the `verify` feature,
/// the canary screen and remediation text do not.
pub mod verify;
