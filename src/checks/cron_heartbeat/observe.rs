//! What GitHub says of a heartbeat: its newest success, its schedule from the workflow file,
//! and, only when that is stale, the latest run and the workflow's state.

use chrono::{DateTime, Utc};

use super::HeartbeatSpec;
use super::schedule::{self, Entry, Schedule, ScheduleError};
use crate::clients::api::ApiError;
use crate::clients::github::{GitHub, Repo, Run, RunFilter, TreeEntry, Workflow};
use crate::util::time::Hours;

/// Everything the check learned from GitHub.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// The newest successful run (or none), and, when that is stale, why.
    Seen {
        /// The newest successful run matching the filter.
        last_success: Option<Run>,
        /// Present only when the heartbeat is stale.
        diagnosis: Option<Box<Diagnosis>>,
        /// The workflow's schedule, when the heartbeat follows it.
        schedule: Option<ScheduleSeen>,
    },
    /// GitHub says the workflow does not exist (or the token cannot see it).
    NotFound(ApiError),
    /// GitHub could not be asked or gave no usable answer.
    Failed(ApiError),
}

/// What the workflow file said of its schedule.
#[derive(Debug, Clone, PartialEq)]
pub enum ScheduleSeen {
    /// Its `on.schedule` entries, from `path` on the default branch.
    Read {
        /// The workflow file.
        path: String,
        /// The entries, as written.
        entries: Vec<Entry>,
    },
    /// No schedule runs from this file: it has no `on.schedule`, or is not on the default
    /// branch. A heartbeat falls back to the fixed SLA; discovery passes it by.
    Unscheduled(String),
    /// The schedule could not be read: the fixed SLA applies, and this says why.
    Fallback(String),
}

impl ScheduleSeen {
    /// The parsed schedule, or why there is none.
    pub(super) fn parsed(&self) -> Result<(Schedule, &str), NoSchedule> {
        match self {
            Self::Read { path, entries } => Schedule::new(entries.clone())
                .map(|s| (s, path.as_str()))
                .map_err(|e| match e {
                    ScheduleError::Cron { cron, why } => NoSchedule::Refused {
                        path: path.clone(),
                        what: format!("the cron '{cron}' ({why})"),
                    },
                    ScheduleError::Timezone(zone) => NoSchedule::Refused {
                        path: path.clone(),
                        what: format!("the timezone '{zone}' (not an IANA time zone name)"),
                    },
                    e => NoSchedule::Unread(format!("{path}: {e}")),
                }),
            Self::Unscheduled(why) | Self::Fallback(why) => Err(NoSchedule::Unread(why.clone())),
        }
    }
}

/// Why a heartbeat could not follow a schedule.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum NoSchedule {
    /// GitHub refuses the file's schedule (`what`: "the cron '…' (why)"): it never runs.
    Refused { path: String, what: String },
    /// The schedule could not be read, or there is none: the fixed SLA applies.
    Unread(String),
}

/// What is kept of a workflow file between runs: its crons, no schedule, or why its YAML
/// could not be read.
pub type ReadFile = Result<Option<Vec<schedule::Entry>>, String>;

/// Reads the schedule in the workflow file `path` on the default branch.
pub fn read_schedule(gh: &GitHub, repo: &Repo, path: &str) -> ScheduleSeen {
    if !path.starts_with(".github/workflows/") {
        return ScheduleSeen::Fallback(format!(
            "the workflow has no file of its own ({path:?}) to read a schedule from"
        ));
    }
    seen_in(path, gh.file_read_as(repo, path, read_file))
}

/// [`read_schedule`] from the file's blob, as the tree of `.github/workflows` named it: no
/// request at all when the blob was read at an earlier run.
fn read_schedule_blob(gh: &GitHub, repo: &Repo, path: &str, sha: &str) -> ScheduleSeen {
    seen_in(path, gh.blob_read_as(repo, sha, read_file))
}

fn read_file(text: String) -> ReadFile {
    schedule::read(&text).map_err(|e| e.to_string())
}

