//! Whole outputs as snapshots (insta): the mail body, the Slack and webhook payloads, the
//! table, a dry run and the result file of one stale heartbeat. A change to any of them shows
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
