//! The stuck-promotion watchdog against the machine's real PostgreSQL: a database, table and
//! SELECT-only role of the test's own (`support::pg`).

use super::support::pg::{self, READER_PASSWORD, TestDb};
use super::*;

/// The afternoon the stuck promotion was found: 2026-05-11 14:18 UTC.
const FOUND: &str = "2026-05-11T14:18:00Z";

fn config(extra: &str) -> String {
    format!(
        "[promotions]\ntable = \"console_flag_promotions\"\nname_column = \"flag_name\"\nstate_column = \"state\"\nsince_column = \"updated_at\"\n{extra}"
    )
}

fn run_with(db_url: &str, cfg: &str, server: &FakeServer) -> Run {
    Monitor::new(server)
        .now(FOUND)
        .env("DATABASE_URL", db_url)
        .config(cfg)
        .run()
}

#[test]
fn ninety_seven_hours_critical_thirteen_warning_the_rest_ok() {
    let db = TestDb::new();
    db.row(
        "console_heroku_log_drain_alerting",
        "deploying",
        "2026-05-07T13:18:00Z",
    );
    db.row("billing_v2", "deploying", "2026-05-11T01:18:00Z");
    db.row("fresh_flag", "deploying", "2026-05-11T13:18:00Z");
    db.row("old_and_done", "deployed", "2026-04-01T00:00:00Z");
    let server = FakeServer::start(vec![postmark_ok()]);
    let run = run_with(&db.reader_url("sslmode=disable"), &config(""), &server);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let r = run.result();
    let checks = r["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2, "{checks:#?}");
    assert_eq!(checks[0]["status"], "critical");
    assert_eq!(checks[0]["target"], "console_heroku_log_drain_alerting");
    assert_eq!(checks[0]["details"]["age_hours"], 97.0);
    assert_eq!(
        checks[0]["message"],
        "console_heroku_log_drain_alerting in state deploying for 4 days since 2026-05-07T13:18:00Z"
    );
    assert_eq!(checks[1]["status"], "warning");
    assert_eq!(checks[1]["details"]["age_hours"], 13.0);
    assert_eq!(
        subjects(&server),
        [
            "[heartbeat-monitor] promotion STUCK: console_heroku_log_drain_alerting",
            "[heartbeat-monitor] promotion STUCK: billing_v2"
        ]
    );
    let body = mails(&server)[0]["TextBody"].as_str().unwrap().to_string();
    for want in [
        "Threshold:   warning after 12 h, critical after 24 h in deploying",
        "mark the row deployed (live) or failed",
        "2026-05-11 RCA",
    ] {
        assert!(body.contains(want), "{want:?} not in\n{body}");
    }
}

#[test]
fn nothing_stuck_is_one_ok_result_for_the_table() {
    let db = TestDb::new();
    db.row("fresh_flag", "deploying", "2026-05-11T13:18:00Z");
    db.row("done", "deployed", "2026-05-01T00:00:00Z");
    let server = FakeServer::start(vec![postmark_ok()]);
    let run = run_with(&db.reader_url("sslmode=disable"), &config(""), &server);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let c = run.check("stuck_promotion:console_flag_promotions");
    assert_eq!(
        c["message"],
        "1 promotion(s) in deploying for less than 12 h"
    );
}

#[test]
fn sslmode_require_works_against_the_clusters_self_signed_certificate() {
    let db = TestDb::new();
    db.row("billing_v2", "deploying", "2026-05-11T01:18:00Z");
    let server = FakeServer::start(vec![postmark_ok()]);
    let run = run_with(&db.reader_url("sslmode=require"), &config(""), &server);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.result()["checks"][0]["target"], "billing_v2");
}

#[test]
fn sslmode_verify_full_refuses_an_untrusted_certificate() {
    let db = TestDb::new();
    let server = FakeServer::start(vec![postmark_ok()]);
    let run = run_with(&db.reader_url("sslmode=verify-full"), &config(""), &server);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let msg = run.message("stuck_promotion:console_flag_promotions");
    assert!(msg.contains(&format!("TLS with {}/", pg::addr())), "{msg}");
}

#[test]
fn a_missing_table_or_column_is_unknown_and_says_which() {
    let db = TestDb::new();
    let server = FakeServer::start(vec![postmark_ok()]);
    let cfg = config("").replace("console_flag_promotions", "flag_promotions");
    let run = run_with(&db.reader_url("sslmode=disable"), &cfg, &server);
    assert_eq!(run.code, 3);
    let msg = run.message("stuck_promotion:flag_promotions");
    assert_eq!(
        msg,
        "could not read flag_promotions: table does not exist (or the monitor's role may not use its schema): relation \"flag_promotions\" does not exist"
    );
    let cfg = config("").replace(
        "since_column = \"updated_at\"",
        "since_column = \"entered_at\"",
    );
    let run = run_with(&db.reader_url("sslmode=disable"), &cfg, &server);
    let msg = run.message("stuck_promotion:console_flag_promotions");
    assert!(
        msg.contains("column does not exist: column \"entered_at\" does not exist"),
        "{msg}"
    );
    assert_eq!(
        subjects(&server)[0],
        "[heartbeat-monitor] cron heartbeat MONITOR FAILED"
    );
}

#[test]
fn an_unreachable_server() {
    let closed = super::support::raw::closed_port();
    let server = FakeServer::start(vec![postmark_ok()]);
    let url =
        format!("postgres://reader:{READER_PASSWORD}@127.0.0.1:{closed}/console?sslmode=disable");
    let run = run_with(&url, &config(""), &server);
    assert_eq!(run.code, 3);
    let msg = run.message("stuck_promotion:console_flag_promotions");
    assert!(
        msg.contains(&format!(
            "could not connect to 127.0.0.1:{closed}/console: connection refused"
        )),
        "{msg}"
    );
}

#[test]
fn a_wrong_password_says_authentication_failed_and_shows_no_password() {
    let db = TestDb::new();
    let server = FakeServer::start(vec![postmark_ok()]);
    let url = db
        .reader_url("sslmode=disable")
        .replace(READER_PASSWORD, "wrong-pw-9Zx-SECRET");
    let run = run_with(&url, &config(""), &server);
    assert_eq!(run.code, 3);
    let msg = run.message("stuck_promotion:console_flag_promotions");
    assert!(
        msg.contains(&format!("authentication failed at {}/", pg::addr())),
        "{msg}"
    );
    assert!(
        msg.contains("password authentication failed for user"),
        "{msg}"
    );
    // Monitor::run and Run::result already checked stdout, stderr and the result; the mail too:
    assert_eq!(mails(&server).len(), 1);
}

#[test]
fn a_locked_table_hits_the_statement_timeout_within_the_bound() {
    let db = TestDb::new();
    db.row("billing_v2", "deploying", "2026-05-11T01:18:00Z");
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let admin_url = db.admin_url();
    let holder = std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&admin_url, postgres::NoTls).unwrap();
        let mut tx = c.transaction().unwrap();
        tx.batch_execute("LOCK TABLE console_flag_promotions IN ACCESS EXCLUSIVE MODE")
            .unwrap();
        locked_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_secs(8));
        tx.rollback().unwrap();
    });
    locked_rx.recv().unwrap();
    let server = FakeServer::start(vec![postmark_ok()]);
    let run = run_with(
        &db.reader_url("sslmode=disable"),
        &config("statement_timeout_seconds = 1\n"),
        &server,
    );
    assert_eq!(run.code, 3);
    assert!(
        run.elapsed < Duration::from_secs(6),
        "took {:?}",
        run.elapsed
    );
    let msg = run.message("stuck_promotion:console_flag_promotions");
    assert!(
        msg.contains("query cancelled by statement_timeout after 1 s: the table may be locked"),
        "{msg}"
    );
    holder.join().unwrap();
}

