//! `cron_heartbeat`: a workflow must have a successful run inside its SLA. One request when
//! healthy; only a stale heartbeat pays for the two more that say why.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::pool::Identity;
use super::time::{Hours, age_hours, fmt_hours, rfc3339};
use super::{Check, CheckKind, watches, CheckResult, Context, Status, Watch};
use crate::clients::api::ApiError;
use crate::clients::github::{GitHub, Repo, Run, RunFilter, Workflow};
use crate::config::file::Section;
use crate::config::{Configure, Need};

/// The kind's name.
pub const NAME: &str = "cron_heartbeat";
/// The SLA by default.
pub const DEFAULT_SLA: Hours = Hours(48.0);
/// What the old script checked when given only `--repo`; kept so its call works unchanged.
pub const LEGACY_WORKFLOWS: [&str; 2] = ["billing-retention-cron.yml", "trace-integrity-cron.yml"];
const SECTION: Section = Section::array("heartbeat");

/// The kind: `[[heartbeat]]`, `--workflow`, `--sla-hours`.
pub struct CronHeartbeat;

impl CheckKind for CronHeartbeat {
    fn names(&self) -> &'static [&'static str] {
        &[NAME]
    }

    fn sections(&self) -> &'static [Section] {
        &[SECTION]
    }

    fn configure(&self, cfg: &mut Configure) -> Vec<Arc<dyn Watch>> {
        let specs = configure(cfg);
        cfg.uses_github |= !specs.is_empty();
        for s in &specs {
            if !cfg.github_repos.contains(&s.repo) {
                cfg.github_repos.push(s.repo.clone());
            }
        }
        watches(specs)
    }


    fn runbook(&self) -> &'static [&'static str] {
        &["cron heartbeat STALE"]
    }
}

/// The heartbeats of the file and the flags. The old script's call (`--repo` and nothing
/// else to check) checks its two crons.
fn configure(cfg: &mut Configure) -> Vec<HeartbeatSpec> {
    let cli = cfg.cli;
    let mut heartbeats = Vec::new();
    for t in cfg.tables(SECTION) {
        let workflow = t.required_string("workflow");
        let name = t.string("name");
        let sla_hours = t.number("sla_hours");
        let branch = t.string("branch");
        let event = t.string("event");
        let repo = t.string("repo");
        let Some(workflow) = workflow else { continue };
        let file = workflow.value.trim().to_string();
        if file.is_empty() || file.contains('/') {
            t.error(
                workflow.line,
                format!("workflow `{file}` must be a file name like nightly.yml or a numeric id"),
            );
            continue;
        }
        let sla = match (cli.sla_hours, sla_hours) {
            (Some(h), _) => Hours(h),
            (None, Some(v)) if !(v.value.is_finite() && v.value > 0.0) => {
                t.error(
                    v.line,
                    format!(
                        "sla_hours must be a positive number of hours, not {}",
                        v.value
                    ),
                );
                continue;
            }
            (None, Some(v)) => Hours(v.value),
            (None, None) => DEFAULT_SLA,
        };
        let Some(repo) = cfg.repo_of(&t, repo, &format!("heartbeat {file}")) else {
            continue;
        };
        heartbeats.push(HeartbeatSpec {
            name: name.map_or_else(|| default_name(&file), |n| n.value),
            repo,
            workflow: file,
            sla_hours: sla,
            filter: RunFilter {
                branch: branch.map(|v| v.value),
                event: event.map(|v| v.value),
            },
        });
    }

    let extra: Vec<String> = if cfg.only_repo {
        cfg.notes.push(format!(
            "no heartbeat configured; checking the old script's {} and {}",
            LEGACY_WORKFLOWS[0], LEGACY_WORKFLOWS[1]
        ));
        LEGACY_WORKFLOWS.iter().map(|s| s.to_string()).collect()
    } else {
        cli.workflow.clone()
    };
    for workflow in extra {
        let Some(r) = &cfg.repo else {
            cfg.error(
                "--workflow",
                format!("{workflow} needs a repository: give --repo or [github] repo"),
            );
            continue;
        };
        if workflow.trim().is_empty() || workflow.contains('/') {
            cfg.error(
                "--workflow",
                format!("`{workflow}` must be a file name like nightly.yml or a numeric id"),
            );
            continue;
        }
        heartbeats.push(HeartbeatSpec {
            name: default_name(&workflow),
            repo: r.clone(),
            workflow,
            sla_hours: cli.sla_hours.map_or(DEFAULT_SLA, Hours),
            filter: RunFilter::default(),
        });
    }
    let mut seen = std::collections::HashSet::new();
    for hb in &heartbeats {
        if !seen.insert((hb.repo.clone(), hb.workflow.clone(), hb.filter.clone())) {
            cfg.error(
                cfg.file_name().unwrap_or("--workflow"),
                format!(
                    "heartbeat {} in {} is configured twice",
                    hb.workflow, hb.repo
                ),
            );
        }
    }
    heartbeats
}

