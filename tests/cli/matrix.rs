//! The fault matrix: every external the monitor talks to (the channels beside mail too),
//! times every way it can fail. Each cell runs the binary against a world where everything
//! else is healthy and checks that the affected checks come out as the fault means, the
//! others stay ok, mail still goes out (or its failure is said), the result file is written and schema-valid, the exit code follows,
//! and no secret shows (`Run::result` and `Monitor::run` check those two on every run).
//!
//! A new external is one row of `MATRIX` and one arm in `World::inject`; a new fault is one
//! column and one arm per protocol.

use std::sync::Mutex;

use super::support::pg::{self, TestDb};
use super::support::raw::{RawServer, closed_port, smtp_refusing};
use super::*;

#[derive(Clone, Copy, Debug, PartialEq)]
enum External {
    GitHub,
    Heroku,
    Cloudflare,
    Probe,
    PostgreSql,
    Postmark,
    Smtp,
    Slack,
    Webhook,
}

impl External {
    /// The notification channel it is, for a delivery row.
    fn channel(self) -> Option<&'static str> {
        match self {
            External::Postmark => Some("postmark"),
            External::Smtp => Some("smtp"),
            External::Slack => Some("slack"),
            External::Webhook => Some("webhook"),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    /// 401: a bad or revoked credential.
    Unauthorized,
    /// 403 with the rate-limit headers at zero (for a database: a role refused the table).
    RateLimited,
    /// 404 (a database that does not exist; a mailbox that does not).
    NotFound,
    /// 429 with `Retry-After` (a database role out of connections; SMTP 421 at the greeting).
    TooManyRequests,
    /// A 5xx HTML error page (on a non-HTTP port: the page's bytes instead of the protocol).
    ServerErrorHtml,
    /// 200 with a body that is not JSON (garbage instead of the protocol).
    MalformedJson,
    /// The body (or the session) cut off in the middle.
    Truncated,
    /// A redirect elsewhere (SMTP: 551 "user not local, try …").
    Redirect,
    /// Connected, then no answer.
    Timeout,
    /// Nobody listening.
    Refused,
}

use Fault::*;

const FAULTS: [Fault; 10] = [
    Unauthorized,
    RateLimited,
    NotFound,
    TooManyRequests,
    ServerErrorHtml,
    MalformedJson,
    Truncated,
    Redirect,
    Timeout,
    Refused,
];

/// What a fault must come to.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Every check of the external is `unknown` and its message says this.
    Unknown(&'static str),
    /// Every check of the external is `critical` and its message says this.
    Critical(&'static str),
    /// Each named kind of check is as said: `(kind, status, says)`.
    Each(&'static [(&'static str, &'static str, &'static str)]),
    /// The alert mail is not delivered and the result says this; the run exits 3.
    Undelivered(&'static str),
    /// The protocol has no such fault.
    Na(&'static str),
}

use Expect::*;

struct Row {
    external: External,
    /// The kinds of check that use it (none for a mail transport).
    kinds: &'static [&'static str],
    /// One per fault, in the order of `FAULTS`.
    expect: [Expect; 10],
}

const MATRIX: &[Row] = &[
    Row {
        external: External::GitHub,
        kinds: &[
            "cron_heartbeat",
            "repo_activity",
            "environment_protection",
            "workflow_failures",
            "deploy_drift",
        ],
        expect: [
            Unknown("GitHub rejected the credential (HTTP 401: Bad credentials)"),
            Unknown("GitHub rate limit exhausted (HTTP 403), resets at"),
            // A workflow GitHub cannot find is an alert of its own; a repository it cannot
            // find leaves its activity unknown.
            Each(&[
                (
                    "cron_heartbeat",
                    "critical",
                    "workflow billing-retention-cron.yml not found",
                ),
                (
                    "repo_activity",
                    "unknown",
                    "GitHub answered 404 for repository",
                ),
                (
                    "environment_protection",
                    "critical",
                    "environment production does not exist in raxx-app/TradeMasterAPI",
                ),
                (
                    "workflow_failures",
                    "critical",
                    "workflow deploy.yml not found",
                ),
                (
                    "deploy_drift",
                    "unknown",
                    "a commit raxx-app/TradeMasterAPI does not have",
                ),
            ]),
            Unknown("asked to retry after 1 s"),
            Unknown("HTTP 502 after 3 attempts (text/html)"),
            Unknown("malformed JSON"),
            Unknown("the body was cut off after"),
            Unknown("HTTP 301"),
            Unknown("no answer from 127.0.0.1"),
            Unknown("Connection refused"),
        ],
    },
    Row {
        external: External::Heroku,
        kinds: &[
            "heroku_slug",
            "heroku_dynos",
            "heroku_config",
            "deploy_drift",
        ],
        expect: [
            Unknown("HEROKU_API_KEY"),
            Unknown("rate limit"),
            Unknown("Heroku answered 404 for app raxx-api-prod: Couldn't find that app."),
            Unknown("asked to retry after 1 s"),
            Unknown("HTTP 502 after 3 attempts (text/html)"),
            Unknown("unusable answer (HTTP 200"),
            Unknown("the body was cut off after"),
            Unknown("HTTP 301"),
            Unknown("no answer from 127.0.0.1"),
            Unknown("Connection refused"),
        ],
    },
    Row {
        external: External::Cloudflare,
        kinds: &["pages_deploy"],
        expect: [
            Unknown("CLOUDFLARE_PAGES_READ_TOKEN"),
            Unknown("rate limit"),
            // Cloudflare's 404 names the project: the configuration is wrong, an alert.
            Critical("project getraxx does not exist in the Cloudflare account"),
            Unknown("asked to retry after 1 s"),
            Unknown("HTTP 502 after 3 attempts (text/html)"),
            Unknown("unusable answer (HTTP 200"),
            Unknown("the body was cut off after"),
            Unknown("HTTP 301"),
            Unknown("no answer from 127.0.0.1"),
            Unknown("Connection refused"),
        ],
    },
    Row {
        external: External::Probe,
        kinds: &["http_probe"],
        expect: [
            Critical("HTTP 401 (expected 200)"),
            Critical("HTTP 403 (expected 200)"),
            Critical("HTTP 404 (expected 200)"),
            Critical("HTTP 429 (expected 200)"),
            Critical("Heroku router error (HTTP 503)"),
            Critical("not a JSON object, so poller_last_poll_at cannot be read"),
            Critical("the body was cut off after"),
            Critical("redirected (HTTP 301) to https://moved.example.invalid/elsewhere"),
            Critical("no answer from 127.0.0.1"),
            Critical("Connection refused"),
        ],
    },
    Row {
        external: External::PostgreSql,
        kinds: &["stuck_promotion"],
        expect: [
            Unknown("authentication failed"),
            Unknown("permission denied"),
            Unknown("database does not exist"),
            Unknown("too many connections"),
            Unknown("does not speak the PostgreSQL protocol"),
            Unknown("does not speak the PostgreSQL protocol"),
            Unknown("closed the connection before answering"),
            Na("the PostgreSQL protocol has no redirect"),
            Unknown("within 1 s of connecting"),
            Unknown("connection refused"),
        ],
    },
    Row {
        external: External::Postmark,
        kinds: &[],
        expect: [
            Undelivered("POSTMARK_SERVER_TOKEN"),
            Undelivered("rate limit"),
            Undelivered("Postmark answered 404 for /email/batch"),
            Undelivered("asked to retry after 1 s"),
            Undelivered("Postmark answered HTTP 502 (text/html)"),
            Undelivered("Postmark sent an unusable answer (HTTP 200"),
            Undelivered("the body was cut off after"),
            Undelivered("HTTP 301"),
            Undelivered("no answer from 127.0.0.1"),
            Undelivered("Connection refused"),
        ],
    },
    Row {
        external: External::Smtp,
        kinds: &[],
        expect: [
            Undelivered("535"),
            Undelivered("Sending rate limit exceeded"),
            Undelivered("Recipient address rejected"),
            Undelivered("421"),
            Undelivered("SMTP"),
            Undelivered("SMTP"),
            Undelivered("closed the connection in the middle of the session"),
            Undelivered("551"),
            Undelivered("no answer from the server within 3 s"),
            Undelivered("Connection refused"),
        ],
    },
    Row {
        external: External::Slack,
        kinds: &[],
        expect: [
            Undelivered("Slack refused the message (HTTP 401"),
            Undelivered("Slack refused the message (HTTP 403"),
            Undelivered("Slack refused the message (HTTP 404"),
            Undelivered("Slack refused the message (HTTP 429"),
            Undelivered("Slack refused the message (HTTP 502"),
            Na("Slack's 200 is its acceptance, whatever the body"),
            Na("the 200 arrived before the body was cut: accepted"),
            Undelivered("Slack refused the message (HTTP 301"),
            Undelivered("slack: no answer from 127.0.0.1"),
            Undelivered("Connection refused"),
        ],
    },
    Row {
        external: External::Webhook,
        kinds: &[],
        expect: [
            Undelivered("the webhook answered HTTP 401"),
            Undelivered("the webhook answered HTTP 403"),
            Undelivered("the webhook answered HTTP 404"),
            Undelivered("the webhook answered HTTP 429"),
            Undelivered("the webhook answered HTTP 502"),
            Na("any 2xx is acceptance, whatever the body"),
            Na("the 200 arrived before the body was cut: accepted"),
            Undelivered("the webhook answered HTTP 301"),
            Undelivered("webhook: no answer from 127.0.0.1"),
            Undelivered("Connection refused"),
        ],
    },
];

/// Every kind of check in the world, each healthy unless its external is faulted.
/// Every kind the world configures: each must be present, and ok unless its row's fault
/// says otherwise.
const ALL_KINDS: [&str; 11] = [
    "cron_heartbeat",
    "repo_activity",
    "environment_protection",
    "workflow_failures",
    "heroku_slug",
    "heroku_dynos",
    "heroku_config",
    "deploy_drift",
    "pages_deploy",
    "http_probe",
    "stuck_promotion",
];

const APP: &str = "raxx-api-prod";
const HEROKU_RATE_LIMIT: &str = r#"{"id":"rate_limit","message":"Your account reached the API rate limit\nPlease wait a few minutes before making new requests"}"#;
const CLOUDFLARE_RATE_LIMIT: &str = r#"{"success":false,"errors":[{"code":971,"message":"Please wait and consider throttling your request speed"}],"messages":[],"result":null}"#;
const SMTP_PASSWORD: &str = "smtp-pw-SECRET";
const HTML_502: &[u8] = b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n\r\n<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";

/// The servers of one cell; kept alive for the run.
#[derive(Default)]
struct World {
    env: Vec<(&'static str, String)>,
    http: Vec<FakeServer>,
    raw: Vec<RawServer>,
    smtp: bool,
    /// The sections of the channels beside mail (a channel's own row).
    channels: String,
    /// The `[promotions]` and `[run]` limits of this cell.
    limits: Limits,
}

/// Limits a loaded machine cannot miss on a healthy path: only a cell whose fault is a
/// timeout gets short ones, and there the faulted server never answers at all.
#[derive(Default)]
struct Limits {
    /// PostgreSQL's connect and statement timeouts, in seconds.
    database: u32,
    /// Every HTTP request's timeout and the run's deadline, in seconds.
    request: u32,
    deadline: u32,
}

impl Limits {
    fn of(faulted: External, fault: Fault) -> Self {
        match (faulted, fault) {
            (External::PostgreSql, Timeout) => Limits {
                database: 1,
                request: 30,
                deadline: 90,
            },
            // Three attempts of 3 s at a server that holds the answer for 60 s.
            (_, Timeout) => Limits {
                database: 30,
                request: 3,
                deadline: 90,
            },
            _ => Limits {
                database: 30,
                request: 30,
                deadline: 90,
            },
        }
    }
}

impl World {
    /// Everything healthy, with `external` failing as `fault` says.
    fn new(db: &TestDb, faulted: External, fault: Fault) -> Self {
        let mut w = World {
            limits: Limits::of(faulted, fault),
            ..World::default()
        };
        let mail_row = faulted.channel().is_some();
        w.serve(
            "GITHUB_API_URL",
            vec![
                success(BILLING, "github/runs-success-fresh.json"),
                private_repo(),
                Route::get(&format!("/repos/{REPO}/environments/production")).reply(Reply::json(
                    200,
                    fixture("github/environment-protected.json"),
                )),
                Route::get(&runs_path("deploy.yml"))
                    .query("status=completed")
                    .reply(Reply::json(200, fixture("github/runs-success-fresh.json"))),
                Route::get(&format!(
                    "/repos/{REPO}/compare/3f2a1c9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a...main"
                ))
                .reply(Reply::json(200, fixture("github/compare-identical.json"))),
            ],
        );
        w.serve(
            "HEROKU_API_URL",
            vec![
                Route::get(&format!("/apps/{APP}/releases")).reply(Reply::json(
                    200,
                    fixture("heroku/releases-newest-deployed.json"),
                )),
                Route::get(&format!("/apps/{APP}/dynos"))
                    .reply(Reply::json(200, fixture("heroku/dynos-web-up.json"))),
                Route::get(&format!("/apps/{APP}/config-vars")).reply(Reply::json(
                    200,
                    fixture("heroku/config-vars-console-complete.json"),
                )),
                Route::get(&format!(
                    "/apps/{APP}/slugs/c7b5b1e0-5a49-4f8a-9f0b-2a1c8f3d0042"
                ))
                .reply(Reply::json(200, fixture("heroku/slug-3f2a1c9.json"))),
            ],
        );
        w.serve(
            "CLOUDFLARE_API_URL",
            vec![
                Route::get(&format!(
                    "/accounts/{CLOUDFLARE_ACCOUNT}/pages/projects/getraxx/deployments"
                ))
                .reply(Reply::json(
                    200,
                    fixture("cloudflare/deployments-live.json"),
                )),
            ],
        );
        // A mail row needs something to mail about: the probe's target is down.
        let health = if mail_row {
            Reply::html(503, fixture("probe/heroku-router-503.html"))
        } else {
            Reply::json(
                200,
                r#"{"status":"ok","poller_last_poll_at":"2026-05-23T06:29:30Z"}"#,
            )
        };
        w.serve("PROBE_BASE", vec![Route::get("/health").reply(health)]);
        w.serve("POSTMARK_API_URL", vec![postmark_ok()]);
        w.env
            .push(("DATABASE_URL", db.reader_url("sslmode=disable")));
        w.inject(db, faulted, fault);
        w
    }

