//! The one HTTP layer every API client goes through: timeouts, the run-wide deadline, a body
//! size cap, and retries of idempotent requests on connection errors, 5xx, 429 and secondary
//! rate limits (honouring `Retry-After`, capped, with jitter). It never follows redirects and
//! never turns a status into an error: the API clients classify what came back.

use std::io::Read;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::util::text::cut_after;

/// How the layer behaves; every API shares it.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Bound on one request, connect to last body byte.
    pub request_timeout: Duration,
    /// Bound on the TCP connect (and TLS handshake).
    pub connect_timeout: Duration,
    /// Bodies larger than this are an error, not a memory problem.
    pub max_body_bytes: usize,
    /// Attempts of an idempotent request, the first included.
    pub max_attempts: u32,
    /// The longest wait before a retry; a server asking for longer gets no retry.
    pub max_retry_wait: Duration,
    /// First backoff step; doubles on each retry.
    pub backoff_base: Duration,
    /// Sent as `User-Agent` (GitHub rejects requests without one).
    pub user_agent: String,
    /// Idle connections kept per host: as many as there are worker threads.
    pub pool_per_host: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            max_body_bytes: 4 * 1024 * 1024,
            max_attempts: 3,
            max_retry_wait: Duration::from_secs(10),
            backoff_base: Duration::from_millis(250),
            user_agent: format!("heartbeat-monitor/{}", env!("CARGO_PKG_VERSION")),
            pool_per_host: 32,
        }
    }
}

/// A request to send. Headers hold the secrets; URLs never do.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST` or `PATCH`.
    pub method: Method,
    /// Full URL.
    pub url: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body of a POST or PATCH.
    pub body: Option<Vec<u8>>,
}

/// The methods the monitor uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Idempotent: retried.
    Get,
    /// Not idempotent: retried only when the connection was never made.
    Post,
    /// Not idempotent either (an issue closed twice comments twice on the way).
    Patch,
}

impl Request {
    /// A GET of `url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            method: Method::Get,
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// A POST of `body` to `url`.
    pub fn post(url: impl Into<String>, body: Vec<u8>) -> Self {
        Self {
            method: Method::Post,
            url: url.into(),
            headers: Vec::new(),
            body: Some(body),
        }
    }

    /// A PATCH of `body` to `url`.
    pub fn patch(url: impl Into<String>, body: Vec<u8>) -> Self {
        Self {
            method: Method::Patch,
            url: url.into(),
            headers: Vec::new(),
            body: Some(body),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// What came back. A body cut short is kept, with the reason, for the caller to report.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body as far as it was read.
    pub body: Vec<u8>,
    /// Why the body is incomplete, if it is.
    pub body_error: Option<BodyError>,
    /// Attempts it took.
    pub attempts: u32,
}

/// Why a body could not be read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// The connection ended before the body did.
    Truncated(String),
    /// The body was larger than the cap.
    TooLarge(usize),
}

impl Response {
    /// Why the body is not whole, in words, when it is not.
    pub fn body_problem(&self) -> Option<String> {
        self.body_error.as_ref().map(|e| match e {
            BodyError::Truncated(_) => {
                format!("the body was cut off after {} bytes", self.body.len())
            }
            BodyError::TooLarge(cap) => format!("the body is larger than the {cap}-byte limit"),
        })
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The media type without parameters, e.g. `application/json`.
    pub fn content_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }

