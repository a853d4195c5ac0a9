//! The owner-lookup stage and `keysweep revoke`, driven from [`super`].
//!
//! Both ask AWS with the operator's own credentials
//! ([`crate::verify::owner`]) and only ever about key IDs: a report is
//! untrusted input, so nothing in it is used to sign anything, its `owner`
//! objects are never the basis of a revocation (the keys are looked up
//! afresh), and revoke acts only on key IDs the report holds.

use super::Exit;
use crate::diag::Diagnostics;
use crate::finding::Finding;
use crate::report::Style;
use crate::settings::{RevokeSettings, RevokeWhich, Settings};
use crate::source::SourceScan;
use crate::verify::owner::{
    plan_revocation, AccountScope, KeyId, OwnerLookup, OwnerOptions, OwnerRecord, RevokePlan,
    RevokeResult,
};
use anyhow::Context;
use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

/// Distinct key IDs of the findings, in order; a key ID that is not
/// well-formed (read back from an old report) is not asked about.
fn key_ids<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Vec<KeyId> {
    let mut seen = std::collections::HashSet::new();
    findings
        .into_iter()
        .filter_map(|f| f.credential.key_id())
        .filter_map(|k| KeyId::parse(k).ok())
        .filter(|k| seen.insert(k.clone()))
        .collect()
}

/// Connects with the operator's credentials, saying where it goes.
fn connect(opts: &OwnerOptions, diag: &Diagnostics) -> anyhow::Result<OwnerLookup> {
    if opts.endpoints.any() {
        let e = &opts.endpoints;
        for (service, url) in [
            ("STS", &e.sts),
            ("IAM", &e.iam),
            ("Organizations", &e.organizations),
        ] {
            if let Some(url) = url {
                diag.say(format_args!("owner lookup: {service} endpoint {url}"));
            }
        }
    }
    let lookup = OwnerLookup::connect(opts.clone())?;
    let (account, arn) = lookup.operator();
    // `say` cleans the line for the medium (the ARN is STS's answer).
    diag.say(format_args!("owner lookup as {arn} (account {account})"));
    Ok(lookup)
}

/// Looks up the owner of every key ID found and attaches the records.
/// `required` (`keysweep triage`): failing to connect is an error;
/// otherwise a warning, and the report goes out without owner records.
pub(super) fn look_up_owners(
    scan: &mut SourceScan,
    opts: &OwnerOptions,
    required: bool,
    diag: &Diagnostics,
) -> anyhow::Result<()> {
    let keys = key_ids(&scan.findings);
    if keys.is_empty() {
        return Ok(());
    }
    let lookup = match connect(opts, diag) {
        Ok(l) => l,
        Err(e) if required => return Err(e),
        Err(e) => {
            diag.warn(format_args!(
                "owner lookup did not run: {}",
                crate::diag::chain(e.as_ref())
            ));
            return Ok(());
        }
    };
    let records: HashMap<KeyId, Arc<OwnerRecord>> = lookup
        .lookup(&keys)
        .into_iter()
        .map(|r| (r.key_id.clone(), Arc::new(r)))
        .collect();
    for f in &mut scan.findings {
        let record = f
            .credential
            .key_id()
            .and_then(|k| KeyId::parse(k).ok())
            .and_then(|k| records.get(&k));
        if let Some(r) = record {
            f.owner = Some(Arc::clone(r));
        }
    }
    let st = lookup.stats();
    for w in &st.warnings {
        diag.warn(format_args!("owner cache: {w}"));
    }
    diag.say(format_args!(
        "owner lookup: {} key IDs, {} requests, {} from the cache",
        keys.len(),
        st.requests,
        st.cached
    ));
    Ok(())
}

