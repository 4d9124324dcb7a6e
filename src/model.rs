//! What a run found and told, as every layer above the checks reads it: a check's status and
//! result, the run's status and counts, and a notification as the result file records it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::util::text::{MAX_TEXT, cut_after};

/// The outcome of one check, ordered by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Everything as expected.
    Ok,
    /// Needs attention soon.
    Warning,
    /// Broken now.
    Critical,
    /// Could not be evaluated: the health of the target is not known.
    Unknown,
}

impl Status {
    /// The lowercase name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Critical => "critical",
            Status::Unknown => "unknown",
        }
    }
}

/// What one check found. `since`, `threshold` and `link` feed the mail body only.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// Stable identifier: `kind:scope:target`.
    pub id: String,
    /// The kind of check (one of `KINDS`' names).
    pub kind: &'static str,
    /// What was checked, as people name it (a workflow file, an app).
    pub target: String,
    /// The outcome.
    pub status: Status,
    /// One line a person can act on.
    pub message: String,
    /// What the check saw, for the result file.
    pub details: Value,
    /// Wall time the check took.
    pub duration_ms: u64,
    /// Whether a `[[silence]]` covers it: reported, but not mailed and not in the exit code.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub silenced: bool,
    /// Why it is silenced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silence_reason: Option<String>,
    /// Since when the problem has been so (RFC 3339), when known.
    #[serde(skip)]
    pub since: Option<String>,
    /// The threshold that was crossed, in words.
    #[serde(skip)]
    pub threshold: Option<String>,
    /// Where to look first.
    #[serde(skip)]
    pub link: Option<String>,
    /// The name to put in a mail subject.
    #[serde(skip)]
    pub subject_name: String,
    /// Commands that confirm or fix the problem, for the mail.
    #[serde(skip)]
    pub hints: Vec<String>,
}

impl CheckResult {
    /// The result with every text in it cut to `MAX_TEXT` characters (a cut ends with `…`).
    pub fn bounded(mut self) -> Self {
        for s in [
            &mut self.id,
            &mut self.target,
            &mut self.message,
            &mut self.subject_name,
        ] {
            bound(s);
        }
        for s in [&mut self.since, &mut self.threshold, &mut self.link]
            .into_iter()
            .flatten()
        {
            bound(s);
        }
        self.hints.iter_mut().for_each(bound);
        bound_json(&mut self.details);
        self
    }

    /// A result with only the essentials; callers fill in the rest.
    pub fn new(
        id: &str,
        kind: &'static str,
        target: &str,
        status: Status,
        message: String,
    ) -> Self {
        Self {
            id: id.to_string(),
            kind,
            target: target.to_string(),
            status,
            message,
            details: Value::Object(Default::default()),
            duration_ms: 0,
            silenced: false,
            silence_reason: None,
            since: None,
            threshold: None,
            link: None,
            subject_name: target.to_string(),
            hints: Vec::new(),
        }
    }
}

fn bound(s: &mut String) {
    cut_after(s, MAX_TEXT);
}

fn bound_json(v: &mut Value) {
    match v {
        Value::String(s) => bound(s),
        Value::Array(items) => items.iter_mut().for_each(bound_json),
        Value::Object(map) => map.values_mut().for_each(bound_json),
        _ => {}
    }
}

/// The status of a whole run: a check status, or `disabled` when the gate is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// All checks ok.
    Ok,
    /// The worst check is a warning.
    Warning,
    /// The worst check is critical.
    Critical,
    /// A check or the monitor itself could not tell.
    Unknown,
    /// The gate is off: nothing was checked.
    Disabled,
}

impl RunStatus {
    /// The one place a run's status is decided: `disabled` when the gate is off (nothing
    /// ran); `unknown` when the monitor itself failed; else the worst check not silenced.
    pub fn of(checks: &[CheckResult], errors: &[RunError], gate: Gate) -> Self {
        if gate == Gate::Off {
            return RunStatus::Disabled;
        }
        if !errors.is_empty() {
            return RunStatus::Unknown;
        }
        match checks
            .iter()
            .filter(|c| !c.silenced)
            .map(|c| c.status)
            .max()
        {
            None | Some(Status::Ok) => RunStatus::Ok,
            Some(Status::Warning) => RunStatus::Warning,
            Some(Status::Critical) => RunStatus::Critical,
            Some(Status::Unknown) => RunStatus::Unknown,
        }
    }

    /// The exit code of a run of this status, given what failed once its result was decided
    /// (the result file or the status page not written): any such failure is `unknown`'s 3.
    pub fn exit_code(self, late: &[RunError]) -> u8 {
        if late.is_empty() {
            self.code()
        } else {
            RunStatus::Unknown.code()
        }
    }

    /// The process exit code, in the monitoring-plugin convention.
    pub fn code(self) -> u8 {
        match self {
            RunStatus::Ok | RunStatus::Disabled => 0,
            RunStatus::Warning => 1,
            RunStatus::Critical => 2,
            RunStatus::Unknown => 3,
        }
    }

    /// Its lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Warning => "warning",
            RunStatus::Critical => "critical",
            RunStatus::Unknown => "unknown",
            RunStatus::Disabled => "disabled",
        }
    }
}

