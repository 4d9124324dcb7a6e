//! What the run asked of each API, a line on stdout.

use super::{Finished, Output, OutputError, Sinks};

/// The API budget line, when the run asked any API.
pub struct Budget;

impl Output for Budget {
    fn name(&self) -> &'static str {
        "api budget"
    }

    fn write(&self, run: &mut Finished, sinks: &mut Sinks) -> Result<Vec<String>, OutputError> {
        if let Some(line) = api_budget(&run.result.api_budget) {
            sinks.console.out(&line);
        }
        Ok(Vec::new())
    }
}

/// What the run asked of each API: "API requests: github 7 (2 not modified, free), 4987
/// left; heroku 4". `None` when it asked none.
pub fn api_budget(
    spent: &std::collections::BTreeMap<String, crate::clients::budget::Spent>,
) -> Option<String> {
    if spent.is_empty() {
        return None;
    }
    let parts: Vec<String> = spent
        .iter()
        .map(|(api, s)| {
            let mut part = format!("{api} {}", s.requests);
            if s.not_modified > 0 {
                part.push_str(&format!(" ({} not modified, free)", s.not_modified));
            }
            if let Some(left) = s.remaining {
                part.push_str(&format!(", {left} left"));
            }
            part
        })
        .collect();
    Some(format!("API requests: {}\n", parts.join("; ")))
}
