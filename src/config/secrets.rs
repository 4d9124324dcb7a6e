//! The secrets and endpoints of a run, from the environment: never from the file, never
//! printed. `missing` says, before any request, what a configuration needs and lacks.

use super::{Config, ConfigError, Transport};
use crate::checks::probe::{AccessToken, ProbeSpec};
use crate::config::cli::Cli;
use crate::config::env::Env;

/// The secrets and endpoints a run uses, from the environment (and `--gh-token`).
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// GitHub token.
    pub github_token: Option<String>,
    /// GitHub API base.
    pub github_api: String,
    /// Postmark server token.
    pub postmark_token: Option<String>,
    /// Postmark API base.
    pub postmark_api: String,
    /// Recipients.
    pub to: Vec<String>,
    /// Sender.
    pub from: Option<String>,
    /// Heroku API key.
    pub heroku_key: Option<String>,
    /// Heroku API base.
    pub heroku_api: String,
    /// Cloudflare Pages read token.
    pub cloudflare_token: Option<String>,
    /// Cloudflare account id.
    pub cloudflare_account: Option<String>,
    /// Cloudflare API base.
    pub cloudflare_api: String,
    /// CF Access service tokens by the variable that holds them, as found in the environment.
    pub access_tokens: std::collections::BTreeMap<String, Option<String>>,
    /// The promotions database URL, from the variable `[promotions]` names.
    pub database_url: Option<String>,
    /// `SMTP_URL`.
    pub smtp_url: Option<String>,
    /// `HEARTBEAT_MONITOR_PING_URL`: the dead man's switch.
    pub ping_url: Option<String>,
}

impl Secrets {
    /// Reads them; `--gh-token` wins over `GITHUB_TOKEN` because the old call passed it so.
    pub fn from_env(cli: &Cli, env: &Env) -> Self {
        Self {
            github_token: cli
                .gh_token
                .clone()
                .filter(|t| !t.trim().is_empty())
                .or_else(|| env.get("GITHUB_TOKEN").map(String::from)),
            github_api: env.get_or("GITHUB_API_URL", "https://api.github.com"),
            postmark_token: env.get("POSTMARK_SERVER_TOKEN").map(String::from),
            postmark_api: env.get_or("POSTMARK_API_URL", "https://api.postmarkapp.com"),
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
            heroku_key: env.get("HEROKU_API_KEY").map(String::from),
            heroku_api: env.get_or("HEROKU_API_URL", "https://api.heroku.com"),
            cloudflare_token: env.get("CLOUDFLARE_PAGES_READ_TOKEN").map(String::from),
            cloudflare_account: env.get("CLOUDFLARE_ACCOUNT_ID").map(String::from),
            cloudflare_api: env
                .get_or("CLOUDFLARE_API_URL", "https://api.cloudflare.com/client/v4"),
            access_tokens: Default::default(),
            database_url: None,
            smtp_url: env.get("SMTP_URL").map(String::from),
            ping_url: env
                .get("HEARTBEAT_MONITOR_PING_URL")
                .map(|u| u.trim_end_matches('/').to_string()),
        }
    }

    /// Reads the secrets whose variables the configuration names: the probes' service
    /// tokens and the promotions database URL.
    pub fn read_named(&mut self, cfg: &Config, env: &Env) {
        if let Some(p) = &cfg.promotions {
            self.database_url = env.get(&p.database_url_env).map(String::from);
        }
        for p in &cfg.probes {
            if let Some(var) = &p.token_env {
                self.access_tokens
                    .insert(var.clone(), env.get(var).map(String::from));
            }
        }
    }

    /// The service token of a probe, when it names one and it is set and well formed.
    pub fn access_token(&self, probe: &ProbeSpec) -> Option<AccessToken> {
        let var = probe.token_env.as_ref()?;
        AccessToken::parse(self.access_tokens.get(var)?.as_deref()?)
    }

    /// Every secret value, for the redactor (each half of a service token too).
    pub fn values(&self) -> Vec<&str> {
        let mut out: Vec<&str> = [
            self.github_token.as_deref(),
            self.postmark_token.as_deref(),
            self.heroku_key.as_deref(),
            self.cloudflare_token.as_deref(),
            self.cloudflare_account.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        for url in [&self.database_url, &self.smtp_url, &self.ping_url]
            .into_iter()
            .flatten()
        {
            out.push(url);
            // The password alone, wherever a driver might echo it.
            if let Some(pw) = url
                .split_once("://")
                .and_then(|(_, r)| r.split_once('@'))
                .and_then(|(userinfo, _)| userinfo.split_once(':'))
                .map(|(_, pw)| pw)
            {
                out.push(pw);
            }
        }
        for v in self.access_tokens.values().flatten() {
            out.push(v);
            if let Some((id, secret)) = v.split_once(':') {
                out.extend([id, secret]);
            }
        }
        out
    }

    /// What is missing for `cfg` to run; mail secrets are not needed for a dry run.
    pub fn missing(&self, cfg: &Config) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        let env = "environment";
        if !cfg.heartbeats.is_empty() && self.github_token.is_none() {
            errors.push(ConfigError::at(
                env,
                "GITHUB_TOKEN is not set (nor --gh-token): the heartbeats need a token with actions: read",
            ));
        }
        if !cfg.heroku_apps.is_empty() && self.heroku_key.is_none() {
            errors.push(ConfigError::at(
                env,
                "HEROKU_API_KEY is not set: the Heroku checks need it",
            ));
        }
        if !cfg.pages.is_empty() {
            for (var, v) in [
                ("CLOUDFLARE_PAGES_READ_TOKEN", &self.cloudflare_token),
                ("CLOUDFLARE_ACCOUNT_ID", &self.cloudflare_account),
            ] {
                if v.is_none() {
                    errors.push(ConfigError::at(
                        env,
                        format!("{var} is not set: the Pages checks need it"),
                    ));
                }
            }
        }
        for p in &cfg.probes {
            let Some(var) = &p.token_env else { continue };
            match self.access_tokens.get(var) {
                Some(Some(v)) if AccessToken::parse(v).is_some() => {}
                Some(Some(_)) => errors.push(ConfigError::at(
                    env,
                    format!("{var} (probe {}) must be client_id:client_secret", p.name),
                )),
                _ => errors.push(ConfigError::at(
                    env,
                    format!(
                        "{var} is not set: probe {} needs its CF Access service token",
                        p.name
                    ),
                )),
            }
        }
        if !cfg.dry_run {
            match cfg.transport {
                Transport::Postmark if self.postmark_token.is_none() => {
                    errors.push(ConfigError::at(
                        env,
                        "POSTMARK_SERVER_TOKEN is not set: alerts could not be mailed",
                    ))
                }
                Transport::Smtp if self.smtp_url.is_none() => errors.push(ConfigError::at(
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
        if cfg.transport == Transport::Smtp
            && let Some(url) = &self.smtp_url
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
