//! Spending GitHub's budget like money: ETags kept in the state file, sent back as
//! `If-None-Match`, a `304 Not Modified` answered from what was kept; and the result's
//! `api_budget` saying what the run spent.

use super::*;

fn world() -> Vec<Route> {
    vec![
        Route::get(&tree_path())
            .reply(etagged(fixture("github/tree-workflows.json"), "W/\"tree\"")),
        workflow_blob(BILLING),
        workflow_blob(TRACE),
        // Trace's last success is older than the list reaches: it is asked alone.
        Route::get(&repo_runs_path())
            .query("status=success")
            .reply(etagged(
                repo_successes_body(&[(BILLING, fixture("github/runs-success-fresh.json"))]),
                "W/\"repo-runs\"",
            )),
        Route::get(&runs_path(TRACE))
            .query("status=success")
            .reply(etagged(
                fixture("github/runs-success-stale.json"),
                "W/\"t-runs\"",
            )),
        Route::get(&runs_path(TRACE)).any_status().reply(etagged(
            fixture("github/runs-latest-failure.json"),
            "W/\"t-any\"",
        )),
        Route::get(&workflow_path(TRACE)).reply(etagged(
            fixture("github/workflow-active.json"),
            "W/\"t-wf\"",
        )),
        Route::get(&repo_path()).reply(etagged(fixture("github/repo-private.json"), "W/\"repo\"")),
        postmark_ok(),
    ]
}

#[test]
fn a_second_run_asks_conditionally_and_spends_nothing_on_what_did_not_change() {
    let server = FakeServer::start(world());
    let state = scratch("etags").join("state.json");
    let run = |server: &FakeServer| {
        Monitor::new(server)
            .config(CONFIG)
            .args(&["--state-file", state.to_str().unwrap()])
            .run()
    };
    let first = run(&server);
    assert_eq!(first.code, 2, "{}", first.stderr);
    let budget = &first.result()["api_budget"]["github"];
    // The tree, the repository's list, two blobs, trace's three (it is stale), the repo.
    assert_eq!(budget["requests"], 8);
    assert_eq!(budget["not_modified"], 0);
    assert_eq!(budget["remaining"], 4991);
    assert!(
        api_requests(&server)
            .iter()
            .all(|r| r.header("if-none-match").is_none())
    );

    let kept = std::fs::read_to_string(&state).unwrap();
    assert!(kept.contains("\"http_cache\""), "{kept}");
    assert!(!kept.contains(GITHUB_TOKEN));

    let before = server.requests().len();
    let second = run(&server);
    assert_eq!(second.code, 2, "{}", second.stderr);
    let asked: Vec<_> = server.requests()[before..]
        .iter()
        .filter(|r| r.path() != "/email/batch")
        .cloned()
        .collect();
    // The blobs are kept by their SHA: an unchanged file costs no request at all.
    assert_eq!(asked.len(), 6, "{asked:#?}");
    assert!(
        asked.iter().all(|r| !r.path().contains("/git/blobs/")),
        "{asked:#?}"
    );
    assert!(
        asked.iter().all(|r| r.header("if-none-match").is_some()),
        "every GitHub request is conditional: {asked:#?}"
    );
    let budget = &second.result()["api_budget"]["github"];
    assert_eq!(budget["requests"], 6);
    assert_eq!(budget["not_modified"], 6, "all free");
    assert_eq!(budget["remaining"], 4990);
    assert!(
        second
            .stdout
            .contains("API requests: github 6 (6 not modified, free), 4990 left"),
        "{}",
        second.stdout
    );
    // The answers kept gave the same verdicts.
    for (a, b) in first.result()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .zip(second.result()["checks"].as_array().unwrap())
    {
        assert_eq!(a["status"], b["status"]);
        assert_eq!(a["message"], b["message"]);
    }
}

#[test]
fn a_304_for_an_answer_not_kept_is_a_clear_error_not_a_crash() {
    // A cache entry the server no longer agrees with is ignored; a 304 out of the blue (no
    // entry sent) is a redirect-class answer the check reports.
    let server = FakeServer::start(vec![
        Route::get(&runs_path(BILLING))
            .query("status=success")
            .reply(Reply::json(304, "")),
        success(TRACE, "github/runs-success-fresh.json"),
        private_repo(),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server)
        .config(CONFIG)
        .args(&["--dry-run"])
        .run();
    let c = run.check(&id(BILLING));
    assert_eq!(c["status"], "unknown", "{c}");
    assert!(c["message"].as_str().unwrap().contains("HTTP 304"), "{c}");
}
