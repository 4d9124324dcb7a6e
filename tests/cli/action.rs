//! The GitHub Action's scripts (`action/install.sh`, `action/run.sh`), run as the action runs
//! them: the install against a loopback server serving a release built from this binary the
//! way `scripts/package-release` packs it, with its SHA256SUMS.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use super::*;

const REPOSITORY: &str = "ops-team/heartbeat-monitor";
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The runner's architecture, as `RUNNER_ARCH` names it, and the release target it gets.
pub fn runner() -> (&'static str, String) {
    match std::env::consts::ARCH {
        "aarch64" => ("ARM64", "aarch64-unknown-linux-musl".into()),
        _ => ("X64", "x86_64-unknown-linux-musl".into()),
    }
}

/// A release of this binary: (archive name, archive bytes, SHA256SUMS text).
fn release(dir: &Path) -> (String, Vec<u8>, String) {
    let (_, target) = runner();
    let out = Command::new(root().join("scripts/package-release"))
        .args([
            &target,
            &format!("v{VERSION}"),
            env!("CARGO_BIN_EXE_heartbeat-monitor"),
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let bytes = std::fs::read(&path).unwrap();
    let name = path.file_name().unwrap().to_str().unwrap().to_string();
    let sum = hex(ring::digest::digest(&ring::digest::SHA256, &bytes).as_ref());
    let sums = format!(
        "{sum}  {name}\n{}  heartbeat-monitor-{VERSION}-other.tar.gz\n",
        "0".repeat(64)
    );
    (name, bytes, sums)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// GitHub's release pages for `REPOSITORY`: latest redirects to the tag, downloads answer.
fn release_server(archive: &str, bytes: Vec<u8>, sums: &str) -> FakeServer {
    let download = format!("/{REPOSITORY}/releases/download/v{VERSION}");
    FakeServer::start(vec![
        // Asked only for HM_VERSION=latest.
        Route::get(&format!("/{REPOSITORY}/releases/latest"))
            .reply(Reply::html(302, "").header(
                "Location",
                &format!("/{REPOSITORY}/releases/tag/v{VERSION}"),
            ))
            .optional(),
        Route::get(&format!("{download}/{archive}")).reply(Reply::Bytes(Arc::new(bytes))),
        Route::get(&format!("{download}/SHA256SUMS")).reply(Reply::Full {
            status: 200,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: sums.to_string(),
        }),
    ])
}

/// Runs `action/install.sh [arg]` as the action does, into `dir/bin`.
pub fn install(
    server: &FakeServer,
    dir: &Path,
    version: &str,
    arg: Option<&str>,
) -> (Output, String) {
    let (arch, _) = runner();
    let outputs = dir.join("github_output");
    let _ = std::fs::remove_file(&outputs);
    let out = Command::new(root().join("action/install.sh"))
        .args(arg)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HM_VERSION", version)
        .env("HM_ACTION_PATH", root())
        .env("HM_REPOSITORY", REPOSITORY)
        .env("HM_SERVER_URL", &server.url)
        .env("HM_INSTALL_DIR", dir.join("bin"))
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", arch)
        .env("RUNNER_TEMP", dir)
        .env("GITHUB_OUTPUT", &outputs)
        .output()
        .unwrap();
    (out, std::fs::read_to_string(&outputs).unwrap_or_default())
}

#[test]
fn install_fetches_the_latest_release_checks_its_sum_and_runs() {
    let dir = scratch("action-install");
    let (archive, bytes, sums) = release(&dir);
    let server = release_server(&archive, bytes, &sums);

    let (out, outputs) = install(&server, &dir, "latest", None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = dir.join("bin/heartbeat-monitor");
    assert!(
        outputs.contains(&format!("version={VERSION}\n")),
        "{outputs}"
    );
    assert!(
        outputs.contains(&format!("path={}\n", bin.display())),
        "{outputs}"
    );
    let version = Command::new(&bin).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout),
        format!("heartbeat-monitor {VERSION}\n")
    );
    let asked: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    assert!(
        asked.contains(&format!("/{REPOSITORY}/releases/latest")),
        "{asked:?}"
    );
}

#[test]
fn with_no_version_the_action_resolves_its_own() {
    let dir = scratch("action-resolve");
    let server = FakeServer::start(vec![]);
    let (out, outputs) = install(&server, &dir, "", Some("resolve"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, target) = runner();
    assert_eq!(outputs, format!("tag=v{VERSION}\ntarget={target}\n"));
    assert!(
        server.requests().is_empty(),
        "resolving its own version asks nothing"
    );
}

#[test]
fn a_wrong_checksum_fails_loudly_and_installs_nothing() {
    let dir = scratch("action-bad-sum");
    let (archive, bytes, sums) = release(&dir);
    let (good, _) = sums.split_once(' ').unwrap();
    let bad = sums.replace(good, &"f".repeat(64));
    let server = release_server(&archive, bytes, &bad);

    let (out, outputs) = install(&server, &dir, &format!("v{VERSION}"), None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "::error title=heartbeat-monitor install::checksum mismatch for {archive}: SHA256SUMS says {}",
            "f".repeat(64)
        )),
        "{stderr}"
    );
    assert!(stderr.contains("Not installed."), "{stderr}");
    assert!(!dir.join("bin/heartbeat-monitor").exists());
    assert!(outputs.is_empty(), "{outputs}");
}

#[test]
fn a_missing_release_or_sum_or_platform_says_which() {
    let dir = scratch("action-missing");
    let (archive, _, _) = release(&dir);
    // No release v9.9.9 here: every download answers GitHub's 404.
    let server = FakeServer::start(Vec::new());
    let stderr = |out: &Output| String::from_utf8_lossy(&out.stderr).into_owned();

    let (out, _) = install(&server, &dir, "v9.9.9", None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("could not download"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("/releases/download/v9.9.9/heartbeat-monitor-9.9.9-"));

    let unlisted = release_server(&archive, std::fs::read(dir.join(&archive)).unwrap(), "");
    let (out, _) = install(&unlisted, &dir, &format!("v{VERSION}"), None);
    assert!(
        stderr(&out).contains(&format!("SHA256SUMS of v{VERSION} lists no {archive}")),
        "{}",
        stderr(&out)
    );

    let (out, _) = install(&server, &dir, "main", None);
    assert!(
        stderr(&out).contains(
            "version 'main' is not a release tag (v1.2.3 or v1.2.3-rc.1), latest or source"
        ),
        "{}",
        stderr(&out)
    );

    let out = Command::new(root().join("action/install.sh"))
        .env("HM_VERSION", "latest")
        .env("HM_REPOSITORY", REPOSITORY)
        .env("RUNNER_OS", "Windows")
        .env("RUNNER_ARCH", "X64")
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("no release binary for Windows on X64"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.join("bin/heartbeat-monitor").exists());
}

/// Runs `action/run.sh` with the monitor's usual test environment.
pub fn run_action(server: &FakeServer, dir: &Path, extra: &[(&str, &str)]) -> (Output, String) {
    let outputs = dir.join("github_output");
    let _ = std::fs::remove_file(&outputs);
    let config = dir.join("heartbeat-monitor.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let mut cmd = Command::new(root().join("action/run.sh"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HM_BIN", env!("CARGO_BIN_EXE_heartbeat-monitor"))
        .env("HM_CONFIG", &config)
        .env("HM_DRY_RUN", "true")
        .env("HM_STATE_FILE", dir.join(".heartbeat-state/state.json"))
        .env("HM_RESULT_FILE", dir.join("heartbeat_result.json"))
        .env("GITHUB_OUTPUT", &outputs)
        .env("FLAG_CRON_HEARTBEAT_MONITOR", "1")
        .env("GITHUB_TOKEN", GITHUB_TOKEN)
        .env("GITHUB_API_URL", &server.url);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (out, std::fs::read_to_string(&outputs).unwrap_or_default())
}

#[test]
fn run_passes_the_inputs_and_exposes_status_and_exit_code() {
    let server = FakeServer::start(stale_trace_routes());
    let dir = scratch("action-run");
    let status = dir.join("status");
    let (out, outputs) = run_action(
        &server,
        &dir,
        &[("HM_STATUS_PAGE", status.to_str().unwrap())],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result = dir.join("heartbeat_result.json");
    assert_eq!(
        outputs,
        format!(
            "status=critical\nexit-code=2\nresult-file={}\n",
            result.display()
        )
    );
    assert!(
        stdout.contains("dry run:"),
        "the dry-run input reached the monitor: {stdout}"
    );

    let (out, outputs) = run_action(&server, &dir, &[("FLAG_CRON_HEARTBEAT_MONITOR", "0")]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        outputs.starts_with("status=disabled\nexit-code=0\n"),
        "{outputs}"
    );

    let (out, outputs) = run_action(&server, &dir, &[("HM_SLA_HOURS", "abc")]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        outputs.starts_with("status=unknown\nexit-code=3\n"),
        "{outputs}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("expected a positive number of hours"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Each action the composite action and the shipped workflows use, at the major version whose
/// `action.yml` says `runs.using: node24` (read from each action's own repository), or a
/// composite one. GitHub runs Node 20 actions on Node 24 from June 2026 and then stops.
const NODE24: &[&str] = &[
    "actions/cache@v5",
    "actions/cache/restore@v5",
    "actions/cache/save@v5",
    "actions/checkout@v7",
    "actions/deploy-pages@v5",
    "actions/download-artifact@v8",
    "actions/upload-artifact@v7",
    // Composite; v5 uses actions/upload-artifact@v7.
    "actions/upload-pages-artifact@v5",
    // v2 is v2.9: node24 since v2.9.0.
    "Swatinem/rust-cache@v2",
    // Composite; @master takes the toolchain as an input.
    "dtolnay/rust-toolchain@stable",
    "dtolnay/rust-toolchain@master",
];

#[test]
fn every_action_used_runs_on_node_24() {
    let mut files = vec![root().join("action.yml"), root().join("README.md")];
    for dir in [".github/workflows", "examples/workflows"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    let mut seen = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in text.lines() {
            let Some((_, used)) = line.split_once("uses: ") else {
                continue;
            };
            let used = used.trim().trim_matches('`');
            if used.starts_with("./") || used.starts_with("OWNER/") || !used.contains('@') {
                continue;
            }
            seen += 1;
            assert!(
                NODE24.contains(&used),
                "{} uses {used}, not known to run on Node 24",
                file.display()
            );
        }
    }
    assert!(seen >= 10, "only {seen} uses found");
}
