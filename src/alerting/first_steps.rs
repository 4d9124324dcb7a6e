//! The MONITOR FAILED mail's first steps, chosen by what actually failed: a refused connection
//! must not send a tired person to check token scopes. The failures are read from the texts the
//! clients wrote (`ApiError`, `HttpError`, the PostgreSQL and configuration errors), whose
//! wording those types fix.

/// A kind of failure: how to recognise its text, and what to do first.
struct Step {
    /// Any of these in a failure's text (lower case) means this step applies.
    signs: &'static [&'static str],
    /// What to do.
    step: &'static str,
}

/// In the order they are worth trying.
const STEPS: &[Step] = &[
    Step {
        signs: &["configuration", "config file", "is not set", "unknown key"],
        step: "fix the configuration as the lines above say; `heartbeat-monitor --check-config` \
               checks it without calling any API",
    },
    Step {
        signs: &["rejected the credential", "http 401"],
        step: "a credential was refused (401): the variable named above is empty, mistyped, \
               expired or revoked; renew it and update the secret",
    },
    Step {
        signs: &[
            "refused access",
            "http 403",
            "contents: read",
            "lacks a permission",
        ],
        step: "the token lacks a permission (403): for GITHUB_TOKEN, list what it needs under \
               `permissions:` in the workflow (actions: read, contents: read, deployments: read); \
               for a personal token, its scopes",
    },
    Step {
        signs: &["rate limit", "throttling"],
        step: "an API's rate limit ran out: the next run after the reset named above will pass; \
               run less often or give the monitor a token of its own",
    },
    Step {
        signs: &[
            "could not connect",
            "no answer from",
            "connection refused",
            "deadline passed",
        ],
        step: "a service could not be reached: check its status page and the runner's network; \
               the tokens are not the problem",
    },
    Step {
        signs: &["answered http 5", "http 502", "http 503", "http 504"],
        step: "a vendor answered with a server error: check its status page (githubstatus.com, \
               status.heroku.com, cloudflarestatus.com); it usually passes by the next run",
    },
    Step {
        signs: &["answered 404", "not found"],
        step: "something the configuration names was not found: check the repository, app, \
               workflow or project name, and that the token can see it (GitHub answers 404 \
               for a private repository it may not read)",
    },
    Step {
        signs: &["redirect", "unusable answer", "login page"],
        step: "an API answered with something other than its JSON (a redirect or a login page): \
               check the URL and any proxy or access gate in front of it",
    },
    Step {
        signs: &["authentication failed", "password"],
        step: "the database refused the login: check the user and password in the database URL",
    },
    Step {
        signs: &["tls", "certificate", "sslmode"],
        step: "a TLS connection failed: check the database URL's sslmode (Heroku Postgres needs \
               `require`) and, for verify-full, its sslrootcert",
    },
];

/// The first steps for these failure texts: the run's log, then each step whose signs appear,
/// once, in the order of `STEPS`.
pub fn for_failures<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<&'static str> {
    let texts: Vec<String> = texts.into_iter().map(str::to_lowercase).collect();
    let mut steps = vec!["open the monitor run's log: it names every failure in full"];
    steps.extend(
        STEPS
            .iter()
            .filter(|s| {
                texts
                    .iter()
                    .any(|t| s.signs.iter().any(|sign| t.contains(sign)))
            })
            .map(|s| s.step),
    );
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(texts: &[&str]) -> String {
        for_failures(texts.iter().copied()).join("\n")
    }

    #[test]
    fn a_refused_connection_does_not_send_people_to_token_scopes() {
        let s = steps(&[
            "could not list workflow runs: GitHub: could not connect to api.github.com: \
             Connection refused (os error 111)",
        ]);
        assert!(s.contains("could not be reached"), "{s}");
        assert!(!s.contains("permission"), "{s}");
        assert!(!s.contains("401"), "{s}");
    }

    #[test]
    fn a_403_points_at_the_workflows_permissions() {
        let s = steps(&[
            "GitHub refused access (HTTP 403: Resource not accessible by integration): the credential lacks a permission",
        ]);
        assert!(s.contains("`permissions:` in the workflow"), "{s}");
        assert!(!s.contains("could not be reached"), "{s}");
    }

    #[test]
    fn each_kind_of_failure_gets_its_step_once() {
        let s = for_failures([
            "Heroku rejected the credential (HTTP 401): check HEROKU_API_KEY",
            "GitHub rejected the credential (HTTP 401): check GITHUB_TOKEN",
            "GitHub answered HTTP 502 after 3 attempts (text/html): <html>",
        ]);
        assert_eq!(s.len(), 3, "{s:?}");
        assert!(s[1].starts_with("a credential was refused"));
        assert!(s[2].starts_with("a vendor answered with a server error"));
    }

    #[test]
    fn an_unrecognised_failure_still_gets_the_log() {
        assert_eq!(
            for_failures(["something new"]),
            ["open the monitor run's log: it names every failure in full"]
        );
    }
}
