//! One run, start to finish: parse, resolve, gate, check, mail, report, write the result.
//! Every path past argument parsing writes the result file; `RunStatus::of` decides how it
//! ends, and `output` words everything a person reads.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::alerting::{self, Alerting, ping, state};
use crate::checks::{self, Context};
use crate::clients::budget::{AnswerCache, Cached, Spent};
use crate::clients::http::{Http, HttpSettings};
use crate::config::cli::{self, MergeCli, Parsed};
use crate::config::env::Env;
use crate::config::{GATE, Secrets};
use crate::model::CheckResult;
use crate::model::{Counts, Gate, Notification, RunError, RunStatus};
use crate::output::result::{self, RunResult, SCHEMA_VERSION};
use crate::output::{self, Console, Finished, Sinks, merge, text};
use crate::redact::Redactor;
use crate::setup;
use crate::util::time::rfc3339;

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
        Parsed::Merge(m) => return merge(&m, env, console, clock),
        Parsed::Print(text) => {
            console.out(&text);
            return RunStatus::Ok.code();
        }
        Parsed::Usage(text) => {
            // A usage error is a monitor that could not run: unknown, never argh's 1. It may
            // quote the arguments, a token among them.
            let mut redactor = Redactor::default();
            for secret in cli::secret_args(args) {
                redactor.add(secret);
            }
            console.set_redactor(redactor);
            console.err(&text);
            return RunStatus::Unknown.code();
        }
    };
    let mut secrets = Secrets::from_env(&cli, env);
    console.set_redactor(redactor_for(&secrets));

    let started = clock();
    let (output, cfg) = setup::load(&cli);
    let mut run = Run {
        started,
        clock_start: Instant::now(),
        now: cli.now.unwrap_or(started),
        dry_run: cli.dry_run,
        output,
        status_page: cli.status_page.clone(),
        checks: Vec::new(),
        errors: Vec::new(),
        notifications: Vec::new(),
        warnings: Vec::new(),
        disabled: false,
        api_budget: Default::default(),
        http_cache: Default::default(),
        state: None,
        state_file: cli.state_file.clone(),
        no_notify: cli.no_notify,
        carried: Vec::new(),
        merged_state: None,
        wall_from_start: false,
    };
    if let Ok(cfg) = &cfg {
        secrets.read_named(cfg.needs(), env);
        console.set_redactor(redactor_for(&secrets));
    }
    let alerting = Alerting::new(
        &secrets,
        cfg.as_ref().ok().map(crate::setup::Config::alerting),
        env,
        cli.dry_run,
    );
    let gate_on = env.is_truthy(GATE);
    if cli.check_config {
        let problems = match &cfg {
            Ok(c) => c.missing(&secrets),
            Err(e) => e.clone(),
        };
        return match cfg {
            Ok(cfg) if problems.is_empty() => {
                console.out(&setup::check_config(&cfg, &secrets, gate_on));
                RunStatus::Ok.code()
            }
            _ => {
                console.err(&text::config_not_ok(&problems));
                RunStatus::Unknown.code()
            }
        };
    }
    let cfg = match cfg {
        Ok(cfg) => cfg,
        Err(errors) => {
            console.err(&text::problems("configuration error(s)", &errors));
            run.errors = errors.into_iter().map(RunError::Config).collect();
            // The nightly run must not go quiet: a broken configuration mails MONITOR FAILED.
            return run.finish(console, env, gate_on.then_some(&alerting));
        }
    };
    if !gate_on {
        run.disabled = true;
        console.err(&text::disabled());
        if env.in_actions() {
            console.command(&text::disabled_annotation());
        }
        return run.finish(console, env, None);
    }
    let missing = cfg.missing(&secrets);
    if !missing.is_empty() {
        console.err(&text::problems("secret(s) missing", &missing));
        run.errors = missing.into_iter().map(RunError::SecretsMissing).collect();
        return run.finish(console, env, Some(&alerting));
    }
    for note in &cfg.notes {
        console.err(&text::note(note));
    }

    // A shard that tells nobody leaves the dead man's switch to the merge step too.
    let ping_url = secrets
        .get("HEARTBEAT_MONITOR_PING_URL")
        .filter(|_| !cli.no_notify)
        .map(String::from);
    if let Some(url) = &ping_url
        && let Some(problem) = ping::ping(url, "start")
    {
        console.err(&text::note(&problem));
    }
    let http = Http::new(HttpSettings {
        request_timeout: cfg.run.request_timeout,
        pool_per_host: cfg.run.concurrency,
        ..HttpSettings::default()
    });
    // The checks' deadline starts after the start ping, which has its own budget.
    let deadline = Instant::now() + cfg.run.deadline;
    // The state file is read once: GitHub's answers of the last run now, so that what did
    // not change costs nothing, and the alert state for the end of the run.
    let mut loaded = cfg.state_file.as_deref().map(state::load);
    let cache = Arc::new(AnswerCache::new(match &mut loaded {
        Some(state::Loaded::State(s, _)) => std::mem::take(&mut s.http_cache),
        _ => Default::default(),
    }));
    run.state = loaded;
    let mut ctx = Context::new(http, secrets.clone(), run.now, deadline);
    ctx.github = ctx.github.clone().with_cache(Arc::clone(&cache));
    let ctx = Arc::new(ctx);
    run.checks = checks::check_all(&cfg.watches, Arc::clone(&ctx), cfg.run.concurrency);
    run.api_budget = ctx.http.budget().snapshot();
    run.http_cache = cache.take_kept();
    if let Ok(learned) = ctx.learned.lock() {
        let mut redactor = console.redactor().clone();
        for value in learned.iter() {
            redactor.add_secret(value);
        }
        console.set_redactor(redactor);
    }
    let code = run.finish(console, env, Some(&alerting));
    if let Some(url) = &ping_url
        && let Some(problem) = ping::ping(url, &code.to_string())
    {
        console.err(&text::note(&problem));
    }
    code
}

