//! The one decision of a run: from the alert state (or, without one, every problem) and the
//! results, the events to tell, typed, in the order the mails go, and the channels each goes
//! to. Nothing here knows how a channel words an event.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use super::channel::{Event, EventKind, Subject, subject_of};
use super::state::{self, Plan, Reason, State};
use crate::model::{CheckResult, Status};

/// The channels an event goes to: `None` for every one.
pub type Target = Option<BTreeSet<String>>;

/// One event to tell, and where.
#[derive(Debug, Clone)]
pub struct Due<'a> {
    /// What to tell.
    pub event: Event<'a>,
    /// To which channels.
    pub to: Target,
}

impl Due<'_> {
    /// Whether the channel named `name` is given it.
    pub fn goes_to(&self, name: &str) -> bool {
        self.to.as_ref().is_none_or(|t| t.contains(name))
    }
}

/// The events of this run: one per check that is warning or critical and due (or owed); one
/// `MONITOR FAILED` naming every current unknown when any is, or when the monitor itself has
/// `errors`; one per recovery. Silenced checks are never told. `channels` are the names of
/// those configured: one no longer configured is owed nothing (an event owed to none is told).
pub fn events<'a>(
    prev: Option<&State>,
    checks: &'a [CheckResult],
    errors: &'a [String],
    now: DateTime<Utc>,
    remind_after: Duration,
    channels: &BTreeSet<String>,
) -> Vec<Due<'a>> {
    let mut plan = match prev {
        Some(prev) => state::plan(prev, checks, now, remind_after),
        None => first_run(checks),
    };
    for owed in plan.owed.values_mut() {
        owed.retain(|n| channels.contains(n));
    }
    let alert: Vec<&CheckResult> = checks
        .iter()
        .filter(|c| c.status != Status::Ok)
        .filter(|c| plan.alert.contains_key(&c.id) || plan.owed.contains_key(&c.id))
        .collect();
    let mut due: Vec<Due<'a>> = alert
        .iter()
        .filter(|c| matches!(c.status, Status::Warning | Status::Critical))
        .map(|c| Due {
            event: Event {
                kind: match plan.alert.get(&c.id) {
                    Some(Reason::Changed) => EventKind::Change,
                    Some(Reason::Reminder) => EventKind::Reminder,
                    _ => EventKind::Problem,
                },
                subject: Subject::Check(subject_of(c)),
                checks: vec![c],
                since: c.since.clone(),
                lasted: None,
                errors: &[],
            },
            to: told(&plan, &c.id),
        })
        .collect();
    due.extend(monitor_failed(&plan, &alert, checks, errors));
    due.extend(plan.resolved.iter().filter_map(|r| {
        let c = checks.iter().find(|c| c.id == r.id)?;
        let start = r
            .since
            .as_deref()
            .and_then(|s| s.parse::<DateTime<Utc>>().ok());
        Some(Due {
            event: Event {
                kind: EventKind::Resolved,
                subject: Subject::Resolved(r.what.clone()),
                checks: vec![c],
                since: r.since.clone(),
                lasted: start.map(|s| now - s),
                errors: &[],
            },
            to: told(&plan, &r.id),
        })
    }));
    due
}

/// Without a state: every problem that is not silenced, as new.
fn first_run(checks: &[CheckResult]) -> Plan {
    Plan {
        alert: checks
            .iter()
            .filter(|c| c.status != Status::Ok && !c.silenced)
            .map(|c| (c.id.clone(), Reason::New))
            .collect(),
        ..Plan::default()
    }
}

/// Where the event about `id` goes: everywhere when it is due, else to those that owe it.
fn told(plan: &Plan, id: &str) -> Target {
    if plan.alert.contains_key(id) {
        None
    } else {
        plan.owed.get(id).cloned()
    }
}

