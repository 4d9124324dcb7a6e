//! What can go wrong talking to an API, in words for a tired person at 06:30. Shared by every
//! API client: each one only adds the hints that are its own.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use thiserror::Error;

use std::time::Instant;

use crate::clients::http::{Http, HttpError, Request, Response};

/// How many body characters an error message may quote.
const SNIPPET: usize = 120;

/// A failure to get a usable answer from an API.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ApiError {
    /// No response at all.
    #[error("{api}: {source}")]
    Transport {
        /// Which API.
        api: &'static str,
        /// What the transport said.
        source: HttpError,
    },
    /// 401: the credential is missing, wrong or expired.
    #[error("{api} rejected the credential (HTTP 401{detail}): check {credential}")]
    Unauthorized {
        /// Which API.
        api: &'static str,
        /// What the API said, prefixed with ": ".
        detail: String,
        /// The variable that holds it.
        credential: &'static str,
    },
    /// Primary rate limit exhausted.
    #[error("{api} rate limit exhausted (HTTP {status}){resets}")]
    RateLimited {
        /// Which API.
        api: &'static str,
        /// 403 or 429.
        status: u16,
        /// ", resets at T", when known.
        resets: String,
    },
    /// Throttled (429, secondary limit) and still throttled after the retries allowed.
    #[error("{api} is throttling requests (HTTP {status}, rate limit){retry}")]
    Throttled {
        /// Which API.
        api: &'static str,
        /// 403 or 429.
        status: u16,
        /// ", asked to retry after N s", when said.
        retry: String,
    },
    /// 403 for another reason.
    #[error("{api} refused access (HTTP 403{detail}): the credential lacks a permission")]
    Forbidden {
        /// Which API.
        api: &'static str,
        /// What the API said, prefixed with ": ".
        detail: String,
    },
    /// 404.
    #[error("{api} answered 404 for {what}{detail}")]
    NotFound {
        /// Which API.
        api: &'static str,
        /// What was asked for.
        what: String,
        /// What the API said, prefixed with ": ".
        detail: String,
    },
    /// A redirect where an answer was expected.
    #[error("{api} answered with a redirect (HTTP {status}) to {location}")]
    Redirect {
        /// Which API.
        api: &'static str,
        /// 301, 302, 307…
        status: u16,
        /// Where it pointed (host and path only).
        location: String,
    },
    /// Any other unexpected status, 5xx included (after retries).
    #[error("{api} answered HTTP {status}{attempts} ({content_type}): {snippet}")]
    Status {
        /// Which API.
        api: &'static str,
        /// The status.
        status: u16,
        /// " after N attempts", when retried.
        attempts: String,
        /// The media type.
        content_type: String,
        /// The first bytes of the body.
        snippet: String,
    },
    /// No credential could be had for the request (a GitHub App not installed on the owner
    /// read): nothing was asked.
    #[error("{api}: {reason}")]
    NoCredential {
        /// Which API.
        api: &'static str,
        /// Why, and what to do.
        reason: String,
    },
    /// A body that is not the JSON we expected: HTML, malformed, truncated, too large.
    #[error(
        "{api} sent an unusable answer (HTTP {status}, {content_type}): {reason}; it began: {snippet}"
    )]
    BadBody {
        /// Which API.
        api: &'static str,
        /// The status.
        status: u16,
        /// The media type.
        content_type: String,
        /// What is wrong with it.
        reason: String,
        /// The first bytes of the body.
        snippet: String,
    },
}

/// The facts that shape an API's error messages.
#[derive(Debug, Clone, Copy)]
pub struct ApiInfo {
    /// Its name in messages, e.g. "GitHub".
    pub name: &'static str,
    /// The variable holding its credential, named in 401 messages.
    pub credential: &'static str,
}

/// Sends `req` through the shared layer; a failure to get any answer becomes this API's error.
pub fn send(
    api: ApiInfo,
    http: &Http,
    req: &Request,
    deadline: Instant,
) -> Result<Response, ApiError> {
    match http.send(req, deadline) {
        Ok(resp) => {
            let remaining = resp
                .header("x-ratelimit-remaining")
                .or_else(|| resp.header("ratelimit-remaining"))
                .and_then(|v| v.trim().parse().ok());
            http.budget()
                .record(api.name, resp.attempts, resp.status, remaining);
            Ok(resp)
        }
        Err(source) => {
            http.budget().record_failure(api.name);
            Err(ApiError::Transport {
                api: api.name,
                source,
            })
        }
    }
}

/// `resp` when its status is 2xx (206 Partial Content included), else the error that explains
/// the status.
pub fn success(api: ApiInfo, resp: Response, what: &str) -> Result<Response, ApiError> {
    if (200..300).contains(&resp.status) {
        Ok(resp)
    } else {
        Err(status_error(api, &resp, what))
    }
}

