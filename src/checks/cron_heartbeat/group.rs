//! The configured heartbeats of one repository, answered together, as discovery answers the
//! ones it finds: one conditional tree request gives every workflow file's blob (a file is
//! read only when its blob changed), one repository-wide list of recent successes shows which
//! heartbeats are current; only a heartbeat that list does not show current is asked alone,
//! with its diagnosis. A repository costs two requests when all is well, whatever its number
//! of heartbeats. When the tree or the list cannot be had, each heartbeat is asked as before.

use chrono::{DateTime, Duration, Utc};

use super::observe::{Observation, is_current, kept_file, observe, observe_runs, schedule_in};
use super::schedule::Schedule;
use super::{HeartbeatSpec, verdict};
use crate::checks::pool::Identity;
use crate::checks::{Check, CheckResult, Context};
use crate::clients::github::{GitHub, Repo, Run};
use crate::config::Need;
use crate::util::par::par_map;

/// How many heartbeats of one repository are asked alone at once (their schedules' blobs on
/// a first run, a stale one's diagnosis): as many as the GitHub client lets fly, so 60 new
/// blobs take one round trip, not eight.
const PARALLEL: usize = crate::checks::cron_heartbeat::discovery::PARALLEL;

/// The configured heartbeats of `repo`, in the order the configuration gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The repository.
    pub repo: Repo,
    /// Its heartbeats.
    pub specs: Vec<HeartbeatSpec>,
}

/// The heartbeats grouped by repository, each group where its first heartbeat was.
pub fn by_repository(specs: Vec<HeartbeatSpec>) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for spec in specs {
        match groups.iter_mut().find(|g| g.repo == spec.repo) {
            Some(g) => g.specs.push(spec),
            None => groups.push(Group {
                repo: spec.repo.clone(),
                specs: vec![spec],
            }),
        }
    }
    groups
}

impl Check for Group {
    /// One observation per heartbeat, in order.
    type Observation = Vec<Observation>;

    fn identities(&self) -> Vec<Identity> {
        self.specs.iter().flat_map(Check::identities).collect()
    }

    fn describe(&self) -> Vec<String> {
        self.specs.iter().flat_map(Check::describe).collect()
    }

    fn needs(&self) -> Vec<Need> {
        self.specs.first().map(Check::needs).unwrap_or_default()
    }

    /// The tree and the list side by side; a changed blob after the tree.
    fn rounds(&self) -> usize {
        2
    }

    fn watched_repos(&self) -> Vec<Repo> {
        vec![self.repo.clone()]
    }

    /// A repository's heartbeats run in one shard, with its other targets.
    fn shard_key(&self) -> String {
        self.repo.to_string()
    }

    fn observe(&self, ctx: &Context) -> Vec<Observation> {
        // One hanging heartbeat must not take its repository's others with it at the run's
        // deadline: their requests give up a little earlier, so the group still answers.
        let left = ctx
            .deadline
            .saturating_duration_since(std::time::Instant::now());
        let margin = (left / 10).min(std::time::Duration::from_secs(2));
        let gh = ctx.github.clone().until(ctx.deadline - margin);
        observe_group(&gh, self, ctx.now)
    }

    fn evaluate(&self, seen: &Vec<Observation>, now: DateTime<Utc>) -> Vec<CheckResult> {
        self.specs
            .iter()
            .zip(seen)
            .map(|(spec, obs)| verdict::evaluate(spec, obs, now))
            .collect()
    }
}

/// A heartbeat named by its workflow's numeric id: its file is known only by asking.
fn by_id(spec: &HeartbeatSpec) -> bool {
    spec.workflow.bytes().all(|b| b.is_ascii_digit())
}

fn file_path(spec: &HeartbeatSpec) -> String {
    format!(".github/workflows/{}", spec.workflow)
}

fn observe_group(gh: &GitHub, group: &Group, now: DateTime<Utc>) -> Vec<Observation> {
    let wants_files = group
        .specs
        .iter()
        .any(|s| s.schedule.is_some() && !by_id(s));
    let (tree, recent) = std::thread::scope(|s| {
        let tree = wants_files.then(|| s.spawn(|| gh.workflow_files(&group.repo)));
        let recent = gh.successes_since(&group.repo, window(gh, group, now));
        let tree = tree.map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        (tree, recent)
    });
    par_map(&group.specs, PARALLEL, |spec| {
        if by_id(spec) {
            return observe(gh, spec, now);
        }
        let schedule = spec
            .schedule
            .map(|_| schedule_in(gh, &spec.repo, &file_path(spec), tree.as_ref()));
        let Ok(runs) = &recent else {
            return observe_runs(gh, spec, now, schedule, None);
        };
        let last = newest_success(spec, runs);
        if is_current(spec, last, schedule.as_ref(), now) {
            return Observation::Seen {
                last_success: last.cloned(),
                diagnosis: None,
                schedule,
            };
        }
        // Not shown current: asked alone, which also settles a success older than the list.
        observe_runs(gh, spec, now, schedule, None)
    })
}

