//! `environment_protection`: a GitHub Environment that a deploy job names must exist and carry
//! a `required_reviewers` rule. GitHub enforces no protection for an environment that does not
//! exist: a workflow's `environment: production` then deploys with no approval gate (the
//! Heroku runbook's failure mode E; the 2026-04-30 RCA's contributing factor 2).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::pool::Identity;
use super::{Check, CheckKind, CheckResult, Context, Status, Watch, watches};
use crate::clients::api::ApiError;
use crate::clients::github::{Environment, Repo};
use crate::config::file::Section;
use crate::config::{Configure, Need};

/// The kind's name.
pub const NAME: &str = "environment_protection";
const SECTION: Section = Section::array("environment");

/// The kind: `[[environment]]`.
pub struct EnvironmentProtection;

impl CheckKind for EnvironmentProtection {
    fn names(&self) -> &'static [&'static str] {
        &[NAME]
    }

    fn sections(&self) -> &'static [Section] {
        &[SECTION]
    }

    fn configure(&self, cfg: &mut Configure) -> Vec<Arc<dyn Watch>> {
        let mut out = Vec::new();
        for t in cfg.tables(SECTION) {
            let name = t.required_string("name");
            let repo = t.string("repo");
            let required_reviewers = t.boolean("required_reviewers").is_none_or(|v| v.value);
            let Some(name) = name else { continue };
            let env = name.value.trim().to_string();
            if env.is_empty() || env.contains('/') {
                t.error(name.line, format!("`{env}` is not an environment name"));
                continue;
            }
            let Some(repo) = cfg.repo_of(&t, repo, &format!("environment {env}")) else {
                continue;
            };
            out.push(Gate {
                repo,
                name: env,
                required_reviewers,
            });
        }
        cfg.dedupe(&out, |g| format!("{}/{}", g.repo, g.name), "environment");
        watches(out)
    }

    fn runbook(&self) -> &'static [&'static str] {
        &["environment UNPROTECTED"]
    }
}

/// One environment that must gate its deployments.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    /// Its repository.
    pub repo: Repo,
    /// Its name, e.g. `production` (GitHub's names are case-sensitive).
    pub name: String,
    /// Whether a `required_reviewers` rule is required (default true).
    pub required_reviewers: bool,
}

impl Gate {
    /// `environment_protection:owner/repo:name`.
    pub fn id(&self) -> String {
        format!("{NAME}:{}:{}", self.repo, self.name)
    }

    fn subject_name(&self) -> String {
        format!("{}/{}", self.repo, self.name)
    }
}

impl Check for Gate {
    type Observation = Result<Environment, ApiError>;

    /// Its repository: a repository's targets share a shard.
    fn shard_key(&self) -> String {
        self.repo.to_string()
    }

    fn identities(&self) -> Vec<Identity> {
        vec![Identity::new(
            self.id(),
            NAME,
            &self.name,
            &self.subject_name(),
        )]
    }

    fn describe(&self) -> Vec<String> {
        let rule = if self.required_reviewers {
            "required reviewers"
        } else {
            "exists"
        };
        vec![format!("{}  ({rule})", self.id())]
    }

    fn needs(&self) -> Vec<Need> {
        vec![Need::new(
            "GITHUB_TOKEN",
            "GITHUB_TOKEN is not set (nor --gh-token): the environment checks need a token that can read the repository's environments",
        )]
    }

    fn observe(&self, ctx: &Context) -> Self::Observation {
        ctx.github.environment(&self.repo, &self.name)
    }

    fn evaluate(&self, seen: &Self::Observation, _now: DateTime<Utc>) -> Vec<CheckResult> {
        vec![evaluate(self, seen)]
    }
}

