//! `deploy_drift`: production runs old code. The Heroku app's current release was built from
//! a commit that the watched branch has moved past for too long, or the app serves another
//! commit than it released (the 2026-04-30 RCA: staging deploys kept succeeding while
//! production was never seeded). Three requests when healthy: the release, its slug (a Fir
//! app's OCI image), the comparison; a fourth with `version_url`.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use serde_json::json;

use super::pool::Identity;
use super::{Check, CheckKind, CheckResult, Context, Status, Watch, watches};
use crate::clients::api::{ApiError, strip_query};
use crate::clients::github::{Comparison, Repo};
use crate::clients::heroku::{Code, Heroku, Release, is_app_name};
use crate::clients::http::{HttpError, Request};
use crate::config::file::Section;
use crate::config::{Configure, Need};
use crate::util::time::{Hours, human, rfc3339};

/// The kind's name.
pub const NAME: &str = "deploy_drift";
const SECTION: Section = Section::array("deploy");

/// The kind: `[[deploy]]`.
pub struct DeployDrift;

impl CheckKind for DeployDrift {
    fn names(&self) -> &'static [&'static str] {
        &[NAME]
    }

    fn sections(&self) -> &'static [Section] {
        &[SECTION]
    }

    fn configure(&self, cfg: &mut Configure) -> Vec<Arc<dyn Watch>> {
        let mut out = Vec::new();
        for t in cfg.tables(SECTION) {
            let app = t.required_string("heroku_app");
            let repo = t.string("repo");
            let branch = t.string("branch");
            let warn = t.positive("warn_behind_hours", 72.0);
            let crit = t.positive("crit_behind_hours", 168.0);
            let version_url = t.string("version_url");
            let version_field = t.string("version_field");
            let Some(app) = app else { continue };
            let name = app.value.trim().to_string();
            if !is_app_name(&name) {
                t.error(app.line, format!("`{name}` is not a Heroku app name"));
                continue;
            }
            if warn > crit {
                t.error(
                    t.line(),
                    format!("crit_behind_hours ({crit}) must not be less than warn_behind_hours ({warn})"),
                );
                continue;
            }
            if let Some(v) = &version_url
                && !(v.value.starts_with("https://") || v.value.starts_with("http://"))
            {
                t.error(
                    v.line,
                    format!("version_url must be an http(s) URL, not `{}`", v.value),
                );
                continue;
            }
            let Some(repo) = cfg.repo_of(&t, repo, &format!("deploy {name}")) else {
                continue;
            };
            out.push(Drift {
                said_by_slug: OnceLock::new(),
                app: name,
                repo,
                branch: branch.map(|b| b.value),
                warn_behind: Hours(warn),
                crit_behind: Hours(crit),
                version_url: version_url.map(|v| v.value),
                version_field: version_field.map(|v| v.value),
            });
        }
        cfg.dedupe(&out, |d| d.app.clone(), "deploy");
        watches(out)
    }

    fn runbook(&self) -> &'static [&'static str] {
        &["deploy DRIFT"]
    }
}

/// One production app and the branch it should run.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    /// The Heroku app.
    pub app: String,
    /// The repository its code comes from.
    pub repo: Repo,
    /// The branch production should run; the repository's default branch when `None`.
    pub branch: Option<String>,
    /// How old the oldest undeployed commit may be before a warning.
    pub warn_behind: Hours,
    /// … and before critical.
    pub crit_behind: Hours,
    /// Where the app says which commit it serves.
    pub version_url: Option<String>,
    /// The JSON field holding it; without one the body is the SHA.
    pub version_field: Option<String>,
    /// `heroku_slug` checks the same app: a never-deployed app is mailed by that check.
    /// Learnt once every kind has configured (`settle`).
    pub said_by_slug: OnceLock<bool>,
}

