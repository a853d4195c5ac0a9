//! SARIF, GitHub annotations, config allowlists and baselines, end to end.

use crate::support::*;
use serde_json::Value;
use std::collections::HashSet;

fn leaky_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app/.env", env_file(KEY_ID, SECRET));
    write(dir.path(), "notes.txt", format!("old key {KEY_ID_2}\n"));
    dir
}

#[test]
fn sarif_is_what_github_code_scanning_accepts() {
    let dir = leaky_dir();
    let r = run(keysweep()
        .arg("scan")
        .arg(dir.path())
        .args(["--format", "sarif"]));
    assert_eq!(r.code, 1);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let rules = runs[0]["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: HashSet<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), rules.len(), "rule ids are unique");
    for rule in rules {
        for key in ["shortDescription", "fullDescription", "help"] {
            assert!(!rule[key]["text"].as_str().unwrap().is_empty());
        }
        assert!(rule["properties"]["security-severity"].as_str().is_some());
    }
    let results = runs[0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for res in results {
        assert!(ids.contains(res["ruleId"].as_str().unwrap()));
        let loc = &res["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            !uri.starts_with('/') && !uri.contains(":/"),
            "relative uri: {uri}"
        );
        let region = &loc["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1);
        assert!(region["endColumn"].as_u64().unwrap() > region["startColumn"].as_u64().unwrap());
        assert_eq!(
            res["partialFingerprints"]["keysweepFingerprint/v1"]
                .as_str()
                .map(str::len),
            Some(32)
        );
        assert!(!res["message"]["text"].as_str().unwrap().is_empty());
    }
    assert!(!r.stdout.contains(SECRET), "SARIF messages are redacted");
    assert_eq!(
        results[0]["ruleId"], "aws-access-key-pair",
        "most severe first"
    );
}

#[test]
fn github_annotations_and_step_summary() {
    let dir = tempfile::tempdir().unwrap();
    // Twelve credentials: more than GitHub shows per step.
    let ids = [
        "AKIA2IJB4LAJLJ6HDU6G",
        "AKIADPMRCG4BE4UMR46P",
        "AKIAQM4I2HZ4UEP3ENTH",
        "AKIA2MWUFXBV54BYVSEH",
        "AKIAQYLPMN5HHHFPZAM2",
        "AKIA4537F4WCXVB5ONTX",
        "AKIA3TJX4EVTLJZD6UX3",
        "AKIAXTGJ5LGC6BKOJWIX",
        "AKIARDH5IWSOHQ6ZFJ2H",
        "AKIA3JQF2XT3IFWII7VS",
        "AKIAXVEGLMD3QKGGONNH",
        "AKIAQW6O46KGNRXL6G3Y",
    ];
    for (i, id) in ids.iter().enumerate() {
        write(
            dir.path(),
            &format!("dir,with:odd%chars/f{i}.txt"),
            format!("key {id}\n"),
        );
    }
    let summary = dir.path().join("summary.md");
    let r = run(keysweep()
        .arg("scan")
        .arg(dir.path())
        .args(["--format", "github"])
        .env("GITHUB_STEP_SUMMARY", &summary));
    assert_eq!(r.code, 1);
    let errors: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(errors.len(), 10, "{}", r.stdout);
    assert!(
        errors[0].contains("file=dir%2Cwith%3Aodd%25chars/"),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains(",line=1,col=5,"), "{}", errors[0]);
    assert!(
        r.stdout
            .contains("::notice title=keysweep::2 more findings"),
        "{}",
        r.stdout
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("## keysweep"));
    assert_eq!(md.matches("| found |").count(), 12, "{md}");
}

#[test]
fn config_allowlists_and_validation() {
    let dir = leaky_dir();
    write(
        dir.path(),
        ".keysweep.toml",
        format!("[allow]\nkey_ids = [\"{KEY_ID_2}\"]\n"),
    );
    let r = run(keysweep()
        .arg("scan")
        .arg(dir.path())
        .args(["--format", "json"]));
    assert_eq!(paths(&r.findings()), vec!["app/.env"]);
    // notes.txt, and the config file itself, which names the key.
    assert_eq!(r.json()["stats"]["suppressed"], 2);
    write(
        dir.path(),
        ".keysweep.toml",
        "[allow]\npaths = [\"app/**\", \"*.txt\"]\n",
    );
    let r = run(keysweep()
        .arg("scan")
        .arg(dir.path())
        .args(["--format", "json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A bad config stops before scanning, with the reason.
    write(
        dir.path(),
        ".keysweep.toml",
        "[allow]\npaths = [\"app/[\"]\n",
    );
    let r = run(keysweep()
        .arg("scan")
        .arg(dir.path())
        .args(["--format", "json"]));
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("invalid config") && r.stderr.contains("allow.paths[0]"),
        "{}",
        r.stderr
    );
    let r = run(keysweep()
        .arg("scan")
        .arg(dir.path())
        .args(["--config", "/nonexistent/keysweep.toml"]));
    assert_eq!(r.code, 2);
}

#[test]
fn baseline_hides_known_findings_only() {
    let dir = leaky_dir();
    let baseline = dir.path().join("baseline.json");
    let r = run(keysweep()
        .arg("scan")
        .arg(dir.path().join("app"))
        .args(["--format", "json", "-o"])
        .arg(&baseline));
    assert_eq!(r.code, 1);
    // Same root, new credential elsewhere: only the new one is reported.
    write(dir.path(), "app/new.env", env_file(KEY_ID_2, SECRET_2));
    let r = run(keysweep()
        .arg("scan")
        .arg(dir.path().join("app"))
        .args(["--format", "json", "--baseline"])
        .arg(&baseline));
    assert_eq!(paths(&r.findings()), vec!["new.env"]);
    assert_eq!(r.json()["stats"]["suppressed"], 1);
    write(dir.path(), "bad.json", "{}");
    let r = run(keysweep()
        .arg("scan")
        .arg(dir.path())
        .args(["--baseline"])
        .arg(dir.path().join("bad.json")));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("baseline"), "{}", r.stderr);
}
