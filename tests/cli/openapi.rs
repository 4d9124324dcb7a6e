//! Our requests and fixtures against GitHub's own OpenAPI description
//! (`fixtures/github/openapi-subset.json`, copied from github/rest-api-description).

use super::*;

fn spec() -> Value {
    serde_json::from_str(&fixture("github/openapi-subset.json")).unwrap()
}

/// The Actions subset with the other operations the monitor calls merged in: `github-extra`
/// (the contents API among them) and `github-git` (the workflow files' tree and blobs).
fn wider_spec() -> Value {
    let mut spec = spec();
    for name in ["github-extra", "github-git"] {
        let extra: Value =
            serde_json::from_str(&fixture(&format!("apis/{name}.subset.openapi.json"))).unwrap();
        for (section, extra) in [
            ("/paths", &extra["paths"]),
            ("/components/parameters", &extra["components"]["parameters"]),
        ] {
            let target = spec.pointer_mut(section).unwrap().as_object_mut().unwrap();
            for (k, v) in extra.as_object().unwrap() {
                target.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    spec
}

/// A validator for a schema of the `github-git` subset.
fn git_validator(name: &str) -> jsonschema::Validator {
    let git: Value = serde_json::from_str(&fixture("apis/github-git.subset.openapi.json")).unwrap();
    let root = serde_json::json!({
        "components": to_json_schema(&git["components"]),
        "allOf": [to_json_schema(&git["components"]["schemas"][name])],
    });
    jsonschema::validator_for(&root).expect("schema compiles")
}

#[test]
fn the_tree_and_blob_answers_validate_against_githubs_schemas() {
    let tree: Value = serde_json::from_str(&fixture("github/tree-workflows.json")).unwrap();
    let errors: Vec<String> = git_validator("git-tree")
        .iter_errors(&tree)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The blob the fake serves for a workflow, as the tests' GitHub answers it.
    let server = FakeServer::start(vec![workflow_blob(TRACE)]);
    let url = format!("{}/repos/{REPO}/git/blobs/{}", server.url, blob_sha(TRACE));
    let body: Value = ureq::get(&url)
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let errors: Vec<String> = git_validator("blob")
        .iter_errors(&body)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// A validator for the schema at `pointer` inside the spec, `$ref`s resolved against it.
fn validator(pointer: &str) -> jsonschema::Validator {
    let spec = spec();
    let schema = spec
        .pointer(pointer)
        .unwrap_or_else(|| panic!("no schema at {pointer}"));
    let root = serde_json::json!({
        "components": to_json_schema(&spec["components"]),
        "allOf": [to_json_schema(schema)],
    });
    jsonschema::validator_for(&root).expect("schema compiles")
}

fn response_schema(path: &str) -> String {
    format!(
        "/paths/{}/get/responses/200/content/application~1json/schema",
        path.replace('~', "~0").replace('/', "~1")
    )
}

#[test]
fn our_fixtures_validate_against_githubs_response_schemas() {
    let cases = [
        (
            "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs",
            "runs-",
        ),
        (
            "/repos/{owner}/{repo}/actions/workflows/{workflow_id}",
            "workflow-",
        ),
        ("/repos/{owner}/{repo}", "repo-"),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/github");
    let mut checked = 0;
    for (path, prefix) in cases {
        let v = validator(&response_schema(path));
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if !name.starts_with(prefix) {
                continue;
            }
            let body: Value = serde_json::from_str(&fixture(&format!("github/{name}"))).unwrap();
            let errors: Vec<String> = v
                .iter_errors(&body)
                .map(|e| format!("{e} at {}", e.instance_path()))
                .take(5)
                .collect();
            assert!(
                errors.is_empty(),
                "{name} does not match {path}: {errors:#?}"
            );
            checked += 1;
        }
    }
    let basic = validator("/components/schemas/basic-error");
    for name in [
        "error-401.json",
        "error-403-rate-limit.json",
        "error-403-secondary.json",
        "error-404.json",
    ] {
        let body: Value = serde_json::from_str(&fixture(&format!("github/{name}"))).unwrap();
        assert!(basic.is_valid(&body), "{name} is not a basic-error");
        checked += 1;
    }
    assert_eq!(checked, 15);
}

/// The operation whose path template matches `path`, and its parameters with `$ref`s resolved.
fn operation(spec: &Value, path: &str) -> Option<(String, Vec<Value>)> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    for (template, item) in spec["paths"].as_object().unwrap() {
        let t: Vec<&str> = template.trim_start_matches('/').split('/').collect();
        // GitHub's contents `{path}` and trees `{tree_sha}` span segments (`x-multi-segment`).
        let multi =
            matches!(t.last(), Some(&"{path}" | &"{tree_sha}")) && segments.len() >= t.len();
        let fits = (t.len() == segments.len() || multi)
            && t.iter()
                .zip(&segments)
                .all(|(a, b)| (a.starts_with('{') && a.ends_with('}')) || a == b);
        if fits {
            let params = item["get"]["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| match p["$ref"].as_str() {
                    Some(r) => spec.pointer(r.trim_start_matches('#')).unwrap().clone(),
                    None => p.clone(),
                })
                .collect();
            return Some((template.clone(), params));
        }
    }
    None
}

#[test]
fn every_request_we_send_is_an_operation_with_parameters_github_defines() {
    let server = FakeServer::start(stale_trace_routes());
    let cfg = CONFIG.replace(
        "workflow = \"trace-integrity-cron.yml\"",
        "workflow = \"trace-integrity-cron.yml\"\nbranch = \"main\"\nevent = \"schedule\"",
    );
    let run = Monitor::new(&server).config(&cfg).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    let spec = wider_spec();
    let reqs = api_requests(&server);
    assert_eq!(reqs.len(), 8);
    let mut seen_ops = std::collections::BTreeSet::new();
    for r in reqs {
        assert_eq!(r.method, "GET");
        let (template, params) = operation(&spec, r.path())
            .unwrap_or_else(|| panic!("{} is not in GitHub's description", r.path()));
        seen_ops.insert(template.clone());
        for (name, value) in r.query() {
            let p = params
                .iter()
                .find(|p| p["name"] == name.as_str() && p["in"] == "query")
                .unwrap_or_else(|| panic!("{template} defines no query parameter {name}"));
            let schema = &p["schema"];
            if let Some(allowed) = schema["enum"].as_array() {
                assert!(
                    allowed.iter().any(|a| a == value.as_str()),
                    "{name}={value} is not in {allowed:?}"
                );
            }
            match schema["type"].as_str() {
                Some("integer") => {
                    let n: i64 = value
                        .parse()
                        .unwrap_or_else(|_| panic!("{name}={value} is not an integer"));
                    assert!((1..=100).contains(&n), "{name}={n} outside 1..=100");
                }
                Some("boolean") => assert!(value == "true" || value == "false", "{name}={value}"),
                _ => {}
            }
        }
        // Every header beyond HTTP's own is GitHub's documented versioning header.
        for (name, _) in &r.headers {
            assert!(
                [
                    "host",
                    "authorization",
                    "accept",
                    "user-agent",
                    "accept-encoding",
                    "connection",
                    "x-github-api-version"
                ]
                .contains(&name.as_str()),
                "unexpected header {name}"
            );
        }
        // The spec answers application/json; the vnd.github media type is its documented alias.
        assert!(
            r.header("accept")
                .unwrap()
                .starts_with("application/vnd.github+json")
        );
    }
    // Trace's runs and workflow, the repository, its runs, its tree and two blobs.
    assert_eq!(seen_ops.len(), 6, "{seen_ops:?}");
}