    /// Up to `n` characters of the body, on one line, for error messages.
    pub fn snippet(&self, n: usize) -> String {
        snippet(&self.body, n)
    }
}

#[cfg(test)]
impl Response {
    /// A response as a server might send it, for the unit tests of its readers.
    pub fn fake(status: u16, headers: &[(&str, &str)], body: &str) -> Self {
        Self {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
            body_error: None,
            attempts: 1,
        }
    }
}

/// Up to `n` characters of `body` with white space folded, for error messages.
pub fn snippet(body: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let folded: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = folded;
    cut_after(&mut out, n);
    out
}

/// Failures to get any response at all.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum HttpError {
    /// Nothing listens there, or the connection was reset.
    #[error("could not connect to {host}: {detail}")]
    Connect {
        /// `host:port`.
        host: String,
        /// What the socket said.
        detail: String,
    },
    /// No answer in time.
    #[error("no answer from {host} within {secs} s")]
    Timeout {
        /// `host:port`.
        host: String,
        /// The budget that ran out.
        secs: u64,
    },
    /// The run's deadline passed before the request could be made.
    #[error("the run deadline passed before {host} could be asked")]
    Deadline {
        /// `host:port`.
        host: String,
    },
    /// Asked, but the run's deadline came before the answer.
    #[error("no answer from {host} before the run deadline")]
    CutByDeadline {
        /// `host:port`.
        host: String,
    },
    /// Anything else (bad URL, TLS, protocol).
    #[error("request to {host} failed: {detail}")]
    Other {
        /// `host:port`.
        host: String,
        /// What went wrong.
        detail: String,
    },
}

/// The client: one agent (one connection pool) and the settings.
#[derive(Debug, Clone)]
pub struct Http {
    agent: ureq::Agent,
    settings: HttpSettings,
    budget: crate::clients::budget::Budget,
}

impl Http {
    /// Builds the agent: no redirects, statuses returned as they are, and no proxy. ureq
    /// reads `HTTP(S)_PROXY`/`ALL_PROXY` by default, and a CONNECT proxy in front of an
    /// `http://` base would read the bearer token; the monitor talks to its APIs directly.
    pub fn new(settings: HttpSettings) -> Self {
        let agent = ureq::Agent::config_builder()
            .proxy(None)
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .user_agent(settings.user_agent.as_str())
            .timeout_connect(Some(settings.connect_timeout))
            .max_idle_connections_per_host(settings.pool_per_host.max(1))
            .max_idle_connections(settings.pool_per_host.max(1) * 4)
            // ureq's 128 KiB a direction per connection is most of the peak RSS at a wide
            // pool; our requests are small and 32 KiB holds any API's response head.
            .input_buffer_size(32 * 1024)
            .output_buffer_size(16 * 1024)
            .build()
            .new_agent();
        Self {
            agent,
            settings,
            budget: Default::default(),
        }
    }

    /// What the run spent of each API's budget, shared by every clone.
    pub fn budget(&self) -> &crate::clients::budget::Budget {
        &self.budget
    }