    fn serve(&mut self, var: &'static str, routes: Vec<Route>) {
        // A fault cuts a run short: what it no longer asks is no finding.
        let server = FakeServer::start(spares(routes));
        self.set(var, server.url.clone());
        self.http.push(server);
    }

    fn set(&mut self, var: &'static str, value: String) {
        self.env.retain(|(k, _)| *k != var);
        self.env.push((var, value));
    }

    fn inject(&mut self, db: &TestDb, external: External, fault: Fault) {
        match external {
            External::GitHub => self.http_fault("GITHUB_API_URL", external, fault),
            External::Heroku => self.http_fault("HEROKU_API_URL", external, fault),
            External::Cloudflare => self.http_fault("CLOUDFLARE_API_URL", external, fault),
            External::Probe => self.http_fault("PROBE_BASE", external, fault),
            External::Postmark => self.http_fault("POSTMARK_API_URL", external, fault),
            External::PostgreSql => {
                let url = self.pg_fault(db, fault);
                self.set("DATABASE_URL", url);
            }
            External::Slack => {
                self.channels = "[slack]\n".into();
                self.http_fault("SLACK_WEBHOOK_URL", external, fault);
            }
            External::Webhook => {
                self.channels = "[webhook]\n".into();
                self.http_fault("ALERT_WEBHOOK_URL", external, fault);
            }
            External::Smtp => {
                self.smtp = true;
                let addr = self.smtp_fault(fault);
                self.set("SMTP_URL", format!("smtp://bot:{SMTP_PASSWORD}@{addr}"));
            }
        }
    }

