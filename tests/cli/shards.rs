//! Past one job: `--shard I/N` splits the targets by repository, stably; `merge` puts the
//! shards' result files back together as one run's, and alerts once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;

const REPOS: [&str; 4] = [
    "raxx-app/alpha",
    "raxx-app/beta",
    "raxx-app/gamma",
    "raxx-app/delta",
];

/// Five heartbeats across four repositories (gamma's is stale), their repositories'
/// activity, and two probes.
fn config(server: &FakeServer) -> String {
    format!(
        r#"
[github]
repo = "raxx-app/alpha"

[[heartbeat]]
workflow = "nightly.yml"
sla_hours = 48

[[heartbeat]]
workflow = "backup.yml"
sla_hours = 48

[[heartbeat]]
repo = "raxx-app/beta"
workflow = "nightly.yml"
sla_hours = 48

[[heartbeat]]
repo = "raxx-app/gamma"
workflow = "nightly.yml"
sla_hours = 48

[[heartbeat]]
repo = "raxx-app/delta"
workflow = "reports.yml"
sla_hours = 48

[[http_probe]]
name = "console"
url = "{url}/health"

[[http_probe]]
name = "status"
url = "{url}/ready"
"#,
        url = server.url
    )
}

/// GitHub and the probes answering for every target; a shard asks only for its own, so every
/// route is a spare.
fn world() -> FakeServer {
    let mut routes = Vec::new();
    for (repo, workflow) in [
        ("raxx-app/alpha", "nightly.yml"),
        ("raxx-app/alpha", "backup.yml"),
        ("raxx-app/beta", "nightly.yml"),
        ("raxx-app/gamma", "nightly.yml"),
        ("raxx-app/delta", "reports.yml"),
    ] {
        let runs = format!("/repos/{repo}/actions/workflows/{workflow}/runs");
        let stale = repo == "raxx-app/gamma";
        let success = if stale {
            "github/runs-success-stale.json"
        } else {
            "github/runs-success-fresh.json"
        };
        routes.push(
            Route::get(&runs)
                .query("status=success")
                .reply(Reply::json(200, fixture(success))),
        );
        routes.push(
            Route::get(&runs)
                .any_status()
                .reply(Reply::json(200, fixture("github/runs-latest-failure.json"))),
        );
        routes.push(
            Route::get(&format!("/repos/{repo}/actions/workflows/{workflow}"))
                .reply(Reply::json(200, fixture("github/workflow-active.json"))),
        );
    }
    for repo in REPOS {
        routes.push(
            Route::get(&format!("/repos/{repo}"))
                .reply(Reply::json(200, fixture("github/repo-private.json"))),
        );
    }
    routes.push(Route::get("/health").reply(Reply::json(200, "{}")));
    routes.push(Route::get("/ready").reply(Reply::json(200, "{}")));
    routes.push(postmark_ok());
    FakeServer::start(spares(routes))
}

/// Runs shard `i` of `n` with `--no-notify`; its result file lands in `dir`.
fn shard(server: &FakeServer, dir: &Path, i: u32, n: u32) -> (Run, PathBuf) {
    let out = dir.join(format!("shard-{i}-of-{n}.json"));
    let run = Monitor::new(server)
        .config(&config(server))
        .args(&[
            "--shard",
            &format!("{i}/{n}"),
            "--no-notify",
            "--output-file",
            out.to_str().unwrap(),
        ])
        .run();
    (run, out)
}

/// `merge` with the environment of a merge job: the mail secrets and the gate, no `--now`.
fn merger(server: &FakeServer) -> Monitor {
    Monitor::bare()
        .env("FLAG_CRON_HEARTBEAT_MONITOR", "1")
        .env("POSTMARK_SERVER_TOKEN", POSTMARK_TOKEN)
        .env("POSTMARK_API_URL", &server.url)
        .env("OPS_ALERT_EMAIL", "ops@raxx.app")
        .env("OPS_ALERT_FROM", "heartbeat-monitor@raxx.app")
}

