//! A realistic run with no token and no network: GitHub, Heroku, Cloudflare, the console's
//! health endpoint and Postmark are all played by one server on 127.0.0.1 answering from
//! `fixtures/`, and the monitor runs exactly as in production against `examples/raxx.toml`
//! (its probe URL pointed at that server).
//!
//! Two mornings of the team's incident reports can be replayed:
//! - `2026-05-23` (the default): the crons went silent, the console's probe is caught by the
//!   Cloudflare Access login page;
//! - `2026-04-30`: the same world 23 days earlier, when raxx-api-prod had never been deployed
//!   while staging deploys kept succeeding (its RCA).
//!
//! Both mornings, the stream gateway `raxx-stream-prod` (a Fir-generation app: OCI images, no
//! slug) runs main's commit on two web dynos.
//!
//! `cargo run --example demo [-- --scene 2026-04-30] [-- --dry-run]` (`--dry-run` prints the
//! mails instead of sending them).

// Printing what happened is the demo's job; it borrows the tests' fixture server.
#![allow(clippy::print_stdout, unreachable_pub, clippy::unwrap_used)]

#[path = "../tests/cli/support/server.rs"]
mod server;

use std::sync::Arc;

use server::{FakeServer, Recorded, Reply, Route, fixture, postmark_batch};

const REPO: &str = "/repos/raxx-app/TradeMasterAPI";
const CONSOLE_URL: &str = "https://raxx-console-prod.herokuapp.com";

/// One morning of the incident reports.
struct Scene {
    now: &'static str,
    /// How many days before the fixtures' own morning (2026-05-23) this one is: every time in
    /// a fixture body moves back by as much, so the world keeps its shape.
    days_earlier: i64,
    /// RCA 2026-04-30: every release of raxx-api-prod only set config vars; no code, no dyno.
    prod_never_deployed: bool,
}

const SCENES: [Scene; 2] = [
    Scene {
        now: "2026-05-23T06:30:00Z",
        days_earlier: 0,
        prod_never_deployed: false,
    },
    Scene {
        now: "2026-04-30T06:30:00Z",
        days_earlier: 23,
        prod_never_deployed: true,
    },
];

/// `--scene DATE` picks the morning; every other argument goes to the monitor.
fn scene_and_args() -> Result<(&'static Scene, Vec<String>), String> {
    let mut args = std::env::args().skip(1);
    let mut rest = Vec::new();
    let mut scene = &SCENES[0];
    while let Some(arg) = args.next() {
        if arg != "--scene" {
            rest.push(arg);
            continue;
        }
        let date = args.next().unwrap_or_default();
        scene = SCENES
            .iter()
            .find(|s| s.now.starts_with(&date) && !date.is_empty())
            .ok_or_else(|| format!("--scene {date:?}: expected 2026-05-23 or 2026-04-30"))?;
    }
    Ok((scene, rest))
}

/// GitHub's contents API serving the workflow file of `fixtures/github/workflows/`, in
/// base64 lines as GitHub sends it.
fn workflow_file(name: &str) -> Route {
    use base64::Engine as _;
    let text = fixture(&format!("github/workflows/{name}"));
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(60)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    let path = format!(".github/workflows/{name}");
    let body = serde_json::json!({
        "type": "file", "encoding": "base64", "name": name, "path": path,
        "content": lines.join("\n"),
    });
    Route::get(&format!("{REPO}/contents/{path}")).reply(Reply::json(200, body.to_string()))
}

