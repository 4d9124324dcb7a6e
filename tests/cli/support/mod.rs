//! Runs the compiled binary the way CI does, in a scratch directory with a cleared
//! environment, and checks what every run must satisfy: a schema-valid result file and no
//! secret in any output.

#![allow(dead_code)]

pub mod pg;
pub mod prism;
pub mod raw;
pub mod scratch;
pub mod server;
pub mod smtp;
pub mod tools;

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
pub use server::{FakeServer, Recorded, Reply, Route, fixture, postmark_batch};

/// The tests' fixed instant: the morning the five missed windows were found.
pub const NOW: &str = "2026-05-23T06:30:00Z";
/// Secret values; none may appear in any output.
pub const GITHUB_TOKEN: &str = "ghs_TestToken0123456789abcdefSECRET";
pub const POSTMARK_TOKEN: &str = "pm-server-token-5f2d9c11-SECRET";
pub const HEROKU_KEY: &str = "HRKU-AAbbCCdd0123456789-SECRET";
pub const CLOUDFLARE_TOKEN: &str = "cf-pages-read-9Xk2LmQ7-SECRET";
pub const CLOUDFLARE_ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";
pub const ACCESS_ID: &str = "4d3c2b1a0f9e8d7c.access";
pub const ACCESS_SECRET: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a0-SECRET";
pub const REPO: &str = "raxx-app/TradeMasterAPI";

/// `/repos/raxx-app/TradeMasterAPI/actions/workflows/{file}/runs`.
pub fn runs_path(workflow: &str) -> String {
    format!("/repos/{REPO}/actions/workflows/{workflow}/runs")
}

/// `/repos/raxx-app/TradeMasterAPI/actions/workflows/{file}`.
pub fn workflow_path(workflow: &str) -> String {
    format!("/repos/{REPO}/actions/workflows/{workflow}")
}

/// `/repos/raxx-app/TradeMasterAPI`.
pub fn repo_path() -> String {
    format!("/repos/{REPO}")
}

/// The newest successful run of `workflow` is `fixture`.
pub fn success(workflow: &str, fixture_name: &str) -> Route {
    Route::get(&runs_path(workflow))
        .query("status=success")
        .reply(Reply::json(200, fixture(fixture_name)))
}

/// `/repos/raxx-app/TradeMasterAPI/contents/.github/workflows/{file}`.
pub fn contents_path(workflow: &str) -> String {
    format!("/repos/{REPO}/contents/.github/workflows/{workflow}")
}

/// The contents API's answer for a workflow file holding `text`: base64 broken into lines of
/// 60 characters, as GitHub sends it.
pub fn contents_body(workflow: &str, text: &str) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(60)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let mut body: Value =
        serde_json::from_str(&fixture("github/contents-workflow-file.json")).unwrap();
    let path = format!(".github/workflows/{workflow}");
    body["content"] = Value::from(lines.join("\n") + "\n");
    body["size"] = Value::from(text.len());
    body["name"] = Value::from(workflow);
    body["path"] = Value::from(path.as_str());
    for key in ["url", "html_url", "download_url"] {
        let v = body[key].as_str().unwrap().replace("PATH", &path);
        body[key] = Value::from(v);
    }
    for key in ["self", "html"] {
        let v = body["_links"][key].as_str().unwrap().replace("PATH", &path);
        body["_links"][key] = Value::from(v);
    }
    body.to_string()
}

/// GitHub serving `workflow`'s file from `fixtures/github/workflows/`.
pub fn workflow_file(workflow: &str) -> Route {
    let text = fixture(&format!("github/workflows/{workflow}"));
    Route::get(&contents_path(workflow)).reply(Reply::json(200, contents_body(workflow, &text)))
}

/// `/repos/raxx-app/TradeMasterAPI/git/trees/HEAD:.github/workflows`.
pub fn tree_path() -> String {
    format!("/repos/{REPO}/git/trees/HEAD:.github/workflows")
}

/// The tree of `.github/workflows`: the files of `fixtures/github/workflows/` with their blob
/// SHAs (`fixtures/github/tree-workflows.json`), answered with an ETag.
pub fn workflow_tree() -> Route {
    Route::get(&tree_path()).reply(etagged(fixture("github/tree-workflows.json"), "W/\"tree\""))
}

