//! `stuck_promotion`: rows of the promotions table left in a state like `deploying` for too
//! long (a worker died between the Heroku PATCH and the database write, as on 2026-05-11).
//! Read straight from PostgreSQL, so it works when the console does not.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::pool::Identity;
use super::{Check, CheckKind, CheckResult, Context, Status, Watch};
use crate::clients::heroku::{Heroku, is_app_name};
use crate::clients::postgres::{self, DbError, DbLimits, DbUrl};
use crate::config::file::{Section, Table, Value};
use crate::config::{Configure, Need, is_env_name};
use crate::util::time::{Hours, human, rfc3339};

/// The kind's name.
pub const NAME: &str = "stuck_promotion";
const SECTION: Section = Section::table("promotions");

/// The kind: `[promotions]`.
pub struct StuckPromotion;

impl CheckKind for StuckPromotion {
    fn names(&self) -> &'static [&'static str] {
        &[NAME]
    }

    fn sections(&self) -> &'static [Section] {
        &[SECTION]
    }

    fn configure(&self, cfg: &mut Configure) -> Vec<Arc<dyn Watch>> {
        cfg.tables(SECTION)
            .first()
            .and_then(spec_of)
            .map(|s| Arc::new(s) as Arc<dyn Watch>)
            .into_iter()
            .collect()
    }

    fn runbook(&self) -> &'static [&'static str] {
        &["promotion STUCK"]
    }
}

/// The watchdog of `[promotions]`, or `None` when any of its values is wrong (reported).
fn spec_of(t: &Table) -> Option<PromotionsSpec> {
    let mut ok = true;
    let mut ident = |key: &'static str, v: Option<Value<String>>, default: &str, schema: bool| {
        let Some(v) = v else {
            return default.to_string();
        };
        let name = v.value.trim().to_string();
        if !is_ident(&name, schema) {
            t.error(
                v.line,
                format!("{key} `{name}` is not a plain SQL identifier (letters, digits, _)"),
            );
            ok = false;
        }
        name
    };
    let table = t.required_string("table");
    let has_table = table.is_some();
    let table = ident("table", table, "", true);
    let id_column = ident("id_column", t.string("id_column"), "id", false);
    let name_column = ident("name_column", t.string("name_column"), "flag_name", false);
    let state_column = ident("state_column", t.string("state_column"), "state", false);
    let since_column = ident(
        "since_column",
        t.string("since_column"),
        "updated_at",
        false,
    );
    let database_url_env = match t.string("database_url_env") {
        Some(v) if !is_env_name(&v.value) => {
            t.error(
                v.line,
                format!(
                    "database_url_env must name an environment variable, not `{}`",
                    v.value
                ),
            );
            ok = false;
            String::new()
        }
        Some(v) => v.value,
        None => "DATABASE_URL".into(),
    };
    let stuck_states = match t.strings("stuck_states") {
        Some(v) if v.value.is_empty() || v.value.iter().any(|s| s.trim().is_empty()) => {
            t.error(
                v.line,
                "stuck_states must list at least one non-empty state",
            );
            ok = false;
            Vec::new()
        }
        Some(v) => v.value,
        None => vec!["deploying".into()],
    };
    let warn = t.positive("warn_after_hours", 12.0);
    let crit = t.positive("crit_after_hours", 24.0);
    if warn > crit {
        let line = t
            .number("crit_after_hours")
            .or_else(|| t.number("warn_after_hours"))
            .map_or(t.line(), |v| v.line);
        t.error(
            line,
            format!("crit_after_hours ({crit}) must not be less than warn_after_hours ({warn})"),
        );
        ok = false;
    }
    let secs = |key: &'static str| {
        let s = t.positive(key, 10.0);
        if s > 600.0 {
            let line = t.number(key).map_or(t.line(), |v| v.line);
            t.error(line, format!("{key} must be at most 600, not {s}"));
        }
        std::time::Duration::from_secs_f64(s.min(600.0))
    };
    let limits = DbLimits {
        connect_timeout: secs("connect_timeout_seconds"),
        statement_timeout: secs("statement_timeout_seconds"),
    };
    let heroku_app = t.string("heroku_app");
    if let Some(v) = &heroku_app
        && !is_app_name(&v.value)
    {
        t.error(
            v.line,
            format!("heroku_app `{}` is not a Heroku app name", v.value),
        );
        ok = false;
    }
    let config_var_prefix = t.string("config_var_prefix");
    if heroku_app.is_some() != config_var_prefix.is_some() {
        let line = heroku_app
            .as_ref()
            .or(config_var_prefix.as_ref())
            .map_or(t.line(), |v| v.line);
        t.error(
            line,
            "heroku_app and config_var_prefix go together: give both or neither",
        );
        ok = false;
    }
    let promoted_value = t.string("promoted_value");
    (ok && has_table).then(|| PromotionsSpec {
        database_url_env,
        table,
        id_column,
        name_column,
        state_column,
        since_column,
        stuck_states,
        warn_after_hours: Hours(warn),
        crit_after_hours: Hours(crit),
        limits,
        heroku_app: heroku_app.map(|v| v.value),
        config_var_prefix: config_var_prefix.map(|v| v.value),
        promoted_value: promoted_value.map_or_else(|| "true".into(), |v| v.value),
    })
}

