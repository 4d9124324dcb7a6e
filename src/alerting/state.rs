//! Alert state between runs: what each check's status was and when it was last mailed, so a
//! team hears of a problem when it starts, when it changes, as a reminder while it lasts, and
//! once more when it is resolved; not every run. Deciding is pure; the file is versioned and
//! written atomically.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::checks::time::rfc3339;
use crate::checks::{CheckResult, Status};
use crate::clients::budget::Cached;
use crate::config::file::{ReadError, read_regular};

/// The version of the state file's shape. An older one is read as a first run; a newer one
/// is refused.
pub const STATE_VERSION: u32 = 1;

/// The state file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Shape version.
    pub version: u32,
    /// When the run that wrote it evaluated.
    pub written_at: Option<String>,
    /// Per check id.
    pub checks: BTreeMap<String, Entry>,
    /// GitHub's answers of the last run with their ETags, by URL, for conditional requests.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub http_cache: BTreeMap<String, Cached>,
}

/// What is remembered of one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Its status at the last run.
    pub status: Status,
    /// Its kind.
    pub kind: String,
    /// Since when it has not been ok (when it is not).
    pub since: Option<String>,
    /// When the team was last told of it; `None` until a mail was accepted.
    pub last_mailed_at: Option<String>,
    /// What it was, in mail-subject words, for the RESOLVED mail.
    pub what: String,
}

/// Why a check is mailed this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Not ok now, ok (or unseen) before.
    New,
    /// Another non-ok status than before.
    Changed,
    /// Still failing, and the last mail is older than the reminder interval.
    Reminder,
    /// Still failing and never successfully mailed (a failed delivery, or a silence ended).
    Retry,
}

/// A check that came back to ok after the team was told it was not.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovered {
    /// Its id.
    pub id: String,
    /// What it was.
    pub what: String,
    /// Since when it had not been ok.
    pub since: Option<String>,
}

/// What to mail this run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Checks to alert about, with why.
    pub alert: BTreeMap<String, Reason>,
    /// Checks to announce as resolved.
    pub resolved: Vec<Recovered>,
}

/// The largest state file read: some 50,000 checks.
const MAX_STATE_BYTES: u64 = 16 * 1024 * 1024;

/// What reading the state file gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    /// A state to go on from (empty on a first run), and a note to print.
    State(State, Option<String>),
    /// A file this run must neither read nor overwrite, and why.
    Refused(String),
}

/// Reads the state file. A missing, unreadable or damaged file is a first run, said in the
/// note. A newer version's file, or one that is not a small regular file, is refused: it is
/// left as it is, and the run says so.
pub fn load(path: &Path) -> Loaded {
    let shown = path.display();
    let first = |why: String| {
        Loaded::State(
            State::default(),
            Some(format!("{why}: treating this as the first run")),
        )
    };
    match read_regular(path, MAX_STATE_BYTES) {
        Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            first(format!("no state file at {shown}"))
        }
        Err(e @ (ReadError::NotRegular | ReadError::TooLarge(_))) => Loaded::Refused(format!(
            "the state file {shown} is not used and left as it is: {e}"
        )),
        Err(e) => first(format!("cannot read the state file {shown}: {e}")),
        Ok(text) => match parse(&text) {
            Ok(s) => Loaded::State(s, None),
            Err(StateError::Version(v)) if v > STATE_VERSION => Loaded::Refused(format!(
                "the state file {shown} was written by a newer heartbeat-monitor (state version {v}; this one reads {STATE_VERSION}): it is left untouched. Upgrade heartbeat-monitor, or give another --state-file"
            )),
            Err(why) => first(format!("the state file {shown} {why}")),
        },
    }
}

/// Why a state file's text is not a state of this version; said after "the state file P".
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StateError {
    /// Another version of the shape.
    #[error("has version {0}, not {STATE_VERSION}")]
    Version(u32),
    /// Not JSON of the state's shape.
    #[error("is not valid ({0})")]
    Invalid(String),
}

/// The state file's text as a state of this version, or what is wrong with it.
pub fn parse(text: &str) -> Result<State, StateError> {
    match serde_json::from_str::<State>(text) {
        Ok(s) if s.version == STATE_VERSION => Ok(s),
        Ok(s) => Err(StateError::Version(s.version)),
        Err(e) => Err(StateError::Invalid(e.to_string())),
    }
}

/// Writes the state file atomically, straight to the file: with thousands of kept answers
/// it runs to megabytes, which need not sit in memory a second time.
pub fn save(path: &Path, state: &State) -> std::io::Result<()> {
    crate::output::result::write_atomically_with(path, |f| {
        serde_json::to_writer_pretty(f, state).map_err(std::io::Error::other)
    })
}

