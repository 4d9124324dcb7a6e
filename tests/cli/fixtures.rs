//! What many themes share: the two-heartbeat configuration and GitHub answering for it.

use super::support::*;

pub const BILLING: &str = "billing-retention-cron.yml";
pub const TRACE: &str = "trace-integrity-cron.yml";

pub const CONFIG: &str = r#"
runbook_url = "https://example.invalid/runbooks/cron-heartbeat-monitor"

[github]
repo = "raxx-app/TradeMasterAPI"

[[heartbeat]]
workflow = "billing-retention-cron.yml"

[[heartbeat]]
workflow = "trace-integrity-cron.yml"

[run]
request_timeout_seconds = 10
deadline_seconds = 60
"#;

pub fn id(workflow: &str) -> String {
    format!("cron_heartbeat:{REPO}:{workflow}")
}

/// GitHub as it answers when `trace` (nightly at 02:00) has missed five nightly windows and
/// its latest run failed; `billing` (Fridays at 03:00) ran on Friday.
/// The repository's tree and blobs give both schedules; its list of recent successes shows
/// billing current and not trace, which is then asked alone.
pub fn stale_trace_routes() -> Vec<Route> {
    let [latest, workflow] = trace_failed_and_active();
    vec![
        workflow_tree(),
        workflow_blob(BILLING),
        workflow_blob(TRACE),
        repo_successes(&[(BILLING, fixture("github/runs-success-fresh.json"))]),
        success(TRACE, "github/runs-success-stale.json"),
        latest,
        workflow,
        private_repo(),
        postmark_ok(),
    ]
}

/// Trace's latest run (failed) and its workflow (active).
pub fn trace_failed_and_active() -> [Route; 2] {
    [
        Route::get(&runs_path(TRACE))
            .any_status()
            .reply(Reply::json(200, fixture("github/runs-latest-failure.json"))),
        Route::get(&workflow_path(TRACE))
            .reply(Reply::json(200, fixture("github/workflow-active.json"))),
    ]
}

/// GitHub as it answers for `trace` alone, held to its 48 h SLA (its file is not on the
/// default branch), its last success at `success_at` (stale or not, as `now` decides) and its
/// latest run failed. Its own runs are asked only when it is stale,
/// so they are optional (a stale test reads the latest run's words in the message).
pub fn trace_routes(success_at: &str) -> Vec<Route> {
    let success =
        fixture("github/runs-success-stale.json").replace("2026-05-18T05:00:00Z", success_at);
    let [latest, workflow] = trace_failed_and_active();
    vec![
        // Trace's file is on no default branch: its SLA stands in for its schedule.
        workflow_tree_without(&[TRACE]),
        repo_successes(&[(TRACE, success.clone())]),
        Route::get(&runs_path(TRACE))
            .query("status=success")
            .reply(Reply::json(200, success))
            .optional(),
        latest.optional(),
        workflow.optional(),
        private_repo(),
    ]
}
