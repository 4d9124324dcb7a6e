//! The result file: the contract's JSON shape, written atomically (a temporary file in the
//! same directory, renamed into place) so a reader never sees half of it.

use std::path::Path;

use serde::Serialize;

use crate::config::env::Restored;
use crate::model::{CheckResult, Counts, Notification, RunStatus};
use crate::redact::Redactor;
use crate::util::fs::write_atomically;

/// The version of the result file's shape (`schema/result.schema.json`).
pub const SCHEMA_VERSION: u32 = 1;

/// Where the alert state came from: the action's artifact or cache, a file it did not
/// restore, or nowhere.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StateSource {
    /// The newest `heartbeat-state-*` artifact of the workflow.
    Artifact,
    /// The Actions cache.
    Cache,
    /// A state file the action did not say it restored (a local run, another workflow).
    File,
    /// No state was read: a first run, a lost state, or no state file at all.
    #[default]
    None,
}

/// The result's `state`: where the state came from and when the run that wrote it evaluated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StateOrigin {
    /// Where it came from.
    pub source: StateSource,
    /// When it was saved (`None` when none was read).
    pub saved_at: Option<String>,
}

impl StateOrigin {
    /// `read` holds the saved time of a state file that was read (`Some(None)` when it did not
    /// say); `restored` is where the action says the file came from. A file it did not say it
    /// restored is `file`; no file read is `none`, whatever the action said.
    pub fn of(read: Option<Option<String>>, restored: Option<Restored>) -> Self {
        match read {
            None => Self::default(),
            Some(saved_at) => Self {
                source: match restored {
                    Some(Restored::Artifact) => StateSource::Artifact,
                    Some(Restored::Cache) => StateSource::Cache,
                    Some(Restored::Nowhere) | None => StateSource::File,
                },
                saved_at,
            },
        }
    }
}

/// The warning of a run that found no state although its workflow ran before (`run`, with
/// its URL when known).
pub fn lost_state_warning(run: &str, url: Option<&str>) -> String {
    let seen = match url {
        Some(url) => format!("run {run}, {url}"),
        None => format!("run {run}"),
    };
    format!(
        "no saved alert state was found although this workflow ran before ({seen}): every open problem is mailed as new, and nothing that recovered gets a RESOLVED mail. The state is kept in the heartbeat-state-* artifacts (see the action's state-retention-days) and the Actions cache"
    )
}

/// The whole result file.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    /// The shape's version.
    pub schema_version: u32,
    /// `heartbeat-monitor`.
    pub tool: &'static str,
    /// The binary's version.
    pub tool_version: &'static str,
    /// Wall clock at start.
    pub started_at: String,
    /// Wall clock at the end.
    pub finished_at: String,
    /// Run time.
    pub duration_ms: u64,
    /// The instant checks were evaluated at (`--now`, or the start).
    pub now: String,
    /// Whether mail was only printed.
    pub dry_run: bool,
    /// The run's status.
    pub status: RunStatus,
    /// The process exit code.
    pub exit_code: u8,
    /// Checks per status.
    pub counts: Counts,
    /// Every check, in configuration order.
    pub checks: Vec<CheckResult>,
    /// Every mail sent or printed.
    pub notifications: Vec<Notification>,
    /// Problems of the monitor itself (configuration, delivery, writing).
    pub errors: Vec<String>,
    /// Things to tidy up that changed nothing this run (an expired silence, a lost state).
    pub warnings: Vec<String>,
    /// Where the alert state the run went on from came from.
    pub state: StateOrigin,
    /// What the run spent of each API's budget, by API.
    pub api_budget: std::collections::BTreeMap<String, crate::clients::budget::Spent>,
}