/// Decides what to mail from the previous state and this run's results. Silenced checks are
/// never alerted (and so stay un-mailed until their silence ends).
pub fn plan(
    prev: &State,
    checks: &[CheckResult],
    now: DateTime<Utc>,
    remind_after: Duration,
) -> Plan {
    let mut plan = Plan::default();
    for c in checks {
        let before = prev.checks.get(&c.id);
        if c.status == Status::Ok {
            if let Some(e) = before
                && e.status != Status::Ok
                && e.last_mailed_at.is_some()
            {
                plan.resolved.push(Recovered {
                    id: c.id.clone(),
                    what: e.what.clone(),
                    since: e.since.clone(),
                });
            }
            continue;
        }
        if c.silenced {
            continue;
        }
        let reason = match before {
            None => Some(Reason::New),
            Some(e) if e.status == Status::Ok => Some(Reason::New),
            Some(e) if e.status != c.status => Some(Reason::Changed),
            Some(e) => match e
                .last_mailed_at
                .as_deref()
                .and_then(|t| t.parse::<DateTime<Utc>>().ok())
            {
                None => Some(Reason::Retry),
                Some(t) if now - t >= remind_after => Some(Reason::Reminder),
                Some(_) => None,
            },
        };
        if let Some(r) = reason {
            plan.alert.insert(c.id.clone(), r);
        }
    }
    plan
}

