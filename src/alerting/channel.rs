//! The channels, mail among them. The alert plan decides once what happened (a problem, a
//! change, a reminder, a recovery, the monitor failing); every channel gets those same typed
//! events and renders and delivers them its own way, within the run's mail budget, recording
//! each delivery as a notification. A channel that fails never stops another. A channel kind
//! is one file (or folder): its section, the secret it reads, its payload and its delivery;
//! `KINDS` lists them all, mail first, which is there even without its section. Every
//! channel is handed the events with their secrets masked, and every body it posts through
//! an `Endpoint` passes the redactor once more, as does every answer it quotes.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::checks::kind_named;
use crate::clients::http::{Http, Request, Response};
use crate::config::file::{Document, Section, Table};
use crate::config::is_env_name;
use crate::config::{Need, RunSettings, Secrets};
use crate::model::Notification;
use crate::model::{CheckResult, Status};
use crate::redact::Redactor;
use crate::util::text::one_line;

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

/// The subject of checks that could not be evaluated.
pub const MONITOR_FAILED: &str = "cron heartbeat MONITOR FAILED";

/// What an event is called, without the prefix: it follows from the kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A problem, change or reminder: the check kind's own words
    /// (`cron heartbeat STALE: nightly`).
    Check(String),
    /// A recovery of what was told (`RESOLVED: cron heartbeat STALE: nightly`).
    Resolved(String),
    /// `cron heartbeat MONITOR FAILED`.
    MonitorFailed,
}

impl Subject {
    /// The words of the subject, as the runbook's heading and the state's `what`.
    pub fn words(&self) -> &str {
        match self {
            Self::Check(w) | Self::Resolved(w) => w,
            Self::MonitorFailed => MONITOR_FAILED,
        }
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Resolved(w) => write!(f, "RESOLVED: {w}"),
            other => f.write_str(other.words()),
        }
    }
}

/// The subject of an event about `check`, without the prefix; for an unknown check, what its
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

/// One event, decided once by the plan and rendered by each channel its own way.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// What happened.
    pub kind: EventKind,
    /// What it is called.
    pub subject: Subject,
    /// The checks it is about, as they are now (one, or every unknown for `MonitorFailed`).
    pub checks: Vec<&'a CheckResult>,
    /// Since when it has not been ok (for a recovery: had not been), as recorded.
    pub since: Option<String>,
    /// For a recovery, how long the problem lasted, when its start is known.
    pub lasted: Option<chrono::Duration>,
    /// For `MonitorFailed`, the problems of the monitor itself.
    pub errors: &'a [String],
}

impl Event<'_> {
    /// The ids of the checks it tells of: they count as told once it is accepted.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.checks.iter().map(|c| c.id.as_str())
    }

    /// What a recovery says of `now`, the check as it is: ok again, and how long it lasted.
    pub fn recovery(&self, now: &CheckResult) -> String {
        let since = self
            .since
            .as_deref()
            .and_then(|s| s.parse::<DateTime<Utc>>().ok());
        let lasted = match (self.lasted, since) {
            (Some(lasted), Some(since)) => format!(
                "It lasted {} (since {}).",
                crate::util::time::human(lasted),
                crate::util::time::rfc3339(since)
            ),
            _ => String::new(),
        };
        format!(
            "{} {} is ok again: {}\n{lasted}",
            now.kind, now.target, now.message
        )
    }
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
    /// Before every subject, e.g. `[heartbeat-monitor]`.
    pub prefix: &'a str,
}

impl Deliver<'_> {
    /// The subject line of `e`: the prefix and its subject, on one line (server text in it
    /// must not start another mail header), masked.
    pub fn subject(&self, e: &Event<'_>) -> String {
        let line = one_line(&format!("{} {}", self.prefix, e.subject));
        self.redactor.redact_owned(line)
    }

    /// The runbook section of `subject` (its words): GitHub's anchor of the heading.
    pub fn runbook(&self, subject: &str) -> Option<String> {
        let heading = subject.split(':').next().unwrap_or(subject);
        let anchor = heading.trim().to_ascii_lowercase().replace(' ', "-");
        self.runbook_url.map(|u| format!("{u}#{anchor}"))
    }
}

/// One delivery: which event, and what became of it.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The index of the event in the run's list.
    pub event: usize,
    /// What became of it.
    pub notification: Notification,
}

