//! What the README and the examples promise: the example result validates against the schema,
//! the minimal configuration is a valid one, the example workflow uses the action's inputs.

use std::path::Path;

use super::*;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The README's fenced blocks of `lang`.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_end()) {
            (None, l) if l == format!("```{lang}") => current = Some(String::new()),
            (Some(_), "```") => out.push(current.take().unwrap()),
            (Some(block), l) => {
                block.push_str(l);
                block.push('\n');
            }
            _ => {}
        }
    }
    out
}

#[test]
fn every_example_result_in_the_readme_validates_against_the_schema() {
    let results: Vec<Value> = blocks(&read("README.md"), "json")
        .iter()
        .map(|b| serde_json::from_str(b).unwrap_or_else(|e| panic!("{e}:\n{b}")))
        .filter(|v: &Value| v.get("schema_version").is_some())
        .collect();
    assert!(!results.is_empty(), "the README shows a result file");
    for r in &results {
        assert_schema_valid(r);
    }
}

#[test]
fn the_minimal_configuration_is_valid_and_watches_by_discovery() {
    let run = Monitor::bare()
        .env("FLAG_CRON_HEARTBEAT_MONITOR", "1")
        .env("GITHUB_TOKEN", GITHUB_TOKEN)
        .env("POSTMARK_SERVER_TOKEN", POSTMARK_TOKEN)
        .env("OPS_ALERT_EMAIL", "ops@example.org")
        .env("OPS_ALERT_FROM", "monitor@example.org")
        .config(&read("examples/minimal.toml"))
        .args(&["--check-config"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("cron_heartbeat:OWNER/NAME:*  (every scheduled workflow of OWNER/NAME"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("subjects prefixed \"[heartbeat-monitor]\""),
        "{}",
        run.stdout
    );
    // The README shows the same file.
    assert!(
        blocks(&read("README.md"), "toml").contains(
            &read("examples/minimal.toml")
                .lines()
                .filter(|l| !l.starts_with('#'))
                .map(|l| format!("{l}\n"))
                .collect::<String>()
        ),
        "the README's minimal configuration is examples/minimal.toml"
    );
}

#[test]
fn the_workflows_pass_only_inputs_the_action_declares() {
    let action = read("action.yml");
    let declared: Vec<&str> = action
        .split("\ninputs:\n")
        .nth(1)
        .unwrap()
        .split("\noutputs:\n")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("  ")?.strip_suffix(':'))
        .filter(|k| !k.starts_with(' '))
        .collect();
    assert!(
        declared.contains(&"config") && declared.contains(&"github-token"),
        "{declared:?}"
    );
    for path in [
        ".github/workflows/cron-heartbeat-monitor.yml",
        "examples/workflows/heartbeat-monitor.yml",
    ] {
        let text = read(path);
        let with = text.split("        with:\n").nth(1).unwrap();
        for line in with.lines().take_while(|l| l.starts_with("          ")) {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            let key = line.split(':').next().unwrap();
            assert!(
                declared.contains(&key),
                "{path} passes {key:?}, not an input of action.yml"
            );
        }
    }
}
