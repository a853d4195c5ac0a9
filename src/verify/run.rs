//! The verification stage: group findings by credential, decide which may
//! be sent, ask STS with bounded concurrency, copy verdicts back.
//!
//! The rest of keysweep is synchronous (rayon, blocking I/O), so the tokio
//! runtime the SDK needs lives only inside [`verify_findings`].

use super::cache::{now_unix, Cache};
use super::canary::{screen, DoNotContact};
use super::sts::{unverified, StsVerifier};
use super::{VerifyError, VerifyOptions, VerifySummary};
use crate::diag::Diagnostics;
use crate::finding::{CredentialKey, Finding, Secret, Verdict};
use std::collections::HashMap;
use std::sync::Arc;

/// What to do with one distinct credential.
enum Plan {
    Done(Verdict),
    Ask {
        key_id: String,
        secret: Secret,
        token: Option<Secret>,
    },
}

/// Verifies every distinct credential among `findings` once and writes the
/// result into each finding's `verification`.
///
/// No request is made for a credential without both key ID and secret
/// (`skipped`, as presigned URLs always are), or whose account is a known canary account or in
/// `opts.skip_accounts` (`canary`). Errors only when verification cannot run
/// at all (bad options, no runtime); per-credential failures are
/// `unverified` with a reason.
pub fn verify_findings(
    findings: &mut [Finding],
    opts: &VerifyOptions,
    diag: &Diagnostics,
) -> Result<VerifySummary, VerifyError> {
    check(opts)?;

    // Distinct credentials in first-seen order, with the findings of each.
    let mut index: HashMap<CredentialKey, usize> = HashMap::new();
    let mut groups: Vec<(CredentialKey, Vec<usize>)> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        let key = f.credential.key();
        match index.get(&key) {
            Some(&g) => groups[g].1.push(i),
            None => {
                index.insert(key.clone(), groups.len());
                groups.push((key, vec![i]));
            }
        }
    }
    let mut summary = VerifySummary {
        distinct: groups.len(),
        ..VerifySummary::default()
    };

    let endpoint = opts.endpoint.as_deref();
    let now = now_unix();
    let mut cache = opts.cache_file.as_deref().map(|p| Cache::load(p, diag));

    let mut plans: Vec<Plan> = Vec::with_capacity(groups.len());
    for (key, members) in &groups {
        // Findings of one credential share its key ID, so any of them tells
        // the account the detector decoded.
        let decoded = members
            .iter()
            .find_map(|&i| findings[i].credential.account_id.as_deref());
        let plan = match (&key.access_key_id, &key.secret_access_key) {
            // A presigned URL holds a signature, never the secret.
            _ if key.presigned => Plan::Done(skipped(
                "a presigned URL holds no secret access key: nothing to sign with",
            )),
            (None, _) => Plan::Done(skipped("no access key ID to sign with")),
            (Some(_), None) => Plan::Done(skipped("no secret access key found with this key ID")),
            (Some(id), Some(secret)) => {
                if let Some(stop) = screen(Some(id), decoded, &opts.skip_accounts) {
                    summary.canary += 1;
                    Plan::Done(canary(&stop))
                } else if let Some(hit) = cache
                    .as_ref()
                    .and_then(|c| c.get(&key.digest(), endpoint, now, opts.cache_ttl))
                {
                    summary.cached += 1;
                    Plan::Done(hit)
                } else {
                    Plan::Ask {
                        key_id: id.clone(),
                        secret: secret.clone(),
                        token: token_to_send(id, key.session_token.as_ref()),
                    }
                }
            }
        };
        plans.push(plan);
    }

    let to_ask: Vec<(usize, String, Secret, Option<Secret>)> = plans
        .iter()
        .enumerate()
        .filter_map(|(g, p)| match p {
            Plan::Ask {
                key_id,
                secret,
                token,
            } => Some((g, key_id.clone(), secret.clone(), token.clone())),
            Plan::Done(_) => None,
        })
        .collect();

    let mut answers: Vec<(usize, Verdict)> = Vec::new();
    if !to_ask.is_empty() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(opts.concurrency.clamp(1, 2))
            .thread_name("keysweep-verify")
            .enable_all()
            .build()
            .map_err(VerifyError::Runtime)?;
        let (got, requests, over_budget) = runtime.block_on(ask_all(to_ask, opts));
        answers = got;
        summary.requests = requests;
        summary.over_budget = over_budget;
    }

    let mut unverified_count = 0usize;
    let mut first_reason: Option<String> = None;
    for (g, v) in answers {
        if let Verdict::Unverified { reason } = &v {
            unverified_count += 1;
            if first_reason.is_none() {
                first_reason = Some(reason.clone());
            }
        }
        if let Some(c) = cache.as_mut() {
            c.put(groups[g].0.digest(), &v, endpoint, now_unix());
        }
        plans[g] = Plan::Done(v);
    }
    if summary.over_budget > 0 {
        diag.warn(format_args!(
            "the verification budget of {} STS requests (--max-verify-requests) was reached: {} credential(s) left unverified (raise it with --max-verify-requests N if this many distinct keys is expected)",
            opts.max_requests.unwrap_or(summary.requests),
            summary.over_budget
        ));
    }
    if unverified_count > 0 {
        diag.warn(format_args!(
            "{unverified_count} credential(s) could not be verified (first reason: {})",
            first_reason.as_deref().unwrap_or("unknown")
        ));
    }
    if let Some(c) = cache.as_mut() {
        if let Err(e) = c.save(now_unix(), opts.cache_ttl) {
            diag.warn(format_args!("could not write the verification cache: {e}"));
        }
    }

    for ((_, members), plan) in groups.iter().zip(plans) {
        let v = match plan {
            Plan::Done(v) => v,
            // Every Ask got an answer above; this only guards the invariant.
            Plan::Ask { .. } => unverified("internal: credential was not verified".into()),
        };
        if v.is_live() {
            summary.live += 1;
        }
        for &i in members {
            findings[i].verdict = Some(v.clone());
        }
    }
    Ok(summary)
}

