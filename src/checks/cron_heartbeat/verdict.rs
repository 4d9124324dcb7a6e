//! The verdict and its words. Pure: the same observation and `now` always give the same
//! result.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::observe::{Diagnosis, NoSchedule, Observation, ScheduleSeen, is_fresh, success_time};
use super::schedule::Schedule;
use super::{HeartbeatSpec, NAME, ScheduleRule};
use crate::checks::{CheckResult, Status};
use crate::clients::github::{Run, Workflow};
use crate::util::time::{age_hours, fmt_hours, rfc3339};

/// Decides the status and words the message. Pure: the same observation and `now` always
/// give the same result.
pub fn evaluate(spec: &HeartbeatSpec, obs: &Observation, now: DateTime<Utc>) -> CheckResult {
    let id = spec.id();
    let sla = fmt_hours(spec.sla_hours.get());
    let mut result = match obs {
        Observation::Failed(why) => CheckResult::new(
            &id,
            NAME,
            &spec.workflow,
            Status::Unknown,
            format!("could not check {}: {why}", spec.workflow),
        ),
        Observation::NotFound(why) => {
            let mut r = CheckResult::new(
                &id,
                NAME,
                &spec.workflow,
                Status::Critical,
                format!(
                    "workflow {} not found in {}: it was renamed or deleted, or the token cannot see the repository ({why})",
                    spec.workflow, spec.repo
                ),
            );
            r.details = json!({"workflow_state": "not_found", "sla_hours": spec.sla_hours});
            r.threshold = Some(format!("a successful run every {sla}"));
            r.link = Some(format!("https://github.com/{}/actions", spec.repo));
            r
        }
        Observation::Seen {
            last_success,
            diagnosis,
            schedule,
        } => {
            let parsed = schedule.as_ref().map(ScheduleSeen::parsed);
            match (&spec.schedule, parsed) {
                (Some(rule), Some(Ok((sched, path)))) => evaluate_schedule(
                    spec,
                    (rule, &sched, path),
                    last_success.as_ref(),
                    diagnosis.as_deref(),
                    now,
                ),
                (_, Some(Err(NoSchedule::Refused { path, what }))) => {
                    refused(spec, &path, &what, last_success.as_ref())
                }
                (rule, parsed) => {
                    // The fixed SLA stands in for a schedule only when one was to be followed.
                    let fallback = match parsed {
                        Some(Err(NoSchedule::Unread(why))) if rule.is_some() => Some(why),
                        _ => None,
                    };
                    let seen = (last_success.as_ref(), diagnosis.as_deref());
                    evaluate_seen(spec, seen, fallback.as_deref(), now)
                }
            }
        }
    };
    result.subject_name = spec.name.clone();
    if result.status != Status::Ok {
        result.hints = hints(spec);
    }
    result
}

/// The verdict on a workflow whose schedule GitHub refuses: it never runs on schedule, however
/// recent its last (manual or push) success.
fn refused(
    spec: &HeartbeatSpec,
    path: &str,
    what: &str,
    last_success: Option<&Run>,
) -> CheckResult {
    let message = format!("GitHub refuses {what}: this workflow never runs on schedule");
    let mut r = CheckResult::new(&spec.id(), NAME, &spec.workflow, Status::Critical, message);
    r.details = json!({
        "schedule_refused": what,
        "path": path,
        "last_success_at": last_success.map(|r| rfc3339(success_time(r))),
        "last_success_url": last_success.map(|r| r.html_url.clone()),
    });
    r.threshold = Some("a schedule GitHub accepts: 5 fields, day of week 0-6".into());
    r.link = Some(format!("https://github.com/{}/blob/HEAD/{path}", spec.repo));
    r
}

/// The runbook's manual commands for this workflow.
fn hints(spec: &HeartbeatSpec) -> Vec<String> {
    let (wf, repo) = (&spec.workflow, &spec.repo);
    vec![
        format!(
            "gh run list --workflow {wf} --repo {repo} --limit 5    # what ran, and how it ended"
        ),
        format!("gh workflow view {wf} --repo {repo}    # is it enabled?"),
        format!("gh workflow run {wf} --repo {repo}    # after the fix: run it once to confirm"),
    ]
}