/// Rows read at most: a table with more stuck rows than this has a bigger problem.
pub const MAX_ROWS: i64 = 500;

/// What to watch, from `[promotions]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PromotionsSpec {
    /// The variable holding the database URL.
    pub database_url_env: String,
    /// The table, optionally `schema.table`.
    pub table: String,
    /// The row's identifier column.
    pub id_column: String,
    /// The column naming what is promoted (the flag).
    pub name_column: String,
    /// The column holding the state.
    pub state_column: String,
    /// The column holding when the row entered its state.
    pub since_column: String,
    /// States that must not last.
    pub stuck_states: Vec<String>,
    /// Hours before a warning.
    pub warn_after_hours: Hours,
    /// Hours before critical.
    pub crit_after_hours: Hours,
    /// Database limits.
    pub limits: DbLimits,
    /// The app whose config vars say whether the flag is already live.
    pub heroku_app: Option<String>,
    /// The config var of a flag is this prefix and the flag's name in upper case.
    pub config_var_prefix: Option<String>,
    /// The value a promoted flag holds.
    pub promoted_value: String,
}

impl PromotionsSpec {
    /// The id of the table-wide result.
    pub fn table_id(&self) -> String {
        format!("stuck_promotion:{}", self.table)
    }

    /// The config var that holds a flag, when the liveness look-up is configured.
    pub fn config_var(&self, name: &str) -> Option<String> {
        self.heroku_app.as_ref()?;
        let prefix = self.config_var_prefix.as_ref()?;
        Some(format!("{prefix}{}", name.to_ascii_uppercase()))
    }
}

/// The rows in stuck states, and for those old enough, whether their flag is already live.
pub type Observation = (Result<Vec<Row>, DbError>, BTreeMap<String, Live>);

impl Check for PromotionsSpec {
    type Observation = Observation;

    fn identities(&self) -> Vec<Identity> {
        vec![Identity::new(
            self.table_id(),
            NAME,
            &self.table,
            &self.table,
        )]
    }

    fn describe(&self) -> Vec<String> {
        vec![format!(
            "{}  (states {}, warning after {} h, critical after {} h)",
            self.table_id(),
            self.stuck_states.join(", "),
            self.warn_after_hours.get(),
            self.crit_after_hours.get()
        )]
    }

    fn needs(&self) -> Vec<Need> {
        vec![Need::new(
            &self.database_url_env,
            format!(
                "{} is not set: [promotions] reads the table through it",
                self.database_url_env
            ),
        )]
    }

    /// TCP, TLS, authentication and the query, one after another.
    fn rounds(&self) -> usize {
        4
    }

    /// One database read, and one Heroku request when a stuck row's flag is to be looked up.
    fn observe(&self, ctx: &Context) -> Observation {
        let url = ctx.secrets.get(&self.database_url_env).unwrap_or_default();
        let rows = postgres::parse_url(url).and_then(|u| read_rows(&u, self));
        let live = match &rows {
            Ok(rows) if !rows.is_empty() => {
                liveness(&ctx.heroku, self, &stuck_only(self, rows, ctx.now))
            }
            _ => Default::default(),
        };
        (rows, live)
    }

    fn evaluate(&self, seen: &Observation, now: DateTime<Utc>) -> Vec<CheckResult> {
        evaluate(self, &seen.0, &seen.1, now)
    }
}

/// The rows old enough to be reported: only their flags are worth a Heroku request.
fn stuck_only(spec: &PromotionsSpec, rows: &[Row], now: DateTime<Utc>) -> Vec<Row> {
    let warn = spec.warn_after_hours.duration();
    rows.iter()
        .filter(|r| now - r.since > warn)
        .cloned()
        .collect()
}

