//! The configuration of one run: the file, then the flags on top, then the secrets from the
//! environment. Resolving is pure; every problem is collected and reported together.

pub mod cli;
pub mod env;
pub mod file;
mod heartbeats;
mod secrets;
pub mod surfaces;

pub use secrets::Secrets;

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::checks::heartbeat::HeartbeatSpec;
use crate::checks::heroku::HerokuAppSpec;
use crate::checks::pages::PagesSpec;
use crate::checks::probe::ProbeSpec;
use crate::checks::promotions::PromotionsSpec;
use crate::config::cli::Cli;
use file::{FileConfig, line_of};

/// The config file looked for in the working directory when `--config` is not given.
pub const DEFAULT_CONFIG: &str = "heartbeat-monitor.toml";
/// Where the result goes by default.
pub const DEFAULT_OUTPUT: &str = "heartbeat_result.json";
/// The subject prefix by default.
pub const DEFAULT_PREFIX: &str = "[Raxx ops]";
/// The SLA by default.
pub const DEFAULT_SLA_HOURS: f64 = 48.0;
/// What the old script checked when given only `--repo`; kept so its call works unchanged.
pub const LEGACY_WORKFLOWS: [&str; 2] = ["billing-retention-cron.yml", "trace-integrity-cron.yml"];
/// The variable that gates the whole monitor.
pub const GATE: &str = "FLAG_CRON_HEARTBEAT_MONITOR";

/// One problem with the configuration, and where it is.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{place}: {message}")]
pub struct ConfigError {
    /// `file line N`, `--flag` or `environment`.
    pub place: String,
    /// 1-based line in the file, 0 elsewhere (for ordering).
    pub line: usize,
    /// What is wrong and what to do.
    pub message: String,
}

impl ConfigError {
    fn at(place: &str, message: impl Into<String>) -> Self {
        Self {
            place: place.to_string(),
            line: 0,
            message: message.into(),
        }
    }
}

/// How mail leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Postmark's HTTP API, one batch request.
    Postmark,
    /// SMTP (`SMTP_URL`), one session.
    Smtp,
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
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            concurrency: 32,
            request_timeout: Duration::from_secs(15),
            deadline: Duration::from_secs(60),
        }
    }
}

/// Everything one run needs, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file read, if any.
    pub path: Option<PathBuf>,
    /// Prefix of every mail subject.
    pub subject_prefix: String,
    /// Linked from every mail.
    pub runbook_url: Option<String>,
    /// Where the result file goes.
    pub output_file: PathBuf,
    /// Print mails instead of sending them.
    pub dry_run: bool,
    /// Evaluate as if at this instant.
    pub now: Option<DateTime<Utc>>,
    /// The heartbeats, in configuration order.
    pub heartbeats: Vec<HeartbeatSpec>,
    /// The Heroku apps, in configuration order.
    pub heroku_apps: Vec<HerokuAppSpec>,
    /// The health probes, in configuration order.
    pub probes: Vec<ProbeSpec>,
    /// The Cloudflare Pages projects, in configuration order.
    pub pages: Vec<PagesSpec>,
    /// The stuck-promotion watchdog.
    pub promotions: Option<PromotionsSpec>,
    /// True when no heartbeat was configured and the old script's two were assumed.
    pub legacy_defaults: bool,
    /// How mail leaves.
    pub transport: Transport,
    /// The alert state file (`--state-file`).
    pub state_file: Option<PathBuf>,
    /// With a state file: how long before a still-failing check is mailed again.
    pub remind_after: chrono::Duration,
    /// Known problems not to mail about until a date.
    pub silences: Vec<crate::alerting::silence::Silence>,
    /// Run limits.
    pub run: RunSettings,
}

/// Applies the flags to the file. `file` is the path and text of the configuration file.
pub fn resolve(cli: &Cli, file: Option<(&str, &str)>) -> Result<Config, Vec<ConfigError>> {
    match file {
        Some((path, text)) => resolve_parsed(cli, &file::parse(text, path)?, Some((path, text))),
        None => resolve_parsed(cli, &FileConfig::default(), None),
    }
}