fn ids(result: &Value) -> Vec<String> {
    result["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// The checks by id, their run times made constant.
fn by_id(result: &Value) -> BTreeMap<String, Value> {
    result["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c["duration_ms"] = 0.into();
            (c["id"].as_str().unwrap().to_string(), c)
        })
        .collect()
}

fn paths(files: &[PathBuf]) -> Vec<&str> {
    files.iter().map(|p| p.to_str().unwrap()).collect()
}

#[test]
fn every_check_is_in_exactly_one_of_n_shards() {
    let server = world();
    let whole = Monitor::new(&server)
        .config(&config(&server))
        .args(&["--no-notify"])
        .run();
    assert_eq!(whole.code, 2, "{}", whole.stderr);
    let mut all = ids(&whole.result());
    all.sort();
    assert_eq!(
        all.len(),
        11,
        "5 heartbeats, 4 repositories, 2 probes: {all:#?}"
    );
    let dir = scratch("shards-coverage");
    for n in 1..=5 {
        let mut seen: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for i in 1..=n {
            let (run, _) = shard(&server, &dir, i, n);
            assert!([0, 2].contains(&run.code), "shard {i}/{n}: {}", run.stderr);
            let r = run.result();
            assert_eq!(r["notifications"], Value::Array(vec![]), "--no-notify");
            for id in ids(&r) {
                seen.entry(id).or_default().push(i);
            }
        }
        let found: Vec<String> = seen.keys().cloned().collect();
        assert_eq!(found, all, "{n} shards");
        for (id, shards) in &seen {
            assert_eq!(shards.len(), 1, "{id} in shards {shards:?} of {n}");
        }
    }
    assert!(mails(&server).is_empty(), "--no-notify tells no channel");
}

#[test]
fn a_repositorys_targets_share_a_shard_on_every_run_and_machine() {
    let server = world();
    let dir = scratch("shards-stable");
    // FNV-1a of the repository (or the probe's id), modulo 4: fixed, whatever the machine.
    let expected: [(u32, &[&str]); 4] = [
        (1, &["http_probe:status"]),
        (
            2,
            &[
                "cron_heartbeat:raxx-app/alpha:backup.yml",
                "cron_heartbeat:raxx-app/alpha:nightly.yml",
                "cron_heartbeat:raxx-app/beta:nightly.yml",
                "repo_activity:raxx-app/alpha",
                "repo_activity:raxx-app/beta",
            ],
        ),
        (3, &[]),
        (
            4,
            &[
                "cron_heartbeat:raxx-app/delta:reports.yml",
                "http_probe:console",
                "repo_activity:raxx-app/delta",
            ],
        ),
    ];
    let expected_gamma = 1;
    for _ in 0..2 {
        for (i, want) in expected {
            let (run, _) = shard(&server, &dir, i, 4);
            let mut got = ids(&run.result());
            got.sort();
            let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            if i == expected_gamma {
                want.push("cron_heartbeat:raxx-app/gamma:nightly.yml".into());
                want.push("repo_activity:raxx-app/gamma".into());
                want.sort();
            }
            assert_eq!(got, want, "shard {i}/4");
        }
    }
    // An empty shard is a run that checked nothing: ok, not a configuration error.
    let (run, _) = shard(&server, &dir, 3, 4);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.result()["status"], "ok");
    let listed = Monitor::new(&server)
        .config(&config(&server))
        .args(&["--shard", "3/4", "--check-config"])
        .run();
    assert!(
        listed
            .stdout
            // A repository's configured heartbeats are one target.
            .contains("shard 3/4: 0 of the 11 target(s) of all shards"),
        "{}",
        listed.stdout
    );
}

