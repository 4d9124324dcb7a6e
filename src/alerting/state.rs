//! Alert state between runs: what each check's status was and when it was last mailed, so a
//! team hears of a problem when it starts, when it changes, as a reminder while it lasts, and
//! once more when it is resolved; not every run. Deciding is pure; the file is versioned and
//! written atomically.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::clients::budget::Cached;
use crate::model::{CheckResult, Status};
use crate::util::fs::{ReadError, read_regular};
use crate::util::time::rfc3339;

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
    /// Its status at the last run that could evaluate it (`unknown` only if none ever could).
    pub status: Status,
    /// Its kind.
    pub kind: String,
    /// Since when it has not been ok (when it is not).
    pub since: Option<String>,
    /// When the team was last told of it; `None` until a mail was accepted.
    pub last_mailed_at: Option<String>,
    /// What it was, in mail-subject words, for the RESOLVED mail.
    pub what: String,
    /// The channels (`mail`, `github_issues`, …) that have not yet delivered the latest event
    /// about it, so that a later run delivers it to them.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub owed: BTreeSet<String>,
    /// While it cannot be evaluated after it could: since when, and what was told of that.
    /// The fields above stay as they were, so a blip neither loses nor repeats them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown: Option<Unevaluated>,
}

/// A check that could not be evaluated, beside what it was when it last could.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unevaluated {
    /// Since when.
    pub since: String,
    /// When MONITOR FAILED was last told of it.
    pub last_mailed_at: Option<String>,
    /// What it is, for the RESOLVED mail.
    pub what: String,
    /// The channels that have not yet delivered MONITOR FAILED.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub owed: BTreeSet<String>,
}

impl Entry {
    /// Whether the previous run could not evaluate it.
    pub fn was_unknown(&self) -> bool {
        self.status == Status::Unknown || self.unknown.is_some()
    }
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
    /// Checks to alert about, with why: on every channel.
    pub alert: BTreeMap<String, Reason>,
    /// Checks to announce as resolved.
    pub resolved: Vec<Recovered>,
    /// Checks with nothing new whose latest event (an alert, or a RESOLVED) some channels
    /// still owe: to them only.
    pub owed: BTreeMap<String, BTreeSet<String>>,
}

/// What became of one check's event this run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delivery {
    /// It went to every channel (not only to those that owed it).
    pub to_all: bool,
    /// Some channel accepted it.
    pub accepted: bool,
    /// The channels that were given it and did not take it.
    pub failed: BTreeSet<String>,
}

/// What the run's delivery did, for the next state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Per check that had an event (an alert or a RESOLVED), what became of it.
    pub delivered: BTreeMap<String, Delivery>,
    /// Every channel configured: one no longer configured is owed nothing.
    pub channels: BTreeSet<String>,
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
    crate::util::fs::write_atomically_with(path, |f| {
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
            if let Some((r, to)) = before.and_then(|e| recovered(&c.id, e)) {
                plan.owed.extend(to.map(|to| (c.id.clone(), to)));
                plan.resolved.push(r);
            }
            continue;
        }
        if c.silenced {
            continue;
        }
        // Unknown now after a known status: what was told of its being unknown decides.
        let told = match before {
            Some(e) if c.status == Status::Unknown && e.status != Status::Unknown => e
                .unknown
                .as_ref()
                .map(|u| (Status::Unknown, &u.last_mailed_at, &u.owed)),
            Some(e) => Some((e.status, &e.last_mailed_at, &e.owed)),
            None => None,
        };
        let reason = match told {
            None => Some(Reason::New),
            Some((Status::Ok, _, _)) => Some(Reason::New),
            Some((status, _, _)) if status != c.status => Some(Reason::Changed),
            Some((_, last, _)) => match last
                .as_deref()
                .and_then(|t| t.parse::<DateTime<Utc>>().ok())
            {
                None => Some(Reason::Retry),
                Some(t) if now - t >= remind_after => Some(Reason::Reminder),
                Some(_) => None,
            },
        };
        match (reason, told) {
            (Some(r), _) => {
                plan.alert.insert(c.id.clone(), r);
            }
            (None, Some((_, _, owed))) if !owed.is_empty() => {
                plan.owed.insert(c.id.clone(), owed.clone());
            }
            _ => {}
        }
    }
    plan
}

