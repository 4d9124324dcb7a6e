//! The jobs of a run: one per heartbeat, repository, Heroku app, probe, Pages project and
//! the promotions table, each a thin `observe` and a pure `evaluate`, run on the pool.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::checks::heartbeat::{self, HeartbeatSpec};
use crate::checks::pool::{self, Identity, Job};
use crate::checks::{CheckResult, Kind, heroku, pages, probe, promotions, repo_activity, token};
use crate::clients::cloudflare::Pages;
use crate::clients::github::{GitHub, Repo};
use crate::clients::heroku::Heroku;
use crate::clients::http::Http;
use crate::config::{Config, Secrets};

/// The repositories of `heartbeats`, each once, in first-seen order.
pub fn repos_of(heartbeats: &[HeartbeatSpec]) -> Vec<Repo> {
    let mut repos: Vec<Repo> = Vec::new();
    for hb in heartbeats {
        if !repos.contains(&hb.repo) {
            repos.push(hb.repo.clone());
        }
    }
    repos
}

/// Builds every job of the configuration, runs them on the pool, and returns their results in
/// configuration order, the token's expiry last when GitHub said it.
pub fn check_all(
    cfg: &Config,
    secrets: &Secrets,
    http: &Http,
    now: DateTime<Utc>,
    deadline: Instant,
) -> Vec<CheckResult> {
    let gh = Arc::new(GitHub::new(
        http.clone(),
        &secrets.github_api,
        secrets.github_token.as_deref().unwrap_or_default(),
        deadline,
    ));
    let mut jobs = Vec::new();
    for spec in &cfg.heartbeats {
        let (gh, spec2) = (Arc::clone(&gh), spec.clone());
        jobs.push(Job::one(
            spec.id(),
            Kind::CronHeartbeat,
            &spec.workflow,
            &spec.name,
            Box::new(move || {
                let obs = heartbeat::observe(&gh, &spec2, now);
                vec![heartbeat::evaluate(&spec2, &obs, now)]
            }),
        ));
    }
    for repo in repos_of(&cfg.heartbeats) {
        let gh = Arc::clone(&gh);
        let name = repo.to_string();
        jobs.push(Job::one(
            repo_activity::id(&repo),
            Kind::RepoActivity,
            &name,
            &name,
            Box::new(move || {
                let seen = gh.repository(&repo).map_err(|e| e.to_string());
                vec![repo_activity::evaluate(
                    &repo,
                    seen.as_ref().map_err(String::as_str),
                    now,
                )]
            }),
        ));
    }
    jobs.extend(heroku_jobs(cfg, secrets, http, now, deadline));
    jobs.extend(probe_jobs(cfg, secrets, http, now, deadline));
    jobs.extend(pages_jobs(cfg, secrets, http, now, deadline));
    jobs.extend(promotions_job(cfg, secrets, http, now, deadline));
    let mut results = pool::run_all(jobs, cfg.run.concurrency, deadline);
    if let Some(expiry) = gh.token_expiry() {
        results.push(token::evaluate(&expiry, now));
    }
    results
}

/// One job per Heroku app, yielding its slug and dyno results.
fn heroku_jobs(
    cfg: &Config,
    secrets: &Secrets,
    http: &Http,
    now: DateTime<Utc>,
    deadline: Instant,
) -> Vec<Job> {
    let client = Arc::new(Heroku::new(
        http.clone(),
        &secrets.heroku_api,
        secrets.heroku_key.as_deref().unwrap_or_default(),
        deadline,
    ));
    cfg.heroku_apps
        .iter()
        .map(|app| {
            let mut identities = Vec::new();
            if app.check_slug {
                identities.push(Identity {
                    id: app.slug_id(),
                    kind: Kind::HerokuSlug,
                    target: app.name.clone(),
                    subject_name: app.name.clone(),
                });
            }
            if app.min_web_dynos > 0 {
                identities.push(Identity {
                    id: app.dynos_id(),
                    kind: Kind::HerokuDynos,
                    target: app.name.clone(),
                    subject_name: app.name.clone(),
                });
            }
            let (client, app) = (Arc::clone(&client), app.clone());
            Job {
                rounds: identities.len(),
                identities,
                work: Box::new(move || {
                    heroku::evaluate(&app, &heroku::observe(&client, &app), now)
                }),
            }
        })
        .collect()
}

/// One job per health probe.
fn probe_jobs(
    cfg: &Config,
    secrets: &Secrets,
    http: &Http,
    now: DateTime<Utc>,
    deadline: Instant,
) -> Vec<Job> {
    cfg.probes
        .iter()
        .map(|p| {
            let (http, spec, token) = (http.clone(), p.clone(), secrets.access_token(p));
            Job::one(
                p.id(),
                Kind::HttpProbe,
                &p.name,
                &p.name,
                Box::new(move || {
                    let answer = probe::observe(&http, &spec, token.as_ref(), deadline);
                    vec![probe::evaluate(&spec, &answer, token.is_some(), now)]
                }),
            )
        })
        .collect()
}

/// The stuck-promotion watchdog: one database read, and one Heroku request when a stuck row's
/// flag is to be looked up.
fn promotions_job(
    cfg: &Config,
    secrets: &Secrets,
    http: &Http,
    now: DateTime<Utc>,
    deadline: Instant,
) -> Option<Job> {
    let spec = cfg.promotions.clone()?;
    let url = secrets.database_url.clone().unwrap_or_default();
    let heroku = Heroku::new(
        http.clone(),
        &secrets.heroku_api,
        secrets.heroku_key.as_deref().unwrap_or_default(),
        deadline,
    );
    let mut job = Job::one(
        spec.table_id(),
        Kind::StuckPromotion,
        &spec.table.clone(),
        &spec.table.clone(),
        Box::new(move || {
            let rows = crate::clients::postgres::parse_url(&url)
                .and_then(|u| promotions::read_rows(&u, &spec));
            let live = match &rows {
                Ok(rows) if !rows.is_empty() => {
                    promotions::liveness(&heroku, &spec, &stuck_only(&spec, rows, now))
                }
                _ => Default::default(),
            };
            promotions::evaluate(&spec, &rows, &live, now)
        }),
    );
    // TCP, TLS, authentication and the query, one after another.
    job.rounds = 4;
    Some(job)
}

/// The rows old enough to be reported: only their flags are worth a Heroku request.
fn stuck_only(
    spec: &promotions::PromotionsSpec,
    rows: &[promotions::Row],
    now: DateTime<Utc>,
) -> Vec<promotions::Row> {
    let warn = chrono::Duration::milliseconds((spec.warn_after_hours * 3_600_000.0) as i64);
    rows.iter()
        .filter(|r| now - r.since > warn)
        .cloned()
        .collect()
}

/// One job per Pages project.
fn pages_jobs(
    cfg: &Config,
    secrets: &Secrets,
    http: &Http,
    now: DateTime<Utc>,
    deadline: Instant,
) -> Vec<Job> {
    let client = Arc::new(Pages::new(
        http.clone(),
        &secrets.cloudflare_api,
        secrets.cloudflare_account.as_deref().unwrap_or_default(),
        secrets.cloudflare_token.as_deref().unwrap_or_default(),
        deadline,
    ));
    cfg.pages
        .iter()
        .map(|p| {
            let (client, spec) = (Arc::clone(&client), p.clone());
            Job::one(
                p.id(),
                Kind::PagesDeploy,
                &p.name,
                &p.name,
                Box::new(move || {
                    vec![pages::evaluate(&spec, &client.deployments(&spec.name), now)]
                }),
            )
        })
        .collect()
}
