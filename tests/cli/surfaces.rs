//! HTTP probes against an origin gated by Cloudflare Access, and Cloudflare Pages
//! deployments against a server answering with Cloudflare's envelope.

use super::*;

fn probe_config(server: &FakeServer, extra: &str) -> String {
    format!(
        "[[http_probe]]\nname = \"console-prod\"\nurl = \"{}/health\"\ncf_access_token_env = \"CF_ACCESS_SERVICE_TOKEN_CONSOLE\"\n{extra}",
        server.url
    )
}

const FRESH: &str = "fresh_field = \"poller_last_poll_at\"\nfresh_max_age_seconds = 120\n";

/// An origin behind Cloudflare Access: the app's answer only when both service-token headers
/// match, else a 302 to the Access login page, as Access does.
fn gated(answer: Reply) -> Route {
    Route::get("/health").reply(Reply::With(std::sync::Arc::new(move |rec: &Recorded| {
        if rec.header("cf-access-client-id") == Some(ACCESS_ID) && rec.header("cf-access-client-secret") == Some(ACCESS_SECRET) {
            return answer.clone();
        }
        Reply::json(302, "")
            .header(
                "Location",
                "https://raxx.cloudflareaccess.com/cdn-cgi/access/login/console.raxx.app?kid=7d4b1f2e9c&redirect_url=%2Fhealth",
            )
            .header("CF-Access-Domain", "console.raxx.app")
            .header("CF-Access-Aud", "7d4b1f2e9c")
    })))
}

fn health(poll: &str) -> Reply {
    Reply::json(
        200,
        format!(r#"{{"status": "ok", "poller_last_poll_at": {poll}}}"#),
    )
}

fn probe_run(answer: Reply, extra: &str, token: Option<&str>) -> (FakeServer, Run) {
    let server = FakeServer::start(vec![gated(answer), postmark_ok()]);
    let mut m = Monitor::new(&server).config(&probe_config(&server, extra));
    if let Some(t) = token {
        m = m.env("CF_ACCESS_SERVICE_TOKEN_CONSOLE", t);
    }
    let run = m.run();
    (server, run)
}

#[test]
fn probe_ok_with_the_service_token() {
    let (server, run) = probe_run(health("\"2026-05-23T06:29:40Z\""), FRESH, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.check("http_probe:console-prod")["message"],
        "HTTP 200; poller_last_poll_at 20 s old"
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1, "one request for a healthy probe");
    assert_eq!(reqs[0].header("cf-access-client-id"), Some(ACCESS_ID));
}

#[test]
fn probe_redirected_to_the_access_login_is_named_and_not_followed() {
    let (server, run) = probe_run(
        health("\"2026-05-23T06:29:40Z\""),
        FRESH,
        Some("4d3c2b1a0f9e8d7c.access:stale-secret-SECRET"),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let c = run.check("http_probe:console-prod");
    assert_eq!(
        c["message"],
        "got the Cloudflare Access login page (HTTP 302 to https://raxx.cloudflareaccess.com/cdn-cgi/access/login/console.raxx.app): the service token is missing, wrong or not in the app's policy"
    );
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] surface DEGRADED: console-prod"]
    );
    assert_eq!(server.hits("/health"), 1, "the redirect was not followed");
}

#[test]
fn a_stale_or_null_poller_timestamp_is_critical() {
    let (_, run) = probe_run(health("\"2026-05-23T06:24:00Z\""), FRESH, None);
    assert_eq!(run.code, 2);
    let msg = run.message("http_probe:console-prod");
    assert!(
        msg.starts_with("poller_last_poll_at is 360 s old (max 120 s)"),
        "{msg}"
    );
    let (_, run) = probe_run(health("null"), FRESH, None);
    assert_eq!(run.code, 2);
    let msg = run.message("http_probe:console-prod");
    assert!(msg.starts_with("poller_last_poll_at is null"), "{msg}");
}

#[test]
fn a_heroku_router_502_page_is_named() {
    let page = Reply::html(503, fixture("probe/heroku-router-503.html")).header("Server", "heroku");
    let (server, run) = probe_run(page, "", None);
    assert_eq!(run.code, 2);
    let msg = run.message("http_probe:console-prod");
    assert!(
        msg.starts_with("Heroku router error (HTTP 503): the app is not running"),
        "{msg}"
    );
    assert!(
        msg.contains("page title \"Application Error\"; it began: <!DOCTYPE html>"),
        "{msg}"
    );
    assert_eq!(
        server.hits("/health"),
        3,
        "5xx is retried before it is believed"
    );
}

#[test]
fn a_missing_service_token_is_a_configuration_error_up_front() {
    // Nothing may be probed (asserted below).
    let server = FakeServer::start(spares(vec![gated(health("null")), postmark_ok()]));
    let run = Monitor::new(&server)
        .env("CF_ACCESS_SERVICE_TOKEN_CONSOLE", "")
        .config(&probe_config(&server, ""))
        .run();
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("CF_ACCESS_SERVICE_TOKEN_CONSOLE is not set: probe console-prod needs its CF Access service token"),
        "{}",
        run.stderr
    );
    assert_eq!(server.hits("/health"), 0);
}