/// Turns a non-2xx response into the error that explains it.
pub fn status_error(api: ApiInfo, resp: &Response, what: &str) -> ApiError {
    let name = api.name;
    let detail = api_message(resp)
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    let remaining_zero = resp.header("x-ratelimit-remaining") == Some("0")
        || resp.header("ratelimit-remaining") == Some("0");
    let says_rate_limit = String::from_utf8_lossy(&resp.body)
        .to_ascii_lowercase()
        .contains("rate limit");
    match resp.status {
        401 => ApiError::Unauthorized {
            api: name,
            detail,
            credential: api.credential,
        },
        403 | 429 if remaining_zero => ApiError::RateLimited {
            api: name,
            status: resp.status,
            resets: resp
                .header("x-ratelimit-reset")
                .and_then(|v| v.trim().parse::<i64>().ok())
                .and_then(|secs| DateTime::<Utc>::from_timestamp(secs, 0))
                .map(|t| format!(", resets at {}", crate::util::time::rfc3339(t)))
                .unwrap_or_default(),
        },
        429 => throttled(name, resp),
        403 if says_rate_limit || resp.header("retry-after").is_some() => throttled(name, resp),
        403 => ApiError::Forbidden { api: name, detail },
        404 => ApiError::NotFound {
            api: name,
            what: what.to_string(),
            detail,
        },
        300..=399 => ApiError::Redirect {
            api: name,
            status: resp.status,
            location: resp
                .header("location")
                .map(strip_query)
                .unwrap_or_else(|| "nowhere (no Location header)".into()),
        },
        _ => ApiError::Status {
            api: name,
            status: resp.status,
            attempts: if resp.attempts > 1 {
                format!(" after {} attempts", resp.attempts)
            } else {
                String::new()
            },
            content_type: content_type_or_none(resp),
            snippet: resp.snippet(SNIPPET),
        },
    }
}

fn throttled(api: &'static str, resp: &Response) -> ApiError {
    ApiError::Throttled {
        api,
        status: resp.status,
        retry: resp
            .header("retry-after")
            .map(|s| format!(", asked to retry after {} s", s.trim()))
            .unwrap_or_default(),
    }
}

/// Parses a 2xx body as `T`, or says precisely why it could not.
pub fn parse_json<T: DeserializeOwned>(api: ApiInfo, resp: &Response) -> Result<T, ApiError> {
    let bad = |reason: String| ApiError::BadBody {
        api: api.name,
        status: resp.status,
        content_type: content_type_or_none(resp),
        reason,
        snippet: resp.snippet(SNIPPET),
    };
    if let Some(problem) = resp.body_problem() {
        return Err(bad(problem));
    }
    let ct = resp.content_type();
    let looks_html = ct.contains("html")
        || resp
            .body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'<');
    if looks_html {
        return Err(bad("HTML instead of JSON".into()));
    }
    if resp.body.is_empty() {
        return Err(bad("an empty body instead of JSON".into()));
    }
    serde_json::from_slice(&resp.body).map_err(|e| {
        let reason = if e.is_eof() {
            "JSON that ends too early (truncated)".to_string()
        } else if e.is_syntax() {
            format!("malformed JSON ({e})")
        } else {
            format!("JSON of an unexpected shape ({e})")
        };
        bad(reason)
    })
}

/// The API's own error text: GitHub's and Heroku's `message`, Postmark's `Message`,
/// Cloudflare's `errors[0].message`.
fn api_message(resp: &Response) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(&resp.body).ok()?;
    let m = match v.get("message").or_else(|| v.get("Message")) {
        Some(m) => m.as_str()?.to_string(),
        // Cloudflare's envelope: the first error, with its code.
        None => {
            let first = v.pointer("/errors/0")?;
            let text = first.get("message")?.as_str()?;
            match first.get("code").and_then(serde_json::Value::as_i64) {
                Some(code) => format!("{text} ({code})"),
                None => text.to_string(),
            }
        }
    };
    Some(crate::clients::http::snippet(m.as_bytes(), SNIPPET))
}

fn content_type_or_none(resp: &Response) -> String {
    match resp.content_type() {
        ct if ct.is_empty() => "no content type".into(),
        ct => ct,
    }
}

/// A URL without its query, which may carry tokens or login state.
pub fn strip_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or(url).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GH: ApiInfo = ApiInfo {
        name: "GitHub",
        credential: "GITHUB_TOKEN",
    };

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response::fake(status, headers, body)
    }

    #[test]
    fn rate_limit_says_when_it_resets() {
        let r = resp(
            403,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "1779517800"),
            ],
            r#"{"message":"API rate limit exceeded for installation ID 1."}"#,
        );
        let msg = status_error(GH, &r, "x").to_string();
        assert!(msg.contains("rate limit"), "{msg}");
        assert!(msg.contains("resets at 2026-05-23T06:30:00Z"), "{msg}");
    }

    #[test]
    fn unauthorized_names_the_variable() {
        let r = resp(401, &[], r#"{"message":"Bad credentials"}"#);
        let msg = status_error(GH, &r, "x").to_string();
        assert_eq!(
            msg,
            "GitHub rejected the credential (HTTP 401: Bad credentials): check GITHUB_TOKEN"
        );
    }

    #[test]
    fn html_is_named_as_html() {
        let r = resp(200, &[("content-type", "text/html")], "<html>oops</html>");
        let err = parse_json::<serde_json::Value>(GH, &r)
            .unwrap_err()
            .to_string();
        assert!(err.contains("HTML instead of JSON"), "{err}");
        assert!(err.contains("<html>oops"), "{err}");
    }

    #[test]
    fn malformed_and_truncated_json_differ() {
        let r = resp(200, &[("content-type", "application/json")], r#"{"a": tru"#);
        let err = parse_json::<serde_json::Value>(GH, &r)
            .unwrap_err()
            .to_string();
        assert!(err.contains("truncated"), "{err}");
        let r = resp(
            200,
            &[("content-type", "application/json")],
            r#"{"a": nope}"#,
        );
        let err = parse_json::<serde_json::Value>(GH, &r)
            .unwrap_err()
            .to_string();
        assert!(err.contains("malformed JSON"), "{err}");
    }

    #[test]
    fn redirect_location_loses_its_query() {
        let r = resp(
            302,
            &[(
                "location",
                "https://team.cloudflareaccess.com/cdn-cgi/access/login/x?kid=1",
            )],
            "",
        );
        let err = status_error(GH, &r, "x").to_string();
        assert!(
            err.ends_with("https://team.cloudflareaccess.com/cdn-cgi/access/login/x"),
            "{err}"
        );
    }
}
