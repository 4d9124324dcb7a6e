//! The checks: one file per kind, each owning its configuration, secrets, observe, pure
//! evaluate and mail subject (see `kind.rs`), listed once in `KINDS`. What a check finds is
//! data: a stale heartbeat is a `CheckResult` with status `critical`, never an `Err`; only
//! "could not evaluate" is `unknown`.

pub mod discovery;
mod kind;
pub mod pool;
pub mod schedule;
pub mod time;

pub use kind::{Check, CheckKind, Context, Watch, check_all, watches};

use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// The most characters a result keeps of any one text: a server can answer with megabytes
/// where a timestamp was expected, and GitHub's step summary takes at most 1 MiB.
pub const MAX_TEXT: usize = 1_000;

impl CheckResult {
    /// The result with every text in it cut to `MAX_TEXT` characters (a cut ends with `…`).
    pub fn bounded(mut self) -> Self {
        for s in [
            &mut self.id,
            &mut self.target,
            &mut self.message,
            &mut self.subject_name,
        ] {
            cut(s);
        }
        for s in [&mut self.since, &mut self.threshold, &mut self.link]
            .into_iter()
            .flatten()
        {
            cut(s);
        }
        self.hints.iter_mut().for_each(cut);
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

fn cut(s: &mut String) {
    if let Some((at, _)) = s.char_indices().nth(MAX_TEXT) {
        s.truncate(at);
        s.push(crate::output::redact::CUT);
    }
}

fn bound_json(v: &mut Value) {
    match v {
        Value::String(s) => cut(s),
        Value::Array(items) => items.iter_mut().for_each(bound_json),
        Value::Object(map) => map.values_mut().for_each(bound_json),
        _ => {}
    }
}

/// Declares each kind's module and lists it in `KINDS`, so that a kind is one line here.
macro_rules! registry {
    ($($module:ident :: $kind:ident),* $(,)?) => {
        $(pub mod $module;)*

        /// Every kind of check, in the order their results are reported.
        pub static KINDS: &[&dyn CheckKind] = &[$(&$module::$kind),*];
    };
}

// Adding a kind: a file in this folder, and its line here.
registry! {
    cron_heartbeat::CronHeartbeat,
    repo_activity::RepoActivity,
    heroku_app::HerokuApp,
    heroku_config::HerokuConfig,
    deploy_drift::DeployDrift,
    http_probe::HttpProbe,
    pages_deploy::PagesDeploy,
    stuck_promotion::StuckPromotion,
    environment_protection::EnvironmentProtection,
    workflow_failures::WorkflowFailures,
    github_token::GithubToken,
}

/// The kind that yields results of kind `name`.
pub fn kind_named(name: &str) -> Option<&'static dyn CheckKind> {
    KINDS.iter().copied().find(|k| k.names().contains(&name))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::alerting::mail::MONITOR_FAILED;

    /// The registry is the truth; the schema's `kind` enum and the runbook's sections must
    /// say the same, or a new kind would ship without them.
    #[test]
    fn the_registry_the_schema_and_the_runbook_agree() {
        let names: BTreeSet<&str> = KINDS.iter().flat_map(|k| k.names()).copied().collect();
        let schema: Value =
            serde_json::from_str(include_str!("../../schema/result.schema.json")).unwrap();
        let enumerated: BTreeSet<&str> = schema
            .pointer("/$defs/check/properties/kind/enum")
            .and_then(Value::as_array)
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(names, enumerated, "schema/result.schema.json kind enum");

        let runbook = include_str!("../../docs/runbook.md");
        let sections: BTreeSet<&str> = runbook
            .lines()
            .filter_map(|l| l.strip_prefix("## "))
            .collect();
        let mut subjects: BTreeSet<&str> =
            KINDS.iter().flat_map(|k| k.runbook()).copied().collect();
        subjects.extend([MONITOR_FAILED, "RESOLVED"]);
        assert_eq!(subjects, sections, "docs/runbook.md sections");
    }

    #[test]
    fn every_subject_a_kind_sends_is_one_of_its_runbook_sections() {
        for kind in KINDS {
            for name in kind.names() {
                for status in [Status::Warning, Status::Critical] {
                    let mut check = CheckResult::new("x", name, "t", status, String::new());
                    check.subject_name = "t".into();
                    let subject = kind.subject(&check);
                    assert!(
                        kind.runbook().iter().any(|s| subject == format!("{s}: t")),
                        "{name} {status:?}: {subject:?} is not one of {:?}",
                        kind.runbook()
                    );
                }
            }
        }
    }

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
    fn every_result_kind_has_one_kind() {
        for kind in KINDS {
            for name in kind.names() {
                assert!(std::ptr::eq(kind_named(name).unwrap(), *kind), "{name}");
            }
        }
    }
}
