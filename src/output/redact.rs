//! Keeps secrets out of every output: stdout, stderr, the result file and mails all pass
//! through one `Redactor` that knows every secret value the run was given.

/// What a secret is replaced with.
pub const MASK: &str = "[redacted]";

/// The secret values of this run.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Remembers `value` as a secret. Very short values are ignored: masking "1" everywhere
    /// would only garble output, and no real token is that short.
    pub fn add(&mut self, value: &str) {
        let value = value.trim();
        if value.len() >= 6 && !self.secrets.iter().any(|s| s == value) {
            self.secrets.push(value.to_string());
            // Longest first, so a secret containing another is masked whole.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// `text` with every known secret masked.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_occurrence_longest_first() {
        let mut r = Redactor::default();
        r.add("ghp_short");
        r.add("ghp_shortAndLonger");
        r.add("1");
        assert_eq!(
            r.redact("a ghp_shortAndLonger b ghp_short c 1"),
            "a [redacted] b [redacted] c 1"
        );
    }
}
