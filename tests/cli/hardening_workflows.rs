//! Workflow files and lists that would cost without bound: an alias bomb, a flood of cron
//! entries, a workflow list cut by the page bound or repeating its pages. Each is reported
//! with its reason, and the run always writes its result.

use super::*;

const BOMB: &str = "laughs.yml";
const FLOOD: &str = "every-minute.yml";

/// Under 500 bytes that yaml-rust2's loader expands to 9^9 copies of "lol".
fn billion_laughs() -> String {
    let mut text = String::from(
        "name: laughs\non:\n  schedule:\n    - cron: '0 2 * * *'\na: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let refs = vec![format!("*{}", pair[0]); 9].join(",");
        text.push_str(&format!("{}: &{} [{refs}]\n", pair[1], pair[1]));
    }
    text
}

/// 40,000 `* * * * *` entries: 960 KB.
fn forty_thousand_entries() -> String {
    let mut text = String::from("name: every minute\non:\n  schedule:\n");
    for _ in 0..40_000 {
        text.push_str("    - cron: '* * * * *'\n");
    }
    text
}

/// A deadline generous enough for a busy machine: the outcome is asserted, not the time.
const GENEROUS: &str = "[run]\nrequest_timeout_seconds = 10\ndeadline_seconds = 240\n";

fn workflow(id: u64, file: &str, name: &str) -> Value {
    serde_json::json!({
        "id": id,
        "node_id": format!("W_kwDOABCD{id}"),
        "name": name,
        "path": format!(".github/workflows/{file}"),
        "state": "active",
        "created_at": "2025-11-02T10:00:00.000Z",
        "updated_at": "2026-05-01T10:00:00.000Z",
        "url": format!("https://api.github.com/repos/{REPO}/actions/workflows/{id}"),
        "html_url": format!("https://github.com/{REPO}/blob/main/.github/workflows/{file}"),
        "badge_url": format!("https://github.com/{REPO}/workflows/{name}/badge.svg"),
    })
}

fn file_route(file: &str, text: &str) -> Route {
    Route::get(&contents_path(file)).reply(Reply::json(200, contents_body(file, text)))
}

