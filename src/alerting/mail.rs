//! What to mail: one mail per check that is not ok, one `MONITOR FAILED` mail when any check
//! (or the monitor itself) could not tell, and one `RESOLVED` mail per recovery. Composing is
//! pure; `postmark` and `smtp` send.

use chrono::{DateTime, Utc};

use crate::alerting::state::Recovered;
use crate::checks::kind_named;
use crate::model::{CheckResult, Status};
use crate::util::text::one_line;
use crate::util::time::rfc3339;

/// A mail to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    /// Subject, with the prefix.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// The checks it tells of: they count as alerted once it is accepted.
    pub ids: Vec<String>,
    /// Whether it announces a recovery.
    pub resolves: bool,
}

/// What every mail shares.
#[derive(Debug, Clone)]
pub struct MailContext<'a> {
    /// e.g. `[heartbeat-monitor]`.
    pub prefix: &'a str,
    /// The team's runbook; each mail links the section of its subject.
    pub runbook_url: Option<&'a str>,
    /// This monitor's own workflow run.
    pub run_url: Option<&'a str>,
    /// The instant the checks were evaluated at.
    pub now: DateTime<Utc>,
}

impl MailContext<'_> {
    /// The runbook section of a subject: GitHub's anchor of the heading of that name.
    pub fn runbook(&self, subject: &str) -> Option<String> {
        let heading = subject.split(':').next().unwrap_or(subject);
        let anchor = heading.trim().to_ascii_lowercase().replace(' ', "-");
        self.runbook_url.map(|u| format!("{u}#{anchor}"))
    }
}

/// The mails of one run: one per check in `alert` that is warning or critical; one
/// `MONITOR FAILED` listing `unknown` and `errors` when there is any; one per recovery.
pub fn compose(
    alert: &[&CheckResult],
    unknown: &[&CheckResult],
    errors: &[String],
    resolved: &[(&Recovered, &CheckResult)],
    ctx: &MailContext,
) -> Vec<Mail> {
    let mut mails: Vec<Mail> = alert
        .iter()
        .filter(|c| matches!(c.status, Status::Warning | Status::Critical))
        .map(|c| check_mail(c, ctx))
        .collect();
    if !unknown.is_empty() || !errors.is_empty() {
        mails.push(monitor_failed(unknown, errors, ctx));
    }
    mails.extend(resolved.iter().map(|(r, c)| resolved_mail(r, c, ctx)));
    // A subject is a mail header: server text in it (a discovered workflow's name) must not
    // start another header.
    for m in &mut mails {
        m.subject = one_line(&m.subject);
    }
    mails
}

/// The subject of a mail about `check`, without the prefix; for an unknown check, what its
/// recovery resolves.
pub fn subject_of(check: &CheckResult) -> String {
    if check.status == Status::Unknown {
        return format!("{MONITOR_FAILED} ({})", check.id);
    }
    match kind_named(check.kind) {
        Some(kind) => kind.subject(check),
        None => format!("{} PROBLEM: {}", check.kind, check.subject_name),
    }
}

/// The subject of the mail about checks that could not be evaluated.
pub const MONITOR_FAILED: &str = "cron heartbeat MONITOR FAILED";

fn check_mail(c: &CheckResult, ctx: &MailContext) -> Mail {
    let mut body = format!(
        "{} {} is {}\n\n{}\n\n",
        c.kind,
        c.target,
        c.status.as_str().to_uppercase(),
        c.message
    );
    let mut line = |label: &str, value: &str| body.push_str(&format!("{label:<13}{value}\n"));
    line(
        "Since:",
        c.since
            .as_deref()
            .unwrap_or("never (no good state on record)"),
    );
    if let Some(t) = &c.threshold {
        line("Threshold:", t);
    }
    if let Some(l) = &c.link {
        line("Look at:", l);
    }
    line("Check:", &c.id);
    line("Seen at:", &rfc3339(ctx.now));
    if let Some(u) = ctx.run_url {
        line("Monitor run:", u);
    }
    let subject = subject_of(c);
    if let Some(u) = ctx.runbook(&subject) {
        line("Runbook:", &u);
    }
    if !c.hints.is_empty() {
        body.push_str("\nTo confirm and fix:\n");
        for h in &c.hints {
            body.push_str(&format!("  {h}\n"));
        }
    }
    body.push_str("\nWhat the run saw:\n");
    body.push_str(&serde_json::to_string_pretty(&c.details).unwrap_or_default());
    body.push('\n');
    Mail {
        subject: format!("{} {subject}", ctx.prefix),
        body,
        ids: vec![c.id.clone()],
        resolves: false,
    }
}

