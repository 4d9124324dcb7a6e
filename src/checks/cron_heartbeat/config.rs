//! The heartbeats' configuration: `[[heartbeat]]`, `--workflow`, `--sla-hours`, discovery's
//! `[github] discover`, `repos` and `org`, and the old script's two crons.

use super::discovery::Scope;
use super::{
    DEFAULT_GRACE_MINUTES, DEFAULT_SLA, HeartbeatSpec, LEGACY_WORKFLOWS, SECTION, ScheduleRule,
    default_name,
};
use crate::clients::github::{Repo, RunFilter};
use crate::config::Configure;
use crate::config::GITHUB;
use crate::util::time::Hours;

/// Where discovery looks, when it is on: `[github] discover = true` (the default repository,
/// `repos`, `org`), `repos` or `org` alone, or `--repo` with no heartbeat configured anywhere
/// unless `discover = false`.
pub(super) fn discovery_asked(cfg: &Configure) -> Option<Vec<Scope>> {
    let gh = cfg.tables(GITHUB).into_iter().next();
    let discover = gh.as_ref().and_then(|t| t.boolean("discover"));
    let repos = gh.as_ref().and_then(|t| t.strings("repos"));
    let org = gh.as_ref().and_then(|t| t.string("org"));
    let no_heartbeat = cfg.tables(SECTION).is_empty() && cfg.cli.workflow.is_empty();
    let on = match discover.as_ref().map(|d| d.value) {
        Some(on) => on,
        None => repos.is_some() || org.is_some() || (cfg.cli.repo.is_some() && no_heartbeat),
    };
    if !on {
        return None;
    }
    let mut scopes: Vec<Scope> = cfg.repo.iter().cloned().map(Scope::Repo).collect();
    if let (Some(list), Some(t)) = (repos, &gh) {
        for name in &list.value {
            match Repo::parse(name) {
                Some(r) if !scopes.contains(&Scope::Repo(r.clone())) => scopes.push(Scope::Repo(r)),
                Some(_) => {}
                None => t.error(
                    list.line,
                    format!("[github] repos: `{name}` is not OWNER/NAME"),
                ),
            }
        }
    }
    if let Some(o) = org {
        scopes.push(Scope::Org(o.value.trim().to_string()));
    }
    if scopes.is_empty() {
        cfg.error(
            cfg.file_name().unwrap_or("[github]"),
            "discover = true needs somewhere to look: [github] repo, repos or org, or --repo",
        );
    }
    Some(scopes)
}

/// The heartbeats of the file and the flags. The old script's call (`--repo` and nothing
/// else to check) discovers; with `discover = false` it checks the old script's two crons.
pub(super) fn configure(cfg: &mut Configure, discovering: bool) -> Vec<HeartbeatSpec> {
    let cli = cfg.cli;
    let mut heartbeats = Vec::new();
    for t in cfg.tables(SECTION) {
        let workflow = t.required_string("workflow");
        let name = t.string("name");
        let sla_hours = t.number("sla_hours");
        let branch = t.string("branch");
        let event = t.string("event");
        let repo = t.string("repo");
        let grace_minutes = t.int_in("grace_minutes", 0..=10_080, DEFAULT_GRACE_MINUTES);
        let warn_missed = t.int_in("warn_missed", 1..=1000, 1);
        let crit_missed = t.int_in("crit_missed", 1..=1000, 2);
        let Some(workflow) = workflow else { continue };
        let file = workflow.value.trim().to_string();
        if file.is_empty() || file.contains('/') {
            t.error(
                workflow.line,
                format!("workflow `{file}` must be a file name like nightly.yml or a numeric id"),
            );
            continue;
        }
        if crit_missed < warn_missed {
            t.error(
                t.line(),
                format!(
                    "crit_missed ({crit_missed}) must not be below warn_missed ({warn_missed})"
                ),
            );
            continue;
        }
        let follow_schedule = cli.sla_hours.is_none() && sla_hours.is_none();
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
            schedule: follow_schedule.then_some(ScheduleRule {
                grace_minutes,
                warn_missed,
                crit_missed,
            }),
        });
    }

    let extra: Vec<String> = if discovering && cfg.only_repo {
        let repo = cfg
            .repo
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        cfg.notes.push(format!(
            "no heartbeat configured; watching every scheduled workflow of {repo} (set [github] discover = false for the old script's two)"
        ));
        Vec::new()
    } else if cfg.only_repo {
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
            schedule: cli.sla_hours.is_none().then(ScheduleRule::default),
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
