//! Our requests and fixtures against the vendors' own API descriptions (`fixtures/apis/`):
//! the binary's requests to Heroku, Cloudflare and Postmark are served by Stoplight Prism,
//! which must log no violation, and every fixture body validates against the vendor's
//! response schema.

use std::time::{Duration, Instant};

use heartbeat_monitor::clients::heroku::Heroku;
use heartbeat_monitor::clients::http::{Http, HttpSettings};

use super::support::prism::{Prism, api_description};
use super::*;

fn spec(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(api_description(name)).unwrap()).unwrap()
}

/// A validator for the schema at `pointer` in the description `name`, its `$ref`s resolved
/// against the description's components (OpenAPI 3) or definitions (Swagger 2).
fn validator(name: &str, pointer: &str) -> jsonschema::Validator {
    let spec = spec(name);
    let schema = spec
        .pointer(pointer)
        .unwrap_or_else(|| panic!("no schema at {pointer} in {name}"));
    let mut root = serde_json::json!({ "allOf": [to_json_schema(schema)] });
    for key in ["components", "definitions"] {
        if let Some(v) = spec.get(key) {
            root[key] = to_json_schema(v);
        }
    }
    jsonschema::validator_for(&root).expect("schema compiles")
}

fn ok_schema(path: &str, method: &str, media: Option<&str>) -> String {
    let path = path.replace('~', "~0").replace('/', "~1");
    match media {
        Some(m) => format!(
            "/paths/{path}/{method}/responses/200/content/{}/schema",
            m.replace('/', "~1")
        ),
        None => format!("/paths/{path}/{method}/responses/200/schema"),
    }
}

/// Every fixture of `dir` whose name starts with `prefix` validates against `v`; returns how
/// many did.
fn validate_fixtures(v: &jsonschema::Validator, dir: &str, prefix: &str) -> usize {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(dir);
    let mut checked = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !name.starts_with(prefix) || !name.ends_with(".json") {
            continue;
        }
        let body: Value = serde_json::from_str(&fixture(&format!("{dir}/{name}"))).unwrap();
        let errors: Vec<String> = v
            .iter_errors(&body)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{dir}/{name} breaks the vendor's schema: {errors:#?}"
        );
        checked += 1;
    }
    assert!(checked > 0, "no fixture {dir}/{prefix}*");
    checked
}

#[test]
fn heroku_fixtures_validate_against_herokus_schema() {
    const HEROKU: &str = "heroku-platform-api.subset.openapi.json";
    let json = Some("application/json");
    for (path, prefix) in [
        ("/apps/{app_id_or_name}/releases", "releases-"),
        ("/apps/{app_id_or_name}/dynos", "dynos-"),
        ("/apps/{app_id_or_name}/formation", "formation-"),
        ("/apps/{app_id_or_name}", "app-"),
        ("/apps/{app_id_or_name}/config-vars", "config-vars-"),
        ("/apps/{app_id_or_name}/slugs/{slug_id}", "slug-"),
        (
            "/apps/{app_id_or_name}/oci-images/{oci_image_id_or_digest}",
            "oci-image-",
        ),
    ] {
        validate_fixtures(
            &validator(HEROKU, &ok_schema(path, "get", json)),
            "heroku",
            prefix,
        );
    }
    let error = validator(HEROKU, "/components/schemas/error");
    validate_fixtures(&error, "heroku", "error-");
}

#[test]
fn cloudflare_fixtures_validate_against_cloudflares_schema() {
    const CF: &str = "cloudflare-pages.subset.openapi.json";
    let path = "/accounts/{account_id}/pages/projects/{project_name}/deployments";
    let ok = validator(CF, &ok_schema(path, "get", Some("application/json")));
    assert_eq!(validate_fixtures(&ok, "cloudflare", "deployments-"), 4);
    // The description's 4XX schema is allOf the list response (success: true) and the
    // failure (success: false), which nothing can satisfy; the failure alone is the shape.
    let failure = validator(CF, "/components/schemas/pages_api-response-common-failure");
    validate_fixtures(&failure, "cloudflare", "error-");
}

