//! The gate, the dry run, configuration errors, --check-config and the command line.

use super::*;

#[test]
fn dry_run_sends_nothing_and_keeps_the_exit_code() {
    let server = FakeServer::start(stale_trace_routes());
    let run = Monitor::new(&server)
        .config(CONFIG)
        .args(&["--dry-run"])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(server.hits("/email/batch"), 0);
    let r = run.result();
    assert_eq!(r["dry_run"], true);
    let n = &r["notifications"][0];
    assert_eq!(
        n["subject"],
        "[heartbeat-monitor] cron heartbeat STALE: trace-integrity-cron"
    );
    assert_eq!(
        (n["sent"].clone(), n["dry_run"].clone()),
        (Value::Bool(false), Value::Bool(true))
    );
    assert!(
        run.stdout
            .contains("dry run: 1 mail(s) would be sent to ops@raxx.app"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "--- Subject: [heartbeat-monitor] cron heartbeat STALE: trace-integrity-cron"
        )
    );
}

#[test]
fn dry_run_needs_no_mail_secrets() {
    let server = FakeServer::start(stale_trace_routes());
    let run = Monitor::new(&server)
        .env("POSTMARK_SERVER_TOKEN", "")
        .env("OPS_ALERT_EMAIL", "")
        .env("OPS_ALERT_FROM", "")
        .config(CONFIG)
        .args(&["--dry-run"])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.result()["notifications"].as_array().unwrap().len(), 1);
}

#[test]
fn flag_off_makes_zero_requests_and_says_so_loudly() {
    for value in ["", "0", "false", "off"] {
        let server = FakeServer::start(spares(stale_trace_routes()));
        let summary = super::support::scratch::path(&format!("summary-off-{value}.md"));
        let run = Monitor::new(&server)
            .env("FLAG_CRON_HEARTBEAT_MONITOR", value)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
            .config(CONFIG)
            .run();
        assert_eq!(run.code, 0);
        assert!(
            server.requests().is_empty(),
            "flag {value:?}: {:?}",
            server.requests()
        );
        let r = run.result();
        assert_eq!(r["status"], "disabled");
        assert_eq!(r["exit_code"], 0);
        assert!(
            run.stderr.contains("heartbeat-monitor is DISABLED"),
            "{}",
            run.stderr
        );
        assert!(
            run.stdout
                .contains("::warning title=heartbeat-monitor disabled::"),
            "{}",
            run.stdout
        );
        assert!(
            std::fs::read_to_string(&summary)
                .unwrap()
                .contains("heartbeat-monitor: DISABLED")
        );
    }
}

#[test]
fn flag_values_are_read_in_any_case() {
    let server = FakeServer::start(vec![
        success(BILLING, "github/runs-success-fresh.json"),
        success(TRACE, "github/runs-success-fresh.json"),
        private_repo(),
    ]);
    let run = Monitor::new(&server)
        .env("FLAG_CRON_HEARTBEAT_MONITOR", "TRUE")
        .config(CONFIG)
        .run();
    assert_eq!(run.code, 0);
    assert_eq!(run.result()["status"], "ok");
}

#[test]
fn configuration_errors_are_reported_together_before_any_request() {
    let server = FakeServer::start(spares(stale_trace_routes()));
    let bad = r#"
subject_prefx = "[Ops]"
[github]
repo = "raxx-app"
[[heartbeat]]
workflow = "a.yml"
sla_hours = 0
[[heartbeat]]
workflow = "b.yml"
sla_hour = 3
"#;
    let run = Monitor::new(&server).config(bad).run();
    assert_eq!(run.code, 3);
    assert!(
        server.requests().iter().all(|r| r.path() == "/email/batch"),
        "no API call: {:?}",
        server.requests()
    );
    assert!(
        run.stderr
            .contains("heartbeat-monitor.toml line 2: unknown key `subject_prefx`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("heartbeat-monitor.toml line 10: unknown field `sla_hour`"),
        "{}",
        run.stderr
    );
    let r = run.result();
    assert_eq!(r["status"], "unknown");
    assert_eq!(r["errors"].as_array().unwrap().len(), 2);
    // The team hears of it: a broken config is a monitor failure.
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] cron heartbeat MONITOR FAILED"]
    );
}

