//! The few GitHub REST calls the monitor makes, through the shared HTTP layer.

pub mod app;
mod model;
mod paging;

pub(crate) use model::RunList;
pub use model::{
    CompareCommit, Comparison, Environment, GitCommit, ProtectionRule, Repo, Repository, Run,
    RunFilter, Signature, TreeEntry, Workflow,
};
use paging::paged;
pub use paging::{Cut, Listed, MAX_PAGES};

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::clients::api::{self, ApiError, ApiInfo, parse_json};
use crate::clients::budget::AnswerCache;
use crate::clients::http::{Http, Method, Request, Response};
use crate::util::text::encode;
pub(crate) const API: ApiInfo = ApiInfo {
    name: "GitHub",
    credential: "GITHUB_TOKEN",
};
/// How requests are authorised.
#[derive(Debug, Clone)]
pub enum Auth {
    /// One token for everything (`GITHUB_TOKEN`).
    Token(String),
    /// A GitHub App: the installation token of the owner each request reads.
    App(std::sync::Arc<app::App>),
}

/// A GitHub API client bound to a base URL and a token.
#[derive(Debug, Clone)]
pub struct GitHub {
    http: Http,
    base: String,
    auth: Auth,
    deadline: Instant,
    /// `github-authentication-token-expiration`, when a response carried it.
    expiry: std::sync::Arc<std::sync::Mutex<Option<String>>>,
    /// The last run's answers, for conditional requests.
    cache: Option<std::sync::Arc<AnswerCache>>,
    /// Requests in flight, shared by every clone: GitHub's secondary limits allow no more
    /// than 100 at once, and discovery fans out inside checks that run side by side.
    in_flight: std::sync::Arc<InFlight>,
}

/// At most [`MAX_IN_FLIGHT`] requests at once.
#[derive(Debug, Default)]
struct InFlight {
    count: std::sync::Mutex<usize>,
    freed: std::sync::Condvar,
}

/// Well under GitHub's 100 concurrent requests.
const MAX_IN_FLIGHT: usize = 64;

impl InFlight {
    fn acquire(&self) -> InFlightGuard<'_> {
        if let Ok(n) = self.count.lock()
            && let Ok(mut n) = self.freed.wait_while(n, |n| *n >= MAX_IN_FLIGHT)
        {
            *n += 1;
        }
        InFlightGuard(self)
    }
}

struct InFlightGuard<'a>(&'a InFlight);

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut n) = self.0.count.lock() {
            *n = n.saturating_sub(1);
        }
        self.0.freed.notify_one();
    }
}

