//! What every check kind implements. A kind (`CheckKind`, listed in `KINDS`) reads its
//! section of the configuration into targets; a target (`Check`) declares the secrets it
//! needs, fetches what it needs with a thin `observe`, and decides with a pure `evaluate`.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::CheckResult;
use super::pool::{Identity, Job};
use crate::clients::cloudflare::Pages;
use crate::clients::github::{GitHub, Repo};
use crate::clients::heroku::Heroku;
use crate::clients::http::Http;
use crate::config::file::Section;
use crate::config::{Configure, Need, Secrets};

/// A kind of check: its configuration, its mails, its runbook sections.
pub trait CheckKind: Sync {
    /// The `kind` of the results it yields. Usually one; kinds that share what they fetch
    /// (a Heroku app's slug and dynos) may yield several.
    fn names(&self) -> &'static [&'static str];

    /// The sections of the file it reads, if any.
    fn sections(&self) -> &'static [Section] {
        &[]
    }

    /// Its targets, from the file and the flags. Problems are recorded in `cfg`, each with
    /// its place; a target with a problem is left out.
    fn configure(&self, cfg: &mut Configure) -> Vec<Arc<dyn Watch>>;

    /// Its targets that follow from every kind's (a second pass, once all have configured,
    /// so the registry's order carries no meaning): the token of the GitHub checks, say.
    fn derive(&self, _cfg: &Configure, _first: &[Arc<dyn Watch>]) -> Vec<Arc<dyn Watch>> {
        Vec::new()
    }

    /// The subject of a mail about `check` (one of its results, warning or critical), without
    /// the prefix. Its part before `:` is one of `runbook()`; by default the first.
    fn subject(&self, check: &CheckResult) -> String {
        let section = self.runbook().first().copied().unwrap_or("PROBLEM");
        format!("{section}: {}", check.subject_name)
    }

    /// The mail subjects it can send, each a section of `docs/runbook.md`.
    fn runbook(&self) -> &'static [&'static str];
}

/// One configured target: what it checks, what it needs, and its pure decision.
pub trait Check: Send + Sync + std::fmt::Debug + 'static {
    /// What `observe` learned, everything `evaluate` needs.
    type Observation;

    /// The results it yields: their ids, kinds and targets.
    fn identities(&self) -> Vec<Identity>;

    /// The lines `--check-config` prints for it: an id, and its thresholds in parentheses.
    fn describe(&self) -> Vec<String> {
        self.identities().into_iter().map(|i| i.id).collect()
    }

    /// The secrets it needs from the environment.
    fn needs(&self) -> Vec<Need> {
        Vec::new()
    }

    /// Requests a healthy run makes one after another (the longest start first).
    fn rounds(&self) -> usize {
        1
    }

    /// Whether it runs once every other check is done, on the run's own thread. Such a
    /// check makes no request: it reads what the others' requests taught the clients (the
    /// token's expiry from GitHub's headers, say).
    fn after_others(&self) -> bool {
        false
    }

    /// The Heroku app whose slug it checks, if any (`deploy_drift` leaves a never-deployed
    /// app's mail to that check).
    fn slug_checked(&self) -> Option<&str> {
        None
    }

    /// The repositories whose scheduled workflows it watches: `repo_activity` guards each
    /// against GitHub's 60-day rule.
    fn watched_repos(&self) -> Vec<Repo> {
        Vec::new()
    }

    /// What decides its shard (`--shard I/N`): its repository, so that every target of one
    /// repository runs in the same shard; by default its first result's id (empty for a
    /// target without one).
    fn shard_key(&self) -> String {
        self.identities()
            .into_iter()
            .next()
            .map(|i| i.id)
            .unwrap_or_default()
    }

    /// Learns what it needs of the other targets, once every kind has configured.
    fn settle(&self, _others: &[Arc<dyn Watch>]) {}

    /// Fetches what `evaluate` needs, and no more.
    fn observe(&self, ctx: &Context) -> Self::Observation;

    /// Decides. Pure: the same observation and `now` always give the same results.
    fn evaluate(&self, seen: &Self::Observation, now: DateTime<Utc>) -> Vec<CheckResult>;
}

/// A target whatever its kind: what the run, `--check-config` and the secrets check see.
pub trait Watch: Send + Sync + std::fmt::Debug {
    /// The results it yields.
    fn identities(&self) -> Vec<Identity>;
    /// Its `--check-config` lines.
    fn describe(&self) -> Vec<String>;
    /// The secrets it needs.
    fn needs(&self) -> Vec<Need>;
    /// Requests one after another when healthy.
    fn rounds(&self) -> usize;
    /// Runs after the others, without a request of its own.
    fn after_others(&self) -> bool;
    /// The Heroku app whose slug it checks.
    fn slug_checked(&self) -> Option<&str>;
    /// The repositories whose scheduled workflows it watches.
    fn watched_repos(&self) -> Vec<Repo>;
    /// What decides its shard.
    fn shard_key(&self) -> String;
    /// Learns what it needs of the other targets.
    fn settle(&self, others: &[Arc<dyn Watch>]);
    /// Observes, then evaluates.
    fn run(&self, ctx: &Context) -> Vec<CheckResult>;
}

impl<C: Check> Watch for C {
    fn identities(&self) -> Vec<Identity> {
        Check::identities(self)
    }

    fn describe(&self) -> Vec<String> {
        Check::describe(self)
    }

    fn needs(&self) -> Vec<Need> {
        Check::needs(self)
    }

    fn rounds(&self) -> usize {
        Check::rounds(self)
    }

