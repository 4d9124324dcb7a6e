//! `heroku_config`: a Heroku app must have the config vars it needs, and its feature flags
//! on. The status poller runbook's failure modes B and C (a missing Access token, a missing
//! Cloudflare account), and the cron runbook's `FLAG_*` gates that make a job skip silently.
//! Only names are ever reported: values are read, checked and dropped, and go to the run's
//! redactor in case an error echoes one.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::pool::Identity;
use super::{Check, CheckKind, CheckResult, Context, Status, Watch, watches};
use crate::clients::api::ApiError;
use crate::clients::heroku::is_app_name;
use crate::config::env::is_truthy;
use crate::config::file::Section;
use crate::config::{Configure, Need, is_env_name};

/// The kind's name.
pub const NAME: &str = "heroku_config";
/// Shared with `heroku_app`: this kind reads `required_config` and `required_flags`.
const SECTION: Section = Section::array("heroku_app");

/// The kind: `required_config` and `required_flags` on `[[heroku_app]]`.
pub struct HerokuConfig;

impl CheckKind for HerokuConfig {
    fn names(&self) -> &'static [&'static str] {
        &[NAME]
    }

    fn sections(&self) -> &'static [Section] {
        &[SECTION]
    }

    fn configure(&self, cfg: &mut Configure) -> Vec<Arc<dyn Watch>> {
        let mut out = Vec::new();
        for t in cfg.tables(SECTION) {
            let name = t.string("name");
            let lists = [t.strings("required_config"), t.strings("required_flags")];
            let mut ok = true;
            for v in lists.iter().flatten() {
                if let Some(bad) = v.value.iter().find(|n| !is_env_name(n)) {
                    t.error(v.line, format!("`{bad}` is not a config var name"));
                    ok = false;
                }
            }
            let [config, flags] = lists.map(|v| v.map(|v| v.value).unwrap_or_default());
            // A bad or missing name is said by heroku_app, which reads the same entry.
            let Some(app) = name.map(|n| n.value.trim().to_string()) else {
                continue;
            };
            if ok && is_app_name(&app) && !(config.is_empty() && flags.is_empty()) {
                out.push(Required { app, config, flags });
            }
        }
        watches(out)
    }

    fn runbook(&self) -> &'static [&'static str] {
        &["heroku CONFIG MISSING"]
    }
}

/// What one app must have.
#[derive(Debug, Clone, PartialEq)]
pub struct Required {
    /// The app.
    pub app: String,
    /// Config vars that must be set and not empty.
    pub config: Vec<String>,
    /// Config vars that must hold a truthy value (`1`, `true`, `yes`, `on`).
    pub flags: Vec<String>,
}

/// What the app's config vars say, by name only: no value is kept.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Seen {
    /// Required vars that are unset or empty.
    pub missing: Vec<String>,
    /// Flags that are unset or not truthy.
    pub off: Vec<String>,
}

impl Required {
    /// `heroku_config:app`.
    pub fn id(&self) -> String {
        format!("{NAME}:{}", self.app)
    }

    /// What the app's values mean, by name; the values themselves are not kept.
    pub fn judge(&self, value: impl Fn(&str) -> Option<String>) -> Seen {
        Seen {
            missing: self
                .config
                .iter()
                .filter(|n| value(n).is_none_or(|v| v.trim().is_empty()))
                .cloned()
                .collect(),
            off: self
                .flags
                .iter()
                .filter(|n| !value(n).is_some_and(|v| is_truthy(&v)))
                .cloned()
                .collect(),
        }
    }
}

impl Check for Required {
    type Observation = Result<Seen, ApiError>;

    fn identities(&self) -> Vec<Identity> {
        vec![Identity::new(self.id(), NAME, &self.app, &self.app)]
    }

    fn describe(&self) -> Vec<String> {
        let mut parts = Vec::new();
        if !self.config.is_empty() {
            parts.push(format!("needs {}", self.config.join(", ")));
        }
        if !self.flags.is_empty() {
            parts.push(format!("flags on: {}", self.flags.join(", ")));
        }
        vec![format!("{}  ({})", self.id(), parts.join("; "))]
    }

    fn needs(&self) -> Vec<Need> {
        vec![Need::new(
            "HEROKU_API_KEY",
            "HEROKU_API_KEY is not set: the Heroku checks need it",
        )]
    }

    fn observe(&self, ctx: &Context) -> Self::Observation {
        let wanted: Vec<String> = self.config.iter().chain(&self.flags).cloned().collect();
        let vars = ctx.heroku.config_vars(&self.app, &wanted)?;
        for v in vars.values() {
            ctx.learn(v);
        }
        Ok(self.judge(|n| vars.get(n).cloned()))
    }

