//! Resolving `[[heroku_app]]`, `[[http_probe]]` and `[[pages_project]]` entries into checks,
//! each bad value reported with its line.

use std::collections::HashSet;

use toml::Spanned;

use super::ConfigError;
use super::file::{FileConfig, line_of};
use crate::checks::heroku::HerokuAppSpec;
use crate::checks::pages::PagesSpec;
use crate::checks::probe::ProbeSpec;
use crate::checks::promotions::{PromotionsSpec, is_ident};
use crate::clients::postgres::DbLimits;

/// Reports problems at lines of one file.
pub struct Lines<'a> {
    /// The file's text.
    pub text: &'a str,
    /// Its name in messages.
    pub path: &'a str,
}

impl Lines<'_> {
    fn err<T>(&self, v: &Spanned<T>, message: String) -> ConfigError {
        let line = line_of(self.text, v);
        ConfigError {
            place: format!("{} line {line}", self.path),
            line,
            message,
        }
    }

    /// `v` if it lies in `range`, else an error naming `key`.
    fn int_in<T: TryFrom<i64>>(
        &self,
        v: Option<&Spanned<i64>>,
        key: &str,
        range: std::ops::RangeInclusive<i64>,
        default: T,
        errors: &mut Vec<ConfigError>,
    ) -> T {
        let Some(v) = v else { return default };
        let n = *v.get_ref();
        match T::try_from(n) {
            Ok(x) if range.contains(&n) => x,
            _ => {
                errors.push(self.err(
                    v,
                    format!(
                        "{key} must be {} to {}, not {n}",
                        range.start(),
                        range.end()
                    ),
                ));
                default
            }
        }
    }
}

/// Whether `name` is a valid Heroku app name.
pub fn is_app_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=30).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && *b.last().unwrap_or(&b'-') != b'-'
}

/// The Heroku apps of the file, then those of `--heroku-app`.
pub fn heroku_apps(
    file: &FileConfig,
    flags: &[String],
    at: &Lines,
    errors: &mut Vec<ConfigError>,
) -> Vec<HerokuAppSpec> {
    let mut apps = Vec::new();
    for e in &file.heroku_apps {
        let name = e.name.get_ref().trim().to_string();
        if !is_app_name(&name) {
            errors.push(at.err(&e.name, format!("`{name}` is not a Heroku app name (lowercase letters, digits and dashes, 3 to 30)")));
            continue;
        }
        apps.push(HerokuAppSpec {
            name,
            min_web_dynos: at.int_in(
                e.min_web_dynos.as_ref(),
                "min_web_dynos",
                0..=100,
                1,
                errors,
            ),
            down_grace_minutes: at.int_in(
                e.down_grace_minutes.as_ref(),
                "down_grace_minutes",
                0..=1440,
                5,
                errors,
            ),
            check_slug: e.check_slug.unwrap_or(true),
        });
    }
    for name in flags {
        if !is_app_name(name) {
            errors.push(ConfigError {
                place: "--heroku-app".into(),
                line: 0,
                message: format!("`{name}` is not a Heroku app name"),
            });
            continue;
        }
        apps.push(HerokuAppSpec {
            name: name.clone(),
            min_web_dynos: 1,
            down_grace_minutes: 5,
            check_slug: true,
        });
    }
    dedupe(&apps, |a| a.name.clone(), "heroku_app", errors);
    apps
}

/// The probes of the file.
pub fn probes(file: &FileConfig, at: &Lines, errors: &mut Vec<ConfigError>) -> Vec<ProbeSpec> {
    let mut probes = Vec::new();
    for e in &file.probes {
        let name = e.name.get_ref().trim().to_string();
        let url = e.url.get_ref().trim().to_string();
        let mut ok = true;
        if name.is_empty() {
            errors.push(at.err(&e.name, "http_probe name must not be empty".into()));
            ok = false;
        }
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains('@') {
            errors.push(at.err(
                &e.url,
                format!(
                    "url must be an http(s) URL without credentials, not `{}`",
                    crate::clients::api::strip_query(&url)
                ),
            ));
            ok = false;
        }
        if let Some(v) = &e.cf_access_token_env
            && !is_env_name(v.get_ref())
        {
            errors.push(at.err(
                v,
                format!(
                    "cf_access_token_env must name an environment variable, not `{}`",
                    v.get_ref()
                ),
            ));
            ok = false;
        }
        let expect_status = at.int_in(
            e.expect_status.as_ref(),
            "expect_status",
            100..=599,
            200,
            errors,
        );
        let fresh_max_age_seconds = at.int_in(
            e.fresh_max_age_seconds.as_ref(),
            "fresh_max_age_seconds",
            1..=31_536_000,
            120,
            errors,
        );
        if ok {
            probes.push(ProbeSpec {
                name,
                url,
                token_env: e.cf_access_token_env.as_ref().map(|v| v.get_ref().clone()),
                expect_status,
                fresh_field: e.fresh_field.clone(),
                fresh_max_age_seconds,
            });
        }
    }
    dedupe(&probes, |p| p.name.clone(), "http_probe", errors);
    probes
}

/// The Pages projects of the file.
pub fn pages(file: &FileConfig, at: &Lines, errors: &mut Vec<ConfigError>) -> Vec<PagesSpec> {
    let mut out = Vec::new();
    for e in &file.pages {
        let name = e.name.get_ref().trim().to_string();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            errors.push(at.err(&e.name, format!("`{name}` is not a Pages project name")));
            continue;
        }
        out.push(PagesSpec {
            name,
            building_grace_minutes: at.int_in(
                e.building_grace_minutes.as_ref(),
                "building_grace_minutes",
                1..=1440,
                10,
                errors,
            ),
        });
    }
    dedupe(&out, |p| p.name.clone(), "pages_project", errors);
    out
}

