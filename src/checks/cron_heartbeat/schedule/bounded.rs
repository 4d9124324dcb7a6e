//! A YAML reader with a bill. yaml-rust2's own loader copies an anchored node at every alias,
//! so 426 bytes of nested aliases ("billion laughs") grow to gigabytes. This one builds the
//! same tree from the parser's events but counts every value and every byte of text it
//! makes, aliases' copies included, and refuses a file past its budget before it is built.
//! What it accepts reads exactly as `YamlLoader` reads it.

use yaml_rust2::Yaml;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};
use yaml_rust2::yaml::Hash;

/// The largest file read: GitHub's contents API sends no content past 1 MB either.
pub(crate) const MAX_BYTES: usize = 1024 * 1024;
/// Values (scalars, lists, maps) a file may hold once its aliases are expanded; a real
/// workflow has a few thousand.
pub(crate) const MAX_NODES: usize = 200_000;
/// Bytes of scalar text a file may hold once its aliases are expanded.
pub(crate) const MAX_TEXT: usize = 8 * 1024 * 1024;
/// Lists and maps inside one another; a real workflow nests fewer than 20.
pub(crate) const MAX_DEPTH: usize = 100;

/// Why a file was not read.
#[derive(Debug)]
pub(crate) enum Refused {
    /// Not YAML, in the parser's words.
    Yaml(ScanError),
    /// Over a bound, in words.
    Costly(String),
}

/// What has been built so far.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    nodes: usize,
    text: usize,
}

impl Cost {
    fn add(&mut self, other: Cost) -> Result<(), Refused> {
        self.nodes += other.nodes;
        self.text += other.text;
        if self.nodes > MAX_NODES {
            return Err(Refused::Costly(format!(
                "it expands to more than {MAX_NODES} values (YAML aliases copied over and over?)"
            )));
        }
        if self.text > MAX_TEXT {
            return Err(Refused::Costly(format!(
                "it expands to more than {} MiB of text (YAML aliases copied over and over?)",
                MAX_TEXT / (1024 * 1024)
            )));
        }
        Ok(())
    }
}

/// The first document of `text` (every document must parse), or `None` when there is none.
pub(crate) fn first_document(text: &str) -> Result<Option<Yaml>, Refused> {
    if text.len() > MAX_BYTES {
        return Err(Refused::Costly(format!(
            "it is {} bytes, over the {MAX_BYTES} bytes a workflow file is read up to",
            text.len()
        )));
    }
    let mut text = std::borrow::Cow::Borrowed(text);
    let mut shifted = 0;
    loop {
        match parse(&text) {
            Err(Refused::Yaml(e)) if shifted < MAX_SHIFTS => {
                match closer_at_key_column(&text, &e) {
                    Some(at) => {
                        text.to_mut().insert(at, ' ');
                        shifted += 1;
                    }
                    None => return Err(Refused::Yaml(e)),
                }
            }
            done => return done,
        }
    }
}

/// How many closing brackets at their key's column one file may have moved: each is another
/// parse of the file.
const MAX_SHIFTS: usize = 16;

fn parse(text: &str) -> Result<Option<Yaml>, Refused> {
    let mut builder = Builder::default();
    Parser::new_from_str(text)
        .load(&mut builder, true)
        .map_err(Refused::Yaml)?;
    match builder.refused {
        Some(refused) => Err(refused),
        None => Ok(builder.first),
    }
}

/// Where a flow list's `]` (or a flow map's `}`) sits at its key's column, which yaml-rust2
/// refuses as "invalid indentation" and GitHub reads:
///
/// ```yaml
///     target: [
///       "web-server",
///     ]
/// ```
///
/// Inside a flow collection a space is insignificant, so one more before the bracket reads
/// the same and parses. The byte offset of the bracket, or `None` for any other error.
fn closer_at_key_column(text: &str, e: &ScanError) -> Option<usize> {
    if e.info() != "invalid indentation" {
        return None;
    }
    // The marker's line counts from 1, its column in characters from 0.
    let line = text
        .split_inclusive('\n')
        .nth(e.marker().line().checked_sub(1)?)?;
    let (at, c) = line.char_indices().nth(e.marker().col())?;
    let before = &line[..at];
    let start = line.as_ptr() as usize - text.as_ptr() as usize;
    (matches!(c, ']' | '}') && before.chars().all(|c| c == ' ')).then_some(start + at)
}