/// `body` with every `YYYY-MM-DDTHH:MM:SSZ` time moved `days` earlier.
fn earlier(body: &str, days: i64) -> String {
    if days == 0 {
        return body.to_string();
    }
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let time = rest
            .get(..20)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        match time {
            Some(t) => {
                let moved = t.to_utc() - chrono::Duration::days(days);
                out.push_str(&moved.format("%Y-%m-%dT%H:%M:%SZ").to_string());
                rest = &rest[20..];
            }
            None => {
                out.push_str(&rest[..1]);
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn main() {
    let (scene, extra_args) = match scene_and_args() {
        Ok(picked) => picked,
        Err(e) => {
            println!("demo: {e}");
            std::process::exit(2);
        }
    };
    let runs = |wf: &str| format!("{REPO}/actions/workflows/{wf}/runs");
    let json = |file: &str| Reply::json(200, earlier(&fixture(file), scene.days_earlier));
    let (prod_releases, prod_dynos) = if scene.prod_never_deployed {
        // Not moved: this fixture is that morning's own.
        let releases = Reply::json(200, fixture("heroku/releases-newest-no-slug.json"));
        (releases, json("heroku/dynos-none.json"))
    } else {
        let releases = json("heroku/releases-newest-deployed.json");
        (releases, json("heroku/dynos-web-up.json"))
    };
    let world = FakeServer::scene(vec![
        // GitHub: billing ran last night; trace-integrity has not succeeded for five days.
        Route::get(&runs("billing-retention-cron.yml"))
            .query("status=success")
            .reply(json("github/runs-success-fresh.json")),
        workflow_file("billing-retention-cron.yml"),
        workflow_file("trace-integrity-cron.yml"),
        Route::get(&runs("trace-integrity-cron.yml"))
            .query("status=success")
            .reply(json("github/runs-success-stale.json")),
        Route::get(&runs("trace-integrity-cron.yml"))
            .any_status()
            .reply(json("github/runs-latest-failure.json")),
        Route::get(&format!("{REPO}/actions/workflows/trace-integrity-cron.yml"))
            .reply(json("github/workflow-active.json")),
        Route::get(REPO).reply(json("github/repo-private.json")),
        // The deploy workflow has failed on every push for two weeks.
        Route::get(&runs("deploy-heroku.yml"))
            .query("status=completed")
            .reply(json("github/runs-deploy-failing.json")),
        // The production environment was never created (the 2026-04-30 RCA): no approval gate.
        Route::get(&format!("{REPO}/environments/production"))
            .reply(Reply::json(404, fixture("github/error-404.json"))),
        // Heroku: the production API is deployed and up (on 2026-04-30: never deployed).
        Route::get("/apps/raxx-api-prod/releases").reply(prod_releases),
        Route::get("/apps/raxx-api-prod/dynos").reply(prod_dynos),
        Route::get("/apps/raxx-api-prod/formation").reply(json("heroku/formation-empty.json")),
        // Created 2026-04-22 (the RCA): asked only when no dyno runs, on that morning.
        Route::get("/apps/raxx-api-prod")
            .reply(Reply::json(200, fixture("heroku/app-raxx-api-prod.json"))),
        Route::get("/apps/raxx-api-prod/config-vars").reply(json("heroku/config-vars-api.json")),
        Route::get("/apps/raxx-api-prod/slugs/c7b5b1e0-5a49-4f8a-9f0b-2a1c8f3d0042")
            .reply(json("heroku/slug-3f2a1c9.json")),
        Route::get(&format!(
            "{REPO}/compare/3f2a1c9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a...main"
        ))
        .reply(json("github/compare-identical.json")),
        // The console runs, with every secret its status poller needs.
        Route::get("/apps/raxx-console-prod/releases").reply(json("heroku/releases-newest-deployed.json")),
        Route::get("/apps/raxx-console-prod/dynos").reply(json("heroku/dynos-web-up.json")),
        Route::get("/apps/raxx-console-prod/config-vars")
            .reply(json("heroku/config-vars-console-complete.json")),
        // The stream gateway, on Fir: its release runs an OCI image built from main's head.
        Route::get("/apps/raxx-stream-prod/releases")
            .reply(json("heroku/releases-fir-oci-deployed.json")),
        Route::get("/apps/raxx-stream-prod/dynos").reply(json("heroku/dynos-fir-web-up.json")),
        Route::get("/apps/raxx-stream-prod/oci-images/4e7a2b1c-9d3f-4a6b-8c5e-1f2a3b4c5d6e")
            .reply(json("heroku/oci-image-5b7e2d4.json")),
        Route::get(&format!(
            "{REPO}/compare/5b7e2d4c1a9f8e3b6d0c2a4f7e9b1d3c5a7f9e2b...main"
        ))
        .reply(json("github/compare-fir-identical.json")),
        // The console's health endpoint sits behind Cloudflare Access, whose policy no longer
        // admits the monitor's service token: every probe gets the login page.
        Route::get("/health").reply(Reply::With(Arc::new(|_: &Recorded| {
            Reply::json(302, "").header(
                "Location",
                "https://raxx.cloudflareaccess.com/cdn-cgi/access/login/console.raxx.app?kid=7d4b1f2e9c",
            )
        }))),
        // Cloudflare Pages: the site is live.
        Route::get("/client/v4/accounts/demo-account/pages/projects/getraxx/deployments")
            .reply(json("cloudflare/deployments-live.json")),
        Route::post("/email/batch").reply(postmark_batch(&[])),
    ]);
    let url = world.url.as_str();
    let cloudflare = format!("{url}/client/v4");
    let env = heartbeat_monitor::Env::from_pairs([
        ("FLAG_CRON_HEARTBEAT_MONITOR", "1"),
        ("GITHUB_TOKEN", "demo-github-token"),
        ("GITHUB_API_URL", url),
        ("HEROKU_API_KEY", "demo-heroku-key"),
        ("HEROKU_API_URL", url),
        ("CLOUDFLARE_PAGES_READ_TOKEN", "demo-pages-token"),
        ("CLOUDFLARE_ACCOUNT_ID", "demo-account"),
        ("CLOUDFLARE_API_URL", &cloudflare),
        (
            "CF_ACCESS_SERVICE_TOKEN_CONSOLE",
            "demo-id.access:demo-secret",
        ),
        ("POSTMARK_SERVER_TOKEN", "demo-postmark-token"),
        ("POSTMARK_API_URL", url),
        ("OPS_ALERT_EMAIL", "ops@raxx.app"),
        ("OPS_ALERT_FROM", "heartbeat-monitor@raxx.app"),
    ]);

    let root = env!("CARGO_MANIFEST_DIR");
    let dir = format!("{root}/target/demo");
    std::fs::create_dir_all(&dir).expect("create target/demo");
    let config = std::fs::read_to_string(format!("{root}/examples/raxx.toml"))
        .expect("read examples/raxx.toml")
        .replace(CONSOLE_URL, url);
    let config_path = format!("{dir}/raxx.toml");
    std::fs::write(&config_path, config).expect("write the demo's configuration");
    let output = format!("{dir}/heartbeat_result.json");
    let status_page = format!("{dir}/status");
    seed_history(&status_page, &config_path, scene.now);
    let mut args: Vec<String> = [
        "heartbeat-monitor",
        "--config",
        &config_path,
        "--now",
        scene.now,
        "--output-file",
        &output,
        "--status-page",
        &status_page,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra_args);

    println!("demo: every API is played by {url}; now is {}\n", scene.now);
    let code = heartbeat_monitor::run(&args, &env, false);

    for req in world.requests() {
        if req.path() != "/email/batch" {
            continue;
        }
        let batch: Vec<serde_json::Value> = serde_json::from_str(&req.body).unwrap_or_default();
        for mail in batch {
            println!(
                "\n=== a mail Postmark received ===\nTo: {}\nSubject: {}\n\n{}",
                mail["To"].as_str().unwrap_or_default(),
                mail["Subject"].as_str().unwrap_or_default(),
                mail["TextBody"].as_str().unwrap_or_default()
            );
        }
    }
    println!(
        "\ndemo: the monitor exited {code} (2 = critical), as it would turn a CI job red; \
{} requests in all; result file: {output}; status page: {status_page}/index.html (its \
history before this morning is made up for the demo)",
        world.requests().len()
    );
}

/// A made-up history of 89 nightly runs before `now` for every check of `config`, so that the
/// demo's status page has days to show: ok, but for a short warning each check had once, and
/// the last days of what is failing this morning. The run itself appends the real morning.
fn seed_history(dir: &str, config: &str, now: &str) {
    use heartbeat_monitor::config::cli::{Parsed, parse};
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("create the status page's directory");
    let args: Vec<String> = ["heartbeat-monitor", "--config", config]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let Parsed::Run(cli) = parse(&args) else {
        return;
    };
    let text = std::fs::read_to_string(config).unwrap_or_default();
    let Ok(cfg) = heartbeat_monitor::setup::resolve_text(&cli, Some((config, &text))) else {
        return;
    };
    let now: chrono::DateTime<chrono::Utc> = now.parse().unwrap();
    // The checks failing this morning, and since how many days (the incident reports').
    let failing = [
        ("trace-integrity-cron.yml", 4, "critical"),
        ("deploy-heroku.yml", 13, "critical"),
        ("production", 89, "critical"),
    ];
    let mut lines = Vec::new();
    for (n, who) in cfg.watches.iter().flat_map(|w| w.identities()).enumerate() {
        for ago in (1..=89).rev() {
            let at = now - chrono::Duration::days(ago);
            let status = match failing.iter().find(|(t, ..)| *t == who.target) {
                Some((_, days, status)) if ago <= *days => status,
                _ if (ago + 7 * n as i64) % 37 == 0 => "warning",
                _ => "ok",
            };
            lines.push(serde_json::json!({
                "at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "id": who.id, "kind": who.kind, "target": who.target, "status": status,
            }));
        }
    }
    let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    std::fs::write(format!("{dir}/history.jsonl"), text.join("\n") + "\n")
        .expect("write the demo's history");
}
