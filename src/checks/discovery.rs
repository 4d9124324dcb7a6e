//! Discovery for `cron_heartbeat`: every workflow of a repository (or of every repository of
//! an organisation) that has a `schedule` trigger on the default branch is watched on its
//! own schedule, with no configuration. A healthy repository costs two budget-counted
//! requests whatever its number of workflows: the workflow list and one repository-wide list
//! of recent successful runs; the workflow files are read conditionally (a `304` is free).
//! Only a workflow that looks stale pays for its own diagnosis.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, Utc};

use super::cron_heartbeat::{
    self as heartbeat, HeartbeatSpec, NAME, Observation, ScheduleRule, ScheduleSeen, default_name,
    read_schedule,
};
use super::pool::Identity;
use super::schedule::Schedule;
use super::time::Hours;
use super::{Check, CheckResult, Context, Status};
use crate::clients::api::ApiError;
use crate::clients::github::{GitHub, Repo, Run, RunFilter, Workflow};
use crate::config::Need;

/// Requests all discoveries send at the same time, shared among them: more threads than the
/// GitHub client lets requests fly (64) would only wait, and cost memory.
pub const PARALLEL: usize = 64;

/// Where to discover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One repository.
    Repo(Repo),
    /// Every repository of an organisation that is not archived.
    Org(String),
}

/// One discovery: its scope, the thresholds of what it finds, and the workflows configured
/// by hand there (a `[[heartbeat]]` entry refines a workflow, so discovery leaves it be).
#[derive(Debug, Clone, PartialEq)]
pub struct Discovery {
    /// Where.
    pub scope: Scope,
    /// Thresholds of every workflow found.
    pub rule: ScheduleRule,
    /// A fixed SLA instead of the schedules (`--sla-hours`).
    pub sla: Option<Hours>,
    /// `(repository, file name)` of the heartbeats configured by hand.
    pub configured: Vec<(Repo, String)>,
    /// Its share of [`PARALLEL`].
    pub parallel: usize,
}

impl Discovery {
    fn id(&self) -> String {
        match &self.scope {
            Scope::Repo(r) => format!("{NAME}:{r}:*"),
            Scope::Org(o) => format!("{NAME}:{o}/*:*"),
        }
    }

    fn scope_name(&self) -> String {
        match &self.scope {
            Scope::Repo(r) => r.to_string(),
            Scope::Org(o) => format!("the organisation {o}"),
        }
    }
}

/// What discovery saw of one repository.
#[derive(Debug, Clone, PartialEq)]
pub struct RepoSeen {
    /// The repository.
    pub repo: Repo,
    /// Its workflows, or why they could not be listed.
    pub workflows: Result<Vec<Found>, ApiError>,
    /// Workflow files that could not be read (path, why).
    pub unreadable: Vec<(String, String)>,
}

/// A scheduled workflow and what was seen of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The heartbeat it becomes.
    pub spec: HeartbeatSpec,
    /// The workflow.
    pub workflow: Workflow,
    /// What GitHub said of its runs.
    pub observation: Observation,
}

/// Everything a discovery saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// The repositories and their workflows.
    Repos(Vec<RepoSeen>),
    /// The organisation's repositories could not be listed.
    Failed(ApiError),
}

impl Check for Discovery {
    type Observation = Seen;

    fn identities(&self) -> Vec<Identity> {
        let id = self.id();
        vec![Identity::new(id.clone(), NAME, &self.scope_name(), &id)]
    }

    fn describe(&self) -> Vec<String> {
        vec![format!(
            "{}  (every scheduled workflow of {}, found each run: warning at {} missed run, critical at {}, {} min grace)",
            self.id(),
            self.scope_name(),
            self.rule.warn_missed,
            self.rule.crit_missed,
            self.rule.grace_minutes
        )]
    }

    fn needs(&self) -> Vec<Need> {
        vec![Need::new(
            "GITHUB_TOKEN",
            "GITHUB_TOKEN is not set (nor --gh-token): discovery needs a token with actions: read and contents: read",
        )]
    }

    fn rounds(&self) -> usize {
        3
    }

    fn observe(&self, ctx: &Context) -> Seen {
        let repos = match &self.scope {
            Scope::Repo(r) => vec![r.clone()],
            Scope::Org(org) => match ctx.github.org_repos(org) {
                Ok(repos) => repos,
                Err(e) => return Seen::Failed(e),
            },
        };
        Seen::Repos(
            repos
                .into_iter()
                .map(|repo| self.observe_repo(&ctx.github, repo, ctx.now))
                .collect(),
        )
    }

    fn evaluate(&self, seen: &Seen, now: DateTime<Utc>) -> Vec<CheckResult> {
        evaluate(self, seen, now)
    }
}

