//! A workflow's own schedule: its `on.schedule[].cron` entries read from the workflow file,
//! the slots they name, and how many of those a workflow missed. Pure: no clock, no I/O.
//!
//! GitHub's rules, which this follows: 5-field POSIX cron (names, ranges, steps; no `@daily`,
//! `L`, `W`, `#` or `?`), UTC unless the entry has a `timezone`, several entries are one union
//! of slots, a slot in a daylight-saving gap runs at the first minute after it, and a
//! repeated hour counts once.

use std::collections::BinaryHeap;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use serde::{Deserialize, Serialize};
use yaml_rust2::Yaml;

mod bounded;
#[cfg(test)]
mod corpus;

/// How many `cron` entries one workflow file may hold: real ones have at most a dozen, and
/// every entry is another walk through the slots.
pub const MAX_ENTRIES: usize = 50;

/// How many slots a count looks at, at most: a `* * * * *` schedule silent for a month
/// would otherwise cost 43,200 steps for a number nobody reads past "many".
pub const MAX_COUNTED: usize = 1000;

/// One `cron` entry, as written, with its timezone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The 5-field expression.
    pub cron: String,
    /// GitHub's `timezone` key (IANA name), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// A parsed schedule: every entry, checked.
#[derive(Debug, Clone)]
pub struct Schedule {
    entries: Vec<(Entry, Cron, Tz)>,
}

/// Why a workflow's schedule could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The file is not YAML.
    #[error("the workflow file is not valid YAML: {0}")]
    Yaml(String),
    /// A `cron` value GitHub would not accept either.
    #[error("cron '{cron}' is not a schedule GitHub runs: {why}")]
    Cron {
        /// The expression.
        cron: String,
        /// What is wrong with it.
        why: String,
    },
    /// A file the monitor will not read whole: too large, too deep, too many entries, or
    /// aliases that expand past what a workflow file holds.
    #[error("the workflow file was not read: {0}")]
    Refused(String),
    /// An unknown `timezone`.
    #[error("timezone '{0}' is not an IANA time zone name")]
    Timezone(String),
}

impl Schedule {
    /// Parses `entries`, refusing what GitHub refuses; an entry naming the same slots as an
    /// earlier one (`*/1` and `*`) is kept once, so that no slot is walked twice.
    pub fn new(entries: Vec<Entry>) -> Result<Self, ScheduleError> {
        if entries.len() > MAX_ENTRIES {
            return Err(too_many(entries.len()));
        }
        let parser = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            // GitHub's own documentation uses `20/15`.
            .sloppy_ranges(true)
            .build();
        let mut parsed = Vec::with_capacity(entries.len());
        let mut keys = Vec::with_capacity(entries.len());
        for entry in entries {
            let bad = |why: &str| ScheduleError::Cron {
                cron: entry.cron.clone(),
                why: why.to_string(),
            };
            if let Some(c) = entry.cron.chars().find(|c| !c.is_ascii()) {
                // A full-width comma looks like a comma and is not one.
                return Err(bad(&format!("character '{c}' is not cron syntax")));
            }
            let fields = entry.cron.split_whitespace().count();
            if fields != 5 {
                return Err(bad(&format!(
                    "{fields} fields, GitHub takes 5: minute hour day month weekday"
                )));
            }
            if let Some(c) = entry.cron.chars().find(|c| "@LW#?".contains(*c)) {
                return Err(bad(&format!("`{c}` is not POSIX cron")));
            }
            if names_weekday_seven(&entry.cron) {
                // Many crons read 7 as Sunday, croner too; GitHub refuses the whole entry.
                return Err(bad("day of week 7 is outside 0-6"));
            }
            let cron = parser.parse(&entry.cron).map_err(|e| bad(&e.to_string()))?;
            if never_comes(&cron) {
                // A walk back through the years would look for it down to year 1.
                return Err(bad("no month has the day of the month it names"));
            }
            let tz = match &entry.timezone {
                None => Tz::UTC,
                Some(name) => {
                    Tz::from_str(name).map_err(|_| ScheduleError::Timezone(name.clone()))?
                }
            };
            let key = (slots_key(&cron), tz);
            if !keys.contains(&key) {
                keys.push(key);
                parsed.push((entry, cron, tz));
            }
        }
        Ok(Self { entries: parsed })
    }

