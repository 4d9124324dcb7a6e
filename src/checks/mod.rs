//! The checks: one file per kind, each owning its configuration, secrets, observe, pure
//! evaluate and mail subject (see `kind.rs`), listed once in `KINDS`. What a check finds is
//! data: a stale heartbeat is a `CheckResult` with status `critical`, never an `Err`; only
//! "could not evaluate" is `unknown`.

mod kind;
pub mod pool;

pub use kind::{Check, CheckKind, Context, Watch, check_all, watches};

pub use crate::model::{CheckResult, Status};

// The kinds, one file (or folder) each. Adding a kind: its file here, its `mod` line below
// and its line in `KINDS`; a test fails on a kind file left out of either.
pub mod cron_heartbeat;
pub mod deploy_drift;
pub mod environment_protection;
pub mod github_token;
pub mod heroku_app;
pub mod heroku_config;
pub mod http_probe;
pub mod pages_deploy;
pub mod repo_activity;
pub mod stuck_promotion;
pub mod workflow_failures;

/// Every kind of check, in the order their results are reported.
pub static KINDS: &[&dyn CheckKind] = &[
    &cron_heartbeat::CronHeartbeat,
    &repo_activity::RepoActivity,
    &heroku_app::HerokuApp,
    &heroku_config::HerokuConfig,
    &deploy_drift::DeployDrift,
    &http_probe::HttpProbe,
    &pages_deploy::PagesDeploy,
    &stuck_promotion::StuckPromotion,
    &environment_protection::EnvironmentProtection,
    &workflow_failures::WorkflowFailures,
    &github_token::GithubToken,
];

/// The kind that yields results of kind `name`.
pub fn kind_named(name: &str) -> Option<&'static dyn CheckKind> {
    KINDS.iter().copied().find(|k| k.names().contains(&name))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    /// Every file of this folder that is not one of the shared parts is a kind, and listed.
    #[test]
    fn every_kind_file_is_in_the_registry() {
        const SHARED: &[&str] = &["kind", "mod", "pool"];
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/checks");
        let source = include_str!("mod.rs");
        for entry in std::fs::read_dir(here).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_str().unwrap().to_string();
            if SHARED.contains(&name.as_str()) {
                continue;
            }
            assert!(
                source.contains(&format!("pub mod {name};"))
                    && source.contains(&format!("    &{name}::")),
                "src/checks/{name} is a kind file missing from `KINDS` or its `mod` line"
            );
        }
    }

    use super::*;
    use crate::alerting::mail::MONITOR_FAILED;

    /// The registry is the truth; the schema's `kind` enum and the runbook's sections must
    /// say the same, or a new kind would ship without them.
    #[test]
    fn the_registry_the_schema_and_the_runbook_agree() {
        let names: BTreeSet<&str> = KINDS.iter().flat_map(|k| k.names()).copied().collect();
        let schema: Value =
            serde_json::from_str(include_str!("../../schema/result.schema.json")).unwrap();
        let enumerated: BTreeSet<&str> = schema
            .pointer("/$defs/check/properties/kind/enum")
            .and_then(Value::as_array)
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(names, enumerated, "schema/result.schema.json kind enum");

        let runbook = include_str!("../../docs/runbook.md");
        let sections: BTreeSet<&str> = runbook
            .lines()
            .filter_map(|l| l.strip_prefix("## "))
            .collect();
        let mut subjects: BTreeSet<&str> =
            KINDS.iter().flat_map(|k| k.runbook()).copied().collect();
        subjects.extend([MONITOR_FAILED, "RESOLVED"]);
        assert_eq!(subjects, sections, "docs/runbook.md sections");
    }

    #[test]
    fn every_subject_a_kind_sends_is_one_of_its_runbook_sections() {
        for kind in KINDS {
            for name in kind.names() {
                for status in [Status::Warning, Status::Critical] {
                    let mut check = CheckResult::new("x", name, "t", status, String::new());
                    check.subject_name = "t".into();
                    let subject = kind.subject(&check);
                    assert!(
                        kind.runbook().iter().any(|s| subject == format!("{s}: t")),
                        "{name} {status:?}: {subject:?} is not one of {:?}",
                        kind.runbook()
                    );
                }
            }
        }
    }

    #[test]
    fn every_result_kind_has_one_kind() {
        for kind in KINDS {
            for name in kind.names() {
                assert!(std::ptr::eq(kind_named(name).unwrap(), *kind), "{name}");
            }
        }
    }
}
