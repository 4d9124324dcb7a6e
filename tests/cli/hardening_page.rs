//! The status page and the installer against what an attacker or a chaos tester leaves for
//! them: a crafted or future history line, badge names that collide or run long, a history
//! too large or not UTF-8, temporary files of a killed run, and versions that are not
//! release tags.

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::process::Output;
use std::time::{Duration, SystemTime};

use super::action::install;
use super::*;

fn page_run(server: &FakeServer, config: &str, dir: &Path) -> Run {
    Monitor::new(server)
        .config(config)
        .args(&["--status-page", dir.to_str().unwrap()])
        .run()
}

fn line(at: &str, status: &str) -> String {
    serde_json::json!({"at": at, "id": id(TRACE), "kind": "cron_heartbeat", "target": TRACE,
                       "status": status})
    .to_string()
}

/// The first `n` lines of a history, each as `line` writes it.
fn first_lines(text: &str, n: usize) -> Vec<String> {
    text.lines()
        .take(n)
        .map(|l| serde_json::from_str::<Value>(l).unwrap().to_string())
        .collect()
}

fn history_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("history.jsonl")).unwrap()
}

// 6
#[test]
fn a_crafted_status_never_reaches_the_page_and_a_line_from_the_future_is_dropped() {
    let server = FakeServer::start(stale_trace_routes());
    let dir = scratch("page-crafted");
    let crafted = line(
        "2026-05-21T06:30:00Z",
        "ok\"><script>alert(document.domain)</script><b class=\"",
    );
    let future = line("9999-01-01T00:00:00Z", "ok");
    let good = line("2026-05-22T06:30:00Z", "ok");
    std::fs::write(
        dir.join("history.jsonl"),
        format!("{crafted}\n{future}\n{good}\n"),
    )
    .unwrap();
    let run = page_run(&server, CONFIG, &dir);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(!html.contains("<script"), "{html}");
    assert!(
        !html.contains("alert("),
        "not even escaped: the line is dropped"
    );
    assert!(
        run.stderr
            .contains("history.jsonl line 1: its status is not ok, warning, critical or unknown"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("1 line dated after this run"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("<script"),
        "the warning does not repeat it"
    );
    let kept = history_text(&dir);
    assert!(!kept.contains("script") && !kept.contains("9999"), "{kept}");
    assert_eq!(first_lines(&kept, 1), [good], "{kept}");
    // Trace: the good ok line and this run's critical one, not the 9999 ok.
    assert!(html.contains("50.0 % ok"), "{html}");
}

/// `[[http_probe]]` sections, each `(name, path)` on `server`.
fn probes(server: &FakeServer, probes: &[(&str, &str)]) -> String {
    probes
        .iter()
        .map(|(name, path)| {
            format!(
                "[[http_probe]]\nname = \"{name}\"\nurl = \"{}{path}\"\n",
                server.url
            )
        })
        .collect()
}

/// Every badge of `dir`: file name, label and message.
fn badges(dir: &Path) -> Vec<(String, String, String)> {
    let mut all: Vec<(String, String, String)> = std::fs::read_dir(dir.join("badges"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let badge: Value =
                serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                badge["label"].as_str().unwrap().to_string(),
                badge["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    all.sort();
    all
}

// 14
#[test]
fn badges_of_ids_that_look_alike_are_apart_and_a_long_name_still_gets_one() {
    let server = FakeServer::start(vec![
        Route::get("/up").reply(Reply::json(200, "{\"status\":\"ok\"}")),
        Route::get("/down").reply(Reply::html(503, "<html>down</html>")),
        postmark_ok(),
    ]);
    let long = "x".repeat(300);
    let config = probes(
        &server,
        &[
            ("a/b", "/up"),
            ("a b", "/down"),
            ("é", "/up"),
            ("ü", "/down"),
            (&long, "/up"),
        ],
    );
    let dir = scratch("page-badges");
    let run = page_run(&server, &config, &dir);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(dir.join("index.html").exists(), "{}", run.stderr);
    let found = badges(&dir);
    let by_label = |label: &str| {
        found
            .iter()
            .find(|(_, l, _)| l == &format!("http_probe {label}"))
            .unwrap_or_else(|| panic!("no badge of {label}: {found:?}"))
            .clone()
    };
    assert_eq!(found.len(), 5, "{found:?}");
    assert_eq!(by_label("a/b").2, "ok");
    assert_eq!(by_label("a b").2, "critical");
    assert_eq!(by_label("é").2, "ok");
    assert_eq!(by_label("ü").2, "critical");
    assert_eq!(by_label(&long).2, "ok");
    for (name, _, _) in &found {
        assert!(name.len() <= 128, "{name} is {} bytes", name.len());
    }
}

// 15
#[test]
fn a_line_that_is_not_utf8_is_skipped_and_the_page_goes_on() {
    let server = FakeServer::start(stale_trace_routes());
    let dir = scratch("page-not-utf8");
    let good = line("2026-05-22T06:30:00Z", "ok");
    let mut text = format!("{good}\n").into_bytes();
    text.extend_from_slice(b"{\"at\": \"2026-05-22T07:30:00Z\", \"id\": \"\xff\xfe\"}\n");
    text.extend_from_slice(format!("{good}\n").as_bytes());
    std::fs::write(dir.join("history.jsonl"), text).unwrap();
    let run = page_run(&server, CONFIG, &dir);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("history.jsonl line 2: not a history line, skipped (the others are kept)"),
        "{}",
        run.stderr
    );
    let kept = history_text(&dir);
    assert_eq!(first_lines(&kept, 2), [good.clone(), good], "{kept}");
}

// 15
#[test]
fn a_history_over_any_bound_keeps_its_newest_lines_and_the_page_goes_on() {
    let server = FakeServer::start(stale_trace_routes());
    let dir = scratch("page-huge");
    // 300 MiB of a file that holds nothing yet (sparse: no disk is spent), then real lines.
    let mut f = std::fs::File::create(dir.join("history.jsonl")).unwrap();
    f.set_len(300 << 20).unwrap();
    f.seek(SeekFrom::End(0)).unwrap();
    let good = line("2026-05-22T06:30:00Z", "ok");
    write!(f, "\n{good}\n").unwrap();
    drop(f);
    let run = page_run(&server, CONFIG, &dir);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("only its newest 64 MiB are read"),
        "{}",
        run.stderr
    );
    let kept = history_text(&dir);
    assert_eq!(first_lines(&kept, 1), [good], "{kept}");
    assert!(kept.len() < 4096, "the rest went: {} bytes", kept.len());
    assert!(
        std::fs::read_to_string(dir.join("index.html"))
            .unwrap()
            .contains("50.0 % ok")
    );
}

fn aged(path: &Path, age: Duration) {
    std::fs::write(path, "half a history").unwrap();
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - age)
        .unwrap();
}

// 19
#[test]
fn temporary_files_a_killed_run_left_are_removed_and_no_others() {
    let server = FakeServer::start(stale_trace_routes());
    let dir = scratch("page-stale-tmp");
    std::fs::create_dir_all(dir.join("badges")).unwrap();
    let day = Duration::from_secs(24 * 3600);
    let stale = [
        ".history.jsonl.4242.0.tmp",
        ".index.html.4242.1.tmp",
        "badges/.http_probe_x.json.4242.0.tmp",
    ];
    let kept = [
        ".history.jsonl.notes.tmp",      // not a name we make
        ".state.json.4242.0.tmp",        // not ours
        "badges/.x.json.4242.0.tmp.bak", // not ours
        "history.jsonl.4242.0.tmp",      // not ours (ours start with a dot)
    ];
    for name in stale.iter().chain(&kept) {
        aged(&dir.join(name), day);
    }
    // Another run's file, just made: it may still be in flight.
    let in_flight = ".history.jsonl.4243.0.tmp";
    aged(&dir.join(in_flight), Duration::ZERO);

    let run = page_run(&server, CONFIG, &dir);
    assert_eq!(run.code, 2, "{}", run.stderr);
    for name in stale {
        assert!(!dir.join(name).exists(), "{name} is still there");
    }
    for name in kept.iter().chain(&[in_flight]) {
        assert!(dir.join(name).exists(), "{name} was removed");
    }
}

fn said(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

// 17
#[test]
fn install_takes_release_tags_latest_and_source_only() {
    let dir = scratch("page-install-versions");
    let server = FakeServer::start(vec![]);
    for version in [
        "v0.1.0\ntarget=../../evil",
        "v1",
        "v1.2",
        "v1/../../x",
        "v1.2.3/../../evil",
        "v1.2.3..4",
        "v1.2.3-",
        "v1.2.3-rc..1",
        "v1.2.3+build.5",
        "v1.2.3 ",
        "v01.2.3",
        "1.2.3",
        "main",
    ] {
        let (out, outputs) = install(&server, &dir, version, Some("resolve"));
        assert_eq!(out.status.code(), Some(1), "{version:?} was taken");
        assert_eq!(outputs, "", "{version:?} wrote {outputs:?}");
        let stderr = said(&out);
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(
            stderr.starts_with("::error title=heartbeat-monitor install::version ")
                && stderr
                    .contains("is not a release tag (v1.2.3 or v1.2.3-rc.1), latest or source"),
            "{stderr}"
        );
    }
    let (_, target) = super::action::runner();
    for version in ["v1.2.3", "v1.2.3-rc.1", "v10.0.0-beta"] {
        let (out, outputs) = install(&server, &dir, version, Some("resolve"));
        assert!(out.status.success(), "{version}: {}", said(&out));
        assert_eq!(outputs, format!("tag={version}\ntarget={target}\n"));
    }
    assert!(server.requests().is_empty());
}

// 17
#[test]
fn a_latest_release_that_is_not_a_tag_is_refused() {
    let dir = scratch("page-install-latest");
    let server = FakeServer::start(vec![
        Route::get("/ops-team/heartbeat-monitor/releases/latest").reply(
            Reply::html(302, "").header(
                "Location",
                "/ops-team/heartbeat-monitor/releases/tag/v1.2.3%2F..%2F..%2Fevil",
            ),
        ),
    ]);
    let (out, outputs) = install(&server, &dir, "latest", Some("resolve"));
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert_eq!(outputs, "");
    assert!(
        said(&out).contains("is not a release tag (v1.2.3 or v1.2.3-rc.1)"),
        "{}",
        said(&out)
    );
}
