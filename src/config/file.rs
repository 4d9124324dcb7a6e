//! The TOML file, parsed section by section so that one bad entry does not hide the next:
//! every unknown key, wrong type and bad value is reported, each with its line.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::ConfigError;

/// The configuration file as written, before flags and environment are applied.
#[derive(Debug, Default)]
pub struct FileConfig {
    /// Prefix of every mail subject.
    pub subject_prefix: Option<Spanned<String>>,
    /// Linked from every mail.
    pub runbook_url: Option<Spanned<String>>,
    /// Where the result file goes.
    pub output_file: Option<Spanned<String>>,
    /// `[github]`.
    pub github: GithubSection,
    /// `[[heartbeat]]`, in file order.
    pub heartbeats: Vec<HeartbeatEntry>,
    /// `[[heroku_app]]`, in file order.
    pub heroku_apps: Vec<HerokuEntry>,
    /// `[[http_probe]]`, in file order.
    pub probes: Vec<ProbeEntry>,
    /// `[[pages_project]]`, in file order.
    pub pages: Vec<PagesEntry>,
    /// `[promotions]`.
    pub promotions: Option<PromotionsSection>,
    /// `[[silence]]`, in file order.
    pub silences: Vec<SilenceEntry>,
    /// `[mail]`.
    pub mail: MailSection,
    /// `[run]`.
    pub run: RunSection,
}

/// `[github]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubSection {
    /// `owner/name` of the repository holding the workflows.
    pub repo: Option<Spanned<String>>,
}

/// One `[[heartbeat]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatEntry {
    /// Workflow file name or numeric id.
    pub workflow: Spanned<String>,
    /// Name in mail subjects.
    pub name: Option<String>,
    /// SLA in hours (default 48).
    pub sla_hours: Option<Spanned<f64>>,
    /// Only runs on this branch count.
    pub branch: Option<String>,
    /// Only runs of this event count, e.g. `schedule`.
    pub event: Option<String>,
    /// Another repository than `[github] repo`.
    pub repo: Option<Spanned<String>>,
    /// Line of the entry, for messages about it as a whole.
    #[serde(skip)]
    pub line: usize,
}

/// One `[[heroku_app]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HerokuEntry {
    /// The app's name.
    pub name: Spanned<String>,
    /// Web dynos that must be up (default 1; 0 turns the dyno check off).
    pub min_web_dynos: Option<Spanned<i64>>,
    /// Minutes a shortfall is only a warning (default 5).
    pub down_grace_minutes: Option<Spanned<i64>>,
    /// Check that the newest release has code (default true).
    pub check_slug: Option<bool>,
}

/// One `[[http_probe]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeEntry {
    /// Its name.
    pub name: Spanned<String>,
    /// The URL.
    pub url: Spanned<String>,
    /// The variable holding `client_id:client_secret`.
    pub cf_access_token_env: Option<Spanned<String>>,
    /// Expected status (default 200).
    pub expect_status: Option<Spanned<i64>>,
    /// A JSON field holding a recent RFC 3339 time.
    pub fresh_field: Option<String>,
    /// Its maximum age (default 120).
    pub fresh_max_age_seconds: Option<Spanned<i64>>,
}

/// One `[[pages_project]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagesEntry {
    /// The project's name.
    pub name: Spanned<String>,
    /// Minutes a build may take (default 10).
    pub building_grace_minutes: Option<Spanned<i64>>,
}

/// `[promotions]`: the stuck-promotion watchdog.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionsSection {
    /// The variable holding the database URL (default `CONSOLE_DATABASE_URL`).
    pub database_url_env: Option<Spanned<String>>,
    /// The table, optionally `schema.table`.
    pub table: Spanned<String>,
    /// The identifier column (default `id`).
    pub id_column: Option<Spanned<String>>,
    /// What is promoted (default `flag_name`).
    pub name_column: Option<Spanned<String>>,
    /// The state (default `state`).
    pub state_column: Option<Spanned<String>>,
    /// When the row entered its state (default `updated_at`).
    pub since_column: Option<Spanned<String>>,
    /// States that must not last (default `["deploying"]`).
    pub stuck_states: Option<Spanned<Vec<String>>>,
    /// Hours before a warning (default 12).
    pub warn_after_hours: Option<Spanned<f64>>,
    /// Hours before critical (default 24).
    pub crit_after_hours: Option<Spanned<f64>>,
    /// Connect timeout (default 10).
    pub connect_timeout_seconds: Option<Spanned<f64>>,
    /// statement_timeout (default 10).
    pub statement_timeout_seconds: Option<Spanned<f64>>,
    /// The app whose config vars tell whether a stuck flag is already live.
    pub heroku_app: Option<Spanned<String>>,
    /// The prefix of a flag's config var, e.g. `FLAG_`.
    pub config_var_prefix: Option<Spanned<String>>,
    /// The value a promoted flag holds (default `true`).
    pub promoted_value: Option<String>,
}

/// `[mail]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSection {
    /// `postmark` (default) or `smtp`.
    pub transport: Option<Spanned<String>>,
    /// With a state file: hours before a still-failing check is mailed again (default 24).
    pub remind_after_hours: Option<Spanned<f64>>,
}

/// One `[[silence]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SilenceEntry {
    /// A check id or target; a trailing `*` matches any rest.
    #[serde(rename = "match")]
    pub matches: Spanned<String>,
    /// Until when: an RFC 3339 time, quoted or as a TOML date-time.
    pub until: Spanned<toml::Value>,
    /// Why; shown with the check.
    pub reason: Spanned<String>,
}

