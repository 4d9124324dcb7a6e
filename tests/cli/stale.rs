use super::*;

#[test]
fn stale_with_a_failed_latest_run_mails_the_team_and_exits_2() {
    let server = FakeServer::start(stale_trace_routes());
    let run = Monitor::new(&server)
        .config(CONFIG)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_RUN_ID", "777")
        .run();
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    let r = run.result();
    assert_eq!(r["status"], "critical");
    assert_eq!(
        r["counts"],
        serde_json::json!({"ok": 2, "warning": 0, "critical": 1, "unknown": 0})
    );
    let c = run.check(&id(TRACE));
    assert_eq!(
        c["message"],
        "missed 5 scheduled runs in a row (cron '0 2 * * *', daily at 02:00 UTC); last success 2026-05-18T02:00:11Z; latest run failed at 2026-05-22T02:00:09Z https://github.com/raxx-app/TradeMasterAPI/actions/runs/9107"
    );
    assert_eq!(c["details"]["last_success_at"], "2026-05-18T02:00:11Z");
    assert_eq!(c["details"]["schedule"]["missed"], 5);
    assert_eq!(
        c["details"]["schedule"]["newest_missed_slot"],
        "2026-05-23T02:00:00Z"
    );
    assert_eq!(c["details"]["workflow_state"], "active");
    assert_eq!(c["details"]["latest_run"]["conclusion"], "failure");

    let mails = mails(&server);
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(
        m["Subject"],
        "[heartbeat-monitor] cron heartbeat STALE: trace-integrity-cron"
    );
    assert_eq!(m["To"], "ops@raxx.app");
    assert_eq!(m["From"], "heartbeat-monitor@raxx.app");
    let body = m["TextBody"].as_str().unwrap();
    for want in [
        "Since:       2026-05-18T02:00:11Z",
        "Threshold:   a successful run in every scheduled window (daily at 02:00 UTC, 60 min grace)",
        "Look at:     https://github.com/raxx-app/TradeMasterAPI/actions/runs/9107",
        "Monitor run: https://github.com/raxx-app/TradeMasterAPI/actions/runs/777",
        "Runbook:     https://example.invalid/runbooks/cron-heartbeat-monitor",
        "  gh run list --workflow trace-integrity-cron.yml --repo raxx-app/TradeMasterAPI --limit 5",
        "  gh workflow run trace-integrity-cron.yml --repo raxx-app/TradeMasterAPI",
    ] {
        assert!(body.contains(want), "mail body lacks {want:?}:\n{body}");
    }
    let n = &r["notifications"][0];
    assert_eq!(n["sent"], true);
    assert_eq!(n["id"], "b7bc2f4a-e38e-4336-af7d-e6c390000000");
    assert_eq!(n["error"], Value::Null);
    assert!(
        run.stdout
            .contains("mailed: [heartbeat-monitor] cron heartbeat STALE: trace-integrity-cron")
    );
}

