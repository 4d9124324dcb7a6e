//! `index.html`: one self-contained page (inline CSS, no script, no font or image from
//! outside), the checks grouped by kind, each with its status, message, since when, and a
//! 90-day strip of its worst status per day with its share of ok runs. Readable without
//! colour: every status is also a word and a sign, and the strip's bars differ in height.
//! Dark mode follows the reader's system.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, Duration, Utc};

use super::history::{DAYS, Line};
use crate::model::RunStatus;
use crate::model::{CheckResult, Status};

/// What the page shows of one check.
struct Row<'a> {
    check: &'a CheckResult,
    /// Worst status per day, oldest first (`None`: no run that day).
    days: Vec<Option<Status>>,
    /// ok runs / runs, over the 90 days.
    uptime: Option<f64>,
    /// Since when the check has had its current status.
    since: Option<DateTime<Utc>>,
}

/// The page of this run.
pub fn render(
    checks: &[CheckResult],
    status: RunStatus,
    lines: &[Line],
    now: DateTime<Utc>,
) -> String {
    let mut by_id: BTreeMap<&str, Vec<&Line>> = BTreeMap::new();
    for l in lines {
        by_id.entry(l.id.as_str()).or_default().push(l);
    }
    let mut kinds: BTreeMap<&str, Vec<Row<'_>>> = BTreeMap::new();
    for c in checks {
        let history = by_id
            .get(c.id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        kinds.entry(c.kind).or_default().push(row(c, history, now));
    }
    let attention = checks.iter().filter(|c| c.status != Status::Ok).count();
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <title>{} · heartbeat-monitor</title>\n<style>{CSS}</style>\n</head>\n<body>\n<header>\n\
         <h1>heartbeat-monitor</h1>\n<p class=\"overall s-{}\"><span class=\"sign\">{}</span> {}</p>\n\
         <p class=\"meta\">{} · checked {}</p>\n</header>\n<main>\n",
        esc(&status.as_str().to_uppercase()),
        esc(status.as_str()),
        sign(status.as_str()),
        esc(&status.as_str().to_uppercase()),
        esc(&summary(checks.len(), attention)),
        esc(&when(now)),
    );
    if checks.is_empty() {
        html.push_str("<p>No check ran.</p>\n");
    }
    // What needs attention first, worst first, each a link to its row.
    let mut failing: Vec<&CheckResult> = checks.iter().filter(|c| c.status != Status::Ok).collect();
    failing.sort_by_key(|c| std::cmp::Reverse(rank(c.status)));
    if !failing.is_empty() {
        html.push_str("<section class=\"attention\">\n<h2>Needs attention</h2>\n<ul>\n");
        for c in failing {
            let _ = writeln!(
                html,
                "<li><span class=\"status s-{0}\"><span class=\"sign\">{1}</span> {0}</span> \
                 <a href=\"#{2}\">{3} {4}</a></li>",
                esc(c.status.as_str()),
                sign(c.status.as_str()),
                esc(&c.id),
                esc(c.kind),
                esc(&c.target)
            );
        }
        html.push_str("</ul>\n</section>\n");
    }
    for (kind, rows) in &kinds {
        let _ = write!(
            html,
            "<section>\n<h2>{}</h2>\n<table>\n<colgroup><col class=\"c-status\"><col class=\"c-check\">\
             <col><col class=\"c-since\"><col class=\"c-hist\"></colgroup>\n<thead><tr><th scope=\"col\">Status</th>\
             <th scope=\"col\">Check</th><th scope=\"col\">Message</th><th scope=\"col\">Since</th>\
             <th scope=\"col\">Last 90 days</th></tr></thead>\n<tbody>\n",
            esc(kind)
        );
        for r in rows {
            html.push_str(&row_html(r, now));
        }
        html.push_str("</tbody>\n</table>\n</section>\n");
    }
    html.push_str(
        "</main>\n<footer><p>Each bar is a day, oldest on the left: the worst status of that \
         day's runs. Short: ok; taller: warning or unknown; tallest: critical; a dot: no run. \
         Uptime is the share of runs that were ok.</p></footer>\n</body>\n</html>",
    );
    html
}

fn summary(total: usize, attention: usize) -> String {
    match (total, attention) {
        (0, _) => "no checks".into(),
        (n, 0) => format!("all {n} checks ok"),
        (n, a) => format!("{a} of {n} checks need attention"),
    }
}

