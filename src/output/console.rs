//! The only writer of stdout and stderr: every byte passes the redactor first, and no line
//! but our own annotations can read as a GitHub Actions workflow command.

use std::io::Write;

use crate::redact::Redactor;

/// Where output goes, with secrets masked on the way.
pub struct Console<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    redactor: Redactor,
    color: bool,
}

impl<'a> Console<'a> {
    /// Wraps the two streams; `color` only when the caller knows stdout is a terminal.
    pub fn new(out: &'a mut dyn Write, err: &'a mut dyn Write, color: bool) -> Self {
        Self {
            out,
            err,
            redactor: Redactor::default(),
            color,
        }
    }

    /// Whether colour is on.
    pub fn color(&self) -> bool {
        self.color
    }

    /// The redactor every write goes through.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Replaces the redactor once the secrets are known.
    pub fn set_redactor(&mut self, redactor: Redactor) {
        self.redactor = redactor;
    }

    /// Writes to stdout. A closed stdout is not worth failing the run for.
    pub fn out(&mut self, text: &str) {
        let _ = self
            .out
            .write_all(neutralise(&self.redactor.redact(text)).as_bytes());
    }

    /// Writes to stderr (the runner reads commands there too).
    pub fn err(&mut self, text: &str) {
        let _ = self
            .err
            .write_all(neutralise(&self.redactor.redact(text)).as_bytes());
    }

    /// Writes workflow commands of our own (`::error title=…::…`) to stdout; their
    /// properties and messages are escaped by whoever made them.
    pub fn command(&mut self, text: &str) {
        let _ = self.out.write_all(self.redactor.redact(text).as_bytes());
    }
}

/// `text` with every line that the Actions runner would take for a workflow command (`::`
/// or the older `##[`, after any leading white space) quoted with `> `, so that text from a
/// server cannot stop the monitor's own annotations (`::stop-commands::`) or forge others.
pub fn neutralise(text: &str) -> String {
    if !text.contains("::") && !text.contains("##[") {
        return text.to_string();
    }
    text.split_inclusive('\n')
        .map(|line| {
            let t = line.trim_start();
            if t.starts_with("::") || t.starts_with("##[") {
                format!("> {line}")
            } else {
                line.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_that_read_as_commands_are_quoted() {
        assert_eq!(
            neutralise("a\n::stop-commands::x\n  ::notice::forged\n##[error]old\nb::c\n"),
            "a\n> ::stop-commands::x\n>   ::notice::forged\n> ##[error]old\nb::c\n"
        );
    }
}
