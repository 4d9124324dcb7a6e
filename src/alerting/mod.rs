//! The alerting layer: which events a run tells (all problems, or with a state file only
//! changes, reminders and recoveries; never what a silence covers), every channel (mail
//! first) told the same typed events, and what the state file remembers afterwards. A check
//! counts as told once a channel accepted its event.

pub mod channel;
pub mod first_steps;
pub mod github_issues;
pub mod mail;
pub mod ping;
pub mod plan;
pub mod silence;
pub mod slack;
pub mod state;
pub mod webhook;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::clients::http::{Http, HttpSettings};
use crate::config::env::Env;
use crate::config::{self, RunSettings, Secrets};
use crate::model::{CheckResult, Notification, Status};
use crate::redact::Redactor;
use channel::{Channel, Deliver, Delivered, Event};
use plan::Due;
use silence::Silence;
use state::State;

/// Everything alerting needs, read once from the configuration (or its defaults, when the
/// configuration could not be read) and the environment.
#[derive(Debug, Clone)]
pub struct Alerting {
    prefix: String,
    runbook_url: Option<String>,
    run_url: Option<String>,
    request_timeout: Duration,
    /// All delivery of a run must end within this, whatever a server does.
    budget: Duration,
    state_file: Option<PathBuf>,
    remind_after: chrono::Duration,
    silences: Vec<Silence>,
    /// Every channel, mail first: the order of the notifications.
    channels: Vec<Arc<dyn Channel>>,
    secrets: Secrets,
    /// Preview instead of delivering, and remember nothing.
    dry_run: bool,
}

/// What alerting reads of the configuration; the composition root (`setup`) hands it over,
/// so alerting never sees the whole `Config`.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    /// Prefix of every subject.
    pub prefix: &'a str,
    /// Linked from every message.
    pub runbook_url: Option<&'a str>,
    /// The alert state file.
    pub state_file: Option<&'a std::path::Path>,
    /// How long before a still-failing check is told again.
    pub remind_after: chrono::Duration,
    /// Known problems not to tell about until a date.
    pub silences: &'a [Silence],
    /// Run limits.
    pub run: &'a RunSettings,
    /// Every channel, mail first, as `channel::configure` built them.
    pub channels: &'a [Arc<dyn Channel>],
}

impl Alerting {
    /// The alerting of `cfg`, or of the defaults when the configuration could not be read.
    pub fn new(secrets: &Secrets, cfg: Option<Settings<'_>>, env: &Env, dry_run: bool) -> Self {
        let defaults = RunSettings::default();
        let run = cfg.map_or(&defaults, |c| c.run);
        let channels = match cfg {
            Some(c) => c.channels.to_vec(),
            None => channel::defaults(&channel::Context { run }),
        };
        Self {
            prefix: cfg.map_or(config::DEFAULT_PREFIX, |c| c.prefix).to_string(),
            runbook_url: cfg.and_then(|c| c.runbook_url.map(str::to_string)),
            run_url: env.run_url(),
            request_timeout: run.request_timeout,
            budget: run.mail_budget,
            state_file: cfg.and_then(|c| c.state_file.map(PathBuf::from)),
            remind_after: cfg.map_or(chrono::Duration::hours(24), |c| c.remind_after),
            silences: cfg.map(|c| c.silences.to_vec()).unwrap_or_default(),
            channels,
            secrets: secrets.clone(),
            dry_run,
        }
    }

    /// The names of the channels configured, as the alert state owes them.
    fn names(&self) -> BTreeSet<String> {
        self.channels.iter().map(|c| c.name().to_string()).collect()
    }
}