/// [`workflow_tree`] without the files of `left_out`: GitHub has them on no default branch.
pub fn workflow_tree_without(left_out: &[&str]) -> Route {
    let mut tree: Value = serde_json::from_str(&fixture("github/tree-workflows.json")).unwrap();
    tree["tree"]
        .as_array_mut()
        .unwrap()
        .retain(|e| !left_out.iter().any(|f| e["path"] == *f));
    Route::get(&tree_path()).reply(Reply::json(200, tree.to_string()))
}

/// The blob SHA the tree gives `workflow`.
pub fn blob_sha(workflow: &str) -> String {
    let tree: Value = serde_json::from_str(&fixture("github/tree-workflows.json")).unwrap();
    tree["tree"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == workflow)
        .unwrap_or_else(|| panic!("{workflow} is not in the tree"))["sha"]
        .as_str()
        .unwrap()
        .to_string()
}

/// GitHub's blob of `workflow` (`GET /repos/{o}/{r}/git/blobs/{sha}`), as the blobs API
/// answers: base64 in lines of 60, the SHA, the size.
pub fn workflow_blob(workflow: &str) -> Route {
    use base64::Engine as _;
    let text = fixture(&format!("github/workflows/{workflow}"));
    let sha = blob_sha(workflow);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&text);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(60)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let body = serde_json::json!({
        "content": lines.join("\n") + "\n",
        "encoding": "base64",
        "url": format!("https://api.github.com/repos/{REPO}/git/blobs/{sha}"),
        "sha": sha,
        "size": text.len(),
        "node_id": "B_kwDOAAAAAdoAKGUwNGU5OWJl",
    });
    Route::get(&format!("/repos/{REPO}/git/blobs/{sha}"))
        .reply(Reply::json(200, body.to_string()).header("ETag", &format!("\"{sha}\"")))
}

/// `/repos/raxx-app/TradeMasterAPI/actions/runs`, the repository-wide list of successes,
/// holding the runs of each workflow's list (a runs list's JSON), each given its workflow's
/// path.
pub fn repo_successes(lists: &[(&str, String)]) -> Route {
    Route::get(&repo_runs_path())
        .query("status=success")
        .reply(Reply::json(200, repo_successes_body(lists)))
}

/// `/repos/raxx-app/TradeMasterAPI/actions/runs`.
pub fn repo_runs_path() -> String {
    format!("/repos/{REPO}/actions/runs")
}

/// The body of [`repo_successes`].
pub fn repo_successes_body(lists: &[(&str, String)]) -> String {
    let mut runs = Vec::new();
    for (i, (workflow, text)) in lists.iter().enumerate() {
        let list: Value = serde_json::from_str(text).unwrap();
        for mut run in list["workflow_runs"].as_array().unwrap().clone() {
            // Each workflow its own id, each run too, as in one real list.
            let n = i as u64 + 1;
            run["workflow_id"] = Value::from(1000 + n);
            run["id"] = Value::from(run["id"].as_u64().unwrap() + 100_000 * n);
            run["path"] = Value::from(format!(".github/workflows/{workflow}"));
            runs.push(run);
        }
    }
    serde_json::json!({"total_count": runs.len(), "workflow_runs": runs}).to_string()
}

/// A fresh directory of this test process's own, removed when the process ends.
pub fn scratch(name: &str) -> PathBuf {
    scratch::dir(name)
}

/// Answers `body` with `etag`, or `304` with no body when the request already holds it.
pub fn etagged(body: String, etag: &'static str) -> Reply {
    Reply::With(std::sync::Arc::new(move |req: &Recorded| {
        if req.header("if-none-match") == Some(etag) {
            Reply::json(304, "")
                .header("ETag", etag)
                .header("x-ratelimit-remaining", "4990")
        } else {
            Reply::json(200, body.clone())
                .header("ETag", etag)
                .header("x-ratelimit-remaining", "4991")
        }
    }))
}

/// The private repository (the 60-day rule does not apply). Part of every world, asked only
/// by the kinds that need it: optional.
pub fn private_repo() -> Route {
    Route::get(&repo_path())
        .reply(Reply::json(200, fixture("github/repo-private.json")))
        .optional()
}

