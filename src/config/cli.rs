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
OPS_ALERT_EMAIL, OPS_ALERT_FROM. Nothing runs unless FLAG_CRON_HEARTBEAT_MONITOR is 1, true, yes or on.",
    note = "`heartbeat-monitor merge --help`: merge the result files of shards into one."
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
    /// check only shard I of N (e.g. 2/4): the targets whose repository hashes to it
    #[argh(option, from_str_fn(shard))]
    pub shard: Option<Shard>,
    /// check everything but tell no channel (for shards that a merge step alerts for)
    #[argh(switch)]
    pub no_notify: bool,
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

/// `--shard I/N`: shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which one, 1 to `count`.
    pub index: u32,
    /// How many in all.
    pub count: u32,
}

impl Shard {
    /// Parses `I/N`, 1 ≤ I ≤ N.
    pub fn parse(value: &str) -> Option<Self> {
        let (i, n) = value.trim().split_once('/')?;
        let number = |s: &str| {
            let s = s.trim();
            (!s.is_empty() && s.chars().all(|c| c.is_ascii_digit()))
                .then(|| s.parse::<u32>().ok())
                .flatten()
        };
        let (index, count) = (number(i)?, number(n)?);
        (1..=count)
            .contains(&index)
            .then_some(Self { index, count })
    }

    /// The shard (1-based) that `key` belongs to among `count`: by its FNV-1a hash, the same
    /// on every machine and every run. A target without a key (one that only reads what the
    /// others learned, like the token's expiry) belongs to shard 1.
    pub fn of(key: &str, count: u32) -> u32 {
        if key.is_empty() || count <= 1 {
            return 1;
        }
        (fnv1a(key.as_bytes()) % u64::from(count)) as u32 + 1
    }

    /// Whether a target with `key` is checked in this shard.
    pub fn keeps(&self, key: &str) -> bool {
        Self::of(key, self.count) == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// 64-bit FNV-1a: a stable hash (std's `RandomState` differs per process).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `--shard`.
fn shard(value: &str) -> Result<Shard, String> {
    Shard::parse(value).ok_or_else(|| {
        "expected I/N, shard I of N with 1 <= I <= N, e.g. 2/4 (shards count from 1)".into()
    })
}

#[derive(FromArgs, Debug, Default, PartialEq)]
/// Merges the result files of shards (runs with --shard I/N) into one result file, as one
/// run over every target would have written it; with --config, alerts on the merged checks.
#[argh(
    note = "Exits as the merged run: 0 ok, 1 warning, 2 critical, 3 unknown (a refused file, a check in two shards)."
)]
pub struct MergeCli {
    /// where to write the merged result (required)
    #[argh(option)]
    pub output_file: PathBuf,
    /// write a static status page of the merged result here
    #[argh(option)]
    pub status_page: Option<PathBuf>,
    /// configuration file: alert on the merged checks as one run would (shards ran with
    /// --no-notify)
    #[argh(option)]
    pub config: Option<PathBuf>,
    /// the alert state file (with --config)
    #[argh(option)]
    pub state_file: Option<PathBuf>,
    /// do everything but send mail; print the mails instead
    #[argh(switch)]
    pub dry_run: bool,
    /// the shards' result files
    #[argh(positional)]
    pub results: Vec<PathBuf>,
}

impl MergeCli {
    /// The command line of a run with the same files, for the configuration and secrets.
    pub fn as_run(&self) -> Cli {
        Cli {
            config: self.config.clone(),
            output_file: Some(self.output_file.clone()),
            state_file: self.state_file.clone(),
            status_page: self.status_page.clone(),
            dry_run: self.dry_run,
            ..Cli::default()
        }
    }
}

