//! The alerting layer: which mails a run sends (all problems, or with a state file only
//! changes, reminders and recoveries), how they leave (Postmark or SMTP), and what the state
//! file remembers afterwards. A check counts as alerted only once its mail was accepted.

pub mod channel;
pub mod first_steps;
pub mod github_issues;
pub mod mail;
pub mod ping;
pub mod postmark;
pub mod silence;
pub mod slack;
pub mod smtp;
pub mod state;
pub mod webhook;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::clients::http::{Http, HttpSettings};
use crate::config::env::Env;
use crate::config::{self, RunSettings, Secrets, Transport};
use crate::model::Notification;
use crate::model::{CheckResult, Status};
use crate::redact::Redactor;
use crate::setup::Config;
use mail::{Mail, MailContext};
use postmark::Postmark;
use smtp::Smtp;
use state::{Recovered, State};

/// How alerts leave, as far as the environment and configuration allow.
#[derive(Debug, Clone)]
pub struct Mailer {
    prefix: String,
    runbook_url: Option<String>,
    run_url: Option<String>,
    transport: Transport,
    postmark_api: String,
    postmark_token: Option<String>,
    smtp_url: Option<String>,
    from: Option<String>,
    /// Recipients.
    pub to: Vec<String>,
    request_timeout: Duration,
    /// All delivery of a run must end within this, whatever a server does.
    budget: Duration,
    state_file: Option<PathBuf>,
    remind_after: chrono::Duration,
    /// The channels beside mail, and the secrets they read.
    channels: Vec<std::sync::Arc<dyn channel::Channel>>,
    secrets: Secrets,
}

impl Mailer {
    /// The mailer of `cfg`, or of the defaults when the configuration could not be read.
    pub fn new(secrets: &Secrets, cfg: Option<&Config>, env: &Env) -> Self {
        Self {
            prefix: cfg.map_or(config::DEFAULT_PREFIX.to_string(), |c| {
                c.subject_prefix.clone()
            }),
            runbook_url: cfg.and_then(|c| c.runbook_url.clone()),
            run_url: env.run_url(),
            transport: cfg.map_or(Transport::Postmark, |c| c.transport),
            postmark_api: secrets.postmark_api.clone(),
            postmark_token: secrets.get("POSTMARK_SERVER_TOKEN").map(String::from),
            smtp_url: secrets.get("SMTP_URL").map(String::from),
            from: secrets.from.clone(),
            to: secrets.to.clone(),
            request_timeout: cfg.map_or(Duration::from_secs(15), |c| c.run.request_timeout),
            budget: cfg.map_or(RunSettings::default().mail_budget, |c| c.run.mail_budget),
            state_file: cfg.and_then(|c| c.state_file.clone()),
            remind_after: cfg.map_or(chrono::Duration::hours(24), |c| c.remind_after),
            channels: cfg.map(|c| c.channels.clone()).unwrap_or_default(),
            secrets: secrets.clone(),
        }
    }

    /// `postmark` or `smtp`.
    pub fn channel(&self) -> &'static str {
        self.transport.as_str()
    }

    fn send(&self, mails: &[Mail]) -> Vec<Notification> {
        if mails.is_empty() {
            return Vec::new();
        }
        let Some(from) = &self.from else {
            return self.unsent(mails, "OPS_ALERT_FROM is not set");
        };
        if self.to.is_empty() {
            return self.unsent(mails, "OPS_ALERT_EMAIL is not set");
        }
        match self.transport {
            Transport::Postmark => {
                let Some(token) = &self.postmark_token else {
                    return self.unsent(mails, "mail is not configured (POSTMARK_SERVER_TOKEN)");
                };
                let http = Http::new(HttpSettings {
                    request_timeout: self.request_timeout,
                    ..HttpSettings::default()
                });
                let postmark = Postmark {
                    api: &self.postmark_api,
                    token,
                    from,
                    to: &self.to,
                };
                postmark.send(&http, mails, Instant::now() + self.budget)
            }
            Transport::Smtp => {
                let Some(url) = &self.smtp_url else {
                    return self.unsent(mails, "mail is not configured (SMTP_URL)");
                };
                // lettre's timeout is per read: a server dripping a byte at a time would hold
                // the run for ever. The session runs on a thread the budget can give up on.
                let (tx, rx) = std::sync::mpsc::channel();
                let (url, from, to) = (url.clone(), from.clone(), self.to.clone());
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
                rx.recv_timeout(self.budget).unwrap_or_else(|_| {
                    self.unsent(
                        mails,
                        &format!(
                            "the SMTP server did not finish within the {} s mail budget",
                            self.budget.as_secs_f64()
                        ),
                    )
                })
            }
        }
    }

    fn unsent(&self, mails: &[Mail], why: &str) -> Vec<Notification> {
        mails
            .iter()
            .map(|m| Notification {
                error: Some(why.into()),
                ..Notification::pending(self.channel(), &self.to, &m.subject)
            })
            .collect()
    }
}

