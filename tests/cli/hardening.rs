//! What an attacker or a chaos tester found, one test per defect: state kept by runs that
//! check nothing, secrets in every form, bounded delivery and pings, no forged workflow
//! commands, bounded quotes, safe files, no proxies.

use std::path::Path;
use std::time::Duration;

use super::support::raw::RawServer;
use super::*;

const TRACE_ONLY: &str = r#"
[github]
repo = "raxx-app/TradeMasterAPI"
[[heartbeat]]
workflow = "trace-integrity-cron.yml"
[run]
request_timeout_seconds = 2
deadline_seconds = 10
"#;

fn scratch(name: &str) -> std::path::PathBuf {
    super::support::scratch::dir(&format!("hard-{name}"))
}

/// GitHub with trace stale, its latest run failed; Postmark accepting.
fn stale_world() -> FakeServer {
    // The configuration here watches trace alone.
    let billing = [
        format!("/repos/{REPO}/git/blobs/{}", blob_sha(BILLING)),
        runs_path(BILLING),
    ];
    let routes = stale_trace_routes()
        .into_iter()
        .filter(|r| !billing.iter().any(|p| r.is_for(p)))
        .collect();
    FakeServer::start(routes)
}

/// GitHub with trace fresh; Postmark accepting.
fn fresh_world() -> FakeServer {
    FakeServer::start(vec![
        success(TRACE, "github/runs-success-fresh.json"),
        private_repo(),
        postmark_ok(),
    ])
}

/// GitHub answering every trace request with HTTP 500 and `body`.
fn echoing_world(body: String) -> FakeServer {
    FakeServer::start(vec![
        Route::get(&runs_path(TRACE))
            .query("status=success")
            .reply(Reply::json(500, body)),
        private_repo(),
        postmark_ok(),
    ])
}

/// Every byte a person or program could read after `run`: stdout, stderr, the result file,
/// the step summary and the mails.
fn everything(run: &Run, server: &FakeServer) -> String {
    let mut all = format!("{}\n{}\n", run.stdout, run.stderr);
    all.push_str(
        &std::fs::read_to_string(run.dir.join("heartbeat_result.json")).unwrap_or_default(),
    );
    all.push_str(&std::fs::read_to_string(run.dir.join("summary.md")).unwrap_or_default());
    for r in server.requests() {
        all.push_str(&r.body);
    }
    all
}

// 1
#[test]
fn a_run_that_checks_nothing_leaves_the_alert_state_as_it_was() {
    let state = scratch("keep").join("state.json");
    let server = stale_world();
    let first = Monitor::new(&server)
        .config(TRACE_ONLY)
        .args(&["--state-file", state.to_str().unwrap()])
        .run();
    assert_eq!(first.code, 2, "{}", first.stderr);
    let before = std::fs::read(&state).unwrap();
    assert!(String::from_utf8_lossy(&before).contains("cron_heartbeat:"));

    // The token secret went missing: nothing is checked, MONITOR FAILED is mailed.
    let run = Monitor::new(&server)
        .config(TRACE_ONLY)
        .env("GITHUB_TOKEN", "")
        .args(&["--state-file", state.to_str().unwrap()])
        .run();
    assert_eq!(run.code, 3);
    assert_eq!(run.result()["checks"].as_array().unwrap().len(), 0);
    assert_eq!(
        std::fs::read(&state).unwrap(),
        before,
        "the state file is untouched"
    );

    // A broken configuration neither.
    let run = Monitor::new(&server)
        .config("[[heartbeat]]\nworkflow = 3\n")
        .args(&["--state-file", state.to_str().unwrap()])
        .run();
    assert_eq!(run.code, 3);
    assert_eq!(
        std::fs::read(&state).unwrap(),
        before,
        "the state file is untouched"
    );
}

// 2
#[test]
fn a_secret_cut_in_half_by_a_snippet_is_still_masked() {
    for cut in [100, 105, 112] {
        let body = format!("{}{GITHUB_TOKEN} tail", "x".repeat(cut));
        let server = echoing_world(body);
        let run = Monitor::new(&server)
            .config(TRACE_ONLY)
            .env("GITHUB_STEP_SUMMARY", "summary.md")
            .run();
        assert_eq!(run.code, 3, "{}", run.stderr);
        let all = everything(&run, &server);
        assert!(
            all.contains("[redacted]"),
            "the cut fragment is masked:\n{all}"
        );
        assert!(
            !all.contains(&GITHUB_TOKEN[..8]),
            "8 characters of the token survive a cut at {cut}:\n{all}"
        );
    }
}

