//! The Heroku Platform API v3 calls the monitor makes, through the shared HTTP layer.

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::clients::api::{self, ApiError, ApiInfo, parse_json};
use crate::clients::http::{Http, Request, Response};
use crate::util::text::encode;

pub(crate) const API: ApiInfo = ApiInfo {
    name: "Heroku",
    credential: "HEROKU_API_KEY",
};

/// Some of an app's config vars, by name.
pub type ConfigVars = std::collections::BTreeMap<String, String>;

/// Whether `name` is a valid Heroku app name: lowercase letters, digits and dashes, 3 to 30,
/// starting with a letter.
pub fn is_app_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=30).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && *b.last().unwrap_or(&b'-') != b'-'
}

/// An app, as far as the monitor reads it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct App {
    /// Its name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last released, if ever.
    #[serde(default)]
    pub released_at: Option<DateTime<Utc>>,
    /// Its own URL (the direct `.herokuapp.com` one).
    #[serde(default)]
    pub web_url: Option<String>,
}

/// `{id}` of a slug.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct SlugRef {
    /// Slug id.
    pub id: String,
}

/// A slug, as far as the monitor reads it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Slug {
    /// Its id.
    pub id: String,
    /// The commit it was built from; null when the build did not say.
    #[serde(default)]
    pub commit: Option<String>,
    /// When it was built.
    pub created_at: DateTime<Utc>,
}

/// An OCI image, as far as the monitor reads it: what a Fir-generation release runs.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct OciImage {
    /// Its id.
    pub id: String,
    /// The commit it was built from, when the build said.
    #[serde(default)]
    pub commit: Option<String>,
    /// When it was built.
    pub created_at: DateTime<Utc>,
}

/// An artifact of a release: a slug, or an OCI image on Fir.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Artifact {
    /// `slug`, `oci-image`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// A slug id or an OCI image id.
    #[serde(default)]
    pub id: Option<String>,
}

/// The code a release runs: a slug (Cedar) or an OCI image (Fir).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    /// A slug's id.
    Slug(String),
    /// An OCI image's id.
    OciImage(String),
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Self::Slug(id) => write!(f, "slug {id}"),
            Self::OciImage(id) => write!(f, "OCI image {id}"),
        }
    }
}

/// A release.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Release {
    /// v1, v2, …
    pub version: u64,
    /// The code running in this release; null when none was ever deployed.
    pub slug: Option<SlugRef>,
    /// `succeeded`, `pending`, `failed`, `expired` (its artifacts destroyed by Heroku's
    /// retention: older than 30 days and 20 releases).
    pub status: String,
    /// e.g. "Deploy 3f2a1c9" or "Set FOO config vars".
    pub description: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Whether it is the current release.
    #[serde(default)]
    pub current: bool,
    /// What it runs (Fir apps carry OCI images here and no slug).
    #[serde(default)]
    pub artifacts: Vec<Artifact>,
}

impl Release {
    /// The code it runs: its slug, else an artifact (a Fir release has an OCI image and no
    /// slug).
    pub fn code(&self) -> Option<Code> {
        if let Some(s) = &self.slug {
            return Some(Code::Slug(s.id.clone()));
        }
        self.artifacts.iter().find_map(|a| {
            let id = a.id.clone().filter(|id| !id.is_empty())?;
            Some(if a.kind == "slug" {
                Code::Slug(id)
            } else {
                Code::OciImage(id)
            })
        })
    }

    /// Heroku destroyed its artifacts: a retired release, not one that never had code.
    pub fn is_expired(&self) -> bool {
        self.status == "expired"
    }
}

/// A dyno.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Dyno {
    /// e.g. `web.1`.
    pub name: String,
    /// Process type, e.g. `web`, `worker`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `up`, `crashed`, `down`, `idle`, `starting`.
    pub state: String,
    /// When it last changed state.
    pub updated_at: DateTime<Utc>,
}

