//! Where blobs come from: a filesystem walk, a git object database, a range
//! of commits, the repositories of an organization.
pub mod fs;
pub mod git;
pub mod org;