/// `heartbeat-monitor merge`: the shards' result files merged into one run's, alerted on
/// (with `--config`) and written as a run writes its own; exits as that run.
fn merge(m: &MergeCli, env: &Env, console: &mut Console, clock: fn() -> DateTime<Utc>) -> u8 {
    let started = clock();
    let read = m.results.iter().map(|p| merge::read(p)).collect();
    let merged = merge::merge(read, started);
    let cli = m.as_run();
    let mut secrets = Secrets::from_env(&cli, env);
    console.set_redactor(redactor_for(&secrets));
    let cfg = m.config.as_ref().map(|_| setup::load(&cli).1);
    if let Some(Ok(cfg)) = &cfg {
        secrets.read_named(cfg.needs(), env);
        console.set_redactor(redactor_for(&secrets));
    }
    for e in &merged.errors {
        console.err(&text::error(e));
    }
    let mut run = Run {
        started: merged.started,
        clock_start: Instant::now(),
        now: merged.now,
        dry_run: merged.dry_run || m.dry_run,
        output: m.output_file.clone(),
        status_page: m.status_page.clone(),
        checks: merged.checks,
        errors: Vec::new(),
        notifications: merged.notifications,
        warnings: merged.warnings,
        disabled: merged.disabled,
        api_budget: merged.api_budget,
        http_cache: Default::default(),
        state: None,
        state_file: None,
        no_notify: false,
        carried: merged.errors,
        merged_state: Some(merged.state),
        wall_from_start: true,
    };
    let alerting = match &cfg {
        None => None,
        Some(Ok(cfg)) => {
            // The names the mails give, as the targets declare them (the result file keeps
            // ids and targets only); a target found at run time keeps its target's name.
            let names: std::collections::HashMap<String, String> = cfg
                .watches
                .iter()
                .flat_map(|w| w.identities())
                .map(|i| (i.id, i.subject_name))
                .collect();
            for c in &mut run.checks {
                if let Some(name) = names.get(&c.id) {
                    c.subject_name.clone_from(name);
                }
            }
            run.state_file = cfg.state_file.clone();
            // The state's kept GitHub answers stay for the shards that read it next.
            let mut loaded = cfg.state_file.as_deref().map(state::load);
            if let Some(state::Loaded::State(s, _)) = &mut loaded {
                run.http_cache = std::mem::take(&mut s.http_cache);
            }
            run.state = loaded;
            Some(Alerting::new(
                &secrets,
                Some(cfg.alerting()),
                env,
                m.dry_run,
            ))
        }
        Some(Err(errors)) => {
            console.err(&text::problems("configuration error(s)", errors));
            run.errors = errors.iter().cloned().map(RunError::Config).collect();
            Some(Alerting::new(&secrets, None, env, m.dry_run))
        }
    };
    let ping_url = secrets
        .get("HEARTBEAT_MONITOR_PING_URL")
        .filter(|_| cfg.is_some())
        .map(String::from);
    let alerting = alerting.filter(|_| !run.disabled);
    let code = run.finish(console, env, alerting.as_ref());
    if let Some(url) = &ping_url
        && let Some(problem) = ping::ping(url, &code.to_string())
    {
        console.err(&text::note(&problem));
    }
    code
}

fn messages(errors: &[RunError]) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

/// A redactor that knows every secret value of the run.
fn redactor_for(secrets: &Secrets) -> Redactor {
    let mut redactor = Redactor::default();
    for v in secrets.values() {
        redactor.add_secret(v);
    }
    redactor
}

/// What the run has found so far, and how it ends.
struct Run {
    started: DateTime<Utc>,
    clock_start: Instant,
    now: DateTime<Utc>,
    dry_run: bool,
    output: PathBuf,
    /// Where the status page goes, if anywhere.
    status_page: Option<PathBuf>,
    checks: Vec<CheckResult>,
    errors: Vec<RunError>,
    notifications: Vec<Notification>,
    warnings: Vec<String>,
    disabled: bool,
    api_budget: std::collections::BTreeMap<String, Spent>,
    http_cache: std::collections::BTreeMap<String, Cached>,
    /// The state file as read before the checks (the alert state reads it itself if not).
    state: Option<state::Loaded>,
    /// The state file given, if any.
    state_file: Option<PathBuf>,
    /// `--no-notify`: check, but tell no channel.
    no_notify: bool,
    /// Errors of the shards a merge read, and of the merge itself, as they were said.
    carried: Vec<String>,
    /// A merge without a state file of its own: where the shards' state came from.
    merged_state: Option<result::StateOrigin>,
    /// A merge: its duration runs from the first shard's start.
    wall_from_start: bool,
}

