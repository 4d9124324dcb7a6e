//! `github_token`: the token the monitor reads GitHub with expires soon. A monitor whose token
//! lapses goes blind on a schedule everybody could have seen coming.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::json;

use super::pool::Identity;
use super::{Check, CheckKind, CheckResult, Context, Status, Watch};
use crate::config::Configure;

/// The kind's name.
pub const NAME: &str = "github_token";

/// The kind: watched whenever GitHub is; it has no section and makes no request.
pub struct GithubToken;

impl CheckKind for GithubToken {
    fn names(&self) -> &'static [&'static str] {
        &[NAME]
    }

    fn configure(&self, _cfg: &mut Configure) -> Vec<Arc<dyn Watch>> {
        Vec::new()
    }

    /// Watched whenever a target reads GitHub with the token.
    fn derive(&self, _cfg: &Configure, first: &[Arc<dyn Watch>]) -> Vec<Arc<dyn Watch>> {
        let uses_github = first
            .iter()
            .any(|w| w.needs().iter().any(|n| n.var == "GITHUB_TOKEN"));
        if !uses_github {
            return Vec::new();
        }
        vec![Arc::new(Expiry)]
    }

    fn runbook(&self) -> &'static [&'static str] {
        &["GitHub TOKEN EXPIRES"]
    }
}

/// The expiry of the token the run reads GitHub with, as GitHub's answers said it.
#[derive(Debug)]
pub struct Expiry;

impl Check for Expiry {
    /// `github-authentication-token-expiration`, when an answer carried it (fine-grained
    /// and classic personal tokens with an expiry; the Actions token never says).
    type Observation = Option<String>;

    /// None until GitHub says there is an expiry: nothing to report otherwise.
    fn identities(&self) -> Vec<Identity> {
        Vec::new()
    }

    fn after_others(&self) -> bool {
        true
    }

    fn observe(&self, ctx: &Context) -> Option<String> {
        ctx.github.token_expiry()
    }

    fn evaluate(&self, header: &Option<String>, now: DateTime<Utc>) -> Vec<CheckResult> {
        header.iter().map(|h| evaluate(h, now)).collect()
    }
}

/// Days before the expiry at which the monitor starts warning.
pub const WARN_DAYS: i64 = 7;

/// Reads GitHub's header value, e.g. `2026-05-28 12:00:00 UTC` (or with `+0000`).
pub fn parse(value: &str) -> Option<DateTime<Utc>> {
    let v = value.trim();
    if let Some(naive) = v.strip_suffix(" UTC") {
        return NaiveDateTime::parse_from_str(naive, "%Y-%m-%d %H:%M:%S")
            .ok()
            .map(|n| n.and_utc());
    }
    DateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S %z")
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Ok, warning within a week, critical once expired.
pub fn evaluate(header: &str, now: DateTime<Utc>) -> CheckResult {
    let id = "github_token:expiry";
    let Some(at) = parse(header) else {
        return CheckResult::new(
            id,
            NAME,
            "GitHub token",
            Status::Ok,
            format!("GitHub gave an expiry that could not be read: {header}"),
        );
    };
    let date = at.format("%Y-%m-%d %H:%M UTC").to_string();
    let days = (at - now).num_days();
    let (status, message) = if at <= now {
        (
            Status::Critical,
            format!("the GitHub token expired on {date}: renew it, or every GitHub check fails"),
        )
    } else if days < WARN_DAYS {
        (
            Status::Warning,
            format!("the GitHub token expires on {date} (in {days} days): renew it before then"),
        )
    } else {
        (
            Status::Ok,
            format!("the GitHub token expires on {date} (in {days} days)"),
        )
    };
    let mut r = CheckResult::new(id, NAME, "GitHub token", status, message);
    r.details = json!({"expires_at": crate::util::time::rfc3339(at)});
    r.subject_name = date;
    if status != Status::Ok {
        r.threshold = Some(format!("at least {WARN_DAYS} days of validity left"));
        r.link = Some("https://github.com/settings/tokens".into());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_week_before_expiry_warns() {
        let now: DateTime<Utc> = "2026-05-23T06:30:00Z".parse().unwrap();
        let r = evaluate("2026-05-28 12:00:00 UTC", now);
        assert_eq!(r.status, Status::Warning);
        assert_eq!(
            r.message,
            "the GitHub token expires on 2026-05-28 12:00 UTC (in 5 days): renew it before then"
        );
        assert_eq!(
            evaluate("2026-07-01 00:00:00 +0000", now).status,
            Status::Ok
        );
        assert_eq!(
            evaluate("2026-05-01 00:00:00 UTC", now).status,
            Status::Critical
        );
    }
}
