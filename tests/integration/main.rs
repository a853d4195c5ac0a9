//! End-to-end tests of the `keysweep` binary: one test binary, real temp
//! directories, real git repositories, real servers on loopback.

mod archives;
mod ci;
mod ci_log;
mod csv_report;
mod faults;
mod forges;
mod git;
mod git_cli;
mod github;
mod gitutil;
mod hook;
mod hostile;
mod html;
mod org;
mod own_tree;
#[cfg(feature = "verify")]
mod owner;
#[cfg(feature = "verify")]
mod owner_cli;
mod redaction;
mod report;
mod scan;
mod shell;
mod staged;
mod stdin;
mod support;
mod tree_trust;
mod untrusted;
#[cfg(feature = "verify")]
mod verify;
#[cfg(feature = "verify")]
mod verify_cli;
#[cfg(feature = "verify")]
mod verify_hostile;