/// Why production's commit could not be compared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DriftError {
    /// Heroku or GitHub could not tell.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The build recorded no commit.
    #[error("its {0} records no commit, so what it runs cannot be compared")]
    NoCommit(Code),
    /// Heroku destroyed the current release's artifacts (its retention): code was deployed,
    /// but which commit is no longer said.
    #[error(
        "its current release v{0} is expired (Heroku destroyed its artifacts), so the commit it runs cannot be read"
    )]
    Expired(u64),
}

/// Why the commit the app serves is not known.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VersionError {
    /// No answer.
    #[error("{0}")]
    Http(#[from] HttpError),
    /// An answer that is not the version.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// Where.
        url: String,
        /// What.
        status: u16,
    },
    /// An answer without the field.
    #[error("{url} has no {field}")]
    NoField {
        /// Where.
        url: String,
        /// What was looked for.
        field: String,
    },
}

/// What the run learned about production's code.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// Something could not be read.
    Unknown(DriftError),
    /// The current release carries no code at all.
    NeverDeployed(Option<Release>),
    /// The released commit against the branch, and what the app serves.
    Compared {
        /// The current release.
        release: Release,
        /// The commit it was built from.
        commit: String,
        /// The branch compared with.
        branch: String,
        /// What the branch has that the release lacks.
        comparison: Result<Comparison, ApiError>,
        /// The commit `version_url` serves, when configured.
        served: Option<Result<String, VersionError>>,
    },
}

impl Drift {
    /// `deploy_drift:app`.
    pub fn id(&self) -> String {
        format!("{NAME}:{}", self.app)
    }

    fn served(&self, ctx: &Context) -> Option<Result<String, VersionError>> {
        let url = self.version_url.as_ref()?;
        let shown = strip_query(url);
        let answer = ctx
            .http
            .send(&Request::get(url.as_str()), ctx.deadline)
            .map_err(VersionError::from);
        Some(answer.and_then(|resp| {
            if !(200..300).contains(&resp.status) {
                return Err(VersionError::Status {
                    url: shown.clone(),
                    status: resp.status,
                });
            }
            let text = String::from_utf8_lossy(&resp.body);
            let sha = match &self.version_field {
                Some(field) => serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v.get(field)?.as_str().map(String::from)),
                None => text.split_whitespace().next().map(String::from),
            };
            sha.filter(|s| !s.is_empty())
                .ok_or_else(|| VersionError::NoField {
                    url: shown.clone(),
                    field: self
                        .version_field
                        .clone()
                        .unwrap_or_else(|| "commit in its body".into()),
                })
        }))
    }
}

impl Check for Drift {
    type Observation = Seen;

    fn settle(&self, others: &[Arc<dyn Watch>]) {
        let said = others
            .iter()
            .any(|w| w.slug_checked() == Some(self.app.as_str()));
        let _ = self.said_by_slug.set(said);
    }

    /// Its repository: a repository's targets share a shard.
    fn shard_key(&self) -> String {
        self.repo.to_string()
    }

    fn identities(&self) -> Vec<Identity> {
        vec![Identity::new(self.id(), NAME, &self.app, &self.app)]
    }

    fn describe(&self) -> Vec<String> {
        vec![format!(
            "{}  ({} against {}, warning at {} h behind, critical at {} h{})",
            self.id(),
            self.repo,
            self.branch.as_deref().unwrap_or("its default branch"),
            self.warn_behind.get(),
            self.crit_behind.get(),
            self.version_url
                .as_ref()
                .map(|u| format!(", served commit from {}", strip_query(u)))
                .unwrap_or_default()
        )]
    }

    fn needs(&self) -> Vec<Need> {
        vec![
            Need::new(
                "HEROKU_API_KEY",
                "HEROKU_API_KEY is not set: the Heroku checks need it",
            ),
            Need::new(
                "GITHUB_TOKEN",
                "GITHUB_TOKEN is not set (nor --gh-token): deploy drift compares commits with a token that has contents: read",
            ),
        ]
    }

    /// TCP and TLS aside: the release, the slug and the comparison, one after another.
    fn rounds(&self) -> usize {
        3
    }

