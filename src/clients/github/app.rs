//! Reading GitHub as a GitHub App: an RS256 JWT signed in-process with the App's private key,
//! the installation of each owner read, and an installation token per owner, minted once and
//! again only when it nears its expiry. Every JWT and token is made known to the redactor the
//! moment it exists.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject as _;
use serde::Deserialize;

use crate::clients::api::{self, ApiError, ApiInfo, parse_json};
use crate::clients::http::{Http, Request};
use crate::util::text::encode;

/// The App's own calls: a 401 there is the key or the id, not `GITHUB_TOKEN`.
const APP_API: ApiInfo = ApiInfo {
    name: "GitHub",
    credential: "GITHUB_APP_PRIVATE_KEY and [github] app_client_id (or app_id)",
};

/// How far back `iat` is set, against a clock running ahead of GitHub's.
const IAT_BACK: i64 = 60;
/// How long a JWT lives after `iat`: GitHub refuses more than 10 minutes.
const JWT_LIFE: i64 = 600;
/// A token this close to its expiry is minted again.
const REFRESH_BEFORE: Duration = Duration::minutes(5);

/// Which App: its client ID (`Iv23li…`, what GitHub recommends) or its numeric App ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppId {
    /// `[github] app_client_id`.
    ClientId(String),
    /// `[github] app_id`.
    Numeric(u64),
}

impl AppId {
    /// The JWT's `iss`: either one is accepted by GitHub.
    pub fn issuer(&self) -> String {
        match self {
            AppId::ClientId(id) => id.clone(),
            AppId::Numeric(n) => n.to_string(),
        }
    }
}

impl std::fmt::Display for AppId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppId::ClientId(id) => write!(f, "client ID {id}"),
            AppId::Numeric(n) => write!(f, "App ID {n}"),
        }
    }
}

/// The key as the environment gave it, newlines restored when they came as `\n`.
fn pem_text(pem: &str) -> String {
    if pem.contains('\n') {
        pem.trim().to_string()
    } else {
        pem.trim().replace("\\n", "\n")
    }
}

/// The RSA key of a PEM text: PKCS#1 (`BEGIN RSA PRIVATE KEY`, what GitHub hands out) or
/// PKCS#8 (`BEGIN PRIVATE KEY`).
pub fn parse_key(pem: &str) -> Result<RsaKeyPair, String> {
    let der = PrivateKeyDer::from_pem_slice(pem_text(pem).as_bytes())
        .map_err(|_| "no PEM private key in it".to_string())?;
    match der {
        PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
        PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
        _ => return Err("it is not an RSA key".into()),
    }
    .map_err(|e| format!("the RSA key is unusable ({e})"))
}

/// Whether `pem` holds an RSA private key the monitor can sign with.
pub fn is_private_key(pem: &str) -> bool {
    parse_key(pem).is_ok()
}

/// Base64url without padding, as JWTs are written.
fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The JWT's header and claims, joined as they are signed: `iat` [`IAT_BACK`] s before `now`,
/// `exp` [`JWT_LIFE`] s after `iat` (9 minutes ahead of `now`).
pub fn jwt_payload(iss: &str, now: DateTime<Utc>) -> String {
    let iat = now.timestamp() - IAT_BACK;
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
    let claims = serde_json::json!({"iat": iat, "exp": iat + JWT_LIFE, "iss": iss});
    format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    )
}

/// A signed JWT for the App `iss`, at `now`.
pub fn sign_jwt(key: &RsaKeyPair, iss: &str, now: DateTime<Utc>) -> Result<String, String> {
    let payload = jwt_payload(iss, now);
    let mut sig = vec![0; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        payload.as_bytes(),
        &mut sig,
    )
    .map_err(|_| "the key could not sign the App's JWT".to_string())?;
    Ok(format!("{payload}.{}", b64url(&sig)))
}

/// The account whose installation answers a request to `path`: `/repos/{owner}/…`,
/// `/orgs/{org}/…`, `/users/{user}/…`.
pub fn owner_of(path: &str) -> Option<&str> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let mut segments = path.trim_start_matches('/').split('/');
    match (segments.next(), segments.next()) {
        (Some("repos" | "orgs" | "users"), Some(owner)) if !owner.is_empty() => Some(owner),
        _ => None,
    }
}

/// What the App holds for one owner.
#[derive(Debug, Clone)]
enum Held {
    /// An installation, and its token once minted.
    Installed {
        id: u64,
        token: Option<(String, DateTime<Utc>)>,
    },
    /// GitHub says the App is not installed there.
    NotInstalled,
}

/// A GitHub App and what it minted this run, by owner.
pub struct App {
    id: AppId,
    key: RsaKeyPair,
    /// By owner, lowercased (GitHub's logins are case-insensitive). One lock for all: two
    /// checks of one owner mint one token between them.
    held: Mutex<HashMap<String, Held>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Installation {
    id: u64,
}

#[derive(Deserialize)]
struct Minted {
    token: String,
    expires_at: DateTime<Utc>,
}

impl App {
    /// The App `id` signing with the PEM key `pem`.
    pub fn new(id: AppId, pem: &str) -> Result<Self, String> {
        Ok(Self {
            id,
            key: parse_key(pem)?,
            held: Mutex::new(HashMap::new()),
        })
    }

    /// Which App.
    pub fn id(&self) -> &AppId {
        &self.id
    }

