//! `heroku_slug` and `heroku_dynos`: an app that never had code deployed, and an app with
//! fewer web dynos up than it needs, and for how long, from Heroku's own timestamps. The two
//! checks of one app share one job and what it fetched: two requests when healthy.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::pool::Identity;
use super::{Check, CheckKind, CheckResult, Context, Status, Watch, watches};
use crate::clients::api::ApiError;
use crate::clients::heroku::{App, Code, Dyno, Formation, Heroku, Release, is_app_name};
use crate::config::file::Section;
use crate::config::{Configure, Need};
use crate::util::time::{human, rfc3339};

/// The slug check's name.
pub const SLUG: &str = "heroku_slug";
/// The dyno check's name.
pub const DYNOS: &str = "heroku_dynos";
/// A release still `pending` after this long is stuck.
pub const PENDING_GRACE_MINUTES: i64 = 30;
const SECTION: Section = Section::array("heroku_app");

/// The kind: `[[heroku_app]]` and `--heroku-app`.
pub struct HerokuApp;

impl CheckKind for HerokuApp {
    fn names(&self) -> &'static [&'static str] {
        &[SLUG, DYNOS]
    }

    fn sections(&self) -> &'static [Section] {
        &[SECTION]
    }

    fn configure(&self, cfg: &mut Configure) -> Vec<Arc<dyn Watch>> {
        let mut apps = Vec::new();
        for t in cfg.tables(SECTION) {
            let name = t.required_string("name");
            let min_web_dynos = t.int_in("min_web_dynos", 0..=100, 1);
            let down_grace_minutes = t.int_in("down_grace_minutes", 0..=1440, 5);
            let check_slug = t.boolean("check_slug").is_none_or(|v| v.value);
            let Some(name) = name else { continue };
            let app = name.value.trim().to_string();
            if !is_app_name(&app) {
                t.error(
                    name.line,
                    format!("`{app}` is not a Heroku app name (lowercase letters, digits and dashes, 3 to 30)"),
                );
                continue;
            }
            apps.push(HerokuAppSpec {
                name: app,
                min_web_dynos,
                down_grace_minutes,
                check_slug,
            });
        }
        for name in &cfg.cli.heroku_app {
            if !is_app_name(name) {
                cfg.error("--heroku-app", format!("`{name}` is not a Heroku app name"));
                continue;
            }
            apps.push(HerokuAppSpec {
                name: name.clone(),
                min_web_dynos: 1,
                down_grace_minutes: 5,
                check_slug: true,
            });
        }
        cfg.dedupe(&apps, |a| a.name.clone(), "heroku_app");
        watches(apps)
    }

    fn subject(&self, check: &CheckResult) -> String {
        let name = &check.subject_name;
        match check.kind {
            SLUG if check.status == Status::Critical => format!("heroku NO SLUG: {name}"),
            SLUG => format!("heroku RELEASE FAILED: {name}"),
            _ => format!("heroku DYNOS DOWN: {name}"),
        }
    }

    fn runbook(&self) -> &'static [&'static str] {
        &[
            "heroku NO SLUG",
            "heroku RELEASE FAILED",
            "heroku DYNOS DOWN",
        ]
    }
}

/// One Heroku app to check.
#[derive(Debug, Clone, PartialEq)]
pub struct HerokuAppSpec {
    /// The app's name.
    pub name: String,
    /// Web dynos that must be up; 0 turns the dyno check off.
    pub min_web_dynos: u32,
    /// How long a shortfall is only a warning.
    pub down_grace_minutes: u32,
    /// Whether to check that the newest release has code.
    pub check_slug: bool,
}

impl HerokuAppSpec {
    /// `heroku_slug:app`.
    pub fn slug_id(&self) -> String {
        format!("heroku_slug:{}", self.name)
    }

    /// `heroku_dynos:app`.
    pub fn dynos_id(&self) -> String {
        format!("heroku_dynos:{}", self.name)
    }
}

impl Check for HerokuAppSpec {
    type Observation = Result<Observation, ApiError>;

    fn slug_checked(&self) -> Option<&str> {
        self.check_slug.then_some(self.name.as_str())
    }