    fn observe(&self, ctx: &Context) -> Seen {
        let release = match ctx.heroku.current_release(&self.app) {
            Ok(Some(r)) => r,
            Ok(None) => return Seen::NeverDeployed(None),
            Err(e) => return Seen::Unknown(e.into()),
        };
        let Some(code) = release.code() else {
            if release.is_expired() {
                return Seen::Unknown(DriftError::Expired(release.version));
            }
            return Seen::NeverDeployed(Some(release));
        };
        let commit = match commit_of(&ctx.heroku, &self.app, &code) {
            Ok(Some(c)) => c,
            Ok(None) => return Seen::Unknown(DriftError::NoCommit(code)),
            Err(ApiError::NotFound { .. }) if release.is_expired() => {
                return Seen::Unknown(DriftError::Expired(release.version));
            }
            Err(e) => return Seen::Unknown(e.into()),
        };
        let branch = match &self.branch {
            Some(b) => b.clone(),
            None => match ctx.github.repository(&self.repo) {
                Ok(r) => r.default_branch.unwrap_or_else(|| "main".into()),
                Err(e) => return Seen::Unknown(e.into()),
            },
        };
        let comparison = ctx.github.compare(&self.repo, &commit, &branch);
        Seen::Compared {
            release,
            commit,
            branch,
            comparison,
            served: self.served(ctx),
        }
    }

    fn evaluate(&self, seen: &Seen, now: DateTime<Utc>) -> Vec<CheckResult> {
        vec![evaluate(self, seen, now)]
    }
}

/// The commit a slug or an OCI image was built from, when its build said.
fn commit_of(h: &Heroku, app: &str, code: &Code) -> Result<Option<String>, ApiError> {
    let commit = match code {
        Code::Slug(id) => h.slug(app, id)?.commit,
        Code::OciImage(id) => h.oci_image(app, id)?.commit,
    };
    Ok(commit.filter(|c| !c.trim().is_empty()))
}

fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// Decides from what production runs, what the branch has, and what the app serves.
pub fn evaluate(d: &Drift, seen: &Seen, now: DateTime<Utc>) -> CheckResult {
    let app = &d.app;
    let unknown = |why: String| (Status::Unknown, why, json!({}));
    let (status, message, details) = match seen {
        Seen::Unknown(e) => unknown(format!("could not tell what {app} runs: {e}")),
        Seen::NeverDeployed(release) => (
            Status::Critical,
            format!(
                "{app} was never deployed: its current release{} has no code (no slug)",
                release
                    .as_ref()
                    .map(|r| format!(" v{} '{}'", r.version, r.description))
                    .unwrap_or_default()
            ),
            json!({"deployed": false}),
        ),
        Seen::Compared {
            release,
            commit,
            branch,
            comparison,
            served,
        } => {
            let released = format!(
                "{app} runs {} (released {})",
                short(commit),
                release.created_at.format("%Y-%m-%d")
            );
            match (comparison, served) {
                (Err(e @ ApiError::NotFound { .. }), _) => unknown(format!(
                    "{released}, a commit {} does not have: {e} (a force-push, or another repository?)",
                    d.repo
                )),
                (Err(e), _) => unknown(format!(
                    "could not compare {} with {branch}: {e}",
                    short(commit)
                )),
                (Ok(c), _) if c.status == "diverged" => unknown(format!(
                    "{released}, which {branch} does not contain ({} commits apart, {} on each side): was {branch} force-pushed?",
                    c.ahead_by + c.behind_by,
                    c.behind_by
                )),
                (Ok(_), Some(Err(e))) => unknown(format!(
                    "{released}, but which commit it serves is not known: {e}"
                )),
                (Ok(_), Some(Ok(sha)))
                    if !(sha.starts_with(short(commit)) || commit.starts_with(sha.as_str())) =>
                {
                    (
                        Status::Critical,
                        format!(
                            "{app} serves {} but released {}: the new release did not restart the dynos?",
                            short(sha),
                            short(commit)
                        ),
                        json!({"released_commit": commit, "served_commit": sha}),
                    )
                }
                (Ok(c), _) => behind(d, &released, branch, c, now),
            }
        }
    };
    let mut r = CheckResult::new(&d.id(), NAME, app, status, message);
    r.details = details;
    if d.said_by_slug.get() == Some(&true) && matches!(seen, Seen::NeverDeployed(_)) {
        // One mail for one cause: heroku_slug says it more plainly.
        r.silenced = true;
        r.silence_reason = Some(format!("mailed as heroku_slug:{app}"));
    }
    if status != Status::Ok {
        r.link = Some(format!("https://dashboard.heroku.com/apps/{app}/activity"));
        r.threshold = Some(format!(
            "the oldest commit of the branch that production lacks is younger than {} h (critical at {} h)",
            d.warn_behind.get(),
            d.crit_behind.get()
        ));
        r.hints = vec![
            format!("heroku releases --app {app}    # what was released, and from which commit"),
            format!(
                "gh workflow run deploy-heroku.yml --repo {} -f environment=production    # deploy the branch",
                d.repo
            ),
        ];
    }
    r
}

