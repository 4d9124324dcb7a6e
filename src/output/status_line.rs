//! The last line of a run on stdout: its status, its exit code, where the result went.

use super::{Finished, Output, OutputError, Sinks};
use crate::model::RunStatus;

/// The status line. Last: the exit code it says counts every output's failure.
pub struct StatusLine;

impl Output for StatusLine {
    fn name(&self) -> &'static str {
        "status line"
    }

    fn write(&self, run: &mut Finished, sinks: &mut Sinks) -> Result<Vec<String>, OutputError> {
        let line = status_line(
            run.result.status,
            sinks.code(run),
            &run.result_file,
            sinks.result_written(),
        );
        sinks.console.out(&line);
        Ok(Vec::new())
    }
}

/// The last line of a run.
pub fn status_line(status: RunStatus, code: u8, output: &std::path::Path, written: bool) -> String {
    let result = if written {
        "result written to"
    } else {
        "result NOT written to"
    };
    format!(
        "status {} (exit {code}); {result} {}\n",
        status.as_str(),
        output.display()
    )
}
