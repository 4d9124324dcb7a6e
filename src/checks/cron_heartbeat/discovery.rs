//! Discovery for `cron_heartbeat`: every workflow of a repository (or of every repository of
//! an organisation) that has a `schedule` trigger on the default branch is watched on its
//! own schedule, with no configuration. A healthy repository costs two budget-counted
//! requests whatever its number of workflows: the workflow list and one repository-wide list
//! of recent successful runs; the workflow files are read conditionally (a `304` is free).
//! Only a workflow that looks stale pays for its own diagnosis.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

pub use super::discovered::evaluate;
use super::observe::{file_of, kept_file, schedule_in};
use super::schedule::Schedule;
use super::{
    self as heartbeat, HeartbeatSpec, NAME, Observation, ScheduleRule, ScheduleSeen, default_name,
};
use crate::checks::pool::Identity;
use crate::checks::{Check, CheckResult, Context};
use crate::clients::api::ApiError;
use crate::clients::github::{Cut, GitHub, Listed, Repo, Run, RunFilter, Workflow};
use crate::config::Need;
use crate::util::par::par_map;
use crate::util::time::Hours;

/// Requests discovery sends at the same time: as many as the GitHub client lets fly (64);
/// more threads would only wait, and cost memory.
pub const PARALLEL: usize = 64;

/// Where to discover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One repository.
    Repo(Repo),
    /// Every repository of an organisation that is not archived.
    Org(String),
}

/// Discovery: where it looks, the thresholds of what it finds, and the workflows configured
/// by hand (a `[[heartbeat]]` entry refines a workflow, so discovery leaves it be). One job
/// for every scope, so their requests share one set of threads evenly.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovery {
    /// Where.
    pub scopes: Vec<Scope>,
    /// Thresholds of every workflow found.
    pub rule: ScheduleRule,
    /// A fixed SLA instead of the schedules (`--sla-hours`).
    pub sla: Option<Hours>,
    /// `(repository, file name)` of the heartbeats configured by hand.
    pub configured: Vec<(Repo, String)>,
}

impl Scope {
    fn id(&self) -> String {
        match self {
            Scope::Repo(r) => format!("{NAME}:{r}:*"),
            Scope::Org(o) => org_id(o),
        }
    }

    fn name(&self) -> String {
        match self {
            Scope::Repo(r) => r.to_string(),
            Scope::Org(o) => org_name(o),
        }
    }
}

pub(super) fn org_id(org: &str) -> String {
    format!("{NAME}:{org}/*:*")
}

pub(super) fn org_name(org: &str) -> String {
    format!("the organisation {org}")
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
    /// Set when its list of workflows stopped before the end.
    pub cut: Option<Cut>,
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

/// Everything discovery saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// The repositories and their workflows.
    pub repos: Vec<RepoSeen>,
    /// Organisations whose repositories could not be listed, and why.
    pub failed: Vec<(String, ApiError)>,
    /// Organisations whose list of repositories stopped before the end.
    pub cut: Vec<(String, Cut)>,
}

impl Check for Discovery {
    type Observation = Seen;

    /// Its (first) scope, a repository or an organisation: discovery runs whole in one
    /// shard, beside that repository's other targets.
    fn shard_key(&self) -> String {
        match self.scopes.first() {
            Some(Scope::Repo(r)) => r.to_string(),
            Some(Scope::Org(o)) => o.clone(),
            None => String::new(),
        }
    }

    fn identities(&self) -> Vec<Identity> {
        self.scopes
            .iter()
            .map(|s| Identity::new(s.id(), NAME, &s.name(), &s.id()))
            .collect()
    }

    fn describe(&self) -> Vec<String> {
        self.scopes
            .iter()
            .map(|s| {
                format!(
                    "{}  (every scheduled workflow of {}, found each run: warning at {} missed run, critical at {}, {} min grace)",
                    s.id(),
                    s.name(),
                    self.rule.warn_missed,
                    self.rule.crit_missed,
                    self.rule.grace_minutes
                )
            })
            .collect()
    }

