//! The Markdown appended to `GITHUB_STEP_SUMMARY`, when the runner gives one.

use std::path::Path;

use super::{Finished, Output, OutputError, Sinks};
use crate::output::result::RunResult;
use crate::output::text::silenced;
use crate::util::text::one_line;

/// The step summary. A summary that cannot be appended to is not worth failing the run for.
pub struct StepSummary;

impl Output for StepSummary {
    fn name(&self) -> &'static str {
        "step summary"
    }

    fn write(&self, run: &mut Finished, sinks: &mut Sinks) -> Result<Vec<String>, OutputError> {
        if let Some(path) = sinks.env.get("GITHUB_STEP_SUMMARY") {
            let md = sinks.console.redactor().redact(&step_summary(&run.result));
            append(Path::new(path), &md);
        }
        Ok(Vec::new())
    }
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

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let _ = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CheckResult, Status};
    use crate::output::table::table;
    use crate::redact::Redactor;

    fn c(status: Status, msg: &str) -> CheckResult {
        CheckResult::new("id", "cron_heartbeat", "x.yml", status, msg.into())
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
}
