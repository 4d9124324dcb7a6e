//! `--status-page DIR`: a static status page people can keep open. `DIR/index.html` (see
//! `page`), `DIR/history.jsonl` (see `history`: read, extended by this run, bounded to 90
//! days) and `DIR/badges/<check id>.json` in Shields' endpoint format. Written from the
//! result as written (its texts already redacted), each file atomically.

pub mod history;
pub mod page;

use std::path::Path;

use serde_json::json;

use crate::checks::{CheckResult, Status};
use crate::config::file::ReadError;
use crate::output::result::{RunResult, write_atomically};

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

/// Writes the page, the history and the badges of `result` into `dir`.
pub fn write(dir: &Path, result: &RunResult) -> Result<Written, PageError> {
    let now = result
        .now
        .parse()
        .map_err(|_| PageError::Now(result.now.clone()))?;
    let io = |what: &str| {
        let (dir, what) = (dir.display().to_string(), what.to_string());
        move |source| PageError::Write { dir, what, source }
    };
    std::fs::create_dir_all(dir.join("badges")).map_err(io("badges/"))?;
    let path = dir.join("history.jsonl");
    let read = history::read(&path, now).map_err(|source| PageError::History {
        path: path.display().to_string(),
        source,
    })?;
    let lines = history::extend(read.lines, &result.checks, now);
    write_atomically(&path, &history::render(&lines)).map_err(io("history.jsonl"))?;
    let html = page::render(&result.checks, result.status, &lines, now);
    write_atomically(&dir.join("index.html"), &html).map_err(io("index.html"))?;
    for c in &result.checks {
        let name = format!("{}.json", badge_name(&c.id));
        write_atomically(&dir.join("badges").join(&name), &badge(c).to_string())
            .map_err(io(&format!("badges/{name}")))?;
    }
    Ok(Written {
        warnings: read.skipped,
    })
}

/// A badge's file name: the check id with every character outside `A-Za-z0-9._-` made `_`.
pub fn badge_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
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
            badge_name("cron_heartbeat:raxx-app/TradeMasterAPI:trace integrity.yml"),
            "cron_heartbeat_raxx-app_TradeMasterAPI_trace_integrity.yml"
        );
        let c = CheckResult::new("i", "heroku_dynos", "api", Status::Warning, "m".into());
        assert_eq!(
            badge(&c),
            json!({"schemaVersion": 1, "label": "heroku_dynos api", "message": "warning", "color": "yellow"})
        );
    }
}