    fn http_fault(&mut self, var: &'static str, external: External, fault: Fault) {
        if let Refused = fault {
            self.set(var, format!("http://127.0.0.1:{}", closed_port()));
            return;
        }
        self.serve(var, vec![Route::any().reply(http_reply(external, fault))]);
    }

    fn pg_fault(&mut self, db: &TestDb, fault: Fault) -> String {
        let at = |addr: &str| {
            format!(
                "postgres://{}:pw-SECRET@{addr}/{}?sslmode=disable",
                db.role, db.name
            )
        };
        match fault {
            Unauthorized => at(&pg::addr()),
            RateLimited => db.role_without_select(),
            NotFound => db
                .reader_url("sslmode=disable")
                .replace(&db.name, "hm_no_such_database"),
            TooManyRequests => db.role_with_no_connections_left(),
            ServerErrorHtml => self.raw_at(RawServer::says(HTML_502), at),
            MalformedJson => {
                self.raw_at(RawServer::says(b"\x00\x01not the PostgreSQL protocol"), at)
            }
            Truncated => self.raw_at(RawServer::hangs_up(), at),
            Redirect => unreachable!("not applicable"),
            Timeout => self.raw_at(RawServer::silent(), at),
            Refused => at(&format!("127.0.0.1:{}", closed_port())),
        }
    }