    fn identities(&self) -> Vec<Identity> {
        let mut out = Vec::new();
        if self.check_slug {
            out.push(Identity::new(self.slug_id(), SLUG, &self.name, &self.name));
        }
        if self.min_web_dynos > 0 {
            out.push(Identity::new(
                self.dynos_id(),
                DYNOS,
                &self.name,
                &self.name,
            ));
        }
        out
    }

    fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.check_slug {
            out.push(self.slug_id());
        }
        if self.min_web_dynos > 0 {
            out.push(format!(
                "{}  (min {} web, grace {} min)",
                self.dynos_id(),
                self.min_web_dynos,
                self.down_grace_minutes
            ));
        }
        out
    }

    fn needs(&self) -> Vec<Need> {
        vec![Need::new(
            "HEROKU_API_KEY",
            "HEROKU_API_KEY is not set: the Heroku checks need it",
        )]
    }

    fn rounds(&self) -> usize {
        Check::identities(self).len()
    }

    fn observe(&self, ctx: &Context) -> Self::Observation {
        observe(&ctx.heroku, self)
    }

    fn evaluate(&self, seen: &Self::Observation, now: DateTime<Utc>) -> Vec<CheckResult> {
        evaluate(self, seen, now)
    }
}

/// Since when the app has been short of web dynos, and the event that says so.
#[derive(Debug, Clone, PartialEq)]
pub struct Since {
    /// The instant.
    pub at: DateTime<Utc>,
    /// e.g. "web.1 crashed at T".
    pub why: String,
}

/// Why the start of an outage could not be dated.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SinceError {
    /// Heroku could not be asked.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// Nothing it said carries a usable time.
    #[error("Heroku gave no timestamp to date the outage from")]
    NoTimestamp,
}

/// What the job learned from Heroku. A `None` field was not needed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observation {
    /// The newest release (slug check on).
    pub release: Option<Result<Option<Release>, ApiError>>,
    /// The dynos (dyno check on).
    pub dynos: Option<Result<Vec<Dyno>, ApiError>>,
    /// Since when it has been short, asked only when it is.
    pub short_since: Option<Result<Since, SinceError>>,
}

/// Web dynos in state `up`. Workers and one-off dynos do not serve traffic.
pub fn web_up(dynos: &[Dyno]) -> u32 {
    dynos
        .iter()
        .filter(|d| d.kind == "web" && d.state == "up")
        .count() as u32
}

/// Since when the app has been short, from the API's own timestamps: a web dyno that is not
/// up (when it last changed state), else the web formation scaled to 0 (when it was scaled),
/// else the app (no web formation: nothing was ever deployed), else the newest release.
pub fn short_since(
    dynos: &[Dyno],
    formation: Option<&[Formation]>,
    app: Option<&App>,
    release: Option<&Release>,
) -> Option<Since> {
    let down = dynos
        .iter()
        .filter(|d| d.kind == "web" && d.state != "up")
        .max_by_key(|d| d.updated_at);
    if let Some(d) = down {
        return Some(Since {
            at: d.updated_at,
            why: format!("{} {} at {}", d.name, d.state, rfc3339(d.updated_at)),
        });
    }
    let web = formation.and_then(|f| f.iter().find(|f| f.kind == "web"));
    match (web, app, release) {
        (Some(w), _, _) if w.quantity == 0 => Some(Since {
            at: w.updated_at,
            why: format!("web scaled to 0 at {}", rfc3339(w.updated_at)),
        }),
        (None, Some(a), _) => Some(Since {
            at: a.created_at,
            why: format!(
                "no web process at all: nothing deployed since the app was created at {}",
                rfc3339(a.created_at)
            ),
        }),
        (_, _, Some(r)) => Some(Since {
            at: r.created_at,
            why: format!(
                "no web dyno since release v{} at {}",
                r.version,
                rfc3339(r.created_at)
            ),
        }),
        (_, Some(a), None) => Some(Since {
            at: a.released_at.unwrap_or(a.created_at),
            why: "no web dyno running".into(),
        }),
        _ => None,
    }
}

