//! What a hostile repository can put in front of the Actions runner and in
//! the job summary (docs/security.md, "Output"). Scanned names (paths,
//! archive members, commit authors, names of skipped files) are replayed
//! through the runner's command rules and a CommonMark renderer with GitHub's
//! table extension: nothing may act as a workflow command, and the summary
//! must render as one table of text.

use crate::gitutil::{credential, env_file, Scratch};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde_json::json;
use std::process::Command;

const KEYSWEEP: &str = env!("CARGO_BIN_EXE_keysweep");

/// File names an attacker commits: each holds one key.
const HOSTILE_PATHS: &[&str] = &[
    "deploy ##[stop-commands]tok/.env",
    "a\n::set-output name=x::y.env",
    "cr\r::error::forged.env",
    "::add-mask::lead.env",
    "esc\u{1b}]0;pwn\u{7}\u{1b}[2J.env",
    "x#y%41`|[a](javascript:alert(1))<img src=x onerror=alert(1)>.env",
    "trail\\|pipe ` ``code`` ! **b** # h.env",
    "rtl\u{202e}vne.txt",
];

/// The workflow command a runner would run for `line`, if any: `::name`
/// at the start (after whitespace), or the legacy `##[name]` anywhere.
fn runner_command(line: &str) -> Option<String> {
    if let Some(rest) = line.trim_start().strip_prefix("::") {
        let end = rest.find([' ', ':']).unwrap_or(rest.len());
        return Some(rest[..end].to_string());
    }
    let at = line.find("##[")?;
    let rest = &line[at + 3..];
    Some(rest[..rest.find([']', ' ']).unwrap_or(rest.len())].to_string())
}

#[test]
fn scanned_names_cannot_drive_the_runner_or_the_summary() {
    let s = Scratch::new();
    let origin = s.init("origin", &[]);
    origin.write("README.md", "hello\n");
    origin.commit("start");
    s.git(
        &s.path(""),
        &["clone", "-q", origin.path.to_str().unwrap(), "checkout"],
    );
    let repo = s.repo("checkout");
    let before = repo.rev("HEAD");
    for (i, name) in HOSTILE_PATHS.iter().enumerate() {
        repo.write(name, &env_file(60 + i as u64));
    }
    // An archive whose member names are the attack.
    let zip = repo.path.join("bundle.zip");
    let made = Command::new("python3")
        .args(["-c", "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], 'w')\nz.writestr(sys.argv[2], sys.argv[3])\nz.close()"])
        .arg(&zip)
        .arg("::warning::m\n##[group]g.env")
        .arg(env_file(90))
        .status()
        .unwrap();
    assert!(made.success());
    // A file skipped for its size is named in a warning.
    repo.write(
        "big ##[add-mask]w\n::stop-commands::t.bin",
        &"z".repeat(4096),
    );
    repo.git(&["add", "-A"]);
    repo.git(&[
        "-c",
        "user.name=Mallory ::stop-commands::tok ##[add-mask]x \u{1b}[31m",
        "-c",
        "user.email=m@example.com",
        "commit",
        "-qm",
        "::error::in the message\n\n##[warning]more",
    ]);
    let after = repo.rev("HEAD");
    let keys = HOSTILE_PATHS.len() + 1;

    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        json!({"ref": "refs/heads/main", "before": before, "after": after,
               "repository": {"default_branch": "main"}})
        .to_string(),
    )
    .unwrap();
    let mut logs = Vec::new();
    let mut summaries = Vec::new();
    for (run, args) in [
        &["ci", "--format", "github"][..],
        &["ci", "--format", "text"][..],
        &["git", ".", "--format", "text"][..],
        &["git", ".", "--format", "github"][..],
        &["scan", ".", "--format", "text"][..],
    ]
    .into_iter()
    .enumerate()
    {
        let summary = dir.path().join(format!("summary-{run}.md"));
        let out = Command::new(KEYSWEEP)
            .args(args)
            .args(["--max-file-size", "2K"])
            .current_dir(&repo.path)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", "push")
            .env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_OUTPUT", dir.path().join("outputs"))
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        logs.push((args, log));
        // Written with --format github (by `ci` and `git` alike).
        if args.contains(&"github") {
            summaries.push(std::fs::read_to_string(&summary).unwrap());
        }
    }

    for (args, log) in &logs {
        // Every key is reported, with its key ID (nothing was silenced).
        for i in 0..HOSTILE_PATHS.len() {
            let id = credential(60 + i as u64).0;
            assert!(log.contains(&id), "{args:?}: {id} missing:\n{log}");
        }
        assert!(
            log.contains(&credential(90).0),
            "{args:?}: archive key missing"
        );
        assert!(
            !log.contains('\u{1b}') && !log.contains('\r'),
            "{args:?}: raw control characters:\n{log:?}"
        );
        assert!(!log.contains('\u{202e}'), "{args:?}: raw bidi override");
        let mut errors = 0;
        for line in log.lines() {
            match runner_command(line).as_deref() {
                None => {}
                // keysweep's own annotations, one per finding.
                Some("error") if args.contains(&"github") && line.starts_with("::error file=") => {
                    errors += 1
                }
                Some(other) => panic!("{args:?}: the runner would run `{other}` from: {line:?}"),
            }
        }
        if args.contains(&"github") {
            assert_eq!(errors, keys, "{args:?}: one annotation per finding:\n{log}");
        }
    }

    assert_eq!(summaries.len(), 2);
    for md in &summaries {
        assert_summary_is_one_table_of_text(md, keys);
    }
}

/// The job summary, rendered as GitHub renders it.
fn assert_summary_is_one_table_of_text(md: &str, keys: usize) {
    let mut cells: Vec<String> = Vec::new();
    let (mut rows, mut in_cell, mut headings) = (0, false, 0);
    let mut cell = String::new();
    for event in Parser::new_ext(md, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { .. }) => headings += 1,
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => {
                panic!("link or image in the summary:\n{md}")
            }
            Event::Html(h) => panic!("HTML block {h:?} in the summary:\n{md}"),
            Event::InlineHtml(h) => assert!(
                h.as_ref() == "<code>" || h.as_ref() == "</code>",
                "inline HTML {h:?}:\n{md}"
            ),
            Event::Start(Tag::TableRow) => rows += 1,
            Event::Start(Tag::TableCell) => {
                in_cell = true;
                cell.clear();
            }
            Event::End(TagEnd::TableCell) => {
                in_cell = false;
                cells.push(cell.clone());
            }
            Event::Text(t) | Event::Code(t) if in_cell => cell.push_str(&t),
            Event::SoftBreak | Event::HardBreak if in_cell => panic!("line break in a cell:\n{md}"),
            _ => {}
        }
    }
    assert_eq!(headings, 1, "{md}");
    assert_eq!(
        rows, keys,
        "one row per finding (the header row is not a TableRow):\n{md}"
    );
    assert_eq!(
        cells.len(),
        (keys + 1) * 4,
        "every row has its four cells:\n{md}"
    );
    for name in [
        "deploy ##[stop-commands]tok/.env",
        "::add-mask::lead.env",
        "x#y%41`|[a](javascript:alert(1))<img src=x onerror=alert(1)>.env",
    ] {
        assert!(
            cells.iter().any(|c| c.starts_with(&format!("{name}:"))),
            "{name:?} not shown as text in a cell: {cells:?}"
        );
    }
    for c in &cells {
        assert!(
            !c.contains(['\n', '\r', '\u{1b}', '\u{202e}']),
            "raw control character in {c:?}"
        );
    }
}
