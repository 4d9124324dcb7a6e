//! The TOML file, read key by key. The run settings and every check kind ask a `Table` for
//! the keys they know, typed; whatever nobody asked for is reported as unknown, so a typo
//! never passes silently. Every problem is collected with its line and reported together.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::ConfigError;

/// The file's name and text, and the problems found in it so far.
#[derive(Debug, Default)]
pub struct Source<'a> {
    /// The file's name in messages.
    pub path: &'a str,
    /// Its text, for line numbers.
    pub text: &'a str,
    errors: RefCell<Vec<ConfigError>>,
    /// Syntax, unknown keys, wrong types: the file is not what it means to be, so the
    /// values' own problems (reported once it reads right) would only add noise.
    structural: RefCell<Vec<ConfigError>>,
}

impl<'a> Source<'a> {
    /// A file to read.
    pub fn new(path: &'a str, text: &'a str) -> Self {
        Self {
            path,
            text,
            errors: RefCell::default(),
            structural: RefCell::default(),
        }
    }

    /// The 1-based line of byte `offset`.
    pub fn line(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        self.text.as_bytes()[..offset]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    /// Records a problem at `line`.
    pub fn error(&self, line: usize, message: impl Into<String>) {
        self.push(ConfigError {
            place: format!("{} line {line}", self.path),
            line,
            message: message.into().trim().to_string(),
        });
    }

    /// Records a problem of the file's form at `line`: syntax, an unknown key, a type.
    pub fn form_error(&self, line: usize, message: impl Into<String>) {
        self.structural.borrow_mut().push(ConfigError {
            place: format!("{} line {line}", self.path),
            line,
            message: message.into().trim().to_string(),
        });
    }

    /// Records a problem of another place (a flag, the environment).
    pub fn push(&self, error: ConfigError) {
        self.errors.borrow_mut().push(error);
    }

    /// Whether any problem was recorded.
    pub fn has_errors(&self) -> bool {
        !self.errors.borrow().is_empty() || !self.structural.borrow().is_empty()
    }

    /// The problems recorded: those of the file's form when there are any, else the others.
    /// Two kinds reading one shared section (`[[heroku_app]]`) may find the same problem:
    /// it is said once.
    pub fn take_errors(&self) -> Vec<ConfigError> {
        let form = std::mem::take(&mut *self.structural.borrow_mut());
        let values = std::mem::take(&mut *self.errors.borrow_mut());
        let mut errors = if form.is_empty() { values } else { form };
        let mut seen = std::collections::HashSet::new();
        errors.retain(|e| seen.insert(e.clone()));
        errors
    }
}

/// How a section is written: `[name]` once or `[[name]]` per entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `[name]`.
    Table,
    /// `[[name]]`.
    Array,
}

/// A section of the file that some part of the monitor reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    /// Its key.
    pub key: &'static str,
    /// How it is written.
    pub shape: Shape,
}

impl Section {
    /// `[[name]]`, written once per entry.
    pub const fn array(key: &'static str) -> Self {
        Self {
            key,
            shape: Shape::Array,
        }
    }

    /// `[name]`, written once.
    pub const fn table(key: &'static str) -> Self {
        Self {
            key,
            shape: Shape::Table,
        }
    }

    /// How people write it: `[[name]]` or `[name]`.
    pub fn written(&self) -> String {
        match self.shape {
            Shape::Array => format!("[[{}]]", self.key),
            Shape::Table => format!("[{}]", self.key),
        }
    }
}

/// The parsed file: its sections, and which keys of each were asked for.
pub struct Document<'a> {
    /// The file.
    pub source: Source<'a>,
    root: Option<Spanned<DeTable<'a>>>,
    known: RefCell<BTreeMap<String, Vec<&'static str>>>,
}

/// The key of the top level in `known`.
const ROOT: &str = "";

impl<'a> Document<'a> {
    /// Parses `source`; a syntax error is recorded and leaves an empty document.
    pub fn parse(source: Source<'a>) -> Self {
        let root = match DeTable::parse(source.text) {
            Ok(t) => Some(t),
            Err(e) => {
                let line = source.line(e.span().map_or(0, |s| s.start));
                source.form_error(line, e.message());
                None
            }
        };
        Self {
            source,
            root,
            known: RefCell::default(),
        }
    }

    /// A document with no file behind it: only flags and defaults.
    pub fn empty() -> Self {
        Self {
            source: Source::new("config", ""),
            root: None,
            known: RefCell::default(),
        }
    }

