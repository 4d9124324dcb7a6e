//! The secrets and endpoints of a run, from the environment: never from the file, never
//! printed. Each check declares the variables it needs (`Need`); `missing` says, before any
//! request, what the configuration needs and lacks.

use std::collections::BTreeMap;

use super::cli::Cli;
use super::env::Env;
use super::{ConfigError, Transport};
use crate::clients::github::app::{self, App, AppId};

/// The secrets every run may use, read before the configuration so that even an early
/// error message is redacted.
const WELL_KNOWN: [&str; 8] = [
    "GITHUB_TOKEN",
    APP_KEY,
    "HEROKU_API_KEY",
    "CLOUDFLARE_PAGES_READ_TOKEN",
    "CLOUDFLARE_ACCOUNT_ID",
    "POSTMARK_SERVER_TOKEN",
    "SMTP_URL",
    "HEARTBEAT_MONITOR_PING_URL",
];

/// The variable holding a GitHub App's private key (PEM).
pub const APP_KEY: &str = "GITHUB_APP_PRIVATE_KEY";

/// A test of a secret's shape, and what to say when it fails.
pub type Shape = (fn(&str) -> bool, String);

/// A variable a check needs, and what to say when it is unset or malformed.
#[derive(Debug, Clone)]
pub struct Need {
    /// The variable.
    pub var: String,
    /// The whole message when it is unset.
    pub unset: String,
    /// A test of its shape, and the message when it fails.
    pub shape: Option<Shape>,
    /// The GitHub App whose key it is, for [`APP_KEY`].
    pub(crate) app: Option<AppId>,
}

impl Need {
    /// `var` must be set; `unset` says who needs it.
    pub fn new(var: &str, unset: impl Into<String>) -> Self {
        Self {
            var: var.to_string(),
            unset: unset.into(),
            shape: None,
            app: None,
        }
    }

    /// The private key of the GitHub App `id`, which reads GitHub instead of `GITHUB_TOKEN`.
    pub fn github_app(id: AppId, setting: &str) -> Self {
        let mut need = Self::new(
            APP_KEY,
            format!(
                "{APP_KEY} is not set: [github] {setting} reads GitHub as a GitHub App, whose private key (PEM) it must hold"
            ),
        )
        .shaped(
            app::is_private_key,
            format!(
                "{APP_KEY} does not hold a usable RSA private key: give the App's .pem file as GitHub made it (BEGIN RSA PRIVATE KEY) or in PKCS#8 (BEGIN PRIVATE KEY)"
            ),
        );
        need.app = Some(id);
        need
    }

    /// It must also pass `ok`; `message` says what it must look like.
    pub fn shaped(mut self, ok: fn(&str) -> bool, message: impl Into<String>) -> Self {
        self.shape = Some((ok, message.into()));
        self
    }
}

/// The secrets and endpoints a run uses, from the environment (and `--gh-token`).
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// Every secret variable read, by name (set and non-empty only).
    vars: BTreeMap<String, String>,
    /// GitHub API base.
    pub github_api: String,
    /// Postmark API base.
    pub postmark_api: String,
    /// Heroku API base.
    pub heroku_api: String,
    /// Cloudflare API base.
    pub cloudflare_api: String,
    /// The GitHub App the configuration names (`[github] app_client_id` or `app_id`).
    github_app: Option<AppId>,
    /// Recipients.
    pub to: Vec<String>,
    /// Sender.
    pub from: Option<String>,
}

impl Secrets {
    /// Reads the well-known ones; `--gh-token` wins over `GITHUB_TOKEN` because the old call
    /// passed it so.
    pub fn from_env(cli: &Cli, env: &Env) -> Self {
        let mut vars = BTreeMap::new();
        for var in WELL_KNOWN {
            if let Some(v) = env.get(var) {
                vars.insert(var.to_string(), v.to_string());
            }
        }
        if let Some(t) = cli.gh_token.as_ref().filter(|t| !t.trim().is_empty()) {
            vars.insert("GITHUB_TOKEN".into(), t.clone());
        }
        if let Some(url) = vars.get_mut("HEARTBEAT_MONITOR_PING_URL") {
            *url = url.trim_end_matches('/').to_string();
        }
        Self {
            vars,
            github_api: env.get_or("GITHUB_API_URL", "https://api.github.com"),
            postmark_api: env.get_or("POSTMARK_API_URL", "https://api.postmarkapp.com"),
            heroku_api: env.get_or("HEROKU_API_URL", "https://api.heroku.com"),
            cloudflare_api: env
                .get_or("CLOUDFLARE_API_URL", "https://api.cloudflare.com/client/v4"),
            github_app: None,
            to: env
                .get("OPS_ALERT_EMAIL")
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
            from: env.get("OPS_ALERT_FROM").map(String::from),
        }
    }