/// The state after this run: `mailed` holds the ids whose alert was accepted by the mail
/// service, `resolved_mailed` those whose RESOLVED mail was. An undelivered RESOLVED keeps
/// the old entry, so it is tried again next run.
pub fn next(
    prev: &State,
    checks: &[CheckResult],
    mailed: &BTreeSet<String>,
    resolved_mailed: &BTreeSet<String>,
    what: impl Fn(&CheckResult) -> String,
    now: DateTime<Utc>,
) -> State {
    let mut out = State {
        version: STATE_VERSION,
        written_at: Some(rfc3339(now)),
        checks: BTreeMap::new(),
        http_cache: BTreeMap::new(),
    };
    for c in checks {
        let before = prev.checks.get(&c.id);
        let entry = if c.status == Status::Ok {
            match before {
                Some(e)
                    if e.status != Status::Ok
                        && e.last_mailed_at.is_some()
                        && !resolved_mailed.contains(&c.id) =>
                {
                    e.clone()
                }
                _ => Entry {
                    status: Status::Ok,
                    kind: c.kind.to_string(),
                    since: None,
                    last_mailed_at: None,
                    what: what(c),
                },
            }
        } else {
            let continuing = before.filter(|e| e.status != Status::Ok);
            let same_status = continuing.is_some_and(|e| e.status == c.status);
            Entry {
                status: c.status,
                kind: c.kind.to_string(),
                since: continuing
                    .and_then(|e| e.since.clone())
                    .or_else(|| Some(c.since.clone().unwrap_or_else(|| rfc3339(now)))),
                last_mailed_at: if mailed.contains(&c.id) {
                    Some(rfc3339(now))
                } else if same_status {
                    continuing.and_then(|e| e.last_mailed_at.clone())
                } else {
                    None
                },
                what: what(c),
            }
        };
        out.checks.insert(c.id.clone(), entry);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn check(status: Status) -> CheckResult {
        CheckResult::new(
            "cron_heartbeat:o/r:x.yml",
            "cron_heartbeat",
            "x.yml",
            status,
            "m".into(),
        )
    }

    fn what(_: &CheckResult) -> String {
        "cron heartbeat STALE: x".into()
    }

    /// One run: plan, deliver (or not), and the next state.
    fn run(prev: &State, status: Status, at: &str, delivered: bool) -> (Plan, State) {
        let checks = vec![check(status)];
        let plan = plan(prev, &checks, t(at), Duration::hours(24));
        let ok: BTreeSet<String> = if delivered {
            plan.alert.keys().cloned().collect()
        } else {
            BTreeSet::new()
        };
        let res: BTreeSet<String> = if delivered {
            plan.resolved.iter().map(|r| r.id.clone()).collect()
        } else {
            BTreeSet::new()
        };
        let next = next(prev, &checks, &ok, &res, what, t(at));
        (plan, next)
    }

    #[test]
    fn stale_then_quiet_then_reminder_then_resolved() {
        let s0 = State::default();
        let (p, s1) = run(&s0, Status::Critical, "2026-05-23T06:30:00Z", true);
        assert_eq!(p.alert.values().collect::<Vec<_>>(), [&Reason::New]);
        let (p, s2) = run(&s1, Status::Critical, "2026-05-23T07:30:00Z", true);
        assert!(p.alert.is_empty(), "an hour later: no mail");
        let (p, s3) = run(&s2, Status::Critical, "2026-05-24T07:30:00Z", true);
        assert_eq!(p.alert.values().collect::<Vec<_>>(), [&Reason::Reminder]);
        assert_eq!(
            s3.checks["cron_heartbeat:o/r:x.yml"].since.as_deref(),
            Some("2026-05-23T06:30:00Z")
        );
        let (p, s4) = run(&s3, Status::Ok, "2026-05-24T09:00:00Z", true);
        assert_eq!(p.resolved.len(), 1);
        assert_eq!(p.resolved[0].since.as_deref(), Some("2026-05-23T06:30:00Z"));
        let (p, _) = run(&s4, Status::Ok, "2026-05-25T09:00:00Z", true);
        assert!(
            p.resolved.is_empty() && p.alert.is_empty(),
            "resolved is said once"
        );
    }

    #[test]
    fn a_failed_delivery_is_retried_next_run() {
        let (p, s1) = run(
            &State::default(),
            Status::Critical,
            "2026-05-23T06:30:00Z",
            false,
        );
        assert_eq!(p.alert.len(), 1);
        assert_eq!(s1.checks["cron_heartbeat:o/r:x.yml"].last_mailed_at, None);
        let (p, s2) = run(&s1, Status::Critical, "2026-05-23T07:30:00Z", true);
        assert_eq!(p.alert.values().collect::<Vec<_>>(), [&Reason::Retry]);
        assert!(
            s2.checks["cron_heartbeat:o/r:x.yml"]
                .last_mailed_at
                .is_some()
        );
    }

    #[test]
    fn a_change_of_status_mails_and_an_undelivered_resolved_is_retried() {
        let (_, s1) = run(
            &State::default(),
            Status::Warning,
            "2026-05-23T06:30:00Z",
            true,
        );
        let (p, s2) = run(&s1, Status::Critical, "2026-05-23T07:30:00Z", true);
        assert_eq!(p.alert.values().collect::<Vec<_>>(), [&Reason::Changed]);
        let (p, s3) = run(&s2, Status::Ok, "2026-05-23T08:30:00Z", false);
        assert_eq!(p.resolved.len(), 1);
        let (p, _) = run(&s3, Status::Ok, "2026-05-23T09:30:00Z", true);
        assert_eq!(p.resolved.len(), 1, "tried again");
    }

    #[test]
    fn silenced_checks_are_not_mailed_until_the_silence_ends() {
        let mut c = check(Status::Critical);
        c.silenced = true;
        let p = plan(
            &State::default(),
            &[c.clone()],
            t("2026-05-23T06:30:00Z"),
            Duration::hours(24),
        );
        assert!(p.alert.is_empty());
        let s1 = next(
            &State::default(),
            &[c.clone()],
            &BTreeSet::new(),
            &BTreeSet::new(),
            what,
            t("2026-05-23T06:30:00Z"),
        );
        c.silenced = false;
        let p = plan(&s1, &[c], t("2026-05-24T06:30:00Z"), Duration::hours(24));
        assert_eq!(p.alert.values().collect::<Vec<_>>(), [&Reason::Retry]);
    }

    #[test]
    fn missing_or_broken_files_are_a_first_run() {
        let dir = std::env::temp_dir().join(format!("hm-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let Loaded::State(s, Some(note)) = load(&dir.join("none.json")) else {
            panic!("a missing file is a first run")
        };
        assert_eq!(s, State::default());
        assert!(note.contains("first run"));
        std::fs::write(dir.join("bad.json"), "{not json").unwrap();
        let Loaded::State(_, Some(note)) = load(&dir.join("bad.json")) else {
            panic!("a damaged file is a first run")
        };
        assert!(note.contains("not valid"));
        std::fs::write(dir.join("old.json"), r#"{"version": 0, "checks": {}}"#).unwrap();
        assert!(
            matches!(load(&dir.join("old.json")), Loaded::State(_, Some(n)) if n.contains("version 0"))
        );
        std::fs::write(dir.join("new.json"), r#"{"version": 2, "checks": {}}"#).unwrap();
        assert!(
            matches!(load(&dir.join("new.json")), Loaded::Refused(why) if why.contains("newer"))
        );
        let state = next(
            &State::default(),
            &[check(Status::Critical)],
            &BTreeSet::new(),
            &BTreeSet::new(),
            what,
            t("2026-05-23T06:30:00Z"),
        );
        save(&dir.join("ok.json"), &state).unwrap();
        assert_eq!(load(&dir.join("ok.json")), Loaded::State(state, None));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
