//! The blob stage: the one worker every source hands its bytes to (a file
//! from the walk, an object from a pack, a blob a range changed). It applies
//! the size limit, runs the detector, counts what it did and names what it
//! could not fully read, the same way for every source, so that a limit or
//! a counter never means two things.
//!
//! Files and standard input are read through [`read`], in bounded memory;
//! git objects arrive already decoded. Locations are the source's business: the worker returns
//! credentials, and the source attaches where the blob was.

pub mod read;

use crate::detect::Detector;
use crate::diag::Diagnostics;
use crate::finding::{Credential, MAX_FINDINGS_PER_BLOB};
use crate::stats::AtomicStats;
pub use read::ReadLimits;
use read::{read_file, FileRead};
use std::fmt::Display;
use std::path::Path;

/// What scanning one blob gave.
#[derive(Debug)]
pub enum Scanned {
    Clean,
    Found(Vec<Credential>),
    /// Over the size limit, not read; the size in bytes.
    TooLarge(u64),
}

/// What the windows of one file or stream gave so far.
#[derive(Default)]
struct Gathered {
    credentials: Vec<Credential>,
    /// Credentials past [`MAX_FINDINGS_PER_BLOB`], only counted.
    over_limit: u64,
}

/// Scans blobs for one run: shared by reference across worker threads.
#[derive(Clone, Copy)]
pub(crate) struct BlobScanner<'a> {
    pub detector: &'a Detector,
    pub limits: ReadLimits,
    pub counters: &'a AtomicStats,
    pub diag: &'a Diagnostics,
}

impl BlobScanner<'_> {
    /// A blob already in memory (a git object). `name` says which in
    /// warnings (`repo: blob <id>`).
    pub(crate) fn scan_blob(&self, name: &dyn Display, data: &[u8]) -> Scanned {
        let size = data.len() as u64;
        if size > self.limits.max_file_size {
            return self.too_large(size);
        }
        AtomicStats::bump(&self.counters.blobs, 1);
        AtomicStats::bump(&self.counters.bytes, size);
        self.diag.advance(size);
        let found = self.detector.scan(data);
        self.account(name, &found);
        self.over_limit(name, found.over_limit);
        if found.credentials.is_empty() {
            Scanned::Clean
        } else {
            Scanned::Found(found.credentials)
        }
    }

    /// A blob judged too large by its header, never read.
    pub(crate) fn too_large(&self, size: u64) -> Scanned {
        AtomicStats::bump(&self.counters.skipped_too_large, 1);
        Scanned::TooLarge(size)
    }

    /// A file on disk, read whole or in overlapping windows; `given`: named
    /// on the command line (see [`read_file`]).
    pub(crate) fn scan_file(
        &self,
        path: &Path,
        given: bool,
        name: &dyn Display,
    ) -> std::io::Result<Scanned> {
        let mut got = Gathered::default();
        let read = read_file(path, &self.limits, given, &mut |w| {
            self.scan_window(name, w, &mut got)
        })?;
        self.over_limit(name, got.over_limit);
        let credentials = got.credentials;
        Ok(match read {
            FileRead::TooLarge { size } => self.too_large(size),
            FileRead::Scanned { bytes } => {
                AtomicStats::bump(&self.counters.files, 1);
                AtomicStats::bump(&self.counters.bytes, bytes);
                if credentials.is_empty() {
                    Scanned::Clean
                } else {
                    Scanned::Found(credentials)
                }
            }
        })
    }

    /// A stream of unknown length (standard input), read to its end in
    /// windows; counted as one file. On a read error the credentials found
    /// before it are kept and returned with the error.
    pub(crate) fn scan_stream(
        &self,
        reader: &mut dyn std::io::Read,
        name: &dyn Display,
    ) -> (Vec<Credential>, std::io::Result<u64>) {
        let mut got = Gathered::default();
        let read = read::read_stream(reader, &self.limits, &mut |w| {
            self.scan_window(name, w, &mut got)
        });
        self.over_limit(name, got.over_limit);
        if let Ok(bytes) = &read {
            AtomicStats::bump(&self.counters.files, 1);
            AtomicStats::bump(&self.counters.bytes, *bytes);
        }
        (got.credentials, read)
    }

    /// Scans one window of a file or stream into `got`. The limit is per
    /// file, not per window.
    fn scan_window(&self, name: &dyn Display, window: read::Window<'_>, got: &mut Gathered) {
        let found = self
            .detector
            .scan_chunk(window.bytes, window.owned.clone(), window.start);
        self.account(name, &found);
        self.diag.advance(window.owned.len() as u64);
        let room = MAX_FINDINGS_PER_BLOB.saturating_sub(got.credentials.len());
        got.over_limit += found.over_limit + found.credentials.len().saturating_sub(room) as u64;
        got.credentials
            .extend(found.credentials.into_iter().take(room));
    }

    /// Counts and names a blob that held more than [`MAX_FINDINGS_PER_BLOB`]
    /// credentials.
    fn over_limit(&self, name: &dyn Display, over: u64) {
        if over == 0 {
            return;
        }
        AtomicStats::bump(&self.counters.findings_over_limit, over);
        self.diag.warn(format_args!(
            "{name}: more than {MAX_FINDINGS_PER_BLOB} credentials; the first {MAX_FINDINGS_PER_BLOB} are reported, {over} more were found and only counted (stats.findings_over_limit)"
        ));
    }

    /// Counts and warns about what one detector call left behind.
    fn account(&self, name: &dyn Display, found: &crate::detect::Detection) {
        AtomicStats::bump(&self.counters.archive_members, found.archive_members);
        AtomicStats::bump(&self.counters.suppressed, found.suppressed_inline);
        for note in &found.incomplete {
            self.diag.warn(format_args!("{name}: {note}"));
        }
    }
}