/// Applies the flags to a file already parsed from `file` (its path and text, for lines).
pub fn resolve_parsed(
    cli: &Cli,
    parsed: &FileConfig,
    file: Option<(&str, &str)>,
) -> Result<Config, Vec<ConfigError>> {
    let (path, text) = match file {
        Some((path, text)) => (Some(path), text),
        None => (None, ""),
    };
    let mut errors = Vec::new();
    let place = |line: usize| format!("{} line {line}", path.unwrap_or("config"));
    let err_at = |line: usize, message: String| ConfigError {
        place: place(line),
        line,
        message,
    };

    let (heartbeats, legacy_defaults) = heartbeats::resolve(cli, parsed, path, text, &mut errors);

    let lines = surfaces::Lines {
        text,
        path: path.unwrap_or("config"),
    };
    let heroku_apps = surfaces::heroku_apps(parsed, &cli.heroku_app, &lines, &mut errors);
    let probes = surfaces::probes(parsed, &lines, &mut errors);
    let pages = surfaces::pages(parsed, &lines, &mut errors);
    let promotions = surfaces::promotions(parsed, &lines, &mut errors);
    let nothing = heartbeats.is_empty()
        && heroku_apps.is_empty()
        && probes.is_empty()
        && pages.is_empty()
        && parsed.promotions.is_none();
    if nothing && errors.is_empty() {
        errors.push(ConfigError::at(
            path.unwrap_or("command line"),
            "nothing to check: add [[heartbeat]], [[heroku_app]], [[http_probe]], [[pages_project]] or [promotions], or give --repo",
        ));
    }

    let transport = match &parsed.mail.transport {
        None => Transport::Postmark,
        Some(v) if v.get_ref() == "postmark" => Transport::Postmark,
        Some(v) if v.get_ref() == "smtp" => Transport::Smtp,
        Some(v) => {
            errors.push(err_at(
                line_of(text, v),
                format!(
                    "transport must be \"postmark\" or \"smtp\", not \"{}\"",
                    v.get_ref()
                ),
            ));
            Transport::Postmark
        }
    };

    let remind_after = match &parsed.mail.remind_after_hours {
        Some(v) if !(v.get_ref().is_finite() && *v.get_ref() > 0.0) => {
            errors.push(err_at(
                line_of(text, v),
                format!(
                    "remind_after_hours must be a positive number, not {}",
                    v.get_ref()
                ),
            ));
            chrono::Duration::hours(24)
        }
        Some(v) => chrono::Duration::milliseconds((v.get_ref() * 3_600_000.0) as i64),
        None => chrono::Duration::hours(24),
    };
    let silences = parsed
        .silences
        .iter()
        .filter_map(|e| {
            let until = match e.until.get_ref() {
                toml::Value::String(s) => s.parse::<DateTime<Utc>>().ok(),
                toml::Value::Datetime(d) => d.to_string().parse::<DateTime<Utc>>().ok(),
                _ => None,
            };
            let Some(until) = until else {
                errors.push(err_at(
                    line_of(text, &e.until),
                    "until must be an RFC 3339 time with a zone, e.g. 2026-06-01T00:00:00Z".into(),
                ));
                return None;
            };
            if e.matches.get_ref().trim().is_empty() || e.reason.get_ref().trim().is_empty() {
                errors.push(err_at(
                    line_of(text, &e.matches),
                    "a silence needs a non-empty match and reason".into(),
                ));
                return None;
            }
            Some(crate::alerting::silence::Silence {
                matches: e.matches.get_ref().trim().to_string(),
                until,
                reason: e.reason.get_ref().trim().to_string(),
            })
        })
        .collect();

    let mut run = RunSettings::default();
    if let Some(v) = &parsed.run.concurrency {
        match usize::try_from(*v.get_ref()) {
            Ok(n) if (1..=64).contains(&n) => run.concurrency = n,
            _ => errors.push(err_at(
                line_of(text, v),
                format!("concurrency must be 1 to 64, not {}", v.get_ref()),
            )),
        }
    }
    for (value, slot, name) in [
        (
            &parsed.run.request_timeout_seconds,
            &mut run.request_timeout,
            "request_timeout_seconds",
        ),
        (
            &parsed.run.deadline_seconds,
            &mut run.deadline,
            "deadline_seconds",
        ),
    ] {
        if let Some(v) = value {
            let secs = *v.get_ref();
            if secs.is_finite() && secs > 0.0 && secs <= 3600.0 {
                *slot = Duration::from_secs_f64(secs);
            } else {
                errors.push(err_at(
                    line_of(text, v),
                    format!("{name} must be more than 0 and at most 3600, not {secs}"),
                ));
            }
        }
    }

    let runbook_url = parsed.runbook_url.as_ref().map(|v| v.get_ref().clone());
    if let (Some(url), Some(v)) = (&runbook_url, &parsed.runbook_url)
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        errors.push(err_at(
            line_of(text, v),
            format!("runbook_url must be an http(s) URL, not `{url}`"),
        ));
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Config {
        path: path.map(PathBuf::from),
        subject_prefix: parsed
            .subject_prefix
            .as_ref()
            .map(|v| v.get_ref().clone())
            .unwrap_or_else(|| DEFAULT_PREFIX.to_string()),
        runbook_url,
        output_file: output_file(cli, Some(parsed)),
        dry_run: cli.dry_run,
        now: cli.now,
        heartbeats,
        heroku_apps,
        probes,
        pages,
        promotions,
        legacy_defaults,
        transport,
        state_file: cli.state_file.clone(),
        remind_after,
        silences,
        run,
    })
}