    /// The entries as written.
    pub fn entries(&self) -> Vec<Entry> {
        self.entries.iter().map(|(e, _, _)| e.clone()).collect()
    }

    /// Slots at or before `until`, newest first, the union of every entry's: a heap of each
    /// entry's next slot, so a slot two entries share costs a step, not a pass over all.
    fn slots_before(&self, until: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        let mut iters: Vec<_> = self
            .entries
            .iter()
            .map(|(_, cron, tz)| {
                cron.iter_from(until.with_timezone(tz), croner::Direction::Backward)
                    .map(|t| t.with_timezone(&Utc))
            })
            .collect();
        let mut heads: BinaryHeap<(DateTime<Utc>, usize)> = iters
            .iter_mut()
            .enumerate()
            .filter_map(|(i, it)| it.next().map(|t| (t, i)))
            .collect();
        let mut last: Option<DateTime<Utc>> = None;
        std::iter::from_fn(move || {
            loop {
                let (next, i) = heads.pop()?;
                if let Some(t) = iters[i].next() {
                    heads.push((t, i));
                }
                if last != Some(next) {
                    last = Some(next);
                    return Some(next);
                }
            }
        })
    }

    /// The `k` newest slots that were due by `now` (a slot is due once its grace has passed),
    /// newest first.
    pub fn due_slots(&self, now: DateTime<Utc>, grace: Duration, k: usize) -> Vec<DateTime<Utc>> {
        self.slots_before(now - grace).take(k).collect()
    }

    /// The slots after `since` that were due by `now`, newest first, at most [`MAX_COUNTED`].
    pub fn missed(&self, since: DateTime<Utc>, now: DateTime<Utc>, grace: Duration) -> Missed {
        let mut missed = Missed::default();
        for slot in self.slots_before(now - grace) {
            if slot <= since {
                return missed;
            }
            if missed.count == MAX_COUNTED {
                missed.at_least = true;
                return missed;
            }
            missed.count += 1;
            missed.newest.get_or_insert(slot);
            missed.oldest = Some(slot);
        }
        missed
    }

    /// The schedule in words: "daily at 02:00 UTC", "every 15 minutes", "Mondays at 06:00
    /// Europe/Berlin"; several entries joined by "and".
    pub fn words(&self) -> String {
        let parts: Vec<String> = self
            .entries
            .iter()
            .map(|(e, cron, _)| {
                let zone = e.timezone.as_deref().unwrap_or("UTC");
                words(&e.cron, zone).unwrap_or_else(|| {
                    let d = cron.describe();
                    let d = d.trim_end_matches('.');
                    format!("{} ({zone})", lower_first(d))
                })
            })
            .collect();
        parts.join(" and ")
    }

    /// `cron '0 2 * * *'` or `crons '0 2 * * *', '30 4 * * 1'`.
    pub fn crons(&self) -> String {
        let list: Vec<String> = self
            .entries
            .iter()
            .map(|(e, _, _)| format!("'{}'", e.cron))
            .collect();
        let noun = if list.len() == 1 { "cron" } else { "crons" };
        format!("{noun} {}", list.join(", "))
    }
}

/// Whether the day-of-week field (the fifth) names 7, alone or as a range's end: `7`,
/// `5-7`, `3,4,5,6,7`. A step (`*/7`) is a distance, not a day.
fn names_weekday_seven(cron: &str) -> bool {
    let Some(field) = cron.split_whitespace().nth(4) else {
        return false;
    };
    field.split(',').any(|item| {
        let days = item.split('/').next().unwrap_or(item);
        days.split('-')
            .any(|d| d.trim_start_matches('0').parse() == Ok(7u32))
    })
}

/// Slots a workflow missed, newest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Missed {
    /// How many (capped at [`MAX_COUNTED`]).
    pub count: usize,
    /// True when the count stopped at the cap.
    pub at_least: bool,
    /// The newest missed slot.
    pub newest: Option<DateTime<Utc>>,
    /// The oldest missed slot counted.
    pub oldest: Option<DateTime<Utc>>,
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