#[test]
fn a_file_the_token_may_not_read_falls_back_to_the_sla_and_says_which_permission() {
    let server = FakeServer::start(vec![
        success(BILLING, "github/runs-success-fresh.json"),
        workflow_file(BILLING),
        success(TRACE, "github/runs-success-fresh.json"),
        Route::get(&contents_path(TRACE)).reply(Reply::json(
            403,
            r#"{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/repos/contents#get-repository-content","status":"403"}"#,
        )),
        private_repo(),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server).config(CONFIG).run();
    assert_eq!(run.code, 0, "{}", run.stdout);
    let c = run.check(&id(TRACE));
    assert_eq!(c["status"], "ok");
    assert_eq!(
        c["message"],
        "last successful run 27.4 h ago at 2026-05-22T03:04:41Z (SLA 48 h instead of its schedule: the token may not read .github/workflows/trace-integrity-cron.yml: give the workflow `contents: read` (GitHub refused access (HTTP 403: Resource not accessible by integration): the credential lacks a permission))"
    );
    let why = c["details"]["schedule_fallback"].as_str().unwrap();
    assert!(why.contains("contents: read"), "{why}");
    // The other heartbeat still follows its schedule.
    assert_eq!(run.check(&id(BILLING))["details"]["schedule"]["missed"], 0);
}

#[test]
fn a_workflow_that_never_ran() {
    let server = FakeServer::start(vec![
        success(BILLING, "github/runs-success-fresh.json"),
        success(TRACE, "github/runs-empty.json"),
        Route::get(&runs_path(TRACE))
            .any_status()
            .reply(Reply::json(200, fixture("github/runs-empty.json"))),
        Route::get(&workflow_path(TRACE))
            .reply(Reply::json(200, fixture("github/workflow-active.json"))),
        private_repo(),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server).config(CONFIG).run();
    assert_eq!(run.code, 2);
    let c = run.check(&id(TRACE));
    assert_eq!(
        c["message"],
        "no successful run on record (SLA 48 h instead of its schedule: .github/workflows/trace-integrity-cron.yml is not on the default branch, where GitHub runs schedules from); the workflow has never run"
    );
    assert_eq!(c["details"]["last_success_at"], Value::Null);
    let body = mails(&server)[0]["TextBody"].as_str().unwrap().to_string();
    assert!(body.contains("Since:       never"), "{body}");
}

#[test]
fn a_workflow_disabled_by_github_for_inactivity() {
    let server = FakeServer::start(vec![
        success(BILLING, "github/runs-success-fresh.json"),
        success(TRACE, "github/runs-success-stale.json"),
        Route::get(&runs_path(TRACE))
            .any_status()
            .reply(Reply::json(200, fixture("github/runs-success-stale.json"))),
        Route::get(&workflow_path(TRACE)).reply(Reply::json(
            200,
            fixture("github/workflow-disabled-inactivity.json"),
        )),
        private_repo(),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server).config(CONFIG).run();
    assert_eq!(run.code, 2);
    let c = run.check(&id(TRACE));
    let msg = c["message"].as_str().unwrap();
    assert!(
        msg.contains("GitHub disabled the schedule after 60 days without repository activity"),
        "{msg}"
    );
    assert!(
        msg.contains("gh workflow enable trace-integrity-cron.yml --repo raxx-app/TradeMasterAPI"),
        "{msg}"
    );
    assert_eq!(c["details"]["workflow_state"], "disabled_inactivity");
}

#[test]
fn a_workflow_that_does_not_exist_is_critical_and_named() {
    let server = FakeServer::start(vec![
        success(BILLING, "github/runs-success-fresh.json"),
        Route::get(&runs_path(TRACE)).reply(Reply::json(404, fixture("github/error-404.json"))),
        private_repo(),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server).config(CONFIG).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    let msg = run.message(&id(TRACE));
    assert!(
        msg.starts_with("workflow trace-integrity-cron.yml not found in raxx-app/TradeMasterAPI"),
        "{msg}"
    );
}

#[test]
fn sla_hours_flag_overrides_the_file() {
    // 27.4 h old: fine at 48 h, stale at 1 h.
    let server = FakeServer::start(vec![
        success(BILLING, "github/runs-success-fresh.json"),
        Route::get(&runs_path(BILLING))
            .any_status()
            .reply(Reply::json(200, fixture("github/runs-success-fresh.json"))),
        Route::get(&workflow_path(BILLING))
            .reply(Reply::json(200, fixture("github/workflow-active.json"))),
        private_repo(),
        postmark_ok(),
    ]);
    let cfg = "[github]\nrepo = \"raxx-app/TradeMasterAPI\"\n[[heartbeat]]\nworkflow = \"billing-retention-cron.yml\"\n";
    let run = Monitor::new(&server)
        .config(cfg)
        .args(&["--sla-hours", "1"])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    let c = run.check(&id(BILLING));
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .starts_with("no successful run for 27.4 h (SLA 1 h)"),
        "{c}"
    );
    assert_eq!(c["details"]["sla_hours"], 1.0);
}

#[test]
fn the_old_scripts_call_works_unchanged() {
    // It now discovers; the old script's two crons are found where they exist.
    let mut list: Value = serde_json::from_str(&fixture("github/workflows-list.json")).unwrap();
    list["workflows"].as_array_mut().unwrap().truncate(2);
    list["total_count"] = Value::from(2);
    let mut billing: Value =
        serde_json::from_str(&fixture("github/runs-success-fresh.json")).unwrap();
    billing["workflow_runs"][0]["workflow_id"] = Value::from(102);
    // Discovery judges billing from the wide list: the configured world is wider.
    // The configured world's list of successes is the test's own, below.
    let mut routes: Vec<Route> = spares(stale_trace_routes())
        .into_iter()
        .filter(|r| !r.is_for(&repo_runs_path()))
        .collect();
    // Discovery reads each file by its blob, the tree being the configured world's.
    routes.push(
        Route::get(&format!("/repos/{REPO}/actions/workflows"))
            .reply(Reply::json(200, list.to_string())),
    );
    routes.push(
        Route::get(&format!("/repos/{REPO}/actions/runs"))
            .query("status=success")
            .reply(Reply::json(200, billing.to_string())),
    );
    let server = FakeServer::start(routes);
    let out = super::support::scratch::path("old-call/heartbeat_result.json");
    let run = Monitor::new(&server)
        .env("GITHUB_TOKEN", "")
        .args(&[
            "--repo",
            REPO,
            "--gh-token",
            GITHUB_TOKEN,
            "--sla-hours",
            "48",
            "--output-file",
            out.to_str().unwrap(),
        ])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("watching every scheduled workflow of raxx-app/TradeMasterAPI"),
        "{}",
        run.stderr
    );
    let r = run.result();
    assert_eq!(r["checks"].as_array().unwrap().len(), 3);
    let trace = run.check(&id(TRACE));
    assert_eq!(trace["status"], "critical");
    assert!(
        trace["message"]
            .as_str()
            .unwrap()
            .starts_with("no successful run for 121.5 h (SLA 48 h)"),
        "--sla-hours still sets a fixed SLA: {trace}"
    );
    assert_eq!(run.check(&id(BILLING))["status"], "ok");
}
