//! `--format html` opened in a real browser: Debian's headless Chromium,
//! driven through ChromeDriver (WebDriver over loopback HTTP, with ureq).
//!
//! Two pages, both from real scans of real git repositories: a realistic
//! organization report (three repositories, a live key, history over two
//! years), whose DOM, counts, filters and sorting are checked and whose
//! screenshot is the README's; and a hostile one, whose file names, author,
//! repository names and server messages try every way into the page
//! (`<img onerror>`, `</script>`, `javascript:` URLs, quotes, control and
//! right-to-left characters). It must show them as text, run nothing (the
//! payloads and `alert`-like functions are trapped), log nothing to the
//! console, and its Content-Security-Policy must block and report what a
//! script tries to inject after load.
//!
//! Verdicts and repository names are set in the scans' JSON reports and
//! the page is written by `keysweep merge --format html`, the way an
//! organization's shard reports become one page.
//!
//! Needs `chromium` and `chromedriver` (Debian packages; `.ci/run` installs
//! them). Without them the test says SKIPPED, unless
//! `KEYSWEEP_REQUIRE_BROWSER=1` (set by `.ci/run`) makes that a failure.
//! `KEYSWEEP_UPDATE_SCREENSHOT=1` writes the screenshot to
//! `docs/img/html-report.png`.

use crate::gitutil::{credential, Scratch};
use crate::support::{keysweep, run, write};
use serde_json::{json, Value};
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A WebDriver session on a ChromeDriver this test started.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn body(r: Result<ureq::Response, ureq::Error>, what: &str) -> Value {
    match r {
        Ok(resp) => {
            let text = resp.into_string().unwrap_or_else(|e| panic!("{what}: {e}"));
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}: {text}"))
        }
        Err(ureq::Error::Status(code, resp)) => {
            panic!(
                "{what}: HTTP {code}: {}",
                resp.into_string().unwrap_or_default()
            )
        }
        Err(e) => panic!("{what}: {e}"),
    }
}

/// POST of a JSON body (ureq is built without its `json` feature); the
/// answer parsed.
fn send(url: &str, v: &Value, what: &str) -> Value {
    body(
        ureq::post(url)
            .set("Content-Type", "application/json")
            .send_string(&v.to_string()),
        what,
    )
}

