//! `[mail]`: mail, one channel among the others, and the one always there (first, with
//! Postmark, when the file has no `[mail]` or could not be read): one mail per event (a
//! problem, change or reminder of a check that is warning or critical; one `MONITOR FAILED`
//! naming every check that could not tell and the monitor's own problems; one `RESOLVED` per
//! recovery), its body rendered from the event. Composing is pure; `postmark` and `smtp`
//! send, within the mail budget.
//!
//! ```toml
//! [mail]
//! transport = "postmark"   # default; or "smtp" (SMTP_URL)
//! ```

pub mod postmark;
pub mod smtp;

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::channel::{Channel, Context, Deliver, Delivered, Event, EventKind, Kind};
use crate::config::file::{Section, Table};
use crate::config::{Need, Transport};
use crate::model::CheckResult;
use crate::model::Notification;
use crate::util::time::rfc3339;
use postmark::Postmark;
use smtp::Smtp;

pub use super::channel::MONITOR_FAILED;

/// The name under which the alert state remembers mail, whichever transport carries it.
pub const NAME: &str = "mail";

/// `[mail]`: how mail leaves (its `remind_after_hours` is the alert state's, read beside).
pub const SECTION: Section = Section::table("mail");

/// The kind: always there.
pub const KIND: Kind = Kind {
    section: SECTION,
    configure,
    by_default: Some(by_default),
};

fn configure(t: &Table<'_>, ctx: &Context<'_>) -> Option<Arc<dyn Channel>> {
    let transport = match t.string("transport") {
        None => Transport::Postmark,
        Some(v) if v.value == "postmark" => Transport::Postmark,
        Some(v) if v.value == "smtp" => Transport::Smtp,
        Some(v) => {
            t.error(
                v.line,
                format!(
                    "transport must be \"postmark\" or \"smtp\", not \"{}\"",
                    v.value
                ),
            );
            Transport::Postmark
        }
    };
    Some(Arc::new(Email::new(transport, ctx)))
}

fn by_default(ctx: &Context<'_>) -> Arc<dyn Channel> {
    Arc::new(Email::new(Transport::Postmark, ctx))
}

/// How mail leaves, by the mail channel among `channels` (Postmark without one).
pub fn transport(channels: &[Arc<dyn Channel>]) -> Transport {
    channels
        .iter()
        .find_map(|c| (c.as_ref() as &dyn Any).downcast_ref::<Email>())
        .map_or(Transport::Postmark, |e| e.transport)
}

/// A mail to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    /// Subject, with the prefix.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// The mail channel: how mail leaves, and within what. Sender, recipients and the transport's
/// secret are read from the run's secrets when it sends.
#[derive(Debug, Clone)]
pub struct Email {
    /// Postmark or SMTP.
    pub transport: Transport,
    /// The bound on each request (SMTP: on each command).
    pub request_timeout: Duration,
    /// The run's mail budget, as the words of an SMTP server that did not finish say it.
    pub budget: Duration,
}