    fn raw_at(&mut self, server: RawServer, url: impl Fn(&str) -> String) -> String {
        let u = url(&server.addr);
        self.raw.push(server);
        u
    }

    fn smtp_fault(&mut self, fault: Fault) -> String {
        let server = match fault {
            Unauthorized => {
                smtp_refusing("AUTH", "535 5.7.8 Authentication credentials invalid\r\n")
            }
            RateLimited => smtp_refusing(
                "MAIL",
                "550 5.7.1 Sending rate limit exceeded for this account\r\n",
            ),
            NotFound => smtp_refusing(
                "RCPT",
                "550 5.1.1 <ops@raxx.app>: Recipient address rejected: User unknown\r\n",
            ),
            TooManyRequests => smtp_refusing(
                "CONNECT",
                "421 4.7.0 Too many connections, try again later\r\n",
            ),
            ServerErrorHtml => RawServer::says(HTML_502),
            MalformedJson => RawServer::says(b"hello? this is not SMTP\r\n"),
            Truncated => smtp_refusing("DATA", ""),
            Redirect => smtp_refusing(
                "RCPT",
                "551 5.1.6 User not local; please try <ops@elsewhere.example>\r\n",
            ),
            Timeout => RawServer::silent(),
            Refused => return format!("127.0.0.1:{}", closed_port()),
        };
        let addr = server.addr.clone();
        self.raw.push(server);
        addr
    }

