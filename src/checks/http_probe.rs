//! `http_probe`: a health URL must answer as expected. Redirects are never followed, since a
//! redirect to the Cloudflare Access login page is exactly the failure that once fooled the
//! console's status poller; it gets its own message.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::pool::Identity;
use super::{Check, CheckKind, CheckResult, Context, Status, Watch, watches};
use crate::clients::api::strip_query;
use crate::clients::http::{Http, HttpError, Request, Response};
use crate::config::file::Section;
use crate::config::{Configure, Need, is_env_name};
use crate::util::time::rfc3339;

/// The kind's name.
pub const NAME: &str = "http_probe";
const SECTION: Section = Section::array("http_probe");

/// The kind: `[[http_probe]]`.
pub struct HttpProbe;

impl CheckKind for HttpProbe {
    fn names(&self) -> &'static [&'static str] {
        &[NAME]
    }

    fn sections(&self) -> &'static [Section] {
        &[SECTION]
    }

    fn configure(&self, cfg: &mut Configure) -> Vec<Arc<dyn Watch>> {
        let mut probes = Vec::new();
        for t in cfg.tables(SECTION) {
            let name = t.required_string("name");
            let url = t.required_string("url");
            let token_env = t.string("cf_access_token_env");
            let expect_status = t.int_in("expect_status", 100..=599, 200);
            let fresh_field = t.string("fresh_field");
            let fresh_max_age_seconds = t.int_in("fresh_max_age_seconds", 1..=31_536_000, 120);
            let (Some(name), Some(url)) = (name, url) else {
                continue;
            };
            let mut ok = true;
            if name.value.trim().is_empty() {
                t.error(name.line, "http_probe name must not be empty");
                ok = false;
            }
            let link = url.value.trim().to_string();
            if !(link.starts_with("https://") || link.starts_with("http://")) || link.contains('@')
            {
                t.error(
                    url.line,
                    format!(
                        "url must be an http(s) URL without credentials, not `{}`",
                        strip_query(&link)
                    ),
                );
                ok = false;
            }
            if let Some(v) = &token_env
                && !is_env_name(&v.value)
            {
                t.error(
                    v.line,
                    format!(
                        "cf_access_token_env must name an environment variable, not `{}`",
                        v.value
                    ),
                );
                ok = false;
            }
            if ok {
                probes.push(ProbeSpec {
                    name: name.value.trim().to_string(),
                    url: link,
                    token_env: token_env.map(|v| v.value),
                    expect_status,
                    fresh_field: fresh_field.map(|v| v.value),
                    fresh_max_age_seconds,
                });
            }
        }
        cfg.dedupe(&probes, |p| p.name.clone(), "http_probe");
        watches(probes)
    }

    fn runbook(&self) -> &'static [&'static str] {
        &["surface DEGRADED"]
    }
}

/// One health URL to probe.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeSpec {
    /// Its name in subjects and ids.
    pub name: String,
    /// The URL.
    pub url: String,
    /// The variable holding `client_id:client_secret` of a CF Access service token.
    pub token_env: Option<String>,
    /// The status a healthy answer has.
    pub expect_status: u16,
    /// A top-level JSON key holding an RFC 3339 time that must be recent.
    pub fresh_field: Option<String>,
    /// How old `fresh_field` may be.
    pub fresh_max_age_seconds: u64,
}

impl ProbeSpec {
    /// `http_probe:name`.
    pub fn id(&self) -> String {
        format!("http_probe:{}", self.name)
    }
}

/// What the probe got, and whether it sent a service token.
#[derive(Debug, Clone)]
pub struct Observation {
    /// The answer, or why there was none.
    pub answer: Result<Response, HttpError>,
    /// Whether the CF Access service token went with the request.
    pub token_sent: bool,
}

impl Check for ProbeSpec {
    type Observation = Observation;

    fn identities(&self) -> Vec<Identity> {
        vec![Identity::new(self.id(), NAME, &self.name, &self.name)]
    }

    fn describe(&self) -> Vec<String> {
        let token = self
            .token_env
            .as_ref()
            .map(|v| format!(", CF Access token from {v}"))
            .unwrap_or_default();
        vec![format!(
            "{}  ({} expecting {}{token})",
            self.id(),
            strip_query(&self.url),
            self.expect_status
        )]
    }

