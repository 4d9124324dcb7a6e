//! `history.jsonl`: one line per run per check, `{"at", "id", "kind", "target", "status"}`,
//! extended run after run and bounded to the 90 days before the run's `now` and to
//! `MAX_BYTES`. Only the newest `MAX_BYTES` of a larger file are read. A line that is not
//! UTF-8, not a history line, has a status no run writes, or is dated after the run's `now`
//! is skipped with a warning and the rest kept; a file that is not a regular file is left as
//! it is and the page is not written.

use std::io::{Read as _, Seek, SeekFrom};
use std::path::Path;

use chrono::{DateTime, Duration, Timelike as _, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{CheckResult, Status};
use crate::util::fs::ReadError;
use crate::util::time::rfc3339;

/// The days a history keeps.
pub const DAYS: i64 = 90;
/// The newest bytes of a history that are read and kept: 90 days of hourly runs of some
/// 200 checks; a larger history loses its oldest lines, never the page.
pub const MAX_BYTES: usize = 64 << 20;
/// Lines skipped that are named one by one; the rest are counted.
const NAMED: usize = 10;

/// One check at one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// The run's `now`.
    pub at: DateTime<Utc>,
    /// The check's id.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// Its target.
    pub target: String,
    /// What it found.
    pub status: Status,
}

/// A line as a file may hold it, before its status is known to be one of ours.
#[derive(Deserialize)]
struct Raw {
    at: DateTime<Utc>,
    id: String,
    kind: String,
    target: String,
    status: String,
}

/// A history as read: its lines, and what could not be used.
#[derive(Debug, Default)]
pub struct Read {
    /// The lines, in file order.
    pub lines: Vec<Line>,
    /// Warnings: lines skipped, and a history cut to its newest bytes.
    pub skipped: Vec<String>,
}

/// Reads the newest `MAX_BYTES` of `path`, without the lines dated after `now`; a missing
/// file is an empty history.
pub fn read(path: &Path, now: DateTime<Utc>) -> Result<Read, ReadError> {
    let shown = path.display().to_string();
    let (bytes, cut) = match read_tail(path, MAX_BYTES) {
        Ok(read) => read,
        Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => (Vec::new(), false),
        Err(e) => return Err(e),
    };
    let mut read = parse(&bytes, &shown, now);
    if cut {
        read.skipped.insert(
            0,
            format!(
                "{shown} is larger than {} MiB: only its newest {} MiB are read (lines counted from there), the older lines are dropped",
                MAX_BYTES >> 20,
                MAX_BYTES >> 20
            ),
        );
    }
    Ok(read)
}

/// The last `max` bytes of a regular file, from its first whole line, and whether it was
/// cut. A FIFO or a device is refused before it is opened (opening one can block).
fn read_tail(path: &Path, max: usize) -> Result<(Vec<u8>, bool), ReadError> {
    if !std::fs::metadata(path)?.is_file() {
        return Err(ReadError::NotRegular);
    }
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let cut = len > max as u64;
    // One byte more than kept: whether the first line kept starts a line.
    if cut {
        f.seek(SeekFrom::Start(len - max as u64 - 1))?;
    }
    let mut bytes = Vec::new();
    f.take(max as u64 + 1).read_to_end(&mut bytes)?;
    if cut {
        let start = bytes
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| i + 1);
        bytes.drain(..start);
    }
    Ok((bytes, cut))
}

