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

/// A blob of `text` as GitHub's blobs API answers it, and its path.
fn blob(sha: &str, text: &str) -> (Route, String) {
    use base64::Engine as _;
    let body = serde_json::json!({
        "content": base64::engine::general_purpose::STANDARD.encode(text),
        "encoding": "base64",
        "url": format!("https://api.github.com/repos/{REPO}/git/blobs/{sha}"),
        "sha": sha,
        "size": text.len(),
        "node_id": "B_kwDOAAAAAdoAKDlkMWMwYjNl",
    });
    let path = format!("/repos/{REPO}/git/blobs/{sha}");
    let route =
        Route::get(&path).reply(Reply::json(200, body.to_string()).header("ETag", "\"b2\""));
    (route, path)
}

#[test]
fn an_unchanged_file_is_not_fetched_and_a_changed_one_is_fetched_once() {
    // Billing's file changes after the first run: Thursdays and Fridays at 03:00 now.
    let text = "on:\n  schedule:\n    - cron: '0 3 * * 4,5'\n";
    let sha = "9d1c0b3e5a7f2e4c6b8a0d2f4e6c8a0b2d4f6e80";
    let mut tree: Value = serde_json::from_str(&fixture("github/tree-workflows.json")).unwrap();
    for e in tree["tree"].as_array_mut().unwrap() {
        if e["path"] == BILLING {
            e["sha"] = Value::from(sha);
            e["size"] = Value::from(text.len());
        }
    }
    let (new_blob, new_blob_path) = blob(sha, text);
    let mut routes = vec![
        // The n-th run gets the n-th tree, the last one repeating.
        Route::get(&tree_path())
            .reply(
                Reply::json(200, fixture("github/tree-workflows.json")).header("ETag", "W/\"t1\""),
            )
            .reply(Reply::json(200, tree.to_string()).header("ETag", "W/\"t2\"")),
        new_blob,
    ];
    routes.extend(world().into_iter().filter(|r| !r.is_for(&tree_path())));
    let server = FakeServer::start(routes);
    let state = scratch("blobs").join("state.json");
    let run = || {
        Monitor::new(&server)
            .config(CONFIG)
            .args(&["--state-file", state.to_str().unwrap()])
            .run()
    };
    let first = run();
    assert_eq!(
        first.check(&id(BILLING))["details"]["schedule"]["entries"],
        serde_json::json!([{"cron": "0 3 * * FRI"}])
    );
    for _ in 0..2 {
        let r = run();
        let billing = r.check(&id(BILLING));
        assert_eq!(
            billing["details"]["schedule"]["entries"],
            serde_json::json!([{"cron": "0 3 * * 4,5"}]),
            "{billing}"
        );
    }
    assert_eq!(
        server.hits(&new_blob_path),
        1,
        "fetched once, then kept by its SHA"
    );
    let trace_blob = format!("/repos/{REPO}/git/blobs/{}", blob_sha(TRACE));
    assert_eq!(
        server.hits(&trace_blob),
        1,
        "unchanged: read by the first run only"
    );
}

#[test]
fn a_repository_wide_list_that_pages_is_read_to_its_end() {
    // A busy repository: a full page of other workflows' successes, then billing's.
    let mut others: Value =
        serde_json::from_str(&fixture("github/runs-success-fresh.json")).unwrap();
    let one = others["workflow_runs"][0].clone();
    others["workflow_runs"] = (0..100)
        .map(|i| {
            let mut r = one.clone();
            r["id"] = Value::from(50_000 + i);
            r["workflow_id"] = Value::from(7_000 + i);
            r["path"] = Value::from(format!(".github/workflows/busy-{i}.yml"));
            r
        })
        .collect();
    others["total_count"] = Value::from(101);
    let page_two = repo_successes_body(&[(BILLING, fixture("github/runs-success-fresh.json"))]);
    let server = FakeServer::start(vec![
        workflow_tree(),
        workflow_blob(BILLING),
        Route::get(&repo_runs_path())
            .query("status=success")
            .query("&page=1&")
            .reply(Reply::json(200, others.to_string())),
        Route::get(&repo_runs_path())
            .query("status=success")
            .query("&page=2&")
            .reply(Reply::json(200, page_two)),
        private_repo(),
        postmark_ok(),
    ]);
    let config = CONFIG.replace(
        "[[heartbeat]]\nworkflow = \"trace-integrity-cron.yml\"\n",
        "",
    );
    let run = Monitor::new(&server).config(&config).run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.check(&id(BILLING))["status"], "ok");
    assert_eq!(
        server.hits(&runs_path(BILLING)),
        0,
        "found on page 2: not asked alone"
    );
    assert_eq!(server.hits(&repo_runs_path()), 2);
}
