//! The fields of GitHub's answers the monitor reads.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `owner/name` of a repository.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Repo {
    /// The account.
    pub owner: String,
    /// The repository.
    pub name: String,
}

impl Repo {
    /// Parses `owner/name`.
    pub fn parse(s: &str) -> Option<Self> {
        let (owner, name) = s.trim().split_once('/')?;
        let ok = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        (ok(owner) && ok(name)).then(|| Self {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }
}

impl std::fmt::Display for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// The fields of a workflow run the monitor reads.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Run {
    /// Run id.
    pub id: u64,
    /// `queued`, `in_progress`, `completed`, …
    pub status: Option<String>,
    /// `success`, `failure`, `cancelled`, `skipped`, …; null until completed.
    pub conclusion: Option<String>,
    /// The run page.
    pub html_url: String,
    /// What triggered it.
    pub event: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed: for a completed run, when it finished.
    pub updated_at: DateTime<Utc>,
    /// Start of the latest attempt.
    #[serde(default)]
    pub run_started_at: Option<DateTime<Utc>>,
    /// The workflow it ran (a repository-wide list is grouped by it).
    #[serde(default)]
    pub workflow_id: u64,
    /// The branch it ran on.
    #[serde(default)]
    pub head_branch: Option<String>,
    /// Its workflow's file, e.g. `.github/workflows/nightly.yml`.
    #[serde(default)]
    pub path: Option<String>,
}

/// The list of runs GitHub answers with.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct RunList {
    pub(crate) workflow_runs: Vec<Run>,
}

/// The fields of a workflow the monitor reads.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Workflow {
    /// Its id.
    #[serde(default)]
    pub id: u64,
    /// Its name (the file's `name:`).
    #[serde(default)]
    pub name: String,
    /// `active`, `disabled_manually`, `disabled_inactivity`, `disabled_fork`, `deleted`.
    pub state: String,
    /// The workflow page.
    pub html_url: String,
    /// Its file, e.g. `.github/workflows/nightly.yml`.
    #[serde(default)]
    pub path: String,
    /// When it was added.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed: its file, or its state.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// The fields of a repository the monitor reads.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Repository {
    /// Whether it is private.
    pub private: bool,
    /// `public`, `private` or `internal`.
    #[serde(default)]
    pub visibility: Option<String>,
    /// Last push to any branch.
    pub pushed_at: Option<DateTime<Utc>>,
    /// Archived repositories run no workflows.
    #[serde(default)]
    pub archived: bool,
    /// The repository page.
    pub html_url: String,
    /// The branch GitHub runs schedules from and deploys default to.
    #[serde(default)]
    pub default_branch: Option<String>,
}

/// What a branch has that a commit lacks (`GET …/compare/{base}...{head}`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Comparison {
    /// `ahead`, `behind`, `identical` or `diverged`, of head against base.
    pub status: String,
    /// Commits head has that base lacks.
    pub ahead_by: u64,
    /// Commits base has that head lacks.
    pub behind_by: u64,
    /// The page comparing them.
    pub html_url: String,
    /// Head's commits that base lacks, oldest first (at most 250).
    #[serde(default)]
    pub commits: Vec<CompareCommit>,
}

/// One commit of a comparison.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct CompareCommit {
    /// Its SHA.
    pub sha: String,
    /// Its git data.
    pub commit: GitCommit,
}

/// A commit's git data.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct GitCommit {
    /// Who committed it, and when.
    pub committer: Option<Signature>,
}

/// A name, address and date of a commit.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Signature {
    /// When.
    pub date: Option<DateTime<Utc>>,
}

/// A deployment environment, as far as the monitor reads it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Environment {
    /// Its name.
    pub name: String,
    /// Its page.
    pub html_url: String,
    /// Its protection rules (`required_reviewers`, `wait_timer`, `branch_policy`).
    #[serde(default)]
    pub protection_rules: Vec<ProtectionRule>,
}

/// One protection rule of an environment.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct ProtectionRule {
    /// `required_reviewers`, `wait_timer`, `branch_policy`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Who may approve, for `required_reviewers`.
    #[serde(default)]
    pub reviewers: Vec<serde_json::Value>,
}

/// One file of a Git tree: its name in the tree and its blob.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct TreeEntry {
    /// Its name, relative to the tree (`nightly.yml`).
    pub path: String,
    /// `blob` for a file.
    #[serde(rename = "type")]
    pub kind: String,
    /// The blob's SHA: the same bytes, the same SHA.
    pub sha: String,
}

/// Which runs count for a heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RunFilter {
    /// Only runs on this branch.
    pub branch: Option<String>,
    /// Only runs triggered by this event, e.g. `schedule`.
    pub event: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_parse() {
        assert_eq!(
            Repo::parse("raxx-app/TradeMasterAPI").unwrap().to_string(),
            "raxx-app/TradeMasterAPI"
        );
        for bad in ["", "noslash", "/x", "x/", "a/b/c", "a b/c"] {
            assert!(Repo::parse(bad).is_none(), "{bad}");
        }
    }
}
