//! What a check finds, as data. A stale heartbeat is a `CheckResult` with status `critical`,
//! never an `Err`; only "could not evaluate" is `unknown`.

pub mod heartbeat;
pub mod heroku;
pub mod pages;
pub mod pool;
pub mod probe;
pub mod promotions;
pub mod repo_activity;
pub mod time;
pub mod token;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The outcome of one check, ordered by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Everything as expected.
    Ok,
    /// Needs attention soon.
    Warning,
    /// Broken now.
    Critical,
    /// Could not be evaluated: the health of the target is not known.
    Unknown,
}

impl Status {
    /// The monitoring-plugin exit code of this status.
    pub fn code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Warning => 1,
            Status::Critical => 2,
            Status::Unknown => 3,
        }
    }

    /// The lowercase name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Critical => "critical",
            Status::Unknown => "unknown",
        }
    }
}

/// The kinds of check the monitor runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A GitHub Actions workflow with no successful run inside its SLA.
    CronHeartbeat,
    /// A public repository about to lose its scheduled workflows to GitHub's 60-day rule.
    RepoActivity,
    /// A Heroku app whose newest release has no code.
    HerokuSlug,
    /// A Heroku app with fewer web dynos up than it needs.
    HerokuDynos,
    /// A health URL that does not answer as expected.
    HttpProbe,
    /// A Cloudflare Pages project whose production deployment failed or hangs.
    PagesDeploy,
    /// A promotion row left in a state like `deploying` for too long.
    StuckPromotion,
    /// The GitHub token the monitor uses expires soon.
    GithubToken,
}

impl Kind {
    /// The snake_case name used in ids and outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::CronHeartbeat => "cron_heartbeat",
            Kind::RepoActivity => "repo_activity",
            Kind::HerokuSlug => "heroku_slug",
            Kind::HerokuDynos => "heroku_dynos",
            Kind::HttpProbe => "http_probe",
            Kind::PagesDeploy => "pages_deploy",
            Kind::StuckPromotion => "stuck_promotion",
            Kind::GithubToken => "github_token",
        }
    }
}

/// What one check found. `since`, `threshold` and `link` feed the mail body only.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// Stable identifier: `kind:scope:target`.
    pub id: String,
    /// The kind of check.
    pub kind: Kind,
    /// What was checked, as people name it (a workflow file, an app).
    pub target: String,
    /// The outcome.
    pub status: Status,
    /// One line a person can act on.
    pub message: String,
    /// What the check saw, for the result file.
    pub details: Value,
    /// Wall time the check took.
    pub duration_ms: u64,
    /// Whether a `[[silence]]` covers it: reported, but not mailed and not in the exit code.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub silenced: bool,
    /// Why it is silenced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silence_reason: Option<String>,
    /// Since when the problem has been so (RFC 3339), when known.
    #[serde(skip)]
    pub since: Option<String>,
    /// The threshold that was crossed, in words.
    #[serde(skip)]
    pub threshold: Option<String>,
    /// Where to look first.
    #[serde(skip)]
    pub link: Option<String>,
    /// The name to put in a mail subject.
    #[serde(skip)]
    pub subject_name: String,
    /// Commands that confirm or fix the problem, for the mail.
    #[serde(skip)]
    pub hints: Vec<String>,
}

impl CheckResult {
    /// A result with only the essentials; callers fill in the rest.
    pub fn new(id: &str, kind: Kind, target: &str, status: Status, message: String) -> Self {
        Self {
            id: id.to_string(),
            kind,
            target: target.to_string(),
            status,
            message,
            details: Value::Object(Default::default()),
            duration_ms: 0,
            silenced: false,
            silence_reason: None,
            since: None,
            threshold: None,
            link: None,
            subject_name: target.to_string(),
            hints: Vec::new(),
        }
    }
}