#[test]
fn value_errors_and_missing_secrets() {
    let server = FakeServer::start(spares(stale_trace_routes()));
    let bad = "[github]\nrepo = \"raxx-app\"\n[[heartbeat]]\nworkflow = \"a.yml\"\nsla_hours = 0\n";
    let run = Monitor::new(&server).config(bad).run();
    assert_eq!(run.code, 3);
    assert!(
        run.stderr
            .contains("line 2: [github] repo `raxx-app` is not OWNER/NAME"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("line 5: sla_hours must be a positive number"),
        "{}",
        run.stderr
    );

    let run = Monitor::new(&server)
        .env("GITHUB_TOKEN", "")
        .env("OPS_ALERT_FROM", "")
        .config(CONFIG)
        .run();
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("2 secret(s) missing"), "{}", run.stderr);
    assert!(run.stderr.contains("GITHUB_TOKEN is not set"));
    assert!(run.stderr.contains("OPS_ALERT_FROM is not set"));
    let r = run.result();
    let errors = r["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    // Without a sender nobody can be told, and the result says so.
    assert!(
        errors[2]
            .as_str()
            .unwrap()
            .contains("MONITOR FAILED\" not delivered: OPS_ALERT_FROM is not set"),
        "{errors:#?}"
    );
    assert!(api_requests(&server).is_empty());
}

#[test]
fn check_config_validates_without_network() {
    let server = FakeServer::start(spares(stale_trace_routes()));
    // `--check-config` with one variable set as given ("" unsets it).
    let check = |var: &str, value: &str| {
        Monitor::new(&server)
            .env(var, value)
            .config(CONFIG)
            .args(&["--check-config"])
            .run()
    };
    let run = check("FLAG_CRON_HEARTBEAT_MONITOR", "1");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("configuration ok (heartbeat-monitor.toml)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("would run 3 check(s)"));
    assert!(run.stdout.contains(&id(TRACE)));
    assert!(server.requests().is_empty());

    let run = check("FLAG_CRON_HEARTBEAT_MONITOR", "0");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("gate FLAG_CRON_HEARTBEAT_MONITOR: OFF. A real run now would check NOTHING"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("with the gate on, it would run 3 check(s)")
    );

    let run = check("POSTMARK_SERVER_TOKEN", "");
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("POSTMARK_SERVER_TOKEN is not set"),
        "{}",
        run.stderr
    );
    assert!(server.requests().is_empty());
}

#[test]
fn usage_errors_exit_3_not_argh_s_1() {
    let run = Monitor::bare().args(&["--no-such-flag"]).run();
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("Unrecognized argument: --no-such-flag"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Run heartbeat-monitor --help"));
    let run = Monitor::bare().args(&["--now", "yesterday"]).run();
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains(
            "'--now' with value 'yesterday': expected an RFC 3339 time, e.g. 2026-05-23T06:30:00Z"
        ),
        "{}",
        run.stderr
    );
    let run = Monitor::bare().args(&["--sla-hours", "abc"]).run();
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains(
            "'--sla-hours' with value 'abc': expected a positive number of hours, e.g. 48"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn help_and_version() {
    let run = Monitor::bare().args(&["--help"]).run();
    assert_eq!(run.code, 0);
    for flag in [
        "--config",
        "--repo",
        "--workflow",
        "--gh-token",
        "--sla-hours",
        "--output-file",
        "--dry-run",
        "--now",
        "--check-config",
        "--version",
    ] {
        assert!(
            run.stdout.contains(flag),
            "help lacks {flag}:\n{}",
            run.stdout
        );
    }
    let run = Monitor::bare().args(&["--version"]).run();
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout,
        concat!("heartbeat-monitor ", env!("CARGO_PKG_VERSION"), "\n")
    );
}

#[test]
fn actions_get_a_step_summary_and_annotations() {
    let server = FakeServer::start(stale_trace_routes());
    let summary = super::support::scratch::path("summary.md");
    let _ = std::fs::remove_file(&summary);
    let run = Monitor::new(&server)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
        .config(CONFIG)
        .run();
    assert_eq!(run.code, 2);
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("### heartbeat-monitor: CRITICAL"), "{md}");
    assert!(
        md.contains(
            "| critical | cron_heartbeat trace-integrity-cron.yml | missed 5 scheduled runs in a row"
        ),
        "{md}"
    );
    assert!(
        run.stdout.contains(
            "::error title=cron_heartbeat trace-integrity-cron.yml::missed 5 scheduled runs in a row"
        ),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("::error title=cron_heartbeat billing"),
        "ok checks get no annotation"
    );
}

#[test]
fn output_is_plain_when_stdout_is_not_a_terminal() {
    let server = FakeServer::start(stale_trace_routes());
    // NO_COLOR itself is unit-tested (app::use_color): a test's stdout is never a terminal.
    let run = Monitor::new(&server)
        .config(CONFIG)
        .args(&["--dry-run"])
        .run();
    assert!(
        run.stdout
            .contains("CRITICAL  cron_heartbeat trace-integrity-cron.yml")
    );
    assert!(!run.stdout.contains('\u{1b}'));
    assert!(!run.stderr.contains('\u{1b}'));
}