// 3
#[test]
fn a_secret_with_quotes_backslashes_and_pipes_is_masked_in_every_encoding() {
    let token = r#"ghs_q"uo\te|pipe-0123-SECRET"#;
    let server = echoing_world(format!(
        r#"{{"message":"bad token {}"}}"#,
        token.replace('\\', "\\\\").replace('"', "\\\"")
    ));
    let run = Monitor::new(&server)
        .config(TRACE_ONLY)
        .env("GITHUB_TOKEN", token)
        .env("GITHUB_STEP_SUMMARY", "summary.md")
        .run();
    assert_eq!(run.code, 3, "{}", run.stderr);
    let all = everything(&run, &server);
    for form in ["0123-SECRET", "pipe-0123", r#"q\"uo"#, r"te\|pipe"] {
        assert!(!all.contains(form), "{form:?} leaks:\n{all}");
    }
}

// 4
#[test]
fn a_usage_error_never_prints_the_token() {
    for args in [
        vec![format!("--gh-token={GITHUB_TOKEN}")],
        vec![
            "--gh-token".to_string(),
            GITHUB_TOKEN.to_string(),
            "--gh-token".to_string(),
            format!("{GITHUB_TOKEN}-two"),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // Monitor::run fails the test if stdout or stderr holds the token.
        let run = Monitor::bare().args(&args).run();
        assert_eq!(run.code, 3, "{}", run.stderr);
        assert!(run.stderr.contains("[redacted]"), "{}", run.stderr);
    }
}

// 5
#[test]
fn a_dripping_smtp_server_cannot_hold_the_run_past_its_mail_budget() {
    // One byte every 2 s: lettre's per-read timeout never fires.
    let drip = RawServer::start(|mut s| {
        use std::io::Write;
        for b in b"220 slow.example ESMTP\r\n".iter().cycle().take(200) {
            if s.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(2));
        }
    });
    let server = stale_world();
    let config = format!("{TRACE_ONLY}mail_budget_seconds = 3\n[mail]\ntransport = \"smtp\"\n");
    let run = Monitor::new(&server)
        .config(&config)
        .env("SMTP_URL", &format!("smtp://{}", drip.addr))
        .run();
    assert!(
        run.elapsed < Duration::from_secs(15),
        "took {:?}",
        run.elapsed
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let n = &run.result()["notifications"][0];
    assert_eq!(n["sent"], false);
    assert!(
        n["error"].as_str().unwrap().contains("mail budget"),
        "{n:#}"
    );
}

// 6
#[test]
fn a_hanging_dead_mans_switch_does_not_eat_the_checks_deadline() {
    let silent = RawServer::silent();
    let server = fresh_world();
    let config = TRACE_ONLY.replace("deadline_seconds = 10", "deadline_seconds = 8");
    let run = Monitor::new(&server)
        .config(&config)
        .env(
            "HEARTBEAT_MONITOR_PING_URL",
            &format!("http://{}/ping-uuid", silent.addr),
        )
        .run();
    assert_eq!(run.code, 0, "the checks are healthy: {}", run.stderr);
    assert!(run.stderr.contains("dead man's switch"), "{}", run.stderr);
    assert!(
        run.elapsed < Duration::from_secs(20),
        "took {:?}",
        run.elapsed
    );
}

// 7
#[test]
fn server_text_cannot_forge_a_workflow_command() {
    let failing = fixture("github/runs-latest-failure.json").replace(
        "\"status\": \"completed\"",
        "\"status\": \"completed\\n::stop-commands::pwned\\n::notice::forged\"",
    );
    assert!(failing.contains("stop-commands"), "the fixture changed");
    let server = FakeServer::start(vec![
        success(TRACE, "github/runs-success-stale.json"),
        Route::get(&runs_path(TRACE))
            .any_status()
            .reply(Reply::json(200, failing)),
        Route::get(&workflow_path(TRACE))
            .reply(Reply::json(200, fixture("github/workflow-active.json"))),
        private_repo(),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server)
        .config(TRACE_ONLY)
        .env("GITHUB_ACTIONS", "true")
        .args(&["--dry-run"])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    let ours = ["::error title=", "::warning title=", "::notice title="];
    for line in run.stdout.lines() {
        let t = line.trim_start();
        assert!(
            !t.starts_with("::") || ours.iter().any(|o| t.starts_with(o)),
            "a forged command reaches stdout: {line:?}"
        );
    }
    assert!(run.stdout.contains("::error title="), "ours still print");
}

// 9
#[test]
fn a_state_file_of_a_newer_version_is_refused_and_kept() {
    let state = scratch("newer").join("state.json");
    let newer =
        r#"{"version": 2, "written_at": "2026-05-22T06:30:00Z", "checks": {}, "future": true}"#;
    std::fs::write(&state, newer).unwrap();
    let server = stale_world();
    let run = Monitor::new(&server)
        .config(TRACE_ONLY)
        .args(&["--state-file", state.to_str().unwrap()])
        .run();
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("newer heartbeat-monitor"),
        "said plainly: {}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&state).unwrap(),
        newer,
        "left untouched"
    );
}

// 11
#[test]
fn proxy_variables_are_never_used() {
    let proxy = RawServer::says(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    let server = fresh_world();
    let at = format!("http://{}", proxy.addr);
    let mut monitor = Monitor::new(&server).config(TRACE_ONLY);
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        monitor = monitor.env(var, &at);
    }
    let run = monitor.run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        proxy.connections(),
        0,
        "the proxy saw the bearer token's request"
    );
}

