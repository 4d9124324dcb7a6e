//! The channels beside mail. The alert state decides once what happened (a problem, a change,
//! a reminder, a recovery, the monitor failing); every channel gets those same events and
//! delivers them its own way, within the run's mail budget, recording each delivery as a
//! notification. A channel that fails never stops another. A channel kind is one file: its
//! section, the secret it reads, its payload and its delivery; `KINDS` lists them. Every
//! channel is handed the events with their secrets masked, and every body it posts through
//! an `Endpoint` passes the redactor once more, as does every answer it quotes.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::mail::Mail;
use crate::clients::http::{Http, Request, Response};
use crate::config::file::{Document, Section, Table};
use crate::config::is_env_name;
use crate::config::{Need, Secrets};
use crate::model::CheckResult;
use crate::model::Notification;
use crate::redact::Redactor;

/// What happened, as every channel is told it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A check started failing (or was never told of).
    Problem,
    /// A failing check changed status.
    Change,
    /// A check is still failing after the reminder interval.
    Reminder,
    /// A check the team was told of is ok again.
    Resolved,
    /// Checks could not be evaluated, or the monitor itself failed.
    MonitorFailed,
}

impl EventKind {
    /// Its name in payloads: `problem`, `change`, `reminder`, `resolved`, `monitor_failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Problem => "problem",
            Self::Change => "change",
            Self::Reminder => "reminder",
            Self::Resolved => "resolved",
            Self::MonitorFailed => "monitor_failed",
        }
    }
}

/// One event: the mail that tells it (its subject and body serve every channel) and the
/// checks it is about, as they are now.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// What happened.
    pub kind: EventKind,
    /// The mail composed for it.
    pub mail: &'a Mail,
    /// The checks it is about (one, or every unknown for `MonitorFailed`).
    pub checks: Vec<&'a CheckResult>,
}

/// What every delivery shares.
pub struct Deliver<'a> {
    /// The HTTP layer (timeouts, body cap, no redirects).
    pub http: &'a Http,
    /// All delivery ends by then, whatever a server does.
    pub deadline: Instant,
    /// The secrets, for the channel's own.
    pub secrets: &'a Secrets,
    /// The run's instant.
    pub now: DateTime<Utc>,
    /// The monitor's own run, when in Actions.
    pub run_url: Option<&'a str>,
    /// The runbook, when configured.
    pub runbook_url: Option<&'a str>,
    /// Every check of the run.
    pub checks: &'a [CheckResult],
    /// The run's redactor: nothing leaves unmasked.
    pub redactor: &'a Redactor,
}

/// One delivery: which event, and what became of it.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The index of the event in the run's list.
    pub event: usize,
    /// What became of it.
    pub notification: Notification,
}