    fn needs(&self) -> Vec<Need> {
        vec![Need::new(
            "GITHUB_TOKEN",
            "GITHUB_TOKEN is not set (nor --gh-token): discovery needs a token with actions: read and contents: read",
        )]
    }

    /// The repositories named; an organisation's are known only once listed.
    fn watched_repos(&self) -> Vec<Repo> {
        self.scopes
            .iter()
            .filter_map(|s| match s {
                Scope::Repo(r) => Some(r.clone()),
                Scope::Org(_) => None,
            })
            .collect()
    }

    fn rounds(&self) -> usize {
        3
    }

    fn observe(&self, ctx: &Context) -> Seen {
        let gh = &ctx.github;
        let now = ctx.now;
        // Phase by phase across every repository, so the requests of all of them share the
        // threads evenly: the organisations' repositories, then each repository's workflow
        // list, then every workflow file and every list of recent successes side by side.
        let orgs: Vec<&String> = self
            .scopes
            .iter()
            .filter_map(|s| match s {
                Scope::Org(o) => Some(o),
                Scope::Repo(_) => None,
            })
            .collect();
        let mut repos: Vec<Repo> = self
            .scopes
            .iter()
            .filter_map(|s| match s {
                Scope::Repo(r) => Some(r.clone()),
                Scope::Org(_) => None,
            })
            .collect();
        let mut failed = Vec::new();
        let mut cut = Vec::new();
        for (org, listed) in orgs
            .iter()
            .zip(par_map(&orgs, PARALLEL, |o| gh.org_repos(o)))
        {
            match listed {
                Ok(found) => {
                    for r in found.items {
                        if !repos.contains(&r) {
                            repos.push(r);
                        }
                    }
                    cut.extend(found.cut.map(|c| ((*org).clone(), c)));
                }
                Err(e) => failed.push(((*org).clone(), e)),
            }
        }
        // Each repository's workflow list and its tree of workflow files side by side: the
        // tree names every file's blob, so a file is read only when its blob is new.
        let (lists, trees): (Vec<_>, Vec<_>) = par_map(&repos, PARALLEL, |r| {
            std::thread::scope(|s| {
                let tree = s.spawn(|| gh.workflow_files(r));
                let list = gh.workflows(r);
                (
                    list,
                    tree.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                )
            })
        })
        .into_iter()
        .unzip();
        let plans: Vec<Result<RepoPlan, ApiError>> = repos
            .iter()
            .zip(lists)
            .map(|(repo, listed)| listed.map(|l| self.plan(gh, repo, l, now)))
            .collect();
        let tasks: Vec<(usize, Option<&Workflow>)> = plans
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.as_ref().ok().map(|p| (i, p)))
            .flat_map(|(i, p)| {
                let early = p.early_from.map(|_| (i, None));
                early
                    .into_iter()
                    .chain(p.candidates.iter().map(move |w| (i, Some(w))))
            })
            .collect();
        let answers = par_map(&tasks, PARALLEL, |(i, task)| {
            let repo = &repos[*i];
            match (task, &plans[*i]) {
                (
                    None,
                    Ok(RepoPlan {
                        early_from: Some(from),
                        ..
                    }),
                ) => Answer::Runs(gh.successes_since(repo, *from)),
                (Some(w), _) => Answer::File(schedule_in(gh, repo, &w.path, Some(&trees[*i]))),
                (None, _) => Answer::Runs(Ok(Vec::new())),
            }
        });
        let mut by_repo: Vec<Vec<Answer>> = repos.iter().map(|_| Vec::new()).collect();
        for ((i, _), answer) in tasks.iter().zip(answers) {
            by_repo[*i].push(answer);
        }
        let work: Vec<_> = repos.into_iter().zip(plans).zip(by_repo).collect();
        let repos = par_map(&work, PARALLEL, |((repo, plan), answers)| match plan {
            Ok(plan) => self.judge(gh, repo, plan, answers, now),
            Err(e) => RepoSeen {
                repo: repo.clone(),
                workflows: Err(e.clone()),
                unreadable: Vec::new(),
                cut: None,
            },
        });
        Seen { repos, failed, cut }
    }

    fn evaluate(&self, seen: &Seen, now: DateTime<Utc>) -> Vec<CheckResult> {
        evaluate(seen, now)
    }
}

