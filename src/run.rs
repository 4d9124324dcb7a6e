//! One run, start to finish: parse, resolve, gate, check, mail, report, write the result.
//! Every path past argument parsing writes the result file.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::alerting::{self, Mailer};
use crate::alerting::{ping, silence};
use crate::checks::time::rfc3339;
use crate::checks::{CheckResult, repo_activity};
use crate::clients::http::{Http, HttpSettings};
use crate::config::cli::{self, Cli, Parsed};
use crate::config::env::Env;
use crate::config::{self, Config, ConfigError, GATE, Secrets};
use crate::jobs;
use crate::output::redact::Redactor;
use crate::output::report::{self, Console};
use crate::output::result::{self, Counts, Notification, RunResult, RunStatus, SCHEMA_VERSION};

/// Runs the program with real stdout and stderr; returns the exit code.
pub fn run(args: &[String], env: &Env, color: bool) -> u8 {
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    let mut console = Console::new(&mut out, &mut err, use_color(color, env));
    run_with(args, env, &mut console, Utc::now)
}

/// Colour only on a terminal, and never with `NO_COLOR` set (no-color.org).
pub fn use_color(is_terminal: bool, env: &Env) -> bool {
    is_terminal && env.get("NO_COLOR").is_none()
}

/// Runs the program against any streams and clock (the demo, tests).
pub fn run_with(
    args: &[String],
    env: &Env,
    console: &mut Console,
    clock: fn() -> DateTime<Utc>,
) -> u8 {
    let cli = match cli::parse(args) {
        Parsed::Run(cli) => cli,
        Parsed::Print(text) => {
            console.out(&text);
            return 0;
        }
        Parsed::Usage(text) => {
            console.err(&text);
            return 3;
        }
    };
    let mut secrets = Secrets::from_env(&cli, env);
    console.set_redactor(redactor_for(&secrets));

    let started = clock();
    let mut run = Outcome {
        started,
        clock_start: Instant::now(),
        now: cli.now.unwrap_or(started),
        dry_run: cli.dry_run,
        output: config::output_file(&cli, None),
        checks: Vec::new(),
        errors: Vec::new(),
        notifications: Vec::new(),
        warnings: Vec::new(),
        disabled: false,
    };

    let cfg = load(&cli, &mut run.output);
    if let Ok(cfg) = &cfg {
        secrets.read_named(cfg, env);
        console.set_redactor(redactor_for(&secrets));
    }
    if cli.check_config {
        return check_config(&cli, env, &secrets, cfg, console);
    }
    let gate_on = env.is_truthy(GATE);
    let cfg = match cfg {
        Ok(cfg) => cfg,
        Err(errors) => {
            console.err(&format!(
                "heartbeat-monitor: {} configuration error(s):\n",
                errors.len()
            ));
            for e in &errors {
                console.err(&format!("  {e}\n"));
            }
            run.errors = errors.iter().map(ToString::to_string).collect();
            let mailer = gate_on.then(|| Mailer::new(&secrets, None, env));
            return run.finish(console, env, mailer.as_ref());
        }
    };
    if !gate_on {
        run.disabled = true;
        console.err(&format!(
            "heartbeat-monitor is DISABLED: {GATE} is not 1, true, yes or on, so nothing was checked \
and no alert can fire. Enable it with: gh variable set {GATE} --body 1\n"
        ));
        if env.in_actions() {
            console.out(&format!(
                "::warning title=heartbeat-monitor disabled::{GATE} is off: cron heartbeats are NOT being checked\n"
            ));
        }
        return run.finish(console, env, None);
    }
    let missing = secrets.missing(&cfg);
    if !missing.is_empty() {
        console.err(&format!(
            "heartbeat-monitor: {} secret(s) missing:\n",
            missing.len()
        ));
        for e in &missing {
            console.err(&format!("  {e}\n"));
        }
        run.errors = missing.iter().map(ToString::to_string).collect();
        let mailer = Mailer::new(&secrets, Some(&cfg), env);
        return run.finish(console, env, Some(&mailer));
    }
    if cfg.legacy_defaults {
        console.err(&format!(
            "note: no heartbeat configured; checking the old script's {} and {}\n",
            config::LEGACY_WORKFLOWS[0],
            config::LEGACY_WORKFLOWS[1]
        ));
    }

    if let Some(url) = &secrets.ping_url
        && let Some(problem) = ping::ping(url, "start")
    {
        console.err(&format!("note: {problem}\n"));
    }
    let http = Http::new(HttpSettings {
        request_timeout: cfg.run.request_timeout,
        pool_per_host: cfg.run.concurrency,
        ..HttpSettings::default()
    });
    let deadline = run.clock_start + cfg.run.deadline;
    run.checks = jobs::check_all(&cfg, &secrets, &http, run.now, deadline);
    run.warnings = silence::apply(&mut run.checks, &cfg.silences, run.now);
    let mailer = Mailer::new(&secrets, Some(&cfg), env);
    let code = run.finish(console, env, Some(&mailer));
    if let Some(url) = &secrets.ping_url
        && let Some(problem) = ping::ping(url, &code.to_string())
    {
        console.err(&format!("note: {problem}\n"));
    }
    code
}