// 12
#[test]
fn an_oversized_value_is_quoted_bounded() {
    let huge = "9".repeat(200_000);
    let server = FakeServer::start(vec![
        Route::get("/health").reply(Reply::json(
            200,
            format!(r#"{{"poller_last_poll_at":"{huge}"}}"#),
        )),
        postmark_ok(),
    ]);
    let config = format!(
        "[[http_probe]]\nname = \"console-prod\"\nurl = \"{}/health\"\nfresh_field = \"poller_last_poll_at\"\n",
        server.url
    );
    let run = Monitor::new(&server)
        .config(&config)
        .env("GITHUB_STEP_SUMMARY", "summary.md")
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    let message = run.message("http_probe:console-prod");
    assert!(message.len() < 2_000, "{} bytes", message.len());
    assert!(
        run.stdout.len() < 20_000,
        "{} bytes of stdout",
        run.stdout.len()
    );
    let summary = std::fs::read_to_string(run.dir.join("summary.md")).unwrap();
    assert!(summary.len() < 20_000, "{} bytes of summary", summary.len());
    let body = mails(&server)[0]["TextBody"].as_str().unwrap().len();
    assert!(body < 20_000, "{body} bytes of mail");
}

// 13
#[test]
fn configuration_and_state_files_must_be_small_regular_files() {
    let dir = scratch("files");
    let fifo = dir.join("fifo.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let big = dir.join("big.toml");
    std::fs::write(&big, format!("# {}\n", "x".repeat(2 * 1024 * 1024))).unwrap();
    for (path, says) in [
        (fifo.to_str().unwrap(), "not a regular file"),
        ("/dev/zero", "not a regular file"),
        (big.to_str().unwrap(), "larger than"),
    ] {
        let run = Monitor::bare()
            .env("FLAG_CRON_HEARTBEAT_MONITOR", "1")
            .args(&["--config", path])
            .run();
        assert_eq!(run.code, 3, "{path}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{path}: {}", run.stderr);
        assert!(
            run.elapsed < Duration::from_secs(10),
            "{path} took {:?}",
            run.elapsed
        );
    }
    let server = stale_world();
    let run = Monitor::new(&server)
        .config(TRACE_ONLY)
        .args(&["--state-file", fifo.to_str().unwrap()])
        .run();
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
}

// 14
#[test]
fn a_result_file_that_cannot_be_written_is_not_reported_as_written() {
    let dir = scratch("unwritable-result");
    let blocker = dir.join("a-file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let output = blocker.join("result.json");
    let server = fresh_world();
    let run = Monitor::new(&server)
        .config(TRACE_ONLY)
        .args(&["--output-file", output.to_str().unwrap()])
        .run();
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(!run.stdout.contains("result written to"), "{}", run.stdout);
    assert!(run.stdout.contains("result NOT written"), "{}", run.stdout);
    assert!(!Path::new(&output).exists());
}

// 14, the other half
#[test]
fn a_full_disk_leaves_no_temporary_file_behind() {
    let server = fresh_world();
    let run = Monitor::new(&server)
        .config(TRACE_ONLY)
        .disk_full_after(300)
        .run();
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stdout.contains("result NOT written"), "{}", run.stdout);
    assert!(
        run.stderr.contains("could not write the result file"),
        "{}",
        run.stderr
    );
    let left: Vec<String> = std::fs::read_dir(&run.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
