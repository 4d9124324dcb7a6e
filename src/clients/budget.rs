//! What a run spent of each API's budget, and the answers it may reuse: conditional requests
//! (`If-None-Match` with the ETag the state file kept) that GitHub answers `304 Not Modified`
//! without counting them against the token's hourly budget.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// What one API was asked this run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Spent {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Of those, answered `304 Not Modified` (free on GitHub).
    pub not_modified: u64,
    /// The budget left, from the last answer's `x-ratelimit-remaining` (GitHub) or
    /// `ratelimit-remaining` (Heroku); `None` when no answer said.
    pub remaining: Option<u64>,
}

/// Per API name ("GitHub", "Heroku", …), shared by every client of the run.
#[derive(Debug, Clone, Default)]
pub struct Budget(Arc<Mutex<BTreeMap<&'static str, Spent>>>);

impl Budget {
    /// Counts `attempts` requests to `api`, their last answer `status` with `remaining`.
    pub fn record(&self, api: &'static str, attempts: u32, status: u16, remaining: Option<u64>) {
        if let Ok(mut all) = self.0.lock() {
            let spent = all.entry(api).or_default();
            spent.requests += u64::from(attempts.max(1));
            spent.not_modified += u64::from(status == 304);
            if remaining.is_some() {
                spent.remaining = remaining;
            }
        }
    }

    /// Counts a request that got no answer.
    pub fn record_failure(&self, api: &'static str) {
        if let Ok(mut all) = self.0.lock() {
            all.entry(api).or_default().requests += 1;
        }
    }

    /// What each API was asked, keyed by its name in lower case.
    pub fn snapshot(&self) -> BTreeMap<String, Spent> {
        self.0
            .lock()
            .map(|all| {
                all.iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), *v))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A kept answer: its ETag and what the monitor read from it (not the whole body), kept as
/// JSON text: a parsed tree would cost several times its size for thousands of answers.
/// Shared, so an answer confirmed by a `304` is kept without a copy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cached {
    /// The `ETag` the API sent.
    pub etag: String,
    /// The typed value read from the body.
    pub value: Arc<RawValue>,
}

impl PartialEq for Cached {
    fn eq(&self, other: &Self) -> bool {
        self.etag == other.etag && self.value.get() == other.value.get()
    }
}

/// The answers of the last run, and those this run read or confirmed, by URL. Only what a
/// run used is kept, so the state file holds one entry per request of the configuration.
#[derive(Debug, Default)]
pub struct AnswerCache {
    previous: BTreeMap<String, Cached>,
    kept: Mutex<BTreeMap<String, Cached>>,
}

/// An entry's URL is the cache key; a URL longer than this is not kept.
const MAX_KEY: usize = 2048;
/// A value larger than this (as JSON) is not kept: the state file stays small.
const MAX_VALUE: usize = 64 * 1024;

impl AnswerCache {
    /// A cache holding the last run's answers.
    pub fn new(previous: BTreeMap<String, Cached>) -> Self {
        Self {
            previous,
            kept: Mutex::default(),
        }
    }

    /// The last run's answer to `url`.
    pub fn get(&self, url: &str) -> Option<&Cached> {
        self.previous.get(url)
    }

    /// Keeps `value` as the answer to `url` with `etag`.
    pub fn keep(&self, url: &str, etag: &str, value: Arc<RawValue>) {
        let too_big = url.len() > MAX_KEY || etag.len() > 256 || value.get().len() > MAX_VALUE;
        if too_big {
            return;
        }
        if let Ok(mut kept) = self.kept.lock() {
            kept.insert(
                url.to_string(),
                Cached {
                    etag: etag.to_string(),
                    value,
                },
            );
        }
    }

    /// What this run read or confirmed, for the state file; taken out, not copied.
    pub fn take_kept(&self) -> BTreeMap<String, Cached> {
        self.kept
            .lock()
            .map(|mut k| std::mem::take(&mut *k))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(v: &serde_json::Value) -> Arc<RawValue> {
        serde_json::value::to_raw_value(v).unwrap().into()
    }

    #[test]
    fn a_budget_counts_retries_304s_and_the_last_remaining() {
        let b = Budget::default();
        b.record("GitHub", 1, 200, Some(4999));
        b.record("GitHub", 2, 304, None);
        b.record_failure("GitHub");
        b.record("Heroku", 1, 200, None);
        let s = b.snapshot();
        assert_eq!(
            s["github"],
            Spent {
                requests: 4,
                not_modified: 1,
                remaining: Some(4999)
            }
        );
        assert_eq!(s["heroku"].remaining, None);
    }

    #[test]
    fn only_what_this_run_used_is_kept_and_nothing_huge() {
        let old = Cached {
            etag: "\"a\"".into(),
            value: raw(&serde_json::json!({"x": 1})),
        };
        let cache = AnswerCache::new(BTreeMap::from([
            ("https://api/one".to_string(), old.clone()),
            ("https://api/gone".to_string(), old.clone()),
        ]));
        assert_eq!(cache.get("https://api/one"), Some(&old));
        cache.keep(
            "https://api/one",
            "\"b\"",
            raw(&serde_json::json!({"x": 2})),
        );
        cache.keep(
            "https://api/big",
            "\"c\"",
            raw(&serde_json::json!("x".repeat(MAX_VALUE))),
        );
        let kept = cache.take_kept();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept["https://api/one"].etag, "\"b\"");
    }
}
