//! Keeps secrets out of every output: stdout, stderr, the result file and mails all pass
//! through one `Redactor` that knows every secret value the run was given, in every form it
//! can take on the way out (JSON-escaped, in a Markdown cell, percent-encoded or decoded,
//! base64 as SMTP and HTTP authentication send it), and any cut-off fragment of one.

use crate::util::text::{CUT, decode, encode};

/// What a secret is replaced with.
pub const MASK: &str = "[redacted]";

/// A fragment of a secret this long or longer, left at a cut, is masked too.
const MIN_FRAGMENT: usize = 8;

/// Secrets made during the run (a GitHub App's JWTs, its installation tokens), in every
/// form, longest first: every redactor masks them from the moment they exist, whoever made
/// it and whenever.
static LEARNED: std::sync::RwLock<Vec<String>> = std::sync::RwLock::new(Vec::new());

/// Makes `value`, a secret the run itself made, known to every redactor.
pub fn learn(value: &str) {
    let value = value.trim();
    if value.len() < 6 {
        return;
    }
    let mut learned = LEARNED.write().unwrap_or_else(|e| e.into_inner());
    for form in forms(value) {
        if form.len() >= 6 && !learned.contains(&form) {
            learned.push(form);
        }
    }
    learned.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// The secret values of this run, in every form.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Remembers `value` as a secret, in every form it can be printed in. Very short values
    /// are ignored: masking "1" everywhere would only garble output, and no real token is
    /// that short.
    pub fn add(&mut self, value: &str) {
        let value = value.trim();
        if value.len() < 6 {
            return;
        }
        for form in forms(value) {
            if form.len() >= 6 && !self.secrets.contains(&form) {
                self.secrets.push(form);
            }
        }
        // Longest first, so a secret containing another is masked whole.
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// Remembers a secret value and the parts a driver or a server might echo alone: a URL's
    /// password and credentials, each half of an `id:secret` pair.
    pub fn add_secret(&mut self, value: &str) {
        self.add(value);
        if let Some(rest) = value
            .strip_prefix("https://")
            .or_else(|| value.strip_prefix("http://"))
        {
            self.add_endpoint_parts(rest);
        }
        if let Some((_, rest)) = value.split_once("://") {
            if let Some((user, password)) = rest
                .split_once('@')
                .and_then(|(userinfo, _)| userinfo.split_once(':'))
            {
                self.add_credentials(user, password);
            }
        } else if value.contains("-----BEGIN") {
            // A PEM key: each line of its body may be printed alone.
            for part in pem_parts(value) {
                self.add(&part);
            }
        } else if let Some((id, secret)) = value.split_once(':') {
            self.add(id);
            self.add(secret);
        }
    }

    /// Remembers the parts of an endpoint URL (after its scheme) that a receiver may quote
    /// alone: its path with the query, the path, the query, each query value and the path's
    /// last segment (Slack's `/services/T0/B0/<secret>`). The host is not a secret.
    fn add_endpoint_parts(&mut self, rest: &str) {
        let rest = rest.split('#').next().unwrap_or_default();
        let Some(at) = rest.find(['/', '?']) else {
            return;
        };
        let tail = &rest[at..];
        let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
        let last = path.rsplit('/').find(|s| !s.is_empty()).unwrap_or_default();
        let mut parts = vec![tail, tail.trim_start_matches('/'), path, query, last];
        parts.extend(
            query
                .split('&')
                .filter_map(|pair| pair.split_once('=').map(|(_, v)| v)),
        );
        for part in parts {
            self.add(part);
        }
    }

    /// Remembers the credentials of a URL's user information (`user:password`), as HTTP
    /// basic and SMTP `AUTH PLAIN` / `AUTH LOGIN` send them: base64 of `user:password`, of
    /// `\0user\0password`, and of the password alone.
    pub fn add_credentials(&mut self, user: &str, password: &str) {
        let (user, password) = (decode(user), decode(password));
        self.add(&password);
        for raw in [
            format!("{user}:{password}"),
            format!("\0{user}\0{password}"),
            password.clone(),
        ] {
            self.add(&base64(raw.as_bytes()));
        }
    }

    /// `text` with every known secret masked, and any fragment of one left before a cut.
    pub fn redact(&self, text: &str) -> String {
        self.redact_owned(text.to_string())
    }

    /// Masks every string in a JSON value, in place.
    pub fn redact_json(&self, v: &mut serde_json::Value) {
        use serde_json::Value;
        match v {
            Value::String(s) => *s = self.redact(s),
            Value::Array(items) => items.iter_mut().for_each(|i| self.redact_json(i)),
            Value::Object(map) => map.values_mut().for_each(|i| self.redact_json(i)),
            _ => {}
        }
    }

    /// [`Self::redact`] of a text the caller gives up: one with nothing to mask is not copied.
    pub fn redact_owned(&self, mut out: String) -> String {
        let learned = LEARNED.read().unwrap_or_else(|e| e.into_inner());
        for s in learned.iter().chain(&self.secrets) {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        if out.contains(CUT) {
            out = self.mask_fragments(&out, &learned);
        }
        out
    }

    /// Masks the longest piece of a secret (at least `MIN_FRAGMENT` long) that ends right
    /// before each cut mark: a snippet cut across a token keeps its first characters.
    fn mask_fragments(&self, text: &str, learned: &[String]) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find(CUT) {
            let before = &rest[..at];
            let cut = self
                .secrets
                .iter()
                .chain(learned)
                .filter_map(|s| {
                    (MIN_FRAGMENT..s.len())
                        .rev()
                        .filter(|k| s.is_char_boundary(*k))
                        .find(|k| before.ends_with(&s[..*k]))
                })
                .max()
                .unwrap_or(0);
            out.push_str(&before[..before.len() - cut]);
            if cut > 0 {
                out.push_str(MASK);
            }
            out.push(CUT);
            rest = &rest[at + CUT.len_utf8()..];
        }
        out.push_str(rest);
        out
    }
}

/// Every form `value` can be printed in.
fn forms(value: &str) -> Vec<String> {
    let json = serde_json::to_string(value).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|j| j.strip_suffix('"'))
        .unwrap_or(&json)
        .to_string();
    let mut out = vec![value.to_string(), json, decode(value), encode(value)];
    // A Markdown table cell (the step summary) escapes its pipes, whatever came before.
    out.extend(
        out.clone()
            .iter()
            .filter(|f| f.contains('|'))
            .map(|f| f.replace('|', "\\|")),
    );
    out
}