impl Channel for Email {
    fn name(&self) -> &'static str {
        NAME
    }

    /// None of its own: the configuration checks mail's secrets, with the transport's words.
    fn needs(&self) -> Vec<Need> {
        Vec::new()
    }

    fn deliver(&self, events: &[Event<'_>], ctx: &Deliver<'_>) -> Vec<Delivered> {
        self.send(&compose(events, ctx), ctx)
            .into_iter()
            .enumerate()
            .map(|(event, notification)| Delivered {
                event,
                notification,
            })
            .collect()
    }

    fn preview(&self, events: &[Event<'_>], ctx: &Deliver<'_>) -> String {
        let mails = compose(events, ctx);
        if mails.is_empty() {
            return "dry run: no mail would be sent\n".into();
        }
        let to = if ctx.secrets.to.is_empty() {
            "(OPS_ALERT_EMAIL unset)".to_string()
        } else {
            ctx.secrets.to.join(", ")
        };
        let mut out = format!("dry run: {} mail(s) would be sent to {to}\n", mails.len());
        for m in mails {
            out.push_str(&format!("\n--- Subject: {}\n{}", m.subject, m.body));
        }
        out
    }

    fn always_previewed(&self) -> bool {
        true
    }

    fn dry_run(&self, subject: &str, ctx: &Deliver<'_>) -> Notification {
        Notification {
            dry_run: true,
            ..Notification::pending(self.transport.as_str(), &ctx.secrets.to, subject)
        }
    }
}

impl Email {
    /// Mail by `transport`, within the run's limits.
    pub fn new(transport: Transport, ctx: &Context<'_>) -> Self {
        Self {
            transport,
            request_timeout: ctx.run.request_timeout,
            budget: ctx.run.mail_budget,
        }
    }

    /// Sends `mails` by the transport; one notification each, in their order.
    fn send(&self, mails: &[Mail], ctx: &Deliver<'_>) -> Vec<Notification> {
        if mails.is_empty() {
            return Vec::new();
        }
        let secrets = ctx.secrets;
        let Some(from) = &secrets.from else {
            return self.unsent(mails, ctx, "OPS_ALERT_FROM is not set");
        };
        if secrets.to.is_empty() {
            return self.unsent(mails, ctx, "OPS_ALERT_EMAIL is not set");
        }
        match self.transport {
            Transport::Postmark => {
                let Some(token) = secrets.get("POSTMARK_SERVER_TOKEN") else {
                    let why = "mail is not configured (POSTMARK_SERVER_TOKEN)";
                    return self.unsent(mails, ctx, why);
                };
                let postmark = Postmark {
                    api: &secrets.postmark_api,
                    token,
                    from,
                    to: &secrets.to,
                };
                postmark.send(ctx.http, mails, ctx.deadline)
            }
            Transport::Smtp => {
                let Some(url) = secrets.get("SMTP_URL") else {
                    return self.unsent(mails, ctx, "mail is not configured (SMTP_URL)");
                };
                self.send_smtp(url, from, mails, ctx)
            }
        }
    }

    fn send_smtp(
        &self,
        url: &str,
        from: &str,
        mails: &[Mail],
        ctx: &Deliver<'_>,
    ) -> Vec<Notification> {
        // lettre's timeout is per read: a server dripping a byte at a time would hold the run
        // for ever. The session runs on a thread the budget can give up on.
        let (tx, rx) = std::sync::mpsc::channel();
        let (url, from, to) = (url.to_string(), from.to_string(), ctx.secrets.to.clone());
        let (owned, timeout) = (mails.to_vec(), self.request_timeout);
        std::thread::spawn(move || {
            let smtp = Smtp {
                url: &url,
                from: &from,
                to: &to,
                timeout,
            };
            let _ = tx.send(smtp.send(&owned));
        });
        let left = ctx.deadline.saturating_duration_since(Instant::now());
        rx.recv_timeout(left).unwrap_or_else(|_| {
            let why = format!(
                "the SMTP server did not finish within the {} s mail budget",
                self.budget.as_secs_f64()
            );
            self.unsent(mails, ctx, &why)
        })
    }

    fn unsent(&self, mails: &[Mail], ctx: &Deliver<'_>, why: &str) -> Vec<Notification> {
        let channel = self.transport.as_str();
        mails
            .iter()
            .map(|m| Notification {
                error: Some(why.into()),
                ..Notification::pending(channel, &ctx.secrets.to, &m.subject)
            })
            .collect()
    }
}

/// The mails of `events`: one each, in their order, masked.
pub fn compose(events: &[Event<'_>], ctx: &Deliver<'_>) -> Vec<Mail> {
    events
        .iter()
        .map(|e| Mail {
            subject: ctx.subject(e),
            body: ctx.redactor.redact_owned(body(e, ctx)),
        })
        .collect()
}

/// The plain-text body of the mail about `e` (also what an issue quotes).
pub fn body(e: &Event<'_>, ctx: &Deliver<'_>) -> String {
    match (e.kind, e.checks.first()) {
        (EventKind::MonitorFailed, _) | (_, None) => monitor_failed(e, ctx),
        (EventKind::Resolved, Some(c)) => resolved(e, c, ctx),
        (_, Some(c)) => check_body(e, c, ctx),
    }
}

fn check_body(e: &Event<'_>, c: &CheckResult, ctx: &Deliver<'_>) -> String {
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
    if let Some(u) = ctx.runbook(e.subject.words()) {
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
    body
}

fn resolved(e: &Event<'_>, now: &CheckResult, ctx: &Deliver<'_>) -> String {
    let mut body = format!("{}\n\n{}\n\n", e.subject, e.recovery(now));
    body.push_str(&format!(
        "{:<13}{}\n{:<13}{}\n",
        "Check:",
        now.id,
        "Seen at:",
        rfc3339(ctx.now)
    ));
    if let Some(u) = ctx.run_url {
        body.push_str(&format!("{:<13}{u}\n", "Monitor run:"));
    }
    body
}

fn monitor_failed(e: &Event<'_>, ctx: &Deliver<'_>) -> String {
    let mut body = String::from(
        "heartbeat-monitor could not evaluate everything it watches: the health of what is \
listed below is UNKNOWN, which is itself an alert.\n\n",
    );
    if !e.checks.is_empty() {
        body.push_str("Checks that could not be evaluated:\n");
        for c in &e.checks {
            body.push_str(&format!("- {}: {}\n", c.id, c.message));
        }
        body.push('\n');
    }
    if !e.errors.is_empty() {
        body.push_str("Problems of the monitor itself:\n");
        for e in e.errors {
            body.push_str(&format!("- {e}\n"));
        }
        body.push('\n');
    }
    body.push_str("First steps:\n");
    let failures = e.checks.iter().map(|c| c.message.as_str());
    let errors = e.errors.iter().map(String::as_str);
    for step in super::first_steps::for_failures(failures.chain(errors)) {
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
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerting::channel::Subject;
    use crate::alerting::plan;
    use crate::clients::http::{Http, HttpSettings};
    use crate::config::Secrets;
    use crate::model::Status;
    use crate::redact::Redactor;

    fn with_ctx<T>(f: impl FnOnce(&Deliver<'_>) -> T) -> T {
        let http = Http::new(HttpSettings::default());
        let secrets = Secrets::default();
        f(&Deliver {
            http: &http,
            deadline: Instant::now(),
            secrets: &secrets,
            now: "2026-05-23T06:30:00Z".parse().unwrap(),
            run_url: Some("https://github.com/o/r/actions/runs/9"),
            runbook_url: Some("https://example.invalid/runbook"),
            checks: &[],
            redactor: &Redactor::default(),
            prefix: "[Raxx ops]",
        })
    }

    /// The mails of the events a first run (no state) plans.
    fn mails(checks: &[CheckResult], errors: &[String]) -> Vec<Mail> {
        let now = "2026-05-23T06:30:00Z".parse().unwrap();
        let names = [NAME.to_string()].into();
        let due = plan::events(
            None,
            checks,
            errors,
            now,
            chrono::Duration::hours(24),
            &names,
        );
        let events: Vec<Event<'_>> = due.into_iter().map(|d| d.event).collect();
        with_ctx(|ctx| compose(&events, ctx))
    }

    fn recovery<'a>(what: &str, since: Option<&str>, now: &'a CheckResult) -> Event<'a> {
        Event {
            kind: EventKind::Resolved,
            subject: Subject::Resolved(what.into()),
            checks: vec![now],
            since: since.map(String::from),
            lasted: since.map(|s| {
                "2026-05-23T06:30:00Z"
                    .parse::<chrono::DateTime<chrono::Utc>>()
                    .unwrap()
                    - s.parse::<chrono::DateTime<chrono::Utc>>().unwrap()
            }),
            errors: &[],
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
        let mails = mails(&checks, &[]);
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
        assert!(failed.contains(
            "Runbook:     https://example.invalid/runbook#cron-heartbeat-monitor-failed"
        ));
    }

    #[test]
    fn a_recovery_says_how_long_it_lasted() {
        let now = check(Status::Ok, "x");
        let e = recovery(
            "cron heartbeat STALE: x",
            Some("2026-05-22T06:30:00Z"),
            &now,
        );
        let mails = with_ctx(|ctx| compose(&[e], ctx));
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
    }

    #[test]
    fn a_subject_is_one_line_whatever_the_server_named() {
        let mut c = check(Status::Critical, "nightly");
        c.subject_name = "nightly\r\nBcc: everyone@raxx.app".into();
        let ok = check(Status::Ok, "x");
        let mut events: Vec<Event<'_>> = plan::events(
            None,
            std::slice::from_ref(&c),
            &[],
            "2026-05-23T06:30:00Z".parse().unwrap(),
            chrono::Duration::hours(24),
            &[NAME.to_string()].into(),
        )
        .into_iter()
        .map(|d| d.event)
        .collect();
        events.push(recovery("cron heartbeat STALE: a\nb", None, &ok));
        let mails = with_ctx(|ctx| compose(&events, ctx));
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
    fn mail_is_the_first_channel_with_or_without_its_section() {
        use crate::alerting::channel;
        use crate::config::RunSettings;
        use crate::config::file::{Document, Source};
        let run = RunSettings {
            mail_budget: Duration::from_secs(3),
            ..RunSettings::default()
        };
        let ctx = channel::Context { run: &run };
        let names = |cs: &[Arc<dyn Channel>]| cs.iter().map(|c| c.name()).collect::<Vec<_>>();
        let alone = channel::defaults(&ctx);
        assert_eq!(names(&alone), [NAME]);
        assert_eq!(transport(&alone), Transport::Postmark);
        let doc = Document::parse(Source::new(
            "m.toml",
            "[slack]\n[mail]\ntransport = \"smtp\"\n",
        ));
        let all = channel::configure(&doc, &ctx);
        assert_eq!(names(&all), [NAME, "slack"]);
        assert_eq!(transport(&all), Transport::Smtp);
        let email = (all[0].as_ref() as &dyn Any)
            .downcast_ref::<Email>()
            .unwrap();
        assert_eq!(email.budget, Duration::from_secs(3));
        assert!(doc.source.take_errors().is_empty());
    }

    #[test]
    fn all_ok_mails_nothing() {
        assert!(mails(&[check(Status::Ok, "x")], &[]).is_empty());
    }

    #[test]
    fn monitor_errors_alone_mail_monitor_failed() {
        let mails = mails(&[], &["could not write the result".into()]);
        assert_eq!(mails.len(), 1);
        assert!(mails[0].body.contains("- could not write the result"));
    }
}
