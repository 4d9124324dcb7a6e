//! The composition root: the one place that knows every check kind and every channel. It
//! reads the file through `config`'s generic parts, lets each kind in `checks::KINDS` and each
//! channel configure itself, and assembles the run's `Config`. Nothing imports it but `run`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::alerting::channel::{self, Channel};
use crate::alerting::mail;
use crate::alerting::silence::Silence;
use crate::checks::{KINDS, Watch};
use crate::clients::github::app::AppId;
use crate::config::cli::{Cli, Shard};
use crate::config::file::{Document, Section, Source};
use crate::config::{
    ConfigError, Configure, DEFAULT_CONFIG, DEFAULT_PREFIX, GATE, GITHUB, MAX_CONFIG_BYTES, Need,
    RUN, RunSettings, SILENCE, Secrets, Transport, default_repo, github_app, output_file,
    run_settings,
};
use crate::util::time::{Hours, rfc3339};

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
    /// The alert state file (`--state-file`).
    pub state_file: Option<PathBuf>,
    /// With a state file: how long before a still-failing check is mailed again.
    pub remind_after: chrono::Duration,
    /// Known problems not to mail about until a date.
    pub silences: Vec<Silence>,
    /// Run limits.
    pub run: RunSettings,
    /// Every channel, mail first (`[mail]`, `[slack]`, `[webhook]`, …).
    pub channels: Vec<Arc<dyn Channel>>,
    /// The GitHub App GitHub is read as (`[github] app_client_id` or `app_id`), and which
    /// of the two keys named it.
    pub github_app: Option<(AppId, &'static str)>,
    /// `--shard`: the shard run, and how many targets all shards hold.
    pub shard: Option<(Shard, usize)>,
}

impl Config {
    /// What alerting reads of it.
    pub fn alerting(&self) -> crate::alerting::Settings<'_> {
        crate::alerting::Settings {
            prefix: &self.subject_prefix,
            runbook_url: self.runbook_url.as_deref(),
            state_file: self.state_file.as_deref(),
            remind_after: self.remind_after,
            silences: &self.silences,
            run: &self.run,
            channels: &self.channels,
        }
    }
}

impl Config {
    /// How mail leaves: its channel says.
    pub fn transport(&self) -> Transport {
        mail::transport(&self.channels)
    }

    /// Every secret the targets and the channels name, the GitHub App's key among them.
    pub fn needs(&self) -> Vec<Need> {
        let channels = self.channels.iter().flat_map(|c| c.needs());
        let all = self.watches.iter().flat_map(|w| w.needs()).chain(channels);
        self.with_app(all.collect())
    }

    /// What is missing for the run; a dry run sends nothing, so the channels' secrets are not
    /// needed for it.
    pub fn missing(&self, secrets: &Secrets) -> Vec<ConfigError> {
        let channels = self.channels.iter().filter(|_| !self.dry_run);
        let needs = self
            .watches
            .iter()
            .flat_map(|w| w.needs())
            .chain(channels.flat_map(|c| c.needs()));
        secrets.missing(
            self.with_app(needs.collect()),
            self.dry_run,
            self.transport(),
        )
    }

    /// `needs` as the run reads GitHub: with a GitHub App, its key instead of `GITHUB_TOKEN`.
    fn with_app(&self, needs: Vec<Need>) -> Vec<Need> {
        let Some((id, setting)) = &self.github_app else {
            return needs;
        };
        let reads_github = needs.iter().any(|n| n.var == "GITHUB_TOKEN");
        let mut needs: Vec<Need> = needs
            .into_iter()
            .filter(|n| n.var != "GITHUB_TOKEN")
            .collect();
        if reads_github {
            needs.push(Need::github_app(id.clone(), setting));
        }
        needs
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
        notes: Vec::new(),
    };
    // Two passes: every kind configures its own targets, then the targets that follow from
    // the others are derived. Each kind's stay in its place in the registry.
    let first: Vec<Vec<Arc<dyn Watch>>> =
        KINDS.iter().map(|k| k.configure(&mut configure)).collect();
    let all: Vec<Arc<dyn Watch>> = first.iter().flatten().cloned().collect();
    all.iter().for_each(|w| w.settle(&all));
    let watches: Vec<Arc<dyn Watch>> = KINDS
        .iter()
        .zip(first)
        .flat_map(|(k, mut own)| {
            own.extend(k.derive(&configure, &all));
            own
        })
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

    // A shard keeps the targets whose key hashes to it; derived targets were derived from
    // all, so each follows its own key (a repository's activity goes with its heartbeats).
    let all_targets = watches.len();
    let watches: Vec<Arc<dyn Watch>> = match cli.shard {
        Some(shard) => watches
            .into_iter()
            .filter(|w| shard.keeps(&w.shard_key()))
            .collect(),
        None => watches,
    };

