//! `--status-page DIR`: the history extended run after run and bounded to 90 days, corrupt
//! lines skipped and the rest kept, Shields badges, and the page itself as a real browser
//! (Debian's headless Chromium) shows it.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;

fn history(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("history.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn run_into(server: &FakeServer, dir: &Path, now: &str) -> Run {
    Monitor::new(server)
        .config(CONFIG)
        .now(now)
        .args(&["--status-page", dir.to_str().unwrap()])
        .run()
}

#[test]
fn two_runs_extend_the_history_and_badges_follow_each_check() {
    let server = FakeServer::start(stale_trace_routes());
    let dir = scratch("status-two-runs");
    let run = run_into(&server, &dir, NOW);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let checks = run.result()["checks"].as_array().unwrap().len();
    assert_eq!(history(&dir).len(), checks);
    run_into(&server, &dir, "2026-05-23T07:30:00Z");
    let lines = history(&dir);
    assert_eq!(lines.len(), 2 * checks);
    assert_eq!(
        lines[checks],
        json_line(
            "2026-05-23T07:30:00Z",
            &id(BILLING),
            "billing-retention-cron.yml",
            "ok"
        )
    );
    let badge: Value = serde_json::from_str(
        // The readable id and 16 hex digits of its SHA-256 (`printf %s ID | sha256sum`).
        &std::fs::read_to_string(dir.join(format!(
            "badges/cron_heartbeat_raxx-app_TradeMasterAPI_{TRACE}-1ed3027b87533698.json"
        )))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        badge,
        serde_json::json!({"schemaVersion": 1, "label": "cron_heartbeat trace-integrity-cron.yml",
                           "message": "critical", "color": "red"})
    );
}

fn json_line(at: &str, id: &str, target: &str, status: &str) -> Value {
    serde_json::json!({"at": at, "id": id, "kind": "cron_heartbeat", "target": target, "status": status})
}

#[test]
fn old_lines_are_dropped_and_a_corrupt_line_is_skipped_never_losing_the_rest() {
    let server = FakeServer::start(stale_trace_routes());
    let dir = scratch("status-bounded");
    let old = json_line("2026-02-21T06:30:00Z", &id(TRACE), TRACE, "ok"); // 91 days before NOW
    let kept = json_line("2026-03-01T06:30:00Z", &id(TRACE), TRACE, "warning");
    std::fs::write(
        dir.join("history.jsonl"),
        format!("{old}\n{{\"at\": \"2026-05-2\n{kept}\n"),
    )
    .unwrap();
    let run = run_into(&server, &dir, NOW);
    assert!(
        run.stderr
            .contains("history.jsonl line 2: not a history line, skipped (the others are kept)"),
        "{}",
        run.stderr
    );
    let lines = history(&dir);
    assert_eq!(
        lines[0], kept,
        "the 91-day-old line went, the 83-day-old one stayed"
    );
    assert!(!lines.contains(&old));
    assert_eq!(
        lines.len(),
        1 + run.result()["checks"].as_array().unwrap().len()
    );
}

#[test]
fn a_history_that_is_not_a_regular_file_is_left_alone_and_said() {
    let server = FakeServer::start(stale_trace_routes());
    let dir = scratch("status-not-regular");
    std::fs::create_dir_all(dir.join("history.jsonl")).unwrap();
    let run = run_into(&server, &dir, NOW);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is not used and left as it is: it is not a regular file"),
        "{}",
        run.stderr
    );
    assert!(dir.join("history.jsonl").is_dir());
    assert_eq!(
        run.result()["status"],
        "critical",
        "the result file is still written"
    );
}

/// Debian's Chromium, or the one line that says what to install.
fn chromium() -> PathBuf {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
    .expect("the status page test needs Chromium: apt-get install chromium (.ci/run installs it)")
}

/// Chromium as the machine allows it: headless, no sandbox (root), no network of its own.
fn headless(profile: &Path) -> Command {
    let mut c = Command::new(chromium());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// Loads `index.html` of `dir` in headless Chromium: no console message, every check of
/// `result` on the page; saves a screenshot as `target/tmp/<shot>`.
fn look_at(dir: &Path, result: &Value, shot: &str) {
    let page = format!("file://{}", dir.join("index.html").display());
    let profile = scratch(&format!("chromium-{shot}"));
    let out = headless(&profile)
        .args(["--dump-dom", &page])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    for line in log.lines() {
        assert!(
            !line.contains(":CONSOLE") && !line.contains("Failed to load resource"),
            "the page logged: {line}"
        );
    }
    for check in result["checks"].as_array().unwrap() {
        let id = check["id"].as_str().unwrap();
        assert!(
            dom.contains(&format!("<tr id=\"{id}\">")),
            "{id} is not on the page"
        );
    }
    let status = result["status"].as_str().unwrap().to_uppercase();
    assert!(dom.contains(&format!("</span> {status}</p>")), "{dom}");

    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join(shot);
    let _ = std::fs::remove_file(&shot);
    let out = headless(&profile)
        .args([
            "--window-size=1400,1000",
            &format!("--screenshot={}", shot.display()),
            &page,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot"
    );
}

#[test]
fn chromium_shows_every_check_with_no_console_error() {
    let server = FakeServer::start(stale_trace_routes());
    let dir = scratch("status-browser");
    run_into(&server, &dir, "2026-05-22T06:30:00Z");
    let run = run_into(&server, &dir, NOW);
    look_at(&dir, &run.result(), "status-page.png");
    let dom = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(
        dom.contains(
            "<a href=\"#cron_heartbeat:raxx-app/TradeMasterAPI:trace-integrity-cron.yml\">"
        )
    );
}

/// The demo (`cargo run --example demo`), as `cargo test` built it beside the binary.
fn demo() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_heartbeat-monitor"));
    let demo = bin.parent().unwrap().join("examples/demo");
    assert!(
        demo.exists(),
        "{} is missing: run the whole `cargo test`, which builds the examples",
        demo.display()
    );
    demo
}

#[test]
fn the_demos_status_page_in_chromium() {
    let out = Command::new(demo()).arg("--dry-run").output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("the monitor exited 2"), "{said}");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/demo");
    let result: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("heartbeat_result.json")).unwrap())
            .unwrap();
    assert!(
        result["checks"].as_array().unwrap().len() >= 10,
        "the demo checks a fleet"
    );
    look_at(&root.join("status"), &result, "demo-status-page.png");
}