/// A redactor that knows every secret value of the run.
fn redactor_for(secrets: &Secrets) -> Redactor {
    let mut redactor = Redactor::default();
    for v in secrets.values() {
        redactor.add(v);
    }
    redactor
}

/// Reads and resolves the configuration; `output` learns the file's `output_file` even when
/// something else in it is wrong, so the result lands where the user expects it.
fn load(cli: &Cli, output: &mut PathBuf) -> Result<Config, Vec<ConfigError>> {
    let path = match &cli.config {
        Some(p) => Some(p.clone()),
        None => Some(PathBuf::from(config::DEFAULT_CONFIG)).filter(|p| p.exists()),
    };
    let text = match &path {
        None => None,
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => Some(t),
            Err(e) => {
                return Err(vec![ConfigError {
                    place: p.display().to_string(),
                    line: 0,
                    message: format!("cannot read the configuration file: {e}"),
                }]);
            }
        },
    };
    let shown = path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let Some(text) = text else {
        return config::resolve(cli, None);
    };
    let parsed = config::file::parse(&text, &shown)?;
    // Known even when something else in the file is wrong: the result lands where expected.
    *output = config::output_file(cli, Some(&parsed));
    config::resolve_parsed(cli, &parsed, Some((&shown, &text)))
}

/// `--check-config`: validate everything a run needs, print what would run, touch nothing.
fn check_config(
    cli: &Cli,
    env: &Env,
    secrets: &Secrets,
    cfg: Result<Config, Vec<ConfigError>>,
    console: &mut Console,
) -> u8 {
    let errors = match &cfg {
        Ok(c) => secrets.missing(c),
        Err(e) => e.clone(),
    };
    if !errors.is_empty() {
        console.err(&format!(
            "configuration NOT ok: {} problem(s):\n",
            errors.len()
        ));
        for e in &errors {
            console.err(&format!("  {e}\n"));
        }
        return 3;
    }
    let Ok(cfg) = cfg else { return 3 };
    let source = cfg
        .path
        .as_ref()
        .map_or("command line only".into(), |p| p.display().to_string());
    let mut text = format!("configuration ok ({source})\n");
    text.push_str(&format!(
        "gate {GATE}: {}\n",
        if env.is_truthy(GATE) {
            "on"
        } else {
            "OFF (a run would check nothing)"
        }
    ));
    let repos = jobs::repos_of(&cfg.heartbeats);
    let mut ids: Vec<String> = Vec::new();
    for app in &cfg.heroku_apps {
        if app.check_slug {
            ids.push(app.slug_id());
        }
        if app.min_web_dynos > 0 {
            ids.push(format!(
                "{}  (min {} web, grace {} min)",
                app.dynos_id(),
                app.min_web_dynos,
                app.down_grace_minutes
            ));
        }
    }
    for p in &cfg.probes {
        let token = p
            .token_env
            .as_ref()
            .map(|v| format!(", CF Access token from {v}"))
            .unwrap_or_default();
        ids.push(format!(
            "{}  ({} expecting {}{token})",
            p.id(),
            crate::clients::api::strip_query(&p.url),
            p.expect_status
        ));
    }
    for p in &cfg.pages {
        ids.push(format!(
            "{}  (grace {} min)",
            p.id(),
            p.building_grace_minutes
        ));
    }
    text.push_str(&format!(
        "would run {} check(s):\n",
        cfg.heartbeats.len() + repos.len() + ids.len()
    ));
    for hb in &cfg.heartbeats {
        let mut filters = String::new();
        if let Some(b) = &hb.filter.branch {
            filters.push_str(&format!(", branch {b}"));
        }
        if let Some(e) = &hb.filter.event {
            filters.push_str(&format!(", event {e}"));
        }
        text.push_str(&format!(
            "  {}  (SLA {}{filters})\n",
            hb.id(),
            crate::checks::time::fmt_hours(hb.sla_hours)
        ));
    }
    for r in &repos {
        text.push_str(&format!("  {}\n", repo_activity::id(r)));
    }
    for id in &ids {
        text.push_str(&format!("  {id}\n"));
    }
    text.push_str(&format!(
        "mail: {} to {} ({}), subjects prefixed {:?}{}\n",
        match cfg.transport {
            config::Transport::Postmark => "postmark",
            config::Transport::Smtp => "smtp",
        },
        if secrets.to.is_empty() {
            "nobody".into()
        } else {
            secrets.to.join(", ")
        },
        if cli.dry_run {
            "dry run: printed only"
        } else {
            "sent"
        },
        cfg.subject_prefix,
        cfg.state_file
            .as_ref()
            .map(|p| format!(", alert state in {}", p.display()))
            .unwrap_or_default()
    ));
    for s in &cfg.silences {
        text.push_str(&format!(
            "silence: {} until {} ({})\n",
            s.matches,
            crate::checks::time::rfc3339(s.until),
            s.reason
        ));
    }
    text.push_str(&format!("result file: {}\n", cfg.output_file.display()));
    console.out(&text);
    0
}

