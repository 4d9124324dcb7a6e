//! Discovery: `--repo` alone (or `[github] discover = true`) watches every workflow with a
//! `schedule` trigger, found each run from the repository's own files, at two budget-counted
//! requests a repository when all is well.

use super::*;

fn workflows_path() -> String {
    format!("/repos/{REPO}/actions/workflows")
}

fn repo_runs_path() -> String {
    format!("/repos/{REPO}/actions/runs")
}

/// `fixture`'s runs, each moved to workflow `id`.
fn runs_of(fixture_name: &str, id: u64) -> Value {
    let mut list: Value = serde_json::from_str(&fixture(fixture_name)).unwrap();
    for run in list["workflow_runs"].as_array_mut().unwrap() {
        run["workflow_id"] = Value::from(id);
    }
    list
}

/// A repository-wide list holding `lists`' runs.
fn merged(lists: &[Value]) -> String {
    let runs: Vec<Value> = lists
        .iter()
        .flat_map(|l| l["workflow_runs"].as_array().unwrap().clone())
        .collect();
    serde_json::json!({"total_count": runs.len(), "workflow_runs": runs}).to_string()
}

const EXPORT: &str = "nightly-export.yml";
const DEPLOY: &str = "deploy-heroku.yml";

/// The repository's five workflows: trace (nightly 02:00, stale), billing (Fridays 03:00,
/// ran), deploy (no schedule), nightly-export (disabled by GitHub), CodeQL (no file).
fn world() -> Vec<Route> {
    vec![
        Route::get(&workflows_path())
            .reply(etagged(fixture("github/workflows-list.json"), "W/\"list\"")),
        workflow_file(TRACE),
        workflow_file(BILLING),
        workflow_file(DEPLOY),
        workflow_file(EXPORT),
        Route::get(&repo_runs_path())
            .query("status=success")
            .query("created=%3E%3D2026-05-22T00%3A00%3A00Z")
            .reply(Reply::json(
                200,
                merged(&[runs_of("github/runs-success-fresh.json", 102)]),
            )),
        success(TRACE, "github/runs-success-stale.json"),
        Route::get(&runs_path(TRACE))
            .any_status()
            .reply(Reply::json(200, fixture("github/runs-latest-failure.json"))),
        success(EXPORT, "github/runs-success-stale.json"),
        Route::get(&runs_path(EXPORT))
            .any_status()
            .reply(Reply::json(200, fixture("github/runs-success-stale.json"))),
        private_repo(),
        postmark_ok(),
    ]
}

#[test]
fn the_bare_repo_call_finds_every_scheduled_workflow_and_only_those() {
    let server = FakeServer::start(world());
    let run = Monitor::new(&server)
        .args(&["--repo", REPO, "--dry-run"])
        .run();
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("watching every scheduled workflow of raxx-app/TradeMasterAPI"),
        "{}",
        run.stderr
    );
    let r = run.result();
    let ids: Vec<&str> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            id(TRACE).as_str(),
            id(BILLING).as_str(),
            id(EXPORT).as_str(),
            "repo_activity:raxx-app/TradeMasterAPI"
        ],
        "no deploy (no schedule), no CodeQL (no file)"
    );
    let trace = run.check(&id(TRACE));
    assert_eq!(trace["status"], "critical");
    assert!(
        trace["message"]
            .as_str()
            .unwrap()
            .starts_with("missed 5 scheduled runs in a row (cron '0 2 * * *', daily at 02:00 UTC)"),
        "{trace}"
    );
    assert_eq!(trace["details"]["discovered"], true);
    let billing = run.check(&id(BILLING));
    assert_eq!(billing["status"], "ok", "{billing}");
    // Disabled by GitHub for inactivity: its schedule no longer runs.
    let export = run.check(&id(EXPORT));
    assert_eq!(export["status"], "critical", "{export}");
    assert!(
        export["message"]
            .as_str()
            .unwrap()
            .contains("GitHub disabled the schedule after 60 days"),
        "{export}"
    );
    // The dry run lists what it found.
    assert!(
        run.stdout.contains("cron_heartbeat nightly-export.yml"),
        "{}",
        run.stdout
    );
    // Healthy billing cost nothing of its own: no per-workflow request.
    assert_eq!(server.hits(&runs_path(BILLING)), 0);
    assert_eq!(server.hits(&repo_runs_path()), 1);
    assert_eq!(server.hits(&workflows_path()), 1);
}

