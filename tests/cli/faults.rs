//! Every way GitHub and Postmark can fail becomes an `unknown` (or a delivery error) with a
//! message a tired person understands, while the other checks still run and the result file
//! is still written.

use super::*;

/// Runs with `trace`'s success list answering `replies` in turn; billing stays healthy.
fn trace_answers(replies: Vec<Reply>) -> (FakeServer, Run) {
    let mut route = Route::get(&runs_path(TRACE)).query("status=success");
    for r in replies {
        route = route.reply(r);
    }
    let server = FakeServer::start(vec![
        success(BILLING, "github/runs-success-fresh.json"),
        route,
        private_repo(),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server).config(CONFIG).run();
    (server, run)
}

fn assert_trace_unknown(run: &Run, server: &FakeServer, says: &str) -> String {
    assert_eq!(
        run.code, 3,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let r = run.result();
    assert_eq!(r["status"], "unknown");
    assert_eq!(
        run.check(&id(BILLING))["status"],
        "ok",
        "the other checks still run"
    );
    let msg = run.message(&id(TRACE));
    assert!(msg.contains(says), "message {msg:?} should say {says:?}");
    assert_eq!(
        subjects(server),
        ["[heartbeat-monitor] cron heartbeat MONITOR FAILED"]
    );
    let body = mails(server)[0]["TextBody"].as_str().unwrap().to_string();
    assert!(body.contains(&id(TRACE)), "{body}");
    msg
}

#[test]
fn bad_token_401() {
    let (server, run) = trace_answers(vec![Reply::json(401, fixture("github/error-401.json"))]);
    let msg = assert_trace_unknown(
        &run,
        &server,
        "GitHub rejected the credential (HTTP 401: Bad credentials): check GITHUB_TOKEN",
    );
    assert_eq!(
        server.hits(&runs_path(TRACE)),
        1,
        "a 401 is not retried: {msg}"
    );
    let body = mails(&server)[0]["TextBody"].as_str().unwrap().to_string();
    assert!(body.contains("- a credential was refused (401)"), "{body}");
    assert!(!body.contains("could not be reached"), "{body}");
}

/// The primary rate limit's answer, its budget back `after` from this machine's clock (GitHub
/// counts the reset in epoch seconds of the real time, whatever `--now` says).
fn exhausted(after: i64) -> (Reply, String) {
    let reset = chrono::Utc::now().timestamp() + after;
    let at = chrono::DateTime::from_timestamp(reset, 0).unwrap();
    let reply = Reply::json(403, fixture("github/error-403-rate-limit.json"))
        .header("x-ratelimit-limit", "1000")
        .header("x-ratelimit-remaining", "0")
        .header("x-ratelimit-used", "1000")
        .header("x-ratelimit-reset", &reset.to_string())
        .header("x-ratelimit-resource", "core");
    (reply, at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

#[test]
fn primary_rate_limit_403_says_when_it_resets_and_is_not_retried() {
    let (reply, at) = exhausted(1800);
    let (server, run) = trace_answers(vec![reply]);
    assert_trace_unknown(
        &run,
        &server,
        &format!("GitHub rate limit exhausted (HTTP 403), resets at {at}"),
    );
    assert_eq!(server.hits(&runs_path(TRACE)), 1);
}

#[test]
fn a_primary_rate_limit_that_resets_within_seconds_is_waited_out() {
    let (reply, _) = exhausted(1);
    let (server, run) = trace_answers(vec![
        reply,
        Reply::json(200, fixture("github/runs-success-fresh.json")),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(server.hits(&runs_path(TRACE)), 2);
    assert_eq!(run.check(&id(TRACE))["status"], "ok");
}

#[test]
fn secondary_rate_limit_403_with_retry_after_is_retried() {
    let limited = Reply::json(403, fixture("github/error-403-secondary.json"))
        .header("retry-after", "1")
        .header("x-ratelimit-remaining", "700");
    let (server, run) = trace_answers(vec![
        limited,
        Reply::json(200, fixture("github/runs-success-fresh.json")),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(server.hits(&runs_path(TRACE)), 2);
    assert!(run.elapsed >= Duration::from_secs(1));
}

#[test]
fn one_502_html_then_success_is_retried_and_ok() {
    let (server, run) = trace_answers(vec![
        Reply::html(502, fixture("github/unicorn-502.html")),
        Reply::json(200, fixture("github/runs-success-fresh.json")),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(server.hits(&runs_path(TRACE)), 2);
    assert_eq!(run.check(&id(TRACE))["status"], "ok");
    assert!(mails(&server).is_empty());
}

#[test]
fn a_502_that_persists_is_unknown_after_three_attempts() {
    let (server, run) = trace_answers(vec![Reply::html(502, fixture("github/unicorn-502.html"))]);
    assert_trace_unknown(
        &run,
        &server,
        "GitHub answered HTTP 502 after 3 attempts (text/html): <!DOCTYPE html>",
    );
    assert_eq!(server.hits(&runs_path(TRACE)), 3);
}

#[test]
fn a_429_with_retry_after_1_then_success() {
    let throttled = Reply::json(
        429,
        r#"{"message":"You have exceeded a secondary rate limit."}"#,
    )
    .header("retry-after", "1");
    let (server, run) = trace_answers(vec![
        throttled,
        Reply::json(200, fixture("github/runs-success-fresh.json")),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(server.hits(&runs_path(TRACE)), 2);
    assert!(
        run.elapsed >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
}

#[test]
fn html_with_status_200_is_not_json() {
    let (server, run) = trace_answers(vec![Reply::html(
        200,
        "<html><body>Sign in to GitHub</body></html>",
    )]);
    assert_trace_unknown(&run, &server, "HTML instead of JSON");
}

#[test]
fn malformed_json() {
    let (server, run) = trace_answers(vec![Reply::json(
        200,
        r#"{"total_count": 1, "workflow_runs": [{"id": 12,,}]}"#,
    )]);
    assert_trace_unknown(&run, &server, "malformed JSON");
}

#[test]
fn json_of_the_wrong_shape() {
    let (server, run) = trace_answers(vec![Reply::json(200, r#"{"total_count": 1, "runs": []}"#)]);
    assert_trace_unknown(&run, &server, "JSON of an unexpected shape");
}

#[test]
fn truncated_body() {
    let body = fixture("github/runs-success-fresh.json");
    let cut = body[..body.len() / 2].to_string();
    let (server, run) = trace_answers(vec![Reply::Truncated {
        declared: body.len(),
        body: cut,
    }]);
    assert_trace_unknown(&run, &server, "cut off after");
}

#[test]
fn a_response_slower_than_the_timeout_is_unknown_within_bounded_time() {
    let slow = Reply::Slow(
        Duration::from_secs(30),
        Box::new(Reply::json(200, fixture("github/runs-success-fresh.json"))),
    );
    let server = FakeServer::start(vec![
        success(BILLING, "github/runs-success-fresh.json"),
        Route::get(&runs_path(TRACE))
            .query("status=success")
            .reply(slow),
        private_repo(),
        postmark_ok(),
    ]);
    let cfg = CONFIG.replace(
        "request_timeout_seconds = 10",
        "request_timeout_seconds = 2",
    );
    let run = Monitor::new(&server).config(&cfg).run();
    assert_trace_unknown(&run, &server, "no answer from 127.0.0.1");
    // 3 attempts of 2 s plus backoff, well inside the 60 s deadline and far from 30 s.
    assert!(
        run.elapsed < Duration::from_secs(15),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn the_run_deadline_turns_hanging_checks_unknown_and_still_mails() {
    let server = FakeServer::start(vec![
        success(BILLING, "github/runs-success-fresh.json"),
        Route::get(&runs_path(TRACE)).reply(Reply::Slow(
            Duration::from_secs(60),
            Box::new(Reply::json(200, "{}")),
        )),
        private_repo(),
        postmark_ok(),
    ]);
    let cfg = CONFIG
        .replace(
            "request_timeout_seconds = 10",
            "request_timeout_seconds = 50",
        )
        .replace("deadline_seconds = 60", "deadline_seconds = 5");
    let run = Monitor::new(&server).config(&cfg).run();
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.elapsed < Duration::from_secs(30),
        "took {:?}",
        run.elapsed
    );
    let msg = run.message(&id(TRACE));
    assert!(msg.contains("deadline"), "{msg}");
    assert_eq!(run.check(&id(BILLING))["status"], "ok");
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] cron heartbeat MONITOR FAILED"]
    );
}

#[test]
fn connection_refused() {
    let postmark = FakeServer::start(vec![postmark_ok()]);
    let closed = format!("http://127.0.0.1:{}", super::support::raw::closed_port());
    let run = Monitor::new(&postmark)
        .env("GITHUB_API_URL", &closed)
        .config(CONFIG)
        .run();
    assert_eq!(run.code, 3, "{}", run.stderr);
    let r = run.result();
    assert_eq!(r["counts"]["unknown"], 3);
    let msg = run.message(&id(TRACE));
    assert!(msg.contains("could not connect to 127.0.0.1"), "{msg}");
    assert_eq!(
        subjects(&postmark),
        ["[heartbeat-monitor] cron heartbeat MONITOR FAILED"]
    );
    // The first steps are about reaching the service, not about tokens.
    let body = mails(&postmark)[0]["TextBody"]
        .as_str()
        .unwrap()
        .to_string();
    let steps = body.split("First steps:").nth(1).unwrap();
    assert!(steps.contains("a service could not be reached"), "{body}");
    assert!(!steps.contains("permission"), "{body}");
    assert!(!steps.contains("401"), "{body}");
}

/// A stale heartbeat to mail, with Postmark answering `reply`.
fn postmark_answers(reply: Reply) -> (FakeServer, Run) {
    let mut routes = stale_trace_routes();
    routes.pop();
    routes.push(Route::post("/email/batch").reply(reply));
    let server = FakeServer::start(routes);
    let run = Monitor::new(&server).config(CONFIG).run();
    (server, run)
}

#[test]
fn postmark_401_is_recorded_printed_and_exits_3() {
    let (server, run) = postmark_answers(Reply::json(401, fixture("postmark/error-401.json")));
    assert_eq!(run.code, 3, "{}", run.stderr);
    let r = run.result();
    let n = &r["notifications"][0];
    assert_eq!(n["sent"], false);
    let err = n["error"].as_str().unwrap();
    assert!(
        err.contains("Postmark rejected the credential (HTTP 401"),
        "{err}"
    );
    assert!(err.contains("check POSTMARK_SERVER_TOKEN"), "{err}");
    assert!(
        run.stderr.contains(
            "mail NOT sent: [heartbeat-monitor] cron heartbeat STALE: trace-integrity-cron"
        ),
        "{}",
        run.stderr
    );
    assert!(
        r["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("mail \"[heartbeat-monitor] cron heartbeat STALE")
    );
    assert_eq!(server.hits("/email/batch"), 1, "a POST is not retried");
}

#[test]
fn postmark_422_is_recorded_with_its_error_code() {
    let (_server, run) = postmark_answers(Reply::json(422, fixture("postmark/error-422.json")));
    assert_eq!(run.code, 3);
    let err = run.result()["notifications"][0]["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        err.starts_with(
            "Postmark refused the batch (HTTP 422, ErrorCode 412: Your account is pending approval."
        ),
        "{err}"
    );
}

#[test]
fn postmark_refusing_one_message_of_a_batch() {
    let refuse = postmark_batch(&[(0, 406, "Found inactive addresses: ops@raxx.app.")]);
    let (_server, run) = postmark_answers(refuse);
    assert_eq!(run.code, 3);
    let err = run.result()["notifications"][0]["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        err,
        "Postmark refused this message (ErrorCode 406: Found inactive addresses: ops@raxx.app.)"
    );
}

#[test]
fn a_body_larger_than_the_cap_is_refused_not_buffered() {
    let huge = format!(
        r#"{{"total_count": 1, "workflow_runs": [], "padding": "{}"}}"#,
        "x".repeat(5 * 1024 * 1024)
    );
    let (server, run) = trace_answers(vec![Reply::json(200, huge)]);
    assert_trace_unknown(
        &run,
        &server,
        "the body is larger than the 4194304-byte limit",
    );
}
