//! What to mail: one mail per check that is not ok, and one `MONITOR FAILED` mail when any
//! check (or the monitor itself) could not tell. Composing is pure; sending is `postmark`.

pub mod postmark;

use chrono::{DateTime, Utc};

use crate::checks::{CheckResult, Kind, Status};
use crate::time::rfc3339;

/// A mail to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    /// Subject, with the prefix.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// What every mail shares.
#[derive(Debug, Clone)]
pub struct MailContext<'a> {
    /// e.g. `[Raxx ops]`.
    pub prefix: &'a str,
    /// The team's runbook.
    pub runbook_url: Option<&'a str>,
    /// This monitor's own workflow run.
    pub run_url: Option<&'a str>,
    /// The instant the checks were evaluated at.
    pub now: DateTime<Utc>,
}

/// The mails for `checks` and the monitor's own `errors`, in check order, the
/// `MONITOR FAILED` mail last.
pub fn compose(checks: &[CheckResult], errors: &[String], ctx: &MailContext) -> Vec<Mail> {
    let mut mails: Vec<Mail> = checks
        .iter()
        .filter(|c| matches!(c.status, Status::Warning | Status::Critical))
        .map(|c| check_mail(c, ctx))
        .collect();
    let unknown: Vec<&CheckResult> = checks
        .iter()
        .filter(|c| c.status == Status::Unknown)
        .collect();
    if !unknown.is_empty() || !errors.is_empty() {
        mails.push(monitor_failed(&unknown, errors, ctx));
    }
    mails
}

/// The subject of a mail about `check`, without the prefix.
pub fn subject_of(check: &CheckResult) -> String {
    match check.kind {
        Kind::CronHeartbeat => format!("cron heartbeat STALE: {}", check.subject_name),
        Kind::RepoActivity => format!("cron heartbeat AT RISK: {}", check.subject_name),
        Kind::HerokuSlug if check.status == Status::Critical => {
            format!("heroku NO SLUG: {}", check.subject_name)
        }
        Kind::HerokuSlug => format!("heroku RELEASE FAILED: {}", check.subject_name),
        Kind::HerokuDynos => format!("heroku DYNOS DOWN: {}", check.subject_name),
        Kind::HttpProbe | Kind::PagesDeploy => format!("surface DEGRADED: {}", check.subject_name),
        Kind::StuckPromotion => format!("promotion STUCK: {}", check.subject_name),
    }
}

fn check_mail(c: &CheckResult, ctx: &MailContext) -> Mail {
    let mut body = format!(
        "{} {} is {}\n\n{}\n\n",
        c.kind.as_str(),
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
    if let Some(u) = ctx.runbook_url {
        line("Runbook:", u);
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
        subject: format!("{} {}", ctx.prefix, subject_of(c)),
        body,
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
    body.push_str(
        "First steps:\n\
- open the monitor run's log;\n\
- check that GITHUB_TOKEN has actions: read (set under permissions: in the workflow);\n\
- check that POSTMARK_SERVER_TOKEN, OPS_ALERT_EMAIL and OPS_ALERT_FROM are set.\n\n",
    );
    body.push_str(&format!("{:<13}{}\n", "Seen at:", rfc3339(ctx.now)));
    if let Some(u) = ctx.run_url {
        body.push_str(&format!("{:<13}{u}\n", "Monitor run:"));
    }
    if let Some(u) = ctx.runbook_url {
        body.push_str(&format!("{:<13}{u}\n", "Runbook:"));
    }
    Mail {
        subject: format!("{} cron heartbeat MONITOR FAILED", ctx.prefix),
        body,
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
            Kind::CronHeartbeat,
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
        let checks = vec![
            check(Status::Ok, "fine"),
            check(Status::Critical, "trace-integrity-cron"),
            check(Status::Unknown, "a"),
            check(Status::Unknown, "b"),
        ];
        let mails = compose(&checks, &[], &ctx());
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
            "Runbook:     https://example.invalid/runbook",
        ] {
            assert!(stale.contains(want), "missing {want:?} in\n{stale}");
        }
        let failed = &mails[1].body;
        assert!(failed.contains("- cron_heartbeat:o/r:a.yml: a says unknown"));
        assert!(failed.contains("- cron_heartbeat:o/r:b.yml: b says unknown"));
    }

    #[test]
    fn all_ok_mails_nothing() {
        assert!(compose(&[check(Status::Ok, "x")], &[], &ctx()).is_empty());
    }

    #[test]
    fn monitor_errors_alone_mail_monitor_failed() {
        let mails = compose(&[], &["could not write the result".into()], &ctx());
        assert_eq!(mails.len(), 1);
        assert!(mails[0].body.contains("- could not write the result"));
    }
}