#[test]
fn a_healthy_repository_costs_two_budget_counted_requests_whatever_its_workflows() {
    let on = |fixture_name: &str, id: u64, at: &str| {
        let mut list = runs_of(fixture_name, id);
        list["workflow_runs"][0]["created_at"] = Value::from(at);
        list
    };
    let runs = merged(&[
        on(
            "github/runs-success-fresh.json",
            101,
            "2026-05-23T02:00:11Z",
        ),
        on(
            "github/runs-success-fresh.json",
            102,
            "2026-05-22T03:00:02Z",
        ),
        on(
            "github/runs-success-fresh.json",
            104,
            "2026-05-23T01:30:40Z",
        ),
    ]);
    let mut list: Value = serde_json::from_str(&fixture("github/workflows-list.json")).unwrap();
    list["workflows"][3]["state"] = Value::from("active");
    let mut routes = vec![
        Route::get(&workflows_path()).reply(etagged(list.to_string(), "W/\"list\"")),
        // New runs since: the second run's list is a new answer.
        Route::get(&repo_runs_path())
            .query("status=success")
            .reply(etagged(runs.clone(), "W/\"runs-1\""))
            .reply(etagged(runs, "W/\"runs-2\"")),
        Route::get(&repo_path()).reply(etagged(fixture("github/repo-private.json"), "W/\"repo\"")),
        workflow_tree(),
        postmark_ok(),
    ];
    for wf in [TRACE, BILLING, DEPLOY, EXPORT] {
        routes.push(workflow_blob(wf));
    }
    let server = FakeServer::start(routes);
    let state = scratch("discovery").join("state.json");
    let run = || {
        Monitor::new(&server)
            .args(&["--repo", REPO, "--state-file", state.to_str().unwrap()])
            .run()
    };
    let first = run();
    assert_eq!(first.code, 0, "{}", first.stdout);
    let gh = &first.result()["api_budget"]["github"];
    // The list, the tree, four blobs, the runs, the repository: every file read once.
    assert_eq!(gh["requests"], 8, "{gh}");
    let second = run();
    assert_eq!(second.code, 0, "{}", second.stdout);
    let gh = &second.result()["api_budget"]["github"];
    let counted = gh["requests"].as_u64().unwrap() - gh["not_modified"].as_u64().unwrap();
    // The list, the tree and the runs (3 for the repository, whatever its workflows) and
    // repo_activity's one: no blob, as none changed.
    assert_eq!(gh["requests"], 4, "{gh}");
    assert_eq!(counted, 1, "only the runs list changed: {gh}");
    for wf in [TRACE, BILLING, EXPORT] {
        assert_eq!(second.check(&id(wf))["status"], "ok");
    }
    assert_eq!(server.hits(&runs_path(TRACE)), 0, "no per-workflow request");
}

#[test]
fn workflow_files_the_token_may_not_read_are_one_unknown_naming_the_permission() {
    let mut routes = vec![
        Route::get(&workflows_path())
            .reply(Reply::json(200, fixture("github/workflows-list.json"))),
        private_repo(),
        postmark_ok(),
    ];
    for wf in [TRACE, BILLING, DEPLOY, EXPORT] {
        routes.push(Route::get(&contents_path(wf)).reply(Reply::json(
            403,
            r#"{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest","status":"403"}"#,
        )));
    }
    let server = FakeServer::start(routes);
    let run = Monitor::new(&server)
        .args(&["--repo", REPO, "--dry-run"])
        .run();
    let c = run.check(&format!("cron_heartbeat:{REPO}:*"));
    assert_eq!(c["status"], "unknown");
    let m = c["message"].as_str().unwrap();
    assert!(
        m.starts_with("4 workflow file(s) of raxx-app/TradeMasterAPI could not be read"),
        "{m}"
    );
    assert!(m.contains("contents: read"), "{m}");
}