    fn after_others(&self) -> bool {
        Check::after_others(self)
    }

    fn slug_checked(&self) -> Option<&str> {
        Check::slug_checked(self)
    }

    fn watched_repos(&self) -> Vec<Repo> {
        Check::watched_repos(self)
    }

    fn shard_key(&self) -> String {
        Check::shard_key(self)
    }

    fn settle(&self, others: &[Arc<dyn Watch>]) {
        Check::settle(self, others)
    }

    fn run(&self, ctx: &Context) -> Vec<CheckResult> {
        self.evaluate(&self.observe(ctx), ctx.now)
    }
}

/// The targets a kind configured, as the run holds them.
pub fn watches<C: Check>(targets: Vec<C>) -> Vec<Arc<dyn Watch>> {
    targets
        .into_iter()
        .map(|t| Arc::new(t) as Arc<dyn Watch>)
        .collect()
}

/// What a run gives every check: the clients, the secrets, the instant and the deadline.
pub struct Context {
    /// The shared HTTP layer (the probes use it directly).
    pub http: Http,
    /// The secrets the configuration needs.
    pub secrets: Secrets,
    /// GitHub, shared: it also learns the token's expiry.
    pub github: GitHub,
    /// Heroku.
    pub heroku: Heroku,
    /// Cloudflare Pages.
    pub pages: Pages,
    /// The instant checks evaluate at.
    pub now: DateTime<Utc>,
    /// When every check must be done.
    pub deadline: Instant,
    /// Secret values the checks came across (a config var's value), for the run's redactor
    /// in case an error echoes one later.
    pub learned: std::sync::Mutex<Vec<String>>,
}

impl Context {
    /// Remembers a secret value a check came across.
    pub fn learn(&self, value: &str) {
        if let Ok(mut learned) = self.learned.lock() {
            learned.push(value.to_string());
        }
    }

    /// The clients of `secrets`, bound to `deadline`.
    pub fn new(http: Http, secrets: Secrets, now: DateTime<Utc>, deadline: Instant) -> Self {
        let token = |var: &str| secrets.get(var).unwrap_or_default().to_string();
        Self {
            github: GitHub::new(
                http.clone(),
                &secrets.github_api,
                &token("GITHUB_TOKEN"),
                deadline,
            )
            .with_app(secrets.github_app()),
            heroku: Heroku::new(
                http.clone(),
                &secrets.heroku_api,
                &token("HEROKU_API_KEY"),
                deadline,
            ),
            pages: Pages::new(
                http.clone(),
                &secrets.cloudflare_api,
                &token("CLOUDFLARE_ACCOUNT_ID"),
                &token("CLOUDFLARE_PAGES_READ_TOKEN"),
                deadline,
            ),
            http,
            secrets,
            now,
            deadline,
            learned: Default::default(),
        }
    }
}

/// Runs every target on the pool, then those that read what the others learned; results
/// come back in configuration order, every text in them bounded.
pub fn check_all(
    watches: &[Arc<dyn Watch>],
    ctx: Arc<Context>,
    threads: usize,
) -> Vec<CheckResult> {
    let (last, first): (Vec<_>, Vec<_>) = watches.iter().partition(|w| w.after_others());
    let jobs = first
        .into_iter()
        .map(|w| {
            let (w, ctx) = (Arc::clone(w), Arc::clone(&ctx));
            Job {
                identities: w.identities(),
                rounds: w.rounds(),
                work: Box::new(move || w.run(&ctx)),
            }
        })
        .collect();
    let mut results = super::pool::run_all(jobs, threads, ctx.deadline);
    for w in last {
        results.extend(w.run(&ctx));
    }
    results.into_iter().map(CheckResult::bounded).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;
    use crate::clients::http::HttpSettings;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A check that says whether the flag was up when it ran, and then raises it.
    #[derive(Debug)]
    struct Flag {
        id: &'static str,
        last: bool,
        up: Arc<AtomicBool>,
    }

    impl Check for Flag {
        type Observation = bool;

        fn identities(&self) -> Vec<Identity> {
            vec![Identity::new(
                self.id.into(),
                "cron_heartbeat",
                self.id,
                self.id,
            )]
        }

        fn after_others(&self) -> bool {
            self.last
        }

        fn observe(&self, _: &Context) -> bool {
            std::thread::sleep(std::time::Duration::from_millis(if self.last {
                0
            } else {
                50
            }));
            self.up.swap(true, Ordering::SeqCst)
        }

        fn evaluate(&self, was_up: &bool, _: DateTime<Utc>) -> Vec<CheckResult> {
            let status = if *was_up { Status::Ok } else { Status::Warning };
            vec![CheckResult::new(
                self.id,
                "cron_heartbeat",
                self.id,
                status,
                String::new(),
            )]
        }
    }

    #[test]
    fn a_check_after_the_others_sees_what_they_did() {
        let up = Arc::new(AtomicBool::new(false));
        let flag = |id, last| {
            Arc::new(Flag {
                id,
                last,
                up: Arc::clone(&up),
            }) as Arc<dyn Watch>
        };
        let watches = vec![flag("last", true), flag("first", false)];
        let now = "2026-05-23T06:30:00Z".parse().unwrap();
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        let http = Http::new(HttpSettings::default());
        let ctx = Arc::new(Context::new(http, Secrets::default(), now, deadline));
        let results = check_all(&watches, ctx, 4);
        let seen: Vec<_> = results.iter().map(|r| (r.id.as_str(), r.status)).collect();
        assert_eq!(seen, [("first", Status::Warning), ("last", Status::Ok)]);
    }
}