    /// Whether a file was parsed.
    pub fn exists(&self) -> bool {
        self.root.is_some()
    }

    /// The top level, for its plain keys (`subject_prefix`, …).
    pub fn root(&self) -> Option<Table<'_>> {
        let root = self.root.as_ref()?;
        Some(Table {
            doc: self,
            section: None,
            table: root.get_ref(),
            line: 1,
        })
    }

    /// Whether the file has a section `key`.
    pub fn has(&self, key: &str) -> bool {
        self.value(key).is_some()
    }

    /// The tables of `section`: one for `[name]`, one per entry for `[[name]]`. A section
    /// written the other way round is reported (by `check_shapes`) and yields nothing.
    pub fn tables(&self, section: Section) -> Vec<Table<'_>> {
        self.remember(ROOT, section.key);
        let Some(value) = self.value(section.key) else {
            return Vec::new();
        };
        let values: Vec<&Spanned<DeValue<'a>>> = match (section.shape, value.get_ref()) {
            (Shape::Array, DeValue::Array(items)) => items.iter().collect(),
            (Shape::Table, DeValue::Table(_)) => vec![value],
            _ => Vec::new(),
        };
        values
            .into_iter()
            .filter_map(|v| {
                v.get_ref().as_table().map(|t| Table {
                    doc: self,
                    section: Some(section),
                    table: t,
                    line: self.source.line(v.span().start),
                })
            })
            .collect()
    }

    fn value(&self, key: &str) -> Option<&Spanned<DeValue<'a>>> {
        self.root.as_ref()?.get_ref().get(key)
    }

    fn remember(&self, section: &str, key: &'static str) {
        let mut known = self.known.borrow_mut();
        let keys = known.entry(section.to_string()).or_default();
        if !keys.contains(&key) {
            keys.push(key);
        }
    }

    /// Reports every section written in the wrong shape (`[x]` for `[[x]]` and the reverse).
    pub fn check_shapes(&self, sections: &[Section]) {
        for s in sections {
            let Some(v) = self.value(s.key) else { continue };
            let ok = matches!(
                (s.shape, v.get_ref()),
                (Shape::Array, DeValue::Array(_)) | (Shape::Table, DeValue::Table(_))
            );
            if !ok {
                let line = self.source.line(v.span().start);
                let message = match s.shape {
                    Shape::Array => format!(
                        "`{}` must be an array of tables: write {}",
                        s.key,
                        s.written()
                    ),
                    Shape::Table => format!("`{}` must be a table: write {}", s.key, s.written()),
                };
                self.source.form_error(line, message);
            }
        }
    }

    /// Reports every key nobody asked for. Call after everything was read; `expected` is the
    /// list of what may stand at the top level, in words.
    pub fn check_unknown(&self, expected: &str) {
        let Some(root) = &self.root else { return };
        let known = self.known.borrow();
        let none = Vec::new();
        let top = known.get(ROOT).unwrap_or(&none);
        for (key, value) in root.get_ref().iter() {
            let name = key.get_ref().as_ref();
            if !top.contains(&name) {
                self.source.form_error(
                    self.source.line(key.span().start),
                    format!("unknown key `{name}`; expected one of {expected}"),
                );
                continue;
            }
            let tables: Vec<&DeTable> = match value.get_ref() {
                DeValue::Table(t) => vec![t],
                DeValue::Array(items) => items
                    .iter()
                    .filter_map(|i| i.get_ref().as_table())
                    .collect(),
                _ => Vec::new(),
            };
            let fields = known.get(name).unwrap_or(&none);
            if fields.is_empty() {
                // Written in the wrong shape, so never read: that is reported on its own.
                continue;
            }
            for table in tables {
                for (k, _) in table.iter() {
                    let field = k.get_ref().as_ref();
                    if !fields.contains(&field) {
                        let list = fields
                            .iter()
                            .map(|f| format!("`{f}`"))
                            .collect::<Vec<_>>()
                            .join(", ");
                        self.source.form_error(
                            self.source.line(k.span().start),
                            format!("unknown field `{field}`, expected one of {list}"),
                        );
                    }
                }
            }
        }
    }
}

/// A value read from the file, and its line.
#[derive(Debug, Clone, PartialEq)]
pub struct Value<T> {
    /// The value.
    pub value: T,
    /// Its 1-based line.
    pub line: usize,
}

/// One table of the file (a section, or one entry of an array of tables), read key by key.
#[derive(Clone, Copy)]
pub struct Table<'d> {
    doc: &'d Document<'d>,
    section: Option<Section>,
    table: &'d DeTable<'d>,
    line: usize,
}