impl Run {
    /// Mails, then writes every output (`output::OUTPUTS`) and returns the exit code.
    fn finish(mut self, console: &mut Console, env: &Env, alerting: Option<&Alerting>) -> u8 {
        let state_origin = self.state_origin(env);
        // `--no-notify`: the run goes on as if told (its table is shown), but nobody is.
        let (alerting, silent) = match alerting {
            Some(_) if self.no_notify => (None, true),
            other => (other, false),
        };
        let errors = self.error_texts();
        let alerted = alerting.map(|a| {
            let memory = alerting::Memory {
                read: self.state.take(),
                http_cache: std::mem::take(&mut self.http_cache),
            };
            let redactor = console.redactor();
            alerting::alert(a, &mut self.checks, &errors, self.now, redactor, memory)
        });
        // Expired silences come first, as they are found before the run's other warnings.
        if let Some(a) = &alerted {
            self.warnings.splice(0..0, a.warnings.iter().cloned());
        }
        for w in &self.warnings {
            console.err(&text::warning(w));
        }
        let mut previews = silent.then(Vec::new);
        if let Some(alerted) = alerted {
            for note in &alerted.notes {
                console.err(&text::note(note));
            }
            if let Some(e) = &alerted.state_error {
                console.err(&text::error(e));
            }
            // Undelivered mail and a lost state file are failures of the monitor itself.
            self.errors
                .extend(alerted.errors.into_iter().map(RunError::Undelivered));
            self.errors
                .extend(alerted.state_error.into_iter().map(RunError::StateFile));
            self.notifications.extend(alerted.notifications);
            previews = Some(alerted.previews);
        }
        let mut run = self.into_finished(state_origin, previews);
        let mut sinks = Sinks {
            console,
            env,
            late: Vec::new(),
        };
        output::write_all(&mut run, &mut sinks)
    }

    /// The run's result, decided once: what every output writes from.
    fn into_finished(self, state: result::StateOrigin, previews: Option<Vec<String>>) -> Finished {
        let gate = if self.disabled { Gate::Off } else { Gate::On };
        let status = match RunStatus::of(&self.checks, &self.errors, gate) {
            RunStatus::Disabled => RunStatus::Disabled,
            _ if !self.carried.is_empty() => RunStatus::Unknown,
            status => status,
        };
        let finished = Utc::now().max(self.started);
        let duration_ms = if self.wall_from_start {
            (finished - self.started).num_milliseconds().max(0) as u64
        } else {
            self.clock_start.elapsed().as_millis() as u64
        };
        let errors = self.error_texts();
        let result = RunResult {
            schema_version: SCHEMA_VERSION,
            tool: "heartbeat-monitor",
            tool_version: env!("CARGO_PKG_VERSION"),
            started_at: rfc3339(self.started),
            finished_at: rfc3339(finished),
            duration_ms,
            now: rfc3339(self.now),
            dry_run: self.dry_run,
            status,
            exit_code: status.code(),
            counts: Counts::of(&self.checks),
            checks: self.checks,
            notifications: self.notifications,
            errors,
            warnings: self.warnings,
            state,
            api_budget: self.api_budget,
        };
        Finished {
            result,
            previews,
            result_file: self.output,
            status_page: self.status_page,
        }
    }

    /// The run's errors as the result and the mails say them: a merge's carried ones first.
    fn error_texts(&self) -> Vec<String> {
        let mut all = self.carried.clone();
        all.extend(messages(&self.errors));
        all
    }

    /// Where the state came from, for the result; adds the warning of a state lost although
    /// the workflow ran before. A run that stopped before reading the state file (a
    /// configuration error, the gate off) reads it here for the report only.
    fn state_origin(&mut self, env: &Env) -> result::StateOrigin {
        let hint = env.state_hint();
        self.warnings.extend(hint.problems);
        let Some(path) = &self.state_file else {
            return self.merged_state.clone().unwrap_or_default();
        };
        let peeked;
        let loaded = match &self.state {
            Some(loaded) => loaded,
            None => {
                peeked = state::load(path);
                &peeked
            }
        };
        let read = match loaded {
            state::Loaded::State(s, None) => Some(s.written_at.clone()),
            state::Loaded::State(_, Some(_)) => None,
            // Refused: its own error says why; it is not a lost state.
            state::Loaded::Refused(_) => return result::StateOrigin::default(),
        };
        if read.is_none()
            && let Some(run) = &hint.previous_run
        {
            let url = env.run_url_of(run);
            self.warnings
                .push(result::lost_state_warning(run, url.as_deref()));
        }
        result::StateOrigin::of(read, hint.restored)
    }
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