/// The verdict on a heartbeat that follows its workflow's schedule: how many slots in a row
/// passed (grace included) since the newest successful run was created.
fn evaluate_schedule(
    spec: &HeartbeatSpec,
    (rule, sched, path): (&ScheduleRule, &Schedule, &str),
    last_success: Option<&Run>,
    diagnosis: Option<&Diagnosis>,
    now: DateTime<Utc>,
) -> CheckResult {
    let named = format!("{}, {}", sched.crons(), sched.words());
    let mut details = serde_json::Map::new();
    let since = last_success.map(|r| r.created_at);
    let missed = since.map(|t| sched.missed(t, now, rule.grace()));
    details.insert(
        "schedule".into(),
        json!({
            "path": path,
            "entries": sched.entries(),
            "words": sched.words(),
            "grace_minutes": rule.grace_minutes,
            "warn_missed": rule.warn_missed,
            "crit_missed": rule.crit_missed,
            "missed": missed.map(|m| m.count),
            "newest_missed_slot": missed.and_then(|m| m.newest).map(rfc3339),
        }),
    );
    details.insert("last_success_at".into(), json!(since.map(rfc3339)));
    details.insert(
        "last_success_url".into(),
        json!(last_success.map(|r| r.html_url.clone())),
    );
    let count = missed.map_or(0, |m| m.count as u64);
    let status = match since {
        None => Status::Critical,
        Some(_) if count >= u64::from(rule.crit_missed) => Status::Critical,
        Some(_) if count >= u64::from(rule.warn_missed) => Status::Warning,
        Some(_) => Status::Ok,
    };
    let head = match (since, missed) {
        (None, _) => format!("no successful run on record ({named})"),
        (Some(t), Some(m)) if m.count > 0 => {
            let runs = if m.count == 1 { "run" } else { "runs" };
            let at_least = if m.at_least { "at least " } else { "" };
            format!(
                "missed {at_least}{} scheduled {runs} in a row ({named}); last success {}",
                m.count,
                rfc3339(t)
            )
        }
        (Some(t), _) => format!(
            "last successful run {} ago at {}, on schedule ({named})",
            fmt_hours(age_hours(t, now).max(0.0)),
            rfc3339(t)
        ),
    };
    let message = match diagnosis.filter(|_| status != Status::Ok) {
        Some(d) => {
            let why = explain(spec, d, last_success, &mut details);
            // The lead counts from when the last success was created, as the windows do.
            match (why.stalled_since.and(since), missed) {
                // Nothing ran at all: the count of windows is the news, not of failures.
                (Some(t), Some(m)) => {
                    let s = if m.count == 1 { "" } else { "s" };
                    let at_least = if m.at_least { "at least " } else { "" };
                    let lead = format!(
                        "no run since the last success at {}: the schedule has not started for {at_least}{} window{s} ({named})",
                        rfc3339(t),
                        m.count
                    );
                    // The lead says it already.
                    why.without_first().after(lead)
                }
                _ => why.after(head),
            }
        }
        None => head,
    };
    let mut result = CheckResult::new(&spec.id(), NAME, &spec.workflow, status, message);
    if status != Status::Ok {
        result.since = since.map(rfc3339);
        let runs = match rule.warn_missed {
            1 => "a successful run in every scheduled window".to_string(),
            n => format!("fewer than {n} scheduled runs missed in a row"),
        };
        result.threshold = Some(format!(
            "{runs} ({}, {} min grace)",
            sched.words(),
            rule.grace_minutes
        ));
        result.link = stale_link(spec, &details, last_success);
    }
    result.details = serde_json::Value::Object(details);
    result
}

/// Where to look at a stale heartbeat: the latest run, else the last success, else the
/// workflow's page.
fn stale_link(
    spec: &HeartbeatSpec,
    details: &serde_json::Map<String, serde_json::Value>,
    last_success: Option<&Run>,
) -> Option<String> {
    details
        .get("latest_run")
        .and_then(|l| l.get("url"))
        .and_then(|u| u.as_str())
        .map(String::from)
        .or_else(|| last_success.map(|r| r.html_url.clone()))
        .or_else(|| {
            Some(format!(
                "https://github.com/{}/actions/workflows/{}",
                spec.repo, spec.workflow
            ))
        })
}