/// `routes` a test does not expect to be asked: a run that must make no request (the test
/// says so itself), or a world wider than the test.
pub fn spares(routes: Vec<Route>) -> Vec<Route> {
    routes.into_iter().map(Route::optional).collect()
}

/// The Postmark batch endpoint, accepting everything. Part of every world, mailed only when
/// there is news (a test that expects mail reads `mails`): optional.
pub fn postmark_ok() -> Route {
    Route::post("/email/batch")
        .reply(postmark_batch(&[]))
        .optional()
}

/// A finished run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub dir: PathBuf,
    result_path: PathBuf,
}

impl Run {
    /// The result file, parsed and checked against `schema/result.schema.json`.
    pub fn result(&self) -> Value {
        let text = std::fs::read_to_string(&self.result_path).unwrap_or_else(|e| {
            panic!(
                "no result file at {}: {e}\nstderr:\n{}",
                self.result_path.display(),
                self.stderr
            )
        });
        let v: Value = serde_json::from_str(&text).expect("result file is JSON");
        assert_schema_valid(&v);
        assert_no_secret("result file", &text);
        v
    }

    /// The message of the check with this id.
    pub fn message(&self, id: &str) -> String {
        self.check(id)["message"].as_str().unwrap().to_string()
    }

    /// The check with this id.
    pub fn check(&self, id: &str) -> Value {
        let r = self.result();
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no check {id} in {r:#}"))
    }
}

/// A run's directory goes with the run: a test ends with nothing of its runs left behind.
impl Drop for Run {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A builder for one run.
pub struct Monitor {
    now: Option<String>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    config: Option<String>,
    file_size_limit: Option<u64>,
}

static SCRATCH: AtomicUsize = AtomicUsize::new(0);

impl Monitor {
    /// A run with the gate on, the tokens set, the fixed `--now`, and GitHub and Postmark
    /// pointed at `server`.
    pub fn new(server: &FakeServer) -> Self {
        Self {
            now: Some(NOW.into()),
            args: Vec::new(),
            env: vec![
                ("FLAG_CRON_HEARTBEAT_MONITOR".into(), "1".into()),
                ("GITHUB_TOKEN".into(), GITHUB_TOKEN.into()),
                ("GITHUB_API_URL".into(), server.url.clone()),
                ("POSTMARK_SERVER_TOKEN".into(), POSTMARK_TOKEN.into()),
                ("POSTMARK_API_URL".into(), server.url.clone()),
                ("OPS_ALERT_EMAIL".into(), "ops@raxx.app".into()),
                ("OPS_ALERT_FROM".into(), "heartbeat-monitor@raxx.app".into()),
                ("HEROKU_API_KEY".into(), HEROKU_KEY.into()),
                ("HEROKU_API_URL".into(), server.url.clone()),
                (
                    "CLOUDFLARE_PAGES_READ_TOKEN".into(),
                    CLOUDFLARE_TOKEN.into(),
                ),
                ("CLOUDFLARE_ACCOUNT_ID".into(), CLOUDFLARE_ACCOUNT.into()),
                (
                    "CLOUDFLARE_API_URL".into(),
                    format!("{}/client/v4", server.url),
                ),
                (
                    "CF_ACCESS_SERVICE_TOKEN_CONSOLE".into(),
                    format!("{ACCESS_ID}:{ACCESS_SECRET}"),
                ),
            ],
            config: None,
            file_size_limit: None,
        }
    }

    /// A run with no environment at all but what is set later.
    pub fn bare() -> Self {
        Self {
            now: None,
            args: Vec::new(),
            env: Vec::new(),
            config: None,
            file_size_limit: None,
        }
    }

    /// Runs the binary as on a full disk: no file it writes may grow past `bytes`
    /// (`RLIMIT_FSIZE`; a write past it fails with EFBIG instead of killing the process).
    pub fn disk_full_after(mut self, bytes: u64) -> Self {
        self.file_size_limit = Some(bytes);
        self
    }

    /// Evaluates as if at `now` instead of the tests' usual instant.
    pub fn now(mut self, now: &str) -> Self {
        self.now = Some(now.into());
        self
    }

