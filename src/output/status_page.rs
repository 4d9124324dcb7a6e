//! `--status-page DIR`: the static status page, its history and badges (`crate::status`),
//! written from the result as written.

use super::{Finished, Output, OutputError, Sinks};

/// The status page, when asked for. Its warnings are the history lines it skipped.
pub struct StatusPage;

impl Output for StatusPage {
    fn name(&self) -> &'static str {
        "status page"
    }

    fn write(&self, run: &mut Finished, _: &mut Sinks) -> Result<Vec<String>, OutputError> {
        let Some(dir) = &run.status_page else {
            return Ok(Vec::new());
        };
        let r = &run.result;
        crate::status::write(dir, &r.checks, r.status, &r.now)
            .map(|written| written.warnings)
            .map_err(OutputError::StatusPage)
    }
}
