//! The configuration of one run: the file, then the flags on top, then the secrets from the
//! environment. Generic: the run settings live here, and each check kind reads its own
//! section through `Configure` (see `checks::KINDS`). Every problem is collected with its
//! place and reported together.

pub mod cli;
pub mod env;
pub mod file;
mod secrets;

pub use crate::model::ConfigError;
pub use secrets::{APP_KEY, Need, Secrets, Shape};

use std::path::PathBuf;
use std::time::Duration;

use crate::clients::github::Repo;
use crate::clients::github::app::AppId;
use cli::Cli;
use file::{Document, Section, Table};

/// The config file looked for in the working directory when `--config` is not given.
pub const DEFAULT_CONFIG: &str = "heartbeat-monitor.toml";
/// Where the result goes by default.
pub const DEFAULT_OUTPUT: &str = "heartbeat_result.json";
/// The subject prefix by default.
pub const DEFAULT_PREFIX: &str = "[heartbeat-monitor]";
/// The largest configuration file read: far more than any real one.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// The variable that gates the whole monitor.
pub const GATE: &str = "FLAG_CRON_HEARTBEAT_MONITOR";

/// `[github]`: what every GitHub check shares.
pub const GITHUB: Section = Section::table("github");
/// `[run]`.
pub const RUN: Section = Section::table("run");
/// `[[silence]]`.
pub const SILENCE: Section = Section::array("silence");

/// How mail leaves (`[mail] transport`, read by the mail channel's kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Postmark's HTTP API, one batch request.
    Postmark,
    /// SMTP (`SMTP_URL`), one session.
    Smtp,
}

impl Transport {
    /// Its name in outputs: the `channel` of a notification.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Postmark => "postmark",
            Transport::Smtp => "smtp",
        }
    }
}

/// Limits of the run itself.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSettings {
    /// Checks running at once.
    pub concurrency: usize,
    /// Bound on one HTTP request.
    pub request_timeout: Duration,
    /// Bound on all checks together.
    pub deadline: Duration,
    /// Bound on all delivery of a run, after the checks.
    pub mail_budget: Duration,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            concurrency: 32,
            request_timeout: Duration::from_secs(15),
            deadline: Duration::from_secs(60),
            mail_budget: Duration::from_secs(20),
        }
    }
}

/// What a check kind reads its targets from: the file's sections, the flags, the shared
/// GitHub settings, and what the kinds before it left.
pub struct Configure<'a> {
    /// The command line.
    pub cli: &'a Cli,
    /// The file (empty when there is none).
    pub doc: &'a Document<'a>,
    /// The default repository: `--repo`, else `[github] repo`.
    pub repo: Option<Repo>,
    /// Only a repository was given (the old script's call): nothing else names a check.
    pub only_repo: bool,
    /// Notes for the run to print.
    pub notes: Vec<String>,
}

impl Configure<'_> {
    /// The tables of `section` (one per entry of `[[name]]`).
    pub fn tables(&self, section: Section) -> Vec<Table<'_>> {
        self.doc.tables(section)
    }

    /// Records a problem of a place outside the file (`--workflow`, the environment).
    pub fn error(&self, place: &str, message: impl Into<String>) {
        self.doc.source.push(ConfigError::at(place, message));
    }

    /// Records a problem at a line of the file.
    pub fn error_at(&self, line: usize, message: impl Into<String>) {
        self.doc.source.error(line, message);
    }

    /// The repository of an entry: its own `repo` key, else the default (`--repo`, `[github]
    /// repo`). A malformed or missing one is reported, naming `what` the entry is.
    pub fn repo_of(&self, t: &Table, own: Option<file::Value<String>>, what: &str) -> Option<Repo> {
        match own {
            Some(v) => Repo::parse(&v.value).or_else(|| {
                t.error(v.line, format!("repo `{}` is not OWNER/NAME", v.value));
                None
            }),
            None => self.repo.clone().or_else(|| {
                t.error(
                    t.line(),
                    format!(
                        "{what} has no repository: set [github] repo, repo in the entry, or --repo"
                    ),
                );
                None
            }),
        }
    }

    /// The file's name in messages about it as a whole.
    pub fn file_name(&self) -> Option<&str> {
        self.doc.exists().then_some(self.doc.source.path)
    }

    /// Reports each key that `key` gives twice.
    pub fn dedupe<T>(&self, items: &[T], key: impl Fn(&T) -> String, what: &str) {
        let mut seen = std::collections::HashSet::new();
        for item in items {
            let k = key(item);
            if !seen.insert(k.clone()) {
                self.error(what, format!("{what} `{k}` is configured twice"));
            }
        }
    }
}

