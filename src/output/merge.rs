//! `heartbeat-monitor merge`: the result files of shards (`--shard I/N`) read back and merged
//! into what one run over every target would have found. Pure but for reading the files; the
//! run (`run.rs`) alerts on it and writes it like any other.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::result::{SCHEMA_VERSION, StateOrigin, StateSource};
use crate::checks::KINDS;
use crate::clients::budget::Spent;
use crate::model::{CheckResult, Notification, Status};

/// The largest result file read: a fleet of thousands of checks stays far below it.
pub const MAX_RESULT_BYTES: u64 = 256 * 1024 * 1024;

/// One shard's result file, read back.
#[derive(Debug, Clone)]
pub struct ShardResult {
    /// Where it was read from, as the errors name it.
    pub path: String,
    /// When it started.
    pub started: DateTime<Utc>,
    /// When it ended.
    pub finished: DateTime<Utc>,
    /// The instant its checks evaluated at.
    pub now: DateTime<Utc>,
    /// Whether it only printed mail.
    pub dry_run: bool,
    /// Whether the gate was off (`disabled`).
    pub disabled: bool,
    /// Its checks.
    pub checks: Vec<CheckResult>,
    /// Its notifications (none when run with `--no-notify`).
    pub notifications: Vec<Notification>,
    /// Its errors.
    pub errors: Vec<String>,
    /// Its warnings.
    pub warnings: Vec<String>,
    /// Where its alert state came from.
    pub state: StateOrigin,
    /// What it spent, by API.
    pub api_budget: BTreeMap<String, Spent>,
}

/// Every shard merged: one run's findings, before alerting.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The earliest start.
    pub started: DateTime<Utc>,
    /// The earliest evaluation instant.
    pub now: DateTime<Utc>,
    /// Whether any shard only printed mail.
    pub dry_run: bool,
    /// Whether every shard had the gate off.
    pub disabled: bool,
    /// Every check, each id once, in the order of the files.
    pub checks: Vec<CheckResult>,
    /// Every shard's notifications.
    pub notifications: Vec<Notification>,
    /// Every shard's errors, then the merge's own (a refused file, a check in two shards).
    pub errors: Vec<String>,
    /// Every shard's warnings.
    pub warnings: Vec<String>,
    /// Where the first shard's alert state came from.
    pub state: StateOrigin,
    /// What the shards spent, summed by API; the budget left is the least any shard saw.
    pub api_budget: BTreeMap<String, Spent>,
}

#[derive(Deserialize)]
struct FileIn {
    started_at: String,
    finished_at: String,
    now: String,
    dry_run: bool,
    status: String,
    checks: Vec<CheckIn>,
    notifications: Vec<NotificationIn>,
    errors: Vec<String>,
    warnings: Vec<String>,
    state: StateIn,
    api_budget: BTreeMap<String, SpentIn>,
}

#[derive(Deserialize)]
struct CheckIn {
    id: String,
    kind: String,
    target: String,
    status: Status,
    message: String,
    details: Value,
    duration_ms: u64,
    #[serde(default)]
    silenced: bool,
    #[serde(default)]
    silence_reason: Option<String>,
}