/// What to ask of one repository once its workflows are listed.
struct RepoPlan {
    /// The workflows that may be scheduled (those with a file, not configured by hand).
    candidates: Vec<Workflow>,
    /// Where its list of recent successes starts, when it is asked beside the files.
    early_from: Option<DateTime<Utc>>,
    /// Where its list of workflows stopped before the end.
    cut: Option<Cut>,
}

/// What one task of a repository's discovery came back with.
enum Answer {
    /// The repository-wide list of recent successes.
    Runs(Result<Vec<Run>, ApiError>),
    /// A workflow's schedule.
    File(ScheduleSeen),
}

impl Discovery {
    /// The candidates of `repo`, and whether and from when to ask its list of recent
    /// successes beside the files: so a healthy repository takes two round trips, not
    /// three. The window comes from the schedules the last run read (its kept answers, no
    /// request), else from the thresholds alone; a workflow whose window reaches further
    /// back (a weekly cron, on a first run) is then asked alone.
    fn plan(
        &self,
        gh: &GitHub,
        repo: &Repo,
        listed: Listed<Workflow>,
        now: DateTime<Utc>,
    ) -> RepoPlan {
        // One file is one check, however many times (or ids) GitHub lists it.
        let mut paths = std::collections::HashSet::new();
        let candidates: Vec<Workflow> = listed
            .items
            .into_iter()
            .filter(|w| w.path.starts_with(".github/workflows/"))
            .filter(|w| paths.insert(w.path.clone()))
            .filter(|w| {
                !self
                    .configured
                    .contains(&(repo.clone(), file_of(&w.path).to_string()))
            })
            .collect();
        let mut known = true;
        let mut oldest: Option<DateTime<Utc>> = None;
        for w in &candidates {
            let Some(read) = kept_file(gh, repo, &w.path) else {
                known = false;
                continue;
            };
            let slot = read
                .ok()
                .flatten()
                .and_then(|e| Schedule::new(e).ok())
                .and_then(|s| self.oldest_slot(&s, now));
            oldest = oldest.into_iter().chain(slot).min();
        }
        // Not asked early only when the last run saw every file and no schedule in them.
        let nothing_scheduled = known && oldest.is_none();
        let ask_early = !(candidates.is_empty() || nothing_scheduled);
        let early_from = ask_early.then(|| self.window_from(oldest.filter(|_| known), now));
        RepoPlan {
            candidates,
            early_from,
            cut: listed.cut,
        }
    }

