//! The configuration of one run: the file, then the flags on top, then the secrets from the
//! environment. Generic: the run settings live here, and each check kind reads its own
//! section through `Configure` (see `checks::KINDS`). Every problem is collected with its
//! place and reported together.

pub mod cli;
pub mod env;
pub mod file;
mod secrets;

pub use secrets::{Need, Secrets, Shape};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::alerting::silence::Silence;
use crate::checks::{KINDS, Watch};
use crate::clients::github::Repo;
use crate::util::time::Hours;
use cli::Cli;
use file::{Document, Section, Source, Table};

/// The config file looked for in the working directory when `--config` is not given.
pub const DEFAULT_CONFIG: &str = "heartbeat-monitor.toml";
/// Where the result goes by default.
pub const DEFAULT_OUTPUT: &str = "heartbeat_result.json";
/// The subject prefix by default.
pub const DEFAULT_PREFIX: &str = "[heartbeat-monitor]";
/// The largest configuration file read: far more than any real one.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// The variable that gates the whole monitor.
pub const GATE: &str = "FLAG_CRON_HEARTBEAT_MONITOR";

/// `[github]`: what every GitHub check shares.
pub const GITHUB: Section = Section::table("github");
const MAIL: Section = Section::table("mail");
const RUN: Section = Section::table("run");
const SILENCE: Section = Section::array("silence");

