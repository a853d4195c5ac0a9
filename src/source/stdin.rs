//! `scan -`: standard input as a source (a CI log, `git diff`, `kubectl get
//! secret -o yaml`, a paste). It may never end and may be far larger than
//! memory, so it is read in windows like a large file, and reported as
//! [`STDIN_PATH`] with an origin of its own ([`Origin::Stdin`]): a file
//! named `<stdin>` stays another place.

use crate::blob::BlobScanner;
use crate::finding::{Finding, Location, Origin, ReportPath, STDIN_PATH};
use crate::source::SourceScan;
use crate::stats::AtomicStats;
use std::io::Read;

/// Scans `input` to its end. A read error ends the input: what was found
/// before it is kept, and the error is a warning and a count
/// (`stats.unreadable`), so the run exits 2 unless it found something.
pub(crate) fn scan_stdin(input: &mut dyn Read, scanner: &BlobScanner<'_>) -> SourceScan {
    let started = std::time::Instant::now();
    let (credentials, read) = scanner.scan_stream(input, &STDIN_PATH);
    if let Err(e) = read {
        AtomicStats::bump(&scanner.counters.unreadable, 1);
        scanner.diag.warn(format_args!(
            "{STDIN_PATH}: reading stopped early ({e}); only what came before was scanned"
        ));
    }
    let path = ReportPath::from(STDIN_PATH);
    let findings: Vec<Finding> = credentials
        .into_iter()
        .map(|c| {
            Finding::new(
                c,
                Location {
                    repo: None,
                    path: path.clone(),
                    origin: Origin::Stdin,
                },
            )
        })
        .collect();
    SourceScan::finished(findings, scanner.counters, started)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blob::ReadLimits;
    use crate::detect::Detector;
    use crate::diag::Diagnostics;

    /// Gives `data`, then fails.
    struct Broken<'a>(&'a [u8]);

    impl Read for Broken<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("pipe broke"));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn scan(input: &mut dyn Read) -> SourceScan {
        let detector = Detector::new();
        let counters = AtomicStats::default();
        let diag = Diagnostics::silent();
        let scanner = BlobScanner {
            detector: &detector,
            limits: ReadLimits::default(),
            counters: &counters,
            diag: &diag,
        };
        scan_stdin(input, &scanner)
    }

    #[test]
    fn standard_input_is_its_own_place_with_lines() {
        let text = b"log line\nexport AWS_ACCESS_KEY_ID=AKIA2IJB4LAJLJ6HDU6G\n";
        let s = scan(&mut &text[..]);
        assert_eq!(s.findings.len(), 1);
        let f = &s.findings[0];
        assert_eq!(f.location.path.as_str(), "<stdin>");
        assert_eq!(f.location.origin, Origin::Stdin);
        assert_eq!(f.credential.first_position().line, 2);
        assert_eq!((s.stats.files, s.stats.bytes), (1, text.len() as u64));
    }

    #[test]
    fn a_broken_pipe_keeps_what_came_before_and_counts() {
        let s = scan(&mut Broken(b"AWS_ACCESS_KEY_ID=AKIA2IJB4LAJLJ6HDU6G\n"));
        assert_eq!(s.findings.len(), 1);
        assert_eq!(s.stats.unreadable, 1);
    }
}