/// Decides from the environment GitHub described, or from why it could not.
pub fn evaluate(gate: &Gate, seen: &Result<Environment, ApiError>) -> CheckResult {
    let (repo, name) = (&gate.repo, &gate.name);
    let settings = format!("https://github.com/{repo}/settings/environments");
    let (status, message, details) = match seen {
        Err(ApiError::NotFound { .. }) => (
            Status::Critical,
            format!(
                "environment {name} does not exist in {repo}: a workflow's `environment: {name}` deploys with no approval gate"
            ),
            json!({"exists": false}),
        ),
        Err(e @ (ApiError::Unauthorized { .. } | ApiError::Forbidden { .. })) => (
            Status::Unknown,
            format!(
                "could not read environment {name} of {repo}: {e}; the token needs read access to the repository's environments (actions: read for GITHUB_TOKEN, Actions or Environments read for a fine-grained token)"
            ),
            json!({}),
        ),
        Err(e) => (
            Status::Unknown,
            format!("could not read environment {name} of {repo}: {e}"),
            json!({}),
        ),
        Ok(env) => {
            let rules: Vec<&str> = env
                .protection_rules
                .iter()
                .map(|r| r.kind.as_str())
                .collect();
            let reviewers = env
                .protection_rules
                .iter()
                .filter(|r| r.kind == "required_reviewers")
                .map(|r| r.reviewers.len())
                .sum::<usize>();
            let details = json!({"exists": true, "protection_rules": rules, "reviewers": reviewers, "url": env.html_url});
            let gated = rules.contains(&"required_reviewers");
            if gated || !gate.required_reviewers {
                let what = if rules.is_empty() {
                    "no protection rules".to_string()
                } else {
                    format!("protection rules: {}", rules.join(", "))
                };
                (
                    Status::Ok,
                    format!("environment {name} exists with {what}"),
                    details,
                )
            } else {
                let has = if rules.is_empty() {
                    "no protection rule at all".to_string()
                } else {
                    format!("only {}", rules.join(", "))
                };
                (
                    Status::Critical,
                    format!(
                        "environment {name} of {repo} has no required_reviewers rule ({has}): deployments to it need no approval"
                    ),
                    details,
                )
            }
        }
    };
    let mut r = CheckResult::new(&gate.id(), NAME, name, status, message);
    r.subject_name = gate.subject_name();
    r.details = details;
    if status == Status::Critical {
        r.threshold = Some(format!(
            "environment {name} exists with at least one required reviewer"
        ));
        r.link = Some(settings.clone());
        r.hints = vec![
            format!(
                "gh api repos/{repo}/environments --jq '.environments[] | {{name, rules: [.protection_rules[].type]}}'    # what exists"
            ),
            format!(
                "{settings}/new    # create {name} (the name is case-sensitive), add a required reviewer, restrict deployment branches to main"
            ),
        ];
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::github::ProtectionRule;

    fn gate() -> Gate {
        Gate {
            repo: Repo::parse("raxx-app/TradeMasterAPI").unwrap(),
            name: "production".into(),
            required_reviewers: true,
        }
    }

    fn env(rules: &[&str]) -> Environment {
        Environment {
            name: "production".into(),
            html_url: "https://github.com/raxx-app/TradeMasterAPI/deployments".into(),
            protection_rules: rules
                .iter()
                .map(|k| ProtectionRule {
                    kind: k.to_string(),
                    reviewers: if *k == "required_reviewers" {
                        vec![json!({"type": "User"})]
                    } else {
                        vec![]
                    },
                })
                .collect(),
        }
    }

    #[test]
    fn a_missing_environment_is_critical_and_says_why_it_matters() {
        let gone = ApiError::NotFound {
            api: "GitHub",
            what: "environment production in raxx-app/TradeMasterAPI".into(),
            detail: ": Not Found".into(),
        };
        let r = evaluate(&gate(), &Err(gone));
        assert_eq!(r.status, Status::Critical);
        assert_eq!(
            r.message,
            "environment production does not exist in raxx-app/TradeMasterAPI: a workflow's `environment: production` deploys with no approval gate"
        );
        assert_eq!(r.subject_name, "raxx-app/TradeMasterAPI/production");
    }

    #[test]
    fn reviewers_are_what_gates_a_deployment() {
        let r = evaluate(&gate(), &Ok(env(&["wait_timer", "required_reviewers"])));
        assert_eq!(r.status, Status::Ok);
        assert_eq!(r.details["reviewers"], 1);
        let r = evaluate(&gate(), &Ok(env(&["wait_timer", "branch_policy"])));
        assert_eq!(r.status, Status::Critical);
        assert!(
            r.message
                .contains("no required_reviewers rule (only wait_timer, branch_policy)"),
            "{}",
            r.message
        );
        let r = evaluate(&gate(), &Ok(env(&[])));
        assert!(
            r.message.contains("(no protection rule at all)"),
            "{}",
            r.message
        );
        let lenient = Gate {
            required_reviewers: false,
            ..gate()
        };
        assert_eq!(evaluate(&lenient, &Ok(env(&[]))).status, Status::Ok);
    }

    #[test]
    fn a_token_that_may_not_read_environments_is_unknown_naming_the_permission() {
        let refused = ApiError::Forbidden {
            api: "GitHub",
            detail: ": Resource not accessible by integration".into(),
        };
        let r = evaluate(&gate(), &Err(refused));
        assert_eq!(r.status, Status::Unknown);
        assert!(r.message.contains("actions: read"), "{}", r.message);
    }
}