/// A configured channel.
pub trait Channel: std::fmt::Debug + Send + Sync {
    /// Its name: the `channel` of its notifications.
    fn name(&self) -> &'static str;
    /// The variables it needs when it sends.
    fn needs(&self) -> Vec<Need>;
    /// Delivers `events`; one notification per message it sent or tried to.
    fn deliver(&self, events: &[Event<'_>], ctx: &Deliver<'_>) -> Vec<Delivered>;
    /// What a dry run prints instead: what it would send.
    fn preview(&self, events: &[Event<'_>], ctx: &Deliver<'_>) -> String;
}

/// A kind of channel: its section, and how to read one.
pub struct Kind {
    /// `[slack]`, `[webhook]`, …
    pub section: Section,
    /// Reads the section (recording its problems) into a channel.
    pub configure: fn(&Table<'_>) -> Option<Arc<dyn Channel>>,
}

/// Every kind of channel beside mail.
pub const KINDS: &[&Kind] = &[
    &super::github_issues::KIND,
    &super::slack::KIND,
    &super::webhook::KIND,
];

/// The channels the file configures.
pub fn configure(doc: &Document) -> Vec<Arc<dyn Channel>> {
    KINDS
        .iter()
        .flat_map(|k| {
            doc.tables(k.section)
                .into_iter()
                .filter_map(|t| (k.configure)(&t))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The sections of every kind, for the file's shape and unknown-key checks.
pub fn sections() -> impl Iterator<Item = Section> {
    KINDS.iter().map(|k| k.section)
}

/// A channel's endpoint: a URL that is itself the secret (a Slack webhook, a receiver's
/// token-bearing URL), so the configuration names only the variable that holds it, and no
/// output ever shows more than that name.
#[derive(Debug)]
pub struct Endpoint {
    /// The variable holding the URL.
    pub env: String,
}

impl Endpoint {
    /// The variable named by `key` (default `default`), checked to be a variable's name.
    pub fn read(t: &Table<'_>, key: &'static str, default: &str) -> Option<Self> {
        match t.string(key) {
            None => Some(Self {
                env: default.to_string(),
            }),
            Some(v) if is_env_name(&v.value) => Some(Self { env: v.value }),
            Some(v) => {
                t.error(
                    v.line,
                    format!("{key} must name an environment variable, not `{}`", v.value),
                );
                None
            }
        }
    }

    /// The variable must be set to an http(s) URL: `who` says who posts to it.
    pub fn need(&self, who: &str) -> Need {
        Need::new(&self.env, format!("{} is not set: {who}", self.env)).shaped(
            |v| v.starts_with("https://") || v.starts_with("http://"),
            format!("{} must be an http(s) URL", self.env),
        )
    }

    /// POSTs the JSON `body` of event `(index, event)`; `judge` decides from the answer
    /// whether it was accepted, and says why not.
    pub fn post(
        &self,
        channel: &str,
        (index, event): (usize, &Event<'_>),
        body: Vec<u8>,
        ctx: &Deliver<'_>,
        judge: impl Fn(&Response) -> Result<(), String>,
    ) -> Delivered {
        let mut n = Notification::pending(
            channel,
            std::slice::from_ref(&self.env),
            &event.mail.subject,
        );
        let body = ctx
            .redactor
            .redact_owned(String::from_utf8_lossy(&body).into_owned())
            .into_bytes();
        match ctx.secrets.get(&self.env) {
            None => n.error = Some(format!("{} is not set", self.env)),
            Some(url) => {
                let req = Request::post(url, body)
                    .header("Content-Type", "application/json")
                    .header(
                        "User-Agent",
                        concat!("heartbeat-monitor/", env!("CARGO_PKG_VERSION")),
                    );
                match ctx.http.send(&req, ctx.deadline) {
                    Ok(mut resp) => {
                        // A receiver may quote what it got (its own path, the body): masked
                        // before any of it is cut or recorded.
                        resp.body = ctx
                            .redactor
                            .redact_owned(String::from_utf8_lossy(&resp.body).into_owned())
                            .into_bytes();
                        match judge(&resp) {
                            Ok(()) => n.sent = true,
                            Err(why) => n.error = Some(why),
                        }
                    }
                    Err(e) => n.error = Some(format!("{channel}: {e}")),
                }
            }
        }
        n.error = n.error.map(|e| ctx.redactor.redact_owned(e));
        Delivered {
            event: index,
            notification: n,
        }
    }
}

/// Calls `f` with `events` and `ctx` as a channel may see them: every text of every mail and
/// check in them masked, so that no channel can send a secret a server echoed.
fn masked<T>(
    events: &[Event<'_>],
    ctx: &Deliver<'_>,
    f: impl FnOnce(&[Event<'_>], &Deliver<'_>) -> T,
) -> T {
    let r = ctx.redactor;
    let mails: Vec<Mail> = events
        .iter()
        .map(|e| Mail {
            subject: r.redact(&e.mail.subject),
            body: r.redact(&e.mail.body),
            ..e.mail.clone()
        })
        .collect();
    let checks: Vec<Vec<CheckResult>> = events
        .iter()
        .map(|e| e.checks.iter().map(|c| masked_check(c, r)).collect())
        .collect();
    let all: Vec<CheckResult> = ctx.checks.iter().map(|c| masked_check(c, r)).collect();
    let events: Vec<Event<'_>> = events
        .iter()
        .zip(&mails)
        .zip(&checks)
        .map(|((e, mail), checks)| Event {
            kind: e.kind,
            mail,
            checks: checks.iter().collect(),
        })
        .collect();
    let ctx = Deliver {
        checks: &all,
        ..*ctx
    };
    f(&events, &ctx)
}

/// `c` with every text in it masked.
fn masked_check(c: &CheckResult, r: &Redactor) -> CheckResult {
    let mut c = c.clone();
    for s in [
        &mut c.id,
        &mut c.target,
        &mut c.message,
        &mut c.subject_name,
    ]
    .into_iter()
    .chain(c.hints.iter_mut())
    .chain(
        [
            &mut c.since,
            &mut c.threshold,
            &mut c.link,
            &mut c.silence_reason,
        ]
        .into_iter()
        .flatten(),
    ) {
        *s = r.redact(s);
    }
    r.redact_json(&mut c.details);
    c
}

/// What `channel` would send for `events` in a dry run, masked as a delivery is.
pub fn preview(channel: &dyn Channel, events: &[Event<'_>], ctx: &Deliver<'_>) -> String {
    let text = masked(events, ctx, |events, ctx| channel.preview(events, ctx));
    ctx.redactor.redact_owned(text)
}

/// Delivers `events` on every channel at once, each on its own thread, all bounded by the
/// same deadline: one slow channel does not hold another's delivery.
pub fn deliver_all(
    channels: &[Arc<dyn Channel>],
    events: &[Event<'_>],
    ctx: &Deliver<'_>,
) -> Vec<Delivered> {
    if events.is_empty() || channels.is_empty() {
        return Vec::new();
    }
    masked(events, ctx, |events, ctx| {
        deliver_masked(channels, events, ctx)
    })
}

fn deliver_masked(
    channels: &[Arc<dyn Channel>],
    events: &[Event<'_>],
    ctx: &Deliver<'_>,
) -> Vec<Delivered> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = channels
            .iter()
            .map(|c| (c.name(), scope.spawn(|| c.deliver(events, ctx))))
            .collect();
        handles
            .into_iter()
            .flat_map(|(name, h)| {
                h.join().unwrap_or_else(|_| {
                    // A bug in one channel is that channel's failure, recorded, not the run's.
                    events
                        .iter()
                        .enumerate()
                        .map(|(i, e)| Delivered {
                            event: i,
                            notification: Notification {
                                error: Some(format!("the {name} channel failed unexpectedly")),
                                ..Notification::pending(name, &[], &e.mail.subject)
                            },
                        })
                        .collect()
                })
            })
            .collect()
    })
}

/// The status word people read first, with a sign that needs no colour.
pub fn status_sign(status: crate::model::Status) -> &'static str {
    use crate::model::Status;
    match status {
        Status::Ok => "✅ OK",
        Status::Warning => "⚠️ WARNING",
        Status::Critical => "🔴 CRITICAL",
        Status::Unknown => "❔ UNKNOWN",
    }
}
