//! `workflow_failures`: a workflow whose recent runs keep failing, any workflow, not only a
//! cron (the 2026-04-30 RCA: `deploy.yml` failed on every staging push until it was
//! background noise). Failures in a row, and the failure ratio of the last completed runs.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::cron_heartbeat::default_name;
use super::pool::Identity;
use super::{Check, CheckKind, CheckResult, Context, Status, Watch, watches};
use crate::clients::api::ApiError;
use crate::clients::github::{Repo, Run, RunFilter};
use crate::config::file::Section;
use crate::config::{Configure, Need};
use crate::util::time::{human, rfc3339};

/// The kind's name.
pub const NAME: &str = "workflow_failures";
const SECTION: Section = Section::array("workflow_failures");
/// The ratio rule needs at least this many counted runs: one failed run is not 100 % of
/// anything worth saying.
const MIN_FOR_RATIO: usize = 5;

/// The kind: `[[workflow_failures]]`.
pub struct WorkflowFailures;

impl CheckKind for WorkflowFailures {
    fn names(&self) -> &'static [&'static str] {
        &[NAME]
    }

    fn sections(&self) -> &'static [Section] {
        &[SECTION]
    }

    fn configure(&self, cfg: &mut Configure) -> Vec<Arc<dyn Watch>> {
        let mut out = Vec::new();
        for t in cfg.tables(SECTION) {
            let workflow = t.required_string("workflow");
            let repo = t.string("repo");
            let branch = t.string("branch");
            let name = t.string("name");
            let warn = t.int_in("warn_consecutive", 1..=100, 3);
            let crit = t.int_in("crit_consecutive", 1..=100, 10);
            let window = t.int_in("window", 1..=100, 20);
            let ratio = t.number("crit_ratio");
            let Some(workflow) = workflow else { continue };
            let file = workflow.value.trim().to_string();
            if file.is_empty() || file.contains('/') {
                t.error(
                    workflow.line,
                    format!(
                        "workflow `{file}` must be a file name like deploy.yml or a numeric id"
                    ),
                );
                continue;
            }
            let crit_ratio = match ratio {
                Some(v) if !(v.value > 0.0 && v.value <= 1.0) => {
                    t.error(
                        v.line,
                        format!(
                            "crit_ratio must be more than 0 and at most 1, not {}",
                            v.value
                        ),
                    );
                    continue;
                }
                Some(v) => v.value,
                None => 0.8,
            };
            if warn > crit {
                t.error(
                    t.line(),
                    format!(
                        "crit_consecutive ({crit}) must not be less than warn_consecutive ({warn})"
                    ),
                );
                continue;
            }
            let Some(repo) = cfg.repo_of(&t, repo, &format!("workflow_failures {file}")) else {
                continue;
            };
            out.push(Failing {
                name: name.map_or_else(|| default_name(&file), |n| n.value),
                repo,
                workflow: file,
                branch: branch.map(|b| b.value),
                warn_consecutive: warn,
                crit_consecutive: crit,
                crit_ratio,
                window,
            });
        }
        cfg.dedupe(&out, Failing::id, "workflow_failures");
        watches(out)
    }

    fn runbook(&self) -> &'static [&'static str] {
        &["workflow FAILING"]
    }
}

/// One workflow whose failures must not become noise.
#[derive(Debug, Clone, PartialEq)]
pub struct Failing {
    /// Name in mail subjects.
    pub name: String,
    /// Its repository.
    pub repo: Repo,
    /// File name or numeric id.
    pub workflow: String,
    /// Only runs on this branch, when given.
    pub branch: Option<String>,
    /// Failures in a row that warn.
    pub warn_consecutive: u32,
    /// Failures in a row that are critical.
    pub crit_consecutive: u32,
    /// The failure ratio of the window that is critical.
    pub crit_ratio: f64,
    /// Completed runs looked at.
    pub window: u32,
}

impl Failing {
    /// `workflow_failures:owner/repo:file` (and `@branch`).
    pub fn id(&self) -> String {
        match &self.branch {
            Some(b) => format!("{NAME}:{}:{}@{b}", self.repo, self.workflow),
            None => format!("{NAME}:{}:{}", self.repo, self.workflow),
        }
    }
}

/// How a run counts.
fn outcome(run: &Run) -> Option<bool> {
    match run.conclusion.as_deref() {
        Some("success") => Some(true),
        Some("failure" | "timed_out" | "startup_failure") => Some(false),
        // cancelled, skipped, neutral, stale, action_required: neither
        _ => None,
    }
}

impl Check for Failing {
    type Observation = Result<Vec<Run>, ApiError>;