const DAYS: [&str; 7] = [
    "Sundays",
    "Mondays",
    "Tuesdays",
    "Wednesdays",
    "Thursdays",
    "Fridays",
    "Saturdays",
];

/// The common shapes in plain words; `None` for the rest (croner words those).
fn words(cron: &str, zone: &str) -> Option<String> {
    let f: Vec<&str> = cron.split_whitespace().collect();
    let [minute, hour, dom, month, dow] = f.as_slice() else {
        return None;
    };
    let num = |s: &str, max: u32| s.parse::<u32>().ok().filter(|n| *n <= max);
    let step = |s: &str| s.strip_prefix("*/").and_then(|n| n.parse::<u32>().ok());
    if (*dom, *month) != ("*", "*") {
        return None;
    }
    match (num(minute, 59), num(hour, 23)) {
        (Some(m), Some(h)) => {
            let at = format!("at {h:02}:{m:02} {zone}");
            if *dow == "*" {
                return Some(format!("daily {at}"));
            }
            let day = |d: &str| {
                let n = num(d, 7).or_else(|| {
                    let names = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
                    names
                        .iter()
                        .position(|x| x.eq_ignore_ascii_case(d))
                        .map(|i| i as u32)
                })?;
                Some(DAYS[n as usize % 7])
            };
            let days: Option<Vec<&str>> = dow.split(',').map(day).collect();
            match days?.as_slice() {
                [one] => Some(format!("{one} {at}")),
                many => Some(format!("{} {at}", many.join(", "))),
            }
        }
        (Some(m), None) if *dow == "*" => match (*hour, step(hour)) {
            ("*", _) => Some(format!("hourly at :{m:02}")),
            (_, Some(n)) => Some(format!("every {n} hours at :{m:02} {zone}")),
            _ => None,
        },
        (None, None) if *dow == "*" && *hour == "*" => match (*minute, step(minute)) {
            ("*", _) => Some("every minute".to_string()),
            (_, Some(n)) => Some(format!("every {n} minutes")),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `cron` names only days no month has (`0 0 30 2 *`): the day of the month
/// decides alone when the weekday is `*`.
fn never_comes(cron: &Cron) -> bool {
    let p = &cron.pattern;
    if p.is_dom_wildcard() || !p.is_dow_wildcard() {
        return false;
    }
    let longest = |month: u16| match month {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let days = p.days.values();
    !p.months
        .values()
        .into_iter()
        .any(|m| days.iter().any(|d| *d <= longest(m)))
}

/// What decides the slots of `cron`: the values of each field, and which day fields are
/// `*` (POSIX: with both restricted, either day matches). `*` and `*/1` are alike here.
fn slots_key(cron: &Cron) -> ([Vec<u16>; 5], bool, bool) {
    let p = &cron.pattern;
    let fields = [&p.minutes, &p.hours, &p.days, &p.months, &p.days_of_week];
    (
        fields.map(|f| f.values()),
        p.is_dom_wildcard(),
        p.is_dow_wildcard(),
    )
}

fn too_many(entries: usize) -> ScheduleError {
    ScheduleError::Refused(format!(
        "it has {entries} schedule entries, more than the {MAX_ENTRIES} the monitor reads"
    ))
}

/// The `on.schedule` entries of a workflow file; `Ok(None)` when it has no schedule trigger.
/// A file over the bounds of [`bounded`] is refused unread, whatever it holds.
pub fn read(yaml: &str) -> Result<Option<Vec<Entry>>, ScheduleError> {
    let doc = bounded::first_document(yaml).map_err(|e| match e {
        bounded::Refused::Yaml(e) => ScheduleError::Yaml(e.to_string()),
        bounded::Refused::Costly(why) => ScheduleError::Refused(why),
    })?;
    let Some(doc) = doc.as_ref() else {
        return Ok(None);
    };
    // YAML 1.1 readers take the key `on` for the boolean true; GitHub's own does not.
    let on = match (&doc["on"], doc.as_hash()) {
        (Yaml::BadValue, Some(top)) => top.get(&Yaml::Boolean(true)).unwrap_or(&Yaml::BadValue),
        (on, _) => on,
    };
    let Yaml::Hash(triggers) = on else {
        // `on: push` or `on: [push, schedule]`: no cron, so no schedule GitHub runs.
        return Ok(None);
    };
    let schedule = match triggers.get(&Yaml::String("schedule".into())) {
        Some(Yaml::Array(list)) => list,
        _ => return Ok(None),
    };
    if schedule.len() > MAX_ENTRIES {
        return Err(too_many(schedule.len()));
    }
    let mut entries = Vec::new();
    for item in schedule {
        let text = |key: &str| match &item[key] {
            Yaml::String(s) => Some(s.trim().to_string()),
            Yaml::Integer(n) => Some(n.to_string()),
            _ => None,
        };
        let Some(cron) = text("cron") else {
            return Err(ScheduleError::Cron {
                cron: String::new(),
                why: "a schedule entry has no `cron` string".to_string(),
            });
        };
        entries.push(Entry {
            cron,
            timezone: text("timezone"),
        });
    }
    Ok((!entries.is_empty()).then_some(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn schedule(crons: &[(&str, Option<&str>)]) -> Schedule {
        Schedule::new(
            crons
                .iter()
                .map(|(c, tz)| Entry {
                    cron: c.to_string(),
                    timezone: tz.map(str::to_string),
                })
                .collect(),
        )
        .unwrap()
    }

    fn utc(crons: &[&str]) -> Schedule {
        let with: Vec<_> = crons.iter().map(|c| (*c, None)).collect();
        schedule(&with)
    }

    const HOUR: Duration = Duration::hours(1);

    #[test]
    fn the_designs_example_misses_five_daily_slots() {
        let s = utc(&["0 2 * * *"]);
        let m = s.missed(at("2026-05-18T02:04:11Z"), at("2026-05-23T06:30:00Z"), HOUR);
        assert_eq!(m.count, 5);
        assert_eq!(m.newest, Some(at("2026-05-23T02:00:00Z")));
        assert_eq!(m.oldest, Some(at("2026-05-19T02:00:00Z")));
        assert_eq!(s.words(), "daily at 02:00 UTC");
        assert_eq!(s.crons(), "cron '0 2 * * *'");
    }

    #[test]
    fn a_slot_inside_its_grace_is_not_missed_yet() {
        let s = utc(&["0 2 * * *"]);
        let since = at("2026-05-22T02:03:00Z");
        assert_eq!(s.missed(since, at("2026-05-23T02:59:00Z"), HOUR).count, 0);
        assert_eq!(s.missed(since, at("2026-05-23T03:00:00Z"), HOUR).count, 1);
    }

    #[test]
    fn hourly_and_every_fifteen_minutes() {
        let hourly = utc(&["17 * * * *"]);
        let m = hourly.missed(at("2026-05-23T00:20:00Z"), at("2026-05-23T06:30:00Z"), HOUR);
        // 01:17 … 05:17 are due; 06:17 is inside its hour of grace.
        assert_eq!(m.count, 5);
        assert_eq!(hourly.words(), "hourly at :17");
        let quarter = utc(&["*/15 * * * *"]);
        let grace = Duration::minutes(10);
        let m = quarter.missed(
            at("2026-05-23T05:00:00Z"),
            at("2026-05-23T06:30:00Z"),
            grace,
        );
        assert_eq!(m.count, 5, "05:15 05:30 05:45 06:00 06:15");
        assert_eq!(quarter.words(), "every 15 minutes");
    }

    #[test]
    fn githubs_own_example_needs_sloppy_ranges() {
        let s = utc(&["20/15 * * * *"]);
        let slots = s.due_slots(at("2026-05-23T06:59:00Z"), Duration::zero(), 3);
        assert_eq!(
            slots,
            vec![
                at("2026-05-23T06:50:00Z"),
                at("2026-05-23T06:35:00Z"),
                at("2026-05-23T06:20:00Z")
            ]
        );
    }

    #[test]
    fn several_entries_are_one_union_and_a_shared_slot_counts_once() {
        let s = utc(&["0 2 * * *", "0 14 * * *", "0 2 * * 1"]);
        let m = s.missed(at("2026-05-20T00:00:00Z"), at("2026-05-22T00:00:00Z"), HOUR);
        assert_eq!(m.count, 4, "20th 02:00 and 14:00, 21st 02:00 and 14:00");
        assert_eq!(
            s.words(),
            "daily at 02:00 UTC and daily at 14:00 UTC and Mondays at 02:00 UTC"
        );
    }

    #[test]
    fn a_slot_in_a_spring_gap_runs_at_the_first_minute_after_it() {
        // Berlin skips 02:00-03:00 on 2026-03-29: the 02:30 slot runs at 03:00 CEST (01:00Z).
        let s = schedule(&[("30 2 * * *", Some("Europe/Berlin"))]);
        let slots = s.due_slots(at("2026-03-30T12:00:00Z"), Duration::zero(), 3);
        assert_eq!(
            slots,
            vec![
                at("2026-03-30T00:30:00Z"),
                at("2026-03-29T01:00:00Z"),
                at("2026-03-28T01:30:00Z")
            ]
        );
    }

    #[test]
    fn a_repeated_autumn_hour_counts_once() {
        // Berlin repeats 02:00-03:00 on 2026-10-25.
        let s = schedule(&[("30 2 * * *", Some("Europe/Berlin"))]);
        let slots = s.due_slots(at("2026-10-26T12:00:00Z"), Duration::zero(), 3);
        assert_eq!(slots.len(), 3);
        let on_the_25th = slots
            .iter()
            .filter(|t| t.date_naive().to_string() == "2026-10-25")
            .count();
        assert_eq!(on_the_25th, 1, "{slots:?}");
        assert_eq!(s.words(), "daily at 02:30 Europe/Berlin");
    }

    #[test]
    fn month_ends_skip_short_months() {
        let s = utc(&["0 0 31 * *"]);
        let slots = s.due_slots(at("2026-05-01T00:00:00Z"), Duration::zero(), 3);
        assert_eq!(
            slots,
            vec![
                at("2026-03-31T00:00:00Z"),
                at("2026-01-31T00:00:00Z"),
                at("2025-12-31T00:00:00Z")
            ]
        );
    }

    #[test]
    fn day_of_month_or_day_of_week_as_posix_says() {
        // POSIX: with both restricted, either one matches.
        let s = utc(&["0 0 1 * 1"]);
        let slots = s.due_slots(at("2026-06-03T00:00:00Z"), Duration::zero(), 3);
        assert_eq!(
            slots,
            vec![
                at("2026-06-01T00:00:00Z"),
                at("2026-05-25T00:00:00Z"),
                at("2026-05-18T00:00:00Z")
            ]
        );
        let s = utc(&["0 0 13 * 5"]);
        let slots = s.due_slots(at("2026-03-14T00:00:00Z"), Duration::zero(), 2);
        assert_eq!(
            slots,
            vec![at("2026-03-13T00:00:00Z"), at("2026-03-06T00:00:00Z")]
        );
    }

    #[test]
    fn names_and_weekday_words() {
        let s = schedule(&[("0 6 * * MON", Some("Europe/Berlin"))]);
        assert_eq!(s.words(), "Mondays at 06:00 Europe/Berlin");
        assert_eq!(
            utc(&["0 6 * * 1,5"]).words(),
            "Mondays, Fridays at 06:00 UTC"
        );
        assert_eq!(utc(&["0 */6 * * *"]).words(), "every 6 hours at :00 UTC");
        let odd = utc(&["0 0 1 1-6 *"]).words();
        assert!(odd.ends_with("(UTC)"), "{odd}");
    }

    #[test]
    fn a_count_stops_at_its_cap() {
        // Two entries sharing every other minute: each slot counts once.
        let s = utc(&["* * * * *", "*/2 * * * *"]);
        let m = s.missed(at("2026-04-01T00:00:00Z"), at("2026-05-01T00:00:00Z"), HOUR);
        assert_eq!(m.count, MAX_COUNTED);
        assert!(m.at_least);
    }

    #[test]
    fn what_github_refuses_is_refused() {
        for (cron, why) in [
            ("@daily", "1 fields, GitHub takes 5"),
            ("@weekly 0", "2 fields"),
            ("0 0 L * *", "`L`"),
            ("0 0 1W * *", "`W`"),
            ("0 0 * * 1#2", "`#`"),
            ("0 0 ? * *", "`?`"),
            ("0 0 * *", "4 fields, GitHub takes 5"),
            ("0 0 0 * * *", "6 fields, GitHub takes 5"),
            ("42 2 ? * SUN,WED *", "6 fields, GitHub takes 5"),
            ("61 0 * * *", ""),
            ("0 25 * * *", ""),
            ("0 15，16 * * *", "character '，' is not cron syntax"),
            ("50 0 * * 3,4,5,6,7", "day of week 7 is outside 0-6"),
            ("0 0 * * 7", "day of week 7"),
            ("0 0 * * 5-7", "day of week 7"),
            ("0 0 * * 07", "day of week 7"),
            ("0 0 * * 7/2", "day of week 7"),
        ] {
            let e = Schedule::new(vec![Entry {
                cron: cron.to_string(),
                timezone: None,
            }])
            .unwrap_err();
            assert!(e.to_string().contains(why), "{cron}: {e}");
        }
        let e = Schedule::new(vec![Entry {
            cron: "0 0 * * *".into(),
            timezone: Some("Mars/Olympus".into()),
        }])
        .unwrap_err();
        assert_eq!(e, ScheduleError::Timezone("Mars/Olympus".into()));
    }

    fn crons(yaml: &str) -> Option<Vec<(String, Option<String>)>> {
        read(yaml)
            .unwrap()
            .map(|v| v.into_iter().map(|e| (e.cron, e.timezone)).collect())
    }

    #[test]
    fn block_style_with_quoted_crons_and_a_timezone() {
        let yaml = "name: nightly\non:\n  schedule:\n    - cron: '0 2 * * *'\n    - cron: \"30 4 * * 1\"\n      timezone: Europe/Berlin\n  workflow_dispatch:\njobs:\n  x:\n    runs-on: ubuntu-latest\n";
        assert_eq!(
            crons(yaml).unwrap(),
            vec![
                ("0 2 * * *".into(), None),
                ("30 4 * * 1".into(), Some("Europe/Berlin".into()))
            ]
        );
    }

    #[test]
    fn a_step_of_seven_and_sunday_as_0_or_sun_are_taken() {
        for cron in [
            "0 0 * * */7",
            "0 0 * * 0",
            "0 0 * * SUN",
            "0 0 * * 1-6",
            "0 7 7 7 *",
        ] {
            let entry = Entry {
                cron: cron.into(),
                timezone: None,
            };
            assert!(Schedule::new(vec![entry]).is_ok(), "{cron}");
        }
    }

    #[test]
    fn a_flow_list_closed_at_its_keys_column_reads_as_github_reads_it() {
        // rust-lang/docs.rs docker.yml and rust-lang/rustc-perf ci.yml close their matrix
        // lists this way; yaml-rust2 alone calls it "invalid indentation".
        let yaml = "on:\n  schedule:\n    - cron: '0 2 * * *'\njobs:\n  x:\n    strategy:\n      matrix:\n        target: [\n          \"web\",\n          \"cli\"\n        ]\n        os: {\n          a: 1\n        }\n    runs-on: ubuntu-latest\n";
        assert_eq!(crons(yaml).unwrap(), vec![("0 2 * * *".into(), None)]);
        // Other bad indentation is still refused.
        let yaml = "on:\n  schedule: 1\n push: 2\n";
        assert!(
            matches!(read(yaml), Err(ScheduleError::Yaml(_))),
            "{:?}",
            read(yaml)
        );
    }

    #[test]
    fn flow_style_and_an_unquoted_cron() {
        let yaml = "on: {schedule: [{cron: '*/15 * * * *'}], push: {branches: [main]}}\n";
        assert_eq!(crons(yaml).unwrap(), vec![("*/15 * * * *".into(), None)]);
        let yaml = "on:\n  schedule:\n    - cron: 0 2 * * *\n";
        assert_eq!(crons(yaml).unwrap(), vec![("0 2 * * *".into(), None)]);
    }

    #[test]
    fn on_read_as_true_by_yaml_1_1_still_works() {
        let yaml = "true:\n  schedule:\n    - cron: '0 2 * * *'\n";
        assert_eq!(crons(yaml).unwrap(), vec![("0 2 * * *".into(), None)]);
        // And `on` written quoted, as some people do to dodge exactly that.
        let yaml = "\"on\":\n  schedule:\n    - cron: '0 2 * * *'\n";
        assert_eq!(crons(yaml).unwrap().len(), 1);
    }

    #[test]
    fn no_schedule_in_list_string_or_map_forms() {
        assert_eq!(crons("on: push\n"), None);
        assert_eq!(crons("on: [push, schedule]\n"), None);
        assert_eq!(crons("on:\n  push:\n    branches: [main]\n"), None);
        assert_eq!(crons("on:\n  schedule: []\n"), None);
        assert_eq!(crons("name: no trigger\n"), None);
        assert_eq!(crons(""), None);
    }

    #[test]
    fn broken_yaml_and_an_entry_without_cron_are_errors() {
        assert!(matches!(read("on: [push\n"), Err(ScheduleError::Yaml(_))));
        assert!(read("on:\n  schedule:\n    - timezone: UTC\n").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let e = read(&"[".repeat(200_000)).unwrap_err();
        assert!(
            matches!(e, ScheduleError::Yaml(_) | ScheduleError::Refused(_)),
            "{e}"
        );
    }

    /// `count` copies of `cron` under `on.schedule`.
    fn flood(cron: &str, count: usize) -> String {
        let mut yaml = String::from("on:\n  schedule:\n");
        for _ in 0..count {
            yaml.push_str(&format!("    - cron: '{cron}'\n"));
        }
        yaml
    }

    #[test]
    fn forty_thousand_entries_are_refused_with_the_reason() {
        let yaml = flood("* * * * *", 40_000);
        assert!(yaml.len() > 900_000);
        let e = read(&yaml).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the workflow file was not read: it has 40000 schedule entries, more than the 50 the monitor reads"
        );
        // And a list of that size kept from an earlier run is refused as well.
        let kept = vec![
            Entry {
                cron: "* * * * *".into(),
                timezone: None,
            };
            40_000
        ];
        assert!(matches!(
            Schedule::new(kept),
            Err(ScheduleError::Refused(_))
        ));
    }

    #[test]
    fn an_alias_bomb_is_refused_with_the_reason() {
        let yaml = bounded::tests::billion_laughs();
        let e = read(&yaml).unwrap_err();
        assert!(matches!(e, ScheduleError::Refused(_)), "{e}");
        assert!(e.to_string().contains("aliases"), "{e}");
    }

    #[test]
    fn entries_naming_the_same_slots_are_walked_once() {
        let s = Schedule::new(
            read(
                &(flood("* * * * *", 30)
                    + "    - cron: '*/1 * * * *'\n    - cron: '0-59 * * * *'\n"),
            )
            .unwrap()
            .unwrap(),
        )
        .unwrap();
        assert_eq!(s.entries().len(), 1);
        assert_eq!(s.crons(), "cron '* * * * *'");
        // The same cron in another zone is another schedule.
        let two = schedule(&[("0 2 * * *", None), ("0 2 * * *", Some("Europe/Berlin"))]);
        assert_eq!(two.entries().len(), 2);
    }

    #[test]
    fn a_day_no_month_has_is_refused_not_searched_for_down_to_year_one() {
        for cron in ["0 0 30 2 *", "0 0 31 4,6 *", "0 0 31 9-11/2 *"] {
            let e = Schedule::new(vec![Entry {
                cron: cron.into(),
                timezone: None,
            }])
            .unwrap_err();
            assert!(
                e.to_string().contains("no month has the day"),
                "{cron}: {e}"
            );
        }
        // February 29th comes every four years; a weekday makes any day of the month run.
        for cron in ["0 0 29 2 *", "0 0 30 2 1", "0 0 31 1-12 *"] {
            assert!(
                Schedule::new(vec![Entry {
                    cron: cron.into(),
                    timezone: None
                }])
                .is_ok(),
                "{cron}"
            );
        }
    }
}
