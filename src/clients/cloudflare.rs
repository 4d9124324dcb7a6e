//! The Cloudflare Pages call the monitor makes, reading Cloudflare's `{success, errors,
//! result}` envelope.

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::clients::api::{self, ApiError, ApiInfo, parse_json, status_error};
use crate::clients::http::{Http, Request, Response};
use crate::util::text::encode;

pub(crate) const API: ApiInfo = ApiInfo {
    name: "Cloudflare",
    credential: "CLOUDFLARE_PAGES_READ_TOKEN",
};

/// One message of the envelope.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CfMessage {
    /// e.g. 8000007.
    pub code: i64,
    /// What it says.
    pub message: String,
}

#[derive(Debug, Deserialize)]
struct Envelope<T> {
    success: bool,
    #[serde(default)]
    errors: Vec<CfMessage>,
    result: Option<T>,
}

/// A stage of a deployment.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Stage {
    /// `queued`, `initialize`, `clone_repo`, `build`, `deploy`.
    pub name: String,
    /// `success`, `idle`, `active`, `failure`, `canceled` (others are kept as they come).
    pub status: String,
    /// When it started.
    #[serde(default, deserialize_with = "lenient_time")]
    pub started_on: Option<DateTime<Utc>>,
    /// When it ended.
    #[serde(default, deserialize_with = "lenient_time")]
    pub ended_on: Option<DateTime<Utc>>,
}

/// The fields of a deployment the monitor reads.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Deployment {
    /// Its id.
    pub id: String,
    /// 8 characters.
    #[serde(default)]
    pub short_id: Option<String>,
    /// `production` or `preview`.
    pub environment: String,
    /// Its own URL.
    #[serde(default)]
    pub url: Option<String>,
    /// When it was created.
    #[serde(deserialize_with = "lenient_required_time")]
    pub created_on: DateTime<Utc>,
    /// Where it is now.
    pub latest_stage: Stage,
    /// Skipped builds deploy nothing and fail nothing.
    #[serde(default)]
    pub is_skipped: bool,
}

/// A Cloudflare time: RFC 3339, or (as Cloudflare's own examples write `ended_on` and
/// `modified_on`) without a zone, which is UTC.
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    s.parse::<DateTime<Utc>>().ok().or_else(|| {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|n| n.and_utc())
    })
}

fn lenient_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    s.map(|s| {
        parse_time(&s).ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a time")))
    })
    .transpose()
}

fn lenient_required_time<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<DateTime<Utc>, D::Error> {
    lenient_time(d)?.ok_or_else(|| serde::de::Error::custom("a time is missing"))
}

/// A Pages API client bound to a base URL, an account and a token.
#[derive(Debug, Clone)]
pub struct Pages {
    http: Http,
    base: String,
    account: String,
    token: String,
    deadline: Instant,
}

/// What can go wrong asking Pages: a project that does not exist, or anything else.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PagesError {
    /// The project is not in the account; Cloudflare's words.
    #[error("{0}")]
    NoSuchProject(String),
    /// The API could not be asked, or its answer explains the failure.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The envelope said `success: false`.
    #[error("Cloudflare answered HTTP {status}, success false: {errors}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Its errors, with their codes.
        errors: String,
    },
}

impl Pages {
    /// A client for `base` (e.g. `https://api.cloudflare.com/client/v4`).
    pub fn new(http: Http, base: &str, account: &str, token: &str, deadline: Instant) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            account: account.to_string(),
            token: token.to_string(),
            deadline,
        }
    }

    /// The project's recent production deployments (newest first as Cloudflare lists them;
    /// the caller still sorts, since the order is not documented).
    pub fn deployments(&self, project: &str) -> Result<Vec<Deployment>, PagesError> {
        let url = format!(
            "{}/accounts/{}/pages/projects/{}/deployments?env=production&per_page=10",
            self.base,
            encode(&self.account),
            encode(project)
        );
        let req = Request::get(url)
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Accept", "application/json");
        let resp = api::send(API, &self.http, &req, self.deadline)?;
        read_deployments(&resp, project)
    }
}

/// Reads Cloudflare's answer for `project`'s deployments: the envelope's result, or what its
/// status and errors mean.
pub(crate) fn read_deployments(
    resp: &Response,
    project: &str,
) -> Result<Vec<Deployment>, PagesError> {
    let envelope: Result<Envelope<Vec<Deployment>>, ApiError> = parse_json(API, resp);
    let errors = |e: &Envelope<Vec<Deployment>>| {
        e.errors
            .iter()
            .map(|m| format!("{} ({})", m.message, m.code))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let shared = || {
        Err(PagesError::Api(status_error(
            API,
            resp,
            &format!("project {project}"),
        )))
    };
    match (resp.status, envelope) {
        (404, Ok(e)) => Err(PagesError::NoSuchProject(errors(&e))),
        (404, Err(_)) => Err(PagesError::NoSuchProject(resp.snippet(120))),
        // A refused token or a rate limit says which variable or when, as for any API.
        (401 | 403 | 429, _) => shared(),
        (200..=299, Ok(e)) if e.success => Ok(e.result.unwrap_or_default()),
        (status, Ok(e)) if !e.errors.is_empty() => Err(PagesError::Refused {
            status,
            errors: errors(&e),
        }),
        (200..=299, Err(e)) => Err(PagesError::Api(e)),
        _ => shared(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudflares_zoneless_times_are_utc() {
        let t = parse_time("2021-03-09T00:58:59.045655").unwrap();
        assert_eq!(crate::util::time::rfc3339(t), "2021-03-09T00:58:59Z");
        assert!(parse_time("2021-03-09T00:55:03.923456Z").is_some());
        assert!(parse_time("yesterday").is_none());
    }
}
