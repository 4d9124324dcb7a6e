//! The channels beside mail, end to end: a Slack incoming webhook and a generic JSON webhook
//! played on 127.0.0.1, told the same events as the mail, each failure recorded and never
//! stopping another channel.

use super::*;

const SLACK_PATH: &str = "/services/T0HM/B0HM/slack-hook-SECRET";
const HOOK_PATH: &str = "/hooks/heartbeat-SECRET";

/// One heartbeat, Slack with its default variable, a webhook with another.
const CONFIG: &str = r#"
runbook_url = "https://example.invalid/runbook.md"
[github]
repo = "raxx-app/TradeMasterAPI"
[[heartbeat]]
workflow = "trace-integrity-cron.yml"
[slack]
[webhook]
url_env = "OPS_WEBHOOK_URL"
"#;

/// GitHub with trace's last success at `success_at`; Postmark; Slack answering `slack`; the
/// webhook answering `hook`.
pub(super) fn world(success_at: &str, slack: Reply, hook: Reply) -> FakeServer {
    FakeServer::start(world_routes(success_at, slack, hook))
}

/// The routes of [`world`]: the channels' endpoints are optional, as each test reads what
/// was posted to them.
fn world_routes(success_at: &str, slack: Reply, hook: Reply) -> Vec<Route> {
    let mut routes = trace_routes(success_at);
    routes.extend([
        postmark_ok(),
        Route::post(SLACK_PATH).reply(slack).optional(),
        Route::post(HOOK_PATH).reply(hook).optional(),
    ]);
    routes
}

pub(super) fn slack_ok() -> Reply {
    text(200, "ok")
}

pub(super) fn text(status: u16, body: &str) -> Reply {
    Reply::Full {
        status,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: body.into(),
    }
}

pub(super) fn monitor(server: &FakeServer) -> Monitor {
    Monitor::new(server)
        .config(CONFIG)
        .env("SLACK_WEBHOOK_URL", &format!("{}{SLACK_PATH}", server.url))
        .env("OPS_WEBHOOK_URL", &format!("{}{HOOK_PATH}", server.url))
}

/// The JSON bodies POSTed to `path`.
pub(super) fn posted(server: &FakeServer, path: &str) -> Vec<Value> {
    server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path() == path)
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect()
}

