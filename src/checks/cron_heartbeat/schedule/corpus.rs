//! The whole corpus of real workflow files (`fixtures/workflow-corpus/`, credited by its
//! manifest): each reads as GitHub reads it, by its `expected.json`.

use super::{Entry, Schedule, ScheduleError, read};

#[derive(serde::Deserialize)]
struct Expected {
    id: String,
    file: String,
    github_reads: String,
    entries: Vec<Entry>,
    /// Why GitHub refuses the cron, for `invalid-cron`.
    why: Option<String>,
}

fn corpus() -> (std::path::PathBuf, Vec<Expected>) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/workflow-corpus");
    let text = std::fs::read_to_string(dir.join("expected.json")).unwrap();
    (dir, serde_json::from_str(&text).unwrap())
}

/// What the monitor makes of one file, in `expected.json`'s words.
fn reads(text: &str) -> (String, Vec<Entry>, Option<String>) {
    match read(text) {
        Ok(None) => ("none".into(), Vec::new(), None),
        Ok(Some(entries)) => match Schedule::new(entries.clone()) {
            Ok(_) => ("schedule".into(), entries, None),
            Err(e @ ScheduleError::Cron { .. }) => {
                ("invalid-cron".into(), entries, Some(e.to_string()))
            }
            Err(e) => ("error".into(), entries, Some(e.to_string())),
        },
        Err(e) => ("error".into(), Vec::new(), Some(e.to_string())),
    }
}

#[test]
fn every_file_of_the_corpus_reads_as_github_reads_it() {
    let (dir, expected) = corpus();
    assert_eq!(expected.len(), 296);
    let mut wrong = Vec::new();
    for case in &expected {
        let text = std::fs::read_to_string(dir.join(&case.file)).unwrap();
        let (how, entries, why) = reads(&text);
        // The reason in the monitor's words must be GitHub's (which write "day of week: 7").
        let why_differs = match (&case.why, &why) {
            (Some(theirs), Some(ours)) => !ours.contains(&theirs.replace(':', "")),
            (Some(_), None) => true,
            _ => false,
        };
        if how != case.github_reads || entries != case.entries || why_differs {
            wrong.push(format!(
                "{}: GitHub reads {} {:?}, the monitor {how} {entries:?} {why:?}",
                case.id, case.github_reads, case.entries
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of 296 read otherwise:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
