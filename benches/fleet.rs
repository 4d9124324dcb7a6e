//! The fleet benchmark: the release binary against GitHub and Heroku played on 127.0.0.1 with a
//! fixed round trip per request, beside a sequential client making the same requests one after
//! another (what a plain script does). Prints a Markdown table of medians.
//!
//! A second table measures discovery: repositories of scheduled workflows found each run,
//! the first run without a state file and the second with it (ETags, 304s).
//!
//! `cargo bench --bench fleet`, or `scripts/bench`. Environment: `BENCH_RUNS` (runs per cell,
//! default 5), `BENCH_LATENCY_MS` (default 100), `BENCH_POOLS` (pool sizes, default
//! `8,16,32,64`), `BENCH_SIZES` (workflow counts, default `10,60,200`), `BENCH_PART`
//! (`fleet`, `discovery`, default both), `BENCH_DISCOVERY` (discovery cells, default
//! `1x60,20x10,100x20`), `BENCH_DISCOVERY_POOL` (default 32), `BENCH_KEEP` (keep the scratch
//! directory: configurations, state and result files).

// Printing the figures is the benchmark's job, and a failed setup may panic.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    unreachable_pub,
    clippy::unwrap_used
)]
// wait4 is the one way to read a child's peak RSS; it is the only unsafe code in the project.
#![allow(unsafe_code)]

#[path = "../tests/cli/support/server.rs"]
mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use server::{FakeServer, Reply, Route, fixture};

const REPO: &str = "raxx-app/TradeMasterAPI";
const APPS: usize = 10;
const NOW: &str = "2026-05-23T06:30:00Z";
const TOKEN: &str = "ghs_BenchToken";
const HEROKU_KEY: &str = "HRKU-bench";
const MONITOR: &str = env!("CARGO_BIN_EXE_heartbeat-monitor");

/// The first argument that makes this binary the measuring parent of one monitor run.
const MEASURE: &str = "--measure-child";