#[test]
fn postmark_fixtures_validate_against_postmarks_schema() {
    let v = validator(
        "postmark-email.subset.swagger.json",
        &ok_schema("/email/batch", "post", None),
    );
    validate_fixtures(&v, "postmark", "batch-");
}

/// Runs the binary with `var` pointing at `prism` and `config`, as a dry run; Prism's
/// answers must be understood (no monitor failure).
fn run_against(prism: &Prism, var: &str, config: &str) {
    let server = FakeServer::start(vec![postmark_ok()]);
    let run = Monitor::new(&server)
        .env(var, &prism.url)
        .config(config)
        .args(&["--dry-run"])
        .run();
    assert!(
        run.code < 3,
        "Prism's answers were understood: {}",
        run.stdout
    );
}

/// Fails on any request Prism found against the description, and when it saw none at all.
fn assert_conforms(prism: &Prism, expected: &[&str]) {
    let seen = prism.requests();
    for want in expected {
        assert!(
            seen.iter().any(|r| r.starts_with(want)),
            "Prism never saw {want}: {seen:#?}"
        );
    }
    assert_eq!(
        prism.request_violations(),
        Vec::<String>::new(),
        "requests the vendor's description does not allow:\n{}",
        prism.log()
    );
}

#[test]
fn the_binarys_heroku_requests_conform_to_herokus_description() {
    let prism = Prism::serve("heroku-platform-api.subset.openapi.json");
    let server = FakeServer::start(vec![postmark_ok()]);
    let run = Monitor::new(&server)
        .env("HEROKU_API_URL", &prism.url)
        .config("[[heroku_app]]\nname = \"raxx-api-prod\"\n")
        .args(&["--dry-run"])
        .run();
    assert!(
        run.code < 3,
        "Prism's answers were understood: {}",
        run.stdout
    );
    assert_conforms(
        &prism,
        &[
            "get /apps/raxx-api-prod/releases",
            "get /apps/raxx-api-prod/dynos",
        ],
    );

    // The calls a healthy app does not make (dating an outage), and those of other kinds:
    // a flag's config var, the slug `deploy_drift` reads the released commit from, and a
    // Fir app's OCI image, which it reads the commit from instead.
    let http = Http::new(HttpSettings::default());
    let deadline = Instant::now() + Duration::from_secs(30);
    let heroku = Heroku::new(http, &prism.url, HEROKU_KEY, deadline);
    heroku.formation("raxx-api-prod").unwrap();
    heroku.app("raxx-api-prod").unwrap();
    heroku
        .config_vars("raxx-console-prod", &["FLAG_X".to_string()])
        .unwrap();
    let slug = heroku
        .slug("raxx-api-prod", "c7b5b1e0-5a49-4f8a-9f0b-2a1c8f3d0042")
        .unwrap();
    assert!(
        slug.commit.is_some(),
        "Prism's example slug names its commit"
    );
    let image = heroku
        .oci_image("raxx-stream-prod", "4e7a2b1c-9d3f-4a6b-8c5e-1f2a3b4c5d6e")
        .unwrap();
    assert!(
        image.commit.is_some(),
        "Prism's example OCI image names its commit"
    );
    assert_conforms(
        &prism,
        &[
            "get /apps/raxx-api-prod/formation",
            "get /apps/raxx-api-prod",
            "get /apps/raxx-console-prod/config-vars",
            "get /apps/raxx-api-prod/slugs/c7b5b1e0-5a49-4f8a-9f0b-2a1c8f3d0042",
            "get /apps/raxx-stream-prod/oci-images/4e7a2b1c-9d3f-4a6b-8c5e-1f2a3b4c5d6e",
        ],
    );
}