    /// Each scheduled workflow of `repo`, judged from the wide list when it came and the
    /// workflow is on time; else (a list that failed, a late or disabled workflow) asked
    /// alone, with its diagnosis.
    fn judge(
        &self,
        gh: &GitHub,
        repo: &Repo,
        plan: &RepoPlan,
        answers: &[Answer],
        now: DateTime<Utc>,
    ) -> RepoSeen {
        let mut early = None;
        let mut schedules = Vec::new();
        for a in answers {
            match a {
                Answer::Runs(runs) => early = Some(runs),
                Answer::File(seen) => schedules.push(seen),
            }
        }
        let mut scheduled = Vec::new();
        let mut unreadable = Vec::new();
        for (w, seen) in plan.candidates.iter().zip(schedules) {
            match seen {
                ScheduleSeen::Read { .. } => scheduled.push((w, seen)),
                ScheduleSeen::Unscheduled(_) => {}
                ScheduleSeen::Fallback(why) => unreadable.push((w.path.clone(), why.clone())),
            }
        }
        let late;
        let recent: &Result<Vec<Run>, ApiError> = match early {
            Some(runs) => runs,
            None => {
                // Nothing was scheduled at the last run; a file changed since.
                late = if scheduled.is_empty() {
                    Ok(Vec::new())
                } else {
                    let read = scheduled.iter().filter_map(|(_, seen)| match seen {
                        ScheduleSeen::Read { entries, .. } => Schedule::new(entries.clone()).ok(),
                        ScheduleSeen::Unscheduled(_) | ScheduleSeen::Fallback(_) => None,
                    });
                    gh.successes_since(repo, self.window(read, now))
                };
                &late
            }
        };
        let mut newest: BTreeMap<u64, &Run> = BTreeMap::new();
        if let Ok(runs) = recent {
            for run in runs {
                let keep = newest
                    .get(&run.workflow_id)
                    .is_none_or(|n| run.created_at > n.created_at);
                if keep {
                    newest.insert(run.workflow_id, run);
                }
            }
        }
        let found = scheduled
            .into_iter()
            .map(|(w, seen)| {
                let spec = HeartbeatSpec {
                    repo: repo.clone(),
                    workflow: file_of(&w.path).to_string(),
                    name: default_name(file_of(&w.path)),
                    sla_hours: self.sla.unwrap_or(heartbeat::DEFAULT_SLA),
                    filter: RunFilter::default(),
                    schedule: self.sla.is_none().then_some(self.rule),
                };
                let last = newest.get(&w.id).copied();
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
            })
            .collect();
        RepoSeen {
            repo: repo.clone(),
            workflows: Ok(found),
            unreadable,
            cut: plan.cut.clone(),
        }
    }

    /// Where the list of recent successes starts: at the oldest slot that could still make
    /// one of `schedules` ok (the last `warn_missed` days when none is known), or at the
    /// fixed SLA; floored to the day, so its URL (and ETag) holds all day.
    fn window(
        &self,
        schedules: impl IntoIterator<Item = Schedule>,
        now: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let oldest = schedules
            .into_iter()
            .filter_map(|s| self.oldest_slot(&s, now))
            .min();
        self.window_from(oldest, now)
    }

    /// The oldest slot that could still make `s` ok.
    fn oldest_slot(&self, s: &Schedule, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let k = self.rule.warn_missed as usize;
        s.due_slots(now, self.rule.grace(), k).last().copied()
    }