    /// Reads the variables the configuration's checks name (a probe's service token, the
    /// promotions database URL).
    pub fn read_named(&mut self, needs: impl IntoIterator<Item = Need>, env: &Env) {
        for need in needs {
            if need.app.is_some() {
                self.github_app = need.app.clone();
            }
            if !self.vars.contains_key(&need.var)
                && let Some(v) = env.get(&need.var)
            {
                self.vars.insert(need.var, v.to_string());
            }
        }
    }

    /// The GitHub App the run reads GitHub as: named by the configuration, its key set and
    /// usable. With it, `GITHUB_TOKEN` is not used.
    pub fn github_app(&self) -> Option<App> {
        let id = self.github_app.clone()?;
        App::new(id, self.get(APP_KEY)?).ok()
    }

    /// The value of a secret variable, when set.
    pub fn get(&self, var: &str) -> Option<&str> {
        self.vars.get(var).map(String::as_str)
    }

    /// Every secret value, for the redactor (`Redactor::add_secret` masks their parts too).
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.vars.values().map(String::as_str)
    }

    /// What is missing for a run that `needs` these secrets and sends mail by `transport`;
    /// mail secrets are not needed for a dry run.
    pub fn missing(
        &self,
        needs: impl IntoIterator<Item = Need>,
        dry_run: bool,
        transport: Transport,
    ) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        let env = "environment";
        let mut seen = std::collections::HashSet::new();
        for need in needs {
            if !seen.insert(need.var.clone()) {
                continue;
            }
            match (self.get(&need.var), &need.shape) {
                (None, _) => errors.push(ConfigError::at(env, need.unset)),
                (Some(v), Some((ok, message))) if !ok(v) => {
                    errors.push(ConfigError::at(env, message.clone()))
                }
                _ => {}
            }
        }
        if !dry_run {
            match transport {
                Transport::Postmark if self.get("POSTMARK_SERVER_TOKEN").is_none() => {
                    errors.push(ConfigError::at(
                        env,
                        "POSTMARK_SERVER_TOKEN is not set: alerts could not be mailed",
                    ))
                }
                Transport::Smtp if self.get("SMTP_URL").is_none() => errors.push(ConfigError::at(
                    env,
                    "SMTP_URL is not set: [mail] transport is \"smtp\"",
                )),
                _ => {}
            }
            if self.to.is_empty() {
                errors.push(ConfigError::at(
                    env,
                    "OPS_ALERT_EMAIL is not set: nobody to mail",
                ));
            }
            if self.from.is_none() {
                errors.push(ConfigError::at(
                    env,
                    "OPS_ALERT_FROM is not set: no sender for the alerts",
                ));
            }
        }
        if transport == Transport::Smtp
            && let Some(url) = self.get("SMTP_URL")
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            errors.push(ConfigError::at(
                env,
                "SMTP_URL must start with smtp:// or smtps://",
            ));
        }
        for addr in &self.to {
            if !looks_like_address(addr) {
                errors.push(ConfigError::at(
                    env,
                    format!("OPS_ALERT_EMAIL holds `{addr}`, which is not a mail address"),
                ));
            }
        }
        if let Some(from) = &self.from
            && !looks_like_address(from)
        {
            errors.push(ConfigError::at(
                env,
                format!("OPS_ALERT_FROM holds `{from}`, which is not a mail address"),
            ));
        }
        for (var, url) in [
            ("GITHUB_API_URL", &self.github_api),
            ("POSTMARK_API_URL", &self.postmark_api),
        ] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                errors.push(ConfigError::at(
                    env,
                    format!("{var} must be an http(s) URL, not `{url}`"),
                ));
            }
        }
        errors
    }
}

fn looks_like_address(s: &str) -> bool {
    let addr = s
        .rsplit_once('<')
        .map_or(s, |(_, a)| a.trim_end_matches('>'))
        .trim();
    matches!(addr.split_once('@'), Some((u, d)) if !u.is_empty() && d.contains('.') && !addr.contains(' '))
}
