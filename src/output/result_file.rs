//! The result file at `--output`, always. Its secrets are masked in the result itself, so
//! the outputs after it (the status page, the step summary) write from the result as written.

use super::{Finished, Output, OutputError, Sinks};
use crate::output::result;

/// The result file.
pub struct ResultFile;

impl Output for ResultFile {
    fn name(&self) -> &'static str {
        "result file"
    }

    fn write(&self, run: &mut Finished, sinks: &mut Sinks) -> Result<Vec<String>, OutputError> {
        result::write(&run.result_file, &mut run.result, sinks.console.redactor()).map_err(
            |source| OutputError::ResultFile {
                path: run.result_file.display().to_string(),
                source,
            },
        )?;
        Ok(Vec::new())
    }
}