/// What the answer for the file `path` says of its schedule.
fn seen_in(path: &str, answer: Result<ReadFile, ApiError>) -> ScheduleSeen {
    let read = match answer {
        Ok(read) => read,
        Err(e @ ApiError::Forbidden { .. }) => {
            return ScheduleSeen::Fallback(format!(
                "the token may not read {path}: give the workflow `contents: read` ({e})"
            ));
        }
        Err(ApiError::NotFound { .. }) => return not_on_default_branch(path),
        Err(e) => return ScheduleSeen::Fallback(format!("{path} could not be read ({e})")),
    };
    match read {
        Ok(Some(entries)) => ScheduleSeen::Read {
            path: path.to_string(),
            entries,
        },
        Ok(None) => ScheduleSeen::Unscheduled(format!("{path} has no `on.schedule` trigger")),
        Err(e) => ScheduleSeen::Fallback(format!("{path}: {e}")),
    }
}

/// A file GitHub does not have on the default branch: no schedule of it runs.
fn not_on_default_branch(path: &str) -> ScheduleSeen {
    ScheduleSeen::Unscheduled(format!(
        "{path} is not on the default branch, where GitHub runs schedules from"
    ))
}

/// The schedule of the file `path`: from its blob when the tree of `.github/workflows` came (no
/// request when the blob was read before), else from the file itself.
pub(super) fn schedule_in(
    gh: &GitHub,
    repo: &Repo,
    path: &str,
    tree: Option<&Result<Vec<TreeEntry>, ApiError>>,
) -> ScheduleSeen {
    match tree {
        Some(Ok(files)) => match files.iter().find(|f| f.path == file_of(path)) {
            Some(file) => read_schedule_blob(gh, repo, path, &file.sha),
            None => not_on_default_branch(path),
        },
        _ => read_schedule(gh, repo, path),
    }
}

/// What the last run read of the file `path`, by its tree and blob or by the file: no
/// request.
pub(super) fn kept_file(gh: &GitHub, repo: &Repo, path: &str) -> Option<ReadFile> {
    let by_blob = gh.workflow_files_last_seen(repo).and_then(|files| {
        let file = files.into_iter().find(|f| f.path == file_of(path))?;
        gh.blob_as_last_seen::<ReadFile>(repo, &file.sha)
    });
    by_blob.or_else(|| gh.file_as_last_seen::<ReadFile>(repo, path))
}

/// `nightly.yml` of `.github/workflows/nightly.yml`.
pub(super) fn file_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Why a heartbeat is stale, as far as GitHub would say.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    /// The newest run of any status, or why it could not be read.
    pub latest_run: Result<Option<Run>, ApiError>,
    /// The workflow, or why it could not be read.
    pub workflow: Result<Workflow, ApiError>,
    /// The newest run of any branch and event, asked only when a filter is configured and
    /// nothing of the filter's ran after the last success.
    pub latest_any: Option<Result<Option<Run>, ApiError>>,
}

/// Whether the newest success is inside the SLA. A success in the future of `now` (clock
/// skew between GitHub and this machine) counts as fresh.
pub fn is_fresh(last_success: Option<&Run>, sla: Hours, now: DateTime<Utc>) -> bool {
    let Some(run) = last_success else {
        return false;
    };
    now - success_time(run) <= sla.duration()
}

/// Whether `last_success` leaves the heartbeat ok: fewer missed slots than a warning needs
/// when it follows a schedule that could be read, else inside the SLA.
pub fn is_current(
    spec: &HeartbeatSpec,
    last_success: Option<&Run>,
    schedule: Option<&ScheduleSeen>,
    now: DateTime<Utc>,
) -> bool {
    match (&spec.schedule, schedule.map(ScheduleSeen::parsed)) {
        (Some(rule), Some(Ok((sched, _)))) => last_success.is_some_and(|run| {
            (sched.missed(run.created_at, now, rule.grace()).count as u64)
                < u64::from(rule.warn_missed)
        }),
        _ => is_fresh(last_success, spec.sla_hours, now),
    }
}

