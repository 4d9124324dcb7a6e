//! Resolving `[[heartbeat]]` entries, `--repo`, `--workflow` and `--sla-hours` into the
//! heartbeats to check, each bad value reported with its line.

use super::file::{FileConfig, line_of};
use super::{ConfigError, DEFAULT_SLA_HOURS, LEGACY_WORKFLOWS};
use crate::checks::heartbeat::{HeartbeatSpec, default_name};
use crate::clients::github::{Repo, RunFilter};
use crate::config::cli::Cli;

/// The heartbeats of the file and the flags, and whether the old script's two were assumed
/// (its call, `--repo` and nothing else to check, checked its two crons).
pub fn resolve(
    cli: &Cli,
    parsed: &FileConfig,
    path: Option<&str>,
    text: &str,
    errors: &mut Vec<ConfigError>,
) -> (Vec<HeartbeatSpec>, bool) {
    let place = |line: usize| format!("{} line {line}", path.unwrap_or("config"));
    let err_at = |line: usize, message: String| ConfigError {
        place: place(line),
        line,
        message,
    };
    let repo = match (&cli.repo, &parsed.github.repo) {
        (Some(flag), _) => match Repo::parse(flag) {
            Some(r) => Some(r),
            None => {
                errors.push(ConfigError::at(
                    "--repo",
                    format!("`{flag}` is not OWNER/NAME"),
                ));
                None
            }
        },
        (None, Some(v)) => match Repo::parse(v.get_ref()) {
            Some(r) => Some(r),
            None => {
                errors.push(err_at(
                    line_of(text, v),
                    format!("[github] repo `{}` is not OWNER/NAME", v.get_ref()),
                ));
                None
            }
        },
        (None, None) => None,
    };

    let mut heartbeats = Vec::new();
    for hb in &parsed.heartbeats {
        let workflow = hb.workflow.get_ref().trim().to_string();
        if workflow.is_empty() || workflow.contains('/') {
            errors.push(err_at(
                line_of(text, &hb.workflow),
                format!(
                    "workflow `{workflow}` must be a file name like nightly.yml or a numeric id"
                ),
            ));
            continue;
        }
        let sla = match (&cli.sla_hours, &hb.sla_hours) {
            (Some(h), _) => *h,
            (None, Some(v)) => {
                let h = *v.get_ref();
                if !(h.is_finite() && h > 0.0) {
                    errors.push(err_at(
                        line_of(text, v),
                        format!("sla_hours must be a positive number of hours, not {h}"),
                    ));
                    continue;
                }
                h
            }
            (None, None) => DEFAULT_SLA_HOURS,
        };
        let hb_repo = match &hb.repo {
            Some(v) => match Repo::parse(v.get_ref()) {
                Some(r) => r,
                None => {
                    errors.push(err_at(
                        line_of(text, v),
                        format!("repo `{}` is not OWNER/NAME", v.get_ref()),
                    ));
                    continue;
                }
            },
            None => match &repo {
                Some(r) => r.clone(),
                None => {
                    errors.push(err_at(
                        hb.line,
                        format!("heartbeat {workflow} has no repository: set [github] repo, repo in the entry, or --repo"),
                    ));
                    continue;
                }
            },
        };
        heartbeats.push(HeartbeatSpec {
            name: hb.name.clone().unwrap_or_else(|| default_name(&workflow)),
            repo: hb_repo,
            workflow,
            sla_hours: sla,
            filter: RunFilter {
                branch: hb.branch.clone(),
                event: hb.event.clone(),
            },
        });
    }

    let flag_workflows: Vec<String> = cli.workflow.clone();
    let legacy_defaults = parsed.heartbeats.is_empty()
        && parsed.promotions.is_none()
        && parsed.heroku_apps.is_empty()
        && parsed.probes.is_empty()
        && parsed.pages.is_empty()
        && flag_workflows.is_empty()
        && cli.heroku_app.is_empty()
        && repo.is_some();
    let extra: Vec<String> = if legacy_defaults {
        LEGACY_WORKFLOWS.iter().map(|s| s.to_string()).collect()
    } else {
        flag_workflows
    };
    for workflow in extra {
        let Some(r) = &repo else {
            errors.push(ConfigError::at(
                "--workflow",
                format!("{workflow} needs a repository: give --repo or [github] repo"),
            ));
            continue;
        };
        if workflow.trim().is_empty() || workflow.contains('/') {
            errors.push(ConfigError::at(
                "--workflow",
                format!("`{workflow}` must be a file name like nightly.yml or a numeric id"),
            ));
            continue;
        }
        heartbeats.push(HeartbeatSpec {
            name: default_name(&workflow),
            repo: r.clone(),
            workflow,
            sla_hours: cli.sla_hours.unwrap_or(DEFAULT_SLA_HOURS),
            filter: RunFilter::default(),
        });
    }
    let mut seen = std::collections::HashSet::new();
    for hb in &heartbeats {
        if !seen.insert((hb.repo.clone(), hb.workflow.clone(), hb.filter.clone())) {
            errors.push(ConfigError::at(
                path.unwrap_or("--workflow"),
                format!(
                    "heartbeat {} in {} is configured twice",
                    hb.workflow, hb.repo
                ),
            ));
        }
    }
    (heartbeats, legacy_defaults)
}