#[derive(Deserialize)]
struct NotificationIn {
    channel: String,
    to: Vec<String>,
    subject: String,
    sent: bool,
    dry_run: bool,
    id: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct StateIn {
    source: String,
    saved_at: Option<String>,
}

#[derive(Deserialize)]
struct SpentIn {
    requests: u64,
    not_modified: u64,
    remaining: Option<u64>,
}

/// Reads the result file at `path`.
pub fn read(path: &Path) -> Result<ShardResult, String> {
    let shown = path.display().to_string();
    let text = crate::util::fs::read_regular(path, MAX_RESULT_BYTES)
        .map_err(|e| format!("cannot read the result file {shown}: {e}"))?;
    parse(&shown, &text)
}

/// Reads a result file's text; refuses one of another tool or shape.
pub fn parse(path: &str, text: &str) -> Result<ShardResult, String> {
    let raw: Value = serde_json::from_str(text)
        .map_err(|e| format!("{path} is not a result file (not JSON: {e})"))?;
    if raw.get("tool").and_then(Value::as_str) != Some("heartbeat-monitor") {
        return Err(format!(
            "{path} is not a heartbeat-monitor result file (its tool is {})",
            raw.get("tool").map_or("missing".into(), Value::to_string)
        ));
    }
    let version = raw.get("schema_version").and_then(Value::as_u64);
    if version != Some(u64::from(SCHEMA_VERSION)) {
        return Err(format!(
            "{path} has schema_version {}; this heartbeat-monitor merges schema_version {SCHEMA_VERSION} only",
            raw.get("schema_version")
                .map_or("missing".into(), Value::to_string)
        ));
    }
    let file: FileIn = serde_json::from_value(raw)
        .map_err(|e| format!("{path} is not a result file of schema_version 1: {e}"))?;
    let instant = |field: &str, v: &str| {
        DateTime::parse_from_rfc3339(v)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| format!("{path}: {field} is not an RFC 3339 time: {v:?}"))
    };
    let mut checks = Vec::with_capacity(file.checks.len());
    for c in file.checks {
        let Some(kind) = kind_named(&c.kind) else {
            return Err(format!(
                "{path}: check {} is of kind {:?}, which this heartbeat-monitor does not know",
                c.id, c.kind
            ));
        };
        let mut r = CheckResult::new(&c.id, kind, &c.target, c.status, c.message);
        r.details = c.details;
        r.duration_ms = c.duration_ms;
        r.silenced = c.silenced;
        r.silence_reason = c.silence_reason;
        checks.push(r);
    }
    let source = match file.state.source.as_str() {
        "artifact" => StateSource::Artifact,
        "cache" => StateSource::Cache,
        "file" => StateSource::File,
        _ => StateSource::None,
    };
    Ok(ShardResult {
        path: path.to_string(),
        started: instant("started_at", &file.started_at)?,
        finished: instant("finished_at", &file.finished_at)?,
        now: instant("now", &file.now)?,
        dry_run: file.dry_run,
        disabled: file.status == "disabled",
        checks,
        notifications: file
            .notifications
            .into_iter()
            .map(|n| Notification {
                channel: n.channel,
                to: n.to,
                subject: n.subject,
                sent: n.sent,
                dry_run: n.dry_run,
                id: n.id,
                error: n.error,
            })
            .collect(),
        errors: file.errors,
        warnings: file.warnings,
        state: StateOrigin {
            source,
            saved_at: file.state.saved_at,
        },
        api_budget: file
            .api_budget
            .into_iter()
            .map(|(api, s)| {
                let spent = Spent {
                    requests: s.requests,
                    not_modified: s.not_modified,
                    remaining: s.remaining,
                };
                (api, spent)
            })
            .collect(),
    })
}

/// The kind's own `&'static` name.
fn kind_named(name: &str) -> Option<&'static str> {
    KINDS
        .iter()
        .flat_map(|k| k.names().iter().copied())
        .find(|n| *n == name)
}

