//! Where blobs come from: a filesystem walk, a git object database, a range
//! of commits.
pub mod fs;