/// What the run has found so far, and how it ends.
struct Outcome {
    started: DateTime<Utc>,
    clock_start: Instant,
    now: DateTime<Utc>,
    dry_run: bool,
    output: PathBuf,
    checks: Vec<CheckResult>,
    errors: Vec<String>,
    notifications: Vec<Notification>,
    warnings: Vec<String>,
    disabled: bool,
}

impl Outcome {
    /// Mails, reports, writes the result file and returns the exit code. Silenced checks
    /// do not count towards it.
    fn finish(mut self, console: &mut Console, env: &Env, mailer: Option<&Mailer>) -> u8 {
        let mut code = self
            .checks
            .iter()
            .filter(|c| !c.silenced)
            .map(|c| c.status.code())
            .max()
            .unwrap_or(0);
        if !self.errors.is_empty() {
            code = 3;
        }
        for w in &self.warnings {
            console.err(&format!("warning: {w}\n"));
        }
        if let Some(mailer) = mailer {
            let alerted = alerting::alert(
                mailer,
                &self.checks,
                &self.errors,
                self.now,
                self.dry_run,
                console.redactor(),
            );
            for note in &alerted.notes {
                console.err(&format!("note: {note}\n"));
            }
            if let Some(e) = &alerted.state_error {
                console.err(&format!("error: {e}\n"));
            }
            if !alerted.errors.is_empty() || alerted.state_error.is_some() {
                code = 3;
            }
            self.errors.extend(alerted.errors);
            self.errors.extend(alerted.state_error);
            self.notifications = alerted.notifications;
            if !self.checks.is_empty() || self.dry_run {
                console.out(&report::table(&self.checks, console.color()));
            }
            if self.dry_run {
                console.out(&report::dry_run_mails(&alerted.mails, &mailer.to));
            }
            for n in &self.notifications {
                match (&n.error, n.sent) {
                    (Some(e), _) => console.err(&format!("mail NOT sent: {}: {e}\n", n.subject)),
                    (None, true) => console.out(&format!("mailed: {}\n", n.subject)),
                    _ => {}
                }
            }
        }
        if self.disabled {
            code = 0;
        }
        if env.in_actions() || env.get("GITHUB_STEP_SUMMARY").is_some() {
            console.out(&report::annotations(&self.checks));
        }
        let finished = Utc::now().max(self.started);
        let result = RunResult {
            schema_version: SCHEMA_VERSION,
            tool: "heartbeat-monitor",
            tool_version: env!("CARGO_PKG_VERSION"),
            started_at: rfc3339(self.started),
            finished_at: rfc3339(finished),
            duration_ms: self.clock_start.elapsed().as_millis() as u64,
            now: rfc3339(self.now),
            dry_run: self.dry_run,
            status: if self.disabled {
                RunStatus::Disabled
            } else {
                RunStatus::from_code(code)
            },
            exit_code: code,
            counts: Counts::of(&self.checks),
            checks: self.checks,
            notifications: self.notifications,
            errors: self.errors,
            warnings: self.warnings,
        };
        if let Err(e) = result::write(&self.output, &result, console.redactor()) {
            console.err(&format!(
                "could not write the result file {}: {e}\n",
                self.output.display()
            ));
            code = 3;
        }
        if let Some(path) = env.get("GITHUB_STEP_SUMMARY") {
            append(
                Path::new(path),
                &console.redactor().redact(&report::step_summary(&result)),
            );
        }
        console.out(&format!(
            "status {} (exit {code}); result written to {}\n",
            serde_json::to_value(result.status)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            self.output.display()
        ));
        code
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let _ = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn color_only_on_a_terminal_without_no_color() {
        assert!(use_color(true, &Env::default()));
        assert!(!use_color(false, &Env::default()));
        assert!(!use_color(true, &Env::from_pairs([("NO_COLOR", "1")])));
    }
}