/// Where the result goes: the flag, else the file's `output_file`, else the default.
pub fn output_file(cli: &Cli, file: Option<&FileConfig>) -> PathBuf {
    cli.output_file
        .clone()
        .or_else(|| {
            file.and_then(|f| f.output_file.as_ref())
                .map(|v| PathBuf::from(v.get_ref()))
        })
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUTPUT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env::Env;

    fn cli() -> Cli {
        Cli::default()
    }

    const FILE: &str = r#"
runbook_url = "https://example.invalid/runbook"
[github]
repo = "raxx-app/TradeMasterAPI"
[[heartbeat]]
workflow = "billing-retention-cron.yml"
[[heartbeat]]
workflow = "trace-integrity-cron.yml"
sla_hours = 24
name = "trace"
event = "schedule"
"#;

    #[test]
    fn file_alone() {
        let cfg = resolve(&cli(), Some(("m.toml", FILE))).unwrap();
        assert_eq!(cfg.heartbeats.len(), 2);
        assert_eq!(cfg.heartbeats[0].sla_hours, 48.0);
        assert_eq!(cfg.heartbeats[0].name, "billing-retention-cron");
        assert_eq!(cfg.heartbeats[1].sla_hours, 24.0);
        assert_eq!(cfg.heartbeats[1].name, "trace");
        assert_eq!(cfg.heartbeats[1].filter.event.as_deref(), Some("schedule"));
        assert_eq!(cfg.subject_prefix, "[Raxx ops]");
        assert_eq!(cfg.output_file, PathBuf::from("heartbeat_result.json"));
        assert!(!cfg.legacy_defaults);
    }

    #[test]
    fn flags_override_and_add() {
        let mut c = cli();
        c.sla_hours = Some(1.0);
        c.workflow = vec!["extra.yml".into()];
        c.repo = Some("o/r".into());
        c.output_file = Some("/tmp/x.json".into());
        let cfg = resolve(&c, Some(("m.toml", FILE))).unwrap();
        assert_eq!(cfg.heartbeats.len(), 3);
        assert!(cfg.heartbeats.iter().all(|h| h.sla_hours == 1.0));
        assert!(cfg.heartbeats.iter().all(|h| h.repo.to_string() == "o/r"));
        assert_eq!(cfg.heartbeats[2].workflow, "extra.yml");
        assert_eq!(cfg.output_file, PathBuf::from("/tmp/x.json"));
    }

    #[test]
    fn old_call_checks_the_old_two() {
        let mut c = cli();
        c.repo = Some("raxx-app/TradeMasterAPI".into());
        c.sla_hours = Some(1.0);
        let cfg = resolve(&c, None).unwrap();
        assert!(cfg.legacy_defaults);
        let names: Vec<_> = cfg.heartbeats.iter().map(|h| h.workflow.as_str()).collect();
        assert_eq!(names, LEGACY_WORKFLOWS);
    }

    #[test]
    fn value_errors_are_all_reported() {
        let text = r#"
[github]
repo = "not a repo"
[[heartbeat]]
workflow = "a.yml"
sla_hours = -3
[mail]
transport = "pigeon"
[run]
concurrency = 0
"#;
        let errs = resolve(&cli(), Some(("m.toml", text))).unwrap_err();
        let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert!(
            text.iter()
                .any(|e| e.starts_with("m.toml line 3: [github] repo")),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|e| e.starts_with("m.toml line 6: sla_hours must be")),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|e| e.starts_with("m.toml line 8: transport must be")),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|e| e.starts_with("m.toml line 10: concurrency")),
            "{text:#?}"
        );
    }

    #[test]
    fn nothing_to_check_is_an_error() {
        let errs = resolve(&cli(), None).unwrap_err();
        assert!(errs[0].message.contains("nothing to check"));
    }

    #[test]
    fn missing_secrets_are_listed_but_not_for_mail_in_a_dry_run() {
        let cfg = resolve(&cli(), Some(("m.toml", FILE))).unwrap();
        let none = Secrets::from_env(&cli(), &Env::default());
        assert_eq!(none.missing(&cfg).len(), 4);
        let mut dry = cfg.clone();
        dry.dry_run = true;
        assert_eq!(none.missing(&dry).len(), 1);
        let env = Env::from_pairs([
            ("GITHUB_TOKEN", "ghs_x"),
            ("POSTMARK_SERVER_TOKEN", "pm"),
            ("OPS_ALERT_EMAIL", "ops@raxx.app, sre@raxx.app"),
            ("OPS_ALERT_FROM", "Monitor <monitor@raxx.app>"),
        ]);
        let all = Secrets::from_env(&cli(), &env);
        assert!(all.missing(&cfg).is_empty(), "{:?}", all.missing(&cfg));
        assert_eq!(all.to, vec!["ops@raxx.app", "sre@raxx.app"]);
    }
}
