//! Everything a person or a program reads: the console (the only writer of stdout and
//! stderr), and the run's outputs, one file each, written in the order of [`OUTPUTS`]. Every
//! byte passes through the redactor (`crate::redact`).
//!
//! An output is an [`Output`]: it decides from the run and the environment whether it has
//! anything to say, and writes it. `write_all` writes them all, says their warnings and
//! failures, and gives the exit code.

pub mod annotations;
pub mod budget;
pub mod console;
pub mod merge;
pub mod notifications;
pub mod previews;
pub mod result;
pub mod result_file;
pub mod status_line;
pub mod status_page;
pub mod step_summary;
pub mod table;
pub mod text;

use std::path::PathBuf;

pub use console::Console;

use crate::config::env::Env;
use crate::model::RunError;
use result::RunResult;

/// A run as its outputs see it: the result, decided, and what the result file does not hold.
pub struct Finished {
    /// The result file's contents. The result file masks its secrets in place (thousands of
    /// checks are not copied): the outputs after it write from the result as written.
    pub result: RunResult,
    /// The dry run's previews, one per channel; `None` when no channel was asked (the gate
    /// off, or a configuration error with the gate off).
    pub previews: Option<Vec<String>>,
    /// `--output`: where the result file goes.
    pub result_file: PathBuf,
    /// `--status-page`: where the status page goes, if anywhere.
    pub status_page: Option<PathBuf>,
}

impl Finished {
    /// Whether the channels were asked to tell (or, in a dry run, to preview).
    pub fn channels_asked(&self) -> bool {
        self.previews.is_some()
    }
}

/// Where the outputs write, and what failed on the way.
pub struct Sinks<'s, 'c> {
    /// stdout and stderr, through the redactor.
    pub console: &'s mut Console<'c>,
    /// The environment: whether the run is in Actions, its step summary file.
    pub env: &'s Env,
    /// What failed after the result was decided: each changes the exit code only.
    pub late: Vec<RunError>,
}

impl Sinks<'_, '_> {
    /// The exit code of `run` given what failed so far.
    pub fn code(&self, run: &Finished) -> u8 {
        run.result.status.exit_code(&self.late)
    }

    /// Whether the result file was written (nothing said it was not).
    pub fn result_written(&self) -> bool {
        !self
            .late
            .iter()
            .any(|e| matches!(e, RunError::ResultNotWritten { .. }))
    }
}

/// Why an output was not written.
#[derive(Debug)]
pub enum OutputError {
    /// The result file.
    ResultFile {
        /// Where it should have gone.
        path: String,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The status page.
    StatusPage(crate::status::PageError),
}

impl OutputError {
    /// The line stderr says of it, and the run's error it is.
    fn into_parts(self) -> (String, RunError) {
        match self {
            OutputError::ResultFile { path, source } => {
                let e = RunError::ResultNotWritten {
                    path,
                    why: source.to_string(),
                };
                (text::line(&e), e)
            }
            OutputError::StatusPage(e) => (
                text::error(&e.to_string()),
                RunError::StatusPage(e.to_string()),
            ),
        }
    }
}

/// One thing the run writes: a part of stdout or stderr, a file.
pub trait Output {
    /// Its name, for the docs and the tests.
    fn name(&self) -> &'static str;
    /// Writes it, if the run and the environment ask for it; returns the warnings to say
    /// (`warning: …` on stderr). An error changes the exit code only.
    fn write(&self, run: &mut Finished, sinks: &mut Sinks) -> Result<Vec<String>, OutputError>;
}

/// Every output, in the order they are written: stdout's table first, the status line last.
pub const OUTPUTS: &[&dyn Output] = &[
    &table::Table,
    &previews::Previews,
    &notifications::Notifications,
    &annotations::Annotations,
    &result_file::ResultFile,
    &status_page::StatusPage,
    &step_summary::StepSummary,
    &budget::Budget,
    &status_line::StatusLine,
];

/// Writes every output of `run` in order, says their warnings and failures, and returns the
/// exit code.
pub fn write_all(run: &mut Finished, sinks: &mut Sinks) -> u8 {
    for output in OUTPUTS {
        match output.write(run, sinks) {
            Ok(warnings) => {
                for w in &warnings {
                    sinks.console.err(&text::warning(w));
                }
            }
            Err(e) => {
                let (line, e) = e.into_parts();
                sinks.console.err(&line);
                sinks.late.push(e);
            }
        }
    }
    sinks.code(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outputs_are_written_in_this_order() {
        let names: Vec<&str> = OUTPUTS.iter().map(|o| o.name()).collect();
        assert_eq!(
            names,
            [
                "table",
                "previews",
                "notifications",
                "annotations",
                "result file",
                "status page",
                "step summary",
                "api budget",
                "status line",
            ]
        );
    }
}