fn pages_path(project: &str) -> String {
    format!("/client/v4/accounts/{CLOUDFLARE_ACCOUNT}/pages/projects/{project}/deployments")
}

fn pages_run(reply: Reply) -> (FakeServer, Run) {
    let server = FakeServer::start(vec![
        Route::get(&pages_path("getraxx")).reply(reply),
        postmark_ok(),
    ]);
    let cfg = "[[pages_project]]\nname = \"getraxx\"\nbuilding_grace_minutes = 10\n";
    let run = Monitor::new(&server).config(cfg).run();
    (server, run)
}

#[test]
fn pages_live_costs_one_request_with_the_token() {
    let (server, run) = pages_run(Reply::json(
        200,
        fixture("cloudflare/deployments-live.json"),
    ));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.check("pages_deploy:getraxx")["message"],
        "production deployment a50b60b9 is live (16 h ago)"
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bearer {CLOUDFLARE_TOKEN}").as_str())
    );
    assert!(reqs[0].url.contains("env=production"), "{}", reqs[0].url);
}

#[test]
fn pages_failed_deployment_is_critical() {
    let (server, run) = pages_run(Reply::json(
        200,
        fixture("cloudflare/deployments-failed.json"),
    ));
    assert_eq!(run.code, 2);
    let msg = run.message("pages_deploy:getraxx");
    assert_eq!(
        msg,
        "latest production deployment b61c72d0 failed at stage build (30 min ago) https://b61c72d0.getraxx.pages.dev"
    );
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] surface DEGRADED: getraxx"]
    );
}

#[test]
fn pages_building_inside_the_grace_is_ok_past_it_critical() {
    let (_, run) = pages_run(Reply::json(
        200,
        fixture("cloudflare/deployments-building-3min.json"),
    ));
    assert_eq!(run.code, 0);
    assert_eq!(
        run.check("pages_deploy:getraxx")["message"],
        "production deployment c72d83e1 in progress: stage build for 3 min"
    );
    let (_, run) = pages_run(Reply::json(
        200,
        fixture("cloudflare/deployments-queued-25min.json"),
    ));
    assert_eq!(run.code, 2);
    assert_eq!(
        run.check("pages_deploy:getraxx")["message"],
        "production deployment d83e94f2 stuck at stage queued (idle) for 25 min (grace 10 min)"
    );
}

#[test]
fn a_missing_pages_project_is_named() {
    let (_, run) = pages_run(Reply::json(
        404,
        fixture("cloudflare/error-404-project.json"),
    ));
    assert_eq!(run.code, 2);
    let msg = run.message("pages_deploy:getraxx");
    assert!(
        msg.starts_with(
            "project getraxx does not exist in the Cloudflare account (http_404: Project not found."
        ),
        "{msg}"
    );
}

#[test]
fn a_pages_token_error_is_unknown_with_cloudflares_words() {
    let (_, run) = pages_run(Reply::json(403, fixture("cloudflare/error-401.json")));
    assert_eq!(run.code, 3);
    let msg = run.message("pages_deploy:getraxx");
    assert!(msg.contains("Authentication error (10000)"), "{msg}");
}

#[test]
fn a_probe_that_never_answers_is_critical_within_the_bound() {
    let slow = Reply::Slow(Duration::from_secs(30), Box::new(health("null")));
    let (_, run) = probe_run(slow, "[run]\nrequest_timeout_seconds = 1\n", None);
    // Three attempts of 1 s and their backoff, far from the 30 s the origin would take.
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
    assert_eq!(run.code, 2);
    let msg = run.message("http_probe:console-prod");
    assert!(
        msg.starts_with("no answer: no answer from 127.0.0.1:"),
        "{msg}"
    );
}

#[test]
fn pages_answering_html_is_unknown() {
    let (_, run) = pages_run(Reply::html(
        200,
        "<html><head><title>Just a moment...</title></head></html>",
    ));
    assert_eq!(run.code, 3);
    let msg = run.message("pages_deploy:getraxx");
    assert!(msg.contains("HTML instead of JSON"), "{msg}");
}

#[test]
fn a_502_html_page_is_critical_with_its_title_and_first_bytes() {
    let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n";
    let (server, run) = probe_run(Reply::html(502, page), "", None);
    assert_eq!(run.code, 2);
    let msg = run.message("http_probe:console-prod");
    assert_eq!(
        msg,
        "HTTP 502 (expected 200): page title \"502 Bad Gateway\"; it began: <html> <head><title>502 Bad Gateway</title></head> <body> <c…"
    );
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] surface DEGRADED: console-prod"]
    );
}