impl GitHub {
    /// A client for `base` (e.g. `https://api.github.com`), finishing before `deadline`.
    pub fn new(http: Http, base: &str, token: &str, deadline: Instant) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            auth: Auth::Token(token.to_string()),
            deadline,
            expiry: Default::default(),
            cache: None,
            in_flight: Default::default(),
        }
    }

    /// The same client, reading as the GitHub App `app` when there is one.
    pub fn with_app(mut self, app: Option<app::App>) -> Self {
        if let Some(app) = app {
            self.auth = Auth::App(std::sync::Arc::new(app));
        }
        self
    }

    /// The `Authorization` header of a request to `path`: the token, or the App's
    /// installation token of the owner in the path.
    fn authorization(&self, path: &str) -> Result<String, ApiError> {
        let token = match &self.auth {
            Auth::Token(token) => token.clone(),
            Auth::App(app) => {
                let owner = app::owner_of(path).ok_or_else(|| ApiError::NoCredential {
                    api: API.name,
                    reason: format!("a GitHub App reads no owner from {path}"),
                })?;
                app.token_for(owner, &self.http, &self.base, self.deadline)?
            }
        };
        Ok(format!("Bearer {token}"))
    }

    /// The same client, asking conditionally for what `cache` holds and keeping what it
    /// reads there.
    pub fn with_cache(mut self, cache: std::sync::Arc<AnswerCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// When the token expires, as GitHub said in a response header (fine-grained and
    /// classic personal tokens with an expiry; the Actions token never says).
    pub fn token_expiry(&self) -> Option<String> {
        self.expiry.lock().ok()?.clone()
    }

    /// The newest run of `workflow`, only successful ones when `success_only`.
    pub fn latest_run(
        &self,
        repo: &Repo,
        workflow: &str,
        filter: &RunFilter,
        success_only: bool,
    ) -> Result<Option<Run>, ApiError> {
        let status = success_only.then_some("success");
        let runs = self.runs(repo, workflow, filter, status, 1)?;
        Ok(runs.into_iter().next())
    }

    /// The newest `count` runs of `workflow` (at most 100, GitHub's page), newest first,
    /// of `status` when given (`success`, `completed`, …).
    pub fn runs(
        &self,
        repo: &Repo,
        workflow: &str,
        filter: &RunFilter,
        status: Option<&str>,
        count: u32,
    ) -> Result<Vec<Run>, ApiError> {
        let mut query = String::new();
        if let Some(s) = status {
            query.push_str(&format!("status={}&", encode(s)));
        }
        if let Some(b) = &filter.branch {
            query.push_str(&format!("branch={}&", encode(b)));
        }
        if let Some(e) = &filter.event {
            query.push_str(&format!("event={}&", encode(e)));
        }
        query.push_str(&format!(
            "per_page={}&exclude_pull_requests=true",
            count.clamp(1, 100)
        ));
        let path = format!(
            "/repos/{}/{}/actions/workflows/{}/runs?{query}",
            encode(&repo.owner),
            encode(&repo.name),
            encode(workflow)
        );
        let what = format!("workflow {workflow} in {repo}");
        let list: RunList = self.get(&path, &what)?;
        Ok(list.workflow_runs)
    }

    /// The workflow itself (its `state`).
    pub fn workflow(&self, repo: &Repo, workflow: &str) -> Result<Workflow, ApiError> {
        let path = format!(
            "/repos/{}/{}/actions/workflows/{}",
            encode(&repo.owner),
            encode(&repo.name),
            encode(workflow)
        );
        self.get(&path, &format!("workflow {workflow} in {repo}"))
    }

    /// The deployment environment `name` of `repo`.
    pub fn environment(&self, repo: &Repo, name: &str) -> Result<Environment, ApiError> {
        let path = format!(
            "/repos/{}/{}/environments/{}",
            encode(&repo.owner),
            encode(&repo.name),
            encode(name)
        );
        self.get(&path, &format!("environment {name} in {repo}"))
    }

    /// What `head` (a branch) has that `base` (a commit) lacks.
    pub fn compare(&self, repo: &Repo, base: &str, head: &str) -> Result<Comparison, ApiError> {
        let path = format!(
            "/repos/{}/{}/compare/{}...{}",
            encode(&repo.owner),
            encode(&repo.name),
            encode(base),
            encode(head)
        );
        self.get(&path, &format!("commit {base} in {repo}"))
    }

    /// What `read` makes of the text of the file at `path` on the default branch (the
    /// contents API's base64, which GitHub breaks into lines). That, not the file, is what
    /// the cache keeps: a workflow's schedule is a few bytes, its file a few kilobytes.
    pub fn file_read_as<U>(
        &self,
        repo: &Repo,
        path: &str,
        read: impl FnOnce(String) -> U,
    ) -> Result<U, ApiError>
    where
        U: serde::de::DeserializeOwned + Serialize,
    {
        let what = format!("file {path} in {repo}");
        self.get_as(&contents_path(repo, path), &what, |got: Contents| {
            decode_contents(got, &what).map(read)
        })
    }

    /// What [`Self::file_read_as`] made of that file at the last run, if it was kept: no
    /// request.
    pub fn file_as_last_seen<U: serde::de::DeserializeOwned>(
        &self,
        repo: &Repo,
        path: &str,
    ) -> Option<U> {
        let url = format!("{}{}", self.base, contents_path(repo, path));
        let kept = self.cache.as_ref()?.get(&url)?;
        serde_json::from_str(kept.value.get()).ok()
    }

    /// The files of `.github/workflows` on the default branch, with their blob SHAs: one
    /// conditional request, whatever their number.
    pub fn workflow_files(&self, repo: &Repo) -> Result<Vec<TreeEntry>, ApiError> {
        #[derive(Deserialize)]
        struct Tree {
            tree: Vec<TreeEntry>,
        }
        let what = format!("the workflow files of {repo}");
        self.get_as(&tree_path(repo), &what, |t: Tree| {
            Ok(t.tree.into_iter().filter(|e| e.kind == "blob").collect())
        })
    }

    /// The same client, its requests given up by `deadline` when that comes first.
    pub fn until(mut self, deadline: Instant) -> Self {
        self.deadline = self.deadline.min(deadline);
        self
    }

    /// What [`Self::workflow_files`] answered at the last run, if it was kept: no request.
    pub fn workflow_files_last_seen(&self, repo: &Repo) -> Option<Vec<TreeEntry>> {
        self.last_seen(&tree_path(repo))
    }

    /// What [`Self::blob_read_as`] made of the blob `sha` at the last run: no request.
    pub fn blob_as_last_seen<U: serde::de::DeserializeOwned>(
        &self,
        repo: &Repo,
        sha: &str,
    ) -> Option<U> {
        self.last_seen(&blob_path(repo, sha))
    }

    fn last_seen<U: serde::de::DeserializeOwned>(&self, path: &str) -> Option<U> {
        let kept = self.cache.as_ref()?.get(&format!("{}{path}", self.base))?;
        serde_json::from_str(kept.value.get()).ok()
    }

    /// What `read` makes of the blob `sha` of `repo`: read once, then kept by its SHA (a blob
    /// never changes), so an unchanged file costs no request at all.
    pub fn blob_read_as<U>(
        &self,
        repo: &Repo,
        sha: &str,
        read: impl FnOnce(String) -> U,
    ) -> Result<U, ApiError>
    where
        U: serde::de::DeserializeOwned + Serialize,
    {
        let path = blob_path(repo, sha);
        let url = format!("{}{path}", self.base);
        if let Some(cache) = &self.cache
            && let Some(kept) = cache.get(&url)
            && let Ok(value) = serde_json::from_str::<U>(kept.value.get())
        {
            cache.keep(&url, &kept.etag, kept.value.clone());
            return Ok(value);
        }
        let what = format!("blob {sha} in {repo}");
        self.get_as(&path, &what, |got: Contents| {
            decode_contents(got, &what).map(read)
        })
    }

    /// The workflows of `repo`, each id once, up to [`MAX_PAGES`] pages of 100.
    pub fn workflows(&self, repo: &Repo) -> Result<Listed<Workflow>, ApiError> {
        #[derive(Deserialize, Serialize)]
        struct Page {
            total_count: u64,
            workflows: Vec<Workflow>,
        }
        let what = format!("the workflows of {repo}");
        paged(
            |w: &Workflow| w.id,
            |w| w.path.clone(),
            |page| {
                let path = format!(
                    "/repos/{}/{}/actions/workflows?per_page=100&page={page}",
                    encode(&repo.owner),
                    encode(&repo.name)
                );
                let got: Page = self.get(&path, &what)?;
                Ok((got.workflows, Some(got.total_count)))
            },
        )
    }

    /// The successful runs of every workflow of `repo` created at or after `from` (GitHub's
    /// `created=>=` search syntax), newest first, all pages of 100 up to GitHub's 1,000.
    pub fn successes_since(&self, repo: &Repo, from: DateTime<Utc>) -> Result<Vec<Run>, ApiError> {
        let created = encode(&format!(">={}", from.format("%Y-%m-%dT%H:%M:%SZ")));
        let what = format!("the runs of {repo}");
        let listed = paged(
            |r: &Run| (r.workflow_id, r.id),
            |r| r.id.to_string(),
            |page| {
                let path = format!(
                    "/repos/{}/{}/actions/runs?status=success&created={created}&per_page=100&page={page}&exclude_pull_requests=true",
                    encode(&repo.owner),
                    encode(&repo.name)
                );
                let got: RunList = self.get(&path, &what)?;
                Ok((got.workflow_runs, None))
            },
        )?;
        Ok(listed.items)
    }

    /// The repositories of `org` that are not archived, by name, each once, up to
    /// [`MAX_PAGES`] pages of 100 (archived ones count towards those).
    pub fn org_repos(&self, org: &str) -> Result<Listed<Repo>, ApiError> {
        #[derive(Deserialize, Serialize)]
        struct Named {
            full_name: String,
            #[serde(default)]
            archived: bool,
        }
        let what = format!("the repositories of {org}");
        let listed = paged(
            |r: &Named| r.full_name.clone(),
            |r| r.full_name.clone(),
            |page| {
                // By name, so that where a cut list stopped means something.
                let path = format!(
                    "/orgs/{}/repos?type=all&sort=full_name&per_page=100&page={page}",
                    encode(org)
                );
                let got: Vec<Named> = self.get(&path, &what)?;
                Ok((got, None))
            },
        )?;
        Ok(Listed {
            items: listed
                .items
                .into_iter()
                .filter(|r| !r.archived)
                .filter_map(|r| Repo::parse(&r.full_name))
                .collect(),
            cut: listed.cut,
        })
    }

    /// The repository (visibility, last push).
    pub fn repository(&self, repo: &Repo) -> Result<Repository, ApiError> {
        let path = format!("/repos/{}/{}", encode(&repo.owner), encode(&repo.name));
        self.get(&path, &format!("repository {repo}"))
    }

    /// GETs `path`. With a cache, a kept answer's ETag goes in `If-None-Match`, and a
    /// `304 Not Modified` (free on GitHub's budget) is answered from the cache.
    fn get<T>(&self, path: &str, what: &str) -> Result<T, ApiError>
    where
        T: serde::de::DeserializeOwned + Serialize,
    {
        self.get_as(path, what, Ok)
    }

    /// A request to `path` with a JSON `body` (a POST or PATCH), or a GET without one, not
    /// cached: what it reads or changes is for this run only. The answer when it is a 2xx.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        what: &str,
    ) -> Result<Response, ApiError> {
        let url = format!("{}{path}", self.base);
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap_or_default());
        let req = match (method, bytes) {
            (Method::Patch, Some(b)) => Request::patch(url, b),
            (_, Some(b)) => Request::post(url, b),
            (_, None) => Request::get(url),
        }
        .header("Authorization", self.authorization(path)?)
        .header("Accept", "application/vnd.github+json")
        .header("Content-Type", "application/json")
        .header("X-GitHub-Api-Version", "2022-11-28");
        let resp = {
            let _slot = self.in_flight.acquire();
            api::send(API, &self.http, &req, self.deadline)?
        };
        api::success(API, resp, what)
    }

    /// [`Self::get`] of a body read as `T` and made into `U` by `make`: `U` is what is
    /// kept and what a `304` answers.
    fn get_as<T, U>(
        &self,
        path: &str,
        what: &str,
        make: impl FnOnce(T) -> Result<U, ApiError>,
    ) -> Result<U, ApiError>
    where
        T: serde::de::DeserializeOwned,
        U: serde::de::DeserializeOwned + Serialize,
    {
        let url = format!("{}{path}", self.base);
        let cached = self.cache.as_ref().and_then(|c| c.get(&url));
        let mut req = Request::get(url.clone())
            .header("Authorization", self.authorization(path)?)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
        if let Some(c) = cached {
            req = req.header("If-None-Match", c.etag.clone());
        }
        let resp = {
            let _slot = self.in_flight.acquire();
            api::send(API, &self.http, &req, self.deadline)?
        };
        if let Some(v) = resp.header("github-authentication-token-expiration")
            && let Ok(mut slot) = self.expiry.lock()
        {
            *slot = Some(v.to_string());
        }
        if resp.status == 304
            && let (Some(cache), Some(c)) = (&self.cache, cached)
            && let Ok(value) = serde_json::from_str::<U>(c.value.get())
        {
            cache.keep(&url, &c.etag, c.value.clone());
            return Ok(value);
        }
        let etag = resp.header("etag").map(str::to_string);
        let got: T = parse_json(API, &api::success(API, resp, what)?)?;
        let value = make(got)?;
        if let (Some(cache), Some(etag)) = (&self.cache, etag)
            && let Ok(json) = serde_json::value::to_raw_value(&value)
        {
            cache.keep(&url, &etag, json.into());
        }
        Ok(value)
    }
}

