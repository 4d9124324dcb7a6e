//! A realistic run with no token and no network: GitHub and Postmark are played by a server
//! on 127.0.0.1 answering from `fixtures/`, and the monitor runs exactly as in production
//! against `examples/raxx.toml`, on the morning the team found its crons had been silent.
//!
//! `cargo run --example demo` (add `-- --dry-run` to print the mail instead of sending it).

#[path = "../tests/support/server.rs"]
mod server;

use server::{FakeServer, Reply, Route, fixture, postmark_batch};

const REPO: &str = "/repos/raxx-app/TradeMasterAPI";

fn main() {
    let runs = |wf: &str| format!("{REPO}/actions/workflows/{wf}/runs");
    let github_and_postmark = FakeServer::start(vec![
        Route::get(&runs("billing-retention-cron.yml"))
            .query("status=success")
            .reply(Reply::json(200, fixture("github/runs-success-fresh.json"))),
        Route::get(&runs("trace-integrity-cron.yml"))
            .query("status=success")
            .reply(Reply::json(200, fixture("github/runs-success-stale.json"))),
        Route::get(&runs("trace-integrity-cron.yml"))
            .any_status()
            .reply(Reply::json(200, fixture("github/runs-latest-failure.json"))),
        Route::get(&format!(
            "{REPO}/actions/workflows/trace-integrity-cron.yml"
        ))
        .reply(Reply::json(200, fixture("github/workflow-active.json"))),
        Route::get(REPO).reply(Reply::json(200, fixture("github/repo-private.json"))),
        Route::post("/email/batch").reply(postmark_batch(&[])),
    ]);
    let url = github_and_postmark.url.as_str();
    let env = heartbeat_monitor::Env::from_pairs([
        ("FLAG_CRON_HEARTBEAT_MONITOR", "1"),
        ("GITHUB_TOKEN", "demo-github-token"),
        ("GITHUB_API_URL", url),
        ("POSTMARK_SERVER_TOKEN", "demo-postmark-token"),
        ("POSTMARK_API_URL", url),
        ("OPS_ALERT_EMAIL", "ops@raxx.app"),
        ("OPS_ALERT_FROM", "heartbeat-monitor@raxx.app"),
    ]);
    let root = env!("CARGO_MANIFEST_DIR");
    let output = format!("{root}/target/demo/heartbeat_result.json");
    let mut args: Vec<String> = [
        "heartbeat-monitor",
        "--config",
        &format!("{root}/examples/raxx.toml"),
        "--now",
        "2026-05-23T06:30:00Z",
        "--output-file",
        &output,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(std::env::args().skip(1));

    println!("demo: GitHub and Postmark are played by {url}; now is 2026-05-23T06:30:00Z\n");
    let code = heartbeat_monitor::run(&args, &env, false);

    for req in github_and_postmark.requests() {
        if req.path() != "/email/batch" {
            continue;
        }
        let batch: Vec<serde_json::Value> = serde_json::from_str(&req.body).unwrap_or_default();
        for mail in batch {
            println!(
                "\n=== the mail Postmark received ===\nTo: {}\nSubject: {}\n\n{}",
                mail["To"].as_str().unwrap_or_default(),
                mail["Subject"].as_str().unwrap_or_default(),
                mail["TextBody"].as_str().unwrap_or_default()
            );
        }
    }
    let requests = github_and_postmark.requests().len();
    println!(
        "\ndemo: the monitor exited {code} (2 = critical), as it would turn a CI job red; \
{requests} requests in all; result file: {output}"
    );
}