fn by_channel(run: &Run, channel: &str) -> Vec<Value> {
    run.result()["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["channel"] == channel)
        .cloned()
        .collect()
}

#[test]
fn a_problem_reaches_mail_slack_and_the_webhook_alike() {
    let server = world(STALE, slack_ok(), text(204, ""));
    let run = monitor(&server).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    let subject = "[heartbeat-monitor] cron heartbeat STALE: trace-integrity-cron";
    assert_eq!(subjects(&server), [subject]);

    let slack = posted(&server, SLACK_PATH);
    assert_eq!(slack.len(), 1);
    assert_eq!(slack[0]["text"], subject);
    assert_eq!(
        slack[0]["blocks"][0]["text"]["text"],
        "🔴 CRITICAL cron_heartbeat trace-integrity-cron.yml"
    );
    let said = slack[0]["blocks"][1]["text"]["text"].as_str().unwrap();
    assert!(said.starts_with("no successful run for 121.5 h"), "{said}");
    let links = slack[0]["blocks"][2]["elements"][0]["text"]
        .as_str()
        .unwrap();
    assert!(
        links.contains("<https://example.invalid/runbook.md#cron-heartbeat-stale|Runbook>"),
        "{links}"
    );

    let hook = posted(&server, HOOK_PATH);
    assert_eq!(hook.len(), 1);
    assert_eq!(hook[0]["event"], "problem");
    assert_eq!(
        hook[0]["check"],
        run.check(&id(TRACE)),
        "the result's own check object"
    );
    assert_eq!(hook[0]["run"]["subject"], subject);

    for channel in ["postmark", "slack", "webhook"] {
        let n = by_channel(&run, channel);
        assert_eq!(n.len(), 1, "{channel}: {n:?}");
        assert_eq!(n[0]["sent"], true, "{channel}: {n:?}");
    }
    assert!(
        run.stdout.contains(&format!("slack: sent: {subject}")),
        "{}",
        run.stdout
    );
    assert!(
        !run.result().to_string().contains("SECRET"),
        "no webhook URL is stored"
    );
}

#[test]
fn a_slack_refusal_is_recorded_and_the_mail_still_goes() {
    let server = world(STALE, text(400, "invalid_payload"), text(200, "{}"));
    let run = monitor(&server).run();
    assert_eq!(
        run.code, 3,
        "a channel that fails while something is wrong is exit 3"
    );
    assert_eq!(subjects(&server).len(), 1, "the mail went");
    assert_eq!(posted(&server, HOOK_PATH).len(), 1, "the webhook went");
    let slack = by_channel(&run, "slack");
    assert_eq!(slack[0]["sent"], false);
    assert_eq!(
        slack[0]["error"],
        "Slack refused the message (HTTP 400: invalid_payload)"
    );
    assert!(
        run.stderr.contains("slack: NOT sent:") && run.stderr.contains("invalid_payload"),
        "{}",
        run.stderr
    );
    assert!(
        run.result()["errors"].as_array().unwrap().iter().any(|e| e
            .as_str()
            .unwrap()
            .starts_with("slack \"[heartbeat-monitor] cron")),
        "{}",
        run.result()
    );
}

#[test]
fn a_webhook_that_cannot_be_reached_stops_no_other_channel() {
    let server = world(STALE, slack_ok(), slack_ok());
    let closed = format!(
        "http://127.0.0.1:{}/hook",
        super::support::raw::closed_port()
    );
    let run = monitor(&server).env("OPS_WEBHOOK_URL", &closed).run();
    assert_eq!(run.code, 3);
    assert_eq!(subjects(&server).len(), 1);
    assert_eq!(posted(&server, SLACK_PATH).len(), 1);
    let hook = by_channel(&run, "webhook");
    assert!(
        hook[0]["error"]
            .as_str()
            .unwrap()
            .contains("could not connect to 127.0.0.1"),
        "{hook:?}"
    );
}

#[test]
fn a_dry_run_prints_what_each_channel_would_send_and_sends_nothing() {
    let server = world(STALE, slack_ok(), slack_ok());
    let run = monitor(&server)
        .env("SLACK_WEBHOOK_URL", "")
        .env("OPS_WEBHOOK_URL", "")
        .args(&["--dry-run"])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(posted(&server, SLACK_PATH).is_empty() && posted(&server, HOOK_PATH).is_empty());
    assert!(
        run.stdout
            .contains("dry run: slack would post 1 message(s) to the webhook in SLACK_WEBHOOK_URL"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("🔴 CRITICAL cron_heartbeat trace-integrity-cron.yml")
    );
    assert!(
        run.stdout
            .contains("dry run: webhook would POST 1 event(s) to the URL in OPS_WEBHOOK_URL"),
        "{}",
        run.stdout
    );
    for channel in ["slack", "webhook"] {
        let n = by_channel(&run, channel);
        assert_eq!(
            (n[0]["dry_run"].clone(), n[0]["sent"].clone()),
            (true.into(), false.into())
        );
    }
}

#[test]
fn a_missing_channel_secret_is_reported_before_any_check() {
    // No check runs: GitHub's routes stay unasked, as the test says below.
    let server = FakeServer::start(spares(world_routes(STALE, slack_ok(), slack_ok())));
    let run = monitor(&server).env("SLACK_WEBHOOK_URL", "").run();
    assert_eq!(run.code, 3);
    assert!(
        run.stderr
            .contains("SLACK_WEBHOOK_URL is not set: [slack] posts to that webhook"),
        "{}",
        run.stderr
    );
    let asked: Vec<String> = api_requests(&server)
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    assert_eq!(
        asked,
        [HOOK_PATH],
        "no check ran; the webhook heard MONITOR FAILED"
    );
    let hook = posted(&server, HOOK_PATH);
    assert_eq!(hook[0]["event"], "monitor_failed");
    assert_eq!(hook[0]["check"], Value::Null);
    let slack = by_channel(&run, "slack");
    assert_eq!(slack[0]["error"], "SLACK_WEBHOOK_URL is not set");
}

#[test]
fn with_a_state_file_channels_hear_once_then_the_recovery() {
    let state = scratch("channels-state").join("state.json");
    let state_arg = state.to_str().unwrap();
    let step = |now: &str, success_at: &str| {
        let server = world(success_at, slack_ok(), slack_ok());
        let run = monitor(&server)
            .now(now)
            .args(&["--state-file", state_arg])
            .run();
        (server, run)
    };
    let (server, _) = step("2026-05-23T06:30:00Z", STALE);
    assert_eq!(posted(&server, HOOK_PATH).len(), 1);

    let (server, run) = step("2026-05-23T07:30:00Z", STALE);
    assert_eq!(run.code, 2);
    assert!(
        posted(&server, SLACK_PATH).is_empty(),
        "no duplicate an hour later"
    );
    assert!(posted(&server, HOOK_PATH).is_empty());

    let (server, run) = step("2026-05-24T08:30:00Z", "2026-05-24T08:00:00Z");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let hook = posted(&server, HOOK_PATH);
    assert_eq!(hook.len(), 1);
    assert_eq!(hook[0]["event"], "resolved");
    assert_eq!(hook[0]["check"]["status"], "ok");
    let slack = posted(&server, SLACK_PATH);
    assert_eq!(
        slack[0]["blocks"][0]["text"]["text"],
        "✅ RESOLVED cron_heartbeat trace-integrity-cron.yml"
    );
    let said = slack[0]["blocks"][1]["text"]["text"].as_str().unwrap();
    assert!(said.contains("It lasted 6 days"), "{said}");
}

pub(super) const STALE: &str = "2026-05-18T05:00:00Z";