/// The pieces of a PEM text that could be printed alone: each line of its base64 body, and
/// the body whole. Line breaks given as `\n` (a key pasted on one line) count as breaks.
fn pem_parts(pem: &str) -> Vec<String> {
    let text = if pem.contains('\n') {
        pem.to_string()
    } else {
        pem.replace("\\n", "\n")
    };
    let mut parts: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----"))
        .map(String::from)
        .collect();
    parts.push(parts.concat());
    parts
}

/// Standard base64 with padding (RFC 4648), the form HTTP basic and SMTP AUTH send.
fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
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

    #[test]
    fn a_fragment_left_at_a_cut_is_masked() {
        let mut r = Redactor::default();
        r.add("ghs_TestToken0123456789");
        assert_eq!(r.redact("body: xxxghs_TestTo…"), "body: xxx[redacted]…");
        assert_eq!(r.redact("body: xxxghs_Test…"), "body: xxx[redacted]…");
        assert_eq!(
            r.redact("xxghs_Test… and ghs_TestToken0123456789"),
            "xx[redacted]… and [redacted]",
            "8 characters are a fragment"
        );
        assert_eq!(r.redact("ghs_Te…"), "ghs_Te…", "shorter is not");
    }

    #[test]
    fn every_form_of_a_secret_is_masked() {
        let mut r = Redactor::default();
        let secret = r#"q"uo\te|pi pe"#;
        r.add(secret);
        for form in [
            secret,
            r#"q\"uo\\te|pi pe"#,
            r#"q"uo\te\|pi pe"#,
            "q%22uo%5Cte%7Cpi%20pe",
        ] {
            assert_eq!(r.redact(&format!("<{form}>")), "<[redacted]>", "{form}");
        }
        let mut r = Redactor::default();
        r.add("p%40ss%3Aw0rd!");
        assert_eq!(r.redact("got p@ss:w0rd!"), "got [redacted]", "decoded");
    }

    #[test]
    fn a_secrets_parts_are_masked_alone() {
        let mut r = Redactor::default();
        r.add_secret("client.access:s3cret-half");
        r.add_secret("postgres://reader:pw-0f9e8d@db.example:5432/console");
        for part in ["client.access", "s3cret-half", "pw-0f9e8d"] {
            assert_eq!(r.redact(part), MASK, "{part}");
        }
    }

    #[test]
    fn every_secret_part_of_an_endpoint_url_is_masked_alone() {
        let mut r = Redactor::default();
        r.add_secret("https://hooks.slack.com/services/T0HM/B0HM/slack-hook-s3cret");
        r.add_secret("http://127.0.0.1:9/hooks/heartbeat-s3cret?key=hook-key-s3cret&v=1#x");
        for echoed in [
            "/services/T0HM/B0HM/slack-hook-s3cret",
            "services/T0HM/B0HM/slack-hook-s3cret",
            "slack-hook-s3cret",
            "/hooks/heartbeat-s3cret?key=hook-key-s3cret&v=1",
            "key=hook-key-s3cret&v=1",
            "heartbeat-s3cret",
            "hook-key-s3cret",
        ] {
            assert_eq!(r.redact(&format!("<{echoed}>")), "<[redacted]>", "{echoed}");
        }
        assert_eq!(
            r.redact("hooks.slack.com and 127.0.0.1 are no secret"),
            "hooks.slack.com and 127.0.0.1 are no secret"
        );
    }

    #[test]
    fn a_secret_the_run_made_is_masked_by_every_redactor() {
        let made = "ghs_MintedDuringTheRun0123456789";
        let before = Redactor::default();
        learn(made);
        for r in [before, Redactor::default()] {
            assert_eq!(r.redact(&format!("<{made}>")), "<[redacted]>");
            assert_eq!(r.redact("x ghs_MintedDuring…"), "x [redacted]…");
        }
    }

    #[test]
    fn each_line_of_a_pem_key_is_masked_alone() {
        let mut r = Redactor::default();
        r.add_secret(
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1\nb2c3d4e5f6a7b8c9\n-----END RSA PRIVATE KEY-----\n",
        );
        for line in ["MIIEowIBAAKCAQEA1", "b2c3d4e5f6a7b8c9"] {
            assert_eq!(r.redact(line), MASK, "{line}");
        }
        assert_eq!(
            r.redact("-----BEGIN RSA PRIVATE KEY-----"),
            "-----BEGIN RSA PRIVATE KEY-----"
        );
    }

    #[test]
    fn every_line_of_a_pem_body_is_a_part() {
        let parts = pem_parts(
            "-----BEGIN RSA PRIVATE KEY-----\\nAAAA1111\\nBBBB2222\\n-----END RSA PRIVATE KEY-----",
        );
        assert_eq!(parts, ["AAAA1111", "BBBB2222", "AAAA1111BBBB2222"]);
    }

    #[test]
    fn every_string_of_a_json_value_is_masked() {
        let mut r = Redactor::default();
        r.add("tok-0123456789");
        let mut v =
            serde_json::json!({"a": ["x tok-0123456789"], "b": {"c": "tok-0123456789"}, "n": 1});
        r.redact_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": ["x [redacted]"], "b": {"c": "[redacted]"}, "n": 1})
        );
    }

    #[test]
    fn credentials_are_masked_as_authentication_sends_them() {
        let mut r = Redactor::default();
        r.add_credentials("monitor", "s3cret%21pw");
        for sent in [
            "s3cret!pw",
            "bW9uaXRvcjpzM2NyZXQhcHc=",
            "AG1vbml0b3IAczNjcmV0IXB3",
            "czNjcmV0IXB3",
        ] {
            assert_eq!(r.redact(sent), MASK, "{sent}");
        }
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
    }
}
