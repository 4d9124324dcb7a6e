use super::*;

#[test]
fn healthy_workflows_cost_two_requests_for_their_repository_and_mail_nothing() {
    let server = FakeServer::start(vec![
        workflow_tree(),
        workflow_blob(BILLING),
        workflow_blob(TRACE),
        repo_successes(&[
            (BILLING, fixture("github/runs-success-fresh.json")),
            // Trace ran at 02:00 today, on time.
            (
                TRACE,
                fixture("github/runs-success-fresh.json")
                    .replace("2026-05-22T03:00:02Z", "2026-05-23T02:00:31Z")
                    .replace("2026-05-22T03:04:41Z", "2026-05-23T02:04:10Z"),
            ),
        ]),
        private_repo(),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server).config(CONFIG).run();
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let r = run.result();
    assert_eq!(r["status"], "ok");
    assert_eq!(r["exit_code"], 0);
    assert_eq!(r["counts"]["ok"], 3);
    assert_eq!(r["now"], NOW);
    let billing = run.check(&id(BILLING));
    assert_eq!(billing["status"], "ok");
    assert_eq!(
        billing["message"],
        "last successful run 27.5 h ago at 2026-05-22T03:00:02Z, on schedule (cron '0 3 * * FRI', Fridays at 03:00 UTC)"
    );
    assert_eq!(billing["details"]["schedule"]["missed"], 0);
    assert_eq!(
        billing["details"]["last_success_url"],
        "https://github.com/raxx-app/TradeMasterAPI/actions/runs/9001"
    );
    // The repository's tree and its list of successes, each file's blob once (a first run),
    // one for repo_activity; nothing per workflow; no mail.
    assert_eq!(server.hits(&tree_path()), 1);
    assert_eq!(server.hits(&format!("/repos/{REPO}/actions/runs")), 1);
    assert_eq!(server.hits(&runs_path(BILLING)), 0);
    assert_eq!(server.hits(&runs_path(TRACE)), 0);
    assert_eq!(server.hits(&repo_path()), 1);
    assert_eq!(server.requests().len(), 5);
    assert!(r["notifications"].as_array().unwrap().is_empty());
    // Results in configuration order.
    let ids: Vec<&str> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            id(BILLING).as_str(),
            id(TRACE).as_str(),
            "repo_activity:raxx-app/TradeMasterAPI"
        ]
    );
    assert!(
        run.stdout
            .contains("OK        cron_heartbeat billing-retention-cron.yml"),
        "{}",
        run.stdout
    );
}

#[test]
fn every_github_request_carries_the_documented_headers() {
    let server = FakeServer::start(stale_trace_routes());
    let run = Monitor::new(&server).config(CONFIG).run();
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    let reqs = api_requests(&server);
    assert_eq!(reqs.len(), 8, "{reqs:#?}");
    for r in reqs {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {GITHUB_TOKEN}").as_str())
        );
        assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
        assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
        assert_eq!(
            r.header("user-agent"),
            Some(concat!("heartbeat-monitor/", env!("CARGO_PKG_VERSION")))
        );
        assert!(!r.url.contains(GITHUB_TOKEN));
    }
}

#[test]
fn branch_and_event_filters_reach_github() {
    let server = FakeServer::start(vec![
        success(BILLING, "github/runs-success-fresh.json")
            .query("branch=main")
            .query("event=schedule"),
        private_repo(),
    ]);
    let cfg = r#"
[github]
repo = "raxx-app/TradeMasterAPI"
[[heartbeat]]
workflow = "billing-retention-cron.yml"
branch = "main"
event = "schedule"
"#;
    let run = Monitor::new(&server).config(cfg).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let q = server
        .requests()
        .into_iter()
        .find(|r| r.path() == runs_path(BILLING))
        .unwrap()
        .url;
    assert!(
        q.contains("per_page=1") && q.contains("exclude_pull_requests=true"),
        "{q}"
    );
}

#[test]
fn public_repository_quiet_for_53_days_warns_before_github_disables_the_crons() {
    let server = FakeServer::start(vec![
        success(BILLING, "github/runs-success-fresh.json"),
        success(TRACE, "github/runs-success-fresh.json"),
        Route::get(&repo_path()).reply(Reply::json(200, fixture("github/repo-public-quiet.json"))),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server).config(CONFIG).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let c = run.check("repo_activity:raxx-app/TradeMasterAPI");
    assert_eq!(c["status"], "warning");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("no push for 53 days"),
        "{c}"
    );
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] cron heartbeat AT RISK: raxx-app/TradeMasterAPI"]
    );
}