/// A process type's formation.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Formation {
    /// Process type, e.g. `web`.
    #[serde(rename = "type")]
    pub kind: String,
    /// How many dynos it should run.
    pub quantity: u32,
    /// When it was last scaled.
    pub updated_at: DateTime<Utc>,
}

/// A Platform API client bound to a base URL and a key.
#[derive(Debug, Clone)]
pub struct Heroku {
    http: Http,
    base: String,
    key: String,
    deadline: Instant,
}

impl Heroku {
    /// A client for `base` (e.g. `https://api.heroku.com`), finishing before `deadline`.
    pub fn new(http: Http, base: &str, key: &str, deadline: Instant) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            key: key.to_string(),
            deadline,
        }
    }

    /// The newest release, asked for directly (`order=desc, max=1`); never the first page of
    /// an ascending list, which for an app with hundreds of releases is the oldest ones.
    pub fn newest_release(&self, app: &str) -> Result<Option<Release>, ApiError> {
        let releases: Vec<Release> = self.get(
            &format!("/apps/{}/releases", encode(app)),
            Some("version ..; max=1, order=desc"),
            &format!("app {app}"),
        )?;
        // Were the Range ignored, the highest version on the page is still the best answer.
        Ok(releases.into_iter().max_by_key(|r| r.version))
    }

    /// The current release (`current: true`) among the newest ten: after a rollback it is not
    /// the newest one.
    pub fn current_release(&self, app: &str) -> Result<Option<Release>, ApiError> {
        let releases: Vec<Release> = self.get(
            &format!("/apps/{}/releases", encode(app)),
            Some("version ..; max=10, order=desc"),
            &format!("app {app}"),
        )?;
        let newest = releases.iter().max_by_key(|r| r.version).cloned();
        Ok(releases.into_iter().find(|r| r.current).or(newest))
    }

    /// A slug: the commit it was built from.
    pub fn slug(&self, app: &str, id: &str) -> Result<Slug, ApiError> {
        self.get(
            &format!("/apps/{}/slugs/{}", encode(app), encode(id)),
            None,
            &format!("slug {id} of app {app}"),
        )
    }

    /// An OCI image: the commit it was built from. Heroku's schema answers this "info" with
    /// a list filtered by the identifier; a single object is read too.
    pub fn oci_image(&self, app: &str, id: &str) -> Result<OciImage, ApiError> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            Many(Vec<OciImage>),
            One(OciImage),
        }
        let what = format!("OCI image {id} of app {app}");
        let found: OneOrMany = self.get(
            &format!("/apps/{}/oci-images/{}", encode(app), encode(id)),
            None,
            &what,
        )?;
        let images = match found {
            OneOrMany::Many(v) => v,
            OneOrMany::One(i) => vec![i],
        };
        let first = images.first().cloned();
        images
            .into_iter()
            .find(|i| i.id == id)
            .or(first)
            .ok_or(ApiError::NotFound {
                api: API.name,
                what,
                detail: ": an empty list".into(),
            })
    }

    /// The app's dynos.
    pub fn dynos(&self, app: &str) -> Result<Vec<Dyno>, ApiError> {
        self.get(
            &format!("/apps/{}/dynos", encode(app)),
            None,
            &format!("app {app}"),
        )
    }

    /// The app's formation.
    pub fn formation(&self, app: &str) -> Result<Vec<Formation>, ApiError> {
        self.get(
            &format!("/apps/{}/formation", encode(app)),
            None,
            &format!("app {app}"),
        )
    }

    /// The app itself.
    pub fn app(&self, app: &str) -> Result<App, ApiError> {
        self.get(
            &format!("/apps/{}", encode(app)),
            None,
            &format!("app {app}"),
        )
    }

    /// The values of `wanted` config vars of `app`. The endpoint returns every secret of the
    /// app: only the wanted keys are kept, the rest are skipped while parsing, and nothing
    /// of the body is ever quoted in an error.
    pub fn config_vars(&self, app: &str, wanted: &[String]) -> Result<ConfigVars, ApiError> {
        let resp = self.send(
            &format!("/apps/{}/config-vars", encode(app)),
            None,
            &format!("app {app}"),
        )?;
        only_keys(&resp, wanted)
    }

    fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        range: Option<&str>,
        what: &str,
    ) -> Result<T, ApiError> {
        parse_json(API, &self.send(path, range, what)?)
    }

    /// One request with Heroku's headers; a 2xx response (206 Partial Content included:
    /// more items exist than were asked for), or the error that explains the status.
    fn send(&self, path: &str, range: Option<&str>, what: &str) -> Result<Response, ApiError> {
        let mut req = Request::get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.key))
            .header("Accept", "application/vnd.heroku+json; version=3");
        if let Some(r) = range {
            req = req.header("Range", r);
        }
        api::success(API, api::send(API, &self.http, &req, self.deadline)?, what)
    }
}