    fn config(&self) -> String {
        let probe = &self.env.iter().find(|(k, _)| *k == "PROBE_BASE").unwrap().1;
        let transport = if self.smtp { "smtp" } else { "postmark" };
        format!(
            r#"
[github]
repo = "{REPO}"

[[heartbeat]]
workflow = "{BILLING}"

[[environment]]
name = "production"

[[workflow_failures]]
workflow = "deploy.yml"

[[deploy]]
heroku_app = "{APP}"
branch = "main"

[[heroku_app]]
name = "{APP}"
min_web_dynos = 1
required_config = ["CLOUDFLARE_ACCOUNT_ID"]

[[pages_project]]
name = "getraxx"

[[http_probe]]
name = "console-prod"
url = "{probe}/health"
fresh_field = "poller_last_poll_at"
fresh_max_age_seconds = 120

[promotions]
table = "console_flag_promotions"
name_column = "flag_name"
state_column = "state"
since_column = "updated_at"
connect_timeout_seconds = {database}
statement_timeout_seconds = {database}

[mail]
transport = "{transport}"

[run]
request_timeout_seconds = {request}
deadline_seconds = {deadline}
mail_budget_seconds = {deadline}

{channels}"#,
            database = self.limits.database,
            request = self.limits.request,
            deadline = self.limits.deadline,
            channels = self.channels
        )
    }

