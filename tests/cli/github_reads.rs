//! Workflow files read as GitHub reads them: a cron GitHub refuses is critical, configured or
//! discovered; a flow list closed at its key's column is followed; a cron that stopped says
//! that nothing ran.

use super::*;

/// `workflow`'s file, holding `text`.
fn file_holding(workflow: &str, text: &str) -> Route {
    Route::get(&contents_path(workflow)).reply(Reply::json(200, contents_body(workflow, text)))
}

const REFUSED: &str = "name: Trace integrity check\non:\n  schedule:\n    - cron: '50 0 * * 3,4,5,6,7'\n  workflow_dispatch:\njobs:\n  verify:\n    runs-on: ubuntu-latest\n    steps:\n      - run: true\n";

const REFUSED_MESSAGE: &str = "GitHub refuses the cron '50 0 * * 3,4,5,6,7' (day of week 7 is outside 0-6): this workflow never runs on schedule";

#[test]
fn a_configured_heartbeat_whose_cron_github_refuses_is_critical_though_it_ran_yesterday() {
    let server = FakeServer::start(vec![
        success(BILLING, "github/runs-success-fresh.json"),
        workflow_file(BILLING),
        success(TRACE, "github/runs-success-fresh.json"),
        file_holding(TRACE, REFUSED),
        private_repo(),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server).config(CONFIG).run();
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let c = run.check(&id(TRACE));
    assert_eq!(c["status"], "critical");
    assert_eq!(c["message"], REFUSED_MESSAGE);
    assert_eq!(
        c["details"]["schedule_refused"],
        "the cron '50 0 * * 3,4,5,6,7' (day of week 7 is outside 0-6)"
    );
    let body = mails(&server)[0]["TextBody"].as_str().unwrap().to_string();
    for want in [
        REFUSED_MESSAGE,
        "Look at:     https://github.com/raxx-app/TradeMasterAPI/blob/HEAD/.github/workflows/trace-integrity-cron.yml",
    ] {
        assert!(body.contains(want), "mail body lacks {want:?}:\n{body}");
    }
    // The other heartbeat still follows its schedule.
    assert_eq!(run.check(&id(BILLING))["status"], "ok");
}

#[test]
fn a_discovered_workflow_whose_cron_github_refuses_is_critical() {
    let server = FakeServer::start(vec![
        Route::get(&format!("/repos/{REPO}/actions/workflows"))
            .reply(Reply::json(200, fixture("github/workflows-list.json"))),
        file_holding(TRACE, REFUSED),
        workflow_file(BILLING),
        workflow_file("deploy-heroku.yml"),
        workflow_file("nightly-export.yml"),
        // Nothing in the wide list: each scheduled workflow is asked alone.
        Route::get(&format!("/repos/{REPO}/actions/runs"))
            .query("status=success")
            .reply(Reply::json(200, fixture("github/runs-empty.json"))),
        success(TRACE, "github/runs-success-fresh.json"),
        success(BILLING, "github/runs-success-fresh.json"),
        success("nightly-export.yml", "github/runs-success-stale.json"),
        Route::get(&runs_path("nightly-export.yml"))
            .any_status()
            .reply(Reply::json(200, fixture("github/runs-success-stale.json"))),
        private_repo(),
    ]);
    let run = Monitor::new(&server)
        .args(&["--repo", REPO, "--dry-run"])
        .run();
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let c = run.check(&id(TRACE));
    assert_eq!(c["status"], "critical", "{c}");
    assert_eq!(c["message"], REFUSED_MESSAGE);
    assert_eq!(c["details"]["discovered"], true);
    // Not one unknown for the whole repository: the refusal is this workflow's alone.
    assert_eq!(run.check(&id(BILLING))["status"], "ok");
}

#[test]
fn a_flow_list_closed_at_its_keys_column_is_followed_as_github_follows_it() {
    // rust-lang/rustc-perf's ci.yml, byte for byte: Mondays at 12:00 UTC.
    let text = fixture("workflow-corpus/workflows/242-rust-lang--rustc-perf--ci.yml");
    let server = FakeServer::start(vec![
        success(BILLING, "github/runs-success-fresh.json"),
        workflow_file(BILLING),
        success(TRACE, "github/runs-success-fresh.json"),
        file_holding(TRACE, &text),
        private_repo(),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server).config(CONFIG).run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let c = run.check(&id(TRACE));
    assert_eq!(c["status"], "ok", "{c}");
    assert_eq!(
        c["details"]["schedule"]["entries"],
        serde_json::json!([{"cron": "0 12 * * 1"}])
    );
    assert!(c["details"].get("schedule_fallback").is_none(), "{c}");
}

#[test]
fn a_cron_that_stopped_says_nothing_ran_since_its_last_success() {
    // The RCA's case: the newest run of any status is the last success.
    let server = FakeServer::start(vec![
        success(BILLING, "github/runs-success-fresh.json"),
        workflow_file(BILLING),
        success(TRACE, "github/runs-success-stale.json"),
        workflow_file(TRACE),
        Route::get(&runs_path(TRACE))
            .any_status()
            .reply(Reply::json(200, fixture("github/runs-success-stale.json"))),
        Route::get(&workflow_path(TRACE))
            .reply(Reply::json(200, fixture("github/workflow-active.json"))),
        private_repo(),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server).config(CONFIG).run();
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let c = run.check(&id(TRACE));
    assert_eq!(
        c["message"],
        "no run since the last success at 2026-05-18T02:00:11Z: the schedule has not started for 5 windows (cron '0 2 * * *', daily at 02:00 UTC)"
    );
    assert!(!c["message"].as_str().unwrap().contains("filters"), "{c}");
    let body = mails(&server)[0]["TextBody"].as_str().unwrap().to_string();
    assert!(
        body.contains("the schedule has not started for 5 windows"),
        "{body}"
    );
}