/// `[run]`: how the run itself behaves.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    /// Checks running at the same time (default 8).
    pub concurrency: Option<Spanned<i64>>,
    /// Bound on one HTTP request, in seconds (default 15).
    pub request_timeout_seconds: Option<Spanned<f64>>,
    /// Bound on the whole run, in seconds (default 60).
    pub deadline_seconds: Option<Spanned<f64>>,
}

/// Parses `text`, collecting every error with its line.
pub fn parse(text: &str, path: &str) -> Result<FileConfig, Vec<ConfigError>> {
    let at = |span: Option<std::ops::Range<usize>>| Place::new(path, text, span);
    let table = DeTable::parse(text).map_err(|e| vec![at(e.span()).error(e.message())])?;
    let mut cfg = FileConfig::default();
    let mut errors = Vec::new();
    for (key, value) in table.get_ref().iter() {
        let key_at = at(Some(key.span()));
        match key.get_ref().as_ref() {
            "subject_prefix" => cfg.subject_prefix = one(value, &at, &mut errors),
            "runbook_url" => cfg.runbook_url = one(value, &at, &mut errors),
            "output_file" => cfg.output_file = one(value, &at, &mut errors),
            "github" => cfg.github = one(value, &at, &mut errors).unwrap_or_default(),
            "mail" => cfg.mail = one(value, &at, &mut errors).unwrap_or_default(),
            "run" => cfg.run = one(value, &at, &mut errors).unwrap_or_default(),
            "promotions" => cfg.promotions = one(value, &at, &mut errors),
            "silence" => cfg.silences = many(value, "silence", &key_at, &at, &mut errors).into_iter().map(|(v, _)| v).collect(),
            "heartbeat" => {
                for (mut hb, line) in many::<HeartbeatEntry>(value, "heartbeat", &key_at, &at, &mut errors) {
                    hb.line = line;
                    cfg.heartbeats.push(hb);
                }
            }
            "heroku_app" => cfg.heroku_apps = many(value, "heroku_app", &key_at, &at, &mut errors).into_iter().map(|(v, _)| v).collect(),
            "http_probe" => cfg.probes = many(value, "http_probe", &key_at, &at, &mut errors).into_iter().map(|(v, _)| v).collect(),
            "pages_project" => cfg.pages = many(value, "pages_project", &key_at, &at, &mut errors).into_iter().map(|(v, _)| v).collect(),
            other => errors.push(key_at.error(&format!(
                "unknown key `{other}`; expected one of subject_prefix, runbook_url, output_file, [github], [[heartbeat]], [[heroku_app]], [[http_probe]], [[pages_project]], [promotions], [[silence]], [mail], [run]"
            ))),
        }
    }
    if errors.is_empty() {
        Ok(cfg)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

/// Deserializes an array of tables entry by entry, with each entry's line.
fn many<T: DeserializeOwned>(
    value: &Spanned<DeValue<'_>>,
    name: &str,
    key_at: &Place,
    at: &dyn Fn(Option<std::ops::Range<usize>>) -> Place,
    errors: &mut Vec<ConfigError>,
) -> Vec<(T, usize)> {
    let DeValue::Array(items) = value.get_ref() else {
        errors.push(key_at.error(&format!(
            "`{name}` must be an array of tables: write [[{name}]]"
        )));
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| one::<T>(item, at, errors).map(|v| (v, at(Some(item.span())).line)))
        .collect()
}

/// Deserializes one value, or records why it could not be.
fn one<T: DeserializeOwned>(
    value: &Spanned<DeValue<'_>>,
    at: &dyn Fn(Option<std::ops::Range<usize>>) -> Place,
    errors: &mut Vec<ConfigError>,
) -> Option<T> {
    match T::deserialize(ValueDeserializer::from(value.clone())) {
        Ok(v) => Some(v),
        Err(e) => {
            let span = e.span().or(Some(value.span()));
            errors.push(at(span).error(e.message()));
            None
        }
    }
}

/// A place in the file: its path and line.
#[derive(Debug, Clone)]
pub struct Place {
    /// The file.
    pub path: String,
    /// 1-based line.
    pub line: usize,
}

impl Place {
    /// The place of byte `span.start` in `text`.
    pub fn new(path: &str, text: &str, span: Option<std::ops::Range<usize>>) -> Self {
        let offset = span.map_or(0, |s| s.start.min(text.len()));
        Self {
            path: path.to_string(),
            line: text[..offset].matches('\n').count() + 1,
        }
    }

    /// An error at this place.
    pub fn error(&self, message: &str) -> ConfigError {
        ConfigError {
            place: format!("{} line {}", self.path, self.line),
            line: self.line,
            message: message.trim().to_string(),
        }
    }
}

/// The line of a spanned value in `text`.
pub fn line_of<T>(text: &str, v: &Spanned<T>) -> usize {
    Place::new("", text, Some(v.span())).line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_file_parses() {
        let cfg = parse(
            r#"
subject_prefix = "[Ops]"
[github]
repo = "o/r"
[[heartbeat]]
workflow = "a.yml"
sla_hours = 24
[[heartbeat]]
workflow = "b.yml"
branch = "main"
[run]
concurrency = 4
"#,
            "x.toml",
        )
        .unwrap();
        assert_eq!(cfg.heartbeats.len(), 2);
        assert_eq!(
            *cfg.heartbeats[0].sla_hours.as_ref().unwrap().get_ref(),
            24.0
        );
        assert_eq!(cfg.heartbeats[1].line, 8);
        assert_eq!(*cfg.run.concurrency.unwrap().get_ref(), 4);
    }

    #[test]
    fn every_error_is_reported_with_its_line() {
        let errs = parse(
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
            "x.toml",
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
    fn syntax_error_has_a_line() {
        let errs = parse("a = 1\nb = [1, 2\n", "x.toml").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].place.starts_with("x.toml line "), "{}", errs[0]);
    }
}