/// What the alerting of one run did.
#[derive(Debug, Default)]
pub struct Alerted {
    /// The mails composed (sent, or printed in a dry run).
    pub mails: Vec<Mail>,
    /// One per mail.
    pub notifications: Vec<Notification>,
    /// Things to say on stderr (a first run, a state file that could not be written).
    pub notes: Vec<String>,
    /// Undelivered mails: they make the run's exit code 3.
    pub errors: Vec<String>,
    /// The state file could not be written: the next run would mail again; exit code 3.
    pub state_error: Option<String>,
    /// What each channel beside mail would have sent, in a dry run.
    pub previews: Vec<String>,
}

/// What the run hands over for the state file.
#[derive(Debug, Default)]
pub struct Memory {
    /// The state file as the run read it before its checks; read at the end if `None`.
    pub read: Option<state::Loaded>,
    /// GitHub's answers this run read or confirmed, kept for the next.
    pub http_cache: std::collections::BTreeMap<String, crate::clients::budget::Cached>,
}

/// Decides, composes, sends (unless `dry_run`) and remembers (unless `dry_run`).
pub fn alert(
    mailer: &Mailer,
    checks: &[CheckResult],
    errors: &[String],
    now: DateTime<Utc>,
    dry_run: bool,
    redactor: &Redactor,
    memory: Memory,
) -> Alerted {
    let mut out = Alerted::default();
    let read = memory
        .read
        .or_else(|| mailer.state_file.as_ref().map(|path| state::load(path)));
    let prev = match read {
        None => None,
        Some(state::Loaded::State(s, note)) => {
            out.notes.extend(note);
            Some(s)
        }
        Some(state::Loaded::Refused(why)) => {
            out.state_error = Some(why);
            None
        }
    };
    let names: BTreeSet<String> = std::iter::once(MAIL.to_string())
        .chain(mailer.channels.iter().map(|c| c.name().to_string()))
        .collect();
    let mut plan = match &prev {
        Some(prev) => state::plan(prev, checks, now, mailer.remind_after),
        None => state::Plan {
            alert: checks
                .iter()
                .filter(|c| c.status != Status::Ok && !c.silenced)
                .map(|c| (c.id.clone(), state::Reason::New))
                .collect(),
            ..state::Plan::default()
        },
    };
    // A channel no longer configured is owed nothing (an event owed to none is told).
    for owed in plan.owed.values_mut() {
        owed.retain(|n| names.contains(n));
    }
    let alert: Vec<&CheckResult> = checks
        .iter()
        .filter(|c| c.status != Status::Ok)
        .filter(|c| plan.alert.contains_key(&c.id) || plan.owed.contains_key(&c.id))
        .collect();
    // One MONITOR FAILED mail names every current unknown, once any of them is due (on every
    // channel), or owed (on the channels that owe it).
    let due_unknown = alert
        .iter()
        .filter(|c| c.status == Status::Unknown)
        .any(|c| plan.alert.contains_key(&c.id));
    let unknown: Vec<&CheckResult> = if alert.iter().any(|c| c.status == Status::Unknown) {
        checks
            .iter()
            .filter(|c| c.status == Status::Unknown && !c.silenced)
            .collect()
    } else {
        Vec::new()
    };
    let monitor_to: Target = if due_unknown || !errors.is_empty() {
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
    let resolved: Vec<(&Recovered, &CheckResult)> = plan
        .resolved
        .iter()
        .filter_map(|r| checks.iter().find(|c| c.id == r.id).map(|c| (r, c)))
        .collect();
    let ctx = MailContext {
        prefix: &mailer.prefix,
        runbook_url: mailer.runbook_url.as_deref(),
        run_url: mailer.run_url.as_deref(),
        now,
    };
    out.mails = mail::compose(&alert, &unknown, errors, &resolved, &ctx)
        .into_iter()
        .map(|m| Mail {
            subject: redactor.redact(&m.subject),
            body: redactor.redact(&m.body),
            ..m
        })
        .collect();
    let events = events(&out.mails, &plan, checks, &unknown);
    // Which channels each event goes to: every one, or those that owe it.
    let targets: Vec<Target> = events
        .iter()
        .map(|e| match e.kind {
            channel::EventKind::MonitorFailed => monitor_to.clone(),
            _ => e
                .mail
                .ids
                .first()
                .filter(|id| !plan.alert.contains_key(*id))
                .and_then(|id| plan.owed.get(id).cloned()),
        })
        .collect();
    let goes = |i: usize, name: &str| targets[i].as_ref().is_none_or(|t| t.contains(name));
    let to_mail: Vec<usize> = (0..events.len()).filter(|&i| goes(i, MAIL)).collect();
    let of_channel = |c: &dyn channel::Channel| -> (Vec<usize>, Vec<channel::Event<'_>>) {
        let idx: Vec<usize> = (0..events.len()).filter(|&i| goes(i, c.name())).collect();
        let sub = idx.iter().map(|&i| events[i].clone()).collect();
        (idx, sub)
    };
    let http = Http::new(HttpSettings {
        request_timeout: mailer.request_timeout,
        ..HttpSettings::default()
    });
    let deliver = channel::Deliver {
        http: &http,
        deadline: Instant::now() + mailer.budget,
        secrets: &mailer.secrets,
        now,
        run_url: mailer.run_url.as_deref(),
        runbook_url: mailer.runbook_url.as_deref(),
        checks,
        redactor,
    };
    if dry_run {
        out.notifications = to_mail
            .iter()
            .map(|&i| Notification {
                dry_run: true,
                ..Notification::pending(mailer.channel(), &mailer.to, &out.mails[i].subject)
            })
            .collect();
        for c in &mailer.channels {
            let (_, sub) = of_channel(c.as_ref());
            if sub.is_empty() {
                continue;
            }
            out.previews
                .push(channel::preview(c.as_ref(), &sub, &deliver));
            out.notifications.extend(sub.iter().map(|e| Notification {
                dry_run: true,
                ..Notification::pending(c.name(), &[], &e.mail.subject)
            }));
        }
        // The mails printed are those mail would send.
        out.mails = to_mail.iter().map(|&i| out.mails[i].clone()).collect();
        return out;
    }
    // A clean run after one that could not evaluate everything (or with no state to say)
    // lets the channels close what they opened about the monitor, even with nothing to tell.
    let monitor_over = !checks.is_empty()
        && checks.iter().all(|c| c.status != Status::Unknown)
        && prev
            .as_ref()
            .is_none_or(|p| p.checks.values().any(state::Entry::was_unknown));
    let mails: Vec<Mail> = to_mail.iter().map(|&i| out.mails[i].clone()).collect();
    // Mail and every other channel leave at once, all within the same budget.
    let (mailed, delivered) = std::thread::scope(|scope| {
        let others =
            scope.spawn(|| each_channel(&mailer.channels, of_channel, &deliver, monitor_over));
        let mailed = mailer.send(&mails);
        (mailed, others.join().unwrap_or_default())
    });
    out.notifications = mailed;
    for n in out.notifications.iter().filter(|n| n.error.is_some()) {
        out.errors.push(format!(
            "mail \"{}\" not delivered: {}",
            n.subject,
            n.error.as_deref().unwrap_or_default()
        ));
    }
    // Per event: whether any channel accepted it, and which were given it and did not.
    let mut sent = vec![false; events.len()];
    let mut failed = vec![BTreeSet::<String>::new(); events.len()];
    for (&i, n) in to_mail.iter().zip(&out.notifications) {
        sent[i] |= n.sent;
        if !n.sent {
            failed[i].insert(MAIL.to_string());
        }
    }
    for d in delivered {
        let n = d.notification;
        sent[d.event] |= n.sent;
        if !n.sent {
            failed[d.event].insert(n.channel.clone());
        }
        if let Some(e) = &n.error {
            out.errors.push(format!(
                "{} \"{}\" not delivered: {e}",
                n.channel, n.subject
            ));
        }
        out.notifications.push(Notification {
            subject: redactor.redact(&n.subject),
            error: n.error.as_deref().map(|e| redactor.redact(e)),
            ..n
        });
    }
    // A run that evaluated no check (a missing secret) knows nothing new: the state stays.
    if let (Some(prev), Some(path), false) = (&prev, &mailer.state_file, checks.is_empty()) {
        let mut outcome = state::Outcome {
            channels: names,
            ..state::Outcome::default()
        };
        for (i, e) in events.iter().enumerate() {
            // Told once any channel accepted it, or none that was given it refused it (an
            // issue already closed): nothing is left to deliver.
            let delivery = state::Delivery {
                to_all: targets[i].is_none(),
                accepted: sent[i] || failed[i].is_empty(),
                failed: failed[i].clone(),
            };
            for id in &e.mail.ids {
                outcome.delivered.insert(id.clone(), delivery.clone());
            }
        }
        let mut next: State = state::next(prev, checks, &outcome, mail::subject_of, now);
        next.http_cache = memory.http_cache;
        if let Err(e) = state::save(path, &next) {
            out.state_error = Some(format!(
                "could not write the state file {}: {e}",
                path.display()
            ));
        }
    }
    out
}

/// Delivers on every channel at once what `only` gives it (the indexes of its events in the
/// run's list, and the events); with nothing to give, a channel is still called when
/// `monitor_over`, to close what it opened about the monitor.
fn each_channel<'a>(
    channels: &[std::sync::Arc<dyn channel::Channel>],
    only: impl Fn(&dyn channel::Channel) -> (Vec<usize>, Vec<channel::Event<'a>>) + Sync,
    ctx: &channel::Deliver<'_>,
    monitor_over: bool,
) -> Vec<channel::Delivered> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = channels
            .iter()
            .map(|c| {
                let (idx, sub) = only(c.as_ref());
                scope.spawn(move || {
                    let done = if sub.is_empty() && monitor_over {
                        c.deliver(&[], ctx)
                    } else {
                        channel::deliver_all(std::slice::from_ref(c), &sub, ctx)
                    };
                    // Back to the run's own numbering of events.
                    done.into_iter()
                        .filter_map(|d| {
                            let event = *idx.get(d.event)?;
                            Some(channel::Delivered { event, ..d })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// The channels an event goes to: `None` for every one.
type Target = Option<BTreeSet<String>>;

/// The name under which the alert state remembers mail, whichever transport carries it.
const MAIL: &str = "mail";

/// The events of the mails composed: one per mail, in their order, with what happened (from
/// the alert state's reasons) and the checks as they are now.
fn events<'a>(
    mails: &'a [Mail],
    plan: &state::Plan,
    checks: &'a [CheckResult],
    unknown: &[&'a CheckResult],
) -> Vec<channel::Event<'a>> {
    use channel::EventKind;
    mails
        .iter()
        .map(|m| {
            let of_ids = || -> Vec<&CheckResult> {
                m.ids
                    .iter()
                    .filter_map(|id| checks.iter().find(|c| &c.id == id))
                    .collect()
            };
            let (kind, about) = if m.resolves {
                (EventKind::Resolved, of_ids())
            } else if m.subject.ends_with(mail::MONITOR_FAILED) {
                (EventKind::MonitorFailed, unknown.to_vec())
            } else {
                let kind = match m.ids.first().and_then(|id| plan.alert.get(id)) {
                    Some(state::Reason::Changed) => EventKind::Change,
                    Some(state::Reason::Reminder) => EventKind::Reminder,
                    _ => EventKind::Problem,
                };
                (kind, of_ids())
            };
            channel::Event {
                kind,
                mail: m,
                checks: about,
            }
        })
        .collect()
}