    fn run(&self) -> Run {
        let mut m = Monitor::bare().now(NOW).config(&self.config());
        for (k, v) in [
            ("FLAG_CRON_HEARTBEAT_MONITOR", "1"),
            ("GITHUB_TOKEN", GITHUB_TOKEN),
            ("HEROKU_API_KEY", HEROKU_KEY),
            ("CLOUDFLARE_PAGES_READ_TOKEN", CLOUDFLARE_TOKEN),
            ("CLOUDFLARE_ACCOUNT_ID", CLOUDFLARE_ACCOUNT),
            ("POSTMARK_SERVER_TOKEN", POSTMARK_TOKEN),
            ("OPS_ALERT_EMAIL", "ops@raxx.app"),
            ("OPS_ALERT_FROM", "heartbeat-monitor@raxx.app"),
        ] {
            m = m.env(k, v);
        }
        for (k, v) in &self.env {
            m = m.env(k, v);
        }
        m.run()
    }
}

/// The fault as an HTTP answer, with the external's own error bodies where we have them.
fn http_reply(external: External, fault: Fault) -> Reply {
    use External::*;
    let own = |github: &str, heroku: &str, cloudflare: &str, postmark: &str| match external {
        GitHub => Reply::json(0, fixture(github)),
        Heroku => Reply::json(0, fixture(heroku)),
        Cloudflare => Reply::json(0, fixture(cloudflare)),
        Postmark => Reply::json(0, fixture(postmark)),
        _ => Reply::html(
            0,
            "<html><head><title>Error</title></head><body>no</body></html>",
        ),
    };
    let status = |reply: Reply, code: u16| match reply {
        Reply::Full { headers, body, .. } => Reply::Full {
            status: code,
            headers,
            body,
        },
        other => other,
    };
    match fault {
        Unauthorized => status(
            own(
                "github/error-401.json",
                "heroku/error-401.json",
                "cloudflare/error-401.json",
                "postmark/error-401.json",
            ),
            401,
        ),
        RateLimited => status(
            match external {
                GitHub => Reply::json(0, fixture("github/error-403-rate-limit.json")),
                Heroku => Reply::json(0, HEROKU_RATE_LIMIT),
                Cloudflare => Reply::json(0, CLOUDFLARE_RATE_LIMIT),
                Postmark => Reply::json(0, r#"{"ErrorCode":429,"Message":"Rate limit exceeded"}"#),
                _ => Reply::html(0, "<html><head><title>Access denied | rate limited</title></head><body>Error 1015</body></html>"),
            },
            403,
        )
        .header("x-ratelimit-remaining", "0")
        .header("x-ratelimit-reset", "1779519600")
        .header("ratelimit-remaining", "0"),
        NotFound => status(
            own(
                "github/error-404.json",
                "heroku/error-404-app.json",
                "cloudflare/error-404-project.json",
                "postmark/error-422.json",
            ),
            404,
        ),
        TooManyRequests => {
            Reply::json(429, r#"{"message":"Too Many Requests"}"#).header("Retry-After", "1")
        }
        ServerErrorHtml if external == Probe => {
            Reply::html(503, fixture("probe/heroku-router-503.html"))
        }
        ServerErrorHtml => Reply::html(502, fixture("github/unicorn-502.html")),
        MalformedJson => Reply::json(200, r#"{"total_count": 1, "result": [{"id": 9001,, }"#),
        Truncated => Reply::Truncated {
            declared: 2048,
            body: r#"{"total_count": 1, "workflow_runs": [{"id": 90"#.into(),
        },
        Redirect => Reply::Full {
            status: 301,
            headers: vec![(
                "Location".into(),
                "https://moved.example.invalid/elsewhere".into(),
            )],
            body: String::new(),
        },
        Timeout => Reply::Slow(Duration::from_secs(60), Box::new(Reply::json(200, "{}"))),
        Refused => unreachable!("no server"),
    }
}

/// What went wrong in one cell, or nothing.
fn check_cell(row: &Row, fault: Fault, expect: Expect, run: &Run) -> Vec<String> {
    let mut wrong = Vec::new();
    let r = run.result();
    let checks = r["checks"].as_array().unwrap();
    let of_kind = |kind: &'static str| checks.iter().filter(move |c| c["kind"] == kind);
    for kind in ALL_KINDS {
        if of_kind(kind).next().is_none() {
            wrong.push(format!("no {kind} check"));
        }
    }
    // Per kind: the status and words it must have; the mail's reason is the probe's 503.
    let mail_row = matches!(expect, Undelivered(_));
    let want = |kind: &str| -> (&str, &str) {
        match expect {
            Unknown(s) if row.kinds.contains(&kind) => ("unknown", s),
            Critical(s) if row.kinds.contains(&kind) => ("critical", s),
            Each(list) => list
                .iter()
                .find(|(k, _, _)| *k == kind)
                .map_or(("ok", ""), |(_, st, s)| (*st, *s)),
            Undelivered(_) if kind == "http_probe" => ("critical", "Heroku router error"),
            _ => ("ok", ""),
        }
    };
    let mut worst = 0;
    for kind in ALL_KINDS {
        let (want_status, says) = want(kind);
        worst = worst.max(match want_status {
            "unknown" => 3,
            "critical" => 2,
            _ => 0,
        });
        for c in of_kind(kind) {
            let (status, message) = (
                c["status"].as_str().unwrap(),
                c["message"].as_str().unwrap(),
            );
            if status != want_status || !message.contains(says) {
                wrong.push(format!(
                    "{kind} is {status} {message:?}, want {want_status} saying {says:?}"
                ));
            }
        }
    }
    let want_exit = if mail_row { 3 } else { worst };
    let notes = r["notifications"].as_array().unwrap();
    if notes.is_empty() {
        wrong.push("nothing was to be mailed".into());
    }
    if let Some(channel) = row.external.channel()
        && !notes.iter().any(|n| n["channel"] == channel)
    {
        wrong.push(format!("nothing was delivered on {channel}"));
    }
    for n in notes {
        let (sent, error) = (
            n["sent"].as_bool().unwrap(),
            n["error"].as_str().unwrap_or(""),
        );
        let faulted = row.external.channel() == n["channel"].as_str();
        if let (Undelivered(says), true) = (expect, faulted) {
            if sent || !error.contains(says) {
                wrong.push(format!(
                    "mail sent={sent} error {error:?}, want unsent saying {says:?}"
                ));
            }
        } else if !sent {
            wrong.push(format!("the healthy {} failed: {error}", n["channel"]));
        }
    }
    if run.code != want_exit || r["exit_code"] != want_exit {
        wrong.push(format!(
            "exit {} (result {}), want {want_exit}",
            run.code, r["exit_code"]
        ));
    }
    if wrong.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "{:?} × {fault:?}:\n    {}",
            row.external,
            wrong.join("\n    ")
        )]
    }
}

#[test]
fn every_external_times_every_fault() {
    let db = TestDb::new();
    db.row("billing_v2", "deployed", "2026-05-20T00:00:00Z");
    let cells: Vec<(&Row, Fault, Expect)> = MATRIX
        .iter()
        .flat_map(|row| {
            FAULTS
                .iter()
                .zip(row.expect)
                .map(move |(f, e)| (row, *f, e))
        })
        .filter(|(_, _, e)| !matches!(e, Na(_)))
        .collect();
    let next = Mutex::new(cells.iter());
    let failures = Mutex::new(Vec::new());
    // Cells wait on timeouts and Retry-After far more than they compute: run eight at once.
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                while let Some(&(row, fault, expect)) = {
                    let mut it = next.lock().unwrap();
                    it.next()
                } {
                    let world = World::new(&db, row.external, fault);
                    let run = world.run();
                    let wrong = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        check_cell(row, fault, expect, &run)
                    }))
                    .unwrap_or_else(|p| {
                        vec![format!(
                            "{:?} × {fault:?}: {}",
                            row.external,
                            panic_text(&p)
                        )]
                    });
                    failures.lock().unwrap().extend(wrong);
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    let not_applicable: Vec<String> = MATRIX
        .iter()
        .flat_map(|row| FAULTS.iter().zip(row.expect).map(move |(f, e)| (row, f, e)))
        .filter_map(|(row, f, e)| match e {
            Na(why) => Some(format!("{:?} × {f:?}: {why}", row.external)),
            _ => None,
        })
        .collect();
    assert_eq!(
        cells.len() + not_applicable.len(),
        MATRIX.len() * FAULTS.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cells wrong (not applicable: {}):\n{}",
        failures.len(),
        cells.len(),
        not_applicable.join("; "),
        failures.join("\n")
    );
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}
