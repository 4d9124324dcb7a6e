//! The alert state kept where GitHub does not evict it: `action/state.sh` against a loopback
//! GitHub answering as its REST API does (the workflow's runs, a run's artifacts, the artifact
//! zip as a 302 to a signed storage address on another server), then `action/run.sh`.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::Value;

use super::action::run_action;
use super::*;

const WORKFLOW: &str = "cron-heartbeat-monitor.yml";
const THIS_RUN: &str = "9300";
/// The storage address's signature: as good as a token while it lasts, never printed.
const SIGNATURE: &str = "sig=StorageSignature0123-SECRET";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The workflow's latest runs, newest first: this one (in progress), then `earlier`.
fn runs_body(earlier: &[u64]) -> String {
    let own: Vec<(u64, &str)> = earlier.iter().map(|id| (*id, REPO)).collect();
    runs_of(&own)
}

/// The same, each earlier run of the code of a repository (a fork's pull request).
fn runs_of(earlier: &[(u64, &str)]) -> String {
    let fixture: Value = serde_json::from_str(&fixture("github/runs-success-fresh.json")).unwrap();
    let template = fixture["workflow_runs"][0].clone();
    let run = |id: u64, status: &str, head: &str| {
        let mut r = template.clone();
        r["head_repository"]["full_name"] = Value::from(head);
        r["id"] = Value::from(id);
        r["status"] = Value::from(status);
        r["path"] = Value::from(format!(".github/workflows/{WORKFLOW}"));
        r["html_url"] = Value::from(format!("https://github.com/{REPO}/actions/runs/{id}"));
        r
    };
    let mut runs = vec![run(THIS_RUN.parse().unwrap(), "in_progress", REPO)];
    runs.extend(earlier.iter().map(|(id, head)| run(*id, "completed", head)));
    serde_json::json!({"total_count": runs.len(), "workflow_runs": runs}).to_string()
}

fn runs_route(earlier: &[u64]) -> Route {
    Route::get(&format!("/repos/{REPO}/actions/workflows/{WORKFLOW}/runs"))
        .reply(Reply::json(200, runs_body(earlier)))
}

fn artifacts_route(run: u64, body: String) -> Route {
    Route::get(&format!("/repos/{REPO}/actions/runs/{run}/artifacts")).reply(Reply::json(200, body))
}

fn no_artifacts() -> String {
    r#"{"total_count": 0, "artifacts": []}"#.into()
}

/// Run 9299's artifacts, its heartbeat-state one holding `zip`.
fn run_artifacts(zip: &[u8]) -> String {
    let digest = hex(ring::digest::digest(&ring::digest::SHA256, zip).as_ref());
    fixture("github/run-artifacts.json").replace("DIGEST", &digest)
}

/// The artifact zip: a 302 to `storage`, as GitHub answers.
fn zip_route(storage: &FakeServer, artifact: u64) -> Route {
    Route::get(&format!("/repos/{REPO}/actions/artifacts/{artifact}/zip")).reply(
        Reply::html(302, "").header(
            "Location",
            &format!("{}/blob/artifact-{artifact}.zip?{SIGNATURE}", storage.url),
        ),
    )
}