#[test]
fn the_binarys_cloudflare_request_conforms_to_cloudflares_description() {
    let prism = Prism::serve("cloudflare-pages.subset.prism.openapi.json");
    run_against(
        &prism,
        "CLOUDFLARE_API_URL",
        "[[pages_project]]\nname = \"getraxx\"\n",
    );
    assert_conforms(
        &prism,
        &[&format!(
            "get /accounts/{CLOUDFLARE_ACCOUNT}/pages/projects/getraxx/deployments"
        )],
    );
}

#[test]
fn the_binarys_postmark_batch_conforms_to_postmarks_description() {
    let prism = Prism::serve("postmark-email.subset.swagger.json");
    let server = FakeServer::start(stale_trace_routes());
    let run = Monitor::new(&server)
        .env("POSTMARK_API_URL", &prism.url)
        .config(CONFIG)
        .run();
    assert_eq!(run.code, 2, "one mail, one answer: {}", run.stderr);
    assert_eq!(run.result()["notifications"][0]["sent"], true);
    assert_conforms(&prism, &["post /email/batch"]);
}

#[test]
fn github_environment_fixtures_validate_and_the_request_conforms() {
    const GH: &str = "github-extra.subset.openapi.json";
    let path = "/repos/{owner}/{repo}/environments/{environment_name}";
    let v = validator(GH, &ok_schema(path, "get", Some("application/json")));
    assert_eq!(validate_fixtures(&v, "github", "environment-"), 2);

    let prism = Prism::serve("github-extra.subset.prism.openapi.json");
    run_against(
        &prism,
        "GITHUB_API_URL",
        "[github]\nrepo = \"raxx-app/TradeMasterAPI\"\n[[environment]]\nname = \"production\"\n",
    );
    assert_conforms(
        &prism,
        &["get /repos/raxx-app/TradeMasterAPI/environments/production"],
    );
}

#[test]
fn the_completed_runs_request_conforms_to_githubs_description() {
    let prism = Prism::serve("github-actions-subset.prism.openapi.json");
    run_against(
        &prism,
        "GITHUB_API_URL",
        "[github]\nrepo = \"raxx-app/TradeMasterAPI\"\n[[workflow_failures]]\nworkflow = \"deploy-heroku.yml\"\nbranch = \"main\"\n",
    );
    assert_conforms(
        &prism,
        &["get /repos/raxx-app/TradeMasterAPI/actions/workflows/deploy-heroku.yml/runs"],
    );
}

#[test]
fn the_workflow_file_as_the_contents_api_serves_it_validates() {
    const GH: &str = "github-extra.subset.openapi.json";
    let path = "/repos/{owner}/{repo}/contents/{path}";
    let v = validator(GH, &ok_schema(path, "get", Some("application/json")));
    for workflow in [BILLING, TRACE] {
        let text = fixture(&format!("github/workflows/{workflow}"));
        let body: Value = serde_json::from_str(&contents_body(workflow, &text)).unwrap();
        let errors: Vec<String> = v.iter_errors(&body).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{workflow}: {errors:#?}");
    }
}

#[test]
fn discovery_fixtures_validate_and_its_requests_conform_to_githubs_description() {
    const GH: &str = "github-extra.subset.openapi.json";
    let list = validator(
        GH,
        &ok_schema(
            "/repos/{owner}/{repo}/actions/workflows",
            "get",
            Some("application/json"),
        ),
    );
    assert_eq!(validate_fixtures(&list, "github", "workflows-list"), 1);

    // Prism answers the workflow list with GitHub's example; the example's workflow file
    // path has slashes, which Prism cannot match to its one-segment `{path}` (a known limit:
    // GitHub's own parameter spans segments), so the files are read in the integration
    // tests instead. The list, the repository-wide runs and the organisation's
    // repositories must be requests GitHub's description allows.
    let prism = Prism::serve("github-extra.subset.prism.openapi.json");
    let server = FakeServer::start(vec![postmark_ok()]);
    let run = Monitor::new(&server)
        .env("GITHUB_API_URL", &prism.url)
        .config("[github]\nrepo = \"raxx-app/TradeMasterAPI\"\norg = \"raxx-app\"\n")
        .args(&["--dry-run"])
        .run();
    // Prism's example files 404 (see above): not on the default branch, so not scheduled.
    assert!(
        !run.stdout.contains("could not be read"),
        "a file missing from the default branch is no schedule: {}",
        run.stdout
    );
    assert_conforms(
        &prism,
        &[
            "get /repos/raxx-app/TradeMasterAPI/actions/workflows",
            "get /orgs/raxx-app/repos",
        ],
    );
    let http = Http::new(HttpSettings::default());
    let deadline = Instant::now() + Duration::from_secs(30);
    let gh =
        heartbeat_monitor::clients::github::GitHub::new(http, &prism.url, GITHUB_TOKEN, deadline);
    let repo = heartbeat_monitor::clients::github::Repo::parse(REPO).unwrap();
    let from = "2026-05-22T00:00:00Z".parse().unwrap();
    gh.successes_since(&repo, from).unwrap();
    assert_conforms(&prism, &["get /repos/raxx-app/TradeMasterAPI/actions/runs"]);
}

/// The schema of `method path`'s JSON request body in `name`.
fn request_schema(name: &str, path: &str, method: &str) -> jsonschema::Validator {
    let path = path.replace('~', "~0").replace('/', "~1");
    validator(
        name,
        &format!("/paths/{path}/{method}/requestBody/content/application~1json/schema"),
    )
}

fn assert_valid(v: &jsonschema::Validator, body: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(body)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} breaks GitHub's description: {errors:#?}\n{body:#}"
    );
}