impl Browser {
    fn start() -> Browser {
        // A free loopback port for ChromeDriver.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while ureq::get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        // The flags Chromium needs on these machines (as root, no GPU, a
        // closed network: nothing may try to phone home).
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
            "--force-device-scale-factor=1",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let created = send(&format!("{base}/session"), &caps, "new session");
        let session = created["value"]["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        Browser {
            driver,
            base,
            session,
            _profile: profile,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    fn post(&self, path: &str, v: Value) -> Value {
        send(&self.url(path), &v, path)["value"].take()
    }

    fn get(&self, path: &str) -> Value {
        body(ureq::get(&self.url(path)).call(), path)["value"].take()
    }

    /// A DevTools protocol command, through ChromeDriver.
    fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.post("/goog/cdp/execute", json!({"cmd": cmd, "params": params}))
    }

    fn open(&self, file: &Path) {
        let url = format!("file://{}", file.display());
        self.post("/url", json!({ "url": url }));
    }

    /// Runs `script` (a function body) in the page and returns its value.
    fn js(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
    }

    fn element(&self, css: &str) -> String {
        let v = self.post("/element", json!({"using": "css selector", "value": css}));
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_string()
    }

    fn click(&self, css: &str) {
        let e = self.element(css);
        self.post(&format!("/element/{e}/click"), json!({}));
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.element(css);
        self.post(&format!("/element/{e}/clear"), json!({}));
        if !text.is_empty() {
            self.post(&format!("/element/{e}/value"), json!({ "text": text }));
        }
    }

    /// Browser console entries since the last call.
    fn console(&self) -> Vec<Value> {
        self.post("/se/log", json!({"type": "browser"}))
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn screenshot(&self) -> Vec<u8> {
        use base64::Engine as _;
        let b64 = self.get("/screenshot");
        base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().expect("base64 PNG"))
            .expect("decode PNG")
    }
}

/// Whether the browser is here; `None` means skip (or panic in CI).
fn browser_available() -> bool {
    let here = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !here {
        assert!(
            std::env::var_os("KEYSWEEP_REQUIRE_BROWSER").is_none(),
            "KEYSWEEP_REQUIRE_BROWSER is set but {CHROMIUM} or {CHROMEDRIVER} is missing"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED html_report_in_a_real_browser: needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
        );
    }
    here
}

/// A commit with the given author date (`git commit --date` wins over the
/// scratch area's clock).
fn commit_at(repo: &crate::gitutil::Repo<'_>, msg: &str, date: &str, author: &str) {
    repo.git(&["add", "-A"]);
    repo.git(&[
        "-c",
        &format!("user.name={author}"),
        "commit",
        "-q",
        "-m",
        msg,
        &format!("--date={date}"),
    ]);
}

fn pair(seed: u64) -> (String, String) {
    credential(seed)
}

fn env_body(id: &str, secret: &str) -> String {
    format!("AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}\n")
}

/// `keysweep git REPO --format json`, parsed.
fn scan_json(repo: &Path) -> Value {
    let r = run(keysweep()
        .arg("git")
        .arg(repo)
        .args(["--format", "json", "--no-progress"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    r.json()
}

/// Sets `repo` on every finding and the verdicts given by key ID.
fn patch(report: &mut Value, repo: &str, verdicts: &[(&str, Value)]) {
    for f in report["findings"].as_array_mut().expect("findings") {
        f["repo"] = json!(repo);
        let id = f["access_key_id"]["value"]
            .as_str()
            .unwrap_or("")
            .to_string();
        for (key, v) in verdicts {
            if id == *key {
                f["verification"] = v.clone();
            }
        }
    }
}

/// Sets the `owner` object (an owner lookup's record) of the findings of
/// `key`, as `keysweep triage` would have written it.
fn set_owner(report: &mut Value, key: &str, owner: Value) {
    for f in report["findings"].as_array_mut().expect("findings") {
        if f["access_key_id"]["value"] == key {
            let mut o = owner.clone();
            o["key_id"] = json!(key);
            f["owner"] = o;
        }
    }
}

/// `keysweep merge --format html` of the reports; the page's path.
fn merge_html(dir: &Path, name: &str, reports: &[Value]) -> PathBuf {
    let mut args = vec!["merge".to_string()];
    for (i, r) in reports.iter().enumerate() {
        let p = write(dir, &format!("{name}-{i}.json"), r.to_string());
        args.push(p.display().to_string());
    }
    let page = dir.join(format!("{name}.html"));
    // Run where no `.keysweep.toml` applies (the project's own would).
    let r = run(keysweep()
        .args(&args)
        .args(["--format", "html", "-o"])
        .arg(&page)
        .current_dir(dir));
    assert_eq!(r.code, 1, "{}", r.stderr);
    page
}

fn account_of(report: &Value, key: &str) -> String {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["access_key_id"]["value"] == key)
        .and_then(|f| f["account_id"].as_str())
        .unwrap_or("123456789012")
        .to_string()
}

/// Three repositories of an organization, history over two years.
fn organization(s: &Scratch, dir: &Path) -> (PathBuf, Vec<String>) {
    let (k1, s1) = pair(101);
    let (k2, s2) = pair(102);
    let (k3, s3) = pair(103);
    let (k4, s4) = pair(104);
    let (k5, s5) = pair(105);

    let api = s.init("api", &[]);
    api.write("README.md", "# api\n");
    commit_at(&api, "init", "2024-02-10T09:00:00+0000", "Ana Lopez");
    api.write("deploy/prod.env", &env_body(&k1, &s1));
    commit_at(
        &api,
        "deploy config",
        "2024-05-21T16:30:00+0000",
        "Ana Lopez",
    );
    api.write(
        "tests/fixtures/aws.json",
        &format!("{{\"AccessKeyId\": \"{k2}\", \"SecretAccessKey\": \"{s2}\"}}\n"),
    );
    commit_at(&api, "fixtures", "2025-03-03T11:00:00+0000", "Bo Chen");

    let infra = s.init("infra", &[]);
    infra.write(
        "terraform/main.tf",
        &format!("provider \"aws\" {{\n  access_key = \"{k3}\"\n  secret_key = \"{s3}\"\n}}\n"),
    );
    commit_at(&infra, "terraform", "2024-09-14T08:00:00+0000", "Chris Ode");
    infra.write("terraform/main.tf", "provider \"aws\" {}\n");
    commit_at(
        &infra,
        "drop the key",
        "2024-09-15T08:00:00+0000",
        "Chris Ode",
    );
    // The same live key as api, copied into a script.
    infra.write(
        "scripts/backup.sh",
        &format!("export AWS_ACCESS_KEY_ID={k1}\nexport AWS_SECRET_ACCESS_KEY={s1}\n"),
    );
    commit_at(&infra, "backup", "2025-08-02T10:00:00+0000", "Chris Ode");

    let web = s.init("web", &[]);
    web.write(".env.local", &env_body(&k4, &s4));
    commit_at(&web, "local env", "2025-11-20T14:00:00+0000", "Dee Park");
    web.write(
        "src/config.js",
        &format!("const key = \"{k5}\"; // AWS_SECRET_ACCESS_KEY = \"{s5}\"\n"),
    );
    commit_at(&web, "config", "2026-06-01T09:00:00+0000", "Dee Park");

    let mut reports = Vec::new();
    for (name, verdicts) in [
        ("api", vec![(k1.as_str(), "live"), (k2.as_str(), "invalid")]),
        (
            "infra",
            vec![(k1.as_str(), "live"), (k3.as_str(), "unverified")],
        ),
        ("web", vec![(k4.as_str(), "invalid")]),
    ] {
        let mut report = scan_json(&s.path(name));
        let verdicts: Vec<(&str, Value)> = verdicts
            .into_iter()
            .map(|(key, status)| {
                let acct = account_of(&report, key);
                let v = match status {
                    "live" => json!({"status": "live",
                        "arn": format!("arn:aws:iam::{acct}:user/deploy/deploy-bot"),
                        "account": acct, "user_id": "AIDAQM4I2HZ4EXAMPLE1"}),
                    "invalid" => json!({"status": "invalid", "error": "InvalidClientTokenId"}),
                    _ => json!({"status": "unverified", "error": "throttled: ran out of retries"}),
                };
                (key, v)
            })
            .collect();
        patch(
            &mut report,
            &format!("https://github.com/acme/{name}.git"),
            &verdicts,
        );
        // Owner lookup: the live key is an active administrator's of
        // `prod`, the web key someone else's, the config key inactive.
        let acct = account_of(&report, &k1);
        set_owner(
            &mut report,
            &k1,
            json!({"state": "found", "account": acct, "account_name": "prod",
                "user": "deploy-bot", "key_status": "Active", "admin": true,
                "created": "2024-05-21T16:30:00Z",
                "last_used": {"date": "2026-11-28T17:02:11Z", "service": "s3", "region": "eu-west-1"},
                "policies": [{"name": "AdministratorAccess", "kind": "managed",
                    "arn": "arn:aws:iam::aws:policy/AdministratorAccess", "admin": true}]}),
        );
        let acct = account_of(&report, &k4);
        set_owner(
            &mut report,
            &k4,
            json!({"state": "not_yours", "account": acct}),
        );
        let acct = account_of(&report, &k5);
        set_owner(
            &mut report,
            &k5,
            json!({"state": "found", "account": acct, "account_name": "web-prod",
                "user": "web-config", "key_status": "Inactive", "admin": false}),
        );
        reports.push(report);
    }
    let page = merge_html(dir, "organization", &reports);
    (page, vec![k1, k2, k3, k4, k5])
}

/// A repository whose names and metadata attack the page.
fn hostile(s: &Scratch, dir: &Path) -> PathBuf {
    let repo = s.init("hostile", &[]);
    let names = [
        "<img src=x onerror=window.__pwned=1>.env",
        "</script><script>window.__pwned=2</script>.env",
        "q\"uo'te\" onmouseover=\"window.__pwned=3.env",
        "ctl\x1b[2J\x07bell.env",
        "evil\u{202e}vne.txt.env",
        "javascript:window.__pwned=4.env",
    ];
    for (i, name) in names.iter().enumerate() {
        let (k, sec) = pair(200 + i as u64);
        repo.write(name, &env_body(&k, &sec));
    }
    commit_at(
        &repo,
        "hostile",
        "2025-01-01T00:00:00+0000",
        "Eve \"</script><svg onload=window.__pwned=5>'",
    );
    let mut a = scan_json(&repo.path);
    let mut b = a.clone();
    let first_key = a["findings"][0]["access_key_id"]["value"]
        .as_str()
        .expect("a key")
        .to_string();
    let reason = json!({"status": "unverified",
        "error": "<img src=x onerror=window.__pwned=6> \u{202e}\x1b]8;;javascript:alert(1)\x07"});
    patch(
        &mut a,
        "javascript:window.__pwned=7//github.com/a/b",
        &[(&first_key, reason.clone())],
    );
    patch(
        &mut b,
        "https://github.com/acme/x\"><img src=x onerror=window.__pwned=8>",
        &[(&first_key, reason)],
    );
    // What AWS answered an owner lookup is untrusted too (account names are
    // free text), and so is a report's owner object.
    let owner = json!({"state": "found", "account": "123456789012",
        "account_name": "<img src=x onerror=window.__pwned=10> \u{202e}",
        "user": "</script><script>window.__pwned=11</script>",
        "key_status": "Active", "admin": true,
        "last_used": {"date": "2026-11-28T17:02:11Z", "service": "s3\"><svg onload=window.__pwned=12>", "region": "javascript:alert(1)"},
        "policies": [{"name": "\"><svg onload=window.__pwned=13>", "kind": "inline", "admin": true}]});
    set_owner(&mut a, &first_key, owner.clone());
    set_owner(&mut b, &first_key, owner);
    merge_html(dir, "hostile", &[a, b])
}

/// The state of the page, read in one call.
fn page_state(b: &Browser) -> Value {
    b.js(r#"
        var rows = Array.prototype.slice.call(document.querySelectorAll('tbody.cred'));
        var visible = rows.filter(function (r) { return r.offsetParent !== null; });
        return {
            rows: rows.length,
            visible: visible.map(function (r) { return r.rows[0].cells[0].querySelector('code').textContent; }),
            states: visible.map(function (r) { return r.getAttribute('data-state'); }),
            places: visible.map(function (r) { return Number(r.rows[0].cells[8].textContent); }),
            owners: visible.map(function (r) { return r.getAttribute('data-owner'); }),
            admins: document.querySelectorAll('tbody.cred .badge.admin').length,
            counts: Array.prototype.slice.call(document.querySelectorAll('#counts li')).map(function (li) {
                return [li.className, Number(li.getAttribute('data-count'))];
            }),
            controlsShown: document.getElementById('controls').offsetParent !== null,
            shown: document.getElementById('shown').textContent,
            violations: document.documentElement.getAttribute('data-csp-violations'),
            cspNote: document.getElementById('csp-note').offsetParent !== null,
            pwned: window.__pwned === undefined ? null : String(window.__pwned),
            trapped: window.__trapped || [],
            scripts: document.scripts.length,
            images: document.images.length,
            hrefs: Array.prototype.slice.call(document.querySelectorAll('[href]')).map(function (a) { return a.getAttribute('href'); }),
            handlers: Array.prototype.slice.call(document.querySelectorAll('*')).filter(function (e) {
                return Array.prototype.some.call(e.attributes, function (a) { return /^on/i.test(a.name); });
            }).length,
            text: document.body.innerText,
            // Places are folded (closed <details>), so not in innerText.
            tableText: document.getElementById('credentials').textContent,
            svgs: document.querySelectorAll('svg').length,
            exposureDots: document.querySelectorAll('#exposure circle').length,
            repoBars: document.querySelectorAll('#per-repo rect').length
        };
    "#)
}

fn count(state: &Value, class: &str) -> u64 {
    state["counts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c[0] == class)
        .and_then(|c| c[1].as_u64())
        .unwrap_or_else(|| panic!("no count {class}: {}", state["counts"]))
}

fn visible(state: &Value) -> Vec<String> {
    state["visible"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(String::from))
        .collect()
}

#[test]
fn html_report_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let s = Scratch::new();
    let out = tempfile::tempdir().unwrap();
    let (org_page, keys) = organization(&s, out.path());
    let hostile_page = hostile(&s, out.path());

    let b = Browser::start();
    // Traps installed before any page script: a payload calling one of
    // these would be recorded. (DevTools scripts are not subject to the
    // page's CSP.)
    b.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({"source": "window.__trapped = []; ['alert', 'confirm', 'prompt', 'print', 'open'].forEach(function (n) { window[n] = function () { window.__trapped.push(n); }; });"}),
    );

    // --- The organization page: DOM, counts, filters, sorting. ---
    b.open(&org_page);
    let st = page_state(&b);
    assert_eq!(st["rows"], 5, "five credentials: {st}");
    assert_eq!(count(&st, "total"), 5);
    assert_eq!(count(&st, "live"), 1);
    assert_eq!(count(&st, "invalid"), 2);
    assert_eq!(count(&st, "unverified"), 1);
    assert_eq!(count(&st, "not-checked"), 1);
    assert_eq!(count(&st, "active"), 1, "owner lookup: one Active key");
    assert_eq!(count(&st, "not-yours"), 1);
    assert_eq!(visible(&st)[0], keys[0], "the live key is first");
    assert_eq!(st["states"][0], "live");
    assert_eq!(st["owners"][0], "active");
    assert_eq!(st["admins"], 1, "one admin badge");
    assert_eq!(st["places"][0], 2, "the live key: api and infra");
    assert_eq!(st["controlsShown"], true);
    assert_eq!(st["shown"], "Showing 5 of 5 credentials");
    let text = st["text"].as_str().unwrap_or("");
    assert!(text.contains("Do this now:"), "remediation shown");
    assert!(text.contains(&format!(
        "aws iam update-access-key --user-name deploy-bot --access-key-id {} --status Inactive",
        keys[0]
    )));
    assert!(
        text.contains("Options: merge of 3 reports · not verified · --fail-on any."),
        "the header says what was run: {text}"
    );
    // The owner columns: account name, IAM user, key status and its line.
    assert!(text.contains("IAM user deploy-bot"), "{text}");
    assert!(text.contains("created 2024-05-21"), "{text}");
    assert!(text.contains("last used 2026-11-28"), "{text}");
    assert!(text.contains("by s3 in eu-west-1"), "{text}");
    assert!(text.contains("is NOT one of yours"), "{text}");
    // Commit links only to github.com, built from the repository URLs.
    let hrefs: Vec<&str> = st["hrefs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(!hrefs.is_empty());
    for h in &hrefs {
        assert!(
            h.starts_with("https://github.com/acme/") && h.contains("/commit/"),
            "{h}"
        );
    }
    // Pictures: the live, unverified and unchecked keys on the timeline
    // (invalid ones are not exposed), one bar per repository.
    assert_eq!(st["svgs"], 2);
    assert_eq!(st["exposureDots"], 3);
    assert_eq!(st["repoBars"], 3);

    // Text filter, by key and by path.
    b.type_into("#f-text", &keys[3]);
    let st = page_state(&b);
    assert_eq!(visible(&st), vec![keys[3].clone()]);
    assert_eq!(st["shown"], "Showing 1 of 5 credentials");
    b.type_into("#f-text", "terraform/main.tf");
    assert_eq!(visible(&page_state(&b)), vec![keys[2].clone()]);
    b.type_into("#f-text", "");
    // State filter.
    b.click("#f-state option[value=invalid]");
    let st = page_state(&b);
    let mut shown = visible(&st);
    shown.sort();
    let mut want = vec![keys[1].clone(), keys[3].clone()];
    want.sort();
    assert_eq!(shown, want);
    b.click("#f-state option[value='']");
    // Repository filter: web holds keys 4 and 5 only.
    let web = b.js("var o = Array.prototype.find.call(document.querySelectorAll('#f-repo option'), function (o) { return o.textContent === 'https://github.com/acme/web.git'; }); return o ? o.value : null;");
    let web = web.as_str().expect("web in the repository filter");
    b.click(&format!("#f-repo option[value='{web}']"));
    let mut shown = visible(&page_state(&b));
    shown.sort();
    let mut want = vec![keys[3].clone(), keys[4].clone()];
    want.sort();
    assert_eq!(shown, want);
    b.click("#f-repo option[value='']");
    assert_eq!(page_state(&b)["visible"].as_array().map(Vec::len), Some(5));
    // Key status filter (owner lookup).
    b.click("#f-owner option[value=not-yours]");
    assert_eq!(visible(&page_state(&b)), vec![keys[3].clone()]);
    b.click("#f-owner option[value=inactive]");
    assert_eq!(visible(&page_state(&b)), vec![keys[4].clone()]);
    b.click("#f-owner option[value='']");
    // Sorting by key status: the active administrator key first.
    b.click("#credentials thead th:nth-child(4)");
    let st = page_state(&b);
    assert_eq!(visible(&st)[0], keys[0], "{st}");
    assert_eq!(st["owners"][1], "not-yours", "{st}");
    // Sorting by places: ascending puts a one-place key first, descending
    // the live key (two places); ties keep the report's order.
    b.click("#credentials thead th:nth-child(9)");
    let st = page_state(&b);
    assert_eq!(st["places"][0], 1);
    assert_eq!(st["places"][4], 2);
    b.click("#credentials thead th:nth-child(9)");
    let st = page_state(&b);
    assert_eq!(visible(&st)[0], keys[0]);
    // By key ID, ascending.
    b.click("#credentials thead th:nth-child(1)");
    let got = visible(&page_state(&b));
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(got, sorted);
    assert!(b.console().is_empty(), "console of the organization page");

    // The screenshot, back in the report's order.
    b.open(&org_page);
    let png = b.screenshot();
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let shot = crate::support::pyvenv::target_subdir("html-report.png");
    std::fs::write(&shot, &png).expect("write screenshot");
    if std::env::var_os("KEYSWEEP_UPDATE_SCREENSHOT").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/img/html-report.png");
        std::fs::create_dir_all(docs.parent().unwrap()).unwrap();
        std::fs::write(docs, &png).expect("write docs screenshot");
    }

    // Without JavaScript the table and counts are all there; the controls
    // that need the script stay hidden.
    b.cdp(
        "Emulation.setScriptExecutionDisabled",
        json!({"value": true}),
    );
    b.open(&org_page);
    let rows = b.cdp(
        "Runtime.evaluate",
        json!({"expression": "[document.querySelectorAll('tbody.cred').length, document.getElementById('controls').hidden, document.querySelector('#counts li.live b').textContent, document.querySelectorAll('svg circle').length]", "returnByValue": true}),
    );
    assert_eq!(rows["result"]["value"], json!([5, true, "1", 3]), "{rows}");
    b.cdp(
        "Emulation.setScriptExecutionDisabled",
        json!({"value": false}),
    );
    let _ = b.console();

    // --- The hostile page: names are text, nothing runs. ---
    b.open(&hostile_page);
    let st = page_state(&b);
    assert_eq!(st["rows"], 6, "{st}");
    assert_eq!(st["pwned"], Value::Null, "a payload ran: {st}");
    assert_eq!(
        st["trapped"],
        json!([]),
        "a payload called a trapped function"
    );
    assert_eq!(
        st["violations"],
        Value::Null,
        "nothing even tried: the names are text"
    );
    assert_eq!(st["scripts"], 1, "only the page's own script");
    assert_eq!(st["images"], 0);
    assert_eq!(st["handlers"], 0, "no element has an on* attribute");
    // The `javascript:` repository gets no link; the github.com one with
    // markup in its name gets one whose path is percent-encoded.
    let hrefs = st["hrefs"].as_array().cloned().unwrap_or_default();
    assert!(!hrefs.is_empty());
    for h in hrefs.iter().filter_map(Value::as_str) {
        assert!(
            h.starts_with("https://github.com/acme/x%22%3E%3Cimg%20src%3Dx%20onerror%3D")
                && !h.contains(['"', '<', '>', ' ']),
            "{h}"
        );
    }
    let text = st["tableText"].as_str().unwrap_or("");
    for shown in [
        "<img src=x onerror=window.__pwned=1>.env",
        "</script><script>window.__pwned=2</script>.env",
        "q\"uo'te\" onmouseover=\"window.__pwned=3.env",
        "ctl\\x1b[2J\\x07bell.env",
        "evil\\u{202e}vne.txt.env",
        "javascript:window.__pwned=4.env",
        "javascript:window.__pwned=7//github.com/a/b",
        "https://github.com/acme/x\"><img src=x onerror=window.__pwned=8>",
        "<img src=x onerror=window.__pwned=6>",
        "Eve \"",
        "<img src=x onerror=window.__pwned=10> \\u{202e}",
        "IAM user </script><script>window.__pwned=11</script>",
        "by s3\"><svg onload=window.__pwned=12> in javascript:alert(1)",
    ] {
        assert!(
            text.contains(shown),
            "{shown:?} not shown as text in:\n{text}"
        );
    }
    assert!(
        !text.contains('\u{202e}') && !text.contains('\x1b'),
        "raw controls"
    );
    let console = b.console();
    assert!(
        console.is_empty(),
        "console of the hostile page: {console:?}"
    );

    // The CSP itself: markup a script injects after load is blocked, and
    // the page says so.
    b.js("document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=\"window.__pwned=9\">'); return null;");
    let deadline = Instant::now() + Duration::from_secs(10);
    let st = loop {
        let st = page_state(&b);
        if st["violations"] != Value::Null || Instant::now() > deadline {
            break st;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        st["pwned"],
        Value::Null,
        "the CSP let an inline handler run"
    );
    assert!(
        st["violations"]
            .as_str()
            .is_some_and(|n| n.parse::<u32>().unwrap_or(0) >= 1),
        "{st}"
    );
    assert_eq!(st["cspNote"], true, "the page shows what it blocked");
    let console = b.console();
    assert!(
        console.iter().any(|e| e["message"]
            .as_str()
            .is_some_and(|m| m.contains("Content Security Policy"))),
        "the browser reports the violation: {console:?}"
    );
}