impl<'d> Table<'d> {
    /// The line the table starts at.
    pub fn line(&self) -> usize {
        self.line
    }

    /// Records a problem at `line` of the file.
    pub fn error(&self, line: usize, message: impl Into<String>) {
        self.doc.source.error(line, message);
    }

    /// A string. Every string of the file names something or says where: one that holds a
    /// control character (a line break) would forge a mail header or a table row, so it is
    /// refused.
    pub fn string(&self, key: &'static str) -> Option<Value<String>> {
        let v = self.typed::<String>(key, "a string", |v| v.is_str())?;
        let bad = control(&v.value);
        self.one_line(key, v, bad)
    }

    /// A string that must be there.
    pub fn required_string(&self, key: &'static str) -> Option<Value<String>> {
        let v = self.string(key);
        if v.is_none() && self.raw(key).is_none() {
            let what = self
                .section
                .map(|s| format!(" in {}", s.written()))
                .unwrap_or_default();
            self.doc
                .source
                .form_error(self.line, format!("missing `{key}`{what}"));
        }
        v
    }

    /// An integer.
    pub fn integer(&self, key: &'static str) -> Option<Value<i64>> {
        self.typed(key, "an integer", |v| v.is_integer())
    }

    /// A number: an integer or a float.
    pub fn number(&self, key: &'static str) -> Option<Value<f64>> {
        self.typed(key, "a number", |v| v.is_integer() || v.is_float())
    }

    /// `true` or `false`.
    pub fn boolean(&self, key: &'static str) -> Option<Value<bool>> {
        self.typed(key, "true or false", |v| v.is_bool())
    }

    /// A list of strings.
    pub fn strings(&self, key: &'static str) -> Option<Value<Vec<String>>> {
        let v = self.typed::<Vec<String>>(key, "a list of strings", |v| {
            v.as_array()
                .is_some_and(|a| a.iter().all(|i| i.get_ref().is_str()))
        })?;
        let bad = v.value.iter().find_map(|s| control(s));
        self.one_line(key, v, bad)
    }

    /// `v`, unless it holds the control character `bad`: then the problem is recorded.
    fn one_line<T>(&self, key: &'static str, v: Value<T>, bad: Option<char>) -> Option<Value<T>> {
        let Some(c) = bad else {
            return Some(v);
        };
        let what = match c {
            '\n' | '\r' => "a line break".to_string(),
            '\t' => "a tab".to_string(),
            c => format!("U+{:04X}", u32::from(c)),
        };
        self.error(
            v.line,
            format!("{key} holds a control character ({what}): write it on one line, without control characters"),
        );
        None
    }

    /// A date-time, written as a TOML date-time or as a quoted RFC 3339 string.
    pub fn instant(&self, key: &'static str) -> Option<Value<String>> {
        let raw = self.raw(key)?;
        let line = self.doc.source.line(raw.span().start);
        match raw.get_ref() {
            DeValue::String(s) => Some(Value {
                value: s.to_string(),
                line,
            }),
            DeValue::Datetime(d) => Some(Value {
                value: d.to_string(),
                line,
            }),
            other => {
                self.doc.source.form_error(
                    line,
                    format!("{key}: expected a date-time, got {}", describe(other)),
                );
                None
            }
        }
    }

    /// An integer within `range`, or `default` when absent (a bad value is reported).
    pub fn int_in<T: TryFrom<i64>>(
        &self,
        key: &'static str,
        range: std::ops::RangeInclusive<i64>,
        default: T,
    ) -> T {
        let Some(v) = self.integer(key) else {
            return default;
        };
        match T::try_from(v.value) {
            Ok(x) if range.contains(&v.value) => x,
            _ => {
                self.error(
                    v.line,
                    format!(
                        "{key} must be {} to {}, not {}",
                        range.start(),
                        range.end(),
                        v.value
                    ),
                );
                default
            }
        }
    }

    /// A positive number, or `default` when absent (a bad value is reported).
    pub fn positive(&self, key: &'static str, default: f64) -> f64 {
        match self.number(key) {
            None => default,
            Some(v) if v.value.is_finite() && v.value > 0.0 => v.value,
            Some(v) => {
                self.error(
                    v.line,
                    format!("{key} must be a positive number, not {}", v.value),
                );
                default
            }
        }
    }

    fn raw(&self, key: &'static str) -> Option<&'d Spanned<DeValue<'d>>> {
        self.doc.remember(self.section.map_or(ROOT, |s| s.key), key);
        self.table.get(key)
    }