/// The lines of `bytes` dated up to `now`; `shown` names the file in warnings, which never
/// repeat what a line holds.
pub fn parse(bytes: &[u8], shown: &str, now: DateTime<Utc>) -> Read {
    let mut read = Read::default();
    let mut skipped = 0;
    let mut future = 0;
    for (n, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        if raw.trim_ascii().is_empty() {
            continue;
        }
        let why = match serde_json::from_slice::<Raw>(raw) {
            Ok(raw) => match status(&raw.status) {
                Some(status) if raw.at <= now => {
                    read.lines.push(Line {
                        at: raw.at,
                        id: raw.id,
                        kind: raw.kind,
                        target: raw.target,
                        status,
                    });
                    continue;
                }
                Some(_) => {
                    future += 1;
                    continue;
                }
                None => "its status is not ok, warning, critical or unknown",
            },
            Err(_) => "not a history line",
        };
        skipped += 1;
        if skipped <= NAMED {
            read.skipped.push(format!(
                "{shown} line {}: {why}, skipped (the others are kept)",
                n + 1
            ));
        }
    }
    if skipped > NAMED {
        read.skipped
            .push(format!("{shown}: {} more lines skipped", skipped - NAMED));
    }
    if future > 0 {
        let lines = if future == 1 { "line" } else { "lines" };
        read.skipped.push(format!(
            "{shown}: {future} {lines} dated after this run ({}) dropped",
            rfc3339(now)
        ));
    }
    read
}

/// The status a run writes as `word`.
fn status(word: &str) -> Option<Status> {
    [
        Status::Ok,
        Status::Warning,
        Status::Critical,
        Status::Unknown,
    ]
    .into_iter()
    .find(|s| s.as_str() == word)
}

/// `previous` without what is older than 90 days before `now`, then a line per check of
/// this run.
pub fn extend(previous: Vec<Line>, checks: &[CheckResult], now: DateTime<Utc>) -> Vec<Line> {
    let oldest = now - Duration::days(DAYS);
    // Whole seconds, as every line is written.
    let at = now.with_nanosecond(0).unwrap_or(now);
    previous
        .into_iter()
        .filter(|l| l.at > oldest && l.at <= now)
        .chain(checks.iter().map(|c| Line {
            at,
            id: c.id.clone(),
            kind: c.kind.to_string(),
            target: c.target.clone(),
            status: c.status,
        }))
        .collect()
}

/// The lines as the file holds them: the newest that fit in `MAX_BYTES`.
pub fn render(lines: &[Line]) -> String {
    render_within(lines, MAX_BYTES)
}

fn render_within(lines: &[Line], max: usize) -> String {
    let rendered: Vec<String> = lines
        .iter()
        .filter_map(|l| serde_json::to_string(l).ok())
        .collect();
    // Each line with its line break, counted from the newest.
    let mut size = 0;
    let keep = rendered
        .iter()
        .rev()
        .take_while(|l| {
            size += l.len() + 1;
            size <= max
        })
        .count();
    rendered[rendered.len() - keep..].join("\n")
}

