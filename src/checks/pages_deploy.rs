//! `pages_deploy`: the newest production deployment of a Cloudflare Pages project failed, or
//! has been building for longer than its grace.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::pool::Identity;
use super::{Check, CheckKind, CheckResult, Context, Status, Watch, watches};
use crate::clients::cloudflare::{Deployment, PagesError};
use crate::config::file::Section;
use crate::config::{Configure, Need};
use crate::util::time::{human, rfc3339};

/// The kind's name.
pub const NAME: &str = "pages_deploy";
const SECTION: Section = Section::array("pages_project");

/// The kind: `[[pages_project]]`.
pub struct PagesDeploy;

impl CheckKind for PagesDeploy {
    fn names(&self) -> &'static [&'static str] {
        &[NAME]
    }

    fn sections(&self) -> &'static [Section] {
        &[SECTION]
    }

    fn configure(&self, cfg: &mut Configure) -> Vec<Arc<dyn Watch>> {
        let mut out = Vec::new();
        for t in cfg.tables(SECTION) {
            let name = t.required_string("name");
            let building_grace_minutes = t.int_in("building_grace_minutes", 1..=1440, 10);
            let Some(name) = name else { continue };
            let project = name.value.trim().to_string();
            if project.is_empty()
                || !project
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                t.error(
                    name.line,
                    format!("`{project}` is not a Pages project name"),
                );
                continue;
            }
            out.push(PagesSpec {
                name: project,
                building_grace_minutes,
            });
        }
        cfg.dedupe(&out, |p| p.name.clone(), "pages_project");
        watches(out)
    }

    fn runbook(&self) -> &'static [&'static str] {
        &["surface DEGRADED"]
    }
}

/// One Pages project to check.
#[derive(Debug, Clone, PartialEq)]
pub struct PagesSpec {
    /// The project's name.
    pub name: String,
    /// How long a build may take before it counts as stuck.
    pub building_grace_minutes: u32,
}

impl PagesSpec {
    /// `pages_deploy:project`.
    pub fn id(&self) -> String {
        format!("pages_deploy:{}", self.name)
    }
}

impl Check for PagesSpec {
    type Observation = Result<Vec<Deployment>, PagesError>;

    fn identities(&self) -> Vec<Identity> {
        vec![Identity::new(self.id(), NAME, &self.name, &self.name)]
    }

    fn describe(&self) -> Vec<String> {
        vec![format!(
            "{}  (grace {} min)",
            self.id(),
            self.building_grace_minutes
        )]
    }

    fn needs(&self) -> Vec<Need> {
        ["CLOUDFLARE_PAGES_READ_TOKEN", "CLOUDFLARE_ACCOUNT_ID"]
            .into_iter()
            .map(|var| Need::new(var, format!("{var} is not set: the Pages checks need it")))
            .collect()
    }

    fn observe(&self, ctx: &Context) -> Self::Observation {
        ctx.pages.deployments(&self.name)
    }

    fn evaluate(&self, seen: &Self::Observation, now: DateTime<Utc>) -> Vec<CheckResult> {
        vec![evaluate(self, seen, now)]
    }
}

/// Decides from the deployments Cloudflare listed, or from why it could not list them.
pub fn evaluate(
    spec: &PagesSpec,
    seen: &Result<Vec<Deployment>, PagesError>,
    now: DateTime<Utc>,
) -> CheckResult {
    let id = spec.id();
    let name = &spec.name;
    let mut r = match seen {
        Err(PagesError::NoSuchProject(why)) => {
            let mut r = CheckResult::new(
                &id,
                NAME,
                name,
                Status::Critical,
                format!(
                    "project {name} does not exist in the Cloudflare account (http_404: {why}): fix the name or remove it from the configuration"
                ),
            );
            r.hints = vec![
                "list the account's projects: GET /accounts/$CLOUDFLARE_ACCOUNT_ID/pages/projects"
                    .into(),
            ];
            r
        }
        Err(why) => CheckResult::new(
            &id,
            NAME,
            name,
            Status::Unknown,
            format!("could not check {name}: {why}"),
        ),
        Ok(list) => judge(spec, list, now),
    };
    r.subject_name = name.clone();
    r
}