#[test]
fn a_bad_shard_is_a_usage_error() {
    for bad in ["0/4", "5/4", "2", "two/four"] {
        let run = Monitor::bare().args(&["--shard", bad]).run();
        assert_eq!(run.code, 3, "{bad}");
        assert!(
            run.stderr
                .contains("expected I/N, shard I of N with 1 <= I <= N, e.g. 2/4"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn three_shards_merged_are_the_one_job_run() {
    let server = world();
    let whole = Monitor::new(&server).config(&config(&server)).run();
    assert_eq!(whole.code, 2, "{}", whole.stderr);
    let whole_result = whole.result();
    assert_eq!(
        mails(&server).len(),
        1,
        "the one-job run mails the stale heartbeat"
    );

    let dir = scratch("shards-merge");
    let files: Vec<PathBuf> = (1..=3).map(|i| shard(&server, &dir, i, 3).1).collect();
    let out = dir.join("merged.json");
    let page = dir.join("page");
    let mut args = vec![
        "merge",
        "--output-file",
        out.to_str().unwrap(),
        "--status-page",
        page.to_str().unwrap(),
    ];
    args.extend(paths(&files));
    let merged = merger(&server).args(&args).run();
    assert_eq!(merged.code, whole.code, "{}", merged.stderr);
    let r = merged.result();
    assert_eq!(by_id(&r), by_id(&whole_result));
    assert_eq!(r["status"], whole_result["status"]);
    assert_eq!(r["exit_code"], whole_result["exit_code"]);
    assert_eq!(r["counts"], whole_result["counts"]);
    assert_eq!(
        r["notifications"],
        Value::Array(vec![]),
        "no config: no alerting"
    );
    assert_eq!(
        r["api_budget"]["github"]["requests"], whole_result["api_budget"]["github"]["requests"],
        "the shards' requests summed"
    );
    assert!(
        page.join("index.html").exists(),
        "the status page of the merge"
    );
    assert_eq!(
        mails(&server).len(),
        1,
        "a merge without a configuration mails nobody"
    );
    assert!(
        merged
            .stdout
            .contains("status critical (exit 2); result written to"),
        "{}",
        merged.stdout
    );
}

#[test]
fn alerting_in_the_merge_step_mails_once() {
    let server = world();
    let dir = scratch("shards-alert");
    let files: Vec<PathBuf> = (1..=3).map(|i| shard(&server, &dir, i, 3).1).collect();
    assert!(mails(&server).is_empty(), "the shards tell nobody");
    let state = dir.join("state.json");
    let out = dir.join("merged.json");
    let merge = || {
        let mut args = vec![
            "merge",
            "--config",
            "heartbeat-monitor.toml",
            "--state-file",
            state.to_str().unwrap(),
            "--output-file",
            out.to_str().unwrap(),
        ];
        args.extend(paths(&files));
        merger(&server).config(&config(&server)).args(&args).run()
    };
    let first = merge();
    assert_eq!(first.code, 2, "{}", first.stderr);
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] cron heartbeat STALE: nightly"]
    );
    let notes = first.result()["notifications"].clone();
    assert_eq!(notes.as_array().unwrap().len(), 1, "{notes:#}");
    assert_eq!(notes[0]["sent"], true);
    // The state file remembers what was told: the next merge of the same findings is quiet.
    let second = merge();
    assert_eq!(second.code, 2, "{}", second.stderr);
    assert_eq!(mails(&server).len(), 1, "told once");
}

#[test]
fn a_check_in_two_shards_is_refused() {
    let server = world();
    let dir = scratch("shards-twice");
    let (_, one) = shard(&server, &dir, 1, 3);
    let copy = dir.join("copy.json");
    std::fs::copy(&one, &copy).unwrap();
    let out = dir.join("merged.json");
    let merged = merger(&server)
        .args(&[
            "merge",
            "--output-file",
            out.to_str().unwrap(),
            one.to_str().unwrap(),
            copy.to_str().unwrap(),
        ])
        .run();
    assert_eq!(merged.code, 3, "{}", merged.stderr);
    let r = merged.result();
    assert_eq!(r["status"], "unknown");
    let errors: Vec<&str> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        errors.iter().any(|e| e.starts_with(
            "check cron_heartbeat:raxx-app/alpha:nightly.yml is in two shards' results"
        )),
        "{errors:#?}"
    );
    assert!(merged.stderr.contains("is in two shards' results"));
}

#[test]
fn a_result_of_another_schema_version_is_refused() {
    let server = world();
    let dir = scratch("shards-version");
    let (_, one) = shard(&server, &dir, 3, 3);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&one).unwrap()).unwrap();
    v["schema_version"] = 2.into();
    let future = dir.join("future.json");
    std::fs::write(&future, v.to_string()).unwrap();
    let out = dir.join("merged.json");
    let merged = merger(&server)
        .args(&[
            "merge",
            "--output-file",
            out.to_str().unwrap(),
            one.to_str().unwrap(),
            future.to_str().unwrap(),
        ])
        .run();
    assert_eq!(merged.code, 3, "{}", merged.stderr);
    let r = merged.result();
    assert_eq!(
        r["errors"][0],
        format!(
            "{} has schema_version 2; this heartbeat-monitor merges schema_version 1 only",
            future.display()
        )
    );
    assert_eq!(ids(&r).len(), 1, "the readable shard is still merged");
}