/// A line of the check `cron_heartbeat:o/r:x.yml`, for tests.
#[cfg(test)]
pub fn line(at: &str, status: Status) -> Line {
    Line {
        at: at.parse().unwrap(),
        id: "cron_heartbeat:o/r:x.yml".into(),
        kind: "cron_heartbeat".into(),
        target: "x.yml".into(),
        status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-05-23T06:30:00Z".parse().unwrap()
    }

    fn json(at: &str, status: &str) -> String {
        format!(
            "{{\"at\":\"{at}\",\"id\":\"cron_heartbeat:o/r:x.yml\",\"kind\":\"cron_heartbeat\",\"target\":\"x.yml\",\"status\":\"{status}\"}}"
        )
    }

    #[test]
    fn lines_older_than_90_days_are_dropped_and_the_run_appended() {
        let previous = vec![
            line("2026-02-21T06:30:00Z", Status::Critical), // 91 days old
            line("2026-02-22T07:00:00Z", Status::Warning),  // 90 days less half an hour: kept
            line("2026-05-22T06:30:00Z", Status::Ok),
        ];
        let c = CheckResult::new(
            "cron_heartbeat:o/r:x.yml",
            "cron_heartbeat",
            "x.yml",
            Status::Critical,
            "m".into(),
        );
        let next = extend(previous, &[c], now());
        let kept: Vec<String> = next
            .iter()
            .map(|l| {
                json(
                    &l.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    l.status.as_str(),
                )
            })
            .collect();
        assert_eq!(
            kept,
            [
                json("2026-02-22T07:00:00Z", "warning"),
                json("2026-05-22T06:30:00Z", "ok"),
                json("2026-05-23T06:30:00Z", "critical")
            ]
        );
        assert_eq!(
            render(&next).lines().collect::<Vec<_>>(),
            kept,
            "as written"
        );
    }

    #[test]
    fn a_corrupt_line_is_skipped_and_named_and_the_rest_kept() {
        let good = json("2026-05-22T06:30:00Z", "ok");
        let text = format!(
            "{good}\n{{\"at\": \"trunc\n\n[1,2]\n{}\n{good}\n\u{0}\u{0}\n",
            json("2026-05-22T06:30:00Z", "<b>fine</b>")
        );
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(b"{\"at\": \"\xff\"}\n");
        let read = parse(&bytes, "history.jsonl", now());
        assert_eq!(read.lines.len(), 2);
        assert_eq!(
            read.skipped,
            [
                "history.jsonl line 2: not a history line, skipped (the others are kept)",
                "history.jsonl line 4: not a history line, skipped (the others are kept)",
                "history.jsonl line 5: its status is not ok, warning, critical or unknown, skipped (the others are kept)",
                "history.jsonl line 7: not a history line, skipped (the others are kept)",
                "history.jsonl line 8: not a history line, skipped (the others are kept)",
            ]
        );
        assert_eq!(
            parse(render(&read.lines).as_bytes(), "h", now()).lines,
            read.lines,
            "render reads back"
        );
    }

    #[test]
    fn lines_dated_after_the_run_are_dropped_and_counted() {
        let text = [
            json("2026-05-23T06:30:00Z", "ok"),
            json("2026-05-23T06:30:01Z", "ok"),
            json("9999-01-01T00:00:00Z", "ok"),
        ]
        .join("\n");
        let read = parse(text.as_bytes(), "h", now());
        assert_eq!(read.lines, [line("2026-05-23T06:30:00Z", Status::Ok)]);
        assert_eq!(
            read.skipped,
            ["h: 2 lines dated after this run (2026-05-23T06:30:00Z) dropped"]
        );
    }

    #[test]
    fn many_bad_lines_are_named_ten_and_counted() {
        let text = "x\n".repeat(25);
        let read = parse(text.as_bytes(), "h", now());
        assert_eq!(read.skipped.len(), 11);
        assert_eq!(read.skipped[10], "h: 15 more lines skipped");
    }

    #[test]
    fn a_history_past_its_bound_keeps_its_newest_lines() {
        let lines: Vec<Line> = (10..20)
            .map(|d| line(&format!("2026-05-{d}T06:30:00Z"), Status::Ok))
            .collect();
        let one = serde_json::to_string(&lines[0]).unwrap().len() + 1;
        let kept = render_within(&lines, 3 * one + 1);
        let read = parse(kept.as_bytes(), "h", now());
        assert_eq!(read.lines, lines[7..]);
        assert_eq!(render_within(&lines, 10 * one), render(&lines));
    }

    #[test]
    fn a_long_file_is_read_from_its_first_whole_line_within_the_bound() {
        let dir = std::env::temp_dir().join(format!("hm-unit-tail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("history.jsonl");
        std::fs::write(&path, "aaaaaaaa\nbbbb\ncccc\n").unwrap();
        let tail = |max| read_tail(&path, max).unwrap();
        assert_eq!(tail(12), (b"bbbb\ncccc\n".to_vec(), true));
        assert_eq!(
            tail(10),
            (b"bbbb\ncccc\n".to_vec(), true),
            "a whole line is kept"
        );
        assert_eq!(tail(9), (b"cccc\n".to_vec(), true));
        assert_eq!(tail(100), (b"aaaaaaaa\nbbbb\ncccc\n".to_vec(), false));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
