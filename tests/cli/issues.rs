//! `[github_issues]` against a loopback GitHub that answers the issues API as GitHub does:
//! one issue opened per failing check, found again by its marker and label among the token's
//! own issues, commented on a reminder, closed on recovery; a person's issue is never
//! touched; a token without `issues: write` is recorded and the mail still goes.

use super::*;

const ISSUES: &str = "/repos/raxx-app/TradeMasterAPI/issues";
const LOGIN: &str = "heartbeat-bot";

const CONFIG: &str = r#"
[github]
repo = "raxx-app/TradeMasterAPI"
[[heartbeat]]
workflow = "trace-integrity-cron.yml"
[github_issues]
repo = "raxx-app/TradeMasterAPI"
labels = ["incident", "heartbeat-monitor"]
assignees = ["kristerpher"]
"#;

/// An issue as GitHub's issues API answers it: the example of GitHub's own description
/// (`issue-items`), moved to our repository, with its number, author, body and labels.
pub fn issue(number: u64, login: &str, body: &str) -> Value {
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(super::support::prism::api_description(
            "github-issues.subset.openapi.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let mut issue = spec["components"]["examples"]["issue-items"]["value"][0].clone();
    let text = issue
        .to_string()
        .replace("octocat/Hello-World", "raxx-app/TradeMasterAPI");
    issue = serde_json::from_str(&text).unwrap();
    let map = issue.as_object_mut().unwrap();
    map.remove("pull_request"); // an issue, not a pull request
    map.insert("number".into(), number.into());
    map.insert(
        "html_url".into(),
        format!("https://github.com/raxx-app/TradeMasterAPI/issues/{number}").into(),
    );
    map.insert("body".into(), body.into());
    map.insert("created_at".into(), "2026-05-20T02:10:00Z".into());
    issue["user"]["login"] = login.into();
    issue["labels"][0]["name"] = "incident".into();
    issue
}

fn ours(number: u64) -> Value {
    issue(
        number,
        LOGIN,
        &format!("...\n\n<!-- heartbeat-monitor:{} -->", id(TRACE)),
    )
}

/// GitHub with trace stale since `success_at`, `open` issues listed, and the write routes
/// answering `write`.
fn world(success_at: &str, open: Vec<Value>, write: u16) -> FakeServer {
    let mut routes = trace_routes(success_at);
    let answer = |status: u16, body: Value| Reply::json(status, body.to_string());
    let refused = serde_json::json!({"message": "Resource not accessible by integration",
        "documentation_url": "https://docs.github.com/rest/issues/issues#create-an-issue"});
    let written = |created: Value| {
        if write == 201 {
            answer(201, created)
        } else {
            answer(write, refused.clone())
        }
    };
    routes.extend([
        postmark_ok(),
        Route::get("/user").reply(answer(200, serde_json::json!({"login": LOGIN, "id": 7}))),
        Route::get(ISSUES).reply(answer(200, Value::Array(open))),
        // GitHub's issues API: each test reads what was written, so none is required.
        Route::post(ISSUES).reply(written(ours(12))).optional(),
        Route::post(&format!("{ISSUES}/7/comments"))
            .reply(written(serde_json::json!({"id": 1, "body": "x"})))
            .optional(),
        Route::patch(&format!("{ISSUES}/7"))
            .reply(written(ours(7)))
            .optional(),
    ]);
    FakeServer::start(routes)
}

fn sent(server: &FakeServer, method: &str, path: &str) -> Vec<Value> {
    server
        .requests()
        .iter()
        .filter(|r| r.method == method && r.path() == path)
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect()
}

fn issues_notifications(run: &Run) -> Vec<Value> {
    run.result()["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["channel"] == "github_issues")
        .cloned()
        .collect()
}

const STALE: &str = "2026-05-18T05:00:00Z";

#[test]
fn a_failing_check_opens_one_issue_with_its_marker_labels_and_assignees() {
    let server = world(STALE, vec![], 201);
    let run = Monitor::new(&server).config(CONFIG).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    let created = sent(&server, "POST", ISSUES);
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0]["title"],
        "[heartbeat-monitor] cron heartbeat STALE: trace-integrity-cron"
    );
    let body = created[0]["body"].as_str().unwrap();
    assert!(
        body.ends_with(&format!("<!-- heartbeat-monitor:{} -->", id(TRACE))),
        "{body}"
    );
    assert!(body.contains("is CRITICAL"), "the mail's body: {body}");
    assert_eq!(
        created[0]["labels"],
        serde_json::json!(["incident", "heartbeat-monitor"])
    );
    assert_eq!(created[0]["assignees"], serde_json::json!(["kristerpher"]));
    let list = server
        .requests()
        .into_iter()
        .find(|r| r.path() == ISSUES && r.method == "GET")
        .unwrap();
    assert!(
        list.url.contains("state=open") && list.url.contains("labels=incident,heartbeat-monitor"),
        "{}",
        list.url
    );
    assert!(
        list.url.contains(&format!("creator={LOGIN}")),
        "{}",
        list.url
    );
    let n = issues_notifications(&run);
    assert_eq!(n[0]["sent"], true);
    assert_eq!(
        n[0]["id"],
        "https://github.com/raxx-app/TradeMasterAPI/issues/12"
    );
    assert_eq!(subjects(&server).len(), 1, "the mail went too");
}

#[test]
fn an_open_issue_of_ours_gets_a_comment_not_a_duplicate() {
    let server = world(STALE, vec![ours(7)], 201);
    let run = Monitor::new(&server).config(CONFIG).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(sent(&server, "POST", ISSUES).is_empty(), "no duplicate");
    let comments = sent(&server, "POST", &format!("{ISSUES}/7/comments"));
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0]["body"]
            .as_str()
            .unwrap()
            .starts_with("Seen again.")
    );
}