/// One problem with the configuration, and where it is.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq, Hash)]
#[error("{place}: {message}")]
pub struct ConfigError {
    /// `file line N`, `--flag` or `environment`.
    pub place: String,
    /// 1-based line in the file, 0 elsewhere (for ordering).
    pub line: usize,
    /// What is wrong and what to do.
    pub message: String,
}

impl ConfigError {
    /// A problem of a place outside the file: a flag, the environment.
    pub fn at(place: &str, message: impl Into<String>) -> Self {
        Self {
            place: place.to_string(),
            line: 0,
            message: message.into(),
        }
    }
}

/// Whether the monitor is switched on (`FLAG_CRON_HEARTBEAT_MONITOR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Checks run.
    On,
    /// Nothing is checked: the run is `disabled`.
    Off,
}

/// A failure of the monitor itself. Its text is what the result file's `errors[]` says.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// The configuration is wrong.
    #[error("{0}")]
    Config(ConfigError),
    /// A secret a target or a channel needs is not set, or is malformed.
    #[error("{0}")]
    SecretsMissing(ConfigError),
    /// A channel did not take a notification (the channel's own words).
    #[error("{0}")]
    Undelivered(String),
    /// The alert state file could not be read or saved.
    #[error("{0}")]
    StateFile(String),
    /// The result file could not be written.
    #[error("could not write the result file {path}: {why}")]
    ResultNotWritten {
        /// Where it should have gone.
        path: String,
        /// What the file system said.
        why: String,
    },
    /// The status page could not be written.
    #[error("{0}")]
    StatusPage(String),
}

/// How many checks ended in each status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// ok
    pub ok: usize,
    /// warning
    pub warning: usize,
    /// critical
    pub critical: usize,
    /// unknown
    pub unknown: usize,
}

impl Counts {
    /// Counts `checks`.
    pub fn of(checks: &[CheckResult]) -> Self {
        let mut c = Counts::default();
        for r in checks {
            match r.status {
                Status::Ok => c.ok += 1,
                Status::Warning => c.warning += 1,
                Status::Critical => c.critical += 1,
                Status::Unknown => c.unknown += 1,
            }
        }
        c
    }
}

/// One mail, as the result file records it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    /// `postmark`.
    pub channel: String,
    /// Recipients.
    pub to: Vec<String>,
    /// Subject.
    pub subject: String,
    /// Whether the mail service accepted it.
    pub sent: bool,
    /// True when it was only printed.
    pub dry_run: bool,
    /// The service's message id.
    pub id: Option<String>,
    /// Why it was not sent.
    pub error: Option<String>,
}

impl Notification {
    /// A mail not (yet) sent on `channel`.
    pub fn pending(channel: &str, to: &[String], subject: &str) -> Self {
        Self {
            channel: channel.into(),
            to: to.to_vec(),
            subject: subject.into(),
            sent: false,
            dry_run: false,
            id: None,
            error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_of_a_result_is_bounded() {
        let huge = "9".repeat(MAX_TEXT * 50);
        let mut r = CheckResult::new("id", "http_probe", "t", Status::Critical, huge.clone());
        r.details = serde_json::json!({"seen": huge, "list": [huge]});
        r.hints = vec![huge.clone()];
        let r = r.bounded();
        assert_eq!(r.message.chars().count(), MAX_TEXT + 1);
        assert!(r.message.ends_with('…'));
        assert_eq!(
            r.details["seen"].as_str().unwrap().chars().count(),
            MAX_TEXT + 1
        );
        assert_eq!(
            r.details["list"][0].as_str().unwrap().chars().count(),
            MAX_TEXT + 1
        );
        assert_eq!(r.hints[0].chars().count(), MAX_TEXT + 1);
        let short = CheckResult::new("id", "http_probe", "t", Status::Ok, "fine".into());
        assert_eq!(short.bounded().message, "fine");
    }

    #[test]
    fn the_run_status_is_decided_in_one_place() {
        let check = |status, silenced| {
            let mut c = CheckResult::new("a", "cron_heartbeat", "a", status, "m".into());
            c.silenced = silenced;
            c
        };
        let of = |checks: &[CheckResult], failed: bool, disabled: bool| {
            let errors = [RunError::StateFile("lost".into())];
            let errors = if failed { &errors[..] } else { &[] };
            let gate = if disabled { Gate::Off } else { Gate::On };
            let s = RunStatus::of(checks, errors, gate);
            (s.as_str(), s.code())
        };
        assert_eq!(of(&[], false, false), ("ok", 0));
        assert_eq!(
            of(&[check(Status::Warning, false)], false, false),
            ("warning", 1)
        );
        let mixed = [check(Status::Critical, false), check(Status::Unknown, true)];
        assert_eq!(
            of(&mixed, false, false),
            ("critical", 2),
            "a silenced unknown does not count"
        );
        assert_eq!(
            of(&mixed, true, false),
            ("unknown", 3),
            "the monitor failed"
        );
        assert_eq!(of(&[], false, true), ("disabled", 0));
        let late = [RunError::StatusPage("disk full".into())];
        assert_eq!(RunStatus::Disabled.exit_code(&late), 3);
        assert_eq!(RunStatus::Warning.exit_code(&[]), 1);
        let missing = RunError::SecretsMissing(ConfigError::at("environment", "X is not set"));
        assert_eq!(missing.to_string(), "environment: X is not set");
    }
}