    fn needs(&self) -> Vec<Need> {
        let Some(var) = &self.token_env else {
            return Vec::new();
        };
        vec![
            Need::new(
                var,
                format!(
                    "{var} is not set: probe {} needs its CF Access service token",
                    self.name
                ),
            )
            .shaped(
                |v| AccessToken::parse(v).is_some(),
                format!(
                    "{var} (probe {}) must be client_id:client_secret",
                    self.name
                ),
            ),
        ]
    }

    fn observe(&self, ctx: &Context) -> Observation {
        let token = self
            .token_env
            .as_ref()
            .and_then(|var| ctx.secrets.get(var))
            .and_then(AccessToken::parse);
        Observation {
            answer: observe(&ctx.http, self, token.as_ref(), ctx.deadline),
            token_sent: token.is_some(),
        }
    }

    fn evaluate(&self, seen: &Observation, now: DateTime<Utc>) -> Vec<CheckResult> {
        vec![evaluate(self, &seen.answer, seen.token_sent, now)]
    }
}

/// A CF Access service token.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessToken {
    /// `CF-Access-Client-Id`.
    pub client_id: String,
    /// `CF-Access-Client-Secret`.
    pub client_secret: String,
}

impl AccessToken {
    /// Parses `client_id:client_secret`.
    pub fn parse(value: &str) -> Option<Self> {
        let (id, secret) = value.trim().split_once(':')?;
        (!id.is_empty() && !secret.is_empty()).then(|| Self {
            client_id: id.to_string(),
            client_secret: secret.to_string(),
        })
    }
}

/// GETs the URL once (retries as the shared layer allows), never following a redirect.
pub fn observe(
    http: &Http,
    spec: &ProbeSpec,
    token: Option<&AccessToken>,
    deadline: Instant,
) -> Result<Response, HttpError> {
    let mut req = Request::get(&spec.url).header("Accept", "application/json, text/html;q=0.5");
    if let Some(t) = token {
        req = req
            .header("CF-Access-Client-Id", t.client_id.clone())
            .header("CF-Access-Client-Secret", t.client_secret.clone());
    }
    http.send(&req, deadline)
}

/// Decides from the answer (or the failure to get one).
pub fn evaluate(
    spec: &ProbeSpec,
    answer: &Result<Response, HttpError>,
    token_sent: bool,
    now: DateTime<Utc>,
) -> CheckResult {
    let (status, message, details) = match answer {
        Err(why) => (Status::Critical, format!("no answer: {why}"), json!({})),
        Ok(resp) => judge(spec, resp, token_sent, now),
    };
    let mut r = CheckResult::new(&spec.id(), NAME, &spec.name, status, message);
    r.details = details;
    r.subject_name = spec.name.clone();
    if status != Status::Ok {
        r.threshold = Some(match &spec.fresh_field {
            Some(f) => format!(
                "HTTP {} and {f} younger than {} s",
                spec.expect_status, spec.fresh_max_age_seconds
            ),
            None => format!("HTTP {}", spec.expect_status),
        });
        r.link = Some(strip_query(&spec.url));
        r.hints = vec![match &spec.token_env {
            Some(var) => format!(
                "curl -sS -H \"CF-Access-Client-Id: <id>\" -H \"CF-Access-Client-Secret: <secret>\" {}    # id:secret in ${var}",
                strip_query(&spec.url)
            ),
            None => format!("curl -sS -i {}", strip_query(&spec.url)),
        }];
    }
    r
}

