//! Detection: bytes in, credentials out. Pure: no I/O, no printing.
use crate::finding::Credential;

/// The AWS credential detector. Build once, share by reference across threads.
#[derive(Debug, Default)]
pub struct Detector {}

impl Detector {
    pub fn new() -> Self {
        Detector {}
    }

    /// Every credential in one blob (file content), paired, with positions.
    pub fn detect(&self, _bytes: &[u8]) -> Vec<Credential> {
        Vec::new()
    }
}
