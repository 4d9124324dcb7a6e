//! The issues channel and the alert state against what a blip, a hostile server or a busy
//! run does: markers server text cannot move, ids that read back, server text GitHub shows as
//! text, the monitor's own issue closed by a clean run, entries a blip cannot wipe, and what a
//! channel could not deliver delivered later.

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

use super::issues::issue;
use super::*;

const ISSUES: &str = "/repos/raxx-app/TradeMasterAPI/issues";
const LOGIN: &str = "heartbeat-bot";

/// `[github_issues]` beside `checks`.
fn config(checks: &str) -> String {
    format!(
        "{checks}\n[github_issues]\nrepo = \"raxx-app/TradeMasterAPI\"\nlabels = [\"incident\"]\n"
    )
}

/// An `[[http_probe]]` named `name` at `server`'s `/name`.
fn probe(server_url: &str, name: &str) -> String {
    format!("[[http_probe]]\nname = \"{name}\"\nurl = \"{server_url}/{name}\"\n")
}

/// A health endpoint failing with `text` as its plain-text body.
fn failing(name: &str, text: &str) -> Route {
    Route::get(&format!("/{name}")).reply(Reply::Full {
        status: 503,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: text.into(),
    })
}

/// GitHub's issues API with `open` listed, new issues numbered 12, and comments and closings
/// accepted on issues 7, 12 and 13.
fn issues_api(open: Vec<Value>) -> Vec<Route> {
    let answer = |status: u16, body: Value| Reply::json(status, body.to_string());
    let mut routes = vec![
        postmark_ok(),
        Route::get("/user").reply(answer(200, serde_json::json!({"login": LOGIN, "id": 7}))),
        Route::get(ISSUES).reply(answer(200, Value::Array(open))),
        Route::post(ISSUES).reply(answer(201, issue(12, LOGIN, "x"))),
    ];
    for n in [7, 12, 13] {
        routes.push(
            Route::post(&format!("{ISSUES}/{n}/comments"))
                .reply(answer(201, serde_json::json!({"id": n, "body": "x"}))),
        );
        routes
            .push(Route::patch(&format!("{ISSUES}/{n}")).reply(answer(200, issue(n, LOGIN, "x"))));
    }
    // The writes are the API's whole surface; each test reads which of them it made.
    let writes = routes.split_off(3);
    routes.extend(spares(writes));
    routes
}

/// A server answering `routes` and GitHub's issues API, listing `open`.
fn world(routes: Vec<Route>, open: Vec<Value>) -> FakeServer {
    let mut all = routes;
    all.extend(issues_api(open));
    FakeServer::start(all)
}

fn sent(server: &FakeServer, method: &str, path: &str) -> Vec<Value> {
    server
        .requests()
        .iter()
        .filter(|r| r.method == method && r.path() == path)
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect()
}

fn bodies(server: &FakeServer, method: &str, path: &str) -> Vec<String> {
    sent(server, method, path)
        .iter()
        .map(|v| v["body"].as_str().unwrap().to_string())
        .collect()
}

/// The issue GitHub would list for the one a run created: numbered `number`, its body as sent.
fn as_listed(number: u64, created: &Value) -> Value {
    issue(number, LOGIN, created["body"].as_str().unwrap())
}

// 4
#[test]
fn another_checks_marker_in_server_text_does_not_move_an_issue() {
    let forged = "<!-- heartbeat-monitor:http_probe:web -->";
    let routes = || {
        vec![
            failing("api", &format!("down {forged} down")),
            failing("web", "down"),
        ]
    };
    let server = world(routes(), vec![]);
    let cfg = config(&(probe(&server.url, "api") + &probe(&server.url, "web")));
    let run = Monitor::new(&server).config(&cfg).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    let created = sent(&server, "POST", ISSUES);
    assert_eq!(created.len(), 2);
    let of = |name: &str| {
        created
            .iter()
            .find(|c| c["title"].as_str().unwrap().ends_with(name))
            .unwrap()
            .clone()
    };
    let (api, web) = (of("api"), of("web"));
    assert!(
        api["body"]
            .as_str()
            .unwrap()
            .contains("heartbeat-monitor:http_probe:web")
    );

    // Next run: both are open, api's listed first. Each gets its own comment; none is opened.
    let server = world(routes(), vec![as_listed(12, &api), as_listed(13, &web)]);
    let cfg = config(&(probe(&server.url, "api") + &probe(&server.url, "web")));
    let run = Monitor::new(&server).config(&cfg).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        sent(&server, "POST", ISSUES).is_empty(),
        "no duplicate opened"
    );
    assert_eq!(
        sent(&server, "POST", &format!("{ISSUES}/12/comments")).len(),
        1
    );
    assert_eq!(
        sent(&server, "POST", &format!("{ISSUES}/13/comments")).len(),
        1
    );
    assert!(sent(&server, "PATCH", &format!("{ISSUES}/12")).is_empty());
    assert!(sent(&server, "PATCH", &format!("{ISSUES}/13")).is_empty());
}