/// Merges the shards read (`Err`: a file refused, said as an error of the merged run).
pub fn merge(read: Vec<Result<ShardResult, String>>, now: DateTime<Utc>) -> Merged {
    let mut out = Merged {
        started: now,
        now,
        dry_run: false,
        disabled: false,
        checks: Vec::new(),
        notifications: Vec::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
        state: StateOrigin::default(),
        api_budget: BTreeMap::new(),
    };
    let mut own_errors = Vec::new();
    let (shards, refused): (Vec<_>, Vec<_>) = read.into_iter().partition(Result::is_ok);
    own_errors.extend(refused.into_iter().filter_map(Result::err));
    let shards: Vec<ShardResult> = shards.into_iter().filter_map(Result::ok).collect();
    if let Some(first) = shards.first() {
        out.started = shards.iter().map(|s| s.started).min().unwrap_or(now);
        out.now = shards.iter().map(|s| s.now).min().unwrap_or(now);
        out.state = first.state.clone();
    }
    let disabled = shards.iter().filter(|s| s.disabled).count();
    out.disabled = disabled > 0 && disabled == shards.len() && own_errors.is_empty();
    if disabled > 0 && disabled < shards.len() {
        own_errors.push(format!(
            "{disabled} of the {} shard results were disabled (the gate off there): the merge cannot say how the targets of those shards are",
            shards.len()
        ));
    }
    let mut seen: HashMap<String, String> = HashMap::new();
    for shard in shards {
        out.dry_run |= shard.dry_run;
        for c in shard.checks {
            if let Some(first) = seen.get(&c.id) {
                if *first != shard.path {
                    own_errors.push(format!(
                        "check {} is in two shards' results ({first} and {}): merge the results of one sharded run, each shard once",
                        c.id, shard.path
                    ));
                    continue;
                }
            } else {
                seen.insert(c.id.clone(), shard.path.clone());
            }
            out.checks.push(c);
        }
        out.notifications.extend(shard.notifications);
        push_new(&mut out.errors, shard.errors);
        push_new(&mut out.warnings, shard.warnings);
        for (api, s) in shard.api_budget {
            let sum = out.api_budget.entry(api).or_default();
            sum.requests += s.requests;
            sum.not_modified += s.not_modified;
            sum.remaining = match (sum.remaining, s.remaining) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
    }
    push_new(&mut out.errors, own_errors);
    out
}

/// Appends what `to` does not hold yet: every shard says a shared problem once.
fn push_new(to: &mut Vec<String>, items: Vec<String>) {
    for item in items {
        if !to.contains(&item) {
            to.push(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: &str = "2026-05-23T06:30:00Z";

    fn file(checks: &[(&str, &str)], extra: Value) -> String {
        let checks: Vec<Value> = checks
            .iter()
            .map(|(id, status)| {
                serde_json::json!({
                    "id": id, "kind": "cron_heartbeat", "target": "t", "status": status,
                    "message": "m", "details": {}, "duration_ms": 1
                })
            })
            .collect();
        let mut v = serde_json::json!({
            "schema_version": 1, "tool": "heartbeat-monitor", "tool_version": "0.1.0",
            "started_at": T0, "finished_at": "2026-05-23T06:30:05Z", "duration_ms": 5000,
            "now": T0, "dry_run": false, "status": "ok", "exit_code": 0,
            "counts": {"ok": 0, "warning": 0, "critical": 0, "unknown": 0},
            "checks": checks, "notifications": [], "errors": [], "warnings": [],
            "state": {"source": "none", "saved_at": null},
            "api_budget": {"github": {"requests": 3, "not_modified": 1, "remaining": 4000}}
        });
        if let (Some(map), Value::Object(extra)) = (v.as_object_mut(), extra) {
            map.extend(extra);
        }
        v.to_string()
    }

    fn now() -> DateTime<Utc> {
        "2026-05-23T07:00:00Z".parse().unwrap()
    }

    #[test]
    fn shards_merge_into_one_run() {
        let a = parse(
            "a.json",
            &file(
                &[("cron_heartbeat:o/a:x.yml", "ok")],
                serde_json::json!({"warnings": ["shared"], "started_at": "2026-05-23T06:29:00Z"}),
            ),
        )
        .unwrap();
        let b = parse(
            "b.json",
            &file(
                &[("cron_heartbeat:o/b:x.yml", "critical")],
                serde_json::json!({"warnings": ["shared", "own"],
                    "api_budget": {"github": {"requests": 2, "not_modified": 0, "remaining": 3990}}}),
            ),
        )
        .unwrap();
        let m = merge(vec![Ok(a), Ok(b)], now());
        let ids: Vec<&str> = m.checks.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            ["cron_heartbeat:o/a:x.yml", "cron_heartbeat:o/b:x.yml"]
        );
        assert_eq!(m.checks[1].status, Status::Critical);
        assert_eq!(m.checks[1].kind, "cron_heartbeat");
        assert_eq!(m.warnings, ["shared", "own"]);
        assert!(m.errors.is_empty());
        assert_eq!(
            m.api_budget["github"],
            Spent {
                requests: 5,
                not_modified: 1,
                remaining: Some(3990)
            }
        );
        assert_eq!(
            m.started,
            "2026-05-23T06:29:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert!(!m.disabled);
    }

    #[test]
    fn a_check_in_two_shards_is_an_error_naming_it() {
        let one = |p| parse(p, &file(&[("http_probe:api", "ok")], Value::Null));
        let m = merge(vec![one("a.json"), one("b.json")], now());
        assert_eq!(m.checks.len(), 1);
        assert_eq!(
            m.errors,
            [
                "check http_probe:api is in two shards' results (a.json and b.json): merge the results of one sharded run, each shard once"
            ]
        );
    }

    #[test]
    fn files_of_another_tool_or_version_are_refused() {
        let e = parse(
            "x.json",
            &file(&[], serde_json::json!({"schema_version": 2})),
        )
        .unwrap_err();
        assert_eq!(
            e,
            "x.json has schema_version 2; this heartbeat-monitor merges schema_version 1 only"
        );
        let e = parse("x.json", &file(&[], serde_json::json!({"tool": "other"}))).unwrap_err();
        assert_eq!(
            e,
            "x.json is not a heartbeat-monitor result file (its tool is \"other\")"
        );
        assert!(
            parse("x.json", "{")
                .unwrap_err()
                .starts_with("x.json is not a result file")
        );
        let m = merge(vec![Err(e.clone())], now());
        assert_eq!(m.errors, [e]);
        assert_eq!(m.started, now());
    }

    #[test]
    fn every_shard_disabled_is_disabled_and_some_is_an_error() {
        let off = || {
            parse(
                "a.json",
                &file(&[], serde_json::json!({"status": "disabled"})),
            )
        };
        assert!(merge(vec![off(), off()], now()).disabled);
        let on = parse("b.json", &file(&[], Value::Null));
        let m = merge(vec![off(), on], now());
        assert!(!m.disabled);
        assert!(m.errors[0].starts_with("1 of the 2 shard results were disabled"));
    }
}
