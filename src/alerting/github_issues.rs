//! `[github_issues]`: one open issue per failing check, as Upptime keeps them. The issue's
//! title is the event's subject line; its body the event in mail's words as a code block
//! (server text in it is shown, never rendered) and, on the last line, a hidden marker
//! `<!-- heartbeat-monitor:CHECK_ID -->`. The monitor finds its own issue again by marker and
//! label among the open issues the token's own login opened (never by title, never one a
//! person opened: upptime/upptime#1084 closed people's issues), comments on a change or a
//! reminder, and on recovery comments "Resolved after 3 d 4 h" and closes it. Nothing is ever
//! deleted. At most 80 issues, comments and closings a run: GitHub's content-creation limit
//! is 80 a minute.
//!
//! ```toml
//! [github_issues]
//! repo = "raxx-app/TradeMasterAPI"               # where the issues go
//! labels = ["incident", "heartbeat-monitor"]     # default ["heartbeat-monitor"]
//! assignees = ["kristerpher"]                    # default none
//! ```
//!
//! The token (`GITHUB_TOKEN`) needs `issues: write` on that repository.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::channel::{Channel, Context, Deliver, Delivered, Event, EventKind, Kind};
use crate::clients::api::{ApiError, parse_json};
use crate::clients::github::{API, GitHub, Repo};
use crate::clients::http::Method;
use crate::config::Need;
use crate::config::file::{Section, Table};
use crate::model::Notification;
use crate::model::Status;

/// The kind.
pub const KIND: Kind = Kind {
    section: Section::table("github_issues"),
    configure,
    by_default: None,
};

const NAME: &str = "github_issues";
/// GitHub's content-creation limit: 80 a minute; a run spends at most that.
const MAX_WRITES: usize = 80;
/// The marker of the issue about the monitor itself (checks that could not be evaluated).
const MONITOR: &str = "monitor-failed";
/// Whose issues GitHub's own workflow token opens; `GET /user` is refused to such a token.
const ACTIONS_BOT: &str = "github-actions[bot]";

/// A configured issue tracker.
#[derive(Debug)]
pub struct GithubIssues {
    repo: Repo,
    labels: Vec<String>,
    assignees: Vec<String>,
}

fn configure(t: &Table<'_>, _: &Context<'_>) -> Option<Arc<dyn Channel>> {
    let v = t.required_string("repo")?;
    let Some(repo) = Repo::parse(&v.value) else {
        t.error(
            v.line,
            format!("[github_issues] repo `{}` is not OWNER/NAME", v.value),
        );
        return None;
    };
    let labels = t
        .strings("labels")
        .map(|v| v.value)
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| vec!["heartbeat-monitor".into()]);
    let assignees = t.strings("assignees").map(|v| v.value).unwrap_or_default();
    Some(Arc::new(GithubIssues {
        repo,
        labels,
        assignees,
    }))
}

/// An issue as the issues API answers it, as far as it is read.
#[derive(Debug, Clone, Deserialize)]
struct Issue {
    number: u64,
    html_url: String,
    #[serde(default)]
    body: Option<String>,
    user: Option<User>,
    created_at: String,
    #[serde(default)]
    pull_request: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
struct User {
    login: String,
}

const MARKER_OPEN: &str = "<!-- heartbeat-monitor:";
const MARKER_CLOSE: &str = " -->";

/// The marker hidden in the body of the issue about `id`: always the body's last line.
fn marker(id: &str) -> String {
    format!("{MARKER_OPEN}{} -->", encode_id(id))
}

/// `id` as it can sit in an HTML comment and be read back exactly: `%`, a `-` after a `-`
/// (`--` would end the comment), `>`, and spaces or controls are percent-encoded; anything
/// else (a plain id, as earlier markers wrote it) is itself.
fn encode_id(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    let mut after_dash = false;
    for ch in id.chars() {
        let escape = matches!(ch, '%' | '>') || ch.is_whitespace() || ch.is_control();
        if escape || (ch == '-' && after_dash) {
            let mut buf = [0; 4];
            for b in ch.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(ch);
        }
        after_dash = ch == '-';
    }
    out
}

/// The id `encode_id` wrote, or `None` when `text` is not such an encoding.
fn decode_id(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

/// `text` (mail's words: server text in it) as one fenced code block, so that GitHub renders
/// no mention, link, image or HTML from it, and no marker in it is ever read: the fence is
/// longer than any run of backticks inside.
fn quoted(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}text\n{}\n{fence}", text.trim_end())
}

impl Channel for GithubIssues {
    fn name(&self) -> &'static str {
        NAME
    }