    /// The settings in force.
    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// Sends `req`, retrying as the policy allows, finishing before `deadline`.
    pub fn send(&self, req: &Request, deadline: Instant) -> Result<Response, HttpError> {
        let host = host_of(&req.url);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(HttpError::Deadline { host });
            }
            let timeout = remaining.min(self.settings.request_timeout);
            let outcome = match self.once(req, timeout, &host) {
                // The deadline, not the request's own timeout, cut it: say which.
                Err(HttpError::Timeout { host, .. }) if timeout < self.settings.request_timeout => {
                    Err(HttpError::CutByDeadline { host })
                }
                other => other,
            };
            let wait = match &outcome {
                Ok(resp) => self.retry_wait(req.method, resp, attempt),
                Err(e) => self.retry_wait_error(req.method, e, attempt),
            };
            let Some(wait) = wait else {
                return outcome.map(|mut r| {
                    r.attempts = attempt;
                    r
                });
            };
            if Instant::now() + wait >= deadline {
                return outcome;
            }
            std::thread::sleep(wait);
        }
    }

    fn once(&self, req: &Request, timeout: Duration, host: &str) -> Result<Response, HttpError> {
        let result = match req.method {
            Method::Get => {
                let mut b = self.agent.get(&req.url);
                for (k, v) in &req.headers {
                    b = b.header(k, v);
                }
                b.config().timeout_global(Some(timeout)).build().call()
            }
            Method::Post | Method::Patch => {
                let mut b = if req.method == Method::Post {
                    self.agent.post(&req.url)
                } else {
                    self.agent.patch(&req.url)
                };
                for (k, v) in &req.headers {
                    b = b.header(k, v);
                }
                b.config()
                    .timeout_global(Some(timeout))
                    .build()
                    .send(req.body.as_deref().unwrap_or_default())
            }
        };
        let resp = result.map_err(|e| classify(e, host, timeout))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let (body, body_error) = read_capped(resp.into_body(), self.settings.max_body_bytes);
        if let Some(BodyError::Truncated(detail)) = &body_error
            && detail.contains("timeout")
        {
            return Err(HttpError::Timeout {
                host: host.to_string(),
                secs: timeout.as_secs().max(1),
            });
        }
        Ok(Response {
            status,
            headers,
            body,
            body_error,
            attempts: 1,
        })
    }

    /// How long to wait before retrying after a response, or `None` to stop.
    fn retry_wait(&self, method: Method, resp: &Response, attempt: u32) -> Option<Duration> {
        if method != Method::Get || attempt >= self.settings.max_attempts {
            return None;
        }
        // GitHub's and Heroku's names for "the pool is empty": waiting seconds will not refill it.
        let primary_exhausted = resp.header("x-ratelimit-remaining") == Some("0")
            || resp.header("ratelimit-remaining") == Some("0");
        let retry_after = resp.header("retry-after").and_then(parse_retry_after);
        let throttled = resp.status == 429
            || (resp.status == 403
                && !primary_exhausted
                && (retry_after.is_some()
                    || String::from_utf8_lossy(&resp.body)
                        .to_ascii_lowercase()
                        .contains("secondary rate limit")));
        if primary_exhausted {
            // Waited out only when the budget returns within the wait a run may spend (and
            // `send` keeps it inside the deadline); else the check says when it returns.
            return resp
                .header("x-ratelimit-reset")
                .and_then(|t| t.trim().parse::<u64>().ok())
                .and_then(|reset| {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .ok()?
                        .as_secs();
                    // One second past the reset, as GitHub counts whole seconds.
                    Some(Duration::from_secs(reset.saturating_sub(now) + 1))
                })
                .filter(|wait| *wait <= self.settings.max_retry_wait);
        }
        if throttled {
            let wait = retry_after.unwrap_or_else(|| self.backoff(attempt));
            return (wait <= self.settings.max_retry_wait).then_some(wait);
        }
        if resp.status >= 500 || resp.body_error.is_some() {
            return Some(self.backoff(attempt));
        }
        None
    }

    /// How long to wait before retrying after a transport failure, or `None` to stop.
    fn retry_wait_error(&self, method: Method, err: &HttpError, attempt: u32) -> Option<Duration> {
        if attempt >= self.settings.max_attempts {
            return None;
        }
        match (method, err) {
            (_, HttpError::Connect { .. }) => Some(self.backoff(attempt)),
            (Method::Get, HttpError::Timeout { .. } | HttpError::Other { .. }) => {
                Some(self.backoff(attempt))
            }
            _ => None,
        }
    }

    /// Exponential backoff with jitter: base·2^(n-1) plus up to as much again, capped.
    fn backoff(&self, attempt: u32) -> Duration {
        let step = self
            .settings
            .backoff_base
            .saturating_mul(1 << attempt.saturating_sub(1).min(10));
        let jitter = step.mul_f64(jitter_fraction());
        (step + jitter).min(self.settings.max_retry_wait)
    }
}

/// A number in [0, 1) that differs between calls; good enough to spread retries.
fn jitter_fraction() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mixed = nanos.wrapping_mul(2_654_435_761) ^ (nanos >> 13);
    f64::from(mixed % 1000) / 1000.0
}

/// `Retry-After` in seconds (the HTTP-date form is not used by the APIs we call).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Reads at most `cap` bytes, keeping what arrived when the body is cut short or too large.
fn read_capped(body: ureq::Body, cap: usize) -> (Vec<u8>, Option<BodyError>) {
    let mut reader = body.into_reader().take(cap as u64 + 1);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                let detail = e.to_string();
                return (buf, Some(BodyError::Truncated(detail)));
            }
        }
    }
    if buf.len() > cap {
        buf.truncate(cap);
        return (buf, Some(BodyError::TooLarge(cap)));
    }
    (buf, None)
}