fn main() {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some(MEASURE) {
        return measure_child(args.collect());
    }
    let runs = env_list("BENCH_RUNS", &[5])[0].max(1);
    let latency = Duration::from_millis(env_list("BENCH_LATENCY_MS", &[100])[0] as u64);
    let scratch = std::env::temp_dir().join(format!("hm-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch directory");
    let part = std::env::var("BENCH_PART").unwrap_or_default();
    if part != "discovery" {
        fleet(&scratch, runs, latency);
    }
    if part != "fleet" {
        discovery(&scratch, runs, latency);
    }
    if std::env::var_os("BENCH_KEEP").is_some() {
        println!("\nkept: {}", scratch.display());
    } else {
        let _ = std::fs::remove_dir_all(&scratch);
    }
}

fn fleet(scratch: &Path, runs: usize, latency: Duration) {
    let pools = env_list("BENCH_POOLS", &[8, 16, 32, 64]);
    let sizes = env_list("BENCH_SIZES", &[10, 60, 200]);
    let (start_ms, start_rss) = startup(scratch, 200);
    println!(
        "start-up (`--version`, median of 200): {start_ms:.2} ms, peak RSS {start_rss:.1} MiB"
    );
    println!(
        "round trip {} ms, {APPS} Heroku apps{}, medians of {runs} runs\n",
        latency.as_millis(),
        if all_kinds() {
            " with deploy_drift, heroku_config and workflow_failures each, and one environment"
        } else {
            ""
        }
    );
    println!(
        "| workflows | pool | run | requests | budget-counted per check | runs lists per workflow | monitor | sequential | speed-up | × one round trip | peak RSS |"
    );
    println!("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &size in &sizes {
        let world = FakeServer::with_latency(routes(size), latency);
        // The sequential client knows the first kinds' requests only.
        let seq = if all_kinds() {
            f64::NAN
        } else {
            median((0..runs).map(|_| sequential(&world.url, size)).collect())
        };
        for &pool in &pools {
            let config = write_config(scratch, size, pool);
            let state = scratch.join("fleet-state.json");
            for (label, with_state) in [("first", false), ("second", true)] {
                let mut walls = Vec::new();
                let mut rss = Vec::new();
                let mut per_run = (0, 0, 0);
                for _ in 0..runs {
                    // A first run starts with no state; a second has the one a first left.
                    let _ = std::fs::remove_file(&state);
                    let args = ["--state-file", path(&state)];
                    if with_state {
                        monitor(&world.url, &config, scratch, &args);
                    }
                    let before = world.requests().len();
                    let m = monitor(&world.url, &config, scratch, &args);
                    let seen = &world.requests()[before..];
                    let runs_hits = seen.iter().filter(|r| r.path().ends_with("/runs")).count();
                    let not_modified = m.github.1 as usize;
                    per_run = (seen.len(), seen.len() - not_modified, runs_hits);
                    walls.push(m.wall);
                    rss.push(m.peak_rss_mib);
                }
                let wall = median(walls);
                let (seq_ms, speedup) = if seq.is_nan() {
                    ("—".to_string(), "—".to_string())
                } else {
                    (
                        format!("{:.0} ms", seq * 1e3),
                        format!("{:.1}×", seq / wall),
                    )
                };
                println!(
                    "| {size} | {pool} | {label} | {} | {:.2} | {:.2} | {:.0} ms | {seq_ms} | {speedup} | {:.1}× | {:.1} MiB |",
                    per_run.0,
                    per_run.1 as f64 / checks(size) as f64,
                    per_run.2 as f64 / size as f64,
                    wall * 1e3,
                    wall / latency.as_secs_f64(),
                    median(rss),
                );
            }
        }
    }
}

/// The pool of the discovery table (`BENCH_DISCOVERY_POOL`, default 32).
fn discovery_pool() -> usize {
    env_list("BENCH_DISCOVERY_POOL", &[32])[0]
}

/// The cells of the discovery table (`BENCH_DISCOVERY=1x60,20x10,100x20`, the default).
fn discovery_sizes() -> Vec<(usize, usize)> {
    let given = std::env::var("BENCH_DISCOVERY").unwrap_or_else(|_| "1x60,20x10,100x20".into());
    given
        .split(',')
        .filter_map(|cell| {
            let (r, w) = cell.trim().split_once('x')?;
            Some((r.parse().ok()?, w.parse().ok()?))
        })
        .collect()
}

/// Repositories × scheduled workflows, discovered: each repository answers its workflow
/// list, its tree of workflow files (each nightly at 02:00, one blob) and one list of
/// successes, all with ETags.
fn discovery(scratch: &Path, runs: usize, latency: Duration) {
    println!(
        "\ndiscovery: round trip {} ms, pool {}, medians of {runs} runs; budget-counted = requests - 304s\n",
        latency.as_millis(),
        discovery_pool()
    );
    println!(
        "| repositories × workflows | run | requests | budget-counted | per repository | monitor | × one round trip | peak RSS |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for (repos, workflows) in discovery_sizes() {
        let world = FakeServer::with_latency(discovery_routes(repos, workflows), latency);
        let names: Vec<String> = (0..repos).map(bench_repo).collect();
        let config = scratch.join(format!("discover-{repos}-{workflows}.toml"));
        let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
        std::fs::write(
            &config,
            format!(
                "[github]\nrepos = [{}]\n\n[run]\nconcurrency = {pool}\ndeadline_seconds = 300\n",
                quoted.join(", "),
                pool = discovery_pool()
            ),
        )
        .expect("write config");
        let state = scratch.join("discover-state.json");
        for (label, with_state) in [("first", false), ("second", true)] {
            let mut walls = Vec::new();
            let mut rss = Vec::new();
            let mut spent = (0, 0);
            for _ in 0..runs {
                // A first run starts with no state; a second has the one a first run left.
                let _ = std::fs::remove_file(&state);
                if with_state {
                    monitor(
                        &world.url,
                        &config,
                        scratch,
                        &["--state-file", path(&state)],
                    );
                }
                let m = monitor(
                    &world.url,
                    &config,
                    scratch,
                    &["--state-file", path(&state)],
                );
                spent = m.github;
                walls.push(m.wall);
                rss.push(m.peak_rss_mib);
            }
            let wall = median(walls);
            println!(
                "| {repos} × {workflows} | {label} | {} | {} | {:.1} | {:.0} ms | {:.1}× | {:.1} MiB |",
                spent.0,
                spent.0 - spent.1,
                (spent.0 - spent.1) as f64 / repos as f64,
                wall * 1e3,
                wall / latency.as_secs_f64(),
                median(rss),
            );
        }
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn bench_repo(i: usize) -> String {
    format!("raxx-app/service-{i:03}")
}

/// Answers `body` with `etag`, or `304` when the request already holds it.
fn etagged(body: String, etag: String) -> Reply {
    Reply::With(std::sync::Arc::new(move |req: &server::Recorded| {
        if req.header("if-none-match") == Some(etag.as_str()) {
            Reply::json(304, "").header("ETag", &etag)
        } else {
            Reply::json(200, body.clone()).header("ETag", &etag)
        }
    }))
}

/// A workflow file of a realistic size (about 2 KB; its schedule is all that is read).
const NIGHTLY_WORKFLOW: &str = r#"name: Nightly export
on:
  schedule:
    - cron: '0 2 * * *'
  workflow_dispatch:
    inputs:
      since:
        description: 'Export from this date (YYYY-MM-DD); default: yesterday'
        required: false
permissions:
  contents: read
  id-token: write
concurrency:
  group: nightly-export
  cancel-in-progress: false
jobs:
  export:
    runs-on: ubuntu-latest
    timeout-minutes: 45
    environment: production
    env:
      EXPORT_BUCKET: raxx-exports
      RUST_LOG: info
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: '3.12'
          cache: pip
      - name: Install
        run: |
          python -m pip install --upgrade pip
          pip install -r requirements.txt
      - name: Authenticate
        uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: arn:aws:iam::123456789012:role/nightly-export
          aws-region: eu-west-1
      - name: Export
        run: python -m export --since "${{ inputs.since }}" --bucket "$EXPORT_BUCKET"
        env:
          DATABASE_URL: ${{ secrets.DATABASE_URL }}
      - name: Verify
        run: python -m export.verify --bucket "$EXPORT_BUCKET" --strict
      - name: Report
        if: always()
        run: |
          echo "Nightly export" >> "$GITHUB_STEP_SUMMARY"
          python -m export.report >> "$GITHUB_STEP_SUMMARY"
      - name: Upload the log
        if: failure()
        uses: actions/upload-artifact@v4
        with:
          name: export-log
          path: logs/
          retention-days: 14
  notify:
    needs: export
    if: failure()
    runs-on: ubuntu-latest
    steps:
      - name: Tell the team
        run: curl -fsS -X POST "$HOOK" -d '{"text":"nightly export failed"}'
        env:
          HOOK: ${{ secrets.OPS_HOOK }}
"#;

fn discovery_routes(repos: usize, workflows: usize) -> Vec<Route> {
    use base64::Engine as _;
    let yaml = NIGHTLY_WORKFLOW;
    let file = serde_json::json!({
        "type": "file", "encoding": "base64",
        "content": base64::engine::general_purpose::STANDARD.encode(yaml),
    })
    .to_string();
    let run: serde_json::Value =
        serde_json::from_str(&fixture("github/runs-success-fresh.json")).expect("fixture");
    let mut routes = Vec::new();
    for r in 0..repos {
        let repo = bench_repo(r);
        let list: Vec<serde_json::Value> = (0..workflows)
            .map(|w| {
                serde_json::json!({
                    "id": w + 1, "name": workflow(w),
                    "path": format!(".github/workflows/{}", workflow(w)),
                    "state": "active",
                    "html_url": format!("https://github.com/{repo}/actions/workflows/{}", workflow(w)),
                })
            })
            .collect();
        let runs: Vec<serde_json::Value> = (0..workflows)
            .map(|w| {
                let mut one = run["workflow_runs"][0].clone();
                one["workflow_id"] = serde_json::json!(w + 1);
                one["created_at"] = serde_json::json!("2026-05-23T02:00:30Z");
                one
            })
            .collect();
        routes.push(
            Route::get(&format!("/repos/{repo}/actions/workflows")).reply(etagged(
                serde_json::json!({"total_count": workflows, "workflows": list}).to_string(),
                format!("W/\"list-{r}\""),
            )),
        );
        routes.push(
            Route::get(&format!("/repos/{repo}/actions/runs"))
                .query("status=success")
                .reply(etagged(
                    serde_json::json!({"total_count": workflows, "workflow_runs": runs})
                        .to_string(),
                    format!("W/\"runs-{r}\""),
                )),
        );
        routes.push(Route::get(&format!("/repos/{repo}")).reply(etagged(
            fixture("github/repo-private.json"),
            format!("W/\"repo-{r}\""),
        )));
        // The tree of workflow files, and one blob: every file is the same nightly file.
        let tree: Vec<serde_json::Value> = (0..workflows)
            .map(|w| serde_json::json!({"path": workflow(w), "mode": "100644", "type": "blob", "sha": NIGHTLY_SHA}))
            .collect();
        routes.push(
            Route::get(&format!("/repos/{repo}/git/trees/HEAD:.github/workflows")).reply(etagged(
                serde_json::json!({"sha": "0".repeat(40), "tree": tree, "truncated": false})
                    .to_string(),
                format!("W/\"tree-{r}\""),
            )),
        );
        routes.push(
            Route::get(&format!("/repos/{repo}/git/blobs/{NIGHTLY_SHA}"))
                .reply(etagged(file.clone(), format!("\"{NIGHTLY_SHA}\""))),
        );
    }
    routes
}

/// The blob SHA of every discovered workflow file: one file, so one blob per repository.
const NIGHTLY_SHA: &str = "4b1d0e6f2a3c5e7d9b8a6c4e2f0d1b3a5c7e9f80";

/// Whether the apps also carry the deploy, config, environment and failure checks
/// (`BENCH_KINDS=all`).
fn all_kinds() -> bool {
    std::env::var("BENCH_KINDS").is_ok_and(|v| v == "all")
}

const SLUG: &str = "c7b5b1e0-5a49-4f8a-9f0b-2a1c8f3d0042";
const RELEASED: &str = "3f2a1c9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a";

/// The routes of the four kinds for each app: its config vars, slug and deploy workflow's
/// runs, and, once, the compare and the production environment.
fn kind_routes() -> Vec<Route> {
    let mut routes = vec![
        Route::get(&format!("/repos/{REPO}/compare/{RELEASED}...main"))
            .reply(Reply::json(200, fixture("github/compare-identical.json"))),
        Route::get(&format!("/repos/{REPO}/environments/production")).reply(Reply::json(
            200,
            fixture("github/environment-protected.json"),
        )),
    ];
    for a in 0..APPS {
        routes.push(
            Route::get(&format!("/apps/{}/config-vars", app(a)))
                .reply(Reply::json(200, fixture("heroku/config-vars-api.json"))),
        );
        routes.push(
            Route::get(&format!("/apps/{}/slugs/{SLUG}", app(a)))
                .reply(Reply::json(200, fixture("heroku/slug-3f2a1c9.json"))),
        );
        routes.push(
            Route::get(&format!(
                "/repos/{REPO}/actions/workflows/deploy-{}.yml/runs",
                app(a)
            ))
            .query("status=completed")
            .reply(Reply::json(200, fixture("github/runs-success-fresh.json"))),
        );
    }
    routes
}

/// The checks of a fleet of `workflows`: one per heartbeat, two per app (its slug and its
/// dynos), the repository's activity.
fn checks(workflows: usize) -> usize {
    workflows + 2 * APPS + 1
}

/// GitHub and Heroku as they answer for a healthy fleet: the repository's tree of workflow
/// files and their blobs, its list of recent successes (each workflow on time at 02:00), with
/// ETags; each workflow's own runs too, for the sequential client.
fn routes(workflows: usize) -> Vec<Route> {
    use base64::Engine as _;
    let mut routes: Vec<Route> = (0..workflows)
        .map(|i| {
            Route::get(&runs_path(i))
                .query("status=success")
                .reply(Reply::json(200, fixture("github/runs-success-fresh.json")))
        })
        .collect();
    let sha = |i: usize| format!("{:040x}", i + 1);
    let tree: Vec<serde_json::Value> = (0..workflows)
        .map(|i| serde_json::json!({"path": workflow(i), "mode": "100644", "type": "blob", "sha": sha(i)}))
        .collect();
    routes.push(
        Route::get(&format!("/repos/{REPO}/git/trees/HEAD:.github/workflows")).reply(etagged(
            serde_json::json!({"sha": "0".repeat(40), "tree": tree, "truncated": false})
                .to_string(),
            "W/\"tree\"".into(),
        )),
    );
    let blob = serde_json::json!({
        "encoding": "base64",
        "content": base64::engine::general_purpose::STANDARD.encode(NIGHTLY_WORKFLOW),
    })
    .to_string();
    for i in 0..workflows {
        routes.push(
            Route::get(&format!("/repos/{REPO}/git/blobs/{}", sha(i)))
                .reply(etagged(blob.clone(), format!("\"{}\"", sha(i)))),
        );
    }
    let run: serde_json::Value =
        serde_json::from_str(&fixture("github/runs-success-fresh.json")).expect("fixture");
    let recent: Vec<serde_json::Value> = (0..workflows)
        .map(|i| {
            let mut one = run["workflow_runs"][0].clone();
            one["id"] = serde_json::json!(10_000 + i);
            one["workflow_id"] = serde_json::json!(i + 1);
            one["path"] = serde_json::json!(format!(".github/workflows/{}", workflow(i)));
            one["created_at"] = serde_json::json!("2026-05-23T02:00:30Z");
            one
        })
        .collect();
    routes.push(
        Route::get(&format!("/repos/{REPO}/actions/runs"))
            .query("status=success")
            .reply(etagged(
                serde_json::json!({"total_count": workflows, "workflow_runs": recent}).to_string(),
                "W/\"recent\"".into(),
            )),
    );
    routes.push(Route::get(&format!("/repos/{REPO}")).reply(etagged(
        fixture("github/repo-private.json"),
        "W/\"repo\"".into(),
    )));
    for a in 0..APPS {
        routes.push(
            Route::get(&format!("/apps/{}/releases", app(a))).reply(Reply::json(
                200,
                fixture("heroku/releases-newest-deployed.json"),
            )),
        );
        routes.push(
            Route::get(&format!("/apps/{}/dynos", app(a)))
                .reply(Reply::json(200, fixture("heroku/dynos-web-up.json"))),
        );
    }
    if all_kinds() {
        routes.extend(kind_routes());
    }
    routes
}

fn workflow(i: usize) -> String {
    format!("nightly-{i:03}.yml")
}

fn app(i: usize) -> String {
    format!("raxx-svc-{i:02}")
}

fn runs_path(i: usize) -> String {
    format!("/repos/{REPO}/actions/workflows/{}/runs", workflow(i))
}

fn write_config(dir: &Path, workflows: usize, pool: usize) -> PathBuf {
    let mut toml = format!("[github]\nrepo = \"{REPO}\"\n\n");
    for i in 0..workflows {
        toml.push_str(&format!(
            "[[heartbeat]]\nworkflow = \"{}\"\n\n",
            workflow(i)
        ));
    }
    for a in 0..APPS {
        toml.push_str(&format!(
            "[[heroku_app]]\nname = \"{}\"\nmin_web_dynos = 1\n\n",
            app(a)
        ));
        if all_kinds() {
            toml.push_str(&format!(
                "required_flags = [\"FLAG_BILLING_RETENTION_JOB\"]\n\n\
                 [[deploy]]\nheroku_app = \"{0}\"\nbranch = \"main\"\n\n\
                 [[workflow_failures]]\nworkflow = \"deploy-{0}.yml\"\n\n",
                app(a)
            ));
        }
    }
    if all_kinds() {
        toml.push_str("[[environment]]\nname = \"production\"\n\n");
    }
    toml.push_str(&format!(
        "[run]\nconcurrency = {pool}\ndeadline_seconds = 300\n"
    ));
    let path = dir.join(format!("fleet-{workflows}-{pool}.toml"));
    std::fs::write(&path, toml).expect("write config");
    path
}

/// One run of the monitor: its wall time, peak RSS, and GitHub requests (all, and 304s).
/// It must come out healthy.
struct Measured {
    wall: f64,
    peak_rss_mib: f64,
    github: (u64, u64),
}

fn monitor(url: &str, config: &Path, dir: &Path, args: &[&str]) -> Measured {
    let result = dir.join("result.json");
    let mut cmd = measured(MONITOR);
    cmd.args(args)
        .args(["--config".as_ref(), config.as_os_str()])
        .args(["--output-file".as_ref(), result.as_os_str()])
        .args(["--now", NOW])
        .env_clear()
        .envs([
            ("FLAG_CRON_HEARTBEAT_MONITOR", "1"),
            ("GITHUB_TOKEN", TOKEN),
            ("GITHUB_API_URL", url),
            ("HEROKU_API_KEY", HEROKU_KEY),
            ("HEROKU_API_URL", url),
            ("POSTMARK_SERVER_TOKEN", "pm-bench"),
            ("POSTMARK_API_URL", url),
            ("OPS_ALERT_EMAIL", "ops@raxx.app"),
            ("OPS_ALERT_FROM", "heartbeat-monitor@raxx.app"),
        ]);
    // glibc's allocator settings pass through, to measure their effect on peak RSS.
    if let Ok(v) = std::env::var("MALLOC_ARENA_MAX") {
        cmd.env("MALLOC_ARENA_MAX", v);
    }
    let (wall, code, rss) = spawn_measured(cmd);
    let text = std::fs::read_to_string(&result).expect("result file");
    assert!(
        code == 0 && text.contains("\"status\": \"ok\""),
        "the fleet must be healthy (exit {code}): {text}"
    );
    let json: serde_json::Value = serde_json::from_str(&text).expect("result JSON");
    let gh = &json["api_budget"]["github"];
    Measured {
        wall,
        peak_rss_mib: rss,
        github: (
            gh["requests"].as_u64().unwrap_or(0),
            gh["not_modified"].as_u64().unwrap_or(0),
        ),
    }
}

/// `--version`, `n` times: median milliseconds and the largest peak RSS in MiB.
fn startup(dir: &Path, n: usize) -> (f64, f64) {
    let mut times = Vec::new();
    let mut rss: f64 = 0.0;
    for _ in 0..n {
        let mut cmd = measured(MONITOR);
        cmd.arg("--version").current_dir(dir);
        let (wall, code, peak) = spawn_measured(cmd);
        assert_eq!(code, 0);
        times.push(wall * 1e3);
        rss = rss.max(peak);
    }
    (median(times), rss)
}

/// A command that runs `program` (with the arguments and environment added to it) under a
/// fresh copy of this binary, which measures it: see [`spawn_measured`].
fn measured(program: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("the benchmark's own path"));
    cmd.args([MEASURE, program]);
    cmd
}

/// Runs a [`measured`] command with its output discarded: seconds from spawn to exit, exit
/// code, peak RSS in MiB.
///
/// Linux keeps the largest RSS a process ever had across `execve`, and a child spawned
/// straight from here starts out with this process's own (its fake servers hold every
/// answer: tens of MiB). So a fresh, small copy of this binary spawns the monitor and
/// reports what `wait4` says of that child alone.
fn spawn_measured(mut cmd: Command) -> (f64, i32, f64) {
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("spawn the measuring child");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut fields = text.split_whitespace();
    let mut next = || fields.next().and_then(|f| f.parse::<f64>().ok());
    match (next(), next(), next()) {
        (Some(wall), Some(code), Some(rss)) => (wall, code as i32, rss),
        _ => panic!("the measuring child said {text:?}"),
    }
}

/// The measuring child: runs `argv` with the environment it was given and prints its wall
/// seconds, exit code and peak RSS (MiB).
fn measure_child(argv: Vec<String>) {
    let (program, args) = argv.split_first().expect("a program to measure");
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    // Reaped by wait4 below, which std's wait cannot replace: it alone reports the rusage.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().expect("spawn the monitor");
    let mut status = 0;
    // SAFETY: `usage` is a plain C struct wait4 fills; the pid is our own unwaited child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let wall = started.elapsed().as_secs_f64();
    assert!(pid > 0, "wait4 failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    println!("{wall} {code} {}", usage.ru_maxrss as f64 / 1024.0);
}

/// The same requests as the monitor makes for a healthy fleet, one after another on one
/// keep-alive connection: seconds.
fn sequential(url: &str, workflows: usize) -> f64 {
    let agent = ureq::Agent::new_with_defaults();
    let get = |path: &str, accept: &str, token: &str, range: Option<&str>| {
        let mut req = agent
            .get(format!("{url}{path}"))
            .header("Accept", accept)
            .header("Authorization", format!("Bearer {token}"))
            .header("User-Agent", "fleet-bench");
        if let Some(range) = range {
            req = req.header("Range", range);
        }
        let body = req
            .call()
            .expect("request")
            .into_body()
            .read_to_string()
            .expect("body");
        assert!(!body.is_empty());
    };
    let github = "application/vnd.github+json";
    let heroku = "application/vnd.heroku+json; version=3";
    let started = Instant::now();
    for i in 0..workflows {
        get(
            &format!("{}?status=success&per_page=1", runs_path(i)),
            github,
            TOKEN,
            None,
        );
    }
    get(&format!("/repos/{REPO}"), github, TOKEN, None);
    for a in 0..APPS {
        let range = Some("version ..; max=1, order=desc");
        get(
            &format!("/apps/{}/releases", app(a)),
            heroku,
            HEROKU_KEY,
            range,
        );
        get(&format!("/apps/{}/dynos", app(a)), heroku, HEROKU_KEY, None);
    }
    started.elapsed().as_secs_f64()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .split(',')
            .map(|x| {
                x.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}: not a number: {x}"))
            })
            .collect(),
        Err(_) => default.to_vec(),
    }
}
