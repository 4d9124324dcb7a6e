//! Whole outputs as snapshots (insta): the mail body, the Slack and webhook payloads, the
//! table, a dry run, the result file, the step summary and the status page of one stale
//! heartbeat; `--help`, `--check-config` and usage errors. A change to any of them shows
//! whole in `cargo insta review` instead of slipping past a `contains`. Run times are masked;
//! nothing else varies between runs.

use super::channels::{STALE, monitor, posted, slack_ok, text, world};
use super::*;

const SLACK_PATH: &str = "/services/T0HM/B0HM/slack-hook-SECRET";
const HOOK_PATH: &str = "/hooks/heartbeat-SECRET";

/// What differs from run to run (wall times, the loopback port) made constant.
fn masked(mut v: Value, url: &str) -> Value {
    fn walk(v: &mut Value, url: &str) {
        match v {
            Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    match key.as_str() {
                        "started_at" | "finished_at" if value.is_string() => {
                            *value = "[time]".into()
                        }
                        "duration_ms" | "elapsed_ms" if value.is_number() => *value = 0.into(),
                        _ => walk(value, url),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, url)),
            Value::String(s) => *s = s.replace(url, "http://[server]"),
            _ => {}
        }
    }
    walk(&mut v, url);
    v
}

fn text_masked(s: &str, url: &str) -> String {
    s.replace(url, "http://[server]")
}

#[test]
fn one_stale_heartbeat_told_everywhere() {
    let server = world(STALE, slack_ok(), text(204, ""));
    let run = monitor(&server).run();
    assert_eq!(run.code, 2, "{}", run.stderr);

    let mails = mails(&server);
    assert_eq!(mails.len(), 1);
    insta::assert_snapshot!("mail_subject", mails[0]["Subject"].as_str().unwrap());
    insta::assert_snapshot!("mail_body", mails[0]["TextBody"].as_str().unwrap());
    insta::assert_json_snapshot!(
        "slack_payload",
        masked(posted(&server, SLACK_PATH)[0].clone(), &server.url)
    );
    insta::assert_json_snapshot!(
        "webhook_payload",
        masked(posted(&server, HOOK_PATH)[0].clone(), &server.url)
    );
    insta::assert_snapshot!("stdout", text_masked(&run.stdout, &server.url));
    insta::assert_json_snapshot!("result_file", masked(run.result(), &server.url));
}

#[test]
fn a_dry_run_of_it_shows_what_each_channel_would_send() {
    let server = world(STALE, slack_ok(), text(204, ""));
    let run = monitor(&server).args(&["--dry-run"]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(mails(&server).is_empty(), "a dry run mails nothing");
    insta::assert_snapshot!("dry_run_stdout", text_masked(&run.stdout, &server.url));
}

#[test]
fn the_command_line_in_whole() {
    let help = Monitor::bare().args(&["--help"]).run();
    assert_eq!(help.code, 0);
    insta::assert_snapshot!("help", help.stdout);
    let usage = Monitor::bare().args(&["--sla-hours"]).run();
    assert_eq!(usage.code, 3, "{}", usage.stderr);
    insta::assert_snapshot!("usage_error", usage.stderr);
    let unknown = Monitor::bare().args(&["--slahours", "48"]).run();
    assert_eq!(unknown.code, 3, "{}", unknown.stderr);
    insta::assert_snapshot!("unknown_flag", unknown.stderr);
}

#[test]
fn check_config_in_whole() {
    // Asks nothing: the routes are only what a run would ask.
    let server = FakeServer::start(spares(stale_trace_routes()));
    let run = Monitor::new(&server)
        .config(CONFIG)
        .args(&["--check-config"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(server.requests().is_empty());
    insta::assert_snapshot!("check_config", text_masked(&run.stdout, &server.url));
}

#[test]
fn the_step_summary_and_the_status_page_in_whole() {
    let server = FakeServer::start(stale_trace_routes());
    let summary = super::support::scratch::path("snapshot-summary.md");
    let page = scratch("snapshot-page");
    let run = Monitor::new(&server)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
        .config(CONFIG)
        .args(&["--status-page", page.to_str().unwrap()])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    let md = std::fs::read_to_string(&summary).unwrap();
    insta::assert_snapshot!("step_summary", text_masked(&md, &server.url));
    let html = std::fs::read_to_string(page.join("index.html")).unwrap();
    insta::assert_snapshot!("status_page", text_masked(&html, &server.url));
}
