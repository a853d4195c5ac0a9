//! `--format html`: one self-contained page a security team can open and
//! pass on. It needs no network (inline CSS, one small inline script, SVG
//! drawn here) and reads without JavaScript: the counts, the table of
//! credentials with their places, the remediation steps and the pictures
//! are all rendered here; the script only adds filtering and sorting.
//!
//! Everything from the scanned data (paths, archive members, authors,
//! repositories, refs, ARNs, server messages) is untrusted and goes through
//! [`crate::term::html`]; the only URLs are commit links built from
//! validated parts ([`link`]). A Content-Security-Policy meta tag allows
//! nothing but this page's own style and script, by hash, so even a mistake
//! here could not load or run anything else. Secrets are redacted as in
//! every other format unless `--show-secrets`.

mod chart;
mod link;

use super::remediation::{remediation, Principal};
use super::vocab::{active, active_admin, owner_dates, owner_label, owner_text, short_id, urgency};
use super::{Report, Reporter, Style};
use crate::finding::{Commit, CredentialKey, Finding, Verdict};
use crate::term::html;
use crate::verify::owner::{OwnerRecord, OwnerState};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{self, Write};

pub struct Html;

const CSS: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// `'sha256-…'` of an inline element's exact text, for the CSP.
fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The policy: nothing from anywhere, except this page's own style and
/// script; no base URL, no form target, no plugins.
fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src {}; script-src {}; img-src 'none'; base-uri 'none'; form-action 'none'; object-src 'none'",
        csp_hash(CSS),
        csp_hash(SCRIPT)
    )
}

/// What a credential's verdict says, as the page's states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum State {
    Live,
    Unverified,
    NotChecked,
    Canary,
    Expired,
    Invalid,
}

impl State {
    const ALL: [State; 6] = [
        State::Live,
        State::Unverified,
        State::NotChecked,
        State::Canary,
        State::Expired,
        State::Invalid,
    ];

    fn of(v: Option<&Verdict>) -> State {
        match v {
            Some(Verdict::Live { .. }) => State::Live,
            Some(Verdict::Invalid { .. }) => State::Invalid,
            Some(Verdict::Expired) => State::Expired,
            Some(Verdict::Unverified { .. }) => State::Unverified,
            Some(Verdict::Canary { .. }) => State::Canary,
            Some(Verdict::Skipped { .. }) | None => State::NotChecked,
        }
    }

    /// The filter value and CSS class.
    fn id(self) -> &'static str {
        match self {
            State::Live => "live",
            State::Unverified => "unverified",
            State::NotChecked => "not-checked",
            State::Canary => "canary",
            State::Expired => "expired",
            State::Invalid => "invalid",
        }
    }

    fn label(self) -> &'static str {
        match self {
            State::Live => "live",
            State::Unverified => "unverified",
            State::NotChecked => "not checked",
            State::Canary => "canary",
            State::Expired => "expired",
            State::Invalid => "invalid",
        }
    }

    /// Whether the key may still work (drawn on the exposure chart).
    fn may_work(self) -> bool {
        matches!(self, State::Live | State::Unverified | State::NotChecked)
    }
}

/// One credential and every place it was found.
struct Group<'a> {
    key: CredentialKey,
    places: Vec<&'a Finding>,
    state: State,
    verdict: Option<&'a Verdict>,
    /// The owner lookup's record of the key, when it was looked up.
    owner: Option<&'a OwnerRecord>,
}

/// The owner lookup's word for a record, as a filter value and CSS class.
fn owner_id(o: &OwnerRecord) -> String {
    owner_label(o).replace(' ', "-")
}