#[test]
fn the_monitors_session_cannot_write_even_as_a_superuser() {
    let db = TestDb::new();
    let url = heartbeat_monitor::clients::postgres::parse_url(&format!(
        "{}?sslmode=require",
        db.admin_url()
    ))
    .unwrap();
    let limits = heartbeat_monitor::clients::postgres::DbLimits {
        connect_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(5),
    };
    let mut client = heartbeat_monitor::clients::postgres::connect(&url, limits).unwrap();
    let ssl: bool = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(ssl, "sslmode=require encrypts");
    let app: String = client
        .query_one("SHOW application_name", &[])
        .unwrap()
        .get(0);
    assert_eq!(app, "heartbeat-monitor");
    let mut tx =
        heartbeat_monitor::clients::postgres::read_only(&mut client, limits, &url).unwrap();
    let err = tx
        .execute("UPDATE console_flag_promotions SET state = 'deployed'", &[])
        .unwrap_err();
    let why = heartbeat_monitor::clients::postgres::explain(&err, &url, limits).to_string();
    assert_eq!(
        why,
        "refused: the monitor's session is read only (cannot execute UPDATE in a read-only transaction)"
    );
}

#[test]
fn the_flags_config_var_says_whether_it_is_already_live_and_no_other_var_leaks() {
    let db = TestDb::new();
    db.row(
        "console_heroku_log_drain_alerting",
        "deploying",
        "2026-05-07T13:18:00Z",
    );
    db.row("billing_v2", "deploying", "2026-05-10T01:18:00Z");
    let server = FakeServer::start(vec![
        Route::get("/apps/raxx-console-prod/config-vars")
            .reply(Reply::json(200, fixture("heroku/config-vars-console.json"))),
        postmark_ok(),
    ]);
    let cfg = config("heroku_app = \"raxx-console-prod\"\nconfig_var_prefix = \"FLAG_\"\n");
    let run = run_with(&db.reader_url("sslmode=disable"), &cfg, &server);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let r = run.result();
    let live = r["checks"][0]["message"].as_str().unwrap();
    assert!(live.ends_with("FLAG_CONSOLE_HEROKU_LOG_DRAIN_ALERTING already holds the promoted value on raxx-console-prod: already live on raxx-console-prod, safe to mark deployed"), "{live}");
    let not_live = r["checks"][1]["message"].as_str().unwrap();
    assert!(
        not_live.contains("FLAG_BILLING_V2 does not hold the promoted value on raxx-console-prod"),
        "{not_live}"
    );
    assert_eq!(
        server.hits("/apps/raxx-console-prod/config-vars"),
        1,
        "one look-up for all stuck rows"
    );
    // The app's other config vars (all marked SECRET) appear nowhere: mails() checks the mails.
    assert_eq!(mails(&server).len(), 2);
}
