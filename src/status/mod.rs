//! `--status-page DIR`: a static status page people can keep open. `DIR/index.html` (see
//! `page`), `DIR/history.jsonl` (see `history`: read, extended by this run, bounded to 90
//! days) and `DIR/badges/<name>.json` in Shields' endpoint format (see `badge_name`).
//! Written from the result as written (its texts already redacted), each file atomically;
//! temporary files a killed run left behind are removed.

pub mod history;
pub mod page;

use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::model::{CheckResult, RunStatus, Status};
use crate::util::fs::ReadError;
use crate::util::fs::write_atomically;

/// What writing the page said: warnings (corrupt history lines skipped).
#[derive(Debug, Default)]
pub struct Written {
    /// One per line of the previous history that could not be read.
    pub warnings: Vec<String>,
}

/// Why the page was not written; the history is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The history is not a file the monitor may rewrite (not regular, unreadable).
    #[error("the history {path} is not used and left as it is: {source}")]
    History {
        /// Its path.
        path: String,
        /// Why.
        source: ReadError,
    },
    /// A file of the page could not be written.
    #[error("the status page in {dir} could not be written: {what}: {source}")]
    Write {
        /// The directory.
        dir: String,
        /// Which file.
        what: String,
        /// Why.
        source: std::io::Error,
    },
    /// The result's `now` is not a time (never, from a result this run made).
    #[error("the run's now {0:?} is not a time")]
    Now(String),
}

/// Writes the page, the history and the badges of a run's `checks` into `dir`: the run
/// ended `status`, its checks were evaluated at `now` (the result's RFC 3339 words).
pub fn write(
    dir: &Path,
    checks: &[CheckResult],
    status: RunStatus,
    now: &str,
) -> Result<Written, PageError> {
    let now = now.parse().map_err(|_| PageError::Now(now.to_string()))?;
    let io = |what: &str| {
        let (dir, what) = (dir.display().to_string(), what.to_string());
        move |source| PageError::Write { dir, what, source }
    };
    std::fs::create_dir_all(dir.join("badges")).map_err(io("badges/"))?;
    remove_stale_temporaries(dir, SystemTime::now());
    let path = dir.join("history.jsonl");
    let read = history::read(&path, now).map_err(|source| PageError::History {
        path: path.display().to_string(),
        source,
    })?;
    let lines = history::extend(read.lines, checks, now);
    write_atomically(&path, &history::render(&lines)).map_err(io("history.jsonl"))?;
    let html = page::render(checks, status, &lines, now);
    write_atomically(&dir.join("index.html"), &html).map_err(io("index.html"))?;
    for c in checks {
        let name = format!("{}.json", badge_name(&c.id));
        write_atomically(&dir.join("badges").join(&name), &badge(c).to_string())
            .map_err(io(&format!("badges/{name}")))?;
    }
    Ok(Written {
        warnings: read.skipped,
    })
}

/// The most of a check id a badge's name keeps readable.
const READABLE: usize = 100;
/// Hex digits of the id's SHA-256 in a badge's name: 64 bits, never met by chance.
const HASHED: usize = 16;

