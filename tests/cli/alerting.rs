//! The alerting layer end to end: runs sharing a state file with `--now` moving forward,
//! silences, the dead man's switch, SMTP delivery to a real server, and the token expiry.

use super::support::smtp::SmtpSink;
use super::*;

const TRACE_ONLY: &str = r#"
runbook_url = "https://example.invalid/runbook.md"
[github]
repo = "raxx-app/TradeMasterAPI"
[[heartbeat]]
workflow = "trace-integrity-cron.yml"
"#;

/// GitHub with trace's last success at `success_at` (stale or not, as `now` decides), and
/// Postmark answering `postmark`.
fn world(success_at: &str, postmark: Reply) -> FakeServer {
    let mut routes = trace_routes(success_at);
    // Optional: each test reads what was mailed.
    routes.push(Route::post("/email/batch").reply(postmark).optional());
    FakeServer::start(routes)
}

fn step(
    state: &std::path::Path,
    now: &str,
    success_at: &str,
    postmark: Reply,
    extra: &[&str],
) -> (FakeServer, Run) {
    let server = world(success_at, postmark);
    let run = Monitor::new(&server)
        .now(now)
        .config(TRACE_ONLY)
        .args(&["--state-file", state.to_str().unwrap()])
        .args(extra)
        .run();
    (server, run)
}

const STALE_SINCE: &str = "2026-05-18T05:00:00Z";

#[test]
fn stale_then_quiet_then_reminded_then_resolved() {
    let state = scratch("seq").join("state.json");
    let (server, run) = step(
        &state,
        "2026-05-23T06:30:00Z",
        STALE_SINCE,
        postmark_batch(&[]),
        &[],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no state file at"), "{}", run.stderr);
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] cron heartbeat STALE: trace-integrity-cron"]
    );
    let body = mails(&server)[0]["TextBody"].as_str().unwrap().to_string();
    assert!(
        body.contains("Runbook:     https://example.invalid/runbook.md#cron-heartbeat-stale"),
        "{body}"
    );

    let (server, run) = step(
        &state,
        "2026-05-23T07:30:00Z",
        STALE_SINCE,
        postmark_batch(&[]),
        &[],
    );
    assert_eq!(run.code, 2, "still critical, so still red");
    assert_eq!(server.hits("/email/batch"), 0, "an hour later: no mail");

    let (server, _) = step(
        &state,
        "2026-05-24T07:30:00Z",
        STALE_SINCE,
        postmark_batch(&[]),
        &[],
    );
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] cron heartbeat STALE: trace-integrity-cron"],
        "25 h later: a reminder"
    );

    let (server, run) = step(
        &state,
        "2026-05-24T08:30:00Z",
        "2026-05-24T08:00:00Z",
        postmark_batch(&[]),
        &[],
    );
    assert_eq!(run.code, 0);
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] RESOLVED: cron heartbeat STALE: trace-integrity-cron"]
    );
    let body = mails(&server)[0]["TextBody"].as_str().unwrap().to_string();
    assert!(
        body.contains("It lasted 6 days (since 2026-05-18T05:00:00Z)."),
        "{body}"
    );

    let (server, _) = step(
        &state,
        "2026-05-24T09:30:00Z",
        "2026-05-24T08:00:00Z",
        postmark_batch(&[]),
        &[],
    );
    assert_eq!(server.hits("/email/batch"), 0, "RESOLVED is said once");
}

#[test]
fn a_failed_delivery_is_tried_again_next_run() {
    let state = scratch("retry").join("state.json");
    let (server, run) = step(
        &state,
        "2026-05-23T06:30:00Z",
        STALE_SINCE,
        Reply::json(500, r#"{"ErrorCode":100,"Message":"Maintenance"}"#),
        &[],
    );
    assert_eq!(run.code, 3);
    assert_eq!(server.hits("/email/batch"), 1);
    let (server, run) = step(
        &state,
        "2026-05-23T07:30:00Z",
        STALE_SINCE,
        postmark_batch(&[]),
        &[],
    );
    assert_eq!(run.code, 2);
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] cron heartbeat STALE: trace-integrity-cron"]
    );
    let (server, _) = step(
        &state,
        "2026-05-23T08:30:00Z",
        STALE_SINCE,
        postmark_batch(&[]),
        &[],
    );
    assert_eq!(server.hits("/email/batch"), 0, "delivered now, so quiet");
}

#[test]
fn a_dry_run_leaves_the_state_file_as_it_was() {
    let state = scratch("dry").join("state.json");
    step(
        &state,
        "2026-05-23T06:30:00Z",
        STALE_SINCE,
        postmark_batch(&[]),
        &[],
    );
    let before = std::fs::read(&state).unwrap();
    let (server, run) = step(
        &state,
        "2026-05-24T07:30:00Z",
        STALE_SINCE,
        postmark_batch(&[]),
        &["--dry-run"],
    );
    assert_eq!(run.code, 2);
    assert_eq!(server.hits("/email/batch"), 0);
    assert_eq!(
        run.result()["notifications"][0]["dry_run"],
        true,
        "the reminder it would send"
    );
    assert_eq!(std::fs::read(&state).unwrap(), before);
}