#[test]
fn an_alias_bomb_and_forty_thousand_entries_are_refused_and_the_result_is_written() {
    let bomb = billion_laughs();
    assert!(bomb.len() < 500, "{}", bomb.len());
    let flood = forty_thousand_entries();
    assert!(flood.len() > 950_000, "{}", flood.len());
    let list = serde_json::json!({
        "total_count": 3,
        "workflows": [
            workflow(101, TRACE, "trace-integrity-cron"),
            workflow(106, BOMB, "laughs"),
            workflow(107, FLOOD, "every minute"),
        ],
    });
    let server = FakeServer::start(vec![
        Route::get(&format!("/repos/{REPO}/actions/workflows"))
            .reply(Reply::json(200, list.to_string())),
        workflow_file(TRACE),
        file_route(BOMB, &bomb),
        file_route(FLOOD, &flood),
        Route::get(&format!("/repos/{REPO}/actions/runs"))
            .query("status=success")
            .reply(Reply::json(
                200,
                r#"{"total_count": 0, "workflow_runs": []}"#,
            )),
        success(TRACE, "github/runs-success-stale.json"),
        Route::get(&runs_path(TRACE))
            .any_status()
            .reply(Reply::json(200, fixture("github/runs-latest-failure.json"))),
        private_repo(),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server)
        .args(&["--repo", REPO, "--dry-run"])
        .config(GENEROUS)
        .run();
    // The result file is written, the rest of the repository judged as usual: discovery
    // finished well inside the deadline, or trace would not have a check of its own.
    assert_eq!(
        run.check(&id(TRACE))["status"],
        "critical",
        "{}",
        run.stderr
    );
    let c = run.check(&format!("cron_heartbeat:{REPO}:*"));
    assert_eq!(c["status"], "unknown", "{c}");
    let m = c["message"].as_str().unwrap();
    assert!(
        m.starts_with("2 workflow file(s) of raxx-app/TradeMasterAPI could not be read"),
        "{m}"
    );
    let why = &c["details"]["why"];
    let bomb_why = why[format!(".github/workflows/{BOMB}")].as_str().unwrap();
    assert!(
        bomb_why.contains("the workflow file was not read")
            && bomb_why.contains("values (YAML aliases copied over and over?)"),
        "{bomb_why}"
    );
    let flood_why = why[format!(".github/workflows/{FLOOD}")].as_str().unwrap();
    assert!(
        flood_why.contains("it has 40000 schedule entries, more than the 50 the monitor reads"),
        "{flood_why}"
    );
}

#[test]
fn a_configured_heartbeat_on_an_alias_bomb_falls_back_to_its_sla_and_says_why() {
    let server = FakeServer::start(vec![
        success(BOMB, "github/runs-success-fresh.json"),
        file_route(BOMB, &billion_laughs()),
        private_repo(),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server)
        .config(&format!(
            "[github]\nrepo = \"{REPO}\"\n\n[[heartbeat]]\nworkflow = \"{BOMB}\"\n\n{GENEROUS}"
        ))
        .run();
    let c = run.check(&id(BOMB));
    assert_eq!(c["status"], "ok", "within the 48 h SLA: {c}");
    let fallback = c["details"]["schedule_fallback"].as_str().unwrap();
    assert!(
        fallback.starts_with(&format!(
            ".github/workflows/{BOMB}: the workflow file was not read: it expands to more than"
        )),
        "{fallback}"
    );
}

/// The `page` a request asks for (1 when it names none).
fn page_of(req: &Recorded) -> u64 {
    req.query()
        .iter()
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(1)
}

/// A workflow GitHub creates on its own (Pages, Dependabot): no file, so never a schedule.
fn dynamic(id: u64) -> Value {
    let mut w = workflow(id, "x", &format!("pages-build-deployment-{id}"));
    w["path"] = Value::from(format!("dynamic/pages/pages-build-deployment-{id}"));
    w
}

/// The routes of trace (stale, failed) beside a workflow list answered by `list`.
fn with_list(list: Reply) -> Vec<Route> {
    vec![
        Route::get(&format!("/repos/{REPO}/actions/workflows")).reply(list),
        workflow_file(TRACE),
        Route::get(&format!("/repos/{REPO}/actions/runs"))
            .query("status=success")
            .reply(Reply::json(
                200,
                r#"{"total_count": 0, "workflow_runs": []}"#,
            )),
        success(TRACE, "github/runs-success-stale.json"),
        Route::get(&runs_path(TRACE))
            .any_status()
            .reply(Reply::json(200, fixture("github/runs-latest-failure.json"))),
        private_repo(),
        postmark_ok(),
    ]
}

fn ids(run: &Run) -> Vec<String> {
    run.result()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_workflow_list_cut_by_the_page_bound_is_a_warning_naming_what_is_left_unwatched() {
    // 1,050 workflows: trace first, then GitHub's own; pages of 100 as GitHub pages them.
    let list = Reply::With(std::sync::Arc::new(|req: &Recorded| {
        let page = page_of(req);
        let first = (page - 1) * 100;
        let workflows: Vec<Value> = (first..(first + 100).min(1050))
            .map(|i| match i {
                0 => workflow(101, TRACE, "trace-integrity-cron"),
                i => dynamic(1000 + i),
            })
            .collect();
        Reply::json(
            200,
            serde_json::json!({"total_count": 1050, "workflows": workflows}).to_string(),
        )
    }));
    let server = FakeServer::start(with_list(list));
    let run = Monitor::new(&server)
        .args(&["--repo", REPO, "--dry-run"])
        .config(GENEROUS)
        .run();
    assert_eq!(run.check(&id(TRACE))["status"], "critical");
    let c = run.check(&format!("cron_heartbeat:{REPO}:*"));
    assert_eq!(c["status"], "warning", "{c}");
    assert_eq!(
        c["message"],
        "only 1000 of the 1050 workflows GitHub counts in raxx-app/TradeMasterAPI were listed \
         (the monitor reads 10 pages of 100): 50 are not watched"
    );
    assert_eq!(c["details"]["listed"], 1000);
    assert_eq!(c["details"]["counted"], 1050);
}

#[test]
fn a_workflow_list_whose_pages_repeat_makes_one_check_per_workflow() {
    // A list (or a proxy in front of it) that ignores `page`: every page is the first.
    let mut workflows = vec![workflow(101, TRACE, "trace-integrity-cron")];
    workflows.extend((1..100).map(dynamic));
    let page = serde_json::json!({"total_count": 1000, "workflows": workflows}).to_string();
    let server = FakeServer::start(with_list(Reply::json(200, page)));
    let run = Monitor::new(&server)
        .args(&["--repo", REPO, "--dry-run"])
        .config(GENEROUS)
        .run();
    let all = ids(&run);
    let trace = all.iter().filter(|i| **i == id(TRACE)).count();
    assert_eq!(trace, 1, "one workflow is one check: {all:?}");
    assert_eq!(server.hits(&contents_path(TRACE)), 1, "its file read once");
    let c = run.check(&format!("cron_heartbeat:{REPO}:*"));
    assert_eq!(c["status"], "warning", "{c}");
    let m = c["message"].as_str().unwrap();
    assert!(
        m.starts_with(
            "only 100 of the 1000 workflows GitHub counts in raxx-app/TradeMasterAPI were listed"
        ),
        "{m}"
    );
}

#[test]
fn an_organisation_cut_by_the_page_bound_is_a_warning_naming_where_the_list_stopped() {
    // 1,200 repositories, all archived (so nothing more is asked of them); GitHub sorts
    // them by name when asked to.
    let list = Reply::With(std::sync::Arc::new(|req: &Recorded| {
        let page = page_of(req);
        let repos: Vec<Value> = ((page - 1) * 100..(page * 100).min(1200))
            .map(|i| {
                let name = format!("service-{i:04}");
                serde_json::json!({
                    "id": 500_000 + i,
                    "node_id": format!("R_kgDO{i}"),
                    "name": name,
                    "full_name": format!("raxx-app/{name}"),
                    "private": true,
                    "archived": true,
                    "html_url": format!("https://github.com/raxx-app/{name}"),
                    "owner": {"login": "raxx-app", "id": 7, "type": "Organization"},
                })
            })
            .collect();
        Reply::json(200, Value::from(repos).to_string())
    }));
    let server = FakeServer::start(vec![
        Route::get("/orgs/raxx-app/repos").reply(list),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server)
        .config(&format!("[github]\norg = \"raxx-app\"\n\n{GENEROUS}"))
        .args(&["--dry-run"])
        .run();
    let c = run.check("cron_heartbeat:raxx-app/*:*");
    assert_eq!(c["status"], "warning", "{c}");
    assert_eq!(
        c["message"],
        "listed only the first 1000 repositories of the organisation raxx-app by name \
         (the monitor reads 10 pages of 100): those after raxx-app/service-0999 are not \
         watched; name them in [github] repos"
    );
    let asked = api_requests(&server);
    assert!(
        asked
            .iter()
            .filter(|r| r.path() == "/orgs/raxx-app/repos")
            .all(|r| r.url.contains("sort=full_name")),
        "{asked:?}"
    );
}
