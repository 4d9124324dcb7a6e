//! Watching the watcher: a dead man's switch in the Healthchecks.io protocol. `GET {url}/start`
//! when a run starts and `GET {url}/{exit code}` when it ends, so a monitor that stops running
//! (or dies) is itself noticed. A ping that fails is said, never changes the run's outcome.

use std::time::{Duration, Instant};

use crate::clients::http::{Http, HttpSettings, Request};

/// How long a ping may take in all, retry included: a hanging switch must not hold the run.
const PING_BUDGET: Duration = Duration::from_secs(5);

/// Pings `{base}/{what}`; returns a line to print when it failed.
pub fn ping(base: &str, what: &str) -> Option<String> {
    let http = Http::new(HttpSettings {
        request_timeout: PING_BUDGET,
        connect_timeout: PING_BUDGET.min(HttpSettings::default().connect_timeout),
        max_attempts: 2,
        ..HttpSettings::default()
    });
    let url = format!("{}/{what}", base.trim_end_matches('/'));
    match http.send(&Request::get(&url), Instant::now() + PING_BUDGET) {
        Ok(r) if (200..300).contains(&r.status) => None,
        Ok(r) => Some(format!(
            "dead man's switch ping /{what} answered HTTP {}",
            r.status
        )),
        Err(e) => Some(format!("dead man's switch ping /{what} failed: {e}")),
    }
}
