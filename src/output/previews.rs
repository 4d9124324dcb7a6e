//! What a dry run would have sent, on stdout.

use super::{Finished, Output, OutputError, Sinks};

/// Every channel's preview, for a dry run.
pub struct Previews;

impl Output for Previews {
    fn name(&self) -> &'static str {
        "previews"
    }

    fn write(&self, run: &mut Finished, sinks: &mut Sinks) -> Result<Vec<String>, OutputError> {
        if let Some(shown) = &run.previews
            && run.result.dry_run
        {
            sinks.console.out(&previews(shown));
        }
        Ok(Vec::new())
    }
}

/// What a dry run would have sent: every channel's preview (mail's first), a blank line
/// between two.
pub fn previews(previews: &[String]) -> String {
    previews.join("\n")
}