/// What parsing decided.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    /// Run with these arguments.
    Run(Box<Cli>),
    /// Merge shard results (`heartbeat-monitor merge …`).
    Merge(Box<MergeCli>),
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
    if rest.first() == Some(&"merge") {
        return match MergeCli::from_args(&[NAME, "merge"], &rest[1..]) {
            Ok(m) if m.results.is_empty() => usage(
                "merge needs at least one result file: heartbeat-monitor merge --output-file OUT RESULT...",
                "merge --help",
            ),
            Ok(m) => Parsed::Merge(Box::new(m)),
            Err(early) => early_exit(early, "merge --help"),
        };
    }
    match Cli::from_args(&[NAME], &rest) {
        Ok(cli) if cli.version => Parsed::Print(format!("{NAME} {}\n", env!("CARGO_PKG_VERSION"))),
        Ok(cli) => Parsed::Run(Box::new(cli)),
        Err(early) => early_exit(early, "--help"),
    }
}

fn early_exit(early: argh::EarlyExit, help: &str) -> Parsed {
    match early.status {
        Ok(()) => Parsed::Print(early.output),
        Err(()) => usage(&early.output, help),
    }
}

fn usage(text: &str, help: &str) -> Parsed {
    Parsed::Usage(format!(
        "{}\nRun {NAME} {help} for more information.\n",
        text.trim_end()
    ))
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

    #[test]
    fn shards_parse_and_bad_ones_are_usage_errors() {
        assert_eq!(Shard::parse("2/4"), Some(Shard { index: 2, count: 4 }));
        assert_eq!(Shard::parse(" 1/1 "), Some(Shard { index: 1, count: 1 }));
        for bad in [
            "0/4", "5/4", "4", "a/4", "1/0", "-1/4", "1/4/2", "", "+1/4", "1.5/4",
        ] {
            assert_eq!(Shard::parse(bad), None, "{bad}");
            assert!(
                matches!(parse(&args(&["--shard", bad])), Parsed::Usage(m)
                    if m.contains("expected I/N, shard I of N with 1 <= I <= N, e.g. 2/4")),
                "{bad}"
            );
        }
        let Parsed::Run(cli) = parse(&args(&["--shard", "3/4", "--no-notify"])) else {
            panic!()
        };
        assert_eq!(cli.shard, Some(Shard { index: 3, count: 4 }));
        assert!(cli.no_notify);
    }

    #[test]
    fn the_hash_is_fnv_1a_and_every_key_has_one_shard() {
        // The published FNV-1a test vectors: the same on every machine, every run.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(
            Shard::of("raxx-app/TradeMasterAPI", 4),
            Shard::of("raxx-app/TradeMasterAPI", 4)
        );
        assert_eq!(
            Shard::of("", 4),
            1,
            "a target without a key runs in shard 1"
        );
        for n in 1..=7 {
            for key in ["raxx-app/a", "raxx-app/b", "org/x", "http_probe:console"] {
                let owners: Vec<u32> = (1..=n)
                    .filter(|&i| Shard { index: i, count: n }.keeps(key))
                    .collect();
                assert_eq!(owners.len(), 1, "{key} in {n}: {owners:?}");
            }
        }
        // Keys spread: 100 repositories over 4 shards leave none empty.
        let mut per = [0; 4];
        for k in 0..100 {
            per[(Shard::of(&format!("org/repo-{k}"), 4) - 1) as usize] += 1;
        }
        assert!(per.iter().all(|&n| n > 10), "{per:?}");
    }

    #[test]
    fn merge_is_a_subcommand_and_the_old_call_is_not() {
        let Parsed::Merge(m) = parse(&args(&[
            "merge",
            "--output-file",
            "out.json",
            "a.json",
            "b.json",
            "--config",
            "m.toml",
        ])) else {
            panic!()
        };
        assert_eq!(
            m.results,
            [PathBuf::from("a.json"), PathBuf::from("b.json")]
        );
        assert_eq!(m.as_run().config, Some(PathBuf::from("m.toml")));
        assert!(
            matches!(parse(&args(&["merge", "--output-file", "o.json"])), Parsed::Usage(m)
                if m.contains("merge needs at least one result file"))
        );
        assert!(
            matches!(parse(&args(&["merge", "a.json"])), Parsed::Usage(m)
                if m.contains("--output-file") && m.contains("merge --help"))
        );
        assert!(
            matches!(parse(&args(&["merge", "--help"])), Parsed::Print(m)
                if m.starts_with("Usage: heartbeat-monitor merge"))
        );
        assert!(matches!(parse(&args(&["--repo", "o/r"])), Parsed::Run(_)));
    }
}