    fn evaluate(&self, seen: &Self::Observation, _now: DateTime<Utc>) -> Vec<CheckResult> {
        vec![evaluate(self, seen)]
    }
}

/// Decides from the names that are missing or off, or from why they could not be read.
pub fn evaluate(req: &Required, seen: &Result<Seen, ApiError>) -> CheckResult {
    let app = &req.app;
    let seen = match seen {
        Err(e) => {
            let mut r = CheckResult::new(
                &req.id(),
                NAME,
                app,
                Status::Unknown,
                format!("could not check {app}: {e}"),
            );
            r.subject_name = app.clone();
            return r;
        }
        Ok(seen) => seen,
    };
    let mut said = Vec::new();
    if !seen.missing.is_empty() {
        said.push(format!(
            "lacks config var{} {}",
            if seen.missing.len() == 1 { "" } else { "s" },
            seen.missing.join(", ")
        ));
    }
    if !seen.off.is_empty() {
        said.push(format!(
            "has flag{} {} off (not 1, true, yes or on)",
            if seen.off.len() == 1 { "" } else { "s" },
            seen.off.join(", ")
        ));
    }
    let checked = req.config.len() + req.flags.len();
    let (status, message) = if said.is_empty() {
        (
            Status::Ok,
            format!("{app} has all {checked} required config vars and flags"),
        )
    } else {
        (Status::Critical, format!("{app} {}", said.join(" and ")))
    };
    let mut r = CheckResult::new(&req.id(), NAME, app, status, message);
    r.subject_name = app.clone();
    r.details = json!({"missing": seen.missing, "flags_off": seen.off, "checked": checked});
    if status == Status::Critical {
        r.threshold = Some("every required config var set, every required flag on".into());
        r.link = Some(format!("https://dashboard.heroku.com/apps/{app}/settings"));
        r.hints = seen
            .missing
            .iter()
            .map(|n| format!("heroku config:set {n}=... --app {app}"))
            .chain(
                seen.off
                    .iter()
                    .map(|n| format!("heroku config:set {n}=1 --app {app}    # turns the flag on")),
            )
            .collect();
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> Required {
        Required {
            app: "raxx-console-prod".into(),
            config: vec![
                "CF_ACCESS_SERVICE_TOKEN_CONSOLE".into(),
                "CLOUDFLARE_ACCOUNT_ID".into(),
            ],
            flags: vec!["FLAG_TRACE_INTEGRITY_CHECK".into()],
        }
    }

    #[test]
    fn empty_counts_as_missing_and_flags_read_as_the_gate_does() {
        let seen = req().judge(|n| match n {
            "CF_ACCESS_SERVICE_TOKEN_CONSOLE" => Some("id.access:s3cret".into()),
            "CLOUDFLARE_ACCOUNT_ID" => Some("  ".into()),
            "FLAG_TRACE_INTEGRITY_CHECK" => Some("enabled".into()),
            _ => None,
        });
        assert_eq!(seen.missing, ["CLOUDFLARE_ACCOUNT_ID"]);
        assert_eq!(seen.off, ["FLAG_TRACE_INTEGRITY_CHECK"]);
        let on = req().judge(|n| Some(if n.starts_with("FLAG_") { "On" } else { "x" }.into()));
        assert_eq!(on, Seen::default());
    }

    #[test]
    fn only_names_appear_and_each_gets_its_fix() {
        let seen = Seen {
            missing: vec!["CLOUDFLARE_ACCOUNT_ID".into()],
            off: vec!["FLAG_TRACE_INTEGRITY_CHECK".into()],
        };
        let r = evaluate(&req(), &Ok(seen));
        assert_eq!(r.status, Status::Critical);
        assert_eq!(
            r.message,
            "raxx-console-prod lacks config var CLOUDFLARE_ACCOUNT_ID and has flag FLAG_TRACE_INTEGRITY_CHECK off (not 1, true, yes or on)"
        );
        assert_eq!(
            r.hints,
            [
                "heroku config:set CLOUDFLARE_ACCOUNT_ID=... --app raxx-console-prod",
                "heroku config:set FLAG_TRACE_INTEGRITY_CHECK=1 --app raxx-console-prod    # turns the flag on"
            ]
        );
        let ok = evaluate(&req(), &Ok(Seen::default()));
        assert_eq!(ok.status, Status::Ok);
        assert_eq!(
            ok.message,
            "raxx-console-prod has all 3 required config vars and flags"
        );
    }
}