fn judge(
    spec: &ProbeSpec,
    resp: &Response,
    token_sent: bool,
    now: DateTime<Utc>,
) -> (Status, String, serde_json::Value) {
    let code = resp.status;
    let mut details = json!({"status": code, "content_type": resp.content_type()});
    // An HTML page's title says most; its first bytes say the rest.
    let first_bytes = || match html_title(&resp.body) {
        Some(title) => format!("page title \"{title}\"; it began: {}", resp.snippet(60)),
        None => resp.snippet(100),
    };
    if (300..400).contains(&code) {
        let location = resp.header("location").map(strip_query).unwrap_or_default();
        details["location"] = json!(location);
        if is_access_login(&location) {
            let token = if token_sent {
                "the service token is missing, wrong or not in the app's policy"
            } else {
                "no service token is configured for this probe (cf_access_token_env)"
            };
            return (
                Status::Critical,
                format!(
                    "got the Cloudflare Access login page (HTTP {code} to {location}): {token}"
                ),
                details,
            );
        }
        return (
            Status::Critical,
            format!(
                "redirected (HTTP {code}) to {location} instead of answering {}",
                spec.expect_status
            ),
            details,
        );
    }
    if code != spec.expect_status {
        let message = if let Some(what) = cloudflare_origin_error(code) {
            format!(
                "Cloudflare could not get an answer from the origin (HTTP {code}: {what}): the origin server is failing, not Cloudflare"
            )
        } else if is_heroku_router_error(resp) {
            format!(
                "Heroku router error (HTTP {code}): the app is not running (crashed, no web dynos, or no code deployed): {}",
                first_bytes()
            )
        } else if code == 403 && token_sent {
            format!(
                "HTTP 403 with the service token: Cloudflare Access refused it (a Service Auth-only app) or a WAF rule blocked the request: {}",
                first_bytes()
            )
        } else {
            format!(
                "HTTP {code} (expected {}): {}",
                spec.expect_status,
                first_bytes()
            )
        };
        return (Status::Critical, message, details);
    }
    if let Some(problem) = resp.body_problem() {
        return (
            Status::Critical,
            format!("HTTP {code} but {problem}: {}", first_bytes()),
            details,
        );
    }
    let Some(field) = &spec.fresh_field else {
        return (Status::Ok, format!("HTTP {code}"), details);
    };
    let parsed: Option<serde_json::Value> = serde_json::from_slice(&resp.body).ok();
    let Some(body) = parsed.filter(|v| v.is_object()) else {
        return (
            Status::Critical,
            format!(
                "HTTP {code} but not a JSON object, so {field} cannot be read: {}",
                first_bytes()
            ),
            details,
        );
    };
    let max = spec.fresh_max_age_seconds;
    match body.get(field) {
        None => (
            Status::Critical,
            format!("HTTP {code} but the answer has no {field}"),
            details,
        ),
        Some(serde_json::Value::Null) => {
            details[field.as_str()] = serde_json::Value::Null;
            (
                Status::Critical,
                format!("{field} is null: it has never been set (max age {max} s)"),
                details,
            )
        }
        Some(v) => match v.as_str().and_then(|s| s.parse::<DateTime<Utc>>().ok()) {
            None => (
                Status::Critical,
                format!("{field} is not an RFC 3339 time: {v}"),
                details,
            ),
            Some(t) => {
                let age = (now - t).num_seconds();
                details[field.as_str()] = json!(rfc3339(t));
                details["age_seconds"] = json!(age);
                if age > max as i64 {
                    (
                        Status::Critical,
                        format!(
                            "{field} is {age} s old (max {max} s): whatever updates it has stalled"
                        ),
                        details,
                    )
                } else {
                    (
                        Status::Ok,
                        format!("HTTP {code}; {field} {} s old", age.max(0)),
                        details,
                    )
                }
            }
        },
    }
}

/// The `<title>` of an HTML page, which says more than its first bytes.
fn html_title(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = start + lower[start..].find("</title>")?;
    let title = text[start..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!title.is_empty()).then(|| crate::clients::http::snippet(title.as_bytes(), 100))
}

/// A redirect to a Cloudflare Access login: `*.cloudflareaccess.com` or its login path.
pub fn is_access_login(location: &str) -> bool {
    let host = crate::clients::http::host_of(location).to_ascii_lowercase();
    let host = host.split(':').next().unwrap_or("");
    host.ends_with(".cloudflareaccess.com") || location.contains("/cdn-cgi/access/login")
}

/// Cloudflare's 52x statuses, each naming an origin failure.
fn cloudflare_origin_error(code: u16) -> Option<&'static str> {
    Some(match code {
        520 => "unknown error from the origin",
        521 => "the origin web server is down",
        522 => "connection to the origin timed out",
        523 => "the origin is unreachable",
        524 => "the origin took too long to answer",
        525 => "TLS handshake with the origin failed",
        526 => "the origin's certificate is invalid",
        _ => return None,
    })
}

