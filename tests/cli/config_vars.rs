//! `heroku_config` end to end: names only, never values, in every output.

use super::*;

const CONSOLE: &str = r#"
[[heroku_app]]
name = "raxx-console-prod"
min_web_dynos = 0
check_slug = false
required_config = ["CF_ACCESS_SERVICE_TOKEN_CONSOLE", "CLOUDFLARE_PAGES_READ_TOKEN", "CLOUDFLARE_ACCOUNT_ID"]
required_flags = ["FLAG_TRACE_INTEGRITY_CHECK"]
"#;

const ID: &str = "heroku_config:raxx-console-prod";

fn world(fixture_name: &str) -> FakeServer {
    FakeServer::start(vec![
        Route::get("/apps/raxx-console-prod/config-vars")
            .reply(Reply::json(200, fixture(fixture_name))),
        postmark_ok(),
    ])
}

#[test]
fn a_missing_var_and_a_flag_off_are_named_and_no_value_appears_anywhere() {
    let server = world("heroku/config-vars-console-missing.json");
    let run = Monitor::new(&server)
        .config(CONSOLE)
        .env("GITHUB_STEP_SUMMARY", "summary.md")
        .env("GITHUB_ACTIONS", "true")
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.message(ID),
        "raxx-console-prod lacks config var CLOUDFLARE_ACCOUNT_ID and has flag FLAG_TRACE_INTEGRITY_CHECK off (not 1, true, yes or on)"
    );
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] heroku CONFIG MISSING: raxx-console-prod"]
    );
    // Monitor::run, Run::result and mails() fail on any "SECRET"; every value of the
    // fixture carries one, and the step summary is read here.
    let summary = std::fs::read_to_string(run.dir.join("summary.md")).unwrap();
    assert_no_secret("step summary", &summary);
    let body = mails(&server)[0]["TextBody"].as_str().unwrap().to_string();
    assert!(
        body.contains("heroku config:set CLOUDFLARE_ACCOUNT_ID=... --app raxx-console-prod"),
        "{body}"
    );
    let requests = api_requests(&server);
    assert_eq!(requests.len(), 1, "one request");
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {HEROKU_KEY}").as_str())
    );
}

#[test]
fn every_var_set_and_every_flag_on_is_ok() {
    let server = world("heroku/config-vars-console-complete.json");
    let run = Monitor::new(&server).config(CONSOLE).run();
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.message(ID),
        "raxx-console-prod has all 4 required config vars and flags"
    );
}

#[test]
fn a_value_echoed_by_a_later_error_is_masked() {
    // The config-vars answer, then an error page that quotes one of its values.
    let server = FakeServer::start(vec![
        Route::get("/apps/raxx-console-prod/config-vars").reply(Reply::json(
            200,
            fixture("heroku/config-vars-console-complete.json"),
        )),
        Route::get("/health").reply(Reply::html(
            500,
            "<html><title>oops</title>token cf-access-9f8e7d-SECRET was refused</html>",
        )),
        postmark_ok(),
    ]);
    let config = format!(
        "{CONSOLE}\n[[http_probe]]\nname = \"console-prod\"\nurl = \"{}/health\"\n",
        server.url
    );
    let complete = fixture("heroku/config-vars-console-complete.json");
    let value: serde_json::Value = serde_json::from_str(&complete).unwrap();
    let token = value["CF_ACCESS_SERVICE_TOKEN_CONSOLE"].as_str().unwrap();
    assert!(token.contains("cf-access-9f8e7d"));
    let run = Monitor::new(&server).config(&config).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    // Monitor::run fails on "SECRET" in stdout: the half of the value after its colon,
    // learned from the config vars, is masked where the probe's page quotes it.
    // The table may wrap the message: read it as words.
    let words = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("token [redacted] was"), "{}", run.stdout);
}