/// One problem with the configuration, and where it is.
#[derive(Debug, Clone, Error, PartialEq, Eq, Hash)]
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
    /// A problem of a place outside the file: a flag, the environment.
    pub fn at(place: &str, message: impl Into<String>) -> Self {
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

/// Everything one run needs, resolved.
#[derive(Debug, Clone)]
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
    /// Every target of every kind, in registry then configuration order.
    pub watches: Vec<Arc<dyn Watch>>,
    /// Things the kinds want said before the run (an assumed default, say).
    pub notes: Vec<String>,
    /// How mail leaves.
    pub transport: Transport,
    /// The alert state file (`--state-file`).
    pub state_file: Option<PathBuf>,
    /// With a state file: how long before a still-failing check is mailed again.
    pub remind_after: chrono::Duration,
    /// Known problems not to mail about until a date.
    pub silences: Vec<Silence>,
    /// Run limits.
    pub run: RunSettings,
    /// The channels beside mail (`[slack]`, `[webhook]`, …).
    pub channels: Vec<std::sync::Arc<dyn crate::alerting::channel::Channel>>,
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
    /// Repositories whose workflows are watched, for the kinds that follow (`repo_activity`).
    pub github_repos: Vec<Repo>,
    /// Whether any kind so far reads GitHub (`github_token` watches the token then).
    pub uses_github: bool,
    /// Heroku apps whose slug is checked (`deploy_drift` leaves a never-deployed app's mail
    /// to that clearer check).
    pub slug_watched: Vec<String>,
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

/// Reads the configuration file of `cli` (the flag, else `heartbeat-monitor.toml` when it
/// exists) and resolves it. The result file's path is known even when the rest is wrong, so
/// the result lands where the user expects it.
pub fn load(cli: &Cli) -> (PathBuf, Result<Config, Vec<ConfigError>>) {
    let path = match &cli.config {
        Some(p) => Some(p.clone()),
        None => Some(PathBuf::from(DEFAULT_CONFIG)).filter(|p| p.exists()),
    };
    let Some(path) = path else {
        return resolve(cli, &Document::empty());
    };
    let shown = path.display().to_string();
    match crate::util::fs::read_regular(&path, MAX_CONFIG_BYTES) {
        Ok(text) => resolve(cli, &Document::parse(Source::new(&shown, &text))),
        Err(e) => (
            output_file(cli, None),
            Err(vec![ConfigError::at(
                &shown,
                format!("cannot read the configuration file: {e}"),
            )]),
        ),
    }
}

/// Resolves a file given as its path and text (tests, fuzzing).
pub fn resolve_text(cli: &Cli, file: Option<(&str, &str)>) -> Result<Config, Vec<ConfigError>> {
    match file {
        Some((path, text)) => resolve(cli, &Document::parse(Source::new(path, text))).1,
        None => resolve(cli, &Document::empty()).1,
    }
}

/// Applies the flags to the file, lets every kind read its targets, and collects every
/// problem. Returns the result file's path whatever else is wrong.
pub fn resolve(cli: &Cli, doc: &Document) -> (PathBuf, Result<Config, Vec<ConfigError>>) {
    let root = doc.root();
    let subject_prefix = root.and_then(|r| r.string("subject_prefix"));
    let runbook_url = root.and_then(|r| r.string("runbook_url"));
    let output = output_file(cli, root.and_then(|r| r.string("output_file")));
    let repo = default_repo(cli, doc);
    // Kinds may share a section (`[[heroku_app]]`): each is listed once.
    let mut kind_sections: Vec<Section> = Vec::new();
    for s in KINDS.iter().flat_map(|k| k.sections()) {
        if !kind_sections.contains(s) {
            kind_sections.push(*s);
        }
    }
    let only_repo = repo.is_some()
        && !kind_sections.iter().any(|s| doc.has(s.key))
        && cli.workflow.is_empty()
        && cli.heroku_app.is_empty();
    let mut configure = Configure {
        cli,
        doc,
        repo,
        only_repo,
        github_repos: Vec::new(),
        uses_github: false,
        slug_watched: Vec::new(),
        notes: Vec::new(),
    };
    let watches: Vec<Arc<dyn Watch>> = KINDS
        .iter()
        .flat_map(|k| k.configure(&mut configure))
        .collect();
    let src = &doc.source;
    // A name on the command line reaches subjects and rows as one from the file does.
    for (flag, values) in [
        ("--repo", cli.repo.as_slice()),
        ("--workflow", &cli.workflow[..]),
        ("--heroku-app", &cli.heroku_app[..]),
    ] {
        if values.iter().any(|v| v.chars().any(char::is_control)) {
            src.push(ConfigError::at(
                "command line",
                format!("{flag} holds a control character (a line break?): give it on one line"),
            ));
        }
    }
    if watches.is_empty() && !src.has_errors() {
        let mut written: Vec<String> = kind_sections.iter().map(Section::written).collect();
        let last = written.pop().unwrap_or_default();
        src.push(ConfigError::at(
            if doc.exists() {
                src.path
            } else {
                "command line"
            },
            format!(
                "nothing to check: add {} or {last}, or give --repo",
                written.join(", ")
            ),
        ));
    }

    let mail = doc.tables(MAIL).into_iter().next();
    let transport = match mail.and_then(|m| m.string("transport")) {
        None => Transport::Postmark,
        Some(v) if v.value == "postmark" => Transport::Postmark,
        Some(v) if v.value == "smtp" => Transport::Smtp,
        Some(v) => {
            src.error(
                v.line,
                format!(
                    "transport must be \"postmark\" or \"smtp\", not \"{}\"",
                    v.value
                ),
            );
            Transport::Postmark
        }
    };
    let remind_after =
        Hours(mail.map_or(24.0, |m| m.positive("remind_after_hours", 24.0))).duration();
    let silences = silences(doc);
    let run = run_settings(doc);
    let channels = crate::alerting::channel::configure(doc);
    if let Some(v) = &runbook_url
        && !(v.value.starts_with("https://") || v.value.starts_with("http://"))
    {
        src.error(
            v.line,
            format!("runbook_url must be an http(s) URL, not `{}`", v.value),
        );
    }

    let mut all: Vec<Section> = vec![GITHUB];
    all.extend(kind_sections.iter().copied());
    all.extend([SILENCE, MAIL, RUN]);
    all.extend(crate::alerting::channel::sections());
    doc.check_shapes(&all);
    let expected: Vec<String> = ["subject_prefix", "runbook_url", "output_file"]
        .into_iter()
        .map(String::from)
        .chain(all.iter().map(Section::written))
        .collect();
    doc.check_unknown(&expected.join(", "));

    let mut errors = src.take_errors();
    if !errors.is_empty() {
        // File problems in line order, then those of flags and the environment.
        errors.sort_by_key(|e| (e.line == 0, e.line));
        return (output, Err(errors));
    }
    let config = Config {
        path: doc.exists().then(|| PathBuf::from(src.path)),
        subject_prefix: subject_prefix
            .map(|v| v.value)
            .unwrap_or_else(|| DEFAULT_PREFIX.to_string()),
        runbook_url: runbook_url.map(|v| v.value),
        output_file: output.clone(),
        dry_run: cli.dry_run,
        now: cli.now,
        watches,
        notes: configure.notes,
        transport,
        state_file: cli.state_file.clone(),
        remind_after,
        silences,
        run,
        channels,
    };
    (output, Ok(config))
}

/// Whether `s` can name an environment variable.
pub fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `--repo`, else `[github] repo`; a malformed one is reported.
fn default_repo(cli: &Cli, doc: &Document) -> Option<Repo> {
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

/// The `[[silence]]` entries.
fn silences(doc: &Document) -> Vec<Silence> {
    doc.tables(SILENCE)
        .iter()
        .filter_map(|t| {
            let matches = t.required_string("match");
            let until = t.instant("until");
            let reason = t.required_string("reason");
            if until.is_none() && matches.is_some() && reason.is_some() {
                t.error(t.line(), "missing `until` in [[silence]]");
            }
            let (matches, until, reason) = (matches?, until?, reason?);
            let Ok(at) = until.value.parse::<DateTime<Utc>>() else {
                t.error(
                    until.line,
                    "until must be an RFC 3339 time with a zone, e.g. 2026-06-01T00:00:00Z",
                );
                return None;
            };
            if matches.value.trim().is_empty() || reason.value.trim().is_empty() {
                t.error(matches.line, "a silence needs a non-empty match and reason");
                return None;
            }
            Some(Silence {
                matches: matches.value.trim().to_string(),
                until: at,
                reason: reason.value.trim().to_string(),
            })
        })
        .collect()
}

/// `[run]`.
fn run_settings(doc: &Document) -> RunSettings {
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
fn output_file(cli: &Cli, file: Option<file::Value<String>>) -> PathBuf {
    cli.output_file
        .clone()
        .or_else(|| file.map(|v| PathBuf::from(v.value)))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUTPUT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::cron_heartbeat::LEGACY_WORKFLOWS;
    use env::Env;

    fn cli() -> Cli {
        Cli::default()
    }

    fn resolve(cli: &Cli, file: Option<(&str, &str)>) -> Result<Config, Vec<ConfigError>> {
        resolve_text(cli, file)
    }

    /// Each target as `--check-config` lists it, with its name in mail subjects.
    fn targets(cfg: &Config) -> Vec<(String, String)> {
        cfg.watches
            .iter()
            .flat_map(|w| {
                let names: Vec<String> =
                    w.identities().into_iter().map(|i| i.subject_name).collect();
                w.describe().into_iter().zip(names)
            })
            .collect()
    }

    #[test]
    fn a_flag_holding_a_line_break_is_refused() {
        let cli = Cli {
            repo: Some("raxx-app/TradeMasterAPI".into()),
            workflow: vec!["nightly.yml\nBcc: x".into()],
            ..Cli::default()
        };
        let errors = resolve(&cli, None).unwrap_err();
        assert!(
            errors.iter().any(|e| e.to_string()
                == "command line: --workflow holds a control character (a line break?): give it on one line"),
            "{errors:?}"
        );
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
        let t = targets(&cfg);
        assert_eq!(t.len(), 3, "two heartbeats and their repository: {t:#?}");
        assert_eq!(
            t[0],
            (
                "cron_heartbeat:raxx-app/TradeMasterAPI:billing-retention-cron.yml  (its schedule: warning at 1 missed run, critical at 2, 60 min grace; SLA 48 h if unreadable)"
                    .into(),
                "billing-retention-cron".into()
            )
        );
        assert_eq!(
            t[1],
            (
                "cron_heartbeat:raxx-app/TradeMasterAPI:trace-integrity-cron.yml  (SLA 24 h, event schedule)".into(),
                "trace".into()
            )
        );
        assert_eq!(cfg.subject_prefix, "[heartbeat-monitor]");
        assert_eq!(cfg.output_file, PathBuf::from("heartbeat_result.json"));
        assert!(cfg.notes.is_empty(), "not the old call");
    }

    #[test]
    fn flags_override_and_add() {
        let mut c = cli();
        c.sla_hours = Some(1.0);
        c.workflow = vec!["extra.yml".into()];
        c.repo = Some("o/r".into());
        c.output_file = Some("/tmp/x.json".into());
        let cfg = resolve(&c, Some(("m.toml", FILE))).unwrap();
        let t: Vec<String> = targets(&cfg).into_iter().map(|(d, _)| d).collect();
        assert_eq!(t.len(), 4, "{t:#?}");
        assert!(
            t[..3]
                .iter()
                .all(|d| d.starts_with("cron_heartbeat:o/r:") && d.contains("(SLA 1 h")),
            "{t:#?}"
        );
        assert!(t[2].starts_with("cron_heartbeat:o/r:extra.yml"), "{t:#?}");
        assert_eq!(cfg.output_file, PathBuf::from("/tmp/x.json"));
    }

    #[test]
    fn the_old_call_discovers_every_scheduled_workflow() {
        let mut c = cli();
        c.repo = Some("raxx-app/TradeMasterAPI".into());
        let cfg = resolve(&c, None).unwrap();
        assert!(
            cfg.notes[0].contains("watching every scheduled workflow"),
            "{:?}",
            cfg.notes
        );
        let names: Vec<String> = targets(&cfg).into_iter().map(|(d, _)| d).collect();
        assert!(
            names[0]
                .starts_with("cron_heartbeat:raxx-app/TradeMasterAPI:*  (every scheduled workflow"),
            "{names:#?}"
        );
    }

    #[test]
    fn discover_false_keeps_the_old_calls_two() {
        let mut c = cli();
        c.repo = Some("raxx-app/TradeMasterAPI".into());
        c.sla_hours = Some(1.0);
        let cfg = resolve(&c, Some(("m.toml", "[github]\ndiscover = false\n"))).unwrap();
        assert_eq!(cfg.notes.len(), 1, "the old call is said");
        let names: Vec<String> = targets(&cfg).into_iter().map(|(d, _)| d).collect();
        assert_eq!(
            names[..2],
            LEGACY_WORKFLOWS
                .map(|w| format!("cron_heartbeat:raxx-app/TradeMasterAPI:{w}  (SLA 1 h)"))
        );
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
    fn every_error_is_reported_with_its_line() {
        let errs = resolve(
            &cli(),
            Some((
                "x.toml",
                r#"subject_prefx = "x"
[github]
repo = "o/r"
[[heartbeat]]
workflow = "a.yml"
sla_hour = 24
[[heartbeat]]
workflow = "b.yml"
sla_hours = "soon"
[heroku]
name = "x"
"#,
            )),
        )
        .unwrap_err();
        let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(errs.len(), 4, "{text:#?}");
        assert!(
            text[0].starts_with("x.toml line 1: unknown key `subject_prefx`"),
            "{text:#?}"
        );
        assert!(
            text[1].starts_with("x.toml line 6: unknown field `sla_hour`"),
            "{text:#?}"
        );
        assert!(text[2].starts_with("x.toml line 9: "), "{text:#?}");
        assert!(text[3].contains("unknown key `heroku`"), "{text:#?}");
    }

    #[test]
    fn nothing_to_check_is_an_error() {
        let errs = resolve(&cli(), None).unwrap_err();
        assert!(
            errs[0]
                .message
                .starts_with("nothing to check: add [[heartbeat]], ")
        );
        for section in KINDS.iter().flat_map(|k| k.sections()) {
            assert!(errs[0].message.contains(&section.written()), "{}", errs[0]);
        }
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
