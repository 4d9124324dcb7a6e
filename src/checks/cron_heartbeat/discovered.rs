//! What discovery saw, judged: each scheduled workflow found as a configured heartbeat is,
//! and one `unknown` or warning for a list that failed or stopped before its end. Pure.

use chrono::{DateTime, Utc};

use super::discovery::{Found, Seen, org_id, org_name};
use super::{NAME, evaluate as judge};
use crate::checks::{CheckResult, Status};
use crate::clients::github::{Cut, MAX_PAGES, Repo};

/// One result per scheduled workflow found (a disabled one warns: its schedule no longer
/// runs), and one `unknown` for what could not be looked at.
pub fn evaluate(seen: &Seen, now: DateTime<Utc>) -> Vec<CheckResult> {
    let mut out: Vec<CheckResult> = seen
        .failed
        .iter()
        .map(|(org, e)| {
            CheckResult::new(
                &org_id(org),
                NAME,
                &org_name(org),
                Status::Unknown,
                format!(
                    "could not discover the scheduled workflows of {}: {e}",
                    org_name(org)
                ),
            )
        })
        .collect();
    for (org, cut) in &seen.cut {
        let mut w = CheckResult::new(
            &org_id(org),
            NAME,
            &org_name(org),
            Status::Warning,
            org_cut_words(org, cut),
        );
        w.details = cut_details(cut);
        out.push(w);
    }
    for r in &seen.repos {
        let id = format!("{NAME}:{}:*", r.repo);
        let found = match &r.workflows {
            Ok(found) => found,
            Err(e) => {
                out.push(CheckResult::new(
                    &id,
                    NAME,
                    &r.repo.to_string(),
                    Status::Unknown,
                    format!(
                        "could not list the workflows of {} to find the scheduled ones: {e}",
                        r.repo
                    ),
                ));
                continue;
            }
        };
        for f in found {
            out.push(evaluate_found(f, now));
        }
        let cut = r.cut.as_ref().map(|c| (workflows_cut_words(&r.repo, c), c));
        if r.unreadable.is_empty()
            && let Some((words, c)) = &cut
        {
            let mut w = CheckResult::new(
                &id,
                NAME,
                &r.repo.to_string(),
                Status::Warning,
                words.clone(),
            );
            w.details = cut_details(c);
            out.push(w);
        }
        if !r.unreadable.is_empty() {
            let files: Vec<&str> = r.unreadable.iter().map(|(p, _)| p.as_str()).collect();
            let mut u = CheckResult::new(
                &id,
                NAME,
                &r.repo.to_string(),
                Status::Unknown,
                format!(
                    "{} workflow file(s) of {} could not be read, so their schedules are not watched: {}",
                    files.len(),
                    r.repo,
                    r.unreadable[0].1
                ),
            );
            let why: serde_json::Map<String, serde_json::Value> = r
                .unreadable
                .iter()
                .map(|(p, why)| (p.clone(), why.as_str().into()))
                .collect();
            u.details = serde_json::json!({ "unreadable": files, "why": why });
            if let Some((words, c)) = &cut {
                // One result per identity: the list's cut joins the unreadable files.
                u.message = format!("{}; also {words}", u.message);
                u.details["cut"] = cut_details(c);
            }
            out.push(u);
        }
    }
    out
}

/// Why a list stopped before its end, in words.
fn cut_why(cut: &Cut) -> String {
    if cut.repeated {
        "GitHub's pages repeated the ones before".to_string()
    } else {
        format!("the monitor reads {MAX_PAGES} pages of 100")
    }
}

/// "only 1000 of the 1050 workflows GitHub counts in R were listed (...): 50 are not watched"
fn workflows_cut_words(repo: &Repo, cut: &Cut) -> String {
    match cut.counted {
        Some(counted) => format!(
            "only {} of the {counted} workflows GitHub counts in {repo} were listed ({}): {} are not watched",
            cut.listed,
            cut_why(cut),
            counted.saturating_sub(cut.listed as u64)
        ),
        None => format!(
            "listed only the first {} workflows of {repo} ({}): those after {} are not watched",
            cut.listed,
            cut_why(cut),
            cut.last.as_deref().unwrap_or("them")
        ),
    }
}

/// "listed only the first 1000 repositories of the organisation O by name (...): those after
/// O/x are not watched; ..."
fn org_cut_words(org: &str, cut: &Cut) -> String {
    format!(
        "listed only the first {} repositories of {} by name ({}): those after {} are not watched; name them in [github] repos",
        cut.listed,
        org_name(org),
        cut_why(cut),
        cut.last.as_deref().unwrap_or("them")
    )
}

fn cut_details(cut: &Cut) -> serde_json::Value {
    serde_json::json!({
        "listed": cut.listed,
        "counted": cut.counted,
        "last_listed": cut.last,
        "pages_repeated": cut.repeated,
    })
}

fn evaluate_found(f: &Found, now: DateTime<Utc>) -> CheckResult {
    let mut r = judge(&f.spec, &f.observation, now);
    let state = f.workflow.state.as_str();
    // A stale one's message already says it was disabled; an ok one still warns.
    if state.starts_with("disabled") {
        if r.status == Status::Ok {
            r.status = Status::Warning;
            r.message = format!(
                "disabled ({state}): its schedule no longer runs; {}",
                r.message
            );
        }
        r.link.get_or_insert_with(|| f.workflow.html_url.clone());
    }
    if let Some(d) = r.details.as_object_mut() {
        d.insert("discovered".into(), serde_json::json!(true));
    }
    r
}