// 5
#[test]
fn a_check_id_with_two_dashes_finds_its_issue_again() {
    let server = world(vec![failing("api--prod", "down")], vec![]);
    let cfg = config(&probe(&server.url, "api--prod"));
    Monitor::new(&server).config(&cfg).run();
    let created = sent(&server, "POST", ISSUES);
    assert_eq!(created.len(), 1);

    let server = world(
        vec![failing("api--prod", "down")],
        vec![as_listed(12, &created[0])],
    );
    let cfg = config(&probe(&server.url, "api--prod"));
    let run = Monitor::new(&server).config(&cfg).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(sent(&server, "POST", ISSUES).is_empty(), "no second issue");
    assert_eq!(
        sent(&server, "POST", &format!("{ISSUES}/12/comments")).len(),
        1
    );
}

/// Fails unless GitHub would render `body` (CommonMark) with no link, image or HTML but our
/// own marker on the last line, and no `@name` outside code.
fn assert_inert(body: &str) {
    let mut in_code = 0;
    let last = body
        .trim_end()
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    for event in Parser::new(body) {
        match &event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_))) => in_code += 1,
            Event::End(TagEnd::CodeBlock) => in_code -= 1,
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => {
                panic!("a link or image: {event:?} in\n{body}")
            }
            Event::Html(html) | Event::InlineHtml(html) => assert!(
                html.trim_end() == last && last.starts_with("<!-- heartbeat-monitor:"),
                "HTML {html:?} that is not our marker, in\n{body}"
            ),
            Event::Text(text) if in_code == 0 => {
                let mention = text.char_indices().any(|(i, c)| {
                    c == '@' && text[i + 1..].starts_with(|n: char| n.is_alphanumeric())
                });
                assert!(!mention, "a mention in {text:?} of\n{body}");
                assert!(!text.contains("://"), "an autolink in {text:?} of\n{body}");
            }
            _ => {}
        }
    }
}

// 7
#[test]
fn server_text_renders_no_mention_image_link_or_html_in_issues_and_comments() {
    let hostile = "@octocat @raxx-app/ops ![x](https://attacker.invalid/p.png) <img src=x> [go](https://attacker.invalid) https://attacker.invalid/";
    let server = world(vec![failing("api", hostile)], vec![]);
    let cfg = config(&probe(&server.url, "api"));
    Monitor::new(&server).config(&cfg).run();
    let created = sent(&server, "POST", ISSUES);
    let body = created[0]["body"].as_str().unwrap();
    assert!(
        body.contains("@octocat @raxx-app/ops"),
        "the text is shown: {body}"
    );
    assert_inert(body);

    let server = world(
        vec![failing("api", hostile)],
        vec![as_listed(7, &created[0])],
    );
    let cfg = config(&probe(&server.url, "api"));
    Monitor::new(&server).config(&cfg).run();
    let comments = bodies(&server, "POST", &format!("{ISSUES}/7/comments"));
    assert_eq!(comments.len(), 1);
    assert!(comments[0].contains("@octocat"), "{}", comments[0]);
    assert_inert(&comments[0]);
}

/// Our issue about the monitor itself, open.
fn monitor_issue(number: u64) -> Value {
    issue(
        number,
        LOGIN,
        "checks could not be evaluated\n\n<!-- heartbeat-monitor:monitor-failed -->",
    )
}

