//! The run's own words: configuration problems, the gate, notes, warnings and errors, and
//! how a silenced check is marked (alike in the table and the step summary).

use std::fmt::Write as _;

use crate::config::{ConfigError, GATE};
use crate::model::{CheckResult, RunError};

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

/// A failure of the monitor on a line of its own (the result file not written, say).
pub fn line(e: &RunError) -> String {
    format!("{e}\n")
}

/// " [silenced: why]" for a silenced check.
pub fn silenced(c: &CheckResult) -> String {
    match (&c.silence_reason, c.silenced) {
        (Some(why), true) => format!(" [silenced: {why}]"),
        (None, true) => " [silenced]".into(),
        _ => String::new(),
    }
}