/// `host:port` of a URL, for messages (never the path or query).
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    // Drop any user:password@ so it can never reach a message.
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .to_string()
}

fn classify(e: ureq::Error, host: &str, timeout: Duration) -> HttpError {
    let host = host.to_string();
    match e {
        ureq::Error::Timeout(_) => HttpError::Timeout {
            host,
            secs: timeout.as_secs().max(1),
        },
        ureq::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => HttpError::Timeout {
                host,
                secs: timeout.as_secs().max(1),
            },
            _ => HttpError::Connect {
                host,
                detail: io.to_string(),
            },
        },
        ureq::Error::HostNotFound => HttpError::Connect {
            host,
            detail: "host not found".into(),
        },
        ureq::Error::ConnectionFailed => HttpError::Connect {
            host,
            detail: "connection failed".into(),
        },
        other => HttpError::Other {
            host,
            detail: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_never_carries_credentials_or_path() {
        assert_eq!(host_of("https://api.github.com/repos/x"), "api.github.com");
        assert_eq!(host_of("http://127.0.0.1:8080/a?b=c"), "127.0.0.1:8080");
        assert_eq!(
            host_of("smtps://user:pw@smtp.example.com:465"),
            "smtp.example.com:465"
        );
    }

    #[test]
    fn snippet_folds_and_cuts() {
        assert_eq!(snippet(b"<html>\n  <body>hi</body>", 10), "<html> <bo…");
    }

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response::fake(status, headers, body)
    }

    #[test]
    fn retry_policy() {
        let http = Http::new(HttpSettings::default());
        let get = Method::Get;
        assert!(http.retry_wait(get, &resp(502, &[], "<html>"), 1).is_some());
        assert!(
            http.retry_wait(Method::Post, &resp(502, &[], ""), 1)
                .is_none()
        );
        assert!(http.retry_wait(get, &resp(502, &[], ""), 3).is_none());
        assert!(http.retry_wait(get, &resp(404, &[], ""), 1).is_none());
        assert!(http.retry_wait(get, &resp(401, &[], ""), 1).is_none());
        assert_eq!(
            http.retry_wait(get, &resp(429, &[("retry-after", "1")], ""), 1),
            Some(Duration::from_secs(1))
        );
        // A wait longer than the cap is not worth holding the run for.
        assert_eq!(
            http.retry_wait(get, &resp(429, &[("retry-after", "3600")], ""), 1),
            None
        );
        // Primary rate limit: no retry before the reset; a reset within the wait cap is
        // waited out, a later one is not.
        let primary = resp(
            403,
            &[("x-ratelimit-remaining", "0")],
            "API rate limit exceeded",
        );
        assert_eq!(http.retry_wait(get, &primary, 1), None);
        let epoch = |ahead: u64| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            (now + ahead).to_string()
        };
        let soon = epoch(3);
        let soon = resp(
            403,
            &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", &soon)],
            "API rate limit exceeded",
        );
        let wait = http.retry_wait(get, &soon, 1).unwrap();
        assert!(
            wait >= Duration::from_secs(3) && wait <= Duration::from_secs(5),
            "{wait:?}"
        );
        let late = epoch(3600);
        let late = resp(
            403,
            &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", &late)],
            "API rate limit exceeded",
        );
        assert_eq!(http.retry_wait(get, &late, 1), None);
        let secondary = resp(
            403,
            &[("x-ratelimit-remaining", "12")],
            "You have exceeded a secondary rate limit",
        );
        assert!(http.retry_wait(get, &secondary, 1).is_some());
        let forbidden = resp(
            403,
            &[("x-ratelimit-remaining", "12")],
            "Resource not accessible",
        );
        assert_eq!(http.retry_wait(get, &forbidden, 1), None);
    }

    #[test]
    fn backoff_is_capped() {
        let http = Http::new(HttpSettings::default());
        for n in 1..20 {
            assert!(http.backoff(n) <= Duration::from_secs(10));
        }
    }
}
