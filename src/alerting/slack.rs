//! `[slack]`: a Slack incoming webhook, one Block Kit message per event: the status with a
//! sign that needs no colour, the check, its message, where to look, the runbook.
//!
//! ```toml
//! [slack]
//! webhook_url_env = "SLACK_WEBHOOK_URL"   # default
//! ```
//!
//! Slack answers `200 ok`, or an error word (`invalid_payload`, `no_service`,
//! `channel_is_archived`, …) with a 4xx: the word is recorded. The webhook URL is the secret.

use std::sync::Arc;

use serde_json::{Value, json};

use super::channel::{
    self, Channel, Context, Deliver, Delivered, Endpoint, Event, EventKind, Kind,
};
use crate::config::Need;
use crate::config::file::{Section, Table};
use crate::util::text::{cut, one_line};

/// The kind.
pub const KIND: Kind = Kind {
    section: Section::table("slack"),
    configure,
    by_default: None,
};

const NAME: &str = "slack";
/// Slack's limits: a header's text, a section's text.
const HEADER_MAX: usize = 150;
const SECTION_MAX: usize = 3000;

/// A configured Slack webhook.
#[derive(Debug)]
pub struct Slack {
    /// The variable holding the webhook URL.
    url: Endpoint,
}

fn configure(t: &Table<'_>, _: &Context<'_>) -> Option<Arc<dyn Channel>> {
    let url = Endpoint::read(t, "webhook_url_env", "SLACK_WEBHOOK_URL")?;
    Some(Arc::new(Slack { url }))
}

impl Channel for Slack {
    fn name(&self) -> &'static str {
        NAME
    }

    fn needs(&self) -> Vec<Need> {
        vec![self.url.need("[slack] posts to that webhook")]
    }

    fn deliver(&self, events: &[Event<'_>], ctx: &Deliver<'_>) -> Vec<Delivered> {
        events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let body = serde_json::to_vec(&message(e, ctx)).unwrap_or_default();
                self.url
                    .post(NAME, (i, e), body, ctx, |resp| match resp.status {
                        200 => Ok(()),
                        status => Err(refusal(status, &resp.body)),
                    })
            })
            .collect()
    }

    fn preview(&self, events: &[Event<'_>], ctx: &Deliver<'_>) -> String {
        let mut out = format!(
            "dry run: slack would post {} message(s) to the webhook in {}\n",
            events.len(),
            self.url.env
        );
        for e in events {
            let m = message(e, ctx);
            out.push_str(&format!(
                "\n--- slack: {}\n",
                m["text"].as_str().unwrap_or("")
            ));
            out.push_str(&serde_json::to_string_pretty(&m["blocks"]).unwrap_or_default());
            out.push('\n');
        }
        out
    }
}

/// What Slack said when it did not answer `200 ok`: its error word, on one short line.
fn refusal(status: u16, body: &[u8]) -> String {
    let word: String = String::from_utf8_lossy(body)
        .chars()
        .take(100)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("Slack refused the message (HTTP {status}: {})", word.trim())
}

/// The Block Kit message of one event.
pub fn message(e: &Event<'_>, ctx: &Deliver<'_>) -> Value {
    let (header, text, links) = match (e.kind, e.checks.as_slice()) {
        (EventKind::MonitorFailed, _) | (_, []) => {
            let mut text = String::from("The health of these is not known:\n");
            for c in &e.checks {
                text.push_str(&format!("• `{}`: {}\n", escape(&c.id), escape(&c.message)));
            }
            if e.checks.is_empty() {
                let mut problems = String::from("Problems of the monitor itself:");
                for p in e.errors {
                    problems.push_str(&format!("\n- {p}"));
                }
                text = escape(problems.trim());
            }
            let runbook = ctx.runbook(channel::MONITOR_FAILED);
            (
                "❔ MONITOR FAILED".to_string(),
                text,
                links(None, runbook, ctx),
            )
        }
        (EventKind::Resolved, [c, ..]) => (
            format!("✅ RESOLVED {} {}", c.kind, c.target),
            escape(e.recovery(c).trim()),
            links(c.link.as_deref(), None, ctx),
        ),
        (kind, [c, ..]) => {
            let mut text = escape(&c.message);
            if kind == EventKind::Reminder {
                text.push_str("\n_Still failing: a reminder._");
            }
            if let Some(since) = &c.since {
                text.push_str(&format!("\nSince {since}"));
            }
            let runbook = ctx.runbook(e.subject.words());
            (
                format!("{} {} {}", channel::status_sign(c.status), c.kind, c.target),
                text,
                links(c.link.as_deref(), runbook, ctx),
            )
        }
    };
    let header = one_line(&header);
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut(&header, HEADER_MAX), "emoji": true}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(&text, SECTION_MAX)}}),
    ];
    if !links.is_empty() {
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": links}]}));
    }
    // The notification text is mrkdwn too: a name from a file or a server pings nobody.
    json!({"text": escape(&one_line(&ctx.subject(e))), "blocks": blocks})
}

