//! End-to-end: the compiled binary against loopback servers that answer like GitHub and
//! Postmark. Every run's result file is schema-checked and every output scanned for secrets
//! (see `support`).

// A test crate: the support helpers are `pub` for the test modules, and a panic is the report.
#![allow(unreachable_pub, clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::Value;
use support::*;

const BILLING: &str = "billing-retention-cron.yml";
const TRACE: &str = "trace-integrity-cron.yml";

const CONFIG: &str = r#"
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

fn id(workflow: &str) -> String {
    format!("cron_heartbeat:{REPO}:{workflow}")
}

/// GitHub as it answers when `trace` (nightly at 02:00) has missed five nightly windows and
/// its latest run failed; `billing` (Fridays at 03:00) ran on Friday.
fn stale_trace_routes() -> Vec<Route> {
    let [latest, workflow] = trace_failed_and_active();
    vec![
        success(BILLING, "github/runs-success-fresh.json"),
        workflow_file(BILLING),
        success(TRACE, "github/runs-success-stale.json"),
        workflow_file(TRACE),
        latest,
        workflow,
        private_repo(),
        postmark_ok(),
    ]
}

/// Trace's latest run (failed) and its workflow (active).
fn trace_failed_and_active() -> [Route; 2] {
    [
        Route::get(&runs_path(TRACE))
            .any_status()
            .reply(Reply::json(200, fixture("github/runs-latest-failure.json"))),
        Route::get(&workflow_path(TRACE))
            .reply(Reply::json(200, fixture("github/workflow-active.json"))),
    ]
}

/// GitHub as it answers for `trace` alone, its last success at `success_at` (stale or not, as
/// `now` decides) and its latest run failed.
fn trace_routes(success_at: &str) -> Vec<Route> {
    let success =
        fixture("github/runs-success-stale.json").replace("2026-05-18T05:00:00Z", success_at);
    let [latest, workflow] = trace_failed_and_active();
    vec![
        Route::get(&runs_path(TRACE))
            .query("status=success")
            .reply(Reply::json(200, success)),
        latest,
        workflow,
        private_repo(),
    ]
}

#[path = "cli/action.rs"]
mod action;
#[path = "cli/alerting.rs"]
mod alerting;
#[path = "cli/channels.rs"]
mod channels;
#[path = "cli/config_vars.rs"]
mod config_vars;
#[path = "cli/conformance.rs"]
mod conformance;
#[path = "cli/deploys.rs"]
mod deploys;
#[path = "cli/discovery.rs"]
mod discovery;
#[path = "cli/docs.rs"]
mod docs;
#[path = "cli/economy.rs"]
mod economy;
#[path = "cli/environments.rs"]
mod environments;
#[path = "cli/faults.rs"]
mod faults;
#[path = "cli/hardening.rs"]
mod hardening;
#[path = "cli/hardening_issues.rs"]
mod hardening_issues;
#[path = "cli/hardening_page.rs"]
mod hardening_page;
#[path = "cli/hardening_secrets.rs"]
mod hardening_secrets;
#[path = "cli/hardening_workflows.rs"]
mod hardening_workflows;
#[path = "cli/healthy.rs"]
mod healthy;
#[path = "cli/heroku.rs"]
mod heroku;
#[path = "cli/issues.rs"]
mod issues;
#[path = "cli/matrix.rs"]
mod matrix;
#[path = "cli/modes.rs"]
mod modes;
#[path = "cli/openapi.rs"]
mod openapi;
#[path = "cli/promotions.rs"]
mod promotions;
#[path = "cli/stale.rs"]
mod stale;
#[path = "cli/state_store.rs"]
mod state_store;
#[path = "cli/status_page.rs"]
mod status_page;
#[path = "cli/surfaces.rs"]
mod surfaces;
#[path = "cli/workflow_failures.rs"]
mod workflow_failures;