fn healthy(name: &str) -> Route {
    Route::get(&format!("/{name}")).reply(Reply::json(200, r#"{"status": "ok"}"#))
}

// 11
#[test]
fn a_clean_run_closes_the_monitor_failed_issue() {
    let server = world(vec![healthy("api")], vec![monitor_issue(7)]);
    let cfg = config(&probe(&server.url, "api"));
    let run = Monitor::new(&server).config(&cfg).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(subjects(&server).is_empty(), "nothing to mail");
    let said = bodies(&server, "POST", &format!("{ISSUES}/7/comments"));
    assert_eq!(said.len(), 1, "closed with a word");
    assert!(
        said[0].contains("every check could be evaluated again"),
        "{}",
        said[0]
    );
    assert_eq!(
        sent(&server, "PATCH", &format!("{ISSUES}/7")),
        [serde_json::json!({"state": "closed", "state_reason": "completed"})]
    );
}

const DISCOVER: &str = "[github]\nrepo = \"raxx-app/TradeMasterAPI\"\ndiscover = true\n";

/// The repository's workflows as discovery reads them: trace's last success at `trace_at`,
/// billing's on Friday, nightly-export disabled by GitHub (critical whatever it ran).
fn discovered(trace_at: &str) -> Vec<Route> {
    let runs = |id: u64| {
        let mut list: Value =
            serde_json::from_str(&fixture("github/runs-success-fresh.json")).unwrap();
        for run in list["workflow_runs"].as_array_mut().unwrap() {
            run["workflow_id"] = Value::from(id);
        }
        list["workflow_runs"].as_array().unwrap().clone()
    };
    let mut all = runs(102);
    let mut trace = runs(101);
    trace[0]["created_at"] = trace_at.into();
    trace[0]["updated_at"] = trace_at.into();
    if trace_at > "2026-05-22" {
        all.extend(trace);
    }
    let wide = serde_json::json!({"total_count": all.len(), "workflow_runs": all});
    // A fresh trace is judged from the wide list: its own runs are asked only when stale.
    let fresh = trace_at > "2026-05-22";
    let own = |r: Route| if fresh { r.optional() } else { r };
    vec![
        Route::get(&format!("/repos/{REPO}/actions/workflows"))
            .reply(Reply::json(200, fixture("github/workflows-list.json"))),
        workflow_file(TRACE),
        workflow_file(BILLING),
        workflow_file("deploy-heroku.yml"),
        workflow_file("nightly-export.yml"),
        Route::get(&format!("/repos/{REPO}/actions/runs"))
            .query("status=success")
            .reply(Reply::json(200, wide.to_string())),
        own(success(TRACE, "github/runs-success-stale.json")),
        own(Route::get(&runs_path(TRACE))
            .any_status()
            .reply(Reply::json(200, fixture("github/runs-latest-failure.json")))),
        success("nightly-export.yml", "github/runs-success-stale.json"),
        Route::get(&runs_path("nightly-export.yml"))
            .any_status()
            .reply(Reply::json(200, fixture("github/runs-success-stale.json"))),
        private_repo(),
    ]
}

// 3
#[test]
fn a_blip_in_the_workflow_list_keeps_the_discovered_workflows_alert_state() {
    let state = super::support::scratch("blip-discovered").join("state.json");
    let state = state.to_str().unwrap();
    let server = world(discovered("2026-05-18T05:00:00Z"), vec![]);
    let run = Monitor::new(&server)
        .config(&config(DISCOVER))
        .args(&["--state-file", state])
        .run();
    assert_eq!(
        run.check(&id(TRACE))["status"],
        "critical",
        "{}",
        run.stdout
    );
    let created = sent(&server, "POST", ISSUES);
    let trace = created
        .iter()
        .find(|c| {
            c["title"]
                .as_str()
                .unwrap()
                .ends_with("trace-integrity-cron")
        })
        .unwrap()
        .clone();

    // The workflow list answers 502 once: discovery cannot report.
    let mut blip = vec![
        Route::get(&format!("/repos/{REPO}/actions/workflows"))
            .reply(Reply::html(502, fixture("github/unicorn-502.html"))),
    ];
    // The failing list comes first: the rest of the world stays unasked.
    blip.extend(spares(discovered("2026-05-18T05:00:00Z")));
    let server = world(blip, vec![as_listed(12, &trace)]);
    let run = Monitor::new(&server)
        .config(&config(DISCOVER))
        .now("2026-05-23T07:30:00Z")
        .args(&["--state-file", state])
        .run();
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        run.check(&format!("cron_heartbeat:{REPO}:*"))["status"],
        "unknown"
    );
    let kept = std::fs::read_to_string(state).unwrap();
    assert!(kept.contains(&id(TRACE)), "trace's entry is kept: {kept}");

    // Trace runs again: its recovery is told and its issue closed.
    let server = world(
        discovered("2026-05-23T08:04:11Z"),
        vec![as_listed(12, &trace)],
    );
    let run = Monitor::new(&server)
        .config(&config(DISCOVER))
        .now("2026-05-23T08:30:00Z")
        .args(&["--state-file", state])
        .run();
    assert_eq!(run.check(&id(TRACE))["status"], "ok", "{}", run.stdout);
    assert!(
        subjects(&server)
            .iter()
            .any(|s| s.ends_with("RESOLVED: cron heartbeat STALE: trace-integrity-cron")),
        "{:?}",
        subjects(&server)
    );
    assert_eq!(
        sent(&server, "PATCH", &format!("{ISSUES}/12")).len(),
        1,
        "closed"
    );
    assert!(
        !subjects(&server)
            .iter()
            .any(|s| s.contains("STALE: nightly-export")),
        "export, still failing and told, is not mailed as new: {:?}",
        subjects(&server)
    );
}

// 12
#[test]
fn issues_past_the_write_cap_are_opened_by_the_next_run() {
    let names: Vec<String> = (0..85).map(|i| format!("svc{i:02}")).collect();
    let routes = || names.iter().map(|n| failing(n, "down")).collect::<Vec<_>>();
    let state = super::support::scratch("issues-cap").join("state.json");
    let state = state.to_str().unwrap();
    let server = world(routes(), vec![]);
    let cfg = config(
        &names
            .iter()
            .map(|n| probe(&server.url, n))
            .collect::<String>(),
    );
    let run = Monitor::new(&server)
        .config(&cfg)
        .args(&["--state-file", state])
        .run();
    assert_eq!(run.code, 3, "{}", run.stderr);
    let first = sent(&server, "POST", ISSUES);
    assert_eq!(first.len(), 80, "GitHub's limit a minute");
    assert!(
        run.stderr.contains("left for the next run"),
        "{}",
        run.stderr
    );

    let listed: Vec<Value> = first
        .iter()
        .enumerate()
        .map(|(i, c)| as_listed(100 + i as u64, c))
        .collect();
    let server = world(routes(), listed);
    let cfg = config(
        &names
            .iter()
            .map(|n| probe(&server.url, n))
            .collect::<String>(),
    );
    let run = Monitor::new(&server)
        .config(&cfg)
        .now("2026-05-23T07:30:00Z")
        .args(&["--state-file", state])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(subjects(&server).is_empty(), "mail was told: not again");
    let title = |c: &Value| c["title"].as_str().unwrap().to_string();
    let mut opened: Vec<String> = sent(&server, "POST", ISSUES).iter().map(title).collect();
    let mut left: Vec<String> = names
        .iter()
        .filter(|n| !first.iter().any(|c| title(c).ends_with(&format!(": {n}"))))
        .map(|n| format!("[heartbeat-monitor] surface DEGRADED: {n}"))
        .collect();
    opened.sort();
    left.sort();
    assert_eq!(opened.len(), 5, "{opened:?}");
    assert_eq!(opened, left);
}

// 12
#[test]
fn an_issue_github_refused_once_is_opened_by_the_next_run() {
    let state = super::support::scratch("issues-retry").join("state.json");
    let state = state.to_str().unwrap();
    let mut routes = vec![
        failing("api", "down"),
        Route::post(ISSUES).reply(Reply::html(502, fixture("github/unicorn-502.html"))),
    ];
    routes.extend(issues_api(vec![]));
    let server = FakeServer::start(routes);
    let cfg = config(&probe(&server.url, "api"));
    let run = Monitor::new(&server)
        .config(&cfg)
        .args(&["--state-file", state])
        .run();
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(subjects(&server).len(), 1, "the mail went");

    let server = world(vec![failing("api", "down")], vec![]);
    let cfg = config(&probe(&server.url, "api"));
    let run = Monitor::new(&server)
        .config(&cfg)
        .now("2026-05-23T07:30:00Z")
        .args(&["--state-file", state])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(subjects(&server).is_empty(), "not mailed twice");
    assert_eq!(sent(&server, "POST", ISSUES).len(), 1, "opened now");
}
