//! End-to-end tests of the `keysweep` binary: one test binary, real temp
//! directories, real git repositories, real servers on loopback.

mod git;
mod gitutil;
mod report;
mod scan;
mod support;
#[cfg(feature = "verify")]
mod verify;
