//! Secrets in every channel, Slack's own text, Postmark's batch limit and line breaks in
//! names: one test per defect, each against receivers that answer as the real ones do.

use super::*;

const SLACK_PATH: &str = "/services/T0HM/B0HM/slack-hook-SECRET";
const HOOK_PATH: &str = "/hooks/heartbeat-SECRET";
const HOOK_QUERY: &str = "key=hook-key-SECRET";

/// A heartbeat, a probe sending its CF Access token, Slack and a webhook.
const CHANNELS: &str = r#"
[github]
repo = "raxx-app/TradeMasterAPI"
[[heartbeat]]
workflow = "trace-integrity-cron.yml"
[[http_probe]]
name = "console-prod"
url = "PROBE_URL"
cf_access_token_env = "CF_ACCESS_SERVICE_TOKEN_CONSOLE"
[slack]
[webhook]
url_env = "OPS_WEBHOOK_URL"
[run]
request_timeout_seconds = 5
deadline_seconds = 30
"#;

fn text(status: u16, body: &str) -> Reply {
    Reply::Full {
        status,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: body.into(),
    }
}

fn monitor(server: &FakeServer, config: &str) -> Monitor {
    Monitor::new(server)
        .config(&config.replace("PROBE_URL", &format!("{}/health", server.url)))
        .env("SLACK_WEBHOOK_URL", &format!("{}{SLACK_PATH}", server.url))
        .env(
            "OPS_WEBHOOK_URL",
            &format!("{}{HOOK_PATH}?{HOOK_QUERY}", server.url),
        )
        .env("GITHUB_STEP_SUMMARY", "summary.md")
}

/// The bodies POSTed to `path`.
fn posted(server: &FakeServer, path: &str) -> Vec<String> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path() == path)
        .map(|r| r.body)
        .collect()
}

/// Every byte a person or program reads after `run`.
fn everything(run: &Run, server: &FakeServer) -> String {
    let mut all = format!("{}\n{}\n", run.stdout, run.stderr);
    for file in ["heartbeat_result.json", "summary.md"] {
        all.push_str(&std::fs::read_to_string(run.dir.join(file)).unwrap_or_default());
    }
    for r in server.requests() {
        all.push_str(&r.body);
    }
    all
}