fn storage(zip: Vec<u8>) -> FakeServer {
    FakeServer::start(vec![
        Route::get("/blob/artifact-4710.zip").reply(Reply::Bytes(Arc::new(zip))),
    ])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A zip of `files`, stored (not compressed), as upload-artifact's archives can be.
fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut c = !0u32;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    (c >> 1) ^ 0xEDB8_8320
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    let (mut out, mut central) = (Vec::new(), Vec::new());
    let u16le = |v: &mut Vec<u8>, n: u16| v.extend(n.to_le_bytes());
    let u32le = |v: &mut Vec<u8>, n: u32| v.extend(n.to_le_bytes());
    for (name, data) in files {
        let (crc, len, offset) = (crc32(data), data.len() as u32, out.len() as u32);
        u32le(&mut out, 0x0403_4b50);
        for n in [20, 0, 0, 0, 0x21] {
            u16le(&mut out, n);
        }
        for n in [crc, len, len] {
            u32le(&mut out, n);
        }
        u16le(&mut out, name.len() as u16);
        u16le(&mut out, 0);
        out.extend(name.as_bytes());
        out.extend(*data);
        u32le(&mut central, 0x0201_4b50);
        for n in [20, 20, 0, 0, 0, 0x21] {
            u16le(&mut central, n);
        }
        for n in [crc, len, len] {
            u32le(&mut central, n);
        }
        for n in [name.len() as u16, 0, 0, 0, 0] {
            u16le(&mut central, n);
        }
        u32le(&mut central, 0o100644 << 16);
        u32le(&mut central, offset);
        central.extend(name.as_bytes());
    }
    let (cd_offset, cd_len) = (out.len() as u32, central.len() as u32);
    out.extend(&central);
    u32le(&mut out, 0x0605_4b50);
    for n in [0, 0, files.len() as u16, files.len() as u16] {
        u16le(&mut out, n);
    }
    u32le(&mut out, cd_len);
    u32le(&mut out, cd_offset);
    u16le(&mut out, 0);
    out
}

/// Runs `action/state.sh restore` as the action does; returns its output and GITHUB_OUTPUT.
fn restore(server: &FakeServer, dir: &Path, extra: &[(&str, &str)]) -> (Output, String) {
    let outputs = dir.join("state_output");
    let _ = std::fs::remove_file(&outputs);
    let mut cmd = Command::new(root().join("action/state.sh"));
    cmd.arg("restore")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HM_STATE_FILE", dir.join(".heartbeat-state/state.json"))
        .env("HM_STATUS_PAGE", dir.join("status"))
        .env("GITHUB_TOKEN", GITHUB_TOKEN)
        .env("GITHUB_API_URL", &server.url)
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_RUN_ID", THIS_RUN)
        .env("GITHUB_RUN_ATTEMPT", "1")
        .env(
            "GITHUB_WORKFLOW_REF",
            format!("{REPO}/.github/workflows/{WORKFLOW}@refs/heads/main"),
        )
        .env("RUNNER_TEMP", dir)
        .env("GITHUB_OUTPUT", &outputs);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    for text in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(text);
        assert_no_secret("state.sh", &text);
        assert!(
            !text.contains(SIGNATURE),
            "the signed address was printed: {text}"
        );
    }
    assert!(
        out.status.success(),
        "state.sh never fails the job: {out:?}"
    );
    (out, std::fs::read_to_string(&outputs).unwrap_or_default())
}

/// The value of `name` in GITHUB_OUTPUT text.
fn output<'a>(outputs: &'a str, name: &str) -> &'a str {
    outputs
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {outputs:?}"))
}

/// A real run through `run.sh` (mail sent), told what the restore said.
fn check(server: &FakeServer, dir: &Path, restored: &str) -> (Output, Value) {
    let url = server.url.clone();
    let (out, _) = run_action(
        server,
        dir,
        &[
            ("HM_DRY_RUN", "false"),
            ("HM_STATUS_PAGE", dir.join("status").to_str().unwrap()),
            ("POSTMARK_SERVER_TOKEN", POSTMARK_TOKEN),
            ("POSTMARK_API_URL", &url),
            ("OPS_ALERT_EMAIL", "ops@raxx.app"),
            ("OPS_ALERT_FROM", "heartbeat-monitor@raxx.app"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", REPO),
            ("HEARTBEAT_STATE_SOURCE", output(restored, "source")),
            (
                "HEARTBEAT_STATE_PREVIOUS_RUN",
                output(restored, "previous-run"),
            ),
        ],
    );
    let text = std::fs::read_to_string(dir.join("heartbeat_result.json")).unwrap();
    let result: Value = serde_json::from_str(&text).unwrap();
    assert_schema_valid(&result);
    (out, result)
}

fn mails_sent(server: &FakeServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.path() == "/email/batch")
        .count()
}