impl Discovery {
    fn observe_repo(&self, gh: &GitHub, repo: Repo, now: DateTime<Utc>) -> RepoSeen {
        let listed = match gh.workflows(&repo) {
            Ok(w) => w,
            Err(e) => {
                return RepoSeen {
                    repo,
                    workflows: Err(e),
                    unreadable: Vec::new(),
                };
            }
        };
        let candidates: Vec<Workflow> = listed
            .into_iter()
            .filter(|w| w.path.starts_with(".github/workflows/"))
            .filter(|w| !self.configured.contains(&(repo.clone(), file_of(&w.path))))
            .collect();
        let schedules = par_map(&candidates, self.parallel, |w| {
            read_schedule(gh, &repo, &w.path)
        });
        let mut scheduled = Vec::new();
        let mut unreadable = Vec::new();
        for (w, seen) in candidates.into_iter().zip(schedules) {
            match seen {
                ScheduleSeen::Read { .. } => scheduled.push((w, seen)),
                ScheduleSeen::Unscheduled(_) => {}
                ScheduleSeen::Fallback(why) => unreadable.push((w.path.clone(), why)),
            }
        }
        // One list of recent successes for the whole repository, from the oldest window
        // that could still make a workflow ok, floored to the day so its URL (and ETag)
        // holds all day.
        let from = scheduled
            .iter()
            .filter_map(|(_, seen)| match seen {
                ScheduleSeen::Read { entries, .. } => Schedule::new(entries.clone()).ok(),
                ScheduleSeen::Unscheduled(_) | ScheduleSeen::Fallback(_) => None,
            })
            .filter_map(|s| {
                let k = self.rule.warn_missed as usize;
                s.due_slots(now, self.rule.grace(), k).last().copied()
            })
            .min()
            .unwrap_or(now - Duration::days(2));
        let from = self.sla.map_or(from, |sla| now - sla.duration());
        let from = from
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map_or(from, |t| t.and_utc());
        let recent: Result<Vec<Run>, ApiError> = if scheduled.is_empty() {
            Ok(Vec::new())
        } else {
            gh.successes_since(&repo, from)
        };
        let mut newest: BTreeMap<u64, Run> = BTreeMap::new();
        if let Ok(runs) = &recent {
            for run in runs {
                let keep = newest
                    .get(&run.workflow_id)
                    .is_none_or(|n| run.created_at > n.created_at);
                if keep {
                    newest.insert(run.workflow_id, run.clone());
                }
            }
        }
        let found = par_map(&scheduled, self.parallel, |(w, seen)| {
            let spec = HeartbeatSpec {
                repo: repo.clone(),
                workflow: file_of(&w.path),
                name: default_name(&file_of(&w.path)),
                sla_hours: self.sla.unwrap_or(heartbeat::DEFAULT_SLA),
                filter: RunFilter::default(),
                schedule: self.sla.is_none().then_some(self.rule),
            };
            // Judged from the wide list when it came and the workflow is on time; else (a
            // list that failed, a late or disabled workflow) asked alone, with its diagnosis.
            let last = newest.get(&w.id);
            let current = recent.is_ok()
                && w.state == "active"
                && heartbeat::is_current(&spec, last, Some(seen), now);
            let observation = if current {
                Observation::Seen {
                    last_success: last.cloned(),
                    diagnosis: None,
                    schedule: Some(seen.clone()),
                }
            } else {
                heartbeat::observe_with(gh, &spec, now, seen.clone(), Some(w.clone()))
            };
            Found {
                spec,
                workflow: w.clone(),
                observation,
            }
        });
        RepoSeen {
            repo,
            workflows: Ok(found),
            unreadable,
        }
    }
}