// 1
#[test]
fn a_secret_a_server_echoes_reaches_no_channel_in_clear() {
    let server = FakeServer::start(vec![
        Route::get(&runs_path(TRACE)).reply(Reply::json(
            401,
            format!(r#"{{"message":"Bad credentials: {GITHUB_TOKEN}"}}"#),
        )),
        private_repo(),
        Route::get("/health").reply(text(
            500,
            &format!("upstream said: CF-Access-Client-Secret: {ACCESS_SECRET} was wrong"),
        )),
        postmark_ok(),
        Route::post(SLACK_PATH).reply(text(200, "ok")),
        Route::post(HOOK_PATH).reply(text(204, "")),
    ]);
    let run = monitor(&server, CHANNELS).run();
    assert_eq!(run.code, 3, "{}", run.stderr);
    let slack = posted(&server, SLACK_PATH);
    let hook = posted(&server, HOOK_PATH);
    assert!(!slack.is_empty() && !hook.is_empty(), "both channels heard");
    for body in slack.iter().chain(&hook) {
        assert_no_secret("a channel's message", body);
    }
    let all = everything(&run, &server);
    assert_no_secret("an output", &all);
    assert!(
        slack.iter().any(|b| b.contains("[redacted]")),
        "the echo is there, masked: {slack:?}"
    );
    assert!(
        hook.iter().any(|b| b.contains("[redacted]")),
        "the echo is there, masked: {hook:?}"
    );
}

// 8
#[test]
fn slacks_notification_text_pings_nobody() {
    let config = CHANNELS.replace(
        "workflow = \"trace-integrity-cron.yml\"",
        "workflow = \"trace-integrity-cron.yml\"\nname = \"nightly <!channel> <@U0ADMIN>\"",
    );
    let mut routes = trace_routes("2026-05-18T05:00:00Z");
    routes.extend([
        Route::get("/health").reply(Reply::json(200, "{}")),
        postmark_ok(),
        Route::post(SLACK_PATH).reply(text(200, "ok")),
        Route::post(HOOK_PATH).reply(text(204, "")),
    ]);
    let server = FakeServer::start(routes);
    let run = monitor(&server, &config).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    let slack = posted(&server, SLACK_PATH);
    assert_eq!(slack.len(), 1, "{slack:?}");
    let message: Value = serde_json::from_str(&slack[0]).unwrap();
    assert_eq!(
        message["text"],
        "[heartbeat-monitor] cron heartbeat STALE: nightly &lt;!channel&gt; &lt;@U0ADMIN&gt;"
    );
    for mention in ["<!channel>", "<@U0ADMIN>"] {
        assert!(!slack[0].contains(mention), "{mention} in {}", slack[0]);
    }
}

// 10
#[test]
fn five_hundred_and_one_problems_are_mailed_in_batches_of_500() {
    let probes: String = (0..501)
        .map(|i| format!("[[http_probe]]\nname = \"shard-{i:03}\"\nurl = \"PROBE_URL\"\n"))
        .collect();
    let config = format!("{probes}[run]\nrequest_timeout_seconds = 10\ndeadline_seconds = 120\n");
    let accept = match postmark_batch(&[]) {
        Reply::With(f) => f,
        _ => unreachable!("postmark_batch answers from the request"),
    };
    // Postmark takes at most 500 messages per call, and says so for the whole call.
    let batch = Reply::With(std::sync::Arc::new(move |rec: &Recorded| {
        let count = serde_json::from_str::<Vec<Value>>(&rec.body).map_or(0, |m| m.len());
        if count > 500 {
            Reply::json(
                422,
                r#"{"ErrorCode":300,"Message":"Invalid email request: a batch holds at most 500 messages."}"#,
            )
        } else {
            accept(rec)
        }
    }));
    let server = FakeServer::start(vec![
        Route::get("/health").reply(text(503, "down for maintenance")),
        Route::post("/email/batch").reply(batch),
    ]);
    let run = monitor(&server, &config)
        .env("GITHUB_STEP_SUMMARY", "")
        .run();
    assert_eq!(run.code, 2, "every mail went: {}", run.stderr);
    let batches: Vec<usize> = posted(&server, "/email/batch")
        .iter()
        .map(|b| serde_json::from_str::<Vec<Value>>(b).unwrap().len())
        .collect();
    assert_eq!(batches, [500, 1]);
    let r = run.result();
    let notifications = r["notifications"].as_array().unwrap();
    assert_eq!(notifications.len(), 501);
    assert!(
        notifications.iter().all(|n| n["sent"] == true),
        "each mail's own result is recorded"
    );
    assert_eq!(
        notifications[500]["subject"],
        "[heartbeat-monitor] surface DEGRADED: shard-500"
    );
}

// 13
#[test]
fn a_receiver_echoing_its_path_shows_no_token() {
    let mut routes = trace_routes("2026-05-18T05:00:00Z");
    routes.extend([
        Route::get("/health").reply(Reply::json(200, "{}")),
        postmark_ok(),
        Route::post(SLACK_PATH).reply(text(404, &format!("no_service {SLACK_PATH}"))),
        Route::post(HOOK_PATH).reply(text(200, "{}")),
    ]);
    let server = FakeServer::start(routes);
    // Monitor::run fails the test when stdout or stderr holds the hook's token.
    let run = monitor(&server, CHANNELS).run();
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("slack: NOT sent:") && run.stderr.contains("no_service"),
        "{}",
        run.stderr
    );
    let all = everything(&run, &server);
    assert_no_secret("the result, the summary or a message", &all);
    assert!(
        all.contains("no_service [redacted]"),
        "the path is masked, Slack's word kept:\n{all}"
    );
}

// 13, the webhook's path and query
#[test]
fn every_secret_part_of_an_endpoint_url_is_masked() {
    let echo = format!("a 1 in {HOOK_PATH}, b 2 in {HOOK_QUERY}, c 3 in heartbeat-SECRET");
    let mut routes = trace_routes("2026-05-18T05:00:00Z");
    routes.extend([
        // The probe's page echoes the hook's parts: a server can learn them.
        Route::get("/health").reply(text(500, &echo)),
        postmark_ok(),
        Route::post(SLACK_PATH).reply(text(200, "ok")),
        Route::post(HOOK_PATH).reply(text(204, "")),
    ]);
    let server = FakeServer::start(routes);
    let run = monitor(&server, CHANNELS).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    let all = everything(&run, &server);
    assert_no_secret("an output", &all);
    assert!(all.contains("a 1 in [redacted]"), "{all}");
}

// 18
#[test]
fn a_configured_name_holding_a_line_break_is_a_configuration_error() {
    // Nothing may be probed: the route is there to catch it, and the test says so below.
    let server = FakeServer::start(vec![
        Route::get("/health")
            .reply(Reply::json(200, "{}"))
            .optional(),
        postmark_ok(),
    ]);
    for (config, place) in [
        (
            "[[http_probe]]\nname = \"console\\nBcc: everyone@raxx.app\"\nurl = \"PROBE_URL\"\n",
            "line 2:",
        ),
        (
            "subject_prefix = \"[ops]\\r\\nBcc: everyone@raxx.app\"\n[[http_probe]]\nname = \"console\"\nurl = \"PROBE_URL\"\n",
            "line 1:",
        ),
    ] {
        let run = monitor(&server, config).run();
        assert_eq!(run.code, 3, "{config}: {}", run.stderr);
        assert!(
            run.stderr.contains(place) && run.stderr.contains("control character"),
            "{config}: {}",
            run.stderr
        );
    }
    assert!(
        api_requests(&server).iter().all(|r| r.path() != "/health"),
        "nothing was probed"
    );
    for subject in subjects(&server) {
        assert!(
            !subject.contains('\n') && !subject.contains("Bcc"),
            "{subject:?}"
        );
    }
}