fn row<'a>(check: &'a CheckResult, history: &[&'a Line], now: DateTime<Utc>) -> Row<'a> {
    let today = now.date_naive();
    let mut days: Vec<Option<Status>> = vec![None; DAYS as usize];
    for l in history {
        let ago = (today - l.at.date_naive()).num_days();
        if (0..DAYS).contains(&ago) {
            let slot = &mut days[(DAYS - 1 - ago) as usize];
            if slot.is_none_or(|s| rank(l.status) > rank(s)) {
                *slot = Some(l.status);
            }
        }
    }
    let runs = history.len();
    let ok = history.iter().filter(|l| l.status == Status::Ok).count();
    let uptime = (runs > 0).then(|| 100.0 * ok as f64 / runs as f64);
    // The start of the last stretch of runs with the current status.
    let since = history
        .iter()
        .rev()
        .take_while(|l| l.status == check.status)
        .last()
        .map(|l| l.at);
    Row {
        check,
        days,
        uptime,
        since,
    }
}

fn row_html(r: &Row<'_>, now: DateTime<Utc>) -> String {
    let c = r.check;
    let status = esc(c.status.as_str());
    let silenced = if c.silenced {
        " <span class=\"muted\">(silenced)</span>"
    } else {
        ""
    };
    let target = match &c.link {
        Some(link) if link.starts_with("https://") || link.starts_with("http://") => {
            format!("<a href=\"{}\">{}</a>", esc(link), esc(&c.target))
        }
        _ => esc(&c.target),
    };
    let uptime = r
        .uptime
        .map_or("no runs yet".to_string(), |u| format!("{u:.1} % ok"));
    format!(
        "<tr id=\"{}\"><td><span class=\"status s-{status}\"><span class=\"sign\">{}</span> {status}</span>{silenced}</td>\
         <td>{target}</td><td class=\"msg\">{}</td><td class=\"since\">{}</td>\
         <td class=\"hist\">{}<span class=\"uptime\">{}</span></td></tr>\n",
        esc(&c.id),
        sign(c.status.as_str()),
        esc(&c.message),
        r.since.map(when).map_or(String::new(), |s| esc(&s)),
        strip(&r.days, now),
        esc(&uptime),
    )
}

/// The 90-day strip: a bar a day, its height and colour by the day's worst status.
fn strip(days: &[Option<Status>], now: DateTime<Utc>) -> String {
    let mut counts: BTreeMap<Status, usize> = BTreeMap::new();
    let mut bars = String::new();
    for (i, day) in days.iter().enumerate() {
        let date = (now - Duration::days((days.len() - 1 - i) as i64)).date_naive();
        let x = i * 4;
        let (height, class, label) = match *day {
            None => (2, "none", "no run"),
            Some(s) => {
                *counts.entry(s).or_default() += 1;
                let h = match s {
                    Status::Ok => 8,
                    Status::Critical => 20,
                    Status::Warning | Status::Unknown => 14,
                };
                (h, s.as_str(), s.as_str())
            }
        };
        let _ = write!(
            bars,
            "<rect class=\"b-{}\" x=\"{x}\" y=\"{}\" width=\"3\" height=\"{height}\"><title>{}: {}</title></rect>",
            esc(class),
            20 - height,
            esc(&date.to_string()),
            esc(label),
        );
    }
    let words: Vec<String> = [
        Status::Ok,
        Status::Warning,
        Status::Critical,
        Status::Unknown,
    ]
    .iter()
    .filter_map(|s| counts.get(s).map(|n| format!("{n} {}", s.as_str())))
    .collect();
    let aria = if words.is_empty() {
        "no runs in the last 90 days".to_string()
    } else {
        format!("last 90 days, by day: {}", words.join(", "))
    };
    format!(
        "<svg class=\"strip\" width=\"{}\" height=\"20\" viewBox=\"0 0 {} 20\" role=\"img\" aria-label=\"{}\">{bars}</svg>",
        days.len() * 4,
        days.len() * 4,
        esc(&aria)
    )
}

/// The worse of two statuses wins a day (unknown below warning, unlike `Status`'s order).
fn rank(status: Status) -> u8 {
    match status {
        Status::Critical => 3,
        Status::Warning => 2,
        Status::Unknown => 1,
        Status::Ok => 0,
    }
}

fn sign(status: &str) -> &'static str {
    match status {
        "ok" => "✓",
        "warning" => "⚠",
        "critical" => "✗",
        "disabled" => "–",
        _ => "?",
    }
}