/// The newest run of `runs` (successes, newest first) that is the heartbeat's: its file,
/// on its branch, of its event.
fn newest_success<'a>(spec: &HeartbeatSpec, runs: &'a [Run]) -> Option<&'a Run> {
    let path = file_path(spec);
    runs.iter()
        .filter(|r| r.path.as_deref() == Some(path.as_str()))
        .filter(|r| {
            spec.filter
                .branch
                .as_ref()
                .is_none_or(|b| r.head_branch.as_ref() == Some(b))
        })
        .filter(|r| spec.filter.event.as_ref().is_none_or(|e| &r.event == e))
        .max_by_key(|r| r.created_at)
}

/// Where the list of recent successes starts: the oldest time a success could leave one of
/// the heartbeats current (its schedule's oldest counted slot, else its SLA), floored to
/// the day so its URL, and ETag, hold all day. A schedule the last run did not read counts
/// by its thresholds, `warn_missed` days back: a weekly cron is then asked alone, once.
fn window(gh: &GitHub, group: &Group, now: DateTime<Utc>) -> DateTime<Utc> {
    let from = group
        .specs
        .iter()
        .map(|spec| {
            let kept = spec.schedule.and_then(|rule| {
                let entries = kept_file(gh, &spec.repo, &file_path(spec))?
                    .ok()
                    .flatten()?;
                let sched = Schedule::new(entries).ok()?;
                let k = rule.warn_missed as usize;
                sched.due_slots(now, rule.grace(), k).last().copied()
            });
            match (spec.schedule, kept) {
                (_, Some(slot)) => slot,
                (Some(rule), None) => {
                    now - Duration::days(i64::from(rule.warn_missed)) - rule.grace()
                }
                (None, None) => now - spec.sla_hours.duration(),
            }
        })
        .min()
        .unwrap_or(now);
    from.date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(from, |t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::cron_heartbeat::ScheduleRule;
    use crate::clients::github::RunFilter;
    use crate::util::time::Hours;

    fn spec(repo: &str, workflow: &str) -> HeartbeatSpec {
        HeartbeatSpec {
            repo: Repo::parse(repo).unwrap(),
            workflow: workflow.into(),
            name: workflow.into(),
            sla_hours: Hours(48.0),
            filter: RunFilter::default(),
            schedule: Some(ScheduleRule::default()),
        }
    }

    fn run(id: u64, path: &str, at: &str, branch: &str, event: &str) -> Run {
        let at: DateTime<Utc> = at.parse().unwrap();
        Run {
            id,
            status: Some("completed".into()),
            conclusion: Some("success".into()),
            html_url: format!("https://github.com/o/r/actions/runs/{id}"),
            event: event.into(),
            created_at: at,
            updated_at: at,
            run_started_at: Some(at),
            workflow_id: 1,
            head_branch: Some(branch.into()),
            path: Some(path.into()),
        }
    }

    #[test]
    fn heartbeats_group_by_repository_in_the_order_given() {
        let groups = by_repository(vec![
            spec("o/a", "x.yml"),
            spec("o/b", "y.yml"),
            spec("o/a", "z.yml"),
        ]);
        let shape: Vec<(String, usize)> = groups
            .iter()
            .map(|g| (g.repo.to_string(), g.specs.len()))
            .collect();
        assert_eq!(shape, [("o/a".to_string(), 2), ("o/b".to_string(), 1)]);
    }

    #[test]
    fn the_newest_success_is_the_heartbeats_own_by_file_branch_and_event() {
        let runs = [
            run(
                3,
                ".github/workflows/y.yml",
                "2026-05-23T02:00:00Z",
                "main",
                "schedule",
            ),
            run(
                2,
                ".github/workflows/x.yml",
                "2026-05-22T02:00:00Z",
                "dev",
                "push",
            ),
            run(
                1,
                ".github/workflows/x.yml",
                "2026-05-21T02:00:00Z",
                "main",
                "schedule",
            ),
        ];
        let mut s = spec("o/a", "x.yml");
        assert_eq!(newest_success(&s, &runs).map(|r| r.id), Some(2));
        s.filter.branch = Some("main".into());
        assert_eq!(newest_success(&s, &runs).map(|r| r.id), Some(1));
        s.filter.branch = None;
        s.filter.event = Some("schedule".into());
        assert_eq!(newest_success(&s, &runs).map(|r| r.id), Some(1));
        assert_eq!(newest_success(&spec("o/a", "none.yml"), &runs), None);
    }

    /// A client with nothing kept from a last run, that asks nothing here.
    fn offline() -> GitHub {
        let http = crate::clients::http::Http::new(Default::default());
        GitHub::new(http, "http://127.0.0.1:9", "t", std::time::Instant::now())
    }

    #[test]
    fn the_window_reaches_the_oldest_heartbeat_floored_to_the_day() {
        let now: DateTime<Utc> = "2026-05-23T06:30:00Z".parse().unwrap();
        let scheduled = Group {
            repo: Repo::parse("o/a").unwrap(),
            specs: vec![spec("o/a", "x.yml")],
        };
        // One missed window warns: a day back, less the grace, floored.
        assert_eq!(
            window(&offline(), &scheduled, now),
            "2026-05-22T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let mut fixed = spec("o/a", "y.yml");
        fixed.schedule = None;
        fixed.sla_hours = Hours(72.0);
        let both = Group {
            repo: Repo::parse("o/a").unwrap(),
            specs: vec![spec("o/a", "x.yml"), fixed],
        };
        assert_eq!(
            window(&offline(), &both, now),
            "2026-05-20T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