    /// Adds arguments.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|s| s.to_string()));
        self
    }

    /// Sets (or overrides) a variable; an empty value removes it.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.retain(|(k, _)| k != name);
        if !value.is_empty() {
            self.env.push((name.into(), value.into()));
        }
        self
    }

    /// Writes `heartbeat-monitor.toml` in the scratch directory (found by default).
    pub fn config(mut self, toml: &str) -> Self {
        self.config = Some(toml.to_string());
        self
    }

    /// Runs the binary and checks stdout and stderr carry no secret.
    pub fn run(self) -> Run {
        let n = SCRATCH.fetch_add(1, Ordering::SeqCst);
        let dir = scratch::dir(&format!("run-{n}"));
        if let Some(cfg) = &self.config {
            std::fs::write(dir.join("heartbeat-monitor.toml"), cfg).unwrap();
        }
        let result_path = match self.args.iter().position(|a| a == "--output-file") {
            Some(i) => PathBuf::from(&self.args[i + 1]),
            None => dir.join("heartbeat_result.json"),
        };
        let mut args = self.args.clone();
        if let Some(now) = &self.now {
            args.extend(["--now".to_string(), now.clone()]);
        }
        let started = Instant::now();
        let mut command = Command::new(env!("CARGO_BIN_EXE_heartbeat-monitor"));
        command
            .args(&args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(&dir);
        if let Some(bytes) = self.file_size_limit {
            limit_file_size(&mut command, bytes);
        }
        let out = command.output().expect("run heartbeat-monitor");
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: started.elapsed(),
            dir,
            result_path,
        };
        assert_no_secret("stdout", &run.stdout);
        assert_no_secret("stderr", &run.stderr);
        run
    }
}

#[allow(unsafe_code)]
fn limit_file_size(command: &mut Command, bytes: u64) {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec only async-signal-safe calls (setrlimit, signal).
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
}

/// Fails when `text` holds a secret of the tests.
pub fn assert_no_secret(what: &str, text: &str) {
    for secret in [
        GITHUB_TOKEN,
        POSTMARK_TOKEN,
        HEROKU_KEY,
        CLOUDFLARE_TOKEN,
        CLOUDFLARE_ACCOUNT,
        ACCESS_ID,
        ACCESS_SECRET,
        "SECRET",
    ] {
        assert!(!text.contains(secret), "{what} leaks a secret:\n{text}");
    }
}

/// The mails Postmark received, one `Value` per message, with no secret in any of them.
pub fn mails(server: &FakeServer) -> Vec<Value> {
    server
        .requests()
        .iter()
        .filter(|r| r.path() == "/email/batch")
        .flat_map(|r| {
            assert_eq!(r.header("x-postmark-server-token"), Some(POSTMARK_TOKEN));
            assert_eq!(r.header("accept"), Some("application/json"));
            assert_no_secret("mail", &r.body);
            serde_json::from_str::<Vec<Value>>(&r.body).expect("batch is a JSON array")
        })
        .collect()
}

/// The subjects of those mails.
pub fn subjects(server: &FakeServer) -> Vec<String> {
    mails(server)
        .iter()
        .map(|m| m["Subject"].as_str().unwrap().to_string())
        .collect()
}

/// Requests that did not go to Postmark.
pub fn api_requests(server: &FakeServer) -> Vec<Recorded> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path() != "/email/batch")
        .collect()
}

/// OpenAPI 3.0's `nullable: true` in JSON Schema terms.
pub fn to_json_schema(v: &Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.iter().map(to_json_schema).collect()),
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, val) in map {
                if k != "nullable" {
                    out.insert(k.clone(), to_json_schema(val));
                }
            }
            if map.get("nullable") == Some(&Value::Bool(true)) {
                match out.get("type").cloned() {
                    Some(Value::String(t)) => {
                        out.insert("type".into(), serde_json::json!([t, "null"]));
                    }
                    _ => {
                        return serde_json::json!({"anyOf": [{"type": "null"}, Value::Object(out)]});
                    }
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Fails, naming every violation, unless `v` is valid under `schema/result.schema.json`.
pub fn assert_schema_valid(v: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/result.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "result file breaks the schema: {errors:#?}\n{v:#}"
    );
}
