//! `history.jsonl`: one line per run per check, `{"at", "id", "kind", "target", "status"}`,
//! extended run after run and bounded to the 90 days before the run's `now`. A corrupt line
//! is skipped with a warning and the rest kept; a file that is not a regular file, or is
//! larger than any history could be, is left as it is and the page is not written.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::checks::CheckResult;
use crate::config::file::{ReadError, read_regular};

/// The days a history keeps.
pub const DAYS: i64 = 90;
/// Far more than 90 days of hourly runs of a few hundred checks.
const MAX_BYTES: u64 = 256 * 1024 * 1024;

/// One check at one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// The run's `now`, RFC 3339.
    pub at: String,
    /// The check's id.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// Its target.
    pub target: String,
    /// `ok`, `warning`, `critical` or `unknown`.
    pub status: String,
}

impl Line {
    /// When, parsed.
    pub fn when(&self) -> Option<DateTime<Utc>> {
        self.at.parse().ok()
    }
}

/// A history as read: its lines, and the lines that could not be read.
#[derive(Debug, Default)]
pub struct Read {
    /// The lines, in file order.
    pub lines: Vec<Line>,
    /// Warnings: each corrupt line skipped, by number.
    pub skipped: Vec<String>,
}

/// Reads `path`; a missing file is an empty history.
pub fn read(path: &Path) -> Result<Read, ReadError> {
    let text = match read_regular(path, MAX_BYTES) {
        Ok(text) => text,
        Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    Ok(parse(&text, &path.display().to_string()))
}

/// The lines of `text`; `shown` names the file in warnings.
pub fn parse(text: &str, shown: &str) -> Read {
    let mut read = Read::default();
    for (n, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(raw) {
            Ok(line) if line.when().is_some() => read.lines.push(line),
            _ => read.skipped.push(format!(
                "{shown} line {}: not a history line, skipped (the others are kept)",
                n + 1
            )),
        }
    }
    read
}

/// `previous` without what is older than 90 days before `now`, then a line per check of
/// this run.
pub fn extend(previous: Vec<Line>, checks: &[CheckResult], now: DateTime<Utc>) -> Vec<Line> {
    let oldest = now - Duration::days(DAYS);
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    previous
        .into_iter()
        .filter(|l| l.when().is_some_and(|w| w > oldest))
        .chain(checks.iter().map(|c| Line {
            at: at.clone(),
            id: c.id.clone(),
            kind: c.kind.to_string(),
            target: c.target.clone(),
            status: c.status.as_str().to_string(),
        }))
        .collect()
}

/// The lines as the file holds them.
pub fn render(lines: &[Line]) -> String {
    lines
        .iter()
        .filter_map(|l| serde_json::to_string(l).ok())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A line of the check `cron_heartbeat:o/r:x.yml`, for tests.
#[cfg(test)]
pub fn line(at: &str, status: &str) -> Line {
    Line {
        at: at.into(),
        id: "cron_heartbeat:o/r:x.yml".into(),
        kind: "cron_heartbeat".into(),
        target: "x.yml".into(),
        status: status.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;

    #[test]
    fn lines_older_than_90_days_are_dropped_and_the_run_appended() {
        let now: DateTime<Utc> = "2026-05-23T06:30:00Z".parse().unwrap();
        let previous = vec![
            line("2026-02-21T06:30:00Z", "critical"), // 91 days old
            line("2026-02-22T07:00:00Z", "warning"),  // 90 days less half an hour: kept
            line("2026-05-22T06:30:00Z", "ok"),
        ];
        let c = CheckResult::new(
            "cron_heartbeat:o/r:x.yml",
            "cron_heartbeat",
            "x.yml",
            Status::Critical,
            "m".into(),
        );
        let next = extend(previous, &[c], now);
        let kept: Vec<(&str, &str)> = next
            .iter()
            .map(|l| (l.at.as_str(), l.status.as_str()))
            .collect();
        assert_eq!(
            kept,
            [
                ("2026-02-22T07:00:00Z", "warning"),
                ("2026-05-22T06:30:00Z", "ok"),
                ("2026-05-23T06:30:00Z", "critical")
            ]
        );
    }

    #[test]
    fn a_corrupt_line_is_skipped_and_named_and_the_rest_kept() {
        let good = serde_json::to_string(&line("2026-05-22T06:30:00Z", "ok")).unwrap();
        let text = format!("{good}\n{{\"at\": \"trunc\n\n[1,2]\n{good}\n");
        let read = parse(&text, "history.jsonl");
        assert_eq!(read.lines.len(), 2);
        assert_eq!(
            read.skipped,
            [
                "history.jsonl line 2: not a history line, skipped (the others are kept)",
                "history.jsonl line 4: not a history line, skipped (the others are kept)"
            ]
        );
        assert_eq!(
            parse(&render(&read.lines), "h").lines,
            read.lines,
            "render reads back"
        );
    }
}