/// One heartbeat to check.
#[derive(Debug, Clone, PartialEq)]
pub struct HeartbeatSpec {
    /// The repository holding the workflow.
    pub repo: Repo,
    /// File name (`nightly.yml`) or numeric id.
    pub workflow: String,
    /// Name in mail subjects (the file name without `.yml` unless configured).
    pub name: String,
    /// The SLA.
    pub sla_hours: Hours,
    /// Which runs count.
    pub filter: RunFilter,
}

impl HeartbeatSpec {
    /// `cron_heartbeat:owner/repo:file`.
    pub fn id(&self) -> String {
        format!("cron_heartbeat:{}:{}", self.repo, self.workflow)
    }
}

impl Check for HeartbeatSpec {
    type Observation = Observation;

    fn identities(&self) -> Vec<Identity> {
        vec![Identity::new(self.id(), NAME, &self.workflow, &self.name)]
    }

    fn describe(&self) -> Vec<String> {
        let mut filters = String::new();
        if let Some(b) = &self.filter.branch {
            filters.push_str(&format!(", branch {b}"));
        }
        if let Some(e) = &self.filter.event {
            filters.push_str(&format!(", event {e}"));
        }
        vec![format!(
            "{}  (SLA {}{filters})",
            self.id(),
            fmt_hours(self.sla_hours.get())
        )]
    }

    fn needs(&self) -> Vec<Need> {
        vec![Need::new(
            "GITHUB_TOKEN",
            "GITHUB_TOKEN is not set (nor --gh-token): the heartbeats need a token with actions: read",
        )]
    }

    fn observe(&self, ctx: &Context) -> Observation {
        observe(&ctx.github, self, ctx.now)
    }

    fn evaluate(&self, seen: &Observation, now: DateTime<Utc>) -> Vec<CheckResult> {
        vec![evaluate(self, seen, now)]
    }
}

/// The default display name of a workflow: its file name without the extension.
pub fn default_name(workflow: &str) -> String {
    workflow
        .strip_suffix(".yml")
        .or_else(|| workflow.strip_suffix(".yaml"))
        .unwrap_or(workflow)
        .to_string()
}

/// Everything the check learned from GitHub.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// The newest successful run (or none), and, when that is stale, why.
    Seen {
        /// The newest successful run matching the filter.
        last_success: Option<Run>,
        /// Present only when the heartbeat is stale.
        diagnosis: Option<Box<Diagnosis>>,
    },
    /// GitHub says the workflow does not exist (or the token cannot see it).
    NotFound(ApiError),
    /// GitHub could not be asked or gave no usable answer.
    Failed(ApiError),
}

/// Why a heartbeat is stale, as far as GitHub would say.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    /// The newest run of any status, or why it could not be read.
    pub latest_run: Result<Option<Run>, ApiError>,
    /// The workflow, or why it could not be read.
    pub workflow: Result<Workflow, ApiError>,
}

/// Whether the newest success is inside the SLA. A success in the future of `now` (clock
/// skew between GitHub and this machine) counts as fresh.
pub fn is_fresh(last_success: Option<&Run>, sla: Hours, now: DateTime<Utc>) -> bool {
    let Some(run) = last_success else {
        return false;
    };
    now - success_time(run) <= sla.duration()
}

/// When a successful run finished.
pub fn success_time(run: &Run) -> DateTime<Utc> {
    run.updated_at
}

/// Asks GitHub, paying for the diagnosis only when the heartbeat is stale.
pub fn observe(gh: &GitHub, spec: &HeartbeatSpec, now: DateTime<Utc>) -> Observation {
    let last_success = match gh.latest_run(&spec.repo, &spec.workflow, &spec.filter, true) {
        Ok(run) => run,
        Err(e @ ApiError::NotFound { .. }) => return Observation::NotFound(e),
        Err(e) => return Observation::Failed(e),
    };
    if is_fresh(last_success.as_ref(), spec.sla_hours, now) {
        return Observation::Seen {
            last_success,
            diagnosis: None,
        };
    }
    let diagnosis = Diagnosis {
        latest_run: gh.latest_run(&spec.repo, &spec.workflow, &spec.filter, false),
        workflow: gh.workflow(&spec.repo, &spec.workflow),
    };
    Observation::Seen {
        last_success,
        diagnosis: Some(Box::new(diagnosis)),
    }
}

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
        } => evaluate_seen(spec, last_success.as_ref(), diagnosis.as_deref(), now),
    };
    result.subject_name = spec.name.clone();
    if result.status != Status::Ok {
        result.hints = hints(spec);
    }
    result
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

