//! Every parser of outside data behind one door: the answers of GitHub, Heroku, Cloudflare,
//! Postmark and the probe targets, the state file, the configuration file and workflow
//! files. The fuzz targets (`fuzz/`) drive these with arbitrary bytes: each must return,
//! never panic, and never allocate beyond what its input justifies.

use chrono::{DateTime, Utc};

use crate::alerting::mail::postmark;
use crate::alerting::state;
use crate::checks::http_probe::{self as probe, ProbeSpec};
use crate::checks::pages_deploy::{self as pages, PagesSpec};
use crate::clients::http::Response;
use crate::clients::{api, cloudflare, github, heroku};
use crate::config::cli;

/// How many readers `api_answer` chooses from.
pub const READERS: u8 = 12;

/// Reads `body` (with `status` and `headers`) the way reader number `reader % READERS`
/// does, and evaluates what it got where a check would. Returns the outcome in words.
pub fn api_answer(reader: u8, status: u16, headers: &[(String, String)], body: &[u8]) -> String {
    let resp = Response {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect(),
        body: body.to_vec(),
        body_error: None,
        attempts: 1,
    };
    let now: DateTime<Utc> = DateTime::from_timestamp(1_779_517_800, 0).unwrap_or_default();
    match reader % READERS {
        0 => format!(
            "{:?}",
            api::parse_json::<github::RunList>(github::API, &resp)
        ),
        1 => format!(
            "{:?}",
            api::parse_json::<github::Workflow>(github::API, &resp)
        ),
        2 => format!(
            "{:?}",
            api::parse_json::<github::Repository>(github::API, &resp)
        ),
        3 => format!(
            "{:?}",
            api::parse_json::<Vec<heroku::Release>>(heroku::API, &resp)
        ),
        4 => format!(
            "{:?}",
            api::parse_json::<Vec<heroku::Dyno>>(heroku::API, &resp)
        ),
        5 => format!(
            "{:?}",
            api::parse_json::<Vec<heroku::Formation>>(heroku::API, &resp)
        ),
        6 => format!("{:?}", api::parse_json::<heroku::App>(heroku::API, &resp)),
        7 => format!(
            "{:?}",
            heroku::only_keys(&resp, &["FLAG_BILLING_V2".to_string()])
        ),
        8 => {
            let spec = PagesSpec {
                name: "getraxx".into(),
                building_grace_minutes: 10,
            };
            let seen = cloudflare::read_deployments(&resp, &spec.name);
            pages::evaluate(&spec, &seen, now).message
        }
        9 => format!("{:?}", postmark::read_answers(&resp, 2).map(|a| a.len())),
        10 => api::status_error(github::API, &resp, "the workflow").to_string(),
        _ => {
            let spec = ProbeSpec {
                name: "console-prod".into(),
                url: "https://console.example.invalid/health".into(),
                token_env: None,
                expect_status: 200,
                fresh_field: Some("poller_last_poll_at".into()),
                fresh_max_age_seconds: 120,
            };
            probe::evaluate(&spec, &Ok(resp), false, now).message
        }
    }
}

/// Reads a workflow file's text as `cron_heartbeat` does, and counts the slots it missed in
/// a month: whatever the text holds, this costs a bounded time and memory.
pub fn workflow_file(text: &str) -> String {
    use crate::checks::cron_heartbeat::schedule::{self, Schedule};
    let now: DateTime<Utc> = DateTime::from_timestamp(1_779_517_800, 0).unwrap_or_default();
    match schedule::read(text).and_then(|e| e.map(Schedule::new).transpose()) {
        Ok(Some(s)) => {
            let missed = s.missed(
                now - chrono::Duration::days(30),
                now,
                chrono::Duration::hours(1),
            );
            format!("{} missed ({})", missed.count, s.crons())
        }
        Ok(None) => "no schedule".to_string(),
        Err(e) => e.to_string(),
    }
}

/// Reads a state file's text.
pub fn state_file(text: &str) -> String {
    format!("{:?}", state::parse(text).map(|s| s.version))
}

/// Reads a configuration file's text and merges it with an empty command line.
pub fn config_file(text: &str) -> String {
    let cli = match cli::parse(&["heartbeat-monitor".to_string()]) {
        cli::Parsed::Run(cli) => cli,
        _ => return String::new(),
    };
    match crate::setup::resolve_text(&cli, Some(("fuzz.toml", text))) {
        Ok(cfg) => format!(
            "{} heartbeats",
            cfg.watches
                .iter()
                .flat_map(|w| w.identities())
                .filter(|i| i.kind == crate::checks::cron_heartbeat::NAME)
                .count()
        ),
        Err(errors) => format!("{} errors", errors.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> Vec<u8> {
        std::fs::read(format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn json() -> Vec<(String, String)> {
        vec![("Content-Type".into(), "application/json".into())]
    }

    /// The fuzzers start from these: each reader must get past parsing on its own kind of
    /// answer, or the fuzzing would only ever explore error paths.
    #[test]
    fn each_reader_reads_its_fixture() {
        for (reader, path) in [
            (0, "github/runs-success-fresh.json"),
            (1, "github/workflow-active.json"),
            (2, "github/repo-private.json"),
            (3, "heroku/releases-newest-deployed.json"),
            (4, "heroku/dynos-web-up.json"),
            (5, "heroku/formation-web-scaled-to-0.json"),
            (6, "heroku/app-raxx-api-prod.json"),
            (7, "heroku/config-vars-console.json"),
        ] {
            let out = api_answer(reader, 200, &json(), &fixture(path));
            assert!(out.starts_with("Ok("), "reader {reader} on {path}: {out}");
        }
        let pages = api_answer(
            8,
            200,
            &json(),
            &fixture("cloudflare/deployments-live.json"),
        );
        assert!(pages.contains("live"), "{pages}");
        let batch = br#"[{"ErrorCode":0,"Message":"OK"},{"ErrorCode":0,"Message":"OK"}]"#;
        assert_eq!(api_answer(9, 200, &json(), batch), "Ok(2)");
        let health = br#"{"poller_last_poll_at":"2026-05-23T06:29:30Z"}"#;
        assert!(api_answer(11, 200, &json(), health).contains("poller_last_poll_at"));
    }

    #[test]
    fn a_workflow_file_reads_its_schedule_and_a_bomb_is_refused() {
        let trace = include_str!("../../fixtures/github/workflows/trace-integrity-cron.yml");
        let out = workflow_file(trace);
        assert!(out.ends_with("(cron '0 2 * * *')"), "{out}");
        let bomb = include_str!("../../fuzz/seeds/workflow_file/billion-laughs.yml");
        let out = workflow_file(bomb);
        assert!(out.starts_with("the workflow file was not read"), "{out}");
        assert_eq!(workflow_file("on: push\n"), "no schedule");
    }

    #[test]
    fn the_files_parse() {
        let state = include_str!("../../fuzz/seeds/state_file/state-v1.json");
        assert_eq!(state_file(state), "Ok(1)");
        assert!(state_file("{").starts_with("Err("));
        let config = include_str!("../../examples/raxx.toml");
        assert_eq!(config_file(config), "2 heartbeats");
        let bad = config_file("[run]\nconcurrency = 0\n");
        assert!(bad.ends_with(" errors") && bad != "0 errors", "{bad}");
    }
}