/// Heroku's router answers for a dead app with its own error page.
fn is_heroku_router_error(resp: &Response) -> bool {
    let body = String::from_utf8_lossy(&resp.body);
    resp.status >= 500
        && (body.contains("herokucdn.com/error-pages")
            || body.contains("Application Error")
            || resp
                .header("server")
                .is_some_and(|s| s.eq_ignore_ascii_case("heroku")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(fresh: Option<&str>) -> ProbeSpec {
        ProbeSpec {
            name: "console-prod".into(),
            url: "https://console.example.invalid/health".into(),
            token_env: Some("CF_ACCESS_SERVICE_TOKEN_CONSOLE".into()),
            expect_status: 200,
            fresh_field: fresh.map(String::from),
            fresh_max_age_seconds: 120,
        }
    }

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response::fake(status, headers, body)
    }

    const NOW: &str = "2026-04-30T16:30:00Z";

    fn eval(spec: &ProbeSpec, r: Response) -> CheckResult {
        evaluate(spec, &Ok(r), true, NOW.parse().unwrap())
    }

    #[test]
    fn access_login_redirect_is_its_own_message() {
        let r = eval(
            &spec(None),
            resp(
                302,
                &[(
                    "location",
                    "https://raxx.cloudflareaccess.com/cdn-cgi/access/login/console.raxx.app?kid=abc&redirect_url=%2Fhealth",
                )],
                "",
            ),
        );
        assert_eq!(r.status, Status::Critical);
        assert_eq!(
            r.message,
            "got the Cloudflare Access login page (HTTP 302 to https://raxx.cloudflareaccess.com/cdn-cgi/access/login/console.raxx.app): the service token is missing, wrong or not in the app's policy"
        );
        let r = eval(
            &spec(None),
            resp(
                301,
                &[("location", "https://www.example.invalid/health")],
                "",
            ),
        );
        assert_eq!(
            r.message,
            "redirected (HTTP 301) to https://www.example.invalid/health instead of answering 200"
        );
    }

    #[test]
    fn freshness_of_a_json_field() {
        let s = spec(Some("poller_last_poll_at"));
        let ok = eval(
            &s,
            resp(
                200,
                &[],
                r#"{"status":"ok","poller_last_poll_at":"2026-04-30T16:29:30Z"}"#,
            ),
        );
        assert_eq!(
            (ok.status, ok.message.as_str()),
            (Status::Ok, "HTTP 200; poller_last_poll_at 30 s old")
        );
        let stale = eval(
            &s,
            resp(
                200,
                &[],
                r#"{"status":"ok","poller_last_poll_at":"2026-04-30T16:20:00Z"}"#,
            ),
        );
        assert_eq!(stale.status, Status::Critical);
        assert!(
            stale
                .message
                .starts_with("poller_last_poll_at is 600 s old (max 120 s)"),
            "{}",
            stale.message
        );
        let null = eval(
            &s,
            resp(200, &[], r#"{"status":"ok","poller_last_poll_at":null}"#),
        );
        assert!(
            null.message.starts_with("poller_last_poll_at is null"),
            "{}",
            null.message
        );
        let html = eval(&s, resp(200, &[], "<html>hi</html>"));
        assert!(
            html.message.contains("not a JSON object"),
            "{}",
            html.message
        );
    }

    #[test]
    fn origin_and_router_errors_are_named() {
        let r = eval(&spec(None), resp(522, &[], "<html>cloudflare</html>"));
        assert!(
            r.message
                .starts_with("Cloudflare could not get an answer from the origin (HTTP 522"),
            "{}",
            r.message
        );
        let r = eval(
            &spec(None),
            resp(
                503,
                &[],
                "<iframe src=\"//www.herokucdn.com/error-pages/application-error.html\"></iframe>",
            ),
        );
        assert!(
            r.message.starts_with("Heroku router error (HTTP 503)"),
            "{}",
            r.message
        );
        let r = eval(&spec(None), resp(500, &[], "oops"));
        assert_eq!(r.message, "HTTP 500 (expected 200): oops");
    }

    #[test]
    fn tokens_parse_only_whole() {
        assert!(AccessToken::parse("abc.access:s3cret").is_some());
        assert!(AccessToken::parse("abc.access:").is_none());
        assert!(AccessToken::parse("nocolon").is_none());
    }
}