/// A configured channel; `Any`, so that the composition root can ask mail how it leaves.
pub trait Channel: std::any::Any + std::fmt::Debug + Send + Sync {
    /// Its name: what the alert state owes, and the `channel` of its notifications.
    fn name(&self) -> &'static str;
    /// The variables it needs when it sends.
    fn needs(&self) -> Vec<Need>;
    /// Delivers `events`; one notification per message it sent or tried to.
    fn deliver(&self, events: &[Event<'_>], ctx: &Deliver<'_>) -> Vec<Delivered>;
    /// What a dry run prints instead: what it would send.
    fn preview(&self, events: &[Event<'_>], ctx: &Deliver<'_>) -> String;
    /// Whether a dry run prints its preview even with nothing to send.
    fn always_previewed(&self) -> bool {
        false
    }
    /// The notification a dry run records for `subject`, sent nowhere.
    fn dry_run(&self, subject: &str, _ctx: &Deliver<'_>) -> Notification {
        Notification {
            dry_run: true,
            ..Notification::pending(self.name(), &[], subject)
        }
    }
}

/// What every kind may need to build its channel, beside its section: the run's settings.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Run limits (the bound on each request, the mail budget).
    pub run: &'a RunSettings,
}

/// Builds a kind's channel with its defaults.
pub type ByDefault = fn(&Context<'_>) -> Arc<dyn Channel>;

/// A kind of channel: its section, how to read one, and whether it is there without one.
pub struct Kind {
    /// `[mail]`, `[slack]`, `[webhook]`, …
    pub section: Section,
    /// Reads the section (recording its problems) into a channel.
    pub configure: fn(&Table<'_>, &Context<'_>) -> Option<Arc<dyn Channel>>,
    /// The channel when the file has no such section (or none could be read): mail is always
    /// there. `None`: only a section adds the kind.
    pub by_default: Option<ByDefault>,
}

impl Kind {
    /// Whether the kind is there without a section.
    pub fn always(&self) -> bool {
        self.by_default.is_some()
    }
}

/// Every kind of channel, in the order of the notifications: mail first.
pub const KINDS: &[&Kind] = &[
    &super::mail::KIND,
    &super::github_issues::KIND,
    &super::slack::KIND,
    &super::webhook::KIND,
];

/// The channels the file configures, with those always there that it does not.
pub fn configure(doc: &Document, ctx: &Context<'_>) -> Vec<Arc<dyn Channel>> {
    KINDS
        .iter()
        .flat_map(|k| {
            let tables = doc.tables(k.section);
            if tables.is_empty() {
                return k.by_default.map(|f| f(ctx)).into_iter().collect();
            }
            tables
                .iter()
                .filter_map(|t| (k.configure)(t, ctx))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The channels of a run without a configuration: those always there, with their defaults.
pub fn defaults(ctx: &Context<'_>) -> Vec<Arc<dyn Channel>> {
    configure(&Document::empty(), ctx)
}

/// The sections of the kinds that are always there (`always`), or of those a section adds,
/// for the file's shape and unknown-key checks.
pub fn sections(always: bool) -> impl Iterator<Item = Section> {
    KINDS
        .iter()
        .filter(move |k| k.always() == always)
        .map(|k| k.section)
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
            &ctx.subject(event),
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

/// Calls `f` with `events` and `ctx` as a channel may see them: every text of every event
/// and check in them masked, so that no channel can send a secret a server echoed.
fn masked<T>(
    events: &[Event<'_>],
    ctx: &Deliver<'_>,
    f: impl FnOnce(&[Event<'_>], &Deliver<'_>) -> T,
) -> T {
    let r = ctx.redactor;
    let checks: Vec<Vec<CheckResult>> = events
        .iter()
        .map(|e| e.checks.iter().map(|c| masked_check(c, r)).collect())
        .collect();
    let errors: Vec<Vec<String>> = events
        .iter()
        .map(|e| e.errors.iter().map(|t| r.redact(t)).collect())
        .collect();
    let all: Vec<CheckResult> = ctx.checks.iter().map(|c| masked_check(c, r)).collect();
    let events: Vec<Event<'_>> = events
        .iter()
        .zip(&checks)
        .zip(&errors)
        .map(|((e, checks), errors)| Event {
            subject: match &e.subject {
                Subject::Check(w) => Subject::Check(r.redact(w)),
                Subject::Resolved(w) => Subject::Resolved(r.redact(w)),
                Subject::MonitorFailed => Subject::MonitorFailed,
            },
            checks: checks.iter().collect(),
            since: e.since.as_deref().map(|s| r.redact(s)),
            errors,
            kind: e.kind,
            lasted: e.lasted,
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
                                ..Notification::pending(name, &[], &ctx.subject(e))
                            },
                        })
                        .collect()
                })
            })
            .collect()
    })
}

/// The status word people read first, with a sign that needs no colour.
pub fn status_sign(status: Status) -> &'static str {
    match status {
        Status::Ok => "✅ OK",
        Status::Warning => "⚠️ WARNING",
        Status::Critical => "🔴 CRITICAL",
        Status::Unknown => "❔ UNKNOWN",
    }
}