/// One MONITOR FAILED naming every current unknown, once any of them is due (on every
/// channel), or owed (on the channels that owe it); always, on every channel, when the
/// monitor itself failed.
fn monitor_failed<'a>(
    plan: &Plan,
    alert: &[&'a CheckResult],
    checks: &'a [CheckResult],
    errors: &'a [String],
) -> Option<Due<'a>> {
    let is_unknown = |c: &&&CheckResult| c.status == Status::Unknown;
    let due_unknown = alert
        .iter()
        .filter(is_unknown)
        .any(|c| plan.alert.contains_key(&c.id));
    let unknown: Vec<&CheckResult> = if alert.iter().any(|c| is_unknown(&c)) {
        checks
            .iter()
            .filter(|c| c.status == Status::Unknown && !c.silenced)
            .collect()
    } else {
        Vec::new()
    };
    if unknown.is_empty() && errors.is_empty() {
        return None;
    }
    let to = if due_unknown || !errors.is_empty() {
        None
    } else {
        Some(
            unknown
                .iter()
                .filter_map(|c| plan.owed.get(&c.id))
                .flatten()
                .cloned()
                .collect(),
        )
    };
    Some(Due {
        event: Event {
            kind: EventKind::MonitorFailed,
            subject: Subject::MonitorFailed,
            checks: unknown,
            since: None,
            lasted: None,
            errors,
        },
        to,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerting::channel::MONITOR_FAILED;
    use crate::alerting::state::Entry;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn check(name: &str, status: Status) -> CheckResult {
        let mut c = CheckResult::new(
            &format!("cron_heartbeat:o/r:{name}.yml"),
            "cron_heartbeat",
            &format!("{name}.yml"),
            status,
            format!("{name} says {}", status.as_str()),
        );
        c.subject_name = name.into();
        c
    }

    fn entry(status: Status, mailed: Option<&str>, owed: &[&str]) -> Entry {
        Entry {
            status,
            kind: "cron_heartbeat".into(),
            since: Some("2026-05-22T06:30:00Z".into()),
            last_mailed_at: mailed.map(String::from),
            what: "cron heartbeat STALE: was".into(),
            owed: owed.iter().map(|s| s.to_string()).collect(),
            unknown: None,
        }
    }

    fn channels() -> BTreeSet<String> {
        ["mail", "slack"].into_iter().map(String::from).collect()
    }

    fn kinds(due: &[Due<'_>]) -> Vec<(EventKind, String)> {
        due.iter()
            .map(|d| (d.event.kind, d.event.subject.to_string()))
            .collect()
    }

    #[test]
    fn a_first_run_tells_every_problem_then_monitor_failed_with_every_unknown() {
        let mut silenced = check("quiet", Status::Critical);
        silenced.silenced = true;
        let checks = [
            check("fine", Status::Ok),
            check("late", Status::Critical),
            silenced,
            check("a", Status::Unknown),
            check("b", Status::Warning),
        ];
        let now = t("2026-05-23T06:30:00Z");
        let due = events(None, &checks, &[], now, Duration::hours(24), &channels());
        assert_eq!(
            kinds(&due),
            [
                (EventKind::Problem, "cron heartbeat STALE: late".into()),
                (EventKind::Problem, "cron heartbeat STALE: b".into()),
                (EventKind::MonitorFailed, MONITOR_FAILED.to_string()),
            ]
        );
        let ids: Vec<&str> = due[2].event.ids().collect();
        assert_eq!(ids, ["cron_heartbeat:o/r:a.yml"]);
        assert!(due.iter().all(|d| d.to.is_none()));
    }

    #[test]
    fn with_a_state_it_tells_changes_reminders_and_recoveries_with_how_long() {
        let mut prev = State::default();
        let id = |n: &str| format!("cron_heartbeat:o/r:{n}.yml");
        let mailed = Some("2026-05-22T06:30:00Z");
        prev.checks
            .insert(id("changed"), entry(Status::Warning, mailed, &[]));
        prev.checks
            .insert(id("old"), entry(Status::Critical, mailed, &[]));
        prev.checks
            .insert(id("back"), entry(Status::Critical, mailed, &[]));
        prev.checks.insert(
            id("quiet"),
            entry(Status::Critical, Some("2026-05-23T06:00:00Z"), &[]),
        );
        let checks = [
            check("changed", Status::Critical),
            check("old", Status::Critical),
            check("back", Status::Ok),
            check("quiet", Status::Critical),
        ];
        let now = t("2026-05-23T06:30:00Z");
        let due = events(
            Some(&prev),
            &checks,
            &[],
            now,
            Duration::hours(24),
            &channels(),
        );
        assert_eq!(
            kinds(&due),
            [
                (EventKind::Change, "cron heartbeat STALE: changed".into()),
                (EventKind::Reminder, "cron heartbeat STALE: old".into()),
                (
                    EventKind::Resolved,
                    "RESOLVED: cron heartbeat STALE: was".into()
                ),
            ]
        );
        let back = &due[2].event;
        assert_eq!(back.since.as_deref(), Some("2026-05-22T06:30:00Z"));
        assert_eq!(back.lasted, Some(Duration::hours(24)));
        assert_eq!(
            back.recovery(back.checks[0]),
            "cron_heartbeat back.yml is ok again: back says ok\n\
             It lasted 24 h (since 2026-05-22T06:30:00Z)."
        );
    }

    #[test]
    fn what_is_owed_goes_only_to_the_channels_still_configured_that_owe_it() {
        let mut prev = State::default();
        let id = "cron_heartbeat:o/r:late.yml".to_string();
        let entry = entry(
            Status::Critical,
            Some("2026-05-23T06:00:00Z"),
            &["slack", "gone"],
        );
        prev.checks.insert(id, entry);
        let checks = [check("late", Status::Critical)];
        let now = t("2026-05-23T06:30:00Z");
        let due = events(
            Some(&prev),
            &checks,
            &[],
            now,
            Duration::hours(24),
            &channels(),
        );
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].event.kind, EventKind::Problem);
        assert!(due[0].goes_to("slack"));
        assert!(!due[0].goes_to("mail") && !due[0].goes_to("gone"));
    }

    #[test]
    fn a_monitor_that_failed_itself_tells_everyone_even_with_no_check() {
        let errors = vec!["could not write the result".to_string()];
        let now = t("2026-05-23T06:30:00Z");
        let due = events(None, &[], &errors, now, Duration::hours(24), &channels());
        assert_eq!(
            kinds(&due),
            [(EventKind::MonitorFailed, MONITOR_FAILED.to_string())]
        );
        assert_eq!(due[0].event.errors, errors.as_slice());
        assert!(due[0].event.checks.is_empty() && due[0].to.is_none());
    }
}
