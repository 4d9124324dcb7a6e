//! The process environment as a value, so that nothing below `main` reads the real one.

use std::collections::BTreeMap;

/// Environment variables, read once.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// Reads the real environment. Only `main` calls this.
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars().collect(),
        }
    }

    /// An environment made of the given pairs (tests, the demo).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The value of `name`, treating an empty value as unset (Actions maps a missing secret to "").
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// The value of `name`, or `default` when it is unset or empty (the `*_API_URL` overrides).
    pub fn get_or(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or(default).to_string()
    }

    /// Whether `name` holds a truthy value: `1`, `true`, `yes` or `on`, in any case.
    pub fn is_truthy(&self, name: &str) -> bool {
        self.get(name).is_some_and(is_truthy)
    }

    /// True when running inside GitHub Actions.
    pub fn in_actions(&self) -> bool {
        self.get("GITHUB_ACTIONS") == Some("true")
    }

    /// The URL of this monitor's own workflow run, when running in Actions.
    pub fn run_url(&self) -> Option<String> {
        self.run_url_of(self.get("GITHUB_RUN_ID")?)
    }

    /// The URL of run `id` of this repository, when running in Actions.
    pub fn run_url_of(&self, id: &str) -> Option<String> {
        let server = self.get("GITHUB_SERVER_URL")?;
        let repo = self.get("GITHUB_REPOSITORY")?;
        Some(format!(
            "{}/{repo}/actions/runs/{id}",
            server.trim_end_matches('/')
        ))
    }

    /// What the action says of the alert state it restored before the run:
    /// `HEARTBEAT_STATE_SOURCE` and `HEARTBEAT_STATE_PREVIOUS_RUN`.
    pub fn state_hint(&self) -> StateHint {
        let mut hint = StateHint::default();
        match self.get(STATE_SOURCE).map(str::trim) {
            None => {}
            Some("artifact") => hint.restored = Some(Restored::Artifact),
            Some("cache") => hint.restored = Some(Restored::Cache),
            Some("none") => hint.restored = Some(Restored::Nowhere),
            Some(other) => hint.problems.push(format!(
                "{STATE_SOURCE} is {}, not artifact, cache or none: ignored",
                shown(other)
            )),
        }
        match self.get(PREVIOUS_RUN).map(str::trim) {
            None => {}
            Some(id) if is_run_id(id) => hint.previous_run = Some(id.to_string()),
            Some(other) => hint.problems.push(format!(
                "{PREVIOUS_RUN} is {}, not a run id: ignored",
                shown(other)
            )),
        }
        hint
    }
}

/// Where the action restored the state file from (`artifact`, `cache`), or that it found none.
pub const STATE_SOURCE: &str = "HEARTBEAT_STATE_SOURCE";
/// The id of the workflow's newest earlier run, set by the action when the workflow ran before.
pub const PREVIOUS_RUN: &str = "HEARTBEAT_STATE_PREVIOUS_RUN";

/// Where the action restored the state file from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restored {
    /// The newest `heartbeat-state-*` artifact of the workflow.
    Artifact,
    /// The Actions cache.
    Cache,
    /// Nowhere: it found no saved state.
    Nowhere,
}

/// What the action said of the state; see [`Env::state_hint`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateHint {
    /// Where the state file came from, when the action said.
    pub restored: Option<Restored>,
    /// The workflow's newest earlier run: it ran before, so a state should have been found.
    pub previous_run: Option<String>,
    /// Values not understood, worded for the result's `warnings`.
    pub problems: Vec<String>,
}

/// A run id: digits only, so that it is safe in a URL and a log line.
fn is_run_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A value as a warning shows it: quoted, escaped, at most 40 characters.
fn shown(v: &str) -> String {
    format!("{:?}", v.chars().take(40).collect::<String>())
}

/// The gate's reading of a flag value.
pub fn is_truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truthy_values_in_any_case() {
        for v in ["1", "true", "TRUE", "Yes", "on", " on "] {
            assert!(is_truthy(v), "{v}");
        }
        for v in ["0", "false", "off", "no", "", "enabled", "2"] {
            assert!(!is_truthy(v), "{v}");
        }
    }

    #[test]
    fn empty_is_unset() {
        let env = Env::from_pairs([("A", ""), ("B", "x")]);
        assert_eq!(env.get("A"), None);
        assert_eq!(env.get("B"), Some("x"));
        assert_eq!(
            env.get_or("A", "https://api.github.com"),
            "https://api.github.com"
        );
        assert_eq!(env.get_or("B", "d"), "x");
        assert!(!env.is_truthy("A"));
    }

    #[test]
    fn run_url_needs_all_three() {
        let env = Env::from_pairs([
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "o/r"),
            ("GITHUB_RUN_ID", "42"),
        ]);
        assert_eq!(
            env.run_url().as_deref(),
            Some("https://github.com/o/r/actions/runs/42")
        );
        assert_eq!(Env::default().run_url(), None);
    }

    #[test]
    fn the_state_hint_takes_only_what_it_knows() {
        let hint = |source: &str, run: &str| {
            Env::from_pairs([(STATE_SOURCE, source), (PREVIOUS_RUN, run)]).state_hint()
        };
        assert_eq!(hint("", ""), StateHint::default());
        let h = hint("artifact", "9107");
        assert_eq!(h.restored, Some(Restored::Artifact));
        assert_eq!(h.previous_run.as_deref(), Some("9107"));
        assert!(h.problems.is_empty());
        assert_eq!(hint("cache", "").restored, Some(Restored::Cache));
        assert_eq!(hint("none", "").restored, Some(Restored::Nowhere));
        let h = hint("s3\n::warning::x", "12/../13");
        assert_eq!((h.restored, h.previous_run), (None, None));
        assert_eq!(
            h.problems,
            [
                "HEARTBEAT_STATE_SOURCE is \"s3\\n::warning::x\", not artifact, cache or none: ignored",
                "HEARTBEAT_STATE_PREVIOUS_RUN is \"12/../13\", not a run id: ignored"
            ]
        );
    }
}
