//! `--status-page DIR`: a static status page people can keep open. `DIR/index.html` (see
//! `page`), `DIR/history.jsonl` (see `history`: read, extended by this run, bounded to 90
//! days) and `DIR/badges/<check id>.json` in Shields' endpoint format. Written from the
//! result as written (its texts already redacted), each file atomically.

pub mod history;
pub mod page;

use std::path::Path;

use serde_json::json;

use crate::checks::{CheckResult, Status};
use crate::output::result::{RunResult, write_atomically};

/// What writing the page said: warnings (corrupt history lines skipped).
#[derive(Debug, Default)]
pub struct Written {
    /// One per line of the previous history that could not be read.
    pub warnings: Vec<String>,
}

/// Writes the page, the history and the badges of `result` into `dir`.
pub fn write(dir: &Path, result: &RunResult) -> Result<Written, String> {
    let now = result
        .now
        .parse()
        .map_err(|_| format!("the run's now {:?} is not a time", result.now))?;
    let io = |what: &str, e: std::io::Error| {
        format!(
            "the status page in {} could not be written: {what}: {e}",
            dir.display()
        )
    };
    std::fs::create_dir_all(dir.join("badges")).map_err(|e| io("badges/", e))?;
    let path = dir.join("history.jsonl");
    let read = history::read(&path)?;
    let lines = history::extend(read.lines, &result.checks, now);
    write_atomically(&path, &history::render(&lines)).map_err(|e| io("history.jsonl", e))?;
    let html = page::render(&result.checks, result.status, &lines, now);
    write_atomically(&dir.join("index.html"), &html).map_err(|e| io("index.html", e))?;
    for c in &result.checks {
        let name = format!("{}.json", badge_name(&c.id));
        write_atomically(&dir.join("badges").join(&name), &badge(c).to_string())
            .map_err(|e| io(&format!("badges/{name}"), e))?;
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