/// A first run's state and history, as its artifact holds them.
fn first_run(dir: &Path) -> (Vec<u8>, Vec<u8>, String) {
    let server = FakeServer::start(stale_trace_routes());
    let (_, result) = check(&server, dir, "source=none\nprevious-run=\n");
    assert!(mails_sent(&server) > 0, "the first run mails its problems");
    let state = std::fs::read(dir.join(".heartbeat-state/state.json")).unwrap();
    let history = std::fs::read(dir.join("status/history.jsonl")).unwrap();
    let saved: Value = serde_json::from_slice(&state).unwrap();
    assert_eq!(result["state"]["source"], "none");
    (
        state,
        history,
        saved["written_at"].as_str().unwrap().to_string(),
    )
}

#[test]
fn state_restored_from_an_artifact_after_the_cache_was_lost() {
    let dir = scratch("state-artifact");
    let (state, history, saved_at) = first_run(&dir);
    // The cache was evicted: nothing of the first run is left on the runner.
    std::fs::remove_dir_all(dir.join(".heartbeat-state")).unwrap();
    std::fs::remove_dir_all(dir.join("status")).unwrap();

    let archive = zip(&[("state.json", &state), ("history.jsonl", &history)]);
    let blobs = storage(archive.clone());
    let mut routes = stale_trace_routes();
    routes.extend([
        runs_route(&[9299, 9298]),
        artifacts_route(9300, no_artifacts()),
        artifacts_route(9299, run_artifacts(&archive)),
        zip_route(&blobs, 4710),
    ]);
    let server = FakeServer::start(routes);

    let (out, restored) = restore(&server, &dir, &[]);
    assert_eq!(restored, "source=artifact\nprevious-run=9299\n");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("restored from artifact 4710 of run 9299"),
        "{out:?}"
    );
    assert_eq!(
        std::fs::read(dir.join(".heartbeat-state/state.json")).unwrap(),
        state
    );
    assert_eq!(
        std::fs::read(dir.join("status/history.jsonl")).unwrap(),
        history
    );
    let asked = server.requests();
    assert!(
        asked
            .iter()
            .all(|r| r.header("authorization") == Some(format!("Bearer {GITHUB_TOKEN}").as_str())),
        "every API request carries the token"
    );
    let fetched = blobs.requests();
    assert_eq!(fetched.len(), 1);
    assert_eq!(
        fetched[0].header("authorization"),
        None,
        "the storage gets no token"
    );

    let (_, result) = check(&server, &dir, &restored);
    assert_eq!(
        result["state"],
        serde_json::json!({"source": "artifact", "saved_at": saved_at})
    );
    assert_eq!(
        mails_sent(&server),
        0,
        "nothing new to mail: {:#}",
        result["notifications"]
    );
    assert_eq!(result["warnings"], serde_json::json!([]));
    let lines = std::fs::read_to_string(dir.join("status/history.jsonl")).unwrap();
    assert!(
        lines.lines().count() > String::from_utf8_lossy(&history).lines().count(),
        "the history grows on from the artifact's"
    );
}