/// Asks Heroku what the two checks need, and no more.
pub fn observe(h: &Heroku, spec: &HerokuAppSpec) -> Result<Observation, ApiError> {
    let mut obs = Observation::default();
    // The release and the dynos side by side: one round trip for a healthy app, not two.
    let (release, dynos) = std::thread::scope(|s| {
        let dynos = (spec.min_web_dynos > 0).then(|| s.spawn(|| h.dynos(&spec.name)));
        let release = spec.check_slug.then(|| h.newest_release(&spec.name));
        let dynos = dynos.map(|d| d.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        (release, dynos)
    });
    match release {
        Some(Err(e @ ApiError::NotFound { .. })) => return Err(e),
        r => obs.release = r,
    }
    let Some(dynos) = dynos else {
        return Ok(obs);
    };
    let dynos = match dynos {
        Err(e @ ApiError::NotFound { .. }) => return Err(e),
        r => r,
    };
    if let Ok(list) = &dynos
        && web_up(list) < spec.min_web_dynos
    {
        obs.short_since = Some(find_since(h, spec, list, &obs));
    }
    obs.dynos = Some(dynos);
    Ok(obs)
}

fn find_since(
    h: &Heroku,
    spec: &HerokuAppSpec,
    dynos: &[Dyno],
    obs: &Observation,
) -> Result<Since, SinceError> {
    let release = match &obs.release {
        Some(Ok(r)) => r.clone(),
        _ => None,
    };
    if let Some(s) = short_since(dynos, None, None, None) {
        return Ok(s);
    }
    let formation = h.formation(&spec.name)?;
    let has_web = formation.iter().any(|f| f.kind == "web");
    let app = if has_web {
        None
    } else {
        Some(h.app(&spec.name)?)
    };
    short_since(dynos, Some(&formation), app.as_ref(), release.as_ref())
        .ok_or(SinceError::NoTimestamp)
}

/// Both results for one app. `Err` is an app Heroku does not know, or could not be asked
/// about: both checks are then `unknown` with Heroku's own words.
pub fn evaluate(
    spec: &HerokuAppSpec,
    obs: &Result<Observation, ApiError>,
    now: DateTime<Utc>,
) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let unknown = |id: String, kind: &'static str, why: &dyn std::fmt::Display| {
        let mut r = CheckResult::new(
            &id,
            kind,
            &spec.name,
            Status::Unknown,
            format!("could not check {}: {why}", spec.name),
        );
        r.subject_name = spec.name.clone();
        r
    };
    match obs {
        Err(why) => {
            if spec.check_slug {
                out.push(unknown(spec.slug_id(), SLUG, why));
            }
            if spec.min_web_dynos > 0 {
                out.push(unknown(spec.dynos_id(), DYNOS, why));
            }
        }
        Ok(obs) => {
            match &obs.release {
                Some(Ok(release)) => out.push(slug(spec, release.as_ref(), now)),
                Some(Err(why)) => out.push(unknown(spec.slug_id(), SLUG, why)),
                None => {}
            }
            match &obs.dynos {
                Some(Ok(dynos)) => {
                    out.push(dynos_result(spec, dynos, obs.short_since.as_ref(), now))
                }
                Some(Err(why)) => out.push(unknown(spec.dynos_id(), DYNOS, why)),
                None => {}
            }
        }
    }
    for r in &mut out {
        r.subject_name = spec.name.clone();
        if r.status != Status::Ok {
            r.hints = hints(&spec.name, r.kind);
        }
    }
    out
}