#[test]
fn the_issues_channel_speaks_githubs_issues_api() {
    const GH: &str = "github-issues.subset.openapi.json";
    // The issues our loopback GitHub lists are shaped as GitHub's description says.
    let listed = validator(
        GH,
        &ok_schema(
            "/repos/{owner}/{repo}/issues",
            "get",
            Some("application/json"),
        ),
    );
    let ours = super::issues::issue(7, "heartbeat-bot", "<!-- heartbeat-monitor:x -->");
    assert_valid(&listed, &Value::Array(vec![ours]), "the fake issue list");

    // Against Prism: who the token is, the open issues, then a new issue.
    let prism = Prism::serve("github-issues.subset.prism.openapi.json");
    let server = FakeServer::start(vec![
        postmark_ok(),
        Route::get("/health").reply(Reply::html(502, "<html>bad gateway</html>")),
    ]);
    let config = format!(
        "[[http_probe]]\nname = \"api\"\nurl = \"{}/health\"\n\
         [github_issues]\nrepo = \"raxx-app/TradeMasterAPI\"\nlabels = [\"incident\"]\n\
         assignees = [\"kristerpher\"]\n",
        server.url
    );
    let run = Monitor::new(&server)
        .env("GITHUB_API_URL", &prism.url)
        .config(&config)
        .run();
    let sent = run.result()["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["channel"] == "github_issues")
        .cloned()
        .unwrap();
    assert_eq!(
        sent["sent"], true,
        "Prism's answers were understood: {sent}"
    );
    assert_conforms(
        &prism,
        &[
            "get /user",
            "get /repos/raxx-app/TradeMasterAPI/issues",
            "post /repos/raxx-app/TradeMasterAPI/issues",
        ],
    );

    // The comment and the closing, as the loopback GitHub received them, are bodies GitHub's
    // description allows.
    let comment = request_schema(
        GH,
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        "post",
    );
    let patch = request_schema(GH, "/repos/{owner}/{repo}/issues/{issue_number}", "patch");
    let create = request_schema(GH, "/repos/{owner}/{repo}/issues", "post");
    for (v, body) in [
        (
            &comment,
            serde_json::json!({"body": "Resolved after 4 d 6 h.\n\n..."}),
        ),
        (
            &patch,
            serde_json::json!({"state": "closed", "state_reason": "completed"}),
        ),
    ] {
        assert_valid(v, &body, "a request body of the issues channel");
    }
    let created = super::issues::created_by_a_run();
    assert_valid(&create, &created, "the new issue");
}
