//! `[webhook]`: any JSON consumer. One POST per event and check:
//! `{"event": "problem", "check": <the result file's check object>, "run": {...}}`, where
//! `event` is `problem`, `change`, `reminder`, `resolved` or `monitor_failed`. Any 2xx is
//! accepted. The URL is the secret.
//!
//! ```toml
//! [webhook]
//! url_env = "ALERT_WEBHOOK_URL"   # default
//! ```

use std::sync::Arc;

use serde_json::{Value, json};

use super::channel::{Channel, Context, Deliver, Delivered, Endpoint, Event, Kind};
use crate::config::Need;
use crate::config::file::{Section, Table};
use crate::model::CheckResult;
use crate::util::text::one_line;

/// The kind.
pub const KIND: Kind = Kind {
    section: Section::table("webhook"),
    configure,
    by_default: None,
};

const NAME: &str = "webhook";

/// A configured webhook.
#[derive(Debug)]
pub struct Webhook {
    /// The variable holding the URL.
    url: Endpoint,
}

fn configure(t: &Table<'_>, _: &Context<'_>) -> Option<Arc<dyn Channel>> {
    let url = Endpoint::read(t, "url_env", "ALERT_WEBHOOK_URL")?;
    Some(Arc::new(Webhook { url }))
}

impl Channel for Webhook {
    fn name(&self) -> &'static str {
        NAME
    }

    fn needs(&self) -> Vec<Need> {
        vec![self.url.need("[webhook] posts to that URL")]
    }

    fn deliver(&self, events: &[Event<'_>], ctx: &Deliver<'_>) -> Vec<Delivered> {
        payloads(events, ctx)
            .into_iter()
            .map(|(i, payload)| {
                let body = serde_json::to_vec(&payload).unwrap_or_default();
                self.url
                    .post(NAME, (i, &events[i]), body, ctx, |resp| match resp.status {
                        200..=299 => Ok(()),
                        status => Err(format!("the webhook answered HTTP {status}")),
                    })
            })
            .collect()
    }

    fn preview(&self, events: &[Event<'_>], ctx: &Deliver<'_>) -> String {
        let payloads = payloads(events, ctx);
        let mut out = format!(
            "dry run: webhook would POST {} event(s) to the URL in {}\n",
            payloads.len(),
            self.url.env
        );
        for (_, p) in payloads {
            out.push_str(&format!(
                "\n--- webhook: {} {}\n",
                p["event"].as_str().unwrap_or(""),
                one_line(p["check"]["id"].as_str().unwrap_or(""))
            ));
        }
        out
    }
}

/// `(event index, payload)`: one per check of each event.
pub fn payloads(events: &[Event<'_>], ctx: &Deliver<'_>) -> Vec<(usize, Value)> {
    events
        .iter()
        .enumerate()
        .flat_map(|(i, e)| {
            // A monitor that failed before any check (its configuration) still says so.
            let checks: Vec<Option<&CheckResult>> = if e.checks.is_empty() {
                vec![None]
            } else {
                e.checks.iter().copied().map(Some).collect()
            };
            checks
                .into_iter()
                .map(move |c| (i, payload(e, c, ctx)))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn payload(e: &Event<'_>, c: Option<&CheckResult>, ctx: &Deliver<'_>) -> Value {
    json!({
        "event": e.kind.as_str(),
        "check": c,
        "run": {
            "now": ctx.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "subject": ctx.subject(e),
            "url": ctx.run_url,
            "tool": "heartbeat-monitor",
            "tool_version": env!("CARGO_PKG_VERSION"),
        },
    })
}