#[test]
fn discover_false_keeps_the_old_scripts_two_crons() {
    let server = FakeServer::start(stale_trace_routes());
    let run = Monitor::new(&server)
        .args(&["--repo", REPO])
        .config("[github]\ndiscover = false\n")
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.check(&id(BILLING))["status"] == "ok");
    assert_eq!(server.hits(&workflows_path()), 0);
}

#[test]
fn when_the_wide_runs_list_fails_each_workflow_is_asked_alone() {
    let mut routes: Vec<Route> = world()
        .into_iter()
        .filter(|r| !r.is_for(&repo_runs_path()))
        .collect();
    routes.insert(
        0,
        Route::get(&repo_runs_path()).reply(Reply::html(502, fixture("github/unicorn-502.html"))),
    );
    routes.push(success(BILLING, "github/runs-success-fresh.json"));
    let server = FakeServer::start(routes);
    let run = Monitor::new(&server)
        .args(&["--repo", REPO, "--dry-run"])
        .run();
    assert_eq!(run.check(&id(BILLING))["status"], "ok", "{}", run.stdout);
    assert_eq!(run.check(&id(TRACE))["status"], "critical");
    assert_eq!(server.hits(&runs_path(BILLING)), 1, "billing asked alone");
}

#[test]
fn a_weekly_cron_is_asked_alone_on_a_first_run_then_read_from_the_wide_list() {
    // Monday: with no schedule known yet, the wide list asked beside the files covers the
    // last day; billing's Friday run is older, so billing alone is asked once. The second
    // run knows the schedule from the tree and blob it kept, and its list reaches back to
    // Friday.
    let mut list: Value = serde_json::from_str(&fixture("github/workflows-list.json")).unwrap();
    list["workflows"]
        .as_array_mut()
        .unwrap()
        .retain(|w| w["path"].as_str().unwrap().ends_with(BILLING));
    list["total_count"] = Value::from(1);
    let server = FakeServer::start(vec![
        Route::get(&workflows_path()).reply(etagged(list.to_string(), "W/\"list\"")),
        workflow_tree(),
        workflow_blob(BILLING),
        Route::get(&repo_runs_path())
            .query("created=%3E%3D2026-05-24T00%3A00%3A00Z")
            .reply(Reply::json(200, merged(&[]))),
        Route::get(&repo_runs_path())
            .query("created=%3E%3D2026-05-22T00%3A00%3A00Z")
            .reply(Reply::json(
                200,
                merged(&[runs_of("github/runs-success-fresh.json", 102)]),
            )),
        success(BILLING, "github/runs-success-fresh.json"),
        private_repo(),
        postmark_ok(),
    ]);
    let state = scratch("weekly").join("state.json");
    let run = || {
        Monitor::new(&server)
            .now("2026-05-25T06:30:00Z")
            .args(&["--repo", REPO, "--state-file", state.to_str().unwrap()])
            .run()
    };
    let first = run();
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    assert_eq!(first.check(&id(BILLING))["status"], "ok");
    assert_eq!(server.hits(&runs_path(BILLING)), 1, "asked alone once");
    let second = run();
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    assert_eq!(second.check(&id(BILLING))["status"], "ok");
    assert_eq!(server.hits(&runs_path(BILLING)), 1, "not asked alone again");
    let gh = &second.result()["api_budget"]["github"];
    let counted = gh["requests"].as_u64().unwrap() - gh["not_modified"].as_u64().unwrap();
    assert!(
        counted <= 2,
        "the runs list and the repository at most: {gh}"
    );
}