/// A list or map being built, with the anchor it will be known by and what it holds.
struct Open {
    node: Yaml,
    anchor: usize,
    key: Option<Yaml>,
    cost: Cost,
}

/// A finished node, its anchor (0 for none) and what it cost.
type Made = (Yaml, usize, Cost);

/// The tree as `YamlLoader` builds it, with the bill. The parser calls it for every event
/// (and resolves anchor names per document); once refused, it builds nothing more.
#[derive(Default)]
struct Builder {
    total: Cost,
    anchors: Vec<(usize, Yaml, Cost)>,
    stack: Vec<Open>,
    root: Option<Yaml>,
    first: Option<Yaml>,
    refused: Option<Refused>,
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.refused.is_none()
            && let Err(e) = self.take(event, mark)
        {
            self.refused = Some(e);
            self.stack.clear();
            self.anchors.clear();
        }
    }
}

impl Builder {
    fn take(&mut self, event: Event, mark: Marker) -> Result<(), Refused> {
        let made: Made = match event {
            Event::Nothing | Event::StreamStart | Event::StreamEnd => return Ok(()),
            Event::DocumentStart => {
                self.anchors.clear();
                return Ok(());
            }
            Event::DocumentEnd => {
                let doc = self.root.take().unwrap_or(Yaml::BadValue);
                self.first.get_or_insert(doc);
                return Ok(());
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(Refused::Costly(format!(
                        "it nests lists and maps more than {MAX_DEPTH} deep"
                    )));
                }
                let one = Cost { nodes: 1, text: 0 };
                self.total.add(one)?;
                let node = match event {
                    Event::SequenceStart(..) => Yaml::Array(Vec::new()),
                    _ => Yaml::Hash(Hash::new()),
                };
                self.stack.push(Open {
                    node,
                    anchor,
                    key: None,
                    cost: one,
                });
                return Ok(());
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(open) => (open.node, open.anchor, open.cost),
                None => return Ok(()),
            },
            Event::Scalar(value, style, anchor, tag) => {
                let cost = Cost {
                    nodes: 1,
                    text: value.len(),
                };
                self.total.add(cost)?;
                (scalar(value, style, tag), anchor, cost)
            }
            Event::Alias(id) => match self.anchors.iter().rev().find(|(a, _, _)| *a == id) {
                Some((_, node, cost)) => {
                    // Counted before it is copied: the copy is what costs.
                    self.total.add(*cost)?;
                    (node.clone(), 0, *cost)
                }
                None => (Yaml::BadValue, 0, Cost::default()),
            },
        };
        self.insert(made, mark)
    }

    /// Puts a finished node where it belongs: under its anchor, and in its parent (or as
    /// the document), as `YamlLoader` does, a repeated key being an error.
    fn insert(&mut self, (node, anchor, cost): Made, mark: Marker) -> Result<(), Refused> {
        if anchor > 0 {
            // An anchor keeps a copy of its node: that copy costs too.
            self.total.add(cost)?;
            self.anchors.push((anchor, node.clone(), cost));
        }
        let Some(parent) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        parent.cost.nodes += cost.nodes;
        parent.cost.text += cost.text;
        match &mut parent.node {
            Yaml::Array(list) => list.push(node),
            Yaml::Hash(map) => match parent.key.take() {
                None => parent.key = Some(node),
                Some(key) if map.contains_key(&key) => {
                    return Err(Refused::Yaml(ScanError::new_string(
                        mark,
                        format!("{key:?}: duplicated key in mapping"),
                    )));
                }
                Some(key) => {
                    map.insert(key, node);
                }
            },
            _ => {}
        }
        Ok(())
    }
}