    fn typed<T: DeserializeOwned>(
        &self,
        key: &'static str,
        expected: &str,
        fits: impl Fn(&DeValue<'d>) -> bool,
    ) -> Option<Value<T>> {
        let raw = self.raw(key)?;
        let line = self.doc.source.line(raw.span().start);
        if !fits(raw.get_ref()) {
            self.doc.source.form_error(
                line,
                format!(
                    "{key}: expected {expected}, got {}",
                    describe(raw.get_ref())
                ),
            );
            return None;
        }
        match T::deserialize(ValueDeserializer::from(raw.clone())) {
            Ok(value) => Some(Value { value, line }),
            Err(e) => {
                self.doc
                    .source
                    .form_error(line, format!("{key}: {}", e.message()));
                None
            }
        }
    }
}

/// The first control character of `s`, if any.
fn control(s: &str) -> Option<char> {
    s.chars().find(|c| c.is_control())
}

/// A TOML value in words, for type errors: `the string "1"`.
fn describe(v: &DeValue) -> String {
    match v {
        DeValue::String(s) => {
            let short: String = s.chars().take(40).collect();
            let more = if s.chars().count() > 40 { "…" } else { "" };
            format!("the string {:?}", format!("{short}{more}"))
        }
        DeValue::Integer(i) => format!("the integer {}", i.as_str()),
        DeValue::Float(f) => format!("the number {}", f.as_str()),
        DeValue::Boolean(b) => format!("{b}"),
        DeValue::Datetime(d) => format!("the date-time {d}"),
        DeValue::Array(_) => "a list".into(),
        DeValue::Table(_) => "a table".into(),
    }
}

/// The line of byte `span.start` in `text` (for callers holding a span).
pub fn line_at(text: &str, span: Option<Range<usize>>) -> usize {
    Source::new("", text).line(span.map_or(0, |s| s.start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<String> {
        let doc = Document::parse(Source::new("x.toml", text));
        for t in doc.tables(Section::array("heartbeat")) {
            t.required_string("workflow");
            t.number("sla_hours");
        }
        doc.check_shapes(&[Section::array("heartbeat")]);
        doc.check_unknown("[[heartbeat]]");
        let mut errors = doc.source.take_errors();
        errors.sort_by_key(|e| e.line);
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn types_unknown_keys_and_shapes_are_reported_with_lines() {
        let errors = read(
            "subject_prefx = \"x\"\n[[heartbeat]]\nworkflow = \"a.yml\"\nsla_hour = 24\n[[heartbeat]]\nworkflow = \"b.yml\"\nsla_hours = \"soon\"\n[[heartbeat]]\nsla_hours = 1\n",
        );
        assert_eq!(
            errors,
            [
                "x.toml line 1: unknown key `subject_prefx`; expected one of [[heartbeat]]",
                "x.toml line 4: unknown field `sla_hour`, expected one of `workflow`, `sla_hours`",
                "x.toml line 7: sla_hours: expected a number, got the string \"soon\"",
                "x.toml line 8: missing `workflow` in [[heartbeat]]",
            ]
        );
        assert_eq!(
            read("[heartbeat]\nworkflow = \"a.yml\"\n"),
            ["x.toml line 1: `heartbeat` must be an array of tables: write [[heartbeat]]"]
        );
    }

    #[test]
    fn a_string_with_a_control_character_is_refused_with_its_line() {
        let doc = Document::parse(Source::new(
            "x.toml",
            "[[heartbeat]]\nworkflow = \"a.yml\"\nname = \"a\\nBcc: x\"\nlabels = [\"ok\", \"b\\u0007\"]\n",
        ));
        let t = &doc.tables(Section::array("heartbeat"))[0];
        assert_eq!(t.string("workflow").unwrap().value, "a.yml");
        assert_eq!(t.string("name"), None);
        assert_eq!(t.strings("labels"), None);
        let errors: Vec<String> = doc
            .source
            .take_errors()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errors,
            [
                "x.toml line 3: name holds a control character (a line break): write it on one line, without control characters",
                "x.toml line 4: labels holds a control character (U+0007): write it on one line, without control characters",
            ]
        );
    }

    #[test]
    fn a_syntax_error_has_a_line() {
        let doc = Document::parse(Source::new("x.toml", "a = 1\nb = [1, 2\n"));
        let errors = doc.source.take_errors();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].place.starts_with("x.toml line "), "{}", errors[0]);
        assert!(!doc.exists());
    }
}
