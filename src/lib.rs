//! keysweep: find leaked AWS credentials in files and in the whole history
//! of git repositories, and tell which still work.
//!
//! The pipeline runs one way, and the modules follow it:
//!
//! - [`settings`]: the command line, environment and config file, checked
//!   into one value before any work;
//! - [`source`]: where blobs come from (filesystem walk, git object
//!   database, commit ranges, organizations);
//! - [`blob`]: the one worker that reads a blob in bounded memory and hands
//!   it to [`detect`], which turns bytes into credentials (pure);
//! - [`finding`]: the typed result (credential, location, verdict);
//! - [`verify`]: asks STS about them;
//! - [`report`]: turns them into bytes, every scanned name through
//!   [`term`]; `sink` writes those bytes where the settings say.
//!
//! [`app`] drives the stages; [`cli`] only describes the arguments;
//! [`integrations`] holds the pre-push hook and GitHub Actions glue;
//! [`gitcli`] is the one way the `git` program is run.

pub mod app;
pub(crate) mod atomic_file;
pub mod blob;
mod calendar;
pub mod cli;
pub mod detect;
pub mod diag;
pub mod finding;
pub mod gitcli;
pub mod integrations;
pub mod report;
pub mod settings;
mod sink;
pub mod source;
pub(crate) mod stats;
pub mod term;
/// Live verification; the STS client inside needs the `verify` feature,
/// the canary screen does not.
pub mod verify;