/// When a successful run finished.
pub fn success_time(run: &Run) -> DateTime<Utc> {
    run.updated_at
}

/// Asks GitHub, paying for the diagnosis only when the heartbeat is stale. Following a
/// schedule costs one request more: the workflow file.
pub fn observe(gh: &GitHub, spec: &HeartbeatSpec, now: DateTime<Utc>) -> Observation {
    let by_id = spec.workflow.bytes().all(|b| b.is_ascii_digit());
    if spec.schedule.is_some() && !by_id {
        // A file name is its own path: the file and the successes are asked at once, or a
        // heartbeat would take two round trips where it needs one.
        let path = format!(".github/workflows/{}", spec.workflow);
        let (schedule, last_success) = std::thread::scope(|s| {
            let file = s.spawn(|| read_schedule(gh, &spec.repo, &path));
            let last = gh.latest_run(&spec.repo, &spec.workflow, &spec.filter, true);
            let schedule = file
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (schedule, last)
        });
        return judge_runs(gh, spec, now, Some(schedule), None, last_success);
    }
    // An id needs the workflow first, for its path.
    let mut workflow = None;
    let schedule = spec.schedule.map(|_| {
        let wf = gh.workflow(&spec.repo, &spec.workflow);
        let seen = match &wf {
            Ok(w) => read_schedule(gh, &spec.repo, &w.path),
            Err(e) => ScheduleSeen::Fallback(format!("the workflow could not be read ({e})")),
        };
        workflow = Some(wf);
        seen
    });
    observe_runs(gh, spec, now, schedule, workflow)
}

/// [`observe`] for a workflow whose schedule (and the workflow itself) discovery has read.
pub fn observe_with(
    gh: &GitHub,
    spec: &HeartbeatSpec,
    now: DateTime<Utc>,
    schedule: ScheduleSeen,
    workflow: Option<Workflow>,
) -> Observation {
    observe_runs(gh, spec, now, Some(schedule), workflow.map(Ok))
}

/// The newest success, and when that is stale, the diagnosis.
pub(super) fn observe_runs(
    gh: &GitHub,
    spec: &HeartbeatSpec,
    now: DateTime<Utc>,
    schedule: Option<ScheduleSeen>,
    workflow: Option<Result<Workflow, ApiError>>,
) -> Observation {
    let last = gh.latest_run(&spec.repo, &spec.workflow, &spec.filter, true);
    judge_runs(gh, spec, now, schedule, workflow, last)
}

/// [`observe_runs`] once the newest success is known: the diagnosis when that is stale.
fn judge_runs(
    gh: &GitHub,
    spec: &HeartbeatSpec,
    now: DateTime<Utc>,
    schedule: Option<ScheduleSeen>,
    workflow: Option<Result<Workflow, ApiError>>,
    last: Result<Option<Run>, ApiError>,
) -> Observation {
    let last_success = match last {
        Ok(run) => run,
        Err(e @ ApiError::NotFound { .. }) => return Observation::NotFound(e),
        Err(e) => return Observation::Failed(e),
    };
    if is_current(spec, last_success.as_ref(), schedule.as_ref(), now) {
        return Observation::Seen {
            last_success,
            diagnosis: None,
            schedule,
        };
    }
    let latest_run = gh.latest_run(&spec.repo, &spec.workflow, &spec.filter, false);
    let filtered = spec.filter.branch.is_some() || spec.filter.event.is_some();
    let nothing_newer = match (&latest_run, &last_success) {
        (Ok(Some(run)), Some(last)) => run.created_at <= last.created_at,
        (Ok(None), _) => true,
        _ => false,
    };
    let latest_any = (filtered && nothing_newer)
        .then(|| gh.latest_run(&spec.repo, &spec.workflow, &RunFilter::default(), false));
    let diagnosis = Diagnosis {
        latest_run,
        workflow: workflow.unwrap_or_else(|| gh.workflow(&spec.repo, &spec.workflow)),
        latest_any,
    };
    Observation::Seen {
        last_success,
        diagnosis: Some(Box::new(diagnosis)),
        schedule,
    }
}
