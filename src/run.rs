//! One run, start to finish: parse, resolve, gate, check, mail, report, write the result.
//! Every path past argument parsing writes the result file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::alerting::{self, Mailer};
use crate::alerting::{ping, silence};
use crate::checks::time::rfc3339;
use crate::checks::{self, CheckResult, Context, token};
use crate::clients::http::{Http, HttpSettings};
use crate::config::cli::{self, Cli, Parsed};
use crate::config::env::Env;
use crate::config::{self, Config, ConfigError, GATE, Secrets};
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
    let (output, cfg) = config::load(&cli);
    let mut run = Outcome {
        started,
        clock_start: Instant::now(),
        now: cli.now.unwrap_or(started),
        dry_run: cli.dry_run,
        output,
        checks: Vec::new(),
        errors: Vec::new(),
        notifications: Vec::new(),
        warnings: Vec::new(),
        disabled: false,
    };
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
    for note in &cfg.notes {
        console.err(&format!("note: {note}\n"));
    }

    let ping_url = secrets.get("HEARTBEAT_MONITOR_PING_URL").map(String::from);
    if let Some(url) = &ping_url
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
    let ctx = Arc::new(Context::new(http, secrets.clone(), run.now, deadline));
    run.checks = checks::check_all(&cfg.watches, Arc::clone(&ctx), cfg.run.concurrency);
    if let Some(expiry) = ctx.github.token_expiry() {
        run.checks.push(token::evaluate(&expiry, run.now));
    }
    run.warnings = silence::apply(&mut run.checks, &cfg.silences, run.now);
    let mailer = Mailer::new(&secrets, Some(&cfg), env);
    let code = run.finish(console, env, Some(&mailer));
    if let Some(url) = &ping_url
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
    let lines: Vec<String> = cfg.watches.iter().flat_map(|w| w.describe()).collect();
    text.push_str(&format!("would run {} check(s):\n", lines.len()));
    for line in &lines {
        text.push_str(&format!("  {line}\n"));
    }
    text.push_str(&format!(
        "mail: {} to {} ({}), subjects prefixed {:?}{}\n",
        cfg.transport.as_str(),
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
