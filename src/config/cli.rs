//! The command line. argh parses; this module maps its early exits to our exit codes, since
//! argh's own code for a usage error (1) means WARNING here.

use std::path::PathBuf;

use argh::FromArgs;
use chrono::{DateTime, Utc};

/// The name in usage lines, whatever path the binary was started from.
pub const NAME: &str = "heartbeat-monitor";

#[derive(FromArgs, Debug, Default, PartialEq)]
/// Checks that cron workflows still succeed, mails the team when they do not, and exits
/// 0 ok, 1 warning, 2 critical, 3 unknown.
#[argh(
    note = "Secrets come from the environment: GITHUB_TOKEN, POSTMARK_SERVER_TOKEN, \
OPS_ALERT_EMAIL, OPS_ALERT_FROM. Nothing runs unless FLAG_CRON_HEARTBEAT_MONITOR is 1, true, yes or on."
)]
pub struct Cli {
    /// configuration file (default: heartbeat-monitor.toml, when it exists)
    #[argh(option)]
    pub config: Option<PathBuf>,
    /// repository OWNER/NAME holding the workflows (overrides the file)
    #[argh(option)]
    pub repo: Option<String>,
    /// workflow file name or id to check; repeatable, adds to the file
    #[argh(option)]
    pub workflow: Vec<String>,
    /// a Heroku app to check (slug and web dynos); repeatable, adds to the file
    #[argh(option)]
    pub heroku_app: Vec<String>,
    /// a GitHub token (prefer the GITHUB_TOKEN environment variable)
    #[argh(option)]
    pub gh_token: Option<String>,
    /// SLA in hours for every heartbeat (overrides the file)
    #[argh(option, from_str_fn(hours))]
    pub sla_hours: Option<f64>,
    /// where to write the JSON result (default: heartbeat_result.json)
    #[argh(option)]
    pub output_file: Option<PathBuf>,
    /// the alert state file: mail only on a change, a reminder or a recovery
    #[argh(option)]
    pub state_file: Option<PathBuf>,
    /// write a static status page here: index.html, history.jsonl (90 days), badges/
    #[argh(option)]
    pub status_page: Option<PathBuf>,
    /// do everything but send mail; print the mails instead
    #[argh(switch)]
    pub dry_run: bool,
    /// evaluate as if at this RFC 3339 instant (default: now)
    #[argh(option, from_str_fn(instant))]
    pub now: Option<DateTime<Utc>>,
    /// validate the configuration and secrets, print what would run, make no request
    #[argh(switch)]
    pub check_config: bool,
    /// print the version and exit
    #[argh(switch)]
    pub version: bool,
}

/// `--sla-hours`: argh says which option and value; this says what was expected.
fn hours(value: &str) -> Result<f64, String> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|h| h.is_finite() && *h > 0.0)
        .ok_or_else(|| "expected a positive number of hours, e.g. 48".into())
}

/// `--now`.
fn instant(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| "expected an RFC 3339 time, e.g. 2026-05-23T06:30:00Z".into())
}

/// What parsing decided.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    /// Run with these arguments.
    Run(Box<Cli>),
    /// Print this to stdout and exit 0 (`--help`, `--version`).
    Print(String),
    /// A usage error: print this to stderr and exit 3.
    Usage(String),
}

/// The values of secret flags in `args` (`--gh-token T` or `--gh-token=T`), found without
/// parsing so that even a usage error about them can be redacted.
pub fn secret_args(args: &[String]) -> Vec<&str> {
    let mut out = Vec::new();
    let mut next_is_secret = false;
    for a in args.iter().skip(1) {
        if next_is_secret {
            out.push(a.as_str());
            next_is_secret = false;
        } else if a == "--gh-token" {
            next_is_secret = true;
        } else if let Some(v) = a.strip_prefix("--gh-token=") {
            out.push(v);
        }
    }
    out
}

/// Parses `args` (the first one is the program path).
pub fn parse(args: &[String]) -> Parsed {
    let rest: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    match Cli::from_args(&[NAME], &rest) {
        Ok(cli) if cli.version => Parsed::Print(format!("{NAME} {}\n", env!("CARGO_PKG_VERSION"))),
        Ok(cli) => Parsed::Run(Box::new(cli)),
        Err(early) => match early.status {
            Ok(()) => Parsed::Print(early.output),
            Err(()) => Parsed::Usage(format!(
                "{}\nRun {NAME} --help for more information.\n",
                early.output.trim_end()
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        std::iter::once("./target/debug/heartbeat-monitor")
            .chain(a.iter().copied())
            .map(String::from)
            .collect()
    }

    #[test]
    fn the_old_call_parses() {
        let Parsed::Run(cli) = parse(&args(&[
            "--repo",
            "raxx-app/TradeMasterAPI",
            "--gh-token",
            "t0ken",
            "--sla-hours",
            "1",
            "--output-file",
            "/tmp/heartbeat_result.json",
        ])) else {
            panic!("old call must parse")
        };
        assert_eq!(cli.repo.as_deref(), Some("raxx-app/TradeMasterAPI"));
        assert_eq!(cli.sla_hours, Some(1.0));
    }

    #[test]
    fn repeated_workflows_and_now() {
        let Parsed::Run(cli) = parse(&args(&[
            "--workflow",
            "a.yml",
            "--workflow",
            "b.yml",
            "--now",
            "2026-05-23T06:30:00Z",
            "--dry-run",
        ])) else {
            panic!()
        };
        assert_eq!(cli.workflow, vec!["a.yml", "b.yml"]);
        assert!(cli.dry_run);
        assert_eq!(cli.now.unwrap().to_rfc3339(), "2026-05-23T06:30:00+00:00");
    }

    #[test]
    fn secret_flags_are_found_before_parsing() {
        let a = args(&[
            "--gh-token=t0ken-1",
            "--gh-token",
            "t0ken-2",
            "--repo",
            "o/r",
        ]);
        assert_eq!(secret_args(&a), ["t0ken-1", "t0ken-2"]);
    }

    #[test]
    fn usage_errors_and_help() {
        assert!(matches!(parse(&args(&["--bogus"])), Parsed::Usage(m) if m.contains("--bogus")));
        assert!(matches!(
            parse(&args(&["--now", "yesterday"])),
            Parsed::Usage(m) if m.contains("expected an RFC 3339 time, e.g. 2026-05-23T06:30:00Z")
        ));
        for bad in ["-1", "abc", "0", "inf"] {
            assert!(
                matches!(parse(&args(&["--sla-hours", bad])), Parsed::Usage(m)
                    if m.contains("expected a positive number of hours, e.g. 48")),
                "{bad}"
            );
        }
        assert!(
            matches!(parse(&args(&["--sla-hours", "1.5"])), Parsed::Run(c) if c.sla_hours == Some(1.5))
        );
        assert!(
            matches!(parse(&args(&["--help"])), Parsed::Print(m) if m.starts_with("Usage: heartbeat-monitor"))
        );
        assert_eq!(
            parse(&args(&["--version"])),
            Parsed::Print("heartbeat-monitor 0.1.0\n".into())
        );
    }
}