fn behind(
    d: &Drift,
    released: &str,
    branch: &str,
    c: &Comparison,
    now: DateTime<Utc>,
) -> (Status, String, serde_json::Value) {
    let oldest = c
        .commits
        .first()
        .and_then(|k| k.commit.committer.as_ref()?.date);
    let details = json!({
        "branch": branch,
        "ahead_by": c.ahead_by,
        "oldest_undeployed_at": oldest.map(rfc3339),
        "compare_url": c.html_url,
    });
    let Some(oldest) = oldest.filter(|_| c.ahead_by > 0) else {
        return (
            Status::Ok,
            format!("{released}, up to date with {branch}"),
            details,
        );
    };
    let age = now - oldest;
    let days = (age.num_minutes() as f64 / 144.0).round() / 10.0;
    let status = if age > d.crit_behind.duration() {
        Status::Critical
    } else if age > d.warn_behind.duration() {
        Status::Warning
    } else {
        Status::Ok
    };
    let limits = format!(
        "warning at {}, critical at {}",
        human(d.warn_behind.duration()),
        human(d.crit_behind.duration())
    );
    (
        status,
        format!(
            "{released}, {} commit{} behind {branch}; the oldest undeployed commit is {days} days old ({limits})",
            c.ahead_by,
            if c.ahead_by == 1 { "" } else { "s" }
        ),
        details,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::github::{CompareCommit, GitCommit, Signature};

    const NOW: &str = "2026-05-19T16:30:00Z";

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn drift() -> Drift {
        Drift {
            app: "raxx-api-prod".into(),
            repo: Repo::parse("raxx-app/TradeMasterAPI").unwrap(),
            branch: Some("main".into()),
            warn_behind: Hours(72.0),
            crit_behind: Hours(168.0),
            version_url: None,
            version_field: None,
            said_by_slug: OnceLock::from(false),
        }
    }

    fn release() -> Release {
        serde_json::from_value(json!({
            "version": 42, "slug": {"id": "c7b5b1e0"}, "status": "succeeded",
            "description": "Deploy 3f2a1c9", "created_at": "2026-05-10T09:00:00Z", "current": true
        }))
        .unwrap()
    }

    fn compared(status: &str, ahead: u64, oldest: &str, served: Option<&str>) -> Seen {
        Seen::Compared {
            release: release(),
            commit: "3f2a1c9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a".into(),
            branch: "main".into(),
            comparison: Ok(Comparison {
                status: status.into(),
                ahead_by: ahead,
                behind_by: if status == "diverged" { 2 } else { 0 },
                html_url: "https://github.com/raxx-app/TradeMasterAPI/compare/3f2a1c9...main"
                    .into(),
                commits: vec![CompareCommit {
                    sha: "9a8b7c6".into(),
                    commit: GitCommit {
                        committer: Some(Signature {
                            date: Some(t(oldest)),
                        }),
                    },
                }],
            }),
            served: served.map(|s| Ok(s.to_string())),
        }
    }

    #[test]
    fn behind_for_days_warns_then_is_critical() {
        let now = t(NOW);
        let r = evaluate(
            &drift(),
            &compared("ahead", 14, "2026-05-10T11:42:00Z", None),
            now,
        );
        assert_eq!(r.status, Status::Critical);
        assert_eq!(
            r.message,
            "raxx-api-prod runs 3f2a1c9 (released 2026-05-10), 14 commits behind main; the oldest undeployed commit is 9.2 days old (warning at 3 days, critical at 7 days)"
        );
        let r = evaluate(
            &drift(),
            &compared("ahead", 2, "2026-05-15T16:00:00Z", None),
            now,
        );
        assert_eq!(r.status, Status::Warning);
        let r = evaluate(
            &drift(),
            &compared("ahead", 1, "2026-05-19T10:00:00Z", None),
            now,
        );
        assert_eq!(r.status, Status::Ok);
        let r = evaluate(
            &drift(),
            &compared("identical", 0, "2026-05-01T00:00:00Z", None),
            now,
        );
        assert_eq!(
            r.message,
            "raxx-api-prod runs 3f2a1c9 (released 2026-05-10), up to date with main"
        );
    }

    #[test]
    fn serving_another_commit_than_released_is_critical() {
        let seen = compared("identical", 0, "2026-05-01T00:00:00Z", Some("1a2b3c4d5e"));
        let r = evaluate(&drift(), &seen, t(NOW));
        assert_eq!(r.status, Status::Critical);
        assert_eq!(
            r.message,
            "raxx-api-prod serves 1a2b3c4 but released 3f2a1c9: the new release did not restart the dynos?"
        );
        let same = compared("identical", 0, "2026-05-01T00:00:00Z", Some("3f2a1c9"));
        assert_eq!(evaluate(&drift(), &same, t(NOW)).status, Status::Ok);
    }

    #[test]
    fn a_force_push_a_missing_commit_or_no_commit_is_unknown_with_the_reason() {
        let r = evaluate(
            &drift(),
            &compared("diverged", 3, "2026-05-01T00:00:00Z", None),
            t(NOW),
        );
        assert_eq!(r.status, Status::Unknown);
        assert!(
            r.message.contains("was main force-pushed?"),
            "{}",
            r.message
        );
        let r = evaluate(
            &drift(),
            &Seen::Unknown(DriftError::NoCommit(Code::Slug("c7b5b1e0".into()))),
            t(NOW),
        );
        assert!(
            r.message.ends_with(
                "its slug c7b5b1e0 records no commit, so what it runs cannot be compared"
            ),
            "{}",
            r.message
        );
        let r = evaluate(&drift(), &Seen::Unknown(DriftError::Expired(9)), t(NOW));
        assert_eq!(r.status, Status::Unknown);
        assert!(!r.silenced, "no heroku_slug mail says it");
        assert_eq!(
            r.message,
            "could not tell what raxx-api-prod runs: its current release v9 is expired (Heroku destroyed its artifacts), so the commit it runs cannot be read"
        );
    }

    #[test]
    fn never_deployed_is_critical_and_mailed_once() {
        let mut rel = release();
        rel.slug = None;
        rel.description = "Set STATUS_WORKER_URL config vars".into();
        let seen = Seen::NeverDeployed(Some(rel));
        let r = evaluate(&drift(), &seen, t(NOW));
        assert_eq!(r.status, Status::Critical);
        assert!(!r.silenced);
        assert_eq!(
            r.message,
            "raxx-api-prod was never deployed: its current release v42 'Set STATUS_WORKER_URL config vars' has no code (no slug)"
        );
        let both = Drift {
            said_by_slug: OnceLock::from(true),
            ..drift()
        };
        let r = evaluate(&both, &seen, t(NOW));
        assert!(r.silenced, "heroku_slug mails it");
    }
}