/// A badge's file name, without `.json`: the check id with every character outside
/// `A-Za-z0-9._-` made `_` and cut to 100 characters, then, unless that is the id itself,
/// `-` and 16 hex digits of the id's SHA-256, so that no two ids share a badge and no name
/// outgrows a file system (122 bytes at most with `.json`).
pub fn badge_name(id: &str) -> String {
    let readable: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(READABLE)
        .collect();
    // An id that already ends like a hashed name is hashed too, so it never meets one.
    if readable == id && !looks_hashed(id) {
        return readable;
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, id.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("{readable}-{}", &hex[..HASHED])
}

fn looks_hashed(name: &str) -> bool {
    name.len() > HASHED
        && name.as_bytes()[name.len() - HASHED - 1] == b'-'
        && name[name.len() - HASHED..]
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Older than any run (a run's deadline is minutes), so never another run's file in flight.
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// Removes what a run killed while writing left behind: `write_atomically`'s temporary files
/// (`.{name}.{pid}.{n}.tmp`) of our own files only, and only when older than `STALE_AFTER`.
/// A file that cannot be removed stays; the next run tries again.
fn remove_stale_temporaries(dir: &Path, now: SystemTime) {
    let ours = |name: &str| name == "history.jsonl" || name == "index.html";
    let badge = |name: &str| {
        name.strip_suffix(".json").is_some_and(|n| {
            !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
    };
    for (dir, owned) in [
        (dir.to_path_buf(), &ours as &dyn Fn(&str) -> bool),
        (dir.join("badges"), &badge),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !temporary_of(name).is_some_and(owned) {
                continue;
            }
            // Not followed: a link is never ours.
            let old = entry
                .metadata()
                .ok()
                .filter(|m| m.is_file())
                .and_then(|m| m.modified().ok().and_then(|t| now.duration_since(t).ok()));
            if old.is_some_and(|age| age > STALE_AFTER) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// The file a temporary `.{name}.{pid}.{n}.tmp` was made for.
fn temporary_of(file: &str) -> Option<&str> {
    let rest = file.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (rest, n) = rest.rsplit_once('.')?;
    let (name, pid) = rest.rsplit_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(n) && digits(pid) && !name.is_empty()).then_some(name)
}

/// Shields' endpoint badge of a check.
fn badge(c: &CheckResult) -> serde_json::Value {
    let color = match c.status {
        Status::Ok => "brightgreen",
        Status::Warning => "yellow",
        Status::Critical => "red",
        Status::Unknown => "lightgrey",
    };
    json!({
        "schemaVersion": 1,
        "label": format!("{} {}", c.kind, c.target),
        "message": c.status.as_str(),
        "color": color,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_badge_is_named_by_its_id_and_speaks_shields() {
        assert_eq!(
            badge_name("heroku_dynos.api-1"),
            "heroku_dynos.api-1",
            "a simple id as it is"
        );
        assert_eq!(
            badge_name("cron_heartbeat:raxx-app/TradeMasterAPI:trace integrity.yml"),
            "cron_heartbeat_raxx-app_TradeMasterAPI_trace_integrity.yml-876f743685cfa188"
        );
        let c = CheckResult::new("i", "heroku_dynos", "api", Status::Warning, "m".into());
        assert_eq!(
            badge(&c),
            json!({"schemaVersion": 1, "label": "heroku_dynos api", "message": "warning", "color": "yellow"})
        );
    }

    #[test]
    fn ids_that_look_alike_get_badges_apart_and_every_name_is_bounded() {
        let ids = ["a/b", "a b", "a_b", "é", "ü", "_"];
        let mut names: Vec<String> = ids.iter().map(|id| badge_name(id)).collect();
        assert_eq!(names[2], "a_b");
        assert!(
            names[0].starts_with("a_b-") && names[3].starts_with("_-"),
            "{names:?}"
        );
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ids.len(), "{names:?}");

        let long = "x".repeat(300);
        let cut = badge_name(&long);
        assert_eq!(cut.len(), 100 + 1 + 16);
        assert!(cut.starts_with(&"x".repeat(100)));
        assert_ne!(cut, badge_name(&"x".repeat(301)));
        assert!(badge_name(&"é".repeat(300)).len() <= 117);

        // An id shaped like a hashed name is hashed too, so it cannot take another's badge.
        let taken = badge_name("a/b");
        assert_ne!(badge_name(&taken), taken);
    }

    #[test]
    fn only_our_own_temporaries_are_recognised() {
        assert_eq!(
            temporary_of(".history.jsonl.4242.0.tmp"),
            Some("history.jsonl")
        );
        assert_eq!(temporary_of(".a.json.1.12.tmp"), Some("a.json"));
        for other in [
            "history.jsonl.4242.0.tmp",
            ".history.jsonl.notes.tmp",
            ".history.jsonl.4242.tmp",
            ".history.jsonl.4242.0.tmp.bak",
            "..1.0.tmp",
        ] {
            assert_eq!(temporary_of(other), None, "{other}");
        }
    }
}
