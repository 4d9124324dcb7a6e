//! Dependencies point down: a file may import (`crate::X`) only from its own layer or the
//! layers below it, in the order `docs/architecture.md` gives. Code of `#[cfg(test)]` items is
//! not looked at: a test may reach anywhere.

use std::collections::BTreeSet;
use std::path::Path;

/// Each top folder or file of `src/` and its rank: a file may use what ranks at or below it.
const LAYERS: &[(&str, u8)] = &[
    ("util", 0),
    ("redact", 0),
    ("model", 0),
    ("clients", 1),
    ("config", 2),
    ("checks", 3),
    ("alerting", 4),
    ("output", 5),
    ("status", 5),
    ("setup", 6),
    ("run", 7),
    ("lib", 7),
    ("main", 7),
];

/// Upward imports that stay for now, each (file, the top folder it imports), with why.
const ALLOWED: &[(&str, &str)] = &[];

fn rank(top: &str) -> Option<u8> {
    LAYERS
        .iter()
        .find(|(name, _)| *name == top)
        .map(|(_, r)| *r)
}

/// `text` without the items marked `#[cfg(test)]` (a test module, a test-only impl).
fn without_tests(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "#[cfg(test)]" {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let mut depth = 0i32;
        for item in lines.by_ref() {
            depth += item.matches('{').count() as i32 - item.matches('}').count() as i32;
            if depth <= 0 && (item.contains('}') || item.trim_end().ends_with(';')) {
                break;
            }
        }
    }
    out
}

/// The top folders `text` names as `crate::X` (a `use` line or a path in code).
fn imports(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (at, _) in line.match_indices("crate::") {
            let rest = &line[at + "crate::".len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group
                    .split('}')
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .collect(),
                None => vec![rest],
            };
            for name in names {
                let name: String = name
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every (file, top folder it imports) of `src/`, outside tests; `fuzzing/` is test-only.
fn edges() -> Vec<(String, String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut edges = Vec::new();
    for path in files {
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let top = rel.split('/').next().unwrap().trim_end_matches(".rs");
        if top == "fuzzing" || top == "layers" {
            continue;
        }
        let text = without_tests(&std::fs::read_to_string(&path).unwrap());
        for used in imports(&text) {
            if used != top {
                edges.push((rel.clone(), top.to_string(), used));
            }
        }
    }
    edges
}

#[test]
fn no_file_imports_from_a_layer_above_its_own() {
    let mut upward = Vec::new();
    for (file, top, used) in edges() {
        let (Some(mine), Some(theirs)) = (rank(&top), rank(&used)) else {
            panic!("{file}: `{top}` or `{used}` has no layer: add it to LAYERS and the docs");
        };
        if theirs > mine && !ALLOWED.contains(&(file.as_str(), used.as_str())) {
            upward.push(format!("{file} ({top}) uses crate::{used}"));
        }
    }
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
}

#[test]
fn no_two_top_folders_import_each_other() {
    let pairs: BTreeSet<(String, String)> = edges()
        .into_iter()
        .filter(|(file, _, used)| !ALLOWED.contains(&(file.as_str(), used.as_str())))
        .map(|(_, top, used)| (top, used))
        .collect();
    let both: Vec<_> = pairs
        .iter()
        .filter(|(a, b)| a < b && pairs.contains(&(b.clone(), a.clone())))
        .collect();
    assert!(both.is_empty(), "folders importing each other: {both:?}");
}

#[test]
fn the_scan_sees_imports_and_skips_tests() {
    let text = "use crate::checks::Status;\nfn f() { crate::output::x(); }\n\
                #[cfg(test)]\nmod tests {\n    use crate::run;\n    fn g() {}\n}\n\
                use crate::{model, util::text};\n";
    let found: Vec<String> = imports(&without_tests(text)).into_iter().collect();
    assert_eq!(found, ["checks", "model", "output", "util"]);
    for (_, r) in LAYERS {
        assert!(*r <= 7);
    }
    for (file, used) in ALLOWED {
        let top = file.split('/').next().unwrap();
        assert!(
            rank(used) > rank(top),
            "{file} → {used} is not upward: drop it"
        );
    }
}
