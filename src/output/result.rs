//! The result file: the contract's JSON shape, written atomically (a temporary file in the
//! same directory, renamed into place) so a reader never sees half of it.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::checks::{CheckResult, Status};
use crate::config::env::Restored;
use crate::output::redact::Redactor;

/// The version of the result file's shape (`schema/result.schema.json`).
pub const SCHEMA_VERSION: u32 = 1;

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
    pub fn of(checks: &[CheckResult], monitor_failed: bool, disabled: bool) -> Self {
        if disabled {
            return RunStatus::Disabled;
        }
        if monitor_failed {
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

/// Writes `text` and a line break atomically: see [`write_atomically_with`].
pub fn write_atomically(path: &Path, json: &str) -> std::io::Result<()> {
    write_atomically_with(path, |f| f.write_all(json.as_bytes()))
}

/// Lets `write` fill a temporary file beside `path` (through a buffer), ends it with a line
/// break, then renames it into place, so a reader (or a crash) never sees half a file. The
/// temporary file is created exclusively (never through a planted link, never over another
/// file) and removed when anything fails.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "heartbeat_result.json".into());
    let (tmp, f) = create_temp(&dir, &name)?;
    let mut buffered = std::io::BufWriter::new(f);
    let written = write(&mut buffered)
        .and_then(|()| buffered.write_all(b"\n"))
        .and_then(|()| buffered.into_inner().map_err(|e| e.into_error()))
        .and_then(|f| f.sync_all());
    written
        .and_then(|()| std::fs::rename(&tmp, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
}

/// A new file `.{name}.{pid}.{n}.tmp` in `dir`, made with `O_EXCL` (a file or a link already
/// there is never opened): the first free `n`.
fn create_temp(dir: &Path, name: &str) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    let mut n = 0;
    loop {
        let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planted_link_at_the_temporary_name_is_never_followed() {
        let dir = std::env::temp_dir().join(format!("hm-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious").unwrap();
        for n in 0..3 {
            let planted = dir.join(format!(".result.json.{}.{n}.tmp", std::process::id()));
            std::os::unix::fs::symlink(&victim, &planted).unwrap();
        }
        write_atomically(&dir.join("result.json"), "{}").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(
            std::fs::read_to_string(dir.join("result.json")).unwrap(),
            "{}\n"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_run_status_is_decided_in_one_place() {
        let check = |status, silenced| {
            let mut c = CheckResult::new("a", "cron_heartbeat", "a", status, "m".into());
            c.silenced = silenced;
            c
        };
        let of = |checks: &[CheckResult], failed, disabled| {
            let s = RunStatus::of(checks, failed, disabled);
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
    }

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