/// Runs every request with at most `opts.concurrency` in flight; returns
/// the verdicts by group index, the number of requests sent and the number
/// of credentials the budget left unasked.
async fn ask_all(
    to_ask: Vec<(usize, String, Secret, Option<Secret>)>,
    opts: &VerifyOptions,
) -> (Vec<(usize, Verdict)>, usize, usize) {
    let verifier = Arc::new(StsVerifier::new(opts));
    let permits = Arc::new(tokio::sync::Semaphore::new(opts.concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for (g, key_id, secret, token) in to_ask {
        let verifier = Arc::clone(&verifier);
        let permits = Arc::clone(&permits);
        tasks.spawn(async move {
            let v = match permits.acquire_owned().await {
                Ok(_permit) => verifier.verify(&key_id, &secret, token.as_ref()).await,
                Err(_) => unverified("internal: verification was shut down".into()),
            };
            (g, v)
        });
    }
    let mut answers = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        // A task that panicked loses its group index; the caller then
        // reports that group unverified (its invariant guard).
        if let Ok(answer) = joined {
            answers.push(answer);
        }
    }
    (answers, verifier.requests(), verifier.over_budget())
}

/// Only temporary (`ASIA`) keys have session tokens. STS rejects a
/// long-term key sent with any token, so a token the detector paired with an
/// `AKIA` key by proximity would make a live key look invalid.
fn token_to_send(key_id: &str, token: Option<&Secret>) -> Option<Secret> {
    if key_id.starts_with("ASIA") {
        token.cloned()
    } else {
        None
    }
}

/// Rejects options that cannot work before anything is done.
fn check(opts: &VerifyOptions) -> Result<(), VerifyError> {
    if opts.concurrency == 0 {
        return Err(VerifyError::ZeroConcurrency);
    }
    if opts.region.trim().is_empty() {
        return Err(VerifyError::EmptyRegion);
    }
    if let Some(endpoint) = &opts.endpoint {
        let lower = endpoint.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(VerifyError::InvalidEndpoint(endpoint.clone()));
        }
    }
    Ok(())
}

fn skipped(reason: &str) -> Verdict {
    Verdict::Skipped {
        reason: reason.to_string(),
    }
}

fn canary(stop: &DoNotContact) -> Verdict {
    Verdict::Canary {
        account: stop.account().to_string(),
        reason: stop.reason(),
    }
}