/// A scalar as `YamlLoader` reads it: quoted is text; a plain one is typed by its `!!` tag
/// or by its looks.
fn scalar(value: String, style: TScalarStyle, tag: Option<Tag>) -> Yaml {
    if style != TScalarStyle::Plain {
        return Yaml::String(value);
    }
    let Some(Tag { handle, suffix }) = tag else {
        return Yaml::from_str(&value);
    };
    if handle != "tag:yaml.org,2002:" {
        return Yaml::String(value);
    }
    match suffix.as_str() {
        "bool" => match value.as_str() {
            "true" | "True" | "TRUE" => Yaml::Boolean(true),
            "false" | "False" | "FALSE" => Yaml::Boolean(false),
            _ => Yaml::BadValue,
        },
        "int" => value.parse().map_or(Yaml::BadValue, Yaml::Integer),
        "float" => match value.as_str() {
            ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf"
            | "-.INF" | ".nan" | ".NaN" | ".NAN" => Yaml::Real(value),
            v if v.bytes().any(|b| b.is_ascii_digit()) && v.parse::<f64>().is_ok() => {
                Yaml::Real(value)
            }
            _ => Yaml::BadValue,
        },
        "null" => match value.as_str() {
            "~" | "null" => Yaml::Null,
            _ => Yaml::BadValue,
        },
        _ => Yaml::String(value),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use yaml_rust2::YamlLoader;

    fn same_as_the_loader(text: &str) {
        let theirs = YamlLoader::load_from_str(text)
            .map(|d| d.into_iter().next())
            .map_err(|e| e.to_string());
        let ours = first_document(text).map_err(|e| match e {
            Refused::Yaml(e) => e.to_string(),
            Refused::Costly(why) => why,
        });
        assert_eq!(ours, theirs, "{text}");
    }

    #[test]
    fn what_it_accepts_reads_as_the_loader_reads_it() {
        for text in [
            "",
            "---\n",
            "on: push\n",
            "on:\n  schedule:\n    - cron: '0 2 * * *'\n      timezone: Europe/Berlin\n",
            "a: &x {b: [1, 2.5, true, null, ~, 0x1f, '3']}\nc: *x\nd: *nope\n",
            "a: !!str 1\nb: !!int 2\nc: !!bool True\nd: !!float 1\ne: !!null ~\nf: !custom x\n",
            "a: !!float .inf\nb: !!float x\nc: !!int x\nd: !!bool yes\ne: !!null x\n",
            "a: 1\na: 2\n",
            "? [1, 2]\n: complex\n",
            "one: 1\n---\ntwo: 2\n",
            "on: [push\n",
            "a: &a 1\n---\nb: *a\n",
        ] {
            same_as_the_loader(text);
        }
    }

    /// Nine levels of nine aliases: 9^9 copies of "lol" for the loader.
    pub(crate) fn billion_laughs() -> String {
        let mut text = String::from(
            "on:\n  schedule:\n    - cron: '0 2 * * *'\na: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n",
        );
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for pair in names.windows(2) {
            let refs = vec![format!("*{}", pair[0]); 9].join(",");
            text.push_str(&format!("{}: &{} [{refs}]\n", pair[1], pair[1]));
        }
        text
    }

    #[test]
    fn an_alias_bomb_is_refused_before_it_is_built() {
        let text = billion_laughs();
        assert!(text.len() < 500, "{}", text.len());
        match first_document(&text) {
            Err(Refused::Costly(why)) => assert!(why.contains("200000 values"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn aliases_within_the_budget_expand_as_github_reads_them() {
        // 9^5 = 59,049 copies: big, but a budget away from trouble.
        let text: String = billion_laughs()
            .lines()
            .take(8)
            .map(|l| format!("{l}\n"))
            .collect();
        let doc = first_document(&text).unwrap().unwrap();
        assert_eq!(doc["e"][8][8][8][8][8].as_str(), Some("lol"));
    }

    #[test]
    fn a_long_text_copied_by_aliases_is_refused() {
        let long = "x".repeat(600_000);
        let text = format!(
            "a: &a '{long}'\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        );
        match first_document(&text) {
            Err(Refused::Costly(why)) => assert!(why.contains("8 MiB of text"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_file_over_the_byte_bound_is_not_parsed() {
        let text = format!("a: '{}'\n", "x".repeat(MAX_BYTES));
        match first_document(&text) {
            Err(Refused::Costly(why)) => assert!(why.contains("1048576 bytes"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn deep_nesting_is_refused_in_block_and_flow_style() {
        let block: String = (0..200)
            .map(|i| format!("{}- \n", "  ".repeat(i)))
            .collect();
        for text in [block, "[".repeat(200_000)] {
            assert!(first_document(&text).is_err());
        }
        let block: String = (0..150)
            .map(|i| format!("{}a:\n", "  ".repeat(i)))
            .collect();
        match first_document(&block) {
            Err(Refused::Costly(why)) => assert!(why.contains("100 deep"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