fn slug(spec: &HerokuAppSpec, release: Option<&Release>, now: DateTime<Utc>) -> CheckResult {
    let id = spec.slug_id();
    let Some(rel) = release else {
        let mut r = CheckResult::new(
            &id,
            SLUG,
            &spec.name,
            Status::Critical,
            "the app has no release at all: nothing was ever deployed".into(),
        );
        r.link = Some(activity(&spec.name));
        return r;
    };
    let age = now - rel.created_at;
    let code = rel.code();
    let what = format!("v{} '{}'", rel.version, rel.description);
    let (status, message) = if rel.is_expired() {
        // Heroku's retention, not a missing deploy: there was code, since destroyed.
        (
            Status::Ok,
            format!(
                "latest release {what} is expired: a retired release whose artifacts Heroku destroyed (it keeps 30 days and 20 releases), not a missing deploy ({} ago)",
                human(age)
            ),
        )
    } else if code.is_none() {
        (
            Status::Critical,
            format!(
                "no code has ever been deployed: latest release {what} has no slug ({} ago)",
                human(age)
            ),
        )
    } else if rel.status == "failed" {
        (
            Status::Warning,
            format!(
                "newest release {what} failed {} ago; the previous release keeps running",
                human(age)
            ),
        )
    } else if rel.status == "pending" && age > Duration::minutes(PENDING_GRACE_MINUTES) {
        (
            Status::Warning,
            format!(
                "newest release {what} has been pending for {} (release phase stuck?)",
                human(age)
            ),
        )
    } else {
        let image = match &code {
            Some(Code::OciImage(id)) => format!("OCI image {}, ", id.get(..8).unwrap_or(id)),
            _ => String::new(),
        };
        (
            Status::Ok,
            format!(
                "latest release {what} runs deployed code ({image}{} ago)",
                human(age)
            ),
        )
    };
    let mut r = CheckResult::new(&id, SLUG, &spec.name, status, message);
    r.details = json!({
        "version": rel.version,
        "description": rel.description,
        "status": rel.status,
        "slug": rel.slug.as_ref().map(|s| s.id.clone()),
        "oci_image": match &code {
            Some(Code::OciImage(id)) => Some(id.clone()),
            _ => None,
        },
        "created_at": rfc3339(rel.created_at),
        "current": rel.current,
    });
    if status != Status::Ok {
        r.threshold = Some(match status {
            Status::Critical => "the newest release carries code (a slug or an OCI image)".into(),
            _ => format!("the newest release succeeds within {PENDING_GRACE_MINUTES} min"),
        });
        r.since = (status == Status::Warning).then(|| rfc3339(rel.created_at));
        r.link = Some(activity(&spec.name));
    }
    r
}

fn dynos_result(
    spec: &HerokuAppSpec,
    dynos: &[Dyno],
    since: Option<&Result<Since, SinceError>>,
    now: DateTime<Utc>,
) -> CheckResult {
    let id = spec.dynos_id();
    let up = web_up(dynos);
    let min = spec.min_web_dynos;
    let web: Vec<_> = dynos
        .iter()
        .filter(|d| d.kind == "web")
        .map(|d| json!({"name": d.name, "state": d.state, "updated_at": rfc3339(d.updated_at)}))
        .collect();
    let mut details = json!({"web_up": up, "min_web_dynos": min, "web_dynos": web, "down_grace_minutes": spec.down_grace_minutes});
    if up >= min {
        let mut r = CheckResult::new(
            &id,
            DYNOS,
            &spec.name,
            Status::Ok,
            format!("{up} of {min} web dynos up"),
        );
        r.details = details;
        return r;
    }
    let grace = Duration::minutes(i64::from(spec.down_grace_minutes));
    let (status, message) = match since {
        Some(Ok(s)) => {
            let down_for = (now - s.at).max(Duration::zero());
            details["down_since"] = json!(rfc3339(s.at));
            let status = if down_for > grace {
                Status::Critical
            } else {
                Status::Warning
            };
            (
                status,
                format!(
                    "{up} of {min} web dynos up for {} ({})",
                    human(down_for),
                    s.why
                ),
            )
        }
        Some(Err(e)) => (
            Status::Critical,
            format!("{up} of {min} web dynos up; since when is not known ({e})"),
        ),
        None => (Status::Critical, format!("{up} of {min} web dynos up")),
    };
    let mut r = CheckResult::new(&id, DYNOS, &spec.name, status, message);
    r.details = details;
    r.since = since.and_then(|s| s.as_ref().ok()).map(|s| rfc3339(s.at));
    r.threshold = Some(format!(
        "at least {min} web dyno(s) up; short for more than {} min is critical",
        spec.down_grace_minutes
    ));
    r.link = Some(format!(
        "https://dashboard.heroku.com/apps/{}/resources",
        spec.name
    ));
    r
}