fn resolved_mail(r: &Recovered, now: &CheckResult, ctx: &MailContext) -> Mail {
    let lasted = r
        .since
        .as_deref()
        .and_then(|s| s.parse::<DateTime<Utc>>().ok())
        .map(|s| {
            format!(
                "It lasted {} (since {}).",
                crate::util::time::human(ctx.now - s),
                rfc3339(s)
            )
        })
        .unwrap_or_default();
    let mut body = format!(
        "RESOLVED: {}\n\n{} {} is ok again: {}\n{lasted}\n\n",
        r.what, now.kind, now.target, now.message
    );
    body.push_str(&format!(
        "{:<13}{}\n{:<13}{}\n",
        "Check:",
        r.id,
        "Seen at:",
        rfc3339(ctx.now)
    ));
    if let Some(u) = ctx.run_url {
        body.push_str(&format!("{:<13}{u}\n", "Monitor run:"));
    }
    Mail {
        subject: format!("{} RESOLVED: {}", ctx.prefix, r.what),
        body,
        ids: vec![r.id.clone()],
        resolves: true,
    }
}

fn monitor_failed(unknown: &[&CheckResult], errors: &[String], ctx: &MailContext) -> Mail {
    let mut body = String::from(
        "heartbeat-monitor could not evaluate everything it watches: the health of what is \
listed below is UNKNOWN, which is itself an alert.\n\n",
    );
    if !unknown.is_empty() {
        body.push_str("Checks that could not be evaluated:\n");
        for c in unknown {
            body.push_str(&format!("- {}: {}\n", c.id, c.message));
        }
        body.push('\n');
    }
    if !errors.is_empty() {
        body.push_str("Problems of the monitor itself:\n");
        for e in errors {
            body.push_str(&format!("- {e}\n"));
        }
        body.push('\n');
    }
    body.push_str("First steps:\n");
    let failures = unknown.iter().map(|c| c.message.as_str());
    for step in super::first_steps::for_failures(failures.chain(errors.iter().map(String::as_str)))
    {
        body.push_str(&format!("- {step};\n"));
    }
    body.push('\n');
    body.push_str(&format!("{:<13}{}\n", "Seen at:", rfc3339(ctx.now)));
    if let Some(u) = ctx.run_url {
        body.push_str(&format!("{:<13}{u}\n", "Monitor run:"));
    }
    if let Some(u) = ctx.runbook(MONITOR_FAILED) {
        body.push_str(&format!("{:<13}{u}\n", "Runbook:"));
    }
    Mail {
        subject: format!("{} {MONITOR_FAILED}", ctx.prefix),
        body,
        ids: unknown.iter().map(|c| c.id.clone()).collect(),
        resolves: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> MailContext<'static> {
        MailContext {
            prefix: "[Raxx ops]",
            runbook_url: Some("https://example.invalid/runbook"),
            run_url: Some("https://github.com/o/r/actions/runs/9"),
            now: "2026-05-23T06:30:00Z".parse().unwrap(),
        }
    }

    fn check(status: Status, name: &str) -> CheckResult {
        let mut c = CheckResult::new(
            &format!("cron_heartbeat:o/r:{name}.yml"),
            "cron_heartbeat",
            &format!("{name}.yml"),
            status,
            format!("{name} says {}", status.as_str()),
        );
        c.subject_name = name.into();
        c.since = Some("2026-05-18T05:00:00Z".into());
        c.threshold = Some("a successful run every 48 h".into());
        c.link = Some("https://github.com/o/r/actions/runs/7".into());
        c
    }

    #[test]
    fn one_mail_per_problem_and_one_for_the_unknowns() {
        let checks = [
            check(Status::Ok, "fine"),
            check(Status::Critical, "trace-integrity-cron"),
            check(Status::Unknown, "a"),
            check(Status::Unknown, "b"),
        ];
        let alert: Vec<&CheckResult> = checks.iter().filter(|c| c.status != Status::Ok).collect();
        let unknown: Vec<&CheckResult> = checks
            .iter()
            .filter(|c| c.status == Status::Unknown)
            .collect();
        let mails = compose(&alert, &unknown, &[], &[], &ctx());
        let subjects: Vec<_> = mails.iter().map(|m| m.subject.as_str()).collect();
        assert_eq!(
            subjects,
            [
                "[Raxx ops] cron heartbeat STALE: trace-integrity-cron",
                "[Raxx ops] cron heartbeat MONITOR FAILED"
            ]
        );
        let stale = &mails[0].body;
        for want in [
            "trace-integrity-cron says critical",
            "Since:       2026-05-18T05:00:00Z",
            "Threshold:   a successful run every 48 h",
            "Look at:     https://github.com/o/r/actions/runs/7",
            "Monitor run: https://github.com/o/r/actions/runs/9",
            "Runbook:     https://example.invalid/runbook#cron-heartbeat-stale",
        ] {
            assert!(stale.contains(want), "missing {want:?} in\n{stale}");
        }
        let failed = &mails[1].body;
        assert!(failed.contains("- cron_heartbeat:o/r:a.yml: a says unknown"));
        assert!(failed.contains("- cron_heartbeat:o/r:b.yml: b says unknown"));
        assert_eq!(
            mails[1].ids,
            ["cron_heartbeat:o/r:a.yml", "cron_heartbeat:o/r:b.yml"]
        );
        assert!(failed.contains(
            "Runbook:     https://example.invalid/runbook#cron-heartbeat-monitor-failed"
        ));
    }

    #[test]
    fn a_recovery_says_how_long_it_lasted() {
        let rec = Recovered {
            id: "cron_heartbeat:o/r:x.yml".into(),
            what: "cron heartbeat STALE: x".into(),
            since: Some("2026-05-22T06:30:00Z".into()),
        };
        let now = check(Status::Ok, "x");
        let mails = compose(&[], &[], &[], &[(&rec, &now)], &ctx());
        assert_eq!(
            mails[0].subject,
            "[Raxx ops] RESOLVED: cron heartbeat STALE: x"
        );
        assert!(
            mails[0]
                .body
                .contains("It lasted 24 h (since 2026-05-22T06:30:00Z)."),
            "{}",
            mails[0].body
        );
        assert!(mails[0].resolves);
    }

    #[test]
    fn a_subject_is_one_line_whatever_the_server_named() {
        let mut c = check(Status::Critical, "nightly");
        c.subject_name = "nightly\r\nBcc: everyone@raxx.app".into();
        let rec = Recovered {
            id: c.id.clone(),
            what: "cron heartbeat STALE: a\nb".into(),
            since: None,
        };
        let ok = check(Status::Ok, "x");
        let mails = compose(&[&c], &[], &[], &[(&rec, &ok)], &ctx());
        assert_eq!(
            mails[0].subject,
            "[Raxx ops] cron heartbeat STALE: nightly  Bcc: everyone@raxx.app"
        );
        assert_eq!(
            mails[1].subject,
            "[Raxx ops] RESOLVED: cron heartbeat STALE: a b"
        );
    }

    #[test]
    fn all_ok_mails_nothing() {
        let ok = check(Status::Ok, "x");
        assert!(compose(&[&ok], &[], &[], &[], &ctx()).is_empty());
    }

    #[test]
    fn monitor_errors_alone_mail_monitor_failed() {
        let mails = compose(
            &[],
            &[],
            &["could not write the result".into()],
            &[],
            &ctx(),
        );
        assert_eq!(mails.len(), 1);
        assert!(mails[0].body.contains("- could not write the result"));
    }
}
