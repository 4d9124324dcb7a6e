//! The only writer of stdout and stderr: every byte passes the redactor first.

use std::io::Write;

use super::redact::Redactor;

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
        let _ = self.out.write_all(self.redactor.redact(text).as_bytes());
    }

    /// Writes to stderr.
    pub fn err(&mut self, text: &str) {
        let _ = self.err.write_all(self.redactor.redact(text).as_bytes());
    }
}