/// A time as people read it: `2026-05-23 06:30 UTC`.
fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// HTML escaping of text and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = "
:root{--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--ok:#1a7f37;--warning:#9a6700;--critical:#cf222e;--unknown:#8250df;--none:#afb8c1;--chip:#f6f8fa}
@media (prefers-color-scheme: dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#30363d;--ok:#3fb950;--warning:#d29922;--critical:#f85149;--unknown:#a371f7;--none:#484f58;--chip:#161b22}}
*{box-sizing:border-box}
body{margin:0;padding:1.5rem;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}
header,main,footer{max-width:78rem;margin:0 auto}
h1{font-size:1.4rem;margin:0 0 .4rem}
h2{font-size:1.05rem;margin:1.6rem 0 .5rem;font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
.overall{font-size:1.25rem;font-weight:700;margin:.2rem 0}
.meta,.muted,footer{color:var(--muted)}
footer{font-size:.85rem;margin-top:2rem}
table{width:100%;border-collapse:collapse;table-layout:fixed}
.c-status{width:8.5rem}.c-check{width:14rem}.c-since{width:12rem}.c-hist{width:24rem}
td{overflow-wrap:anywhere}
.attention ul{list-style:none;padding:0;margin:.3rem 0}
.attention li{margin:.3rem 0}
th,td{text-align:left;vertical-align:top;padding:.45rem .6rem;border-bottom:1px solid var(--line)}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
td.msg{max-width:34rem;overflow-wrap:anywhere}
td.since{white-space:nowrap;color:var(--muted)}
a{color:inherit}
.status{display:inline-block;padding:.05rem .5rem;border-radius:1rem;background:var(--chip);border:1px solid currentColor;font-weight:600;white-space:nowrap}
.s-ok{color:var(--ok)}.s-warning{color:var(--warning)}.s-critical{color:var(--critical)}.s-unknown,.s-disabled{color:var(--unknown)}
.hist{white-space:nowrap}
.strip{display:block;margin-bottom:.2rem}
.b-ok{fill:var(--ok)}.b-warning{fill:var(--warning)}.b-critical{fill:var(--critical)}.b-unknown{fill:var(--unknown)}.b-none{fill:var(--none)}
.uptime{font-size:.8rem;color:var(--muted)}
@media (max-width:60rem){.c-since{width:0}td.since,th:nth-child(4){display:none}.c-check{width:9rem}}
";

#[cfg(test)]
mod tests {
    use super::super::history::line;
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-05-23T06:30:00Z".parse().unwrap()
    }

    #[test]
    fn a_day_shows_its_worst_status_and_uptime_counts_ok_runs() {
        let c = CheckResult::new(
            "cron_heartbeat:o/r:x.yml",
            "cron_heartbeat",
            "x.yml",
            Status::Critical,
            "stale <b>".into(),
        );
        let lines = [
            line("2026-05-21T06:30:00Z", Status::Ok),
            line("2026-05-22T06:30:00Z", Status::Ok),
            line("2026-05-22T18:30:00Z", Status::Critical),
            line("2026-05-23T06:30:00Z", Status::Critical),
        ];
        let refs: Vec<&Line> = lines.iter().collect();
        let r = row(&c, &refs, now());
        assert_eq!(
            &r.days[87..],
            [
                Some(Status::Ok),
                Some(Status::Critical),
                Some(Status::Critical)
            ]
        );
        assert!(r.days[..87].iter().all(Option::is_none));
        assert_eq!(r.uptime, Some(50.0));
        assert_eq!(r.since, Some(lines[2].at));
        let html = render(&[c], RunStatus::Critical, &lines, now());
        assert!(html.contains("stale &lt;b&gt;"), "server text is escaped");
        assert!(html.contains("<title>2026-05-22: critical</title>"));
        assert!(html.contains("aria-label=\"last 90 days, by day: 1 ok, 2 critical\""));
        assert!(html.contains("50.0 % ok"));
        assert!(html.contains("2026-05-22 18:30 UTC"), "since");
        assert!(html.contains("1 of 1 checks need attention"));
        assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("@import"));
    }

    #[test]
    fn every_text_and_attribute_from_outside_is_escaped() {
        let evil = "x\"><script>alert(1)</script>'";
        let mut c = CheckResult::new(
            &format!("http_probe:{evil}"),
            "http_probe",
            evil,
            Status::Warning,
            evil.into(),
        );
        c.link = Some(format!("https://example.invalid/{evil}"));
        let html = render(&[c], RunStatus::Warning, &[], now());
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("x\">") && !html.contains("'\""), "{html}");
        assert!(html.contains(
            "<tr id=\"http_probe:x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#39;\">"
        ));
        assert!(html.contains("<a href=\"https://example.invalid/x&quot;&gt;&lt;script&gt;"));
    }
}