#[test]
fn an_unreadable_state_file_is_a_first_run() {
    let state = scratch("bad").join("state.json");
    std::fs::write(&state, "{\"version\": 1, \"checks\": [oops").unwrap();
    let (server, run) = step(
        &state,
        "2026-05-23T06:30:00Z",
        STALE_SINCE,
        postmark_batch(&[]),
        &[],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is not valid"), "{}", run.stderr);
    assert_eq!(server.hits("/email/batch"), 1);
    let saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(saved["version"], 1);
    assert_eq!(saved["checks"][id(TRACE)]["status"], "critical");
}

#[test]
fn an_active_silence_keeps_the_status_but_mails_nothing_and_exits_0() {
    let server = world(STALE_SINCE, postmark_batch(&[]));
    let cfg = format!(
        "{TRACE_ONLY}\n[[silence]]\nmatch = \"{}\"\nuntil = 2026-06-01T00:00:00Z\nreason = \"trace cron moved to the new runner, INC-88\"\n",
        id(TRACE)
    );
    let run = Monitor::new(&server).config(&cfg).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let c = run.check(&id(TRACE));
    assert_eq!(c["status"], "critical");
    assert_eq!(c["silenced"], true);
    assert_eq!(
        c["silence_reason"],
        "trace cron moved to the new runner, INC-88 (until 2026-06-01T00:00:00Z)"
    );
    assert_eq!(server.hits("/email/batch"), 0);
}

#[test]
fn an_expired_silence_is_a_warning_in_the_output() {
    let server = world(STALE_SINCE, postmark_batch(&[]));
    let cfg = format!(
        "{TRACE_ONLY}\n[[silence]]\nmatch = \"trace-integrity-cron.yml\"\nuntil = \"2026-05-01T00:00:00Z\"\nreason = \"INC-80\"\n"
    );
    let run = Monitor::new(&server).config(&cfg).run();
    assert_eq!(run.code, 2);
    let warning = "the silence on `trace-integrity-cron.yml` (INC-80) expired at 2026-05-01T00:00:00Z: remove it from the configuration";
    assert!(run.stderr.contains(warning), "{}", run.stderr);
    assert_eq!(run.result()["warnings"][0], warning);
    assert_eq!(server.hits("/email/batch"), 1);
}

#[test]
fn the_dead_mans_switch_hears_start_and_the_exit_code() {
    let server = world(STALE_SINCE, postmark_batch(&[]));
    let ping = FakeServer::start(vec![
        Route::get("/ping/5f2d9c11/start").reply(Reply::json(200, "OK")),
        Route::get("/ping/5f2d9c11/2").reply(Reply::json(200, "OK")),
    ]);
    let run = Monitor::new(&server)
        .config(TRACE_ONLY)
        .env(
            "HEARTBEAT_MONITOR_PING_URL",
            &format!("{}/ping/5f2d9c11", ping.url),
        )
        .run();
    assert_eq!(run.code, 2);
    let paths: Vec<String> = ping
        .requests()
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    assert_eq!(paths, ["/ping/5f2d9c11/start", "/ping/5f2d9c11/2"]);

    let closed = format!("127.0.0.1:{}", super::support::raw::closed_port());
    let run = Monitor::new(&server)
        .config(TRACE_ONLY)
        .env(
            "HEARTBEAT_MONITOR_PING_URL",
            &format!("http://{closed}/ping/x"),
        )
        .run();
    assert_eq!(run.code, 2, "a failed ping changes nothing");
    assert!(
        run.stderr.contains("dead man's switch ping /start failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn smtp_delivers_to_a_real_server() {
    let dir = scratch("smtp");
    let sink = SmtpSink::start(&dir);
    let server = world(STALE_SINCE, postmark_batch(&[]));
    let cfg = format!("{TRACE_ONLY}\n[mail]\ntransport = \"smtp\"\n");
    let run = Monitor::new(&server)
        .env("POSTMARK_SERVER_TOKEN", "")
        .env("OPS_ALERT_EMAIL", "ops@raxx.app, sre@raxx.app")
        .env("SMTP_URL", &sink.url)
        .config(&cfg)
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(server.hits("/email/batch"), 0);
    let n = &run.result()["notifications"][0];
    assert_eq!(
        (n["channel"].as_str(), n["sent"].as_bool()),
        (Some("smtp"), Some(true))
    );
    assert!(n["id"].as_str().unwrap().starts_with("250"), "{n}");
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    // The body is quoted-printable: undo its soft line breaks before reading it.
    let m = &messages[0].replace("=\n", "");
    assert!(
        m.contains("Subject: [heartbeat-monitor] cron heartbeat STALE: trace-integrity-cron"),
        "{m}"
    );
    assert!(m.contains("To: ops@raxx.app, sre@raxx.app"), "{m}");
    assert!(
        m.contains("X-RcptTo: ops@raxx.app, sre@raxx.app"),
        "both were recipients: {m}"
    );
    assert!(m.contains("From: heartbeat-monitor@raxx.app"), "{m}");
    assert!(m.contains("no successful run for 121.5 h (SLA 48 h"), "{m}");
    assert_no_secret("smtp message", m);
}

#[test]
fn smtp_that_refuses_the_connection_is_a_delivery_error() {
    let server = world(STALE_SINCE, postmark_batch(&[]));
    let closed = format!("127.0.0.1:{}", super::support::raw::closed_port());
    let cfg = format!("{TRACE_ONLY}\n[mail]\ntransport = \"smtp\"\n");
    let run = Monitor::new(&server)
        .env("SMTP_URL", &format!("smtp://{closed}"))
        .config(&cfg)
        .run();
    assert_eq!(run.code, 3);
    let n = &run.result()["notifications"][0];
    assert_eq!(n["sent"], false);
    assert!(n["error"].as_str().unwrap().starts_with("SMTP: "), "{n}");
}

#[test]
fn an_smtp_server_that_never_answers_fails_every_mail_after_one_wait() {
    let server = world(STALE_SINCE, postmark_batch(&[]));
    let silent = super::support::raw::RawServer::silent();
    let closed = super::support::raw::closed_port();
    // Two alerts (the stale cron and a dead probe), so two mails to send.
    let cfg = format!(
        "{TRACE_ONLY}\n[[http_probe]]\nname = \"console-prod\"\nurl = \"http://127.0.0.1:{closed}/health\"\n\n[mail]\ntransport = \"smtp\"\n\n[run]\nrequest_timeout_seconds = 1\n"
    );
    let run = Monitor::new(&server)
        .env("SMTP_URL", &format!("smtp://{}", silent.addr))
        .config(&cfg)
        .run();
    assert_eq!(run.code, 3);
    let notes = run.result()["notifications"].as_array().unwrap().clone();
    assert_eq!(notes.len(), 2, "{notes:#?}");
    for n in &notes {
        assert_eq!(n["sent"], false);
        assert_eq!(
            n["error"], "SMTP: no answer from the server within 1 s",
            "{n}"
        );
    }
    assert_eq!(
        silent.connections(),
        1,
        "the second mail must not wait on the same dead server"
    );
}

#[test]
fn a_token_expiring_within_a_week_warns_with_the_date() {
    let server = FakeServer::start(vec![
        Route::get(&runs_path(TRACE)).query("status=success").reply(
            Reply::json(200, fixture("github/runs-success-fresh.json")).header(
                "github-authentication-token-expiration",
                "2026-05-28 12:00:00 UTC",
            ),
        ),
        private_repo(),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server).config(TRACE_ONLY).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.check("github_token:expiry")["message"],
        "the GitHub token expires on 2026-05-28 12:00 UTC (in 5 days): renew it before then"
    );
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] GitHub TOKEN EXPIRES: 2026-05-28 12:00 UTC"]
    );
}

#[test]
fn every_mail_subject_has_its_runbook_section() {
    let runbook = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/runbook.md"),
    )
    .unwrap();
    for heading in [
        "cron heartbeat STALE",
        "cron heartbeat AT RISK",
        "cron heartbeat MONITOR FAILED",
        "heroku NO SLUG",
        "heroku RELEASE FAILED",
        "heroku DYNOS DOWN",
        "surface DEGRADED",
        "promotion STUCK",
        "GitHub TOKEN EXPIRES",
        "RESOLVED",
    ] {
        assert!(
            runbook.contains(&format!("\n## {heading}\n")),
            "docs/runbook.md has no section {heading:?}"
        );
    }
}

#[test]
fn a_state_file_that_cannot_be_written_is_a_monitor_error() {
    let dir = scratch("unwritable");
    let blocker = dir.join("not-a-dir");
    std::fs::write(&blocker, "a file where a directory should be").unwrap();
    let state = blocker.join("state.json");
    let (server, run) = step(
        &state,
        "2026-05-23T06:30:00Z",
        STALE_SINCE,
        postmark_batch(&[]),
        &[],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(server.hits("/email/batch"), 1, "the alert still went out");
    let r = run.result();
    assert!(
        r["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("could not write the state file"),
        "{r:#}"
    );
    assert!(
        run.stderr.contains("error: could not write the state file"),
        "{}",
        run.stderr
    );
}