    /// Its repository: a repository's targets share a shard.
    fn shard_key(&self) -> String {
        self.repo.to_string()
    }

    fn identities(&self) -> Vec<Identity> {
        vec![Identity::new(self.id(), NAME, &self.workflow, &self.name)]
    }

    fn describe(&self) -> Vec<String> {
        vec![format!(
            "{}  (warning at {} failures in a row, critical at {} or {:.0} % of the last {})",
            self.id(),
            self.warn_consecutive,
            self.crit_consecutive,
            self.crit_ratio * 100.0,
            self.window
        )]
    }

    fn needs(&self) -> Vec<Need> {
        vec![Need::new(
            "GITHUB_TOKEN",
            "GITHUB_TOKEN is not set (nor --gh-token): the workflow checks need a token with actions: read",
        )]
    }

    fn observe(&self, ctx: &Context) -> Self::Observation {
        let filter = RunFilter {
            branch: self.branch.clone(),
            event: None,
        };
        ctx.github.runs(
            &self.repo,
            &self.workflow,
            &filter,
            Some("completed"),
            self.window,
        )
    }

    fn evaluate(&self, seen: &Self::Observation, now: DateTime<Utc>) -> Vec<CheckResult> {
        vec![evaluate(self, seen, now)]
    }
}

/// Decides from the newest completed runs (newest first), or from why they could not be read.
pub fn evaluate(
    spec: &Failing,
    seen: &Result<Vec<Run>, ApiError>,
    now: DateTime<Utc>,
) -> CheckResult {
    let wf = &spec.workflow;
    let runs = match seen {
        Err(e) => {
            let status = match e {
                // A workflow GitHub cannot find watches nothing: an alert of its own.
                ApiError::NotFound { .. } => Status::Critical,
                _ => Status::Unknown,
            };
            let message = match status {
                Status::Critical => format!(
                    "workflow {wf} not found in {}: renamed or deleted, or the token cannot see the repository ({e})",
                    spec.repo
                ),
                _ => format!("could not check {wf}: {e}"),
            };
            let mut r = CheckResult::new(&spec.id(), NAME, wf, status, message);
            r.subject_name = spec.name.clone();
            return r;
        }
        Ok(runs) => runs,
    };
    let counted: Vec<(&Run, bool)> = runs
        .iter()
        .filter_map(|r| outcome(r).map(|ok| (r, ok)))
        .collect();
    let streak = counted.iter().take_while(|(_, ok)| !ok).count();
    let failures = counted.iter().filter(|(_, ok)| !ok).count();
    let ratio = if counted.is_empty() {
        0.0
    } else {
        failures as f64 / counted.len() as f64
    };
    let latest_failure = counted.iter().find(|(_, ok)| !ok).map(|(r, _)| *r);
    let last_success = counted.iter().find(|(_, ok)| *ok).map(|(r, _)| *r);
    // The streak began with its oldest failure.
    let since = counted[..streak].last().map(|(r, _)| r.created_at);
    let ratio_hit =
        counted.len() >= MIN_FOR_RATIO.min(spec.window as usize) && ratio >= spec.crit_ratio;
    let status = if streak >= spec.crit_consecutive as usize || ratio_hit {
        Status::Critical
    } else if streak >= spec.warn_consecutive as usize {
        Status::Warning
    } else {
        Status::Ok
    };
    let pct = (ratio * 100.0).round();
    let n = counted.len();
    let mut parts = Vec::new();
    if streak > 0 {
        let when = since
            .map(|t| format!(" since {} ({} ago)", rfc3339(t), human(now - t)))
            .unwrap_or_default();
        parts.push(format!(
            "{wf} failed {streak} time{} in a row{when}",
            if streak == 1 { "" } else { "s" }
        ));
    } else {
        parts.push(format!("{wf}'s latest completed run succeeded"));
    }
    parts.push(format!(
        "{failures} of the last {n} completed runs failed ({pct} %)"
    ));
    if status != Status::Ok {
        if let Some(r) = latest_failure {
            parts.push(format!("latest failure {}", r.html_url));
        }
        parts.push(match last_success {
            Some(r) => format!("last success {} {}", rfc3339(r.created_at), r.html_url),
            None => format!("no success in the last {n}"),
        });
    }
    let mut r = CheckResult::new(&spec.id(), NAME, wf, status, parts.join("; "));
    r.subject_name = spec.name.clone();
    r.details = json!({
        "consecutive_failures": streak,
        "failures": failures,
        "counted_runs": n,
        "failure_ratio": (ratio * 1000.0).round() / 1000.0,
        "latest_failure_url": latest_failure.map(|r| r.html_url.clone()),
        "last_success_at": last_success.map(|r| rfc3339(r.created_at)),
        "last_success_url": last_success.map(|r| r.html_url.clone()),
    });
    if status != Status::Ok {
        r.since = since.map(rfc3339);
        r.threshold = Some(format!(
            "fewer than {} failures in a row (critical at {}) and under {:.0} % of the last {} completed runs",
            spec.warn_consecutive,
            spec.crit_consecutive,
            spec.crit_ratio * 100.0,
            spec.window
        ));
        r.link = latest_failure.map(|r| r.html_url.clone()).or_else(|| {
            Some(format!(
                "https://github.com/{}/actions/workflows/{wf}",
                spec.repo
            ))
        });
        r.hints = vec![
            format!(
                "gh run list --workflow {wf} --repo {} --limit 10    # the streak, and where it began",
                spec.repo
            ),
            format!(
                "gh run view --log-failed --repo {} <run id>    # why the latest failed",
                spec.repo
            ),
        ];
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-04-30T16:30:00Z";

    fn spec() -> Failing {
        Failing {
            name: "deploy".into(),
            repo: Repo::parse("raxx-app/TradeMasterAPI").unwrap(),
            workflow: "deploy.yml".into(),
            branch: Some("main".into()),
            warn_consecutive: 3,
            crit_consecutive: 10,
            crit_ratio: 0.8,
            window: 20,
        }
    }

    /// Runs newest first, one a day back from NOW, with these conclusions.
    fn runs(conclusions: &[&str]) -> Vec<Run> {
        let now: DateTime<Utc> = NOW.parse().unwrap();
        conclusions
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let at = now - chrono::Duration::days(i as i64 + 1);
                Run {
                    id: 100 - i as u64,
                    status: Some("completed".into()),
                    conclusion: Some(c.to_string()),
                    html_url: format!(
                        "https://github.com/raxx-app/TradeMasterAPI/actions/runs/{}",
                        100 - i
                    ),
                    event: "push".into(),
                    created_at: at,
                    updated_at: at,
                    run_started_at: Some(at),
                    workflow_id: 7,
                    head_branch: Some("main".into()),
                    path: None,
                }
            })
            .collect()
    }

    fn eval(conclusions: &[&str]) -> CheckResult {
        evaluate(&spec(), &Ok(runs(conclusions)), NOW.parse().unwrap())
    }

    #[test]
    fn streaks_warn_at_three_and_are_critical_at_ten() {
        assert_eq!(eval(&["failure", "failure", "success"]).status, Status::Ok);
        let r = eval(&[
            "failure",
            "timed_out",
            "startup_failure",
            "success",
            "success",
        ]);
        assert_eq!(r.status, Status::Warning);
        assert!(
            r.message.starts_with(
                "deploy.yml failed 3 times in a row since 2026-04-27T16:30:00Z (3 days ago); 3 of the last 5 completed runs failed (60 %)"
            ),
            "{}",
            r.message
        );
        assert!(r.message.contains(
            "latest failure https://github.com/raxx-app/TradeMasterAPI/actions/runs/100"
        ));
        assert!(r.message.contains("last success 2026-04-26T16:30:00Z"));
        let mut ten = vec!["failure"; 10];
        ten.push("success");
        assert_eq!(eval(&ten).status, Status::Critical);
    }

    #[test]
    fn cancelled_skipped_and_neutral_runs_count_neither_way() {
        let r = eval(&[
            "cancelled",
            "failure",
            "skipped",
            "failure",
            "neutral",
            "failure",
            "success",
        ]);
        assert_eq!(r.status, Status::Warning);
        assert_eq!(r.details["consecutive_failures"], 3);
        assert_eq!(r.details["counted_runs"], 4);
    }

    #[test]
    fn a_high_failure_ratio_is_critical_without_a_long_streak() {
        let mut mostly = vec!["success"];
        mostly.extend(["failure"; 8]);
        mostly.push("success");
        let r = eval(&mostly);
        assert_eq!(r.status, Status::Critical, "{}", r.message);
        assert!(
            r.message
                .contains("8 of the last 10 completed runs failed (80 %)"),
            "{}",
            r.message
        );
        assert_eq!(eval(&["failure"]).status, Status::Ok, "one run is no ratio");
    }

    #[test]
    fn never_succeeded_says_so() {
        let r = eval(&["failure"; 4]);
        assert_eq!(r.status, Status::Warning);
        assert!(
            r.message.ends_with("no success in the last 4"),
            "{}",
            r.message
        );
    }
}