/// The RESOLVED a check that is ok now is owed, if any, and to which channels (`None`: every
/// one): it was told of a problem, or of not being evaluated, or a RESOLVED told before did
/// not reach every channel.
fn recovered(id: &str, e: &Entry) -> Option<(Recovered, Option<BTreeSet<String>>)> {
    let of = |what: &str, since: Option<&str>, to: Option<BTreeSet<String>>| {
        let r = Recovered {
            id: id.to_string(),
            what: what.to_string(),
            since: since.map(String::from),
        };
        (r, to)
    };
    if e.status != Status::Ok && e.last_mailed_at.is_some() {
        return Some(of(&e.what, e.since.as_deref(), None));
    }
    if let Some(u) = e.unknown.as_ref().filter(|u| u.last_mailed_at.is_some()) {
        return Some(of(&u.what, Some(&u.since), None));
    }
    (e.status == Status::Ok && !e.owed.is_empty())
        .then(|| of(&e.what, e.since.as_deref(), Some(e.owed.clone())))
}

/// Whether the entry of a check that could not be evaluated, `pattern`, stands for `id`: the
/// check itself, or a `*` in it (discovery's `cron_heartbeat:R:*`) matching any text.
fn stands_for(pattern: &str, id: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return false;
    };
    let Some(mut rest) = id.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// The state after this run, from what its delivery did. An undelivered RESOLVED keeps the
/// old entry, so it is tried again next run; a check that could not be evaluated keeps its
/// entry as it was, and so do the checks it stands for.
pub fn next(
    prev: &State,
    checks: &[CheckResult],
    outcome: &Outcome,
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
        let entry = entry(c, prev.checks.get(&c.id), outcome, &what, now);
        out.checks.insert(c.id.clone(), entry);
    }
    // What could not be evaluated keeps the entries it stands for (a repository's discovered
    // workflows behind `cron_heartbeat:R:*`), unchanged, for the run that sees them again.
    for c in checks.iter().filter(|c| c.status == Status::Unknown) {
        for (id, e) in &prev.checks {
            if id != &c.id && stands_for(&c.id, id) && !out.checks.contains_key(id) {
                out.checks.insert(id.clone(), e.clone());
            }
        }
    }
    out
}