/// `nightly.yml` of `.github/workflows/nightly.yml`.
fn file_of(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// `f` over `items` on up to `threads` threads, results in order.
fn par_map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() < 2 || threads < 2 {
        return items.iter().map(&f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut out: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.min(items.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

/// One result per scheduled workflow found (a disabled one warns: its schedule no longer
/// runs), and one `unknown` for what could not be looked at.
pub fn evaluate(d: &Discovery, seen: &Seen, now: DateTime<Utc>) -> Vec<CheckResult> {
    let repos = match seen {
        Seen::Failed(e) => {
            return vec![CheckResult::new(
                &d.id(),
                NAME,
                &d.scope_name(),
                Status::Unknown,
                format!(
                    "could not discover the scheduled workflows of {}: {e}",
                    d.scope_name()
                ),
            )];
        }
        Seen::Repos(repos) => repos,
    };
    let mut out = Vec::new();
    for r in repos {
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
            u.details = serde_json::json!({ "unreadable": files });
            out.push(u);
        }
    }
    out
}

fn evaluate_found(f: &Found, now: DateTime<Utc>) -> CheckResult {
    let mut r = heartbeat::evaluate(&f.spec, &f.observation, now);
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

/// `(repository, file)` of the heartbeats configured by hand, which discovery leaves be.
pub fn configured_files(specs: &[HeartbeatSpec]) -> Vec<(Repo, String)> {
    specs
        .iter()
        .map(|s| (s.repo.clone(), s.workflow.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::schedule::Entry;
    use crate::clients::http::HttpError;

    const NOW: &str = "2026-05-23T06:30:00Z";

    fn repo() -> Repo {
        Repo::parse("raxx-app/TradeMasterAPI").unwrap()
    }

    fn discovery() -> Discovery {
        Discovery {
            scope: Scope::Repo(repo()),
            rule: ScheduleRule::default(),
            sla: None,
            configured: Vec::new(),
            parallel: 4,
        }
    }

    fn found(state: &str, success_at: &str) -> Found {
        let workflow = Workflow {
            id: 7,
            name: "Nightly".into(),
            state: state.into(),
            html_url: "https://github.com/raxx-app/TradeMasterAPI/actions/workflows/nightly.yml"
                .into(),
            path: ".github/workflows/nightly.yml".into(),
            created_at: None,
        };
        let at: DateTime<Utc> = success_at.parse().unwrap();
        let run = Run {
            id: 1,
            status: Some("completed".into()),
            conclusion: Some("success".into()),
            html_url: "https://github.com/raxx-app/TradeMasterAPI/actions/runs/1".into(),
            event: "schedule".into(),
            created_at: at,
            updated_at: at,
            run_started_at: Some(at),
            workflow_id: 7,
            head_branch: Some("main".into()),
        };
        Found {
            spec: HeartbeatSpec {
                repo: repo(),
                workflow: "nightly.yml".into(),
                name: "nightly".into(),
                sla_hours: heartbeat::DEFAULT_SLA,
                filter: RunFilter::default(),
                schedule: Some(ScheduleRule::default()),
            },
            workflow,
            observation: Observation::Seen {
                last_success: Some(run),
                diagnosis: None,
                schedule: Some(ScheduleSeen::Read {
                    path: ".github/workflows/nightly.yml".into(),
                    entries: vec![Entry {
                        cron: "0 2 * * *".into(),
                        timezone: None,
                    }],
                }),
            },
        }
    }

    fn seen(workflows: Result<Vec<Found>, ApiError>) -> Seen {
        Seen::Repos(vec![RepoSeen {
            repo: repo(),
            workflows,
            unreadable: Vec::new(),
        }])
    }

    #[test]
    fn a_found_workflow_is_judged_like_a_configured_one() {
        let r = evaluate(
            &discovery(),
            &seen(Ok(vec![found("active", "2026-05-23T02:00:30Z")])),
            NOW.parse().unwrap(),
        );
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].id,
            "cron_heartbeat:raxx-app/TradeMasterAPI:nightly.yml"
        );
        assert_eq!(r[0].status, Status::Ok);
        assert_eq!(r[0].details["discovered"], true);
    }

    #[test]
    fn a_disabled_schedule_warns_even_before_it_misses_a_window() {
        let r = evaluate(
            &discovery(),
            &seen(Ok(vec![found("disabled_manually", "2026-05-23T02:00:30Z")])),
            NOW.parse().unwrap(),
        );
        assert_eq!(r[0].status, Status::Warning);
        assert!(
            r[0].message
                .starts_with("disabled (disabled_manually): its schedule no longer runs; "),
            "{}",
            r[0].message
        );
        assert!(r[0].link.is_some());
    }

    #[test]
    fn a_list_that_failed_is_one_unknown_for_the_repository() {
        let e = ApiError::Transport {
            api: "GitHub",
            source: HttpError::Timeout {
                host: "api.github.com".into(),
                secs: 15,
            },
        };
        let r = evaluate(&discovery(), &seen(Err(e)), NOW.parse().unwrap());
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].id, "cron_heartbeat:raxx-app/TradeMasterAPI:*");
        assert_eq!(r[0].status, Status::Unknown);
        assert!(
            r[0].message
                .starts_with("could not list the workflows of raxx-app/TradeMasterAPI")
        );
    }

    #[test]
    fn par_map_keeps_the_order() {
        let items: Vec<usize> = (0..100).collect();
        assert_eq!(
            par_map(&items, 8, |i| i * 2),
            items.iter().map(|i| i * 2).collect::<Vec<_>>()
        );
    }
}