/// The wanted keys' string values of a config-vars body; the rest is skipped unread.
pub(crate) fn only_keys(resp: &Response, wanted: &[String]) -> Result<ConfigVars, ApiError> {
    let bad = |reason: String| ApiError::BadBody {
        api: API.name,
        status: resp.status,
        content_type: resp.content_type(),
        reason,
        snippet: "(not quoted: it holds the app's secrets)".into(),
    };
    if let Some(problem) = resp.body_problem() {
        return Err(bad(problem));
    }
    let mut de = serde_json::Deserializer::from_slice(&resp.body);
    serde::de::DeserializeSeed::deserialize(OnlyKeys(wanted), &mut de)
        .map_err(|_| bad("config vars that are not a JSON object of strings".into()))
}

/// Deserializes a JSON object keeping only some keys' string values.
struct OnlyKeys<'a>(&'a [String]);

impl<'de> serde::de::DeserializeSeed<'de> for OnlyKeys<'_> {
    type Value = std::collections::BTreeMap<String, String>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for OnlyKeys<'_> {
    type Value = std::collections::BTreeMap<String, String>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object of config vars")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kept = std::collections::BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            if self.0.contains(&key) {
                let value: Option<String> = map.next_value()?;
                if let Some(v) = value {
                    kept.insert(key, v);
                }
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names() {
        assert!(is_app_name("raxx-api-prod"));
        for bad in ["Raxx", "ab", "1abc", "abc-", "a_b_c"] {
            assert!(!is_app_name(bad), "{bad}");
        }
    }

    fn release(slug: serde_json::Value, artifacts: serde_json::Value, status: &str) -> Release {
        serde_json::from_value(serde_json::json!({
            "version": 18, "slug": slug, "status": status, "description": "Deploy 5b7e2d4",
            "created_at": "2026-05-20T14:12:05Z", "current": true, "artifacts": artifacts,
        }))
        .unwrap()
    }

    #[test]
    fn a_release_runs_its_slug_or_its_oci_image() {
        let cedar = release(
            serde_json::json!({"id": "c7b5"}),
            serde_json::json!([{"type": "slug", "id": "c7b5"}]),
            "succeeded",
        );
        assert_eq!(cedar.code(), Some(Code::Slug("c7b5".into())));
        let fir = release(
            serde_json::Value::Null,
            serde_json::json!([{"type": "oci-image", "id": "4e7a"}]),
            "succeeded",
        );
        assert_eq!(fir.code(), Some(Code::OciImage("4e7a".into())));
        assert_eq!(fir.code().unwrap().to_string(), "OCI image 4e7a");
        let retired = release(serde_json::Value::Null, serde_json::json!([]), "expired");
        assert_eq!(retired.code(), None);
        assert!(retired.is_expired());
    }

    #[test]
    fn only_the_wanted_config_var_is_kept() {
        let body = br#"{"DATABASE_URL":"postgres://u:secret@h/d","FLAG_X":"true","SENTRY_DSN":"https://k@s/1"}"#;
        let mut de = serde_json::Deserializer::from_slice(body);
        let wanted = vec!["FLAG_X".to_string(), "FLAG_MISSING".to_string()];
        let kept = serde::de::DeserializeSeed::deserialize(OnlyKeys(&wanted), &mut de).unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept["FLAG_X"], "true");
    }
}