/// The verdict against the fixed SLA; `fallback` says why it stands in for the workflow's
/// schedule, when one was to be followed.
fn evaluate_seen(
    spec: &HeartbeatSpec,
    (last_success, diagnosis): (Option<&Run>, Option<&Diagnosis>),
    fallback: Option<&str>,
    now: DateTime<Utc>,
) -> CheckResult {
    let sla = match fallback {
        Some(why) => format!(
            "SLA {} instead of its schedule: {why}",
            fmt_hours(spec.sla_hours.get())
        ),
        None => format!("SLA {}", fmt_hours(spec.sla_hours.get())),
    };
    let mut details = serde_json::Map::new();
    details.insert("sla_hours".into(), json!(spec.sla_hours));
    if let Some(why) = fallback {
        details.insert("schedule_fallback".into(), json!(why));
    }
    details.insert(
        "last_success_at".into(),
        json!(last_success.map(|r| rfc3339(success_time(r)))),
    );
    details.insert(
        "last_success_url".into(),
        json!(last_success.map(|r| r.html_url.clone())),
    );
    let age = last_success.map(|r| age_hours(success_time(r), now));
    details.insert("age_hours".into(), json!(age));

    let fresh = is_fresh(last_success, spec.sla_hours, now);
    let (status, message) = match (fresh, last_success, age) {
        (true, Some(run), Some(age)) if age < 0.0 => (
            Status::Ok,
            format!(
                "last successful run at {} is {} ahead of this machine's clock (clock skew); counted as fresh ({sla})",
                rfc3339(success_time(run)),
                fmt_hours(-age)
            ),
        ),
        (true, Some(run), Some(age)) => (
            Status::Ok,
            format!(
                "last successful run {} ago at {} ({sla})",
                fmt_hours(age),
                rfc3339(success_time(run))
            ),
        ),
        _ => {
            let head = match age {
                Some(age) => format!("no successful run for {} ({sla})", fmt_hours(age)),
                None => format!("no successful run on record ({sla})"),
            };
            let message = match diagnosis {
                Some(d) => explain(spec, d, last_success, &mut details).after(head),
                None => head,
            };
            (Status::Critical, message)
        }
    };
    let mut result = CheckResult::new(&spec.id(), NAME, &spec.workflow, status, message);
    if status != Status::Ok {
        result.since = last_success.map(|r| rfc3339(success_time(r)));
        let every = fmt_hours(spec.sla_hours.get());
        result.threshold = Some(format!("a successful run every {every}"));
        result.link = stale_link(spec, &details, last_success);
    }
    result.details = serde_json::Value::Object(details);
    result
}

/// What a stale heartbeat's diagnosis says, in parts joined after the verdict.
struct Why {
    /// Set when nothing ran after the last success: the schedule stopped starting it.
    stalled_since: Option<DateTime<Utc>>,
    parts: Vec<String>,
}

impl Why {
    fn without_first(mut self) -> Self {
        if !self.parts.is_empty() {
            self.parts.remove(0);
        }
        self
    }

