//! `repo_activity`: GitHub disables the scheduled workflows of a public repository after 60 days
//! without activity. Warn at 50, so someone pushes before the crons go quiet.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::pool::Identity;
use super::{Check, CheckKind, CheckResult, Context, Status, Watch};
use crate::clients::api::ApiError;
use crate::clients::github::{Repo, Repository};
use crate::config::{Configure, Need};
use crate::util::time::rfc3339;

/// The kind's name.
pub const NAME: &str = "repo_activity";
/// Days without a push after which GitHub disables a public repository's schedules.
pub const DISABLE_AFTER_DAYS: i64 = 60;
/// Days without a push after which the monitor warns.
pub const WARN_AFTER_DAYS: i64 = 50;

/// The kind: one check per repository whose workflows are watched (it has no section).
pub struct RepoActivity;

impl CheckKind for RepoActivity {
    fn names(&self) -> &'static [&'static str] {
        &[NAME]
    }

    fn configure(&self, _cfg: &mut Configure) -> Vec<Arc<dyn Watch>> {
        Vec::new()
    }

    /// One per repository whose scheduled workflows a target watches, in their order.
    fn derive(&self, _cfg: &Configure, first: &[Arc<dyn Watch>]) -> Vec<Arc<dyn Watch>> {
        let mut repos: Vec<Repo> = Vec::new();
        for r in first.iter().flat_map(|w| w.watched_repos()) {
            if !repos.contains(&r) {
                repos.push(r);
            }
        }
        repos
            .into_iter()
            .map(|repo| Arc::new(Activity { repo }) as Arc<dyn Watch>)
            .collect()
    }

    fn runbook(&self) -> &'static [&'static str] {
        &["cron heartbeat AT RISK"]
    }
}

/// One repository whose activity keeps its schedules alive.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// The repository.
    pub repo: Repo,
}

impl Check for Activity {
    type Observation = Result<Repository, ApiError>;

    /// Its repository: a repository's targets share a shard.
    fn shard_key(&self) -> String {
        self.repo.to_string()
    }

    fn identities(&self) -> Vec<Identity> {
        let name = self.repo.to_string();
        vec![Identity::new(id(&self.repo), NAME, &name, &name)]
    }

    fn needs(&self) -> Vec<Need> {
        vec![Need::new(
            "GITHUB_TOKEN",
            "GITHUB_TOKEN is not set (nor --gh-token): the repository check needs a token with metadata: read",
        )]
    }

    fn observe(&self, ctx: &Context) -> Self::Observation {
        ctx.github.repository(&self.repo)
    }

    fn evaluate(&self, seen: &Self::Observation, now: DateTime<Utc>) -> Vec<CheckResult> {
        vec![evaluate(&self.repo, seen.as_ref(), now)]
    }
}

/// `repo_activity:owner/repo`.
pub fn id(repo: &Repo) -> String {
    format!("repo_activity:{repo}")
}

/// Decides from the repository as GitHub describes it, or from why it could not be read.
pub fn evaluate(
    repo: &Repo,
    seen: Result<&Repository, &ApiError>,
    now: DateTime<Utc>,
) -> CheckResult {
    let target = repo.to_string();
    let mut r = match seen {
        Err(why) => CheckResult::new(
            &id(repo),
            NAME,
            &target,
            Status::Unknown,
            format!("could not read repository {repo}: {why}"),
        ),
        Ok(info) => judge(repo, info, now),
    };
    r.subject_name = target;
    r
}

fn judge(repo: &Repo, info: &Repository, now: DateTime<Utc>) -> CheckResult {
    let public = !info.private && info.visibility.as_deref().unwrap_or("public") == "public";
    let days = info.pushed_at.map(|t| (now - t).num_days());
    let details = json!({
        "public": public,
        "archived": info.archived,
        "pushed_at": info.pushed_at.map(rfc3339),
        "days_since_push": days,
    });
    let (status, message) = match days {
        _ if !public => (
            Status::Ok,
            "private repository: GitHub's 60-day rule does not apply".to_string(),
        ),
        Some(d) if d > WARN_AFTER_DAYS => {
            let left = DISABLE_AFTER_DAYS - d;
            let when = if left > 0 {
                format!("in about {left} days")
            } else {
                "any time now".to_string()
            };
            (
                Status::Warning,
                format!(
                    "public repository with no push for {d} days: GitHub disables its scheduled workflows after {DISABLE_AFTER_DAYS} days without activity ({when}); push a commit to keep the crons running"
                ),
            )
        }
        Some(d) => (Status::Ok, format!("last push {d} days ago")),
        None => (Status::Ok, "no push on record".to_string()),
    };
    let mut r = CheckResult::new(&id(repo), NAME, &repo.to_string(), status, message);
    r.details = details;
    if status != Status::Ok {
        r.since = info.pushed_at.map(rfc3339);
        r.threshold = Some(format!(
            "a push at least every {WARN_AFTER_DAYS} days (GitHub's limit: {DISABLE_AFTER_DAYS})"
        ));
        r.link = Some(info.html_url.clone());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(private: bool, pushed: &str) -> Repository {
        Repository {
            private,
            visibility: Some(if private { "private" } else { "public" }.into()),
            pushed_at: Some(pushed.parse().unwrap()),
            archived: false,
            html_url: "https://github.com/o/r".into(),
            default_branch: Some("main".into()),
        }
    }

    #[test]
    fn public_and_quiet_for_53_days_warns() {
        let repo = Repo::parse("o/r").unwrap();
        let now = "2026-05-23T06:30:00Z".parse().unwrap();
        let r = evaluate(&repo, Ok(&info(false, "2026-03-31T06:00:00Z")), now);
        assert_eq!(r.status, Status::Warning);
        assert!(r.message.contains("no push for 53 days"), "{}", r.message);
        assert!(r.message.contains("in about 7 days"), "{}", r.message);
        let r = evaluate(&repo, Ok(&info(false, "2026-04-10T06:00:00Z")), now);
        assert_eq!(r.status, Status::Ok);
        let r = evaluate(&repo, Ok(&info(true, "2025-01-01T00:00:00Z")), now);
        assert_eq!(r.status, Status::Ok);
        let gone = ApiError::NotFound {
            api: "GitHub",
            what: "repository o/r".into(),
            detail: String::new(),
        };
        let r = evaluate(&repo, Err(&gone), now);
        assert_eq!(r.status, Status::Unknown);
    }
}