impl<'a> Group<'a> {
    fn first(&self) -> &'a Finding {
        self.places[0]
    }

    /// The earliest dated commit among the places, with its repository
    /// and day number.
    fn first_commit(&self) -> Option<(&'a Commit, Option<&'a str>, i64)> {
        self.places
            .iter()
            .filter_map(|f| {
                let commit = f.commit()?;
                let day = chart::day_number(commit.date.as_deref()?)?;
                Some((commit, f.location.repo.as_deref(), day))
            })
            .min_by_key(|(_, _, day)| *day)
    }

    /// 2: still at HEAD somewhere; 1: only in history; 0: files only.
    fn at_head(&self) -> u8 {
        let blobs: Vec<_> = self.places.iter().filter_map(|f| f.blob()).collect();
        if blobs.iter().any(|b| b.still_at_head) {
            2
        } else if !blobs.is_empty() {
            1
        } else {
            0
        }
    }

    fn repos(&self) -> BTreeSet<&'a str> {
        self.places
            .iter()
            .filter_map(|f| f.location.repo.as_deref())
            .collect()
    }
}

/// Findings grouped by credential, most urgent first (active administrator
/// keys, live and active keys, keys of accounts not yours, then pairs, lone
/// secrets and tokens, lone key IDs: [`urgency`]); ties keep the canonical
/// order of their first place.
fn groups(findings: &[Finding]) -> Vec<Group<'_>> {
    let mut by_key: BTreeMap<CredentialKey, usize> = BTreeMap::new();
    let mut out: Vec<Group<'_>> = Vec::new();
    for f in findings {
        let key = f.credential.key();
        match by_key.get(&key) {
            Some(&i) => out[i].places.push(f),
            None => {
                by_key.insert(key.clone(), out.len());
                out.push(Group {
                    key,
                    places: vec![f],
                    state: State::NotChecked,
                    verdict: None,
                    owner: None,
                });
            }
        }
    }
    for g in &mut out {
        g.verdict = g.places.iter().find_map(|f| f.verdict.as_ref());
        g.state = State::of(g.verdict);
        g.owner = g.places.iter().find_map(|f| f.owner.as_deref());
    }
    // Stable: ties keep first-seen order.
    out.sort_by_key(|g| g.places.iter().map(|f| urgency(f)).min());
    out
}

impl Reporter for Html {
    fn write(&self, out: &mut dyn Write, report: &Report<'_>, style: &Style) -> io::Result<()> {
        out.write_all(page(report, style).as_bytes())
    }
}

