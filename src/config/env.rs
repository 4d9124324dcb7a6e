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
        let server = self.get("GITHUB_SERVER_URL")?;
        let repo = self.get("GITHUB_REPOSITORY")?;
        let id = self.get("GITHUB_RUN_ID")?;
        Some(format!(
            "{}/{repo}/actions/runs/{id}",
            server.trim_end_matches('/')
        ))
    }
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
}