/// What the next state remembers of `c`, from its entry `before` and what became of its event.
fn entry(
    c: &CheckResult,
    before: Option<&Entry>,
    outcome: &Outcome,
    what: &impl Fn(&CheckResult) -> String,
    now: DateTime<Utc>,
) -> Entry {
    let delivery = outcome.delivered.get(&c.id);
    let accepted = delivery.is_some_and(|d| d.accepted);
    // Owed afterwards: what this run's event did not deliver, or what was owed before.
    let owed = |before: &BTreeSet<String>| -> BTreeSet<String> {
        delivery
            .map_or(before, |d| &d.failed)
            .intersection(&outcome.channels)
            .cloned()
            .collect()
    };
    let ok = |since: Option<String>, what: String, owed: BTreeSet<String>| Entry {
        status: Status::Ok,
        kind: c.kind.to_string(),
        since,
        last_mailed_at: None,
        what,
        owed,
        unknown: None,
    };
    if c.status == Status::Ok {
        match before.and_then(|e| recovered(&c.id, e).map(|r| (e, r))) {
            Some((e, _)) if !accepted => e.clone(),
            Some((_, (r, _))) => match owed(&BTreeSet::new()) {
                left if left.is_empty() => ok(None, what(c), left),
                left => ok(r.since, r.what, left),
            },
            None => ok(None, what(c), BTreeSet::new()),
        }
    } else if let Some(e) =
        before.filter(|e| c.status == Status::Unknown && e.status != Status::Unknown)
    {
        let u = e.unknown.as_ref();
        Entry {
            unknown: Some(Unevaluated {
                since: u
                    .map(|u| u.since.clone())
                    .or_else(|| c.since.clone())
                    .unwrap_or_else(|| rfc3339(now)),
                last_mailed_at: match delivery {
                    Some(d) if d.accepted && d.to_all => Some(rfc3339(now)),
                    _ => u.and_then(|u| u.last_mailed_at.clone()),
                },
                what: what(c),
                owed: owed(u.map_or(&BTreeSet::new(), |u| &u.owed)),
            }),
            ..e.clone()
        }
    } else {
        let continuing = before.filter(|e| e.status != Status::Ok);
        let same_status = continuing.is_some_and(|e| e.status == c.status);
        let kept = continuing.filter(|_| same_status);
        Entry {
            status: c.status,
            kind: c.kind.to_string(),
            since: continuing
                .and_then(|e| e.since.clone())
                .or_else(|| Some(c.since.clone().unwrap_or_else(|| rfc3339(now)))),
            last_mailed_at: match delivery {
                Some(d) if d.accepted && d.to_all => Some(rfc3339(now)),
                _ => kept.and_then(|e| e.last_mailed_at.clone()),
            },
            what: what(c),
            owed: owed(kept.map_or(&BTreeSet::new(), |e| &e.owed)),
            unknown: None,
        }
    }
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

    const CHANNELS: [&str; 2] = ["mail", "github_issues"];

    /// What delivery does with `plan` when only the channels in `accepting` take anything: an
    /// event goes to every channel, or to those that owe it.
    fn deliver(plan: &Plan, accepting: &[&str]) -> Outcome {
        let all: BTreeSet<String> = CHANNELS.iter().map(|c| c.to_string()).collect();
        let mut delivered = BTreeMap::new();
        let mut put = |id: &str, to: Option<&BTreeSet<String>>| {
            let to = to.unwrap_or(&all);
            delivered.insert(
                id.to_string(),
                Delivery {
                    to_all: to == &all,
                    accepted: to.iter().any(|c| accepting.contains(&c.as_str())),
                    failed: to
                        .iter()
                        .filter(|c| !accepting.contains(&c.as_str()))
                        .cloned()
                        .collect(),
                },
            );
        };
        for id in plan.alert.keys() {
            put(id, None);
        }
        for (id, to) in &plan.owed {
            put(id, Some(to));
        }
        for r in plan
            .resolved
            .iter()
            .filter(|r| !plan.owed.contains_key(&r.id))
        {
            put(&r.id, None);
        }
        Outcome {
            delivered,
            channels: all,
        }
    }

    /// One run of `checks`: plan, deliver through `accepting`, and the next state.
    fn step(prev: &State, checks: &[CheckResult], at: &str, accepting: &[&str]) -> (Plan, State) {
        let plan = plan(prev, checks, t(at), Duration::hours(24));
        let next = next(prev, checks, &deliver(&plan, accepting), what, t(at));
        (plan, next)
    }

    /// One run: plan, deliver (or not), and the next state.
    fn run(prev: &State, status: Status, at: &str, delivered: bool) -> (Plan, State) {
        let accepting: &[&str] = if delivered { &CHANNELS } else { &[] };
        step(prev, &[check(status)], at, accepting)
    }

    const X: &str = "cron_heartbeat:o/r:x.yml";

    #[test]
    fn a_blip_keeps_what_was_told_so_it_is_neither_lost_nor_repeated() {
        let (_, s1) = run(
            &State::default(),
            Status::Critical,
            "2026-05-23T06:30:00Z",
            true,
        );
        let (p, s2) = run(&s1, Status::Unknown, "2026-05-23T07:30:00Z", true);
        assert_eq!(p.alert.values().collect::<Vec<_>>(), [&Reason::New]);
        let kept = &s2.checks[X];
        assert_eq!(kept.status, Status::Critical);
        assert_eq!(kept.since, s1.checks[X].since);
        assert_eq!(kept.last_mailed_at, s1.checks[X].last_mailed_at);
        let (p, _) = run(&s2, Status::Unknown, "2026-05-23T08:30:00Z", true);
        assert!(p.alert.is_empty(), "MONITOR FAILED is not repeated");
        let (p, _) = run(&s2, Status::Critical, "2026-05-23T08:30:00Z", true);
        assert!(p.alert.is_empty(), "still the problem told: quiet");
        let (p, _) = run(&s2, Status::Ok, "2026-05-23T08:30:00Z", true);
        assert_eq!(p.resolved.len(), 1);
        assert_eq!(p.resolved[0].what, "cron heartbeat STALE: x");
        assert_eq!(p.resolved[0].since.as_deref(), Some("2026-05-23T06:30:00Z"));
    }

    #[test]
    fn a_discovery_that_cannot_report_keeps_the_entries_it_stands_for() {
        let (_, s1) = run(
            &State::default(),
            Status::Critical,
            "2026-05-23T06:30:00Z",
            true,
        );
        let blip = CheckResult::new(
            "cron_heartbeat:o/r:*",
            "cron_heartbeat",
            "o/r",
            Status::Unknown,
            "could not list the workflows".into(),
        );
        let (_, s2) = step(&s1, &[blip], "2026-05-23T07:30:00Z", &CHANNELS);
        assert_eq!(s2.checks[X], s1.checks[X], "kept unchanged");
        let (p, _) = run(&s2, Status::Ok, "2026-05-23T08:30:00Z", true);
        assert_eq!(p.resolved.len(), 1, "its recovery is told");
        assert!(stands_for(
            "cron_heartbeat:o/*:*",
            "cron_heartbeat:o/r:x.yml"
        ));
        assert!(!stands_for(
            "cron_heartbeat:o/r:*",
            "cron_heartbeat:o/r2:x.yml"
        ));
        assert!(!stands_for("http_probe:api", "http_probe:api2"));
    }

    #[test]
    fn what_a_channel_could_not_deliver_goes_to_it_alone_later() {
        let at = "2026-05-23T06:30:00Z";
        let (_, s1) = step(&State::default(), &[check(Status::Critical)], at, &["mail"]);
        assert_eq!(
            s1.checks[X].owed,
            BTreeSet::from(["github_issues".to_string()])
        );
        let (p, s2) = step(
            &s1,
            &[check(Status::Critical)],
            "2026-05-23T07:30:00Z",
            &CHANNELS,
        );
        assert!(p.alert.is_empty(), "mail was told: no second mail");
        assert_eq!(p.owed[X], BTreeSet::from(["github_issues".to_string()]));
        assert!(s2.checks[X].owed.is_empty());
        assert_eq!(
            s2.checks[X].last_mailed_at.as_deref(),
            Some(at),
            "the reminder keeps its time"
        );
        // A RESOLVED that mail took and the issues did not is owed to the issues alone.
        let (p, s3) = step(&s2, &[check(Status::Ok)], "2026-05-23T08:30:00Z", &["mail"]);
        assert!(p.owed.is_empty(), "to every channel");
        let (p, s4) = step(&s3, &[check(Status::Ok)], "2026-05-23T09:30:00Z", &CHANNELS);
        assert_eq!(p.resolved.len(), 1);
        assert_eq!(p.owed[X], BTreeSet::from(["github_issues".to_string()]));
        assert_eq!(p.resolved[0].since.as_deref(), Some(at));
        let (p, _) = step(&s4, &[check(Status::Ok)], "2026-05-23T10:30:00Z", &CHANNELS);
        assert!(p.resolved.is_empty(), "said once everywhere");
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
            &Outcome::default(),
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
            &Outcome::default(),
            what,
            t("2026-05-23T06:30:00Z"),
        );
        save(&dir.join("ok.json"), &state).unwrap();
        assert_eq!(load(&dir.join("ok.json")), Loaded::State(state, None));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