#[test]
fn the_cache_of_the_newest_run_is_the_fast_path() {
    let dir = scratch("state-fast-path");
    let (state, history, saved_at) = first_run(&dir);
    let archive = zip(&[("state.json", &state), ("history.jsonl", &history)]);
    let blobs = storage(archive.clone());
    let mut routes = stale_trace_routes();
    routes.extend([
        runs_route(&[9299]),
        artifacts_route(9300, no_artifacts()),
        artifacts_route(9299, run_artifacts(&archive)),
        zip_route(&blobs, 4710),
    ]);
    let server = FakeServer::start(routes);
    let key = |what| format!("heartbeat-{what}-cron-heartbeat-monitor-9299");
    let (_, restored) = restore(
        &server,
        &dir,
        &[
            ("HM_CACHE_STATE_KEY", &key("state")),
            ("HM_CACHE_STATUS_KEY", &key("status")),
        ],
    );
    assert_eq!(restored, "source=cache\nprevious-run=9299\n");
    assert!(blobs.requests().is_empty(), "nothing downloaded");
    assert!(
        !server.requests().iter().any(|r| r.path().ends_with("/zip")),
        "nothing downloaded"
    );

    // A cache of an older run than the newest artifact is not the newest state.
    std::fs::write(dir.join(".heartbeat-state/state.json"), "{\"version\": 1}").unwrap();
    let (_, restored) = restore(
        &server,
        &dir,
        &[(
            "HM_CACHE_STATE_KEY",
            "heartbeat-state-cron-heartbeat-monitor-9200",
        )],
    );
    assert_eq!(output(&restored, "source"), "artifact");
    assert_eq!(
        std::fs::read(dir.join(".heartbeat-state/state.json")).unwrap(),
        state
    );
    let (_, result) = check(&server, &dir, &restored);
    assert_eq!(result["state"]["saved_at"], Value::from(saved_at));
}

#[test]
fn a_state_lost_although_the_workflow_ran_before_is_a_warning() {
    let dir = scratch("state-lost");
    let mut routes = stale_trace_routes();
    routes.extend([
        runs_route(&[9299]),
        artifacts_route(9300, no_artifacts()),
        artifacts_route(9299, no_artifacts()),
    ]);
    let server = FakeServer::start(routes);
    let (out, restored) = restore(&server, &dir, &[]);
    assert_eq!(restored, "source=none\nprevious-run=9299\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::warning title=heartbeat-monitor state::no saved alert state was found"),
        "{stdout}"
    );

    let (_, result) = check(&server, &dir, &restored);
    assert_eq!(
        result["state"],
        serde_json::json!({"source": "none", "saved_at": null})
    );
    let warnings = result["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w.as_str().unwrap().starts_with(
            "no saved alert state was found although this workflow ran before (run 9299, https://github.com/raxx-app/TradeMasterAPI/actions/runs/9299)"
        )),
        "{warnings:?}"
    );
    assert!(
        mails_sent(&server) > 0,
        "every open problem is mailed as new"
    );
}

