//! The words of a run that are not about one check: configuration problems, the gate,
//! `--check-config`'s summary, the closing status line.

use std::fmt::Write as _;

use crate::config::{ConfigError, GATE};
use crate::model::{Notification, RunError, RunStatus};

/// `heartbeat-monitor: N configuration error(s):` and the list.
pub fn problems(what: &str, errors: &[ConfigError]) -> String {
    list(
        &format!("heartbeat-monitor: {} {what}:", errors.len()),
        errors,
    )
}

/// `--check-config`'s verdict when something is wrong.
pub fn config_not_ok(errors: &[ConfigError]) -> String {
    list(
        &format!("configuration NOT ok: {} problem(s):", errors.len()),
        errors,
    )
}

fn list(head: &str, errors: &[ConfigError]) -> String {
    let mut out = format!("{head}\n");
    for e in errors {
        let _ = writeln!(out, "  {e}");
    }
    out
}

/// Said on stderr when the gate is off.
pub fn disabled() -> String {
    format!(
        "heartbeat-monitor is DISABLED: {GATE} is not 1, true, yes or on, so nothing was checked \
and no alert can fire. Enable it with: gh variable set {GATE} --body 1\n"
    )
}

/// The Actions annotation when the gate is off.
pub fn disabled_annotation() -> String {
    format!(
        "::warning title=heartbeat-monitor disabled::{GATE} is off: cron heartbeats are NOT being checked\n"
    )
}

/// A `note: …` line.
pub fn note(text: &str) -> String {
    format!("note: {text}\n")
}

/// A `warning: …` line.
pub fn warning(text: &str) -> String {
    format!("warning: {text}\n")
}

/// An `error: …` line.
pub fn error(text: &str) -> String {
    format!("error: {text}\n")
}

/// What became of one notification: `mailed: …` (`slack: sent: …`) on stdout, or
/// `mail NOT sent: …` (`slack: NOT sent: …`) on stderr (the second part); nothing for one only
/// printed.
pub fn mail_outcome(n: &Notification) -> (Option<String>, Option<String>) {
    let (done, failed) = match n.channel.as_str() {
        "postmark" | "smtp" => ("mailed".to_string(), "mail NOT sent".to_string()),
        other => (format!("{other}: sent"), format!("{other}: NOT sent")),
    };
    match (&n.error, n.sent) {
        (Some(e), _) => (None, Some(format!("{failed}: {}: {e}\n", n.subject))),
        (None, true) => (Some(format!("{done}: {}\n", n.subject)), None),
        _ => (None, None),
    }
}

/// What the run asked of each API: "API requests: github 7 (2 not modified, free), 4987
/// left; heroku 4". `None` when it asked none.
pub fn api_budget(
    spent: &std::collections::BTreeMap<String, crate::clients::budget::Spent>,
) -> Option<String> {
    if spent.is_empty() {
        return None;
    }
    let parts: Vec<String> = spent
        .iter()
        .map(|(api, s)| {
            let mut part = format!("{api} {}", s.requests);
            if s.not_modified > 0 {
                part.push_str(&format!(" ({} not modified, free)", s.not_modified));
            }
            if let Some(left) = s.remaining {
                part.push_str(&format!(", {left} left"));
            }
            part
        })
        .collect();
    Some(format!("API requests: {}\n", parts.join("; ")))
}

/// The last line of a run.
pub fn status_line(status: RunStatus, code: u8, output: &std::path::Path, written: bool) -> String {
    let result = if written {
        "result written to"
    } else {
        "result NOT written to"
    };
    format!(
        "status {} (exit {code}); {result} {}\n",
        status.as_str(),
        output.display()
    )
}

/// A failure of the monitor on a line of its own (the result file not written, say).
pub fn line(e: &RunError) -> String {
    format!("{e}\n")
}
