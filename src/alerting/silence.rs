//! `[[silence]]`: a known problem that should not page anyone until a date. A silenced check
//! still runs and is reported, but sends no mail and does not raise the exit code; a silence
//! past its date says so, so it gets removed.

use chrono::{DateTime, Utc};

use crate::model::CheckResult;
use crate::util::time::rfc3339;

/// One silence.
#[derive(Debug, Clone, PartialEq)]
pub struct Silence {
    /// A check id or target; a trailing `*` matches any rest.
    pub matches: String,
    /// Until when.
    pub until: DateTime<Utc>,
    /// Why (shown in the output).
    pub reason: String,
}

impl Silence {
    /// Whether it covers `check`.
    pub fn covers(&self, check: &CheckResult) -> bool {
        let m = self.matches.as_str();
        match m.strip_suffix('*') {
            Some(prefix) => check.id.starts_with(prefix) || check.target.starts_with(prefix),
            None => check.id == m || check.target == m,
        }
    }
}

/// Marks the checks active silences cover; returns a warning for each expired silence.
pub fn apply(checks: &mut [CheckResult], silences: &[Silence], now: DateTime<Utc>) -> Vec<String> {
    let mut warnings = Vec::new();
    for s in silences {
        if s.until <= now {
            warnings.push(format!(
                "the silence on `{}` ({}) expired at {}: remove it from the configuration",
                s.matches,
                s.reason,
                rfc3339(s.until)
            ));
            continue;
        }
        for c in checks.iter_mut().filter(|c| s.covers(c)) {
            c.silenced = true;
            c.silence_reason = Some(format!("{} (until {})", s.reason, rfc3339(s.until)));
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn active_silences_mark_expired_ones_warn() {
        let mut checks = vec![
            CheckResult::new(
                "heroku_dynos:raxx-api-staging",
                "heroku_dynos",
                "raxx-api-staging",
                Status::Critical,
                "m".into(),
            ),
            CheckResult::new(
                "cron_heartbeat:o/r:x.yml",
                "cron_heartbeat",
                "x.yml",
                Status::Critical,
                "m".into(),
            ),
        ];
        let silences = vec![
            Silence {
                matches: "raxx-api-staging".into(),
                until: t("2026-06-01T00:00:00Z"),
                reason: "staging rebuild".into(),
            },
            Silence {
                matches: "cron_heartbeat:*".into(),
                until: t("2026-05-01T00:00:00Z"),
                reason: "old".into(),
            },
        ];
        let warnings = apply(&mut checks, &silences, t("2026-05-23T06:30:00Z"));
        assert!(checks[0].silenced);
        assert_eq!(
            checks[0].silence_reason.as_deref(),
            Some("staging rebuild (until 2026-06-01T00:00:00Z)")
        );
        assert!(!checks[1].silenced);
        assert_eq!(
            warnings,
            [
                "the silence on `cron_heartbeat:*` (old) expired at 2026-05-01T00:00:00Z: remove it from the configuration"
            ]
        );
    }
}
