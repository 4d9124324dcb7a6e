//! The reports of a run's checks: the table, the dry-run previews, the step summary and the
//! annotations.

use crate::model::{CheckResult, Status};
use crate::output::result::RunResult;
use crate::redact::{MASK, Redactor};
use crate::util::text::{cut, one_line};

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

/// " [silenced: why]" for a silenced check.
fn silenced(c: &CheckResult) -> String {
    match (&c.silence_reason, c.silenced) {
        (Some(why), true) => format!(" [silenced: {why}]"),
        (None, true) => " [silenced]".into(),
        _ => String::new(),
    }
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

/// What a dry run would have sent: every channel's preview (mail's first), a blank line
/// between two.
pub fn previews(previews: &[String]) -> String {
    previews.join("\n")
}

/// The Markdown appended to `GITHUB_STEP_SUMMARY`.
pub fn step_summary(result: &RunResult) -> String {
    let mut md = format!(
        "### heartbeat-monitor: {}\n\n",
        result.status.as_str().to_uppercase()
    );
    if !result.checks.is_empty() {
        md.push_str("| Status | Check | Message |\n|---|---|---|\n");
        for c in &result.checks {
            md.push_str(&format!(
                "| {} | {} | {} |\n",
                c.status.as_str(),
                cell(&format!("{} {}", c.kind, c.target)),
                cell(&format!("{}{}", c.message, silenced(c)))
            ));
        }
    }
    for e in &result.errors {
        md.push_str(&format!("\n- error: {}", cell(e)));
    }
    let sent = result.notifications.iter().filter(|n| n.sent).count();
    md.push_str(&format!(
        "\n{} mail(s){}, exit code {}.\n",
        result.notifications.len(),
        if result.dry_run {
            " printed (dry run)".to_string()
        } else {
            format!(", {sent} accepted")
        },
        result.exit_code
    ));
    md
}

fn cell(s: &str) -> String {
    one_line(s).replace('|', "\\|")
}

/// `::error::` / `::warning::` (`::notice::` when silenced) lines for the checks that are not ok.
pub fn annotations(checks: &[CheckResult]) -> String {
    checks
        .iter()
        .filter(|c| c.status != Status::Ok)
        .map(|c| {
            // A silenced problem is known: a notice, not a red mark.
            let level = match c.status {
                _ if c.silenced => "notice",
                Status::Warning => "warning",
                _ => "error",
            };
            format!(
                "::{level} title={}::{}\n",
                escape_property(&format!("{} {}", c.kind, c.target)),
                escape_data(&c.message)
            )
        })
        .collect()
}

/// Escapes a workflow command's message.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn server_text_stays_on_its_row() {
        let mut named = c(Status::Critical, "stale\r\n| forged | row |");
        named.target = "nightly\nCRITICAL  forged.yml".into();
        let t = table(&[named.clone()], false, &Redactor::default());
        assert_eq!(t.lines().count(), 2, "{t}");
        let r = RunResult {
            schema_version: 1,
            tool: "heartbeat-monitor",
            tool_version: "0",
            started_at: String::new(),
            finished_at: String::new(),
            duration_ms: 0,
            now: String::new(),
            dry_run: false,
            status: crate::model::RunStatus::Critical,
            exit_code: 2,
            counts: Default::default(),
            checks: vec![named],
            notifications: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
            state: Default::default(),
            api_budget: Default::default(),
        };
        let md = step_summary(&r);
        assert!(md.contains("| critical | cron_heartbeat nightly CRITICAL  forged.yml | stale  \\| forged \\| row \\| |"), "{md}");
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

    #[test]
    fn annotations_escape_and_skip_ok() {
        let a = annotations(&[c(Status::Ok, "fine"), c(Status::Warning, "50% gone\nsoon")]);
        assert_eq!(
            a,
            "::warning title=cron_heartbeat x.yml::50%25 gone%0Asoon\n"
        );
    }
}