/// The `[promotions]` watchdog, when configured.
pub fn promotions(
    file: &FileConfig,
    at: &Lines,
    errors: &mut Vec<ConfigError>,
) -> Option<PromotionsSpec> {
    let p = file.promotions.as_ref()?;
    let before = errors.len();
    let ident = |v: Option<&Spanned<String>>,
                 default: &str,
                 key: &str,
                 schema: bool,
                 errors: &mut Vec<ConfigError>| {
        let Some(v) = v else {
            return default.to_string();
        };
        let name = v.get_ref().trim().to_string();
        if !is_ident(&name, schema) {
            errors.push(at.err(
                v,
                format!("{key} `{name}` is not a plain SQL identifier (letters, digits, _)"),
            ));
        }
        name
    };
    let table = ident(Some(&p.table), "", "table", true, errors);
    let id_column = ident(p.id_column.as_ref(), "id", "id_column", false, errors);
    let name_column = ident(
        p.name_column.as_ref(),
        "flag_name",
        "name_column",
        false,
        errors,
    );
    let state_column = ident(
        p.state_column.as_ref(),
        "state",
        "state_column",
        false,
        errors,
    );
    let since_column = ident(
        p.since_column.as_ref(),
        "updated_at",
        "since_column",
        false,
        errors,
    );
    let database_url_env = match &p.database_url_env {
        Some(v) if !is_env_name(v.get_ref()) => {
            errors.push(at.err(
                v,
                format!(
                    "database_url_env must name an environment variable, not `{}`",
                    v.get_ref()
                ),
            ));
            String::new()
        }
        Some(v) => v.get_ref().clone(),
        None => "CONSOLE_DATABASE_URL".into(),
    };
    let stuck_states = match &p.stuck_states {
        Some(v) if v.get_ref().is_empty() || v.get_ref().iter().any(|s| s.trim().is_empty()) => {
            errors.push(at.err(
                v,
                "stuck_states must list at least one non-empty state".into(),
            ));
            Vec::new()
        }
        Some(v) => v.get_ref().clone(),
        None => vec!["deploying".into()],
    };
    let hours =
        |v: Option<&Spanned<f64>>, key: &str, default: f64, errors: &mut Vec<ConfigError>| {
            let Some(v) = v else { return default };
            let h = *v.get_ref();
            if h.is_finite() && h > 0.0 {
                h
            } else {
                errors.push(at.err(v, format!("{key} must be a positive number, not {h}")));
                default
            }
        };
    let warn = hours(
        p.warn_after_hours.as_ref(),
        "warn_after_hours",
        12.0,
        errors,
    );
    let crit = hours(
        p.crit_after_hours.as_ref(),
        "crit_after_hours",
        24.0,
        errors,
    );
    if warn > crit
        && let Some(v) = p.crit_after_hours.as_ref().or(p.warn_after_hours.as_ref())
    {
        errors.push(at.err(
            v,
            format!("crit_after_hours ({crit}) must not be less than warn_after_hours ({warn})"),
        ));
    }
    let secs = |v: Option<&Spanned<f64>>, key: &str, errors: &mut Vec<ConfigError>| {
        let s = hours(v, key, 10.0, errors);
        if s > 600.0
            && let Some(v) = v
        {
            errors.push(at.err(v, format!("{key} must be at most 600, not {s}")));
        }
        std::time::Duration::from_secs_f64(s.min(600.0))
    };
    let limits = DbLimits {
        connect_timeout: secs(
            p.connect_timeout_seconds.as_ref(),
            "connect_timeout_seconds",
            errors,
        ),
        statement_timeout: secs(
            p.statement_timeout_seconds.as_ref(),
            "statement_timeout_seconds",
            errors,
        ),
    };
    let heroku_app = p.heroku_app.as_ref().map(|v| {
        if !is_app_name(v.get_ref()) {
            errors.push(at.err(
                v,
                format!("heroku_app `{}` is not a Heroku app name", v.get_ref()),
            ));
        }
        v.get_ref().clone()
    });
    let config_var_prefix = p.config_var_prefix.as_ref().map(|v| v.get_ref().clone());
    if heroku_app.is_some() != config_var_prefix.is_some() {
        let v = p
            .heroku_app
            .as_ref()
            .or(p.config_var_prefix.as_ref())
            .unwrap_or(&p.table);
        errors.push(at.err(
            v,
            "heroku_app and config_var_prefix go together: give both or neither".into(),
        ));
    }
    (errors.len() == before).then(|| PromotionsSpec {
        database_url_env,
        table,
        id_column,
        name_column,
        state_column,
        since_column,
        stuck_states,
        warn_after_hours: warn,
        crit_after_hours: crit,
        limits,
        heroku_app,
        config_var_prefix,
        promoted_value: p.promoted_value.clone().unwrap_or_else(|| "true".into()),
    })
}

fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn dedupe<T>(items: &[T], key: impl Fn(&T) -> String, what: &str, errors: &mut Vec<ConfigError>) {
    let mut seen = HashSet::new();
    for item in items {
        let k = key(item);
        if !seen.insert(k.clone()) {
            errors.push(ConfigError {
                place: what.to_string(),
                line: 0,
                message: format!("{what} `{k}` is configured twice"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names() {
        assert!(is_app_name("raxx-api-prod"));
        for bad in ["Raxx", "ab", "1abc", "abc-", "a_b_c"] {
            assert!(!is_app_name(bad), "{bad}");
        }
    }
}
