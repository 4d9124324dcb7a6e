//! The table of checks on stdout, once the channels were asked: status, check, message.

use super::{Finished, Output, OutputError, Sinks};
use crate::model::{CheckResult, Status};
use crate::output::text::silenced;
use crate::redact::{MASK, Redactor};
use crate::util::text::{cut, one_line};

/// The table, for a run that checked something or a dry run.
pub struct Table;

impl Output for Table {
    fn name(&self) -> &'static str {
        "table"
    }

    fn write(&self, run: &mut Finished, sinks: &mut Sinks) -> Result<Vec<String>, OutputError> {
        let checks = &run.result.checks;
        if run.channels_asked() && (!checks.is_empty() || run.result.dry_run) {
            let console = &mut *sinks.console;
            console.out(&table(checks, console.color(), console.redactor()));
        }
        Ok(Vec::new())
    }
}

/// The widest the table gets: a terminal or a CI log of 100 columns shows it whole.
pub const TABLE_WIDTH: usize = 100;
/// The widest the CHECK column gets; a longer name is cut (the result file has it whole).
const CHECK_WIDTH: usize = 44;

/// The table of checks: status, check, message, within [`TABLE_WIDTH`] columns. A long
/// message wraps under its column; the result file keeps every text whole. Every text is
/// masked before it is cut or wrapped: a secret broken over two lines would be masked by
/// no one.
pub fn table(checks: &[CheckResult], color: bool, redactor: &Redactor) -> String {
    let label = |c: &CheckResult| {
        let text = redactor.redact(&one_line(&format!("{} {}", c.kind, c.target)));
        cut(&text, CHECK_WIDTH)
    };
    let width = checks
        .iter()
        .map(|c| label(c).chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let indent = 10 + width + 2;
    let room = TABLE_WIDTH - indent;
    let mut out = format!("{:<9} {:<width$}  MESSAGE\n", "STATUS", "CHECK");
    for c in checks {
        let status = format!("{:<9}", c.status.as_str().to_uppercase());
        let status = if color {
            paint(c.status, &status)
        } else {
            status
        };
        let text = redactor.redact(&one_line(&format!("{}{}", c.message, silenced(c))));
        let lines = wrap(&text, room);
        out.push_str(&format!("{status} {:<width$}  {}\n", label(c), lines[0]));
        for line in &lines[1..] {
            out.push_str(&format!("{:indent$}{line}\n", ""));
        }
    }
    out
}

/// `text` in lines of at most `width` characters, broken at spaces; a word longer than a
/// line gets lines of its own, and a URL or a masked secret longer than a line goes whole
/// on its own line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let len = word.chars().count();
        let line = lines.last_mut().expect("never empty");
        let used = line.chars().count();
        if used > 0 && used + 1 + len <= width {
            line.push(' ');
            line.push_str(word);
            continue;
        }
        if used > 0 {
            lines.push(String::new());
        }
        if word.contains("://") || word.contains(MASK) {
            lines.last_mut().expect("never empty").push_str(word);
            continue;
        }
        let chars: Vec<char> = word.chars().collect();
        for (i, piece) in chars.chunks(width).enumerate() {
            if i > 0 {
                lines.push(String::new());
            }
            lines.last_mut().expect("never empty").extend(piece);
        }
    }
    lines
}

fn paint(status: Status, text: &str) -> String {
    let code = match status {
        Status::Ok => "32",
        Status::Warning => "33",
        Status::Critical => "31;1",
        Status::Unknown => "35;1",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::annotations::annotations;

    fn c(status: Status, msg: &str) -> CheckResult {
        CheckResult::new("id", "cron_heartbeat", "x.yml", status, msg.into())
    }

    #[test]
    fn table_without_color_is_plain() {
        let t = table(
            &[c(Status::Ok, "fine"), c(Status::Critical, "stale")],
            false,
            &Redactor::default(),
        );
        assert!(!t.contains('\x1b'));
        assert!(t.contains("CRITICAL  cron_heartbeat x.yml  stale"), "{t}");
        assert!(table(&[c(Status::Ok, "fine")], true, &Redactor::default()).contains("\x1b[32m"));
    }

    #[test]
    fn the_table_fits_100_columns_and_wraps_long_messages_whole() {
        let url = format!("https://github.com/o/r/actions/runs/{}", "9".repeat(80));
        let long = format!(
            "missed 5 scheduled runs in a row (cron '0 2 * * *', daily at 02:00 UTC); latest run failed {url}"
        );
        let mut named = c(Status::Critical, &long);
        named.target = "a-very-long-workflow-file-name-that-nobody-should-write.yml".into();
        let t = table(&[c(Status::Ok, "fine"), named], false, &Redactor::default());
        for line in t.lines().filter(|l| !l.contains(&url)) {
            assert!(
                line.chars().count() <= TABLE_WIDTH,
                "{} columns: {line}",
                line.chars().count()
            );
        }
        assert!(
            t.contains("CRITICAL  cron_heartbeat a-very-long-workflow-file-na…  missed 5"),
            "{t}"
        );
        let words: String = t
            .lines()
            .skip(2)
            .flat_map(|l| l.split_whitespace())
            .skip(3)
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(
            words.replace(' ', ""),
            long.replace(' ', ""),
            "no word is lost:\n{t}"
        );
        assert!(
            t.lines().any(|l| l.trim() == url),
            "the URL goes whole on its own line:\n{t}"
        );
    }

    #[test]
    fn a_secret_is_masked_before_the_table_wraps_and_a_url_is_never_cut() {
        let mut r = Redactor::default();
        r.add("ghs_TestToken0123456789abcdef");
        let long = format!(
            "HTTP 500: {}ghs_TestToken0123456789abcdef tail",
            "x".repeat(60)
        );
        let t = table(&[c(Status::Unknown, &long)], false, &r);
        for piece in ["ghs_Test", "456789abc"] {
            assert!(!t.contains(piece), "{piece} in\n{t}");
        }
        assert!(t.contains("[redacted]"), "{t}");
    }

    #[test]
    fn silenced_checks_are_marked_and_only_noticed() {
        let mut s = c(Status::Critical, "stale");
        s.silenced = true;
        s.silence_reason = Some("INC-88 (until 2026-06-01T00:00:00Z)".into());
        assert!(
            table(&[s.clone()], false, &Redactor::default())
                .contains("stale [silenced: INC-88 (until"),
            "{}",
            table(&[s.clone()], false, &Redactor::default())
        );
        assert!(annotations(&[s]).starts_with("::notice title="));
    }
}
