//! `environment_protection` end to end: the 2026-04-30 state (no `production` environment),
//! one without a required reviewer, one that gates, and a token that may not read it.

use super::*;

const ENVIRONMENT: &str = r#"
[github]
repo = "raxx-app/TradeMasterAPI"
[[environment]]
name = "production"
"#;

fn path() -> String {
    format!("/repos/{REPO}/environments/production")
}

fn world(reply: Reply) -> FakeServer {
    FakeServer::start(vec![Route::get(&path()).reply(reply), postmark_ok()])
}

const ID: &str = "environment_protection:raxx-app/TradeMasterAPI:production";

#[test]
fn a_production_environment_that_does_not_exist_is_critical_and_mailed() {
    let server = world(Reply::json(404, fixture("github/error-404.json")));
    let run = Monitor::new(&server).config(ENVIRONMENT).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.message(ID),
        "environment production does not exist in raxx-app/TradeMasterAPI: a workflow's `environment: production` deploys with no approval gate"
    );
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] environment UNPROTECTED: raxx-app/TradeMasterAPI/production"]
    );
    let body = mails(&server)[0]["TextBody"].as_str().unwrap().to_string();
    assert!(
        body.contains("https://github.com/raxx-app/TradeMasterAPI/settings/environments/new"),
        "{body}"
    );
    assert_eq!(api_requests(&server).len(), 1, "one request");
    let r = &api_requests(&server)[0];
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {GITHUB_TOKEN}").as_str())
    );
}

#[test]
fn an_environment_without_a_required_reviewer_is_critical_one_with_is_ok() {
    let server = world(Reply::json(
        200,
        fixture("github/environment-unprotected.json"),
    ));
    let run = Monitor::new(&server).config(ENVIRONMENT).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.message(ID)
            .contains("has no required_reviewers rule (only wait_timer, branch_policy)"),
        "{}",
        run.message(ID)
    );

    let server = world(Reply::json(
        200,
        fixture("github/environment-protected.json"),
    ));
    let run = Monitor::new(&server).config(ENVIRONMENT).run();
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.message(ID),
        "environment production exists with protection rules: wait_timer, required_reviewers, branch_policy"
    );
    assert_eq!(run.check(ID)["details"]["reviewers"], 2);
}

#[test]
fn a_token_that_may_not_read_environments_is_unknown_and_says_which_permission() {
    let server = world(Reply::json(
        403,
        r#"{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest"}"#,
    ));
    let run = Monitor::new(&server).config(ENVIRONMENT).run();
    assert_eq!(run.code, 3, "{}", run.stderr);
    let m = run.message(ID);
    assert!(m.contains("Resource not accessible by integration"), "{m}");
    assert!(m.contains("actions: read"), "{m}");
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] cron heartbeat MONITOR FAILED"]
    );
}