fn activity(app: &str) -> String {
    format!("https://dashboard.heroku.com/apps/{app}/activity")
}

fn hints(app: &str, kind: &str) -> Vec<String> {
    match kind {
        SLUG => vec![
            format!(
                "heroku releases --app {app}    # only 'Set … config vars', no 'Deploy …': code never shipped"
            ),
            format!("heroku ps --app {app}"),
        ],
        _ => vec![
            format!(
                "heroku ps --app {app}    # expect web dynos up (web.1 on Cedar, web-… on Fir)"
            ),
            format!("heroku logs --tail --app {app}    # R10 boot timeout, H10 crash, R14 memory"),
            format!(
                "heroku ps:scale web=1 --app {app}    # if it was scaled to 0 and a slug exists"
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::heroku::SlugRef;

    const NOW: &str = "2026-04-30T16:30:00Z";

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn spec() -> HerokuAppSpec {
        HerokuAppSpec {
            name: "raxx-api-prod".into(),
            min_web_dynos: 1,
            down_grace_minutes: 5,
            check_slug: true,
        }
    }

    fn release(v: u64, slug: bool, status: &str, desc: &str, at: &str) -> Release {
        Release {
            version: v,
            slug: slug.then(|| SlugRef {
                id: "c7b5b1e0-5a49-4f8a-9f0b-2a1c8f3d9e11".into(),
            }),
            status: status.into(),
            description: desc.into(),
            created_at: t(at),
            current: true,
            artifacts: vec![],
        }
    }

    fn dyno(name: &str, kind: &str, state: &str, at: &str) -> Dyno {
        Dyno {
            name: name.into(),
            kind: kind.into(),
            state: state.into(),
            updated_at: t(at),
        }
    }

    fn obs(
        release: Option<Release>,
        dynos: Vec<Dyno>,
        since: Option<Since>,
    ) -> Result<Observation, ApiError> {
        Ok(Observation {
            release: Some(Ok(release)),
            dynos: Some(Ok(dynos)),
            short_since: since.map(Ok),
        })
    }

    #[test]
    fn never_deployed_is_critical_and_names_the_release() {
        let rel = release(
            7,
            false,
            "succeeded",
            "Set STATUS_WORKER_URL config vars",
            "2026-04-30T02:21:00Z",
        );
        let r = &evaluate(&spec(), &obs(Some(rel), vec![], None), t(NOW))[0];
        assert_eq!(r.status, Status::Critical);
        assert_eq!(
            r.message,
            "no code has ever been deployed: latest release v7 'Set STATUS_WORKER_URL config vars' has no slug (14 h ago)"
        );
    }

    #[test]
    fn failed_and_stuck_pending_releases_warn() {
        let rel = release(12, true, "failed", "Deploy 3f2a1c9", "2026-04-30T14:30:00Z");
        let r = &evaluate(
            &spec(),
            &obs(Some(rel), vec![dyno("web.1", "web", "up", NOW)], None),
            t(NOW),
        )[0];
        assert_eq!(r.status, Status::Warning);
        assert!(
            r.message.contains("v12 'Deploy 3f2a1c9' failed 2 h ago"),
            "{}",
            r.message
        );
        let rel = release(
            12,
            true,
            "pending",
            "Deploy 3f2a1c9",
            "2026-04-30T16:20:00Z",
        );
        assert_eq!(
            evaluate(&spec(), &obs(Some(rel), vec![], None), t(NOW))[0].status,
            Status::Ok
        );
        let rel = release(
            12,
            true,
            "pending",
            "Deploy 3f2a1c9",
            "2026-04-30T15:00:00Z",
        );
        assert_eq!(
            evaluate(&spec(), &obs(Some(rel), vec![], None), t(NOW))[0].status,
            Status::Warning
        );
    }

    #[test]
    fn oci_images_count_as_code() {
        let mut rel = release(
            3,
            false,
            "succeeded",
            "Deploy 1a2b3c",
            "2026-04-30T10:00:00Z",
        );
        rel.artifacts = vec![crate::clients::heroku::Artifact {
            kind: "oci-image".into(),
            id: Some("4e7a2b1c-9d3f-4a6b-8c5e-1f2a3b4c5d6e".into()),
        }];
        let r = &evaluate(&spec(), &obs(Some(rel), vec![], None), t(NOW))[0];
        assert_eq!(r.status, Status::Ok);
        assert_eq!(
            r.message,
            "latest release v3 'Deploy 1a2b3c' runs deployed code (OCI image 4e7a2b1c, 6 h ago)"
        );
    }

    #[test]
    fn an_expired_release_is_retired_not_never_deployed() {
        let rel = release(9, false, "expired", "Deploy 1a2b3c", "2026-03-20T10:00:00Z");
        let r = &evaluate(&spec(), &obs(Some(rel), vec![], None), t(NOW))[0];
        assert_eq!(r.status, Status::Ok);
        assert!(
            r.message.contains("is expired: a retired release"),
            "{}",
            r.message
        );
        assert!(!r.message.contains("no code"), "{}", r.message);
    }

    #[test]
    fn fir_dynos_count_by_type() {
        let dynos = [
            dyno("web-58d9c6b7f4-x2k9q", "web", "up", NOW),
            dyno("web-58d9c6b7f4-p7m3z", "web", "crashed", NOW),
            dyno("worker-6c4f8d9b2a-q1w2e", "worker", "up", NOW),
        ];
        assert_eq!(web_up(&dynos), 1);
    }

    #[test]
    fn dynos_short_inside_grace_warn_then_critical() {
        let rel = release(
            42,
            true,
            "succeeded",
            "Deploy 3f2a1c9",
            "2026-04-29T10:00:00Z",
        );
        let crashed = vec![
            dyno("web.1", "web", "crashed", "2026-04-30T16:27:00Z"),
            dyno("worker.1", "worker", "up", "2026-04-30T10:00:00Z"),
        ];
        let since = short_since(&crashed, None, None, None);
        let r = &evaluate(
            &spec(),
            &obs(Some(rel.clone()), crashed.clone(), since.clone()),
            t(NOW),
        )[1];
        assert_eq!(r.status, Status::Warning);
        assert_eq!(
            r.message,
            "0 of 1 web dynos up for 3 min (web.1 crashed at 2026-04-30T16:27:00Z)"
        );
        let later = t("2026-04-30T19:30:00Z");
        let r = &evaluate(&spec(), &obs(Some(rel), crashed, since), later)[1];
        assert_eq!(r.status, Status::Critical);
        assert_eq!(
            r.message,
            "0 of 1 web dynos up for 3 h (web.1 crashed at 2026-04-30T16:27:00Z)"
        );
    }

    #[test]
    fn since_comes_from_formation_or_app() {
        let scaled = vec![Formation {
            kind: "web".into(),
            quantity: 0,
            updated_at: t("2026-04-30T12:00:00Z"),
        }];
        let s = short_since(&[], Some(&scaled), None, None).unwrap();
        assert_eq!(s.why, "web scaled to 0 at 2026-04-30T12:00:00Z");
        let app = App {
            name: "raxx-api-prod".into(),
            created_at: t("2026-04-22T06:53:00Z"),
            released_at: None,
            web_url: None,
        };
        let s = short_since(&[], Some(&[]), Some(&app), None).unwrap();
        assert_eq!(s.at, t("2026-04-22T06:53:00Z"));
        assert!(s.why.starts_with("no web process at all"));
    }

    #[test]
    fn unknown_app_makes_both_unknown() {
        let rs = evaluate(
            &spec(),
            &Err(ApiError::NotFound {
                api: "Heroku",
                what: "app x".into(),
                detail: ": Couldn't find that app.".into(),
            }),
            t(NOW),
        );
        assert_eq!(rs.len(), 2);
        assert!(
            rs.iter()
                .all(|r| r.status == Status::Unknown
                    && r.message.contains("Couldn't find that app."))
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(super::human(Duration::minutes(3)), "3 min");
        assert_eq!(human(Duration::minutes(180)), "3 h");
        assert_eq!(human(Duration::days(8)), "8 days");
    }
}