/// `keysweep revoke REPORT.json`.
pub(super) fn revoke(r: &RevokeSettings, s: &Settings) -> anyhow::Result<Exit> {
    let style = &s.output.style;
    let opts = s
        .owner
        .as_ref()
        .context("internal: revoke without owner options")?;
    let (findings, _) = crate::source::reports::read(&r.report)?;

    // The key IDs asked for, all from the report; checked before any request.
    let candidates: Vec<KeyId> = match &r.which {
        RevokeWhich::AllActive => key_ids(&findings),
        RevokeWhich::Fingerprints(fps) => {
            let mut chosen = Vec::new();
            for fp in fps {
                let matching: Vec<&Finding> =
                    findings.iter().filter(|f| &f.fingerprint() == fp).collect();
                if matching.is_empty() {
                    anyhow::bail!(
                        "no finding of {} has fingerprint {fp}\nhint: copy it from the report's `fingerprint` field",
                        r.report.display()
                    );
                }
                let keys = key_ids(matching);
                if keys.is_empty() {
                    anyhow::bail!(
                        "finding {fp} has no access key ID: there is no key to deactivate"
                    );
                }
                chosen.extend(keys);
            }
            chosen
        }
    };
    if candidates.is_empty() {
        println!("The report holds no access key ID: nothing to revoke.");
        return Ok(Exit::Clean);
    }
    if !r.yes && !r.dry_run && !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "refusing to deactivate keys without confirmation: standard input is not a terminal\nhint: pass --yes to confirm in a script, or --dry-run to see the plan"
        );
    }

    let diag = Diagnostics::new(false, false, style.medium);
    let lookup = connect(opts, &diag)?;
    // Fresh records: the report's own `owner` objects are not trusted.
    let records = lookup.lookup(&candidates);
    let wanted: Vec<KeyId> = match r.which {
        RevokeWhich::AllActive => records
            .iter()
            .filter(|o| o.is_active())
            .map(|o| o.key_id.clone())
            .collect(),
        RevokeWhich::Fingerprints(_) => candidates,
    };
    let scope = match &r.accounts {
        Some(set) => AccountScope::Only(set.clone()),
        None => AccountScope::AllReachable,
    };
    let plan = plan_revocation(&records, &wanted, &scope);
    let mut out = std::io::stdout().lock();
    print_plan(&mut out, &plan, style)?;
    let active = plan
        .steps
        .iter()
        .filter(|s| s.status == crate::verify::owner::KeyStatus::Active)
        .count();
    if active == 0 {
        writeln!(out, "Nothing to deactivate.")?;
        return Ok(if plan.refused.is_empty() {
            Exit::Clean
        } else {
            Exit::Error
        });
    }
    if r.dry_run {
        writeln!(out, "Dry run: nothing was changed.")?;
        return Ok(Exit::Clean);
    }
    if !r.yes {
        write!(
            out,
            "Deactivate {active} key{}? Type yes to go on: ",
            if active == 1 { "" } else { "s" }
        )?;
        out.flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            writeln!(out, "Nothing was changed.")?;
            return Ok(Exit::Clean);
        }
    }
    let report = lookup.revoke(&plan, false);
    let mut failed = 0;
    for o in &report.outcomes {
        let what = match &o.result {
            RevokeResult::Deactivated => "deactivated".to_string(),
            RevokeResult::AlreadyInactive => "already inactive: left alone".to_string(),
            RevokeResult::WouldDeactivate => "would be deactivated".to_string(),
            RevokeResult::Failed(why) => {
                failed += 1;
                format!("NOT deactivated: {}", style.clean(why))
            }
        };
        writeln!(
            out,
            "{} of {} in account {}: {what}",
            o.key_id,
            style.clean(&o.user),
            style.clean(&o.account)
        )?;
    }
    if !report.undo.is_empty() {
        writeln!(out, "To undo, run with credentials for each account:")?;
        for u in &report.undo {
            writeln!(
                out,
                "  # account {}\n  {}",
                style.clean(&u.account),
                style.clean(&u.command)
            )?;
        }
    }
    Ok(if failed > 0 || !plan.refused.is_empty() {
        Exit::Error
    } else {
        Exit::Clean
    })
}

/// The plan, exactly: each key to deactivate with the equivalent AWS CLI
/// command, and each key refused with the reason.
fn print_plan(out: &mut dyn Write, plan: &RevokePlan, style: &Style) -> std::io::Result<()> {
    for step in &plan.steps {
        let account = match &step.account_name {
            Some(name) => format!("{} ({})", style.clean(name), step.account),
            None => step.account.clone(),
        };
        match step.status {
            crate::verify::owner::KeyStatus::Active => writeln!(
                out,
                "will deactivate {} of user {} in account {account}:\n  {}",
                step.key_id,
                style.clean(&step.user),
                style.clean(&step.command())
            )?,
            crate::verify::owner::KeyStatus::Inactive => writeln!(
                out,
                "{} of user {} in account {account} is already inactive: left alone",
                step.key_id,
                style.clean(&step.user)
            )?,
        }
    }
    for r in &plan.refused {
        writeln!(
            out,
            "will not touch {}: {}",
            r.key_id,
            style.clean(&r.reason)
        )?;
    }
    Ok(())
}
