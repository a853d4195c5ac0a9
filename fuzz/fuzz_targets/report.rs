//! The report reader (`keysweep merge`, `--baseline`) and every reporter
//! after it: any text is either read into findings or rejected with an
//! error; what was read renders in every format without panicking, the
//! JSON written reads back to the same findings, and no control character
//! from the input reaches human-readable output.

#![no_main]

use keysweep::report::{json, render, summary, Format, Report, Style};
use keysweep::term::Medium;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok((findings, stats)) = json::read_report(text) else {
        return;
    };
    let report = Report {
        findings: &findings,
        stats: &stats,
        options: "",
    };
    for medium in [Medium::Terminal, Medium::CiLog] {
        let style = Style {
            show_secrets: false,
            color: true,
            medium,
            // A fixed day: "N days ago" is exercised with reports' dates.
            today: Some(20_500),
        };
        for format in [
            Format::Text,
            Format::Json,
            Format::Jsonl,
            Format::Sarif,
            Format::Github,
            Format::Html,
            Format::Csv,
        ] {
            let out = render(format, &report, &style).expect("rendering to memory");
            if matches!(format, Format::Text | Format::Github) {
                let out = String::from_utf8_lossy(&out);
                // Colour escapes are keysweep's own; strip them, then no
                // control character other than newline may remain.
                let plain = out.replace("\u{1b}[", "");
                assert!(
                    !plain.chars().any(|c| c.is_control() && c != '\n' && c != '\u{1b}'),
                    "control character in {format:?} output"
                );
                if medium == Medium::CiLog || format == Format::Github {
                    for line in out.lines() {
                        assert!(!line.contains("##["), "{line:?}");
                    }
                }
            }
            if format == Format::Csv {
                // CRLF ends records; every other control character is escaped.
                let out = String::from_utf8_lossy(&out).replace("\r\n", "\n");
                assert!(
                    !out.chars().any(|c| c.is_control() && c != '\n'),
                    "control character in CSV output"
                );
            }
        }
        let md = summary::step_summary(&findings, &style);
        assert!(!md.contains('\r'));
    }
    // What keysweep writes, it reads back the same.
    let style = Style::default();
    let written = render(Format::Json, &report, &style).expect("rendering to memory");
    let (again, _) = json::read_report(&String::from_utf8_lossy(&written)).expect("own JSON reads back");
    assert_eq!(again.len(), findings.len());
});