    /// [`Self::window`] from the oldest slot, when known.
    fn window_from(&self, oldest: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DateTime<Utc> {
        let guess = now - Duration::days(i64::from(self.rule.warn_missed)) - self.rule.grace();
        let from = self
            .sla
            .map_or(oldest.unwrap_or(guess), |sla| now - sla.duration());
        from.date_naive()
            .and_hms_opt(0, 0, 0)
            .map_or(from, |t| t.and_utc())
    }
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
    use crate::checks::Status;
    use crate::checks::cron_heartbeat::schedule::Entry;
    use crate::clients::http::HttpError;

    const NOW: &str = "2026-05-23T06:30:00Z";

    fn repo() -> Repo {
        Repo::parse("raxx-app/TradeMasterAPI").unwrap()
    }

    fn discovery() -> Discovery {
        Discovery {
            scopes: vec![Scope::Repo(repo())],
            rule: ScheduleRule::default(),
            sla: None,
            configured: Vec::new(),
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
            updated_at: None,
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
            path: None,
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
        Seen {
            repos: vec![RepoSeen {
                repo: repo(),
                workflows,
                unreadable: Vec::new(),
                cut: None,
            }],
            failed: Vec::new(),
            cut: Vec::new(),
        }
    }

    #[test]
    fn a_found_workflow_is_judged_like_a_configured_one() {
        let r = evaluate(
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

    fn schedule(cron: &str) -> Schedule {
        Schedule::new(vec![Entry {
            cron: cron.into(),
            timezone: None,
        }])
        .unwrap()
    }

    #[test]
    fn the_wide_list_reaches_back_to_the_oldest_window_that_counts_floored_to_the_day() {
        let d = discovery();
        let now: DateTime<Utc> = "2026-05-25T06:30:00Z".parse().unwrap(); // a Monday
        let at = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
        // Nothing known: the last `warn_missed` days and the grace.
        assert_eq!(d.window([], now), at("2026-05-24T00:00:00Z"));
        // A Friday cron reaches back to Friday; the oldest of several counts.
        let weekly = schedule("0 3 * * FRI");
        assert_eq!(d.window([weekly.clone()], now), at("2026-05-22T00:00:00Z"));
        assert_eq!(
            d.window([schedule("*/15 * * * *"), weekly], now),
            at("2026-05-22T00:00:00Z")
        );
        // Just after midnight, a daily 23:00 cron still needs yesterday's run.
        let early = at("2026-05-25T00:10:00Z");
        assert_eq!(
            d.window([schedule("0 23 * * *")], early),
            at("2026-05-24T00:00:00Z")
        );
        // Two windows in a row before a warning: two days back.
        let two = Discovery {
            rule: ScheduleRule {
                warn_missed: 2,
                ..ScheduleRule::default()
            },
            ..discovery()
        };
        assert_eq!(
            two.window([schedule("0 2 * * *")], now),
            at("2026-05-24T00:00:00Z")
        );
        assert_eq!(two.window([], now), at("2026-05-23T00:00:00Z"));
        // A fixed SLA decides alone.
        let sla = Discovery {
            sla: Some(Hours(72.0)),
            ..discovery()
        };
        assert_eq!(
            sla.window([schedule("0 2 * * *")], now),
            at("2026-05-22T00:00:00Z")
        );
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
        let r = evaluate(&seen(Err(e)), NOW.parse().unwrap());
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].id, "cron_heartbeat:raxx-app/TradeMasterAPI:*");
        assert_eq!(r[0].status, Status::Unknown);
        assert!(
            r[0].message
                .starts_with("could not list the workflows of raxx-app/TradeMasterAPI")
        );
    }

    #[test]
    fn a_cut_list_warns_once_per_identity_and_joins_unreadable_files() {
        let cut = Cut {
            listed: 1000,
            counted: Some(1050),
            last: Some(".github/workflows/zz.yml".into()),
            repeated: false,
        };
        let mut s = seen(Ok(vec![found("active", "2026-05-23T02:00:30Z")]));
        s.repos[0].cut = Some(cut.clone());
        s.cut = vec![(
            "raxx-app".into(),
            Cut {
                counted: None,
                ..cut.clone()
            },
        )];
        let r = evaluate(&s, NOW.parse().unwrap());
        let org = r
            .iter()
            .find(|c| c.id == "cron_heartbeat:raxx-app/*:*")
            .unwrap();
        assert_eq!(org.status, Status::Warning);
        assert!(
            org.message
                .contains("those after .github/workflows/zz.yml are not watched")
        );
        let repo = r
            .iter()
            .find(|c| c.id == "cron_heartbeat:raxx-app/TradeMasterAPI:*")
            .unwrap();
        assert_eq!(repo.status, Status::Warning);
        assert!(
            repo.message.ends_with(": 50 are not watched"),
            "{}",
            repo.message
        );
        // With unreadable files as well: one result, the worse status, both said.
        s.repos[0].unreadable = vec![(".github/workflows/a.yml".into(), "why".into())];
        let r = evaluate(&s, NOW.parse().unwrap());
        let same: Vec<_> = r
            .iter()
            .filter(|c| c.id.ends_with("TradeMasterAPI:*"))
            .collect();
        assert_eq!(same.len(), 1);
        assert_eq!(same[0].status, Status::Unknown);
        assert!(
            same[0]
                .message
                .contains("; also only 1000 of the 1050 workflows"),
            "{}",
            same[0].message
        );
        assert_eq!(same[0].details["cut"]["listed"], 1000);
    }
}