/// One row in a stuck state.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Its identifier, as text.
    pub id: String,
    /// What it promotes.
    pub name: String,
    /// Its state.
    pub state: String,
    /// When it entered the state.
    pub since: DateTime<Utc>,
}

/// A SQL identifier, double-quoted; `schema.table` is quoted part by part. Only names that
/// the configuration validated reach here, so quoting is belt and braces.
pub fn quote_ident(name: &str) -> String {
    name.split('.')
        .map(|part| format!("\"{}\"", part.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}

/// A SQL string literal, quoted as SQL does (`'` doubled), for the copy-paste hint: the row's
/// id comes from the table and may hold anything.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Whether `name` is a plain identifier (or `schema.table`): letters, digits, underscores.
pub fn is_ident(name: &str, allow_schema: bool) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    (parts.len() == 1 || (allow_schema && parts.len() == 2))
        && parts.iter().all(|p| {
            (1..=63).contains(&p.len())
                && p.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// The one query: identifiers from the configuration, values bound.
pub fn query(spec: &PromotionsSpec) -> String {
    let state = quote_ident(&spec.state_column);
    let since = quote_ident(&spec.since_column);
    format!(
        "SELECT {}::text, {}::text, {state}::text, {since}::timestamptz FROM {} WHERE {state}::text = ANY($1) ORDER BY {since} LIMIT {MAX_ROWS}",
        quote_ident(&spec.id_column),
        quote_ident(&spec.name_column),
        quote_ident(&spec.table),
    )
}

/// Reads the rows in stuck states, inside a read-only transaction.
pub fn read_rows(url: &DbUrl, spec: &PromotionsSpec) -> Result<Vec<Row>, DbError> {
    let mut client = postgres::connect(url, spec.limits)?;
    let mut tx = postgres::read_only(&mut client, spec.limits, url)?;
    let rows = tx
        .query(query(spec).as_str(), &[&spec.stuck_states])
        .map_err(|e| postgres::explain(&e, url, spec.limits))?;
    let _ = tx.rollback();
    rows.iter()
        .map(|r| {
            Ok(Row {
                id: r
                    .try_get::<_, Option<String>>(0)
                    .map_err(|e| DbError::Row(e.to_string()))?
                    .unwrap_or_default(),
                name: r
                    .try_get::<_, Option<String>>(1)
                    .map_err(|e| DbError::Row(e.to_string()))?
                    .unwrap_or_default(),
                state: r
                    .try_get::<_, Option<String>>(2)
                    .map_err(|e| DbError::Row(e.to_string()))?
                    .unwrap_or_default(),
                since: r
                    .try_get::<_, Option<DateTime<Utc>>>(3)
                    .map_err(|e| DbError::Row(e.to_string()))?
                    .ok_or_else(|| DbError::Row(format!("a row has no {}", spec.since_column)))?,
            })
        })
        .collect()
}

/// Whether a stuck flag is already live on the app, as its config var says.
#[derive(Debug, Clone, PartialEq)]
pub enum Live {
    /// The var holds the promoted value.
    Yes,
    /// The var is unset or holds something else.
    No,
    /// The look-up failed.
    Unknown(String),
}

/// Looks up the config vars of the stuck rows (one request), keeping only those keys.
pub fn liveness(h: &Heroku, spec: &PromotionsSpec, rows: &[Row]) -> BTreeMap<String, Live> {
    let Some(app) = &spec.heroku_app else {
        return BTreeMap::new();
    };
    let wanted: Vec<String> = rows
        .iter()
        .filter_map(|r| spec.config_var(&r.name))
        .collect();
    if wanted.is_empty() {
        return BTreeMap::new();
    }
    match h.config_vars(app, &wanted) {
        Ok(vars) => rows
            .iter()
            .filter_map(|r| {
                let var = spec.config_var(&r.name)?;
                let live =
                    if vars.get(&var).map(String::as_str) == Some(spec.promoted_value.as_str()) {
                        Live::Yes
                    } else {
                        Live::No
                    };
                Some((r.name.clone(), live))
            })
            .collect(),
        Err(e) => rows
            .iter()
            .map(|r| (r.name.clone(), Live::Unknown(e.to_string())))
            .collect(),
    }
}

/// One result per stuck row, or one `ok` for the table, or one `unknown`.
pub fn evaluate(
    spec: &PromotionsSpec,
    rows: &Result<Vec<Row>, DbError>,
    live: &BTreeMap<String, Live>,
    now: DateTime<Utc>,
) -> Vec<CheckResult> {
    let table = &spec.table;
    let rows = match rows {
        Err(why) => {
            return vec![CheckResult::new(
                &spec.table_id(),
                NAME,
                table,
                Status::Unknown,
                format!("could not read {table}: {why}"),
            )];
        }
        Ok(rows) => rows,
    };
    let stuck: Vec<CheckResult> = rows
        .iter()
        .filter(|r| now - r.since > spec.warn_after_hours.duration())
        .map(|r| {
            row_result(
                spec,
                r,
                live.get(&r.name),
                now,
                now - r.since > spec.crit_after_hours.duration(),
            )
        })
        .collect();
    if !stuck.is_empty() {
        return stuck;
    }
    let young = rows.len();
    let message = if young == 0 {
        format!("no promotion in {}", spec.stuck_states.join(" or "))
    } else {
        format!(
            "{young} promotion(s) in {} for less than {} h",
            spec.stuck_states.join(" or "),
            spec.warn_after_hours.get()
        )
    };
    let mut r = CheckResult::new(&spec.table_id(), NAME, table, Status::Ok, message);
    r.details = json!({"rows_in_stuck_states": young});
    vec![r]
}

fn row_result(
    spec: &PromotionsSpec,
    row: &Row,
    live: Option<&Live>,
    now: DateTime<Utc>,
    critical: bool,
) -> CheckResult {
    let age = now - row.since;
    let status = if critical {
        Status::Critical
    } else {
        Status::Warning
    };
    let var = spec.config_var(&row.name);
    let app = spec.heroku_app.clone().unwrap_or_default();
    let live_part = match (live, &var) {
        (Some(Live::Yes), Some(var)) => format!(
            "; {var} already holds the promoted value on {app}: already live on {app}, safe to mark deployed"
        ),
        (Some(Live::No), Some(var)) => format!(
            "; {var} does not hold the promoted value on {app}: the change never reached Heroku, mark it failed and promote again"
        ),
        (Some(Live::Unknown(why)), _) => {
            format!("; whether it is live on {app} is unknown ({why})")
        }
        _ => String::new(),
    };
    let message = format!(
        "{} in state {} for {} since {}{live_part}",
        row.name,
        row.state,
        human(age),
        rfc3339(row.since)
    );
    let mut r = CheckResult::new(
        &format!("stuck_promotion:{}:{}", spec.table, row.id),
        NAME,
        &row.name,
        status,
        message,
    );
    r.details = json!({
        "id": row.id,
        "state": row.state,
        "since": rfc3339(row.since),
        "age_hours": (age.num_minutes() as f64 / 6.0).round() / 10.0,
        "warn_after_hours": spec.warn_after_hours,
        "crit_after_hours": spec.crit_after_hours,
        "live": live.map(|l| match l { Live::Yes => "yes", Live::No => "no", Live::Unknown(_) => "unknown" }),
    });
    r.since = Some(rfc3339(row.since));
    r.threshold = Some(format!(
        "warning after {} h, critical after {} h in {}",
        spec.warn_after_hours.get(),
        spec.crit_after_hours.get(),
        row.state
    ));
    r.subject_name = row.name.clone();
    let check_value = match (&var, &spec.heroku_app) {
        (Some(var), Some(app)) => format!("heroku config:get {var} --app {app}"),
        _ => format!(
            "heroku config:get FLAG_{} --app <the app>",
            row.name.to_ascii_uppercase()
        ),
    };
    r.hints = vec![
        format!("{check_value}    # 1. is the flag already live on the app?"),
        format!(
            "2. then mark the row deployed (live) or failed (not live): the console's Mark completed / Mark failed, or UPDATE {} SET {} = 'deployed' WHERE {} = {}",
            spec.table,
            spec.state_column,
            spec.id_column,
            quote_literal(&row.id)
        ),
        "this is the fix of the 2026-05-11 RCA (promotion stuck in deploying for 97 h)".into(),
    ];
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration as StdDuration;

    fn spec() -> PromotionsSpec {
        PromotionsSpec {
            database_url_env: "CONSOLE_DATABASE_URL".into(),
            table: "console_flag_promotions".into(),
            id_column: "id".into(),
            name_column: "flag_name".into(),
            state_column: "state".into(),
            since_column: "updated_at".into(),
            stuck_states: vec!["deploying".into()],
            warn_after_hours: Hours(12.0),
            crit_after_hours: Hours(24.0),
            limits: DbLimits {
                connect_timeout: StdDuration::from_secs(10),
                statement_timeout: StdDuration::from_secs(10),
            },
            heroku_app: Some("raxx-console-prod".into()),
            config_var_prefix: Some("FLAG_".into()),
            promoted_value: "true".into(),
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    const NOW: &str = "2026-05-11T14:18:00Z";

    fn row(id: &str, name: &str, since: &str) -> Row {
        Row {
            id: id.into(),
            name: name.into(),
            state: "deploying".into(),
            since: t(since),
        }
    }

    #[test]
    fn the_query_quotes_identifiers_and_binds_values() {
        assert_eq!(
            query(&spec()),
            "SELECT \"id\"::text, \"flag_name\"::text, \"state\"::text, \"updated_at\"::timestamptz FROM \"console_flag_promotions\" WHERE \"state\"::text = ANY($1) ORDER BY \"updated_at\" LIMIT 500"
        );
        assert_eq!(
            quote_ident("console.promotions"),
            "\"console\".\"promotions\""
        );
        assert!(is_ident("console.promotions", true));
        assert!(!is_ident("console.promotions", false));
        for bad in ["", "a b", "x;drop", "1abc", "a.b.c", "\"x\""] {
            assert!(!is_ident(bad, true), "{bad}");
        }
    }

    #[test]
    fn the_hint_quotes_the_row_id_as_sql_does() {
        let evil = row("1'; DROP TABLE canary; --", "x", "2026-05-07T13:18:00Z");
        let rs = evaluate(&spec(), &Ok(vec![evil]), &BTreeMap::new(), t(NOW));
        assert!(
            rs[0].hints[1].ends_with("WHERE id = '1''; DROP TABLE canary; --'"),
            "{}",
            rs[0].hints[1]
        );
    }

    #[test]
    fn ninety_seven_hours_is_critical_thirteen_a_warning_one_fine() {
        let rows = vec![
            row(
                "41",
                "console_heroku_log_drain_alerting",
                "2026-05-07T13:18:00Z",
            ),
            row("42", "billing_v2", "2026-05-11T01:18:00Z"),
            row("43", "fresh_flag", "2026-05-11T13:18:00Z"),
        ];
        let live = BTreeMap::from([("console_heroku_log_drain_alerting".to_string(), Live::Yes)]);
        let rs = evaluate(&spec(), &Ok(rows), &live, t(NOW));
        assert_eq!(rs.len(), 2, "the 1 h row is not reported");
        assert_eq!(rs[0].status, Status::Critical);
        assert_eq!(rs[0].id, "stuck_promotion:console_flag_promotions:41");
        assert_eq!(rs[0].target, "console_heroku_log_drain_alerting");
        assert!(
            rs[0].message.starts_with("console_heroku_log_drain_alerting in state deploying for 4 days since 2026-05-07T13:18:00Z; FLAG_CONSOLE_HEROKU_LOG_DRAIN_ALERTING already holds the promoted value on raxx-console-prod: already live on raxx-console-prod, safe to mark deployed"),
            "{}",
            rs[0].message
        );
        assert_eq!(rs[0].details["age_hours"], 97.0);
        assert_eq!(rs[1].status, Status::Warning);
        assert_eq!(rs[1].details["age_hours"], 13.0);
    }

    #[test]
    fn nothing_stuck_is_one_ok_and_errors_one_unknown() {
        let rs = evaluate(
            &spec(),
            &Ok(vec![row("43", "fresh_flag", "2026-05-11T13:18:00Z")]),
            &BTreeMap::new(),
            t(NOW),
        );
        assert_eq!(rs.len(), 1);
        assert_eq!(rs[0].status, Status::Ok);
        assert_eq!(
            rs[0].message,
            "1 promotion(s) in deploying for less than 12 h"
        );
        let rs = evaluate(
            &spec(),
            &Err(DbError::Row("authentication failed".into())),
            &BTreeMap::new(),
            t(NOW),
        );
        assert_eq!((rs.len(), rs[0].status), (1, Status::Unknown));
        assert_eq!(rs[0].id, "stuck_promotion:console_flag_promotions");
    }
}