#[test]
fn github_refusing_the_lists_falls_back_to_the_cache_and_forges_nothing() {
    let dir = scratch("state-refused");
    let forged = "{\"message\": \"x\\n::error::forged\\r\\n::add-mask::%0A\"}";
    let server = FakeServer::start(vec![
        Route::get(&format!("/repos/{REPO}/actions/workflows/{WORKFLOW}/runs"))
            .reply(Reply::json(403, forged)),
    ]);
    std::fs::create_dir_all(dir.join(".heartbeat-state")).unwrap();
    std::fs::write(dir.join(".heartbeat-state/state.json"), "{}").unwrap();
    let (out, restored) = restore(
        &server,
        &dir,
        &[(
            "HM_CACHE_STATE_KEY",
            "heartbeat-state-cron-heartbeat-monitor-9200",
        )],
    );
    assert_eq!(restored, "source=cache\nprevious-run=\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "::warning title=heartbeat-monitor state::could not list the runs of {WORKFLOW} (HTTP 403 from {})",
            server.url
        )),
        "{stdout}"
    );
    for line in stdout
        .lines()
        .chain(String::from_utf8_lossy(&out.stderr).lines())
    {
        assert!(
            line.starts_with("::warning title=heartbeat-monitor state::")
                || line.starts_with("heartbeat-monitor state: "),
            "a line the script does not own: {line:?}"
        );
        assert!(!line.contains("forged"), "{line:?}");
    }

    // A workflow reference that is not a workflow file asks nothing.
    let (out, restored) = restore(
        &server,
        &dir,
        &[(
            "GITHUB_WORKFLOW_REF",
            "o/r/.github/workflows/x.yml\n::error::y@main",
        )],
    );
    assert_eq!(output(&restored, "previous-run"), "");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("GITHUB_WORKFLOW_REF names no workflow file"),
        "{out:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn the_binary_says_where_the_state_came_from_on_every_path() {
    let server = FakeServer::start(stale_trace_routes());
    let dir = scratch("state-origin");
    let path = dir.join("state.json");
    std::fs::write(
        &path,
        r#"{"version": 1, "written_at": "2026-05-22T06:30:00Z", "checks": {}}"#,
    )
    .unwrap();
    let state = path.to_str().unwrap();
    let origin =
        |source: &str, saved_at: Value| serde_json::json!({"source": source, "saved_at": saved_at});
    let saved = || Value::from("2026-05-22T06:30:00Z");

    // Not restored by the action: a state file of its own.
    let run = Monitor::new(&server)
        .config(CONFIG)
        .args(&["--state-file", state, "--dry-run"])
        .run();
    assert_eq!(run.result()["state"], origin("file", saved()));

    // The gate off, and a configuration error, stop before the state is used: still said.
    let run = Monitor::new(&server)
        .config(CONFIG)
        .env("FLAG_CRON_HEARTBEAT_MONITOR", "0")
        .env("HEARTBEAT_STATE_SOURCE", "cache")
        .args(&["--state-file", state])
        .run();
    assert_eq!(run.result()["state"], origin("cache", saved()));
    let run = Monitor::new(&server)
        .config("[github]\nrepo = 7\n")
        .env("HEARTBEAT_STATE_SOURCE", "artifact")
        .args(&["--state-file", state])
        .run();
    assert_eq!(run.code, 3);
    assert_eq!(run.result()["state"], origin("artifact", saved()));

    // No state file given: none, whatever the action says; a value it never sends is a warning.
    let run = Monitor::new(&server)
        .config(CONFIG)
        .env("HEARTBEAT_STATE_SOURCE", "the-cloud")
        .env("HEARTBEAT_STATE_PREVIOUS_RUN", "9299")
        .args(&["--dry-run"])
        .run();
    let result = run.result();
    assert_eq!(result["state"], origin("none", Value::Null));
    assert_eq!(
        result["warnings"],
        serde_json::json!([
            "HEARTBEAT_STATE_SOURCE is \"the-cloud\", not artifact, cache or none: ignored"
        ])
    );
}

#[test]
fn a_forks_run_never_gives_the_state() {
    let dir = scratch("state-fork");
    let archive = zip(&[("state.json", br#"{"version": 1, "checks": {}}"#)]);
    // The fork's artifact: never to be downloaded (checked below).
    let blobs = FakeServer::start(vec![
        Route::get("/blob/artifact-4710.zip")
            .reply(Reply::Bytes(Arc::new(archive.clone())))
            .optional(),
    ]);
    let server = FakeServer::start(vec![
        Route::get(&format!("/repos/{REPO}/actions/workflows/{WORKFLOW}/runs")).reply(Reply::json(
            200,
            runs_of(&[(9299, "mallory/TradeMasterAPI"), (9298, REPO)]),
        )),
        artifacts_route(9300, no_artifacts()),
        // The fork's: never to be asked (checked below).
        artifacts_route(9299, run_artifacts(&archive)).optional(),
        artifacts_route(9298, no_artifacts()),
        zip_route(&blobs, 4710).optional(),
    ]);
    let (_, restored) = restore(&server, &dir, &[]);
    assert_eq!(restored, "source=none\nprevious-run=9298\n");
    assert!(
        !server
            .requests()
            .iter()
            .any(|r| r.path().contains("/runs/9299/")),
        "the fork's run is not even looked at"
    );
    assert!(!dir.join(".heartbeat-state/state.json").exists());
}