fn evaluate_seen(
    spec: &HeartbeatSpec,
    last_success: Option<&Run>,
    diagnosis: Option<&Diagnosis>,
    now: DateTime<Utc>,
) -> CheckResult {
    let sla = fmt_hours(spec.sla_hours.get());
    let mut details = serde_json::Map::new();
    details.insert("sla_hours".into(), json!(spec.sla_hours));
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
                "last successful run at {} is {} ahead of this machine's clock (clock skew); counted as fresh (SLA {sla})",
                rfc3339(success_time(run)),
                fmt_hours(-age)
            ),
        ),
        (true, Some(run), Some(age)) => (
            Status::Ok,
            format!(
                "last successful run {} ago at {} (SLA {sla})",
                fmt_hours(age),
                rfc3339(success_time(run))
            ),
        ),
        _ => {
            let head = match age {
                Some(age) => format!("no successful run for {} (SLA {sla})", fmt_hours(age)),
                None => format!("no successful run on record (SLA {sla})"),
            };
            let why = diagnosis.map(|d| explain(spec, d, &mut details));
            let message = match why {
                Some(why) => format!("{head}; {why}"),
                None => head,
            };
            (Status::Critical, message)
        }
    };
    let mut result = CheckResult::new(&spec.id(), NAME, &spec.workflow, status, message);
    if status != Status::Ok {
        result.since = last_success.map(|r| rfc3339(success_time(r)));
        result.threshold = Some(format!("a successful run every {sla}"));
        result.link = details
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
            });
    }
    result.details = serde_json::Value::Object(details);
    result
}

/// Words the reason a stale heartbeat is stale, and records what was seen.
fn explain(
    spec: &HeartbeatSpec,
    d: &Diagnosis,
    details: &mut serde_json::Map<String, serde_json::Value>,
) -> String {
    let enable = format!(
        "re-enable it with `gh workflow enable {} --repo {}`",
        spec.workflow, spec.repo
    );
    let state = match &d.workflow {
        Ok(w) => {
            details.insert("workflow_state".into(), json!(w.state));
            Some(w.state.as_str())
        }
        Err(e) => {
            details.insert("workflow_state_error".into(), json!(e.to_string()));
            None
        }
    };
    match &d.latest_run {
        Ok(Some(run)) => {
            details.insert(
                "latest_run".into(),
                json!({
                    "status": run.status,
                    "conclusion": run.conclusion,
                    "event": run.event,
                    "created_at": rfc3339(run.created_at),
                    "url": run.html_url,
                }),
            );
        }
        Ok(None) => {
            details.insert("latest_run".into(), serde_json::Value::Null);
        }
        Err(e) => {
            details.insert("latest_run_error".into(), json!(e.to_string()));
        }
    }
    match state {
        Some("disabled_manually") => return format!("the workflow was disabled by hand: {enable}"),
        Some("disabled_inactivity") => {
            return format!(
                "GitHub disabled the schedule after 60 days without repository activity: {enable}"
            );
        }
        Some("disabled_fork") => return format!("the workflow is disabled in this fork: {enable}"),
        Some("deleted") => return "the workflow file was deleted".to_string(),
        _ => {}
    }
    let run_part = match &d.latest_run {
        Ok(Some(run)) => describe_run(run),
        Ok(None) => "the workflow has never run".to_string(),
        Err(e) => format!("the latest run could not be read ({e})"),
    };
    match &d.workflow {
        Err(e) => format!("{run_part}; the workflow state could not be read ({e})"),
        Ok(_) => run_part,
    }
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
        (Some("completed"), Some("success")) => format!(
            "latest run succeeded at {when} but does not match the heartbeat's filters {url}"
        ),
        (Some("completed"), Some(other)) => format!("latest run ended {other} at {when} {url}"),
        (Some(status), _) => format!("latest run is {status} since {when} {url}"),
        (None, _) => format!("latest run at {when} {url}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::http::HttpError;

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
        }
    }

    fn workflow(state: &str) -> Workflow {
        Workflow {
            state: state.into(),
            html_url: "https://github.com/raxx-app/TradeMasterAPI/actions/workflows/x".into(),
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
            })),
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
            })),
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

    #[test]
    fn names_default_to_the_file_stem() {
        assert_eq!(
            default_name("billing-retention-cron.yml"),
            "billing-retention-cron"
        );
        assert_eq!(default_name("a.yaml"), "a");
        assert_eq!(default_name("12345"), "12345");
    }
}