fn judge(spec: &PagesSpec, list: &[Deployment], now: DateTime<Utc>) -> CheckResult {
    let id = spec.id();
    let newest = list
        .iter()
        .filter(|d| d.environment == "production" && !d.is_skipped)
        .max_by_key(|d| d.created_on);
    let Some(d) = newest else {
        return CheckResult::new(
            &id,
            NAME,
            &spec.name,
            Status::Warning,
            "no production deployment on record".into(),
        );
    };
    let stage = &d.latest_stage;
    let short = d
        .short_id
        .clone()
        .unwrap_or_else(|| d.id.chars().take(8).collect());
    let age = now - d.created_on;
    let grace = Duration::minutes(i64::from(spec.building_grace_minutes));
    let url = d.url.clone().unwrap_or_default();
    let (status, message) = match stage.status.as_str() {
        "failure" => (
            Status::Critical,
            format!(
                "latest production deployment {short} failed at stage {} ({} ago) {url}",
                stage.name,
                human(age)
            ),
        ),
        "canceled" => (
            Status::Critical,
            format!(
                "latest production deployment {short} was canceled at stage {} ({} ago)",
                stage.name,
                human(age)
            ),
        ),
        "success" if stage.name == "deploy" => (
            Status::Ok,
            format!("production deployment {short} is live ({} ago)", human(age)),
        ),
        _ if age > grace => (
            Status::Critical,
            format!(
                "production deployment {short} stuck at stage {} ({}) for {} (grace {} min)",
                stage.name,
                stage.status,
                human(age),
                spec.building_grace_minutes
            ),
        ),
        _ => (
            Status::Ok,
            format!(
                "production deployment {short} in progress: stage {} for {}",
                stage.name,
                human(age)
            ),
        ),
    };
    let mut r = CheckResult::new(&id, NAME, &spec.name, status, message);
    r.details = json!({
        "deployment_id": d.id,
        "created_on": rfc3339(d.created_on),
        "stage": stage.name,
        "stage_status": stage.status,
        "url": d.url,
        "building_grace_minutes": spec.building_grace_minutes,
    });
    if status != Status::Ok {
        r.since = Some(rfc3339(d.created_on));
        r.threshold = Some(format!(
            "the newest production deployment succeeds within {} min",
            spec.building_grace_minutes
        ));
        r.link = Some(format!(
            "https://dash.cloudflare.com/?to=/:account/pages/view/{}",
            spec.name
        ));
        r.hints = vec![
            "Cloudflare dashboard → Pages → the project: read the build log, then retry the deployment".into(),
            "a build stuck past the grace: cancel it and retrigger (push a commit or use the dashboard)".into(),
        ];
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::cloudflare::Stage;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn dep(created: &str, stage: &str, status: &str) -> Deployment {
        Deployment {
            id: "a50b60b9-1111-2222-3333-444455556666".into(),
            short_id: Some("a50b60b9".into()),
            environment: "production".into(),
            url: Some("https://a50b60b9.getraxx.pages.dev".into()),
            created_on: t(created),
            latest_stage: Stage {
                name: stage.into(),
                status: status.into(),
                started_on: None,
                ended_on: None,
            },
            is_skipped: false,
        }
    }

    const NOW: &str = "2026-05-23T06:30:00Z";

    fn eval(list: Vec<Deployment>) -> CheckResult {
        evaluate(
            &PagesSpec {
                name: "getraxx".into(),
                building_grace_minutes: 10,
            },
            &Ok(list),
            t(NOW),
        )
    }

    #[test]
    fn failed_building_and_live() {
        let r = eval(vec![dep("2026-05-23T06:00:00Z", "build", "failure")]);
        assert_eq!(r.status, Status::Critical);
        assert!(
            r.message.starts_with(
                "latest production deployment a50b60b9 failed at stage build (30 min ago)"
            ),
            "{}",
            r.message
        );
        assert_eq!(
            eval(vec![dep("2026-05-23T06:25:00Z", "build", "active")]).status,
            Status::Ok
        );
        let r = eval(vec![dep("2026-05-23T06:05:00Z", "queued", "idle")]);
        assert_eq!(r.status, Status::Critical);
        assert!(
            r.message
                .contains("stuck at stage queued (idle) for 25 min (grace 10 min)"),
            "{}",
            r.message
        );
        assert_eq!(
            eval(vec![dep("2026-05-22T06:00:00Z", "deploy", "success")]).status,
            Status::Ok
        );
    }

    #[test]
    fn the_newest_by_date_decides_whatever_the_order() {
        let r = eval(vec![
            dep("2026-05-22T06:00:00Z", "build", "failure"),
            dep("2026-05-23T05:00:00Z", "deploy", "success"),
        ]);
        assert_eq!(r.status, Status::Ok);
    }

    #[test]
    fn missing_project_is_critical_other_errors_unknown() {
        let spec = PagesSpec {
            name: "raxx-mockups".into(),
            building_grace_minutes: 10,
        };
        let r = evaluate(
            &spec,
            &Err(PagesError::NoSuchProject(
                "Project not found (8000007)".into(),
            )),
            t(NOW),
        );
        assert_eq!(r.status, Status::Critical);
        assert!(
            r.message
                .contains("does not exist in the Cloudflare account (http_404")
        );
        let refused = PagesError::Refused {
            status: 500,
            errors: "boom (10000)".into(),
        };
        let r = evaluate(&spec, &Err(refused), t(NOW));
        assert_eq!(r.status, Status::Unknown);
    }
}