    /// A fresh JWT, known to the redactor before it leaves.
    fn jwt(&self) -> Result<String, ApiError> {
        let jwt = sign_jwt(&self.key, &self.id.issuer(), Utc::now()).map_err(|reason| {
            ApiError::NoCredential {
                api: APP_API.name,
                reason,
            }
        })?;
        crate::redact::learn(&jwt);
        Ok(jwt)
    }

    /// The installation token for `owner`: the one held while it has more than 5 minutes
    /// left, else a new one (the installation looked up once a run).
    pub fn token_for(
        &self,
        owner: &str,
        http: &Http,
        base: &str,
        deadline: Instant,
    ) -> Result<String, ApiError> {
        let key = owner.to_ascii_lowercase();
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let id = match held.get(&key) {
            Some(Held::NotInstalled) => return Err(not_installed(owner)),
            Some(Held::Installed {
                token: Some((token, expires)),
                ..
            }) if *expires - Utc::now() > REFRESH_BEFORE => return Ok(token.clone()),
            Some(Held::Installed { id, .. }) => *id,
            None => match self.installation(owner, http, base, deadline)? {
                Some(id) => id,
                None => {
                    held.insert(key, Held::NotInstalled);
                    return Err(not_installed(owner));
                }
            },
        };
        let minted = self.mint(id, http, base, deadline);
        let token = minted
            .as_ref()
            .ok()
            .map(|m| (m.token.clone(), m.expires_at));
        held.insert(key, Held::Installed { id, token });
        minted.map(|m| m.token)
    }

    /// GET with the JWT.
    fn get_as_app(
        &self,
        http: &Http,
        url: String,
        deadline: Instant,
    ) -> Result<crate::clients::http::Response, ApiError> {
        let req = Request::get(url)
            .header("Authorization", format!("Bearer {}", self.jwt()?))
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
        api::send(APP_API, http, &req, deadline)
    }

    /// The installation id of `owner`: as an organisation, else as a user; `None` when the
    /// App is installed on neither.
    fn installation(
        &self,
        owner: &str,
        http: &Http,
        base: &str,
        deadline: Instant,
    ) -> Result<Option<u64>, ApiError> {
        for account in ["orgs", "users"] {
            let url = format!("{base}/{account}/{}/installation", encode(owner));
            let resp = self.get_as_app(http, url, deadline)?;
            if resp.status == 404 {
                continue;
            }
            let what = format!("the GitHub App's installation on {owner}");
            let found: Installation = parse_json(APP_API, &api::success(APP_API, resp, &what)?)?;
            return Ok(Some(found.id));
        }
        Ok(None)
    }

    /// A new installation token of installation `id`.
    fn mint(
        &self,
        id: u64,
        http: &Http,
        base: &str,
        deadline: Instant,
    ) -> Result<Minted, ApiError> {
        let url = format!("{base}/app/installations/{id}/access_tokens");
        let req = Request::post(url, Vec::new())
            .header("Authorization", format!("Bearer {}", self.jwt()?))
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
        let resp = api::send(APP_API, http, &req, deadline)?;
        let what = format!("an installation token of installation {id}");
        let minted: Minted = parse_json(APP_API, &api::success(APP_API, resp, &what)?)?;
        crate::redact::learn(&minted.token);
        Ok(minted)
    }
}

/// What a read of `owner` says when the App is not installed there.
fn not_installed(owner: &str) -> ApiError {
    ApiError::NoCredential {
        api: APP_API.name,
        reason: format!(
            "the GitHub App is not installed on {owner}: install it, or give GITHUB_TOKEN"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_comes_from_the_path() {
        for (path, owner) in [
            (
                "/repos/raxx-app/TradeMasterAPI/actions/runs?per_page=1",
                Some("raxx-app"),
            ),
            ("/orgs/raxx-app/repos?type=all", Some("raxx-app")),
            ("/users/octocat/installation", Some("octocat")),
            ("repos/o/r", Some("o")),
            ("/repos/", None),
            ("/repos?x=1", None),
            ("/graphql", None),
            ("/app/installations/1/access_tokens", None),
            ("", None),
        ] {
            assert_eq!(owner_of(path), owner, "{path}");
        }
    }

    #[test]
    fn the_jwt_says_rs256_and_its_claims_span_ten_minutes_from_a_minute_back() {
        let now = DateTime::<Utc>::from_timestamp(1_779_517_800, 0).unwrap();
        let payload = jwt_payload("Iv23liTEST", now);
        let (header, claims) = payload.split_once('.').unwrap();
        let decode = |s: &str| -> serde_json::Value {
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap();
            serde_json::from_slice(&bytes).unwrap()
        };
        assert_eq!(
            decode(header),
            serde_json::json!({"alg": "RS256", "typ": "JWT"})
        );
        let c = decode(claims);
        assert_eq!(c["iss"], "Iv23liTEST");
        assert_eq!(c["iat"], 1_779_517_740);
        assert_eq!(c["exp"], 1_779_518_340);
        assert!(c["exp"].as_i64().unwrap() - now.timestamp() <= 600);
        assert!(!payload.contains('='), "no padding");
    }

    #[test]
    fn the_issuer_is_the_client_id_or_the_app_id() {
        assert_eq!(AppId::ClientId("Iv23liX".into()).issuer(), "Iv23liX");
        assert_eq!(AppId::Numeric(123456).issuer(), "123456");
    }

    #[test]
    fn what_is_no_key_is_refused() {
        assert!(!is_private_key("not a key"));
        assert!(!is_private_key(
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"
        ));
    }
}