/// What the alerting of one run did.
#[derive(Debug, Default)]
pub struct Alerted {
    /// One per message sent, tried or (in a dry run) previewed, channel by channel.
    pub notifications: Vec<Notification>,
    /// Things to say on stderr (a first run, a state file that could not be written).
    pub notes: Vec<String>,
    /// Expired silences: the run's first warnings.
    pub warnings: Vec<String>,
    /// Undelivered events: they make the run's exit code 3.
    pub errors: Vec<String>,
    /// The state file could not be written: the next run would mail again; exit code 3.
    pub state_error: Option<String>,
    /// What each channel would have sent, in a dry run (mail's always, first).
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

/// Applies the silences to `checks`, decides the events once, delivers them to every channel
/// (or previews them in a dry run) and remembers what was told.
pub fn alert(
    alerting: &Alerting,
    checks: &mut [CheckResult],
    errors: &[String],
    now: DateTime<Utc>,
    redactor: &Redactor,
    memory: Memory,
) -> Alerted {
    let mut out = Alerted::default();
    // A run that evaluated no check (a missing secret) has nothing to silence.
    if !checks.is_empty() {
        out.warnings = silence::apply(checks, &alerting.silences, now);
    }
    let checks: &[CheckResult] = checks;
    let prev = previous(alerting, memory.read, &mut out);
    let names = alerting.names();
    let due = plan::events(
        prev.as_ref(),
        checks,
        errors,
        now,
        alerting.remind_after,
        &names,
    );
    let http = Http::new(HttpSettings {
        request_timeout: alerting.request_timeout,
        ..HttpSettings::default()
    });
    let ctx = Deliver {
        http: &http,
        deadline: Instant::now() + alerting.budget,
        secrets: &alerting.secrets,
        now,
        run_url: alerting.run_url.as_deref(),
        runbook_url: alerting.runbook_url.as_deref(),
        checks,
        redactor,
        prefix: &alerting.prefix,
    };
    if alerting.dry_run {
        preview(&alerting.channels, &due, &ctx, &mut out);
        return out;
    }
    // A clean run after one that could not evaluate everything (or with no state to say)
    // lets the channels close what they opened about the monitor, even with nothing to tell.
    let monitor_over = !checks.is_empty()
        && checks.iter().all(|c| c.status != Status::Unknown)
        && prev
            .as_ref()
            .is_none_or(|p| p.checks.values().any(state::Entry::was_unknown));
    let delivered = each_channel(&alerting.channels, &due, &ctx, monitor_over);
    let outcome = record(delivered, &due, names, redactor, &mut out);
    // A run that evaluated no check (a missing secret) knows nothing new: the state stays.
    if let (Some(prev), Some(path), false) = (&prev, &alerting.state_file, checks.is_empty()) {
        let mut next = state::next(prev, checks, &outcome, channel::subject_of, now);
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

/// The state to go on from: as the run read it, or read now; a refused file is none.
fn previous(alerting: &Alerting, read: Option<state::Loaded>, out: &mut Alerted) -> Option<State> {
    let read = read.or_else(|| alerting.state_file.as_ref().map(|path| state::load(path)));
    match read? {
        state::Loaded::State(s, note) => {
            out.notes.extend(note);
            Some(s)
        }
        state::Loaded::Refused(why) => {
            out.state_error = Some(why);
            None
        }
    }
}

/// The events each channel is given, by their index in `due`.
fn given<'a>(c: &dyn Channel, due: &[Due<'a>]) -> (Vec<usize>, Vec<Event<'a>>) {
    let idx: Vec<usize> = (0..due.len())
        .filter(|&i| due[i].goes_to(c.name()))
        .collect();
    let events = idx.iter().map(|&i| due[i].event.clone()).collect();
    (idx, events)
}

/// A dry run: every channel's preview of what it would send, and a notification for each.
fn preview(channels: &[Arc<dyn Channel>], due: &[Due<'_>], ctx: &Deliver<'_>, out: &mut Alerted) {
    for c in channels {
        let (_, events) = given(c.as_ref(), due);
        if events.is_empty() && !c.always_previewed() {
            continue;
        }
        out.previews
            .push(channel::preview(c.as_ref(), &events, ctx));
        out.notifications
            .extend(events.iter().map(|e| c.dry_run(&ctx.subject(e), ctx)));
    }
}

/// Delivers on every channel at once what it is given, as `(channel name, delivery)` with
/// the run's numbering of events; with nothing to give, a channel is still called when
/// `monitor_over`, to close what it opened about the monitor.
fn each_channel(
    channels: &[Arc<dyn Channel>],
    due: &[Due<'_>],
    ctx: &Deliver<'_>,
    monitor_over: bool,
) -> Vec<(&'static str, Delivered)> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = channels
            .iter()
            .map(|c| {
                let (idx, events) = given(c.as_ref(), due);
                scope.spawn(move || {
                    let done = if events.is_empty() && monitor_over {
                        c.deliver(&[], ctx)
                    } else {
                        channel::deliver_all(std::slice::from_ref(c), &events, ctx)
                    };
                    done.into_iter()
                        .filter_map(|d| {
                            let event = *idx.get(d.event)?;
                            Some((c.name(), Delivered { event, ..d }))
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

/// Records every delivery as a notification (and an error when it failed), and says per
/// check what became of its event, for the next state.
fn record(
    delivered: Vec<(&'static str, Delivered)>,
    due: &[Due<'_>],
    channels: BTreeSet<String>,
    redactor: &Redactor,
    out: &mut Alerted,
) -> state::Outcome {
    // Per event: whether any channel accepted it, and which were given it and did not.
    let mut sent = vec![false; due.len()];
    let mut failed = vec![BTreeSet::<String>::new(); due.len()];
    for (name, d) in delivered {
        let n = d.notification;
        sent[d.event] |= n.sent;
        if !n.sent {
            failed[d.event].insert(name.to_string());
        }
        if let Some(e) = &n.error {
            out.errors
                .push(format!("{name} \"{}\" not delivered: {e}", n.subject));
        }
        out.notifications.push(Notification {
            subject: redactor.redact(&n.subject),
            error: n.error.as_deref().map(|e| redactor.redact(e)),
            ..n
        });
    }
    let mut outcome = state::Outcome {
        channels,
        ..state::Outcome::default()
    };
    for (i, d) in due.iter().enumerate() {
        // Told once any channel accepted it, or none that was given it refused it (an issue
        // already closed): nothing is left to deliver.
        let delivery = state::Delivery {
            to_all: d.to.is_none(),
            accepted: sent[i] || failed[i].is_empty(),
            failed: failed[i].clone(),
        };
        for id in d.event.ids() {
            outcome.delivered.insert(id.to_string(), delivery.clone());
        }
    }
    outcome
}