/// Whether `s` can name an environment variable.
pub fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `--repo`, else `[github] repo`; a malformed one is reported.
pub fn default_repo(cli: &Cli, doc: &Document) -> Option<Repo> {
    let from_file = doc
        .tables(GITHUB)
        .into_iter()
        .next()
        .and_then(|g| g.string("repo"));
    match (&cli.repo, from_file) {
        (Some(flag), _) => Repo::parse(flag).or_else(|| {
            doc.source.push(ConfigError::at(
                "--repo",
                format!("`{flag}` is not OWNER/NAME"),
            ));
            None
        }),
        (None, Some(v)) => Repo::parse(&v.value).or_else(|| {
            doc.source.error(
                v.line,
                format!("[github] repo `{}` is not OWNER/NAME", v.value),
            );
            None
        }),
        (None, None) => None,
    }
}

/// `[github] app_client_id` or `app_id`: the GitHub App to read GitHub as, with the key
/// that names it in messages. Both, or a malformed one, are reported.
pub fn github_app(doc: &Document) -> Option<(AppId, &'static str)> {
    let gh = doc.tables(GITHUB).into_iter().next()?;
    let client_id = gh.string("app_client_id");
    let app_id = gh.integer("app_id");
    let client_id = client_id.and_then(|v| {
        let id = v.value.trim();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') {
            gh.error(
                v.line,
                format!(
                    "[github] app_client_id `{}` is not a GitHub App's client ID (like Iv23li…, on the App's settings page)",
                    v.value
                ),
            );
            return None;
        }
        Some(id.to_string())
    });
    let app_id = app_id.and_then(|v| match u64::try_from(v.value) {
        Ok(n) if n > 0 => Some(n),
        _ => {
            gh.error(
                v.line,
                format!(
                    "[github] app_id must be the App's positive numeric ID, not {}",
                    v.value
                ),
            );
            None
        }
    });
    match (client_id, app_id) {
        (Some(_), Some(_)) => {
            gh.error(
                gh.line(),
                "[github] gives both app_client_id and app_id: keep one (the client ID is GitHub's advice)",
            );
            None
        }
        (Some(id), None) => Some((AppId::ClientId(id), "app_client_id")),
        (None, Some(n)) => Some((AppId::Numeric(n), "app_id")),
        (None, None) => None,
    }
}

/// `[run]`.
pub fn run_settings(doc: &Document) -> RunSettings {
    let mut run = RunSettings::default();
    let Some(t) = doc.tables(RUN).into_iter().next() else {
        return run;
    };
    run.concurrency = t.int_in("concurrency", 1..=64, run.concurrency);
    for (name, slot) in [
        ("request_timeout_seconds", &mut run.request_timeout),
        ("deadline_seconds", &mut run.deadline),
        ("mail_budget_seconds", &mut run.mail_budget),
    ] {
        if let Some(v) = t.number(name) {
            if v.value.is_finite() && v.value > 0.0 && v.value <= 3600.0 {
                *slot = Duration::from_secs_f64(v.value);
            } else {
                t.error(
                    v.line,
                    format!(
                        "{name} must be more than 0 and at most 3600, not {}",
                        v.value
                    ),
                );
            }
        }
    }
    run
}

/// Where the result goes: the flag, else the file's `output_file`, else the default.
pub fn output_file(cli: &Cli, file: Option<file::Value<String>>) -> PathBuf {
    cli.output_file
        .clone()
        .or_else(|| file.map(|v| PathBuf::from(v.value)))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUTPUT))
}