fn page(report: &Report<'_>, style: &Style) -> String {
    let groups = groups(report.findings);
    let mut repo_counts: BTreeMap<&str, usize> = BTreeMap::new();
    for f in report.findings {
        if let Some(r) = f.location.repo.as_deref() {
            *repo_counts.entry(r).or_default() += 1;
        }
    }
    // Index of each repository in name order: the filter's values, so no
    // name has to be matched as text in the script.
    let repo_index: BTreeMap<&str, usize> = repo_counts
        .keys()
        .enumerate()
        .map(|(i, r)| (*r, i))
        .collect();

    let mut s = String::with_capacity(16 * 1024 + report.findings.len() * 1024);
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(
        s,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
        content_security_policy()
    );
    s.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>keysweep report</title>\n");
    let _ = writeln!(s, "<style>{CSS}</style>\n</head>\n<body>");
    header(&mut s, report, style, &groups);
    charts(&mut s, &groups, &repo_counts);
    table(&mut s, &groups, &repo_index, style);
    let _ = writeln!(
        s,
        "<footer>Written by keysweep {}. This page loads nothing from the network; its filters and sorting need JavaScript, everything else reads without it.</footer>",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(s, "<script>{SCRIPT}</script>\n</body>\n</html>");
    s
}

/// Bytes as people read them (kB below a megabyte).
fn size(bytes: u64) -> String {
    if bytes < 1_000_000 {
        format!("{:.1} kB", bytes as f64 / 1e3)
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What was scanned, with what, and the credentials counted by state.
fn header(s: &mut String, report: &Report<'_>, style: &Style, groups: &[Group<'_>]) {
    let st = report.stats;
    s.push_str("<header>\n<h1>keysweep report</h1>\n<p class=\"scanned\">");
    let mut what = Vec::new();
    if st.repos + st.repos_failed > 0 {
        what.push(plural(st.repos as usize, "repository", "repositories"));
    }
    if st.commits > 0 {
        what.push(plural(st.commits as usize, "commit", "commits"));
    }
    if st.blobs > 0 {
        what.push(plural(st.blobs as usize, "blob", "blobs"));
    }
    if st.files > 0 || what.is_empty() {
        what.push(plural(st.files as usize, "file", "files"));
    }
    if st.archive_members > 0 {
        what.push(plural(
            st.archive_members as usize,
            "archive member",
            "archive members",
        ));
    }
    let _ = write!(
        s,
        "Scanned {} ({}) in {:.2} s with keysweep {}.",
        what.join(", "),
        size(st.bytes),
        st.elapsed_ms as f64 / 1e3,
        env!("CARGO_PKG_VERSION")
    );
    if !report.options.is_empty() {
        let _ = write!(
            s,
            " <span class=\"options\">Options: {}.</span>",
            html(report.options)
        );
    }
    if st.credentials_verified > 0 {
        let _ = write!(
            s,
            " Verified {} with STS ({} requests, {} from the cache).",
            plural(
                st.credentials_verified as usize,
                "credential",
                "credentials"
            ),
            st.verify_requests,
            st.verify_cached
        );
    }
    s.push_str(if style.show_secrets {
        " <strong>Secrets are shown in full (--show-secrets): handle this file as a secret.</strong>"
    } else {
        " Secrets are redacted."
    });
    if st.suppressed > 0 {
        let _ = write!(
            s,
            " {} suppressed (allow comments, config, baseline).",
            plural(st.suppressed as usize, "finding", "findings")
        );
    }
    if st.problems() > 0 {
        let _ = write!(
            s,
            " <strong>{} could not be scanned</strong> (too large, unreadable, corrupt or failed repositories: see the run's warnings).",
            plural(st.problems() as usize, "item", "items")
        );
    }
    s.push_str("</p>\n<ul class=\"counts\" id=\"counts\">\n");
    let _ = writeln!(
        s,
        "<li class=\"total\" data-count=\"{}\"><b>{}</b>credentials in {}</li>",
        groups.len(),
        groups.len(),
        plural(report.findings.len(), "place", "places")
    );
    for state in State::ALL {
        let n = groups.iter().filter(|g| g.state == state).count();
        let _ = writeln!(
            s,
            "<li class=\"{}\" data-count=\"{n}\"><b>{n}</b>{}</li>",
            state.id(),
            state.label()
        );
    }
    // Owner lookup: keys IAM says are Active (and of those, administrators'),
    // and keys of accounts that are not the operator's.
    if groups.iter().any(|g| g.owner.is_some()) {
        let active = groups
            .iter()
            .filter(|g| g.places.iter().any(|f| active(f)))
            .count();
        let admin = groups
            .iter()
            .filter(|g| g.places.iter().any(|f| active_admin(f)))
            .count();
        let _ = writeln!(
            s,
            "<li class=\"active\" data-count=\"{active}\" data-admin=\"{admin}\"><b>{active}</b>active (owner lookup), {admin} admin</li>"
        );
        let stranger = groups
            .iter()
            .filter(|g| g.owner.is_some_and(|o| o.state == OwnerState::NotYours))
            .count();
        let _ = writeln!(
            s,
            "<li class=\"not-yours\" data-count=\"{stranger}\"><b>{stranger}</b>not your account</li>"
        );
    }
    s.push_str("</ul>\n<p id=\"csp-note\" class=\"alert\" hidden></p>\n</header>\n");
}

fn charts(s: &mut String, groups: &[Group<'_>], repo_counts: &BTreeMap<&str, usize>) {
    let exposed: Vec<chart::Exposure<'_>> = groups
        .iter()
        .filter(|g| g.state.may_work())
        .filter_map(|g| {
            let (_, _, day) = g.first_commit()?;
            Some(chart::Exposure {
                key: g.key.access_key_id.as_deref().unwrap_or("(no key ID)"),
                day,
                live: g.state == State::Live,
                at_head: g.at_head() == 2,
            })
        })
        .collect();
    let mut repos: Vec<(&str, usize)> = repo_counts.iter().map(|(r, n)| (*r, *n)).collect();
    repos.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    if exposed.is_empty() && repos.is_empty() {
        return;
    }
    s.push_str("<section class=\"charts\">\n");
    if !exposed.is_empty() {
        s.push_str("<figure>\n<figcaption>Exposure: first commit of each key that may still work</figcaption>\n");
        s.push_str(&chart::exposure(&exposed));
        let _ = write!(
            s,
            "\n<p class=\"legend\">Red: verified live. Amber: not verified, or no clear answer. A filled dot with a line: still at HEAD; hollow: in history only."
        );
        if exposed.len() > chart::MAX_KEYS {
            let _ = write!(s, " {} more not drawn.", exposed.len() - chart::MAX_KEYS);
        }
        s.push_str("</p>\n</figure>\n");
    }
    if !repos.is_empty() {
        s.push_str("<figure>\n<figcaption>Findings per repository</figcaption>\n");
        s.push_str(&chart::per_repository(&repos));
        if repos.len() > chart::MAX_REPOS {
            let _ = write!(
                s,
                "\n<p class=\"legend\">{} more not drawn.</p>",
                plural(repos.len() - chart::MAX_REPOS, "repository", "repositories")
            );
        }
        s.push_str("\n</figure>\n");
    }
    s.push_str("</section>\n");
}

fn table(s: &mut String, groups: &[Group<'_>], repo_index: &BTreeMap<&str, usize>, style: &Style) {
    s.push_str("<h2>Credentials</h2>\n");
    if groups.is_empty() {
        s.push_str("<p id=\"none\">No credentials found.</p>\n");
        return;
    }
    // The filters, shown by the script (they need it to work).
    s.push_str("<form id=\"controls\" hidden>\n");
    if !repo_index.is_empty() {
        s.push_str("<label>Repository <select id=\"f-repo\"><option value=\"\">all</option>");
        for (repo, i) in repo_index {
            let _ = write!(s, "<option value=\"{i}\">{}</option>", html(repo));
        }
        s.push_str("</select></label>\n");
    }
    s.push_str("<label>State <select id=\"f-state\"><option value=\"\">all</option>");
    for state in State::ALL {
        if groups.iter().any(|g| g.state == state) {
            let _ = write!(
                s,
                "<option value=\"{}\">{}</option>",
                state.id(),
                state.label()
            );
        }
    }
    s.push_str("</select></label>\n");
    let mut owner_ids: Vec<(String, &str)> = groups
        .iter()
        .filter_map(|g| g.owner.map(|o| (owner_id(o), owner_label(o))))
        .collect();
    owner_ids.sort();
    owner_ids.dedup();
    if !owner_ids.is_empty() {
        s.push_str("<label>Key status <select id=\"f-owner\"><option value=\"\">all</option>");
        for (id, label) in &owner_ids {
            let _ = write!(s, "<option value=\"{id}\">{label}</option>");
        }
        s.push_str("</select></label>\n");
    }
    s.push_str("<label>Text <input id=\"f-text\" type=\"search\" placeholder=\"key, path, author…\"></label>\n<span id=\"shown\" hidden></span>\n</form>\n");
    s.push_str("<table id=\"credentials\">\n<thead><tr><th data-sort=\"str\">Key ID</th><th data-sort=\"str\">Account</th><th data-sort=\"str\">Owner</th><th data-sort=\"num\">Key status</th><th data-sort=\"num\">State</th><th data-sort=\"str\">First commit</th><th data-sort=\"num\">At HEAD</th><th data-sort=\"num\" class=\"num\">Repos</th><th data-sort=\"num\" class=\"num\">Places</th></tr></thead>\n");
    for (rank, g) in groups.iter().enumerate() {
        row(s, rank, g, repo_index, style);
    }
    s.push_str("</table>\n");
}

/// One credential: a row of facts, then its remediation and places.
fn row(
    s: &mut String,
    rank: usize,
    g: &Group<'_>,
    repo_index: &BTreeMap<&str, usize>,
    style: &Style,
) {
    let first = g.first();
    let repos = g.repos();
    let ids: Vec<String> = repos
        .iter()
        .filter_map(|r| repo_index.get(r))
        .map(|i| i.to_string())
        .collect();
    let _ = write!(
        s,
        "<tbody class=\"cred\" data-rank=\"{rank}\" data-state=\"{}\" data-owner=\"{}\" data-repos=\"{}\">\n<tr class=\"head\">",
        g.state.id(),
        g.owner.map(owner_id).unwrap_or_default(),
        ids.join(" ")
    );

    key_cell(s, g, style);
    account_cell(s, first, g);
    owner_cell(s, g);
    key_status_cell(s, g, style);
    state_cell(s, g);
    first_commit_cell(s, first, g);

    // At HEAD.
    let at_head = g.at_head();
    let _ = write!(
        s,
        "<td data-v=\"{at_head}\">{}</td>",
        match at_head {
            2 => "yes",
            1 => "no (history only)",
            _ => "file",
        }
    );
    let _ = writeln!(
        s,
        "<td class=\"num\" data-v=\"{0}\">{0}</td><td class=\"num\" data-v=\"{1}\">{1}</td></tr>",
        repos.len(),
        g.places.len()
    );

    // Remediation and places.
    s.push_str("<tr class=\"more\"><td colspan=\"9\">");
    if let Some(steps) = remediation(first) {
        s.push_str("<div class=\"steps\"><strong>Do this now:</strong><ol>");
        for step in steps {
            let _ = write!(s, "<li><code>{}</code></li>", html(&step));
        }
        s.push_str("</ol></div>");
    }
    let _ = write!(
        s,
        "<details><summary>{}</summary><ul class=\"places\">",
        plural(g.places.len(), "place", "places")
    );
    for f in &g.places {
        place(s, f);
    }
    s.push_str("</ul></details></td></tr>\n</tbody>\n");
}

/// The key ID cell: key ID, redacted secret and session token.
fn key_cell(s: &mut String, g: &Group<'_>, style: &Style) {
    let key_id = g.key.access_key_id.as_deref();
    let _ = write!(
        s,
        "<td data-v=\"{}\"><code>{}</code>",
        html(key_id.unwrap_or("")),
        html(key_id.unwrap_or("(no key ID)"))
    );
    if g.key.presigned {
        s.push_str(" <span class=\"badge presigned\">presigned URL</span>");
    }
    if let Some(secret) = &g.key.secret_access_key {
        let _ = write!(
            s,
            "<br><span class=\"muted\">secret</span> <code class=\"secret\">{}</code>",
            html(&style.secret(secret))
        );
    }
    if let Some(token) = &g.key.session_token {
        let shown: String = style.secret(token).chars().take(16).collect();
        let _ = write!(
            s,
            "<br><span class=\"muted\">session token</span> <code class=\"secret\">{}…</code> <span class=\"muted\">({} chars)</span>",
            html(&shown),
            token.expose().chars().count()
        );
    }
    s.push_str("</td>");
}

/// The account cell, and the account's name in the operator's Organization.
fn account_cell(s: &mut String, first: &Finding, g: &Group<'_>) {
    let account = g
        .owner
        .and_then(|o| o.account.as_deref())
        .or(first.credential.account_id.as_deref())
        .or(match g.verdict {
            Some(Verdict::Live { account, .. }) => Some(account.as_str()),
            _ => None,
        });
    let name = g.owner.and_then(|o| o.account_name.as_deref());
    let _ = write!(
        s,
        "<td data-v=\"{}\"><code>{}</code>",
        html(account.unwrap_or("")),
        html(account.unwrap_or("—"))
    );
    if let Some(name) = name {
        let _ = write!(s, "<br>{}", html(name));
    }
    s.push_str("</td>");
}

/// The owner cell: the IAM user the owner lookup found, else who STS
/// said the key belongs to; an administrator badge.
fn owner_cell(s: &mut String, g: &Group<'_>) {
    let owner = match (g.owner.and_then(|o| o.user.as_deref()), g.verdict) {
        (Some(user), _) => Some(format!("IAM user {user}")),
        (None, Some(Verdict::Live { arn, .. })) => Some(match Principal::from_arn(arn) {
            Principal::User { name, .. } => format!("IAM user {name}"),
            Principal::Root { .. } => "root user".to_string(),
            Principal::AssumedRole { role, .. } => format!("role {role} (session)"),
            Principal::FederatedUser { name, .. } => format!("federated user {name}"),
            Principal::Other { arn } => arn,
        }),
        _ => None,
    };
    let _ = write!(
        s,
        "<td data-v=\"{}\">{}",
        html(owner.as_deref().unwrap_or("")),
        owner.as_deref().map_or_else(|| "—".to_string(), html)
    );
    if g.owner.is_some_and(|o| o.admin == Some(true)) {
        s.push_str(" <span class=\"badge admin\">admin</span>");
    }
    s.push_str("</td>");
}

/// The key status cell, as IAM gave it to the owner lookup, with its
/// dates (or why the lookup could not tell).
fn key_status_cell(s: &mut String, g: &Group<'_>, style: &Style) {
    match g.owner {
        Some(o) => {
            // A found key's user, account and admin rights have their own
            // columns: here only its dates (and what could not be read).
            let mut detail = if o.state == OwnerState::Found {
                owner_dates(o, style)
            } else {
                owner_text(o, style)
            };
            if o.state == OwnerState::Found {
                if let Some(e) = &o.error {
                    detail.push_str(&format!(" (partly: {})", style.clean(e)));
                }
            }
            let _ = write!(
                s,
                "<td data-v=\"{}\"><strong class=\"owner-{}\">{}</strong>",
                owner_rank(o),
                owner_id(o),
                owner_label(o)
            );
            if !detail.is_empty() {
                let _ = write!(s, "<br><span class=\"muted\">{}</span>", html(&detail));
            }
            s.push_str("</td>");
        }
        None => s.push_str("<td data-v=\"9\">—</td>"),
    }
}

/// The state cell and what the verifier said.
fn state_cell(s: &mut String, g: &Group<'_>) {
    let detail = match g.verdict {
        Some(Verdict::Live { arn, .. }) => arn.as_str().to_string(),
        Some(Verdict::Invalid { code }) => code.clone(),
        Some(Verdict::Unverified { reason }) | Some(Verdict::Skipped { reason }) => reason.clone(),
        Some(Verdict::Canary { account, reason }) => format!("account {account}: {reason}"),
        Some(Verdict::Expired) | None => String::new(),
    };
    let _ = write!(
        s,
        "<td data-v=\"{}\"><strong class=\"state-{}\">{}</strong>",
        g.state as u8,
        g.state.id(),
        g.state.label()
    );
    if !detail.is_empty() {
        let _ = write!(s, "<br><span class=\"muted\">{}</span>", html(&detail));
    }
    s.push_str("</td>");
}

/// The first commit cell: a link where the repository allows one, and its day.
fn first_commit_cell(s: &mut String, first: &Finding, g: &Group<'_>) {
    match g.first_commit() {
        Some((commit, repo, _)) => {
            let date = commit.date.as_deref().unwrap_or("");
            let day: String = date.chars().take(10).collect();
            let _ = write!(
                s,
                "<td class=\"nowrap\" data-v=\"{}\">{}<br>{}</td>",
                html(date),
                commit_ref(repo, &commit.id),
                html(&day)
            );
        }
        None if first.blob().is_some() => s.push_str("<td data-v=\"\">no dated commit</td>"),
        None => s.push_str("<td data-v=\"\">—</td>"),
    }
}

/// The key status column's sort order: most urgent first.
fn owner_rank(o: &OwnerRecord) -> u8 {
    match o.state {
        OwnerState::Found if o.is_active_admin() => 0,
        OwnerState::Found if o.is_active() => 1,
        OwnerState::NotYours => 2,
        OwnerState::Unreachable | OwnerState::Error => 3,
        OwnerState::Found => 4,
        OwnerState::Temporary => 5,
        OwnerState::Canary => 6,
        OwnerState::NotFound => 7,
    }
}

/// A short commit id, linked when the repository names a known forge.
fn commit_ref(repo: Option<&str>, id: &str) -> String {
    let short = html(&short_id(id));
    match repo.and_then(|r| link::commit_url(r, id)) {
        Some(url) => format!(
            "<a class=\"mono\" href=\"{}\" rel=\"noopener noreferrer\">{short}</a>",
            html(&url)
        ),
        None => format!("<code>{short}</code>"),
    }
}

/// One place: repository, path, archive members, line and column, commit.
fn place(s: &mut String, f: &Finding) {
    s.push_str("<li>");
    if let Some(repo) = f.location.repo.as_deref() {
        let _ = write!(s, "<span class=\"muted\">{}:</span> ", html(repo));
    }
    let _ = write!(s, "<code>{}</code>", html(f.location.path.as_str()));
    if let Some(member) = &f.credential.member {
        for name in member.names() {
            let _ = write!(s, " → <code>{}</code>", html(name));
        }
    }
    let pos = f.credential.first_position();
    let _ = write!(
        s,
        " <span class=\"muted\">line {} column {}</span>",
        pos.line, pos.column
    );
    if let Some(blob) = f.blob() {
        match &blob.commit {
            Some(c) => {
                let _ = write!(
                    s,
                    " · commit {}",
                    commit_ref(f.location.repo.as_deref(), &c.id)
                );
                if let Some(d) = &c.date {
                    let day: String = d.chars().take(10).collect();
                    let _ = write!(s, " {}", html(&day));
                }
                if let Some(a) = &c.author {
                    let _ = write!(s, " by {}", html(a));
                }
            }
            None => s.push_str(" · unreachable blob (no commit)"),
        }
        if !blob.still_at_head {
            s.push_str(" <span class=\"muted\">(not at HEAD)</span>");
        }
        if blob.refs.total() > 0 {
            let names: Vec<String> = blob.refs.names().iter().take(5).map(|r| html(r)).collect();
            let _ = write!(s, " <span class=\"muted\">in {}", names.join(", "));
            if blob.refs.total() > names.len() {
                let _ = write!(s, " and {} more", blob.refs.total() - names.len());
            }
            s.push_str("</span>");
        }
    }
    s.push_str("</li>");
}

#[cfg(test)]
mod tests {
    use super::super::{fixture, render, Format, Report, Style};
    use super::*;

    fn page_of(findings: &[Finding], style: Style) -> String {
        let stats = fixture::stats();
        let bytes = render(
            Format::Html,
            &Report {
                findings,
                stats: &stats,
                options: "git: whole history of 1 repository · --verify · --max-file-size 256M · --fail-on any",
            },
            &style,
        )
        .expect("render");
        String::from_utf8(bytes).expect("UTF-8")
    }

    #[test]
    fn snapshot() {
        // The style and script are files of their own (their hashes are
        // checked below); the snapshot is the page built around them.
        let out = page_of(&fixture::findings(), Style::default())
            .replace(env!("CARGO_PKG_VERSION"), "[version]")
            .replace(CSS, "[page.css]")
            .replace(SCRIPT, "[page.js]")
            .replace(&csp_hash(CSS), "[hash of page.css]")
            .replace(&csp_hash(SCRIPT), "[hash of page.js]");
        insta::assert_snapshot!(out);
    }

    #[test]
    fn csp_allows_exactly_the_inline_style_and_script() {
        let out = page_of(&fixture::findings(), Style::default());
        let csp = content_security_policy();
        assert!(out.contains(&format!("content=\"{csp}\"")));
        assert!(!csp.contains("unsafe"), "{csp}");
        // The hashes are of the exact text between the tags.
        let script = out
            .split("<script>")
            .nth(1)
            .and_then(|t| t.split("</script>").next())
            .expect("one script");
        assert!(csp.contains(&csp_hash(script)));
        let css = out
            .split("<style>")
            .nth(1)
            .and_then(|t| t.split("</style>").next())
            .expect("one style");
        assert!(csp.contains(&csp_hash(css)));
        assert_eq!(out.matches("<script").count(), 1);
        // Nothing the page could fetch: no src, no external href but links.
        assert!(!out.contains(" src="), "no element loads anything");
        assert!(
            !out.contains(" style="),
            "no inline style attributes (the CSP forbids them)"
        );
    }

    #[test]
    fn secrets_are_redacted_unless_asked() {
        let findings = fixture::findings();
        let secret = "PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA+";
        let out = page_of(&findings, Style::default());
        assert!(!out.contains(&secret[4..]), "secret leaked");
        assert!(out.contains("PtYg************************************"));
        assert!(!out.contains("jIclHkCiHp6bR1Iq"), "token leaked");
        let shown = page_of(
            &findings,
            Style {
                show_secrets: true,
                ..Style::default()
            },
        );
        assert!(shown.contains(secret));
        assert!(shown.contains("--show-secrets"));
    }

    #[test]
    fn hostile_names_are_text() {
        let mut findings = fixture::findings();
        let hostile =
            "<img src=x onerror=alert(1)></script><script>alert(2)</script>\"'\u{202e}\x07";
        findings[2].location.repo = Some(std::sync::Arc::from(hostile));
        findings[2].location.path = crate::finding::ReportPath::from(hostile);
        let out = page_of(&findings, Style::default());
        assert_eq!(
            out.matches("<script").count(),
            1,
            "only the page's own script"
        );
        assert!(!out.contains("<img"));
        assert!(!out.contains('\u{202e}') && !out.contains('\x07'));
        assert!(out.contains("&lt;img src=x onerror=alert(1)&gt;&lt;/script&gt;"));
        assert!(out.contains("\\u{202e}\\x07"));
    }

    #[test]
    fn live_first_with_remediation_and_counts() {
        let out = page_of(&fixture::findings(), Style::default());
        let first_row = out
            .split("<tbody class=\"cred\"")
            .nth(1)
            .expect("a credential row");
        // The active administrator key (owner lookup) is on top, then the
        // live key with its remediation.
        assert!(first_row.contains("data-owner=\"active\""), "{first_row}");
        assert!(first_row.contains("<span class=\"badge admin\">admin</span>"));
        assert!(first_row.contains("<strong class=\"owner-active\">active</strong>"));
        assert!(first_row.contains("IAM user ci-deploy"));
        assert!(first_row.contains(
            "<code>123456789012</code><br>prod &lt;img/src=x onerror=alert(1)&gt; \\u{202e}\\x1b[2J::error::x</td>"
        ));
        let second_row = out
            .split("<tbody class=\"cred\"")
            .nth(2)
            .expect("a second row");
        assert!(second_row.contains("data-state=\"live\""));
        assert!(second_row.contains("aws iam update-access-key --user-name ci-deploy --access-key-id AKIADPMRCG4BE4UMR46P --status Inactive"));
        assert!(out.contains("<li class=\"active\" data-count=\"1\" data-admin=\"1\">"));
        assert!(out.contains("<li class=\"not-yours\" data-count=\"1\">"));
        assert!(out.contains("<span class=\"badge presigned\">presigned URL</span>"));
        assert!(out.contains("<option value=\"not-yours\">not yours</option>"));
        // One row per distinct credential, counted by state (the fixture
        // has one live and one expired key; the rest are not checked).
        let findings = fixture::findings();
        let keys: BTreeSet<CredentialKey> = findings.iter().map(|f| f.credential.key()).collect();
        let unchecked: BTreeSet<CredentialKey> = findings
            .iter()
            .filter(|f| f.verdict.is_none())
            .map(|f| f.credential.key())
            .collect();
        assert!(keys.len() >= 5 && unchecked.len() >= 3);
        assert_eq!(out.matches("<tbody class=\"cred\"").count(), keys.len());
        assert!(out.contains(&format!(
            "<li class=\"total\" data-count=\"{}\">",
            keys.len()
        )));
        assert!(out.contains("<li class=\"live\" data-count=\"1\">"));
        assert!(out.contains("<li class=\"expired\" data-count=\"1\">"));
        assert!(out.contains(&format!(
            "<li class=\"not-checked\" data-count=\"{}\">",
            unchecked.len()
        )));
    }

    #[test]
    fn no_findings_is_a_page_too() {
        let out = page_of(&[], Style::default());
        assert!(out.contains("No credentials found."));
        assert!(out.contains("<li class=\"total\" data-count=\"0\">"));
    }
}
