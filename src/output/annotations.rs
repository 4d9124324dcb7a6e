//! GitHub Actions annotations for the checks that are not ok, on stdout.

use super::{Finished, Output, OutputError, Sinks};
use crate::model::{CheckResult, Status};

/// The annotations, in Actions or wherever a step summary is asked for.
pub struct Annotations;

impl Output for Annotations {
    fn name(&self) -> &'static str {
        "annotations"
    }

    fn write(&self, run: &mut Finished, sinks: &mut Sinks) -> Result<Vec<String>, OutputError> {
        if sinks.env.in_actions() || sinks.env.get("GITHUB_STEP_SUMMARY").is_some() {
            sinks.console.command(&annotations(&run.result.checks));
        }
        Ok(Vec::new())
    }
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
    fn annotations_escape_and_skip_ok() {
        let a = annotations(&[c(Status::Ok, "fine"), c(Status::Warning, "50% gone\nsoon")]);
        assert_eq!(
            a,
            "::warning title=cron_heartbeat x.yml::50%25 gone%0Asoon\n"
        );
    }
}