/// The tree of `.github/workflows` on the default branch. `tree_sha` spans segments
/// (`x-multi-segment`): `HEAD:.github/workflows` goes as it is.
fn tree_path(repo: &Repo) -> String {
    format!(
        "/repos/{}/{}/git/trees/HEAD:.github/workflows",
        encode(&repo.owner),
        encode(&repo.name)
    )
}

fn blob_path(repo: &Repo, sha: &str) -> String {
    format!(
        "/repos/{}/{}/git/blobs/{}",
        encode(&repo.owner),
        encode(&repo.name),
        encode(sha)
    )
}

/// A file as the contents API answers it.
#[derive(Deserialize)]
struct Contents {
    #[serde(default)]
    encoding: String,
    #[serde(default)]
    content: String,
}

/// The contents API's path of `path` in `repo`. GitHub's path parameter spans segments
/// (`x-multi-segment`): the slashes stay.
fn contents_path(repo: &Repo, path: &str) -> String {
    let segments: Vec<String> = path.split('/').map(encode).collect();
    format!(
        "/repos/{}/{}/contents/{}",
        encode(&repo.owner),
        encode(&repo.name),
        segments.join("/")
    )
}

/// The text of a file the contents API sent (base64, broken into lines by GitHub).
fn decode_contents(got: Contents, what: &str) -> Result<String, ApiError> {
    let unreadable = |why: &str| ApiError::BadBody {
        api: API.name,
        status: 200,
        content_type: "application/json".to_string(),
        reason: format!("{what}: {why}"),
        snippet: String::new(),
    };
    if got.encoding != "base64" {
        return Err(unreadable(
            "GitHub sent no base64 content (is it over 1 MB?)",
        ));
    }
    use base64::Engine as _;
    let compact: String = got.content.split_ascii_whitespace().collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| unreadable("its base64 content does not decode"))?;
    String::from_utf8(bytes).map_err(|_| unreadable("it is not UTF-8 text"))
}