/// "<url|Look at> · <url|Runbook> · <url|Monitor run>", those that exist.
fn links(look: Option<&str>, runbook: Option<String>, ctx: &Deliver<'_>) -> String {
    [
        look.map(|u| format!("<{}|Look at>", escape(u))),
        runbook.map(|u| format!("<{}|Runbook>", escape(&u))),
        ctx.run_url.map(|u| format!("<{}|Monitor run>", escape(u))),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ")
}

/// Slack's mrkdwn escaping: `&`, `<` and `>`, so server text cannot make a link or mention.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerting::channel::Subject;
    use crate::clients::http::{Http, HttpSettings};
    use crate::config::Secrets;
    use crate::model::{CheckResult, Status};

    fn check() -> CheckResult {
        let mut c = CheckResult::new(
            "cron_heartbeat:o/r:nightly.yml",
            "cron_heartbeat",
            "nightly.yml",
            Status::Critical,
            "missed 5 scheduled runs in a row <@here> & more".into(),
        );
        c.subject_name = "nightly".into();
        c.since = Some("2026-05-18T02:00:00Z".into());
        c.link = Some("https://github.com/o/r/actions/runs/7".into());
        c
    }

    fn with_ctx<T>(f: impl FnOnce(&Deliver<'_>) -> T) -> T {
        let http = Http::new(HttpSettings::default());
        let secrets = Secrets::default();
        f(&Deliver {
            http: &http,
            deadline: std::time::Instant::now(),
            secrets: &secrets,
            now: "2026-05-23T06:30:00Z".parse().unwrap(),
            run_url: Some("https://github.com/o/r/actions/runs/9"),
            runbook_url: Some("https://example.invalid/runbook"),
            checks: &[],
            redactor: &crate::redact::Redactor::default(),
            prefix: "[hm]",
        })
    }

    #[test]
    fn a_problem_says_status_check_message_and_where_to_look_and_escapes_server_text() {
        let c = check();
        let e = Event {
            kind: EventKind::Problem,
            subject: Subject::Check("cron heartbeat STALE: nightly".into()),
            checks: vec![&c],
            since: None,
            lasted: None,
            errors: &[],
        };
        let m = with_ctx(|ctx| message(&e, ctx));
        assert_eq!(m["text"], "[hm] cron heartbeat STALE: nightly");
        assert_eq!(
            m["blocks"][0]["text"]["text"],
            "🔴 CRITICAL cron_heartbeat nightly.yml"
        );
        assert_eq!(
            m["blocks"][1]["text"]["text"],
            "missed 5 scheduled runs in a row &lt;@here&gt; &amp; more\nSince 2026-05-18T02:00:00Z"
        );
        assert_eq!(
            m["blocks"][2]["elements"][0]["text"],
            "<https://github.com/o/r/actions/runs/7|Look at> · \
             <https://example.invalid/runbook#cron-heartbeat-stale|Runbook> · \
             <https://github.com/o/r/actions/runs/9|Monitor run>"
        );
    }

    #[test]
    fn the_notification_text_is_escaped_and_on_one_line() {
        let mut c = check();
        c.target = "nightly\n<!channel>.yml".into();
        let e = Event {
            kind: EventKind::Problem,
            subject: Subject::Check(
                "cron heartbeat STALE: nightly <!channel> <@U0ADMIN>\r\nBcc: x".into(),
            ),
            checks: vec![&c],
            since: None,
            lasted: None,
            errors: &[],
        };
        let m = with_ctx(|ctx| message(&e, ctx));
        assert_eq!(
            m["text"],
            "[hm] cron heartbeat STALE: nightly &lt;!channel&gt; &lt;@U0ADMIN&gt;  Bcc: x"
        );
        assert_eq!(
            m["blocks"][0]["text"]["text"], "🔴 CRITICAL cron_heartbeat nightly <!channel>.yml",
            "plain text renders no mention, but stays on one line"
        );
    }

    #[test]
    fn long_texts_are_cut_to_slacks_limits() {
        let mut c = check();
        c.message = "x".repeat(5000);
        c.target = "y".repeat(300);
        let e = Event {
            kind: EventKind::Reminder,
            subject: Subject::Check("s".into()),
            checks: vec![&c],
            since: None,
            lasted: None,
            errors: &[],
        };
        let m = with_ctx(|ctx| message(&e, ctx));
        let header = m["blocks"][0]["text"]["text"].as_str().unwrap();
        let text = m["blocks"][1]["text"]["text"].as_str().unwrap();
        assert_eq!(header.chars().count(), HEADER_MAX);
        assert_eq!(text.chars().count(), SECTION_MAX);
        assert!(text.ends_with('…'));
    }

    #[test]
    fn a_refusal_records_slacks_word_on_one_line() {
        assert_eq!(
            refusal(400, b"invalid_payload\n"),
            "Slack refused the message (HTTP 400: invalid_payload)"
        );
    }
}