    /// `lead`, then what explains it.
    fn after(self, lead: String) -> String {
        std::iter::once(lead)
            .chain(self.parts)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Words the reason a stale heartbeat is stale, and records what was seen.
fn explain(
    spec: &HeartbeatSpec,
    d: &Diagnosis,
    last_success: Option<&Run>,
    details: &mut serde_json::Map<String, serde_json::Value>,
) -> Why {
    record(d, details);
    let success_at = last_success.map(|r| r.created_at);
    // The newest run of the heartbeat's filter is its last success: nothing started since.
    let stalled_since = match (&d.latest_run, last_success) {
        (Ok(Some(run)), Some(last)) if success_at.is_some_and(|t| run.created_at <= t) => {
            Some(success_time(last))
        }
        (Ok(None), Some(last)) => Some(success_time(last)),
        _ => None,
    };
    let mut parts = Vec::new();
    match (&d.latest_run, stalled_since) {
        (_, Some(t)) => {
            parts.push(format!("no run since the last success at {}", rfc3339(t)));
            if let Some(Ok(Some(any))) = &d.latest_any
                && success_at.is_some_and(|t| any.created_at > t)
            {
                parts.push(left_out(spec, any));
            }
        }
        (Ok(Some(run)), None) => parts.push(describe_run(run)),
        (Ok(None), None) => parts.push("the workflow has never run".into()),
        (Err(e), None) => parts.push(format!("the latest run could not be read ({e})")),
    }
    match &d.workflow {
        Ok(w) => parts.extend(state_reason(spec, w, success_at)),
        Err(e) => parts.push(format!("the workflow state could not be read ({e})")),
    }
    Why {
        stalled_since,
        parts,
    }
}

/// Keeps what the diagnosis saw in the details.
fn record(d: &Diagnosis, details: &mut serde_json::Map<String, serde_json::Value>) {
    match &d.workflow {
        Ok(w) => details.insert("workflow_state".into(), json!(w.state)),
        Err(e) => details.insert("workflow_state_error".into(), json!(e.to_string())),
    };
    match &d.latest_run {
        Ok(Some(run)) => details.insert(
            "latest_run".into(),
            json!({
                "status": run.status,
                "conclusion": run.conclusion,
                "event": run.event,
                "created_at": rfc3339(run.created_at),
                "url": run.html_url,
            }),
        ),
        Ok(None) => details.insert("latest_run".into(), serde_json::Value::Null),
        Err(e) => details.insert("latest_run_error".into(), json!(e.to_string())),
    };
}

/// What the workflow's own state says of a stale heartbeat, when it says anything.
fn state_reason(
    spec: &HeartbeatSpec,
    w: &Workflow,
    success_at: Option<DateTime<Utc>>,
) -> Option<String> {
    let enable = format!(
        "re-enable it with `gh workflow enable {} --repo {}`",
        spec.workflow, spec.repo
    );
    match w.state.as_str() {
        "disabled_manually" => Some(format!("the workflow was disabled by hand: {enable}")),
        "disabled_inactivity" => Some(format!(
            "GitHub disabled the schedule after 60 days without repository activity: {enable}"
        )),
        "disabled_fork" => Some(format!("the workflow is disabled in this fork: {enable}")),
        "deleted" => Some("the workflow file was deleted".into()),
        _ => match (w.updated_at, success_at) {
            (Some(changed), Some(t)) if changed > t => Some(format!(
                "the workflow changed at {}, after the last success: check that its file's `on.schedule` is still what it should be",
                rfc3339(changed)
            )),
            _ => None,
        },
    }
}

/// The newest run of any branch and event, newer than the last success, that the
/// heartbeat's own filters left out.
fn left_out(spec: &HeartbeatSpec, run: &Run) -> String {
    let mut filters = Vec::new();
    if let Some(b) = &spec.filter.branch {
        filters.push(format!("branch {b}"));
    }
    if let Some(e) = &spec.filter.event {
        filters.push(format!("event {e}"));
    }
    let branch = run.head_branch.as_deref().unwrap_or("no branch");
    format!(
        "the latest run, {} on {branch} at {}, does not match the heartbeat's filters ({}) {}",
        run.event,
        rfc3339(run.created_at),
        filters.join(", "),
        run.html_url
    )
}

fn describe_run(run: &Run) -> String {
    let when = rfc3339(run.created_at);
    let url = &run.html_url;
    match (run.status.as_deref(), run.conclusion.as_deref()) {
        (Some("completed"), Some("skipped")) => format!(
            "latest run at {when} was skipped: every job's `if:` was false (is the job's flag gate off?) {url}"
        ),
        (Some("completed"), Some("failure")) => format!("latest run failed at {when} {url}"),
        (Some("completed"), Some("cancelled")) => {
            format!("latest run was cancelled at {when} {url}")
        }
        (Some("completed"), Some("timed_out")) => format!("latest run timed out at {when} {url}"),
        (Some("completed"), Some("startup_failure")) => {
            format!("latest run could not start (startup_failure) at {when} {url}")
        }
        (Some("completed"), Some("success")) => format!("latest run succeeded at {when} {url}"),
        (Some("completed"), Some(other)) => format!("latest run ended {other} at {when} {url}"),
        (Some(status), _) => format!("latest run is {status} since {when} {url}"),
        (None, _) => format!("latest run at {when} {url}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::cron_heartbeat::ScheduleRule;
    use crate::checks::cron_heartbeat::schedule::Entry;
    use crate::clients::api::ApiError;
    use crate::clients::github::{Repo, RunFilter};
    use crate::clients::http::HttpError;
    use crate::util::time::Hours;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn spec(sla: f64) -> HeartbeatSpec {
        HeartbeatSpec {
            repo: Repo::parse("raxx-app/TradeMasterAPI").unwrap(),
            workflow: "trace-integrity-cron.yml".into(),
            name: "trace-integrity-cron".into(),
            sla_hours: Hours(sla),
            filter: RunFilter::default(),
            schedule: None,
        }
    }

    fn run(id: u64, at: &str, status: &str, conclusion: Option<&str>) -> Run {
        Run {
            id,
            status: Some(status.into()),
            conclusion: conclusion.map(String::from),
            html_url: format!("https://github.com/raxx-app/TradeMasterAPI/actions/runs/{id}"),
            event: "schedule".into(),
            created_at: t(at),
            updated_at: t(at),
            run_started_at: Some(t(at)),
            workflow_id: 7,
            head_branch: Some("main".into()),
            path: None,
        }
    }

    fn workflow(state: &str) -> Workflow {
        Workflow {
            id: 7,
            name: "Trace integrity check".into(),
            state: state.into(),
            html_url: "https://github.com/raxx-app/TradeMasterAPI/actions/workflows/x".into(),
            path: ".github/workflows/trace-integrity-cron.yml".into(),
            created_at: None,
            updated_at: None,
        }
    }

    const NOW: &str = "2026-05-23T06:30:00Z";

    fn success_hours_ago(h: f64) -> Run {
        let at = t(NOW) - chrono::Duration::milliseconds((h * 3_600_000.0) as i64);
        run(1, &rfc3339(at), "completed", Some("success"))
    }

    #[test]
    fn sla_edges_are_exact() {
        let now = t(NOW);
        assert!(is_fresh(Some(&success_hours_ago(47.9)), Hours(48.0), now));
        assert!(is_fresh(Some(&success_hours_ago(48.0)), Hours(48.0), now));
        assert!(!is_fresh(Some(&success_hours_ago(48.1)), Hours(48.0), now));
        assert!(!is_fresh(None, Hours(48.0), now));
        assert!(is_fresh(Some(&success_hours_ago(0.5)), Hours(1.0), now));
        assert!(!is_fresh(Some(&success_hours_ago(1.01)), Hours(1.0), now));
    }

    #[test]
    fn fresh_success_is_ok() {
        let obs = Observation::Seen {
            last_success: Some(success_hours_ago(5.25)),
            diagnosis: None,
            schedule: None,
        };
        let r = evaluate(&spec(48.0), &obs, t(NOW));
        assert_eq!(r.status, Status::Ok);
        assert_eq!(
            r.message,
            "last successful run 5.3 h ago at 2026-05-23T01:15:00Z (SLA 48 h)"
        );
        assert_eq!(r.details["age_hours"], json!(5.3));
    }

    #[test]
    fn success_in_the_future_is_skew_not_error() {
        let obs = Observation::Seen {
            last_success: Some(run(9, "2026-05-23T06:45:00Z", "completed", Some("success"))),
            diagnosis: None,
            schedule: None,
        };
        let r = evaluate(&spec(48.0), &obs, t(NOW));
        assert_eq!(r.status, Status::Ok);
        assert!(r.message.contains("clock skew"), "{}", r.message);
    }

    fn stale_with(
        latest: Result<Option<Run>, ApiError>,
        wf: Result<Workflow, ApiError>,
    ) -> CheckResult {
        let obs = Observation::Seen {
            last_success: Some(run(1, "2026-05-18T05:00:00Z", "completed", Some("success"))),
            diagnosis: Some(Box::new(Diagnosis {
                latest_run: latest,
                workflow: wf,
                latest_any: None,
            })),
            schedule: None,
        };
        evaluate(&spec(48.0), &obs, t(NOW))
    }

    #[test]
    fn stale_because_latest_run_failed() {
        let r = stale_with(
            Ok(Some(run(
                7,
                "2026-05-22T02:00:09Z",
                "completed",
                Some("failure"),
            ))),
            Ok(workflow("active")),
        );
        assert_eq!(r.status, Status::Critical);
        assert_eq!(
            r.message,
            "no successful run for 121.5 h (SLA 48 h); latest run failed at 2026-05-22T02:00:09Z https://github.com/raxx-app/TradeMasterAPI/actions/runs/7"
        );
        assert_eq!(r.details["latest_run"]["conclusion"], "failure");
        assert_eq!(r.details["workflow_state"], "active");
        assert_eq!(r.since.as_deref(), Some("2026-05-18T05:00:00Z"));
        assert_eq!(
            r.link.as_deref(),
            Some("https://github.com/raxx-app/TradeMasterAPI/actions/runs/7")
        );
    }

    #[test]
    fn stale_because_cancelled_or_skipped() {
        let r = stale_with(
            Ok(Some(run(
                7,
                "2026-05-22T02:00:09Z",
                "completed",
                Some("cancelled"),
            ))),
            Ok(workflow("active")),
        );
        assert!(
            r.message
                .contains("latest run was cancelled at 2026-05-22T02:00:09Z"),
            "{}",
            r.message
        );
        let r = stale_with(
            Ok(Some(run(
                7,
                "2026-05-22T02:00:09Z",
                "completed",
                Some("skipped"),
            ))),
            Ok(workflow("active")),
        );
        assert!(r.message.contains("was skipped"), "{}", r.message);
    }

    #[test]
    fn stale_because_disabled() {
        let r = stale_with(Ok(None), Ok(workflow("disabled_inactivity")));
        assert!(
            r.message
                .contains("GitHub disabled the schedule after 60 days without repository activity"),
            "{}",
            r.message
        );
        assert!(r.message.contains(
            "gh workflow enable trace-integrity-cron.yml --repo raxx-app/TradeMasterAPI"
        ));
        let r = stale_with(Ok(None), Ok(workflow("disabled_manually")));
        assert!(r.message.contains("disabled by hand"), "{}", r.message);
    }

    #[test]
    fn never_ran() {
        let obs = Observation::Seen {
            last_success: None,
            diagnosis: Some(Box::new(Diagnosis {
                latest_run: Ok(None),
                workflow: Ok(workflow("active")),
                latest_any: None,
            })),
            schedule: None,
        };
        let r = evaluate(&spec(48.0), &obs, t(NOW));
        assert_eq!(r.status, Status::Critical);
        assert_eq!(
            r.message,
            "no successful run on record (SLA 48 h); the workflow has never run"
        );
        assert_eq!(r.details["last_success_at"], serde_json::Value::Null);
    }

    #[test]
    fn diagnosis_failures_still_critical() {
        let down = |detail: &str| ApiError::Transport {
            api: "GitHub",
            source: HttpError::Other {
                host: "api.github.com".into(),
                detail: detail.into(),
            },
        };
        let r = stale_with(Err(down("boom")), Err(down("bang")));
        assert_eq!(r.status, Status::Critical);
        assert!(r.message.contains(
            "latest run could not be read (GitHub: request to api.github.com failed: boom)"
        ));
        assert!(r.message.contains(
            "workflow state could not be read (GitHub: request to api.github.com failed: bang)"
        ));
    }

    #[test]
    fn not_found_is_critical_and_failure_unknown() {
        let r = evaluate(
            &spec(48.0),
            &Observation::NotFound(ApiError::NotFound {
                api: "GitHub",
                what: "workflow trace-integrity-cron.yml".into(),
                detail: String::new(),
            }),
            t(NOW),
        );
        assert_eq!(r.status, Status::Critical);
        assert!(r.message.contains("not found in raxx-app/TradeMasterAPI"));
        let r = evaluate(
            &spec(48.0),
            &Observation::Failed(ApiError::RateLimited {
                api: "GitHub",
                status: 403,
                resets: String::new(),
            }),
            t(NOW),
        );
        assert_eq!(r.status, Status::Unknown);
        assert_eq!(r.subject_name, "trace-integrity-cron");
        assert!(r.hints[0].starts_with(
            "gh run list --workflow trace-integrity-cron.yml --repo raxx-app/TradeMasterAPI"
        ));
    }

    fn scheduled(cron: &str) -> Option<ScheduleSeen> {
        Some(ScheduleSeen::Read {
            path: ".github/workflows/trace-integrity-cron.yml".into(),
            entries: vec![Entry {
                cron: cron.into(),
                timezone: None,
            }],
        })
    }

    fn follows_schedule() -> HeartbeatSpec {
        HeartbeatSpec {
            schedule: Some(ScheduleRule::default()),
            ..spec(48.0)
        }
    }

    #[test]
    fn the_designs_example_counts_five_missed_windows() {
        let mut last = run(1, "2026-05-18T02:04:11Z", "completed", Some("success"));
        last.updated_at = t("2026-05-18T02:09:00Z");
        let obs = Observation::Seen {
            last_success: Some(last),
            diagnosis: Some(Box::new(Diagnosis {
                latest_run: Ok(Some(run(
                    9107,
                    "2026-05-22T02:00:09Z",
                    "completed",
                    Some("failure"),
                ))),
                workflow: Ok(workflow("active")),
                latest_any: None,
            })),
            schedule: scheduled("0 2 * * *"),
        };
        let r = evaluate(&follows_schedule(), &obs, t(NOW));
        assert_eq!(r.status, Status::Critical);
        assert_eq!(
            r.message,
            "missed 5 scheduled runs in a row (cron '0 2 * * *', daily at 02:00 UTC); last success 2026-05-18T02:04:11Z; latest run failed at 2026-05-22T02:00:09Z https://github.com/raxx-app/TradeMasterAPI/actions/runs/9107"
        );
        assert_eq!(r.details["schedule"]["missed"], json!(5));
        assert_eq!(
            r.threshold.as_deref(),
            Some("a successful run in every scheduled window (daily at 02:00 UTC, 60 min grace)")
        );
    }

    #[test]
    fn one_missed_window_warns_and_none_is_ok() {
        let spec = follows_schedule();
        let seen = |at: &str| Observation::Seen {
            last_success: Some(run(1, at, "completed", Some("success"))),
            diagnosis: None,
            schedule: scheduled("0 2 * * *"),
        };
        let ok = evaluate(&spec, &seen("2026-05-23T02:03:00Z"), t(NOW));
        assert_eq!(ok.status, Status::Ok);
        assert_eq!(
            ok.message,
            "last successful run 4.5 h ago at 2026-05-23T02:03:00Z, on schedule (cron '0 2 * * *', daily at 02:00 UTC)"
        );
        let one = evaluate(&spec, &seen("2026-05-22T02:03:00Z"), t(NOW));
        assert_eq!(one.status, Status::Warning);
        assert!(
            one.message.starts_with("missed 1 scheduled run in a row"),
            "{}",
            one.message
        );
        // Inside the grace, today's slot is not missed yet.
        let early = evaluate(
            &spec,
            &seen("2026-05-22T02:03:00Z"),
            t("2026-05-23T02:59:00Z"),
        );
        assert_eq!(early.status, Status::Ok);
    }

    #[test]
    fn an_unreadable_schedule_falls_back_to_the_sla_and_says_why_in_the_message() {
        let obs = Observation::Seen {
            last_success: Some(success_hours_ago(5.25)),
            diagnosis: None,
            schedule: Some(ScheduleSeen::Fallback(
                "the token may not read .github/workflows/x.yml".into(),
            )),
        };
        let r = evaluate(&follows_schedule(), &obs, t(NOW));
        assert_eq!(r.status, Status::Ok);
        assert_eq!(
            r.message,
            "last successful run 5.3 h ago at 2026-05-23T01:15:00Z (SLA 48 h instead of its schedule: the token may not read .github/workflows/x.yml)"
        );
        assert_eq!(
            r.details["schedule_fallback"],
            json!("the token may not read .github/workflows/x.yml")
        );
        // A fixed SLA chosen by hand is no fallback.
        let r = evaluate(&spec(48.0), &obs, t(NOW));
        assert!(r.message.ends_with("(SLA 48 h)"), "{}", r.message);
    }

    #[test]
    fn a_cron_github_refuses_is_critical_however_fresh_the_last_success() {
        for (cron, what) in [
            (
                "50 0 * * 3,4,5,6,7",
                "the cron '50 0 * * 3,4,5,6,7' (day of week 7 is outside 0-6)",
            ),
            ("61 25 * * *", "the cron '61 25 * * *' ("),
            ("@daily", "the cron '@daily' (1 fields, GitHub takes 5"),
        ] {
            let obs = Observation::Seen {
                last_success: Some(success_hours_ago(5.25)),
                diagnosis: None,
                schedule: scheduled(cron),
            };
            for spec in [follows_schedule(), spec(48.0)] {
                let r = evaluate(&spec, &obs, t(NOW));
                assert_eq!(r.status, Status::Critical, "{cron}");
                assert!(
                    r.message.starts_with(&format!("GitHub refuses {what}")),
                    "{}",
                    r.message
                );
                assert!(
                    r.message
                        .ends_with("): this workflow never runs on schedule"),
                    "{}",
                    r.message
                );
                assert_eq!(
                    r.link.as_deref(),
                    Some(
                        "https://github.com/raxx-app/TradeMasterAPI/blob/HEAD/.github/workflows/trace-integrity-cron.yml"
                    )
                );
            }
        }
        let r = evaluate(
            &follows_schedule(),
            &Observation::Seen {
                last_success: Some(success_hours_ago(5.25)),
                diagnosis: None,
                schedule: scheduled("50 0 * * 3,4,5,6,7"),
            },
            t(NOW),
        );
        assert_eq!(
            r.message,
            "GitHub refuses the cron '50 0 * * 3,4,5,6,7' (day of week 7 is outside 0-6): this workflow never runs on schedule"
        );
    }

    /// The RCA's case: the cron stopped starting; its newest run is its last success.
    fn stalled(spec: &HeartbeatSpec, wf: Workflow, any: Option<Run>) -> CheckResult {
        let last = run(1, "2026-05-18T02:00:11Z", "completed", Some("success"));
        let obs = Observation::Seen {
            last_success: Some(last.clone()),
            diagnosis: Some(Box::new(Diagnosis {
                latest_run: Ok(Some(last)),
                workflow: Ok(wf),
                latest_any: any.map(|r| Ok(Some(r))),
            })),
            schedule: scheduled("0 2 * * *"),
        };
        evaluate(spec, &obs, t(NOW))
    }

    #[test]
    fn a_stalled_cron_says_nothing_ran_and_how_many_windows() {
        let r = stalled(&follows_schedule(), workflow("active"), None);
        assert_eq!(r.status, Status::Critical);
        assert_eq!(
            r.message,
            "no run since the last success at 2026-05-18T02:00:11Z: the schedule has not started for 5 windows (cron '0 2 * * *', daily at 02:00 UTC)"
        );
        assert!(!r.message.contains("filters"), "{}", r.message);
        let r = stalled(&spec(48.0), workflow("active"), None);
        assert_eq!(
            r.message,
            "no successful run for 124.5 h (SLA 48 h); no run since the last success at 2026-05-18T02:00:11Z"
        );
    }

    #[test]
    fn a_stalled_cron_names_what_explains_it() {
        let r = stalled(&follows_schedule(), workflow("disabled_inactivity"), None);
        assert!(
            r.message.ends_with("5 windows (cron '0 2 * * *', daily at 02:00 UTC); GitHub disabled the schedule after 60 days without repository activity: re-enable it with `gh workflow enable trace-integrity-cron.yml --repo raxx-app/TradeMasterAPI`"),
            "{}",
            r.message
        );
        let mut changed = workflow("active");
        changed.updated_at = Some(t("2026-05-19T09:12:00Z"));
        let r = stalled(&follows_schedule(), changed, None);
        assert!(
            r.message.ends_with("; the workflow changed at 2026-05-19T09:12:00Z, after the last success: check that its file's `on.schedule` is still what it should be"),
            "{}",
            r.message
        );
    }

    #[test]
    fn filters_are_named_only_when_configured_and_a_newer_run_was_left_out() {
        let mut spec = follows_schedule();
        spec.filter.branch = Some("main".into());
        let mut push = run(12, "2026-05-22T10:00:00Z", "completed", Some("success"));
        push.event = "push".into();
        push.head_branch = Some("release".into());
        let r = stalled(&spec, workflow("active"), Some(push));
        assert!(
            r.message.ends_with("; the latest run, push on release at 2026-05-22T10:00:00Z, does not match the heartbeat's filters (branch main) https://github.com/raxx-app/TradeMasterAPI/actions/runs/12"),
            "{}",
            r.message
        );
        // A run older than the last success left out by the filter is no news.
        let old = run(0, "2026-05-17T02:00:00Z", "completed", Some("success"));
        let r = stalled(&spec, workflow("active"), Some(old));
        assert!(!r.message.contains("filters"), "{}", r.message);
    }

    #[test]
    fn no_success_ever_on_a_schedule_is_critical() {
        let obs = Observation::Seen {
            last_success: None,
            diagnosis: Some(Box::new(Diagnosis {
                latest_run: Ok(None),
                workflow: Ok(workflow("active")),
                latest_any: None,
            })),
            schedule: scheduled("*/15 * * * *"),
        };
        let r = evaluate(&follows_schedule(), &obs, t(NOW));
        assert_eq!(r.status, Status::Critical);
        assert_eq!(
            r.message,
            "no successful run on record (cron '*/15 * * * *', every 15 minutes); the workflow has never run"
        );
    }
}