/// Masks the secrets in `clean` (in place: thousands of checks are not copied) and writes
/// it to `path` atomically.
pub fn write(path: &Path, clean: &mut RunResult, redactor: &Redactor) -> std::io::Result<()> {
    // Each text is masked before it is encoded: JSON escaping would hide a secret's quotes
    // and backslashes from a mask applied to the encoded text only.
    let r = |s: &mut String| *s = redactor.redact(s);
    for c in &mut clean.checks {
        [&mut c.id, &mut c.target, &mut c.message]
            .into_iter()
            .for_each(r);
        c.silence_reason.iter_mut().for_each(r);
        redact_strings(&mut c.details, redactor);
    }
    for n in &mut clean.notifications {
        r(&mut n.subject);
        n.error.iter_mut().chain(n.id.iter_mut()).for_each(r);
    }
    clean
        .errors
        .iter_mut()
        .chain(clean.warnings.iter_mut())
        .for_each(r);
    let json = serde_json::to_string_pretty(&*clean).map_err(std::io::Error::other)?;
    write_atomically(path, &redactor.redact_owned(json))
}

fn redact_strings(v: &mut serde_json::Value, redactor: &Redactor) {
    match v {
        serde_json::Value::String(s) => *s = redactor.redact(s),
        serde_json::Value::Array(items) => {
            items.iter_mut().for_each(|i| redact_strings(i, redactor))
        }
        serde_json::Value::Object(map) => {
            map.values_mut().for_each(|i| redact_strings(i, redactor))
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;

    const NOW: &str = "2026-05-23T06:30:00Z";

    #[test]
    fn the_state_comes_from_where_the_action_says_only_when_a_file_was_read() {
        let saved = || Some(Some(NOW.to_string()));
        let of = |read, restored| StateOrigin::of(read, restored).source;
        assert_eq!(of(saved(), Some(Restored::Artifact)), StateSource::Artifact);
        assert_eq!(of(saved(), Some(Restored::Cache)), StateSource::Cache);
        assert_eq!(of(saved(), None), StateSource::File);
        assert_eq!(of(saved(), Some(Restored::Nowhere)), StateSource::File);
        assert_eq!(of(None, Some(Restored::Artifact)), StateSource::None);
        assert_eq!(
            StateOrigin::of(saved(), Some(Restored::Cache))
                .saved_at
                .as_deref(),
            Some(NOW)
        );
        assert_eq!(StateOrigin::of(None, None), StateOrigin::default());
    }

    #[test]
    fn counts_and_atomic_write() {
        let checks = vec![
            CheckResult::new("a", "cron_heartbeat", "a", Status::Ok, "fine".into()),
            CheckResult::new(
                "b",
                "cron_heartbeat",
                "b",
                Status::Critical,
                "token s3cr3t-value leaked?".into(),
            ),
        ];
        let mut result = RunResult {
            schema_version: SCHEMA_VERSION,
            tool: "heartbeat-monitor",
            tool_version: "0.1.0",
            started_at: "2026-05-23T06:30:00Z".into(),
            finished_at: "2026-05-23T06:30:01Z".into(),
            duration_ms: 1000,
            now: "2026-05-23T06:30:00Z".into(),
            dry_run: false,
            status: RunStatus::Critical,
            exit_code: 2,
            counts: Counts::of(&checks),
            checks,
            notifications: vec![],
            errors: vec![],
            warnings: vec![],
            state: StateOrigin::of(Some(Some(NOW.into())), Some(Restored::Artifact)),
            api_budget: Default::default(),
        };
        assert_eq!(
            result.counts,
            Counts {
                ok: 1,
                warning: 0,
                critical: 1,
                unknown: 0
            }
        );
        let dir = std::env::temp_dir().join(format!("hm-result-{}", std::process::id()));
        let path = dir.join("nested/result.json");
        let mut r = Redactor::default();
        r.add("s3cr3t-value");
        write(&path, &mut result, &r).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("s3cr3t-value"));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["status"], "critical");
        assert_eq!(v["checks"][1]["kind"], "cron_heartbeat");
        assert_eq!(
            v["state"],
            serde_json::json!({"source": "artifact", "saved_at": NOW})
        );
        assert_eq!(
            std::fs::read_dir(dir.join("nested")).unwrap().count(),
            1,
            "no temp file left"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