#[test]
fn a_reminder_comments_and_a_recovery_closes_with_how_long_it_lasted() {
    let state = scratch("issues-state").join("state.json");
    let state = state.to_str().unwrap();
    let server = world(STALE, vec![], 201);
    Monitor::new(&server)
        .config(CONFIG)
        .args(&["--state-file", state])
        .run();
    assert_eq!(sent(&server, "POST", ISSUES).len(), 1);

    let server = world(STALE, vec![ours(7)], 201);
    let run = Monitor::new(&server)
        .config(CONFIG)
        .now("2026-05-24T07:30:00Z")
        .args(&["--state-file", state])
        .run();
    assert_eq!(run.code, 2);
    let comments = sent(&server, "POST", &format!("{ISSUES}/7/comments"));
    assert!(
        comments[0]["body"]
            .as_str()
            .unwrap()
            .starts_with("Still failing (a reminder).")
    );

    let server = world("2026-05-24T08:00:00Z", vec![ours(7)], 201);
    let run = Monitor::new(&server)
        .config(CONFIG)
        .now("2026-05-24T08:30:00Z")
        .args(&["--state-file", state])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let comments = sent(&server, "POST", &format!("{ISSUES}/7/comments"));
    assert!(
        comments[0]["body"]
            .as_str()
            .unwrap()
            .starts_with("Resolved after 4 d 6 h."),
        "{comments:?}"
    );
    let patched = sent(&server, "PATCH", &format!("{ISSUES}/7"));
    assert_eq!(
        patched,
        [serde_json::json!({"state": "closed", "state_reason": "completed"})]
    );
    assert!(sent(&server, "DELETE", &format!("{ISSUES}/7")).is_empty());
}

#[test]
fn a_persons_issue_with_the_marker_is_left_alone() {
    let mut foreign = issue(
        7,
        "alice",
        &format!("<!-- heartbeat-monitor:{} -->", id(TRACE)),
    );
    foreign["user"]["type"] = "User".into();
    let state = scratch("issues-foreign").join("state.json");
    let state = state.to_str().unwrap();
    let server = world(STALE, vec![foreign.clone()], 201);
    Monitor::new(&server)
        .config(CONFIG)
        .args(&["--state-file", state])
        .run();
    assert!(sent(&server, "POST", &format!("{ISSUES}/7/comments")).is_empty());
    assert_eq!(
        sent(&server, "POST", ISSUES).len(),
        1,
        "ours is opened beside it"
    );

    // Recovered: the RESOLVED event finds no issue of ours open, and closes nothing.
    let server = world("2026-05-23T06:00:00Z", vec![foreign], 201);
    let run = Monitor::new(&server)
        .config(CONFIG)
        .now("2026-05-23T07:30:00Z")
        .args(&["--state-file", state])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(subjects(&server).len(), 1, "the RESOLVED mail went");
    assert!(
        sent(&server, "PATCH", &format!("{ISSUES}/7")).is_empty(),
        "never closed"
    );
    assert!(sent(&server, "POST", &format!("{ISSUES}/7/comments")).is_empty());
}

#[test]
fn a_token_without_issues_write_is_recorded_and_the_mail_still_goes() {
    let server = world(STALE, vec![], 403);
    let run = Monitor::new(&server).config(CONFIG).run();
    assert_eq!(run.code, 3);
    assert_eq!(subjects(&server).len(), 1, "the mail went");
    let n = issues_notifications(&run);
    assert_eq!(n[0]["sent"], false);
    let error = n[0]["error"].as_str().unwrap();
    assert!(error.contains("HTTP 403"), "{error}");
    assert!(
        error.ends_with("give the workflow `issues: write`"),
        "{error}"
    );
}

/// The issue one run creates, as the loopback GitHub received it (for the conformance test).
pub fn created_by_a_run() -> Value {
    let server = world(STALE, vec![], 201);
    Monitor::new(&server).config(CONFIG).run();
    sent(&server, "POST", ISSUES).remove(0)
}

#[test]
fn open_issues_that_cannot_be_listed_leave_every_event_unsent_and_said() {
    let mut routes = trace_routes(STALE);
    routes.extend([
        postmark_ok(),
        Route::get("/user").reply(Reply::json(
            403,
            r#"{"message": "Resource not accessible by integration"}"#,
        )),
        Route::get(ISSUES).reply(Reply::html(502, fixture("github/unicorn-502.html"))),
    ]);
    let server = FakeServer::start(routes);
    let run = Monitor::new(&server).config(CONFIG).run();
    assert_eq!(run.code, 3);
    assert_eq!(subjects(&server).len(), 1, "the mail went");
    let list = server
        .requests()
        .into_iter()
        .find(|r| r.path() == ISSUES)
        .unwrap();
    assert!(
        list.url.contains("creator=github-actions%5Bbot%5D"),
        "a workflow token's issues are github-actions[bot]'s: {}",
        list.url
    );
    let n = issues_notifications(&run);
    assert_eq!(n.len(), 1);
    assert!(
        n[0]["error"]
            .as_str()
            .unwrap()
            .contains("GitHub answered HTTP 502"),
        "{n:?}"
    );
    assert!(
        sent(&server, "POST", ISSUES).is_empty(),
        "nothing opened blind"
    );
}