    let silences = silences(doc);
    let run = run_settings(doc);
    let github_app = github_app(doc);
    // Mail's kind reads its `transport` first: `[mail]` lists its keys in that order.
    let channels = channel::configure(doc, &channel::Context { run: &run });
    let mail = doc.tables(mail::SECTION).into_iter().next();
    let remind_after =
        Hours(mail.map_or(24.0, |m| m.positive("remind_after_hours", 24.0))).duration();
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
    // The file's own sections, mail's (always there) among them, then those adding a channel.
    all.push(SILENCE);
    all.extend(channel::sections(true));
    all.push(RUN);
    all.extend(channel::sections(false));
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
        state_file: cli.state_file.clone(),
        remind_after,
        silences,
        run,
        channels,
        github_app,
        shard: cli.shard.map(|s| (s, all_targets)),
    };
    (output, Ok(config))
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

/// `--check-config`'s summary of a configuration that is ok.
pub fn check_config(cfg: &Config, secrets: &Secrets, gate_on: bool) -> String {
    let source = cfg
        .path
        .as_ref()
        .map_or("command line only".into(), |p| p.display().to_string());
    let mut text = format!("configuration ok ({source})\n");
    let lines: Vec<String> = cfg.watches.iter().flat_map(|w| w.describe()).collect();
    if let Some((shard, all)) = cfg.shard {
        let _ = writeln!(
            text,
            "shard {shard}: {} of the {all} target(s) of all shards",
            cfg.watches.len()
        );
    }
    if gate_on {
        let _ = writeln!(text, "gate {GATE}: on");
        let _ = writeln!(text, "would run {} check(s):", lines.len());
    } else {
        let _ = writeln!(
            text,
            "gate {GATE}: OFF. A real run now would check NOTHING: it would report \
             `disabled` and exit 0. Set {GATE}=1 to turn the monitor on."
        );
        let _ = writeln!(
            text,
            "with the gate on, it would run {} check(s):",
            lines.len()
        );
    }
    for line in &lines {
        let _ = writeln!(text, "  {line}");
    }
    let _ = writeln!(
        text,
        "mail: {} to {} ({}), subjects prefixed {:?}{}",
        cfg.transport().as_str(),
        if secrets.to.is_empty() {
            "nobody".into()
        } else {
            secrets.to.join(", ")
        },
        if cfg.dry_run {
            "dry run: printed only"
        } else {
            "sent"
        },
        cfg.subject_prefix,
        cfg.state_file
            .as_ref()
            .map(|p| format!(", alert state in {}", p.display()))
            .unwrap_or_default()
    );
    for s in &cfg.silences {
        let _ = writeln!(
            text,
            "silence: {} until {} ({})",
            s.matches,
            rfc3339(s.until),
            s.reason
        );
    }
    if let Some(line) = github_reads(cfg, secrets) {
        let _ = writeln!(text, "{line}");
    }
    let _ = writeln!(text, "result file: {}", cfg.output_file.display());
    text
}

/// How GitHub is read, when a GitHub App is configured: `--check-config` says so.
fn github_reads(cfg: &Config, secrets: &Secrets) -> Option<String> {
    let (id, setting) = cfg.github_app.as_ref()?;
    let token = if secrets.get("GITHUB_TOKEN").is_some() {
        "; GITHUB_TOKEN is set but not used"
    } else {
        ""
    };
    Some(format!(
        "github: read as the GitHub App with {id} ([github] {setting}, key in {}), an installation token per owner{token}",
        crate::config::APP_KEY
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::cron_heartbeat::LEGACY_WORKFLOWS;
    use crate::config::env::Env;

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
    fn an_unknown_key_lists_mail_among_the_files_own_sections() {
        let errs = resolve(&cli(), Some(("m.toml", "[mial]\n"))).unwrap_err();
        assert!(
            errs[0]
                .message
                .ends_with(", [[silence]], [mail], [run], [github_issues], [slack], [webhook]"),
            "{}",
            errs[0]
        );
        let errs = resolve(&cli(), Some(("m.toml", "[mail]\ntransprt = \"smtp\"\n"))).unwrap_err();
        assert!(
            errs.iter().any(|e| e.to_string()
                == "m.toml line 2: unknown field `transprt`, expected one of `transport`, `remind_after_hours`"),
            "{errs:?}"
        );
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
        assert_eq!(cfg.missing(&none).len(), 4);
        let mut dry = cfg.clone();
        dry.dry_run = true;
        assert_eq!(dry.missing(&none).len(), 1);
        let env = Env::from_pairs([
            ("GITHUB_TOKEN", "ghs_x"),
            ("POSTMARK_SERVER_TOKEN", "pm"),
            ("OPS_ALERT_EMAIL", "ops@raxx.app, sre@raxx.app"),
            ("OPS_ALERT_FROM", "Monitor <monitor@raxx.app>"),
        ]);
        let all = Secrets::from_env(&cli(), &env);
        assert!(cfg.missing(&all).is_empty(), "{:?}", cfg.missing(&all));
        assert_eq!(all.to, vec!["ops@raxx.app", "sre@raxx.app"]);
    }
}
