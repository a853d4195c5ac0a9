//! End-to-end tests of the `keysweep` binary: one test binary, real temp
//! directories, real git repositories, real servers on loopback.

mod hostile;
mod redaction;
mod report;
mod scan;
mod support;
