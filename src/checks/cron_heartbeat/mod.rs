//! `cron_heartbeat`: a workflow must have a successful run inside its SLA. One request when
//! healthy; only a stale heartbeat pays for the two more that say why.

//!
//! A folder: `config` reads the heartbeats and discovery's scopes, `discovery` finds the
//! scheduled workflows, `observe` asks GitHub, `verdict` judges (pure), `schedule` reads a
//! workflow's crons (pure). This file is the kind and its target, and the only one that
//! knows both configured and discovered heartbeats.

mod config;
mod discovered;
pub mod discovery;
pub mod group;
mod observe;
pub mod schedule;
mod verdict;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::pool::Identity;
use super::{Check, CheckKind, CheckResult, Context, Watch, watches};
use crate::clients::github::{Repo, RunFilter};
use crate::config::file::Section;
use crate::config::{Configure, Need};
use crate::util::time::{Hours, fmt_hours};
use config::{configure, discovery_asked};
use discovery::Discovery;

pub use observe::{
    Diagnosis, Observation, ReadFile, ScheduleSeen, is_current, is_fresh, observe, observe_with,
    read_schedule, success_time,
};
pub use verdict::evaluate;

/// The kind's name.
pub const NAME: &str = "cron_heartbeat";
/// The SLA by default, and when the workflow's schedule cannot be read.
pub const DEFAULT_SLA: Hours = Hours(48.0);
/// GitHub starts scheduled runs late under load.
pub const DEFAULT_GRACE_MINUTES: u32 = 60;
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
        let discover = discovery_asked(cfg);
        let specs = configure(cfg, discover.is_some());
        let discoveries: Vec<Discovery> = discover
            .map(|scopes| Discovery {
                scopes,
                rule: ScheduleRule::default(),
                sla: cfg.cli.sla_hours.map(Hours),
                configured: discovery::configured_files(&specs),
            })
            .into_iter()
            .collect();
        let mut all = watches(group::by_repository(specs));
        all.extend(watches(discoveries));
        all
    }

    fn runbook(&self) -> &'static [&'static str] {
        &["cron heartbeat STALE"]
    }
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
    /// Follow the workflow's own schedule, with these thresholds; `None` when a fixed SLA
    /// was configured (`sla_hours`, `--sla-hours`). `sla_hours` is the fallback.
    pub schedule: Option<ScheduleRule>,
}

/// How many scheduled slots a workflow may miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleRule {
    /// How late a scheduled run may start before its slot counts as missed.
    pub grace_minutes: u32,
    /// Missed slots in a row for a warning.
    pub warn_missed: u32,
    /// Missed slots in a row for critical.
    pub crit_missed: u32,
}

impl Default for ScheduleRule {
    fn default() -> Self {
        Self {
            grace_minutes: DEFAULT_GRACE_MINUTES,
            warn_missed: 1,
            crit_missed: 2,
        }
    }
}

impl ScheduleRule {
    /// How late a scheduled run may start.
    pub fn grace(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.grace_minutes))
    }
}

impl HeartbeatSpec {
    /// `cron_heartbeat:owner/repo:file`.
    pub fn id(&self) -> String {
        format!("cron_heartbeat:{}:{}", self.repo, self.workflow)
    }
}

impl Check for HeartbeatSpec {
    type Observation = Observation;

    /// Its repository: a repository's targets share a shard.
    fn shard_key(&self) -> String {
        self.repo.to_string()
    }

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
        let rule = match &self.schedule {
            Some(r) => format!(
                "its schedule: warning at {} missed run, critical at {}, {} min grace; SLA {} if unreadable",
                r.warn_missed,
                r.crit_missed,
                r.grace_minutes,
                fmt_hours(self.sla_hours.get())
            ),
            None => format!("SLA {}", fmt_hours(self.sla_hours.get())),
        };
        vec![format!("{}  ({rule}{filters})", self.id())]
    }

    fn needs(&self) -> Vec<Need> {
        vec![Need::new(
            "GITHUB_TOKEN",
            "GITHUB_TOKEN is not set (nor --gh-token): the heartbeats need a token with actions: read",
        )]
    }

    fn watched_repos(&self) -> Vec<Repo> {
        vec![self.repo.clone()]
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

#[cfg(test)]
mod tests {
    use super::*;

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