    fn needs(&self) -> Vec<Need> {
        vec![Need::new(
            "GITHUB_TOKEN",
            format!(
                "GITHUB_TOKEN is not set: [github_issues] opens issues in {}",
                self.repo
            ),
        )]
    }

    fn deliver(&self, events: &[Event<'_>], ctx: &Deliver<'_>) -> Vec<Delivered> {
        let app = ctx.secrets.github_app();
        let token = ctx.secrets.get("GITHUB_TOKEN");
        if app.is_none() && token.is_none() {
            return self.all_failed(events, ctx, "GITHUB_TOKEN is not set");
        }
        let gh = GitHub::new(
            ctx.http.clone(),
            &ctx.secrets.github_api,
            token.unwrap_or_default(),
            ctx.deadline,
        )
        .with_app(app);
        let open = match self.own_open_issues(&gh) {
            Ok(open) => open,
            Err(e) => return self.all_failed(events, ctx, &NotDone::from(e).to_string()),
        };
        let writes = AtomicUsize::new(0);
        let mut out = Vec::new();
        for (i, e) in events.iter().enumerate() {
            let mut n = Notification::pending(NAME, &[self.repo.to_string()], &ctx.subject(e));
            let id = match e.kind {
                EventKind::MonitorFailed => MONITOR.to_string(),
                _ => match e.checks.first() {
                    Some(c) => c.id.clone(),
                    None => continue,
                },
            };
            let result = match (e.kind, open.get(&id)) {
                // Nothing open to close: the recovery was told elsewhere, or never opened here.
                (EventKind::Resolved, None) => continue,
                (EventKind::Resolved, Some(issue)) => self.close(&gh, issue, e, ctx, &writes),
                (_, Some(issue)) => self.comment(&gh, issue, e, ctx, &writes),
                (_, None) => self.open(&gh, &id, e, ctx, &writes),
            };
            match result {
                Ok(url) => {
                    n.sent = true;
                    n.id = Some(url);
                }
                Err(why) => n.error = Some(why.to_string()),
            }
            out.push(Delivered {
                event: i,
                notification: n,
            });
        }
        // Every check could be evaluated again: the issue about the monitor is over. A failure
        // here is tried again next run, when the issue is still open.
        let evaluated =
            !ctx.checks.is_empty() && ctx.checks.iter().all(|c| c.status != Status::Unknown);
        if let (true, Some(issue)) = (evaluated, open.get(MONITOR)) {
            let body = format!(
                "Resolved after {}: every check could be evaluated again.",
                lasted(&issue.created_at, ctx.now)
            );
            let _ = self.close_with(&gh, issue, body, &writes);
        }
        out
    }

    fn preview(&self, events: &[Event<'_>], ctx: &Deliver<'_>) -> String {
        let mut out = format!(
            "dry run: github_issues would open, comment on or close an issue in {} for {} event(s)\n",
            self.repo,
            events.len()
        );
        for e in events {
            out.push_str(&format!(
                "\n--- github_issues ({}): {}\n",
                e.kind.as_str(),
                ctx.subject(e)
            ));
        }
        out
    }
}

impl GithubIssues {
    /// The open issues with the labels that the token's own login opened, by their marker's id.
    fn own_open_issues(&self, gh: &GitHub) -> Result<BTreeMap<String, Issue>, ApiError> {
        let login = match gh.call(Method::Get, "/user", None, "the token's own user") {
            Ok(resp) => parse_json::<User>(API, &resp)?.login,
            // GITHUB_TOKEN is an app's installation token: it may not read /user.
            Err(ApiError::Forbidden { .. }) => ACTIONS_BOT.to_string(),
            Err(e) => return Err(e),
        };
        let labels: Vec<String> = self
            .labels
            .iter()
            .map(|l| crate::util::text::encode(l))
            .collect();
        let mut found = BTreeMap::new();
        for page in 1..=10 {
            let path = format!(
                "/repos/{}/{}/issues?state=open&labels={}&creator={}&per_page=100&page={page}",
                self.repo.owner,
                self.repo.name,
                labels.join(","),
                crate::util::text::encode(&login),
            );
            let resp = gh.call(
                Method::Get,
                &path,
                None,
                &format!("the open issues of {}", self.repo),
            )?;
            let issues: Vec<Issue> = parse_json(API, &resp)?;
            let last = issues.len() < 100;
            for issue in issues {
                let mine = issue.user.as_ref().is_some_and(|u| u.login == login);
                if !mine || issue.pull_request.is_some() {
                    continue;
                }
                if let Some(id) = issue.body.as_deref().and_then(marker_id) {
                    found.entry(id).or_insert(issue);
                }
            }
            if last {
                break;
            }
        }
        Ok(found)
    }

    fn open(
        &self,
        gh: &GitHub,
        id: &str,
        e: &Event<'_>,
        ctx: &Deliver<'_>,
        writes: &AtomicUsize,
    ) -> Result<String, NotDone> {
        self.spend(writes)?;
        let body = format!("{}\n\n{}", quoted(&told(e, ctx)), marker(id));
        let mut issue = json!({"title": ctx.subject(e), "body": body, "labels": self.labels});
        if !self.assignees.is_empty() {
            issue["assignees"] = json!(self.assignees);
        }
        let path = format!("/repos/{}/{}/issues", self.repo.owner, self.repo.name);
        let resp = gh.call(
            Method::Post,
            &path,
            Some(&issue),
            &format!("a new issue in {}", self.repo),
        )?;
        Ok(parse_json::<Issue>(API, &resp)?.html_url)
    }

    fn comment(
        &self,
        gh: &GitHub,
        issue: &Issue,
        e: &Event<'_>,
        ctx: &Deliver<'_>,
        writes: &AtomicUsize,
    ) -> Result<String, NotDone> {
        let head = match e.kind {
            EventKind::Reminder => "Still failing (a reminder).",
            EventKind::Change => "The status changed.",
            _ => "Seen again.",
        };
        self.say(
            gh,
            issue,
            format!("{head}\n\n{}", quoted(&told(e, ctx))),
            writes,
        )
    }

    /// Comments `body` on `issue`; its URL.
    fn say(
        &self,
        gh: &GitHub,
        issue: &Issue,
        body: String,
        writes: &AtomicUsize,
    ) -> Result<String, NotDone> {
        let path = format!("{}/comments", issue_path(&self.repo, issue.number));
        self.write(gh, Method::Post, &path, json!({"body": body}), writes)?;
        Ok(issue.html_url.clone())
    }

    fn close(
        &self,
        gh: &GitHub,
        issue: &Issue,
        e: &Event<'_>,
        ctx: &Deliver<'_>,
        writes: &AtomicUsize,
    ) -> Result<String, NotDone> {
        let body = format!(
            "Resolved after {}.\n\n{}",
            lasted(&issue.created_at, ctx.now),
            quoted(&told(e, ctx))
        );
        self.close_with(gh, issue, body, writes)
    }

    /// Comments `body` on `issue`, then closes it as completed.
    fn close_with(
        &self,
        gh: &GitHub,
        issue: &Issue,
        body: String,
        writes: &AtomicUsize,
    ) -> Result<String, NotDone> {
        self.say(gh, issue, body, writes)?;
        self.write(
            gh,
            Method::Patch,
            &issue_path(&self.repo, issue.number),
            json!({"state": "closed", "state_reason": "completed"}),
            writes,
        )?;
        Ok(issue.html_url.clone())
    }

    /// One content-creating request, within the run's allowance.
    fn write(
        &self,
        gh: &GitHub,
        method: Method,
        path: &str,
        body: serde_json::Value,
        writes: &AtomicUsize,
    ) -> Result<(), NotDone> {
        self.spend(writes)?;
        gh.call(
            method,
            path,
            Some(&body),
            &format!("an issue of {}", self.repo),
        )
        .map(drop)
        .map_err(NotDone::from)
    }

    fn spend(&self, writes: &AtomicUsize) -> Result<(), NotDone> {
        if writes.fetch_add(1, Ordering::SeqCst) >= MAX_WRITES {
            return Err(NotDone::OverLimit);
        }
        Ok(())
    }

    fn all_failed(&self, events: &[Event<'_>], ctx: &Deliver<'_>, why: &str) -> Vec<Delivered> {
        events
            .iter()
            .enumerate()
            .map(|(i, e)| Delivered {
                event: i,
                notification: Notification {
                    error: Some(why.to_string()),
                    ..Notification::pending(NAME, &[self.repo.to_string()], &ctx.subject(e))
                },
            })
            .collect()
    }
}

/// The event in mail's words, masked: what an issue quotes.
fn told(e: &Event<'_>, ctx: &Deliver<'_>) -> String {
    ctx.redactor.redact_owned(super::mail::body(e, ctx))
}

/// The id the marker on a body's last line names; a marker anywhere else (inside quoted
/// server text, or a body a person wrote) names nothing.
fn marker_id(body: &str) -> Option<String> {
    let last = body.trim_end().lines().next_back()?;
    let encoded = last.strip_prefix(MARKER_OPEN)?.strip_suffix(MARKER_CLOSE)?;
    decode_id(encoded)
}

fn issue_path(repo: &Repo, number: u64) -> String {
    format!("/repos/{}/{}/issues/{number}", repo.owner, repo.name)
}

/// Why an issue, comment or closing did not happen: the notification's error.
#[derive(Debug, thiserror::Error)]
enum NotDone {
    /// GitHub refused it; a 403 here means the permission.
    #[error("{0}: give the workflow `issues: write`")]
    Forbidden(ApiError),
    /// Any other answer, or none.
    #[error("{0}")]
    Api(ApiError),
    /// The run's allowance is spent.
    #[error("left for the next run: GitHub allows {MAX_WRITES} issues and comments a minute")]
    OverLimit,
}

impl From<ApiError> for NotDone {
    fn from(e: ApiError) -> Self {
        match e {
            e @ ApiError::Forbidden { .. } => Self::Forbidden(e),
            e => Self::Api(e),
        }
    }
}

/// "3 d 4 h" from `since` (RFC 3339) to `now`.
fn lasted(since: &str, now: DateTime<Utc>) -> String {
    let Ok(since) = since.parse::<DateTime<Utc>>() else {
        return "a while".into();
    };
    let mins = (now - since).num_minutes().max(0);
    let (d, h, m) = (mins / 1440, mins % 1440 / 60, mins % 60);
    match (d, h) {
        (0, 0) => format!("{m} min"),
        (0, h) => format!("{h} h {m} min"),
        (d, h) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_reads_back_its_id() {
        let id = "cron_heartbeat:o/r:nightly.yml";
        let body = format!("text\n\n{}\n", marker(id));
        assert_eq!(marker_id(&body).as_deref(), Some(id));
        assert_eq!(marker(id), format!("<!-- heartbeat-monitor:{id} -->"));
        assert_eq!(marker_id("no marker"), None);
    }

    #[test]
    fn every_id_round_trips_through_its_marker_and_never_ends_the_comment() {
        for id in [
            "http_probe:api--prod",
            "x---y-",
            "a%2Db",
            "p:a -->b",
            "q:->x\ny",
            "monitor-failed",
        ] {
            let m = marker(id);
            let inner = &m["<!--".len()..m.len() - "-->".len()];
            assert!(!inner.contains("--"), "{m}");
            assert!(!inner.contains('>') && !inner.contains('\n'), "{m}");
            assert_eq!(
                marker_id(&format!("body\n\n{m}")).as_deref(),
                Some(id),
                "{m}"
            );
        }
    }

    #[test]
    fn only_the_marker_on_the_last_line_counts() {
        let other = marker("http_probe:other");
        let own = marker("http_probe:own");
        let body = format!("{}\n\n{own}", quoted(&format!("server said {other}")));
        assert_eq!(marker_id(&body).as_deref(), Some("http_probe:own"));
        assert_eq!(
            marker_id(&format!("{other}\n\nsomething a person added")),
            None
        );
    }

    #[test]
    fn the_fence_is_longer_than_any_backticks_inside() {
        assert_eq!(quoted("plain\n"), "```text\nplain\n```");
        assert_eq!(quoted("a ```` b"), "`````text\na ```` b\n`````");
    }

    #[test]
    fn how_long_it_lasted_is_said_in_days_and_hours() {
        let now: DateTime<Utc> = "2026-05-23T06:30:00Z".parse().unwrap();
        assert_eq!(lasted("2026-05-20T02:10:00Z", now), "3 d 4 h");
        assert_eq!(lasted("2026-05-23T04:00:00Z", now), "2 h 30 min");
        assert_eq!(lasted("2026-05-23T06:25:00Z", now), "5 min");
    }
}
